/*
 * Unit tests of the audit side of store/: store_cert_insert_audited
 * (store_cert.c), which store_cert_insert wraps, and store_audit_list
 * (store_audit.c): newest first, keyset pages that visit every event once,
 * the exact serial, actor and action filters alone and together, each read
 * through its index, and migration 3 that adds those indexes. Real SQLite
 * on the fixtures of store_fixture.c; a plain sqlite3 connection looks at
 * query plans and writes behind the store's back where a test needs it.
 * The last test pages a large file log and prints the time taken;
 * WARDEN_TEST_AUDIT_ROWS sets its size (default 10000; 1000000 to measure).
 */
#include "support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../store/store.h"
#include "store_fixture.h"

/* The clock of every test: 2023-11-14T22:13:20Z. */
#define NOW 1700000000
#define DAY 86400

static uint8_t der_bytes[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

static void
cert_fill(struct store_cert *c, const char *serial)
{
    store_fixture_cert_fill(c, serial, "host.example");
    c->der = der_bytes;
    c->der_len = sizeof(der_bytes);
    c->subject = "CN=host.example";
    c->sans = "DNS:host.example";
    c->fingerprint = "00";
    c->not_before = NOW - DAY;
    c->not_after = NOW + 90 * DAY;
    c->issued_at = NOW - DAY;
}

/* One standalone event whose detail names it ("e1", ...), at NOW. */
static void
append(struct store *st, const char *actor, const char *action,
       const char *serial, const char *detail)
{
    struct store_audit_event ev = { 0 };

    ev.at = NOW;
    ev.actor = actor;
    ev.action = action;
    ev.serial = serial;
    ev.outcome = "ok";
    ev.detail = detail;
    assert_wd_err(store_audit_append(st, &ev), WD_OK);
}

/* A query as the API builds it: no filter, first page, generous limit. */
static struct store_audit_query
query(void)
{
    struct store_audit_query q;

    memset(&q, 0, sizeof(q));
    q.limit = 100;
    return q;
}

/* One page's details, comma-separated, so a failure shows the page. */
static const char *
page(struct store *st, const struct store_audit_query *q, char *buf,
     size_t size)
{
    struct store_audit_list l = { 0 };
    size_t used = 0;
    size_t i;

    buf[0] = '\0';
    assert_wd_err(store_audit_list(st, q, &l), WD_OK);
    assert_int_equal(l.next_cursor, 0);
    for (i = 0; i < l.n; i++) {
        assert_non_null(l.items[i].detail);
        used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                 i > 0 ? "," : "", l.items[i].detail);
        assert_true(used < size);
    }
    store_audit_list_free(&l);
    return buf;
}

/*
 * The log every filter test reads, oldest first:
 *   e1 alice issue  0a     e4 bob   refuse -      e7 carol renew 0b
 *   e2 bob   issue  0b     e5 alice issue  0c
 *   e3 alice revoke 0a     e6 bob   revoke 0a
 */
static void
log_fill(struct store *st)
{
    append(st, "alice", "issue", "0a", "e1");
    append(st, "bob", "issue", "0b", "e2");
    append(st, "alice", "revoke", "0a", "e3");
    append(st, "bob", "refuse", NULL, "e4");
    append(st, "alice", "issue", "0c", "e5");
    append(st, "bob", "revoke", "0a", "e6");
    append(st, "carol", "renew", "0b", "e7");
}

/* The first column of the first row of sql, as an integer; short, as the
 * assertions read it. */
static int64_t
raw_int(sqlite3 *db, const char *sql)
{
    return store_fixture_raw_int(db, sql);
}

static void
test_store_cert_insert_audited_writes_the_chosen_action_and_detail(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };
    struct store_cert *got = NULL;
    struct store_cert c;

    cert_fill(&c, "0b0b");
    assert_wd_err(
        store_cert_insert_audited(f->st, &c, "ops-bot", "renew", "renews 0a0a"),
        WD_OK);
    assert_wd_err(store_cert_get(f->st, "0b0b", &got), WD_OK);
    assert_string_equal(got->cn, "host.example");

    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 1);
    assert_true(l.items[0].id > 0);
    assert_true(l.items[0].at > NOW);
    assert_string_equal(l.items[0].actor, "ops-bot");
    assert_string_equal(l.items[0].action, "renew");
    assert_string_equal(l.items[0].serial, "0b0b");
    assert_string_equal(l.items[0].outcome, "ok");
    assert_string_equal(l.items[0].detail, "renews 0a0a");
    store_audit_list_free(&l);
    store_cert_free(got);
}

static void
test_store_cert_insert_audited_keeps_an_absent_detail_null(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };
    struct store_cert c;

    cert_fill(&c, "0c0c");
    assert_wd_err(store_cert_insert_audited(f->st, &c, "admin", "renew", NULL),
                  WD_OK);
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].action, "renew");
    assert_null(l.items[0].detail);
    store_audit_list_free(&l);
}

static void
test_store_cert_insert_still_writes_an_issue_event(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };
    struct store_cert c;

    cert_fill(&c, "0d0d");
    assert_wd_err(store_cert_insert(f->st, &c, "CN=ops-bot"), WD_OK);
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].actor, "CN=ops-bot");
    assert_string_equal(l.items[0].action, "issue");
    assert_string_equal(l.items[0].serial, "0d0d");
    assert_string_equal(l.items[0].outcome, "ok");
    assert_null(l.items[0].detail);
    store_audit_list_free(&l);
}

static void
test_store_cert_insert_audited_stores_no_row_when_its_event_fails(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert *got = NULL;
    struct store_cert c;
    int64_t n = -1;
    sqlite3 *db;

    /* the row goes in first, then a trigger refuses the event */
    db = store_fixture_raw_open(f);
    store_fixture_raw_exec(
        db, "CREATE TRIGGER audit_test_fail BEFORE INSERT ON audit"
            " WHEN new.action = 'renew'"
            " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    cert_fill(&c, "0e0e");
    assert_wd_err(store_cert_insert_audited(f->st, &c, "admin", "renew", NULL),
                  WD_E_INTERNAL);
    assert_wd_err(store_cert_get(f->st, "0e0e", &got), WD_E_NOT_FOUND);
    assert_null(got);
    assert_wd_err(store_audit_count(f->st, NULL, &n), WD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"), 0);

    /* and the rollback left nothing locked: the same serial goes in now */
    store_fixture_raw_exec(db, "DROP TRIGGER audit_test_fail");
    sqlite3_close(db);
    assert_wd_err(store_cert_insert_audited(f->st, &c, "admin", "renew", NULL),
                  WD_OK);
    assert_wd_err(store_audit_count(f->st, "0e0e", &n), WD_OK);
    assert_int_equal(n, 1);
}

static void
test_store_cert_insert_audited_rejects_a_duplicate_serial_writing_nothing(
    void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_cert c;
    char buf[64];

    cert_fill(&c, "0f0f");
    assert_wd_err(store_cert_insert_audited(f->st, &c, "admin", "issue", "e1"),
                  WD_OK);
    assert_wd_err(
        store_cert_insert_audited(f->st, &c, "mallory", "renew", "e2"),
        WD_E_CONFLICT);
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e1");
}

static void
test_store_cert_insert_audited_refuses_bad_actor_action_or_detail(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert *got = NULL;
    struct store_cert c;
    char word[66];
    char detail[1026];
    int64_t n = -1;

    cert_fill(&c, "01");
    memset(word, 'a', 65);
    word[65] = '\0'; /* 65 characters: one too many */
    memset(detail, 'd', 1025);
    detail[1025] = '\0'; /* 1025: one too many */

    assert_wd_err(store_cert_insert_audited(f->st, &c, "admin", NULL, NULL),
                  WD_E_INTERNAL);
    assert_wd_err(store_cert_insert_audited(f->st, &c, "admin", "", NULL),
                  WD_E_INTERNAL);
    assert_wd_err(store_cert_insert_audited(f->st, &c, "admin", word, NULL),
                  WD_E_INTERNAL);
    assert_wd_err(
        store_cert_insert_audited(f->st, &c, "admin", "re\nnew", NULL),
        WD_E_INTERNAL);
    assert_wd_err(store_cert_insert_audited(f->st, &c, NULL, "renew", NULL),
                  WD_E_INTERNAL);
    assert_wd_err(store_cert_insert_audited(f->st, &c, "", "renew", NULL),
                  WD_E_INTERNAL);
    assert_wd_err(store_cert_insert_audited(f->st, &c, word, "renew", NULL),
                  WD_E_INTERNAL);
    assert_wd_err(
        store_cert_insert_audited(f->st, &c, "Zo\xc3\xab", "renew", NULL),
        WD_E_INTERNAL);
    assert_wd_err(
        store_cert_insert_audited(f->st, &c, "ad\x7fmin", "renew", NULL),
        WD_E_INTERNAL);
    assert_wd_err(
        store_cert_insert_audited(f->st, &c, "admin", "renew", detail),
        WD_E_INTERNAL);
    assert_wd_err(store_cert_insert_audited(NULL, &c, "admin", "renew", NULL),
                  WD_E_INTERNAL);
    assert_wd_err(
        store_cert_insert_audited(f->st, NULL, "admin", "renew", NULL),
        WD_E_INTERNAL);
    assert_wd_err(store_cert_get(f->st, "01", &got), WD_E_NOT_FOUND);
    assert_wd_err(store_audit_count(f->st, NULL, &n), WD_OK);
    assert_int_equal(n, 0);

    /* the bounds themselves are allowed */
    word[64] = '\0';
    detail[1024] = '\0';
    assert_wd_err(store_cert_insert_audited(f->st, &c, word, word, detail),
                  WD_OK);
    assert_wd_err(store_audit_count(f->st, "01", &n), WD_OK);
    assert_int_equal(n, 1);
}

static void
test_store_audit_list_returns_newest_first(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };
    char buf[64];

    log_fill(f->st);
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)),
                        "e7,e6,e5,e4,e3,e2,e1");

    /* each row as stored, NULL serial included */
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 7);
    assert_true(l.items[0].id > l.items[1].id);
    assert_string_equal(l.items[3].detail, "e4");
    assert_int_equal(l.items[3].at, NOW);
    assert_string_equal(l.items[3].actor, "bob");
    assert_string_equal(l.items[3].action, "refuse");
    assert_null(l.items[3].serial);
    assert_string_equal(l.items[3].outcome, "ok");
    store_audit_list_free(&l);
}

static void
test_store_audit_list_of_an_empty_log_is_one_empty_page(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };

    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.next_cursor, 0);
    store_audit_list_free(&l);
}

static void
test_store_audit_list_pages_visit_every_event_once_in_order(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };
    bool seen[250] = { false };
    char detail[16];
    int64_t last_id = INT64_MAX;
    size_t pages = 0;
    size_t total = 0;
    unsigned v;
    int i;

    for (i = 0; i < 250; i++) {
        snprintf(detail, sizeof(detail), "%d", i);
        append(f->st, "admin", "issue", NULL, detail);
    }
    do {
        assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
        pages++;
        assert_int_equal(l.n, pages < 3 ? 100 : 50);
        for (i = 0; i < (int)l.n; i++) {
            assert_true(l.items[i].id < last_id);
            last_id = l.items[i].id;
            assert_int_equal(sscanf(l.items[i].detail, "%u", &v), 1);
            assert_true(v < 250);
            assert_false(seen[v]);
            seen[v] = true;
            /* newest first: event 249 leads, 0 closes */
            assert_int_equal(v, 249 - total);
            total++;
        }
        if (l.next_cursor != 0) {
            assert_int_equal(l.next_cursor, l.items[l.n - 1].id);
        }
        q.cursor = l.next_cursor;
        store_audit_list_free(&l);
    } while (q.cursor != 0);
    assert_int_equal(pages, 3);
    assert_int_equal(total, 250);
}

static void
test_store_audit_list_exact_page_ends_with_next_cursor_zero(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };

    append(f->st, "admin", "issue", "01", "e1");
    append(f->st, "admin", "issue", "02", "e2");
    q.limit = 2;
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.next_cursor, 0);
    store_audit_list_free(&l);

    q.limit = 1;
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].detail, "e2");
    q.cursor = l.next_cursor;
    store_audit_list_free(&l);
    assert_true(q.cursor > 0);
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].detail, "e1");
    assert_int_equal(l.next_cursor, 0);
    store_audit_list_free(&l);
}

static void
test_store_audit_list_filters_by_serial(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    char buf[64];

    log_fill(f->st);
    q.serial = "0a";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e6,e3,e1");
    q.serial = "0b";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e7,e2");
    q.serial = "ff";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
}

static void
test_store_audit_list_filters_by_actor(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    char buf[64];

    log_fill(f->st);
    q.actor = "alice";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e5,e3,e1");
    q.actor = "bob";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e6,e4,e2");
    q.actor = "dave";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
}

static void
test_store_audit_list_filters_by_action(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    char buf[64];

    log_fill(f->st);
    q.action = "issue";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e5,e2,e1");
    q.action = "revoke";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e6,e3");
    q.action = "renew";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e7");
}

static void
test_store_audit_list_combines_filters_with_and(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    char buf[64];

    log_fill(f->st);
    q.serial = "0a";
    q.actor = "alice";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e3,e1");
    q.actor = NULL;
    q.action = "revoke";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e6,e3");
    q.serial = NULL;
    q.actor = "alice";
    q.action = "issue";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e5,e1");
    q.serial = "0a";
    q.actor = "bob";
    q.action = "revoke";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e6");
    q.serial = "0b";
    q.actor = "alice";
    q.action = NULL;
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
    q.serial = NULL;
    q.actor = "carol";
    q.action = "issue";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
}

static void
test_store_audit_list_matches_filters_exactly_and_literally(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    char buf[64];

    log_fill(f->st);
    q.actor = "alic";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
    q.actor = "ALICE";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
    q.actor = "%";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
    q.actor = "alice' OR '1'='1";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
    q.actor = NULL;
    q.serial = "";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
    q.serial = NULL;
    q.action = "_ssue";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "");
}

static void
test_store_audit_list_pages_through_a_filtered_log(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };
    char detail[16];
    size_t total = 0;
    size_t pages = 0;
    int i;

    /* every third event is alice's revoke: 34 of 100 */
    for (i = 0; i < 100; i++) {
        snprintf(detail, sizeof(detail), "%d", i);
        append(f->st, i % 3 == 0 ? "alice" : "bob",
               i % 3 == 0 ? "revoke" : "issue", "0a", detail);
    }
    q.actor = "alice";
    q.action = "revoke";
    q.serial = "0a";
    q.limit = 10;
    do {
        assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
        pages++;
        for (i = 0; i < (int)l.n; i++) {
            assert_string_equal(l.items[i].actor, "alice");
            assert_int_equal(atoi(l.items[i].detail), 99 - 3 * (int)total);
            total++;
        }
        q.cursor = l.next_cursor;
        store_audit_list_free(&l);
    } while (q.cursor != 0);
    assert_int_equal(pages, 4);
    assert_int_equal(total, 34);
}

static void
test_store_audit_list_rejects_limit_outside_range(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };

    q.limit = 0;
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_E_BAD_QUERY);
    q.limit = WD_LIST_LIMIT_MAX + 1;
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_E_BAD_QUERY);
    assert_null(l.items);
    assert_int_equal(l.n, 0);
    q.limit = WD_LIST_LIMIT_MAX;
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    store_audit_list_free(&l);
}

static void
test_store_audit_list_rejects_negative_cursor(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };

    q.cursor = -1;
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_E_BAD_CURSOR);
    q.cursor = INT64_MIN;
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_E_BAD_CURSOR);
    assert_null(l.items);
}

static void
test_store_audit_list_refuses_missing_arguments_as_internal(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };

    assert_wd_err(store_audit_list(NULL, &q, &l), WD_E_INTERNAL);
    assert_wd_err(store_audit_list(f->st, NULL, &l), WD_E_INTERNAL);
    assert_wd_err(store_audit_list(f->st, &q, NULL), WD_E_INTERNAL);
}

static void
test_store_audit_list_free_accepts_null_and_a_zeroed_list(void **state)
{
    struct store_audit_list empty = { 0 };

    (void)state;
    store_audit_list_free(NULL);
    store_audit_list_free(&empty);
    store_audit_list_free(&empty); /* and again: it was left zeroed */
    assert_null(empty.items);
}

static void
test_store_open_brings_a_fresh_database_to_version_8(void **state)
{
    struct store_fixture *f = *state;
    sqlite3 *db;

    assert_int_equal(store_schema_version(), 8);
    db = store_fixture_raw_open(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 8);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"
                                 " WHERE type = 'index' AND name IN"
                                 " ('audit_actor', 'audit_action',"
                                 " 'audit_actor_action')"),
                     3);
    sqlite3_close(db);
}

static void
test_store_open_migrates_a_version_2_database_through_migration_3(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_query q = query();
    struct store_cert c;
    char buf[64];
    sqlite3 *db;

    /* version 2 is today's schema without migration 3's indexes,
     * migration 4's hash chain columns, migration 5's index and
     * migration 6's tables and 7's change (STORE_FIXTURE_UNDO_5 undoes
     * them all) */
    cert_fill(&c, "0a");
    assert_wd_err(store_cert_insert_audited(f->st, &c, "alice", "issue", "e1"),
                  WD_OK);
    append(f->st, "bob", "revoke", "0a", "e2");
    store_close(f->st);
    f->st = NULL;
    db = store_fixture_raw_open(f);
    store_fixture_raw_exec(
        db, "DROP INDEX audit_actor;"
            "DROP INDEX audit_action;"
            "DROP INDEX audit_actor_action;"
            "ALTER TABLE audit DROP COLUMN hash;"
            "ALTER TABLE audit DROP COLUMN prev_hash;" STORE_FIXTURE_UNDO_5
            "PRAGMA user_version = 2");
    sqlite3_close(db);

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 8);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"
                                 " WHERE type = 'index' AND name IN"
                                 " ('audit_actor', 'audit_action',"
                                 " 'audit_actor_action')"),
                     3);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), 2);
    sqlite3_close(db);
    /* the filtered listings read the new indexes: they see the old log */
    q.actor = "alice";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e1");
    q.actor = NULL;
    q.action = "revoke";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e2");
    q.actor = "bob";
    assert_string_equal(page(f->st, &q, buf, sizeof(buf)), "e2");
}

/* The plan of sql, one ';'-terminated line per step, into buf. */
static const char *
raw_plan(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *s = NULL;
    char explain[512];
    size_t used = 0;

    buf[0] = '\0';
    snprintf(explain, sizeof(explain), "EXPLAIN QUERY PLAN %s", sql);
    assert_int_equal(sqlite3_prepare_v2(db, explain, -1, &s, NULL), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        used += (size_t)snprintf(buf + used, size - used, "%s;",
                                 (const char *)sqlite3_column_text(s, 3));
        assert_true(used < size);
    }
    sqlite3_finalize(s);
    return buf;
}

static void
test_store_audit_list_reads_each_filter_through_its_index(void **state)
{
    /* each variant's statement as store_audit.c glues it, and its plan:
     * one SEARCH in id order, never a SCAN of the log or a TEMP B-TREE */
    static const struct {
        const char *from_where;
        const char *plan;
    } variants[] = {
        { "audit WHERE id < :cursor",
          "SEARCH audit USING INTEGER PRIMARY KEY (rowid<?);" },
        { "audit INDEXED BY audit_serial WHERE id < :cursor"
          " AND serial = :serial",
          "SEARCH audit USING INDEX audit_serial (serial=? AND rowid<?);" },
        { "audit INDEXED BY audit_actor WHERE id < :cursor"
          " AND actor = :actor",
          "SEARCH audit USING INDEX audit_actor (actor=? AND id<?);" },
        { "audit INDEXED BY audit_serial WHERE id < :cursor"
          " AND serial = :serial AND actor = :actor",
          "SEARCH audit USING INDEX audit_serial (serial=? AND rowid<?);" },
        { "audit INDEXED BY audit_action WHERE id < :cursor"
          " AND action = :action",
          "SEARCH audit USING INDEX audit_action (action=? AND id<?);" },
        { "audit INDEXED BY audit_serial WHERE id < :cursor"
          " AND serial = :serial AND action = :action",
          "SEARCH audit USING INDEX audit_serial (serial=? AND rowid<?);" },
        { "audit INDEXED BY audit_actor_action WHERE id < :cursor"
          " AND actor = :actor AND action = :action",
          "SEARCH audit USING INDEX audit_actor_action"
          " (actor=? AND action=? AND id<?);" },
        { "audit INDEXED BY audit_serial WHERE id < :cursor"
          " AND serial = :serial AND actor = :actor AND action = :action",
          "SEARCH audit USING INDEX audit_serial (serial=? AND rowid<?);" },
    };
    struct store_fixture *f = *state;
    char sql[512];
    char plan[512];
    size_t i;
    sqlite3 *db;

    db = store_fixture_raw_open(f);
    for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        snprintf(sql, sizeof(sql),
                 "SELECT id, at, actor, action, serial, outcome, detail"
                 " FROM %s ORDER BY id DESC LIMIT :limit",
                 variants[i].from_where);
        assert_string_equal(raw_plan(db, sql, plan, sizeof(plan)),
                            variants[i].plan);
    }
    /* without INDEXED BY the planner takes the same index for actor and
     * action (with a serial it would take a wider one, hence the hint) */
    assert_string_equal(
        raw_plan(db,
                 "SELECT id, at, actor, action, serial, outcome, detail"
                 " FROM audit WHERE id < :cursor AND actor = :actor"
                 " AND action = :action ORDER BY id DESC LIMIT :limit",
                 plan, sizeof(plan)),
        "SEARCH audit USING INDEX audit_actor_action"
        " (actor=? AND action=? AND id<?);");
    sqlite3_close(db);
}

/* n events in one transaction of a plain connection (the store is closed,
 * so the bulk load may leave WAL and skip fsync): the busy "svc" issues
 * almost all of them, "alice" every 1000th, and every 500th is a revoke;
 * event k is about serial hex(k / 3), so a serial has three events. */
static void
bulk_load(const struct store_fixture *f, int64_t n)
{
    sqlite3_stmt *s = NULL;
    sqlite3 *db = store_fixture_raw_open(f);

    store_fixture_raw_exec(
        db, "PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;"
            " BEGIN");
    assert_int_equal(
        sqlite3_prepare_v2(
            db,
            "WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i"
            " WHERE k < ?1)"
            " INSERT INTO audit (at, actor, action, serial, outcome, detail)"
            " SELECT ?2 + k, CASE WHEN k % 1000 = 0 THEN 'alice' ELSE 'svc'"
            " END, CASE WHEN k % 500 = 0 THEN 'revoke' ELSE 'issue' END,"
            " printf('%x', k / 3), 'ok', NULL FROM i",
            -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_bind_int64(s, 1, n), SQLITE_OK);
    assert_int_equal(sqlite3_bind_int64(s, 2, NOW), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    store_fixture_raw_exec(db, "COMMIT");
    sqlite3_close(db);
}

/* Pages through q to the end; returns the events seen and the time. */
static size_t
page_all(struct store *st, struct store_audit_query q, double *seconds)
{
    struct store_audit_list l = { 0 };
    struct timespec t0;
    size_t total = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        assert_wd_err(store_audit_list(st, &q, &l), WD_OK);
        total += l.n;
        q.cursor = l.next_cursor;
        store_audit_list_free(&l);
    } while (q.cursor != 0);
    *seconds = store_fixture_seconds_since(&t0);
    return total;
}

static void
test_store_audit_list_pages_a_large_file_log_by_every_filter(void **state)
{
    struct store_fixture *f = *state;
    const char *env = getenv("WARDEN_TEST_AUDIT_ROWS");
    int64_t rows = env != NULL ? atoll(env) : 10000;
    struct store_audit_query q = query();
    struct store_audit_list l = { 0 };
    struct timespec t0;
    double load_s;
    double s;
    size_t n;

    assert_true(rows >= 3000);
    store_close(f->st);
    f->st = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bulk_load(f, rows);
    load_s = store_fixture_seconds_since(&t0);
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    print_message("audit: %lld events (load %.1f s)\n", (long long)rows,
                  load_s);

    /* the newest page, and one from the far end of the log */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 100);
    assert_int_equal(l.items[0].id, rows);
    store_audit_list_free(&l);
    q.cursor = 150;
    assert_wd_err(store_audit_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.items[0].id, 149);
    store_audit_list_free(&l);
    print_message("first and last page: %.3f ms\n",
                  store_fixture_seconds_since(&t0) * 1e3);

    q = query();
    q.actor = "alice";
    n = page_all(f->st, q, &s);
    assert_int_equal(n, rows / 1000);
    print_message("actor=alice: %zu events in %.3f ms\n", n, s * 1e3);

    q = query();
    q.action = "revoke";
    n = page_all(f->st, q, &s);
    assert_int_equal(n, rows / 500);
    print_message("action=revoke: %zu events in %.3f ms\n", n, s * 1e3);

    q = query();
    q.actor = "svc";
    q.action = "revoke";
    n = page_all(f->st, q, &s);
    assert_int_equal(n, rows / 500 - rows / 1000);
    print_message("actor=svc action=revoke: %zu events in %.3f ms\n", n,
                  s * 1e3);

    q = query();
    q.serial = "1";
    q.actor = "svc";
    q.action = "issue";
    n = page_all(f->st, q, &s);
    assert_int_equal(n, 3);
    print_message("serial=1 actor=svc action=issue: %zu events in %.3f ms\n", n,
                  s * 1e3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_audited_writes_the_chosen_action_and_detail,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_audited_keeps_an_absent_detail_null,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_still_writes_an_issue_event,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_audited_stores_no_row_when_its_event_fails,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_audited_rejects_a_duplicate_serial_writing_nothing,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_audited_refuses_bad_actor_action_or_detail,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_returns_newest_first,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_of_an_empty_log_is_one_empty_page,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_pages_visit_every_event_once_in_order,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_exact_page_ends_with_next_cursor_zero,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(test_store_audit_list_filters_by_serial,
                                        store_fixture_setup_memory,
                                        store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(test_store_audit_list_filters_by_actor,
                                        store_fixture_setup_memory,
                                        store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(test_store_audit_list_filters_by_action,
                                        store_fixture_setup_memory,
                                        store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_combines_filters_with_and,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_matches_filters_exactly_and_literally,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_pages_through_a_filtered_log,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_rejects_limit_outside_range,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_rejects_negative_cursor,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_refuses_missing_arguments_as_internal,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test(
            test_store_audit_list_free_accepts_null_and_a_zeroed_list),
        cmocka_unit_test_setup_teardown(
            test_store_open_brings_a_fresh_database_to_version_8,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_migrates_a_version_2_database_through_migration_3,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_reads_each_filter_through_its_index,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_list_pages_a_large_file_log_by_every_filter,
            store_fixture_setup_file_open, store_fixture_teardown_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
