/*
 * Unit tests of the durable counters (store/store_counter.c): they start
 * at 1, only go up, one per name, survive a reopen, refuse names outside
 * their small alphabet, and hand each value out once however many threads
 * ask at the same time. Real SQLite on the fixtures of store_fixture.c; a
 * plain sqlite3 connection looks at the meta table behind the store.
 */
#include "support.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../../store/store.h"
#include "store_fixture.h"

static int64_t
next(struct store *st, const char *name)
{
    int64_t v = -1;

    assert_wd_err(store_counter_next(st, name, &v), WD_OK);
    return v;
}

static int64_t
get(struct store *st, const char *name)
{
    int64_t v = -1;

    assert_wd_err(store_counter_get(st, name, &v), WD_OK);
    return v;
}

/* The first column of the first row of sql, as an integer; short, as the
 * assertions read it. */
static int64_t
raw_int(sqlite3 *db, const char *sql)
{
    return store_fixture_raw_int(db, sql);
}

static void
test_store_counter_next_starts_at_one_and_increases(void **state)
{
    struct store_fixture *f = *state;

    assert_int_equal(get(f->st, "crl.number"), 0);
    assert_int_equal(next(f->st, "crl.number"), 1);
    assert_int_equal(next(f->st, "crl.number"), 2);
    assert_int_equal(next(f->st, "crl.number"), 3);
    assert_int_equal(get(f->st, "crl.number"), 3);
    assert_int_equal(get(f->st, "crl.number"), 3); /* reading moves nothing */
}

static void
test_store_counter_names_are_independent(void **state)
{
    struct store_fixture *f = *state;

    assert_int_equal(next(f->st, "crl.number"), 1);
    assert_int_equal(next(f->st, "crl.number"), 2);
    assert_int_equal(next(f->st, "root-crl_number"), 1);
    assert_int_equal(next(f->st, "crl.number"), 3);
    assert_int_equal(get(f->st, "crl.number"), 3);
    assert_int_equal(get(f->st, "root-crl_number"), 1);
    assert_int_equal(get(f->st, "crl.numbe"), 0);
    assert_int_equal(get(f->st, STORE_COUNTER_REVOCATIONS), 0);
}

static void
test_store_counter_survives_close_and_reopen(void **state)
{
    struct store_fixture *f = *state;
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    assert_int_equal(next(f->st, "crl.number"), 1);
    assert_int_equal(next(f->st, "crl.number"), 2);
    assert_int_equal(next(f->st, "other"), 1);
    /* committed when next returned: another connection sees it */
    db = store_fixture_raw_open(f);
    assert_int_equal(
        raw_int(db, "SELECT value FROM meta WHERE key = 'crl.number'"), 2);
    sqlite3_close(db);
    store_close(f->st);
    f->st = NULL;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    assert_int_equal(get(f->st, "crl.number"), 2);
    assert_int_equal(next(f->st, "crl.number"), 3);
    assert_int_equal(get(f->st, "other"), 1);
}

static void
test_store_counter_refuses_names_outside_the_alphabet(void **state)
{
    struct store_fixture *f = *state;
    const char *const bad[] = {
        "",
        "CRL",
        "crl number",
        "crl/number",
        "crl\nnumber",
        "num\xc3\xa9ro",
        "k'; DROP TABLE meta; --",
    };
    char longest[65];
    char too_long[66];
    int64_t v = -7;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_wd_err(store_counter_next(f->st, bad[i], &v), WD_E_INTERNAL);
        assert_wd_err(store_counter_get(f->st, bad[i], &v), WD_E_INTERNAL);
    }
    assert_wd_err(store_counter_next(f->st, NULL, &v), WD_E_INTERNAL);
    assert_wd_err(store_counter_get(f->st, NULL, &v), WD_E_INTERNAL);
    assert_wd_err(store_counter_next(f->st, "crl", NULL), WD_E_INTERNAL);
    assert_wd_err(store_counter_get(f->st, "crl", NULL), WD_E_INTERNAL);
    assert_wd_err(store_counter_next(NULL, "crl", &v), WD_E_INTERNAL);
    memset(too_long, 'z', sizeof(too_long) - 1); /* 65 characters */
    too_long[sizeof(too_long) - 1] = '\0';
    assert_wd_err(store_counter_next(f->st, too_long, &v), WD_E_INTERNAL);
    assert_int_equal(v, -7); /* untouched on failure */

    memset(longest, 'z', sizeof(longest) - 1); /* 64 characters is fine */
    longest[sizeof(longest) - 1] = '\0';
    assert_int_equal(next(f->st, longest), 1);
    assert_int_equal(next(f->st, "0.9_a-z"), 1);
}

static void
test_store_counter_refuses_a_value_that_is_not_an_integer(void **state)
{
    struct store_fixture *f = *state;
    int64_t v = -7;
    sqlite3 *db;

    db = store_fixture_raw_open(f);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO meta (key, value)"
                                  " VALUES ('crl.number', 'x')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_wd_err(store_counter_get(f->st, "crl.number", &v), WD_E_INTERNAL);
    /* not silently restarted at 1 ('x' + 1 to SQLite): refused */
    assert_wd_err(store_counter_next(f->st, "crl.number", &v), WD_E_INTERNAL);
    assert_int_equal(v, -7);
    assert_int_equal(raw_int(db, "SELECT value = 'x' FROM meta"
                                 " WHERE key = 'crl.number'"),
                     1);
    sqlite3_close(db);
    assert_int_equal(next(f->st, "crl.other"), 1); /* nothing left locked */
}

#define BUMPERS 8
#define BUMPS_PER_THREAD 50

struct bumper {
    struct store *st;
    int64_t got[BUMPS_PER_THREAD];
    int failures;
};

static void *
bumper_run(void *arg)
{
    struct bumper *b = arg;
    int i;

    for (i = 0; i < BUMPS_PER_THREAD; i++) {
        if (store_counter_next(b->st, "crl.number", &b->got[i]) != WD_OK) {
            b->failures++;
        }
    }
    return NULL;
}

static void
test_store_counter_next_from_many_threads_hands_out_each_value_once(
    void **state)
{
    struct store_fixture *f = *state;
    struct bumper b[BUMPERS];
    pthread_t t[BUMPERS];
    int seen[BUMPERS * BUMPS_PER_THREAD + 1] = { 0 };
    int64_t v;
    int i;
    int j;

    memset(b, 0, sizeof(b));
    for (i = 0; i < BUMPERS; i++) {
        b[i].st = f->st;
        assert_int_equal(pthread_create(&t[i], NULL, bumper_run, &b[i]), 0);
    }
    for (i = 0; i < BUMPERS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(b[i].failures, 0);
    }
    for (i = 0; i < BUMPERS; i++) {
        for (j = 0; j < BUMPS_PER_THREAD; j++) {
            v = b[i].got[j];
            assert_in_range(v, 1, BUMPERS * BUMPS_PER_THREAD);
            seen[v]++;
            /* one thread's values only go up */
            assert_true(j == 0 || v > b[i].got[j - 1]);
        }
    }
    for (i = 1; i <= BUMPERS * BUMPS_PER_THREAD; i++) {
        assert_int_equal(seen[i], 1);
    }
    assert_int_equal(get(f->st, "crl.number"), BUMPERS * BUMPS_PER_THREAD);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store_counter_next_starts_at_one_and_increases,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_counter_names_are_independent,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_counter_survives_close_and_reopen,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_counter_refuses_names_outside_the_alphabet,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_counter_refuses_a_value_that_is_not_an_integer,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_counter_next_from_many_threads_hands_out_each_value_once,
            store_fixture_setup_file_open, store_fixture_teardown_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
