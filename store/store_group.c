/*
 * Group commit: writes that arrive while a transaction is being made
 * durable wait for the next one and share it, so a burst of issuances
 * costs one fsync per batch instead of one each (with synchronous=FULL an
 * fsync is most of a commit's cost). No thread of its own: the first
 * waiter finds no batch in flight and leads: it takes every queued write,
 * runs each in a savepoint of one transaction, commits, and wakes the
 * others with their own results. A write's caller returns only after the
 * commit that holds it, so nothing is answered before it is on disk.
 *
 * Savepoints have a price beyond their statements: FTS5 writes its pending
 * terms out as a new segment at every one, so the inventory's search index
 * grew by a segment per certificate. A batch of one write, or of writes
 * that can safely run twice (store_group_write_replayable), therefore runs
 * without them; if one of those fails, the transaction is rolled back and
 * the batch runs again the careful way.
 */
#include "store_priv.h"

#include "../server/base/log.h"

/* Writes in one transaction at most: bounds the latency of the last. */
#define GROUP_MAX 256

struct store_group_job {
    store_group_fn *fn;
    void *ctx;
    enum wd_err err;
    bool replayable; /* fn only reads ctx: it may run again */
    bool done;
    struct store_group_job *next;
};

/* One job in its savepoint: kept if fn succeeds, undone if it fails. */
static void
job_run(struct store_conn *conn, struct store_group_job *job)
{
    job->err =
        store_stmt_run(conn, STORE_STMT_SAVEPOINT, "SAVEPOINT job", "group");
    if (job->err != WD_OK) {
        return;
    }
    job->err = job->fn(conn, job->ctx);
    if (job->err != WD_OK) {
        store_stmt_run(conn, STORE_STMT_ROLLBACK_TO, "ROLLBACK TO job",
                       "group");
    }
    /* ends the savepoint either way; failing here fails the batch */
    if (store_stmt_run(conn, STORE_STMT_RELEASE, "RELEASE job", "group") !=
            WD_OK &&
        job->err == WD_OK) {
        job->err = WD_E_INTERNAL;
    }
}

/*
 * The quick way, when a failing job needs no savepoint: jobs run straight
 * in the transaction. True if the batch is done (committed, or a lone job
 * failed and the transaction was rolled back) with *err the commit's
 * result; false if a job of several failed, the transaction is rolled
 * back and the batch must run again with savepoints.
 */
static bool
batch_write_plain(struct store_conn *conn, struct store_group_job *batch,
                  enum wd_err *err)
{
    struct store_group_job *j;

    for (j = batch; j != NULL; j = j->next) {
        j->err = j->fn(conn, j->ctx);
        if (j->err != WD_OK) {
            store_tx_rollback(conn);
            *err = WD_OK; /* nothing else was in the transaction */
            return batch->next == NULL;
        }
    }
    *err = store_tx_commit(conn); /* rolls back itself on failure */
    return true;
}

/* Whether batch can take the quick way: one job, or only replayable ones. */
static bool
batch_is_plain(const struct store_group_job *batch)
{
    const struct store_group_job *j;

    if (batch->next == NULL) {
        return true;
    }
    for (j = batch; j != NULL; j = j->next) {
        if (!j->replayable) {
            return false;
        }
    }
    return true;
}

/*
 * Write batch (a list of jobs) in one transaction. Each job's err is its
 * own result; if the transaction cannot begin or commit, every job that
 * had succeeded takes that error instead: none of it was stored.
 */
static void
batch_write(struct store *st, struct store_group_job *batch)
{
    struct store_conn *conn = NULL;
    struct store_group_job *j;
    enum wd_err err;
    bool done = false;

    err = store_write_open(st, &conn);
    if (err == WD_OK && batch_is_plain(batch)) {
        done = batch_write_plain(conn, batch, &err);
        if (!done) {
            err = store_tx_begin(conn);
        }
    }
    if (done) {
        /* the quick way finished */
    } else if (err == WD_OK) {
        for (j = batch; j != NULL; j = j->next) {
            job_run(conn, j);
        }
        err = store_tx_commit(conn); /* rolls back itself on failure */
    } else {
        for (j = batch; j != NULL; j = j->next) {
            j->err = err;
        }
    }
    if (err != WD_OK) {
        for (j = batch; j != NULL; j = j->next) {
            if (j->err == WD_OK) {
                j->err = err;
            }
        }
    }
    store_write_close(st, conn);
}

/* Take up to GROUP_MAX jobs off the queue; st->lock is held. */
static struct store_group_job *
queue_take(struct store *st)
{
    struct store_group_job *batch = st->queue;
    struct store_group_job *last = batch;
    size_t n = 1;

    while (last->next != NULL && n < GROUP_MAX) {
        last = last->next;
        n++;
    }
    st->queue = last->next;
    if (st->queue == NULL) {
        st->queue_tail = &st->queue;
    }
    last->next = NULL;
    return batch;
}

/* store_group_write and its replayable twin: queue, lead or wait. */
static enum wd_err
group_write(struct store *st, store_group_fn *fn, void *ctx, bool replayable)
{
    struct store_group_job job = { .fn = fn,
                                   .ctx = ctx,
                                   .replayable = replayable };

    pthread_mutex_lock(&st->lock);
    *st->queue_tail = &job;
    st->queue_tail = &job.next;
    while (!job.done) {
        struct store_group_job *batch;
        struct store_group_job *j;
        struct store_group_job *next;

        if (st->committing || st->queue == NULL) {
            /* a leader is writing; ours is queued or already in its batch */
            pthread_cond_wait(&st->committed, &st->lock);
            continue;
        }
        st->committing = true;
        batch = queue_take(st);
        pthread_mutex_unlock(&st->lock);
        batch_write(st, batch);
        pthread_mutex_lock(&st->lock);
        for (j = batch; j != NULL; j = next) {
            next = j->next; /* j lives on its waiter's stack: read first */
            j->done = true;
        }
        st->committing = false;
        pthread_cond_broadcast(&st->committed);
    }
    pthread_mutex_unlock(&st->lock);
    return job.err;
}

/*
 * Run fn(conn, ctx) inside a write transaction shared with the writes other
 * threads submit meanwhile, in a savepoint of its own, and return once the
 * transaction is durable: fn's error (its writes undone, the others kept),
 * or the error of a transaction that could not begin or commit (nothing of
 * it stored). fn must not begin or end transactions itself.
 */
enum wd_err
store_group_write(struct store *st, store_group_fn *fn, void *ctx)
{
    return group_write(st, fn, ctx, false);
}

/*
 * store_group_write for an fn that reads ctx and the database and writes
 * only the database, so that running it again after a rollback does the
 * same: a batch of such writes goes without savepoints.
 */
enum wd_err
store_group_write_replayable(struct store *st, store_group_fn *fn, void *ctx)
{
    return group_write(st, fn, ctx, true);
}

/* How many writes wait for the next batch: lets a test form a batch of
 * its choosing (test_store_group.c) instead of hoping threads meet. */
size_t
store_group_queued(struct store *st)
{
    const struct store_group_job *j;
    size_t n = 0;

    pthread_mutex_lock(&st->lock);
    for (j = st->queue; j != NULL; j = j->next) {
        n++;
    }
    pthread_mutex_unlock(&st->lock);
    return n;
}
