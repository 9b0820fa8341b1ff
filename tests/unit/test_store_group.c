/*
 * Unit tests of the group commit (store/store_group.c) through
 * store_cert_insert_audited: concurrent insertions from many threads all
 * land, each with its audit event, in a hash chain that still verifies;
 * they share commits and the search index; and one insertion that fails
 * inside a shared batch (a serial already stored) is undone alone, whether
 * the batch ran with savepoints or was replayed with them after failing
 * without. Real SQLite on a file.
 */
#include "support.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../../store/store.h"
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
