/*
 * Durable named counters in the meta table: the CRL number, the count of
 * revocations. A counter moves only inside a write transaction that reads
 * its new value back before committing, so two callers never see the same
 * value and, with synchronous=FULL, a value handed out survives a crash:
 * a CRL number is never issued twice. store_cert_revoke bumps its counter
 * through store_counter_bump inside its own transaction.
 */
#include "store_priv.h"

#include <string.h>

#include "../server/base/log.h"

/* Counters are names of ours, not input: a short ASCII key is plenty. */
#define COUNTER_NAME_MAX 64

/* meta is untyped and 'x' + 1 is 1 to SQLite: a value that is not an
 * integer stays as it is, and the read-back that follows refuses it */
static const char sql_bump[] =
    "INSERT INTO meta (key, value) VALUES (?1, 1)"
    " ON CONFLICT (key) DO UPDATE SET value = value + 1"
    " WHERE typeof(value) = 'integer'";

static const char sql_get[] = "SELECT value FROM meta WHERE key = ?1";

/* 1 to COUNTER_NAME_MAX characters of [a-z0-9_.-]. */
static bool
name_is_valid(const char *name)
{
    size_t i;

    if (name == NULL) {
        return false;
    }
    for (i = 0; name[i] != '\0'; i++) {
        if (i == COUNTER_NAME_MAX ||
            strchr("abcdefghijklmnopqrstuvwxyz0123456789_.-", name[i]) ==
                NULL) {
            return false;
        }
    }
    return i > 0;
}

/* The value of name on conn into *out, 0 if it was never set. */
static enum wd_err
value_read(struct store_conn *conn, const char *name, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_COUNTER_GET, sql_get, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_DONE) {
        *out = 0;
    } else if (rc != SQLITE_ROW) {
        err = store_sql_err(conn->db, rc, "counter_get");
    } else if (sqlite3_column_type(s, 0) != SQLITE_INTEGER) {
        /* meta is untyped; only these functions write counters */
        log_err("event=store_failed op=counter_get counter=%s "
                "error=\"not an integer\"",
                name);
        err = WD_E_INTERNAL;
    } else {
        *out = sqlite3_column_int64(s, 0);
    }
    store_stmt_done(s);
    return err;
}

/*
 * Add one to the counter name on conn (a new counter starts at 1), inside
 * the caller's write transaction, and read the new value into *out if out
 * is not NULL. name is checked by the caller or a constant of ours.
 */
enum wd_err
store_counter_bump(struct store_conn *conn, const char *name, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int64_t value = 0;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_COUNTER_BUMP, sql_bump, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, "counter_bump");
    }
    store_stmt_done(s);
    if (err != WD_OK) {
        return err;
    }
    /* read back even when out is NULL: a counter that is not an integer
     * is refused here, and the caller's transaction rolls back */
    err = value_read(conn, name, &value);
    if (err == WD_OK && out != NULL) {
        *out = value;
    }
    return err;
}

/*
 * Add one to the counter name and give its new value in *out (the first
 * call gives 1), in one write transaction committed to disk before WD_OK:
 * no value is handed out twice, across threads, processes or a crash.
 * *out is untouched on failure: WD_E_UNAVAILABLE if the write lock stayed
 * taken past the busy timeout; WD_E_INTERNAL (logged) for a name that is
 * not 1 to 64 characters of [a-z0-9_.-], or a missing argument.
 */
enum wd_err
store_counter_next(struct store *st, const char *name, int64_t *out)
{
    struct store_conn *conn = NULL;
    int64_t value = 0;
    enum wd_err err;

    if (st == NULL || !name_is_valid(name) || out == NULL) {
        log_err("event=store_bug op=counter_next error=\"missing argument or "
                "bad counter name\"");
        return WD_E_INTERNAL;
    }
    err = store_write_open(st, &conn);
    if (err != WD_OK) {
        return err;
    }
    err = store_counter_bump(conn, name, &value);
    if (err == WD_OK) {
        err = store_tx_commit(conn); /* rolls back itself on failure */
    }
    if (err == WD_OK) {
        *out = value;
    }
    store_write_close(st, conn);
    return err;
}

/*
 * The current value of the counter name into *out: 0 if it was never
 * bumped. *out is untouched on failure; WD_E_INTERNAL (logged) for a bad
 * name or a missing argument, as store_counter_next.
 */
enum wd_err
store_counter_get(struct store *st, const char *name, int64_t *out)
{
    struct store_conn *conn = NULL;
    int64_t value = 0;
    enum wd_err err;

    if (st == NULL || !name_is_valid(name) || out == NULL) {
        log_err("event=store_bug op=counter_get error=\"missing argument or "
                "bad counter name\"");
        return WD_E_INTERNAL;
    }
    err = store_conn_borrow(st, &conn);
    if (err == WD_OK) {
        err = value_read(conn, name, &value);
    }
    if (err == WD_OK) {
        *out = value;
    }
    store_conn_return(st, conn);
    return err;
}
