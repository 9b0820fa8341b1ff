/*
 * Unit tests of store/ beyond listing (test_store_list.c), revocation
 * (test_store_revoked.c) and counters (test_store_counter.c): opening and
 * migrations, insert and get, the audit log, and concurrent inserts. Real
 * SQLite throughout, on the fixtures of store_fixture.c: ":memory:" where a
 * test needs nothing else, a file in a fresh temporary directory where it
 * needs WAL, a reopen, or a second connection of its own (plain sqlite3)
 * to look behind the store's back.
 */
#include "support.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../../store/store.h"
#include "store_fixture.h"

/* DER-shaped bytes with a NUL inside, so nothing treats them as text. */
static uint8_t der_bytes[] = { 0x30, 0x82, 0x00, 0x04, 0x02, 0x00, 0xff, 0x7f };

static void
cert_fill(struct store_cert *c, const char *serial, const char *cn)
{
    store_fixture_cert_fill(c, serial, cn);
    c->der = der_bytes;
    c->der_len = sizeof(der_bytes);
    c->subject = "CN=web.example.com,O=Example";
    c->sans = "DNS:web.example.com, IP:10.0.0.1";
    c->fingerprint = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c"
                     "15b0f00a08";
    c->not_before = 1700000000;
    c->not_after = 1700000000 + 90 * 86400;
    c->issued_at = 1700000300;
    c->revoked_at = 12345; /* ignored by insert */
    c->revoke_reason = 1;
}

/* The first column of the first row of sql, as an integer; short, as the
 * assertions read it. */
static int64_t
raw_int(sqlite3 *db, const char *sql)
{
    return store_fixture_raw_int(db, sql);
}

/* The first column of the first row of sql, as text, into buf. */
static const char *
raw_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *s = NULL;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(buf, size, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return buf;
}

static void
test_store_open_brings_fresh_file_to_schema_version(void **state)
{
    struct store_fixture *f = *state;
    sqlite3 *db;

    assert_true(store_schema_version() >= 1);
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"),
                     store_schema_version());
    sqlite3_close(db);
}

static void
test_store_open_brings_memory_db_to_a_working_schema(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    struct store_cert *got = NULL;

    cert_fill(&c, "01", "web.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    assert_wd_err(store_cert_get(f->st, "01", &got), WD_OK);
    store_cert_free(got);
}

static void
test_store_open_puts_file_db_in_wal_mode(void **state)
{
    struct store_fixture *f = *state;
    char mode[16];
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    assert_string_equal(raw_text(db, "PRAGMA journal_mode", mode, sizeof(mode)),
                        "wal");
    sqlite3_close(db);
}

static void
test_store_open_of_existing_file_is_idempotent(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    struct store_cert *got = NULL;
    int64_t n = -1;
    sqlite3 *db;

    cert_fill(&c, "0abc", "web.example.com");
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    store_close(f->st);
    f->st = NULL;
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    store_close(f->st);
    f->st = NULL;
    assert_wd_err(store_open(f->path, &f->st), WD_OK);

    assert_wd_err(store_cert_get(f->st, "0abc", &got), WD_OK);
    assert_string_equal(got->serial, "0abc");
    assert_wd_err(store_audit_count(f->st, NULL, &n), WD_OK);
    assert_int_equal(n, 1);
    db = store_fixture_raw_open(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"),
                     store_schema_version());
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"), 1);
    sqlite3_close(db);
    store_cert_free(got);
}

static void
test_store_open_refuses_database_newer_than_build(void **state)
{
    struct store_fixture *f = *state;
    char sql[64];
    sqlite3 *db;

    db = store_fixture_raw_open(f);
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
             store_schema_version() + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_wd_err(store_open(f->path, &f->st), WD_E_CONFIG);
    assert_null(f->st);
    db = store_fixture_raw_open(f); /* and nothing was migrated into it */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"), 0);
    sqlite3_close(db);
}

static enum wd_err
count_revoked(void *ctx, const char *serial, int64_t revoked_at, int reason,
              int64_t not_after)
{
    int *n = ctx;

    (void)serial;
    (void)revoked_at;
    (void)reason;
    (void)not_after;
    (*n)++;
    return WD_OK;
}

static void
test_store_open_migration_7_moves_search_terms_out_of_a_trigger(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    sqlite3 *db;

    /* version 6: a certificate stored while a trigger fed the index */
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    store_close(f->st);
    f->st = NULL;
    db = store_fixture_raw_open(f);
    store_fixture_raw_exec(db, STORE_FIXTURE_UNDO_7 "PRAGMA user_version = 6");
    store_fixture_raw_exec(
        db, "INSERT INTO certificates (serial, der, subject, cn, sans,"
            " key_type, profile, requester, fingerprint, not_before,"
            " not_after, issued_at) VALUES ('0a', x'30', 'CN=old.example',"
            " 'old.example', 'DNS:old.example', 'ecdsa-p256', 'server',"
            " 'admin', '00', 1, 2, 1)");
    sqlite3_close(db);

    /* from version 7 on: no trigger, and insertion writes the terms itself,
     * once */
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    cert_fill(&c, "0b", "new.example");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    db = store_fixture_raw_open(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 8);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"
                                 " WHERE name = 'certificates_fts_insert'"),
                     0);
    store_fixture_raw_exec(db, "INSERT INTO certificates_fts"
                               " (certificates_fts, rank)"
                               " VALUES ('integrity-check', 1)");
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates_fts"
                                 " WHERE certificates_fts MATCH"
                                 " 'cn:\"old.exa\"'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates_fts"
                                 " WHERE certificates_fts MATCH"
                                 " 'cn:\"new.exa\"'"),
                     1);
    sqlite3_close(db);
}

static void
test_store_open_migration_8_drops_the_fingerprint_index(void **state)
{
    struct store_fixture *f = *state;
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    store_close(f->st);
    f->st = NULL;
    db = store_fixture_raw_open(f);
    store_fixture_raw_exec(db, STORE_FIXTURE_UNDO_8 "PRAGMA user_version = 7");
    sqlite3_close(db);

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 8);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"
                                 " WHERE name = 'certificates_fingerprint'"),
                     0);
    sqlite3_close(db);
}

static void
test_store_open_migrates_a_version_1_database_to_version_2(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert_state cs;
    struct store_cert c;
    int revoked = 0;
    sqlite3 *db;

    assert_int_equal(store_schema_version(), 8);
    /* version 1 is today's schema without the indexes of migrations 2 and
     * 3, the hash chain's columns of migration 4, the index swap of
     * migration 5, the ACME tables of migration 6, and with the search
     * trigger migration 7 dropped and the index migration 8 dropped
     * (test_store_audit.c checks migration 3, test_store_audit_chain.c
     * migration 4, test_store_acme.c migration 6, the tests above
     * migrations 7 and 8) */
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    cert_fill(&c, "0a", "a.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    cert_fill(&c, "0b", "b.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    store_close(f->st);
    f->st = NULL;
    db = store_fixture_raw_open(f);
    assert_int_equal(
        sqlite3_exec(
            db,
            "DROP INDEX certificates_revoked_serial;"
            "DROP INDEX audit_actor;"
            "DROP INDEX audit_action;"
            "DROP INDEX audit_actor_action;"
            "ALTER TABLE audit DROP COLUMN hash;"
            "ALTER TABLE audit DROP COLUMN prev_hash;" STORE_FIXTURE_UNDO_5
            "UPDATE certificates SET revoked_at = 5,"
            " revoke_reason = 1 WHERE serial = '0a';"
            "PRAGMA user_version = 1",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 8);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"
                                 " WHERE name = 'certificates_revoked_serial'"),
                     1);
    /* migration 5 swapped the expiry index for a covering one */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"
                                 " WHERE name = 'certificates_expiry'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"
                                 " WHERE name = 'certificates_not_after'"),
                     0);
    /* migration 6 added the ACME tables */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"
                                 " WHERE type = 'table'"
                                 " AND name GLOB 'acme_*'"),
                     6);
    sqlite3_close(db);
    /* the walk reads only the new index, so it finds what version 1 had */
    assert_wd_err(store_revoked_foreach(f->st, 0, count_revoked, &revoked),
                  WD_OK);
    assert_int_equal(revoked, 1);
    assert_wd_err(store_cert_state_get(f->st, "0a", &cs), WD_OK);
    assert_int_equal(cs.revoked_at, 5);
    assert_wd_err(store_cert_revoke(f->st, "0b", 1, 6, "admin", NULL), WD_OK);
    revoked = 0;
    assert_wd_err(store_revoked_foreach(f->st, 0, count_revoked, &revoked),
                  WD_OK);
    assert_int_equal(revoked, 2);
}

static void
test_store_open_refuses_a_file_that_is_not_a_database(void **state)
{
    struct store_fixture *f = *state;
    FILE *fp = fopen(f->path, "w");

    assert_non_null(fp);
    fputs("this is not an SQLite database, but it is long enough to have "
          "a header that SQLite reads and rejects as such.\n",
          fp);
    fclose(fp);
    assert_wd_err(store_open(f->path, &f->st), WD_E_IO);
    assert_null(f->st);
}

static void
test_store_open_reports_missing_directory_as_io_error(void **state)
{
    struct store_fixture *f = *state;
    char path[320];

    snprintf(path, sizeof(path), "%s/absent/warden.db", f->dir);
    assert_wd_err(store_open(path, &f->st), WD_E_IO);
    assert_null(f->st);
}

static void
test_store_cert_insert_then_get_round_trips_every_field(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    struct store_cert *got = NULL;

    cert_fill(&c, "00ff10203040506070809a0b0c0d0e0f10111213",
              "web.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    assert_wd_err(store_cert_get(f->st, c.serial, &got), WD_OK);

    assert_true(got->id > 0);
    assert_string_equal(got->serial, c.serial);
    assert_int_equal(got->der_len, sizeof(der_bytes));
    assert_memory_equal(got->der, der_bytes, sizeof(der_bytes));
    assert_string_equal(got->subject, c.subject);
    assert_string_equal(got->cn, c.cn);
    assert_string_equal(got->sans, c.sans);
    assert_string_equal(got->key_type, c.key_type);
    assert_string_equal(got->profile, c.profile);
    assert_string_equal(got->requester, c.requester);
    assert_string_equal(got->fingerprint, c.fingerprint);
    assert_int_equal(got->not_before, c.not_before);
    assert_int_equal(got->not_after, c.not_after);
    assert_int_equal(got->issued_at, c.issued_at);
    assert_int_equal(got->revoked_at, 0); /* the caller's value is ignored */
    assert_int_equal(got->revoke_reason, 0);
    store_cert_free(got);
}

static void
test_store_cert_insert_keeps_absent_cn_and_empty_sans(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    struct store_cert *got = NULL;

    cert_fill(&c, "0c", NULL);
    c.sans = "";
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    assert_wd_err(store_cert_get(f->st, "0c", &got), WD_OK);
    assert_null(got->cn);
    assert_string_equal(got->sans, "");
    store_cert_free(got);
}

static void
test_store_cert_insert_rejects_duplicate_serial(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    struct store_cert *got = NULL;
    int64_t n = -1;
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    cert_fill(&c, "0d0d", "first.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    cert_fill(&c, "0d0d", "second.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "mallory"), WD_E_CONFLICT);

    assert_wd_err(store_cert_get(f->st, "0d0d", &got), WD_OK);
    assert_string_equal(got->cn, "first.example.com");
    assert_wd_err(store_audit_count(f->st, NULL, &n), WD_OK);
    assert_int_equal(n, 1);
    db = store_fixture_raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"
                                 " WHERE actor = 'mallory'"),
                     0);
    sqlite3_close(db);
    store_cert_free(got);

    /* the failed transaction left nothing locked or open behind it */
    cert_fill(&c, "0e0e", "third.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
}

static void
test_store_cert_insert_rejects_incomplete_certificate(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    int64_t n = -1;

    cert_fill(&c, "01", "web.example.com");
    c.subject = NULL;
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_E_INTERNAL);
    cert_fill(&c, "01", "web.example.com");
    c.der_len = 0;
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_E_INTERNAL);
    cert_fill(&c, "01", "web.example.com");
    c.der = NULL;
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_E_INTERNAL);
    cert_fill(&c, "", "web.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_E_INTERNAL);
    cert_fill(&c, "0G", "web.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_E_INTERNAL);
    cert_fill(&c, "01", "web.example.com");
    c.fingerprint = NULL;
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_E_INTERNAL);
    cert_fill(&c, "01", "web.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, NULL), WD_E_INTERNAL);
    assert_wd_err(store_cert_insert(f->st, NULL, "admin"), WD_E_INTERNAL);

    assert_wd_err(store_audit_count(f->st, NULL, &n), WD_OK);
    assert_int_equal(n, 0);
}

static void
test_store_cert_insert_is_committed_when_it_returns(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    cert_fill(&c, "0a0a", "web.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"
                                 " WHERE serial = '0a0a'"),
                     1);
    sqlite3_close(db);
}

static void
test_store_cert_insert_reports_held_write_lock_as_unavailable(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    struct store_cert *got = NULL;
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    db = store_fixture_raw_open(f);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    cert_fill(&c, "0b0b", "web.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_E_UNAVAILABLE);
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_wd_err(store_cert_get(f->st, "0b0b", &got), WD_E_NOT_FOUND);
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);
}

static void
test_store_cert_get_reports_absent_serial_as_not_found(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert *got = NULL;

    assert_wd_err(store_cert_get(f->st, "0123", &got), WD_E_NOT_FOUND);
    assert_null(got);
    assert_wd_err(store_cert_get(f->st, "'; DROP TABLE certificates; --", &got),
                  WD_E_NOT_FOUND);
    assert_null(got);
}

static void
test_store_cert_free_and_list_free_accept_null(void **state)
{
    struct store_cert_list empty = { 0 };

    (void)state;
    store_cert_free(NULL);
    store_cert_list_free(NULL);
    store_cert_list_free(&empty);
}

static void
test_store_cert_insert_writes_issue_audit_event(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    char text[64];
    int64_t n = -1;
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    cert_fill(&c, "0f0f", "web.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "CN=ops-bot"), WD_OK);
    assert_wd_err(store_audit_count(f->st, "0f0f", &n), WD_OK);
    assert_int_equal(n, 1);

    db = store_fixture_raw_open(f);
    assert_string_equal(
        raw_text(db, "SELECT actor FROM audit", text, sizeof(text)),
        "CN=ops-bot");
    assert_string_equal(
        raw_text(db, "SELECT action FROM audit", text, sizeof(text)), "issue");
    assert_string_equal(
        raw_text(db, "SELECT serial FROM audit", text, sizeof(text)), "0f0f");
    assert_string_equal(
        raw_text(db, "SELECT outcome FROM audit", text, sizeof(text)), "ok");
    assert_true(raw_int(db, "SELECT at FROM audit") > 1700000000);
    sqlite3_close(db);
}

static void
test_store_audit_append_counts_events_by_serial(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_event ev = { 0 };
    int64_t n = -1;

    ev.actor = "admin";
    ev.action = "revoke";
    ev.serial = "0a";
    ev.outcome = "ok";
    ev.detail = "keyCompromise";
    assert_wd_err(store_audit_append(f->st, &ev), WD_OK);
    ev.outcome = "already_revoked";
    ev.at = 1700000000;
    assert_wd_err(store_audit_append(f->st, &ev), WD_OK);
    ev.action = "refuse";
    ev.serial = NULL;
    ev.detail = NULL;
    assert_wd_err(store_audit_append(f->st, &ev), WD_OK);

    assert_wd_err(store_audit_count(f->st, "0a", &n), WD_OK);
    assert_int_equal(n, 2);
    assert_wd_err(store_audit_count(f->st, "0b", &n), WD_OK);
    assert_int_equal(n, 0);
    assert_wd_err(store_audit_count(f->st, NULL, &n), WD_OK);
    assert_int_equal(n, 3);
}

static void
test_store_audit_append_rejects_incomplete_event(void **state)
{
    struct store_fixture *f = *state;
    struct store_audit_event ev = { 0 };
    int64_t n = -1;

    ev.actor = "admin";
    ev.action = "revoke";
    assert_wd_err(store_audit_append(f->st, &ev), WD_E_INTERNAL);
    assert_wd_err(store_audit_append(f->st, NULL), WD_E_INTERNAL);
    assert_wd_err(store_audit_count(f->st, NULL, &n), WD_OK);
    assert_int_equal(n, 0);
}

static void
test_store_audit_refuses_update_and_delete(void **state)
{
    struct store_fixture *f = *state;
    struct store_cert c;
    char *msg = NULL;
    char text[64];
    sqlite3 *db;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    cert_fill(&c, "0a0b", "web.example.com");
    assert_wd_err(store_cert_insert(f->st, &c, "admin"), WD_OK);

    db = store_fixture_raw_open(f);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE audit SET actor = 'nobody'", NULL, NULL, &msg),
        SQLITE_CONSTRAINT);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    msg = NULL;
    assert_int_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, &msg),
                     SQLITE_CONSTRAINT);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);

    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), 1);
    assert_string_equal(
        raw_text(db, "SELECT actor FROM audit", text, sizeof(text)), "admin");
    sqlite3_close(db);
}

/* Enough to interleave commits; small enough that a loaded CI machine
 * never waits out the store's 5 s lock timeout. */
#define WRITERS 4
#define CERTS_PER_WRITER 150

struct writer {
    struct store *st;
    int index;
    int failures;
};

static void *
writer_run(void *arg)
{
    struct writer *w = arg;
    struct store_cert c;
    struct store_cert *got = NULL;
    char serial[16];
    char cn[32];
    int i;

    for (i = 0; i < CERTS_PER_WRITER; i++) {
        snprintf(serial, sizeof(serial), "%02x%04x", w->index, i);
        snprintf(cn, sizeof(cn), "w%d-%d.example.com", w->index, i);
        cert_fill(&c, serial, cn);
        if (store_cert_insert(w->st, &c, "admin") != WD_OK) {
            w->failures++;
        }
        /* readers run beside the writers */
        if (store_cert_get(w->st, serial, &got) != WD_OK) {
            w->failures++;
        }
        store_cert_free(got);
        got = NULL;
    }
    return NULL;
}

static void
test_store_cert_insert_from_many_threads_keeps_every_row(void **state)
{
    struct store_fixture *f = *state;
    struct writer w[WRITERS];
    pthread_t t[WRITERS];
    char check[64];
    int64_t n = -1;
    sqlite3 *db;
    int i;

    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    for (i = 0; i < WRITERS; i++) {
        w[i].st = f->st;
        w[i].index = i;
        w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, writer_run, &w[i]), 0);
    }
    /* join every writer before asserting: no thread outlives the test */
    for (i = 0; i < WRITERS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    for (i = 0; i < WRITERS; i++) {
        assert_int_equal(w[i].failures, 0);
    }
    assert_wd_err(store_audit_count(f->st, NULL, &n), WD_OK);
    assert_int_equal(n, WRITERS * CERTS_PER_WRITER);

    db = store_fixture_raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"),
                     WRITERS * CERTS_PER_WRITER);
    assert_int_equal(raw_int(db, "SELECT count(DISTINCT serial)"
                                 " FROM certificates"),
                     WRITERS * CERTS_PER_WRITER);
    assert_string_equal(
        raw_text(db, "PRAGMA integrity_check", check, sizeof(check)), "ok");
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO certificates_fts"
                                  " (certificates_fts) VALUES"
                                  " ('integrity-check')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store_open_brings_fresh_file_to_schema_version,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_brings_memory_db_to_a_working_schema,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_open_puts_file_db_in_wal_mode, store_fixture_setup_file,
            store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_of_existing_file_is_idempotent,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_refuses_database_newer_than_build,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_migration_8_drops_the_fingerprint_index,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_migrates_a_version_1_database_to_version_2,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_migration_7_moves_search_terms_out_of_a_trigger,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_refuses_a_file_that_is_not_a_database,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_open_reports_missing_directory_as_io_error,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_then_get_round_trips_every_field,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_keeps_absent_cn_and_empty_sans,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_rejects_duplicate_serial,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_rejects_incomplete_certificate,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_is_committed_when_it_returns,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_reports_held_write_lock_as_unavailable,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_get_reports_absent_serial_as_not_found,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test(test_store_cert_free_and_list_free_accept_null),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_writes_issue_audit_event,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_audit_append_counts_events_by_serial,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_append_rejects_incomplete_event,
            store_fixture_setup_memory, store_fixture_teardown_memory),
        cmocka_unit_test_setup_teardown(
            test_store_audit_refuses_update_and_delete,
            store_fixture_setup_file, store_fixture_teardown_file),
        cmocka_unit_test_setup_teardown(
            test_store_cert_insert_from_many_threads_keeps_every_row,
            store_fixture_setup_file, store_fixture_teardown_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
