/*
 * Unit tests of the inventory by expiry (store/store_cert_list.c with
 * STORE_SORT_EXPIRES and the expiry range) and of its counts
 * (store/store_cert_stats.c): soonest first, keyset pages on (not_after,
 * id) that visit every row once even where expiries tie, the range bounds,
 * and counts that add up and follow revocations. Real SQLite.
 */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include "../../store/store.h"
#include "store_fixture.h"

#define NOW 1700000000
#define DAY 86400
#define WEEK (7 * DAY)

static uint8_t der_bytes[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

static void
insert(struct store *st, const char *serial, const char *cn, int64_t not_after)
{
    struct store_cert c;

    store_fixture_cert_fill(&c, serial, cn);
    c.der = der_bytes;
    c.der_len = sizeof(der_bytes);
    c.subject = "O=Example";
    c.sans = "";
    c.fingerprint = "00";
    c.not_before = NOW - 100 * DAY;
    c.not_after = not_after;
    c.issued_at = NOW - 100 * DAY;
    assert_wd_err(store_cert_insert(st, &c, "admin"), WD_OK);
}

static struct store_query
by_expiry(void)
{
    struct store_query q;

    memset(&q, 0, sizeof(q));
    q.status = STORE_STATUS_ANY;
    q.now = NOW;
    q.limit = 100;
    q.sort = STORE_SORT_EXPIRES;
    return q;
}

/* Every page of q, serials joined by ",", pages by "|". */
static const char *
walk(struct store *st, struct store_query q, char *buf, size_t size)
{
    struct store_cert_list l = { 0 };
    size_t used = 0;
    size_t i;
    int pages = 0;

    buf[0] = '\0';
    do {
        assert_wd_err(store_cert_list(st, &q, &l), WD_OK);
        for (i = 0; i < l.n; i++) {
            used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                     i > 0 ? "," : (pages > 0 ? "|" : ""),
                                     l.items[i].serial);
            assert_true(used < size);
        }
        q.cursor = l.next_cursor;
        q.cursor_not_after = l.next_cursor_not_after;
        store_cert_list_free(&l);
        assert_true(++pages < 100);
    } while (q.cursor != 0);
    return buf;
}

/* Rows inserted out of expiry order, two pairs with equal not_after. */
static void
insert_mixed(struct store *st)
{
    insert(st, "01", "c.example", NOW + 30 * DAY);
    insert(st, "02", "a.example", NOW + 2 * DAY);
    insert(st, "03", "d.example", NOW + 30 * DAY); /* ties with 01 */
    insert(st, "04", "old.example", NOW - 5 * DAY);
    insert(st, "05", "b.example", NOW + 2 * DAY); /* ties with 02 */
    insert(st, "06", "e.example", NOW + 90 * DAY);
}

static void
test_store_cert_list_by_expiry_is_soonest_first_then_oldest_id(void **state)
{
    struct store_fixture *f = *state;
    char buf[256];

    insert_mixed(f->st);
    assert_string_equal(walk(f->st, by_expiry(), buf, sizeof(buf)),
                        "04,02,05,01,03,06");
}

static void
test_store_cert_list_by_expiry_pages_split_ties_without_loss(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = by_expiry();
    char buf[256];

    insert_mixed(f->st);
    q.limit = 1;
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "04|02|05|01|03|06");
    q.limit = 2;
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "04,02|05,01|03,06");
    q.limit = 4;
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "04,02,05,01|03,06");
}

static void
test_store_cert_list_by_expiry_applies_status_filters(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = by_expiry();
    char buf[256];

    insert_mixed(f->st);
    assert_wd_err(store_cert_revoke(f->st, "05", 1, NOW, "admin", NULL), WD_OK);
    q.status = STORE_STATUS_VALID;
    q.limit = 1; /* the start skips the expired row, pages still chain */
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "02|01|03|06");
    q.limit = 100;
    q.status = STORE_STATUS_REVOKED;
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "05");
    q.status = STORE_STATUS_EXPIRED;
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "04");
    q.status = STORE_STATUS_EXPIRING;
    q.expiring_within = 30 * DAY;
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "02,01,03");
}

static void
test_store_cert_list_by_expiry_searches_and_sorts_matches(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = by_expiry();
    char buf[256];

    insert_mixed(f->st);
    q.q = "example"; /* the trigram index, then sorted by expiry */
    q.limit = 2;
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "04,02|05,01|03,06");
    q.q = "e."; /* two characters: LIKE */
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "06");
}

static void
test_store_cert_list_expiry_range_bounds_not_after(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = by_expiry();
    char buf[256];

    insert_mixed(f->st);
    q.expires_after = NOW + 2 * DAY;   /* exclusive */
    q.expires_before = NOW + 30 * DAY; /* inclusive */
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "01,03");
    q.sort = STORE_SORT_ISSUED;
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "03,01");
    q.expires_before = 0; /* no upper bound */
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "06,03,01");
    q.expires_after = 0;
    q.expires_before = NOW;
    assert_string_equal(walk(f->st, q, buf, sizeof(buf)), "04");
}

static void
test_store_cert_list_rejects_bad_sort_and_negative_bounds(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = by_expiry();
    struct store_cert_list l = { 0 };

    q.sort = (enum store_sort)7;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_E_BAD_QUERY);
    q = by_expiry();
    q.expires_after = -1;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_E_BAD_QUERY);
    q = by_expiry();
    q.expires_before = -1;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_E_BAD_QUERY);
    assert_null(l.items);
}

static void
test_store_cert_list_by_expiry_reads_the_expiry_index(void **state)
{
    struct store_fixture *f = *state;
    sqlite3 *db = store_fixture_raw_open(f);
    sqlite3_stmt *s = NULL;
    bool uses_index = false;

    /* the inner SELECT of an unsearched expiry page, as store_cert_list.c
     * builds it: one range of certificates_expiry, no sort */
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "EXPLAIN QUERY PLAN SELECT s.id FROM certificates s"
                           " INDEXED BY certificates_expiry"
                           " WHERE (s.not_after, s.id) > (1, 2)"
                           " AND s.revoked_at IS NULL AND s.not_after > 3"
                           " ORDER BY s.not_after, s.id LIMIT 5",
                           -1, &s, NULL),
        SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(s, 3);

        assert_null(strstr(detail, "TEMP B-TREE"));
        if (strstr(detail, "COVERING INDEX certificates_expiry") != NULL) {
            uses_index = true;
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    assert_true(uses_index);
}

static void
test_store_cert_stats_counts_each_status_and_week(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert_stats st;
    int i;

    assert_wd_err(store_cert_stats_get(f->st, NOW, 30 * DAY, &st), WD_OK);
    assert_int_equal(st.total, 0);
    insert_mixed(f->st);
    insert(f->st, "07", "week13.example", NOW + 13 * WEEK);     /* last week */
    insert(f->st, "08", "week14.example", NOW + 13 * WEEK + 1); /* beyond */
    insert(f->st, "09", "ends-now.example", NOW); /* expired at NOW */
    assert_wd_err(store_cert_revoke(f->st, "03", 1, NOW, "admin", NULL), WD_OK);

    assert_wd_err(store_cert_stats_get(f->st, NOW, 30 * DAY, &st), WD_OK);
    assert_int_equal(st.total, 9);
    assert_int_equal(st.revoked, 1);
    assert_int_equal(st.expired, 2);  /* 04, 09 */
    assert_int_equal(st.valid, 6);    /* 01, 02, 05, 06, 07, 08 */
    assert_int_equal(st.expiring, 3); /* 02, 05, 01 (30 days is inside) */
    assert_int_equal(st.total, st.valid + st.expired + st.revoked);
    assert_int_equal(st.weeks[0], 2);  /* 02, 05 */
    assert_int_equal(st.weeks[4], 1);  /* 01: day 30 is in week 5 */
    assert_int_equal(st.weeks[12], 2); /* 06 (day 90), 07 */
    for (i = 0; i < STORE_STATS_WEEKS; i++) {
        if (i != 0 && i != 4 && i != 12) {
            assert_int_equal(st.weeks[i], 0);
        }
    }
}

static void
test_store_cert_stats_rejects_negative_window(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert_stats st;

    assert_wd_err(store_cert_stats_get(f->st, NOW, -1, &st), WD_E_INTERNAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_by_expiry_is_soonest_first_then_oldest_id,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_by_expiry_pages_split_ties_without_loss,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_by_expiry_applies_status_filters,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_by_expiry_searches_and_sorts_matches,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_expiry_range_bounds_not_after,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_rejects_bad_sort_and_negative_bounds,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_by_expiry_reads_the_expiry_index,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_stats_counts_each_status_and_week,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_stats_rejects_negative_window,
            store_fixture_setup_memory, store_fixture_teardown_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
