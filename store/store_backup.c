/*
 * Backups of the store with SQLite's online backup API, and their
 * restore. store_backup copies one snapshot of a live database: it holds
 * a read transaction on a pooled connection across every step, so in WAL
 * mode writers carry on beside it and the copy never restarts, however
 * busy the daemon is. The copy is a standalone file (rollback journal, no
 * -wal) written beside its destination, checked, fsync'd and renamed into
 * place. store_backup_check reads a backup without writing to it.
 * store_backup_restore stages a checked copy beside the database while
 * holding an exclusive lock that proves no daemon has the database open,
 * and swaps it in with one rename. The CLI (server/srv_cmd_backup.c)
 * drives all three.
 */
#include "store_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../server/base/log.h"
#include "../server/base/parse.h"
#include "../server/base/sha256.h"
#include "../server/base/xmalloc.h"

/* Pages per backup step: 4 MiB of 4 KiB pages, milliseconds of copying.
 * The snapshot is held across steps, so this bounds one call's work,
 * not what the copy sees. */
#define STEP_PAGES 1024

/* How long a step waits before retrying a busy or locked database. */
#define STEP_RETRY_MS 10

/* A path and the suffixes added to it. */
#define PATH_BYTES 4096

static const char sql_counts[] =
    "SELECT (SELECT count(*) FROM certificates),"
    " (SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL),"
    " (SELECT count(*) FROM audit)";

static const char sql_walk[] =
    "SELECT serial, der, fingerprint FROM certificates ORDER BY id";

static const char sql_sample_first[] =
    "SELECT id, serial, der FROM certificates ORDER BY id LIMIT ?1";

/* the last ones after those already taken, back in id order */
static const char sql_sample_last[] =
    "SELECT id, serial, der FROM (SELECT id, serial, der FROM certificates"
    " WHERE id > ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id";

static const char sql_counters[] =
    "SELECT key, value FROM meta WHERE typeof(value) = 'integer'";

/* what the database being replaced (main) holds and the backup (new)
 * does not: certificates issued and revocations made after the backup */
static const char sql_lost[] =
    "SELECT (SELECT count(*) FROM main.certificates o WHERE NOT EXISTS"
    "  (SELECT 1 FROM new.certificates n WHERE n.serial = o.serial)),"
    " (SELECT count(*) FROM main.certificates o JOIN new.certificates n"
    "  ON n.serial = o.serial"
    "  WHERE o.revoked_at IS NOT NULL AND n.revoked_at IS NULL)";

/* a counter only grows: the restored value stays unless ours is higher */
static const char sql_counter_carry[] =
    "INSERT INTO meta (key, value) VALUES (?1, ?2)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    " WHERE typeof(value) = 'integer' AND value < excluded.value";

static void problem_set(struct store_backup_info *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem_set(struct store_backup_info *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out->problem, sizeof(out->problem), fmt, ap);
    va_end(ap);
}

/* Free the sample and zero *info; accepts NULL. */
void
store_backup_info_clear(struct store_backup_info *info)
{
    size_t i;

    if (info == NULL) {
        return;
    }
    for (i = 0; i < info->n_sample; i++) {
        free(info->sample[i].der);
    }
    free(info->sample);
    memset(info, 0, sizeof(*info));
}

static void
log_path_err(const char *event, const char *path, int errnum)
{
    char quoted[LOG_QUOTE_BUF];

    log_quote(path, strlen(path), quoted);
    log_err("event=%s path=%s err=\"%s\"", event, quoted, strerror(errnum));
}

/*
 * A new empty file "<path>.<tag>-XXXXXX" (mode 0600) beside path, its
 * name in tmp. SQLite opens it by name: a descriptor of ours left open
 * and closed later would drop SQLite's POSIX locks on it, so none is.
 */
static enum wd_err
temp_create(const char *path, const char *tag, char tmp[PATH_BYTES])
{
    int n = snprintf(tmp, PATH_BYTES, "%s.%s-XXXXXX", path, tag);
    int fd;

    if (n < 0 || n >= PATH_BYTES) {
        log_err("event=store_backup_failed error=\"path too long\"");
        return WD_E_IO;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        log_path_err("store_backup_failed", tmp, errno);
        return WD_E_IO;
    }
    close(fd);
    return WD_OK;
}

/*
 * Give the file at path the mode (and, as root, the owner) of old, or
 * 0600 when old is NULL, then fsync it: it is about to be renamed into
 * place, and a rename may reach the disk before the data it names.
 */
static enum wd_err
file_finish(const char *path, const struct stat *old)
{
    mode_t mode = old != NULL ? (old->st_mode & 0777) : 0600;
    enum wd_err err = WD_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0 || fchmod(fd, mode) != 0) {
        err = WD_E_IO;
    } else if (old != NULL && geteuid() == 0 &&
               fchown(fd, old->st_uid, old->st_gid) != 0) {
        /* a restore run as root hands the file back to the daemon's user */
        err = WD_E_IO;
    } else if (fsync(fd) != 0) {
        err = WD_E_IO;
    }
    if (err != WD_OK) {
        log_path_err("store_backup_failed", path, errno);
    }
    if (fd >= 0) {
        close(fd);
    }
    return err;
}

/* fsync the directory holding path, so a rename in it survives a crash. */
static enum wd_err
dir_sync(const char *path)
{
    char dir[PATH_BYTES];
    char *slash;
    int fd;
    enum wd_err err = WD_OK;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        log_path_err("store_backup_failed", dir, errno);
        err = WD_E_IO;
    }
    if (fd >= 0) {
        close(fd);
    }
    return err;
}

static enum wd_err
file_rename(const char *from, const char *to)
{
    if (rename(from, to) != 0) {
        log_path_err("store_backup_failed", to, errno);
        return WD_E_IO;
    }
    return WD_OK;
}

/* Remove path if it exists; WD_E_IO (logged) if it exists and stays. */
static enum wd_err
file_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT) {
        log_path_err("store_backup_failed", path, errno);
        return WD_E_IO;
    }
    return WD_OK;
}

/*
 * Copy src's main database, as its open read transaction sees it (if it
 * has one; else each step takes its own), into the empty file at
 * dst_path: a standalone database in rollback-journal mode, whatever
 * src's journal mode; *pages is how many it copied. Failure is logged;
 * SQLITE_NOTADB and the like from src arrive here.
 */
static enum wd_err
copy_db(sqlite3 *src, const char *dst_path, int *pages)
{
    sqlite3 *dst = NULL;
    sqlite3_backup *b;
    int waited_ms = 0;
    enum wd_err err = WD_OK;
    int rc;

    rc = sqlite3_open_v2(dst_path, &dst,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        err = store_sql_err(dst, rc, "backup_open");
        goto out;
    }
    sqlite3_extended_result_codes(dst, 1);
    b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        err = store_sql_err(dst, sqlite3_errcode(dst), "backup_init");
        goto out;
    }
    do {
        rc = sqlite3_backup_step(b, STEP_PAGES);
        if (((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) &&
            waited_ms < STORE_BUSY_TIMEOUT_MS) {
            sqlite3_sleep(STEP_RETRY_MS);
            waited_ms += STEP_RETRY_MS;
            rc = SQLITE_OK;
        }
    } while (rc == SQLITE_OK);
    *pages = sqlite3_backup_pagecount(b);
    /* finish leaves the step's error (src's included) on dst */
    if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE) {
        err = store_sql_err(dst, sqlite3_errcode(dst), "backup_step");
        goto out;
    }
    /* the copied header says WAL if src is in WAL: a backup is one file */
    rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        err = store_sql_err(dst, rc, "backup_journal_mode");
    }
out:
    rc = sqlite3_close(dst);
    if (rc != SQLITE_OK && err == WD_OK) {
        err = store_sql_err(NULL, rc, "backup_close");
    }
    return err;
}

/* The one row of an integrity check, user_version or count query. */
static int
query_row(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);

    return rc == SQLITE_OK ? sqlite3_step(*out) : rc;
}

/* PRAGMA integrity_check must answer exactly "ok". */
static enum wd_err
check_integrity(sqlite3 *db, struct store_backup_info *out)
{
    sqlite3_stmt *s = NULL;
    const char *first;
    char quoted[LOG_QUOTE_BUF];
    enum wd_err err = WD_OK;
    int rc;

    /* (1): stop at the first problem; one is enough to refuse */
    rc = query_row(db, "PRAGMA integrity_check(1)", &s);
    if ((rc & 0xff) == SQLITE_NOTADB) {
        store_sql_err(db, rc, "backup_check");
        problem_set(out, "not a SQLite database");
        err = WD_E_IO;
    } else if (rc != SQLITE_ROW) {
        store_sql_err(db, rc, "backup_check");
        problem_set(out, "damaged: SQLite cannot read it");
        err = WD_E_IO;
    } else {
        first = (const char *)sqlite3_column_text(s, 0);
        if (first == NULL || strcmp(first, "ok") != 0) {
            log_quote(first != NULL ? first : "",
                      first != NULL ? strlen(first) : 0, quoted);
            log_err("event=store_backup_refused error=\"integrity_check "
                    "failed\" first=%s",
                    quoted);
            problem_set(out, "damaged: SQLite's integrity check failed");
            err = WD_E_IO;
        }
    }
    sqlite3_finalize(s);
    return err;
}

/* user_version from 1 (the first migration) to this build's. */
static enum wd_err
check_version(sqlite3 *db, struct store_backup_info *out)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err = WD_OK;
    int rc;

    rc = query_row(db, "PRAGMA user_version", &s);
    if (rc != SQLITE_ROW) {
        store_sql_err(db, rc, "backup_check");
        problem_set(out, "damaged: SQLite cannot read its schema version");
        err = WD_E_IO;
        goto out;
    }
    out->schema_version = sqlite3_column_int(s, 0);
    if (out->schema_version <= 0) {
        problem_set(out, "not a Warden database (no schema version)");
        err = WD_E_CONFIG;
    } else if (out->schema_version > store_schema_version()) {
        problem_set(out,
                    "written by a newer Warden (schema version %d; this "
                    "build knows up to %d)",
                    out->schema_version, store_schema_version());
        err = WD_E_CONFIG;
    }
out:
    sqlite3_finalize(s);
    return err;
}

static enum wd_err
check_counts(sqlite3 *db, struct store_backup_info *out)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err = WD_OK;
    int rc;

    rc = query_row(db, sql_counts, &s);
    if (rc == SQLITE_ROW) {
        out->certificates = sqlite3_column_int64(s, 0);
        out->revoked = sqlite3_column_int64(s, 1);
        out->audit_events = sqlite3_column_int64(s, 2);
    } else if (store_sql_err(db, rc, "backup_check") == WD_E_IO) {
        problem_set(out, "damaged: SQLite cannot count its certificates");
        err = WD_E_IO;
    } else {
        /* a schema version but not our tables */
        problem_set(out, "not a Warden database (no inventory tables)");
        err = WD_E_CONFIG;
    }
    sqlite3_finalize(s);
    return err;
}

/*
 * Every certificate's DER against the SHA-256 fingerprint stored beside
 * it, and its serial well-formed: integrity_check proves the b-trees,
 * not the bytes of a blob, and a flipped bit in a certificate would
 * otherwise be restored unnoticed.
 */
static enum wd_err
check_certs(sqlite3 *db, struct store_backup_info *out)
{
    sqlite3_stmt *s = NULL;
    uint8_t digest[WD_SHA256_LEN];
    char hex[WD_SHA256_HEX_LEN + 1];
    enum wd_err err = WD_OK;
    int rc;

    rc = sqlite3_prepare_v2(db, sql_walk, -1, &s, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *serial = (const char *)sqlite3_column_text(s, 0);
        const void *der = sqlite3_column_blob(s, 1);
        int der_len = sqlite3_column_bytes(s, 1);
        const char *fp = (const char *)sqlite3_column_text(s, 2);

        if (serial == NULL || !wd_serial_is_valid(serial, strlen(serial))) {
            problem_set(out, "damaged: a certificate has no valid serial");
            err = WD_E_IO;
            goto out;
        }
        wd_sha256(der, (size_t)der_len, digest);
        wd_hex_encode(digest, sizeof(digest), hex);
        if (fp == NULL || strcmp(fp, hex) != 0) {
            log_err("event=store_backup_refused serial=%s error=\"DER does "
                    "not match its fingerprint\"",
                    serial);
            problem_set(out,
                        "damaged: certificate %s does not match its "
                        "recorded SHA-256 fingerprint",
                        serial);
            err = WD_E_IO;
            goto out;
        }
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        store_sql_err(db, rc, "backup_check");
        problem_set(out, "damaged: SQLite cannot read its certificates");
        err = WD_E_IO;
    }
out:
    sqlite3_finalize(s);
    return err;
}

/* Append the rows of s (id, serial, der) to out's sample; *last_id is
 * the id of the last one read. Serials were checked by check_certs. */
static enum wd_err
sample_read(sqlite3 *db, sqlite3_stmt *s, struct store_backup_info *out,
            int64_t *last_id)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_backup_cert *c = &out->sample[out->n_sample];
        const char *serial = (const char *)sqlite3_column_text(s, 1);
        const void *der = sqlite3_column_blob(s, 2);
        size_t len = (size_t)sqlite3_column_bytes(s, 2);

        *last_id = sqlite3_column_int64(s, 0);
        snprintf(c->serial, sizeof(c->serial), "%s", serial);
        c->der = xmalloc(len > 0 ? len : 1);
        memcpy(c->der, der, len);
        c->der_len = len;
        out->n_sample++;
    }
    return rc == SQLITE_DONE ? WD_OK : store_sql_err(db, rc, "backup_sample");
}

/* The first and the last STORE_BACKUP_SAMPLE certificates, by id. */
static enum wd_err
check_sample(sqlite3 *db, struct store_backup_info *out)
{
    sqlite3_stmt *s = NULL;
    int64_t last_id = 0;
    enum wd_err err;
    int rc;

    out->sample = xcalloc(2 * STORE_BACKUP_SAMPLE, sizeof(*out->sample));
    rc = sqlite3_prepare_v2(db, sql_sample_first, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int(s, 1, STORE_BACKUP_SAMPLE);
    }
    err = rc == SQLITE_OK ? sample_read(db, s, out, &last_id)
                          : store_sql_err(db, rc, "backup_sample");
    sqlite3_finalize(s);
    s = NULL;
    if (err != WD_OK) {
        goto out;
    }
    rc = sqlite3_prepare_v2(db, sql_sample_last, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 1, last_id);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int(s, 2, STORE_BACKUP_SAMPLE);
    }
    err = rc == SQLITE_OK ? sample_read(db, s, out, &last_id)
                          : store_sql_err(db, rc, "backup_sample");
out:
    if (err != WD_OK) {
        problem_set(out, "damaged: SQLite cannot read its certificates");
        err = WD_E_IO;
    }
    sqlite3_finalize(s);
    return err;
}

/*
 * Check the backup at path, opened read-only so that checking never
 * changes it: integrity, schema version, counts, every certificate's DER
 * against its fingerprint, and the sample. On failure out->problem says
 * why in a sentence (the SQLite detail is logged): WD_E_IO for a file
 * that is damaged, unreadable or not SQLite, WD_E_CONFIG for a database
 * that is not Warden's or is newer than this build. *out is zeroed first;
 * the caller clears it (store_backup_info_clear) either way.
 */
enum wd_err
store_backup_check(const char *path, struct store_backup_info *out)
{
    sqlite3 *db = NULL;
    enum wd_err err;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                         NULL);
    if (rc != SQLITE_OK) {
        store_sql_err(db, rc, "backup_check_open");
        problem_set(out, "cannot be opened");
        err = WD_E_IO;
        goto out;
    }
    sqlite3_extended_result_codes(db, 1);
    err = check_integrity(db, out);
    if (err == WD_OK) {
        err = check_version(db, out);
    }
    if (err == WD_OK) {
        err = check_counts(db, out);
    }
    if (err == WD_OK) {
        err = check_certs(db, out);
    }
    if (err == WD_OK) {
        err = check_sample(db, out);
    }
out:
    sqlite3_close(db);
    return err;
}

/*
 * Begin a read transaction on conn and read once, so that its snapshot
 * is fixed now and lasts until the transaction ends.
 */
static enum wd_err
snapshot_begin(struct store_conn *conn)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_tx_begin_read(conn);
    if (err != WD_OK) {
        return err;
    }
    rc = query_row(conn->db, "SELECT count(*) FROM sqlite_schema", &s);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW) {
        err = store_sql_err(conn->db, rc, "backup_snapshot");
        store_tx_rollback(conn);
    }
    return err;
}

/*
 * Write a consistent snapshot of st's database to out_path: copied (in
 * STEP_PAGES steps, all in one read transaction, so that the daemon's
 * writers never wait and the copy never restarts) into a temporary file
 * beside out_path, checked (store_backup_check, into *out), fsync'd with
 * mode 0600, then renamed over out_path and the directory fsync'd.
 * Nothing is left at out_path on failure; out->problem says why a check
 * refused. The caller clears *out.
 */
enum wd_err
store_backup(struct store *st, const char *out_path,
             struct store_backup_info *out)
{
    struct store_conn *conn = NULL;
    char tmp[PATH_BYTES];
    char quoted[LOG_QUOTE_BUF];
    bool made = false;
    int pages = 0;
    enum wd_err err;

    memset(out, 0, sizeof(*out));
    err = temp_create(out_path, "tmp", tmp);
    if (err != WD_OK) {
        goto out;
    }
    made = true;
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = snapshot_begin(conn);
    if (err == WD_OK) {
        err = copy_db(conn->db, tmp, &pages);
        store_tx_rollback(conn); /* it only read */
    }
    store_conn_return(st, conn);
    if (err == WD_OK) {
        err = store_backup_check(tmp, out);
    }
    if (err == WD_OK) {
        err = file_finish(tmp, NULL);
    }
    if (err == WD_OK) {
        err = file_rename(tmp, out_path);
    }
    if (err != WD_OK) {
        goto out;
    }
    made = false;
    err = dir_sync(out_path);
    log_quote(out_path, strlen(out_path), quoted);
    log_info("event=store_backup path=%s certificates=%lld "
             "schema_version=%d pages=%d",
             quoted, (long long)out->certificates, out->schema_version, pages);
out:
    if (made) {
        unlink(tmp);
    }
    return err;
}

/*
 * Prove no other process has db_path open, and keep it so: in exclusive
 * locking mode the first access of a WAL database takes the file's
 * exclusive lock, which every other open connection refuses (each holds
 * a shared lock for as long as it is open), and keeps it until close. No
 * busy timeout: a daemon's lock does not go away by waiting. *out is the
 * locked connection, or NULL for a database too damaged to open (nothing
 * can be serving it; it is kept as it is). WD_E_UNAVAILABLE if in use.
 */
static enum wd_err
lock_take(const char *db_path, sqlite3 **out)
{
    sqlite3 *db = NULL;
    char quoted[LOG_QUOTE_BUF];
    int rc;

    *out = NULL;
    log_quote(db_path, strlen(db_path), quoted);
    rc = sqlite3_open_v2(db_path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db, 1);
        rc = sqlite3_exec(db,
                          "PRAGMA locking_mode = EXCLUSIVE;"
                          "BEGIN EXCLUSIVE; COMMIT;",
                          NULL, NULL, NULL);
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        log_err("event=store_restore_refused path=%s error=\"the database "
                "is open in another process\"",
                quoted);
        sqlite3_close(db);
        return WD_E_UNAVAILABLE;
    }
    if (rc != SQLITE_OK) {
        log_warn("event=store_restore path=%s sqlite_rc=%d note=\"the "
                 "database being replaced is unreadable; kept as it is\"",
                 quoted, rc);
        sqlite3_close(db);
        return WD_OK;
    }
    *out = db;
    return WD_OK;
}

/*
 * Carry the integer counters of from (the database being replaced) into
 * the database at to_path where from's are higher: a CRL number handed
 * out after the backup was taken must not be handed out again. A from
 * whose counters cannot be read carries nothing (logged).
 */
static enum wd_err
counters_carry(sqlite3 *from, const char *to_path)
{
    sqlite3 *to = NULL;
    sqlite3_stmt *r = NULL;
    sqlite3_stmt *w = NULL;
    enum wd_err err = WD_OK;
    int rc;

    rc = sqlite3_prepare_v2(from, sql_counters, -1, &r, NULL);
    if (rc != SQLITE_OK) {
        store_sql_err(from, rc, "restore_counters");
        goto out; /* nothing to carry */
    }
    rc = sqlite3_open_v2(to_path, &to,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(to, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(to, sql_counter_carry, -1, &w, NULL);
    }
    if (rc != SQLITE_OK) {
        err = store_sql_err(to, rc, "restore_counters");
        goto out;
    }
    while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
        sqlite3_bind_value(w, 1, sqlite3_column_value(r, 0));
        sqlite3_bind_int64(w, 2, sqlite3_column_int64(r, 1));
        rc = sqlite3_step(w);
        sqlite3_reset(w);
        if (rc != SQLITE_DONE) {
            err = store_sql_err(to, rc, "restore_counters");
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        store_sql_err(from, rc, "restore_counters"); /* carry what we read */
    }
    rc = sqlite3_exec(to, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        err = store_sql_err(to, rc, "restore_counters");
    }
out:
    sqlite3_finalize(r);
    sqlite3_finalize(w);
    sqlite3_close(to); /* an open transaction is rolled back */
    return err;
}

/*
 * Count into out what old (the database being replaced, locked) holds
 * and the staged copy at new_path does not, for the operator to act on:
 * certificates the restored store will not know, revocations it undoes.
 * Best effort: an old database too damaged to read counts nothing.
 */
static void
lost_count(sqlite3 *old, const char *new_path, struct store_backup_info *out)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = sqlite3_prepare_v2(old, "ATTACH ?1 AS new", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 1, new_path, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != SQLITE_DONE) {
        store_sql_err(old, rc, "restore_compare");
        return;
    }
    rc = query_row(old, sql_lost, &s);
    if (rc == SQLITE_ROW) {
        out->lost_certificates = sqlite3_column_int64(s, 0);
        out->lost_revocations = sqlite3_column_int64(s, 1);
    } else {
        store_sql_err(old, rc, "restore_compare");
    }
    sqlite3_finalize(s);
    /* detaching releases the exclusive lock the attach took on the copy */
    rc = sqlite3_exec(old, "DETACH new", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_sql_err(old, rc, "restore_compare");
    }
}

/*
 * Keep the database at db_path (unlocked now) as keep_path: a second
 * name for the same file, so db_path is never missing, or a rename where
 * the file system has no hard links. A -wal left behind goes with it;
 * -shm and -journal are removed, as they would be applied to the new
 * database.
 */
static enum wd_err
keep_old(const char *db_path, const char *keep_path)
{
    char from[PATH_BYTES];
    char to[PATH_BYTES];
    enum wd_err err = WD_OK;

    if (link(db_path, keep_path) != 0) {
        if (errno != EPERM && errno != ENOTSUP && errno != EXDEV) {
            log_path_err("store_restore_failed", keep_path, errno);
            return WD_E_IO;
        }
        err = file_rename(db_path, keep_path);
    }
    snprintf(from, sizeof(from), "%s-wal", db_path);
    snprintf(to, sizeof(to), "%s-wal", keep_path);
    if (err == WD_OK && access(from, F_OK) == 0) {
        err = file_rename(from, to);
    }
    snprintf(from, sizeof(from), "%s-shm", db_path);
    if (err == WD_OK) {
        err = file_remove(from);
    }
    snprintf(from, sizeof(from), "%s-journal", db_path);
    if (err == WD_OK) {
        err = file_remove(from);
    }
    return err;
}

/*
 * Copy the backup at in_path into the temporary file tmp (the SQLite way,
 * so a file that is not SQLite is refused here), then check the copy:
 * what is checked is what will be installed.
 */
static enum wd_err
stage(const char *in_path, const char *tmp, struct store_backup_info *out)
{
    sqlite3 *src = NULL;
    int pages = 0;
    enum wd_err err;
    int rc;

    rc = sqlite3_open_v2(in_path, &src,
                         SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        store_sql_err(src, rc, "restore_open");
        problem_set(out, "cannot be opened");
        sqlite3_close(src);
        return WD_E_IO;
    }
    err = copy_db(src, tmp, &pages);
    sqlite3_close(src);
    if (err != WD_OK) {
        problem_set(out, "damaged, or not a SQLite database");
        return WD_E_IO;
    }
    return store_backup_check(tmp, out);
}

/*
 * Restore the backup at in_path as the database at db_path (see store.h):
 * lock db_path (WD_E_UNAVAILABLE if another process has it open), stage
 * and check a copy beside it (out->problem says why it was refused),
 * ask accept (if not NULL), carry the counters over, give the copy the
 * old file's mode and owner (0600 if there was none) and fsync it, keep
 * the old database as keep_path, rename the copy over db_path and fsync
 * the directory. On failure before the last rename db_path is as it was.
 * *out is zeroed first; the caller clears it either way.
 */
enum wd_err
store_backup_restore(const char *db_path, const char *in_path,
                     const char *keep_path, store_backup_accept_fn *accept,
                     void *ctx, struct store_backup_info *out)
{
    sqlite3 *lock = NULL;
    struct stat old;
    bool have_old;
    char tmp[PATH_BYTES];
    char quoted[LOG_QUOTE_BUF];
    bool made = false;
    enum wd_err err;

    memset(out, 0, sizeof(*out));
    have_old = lstat(db_path, &old) == 0;
    if (!have_old && errno != ENOENT) {
        log_path_err("store_restore_failed", db_path, errno);
        return WD_E_IO;
    }
    if (have_old && !S_ISREG(old.st_mode)) {
        log_path_err("store_restore_failed", db_path, EINVAL);
        return WD_E_IO;
    }
    if (have_old) {
        err = lock_take(db_path, &lock);
        if (err != WD_OK) {
            return err;
        }
    }
    err = temp_create(db_path, "restore", tmp);
    if (err != WD_OK) {
        goto out;
    }
    made = true;
    err = stage(in_path, tmp, out);
    if (err == WD_OK && accept != NULL) {
        err = accept(ctx, out);
    }
    if (err == WD_OK && lock != NULL) {
        lost_count(lock, tmp, out);
        err = counters_carry(lock, tmp);
    }
    if (err == WD_OK) {
        err = file_finish(tmp, have_old ? &old : NULL);
    }
    if (err != WD_OK) {
        goto out;
    }
    /* closing checkpoints what the old WAL held into the old file */
    sqlite3_close(lock);
    lock = NULL;
    if (have_old) {
        err = keep_old(db_path, keep_path);
    }
    if (err == WD_OK) {
        err = file_rename(tmp, db_path);
    }
    if (err != WD_OK) {
        goto out;
    }
    made = false;
    err = dir_sync(db_path);
    log_quote(db_path, strlen(db_path), quoted);
    log_info("event=store_restored path=%s certificates=%lld "
             "schema_version=%d",
             quoted, (long long)out->certificates, out->schema_version);
out:
    sqlite3_close(lock);
    if (made) {
        unlink(tmp);
    }
    return err;
}
