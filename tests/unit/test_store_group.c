/*
 * Unit tests of the group commit (store/store_group.c) through
 * store_cert_insert_audited: concurrent insertions from many threads all
 * land, each with its audit event, in a hash chain that still verifies;
 * they share commits and the search index; and one insertion that fails
 * inside a shared batch (a serial already stored) is undone alone, whether
 * the batch ran with savepoints or was replayed with them after failing
 * without. Those two paths are also driven on purpose: a held batch lets
 * two writes queue and form the next one. Real SQLite on a file.
 */
#include "support.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../store/store.h"
#include "../../store/store_priv.h"
#include "store_fixture.h"

#define THREADS 8
#define PER_THREAD 50

static uint8_t der_bytes[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

struct worker {
    struct store *st;
    int index;
    int failures;
    int conflicts;
};

static enum wd_err
insert(struct store *st, const char *serial)
{
    struct store_cert c;

    store_fixture_cert_fill(&c, serial, "group.example");
    c.der = der_bytes;
    c.der_len = sizeof(der_bytes);
    c.subject = "CN=group.example";
    c.sans = "";
    c.fingerprint = "00";
    return store_cert_insert_audited(st, &c, "admin", "issue", NULL);
}

static void *
work(void *arg)
{
    struct worker *w = arg;
    char serial[16];
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        enum wd_err err;

        snprintf(serial, sizeof(serial), "%02x%04x", w->index + 1, i);
        err = insert(w->st, serial);
        if (err != WD_OK) {
            w->failures++;
        }
        /* every other time, a second try of a serial already stored: it
         * fails alone inside whatever batch it joined */
        if (i % 2 == 0 && insert(w->st, serial) == WD_E_CONFLICT) {
            w->conflicts++;
        }
    }
    return NULL;
}

static void
test_store_group_concurrent_insertions_all_land_and_chain(void **state)
{
    struct store_fixture *f = *state;
    struct worker w[THREADS];
    pthread_t t[THREADS];
    int64_t events = 0;
    int64_t bad = -1;
    int64_t checked = 0;
    sqlite3 *db;
    int i;

    for (i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .st = f->st, .index = i };
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
        assert_int_equal(w[i].conflicts, PER_THREAD / 2);
    }
    db = store_fixture_raw_open(f);
    assert_int_equal(
        store_fixture_raw_int(db, "SELECT count(*) FROM certificates"),
        THREADS * PER_THREAD);
    /* batches without savepoints still index every row for search, and
     * the duplicates rolled back left no stray terms */
    store_fixture_raw_exec(db, "INSERT INTO certificates_fts"
                               " (certificates_fts, rank)"
                               " VALUES ('integrity-check', 1)");
    assert_int_equal(
        store_fixture_raw_int(db, "SELECT count(*) FROM certificates_fts"
                                  " WHERE certificates_fts MATCH"
                                  " 'serial:\"0800\"'"),
        PER_THREAD);
    sqlite3_close(db);
    /* one event per stored certificate; the refused duplicates left none */
    assert_wd_err(store_audit_count(f->st, NULL, &events), WD_OK);
    assert_int_equal(events, THREADS * PER_THREAD);
    assert_wd_err(store_audit_verify(f->st, &bad, &checked), WD_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(checked, THREADS * PER_THREAD);
}

static void
test_store_group_lone_insertion_commits_at_once(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert *got = NULL;

    assert_wd_err(insert(f->st, "0a"), WD_OK);
    assert_wd_err(store_cert_get(f->st, "0a", &got), WD_OK);
    store_cert_free(got);
    assert_wd_err(insert(f->st, "0a"), WD_E_CONFLICT);
    assert_wd_err(insert(f->st, "0b"), WD_OK); /* the queue is not stuck */
}

/*
 * A write of a batch formed on purpose: it stores key in the meta table
 * and then succeeds or fails; runs counts how often it ran. The first
 * write of the test holds its batch open (hold) until the others queued.
 */
struct job {
    struct store *st;
    const char *key;
    bool fail;
    bool replayable;
    bool hold;
    int runs;
    enum wd_err result;
};

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static bool holding;  /* the holding write is inside its batch */
static bool released; /* and may finish */

static enum wd_err
job_fn(struct store_conn *conn, void *ctx)
{
    struct job *j = ctx;
    char sql[128];

    j->runs++;
    snprintf(sql, sizeof(sql), "INSERT INTO meta (key, value) VALUES ('%s', 1)",
             j->key);
    if (sqlite3_exec(conn->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return WD_E_INTERNAL;
    }
    if (j->hold) {
        pthread_mutex_lock(&hold_lock);
        holding = true;
        pthread_cond_broadcast(&hold_cond);
        while (!released) {
            pthread_cond_wait(&hold_cond, &hold_lock);
        }
        pthread_mutex_unlock(&hold_lock);
    }
    return j->fail ? WD_E_CONFLICT : WD_OK;
}

static void *
job_thread(void *arg)
{
    struct job *j = arg;

    j->result = j->replayable ? store_group_write_replayable(j->st, job_fn, j)
                              : store_group_write(j->st, job_fn, j);
    return NULL;
}

/* Waits (bounded) until n writes are queued behind the held batch. */
static void
wait_queued(struct store *st, size_t n)
{
    struct timespec pause = { 0, 1000 * 1000 };
    int i;

    for (i = 0; i < 10000 && store_group_queued(st) < n; i++) {
        nanosleep(&pause, NULL);
    }
    assert_int_equal(store_group_queued(st), n);
}

/*
 * Holds a batch open with job a, queues b (succeeds) then c (fails)
 * behind it, and lets a finish: b and c form the next batch. Returns with
 * every thread joined.
 */
static void
run_batch(struct store *st, struct job *a, struct job *b, struct job *c)
{
    pthread_t ta;
    pthread_t tb;
    pthread_t tc;

    holding = false;
    released = false;
    assert_int_equal(pthread_create(&ta, NULL, job_thread, a), 0);
    pthread_mutex_lock(&hold_lock);
    while (!holding) {
        pthread_cond_wait(&hold_cond, &hold_lock);
    }
    pthread_mutex_unlock(&hold_lock);
    assert_int_equal(pthread_create(&tb, NULL, job_thread, b), 0);
    wait_queued(st, 1);
    assert_int_equal(pthread_create(&tc, NULL, job_thread, c), 0);
    wait_queued(st, 2);
    pthread_mutex_lock(&hold_lock);
    released = true;
    pthread_cond_broadcast(&hold_cond);
    pthread_mutex_unlock(&hold_lock);
    assert_int_equal(pthread_join(ta, NULL), 0);
    assert_int_equal(pthread_join(tb, NULL), 0);
    assert_int_equal(pthread_join(tc, NULL), 0);
}

static int64_t
meta_rows(struct store_fixture *f, const char *key)
{
    char sql[128];
    sqlite3 *db = store_fixture_raw_open(f);
    int64_t n;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM meta WHERE key = '%s'",
             key);
    n = store_fixture_raw_int(db, sql);
    sqlite3_close(db);
    return n;
}

/* Replayable writes share a batch without savepoints; when one fails, the
 * transaction is rolled back and the batch runs again with them: the
 * write before it runs twice and is kept, the failing one is undone. */
static void
test_store_group_failed_batch_without_savepoints_is_replayed(void **state)
{
    struct store_fixture *f = *state;
    struct job a = { f->st, "held", false, true, true, 0, WD_OK };
    struct job b = { f->st, "kept", false, true, false, 0, WD_OK };
    struct job c = { f->st, "undone", true, true, false, 0, WD_OK };

    run_batch(f->st, &a, &b, &c);
    assert_wd_err(a.result, WD_OK);
    assert_wd_err(b.result, WD_OK);
    assert_wd_err(c.result, WD_E_CONFLICT);
    assert_int_equal(a.runs, 1); /* a batch of one needs no replay */
    assert_int_equal(b.runs, 2); /* plain, then replayed */
    assert_int_equal(c.runs, 2);
    assert_int_equal(meta_rows(f, "held"), 1);
    assert_int_equal(meta_rows(f, "kept"), 1);
    assert_int_equal(meta_rows(f, "undone"), 0);
}

/* Writes that may not run twice take savepoints from the start: each runs
 * once, and the failing one is undone alone. */
static void
test_store_group_failed_write_with_savepoints_runs_once(void **state)
{
    struct store_fixture *f = *state;
    struct job a = { f->st, "held", false, false, true, 0, WD_OK };
    struct job b = { f->st, "kept", false, false, false, 0, WD_OK };
    struct job c = { f->st, "undone", true, true, false, 0, WD_OK };

    run_batch(f->st, &a, &b, &c);
    assert_wd_err(b.result, WD_OK);
    assert_wd_err(c.result, WD_E_CONFLICT);
    assert_int_equal(b.runs, 1);
    assert_int_equal(c.runs, 1);
    assert_int_equal(meta_rows(f, "kept"), 1);
    assert_int_equal(meta_rows(f, "undone"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store_group_concurrent_insertions_all_land_and_chain,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_group_lone_insertion_commits_at_once,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_group_failed_batch_without_savepoints_is_replayed,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_group_failed_write_with_savepoints_runs_once,
            store_fixture_setup_file_open, store_fixture_teardown_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
