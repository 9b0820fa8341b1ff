/*
 * The ACME validation pool, behind the api_acme_submit_fn the ACME
 * listener calls when a client answers a challenge (RFC 8555 7.5.1). The
 * request thread only copies the check into a bounded job table; a few
 * worker threads run it (srv_acme_check.c) and record the outcome in the
 * store: valid, a retry after a delay (RFC 8555 8.2: the server MAY
 * retry), or invalid with an RFC 7807 problem once the retries are
 * spent. A scheduler thread sweeps the store at start and every minute
 * for challenges left processing with no job behind them (an earlier run
 * stopped with them queued, or the store kept failing) and resumes them
 * from what the store holds.
 */
#include "srv.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/xmalloc.h"

#define POOL_MAX_JOBS SRV_ACME_POOL_MAX_JOBS

#define POOL_MAX_THREADS 64

/* RFC 8555 8.2: a failed attempt is retried after these delays, so a
 * client that answered a little early (a DNS change still propagating, a
 * web server reloading) is not failed for it; then the challenge is
 * invalid. */
static const unsigned retry_delays_s[] = { 2, 5, 10 };
#define POOL_RETRIES (sizeof(retry_delays_s) / sizeof(retry_delays_s[0]))

/* A store write that failed (busy, disk) is tried again this often, at
 * most this many times, before the job is given up to the sweep. */
#define POOL_STORE_RETRY_MS 2000
#define POOL_STORE_RETRIES 5

/* The sweep runs this often. A challenge due this long with no job is an
 * orphan: the API sets a challenge processing just before it submits it,
 * so a younger one may be on its way in. */
#define POOL_SWEEP_INTERVAL_S 60
#define POOL_ORPHAN_GRACE_S 60

/* Pages of due challenges one sweep reads at most. */
#define POOL_SWEEP_PAGES 10

enum job_state {
    JOB_FREE,
    JOB_WAITING, /* due at due_ms */
    JOB_RUNNING, /* a worker owns it; only it writes the job */
};

struct job {
    enum job_state state;
    struct api_acme_check c;
    unsigned attempts;     /* checks made */
    unsigned store_errors; /* failed store writes, in a row */
    int64_t due_ms;        /* CLOCK_MONOTONIC, milliseconds */
    bool has_verdict;      /* the check ran; only the write is pending */
    enum store_acme_status verdict; /* VALID, INVALID or PROCESSING (retry) */
    char *problem;                  /* problem JSON of the verdict, or NULL */
};

struct srv_acme_pool {
    struct store *st; /* borrowed */
    struct srv_acme_check_cfg cfg;
    pthread_mutex_t mu;   /* guards everything below */
    pthread_cond_t work;  /* a job became due or changed; or stop */
    pthread_cond_t sweep; /* stop */
    bool stopping;
    struct job jobs[POOL_MAX_JOBS];
    pthread_t threads[POOL_MAX_THREADS];
    unsigned n_threads; /* started */
    pthread_t sweeper;
    bool sweeper_started;
};

static int64_t
mono_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Wait on cv until at_ms (CLOCK_MONOTONIC; 0 = until signalled). */
static void
wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t at_ms)
{
    struct timespec at;

    if (at_ms == 0) {
        pthread_cond_wait(cv, mu);
        return;
    }
    at.tv_sec = (time_t)(at_ms / 1000);
    at.tv_nsec = (long)(at_ms % 1000) * 1000000;
    pthread_cond_timedwait(cv, mu, &at);
}

/* The job for challenge cid, or NULL. Under mu. */
static struct job *
job_find(struct srv_acme_pool *pool, const char *cid)
{
    size_t i;

    for (i = 0; i < POOL_MAX_JOBS; i++) {
        if (pool->jobs[i].state != JOB_FREE &&
            strcmp(pool->jobs[i].c.cid, cid) == 0) {
            return &pool->jobs[i];
        }
    }
    return NULL;
}

/* The waiting job due soonest if it is due now, else NULL with *next the
 * soonest due time (0 if none waits). Under mu. */
static struct job *
job_due(struct srv_acme_pool *pool, int64_t *next)
{
    struct job *best = NULL;
    int64_t now = mono_ms();
    size_t i;

    for (i = 0; i < POOL_MAX_JOBS; i++) {
        struct job *j = &pool->jobs[i];

        if (j->state == JOB_WAITING &&
            (best == NULL || j->due_ms < best->due_ms)) {
            best = j;
        }
    }
    *next = best != NULL ? best->due_ms : 0;
    return best != NULL && best->due_ms <= now ? best : NULL;
}

/* An RFC 7807 problem document for the store (RFC 8555 6.7). */
static char *
problem_json(const char *type, const char *detail, int status)
{
    json_t *o = json_pack("{s:s, s:s, s:i}", "type", type, "detail", detail,
                          "status", status);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return text;
}

/*
 * Take a copy of c as a job due now, with attempts checks made already.
 * WD_OK also when there is nothing to do: a challenge already in a job is
 * not taken twice, and a stopping pool takes nothing (the challenge stays
 * processing in the store for the sweep of the next run).
 * WD_E_UNAVAILABLE with the table full.
 */
static enum wd_err
job_add(struct srv_acme_pool *pool, const struct api_acme_check *c,
        unsigned attempts)
{
    struct job *j = NULL;
    size_t i;

    pthread_mutex_lock(&pool->mu);
    if (pool->stopping || job_find(pool, c->cid) != NULL) {
        pthread_mutex_unlock(&pool->mu);
        return WD_OK;
    }
    for (i = 0; i < POOL_MAX_JOBS && j == NULL; i++) {
        if (pool->jobs[i].state == JOB_FREE) {
            j = &pool->jobs[i];
        }
    }
    if (j != NULL) {
        j->c = *c;
        j->attempts = attempts;
        j->state = JOB_WAITING;
        j->due_ms = mono_ms();
        pthread_cond_signal(&pool->work);
    }
    pthread_mutex_unlock(&pool->mu);
    return j != NULL ? WD_OK : WD_E_UNAVAILABLE;
}

/* Free the job's slot. Under mu. */
static void
job_release(struct job *j)
{
    free(j->problem);
    memset(j, 0, sizeof(*j));
}

/* Run j's check (no lock held) and settle its verdict: valid, a retry
 * (PROCESSING) or invalid, with the problem JSON of a failure. */
static void
job_check(struct srv_acme_pool *pool, struct job *j)
{
    struct srv_acme_problem p = { 0 };
    char ident[LOG_QUOTE_BUF];
    enum wd_err rc;

    rc = srv_acme_check_run(&pool->cfg, &j->c, &p);
    j->attempts++;
    j->has_verdict = true;
    log_quote(j->c.identifier, strlen(j->c.identifier), ident);
    if (rc == WD_OK) {
        j->verdict = STORE_ACME_VALID;
        log_info("event=acme_validation challenge=%s type=%s identifier=%s "
                 "attempt=%u outcome=valid",
                 j->c.cid, store_acme_chall_type_str(j->c.type), ident,
                 j->attempts);
        return;
    }
    /* a bug of ours is not the client's to retry */
    j->verdict = rc != WD_E_INTERNAL && j->attempts <= POOL_RETRIES
                     ? STORE_ACME_PROCESSING
                     : STORE_ACME_INVALID;
    j->problem = problem_json(p.type, p.detail, p.status);
    log_info("event=acme_validation challenge=%s type=%s identifier=%s "
             "attempt=%u outcome=%s problem=%s",
             j->c.cid, store_acme_chall_type_str(j->c.type), ident, j->attempts,
             j->verdict == STORE_ACME_PROCESSING ? "retry" : "invalid", p.type);
}

/* Delay before retry number n (1-based), in milliseconds. */
static int64_t
retry_delay_ms(const struct srv_acme_pool *pool, unsigned n)
{
    if (pool->cfg.retry_delay_ms > 0) {
        return pool->cfg.retry_delay_ms;
    }
    return (int64_t)retry_delays_s[n - 1] * 1000;
}

/*
 * Write j's verdict to the store (no lock held). Returns when the job is
 * due again (CLOCK_MONOTONIC ms), or 0 when it is done: recorded, or the
 * challenge moved on without us (WD_E_CONFLICT: the cleanup invalidated
 * it, its authorization expired), or the store kept failing.
 */
static int64_t
job_record(struct srv_acme_pool *pool, struct job *j)
{
    int64_t now = (int64_t)time(NULL);
    int64_t delay_ms = 0;
    enum wd_err rc;

    if (j->verdict == STORE_ACME_PROCESSING) {
        delay_ms = retry_delay_ms(pool, j->attempts);
        /* the store counts seconds: never due before we are */
        rc = store_acme_challenge_retry(
            pool->st, j->c.cid, now + (delay_ms + 999) / 1000, j->problem);
    } else {
        rc = store_acme_challenge_set_result(pool->st, j->c.cid, j->verdict,
                                             j->problem, now);
    }
    if (rc == WD_OK) {
        j->store_errors = 0;
        j->has_verdict = j->verdict != STORE_ACME_PROCESSING;
        return j->has_verdict ? 0 : mono_ms() + delay_ms;
    }
    if (rc == WD_E_CONFLICT || rc == WD_E_NOT_FOUND) {
        log_info("event=acme_validation_dropped challenge=%s "
                 "reason=\"no longer processing\"",
                 j->c.cid);
        return 0;
    }
    if (++j->store_errors > POOL_STORE_RETRIES) {
        log_err("event=acme_validation_store_failed challenge=%s "
                "failures=%u err=\"%s\" next=sweep",
                j->c.cid, j->store_errors, wd_err_str(rc));
        return 0;
    }
    log_warn("event=acme_validation_store_failed challenge=%s failures=%u "
             "err=\"%s\" next=retry",
             j->c.cid, j->store_errors, wd_err_str(rc));
    return mono_ms() + POOL_STORE_RETRY_MS;
}

static void *
worker(void *arg)
{
    struct srv_acme_pool *pool = arg;
    struct job *j;
    int64_t next;

    pthread_mutex_lock(&pool->mu);
    while (!pool->stopping) {
        j = job_due(pool, &next);
        if (j == NULL) {
            wait_until(&pool->work, &pool->mu, next);
            continue;
        }
        j->state = JOB_RUNNING;
        pthread_mutex_unlock(&pool->mu);
        if (!j->has_verdict) {
            free(j->problem);
            j->problem = NULL;
            job_check(pool, j);
        }
        next = job_record(pool, j);
        pthread_mutex_lock(&pool->mu);
        if (next == 0) {
            job_release(j);
        } else {
            j->state = JOB_WAITING;
            j->due_ms = next;
            /* idle workers sleep toward the old soonest time */
            pthread_cond_broadcast(&pool->work);
        }
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

/*
 * Fail c, a challenge the sweep could not resume (see orphan_resume),
 * with a problem that tells the client to start over, rather than leave
 * it processing until its authorization expires.
 */
static void
orphan_fail(struct srv_acme_pool *pool, const struct store_acme_challenge *c,
            int64_t now)
{
    char *problem = problem_json(
        "urn:ietf:params:acme:error:serverInternal",
        "the validation was interrupted (the server restarted or was "
        "overloaded); create a new order to try again",
        500);
    enum wd_err rc;

    rc = store_acme_challenge_set_result(pool->st, c->cid, STORE_ACME_INVALID,
                                         problem, now);
    if (rc == WD_OK) {
        log_warn("event=acme_validation_orphan challenge=%s outcome=invalid",
                 c->cid);
    } else if (rc != WD_E_CONFLICT && rc != WD_E_NOT_FOUND) {
        log_err("event=acme_validation_store_failed challenge=%s "
                "err=\"%s\" next=sweep",
                c->cid, wd_err_str(rc));
    }
    free(problem);
}

/* snprintf's n fits a buffer of size bytes. */
static bool
printed_fits(int n, size_t size)
{
    return n >= 0 && (size_t)n < size;
}

/*
 * The check of c, rebuilt from the store as the API built it for
 * srv_acme_pool_submit: the identifier of c's authorization, and the key
 * authorization, token "." the thumbprint of the key of the account that
 * owns it (RFC 8555 8.1), into *out. WD_E_NOT_FOUND if the authorization
 * or the account is gone or the account no longer valid, WD_E_INTERNAL
 * (logged) for a field that does not fit a check, or the store's error.
 */
static enum wd_err
orphan_check(struct srv_acme_pool *pool, const struct store_acme_challenge *c,
             struct api_acme_check *out)
{
    struct api_acme_check check = { 0 };
    struct store_acme_authz *z = NULL;
    struct store_acme_account *a = NULL;
    enum wd_err rc;

    rc = store_acme_authz_get(pool->st, c->aid, &z);
    if (rc == WD_OK) {
        rc = store_acme_account_get_by_id(pool->st, z->account_id, &a);
    }
    if (rc != WD_OK) {
        goto out;
    }
    if (a->status != STORE_ACME_VALID) {
        rc = WD_E_NOT_FOUND;
        goto out;
    }
    check.type = c->type;
    check.ident_type = z->ident_type;
    if (!printed_fits(snprintf(check.cid, sizeof(check.cid), "%s", c->cid),
                      sizeof(check.cid)) ||
        !printed_fits(snprintf(check.identifier, sizeof(check.identifier), "%s",
                               z->ident_value),
                      sizeof(check.identifier)) ||
        !printed_fits(
            snprintf(check.token, sizeof(check.token), "%s", c->token),
            sizeof(check.token)) ||
        !printed_fits(snprintf(check.key_auth, sizeof(check.key_auth), "%s.%s",
                               c->token, a->thumbprint),
                      sizeof(check.key_auth))) {
        log_err("event=acme_validation_orphan challenge=%s "
                "error=\"a field does not fit a check\"",
                c->cid);
        rc = WD_E_INTERNAL;
        goto out;
    }
    *out = check;
out:
    store_acme_account_free(a);
    store_acme_authz_free(z);
    return rc;
}

/*
 * Resume c, a challenge the store holds as processing and no job covers:
 * queue its check, rebuilt from the store, as a job with the attempts the
 * store counted, so the retries left are those an uninterrupted run would
 * have had. If it cannot be (its account gone, a malformed row, the table
 * full), fail it (orphan_fail). WD_E_UNAVAILABLE, with c left processing
 * for the next sweep, while the store is busy.
 */
static enum wd_err
orphan_resume(struct srv_acme_pool *pool, const struct store_acme_challenge *c,
              int64_t now)
{
    struct api_acme_check check;
    unsigned attempts = 0;
    enum wd_err rc;

    rc = orphan_check(pool, c, &check);
    if (rc == WD_E_UNAVAILABLE) {
        return rc;
    }
    if (rc == WD_OK) {
        if (c->attempts > 0) {
            attempts = c->attempts < (int64_t)POOL_RETRIES
                           ? (unsigned)c->attempts
                           : (unsigned)POOL_RETRIES;
        }
        rc = job_add(pool, &check, attempts);
    }
    if (rc == WD_OK) {
        log_info("event=acme_validation_orphan challenge=%s attempts=%u "
                 "outcome=resumed",
                 c->cid, attempts);
        return WD_OK;
    }
    log_warn("event=acme_validation_orphan challenge=%s reason=\"%s\"", c->cid,
             wd_err_str(rc));
    orphan_fail(pool, c, now);
    return WD_OK;
}

/*
 * One sweep of the store for orphans (see orphan_resume). A resumed
 * challenge stays processing, and first among the due ones, until its job
 * records a verdict: a page of them ends the sweep, and the next one
 * reaches those behind.
 */
static void
sweep_once(struct srv_acme_pool *pool)
{
    struct store_acme_challenge_list l = { 0 };
    int64_t now = (int64_t)time(NULL);
    unsigned page;
    unsigned handled;
    size_t i;
    bool known;

    for (page = 0; page < POOL_SWEEP_PAGES; page++) {
        if (store_acme_challenge_list_due(pool->st, now, WD_LIST_LIMIT_MAX,
                                          &l) != WD_OK) {
            return; /* logged by the store; the next sweep tries again */
        }
        handled = 0;
        for (i = 0; i < l.n; i++) {
            if (l.items[i].next_attempt_at > now - POOL_ORPHAN_GRACE_S) {
                break; /* soonest first: the rest are younger */
            }
            pthread_mutex_lock(&pool->mu);
            known = job_find(pool, l.items[i].cid) != NULL;
            pthread_mutex_unlock(&pool->mu);
            if (known) {
                continue;
            }
            if (orphan_resume(pool, &l.items[i], now) != WD_OK) {
                handled = 0; /* the store is busy: the next sweep */
                break;
            }
            handled++;
        }
        i = l.n;
        store_acme_challenge_list_free(&l);
        memset(&l, 0, sizeof(l));
        if (handled == 0 || i < WD_LIST_LIMIT_MAX) {
            return;
        }
    }
}

static void *
sweeper(void *arg)
{
    struct srv_acme_pool *pool = arg;

    pthread_mutex_lock(&pool->mu);
    while (!pool->stopping) {
        pthread_mutex_unlock(&pool->mu);
        sweep_once(pool);
        pthread_mutex_lock(&pool->mu);
        if (!pool->stopping) {
            wait_until(&pool->sweep, &pool->mu,
                       mono_ms() + POOL_SWEEP_INTERVAL_S * 1000);
        }
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

/*
 * Start the pool (see srv.h). WD_E_CONFIG for a cfg that could never
 * work or more than POOL_MAX_THREADS threads; WD_E_INTERNAL (logged) if a
 * thread cannot be started.
 */
enum wd_err
srv_acme_pool_start(struct store *st, const struct srv_acme_check_cfg *cfg,
                    unsigned threads, struct srv_acme_pool **out)
{
    struct srv_acme_pool *pool = NULL;
    pthread_condattr_t ca;
    unsigned i;
    enum wd_err rc;

    if (threads == 0) {
        threads = SRV_ACME_DEFAULT_THREADS;
    }
    if (threads > POOL_MAX_THREADS) {
        log_err("event=config_invalid key=acme.validation_threads "
                "reason=\"above %d\"",
                POOL_MAX_THREADS);
        return WD_E_CONFIG;
    }
    rc = srv_acme_check_cfg_validate(cfg);
    if (rc != WD_OK) {
        return rc;
    }
    pool = xcalloc(1, sizeof(*pool));
    pool->st = st;
    pool->cfg = *cfg;
    pthread_mutex_init(&pool->mu, NULL);
    /* due times are monotonic: a clock step moves no retry */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->work, &ca);
    pthread_cond_init(&pool->sweep, &ca);
    pthread_condattr_destroy(&ca);
    for (i = 0; i < threads; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker, pool) != 0) {
            log_err("event=acme_pool_start_failed reason=\"pthread_create\"");
            rc = WD_E_INTERNAL;
            goto out;
        }
        pool->n_threads++;
    }
    if (pthread_create(&pool->sweeper, NULL, sweeper, pool) != 0) {
        log_err("event=acme_pool_start_failed reason=\"pthread_create\"");
        rc = WD_E_INTERNAL;
        goto out;
    }
    pool->sweeper_started = true;
    *out = pool;
    pool = NULL;
    rc = WD_OK;
out:
    srv_acme_pool_stop(pool);
    return rc;
}

/*
 * api_acme_submit_fn: take a copy of c as a job due now (job_add). With
 * the pool stopping the challenge is left processing in the store for
 * the sweep of a later run to resume (see orphan_resume); a full table
 * fails it at once with rateLimited, so the client hears why.
 */
void
srv_acme_pool_submit(void *ctx, const struct api_acme_check *c)
{
    struct srv_acme_pool *pool = ctx;
    char *problem = NULL;

    if (job_add(pool, c, 0) == WD_OK) {
        return;
    }
    log_warn("event=acme_validation challenge=%s outcome=invalid "
             "reason=\"%d validations in progress\"",
             c->cid, POOL_MAX_JOBS);
    problem = problem_json("urn:ietf:params:acme:error:rateLimited",
                           "too many validations are in progress; try again "
                           "later with a new order",
                           429);
    if (store_acme_challenge_set_result(pool->st, c->cid, STORE_ACME_INVALID,
                                        problem,
                                        (int64_t)time(NULL)) != WD_OK) {
        log_warn("event=acme_validation_store_failed challenge=%s "
                 "next=sweep",
                 c->cid);
    }
    free(problem);
}

/* Stop the pool (see srv.h): jobs not yet running stay processing in the
 * store for the sweep of the next run to resume. */
void
srv_acme_pool_stop(struct srv_acme_pool *pool)
{
    unsigned i;

    if (pool == NULL) {
        return;
    }
    pthread_mutex_lock(&pool->mu);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->work);
    pthread_cond_broadcast(&pool->sweep);
    pthread_mutex_unlock(&pool->mu);
    for (i = 0; i < pool->n_threads; i++) {
        pthread_join(pool->threads[i], NULL);
    }
    if (pool->sweeper_started) {
        pthread_join(pool->sweeper, NULL);
    }
    for (i = 0; i < POOL_MAX_JOBS; i++) {
        free(pool->jobs[i].problem);
    }
    pthread_cond_destroy(&pool->work);
    pthread_cond_destroy(&pool->sweep);
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}
