/*
 * api/api_query.c and api/api_media.c: list filters from the query string
 * and content negotiation, refusing what they don't know.
 */
#include "support.h"

#include <string.h>

#include "../../api/api_priv.h"

static const struct api_cfg cfg = {
    .default_validity_s = 90 * 86400,
    .max_validity_s = 397 * 86400,
    .expiring_window_s = 30 * 86400,
};

static enum wd_err
parse(const struct api_kv *kv, size_t n, struct store_query *q)
{
    struct api_req req = { .query = kv, .n_query = n, .now = 1000 };

    return api_query_parse(&req, &cfg, q);
}

static void
test_api_query_defaults_to_all_newest_first_100(void **state)
{
    struct store_query q;

    (void)state;
    assert_wd_err(parse(NULL, 0, &q), WD_OK);
    assert_int_equal(q.status, STORE_STATUS_ANY);
    assert_int_equal(q.limit, 100);
    assert_int_equal(q.cursor, 0);
    assert_null(q.q);
    assert_int_equal(q.now, 1000);
}

static void
test_api_query_reads_every_known_parameter(void **state)
{
    const struct api_kv kv[] = {
        { "status", "expiring" },    { "q", "web" },
        { "limit", "1000" },         { "cursor", "42" },
        { "expiring_within", "7d" },
    };
    struct store_query q;

    (void)state;
    assert_wd_err(parse(kv, 5, &q), WD_OK);
    assert_int_equal(q.status, STORE_STATUS_EXPIRING);
    assert_string_equal(q.q, "web");
    assert_int_equal(q.limit, 1000);
    assert_int_equal(q.cursor, 42);
    assert_int_equal(q.expiring_within, 7 * 86400);
}

static void
test_api_query_expiring_without_window_uses_the_configured_one(void **state)
{
    const struct api_kv kv[] = { { "status", "expiring" } };
    struct store_query q;

    (void)state;
    assert_wd_err(parse(kv, 1, &q), WD_OK);
    assert_int_equal(q.expiring_within, 30 * 86400);
}

static void
test_api_query_refuses_unknown_repeated_and_bad_values(void **state)
{
    static const struct api_kv bad[][2] = {
        { { "colour", "red" }, { NULL, NULL } },
        { { "status", "sleeping" }, { NULL, NULL } },
        { { "limit", "0" }, { NULL, NULL } },
        { { "limit", "1001" }, { NULL, NULL } },
        { { "limit", "-5" }, { NULL, NULL } },
        { { "limit", "10abc" }, { NULL, NULL } },
        { { "limit", NULL }, { NULL, NULL } },
        { { "expiring_within", "30 days" }, { NULL, NULL } },
        { { "expiring_within", "99999999999d" }, { NULL, NULL } },
        { { "q", "" }, { NULL, NULL } },
        { { "status", "valid" }, { "status", "revoked" } },
    };
    struct store_query q;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = bad[i][1].key != NULL ? 2 : 1;

        assert_wd_err(parse(bad[i], n, &q), WD_E_BAD_QUERY);
    }
}

static void
test_api_query_refuses_a_cursor_that_is_not_ours(void **state)
{
    const struct api_kv kv[] = { { "cursor", "zzz" } };
    const struct api_kv zero[] = { { "cursor", "0" } };
    struct store_query q;

    (void)state;
    assert_wd_err(parse(kv, 1, &q), WD_E_BAD_CURSOR);
    assert_wd_err(parse(zero, 1, &q), WD_E_BAD_CURSOR);
}

static void
test_api_query_reads_sort_and_expiry_range(void **state)
{
    /* the cursor comes before the sort: it is read once the sort is known */
    const struct api_kv kv[] = {
        { "cursor", "1796581610_3" },
        { "sort", "expires" },
        { "expires_after", "1700000000" },
        { "expires_before", "1700604800" },
    };
    const struct api_kv issued[] = { { "sort", "issued" } };
    struct store_query q;

    (void)state;
    assert_wd_err(parse(kv, 4, &q), WD_OK);
    assert_int_equal(q.sort, STORE_SORT_EXPIRES);
    assert_int_equal(q.cursor, 3);
    assert_int_equal(q.cursor_not_after, 1796581610);
    assert_int_equal(q.expires_after, 1700000000);
    assert_int_equal(q.expires_before, 1700604800);
    assert_wd_err(parse(issued, 1, &q), WD_OK);
    assert_int_equal(q.sort, STORE_SORT_ISSUED);
}

static void
test_api_query_refuses_bad_sort_range_and_cursor_shapes(void **state)
{
    const struct api_kv sort[] = { { "sort", "name" } };
    const struct api_kv after[] = { { "expires_after", "-5" } };
    const struct api_kv year[] = { { "expires_before", "253402300800" } };
    const struct api_kv empty[] = { { "expires_after", "100" },
                                    { "expires_before", "100" } };
    /* each sort takes only the cursor shape it hands out */
    const struct api_kv pair_issued[] = { { "cursor", "5_3" } };
    const struct api_kv id_expires[] = { { "sort", "expires" },
                                         { "cursor", "3" } };
    const struct api_kv zero_id[] = { { "sort", "expires" },
                                      { "cursor", "5_0" } };
    const struct api_kv junk[] = { { "sort", "expires" },
                                   { "cursor", "5_3x" } };
    struct store_query q;

    (void)state;
    assert_wd_err(parse(sort, 1, &q), WD_E_BAD_QUERY);
    assert_wd_err(parse(after, 1, &q), WD_E_BAD_QUERY);
    assert_wd_err(parse(year, 1, &q), WD_E_BAD_QUERY);
    assert_wd_err(parse(empty, 2, &q), WD_E_BAD_QUERY);
    assert_wd_err(parse(pair_issued, 1, &q), WD_E_BAD_CURSOR);
    assert_wd_err(parse(id_expires, 2, &q), WD_E_BAD_CURSOR);
    assert_wd_err(parse(zero_id, 2, &q), WD_E_BAD_CURSOR);
    assert_wd_err(parse(junk, 2, &q), WD_E_BAD_CURSOR);
}

static void
test_api_query_cursor_round_trips_for_each_sort(void **state)
{
    struct store_cert_list l = { .next_cursor = 41,
                                 .next_cursor_not_after = 1700000000 };
    struct store_query q = { .sort = STORE_SORT_EXPIRES };
    char buf[API_CURSOR_MAX];
    struct api_kv kv[2] = { { "sort", "expires" }, { "cursor", buf } };
    struct store_query back;

    (void)state;
    api_query_cursor(&q, &l, buf, sizeof(buf));
    assert_string_equal(buf, "1700000000_41");
    assert_wd_err(parse(kv, 2, &back), WD_OK);
    assert_int_equal(back.cursor, 41);
    assert_int_equal(back.cursor_not_after, 1700000000);
    q.sort = STORE_SORT_ISSUED;
    api_query_cursor(&q, &l, buf, sizeof(buf));
    assert_string_equal(buf, "41");
    l.next_cursor = 0; /* the last page */
    api_query_cursor(&q, &l, buf, sizeof(buf));
    assert_string_equal(buf, "");
}

static void
test_api_query_refuses_a_long_search_term(void **state)
{
    char term[300];
    struct api_kv kv[] = { { "q", term } };
    struct store_query q;

    (void)state;
    memset(term, 'a', sizeof(term) - 1);
    term[sizeof(term) - 1] = '\0';
    assert_wd_err(parse(kv, 1, &q), WD_E_BAD_QUERY);
}

static void
test_api_accept_picks_pem_json_or_refuses(void **state)
{
    bool pem = true;

    (void)state;
    assert_wd_err(api_accept_pem(NULL, &pem), WD_OK);
    assert_false(pem);
    assert_wd_err(api_accept_pem("*/*", &pem), WD_OK);
    assert_false(pem);
    assert_wd_err(api_accept_pem("application/json", &pem), WD_OK);
    assert_false(pem);
    assert_wd_err(api_accept_pem("text/html, Application/PEM-Certificate-"
                                 "Chain;q=0.9",
                                 &pem),
                  WD_OK);
    assert_true(pem);
    assert_wd_err(api_accept_pem("text/html", &pem), WD_E_NOT_ACCEPTABLE);
    assert_wd_err(api_accept_pem("image/png, text/xml", &pem),
                  WD_E_NOT_ACCEPTABLE);
}

static void
test_api_media_type_drops_parameters_and_case(void **state)
{
    char out[64];

    (void)state;
    api_media_type("Application/JSON; charset=utf-8", out, sizeof(out));
    assert_string_equal(out, "application/json");
    api_media_type(NULL, out, sizeof(out));
    assert_string_equal(out, "");
    api_media_type("  text/plain", out, sizeof(out));
    assert_string_equal(out, "text/plain");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_query_defaults_to_all_newest_first_100),
        cmocka_unit_test(test_api_query_reads_every_known_parameter),
        cmocka_unit_test(test_api_query_reads_sort_and_expiry_range),
        cmocka_unit_test(
            test_api_query_refuses_bad_sort_range_and_cursor_shapes),
        cmocka_unit_test(test_api_query_cursor_round_trips_for_each_sort),
        cmocka_unit_test(
            test_api_query_expiring_without_window_uses_the_configured_one),
        cmocka_unit_test(
            test_api_query_refuses_unknown_repeated_and_bad_values),
        cmocka_unit_test(test_api_query_refuses_a_cursor_that_is_not_ours),
        cmocka_unit_test(test_api_query_refuses_a_long_search_term),
        cmocka_unit_test(test_api_accept_picks_pem_json_or_refuses),
        cmocka_unit_test(test_api_media_type_drops_parameters_and_case),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
