/*
 * Unit tests of store/store_backup.c: a backup of a file store with rows
 * is one standalone, checked file (mode 0600, no -wal) holding every row;
 * store_backup_check refuses a damaged file, a file that is not SQLite, a
 * database that is not Warden's or is newer than this build, and a
 * certificate whose bytes no longer match their fingerprint, and accepts
 * an older schema; store_backup_restore refuses a database another
 * connection has open, keeps the one it replaces, carries its counters
 * over and leaves nothing behind when it refuses. Real SQLite on files in
 * a temporary directory (store_fixture.c).
 */
#include "support.h"

#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../server/base/parse.h"
#include "../../server/base/sha256.h"
#include "../../store/store.h"
#include "store_fixture.h"

/* The clock of every test: 2023-11-14T22:13:20Z. */
#define NOW 1700000000
#define DAY 86400

/* Rows in the store most tests back up: more than two samples' worth. */
#define N_CERTS 40

/* A certificate-sized blob per row, so the file spans many pages. */
#define DER_LEN 1000

struct paths {
    char backup[400];
    char target[400];
    char keep[400];
};

static void
paths_of(const struct store_fixture *f, struct paths *p)
{
    snprintf(p->backup, sizeof(p->backup), "%s/backup.db", f->dir);
    snprintf(p->target, sizeof(p->target), "%s/target.db", f->dir);
    snprintf(p->keep, sizeof(p->keep), "%s/target.db.pre-restore", f->dir);
}

/* Remove every file the tests made, then what the fixture made. */
static int
teardown(void **state)
{
    struct store_fixture *f = *state;
    struct dirent *e;
    char p[600];
    DIR *d;

    store_close(f->st);
    f->st = NULL;
    d = opendir(f->dir);
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    return store_fixture_teardown_file(state);
}

/* Insert certificate i (serial "c0de<i>") with a DER unique to it and
 * its true fingerprint. */
static void
insert(struct store *st, int i)
{
    uint8_t der[DER_LEN];
    uint8_t digest[WD_SHA256_LEN];
    char fp[WD_SHA256_HEX_LEN + 1];
    char serial[16];
    struct store_cert c;

    memset(der, 0x30 + (i % 7), sizeof(der));
    memcpy(der, &i, sizeof(i));
    wd_sha256(der, sizeof(der), digest);
    wd_hex_encode(digest, sizeof(digest), fp);
    snprintf(serial, sizeof(serial), "c0de%02x", i);
    store_fixture_cert_fill(&c, serial, "host.example");
    c.der = der;
    c.der_len = sizeof(der);
    c.subject = "CN=host.example";
    c.sans = "DNS:host.example";
    c.fingerprint = fp;
    c.not_before = NOW - DAY;
    c.not_after = NOW + 90 * DAY;
    c.issued_at = NOW - DAY;
    assert_wd_err(store_cert_insert(st, &c, "admin"), WD_OK);
}

/* n certificates, the first three revoked, and a CRL number of 5. */
static void
fill(struct store *st, int n)
{
    int64_t v = 0;
    int i;

    for (i = 1; i <= n; i++) {
        insert(st, i);
    }
    assert_wd_err(store_cert_revoke(st, "c0de01", 1, NOW, "admin", NULL),
                  WD_OK);
    assert_wd_err(store_cert_revoke(st, "c0de02", 1, NOW, "admin", NULL),
                  WD_OK);
    assert_wd_err(store_cert_revoke(st, "c0de03", 4, NOW, "admin", NULL),
                  WD_OK);
    for (i = 0; i < 5; i++) {
        assert_wd_err(store_counter_next(st, "crl_number", &v), WD_OK);
    }
}

/* store_backup of f's store to p->backup, which must succeed. */
static void
backup(struct store_fixture *f, const struct paths *p)
{
    struct store_backup_info info = { 0 };

    assert_wd_err(store_backup(f->st, p->backup, &info), WD_OK);
    store_backup_info_clear(&info);
}

/* Overwrite len bytes of path at offset with byte b. */
static void
scribble(const char *path, long offset, size_t len, int b)
{
    char buf[256];
    FILE *fp = fopen(path, "r+b");

    assert_non_null(fp);
    assert_true(len <= sizeof(buf));
    memset(buf, b, len);
    assert_int_equal(fseek(fp, offset, SEEK_SET), 0);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static sqlite3 *
raw_open(const char *path)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

static int64_t
raw_int(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    sqlite3_stmt *s = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void
raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);

    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Does f's directory hold a file whose name contains part? */
static bool
dir_has(const struct store_fixture *f, const char *part)
{
    struct dirent *e;
    bool found = false;
    DIR *d = opendir(f->dir);

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        found = found || strstr(e->d_name, part) != NULL;
    }
    closedir(d);
    return found;
}

static bool
exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static void
test_store_backup_writes_one_checked_file_with_every_row(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;
    char wal[420];
    struct stat st;
    size_t i;

    paths_of(f, &p);
    fill(f->st, N_CERTS);
    assert_wd_err(store_backup(f->st, p.backup, &info), WD_OK);
    assert_int_equal(info.certificates, N_CERTS);
    assert_int_equal(info.revoked, 3);
    assert_int_equal(info.audit_events, N_CERTS + 3);
    assert_int_equal(info.schema_version, store_schema_version());
    assert_string_equal(info.problem, "");
    /* the first and the last STORE_BACKUP_SAMPLE, in id order */
    assert_int_equal(info.n_sample, 2 * STORE_BACKUP_SAMPLE);
    assert_string_equal(info.sample[0].serial, "c0de01");
    assert_string_equal(info.sample[STORE_BACKUP_SAMPLE - 1].serial, "c0de08");
    assert_string_equal(info.sample[STORE_BACKUP_SAMPLE].serial, "c0de21");
    assert_string_equal(info.sample[2 * STORE_BACKUP_SAMPLE - 1].serial,
                        "c0de28");
    for (i = 0; i < info.n_sample; i++) {
        assert_int_equal(info.sample[i].der_len, DER_LEN);
    }
    store_backup_info_clear(&info);
    assert_null(info.sample);

    /* one file, private, in rollback mode, nothing beside it */
    assert_int_equal(stat(p.backup, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(wal, sizeof(wal), "%s-wal", p.backup);
    assert_false(exists(wal));
    assert_false(dir_has(f, ".tmp-"));
    assert_int_equal(raw_int(p.backup, "SELECT count(*) FROM certificates"),
                     N_CERTS);
    assert_int_equal(
        raw_int(p.backup, "SELECT value FROM meta WHERE key = 'crl_number'"),
        5);
    assert_false(exists(wal)); /* reading it made none: not WAL */
}

static void
test_store_backup_samples_a_small_store_once(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;
    size_t i;

    paths_of(f, &p);
    fill(f->st, 5);
    assert_wd_err(store_backup(f->st, p.backup, &info), WD_OK);
    assert_int_equal(info.n_sample, 5);
    for (i = 0; i < 5; i++) {
        char want[16];

        snprintf(want, sizeof(want), "c0de%02zx", i + 1);
        assert_string_equal(info.sample[i].serial, want);
    }
    store_backup_info_clear(&info);
}

static void
test_store_backup_replaces_an_older_backup_atomically(void **state)
{
    struct store_fixture *f = *state;
    struct paths p;

    paths_of(f, &p);
    fill(f->st, 5);
    backup(f, &p);
    insert(f->st, 0x77);
    backup(f, &p);
    assert_int_equal(raw_int(p.backup, "SELECT count(*) FROM certificates"), 6);
    assert_false(dir_has(f, ".tmp-"));
}

static void
test_store_backup_sees_one_snapshot_beside_a_writer(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;
    sqlite3 *writer;

    /* a write transaction open in another connection during the backup
     * is not in it, and does not stop it */
    paths_of(f, &p);
    fill(f->st, N_CERTS);
    writer = store_fixture_raw_open(f);
    store_fixture_raw_exec(writer, "BEGIN IMMEDIATE;"
                                   "UPDATE certificates SET requester = 'x';");
    assert_wd_err(store_backup(f->st, p.backup, &info), WD_OK);
    store_fixture_raw_exec(writer, "COMMIT");
    sqlite3_close(writer);
    assert_int_equal(info.certificates, N_CERTS);
    assert_int_equal(raw_int(p.backup, "SELECT count(*) FROM certificates"
                                       " WHERE requester = 'x'"),
                     0);
    store_backup_info_clear(&info);
}

static void
test_store_backup_check_refuses_a_file_damaged_in_the_middle(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;
    int64_t page;
    int64_t pages;
    int64_t i;

    paths_of(f, &p);
    fill(f->st, N_CERTS);
    backup(f, &p);
    page = raw_int(p.backup, "PRAGMA page_size");
    pages = raw_int(p.backup, "PRAGMA page_count");
    assert_true(pages > 8);
    /* the headers of three pages in the middle: b-tree pages all */
    for (i = pages / 2; i < pages / 2 + 3; i++) {
        scribble(p.backup, (long)(i * page), 16, 0xff);
    }
    assert_wd_err(store_backup_check(p.backup, &info), WD_E_IO);
    assert_non_null(strstr(info.problem, "damaged"));
    store_backup_info_clear(&info);
}

static void
test_store_backup_check_refuses_a_certificate_changed_behind_its_fingerprint(
    void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;

    /* a change integrity_check cannot see: a blob's bytes */
    paths_of(f, &p);
    fill(f->st, 5);
    backup(f, &p);
    raw_exec(p.backup, "UPDATE certificates SET der = x'3003020100'"
                       " WHERE serial = 'c0de04'");
    assert_wd_err(store_backup_check(p.backup, &info), WD_E_IO);
    assert_non_null(strstr(info.problem, "c0de04"));
    store_backup_info_clear(&info);
}

static void
test_store_backup_check_refuses_a_file_that_is_not_sqlite(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;
    FILE *fp;
    int i;

    paths_of(f, &p);
    fp = fopen(p.backup, "w");
    assert_non_null(fp);
    for (i = 0; i < 500; i++) {
        fputs("this is a text file, not a database\n", fp);
    }
    assert_int_equal(fclose(fp), 0);
    assert_wd_err(store_backup_check(p.backup, &info), WD_E_IO);
    assert_string_equal(info.problem, "not a SQLite database");
    store_backup_info_clear(&info);

    snprintf(p.backup, sizeof(p.backup), "%s/missing.db", f->dir);
    assert_wd_err(store_backup_check(p.backup, &info), WD_E_IO);
    assert_string_equal(info.problem, "cannot be opened");
    store_backup_info_clear(&info);
}

static void
test_store_backup_check_refuses_a_newer_schema(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;
    char sql[64];

    paths_of(f, &p);
    fill(f->st, 5);
    backup(f, &p);
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
             store_schema_version() + 1);
    raw_exec(p.backup, sql);
    assert_wd_err(store_backup_check(p.backup, &info), WD_E_CONFIG);
    assert_int_equal(info.schema_version, store_schema_version() + 1);
    assert_non_null(strstr(info.problem, "newer"));
    store_backup_info_clear(&info);
}

static void
test_store_backup_check_refuses_a_database_that_is_not_wardens(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;

    paths_of(f, &p);
    raw_exec(p.backup, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
    assert_wd_err(store_backup_check(p.backup, &info), WD_E_CONFIG);
    assert_non_null(strstr(info.problem, "not a Warden database"));
    store_backup_info_clear(&info);

    raw_exec(p.backup, "PRAGMA user_version = 3");
    assert_wd_err(store_backup_check(p.backup, &info), WD_E_CONFIG);
    assert_non_null(strstr(info.problem, "not a Warden database"));
    store_backup_info_clear(&info);
}

static void
test_store_backup_check_accepts_an_older_schema(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;
    struct store *st = NULL;

    /* version 4: store_open migrates it when it is opened again */
    paths_of(f, &p);
    fill(f->st, 5);
    backup(f, &p);
    raw_exec(p.backup, STORE_FIXTURE_UNDO_5 "PRAGMA user_version = 4;");
    assert_wd_err(store_backup_check(p.backup, &info), WD_OK);
    assert_int_equal(info.schema_version, 4);
    assert_int_equal(info.certificates, 5);
    store_backup_info_clear(&info);
    assert_wd_err(store_open(p.backup, &st), WD_OK);
    store_close(st);
    assert_int_equal(raw_int(p.backup, "PRAGMA user_version"),
                     store_schema_version());
}

static void
test_store_backup_restore_refuses_a_database_in_use(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;

    /* f->st plays the daemon, serving the database being replaced */
    paths_of(f, &p);
    fill(f->st, 5);
    backup(f, &p);
    insert(f->st, 0x77);
    assert_wd_err(
        store_backup_restore(f->path, p.backup, p.keep, NULL, NULL, &info),
        WD_E_UNAVAILABLE);
    store_backup_info_clear(&info);
    assert_false(exists(p.keep));
    assert_false(dir_has(f, ".restore-"));
    /* the daemon's database carries on, untouched */
    insert(f->st, 0x78);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM certificates"), 7);
}

static void
test_store_backup_restore_keeps_the_old_database_and_its_counters(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct store *st = NULL;
    struct paths p;
    int64_t v = 0;
    int i;

    paths_of(f, &p);
    fill(f->st, 5); /* crl_number 5 in the backup */
    backup(f, &p);
    /* after the backup: one more certificate, one more revocation, CRL
     * numbers up to 9 */
    insert(f->st, 0x77);
    assert_wd_err(store_cert_revoke(f->st, "c0de04", 1, NOW, "admin", NULL),
                  WD_OK);
    for (i = 0; i < 4; i++) {
        assert_wd_err(store_counter_next(f->st, "crl_number", &v), WD_OK);
    }
    assert_wd_err(store_counter_next(f->st, "root_crl_number", &v), WD_OK);
    store_close(f->st);
    f->st = NULL;

    assert_wd_err(
        store_backup_restore(f->path, p.backup, p.keep, NULL, NULL, &info),
        WD_OK);
    assert_int_equal(info.certificates, 5);
    assert_int_equal(info.lost_certificates, 1);
    assert_int_equal(info.lost_revocations, 1);
    store_backup_info_clear(&info);
    assert_false(dir_has(f, ".restore-"));
    assert_int_equal(raw_int(p.keep, "SELECT count(*) FROM certificates"), 6);

    assert_wd_err(store_open(f->path, &st), WD_OK);
    assert_wd_err(store_counter_get(st, "crl_number", &v), WD_OK);
    assert_int_equal(v, 9); /* never back to 5 */
    assert_wd_err(store_counter_get(st, "root_crl_number", &v), WD_OK);
    assert_int_equal(v, 1);
    assert_wd_err(store_counter_get(st, STORE_COUNTER_REVOCATIONS, &v), WD_OK);
    assert_int_equal(v, 4);
    store_close(st);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM certificates"), 5);
}

/* store_backup_accept_fn that refuses, counting its calls. */
static enum wd_err
refuse(void *ctx, const struct store_backup_info *b)
{
    int *calls = ctx;

    assert_int_equal(b->n_sample, 5);
    (*calls)++;
    return WD_E_CONFIG;
}

static void
test_store_backup_restore_refused_by_accept_changes_nothing(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;
    int calls = 0;

    paths_of(f, &p);
    fill(f->st, 5);
    backup(f, &p);
    insert(f->st, 0x77);
    store_close(f->st);
    f->st = NULL;
    assert_wd_err(
        store_backup_restore(f->path, p.backup, p.keep, refuse, &calls, &info),
        WD_E_CONFIG);
    assert_int_equal(calls, 1);
    store_backup_info_clear(&info);
    assert_false(exists(p.keep));
    assert_false(dir_has(f, ".restore-"));
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM certificates"), 6);
}

static void
test_store_backup_restore_refuses_a_damaged_backup(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct paths p;
    int64_t pages;

    paths_of(f, &p);
    fill(f->st, N_CERTS);
    backup(f, &p);
    pages = raw_int(p.backup, "PRAGMA page_count");
    scribble(p.backup,
             (long)(pages / 2 * raw_int(p.backup, "PRAGMA page_size")), 16,
             0xff);
    store_close(f->st);
    f->st = NULL;
    assert_wd_err(
        store_backup_restore(f->path, p.backup, p.keep, NULL, NULL, &info),
        WD_E_IO);
    assert_non_null(strstr(info.problem, "damaged"));
    store_backup_info_clear(&info);
    assert_false(exists(p.keep));
    assert_false(dir_has(f, ".restore-"));
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM certificates"),
                     N_CERTS);
}

static void
test_store_backup_restore_into_a_new_place_makes_a_private_file(void **state)
{
    struct store_fixture *f = *state;
    struct store_backup_info info = { 0 };
    struct store *st = NULL;
    struct paths p;
    struct stat sb;

    paths_of(f, &p);
    fill(f->st, 5);
    backup(f, &p);
    assert_wd_err(
        store_backup_restore(p.target, p.backup, p.keep, NULL, NULL, &info),
        WD_OK);
    store_backup_info_clear(&info);
    assert_false(exists(p.keep));
    assert_int_equal(stat(p.target, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* a store opens it, in WAL mode again */
    assert_wd_err(store_open(p.target, &st), WD_OK);
    store_close(st);
    assert_int_equal(raw_int(p.target, "SELECT count(*) FROM certificates"), 5);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_store_backup_writes_one_checked_file_with_every_row,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_samples_a_small_store_once,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_replaces_an_older_backup_atomically,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_sees_one_snapshot_beside_a_writer,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_check_refuses_a_file_damaged_in_the_middle,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_check_refuses_a_certificate_changed_behind_its_fingerprint,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_check_refuses_a_file_that_is_not_sqlite,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_check_refuses_a_newer_schema,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_check_refuses_a_database_that_is_not_wardens,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_check_accepts_an_older_schema,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_restore_refuses_a_database_in_use,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_restore_keeps_the_old_database_and_its_counters,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_restore_refused_by_accept_changes_nothing,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_restore_refuses_a_damaged_backup,
            store_fixture_setup_file_open, teardown),
        cmocka_unit_test_setup_teardown(
            test_store_backup_restore_into_a_new_place_makes_a_private_file,
            store_fixture_setup_file_open, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
