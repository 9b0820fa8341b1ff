/*
 * Unit tests of the audit log's hash chain (store/store_audit.c, migration
 * 4 in store/store_migrate.c): every event written by certificate inserts,
 * revocations and standalone appends links to the one before it, the hash
 * is the documented encoding, store_audit_verify finds an intact log
 * intact and names the first event an attacker with the file edited,
 * deleted or re-hashed (dropping the append-only trigger first, as one
 * would), concurrent writers never fork the chain, and migration 4 chains
 * the events written before it. Real SQLite on a temporary file
 * (store_fixture.c); a plain sqlite3 connection plays the attacker.
 */
#include "support.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../../server/base/parse.h"
#include "../../server/base/sha256.h"
#include "../../store/store.h"
#include "store_fixture.h"

/* The clock of every test: 2023-11-14T22:13:20Z. */
#define NOW 1700000000
#define DAY 86400

static const char zeros[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

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

static void
append(struct store *st, const char *actor, const char *detail)
{
    struct store_audit_event ev = { 0 };

    ev.at = NOW;
    ev.actor = actor;
    ev.action = "refuse";
    ev.outcome = "name_not_allowed";
    ev.detail = detail;
    assert_wd_err(store_audit_append(st, &ev), WD_OK);
}

/* Five events: issue 0a, issue 0b, revoke 0a, two refusals (ids 1-5). */
static void
five_events(struct store *st)
{
    struct store_cert c;

    cert_fill(&c, "0a");
    assert_wd_err(store_cert_insert(st, &c, "alice"), WD_OK);
    cert_fill(&c, "0b");
    assert_wd_err(store_cert_insert_audited(st, &c, "bob", "renew", "old 0a"),
                  WD_OK);
    assert_wd_err(store_cert_revoke(st, "0a", 1, NOW, "alice", NULL), WD_OK);
    append(st, "mallory", "asked for *.example");
    append(st, "mallory", NULL);
}

/* store_audit_verify's answer as "bad checked". */
static const char *
verify(struct store *st, char *buf, size_t size)
{
    int64_t bad = -1;
    int64_t checked = -1;

    assert_wd_err(store_audit_verify(st, &bad, &checked), WD_OK);
    snprintf(buf, size, "%lld %lld", (long long)bad, (long long)checked);
    return buf;
}

/* The first column of the first row of sql as text into buf ("NULL"). */
static const char *
raw_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *s = NULL;
    const unsigned char *t;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    t = sqlite3_column_text(s, 0);
    snprintf(buf, size, "%s", t != NULL ? (const char *)t : "NULL");
    sqlite3_finalize(s);
    return buf;
}

/* The attacker: a plain connection with the append-only trigger gone. */
static sqlite3 *
attacker_open(const struct store_fixture *f)
{
    sqlite3 *db = store_fixture_raw_open(f);

    store_fixture_raw_exec(db, "DROP TRIGGER IF EXISTS audit_no_update;"
                               "DROP TRIGGER IF EXISTS audit_no_delete;");
    return db;
}

/* The encoding README.md documents, written out again independently: a
 * type byte, an 8-byte big-endian length, the bytes. */
static void
put(struct wd_sha256 *ctx, char type, const void *p, uint64_t n)
{
    uint8_t head[9] = { (uint8_t)type };
    int i;

    for (i = 0; i < 8; i++) {
        head[1 + i] = (uint8_t)(n >> (56 - 8 * i));
    }
    wd_sha256_update(ctx, head, sizeof(head));
    wd_sha256_update(ctx, p, (size_t)n);
}

static void
put_i64(struct wd_sha256 *ctx, int64_t v)
{
    uint8_t b[8];
    int i;

    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    }
    put(ctx, 'i', b, 8);
}

static void
put_text(struct wd_sha256 *ctx, const char *s)
{
    if (s == NULL) {
        put(ctx, 'n', NULL, 0);
    } else {
        put(ctx, 's', s, strlen(s));
    }
}

/* The hash an event with these fields must carry, as hex into out. */
static void
expected_hash(int64_t id, int64_t at, const char *const text[6],
              char out[WD_SHA256_HEX_LEN + 1])
{
    struct wd_sha256 ctx;
    uint8_t d[WD_SHA256_LEN];
    int i;

    wd_sha256_init(&ctx);
    put_text(&ctx, "warden-audit-v1");
    put_i64(&ctx, id);
    put_i64(&ctx, at);
    for (i = 0; i < 6; i++) {
        put_text(&ctx, text[i]);
    }
    wd_sha256_final(&ctx, d);
    wd_hex_encode(d, sizeof(d), out);
}

static void
test_store_audit_verify_finds_an_empty_log_intact(void **state)
{
    struct store_fixture *f = *state;
    char buf[64];

    assert_string_equal(verify(f->st, buf, sizeof(buf)), "0 0");
}

static void
test_store_audit_chain_links_inserts_revokes_and_appends(void **state)
{
    struct store_fixture *f = *state;
    char buf[128];
    sqlite3 *db;

    five_events(f->st);
    assert_string_equal(verify(f->st, buf, sizeof(buf)), "0 5");
    db = store_fixture_raw_open(f);
    assert_string_equal(raw_text(db, "SELECT prev_hash FROM audit WHERE id = 1",
                                 buf, sizeof(buf)),
                        zeros);
    assert_int_equal(store_fixture_raw_int(
                         db, "SELECT count(*) FROM audit a JOIN audit b"
                             " ON b.id = a.id + 1 WHERE b.prev_hash = a.hash"),
                     4);
    assert_int_equal(
        store_fixture_raw_int(db, "SELECT count(DISTINCT hash) FROM audit"
                                  " WHERE length(hash) = 64"
                                  " AND hash NOT GLOB '*[^0-9a-f]*'"),
        5);
    sqlite3_close(db);
}

static void
test_store_audit_hash_is_the_documented_encoding(void **state)
{
    struct store_fixture *f = *state;
    const char *first[6] = { "alice", "issue", "0a", "ok", NULL, zeros };
    char want[WD_SHA256_HEX_LEN + 1];
    char prev[WD_SHA256_HEX_LEN + 1];
    char got[128];
    int64_t at;
    sqlite3 *db;

    five_events(f->st);
    db = store_fixture_raw_open(f);
    at = store_fixture_raw_int(db, "SELECT at FROM audit WHERE id = 1");
    expected_hash(1, at, first, want);
    assert_string_equal(
        raw_text(db, "SELECT hash FROM audit WHERE id = 1", got, sizeof(got)),
        want);
    /* the second links to the first and covers its detail */
    memcpy(prev, want, sizeof(prev));
    {
        const char *second[6] = { "bob", "renew", "0b", "ok", "old 0a", prev };

        at = store_fixture_raw_int(db, "SELECT at FROM audit WHERE id = 2");
        expected_hash(2, at, second, want);
    }
    assert_string_equal(
        raw_text(db, "SELECT hash FROM audit WHERE id = 2", got, sizeof(got)),
        want);
    sqlite3_close(db);
}

static void
test_store_audit_verify_names_the_event_whose_field_was_edited(void **state)
{
    struct store_fixture *f = *state;
    /* each edit, and the statement that puts the row back as it was */
    static const char *const edits[][2] = {
        { "UPDATE audit SET detail = 'nothing to see' WHERE id = 4",
          "UPDATE audit SET detail = 'asked for *.example' WHERE id = 4" },
        { "UPDATE audit SET actor = 'carol' WHERE id = 4",
          "UPDATE audit SET actor = 'mallory' WHERE id = 4" },
        { "UPDATE audit SET outcome = 'ok' WHERE id = 4",
          "UPDATE audit SET outcome = 'name_not_allowed' WHERE id = 4" },
        { "UPDATE audit SET detail = 'x' WHERE id = 5",
          "UPDATE audit SET detail = NULL WHERE id = 5" },
        { "UPDATE audit SET serial = '0b' WHERE id = 3",
          "UPDATE audit SET serial = '0a' WHERE id = 3" },
        { "UPDATE audit SET at = at + 1 WHERE id = 1",
          "UPDATE audit SET at = at - 1 WHERE id = 1" },
        /* a NUL hidden in the text changes what the row holds */
        { "UPDATE audit SET actor = CAST(x'616c69636500' AS TEXT)"
          " WHERE id = 1",
          "UPDATE audit SET actor = 'alice' WHERE id = 1" },
        { "UPDATE audit SET hash = NULL WHERE id = 2",
          "UPDATE audit SET hash = (SELECT prev_hash FROM audit"
          " WHERE id = 3) WHERE id = 2" },
    };
    static const char *const want[] = { "4 3", "4 3", "4 3", "5 4",
                                        "3 2", "1 0", "1 0", "2 1" };
    char buf[64];
    size_t i;
    sqlite3 *db;

    five_events(f->st);
    db = attacker_open(f);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        store_fixture_raw_exec(db, edits[i][0]);
        assert_string_equal(verify(f->st, buf, sizeof(buf)), want[i]);
        store_fixture_raw_exec(db, edits[i][1]);
        assert_string_equal(verify(f->st, buf, sizeof(buf)), "0 5");
    }
    sqlite3_close(db);
}

static void
test_store_audit_verify_names_a_deleted_middle_event(void **state)
{
    struct store_fixture *f = *state;
    char buf[64];
    sqlite3 *db;

    five_events(f->st);
    db = attacker_open(f);
    store_fixture_raw_exec(db, "DELETE FROM audit WHERE id = 3");
    sqlite3_close(db);
    assert_string_equal(verify(f->st, buf, sizeof(buf)), "3 2");
}

static void
test_store_audit_verify_names_a_deleted_first_or_last_event(void **state)
{
    struct store_fixture *f = *state;
    char buf[64];
    sqlite3 *db;

    five_events(f->st);
    db = attacker_open(f);
    store_fixture_raw_exec(db, "DELETE FROM audit WHERE id = 5");
    assert_string_equal(verify(f->st, buf, sizeof(buf)), "5 4");
    /* an event appended after the deletion leaves the gap in place */
    append(f->st, "alice", "after");
    assert_string_equal(verify(f->st, buf, sizeof(buf)), "5 4");
    store_fixture_raw_exec(db, "DELETE FROM audit WHERE id = 1");
    assert_string_equal(verify(f->st, buf, sizeof(buf)), "1 0");
    sqlite3_close(db);
}

static void
test_store_audit_verify_names_the_successor_of_a_rehashed_event(void **state)
{
    struct store_fixture *f = *state;
    char prev[WD_SHA256_HEX_LEN + 1];
    char hash[WD_SHA256_HEX_LEN + 1];
    char sql[256];
    int64_t at;
    sqlite3 *db;

    five_events(f->st);
    db = attacker_open(f);
    raw_text(db, "SELECT prev_hash FROM audit WHERE id = 4", prev,
             sizeof(prev));
    at = store_fixture_raw_int(db, "SELECT at FROM audit WHERE id = 4");
    {
        /* a forger who knows the encoding makes row 4 consistent again */
        const char *text[6] = { "mallory", "refuse", NULL, "ok", NULL, prev };

        expected_hash(4, at, text, hash);
    }
    snprintf(sql, sizeof(sql),
             "UPDATE audit SET outcome = 'ok', detail = NULL, hash = '%s'"
             " WHERE id = 4",
             hash);
    store_fixture_raw_exec(db, sql);
    sqlite3_close(db);
    assert_string_equal(verify(f->st, sql, sizeof(sql)), "5 4");
}

static void
test_store_audit_verify_refuses_missing_arguments_as_internal(void **state)
{
    struct store_fixture *f = *state;
    int64_t bad = 0;
    int64_t checked = 0;

    assert_wd_err(store_audit_verify(NULL, &bad, &checked), WD_E_INTERNAL);
    assert_wd_err(store_audit_verify(f->st, NULL, &checked), WD_E_INTERNAL);
    assert_wd_err(store_audit_verify(f->st, &bad, NULL), WD_E_INTERNAL);
}

#define WRITERS 6
#define EVENTS_PER_WRITER 40

struct writer {
    struct store *st;
    int n;
};

/* Alternates certificate inserts and standalone events. */
static void *
writer_run(void *arg)
{
    struct writer *w = arg;
    struct store_audit_event ev = { 0 };
    struct store_cert c;
    char serial[16];
    int i;

    ev.actor = "svc";
    ev.action = "refuse";
    ev.outcome = "bad_csr";
    for (i = 0; i < EVENTS_PER_WRITER; i++) {
        if (i % 2 == 0) {
            snprintf(serial, sizeof(serial), "%02x%04x", w->n, i);
            cert_fill(&c, serial);
            if (store_cert_insert(w->st, &c, "svc") != WD_OK) {
                return "insert failed";
            }
        } else if (store_audit_append(w->st, &ev) != WD_OK) {
            return "append failed";
        }
    }
    return NULL;
}

static void
test_store_audit_chain_survives_concurrent_writers(void **state)
{
    struct store_fixture *f = *state;
    struct writer w[WRITERS];
    pthread_t t[WRITERS];
    void *res;
    char buf[64];
    char want[64];
    int i;

    for (i = 0; i < WRITERS; i++) {
        w[i].st = f->st;
        w[i].n = i;
        assert_int_equal(pthread_create(&t[i], NULL, writer_run, &w[i]), 0);
    }
    for (i = 0; i < WRITERS; i++) {
        assert_int_equal(pthread_join(t[i], &res), 0);
        assert_null(res);
    }
    snprintf(want, sizeof(want), "0 %d", WRITERS * EVENTS_PER_WRITER);
    assert_string_equal(verify(f->st, buf, sizeof(buf)), want);
}

static void
test_store_open_chains_the_events_written_before_migration_4(void **state)
{
    struct store_fixture *f = *state;
    char buf[128];
    char *msg = NULL;
    sqlite3 *db;

    five_events(f->st);
    store_close(f->st);
    f->st = NULL;
    /* version 3: today's schema without migration 4's columns,
     * migration 5's index and migration 6's tables, and events
     * (one written by hand, as an old build might have) that no hash
     * covers */
    db = store_fixture_raw_open(f);
    store_fixture_raw_exec(
        db, "ALTER TABLE audit DROP COLUMN hash;"
            "ALTER TABLE audit DROP COLUMN prev_hash;" STORE_FIXTURE_UNDO_5
            "INSERT INTO audit (at, actor, action,"
            " outcome) VALUES (5, 'old', 'issue', 'ok');"
            "PRAGMA user_version = 3");
    sqlite3_close(db);

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    assert_string_equal(verify(f->st, buf, sizeof(buf)), "0 6");
    db = store_fixture_raw_open(f);
    assert_int_equal(store_fixture_raw_int(db, "PRAGMA user_version"), 8);
    assert_string_equal(raw_text(db, "SELECT prev_hash FROM audit WHERE id = 1",
                                 buf, sizeof(buf)),
                        zeros);
    assert_int_equal(
        store_fixture_raw_int(db, "SELECT count(*) FROM audit"
                                  " WHERE hash IS NULL OR prev_hash IS NULL"),
        0);
    /* the trigger the backfill lifted is back */
    assert_int_equal(
        sqlite3_exec(db, "UPDATE audit SET actor = 'x'", NULL, NULL, &msg),
        SQLITE_CONSTRAINT);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    sqlite3_close(db);
    /* new events chain on from the backfilled ones */
    append(f->st, "alice", "after");
    assert_string_equal(verify(f->st, buf, sizeof(buf)), "0 7");
    /* and the backfilled ones are as protected as new ones */
    db = attacker_open(f);
    store_fixture_raw_exec(db, "UPDATE audit SET actor = 'x' WHERE id = 2");
    sqlite3_close(db);
    assert_string_equal(verify(f->st, buf, sizeof(buf)), "2 1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store_audit_verify_finds_an_empty_log_intact,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_chain_links_inserts_revokes_and_appends,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_hash_is_the_documented_encoding,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_verify_names_the_event_whose_field_was_edited,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_verify_names_a_deleted_middle_event,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_verify_names_a_deleted_first_or_last_event,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_verify_names_the_successor_of_a_rehashed_event,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_verify_refuses_missing_arguments_as_internal,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_chain_survives_concurrent_writers,
            store_fixture_setup_file_open, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_chains_the_events_written_before_migration_4,
            store_fixture_setup_file_open, store_fixture_teardown_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
