/*
 * api/api_stats_cache.c with a real store on :memory:: the first caller
 * waits for a count; later callers get the counts already made, fresh for
 * max age, and past it the same counts once more while the cache's thread
 * counts again, then the new ones. A count that fails is the first
 * caller's error. Freeing the cache stops its thread.
 */
#include "support.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../api/api_priv.h"

#define NOW 1700000000
#define DAY 86400
#define MAX_AGE 10

static uint8_t der_bytes[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

/* n more certificates valid for 100 days, serials from first. */
static void
insert(struct store *st, int first, int n)
{
    char serial[16];
    int i;

    for (i = first; i < first + n; i++) {
        struct store_cert c;

        memset(&c, 0, sizeof(c));
        snprintf(serial, sizeof(serial), "%04x", i);
        snprintf(c.serial, sizeof(c.serial), "%s", serial);
        c.der = der_bytes;
        c.der_len = sizeof(der_bytes);
        c.subject = "CN=stats.example";
        c.cn = "stats.example";
        c.sans = "";
        c.key_type = "ecdsa-p256";
        c.profile = "server";
        c.requester = "admin";
        c.fingerprint = "00";
        c.not_before = NOW - DAY;
        c.not_after = NOW + 100 * DAY;
        c.issued_at = NOW - DAY;
        assert_wd_err(store_cert_insert(st, &c, "admin"), WD_OK);
    }
}

static int
setup(void **state)
{
    struct store *st = NULL;

    assert_wd_err(store_open(":memory:", &st), WD_OK);
    *state = st;
    return 0;
}

static int
teardown(void **state)
{
    store_close(*state);
    return 0;
}

/* The total at now, asked until it is want (the thread counts beside the
 * test); fails after about 10 s. */
static void
wait_for_total(struct api_stats_cache *c, int64_t now, int64_t want)
{
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    struct store_cert_stats s;
    int i;

    for (i = 0; i < 1000; i++) {
        assert_wd_err(api_stats_cache_get(c, now, &s), WD_OK);
        if (s.total == want) {
            return;
        }
        nanosleep(&pause, NULL);
    }
    fail_msg("total stayed %lld, wanted %lld", (long long)s.total,
             (long long)want);
}

static void
test_api_stats_cache_first_call_waits_for_a_count(void **state)
{
    struct store *st = *state;
    struct api_stats_cache *c = api_stats_cache_new(st, 30 * DAY, MAX_AGE);
    struct store_cert_stats s;

    insert(st, 0, 3);
    assert_wd_err(api_stats_cache_get(c, NOW, &s), WD_OK);
    assert_int_equal(s.total, 3);
    assert_int_equal(s.valid, 3);
    assert_int_equal(s.revoked, 0);
    api_stats_cache_free(c);
}

static void
test_api_stats_cache_serves_stale_counts_while_it_recounts(void **state)
{
    struct store *st = *state;
    struct api_stats_cache *c = api_stats_cache_new(st, 30 * DAY, MAX_AGE);
    struct store_cert_stats s;

    insert(st, 0, 2);
    assert_wd_err(api_stats_cache_get(c, NOW, &s), WD_OK);
    assert_int_equal(s.total, 2);
    insert(st, 2, 3);
    /* fresh: the count made at NOW stands */
    assert_wd_err(api_stats_cache_get(c, NOW + MAX_AGE - 1, &s), WD_OK);
    assert_int_equal(s.total, 2);
    /* stale: this caller still gets it (the lock keeps the thread from
     * replacing it before the answer), and a recount starts */
    assert_wd_err(api_stats_cache_get(c, NOW + MAX_AGE, &s), WD_OK);
    assert_int_equal(s.total, 2);
    wait_for_total(c, NOW + MAX_AGE, 5);
    /* a clock that went back is not fresh either */
    insert(st, 5, 1);
    wait_for_total(c, NOW, 6);
    api_stats_cache_free(c);
}

static void
test_api_stats_cache_returns_the_first_counts_error(void **state)
{
    struct store *st = *state;
    /* a negative window is the store's WD_E_INTERNAL */
    struct api_stats_cache *c = api_stats_cache_new(st, -1, MAX_AGE);
    struct store_cert_stats s;

    assert_wd_err(api_stats_cache_get(c, NOW, &s), WD_E_INTERNAL);
    /* and the next caller asks again rather than waiting for ever */
    assert_wd_err(api_stats_cache_get(c, NOW, &s), WD_E_INTERNAL);
    api_stats_cache_free(c);
}

static void
test_api_stats_cache_free_without_use_and_after_a_recount_request(void **state)
{
    struct store *st = *state;
    struct api_stats_cache *c = api_stats_cache_new(st, 30 * DAY, MAX_AGE);
    struct store_cert_stats s;

    api_stats_cache_free(c);
    api_stats_cache_free(NULL);
    c = api_stats_cache_new(st, 30 * DAY, MAX_AGE);
    assert_wd_err(api_stats_cache_get(c, NOW, &s), WD_OK);
    /* a recount asked for and maybe running when the cache goes */
    assert_wd_err(api_stats_cache_get(c, NOW + MAX_AGE, &s), WD_OK);
    api_stats_cache_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_api_stats_cache_first_call_waits_for_a_count, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_api_stats_cache_serves_stale_counts_while_it_recounts, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_api_stats_cache_returns_the_first_counts_error, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_api_stats_cache_free_without_use_and_after_a_recount_request,
            setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
