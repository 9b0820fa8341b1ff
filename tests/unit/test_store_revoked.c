/*
 * Unit tests of revocation in store/: store_cert_revoke and
 * store_cert_state_get (store_cert.c), and the walk a CRL is built from,
 * store_revoked_foreach (store_revoked.c), with the listing's view of a
 * revoked certificate. Real SQLite on the fixtures of store_fixture.c; a
 * plain sqlite3 connection looks at audit rows, counters and query plans,
 * and writes behind the store's back where a test needs it. The last test
 * walks a large file database and prints the time taken;
 * WARDEN_TEST_WALK_ROWS sets its size (default 10000; 1000000 to measure).
 */
#include "support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../server/base/parse.h"
#include "../../store/store.h"
#include "store_fixture.h"

/* The clock of every test: 2023-11-14T22:13:20Z. */
#define NOW 1700000000
#define DAY 86400

/* RFC 5280 5.3.1 */
#define KEY_COMPROMISE 1
#define SUPERSEDED 4
#define PRIVILEGE_WITHDRAWN 9

static uint8_t der_bytes[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

static void
insert(struct store *st, const char *serial, int64_t not_after)
{
    struct store_cert c;

    store_fixture_cert_fill(&c, serial, "host.example");
    c.der = der_bytes;
    c.der_len = sizeof(der_bytes);
    c.subject = "CN=host.example";
    c.sans = "DNS:host.example";
    c.fingerprint = "00";
    c.not_before = NOW - DAY;
    c.not_after = not_after;
    c.issued_at = NOW - DAY;
    assert_wd_err(store_cert_insert(st, &c, "admin"), WD_OK);
}

static void
revoke(struct store *st, const char *serial, int reason, int64_t at)
{
    assert_wd_err(store_cert_revoke(st, serial, reason, at, "admin", NULL),
                  WD_OK);
}

static int64_t
counter(struct store *st, const char *name)
{
    int64_t v = -1;

    assert_wd_err(store_counter_get(st, name, &v), WD_OK);
    return v;
}

static int64_t
audit_count(struct store *st, const char *serial)
{
    int64_t n = -1;

    assert_wd_err(store_audit_count(st, serial, &n), WD_OK);
    return n;
}

/* The first row of sql, its columns joined by '|', into buf. */
static const char *
raw_row(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *s = NULL;
    size_t used = 0;
    int i;

    buf[0] = '\0';
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    for (i = 0; i < sqlite3_column_count(s); i++) {
        used +=
            (size_t)snprintf(buf + used, size - used, "%s%s", i > 0 ? "|" : "",
                             (const char *)sqlite3_column_text(s, i));
        assert_true(used < size);
    }
    sqlite3_finalize(s);
    return buf;
}

/* What a walk saw: serials joined by ',', or each row in full. */
struct seen {
    char text[512];
    size_t used;
    size_t calls;
    size_t stop_at; /* 0 = never; else fail on this call with err */
    enum wd_err err;
    bool full;
    sqlite3 *writer; /* if set, revokes "0b" behind the walk's back */
};

static enum wd_err
collect(void *ctx, const char *serial, int64_t revoked_at, int reason,
        int64_t not_after)
{
    struct seen *w = ctx;
    const char *sep = w->calls > 0 ? "," : "";

    w->calls++;
    if (w->stop_at != 0 && w->calls == w->stop_at) {
        return w->err;
    }
    if (w->writer != NULL && w->calls == 1) {
        store_fixture_raw_exec(w->writer,
                               "UPDATE certificates SET revoked_at = 1,"
                               " revoke_reason = 1 WHERE serial = '0b'");
    }
    if (w->full) {
        w->used += (size_t)snprintf(
            w->text + w->used, sizeof(w->text) - w->used, "%s%s@%lld/%d/%lld",
            sep, serial, (long long)revoked_at, reason, (long long)not_after);
    } else {
        w->used += (size_t)snprintf(
            w->text + w->used, sizeof(w->text) - w->used, "%s%s", sep, serial);
    }
    assert_true(w->used < sizeof(w->text));
    return WD_OK;
}

/* The serials a walk from keep_after yields, joined by ','. */
static const char *
walk(struct store *st, int64_t keep_after, struct seen *w)
{
    assert_wd_err(store_revoked_foreach(st, keep_after, collect, w), WD_OK);
    return w->text;
}

static void
test_store_cert_revoke_sets_fields_audits_and_counts(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert *got = NULL;
    struct store_cert *again = NULL;
    char row[256];
    sqlite3 *db;

    insert(f->st, "0a0a", NOW + 90 * DAY);
    insert(f->st, "0b0b", NOW + 90 * DAY);
    assert_wd_err(store_cert_revoke(f->st, "0a0a", KEY_COMPROMISE, NOW + 60,
                                    "CN=ops-bot", &got),
                  WD_OK);
    assert_non_null(got);
    assert_string_equal(got->serial, "0a0a");
    assert_int_equal(got->revoked_at, NOW + 60);
    assert_int_equal(got->revoke_reason, KEY_COMPROMISE);
    assert_int_equal(got->not_after, NOW + 90 * DAY);
    assert_int_equal(got->der_len, sizeof(der_bytes));
    assert_memory_equal(got->der, der_bytes, sizeof(der_bytes));
    assert_wd_err(store_cert_get(f->st, "0a0a", &again), WD_OK);
    assert_int_equal(again->revoked_at, NOW + 60);
    assert_int_equal(again->revoke_reason, KEY_COMPROMISE);

    assert_int_equal(audit_count(f->st, "0a0a"), 2); /* issue, revoke */
    assert_int_equal(counter(f->st, STORE_COUNTER_REVOCATIONS), 1);
    db = store_fixture_raw_open(f);
    assert_string_equal(raw_row(db,
                                "SELECT actor, serial, outcome, detail"
                                " FROM audit WHERE action = 'revoke'",
                                row, sizeof(row)),
                        "CN=ops-bot|0a0a|ok|keyCompromise");
    /* the event is dated by the store's clock, as every audit event */
    assert_string_equal(raw_row(db,
                                "SELECT at >= (SELECT at FROM audit"
                                " WHERE action = 'issue' AND serial = '0a0a')"
                                " FROM audit WHERE action = 'revoke'",
                                row, sizeof(row)),
                        "1");
    assert_string_equal(raw_row(db,
                                "SELECT value FROM meta"
                                " WHERE key = 'revocations'",
                                row, sizeof(row)),
                        "1");
    sqlite3_close(db);

    revoke(f->st, "0b0b", PRIVILEGE_WITHDRAWN, NOW + 120);
    assert_int_equal(counter(f->st, STORE_COUNTER_REVOCATIONS), 2);
    store_cert_free(got);
    store_cert_free(again);
}

static void
test_store_cert_revoke_twice_is_already_revoked_with_one_event(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert *got = NULL;

    insert(f->st, "0c", NOW + DAY);
    revoke(f->st, "0c", SUPERSEDED, NOW + 10);
    assert_wd_err(store_cert_revoke(f->st, "0c", KEY_COMPROMISE, NOW + 20,
                                    "mallory", &got),
                  WD_E_ALREADY_REVOKED);
    assert_null(got);

    assert_wd_err(store_cert_get(f->st, "0c", &got), WD_OK);
    assert_int_equal(got->revoked_at, NOW + 10); /* the first one stands */
    assert_int_equal(got->revoke_reason, SUPERSEDED);
    assert_int_equal(audit_count(f->st, "0c"), 2); /* issue, one revoke */
    assert_int_equal(counter(f->st, STORE_COUNTER_REVOCATIONS), 1);
    store_cert_free(got);
}

static void
test_store_cert_revoke_of_unknown_serial_is_not_found_and_writes_nothing(
    void **state)
{
    struct store_fixture *f = *state;
    struct store_cert *got = NULL;

    insert(f->st, "0d", NOW + DAY);
    assert_wd_err(
        store_cert_revoke(f->st, "0e", KEY_COMPROMISE, NOW, "admin", &got),
        WD_E_NOT_FOUND);
    assert_null(got);
    assert_int_equal(audit_count(f->st, NULL), 1); /* the issue only */
    assert_int_equal(counter(f->st, STORE_COUNTER_REVOCATIONS), 0);
    assert_wd_err(store_cert_get(f->st, "0d", &got), WD_OK);
    assert_int_equal(got->revoked_at, 0);
    store_cert_free(got);
}

static void
test_store_cert_revoke_rejects_a_malformed_serial(void **state)
{
    struct store_fixture *f = *state;
    const char *const bad[] = {
        "",
        "0G",
        "0A0A",
        " 0a",
        "0a'; DELETE FROM certificates; --",
        "00000000000000000000000000000000000000001", /* 41 digits */
    };
    struct store_cert *got = NULL;
    size_t i;

    insert(f->st, "0a", NOW + DAY);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_wd_err(store_cert_revoke(f->st, bad[i], KEY_COMPROMISE, NOW,
                                        "admin", &got),
                      WD_E_BAD_SERIAL);
        assert_null(got);
    }
    assert_int_equal(audit_count(f->st, NULL), 1);
    assert_int_equal(counter(f->st, STORE_COUNTER_REVOCATIONS), 0);
}

static void
test_store_cert_revoke_refuses_caller_bugs_as_internal(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert *got = NULL;

    insert(f->st, "0a", NOW + DAY);
    assert_wd_err(
        store_cert_revoke(f->st, "0a", KEY_COMPROMISE, 0, "admin", &got),
        WD_E_INTERNAL);
    assert_wd_err(
        store_cert_revoke(f->st, "0a", KEY_COMPROMISE, -1, "admin", &got),
        WD_E_INTERNAL);
    assert_wd_err(store_cert_revoke(f->st, "0a", -1, NOW, "admin", &got),
                  WD_E_INTERNAL);
    assert_wd_err(store_cert_revoke(f->st, "0a", 7, NOW, "admin", &got),
                  WD_E_INTERNAL); /* RFC 5280 5.3.1: 7 is not used */
    assert_wd_err(store_cert_revoke(f->st, "0a", 11, NOW, "admin", &got),
                  WD_E_INTERNAL);
    assert_wd_err(
        store_cert_revoke(f->st, "0a", KEY_COMPROMISE, NOW, NULL, &got),
        WD_E_INTERNAL);
    assert_wd_err(
        store_cert_revoke(f->st, NULL, KEY_COMPROMISE, NOW, "admin", &got),
        WD_E_INTERNAL);
    assert_wd_err(
        store_cert_revoke(NULL, "0a", KEY_COMPROMISE, NOW, "admin", &got),
        WD_E_INTERNAL);
    assert_null(got);
    assert_int_equal(audit_count(f->st, NULL), 1);

    /* the bounds themselves are reasons */
    revoke(f->st, "0a", 10, NOW); /* aACompromise */
    insert(f->st, "0b", NOW + DAY);
    revoke(f->st, "0b", 0, 1); /* unspecified, at the first second */
}

static void
test_store_cert_revoke_moves_cert_from_valid_to_revoked_listing(void **state)
{
    struct store_fixture *f = *state;
    struct store_query q;
    struct store_cert_list l = { 0 };

    insert(f->st, "01", NOW + DAY);
    insert(f->st, "02", NOW + DAY);
    insert(f->st, "03", NOW + DAY);
    revoke(f->st, "02", KEY_COMPROMISE, NOW);

    memset(&q, 0, sizeof(q));
    q.now = NOW;
    q.limit = 10;
    q.status = STORE_STATUS_REVOKED;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].serial, "02");
    assert_int_equal(l.items[0].revoked_at, NOW);
    store_cert_list_free(&l);

    q.status = STORE_STATUS_VALID;
    assert_wd_err(store_cert_list(f->st, &q, &l), WD_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].serial, "03");
    assert_string_equal(l.items[1].serial, "01");
    store_cert_list_free(&l);
}

static void
test_store_cert_state_get_reports_a_valid_certificate(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert_state cs;

    insert(f->st, "0a", NOW + DAY);
    memset(&cs, 0xa5, sizeof(cs));
    assert_wd_err(store_cert_state_get(f->st, "0a", &cs), WD_OK);
    assert_true(cs.found);
    assert_int_equal(cs.not_after, NOW + DAY);
    assert_int_equal(cs.revoked_at, 0);
    assert_int_equal(cs.revoke_reason, 0);
}

static void
test_store_cert_state_get_reports_unknown_serial_as_not_found(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert_state cs;

    insert(f->st, "0a", NOW + DAY);
    memset(&cs, 0xa5, sizeof(cs));
    assert_wd_err(store_cert_state_get(f->st, "0b", &cs), WD_OK);
    assert_false(cs.found);
    assert_int_equal(cs.not_after, 0);
    assert_int_equal(cs.revoked_at, 0);
    /* malformed serials are never stored: unknown, not an error */
    assert_wd_err(store_cert_state_get(f->st, "0A", &cs), WD_OK);
    assert_false(cs.found);
    assert_wd_err(store_cert_state_get(f->st, "", &cs), WD_OK);
    assert_false(cs.found);
    assert_wd_err(store_cert_state_get(f->st, NULL, &cs), WD_E_INTERNAL);
    assert_wd_err(store_cert_state_get(f->st, "0a", NULL), WD_E_INTERNAL);
}

static void
test_store_cert_state_get_reports_a_revocation(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert_state cs;

    insert(f->st, "0a", NOW + DAY);
    revoke(f->st, "0a", PRIVILEGE_WITHDRAWN, NOW + 5);
    assert_wd_err(store_cert_state_get(f->st, "0a", &cs), WD_OK);
    assert_true(cs.found);
    assert_int_equal(cs.not_after, NOW + DAY);
    assert_int_equal(cs.revoked_at, NOW + 5);
    assert_int_equal(cs.revoke_reason, PRIVILEGE_WITHDRAWN);
}

static void
test_store_revoked_foreach_yields_revoked_rows_in_serial_order(void **state)
{
    struct store_fixture *f = *state;
    struct seen w = { .full = true };

    insert(f->st, "0c", NOW + 3 * DAY);
    insert(f->st, "03", NOW + DAY);
    insert(f->st, "0a", NOW + 2 * DAY);
    insert(f->st, "ff", NOW + 4 * DAY);
    insert(f->st, "01", NOW + 5 * DAY);
    insert(f->st, "0b", NOW + 6 * DAY);
    revoke(f->st, "0c", KEY_COMPROMISE, NOW + 1);
    revoke(f->st, "ff", SUPERSEDED, NOW + 2);
    revoke(f->st, "01", PRIVILEGE_WITHDRAWN, NOW + 3);
    revoke(f->st, "0a", 0, NOW + 4);
    assert_string_equal(walk(f->st, 0, &w), "01@1700000003/9/1700432000,"
                                            "0a@1700000004/0/1700172800,"
                                            "0c@1700000001/1/1700259200,"
                                            "ff@1700000002/4/1700345600");
}

static void
test_store_revoked_foreach_of_no_revocations_calls_nothing(void **state)
{
    struct store_fixture *f = *state;
    struct seen w = { 0 };

    assert_string_equal(walk(f->st, 0, &w), "");
    insert(f->st, "01", NOW + DAY);
    assert_string_equal(walk(f->st, 0, &w), "");
    assert_int_equal(w.calls, 0);
}

static void
test_store_revoked_foreach_keeps_only_rows_ending_at_or_after_keep_after(
    void **state)
{
    struct store_fixture *f = *state;
    struct seen w = { 0 };

    insert(f->st, "01", NOW - DAY);
    insert(f->st, "02", NOW);
    insert(f->st, "03", NOW + 1);
    insert(f->st, "04", NOW + DAY);
    insert(f->st, "05", NOW + DAY); /* not revoked */
    revoke(f->st, "01", 0, NOW - 2 * DAY);
    revoke(f->st, "02", 0, NOW - 2 * DAY);
    revoke(f->st, "03", 0, NOW - 2 * DAY);
    revoke(f->st, "04", 0, NOW - 2 * DAY);
    assert_string_equal(walk(f->st, 0, &w), "01,02,03,04");
    memset(&w, 0, sizeof(w));
    assert_string_equal(walk(f->st, NOW, &w), "02,03,04");
    memset(&w, 0, sizeof(w));
    assert_string_equal(walk(f->st, NOW + 1, &w), "03,04");
    memset(&w, 0, sizeof(w));
    assert_string_equal(walk(f->st, NOW + DAY + 1, &w), "");
}

static void
test_store_revoked_foreach_stops_on_callback_error_and_returns_it(void **state)
{
    struct store_fixture *f = *state;
    struct seen w = { .stop_at = 2, .err = WD_E_IO };

    insert(f->st, "01", NOW + DAY);
    insert(f->st, "02", NOW + DAY);
    insert(f->st, "03", NOW + DAY);
    revoke(f->st, "01", 0, NOW);
    revoke(f->st, "02", 0, NOW);
    revoke(f->st, "03", 0, NOW);
    assert_wd_err(store_revoked_foreach(f->st, 0, collect, &w), WD_E_IO);
    assert_int_equal(w.calls, 2);
    assert_string_equal(w.text, "01");

    /* the one connection came back usable: no snapshot or statement left */
    insert(f->st, "04", NOW + DAY);
    revoke(f->st, "04", 0, NOW);
    memset(&w, 0, sizeof(w));
    assert_string_equal(walk(f->st, 0, &w), "01,02,03,04");
}

static void
test_store_revoked_foreach_reads_one_snapshot(void **state)
{
    struct store_fixture *f = *state;
    struct seen w = { 0 };

    insert(f->st, "0a", NOW + DAY);
    insert(f->st, "0b", NOW + DAY);
    insert(f->st, "0c", NOW + DAY);
    revoke(f->st, "0a", 0, NOW);
    revoke(f->st, "0c", 0, NOW);
    w.writer = store_fixture_raw_open(f);
    /* "0b" is revoked (and committed) during the first call: WAL lets the
     * writer through, and the walk still sees the world it started in */
    assert_string_equal(walk(f->st, 0, &w), "0a,0c");
    sqlite3_close(w.writer);
    memset(&w, 0, sizeof(w));
    assert_string_equal(walk(f->st, 0, &w), "0a,0b,0c");
}

static void
test_store_revoked_foreach_refuses_a_missing_callback(void **state)
{
    struct store_fixture *f = *state;

    assert_wd_err(store_revoked_foreach(f->st, 0, NULL, NULL), WD_E_INTERNAL);
    assert_wd_err(store_revoked_foreach(NULL, 0, collect, NULL), WD_E_INTERNAL);
}

static void
test_store_revoked_walk_reads_only_its_covering_index(void **state)
{
    struct store_fixture *f = *state;
    sqlite3_stmt *s = NULL;
    char plan[512] = "";
    size_t used = 0;
    sqlite3 *db;

    /* the walk's query without its INDEXED BY: the planner's own choice */
    db = store_fixture_raw_open(f);
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "EXPLAIN QUERY PLAN"
                           " SELECT serial, revoked_at, revoke_reason,"
                           " not_after FROM certificates"
                           " WHERE revoked_at IS NOT NULL AND not_after >= 0"
                           " ORDER BY serial",
                           -1, &s, NULL),
        SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        used += (size_t)snprintf(plan + used, sizeof(plan) - used, "%s;",
                                 (const char *)sqlite3_column_text(s, 3));
        assert_true(used < sizeof(plan));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    assert_string_equal(
        plan, "SCAN certificates USING COVERING INDEX "
              "certificates_revoked_serial;"); /* no table, no TEMP B-TREE */
}

/* Counts rows and checks their order, keeping a few serials to look up. */
struct big_walk {
    size_t n;
    bool ordered;
    char last[WD_MAX_SERIAL_HEX + 1];
    char (*keep)[WD_MAX_SERIAL_HEX + 1];
    size_t n_keep;
    size_t max_keep;
};

static enum wd_err
count_row(void *ctx, const char *serial, int64_t revoked_at, int reason,
          int64_t not_after)
{
    size_t *n = ctx;

    (void)serial;
    (void)revoked_at;
    (void)reason;
    (void)not_after;
    (*n)++;
    return WD_OK;
}

static enum wd_err
check_row(void *ctx, const char *serial, int64_t revoked_at, int reason,
          int64_t not_after)
{
    struct big_walk *b = ctx;

    (void)not_after;
    if (b->n > 0 && strcmp(b->last, serial) >= 0) {
        b->ordered = false;
    }
    if (!wd_serial_is_valid(serial, strlen(serial)) || revoked_at != NOW ||
        reason != KEY_COMPROMISE) {
        b->ordered = false;
    }
    snprintf(b->last, sizeof(b->last), "%s", serial);
    if (b->n_keep < b->max_keep && b->n % 97 == 0) {
        memcpy(b->keep[b->n_keep++], b->last, sizeof(b->last));
    }
    b->n++;
    return WD_OK;
}

/* n revoked rows with random 128-bit serials and 800 bytes of "DER", then
 * n / 10 live ones, in one transaction of a plain connection (the store is
 * closed, so the bulk load may leave WAL and skip fsync). */
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
            " WHERE k < ?1 + ?1 / 10)"
            " INSERT INTO certificates (serial, der, subject, cn, sans,"
            " key_type, profile, requester, fingerprint, not_before,"
            " not_after, issued_at, revoked_at, revoke_reason)"
            " SELECT lower(hex(randomblob(16))), randomblob(800),"
            " 'CN=h' || k, 'h' || k || '.example',"
            " 'DNS:h' || k || '.example', 'ecdsa-p256', 'server', 'admin',"
            " lower(hex(randomblob(32))), ?2 - 86400, ?2 + k, ?2 - 86400,"
            " CASE WHEN k > ?1 THEN NULL ELSE ?2 END,"
            " CASE WHEN k > ?1 THEN NULL ELSE 1 END FROM i",
            -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_bind_int64(s, 1, n), SQLITE_OK);
    assert_int_equal(sqlite3_bind_int64(s, 2, NOW), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    store_fixture_raw_exec(db, "COMMIT");
    sqlite3_close(db);
}

static void
test_store_revoked_foreach_walks_a_large_file_db_in_order(void **state)
{
    struct store_fixture *f = *state;
    const char *env = getenv("WARDEN_TEST_WALK_ROWS");
    int64_t rows = env != NULL ? atoll(env) : 10000;
    struct big_walk b = { .ordered = true, .max_keep = 1000 };
    struct store_cert_state cs;
    struct timespec t0;
    size_t counted = 0;
    double walk_s;
    double load_s;
    size_t i;

    assert_true(rows > 0);
    store_close(f->st);
    f->st = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bulk_load(f, rows);
    load_s = store_fixture_seconds_since(&t0);
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    b.keep = calloc(b.max_keep, sizeof(*b.keep));
    assert_non_null(b.keep);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_wd_err(store_revoked_foreach(f->st, 0, count_row, &counted), WD_OK);
    walk_s = store_fixture_seconds_since(&t0);
    assert_wd_err(store_revoked_foreach(f->st, 0, check_row, &b), WD_OK);
    assert_true(b.ordered);
    assert_int_equal(counted, b.n);
    assert_int_equal((int64_t)b.n, rows);
    print_message("walk: %zu revoked of %lld rows in %.3f s (load %.1f s)\n",
                  counted, (long long)(rows + rows / 10), walk_s, load_s);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < b.n_keep; i++) {
        assert_wd_err(store_cert_state_get(f->st, b.keep[i], &cs), WD_OK);
        assert_true(cs.found);
        assert_int_equal(cs.revoked_at, NOW);
    }
    print_message("state_get: %zu lookups in %.3f ms\n", b.n_keep,
                  store_fixture_seconds_since(&t0) * 1e3);
    free(b.keep);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store_cert_revoke_sets_fields_audits_and_counts,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_revoke_twice_is_already_revoked_with_one_event,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_revoke_of_unknown_serial_is_not_found_and_writes_nothing,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_revoke_rejects_a_malformed_serial,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_revoke_refuses_caller_bugs_as_internal,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_revoke_moves_cert_from_valid_to_revoked_listing,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_state_get_reports_a_valid_certificate,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_state_get_reports_unknown_serial_as_not_found,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_state_get_reports_a_revocation,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_revoked_foreach_yields_revoked_rows_in_serial_order,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_revoked_foreach_of_no_revocations_calls_nothing,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_revoked_foreach_keeps_only_rows_ending_at_or_after_keep_after,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_revoked_foreach_stops_on_callback_error_and_returns_it,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_revoked_foreach_reads_one_snapshot,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_revoked_foreach_refuses_a_missing_callback,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_revoked_walk_reads_only_its_covering_index,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_revoked_foreach_walks_a_large_file_db_in_order,
            store_fixture_setup_file_open, store_fixture_teardown_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
