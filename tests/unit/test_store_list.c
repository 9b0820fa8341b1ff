/*
 * Unit tests of store_cert_list (store/store_cert.c): newest first, keyset
 * pages that visit every row once, the status and expiry filters, and the
 * q search on CN, SANs and serial, through the trigram index for three or
 * more characters and LIKE below that, with the user's text always
 * literal. Real SQLite (fixtures in store_fixture.c); revocations go through
 * store_cert_revoke (its own tests are in test_store_revoked.c).
 */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include "../../store/store.h"
#include "store_fixture.h"

/* The clock of every status test: 2023-11-14T22:13:20Z. */
#define NOW 1700000000
#define DAY 86400

static uint8_t der_bytes[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

static void
cert_fill(struct store_cert *c, const char *serial, const char *cn,
          const char *sans, int64_t not_after)
{
    store_fixture_cert_fill(c, serial, cn);
    c->der = der_bytes;
    c->der_len = sizeof(der_bytes);
    c->subject = "O=Example";
    c->sans = (char *)sans;
    c->fingerprint = "00";
    c->not_before = NOW - 100 * DAY;
    c->not_after = not_after;
    c->issued_at = NOW - 100 * DAY;
}

static void
insert(struct store *st, const char *serial, const char *cn, const char *sans,
       int64_t not_after)
{
    struct store_cert c;

    cert_fill(&c, serial, cn, sans, not_after);
    assert_wd_err(store_cert_insert(st, &c, "admin"), WD_OK);
}

/* A query as the API builds it: any status, first page, generous limit. */
static struct store_query
query(void)
{
    struct store_query q;

    memset(&q, 0, sizeof(q));
    q.status = STORE_STATUS_ANY;
    q.now = NOW;
    q.limit = 100;
    return q;
}

/* One page's serials, comma-separated, so a failure shows the page. */
static const char *
page(struct store *st, const struct store_query *q, char *buf, size_t size)
{
    struct store_cert_list l = { 0 };
    size_t used = 0;
    size_t i;

    buf[0] = '\0';
    assert_wd_err(store_cert_list(st, q, &l), WD_OK);
    assert_int_equal(l.next_cursor, 0);
    for (i = 0; i < l.n; i++) {
        used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                 i > 0 ? "," : "", l.items[i].serial);
        assert_true(used < size);
    }
    store_cert_list_free(&l);
    return buf;
}

static const char *
search(struct store *st, const char *term, char *buf, size_t size)
{
    struct store_query q = query();

    q.q = term;
    return page(st, &q, buf, size);
}

static void
test_store_cert_list_returns_newest_first(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    char buf[256];

    insert(f->st, "0b", "b.example", "", NOW + DAY);
    insert(f->st, "0a", "a.example", "", NOW + DAY);
    insert(f->st, "0c", "c.example", "", NOW + DAY);
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "0c,0a,0b");
}

static void
test_store_cert_list_of_empty_store_is_one_empty_page(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    struct store_cert_list l = { 0 };

    assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.next_cursor, 0);
    store_cert_list_free(&l);
}

static void
test_store_cert_list_pages_visit_every_row_once_in_order(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    struct store_cert_list l = { 0 };
    bool seen[250] = { false };
    char serial[8];
    int64_t last_id = INT64_MAX;
    size_t pages = 0;
    size_t total = 0;
    unsigned v;
    int i;

    for (i = 0; i < 250; i++) {
        snprintf(serial, sizeof(serial), "%04x", i);
        insert(f->st, serial, "host.example", "", NOW + DAY);
    }
    do {
        assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
        pages++;
        assert_int_equal(l.n, pages < 3 ? 100 : 50);
        for (i = 0; i < (int)l.n; i++) {
            assert_true(l.items[i].id < last_id);
            last_id = l.items[i].id;
            assert_int_equal(sscanf(l.items[i].serial, "%x", &v), 1);
            assert_true(v < 250);
            assert_false(seen[v]);
            seen[v] = true;
            /* newest first: serial 249 leads, 0 closes */
            assert_int_equal(v, 249 - total);
            total++;
        }
        if (l.next_cursor != 0) {
            assert_int_equal(l.next_cursor, l.items[l.n - 1].id);
        }
        q.cursor = l.next_cursor;
        store_cert_list_free(&l);
    } while (q.cursor != 0);
    assert_int_equal(pages, 3);
    assert_int_equal(total, 250);
}

static void
test_store_cert_list_exact_page_ends_with_next_cursor_zero(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    struct store_cert_list l = { 0 };

    insert(f->st, "01", "a.example", "", NOW + DAY);
    insert(f->st, "02", "b.example", "", NOW + DAY);
    q.limit = 2;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.next_cursor, 0);
    store_cert_list_free(&l);

    q.limit = 1;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].serial, "02");
    q.cursor = l.next_cursor;
    store_cert_list_free(&l);
    assert_true(q.cursor > 0);
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].serial, "01");
    assert_int_equal(l.next_cursor, 0);
    store_cert_list_free(&l);
}

static void
test_store_cert_list_rejects_limit_outside_range(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    struct store_cert_list l = { 0 };

    q.limit = 0;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_E_BAD_QUERY);
    q.limit = WD_LIST_LIMIT_MAX + 1;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_E_BAD_QUERY);
    assert_null(l.items);
    assert_int_equal(l.n, 0);
    q.limit = WD_LIST_LIMIT_MAX;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
    store_cert_list_free(&l);
}

static void
test_store_cert_list_rejects_negative_cursor(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    struct store_cert_list l = { 0 };

    q.cursor = -1;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_E_BAD_CURSOR);
    assert_null(l.items);
}

static void
test_store_cert_list_rejects_bad_status_window_and_term(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    struct store_cert_list l = { 0 };
    char term[WD_MAX_QUERY_TERM + 2];

    q.status = (enum store_status)42;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_E_BAD_QUERY);
    q = query();
    q.expiring_within = -1;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_E_BAD_QUERY);
    q = query();
    memset(term, 'a', sizeof(term) - 1);
    term[sizeof(term) - 1] = '\0';
    q.q = term;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_E_BAD_QUERY);
}

/* One row per status at NOW, in insertion order: */
static void
insert_statuses(const struct store_fixture *f)
{
    insert(f->st, "01", "valid.example", "", NOW + 100 * DAY);
    insert(f->st, "02", "expiring.example", "", NOW + 10 * DAY);
    insert(f->st, "03", "expired.example", "", NOW - 1);
    insert(f->st, "04", "revoked.example", "", NOW + 100 * DAY);
    insert(f->st, "05", "ends-now.example", "", NOW); /* expired at NOW */
    insert(f->st, "06", "revoked-expired.example", "", NOW - DAY);
    assert_wd_err(store_cert_revoke(f->st, "04", 1, 1, "admin", NULL), WD_OK);
    assert_wd_err(store_cert_revoke(f->st, "06", 1, 1, "admin", NULL), WD_OK);
}

static void
test_store_cert_list_filters_each_status(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    char buf[256];

    insert_statuses(f);
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "06,05,04,03,02,01");
    q.status = STORE_STATUS_VALID;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "02,01");
    q.status = STORE_STATUS_EXPIRED;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "05,03");
    q.status = STORE_STATUS_REVOKED;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "06,04");
}

static void
test_store_cert_list_filters_expiring_within_window(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    char buf[256];

    insert_statuses(f);
    q.status = STORE_STATUS_EXPIRING;
    q.expiring_within = 30 * DAY;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "02");
    q.expiring_within = 10 * DAY; /* not_after == now + window is inside */
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "02");
    q.expiring_within = 10 * DAY - 1;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
    q.expiring_within = 365 * DAY;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "02,01");
    q.expiring_within = INT64_MAX; /* no overflow past the end of time */
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "02,01");
}

static void
test_store_cert_list_window_alone_filters_expiring(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    char buf[256];

    insert_statuses(f);
    q.expiring_within = 30 * DAY;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "02");
    q.status = STORE_STATUS_VALID;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "02");
}

static void
test_store_cert_list_combines_status_and_q(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    char buf[256];

    insert_statuses(f);
    q.q = "revoked";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "06,04");
    q.status = STORE_STATUS_EXPIRED;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
    q.status = STORE_STATUS_REVOKED;
    q.q = "expired";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "06");
}

/* Rows for the search tests, chosen so that a wildcard would match more. */
static void
insert_names(struct store *st)
{
    insert(st, "aa01", "Web.Example.com", "DNS:web.example.com", NOW + DAY);
    insert(st, "bb02", NULL, "DNS:api.internal.test, IP:10.1.2.3", NOW + DAY);
    insert(st, "cc03deadbeef", "db_primary", "DNS:db_primary.corp", NOW + DAY);
    insert(st, "dd04", "100% legit", "", NOW + DAY);
    insert(st, "ee05", "say \"hi\"", "DNS:quote.example", NOW + DAY);
    insert(st, "ff06", "dbxprimary", "DNS:dbxprimary.corp", NOW + DAY);
    insert(st, "ab07", "100x legit", "", NOW + DAY);
    insert(st, "0808", "back\\slash", "", NOW + DAY);
}

static void
test_store_cert_list_q_matches_cn_case_insensitively(void **state)
{
    struct store_fixture *f = *state;
    char buf[256];

    insert_names(f->st);
    assert_string_equal(search(f->st, "WEB.EXAMPLE", buf, sizeof(buf)), "aa01");
    assert_string_equal(search(f->st, "web.example.com", buf, sizeof(buf)),
                        "aa01");
    assert_string_equal(search(f->st, "LEGIT", buf, sizeof(buf)), "ab07,dd04");
}

static void
test_store_cert_list_q_matches_a_san(void **state)
{
    struct store_fixture *f = *state;
    char buf[256];

    insert_names(f->st);
    assert_string_equal(search(f->st, "internal.test", buf, sizeof(buf)),
                        "bb02");
    assert_string_equal(search(f->st, "10.1.2", buf, sizeof(buf)), "bb02");
    assert_string_equal(search(f->st, "quote", buf, sizeof(buf)), "ee05");
}

static void
test_store_cert_list_q_matches_serial_substring(void **state)
{
    struct store_fixture *f = *state;
    char buf[256];

    insert_names(f->st);
    assert_string_equal(search(f->st, "deadbe", buf, sizeof(buf)),
                        "cc03deadbeef");
    assert_string_equal(search(f->st, "DEADBEEF", buf, sizeof(buf)),
                        "cc03deadbeef");
    assert_string_equal(search(f->st, "0808", buf, sizeof(buf)), "0808");
}

static void
test_store_cert_list_q_finds_nothing_for_absent_text(void **state)
{
    struct store_fixture *f = *state;
    char buf[256];

    insert_names(f->st);
    assert_string_equal(search(f->st, "zzz", buf, sizeof(buf)), "");
    assert_string_equal(search(f->st, "zz", buf, sizeof(buf)), "");
    /* a substring of one column, not one spanning two */
    assert_string_equal(search(f->st, "primarydns", buf, sizeof(buf)), "");
}

static void
test_store_cert_list_short_q_matches_substrings(void **state)
{
    struct store_fixture *f = *state;
    char buf[256];

    insert_names(f->st);
    assert_string_equal(search(f->st, "WE", buf, sizeof(buf)), "aa01");
    assert_string_equal(search(f->st, "hi", buf, sizeof(buf)), "ee05");
    assert_string_equal(search(f->st, "\"", buf, sizeof(buf)), "ee05");
    assert_string_equal(search(f->st, "f0", buf, sizeof(buf)), "ff06");
}

static void
test_store_cert_list_q_treats_percent_and_underscore_literally(void **state)
{
    struct store_fixture *f = *state;
    char buf[256];

    insert_names(f->st);
    /* short terms go through LIKE: escaped */
    assert_string_equal(search(f->st, "%", buf, sizeof(buf)), "dd04");
    assert_string_equal(search(f->st, "0%", buf, sizeof(buf)), "dd04");
    assert_string_equal(search(f->st, "_", buf, sizeof(buf)), "cc03deadbeef");
    assert_string_equal(search(f->st, "b_", buf, sizeof(buf)), "cc03deadbeef");
    assert_string_equal(search(f->st, "\\", buf, sizeof(buf)), "0808");
    /* longer ones go through the trigram index: no wildcards at all */
    assert_string_equal(search(f->st, "b_p", buf, sizeof(buf)), "cc03deadbeef");
    assert_string_equal(search(f->st, "0% l", buf, sizeof(buf)), "dd04");
    assert_string_equal(search(f->st, "%%%", buf, sizeof(buf)), "");
    assert_string_equal(search(f->st, "k\\s", buf, sizeof(buf)), "0808");
}

static void
test_store_cert_list_q_treats_fts_syntax_literally(void **state)
{
    struct store_fixture *f = *state;
    char buf[256];

    insert_names(f->st);
    assert_string_equal(search(f->st, "say \"hi\"", buf, sizeof(buf)), "ee05");
    assert_string_equal(search(f->st, "\"hi", buf, sizeof(buf)), "ee05");
    assert_string_equal(search(f->st, "web OR api", buf, sizeof(buf)), "");
    assert_string_equal(search(f->st, "web*", buf, sizeof(buf)), "");
    assert_string_equal(search(f->st, "cn:web", buf, sizeof(buf)), "");
    assert_string_equal(search(f->st, "') OR 1=1 --", buf, sizeof(buf)), "");
}

static void
test_store_cert_list_pages_through_search_results(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    struct store_cert_list l = { 0 };
    char serial[8];
    char cn[32];
    int64_t last_id = INT64_MAX;
    size_t total = 0;
    size_t i;
    int n;

    for (n = 0; n < 100; n++) {
        snprintf(serial, sizeof(serial), "%04x", n);
        snprintf(cn, sizeof(cn), n % 3 == 0 ? "pick-%d.example" : "x-%d.test",
                 n);
        insert(f->st, serial, cn, "", NOW + DAY);
    }
    q.q = "PICK-";
    q.limit = 7;
    do {
        assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
        for (i = 0; i < l.n; i++) {
            assert_true(l.items[i].id < last_id);
            last_id = l.items[i].id;
            assert_non_null(strstr(l.items[i].cn, "pick-"));
            total++;
        }
        q.cursor = l.next_cursor;
        store_cert_list_free(&l);
    } while (q.cursor != 0);
    assert_int_equal(total, 34);
}

/*
 * Visits every page of q (paging by its sort's cursor) and checks the
 * order; returns how many rows matched, each holding "pick-" in its CN and
 * passing want_revoked (-1: either).
 */
static size_t
visit_search(struct store *st, struct store_query q, int want_revoked)
{
    struct store_cert_list l = { 0 };
    int64_t last_id = q.sort == STORE_SORT_ISSUED ? INT64_MAX : INT64_MIN;
    int64_t last_na = INT64_MIN;
    size_t total = 0;
    size_t i;

    do {
        assert_wd_err(store_cert_list(st, &q, &l), WD_OK);
        for (i = 0; i < l.n; i++) {
            const struct store_cert *c = &l.items[i];

            if (q.sort == STORE_SORT_ISSUED) {
                assert_true(c->id < last_id);
            } else {
                assert_true(c->not_after > last_na ||
                            (c->not_after == last_na && c->id > last_id));
                last_na = c->not_after;
            }
            last_id = c->id;
            assert_non_null(strstr(c->cn, "pick-"));
            if (want_revoked >= 0) {
                assert_int_equal(c->revoked_at != 0, want_revoked);
            }
            total++;
        }
        q.cursor = l.next_cursor;
        q.cursor_not_after = l.next_cursor_not_after;
        store_cert_list_free(&l);
    } while (q.cursor != 0);
    return total;
}

/* A term matching more rows than the index is first asked for (256) is
 * paged backwards through it; once the cursor leaves fewer behind, the
 * page is picked among the probed ids. Either way every match is visited
 * once, in order, with the filters applied. */
static void
test_store_cert_list_search_pages_across_probe_size(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q = query();
    char serial[8];
    char cn[32];
    int n;

    for (n = 0; n < 700; n++) {
        snprintf(serial, sizeof(serial), "%04x", n);
        snprintf(cn, sizeof(cn), n % 2 == 0 ? "pick-%d.example" : "x-%d.test",
                 n);
        /* expiries out of id order, so the two sorts differ */
        insert(f->st, serial, cn, "", NOW + DAY + (n * 7919) % 1000);
    }
    for (n = 0; n < 700; n += 10) {
        snprintf(serial, sizeof(serial), "%04x", n);
        assert_wd_err(store_cert_revoke(f->st, serial, 1, 1, "admin", NULL),
                      WD_OK);
    }
    q.q = "PICK-";
    q.limit = 7;
    assert_int_equal(visit_search(f->st, q, -1), 350);
    q.limit = 1000;
    assert_int_equal(visit_search(f->st, q, -1), 350);
    q.limit = 7;
    q.status = STORE_STATUS_REVOKED;
    assert_int_equal(visit_search(f->st, q, 1), 70);
    q.status = STORE_STATUS_VALID;
    assert_int_equal(visit_search(f->st, q, 0), 280);
    q.sort = STORE_SORT_EXPIRES;
    assert_int_equal(visit_search(f->st, q, 0), 280);
    q.status = STORE_STATUS_ANY;
    assert_int_equal(visit_search(f->st, q, -1), 350);
    q.q = "pick-69"; /* 690 to 698, even: 5 rows, all probed */
    assert_int_equal(visit_search(f->st, q, -1), 5);
    q.sort = STORE_SORT_ISSUED;
    assert_int_equal(visit_search(f->st, q, -1), 5);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_returns_newest_first,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_of_empty_store_is_one_empty_page,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_pages_visit_every_row_once_in_order,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_exact_page_ends_with_next_cursor_zero,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_rejects_limit_outside_range,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_rejects_negative_cursor,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_rejects_bad_status_window_and_term,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_filters_each_status,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_filters_expiring_within_window,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_window_alone_filters_expiring,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_combines_status_and_q,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_q_matches_cn_case_insensitively,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(test_store_cert_list_q_matches_a_san,
                                        store_fixture_setup_memory,
                                        store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_q_matches_serial_substring,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_q_finds_nothing_for_absent_text,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_short_q_matches_substrings,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_q_treats_percent_and_underscore_literally,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_q_treats_fts_syntax_literally,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_pages_through_search_results,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_list_search_pages_across_probe_size,
            store_fixture_setup_memory, store_fixture_teardown_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
