/*
 * The audit log: who did what to which serial, and how it ended. Rows are
 * only ever appended (triggers from the first migration refuse UPDATE and
 * DELETE), each durable before its caller answers. store_cert_insert
 * writes its "issue" event through store_audit_insert inside its own
 * transaction; other callers append standalone events.
 */
#include "store_priv.h"

#include <time.h>

#include "../server/base/log.h"

static const char sql_insert[] =
    "INSERT INTO audit (at, actor, action, serial, outcome, detail)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static const char sql_count[] = "SELECT count(*) FROM audit";

static const char sql_count_serial[] =
    "SELECT count(*) FROM audit WHERE serial = ?1";

static bool
event_is_complete(const struct store_audit_event *ev)
{
    return ev != NULL && ev->actor != NULL && ev->action != NULL &&
           ev->outcome != NULL;
}

static int
event_bind(sqlite3_stmt *s, const struct store_audit_event *ev)
{
    const char *const text[] = { ev->actor, ev->action, ev->serial, ev->outcome,
                                 ev->detail }; /* ?2 to ?6 */
    size_t i;
    int rc;

    rc = sqlite3_bind_int64(s, 1, ev->at != 0 ? ev->at : (int64_t)time(NULL));
    for (i = 0; i < sizeof(text) / sizeof(text[0]) && rc == SQLITE_OK; i++) {
        /* a NULL pointer binds SQL NULL: serial and detail may be absent */
        rc = sqlite3_bind_text(s, 2 + (int)i, text[i], -1, SQLITE_STATIC);
    }
    return rc;
}

/*
 * Append ev on conn: in the caller's transaction if one is open, else as
 * its own. ev->at of 0 means now. WD_E_INTERNAL for an incomplete event.
 */
enum wd_err
store_audit_insert(struct store_conn *conn, const struct store_audit_event *ev)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    if (!event_is_complete(ev)) {
        log_err("event=store_bug op=audit_insert error=\"incomplete event\"");
        return WD_E_INTERNAL;
    }
    err = store_stmt_get(conn, STORE_STMT_AUDIT_INSERT, sql_insert, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = event_bind(s, ev);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, "audit_insert");
    }
    store_stmt_done(s);
    return err;
}

/*
 * Append one event to the audit log, committed to disk before WD_OK (one
 * statement outside a transaction takes the write lock before it reads,
 * as BEGIN IMMEDIATE does). ev->at of 0 means now. WD_E_UNAVAILABLE if
 * the write lock stayed taken past the busy timeout; WD_E_INTERNAL if
 * actor, action or outcome is missing.
 */
enum wd_err
store_audit_append(struct store *st, const struct store_audit_event *ev)
{
    struct store_conn *conn = NULL;
    enum wd_err err;

    if (st == NULL || !event_is_complete(ev)) {
        log_err("event=store_bug op=audit_append error=\"incomplete event\"");
        return WD_E_INTERNAL;
    }
    err = store_conn_borrow(st, &conn);
    if (err == WD_OK) {
        err = store_audit_insert(conn, ev);
    }
    store_conn_return(st, conn);
    return err;
}

/*
 * The number of audit events about serial, or of all events when serial is
 * NULL, into *out; *out is untouched on failure.
 */
enum wd_err
store_audit_count(struct store *st, const char *serial, int64_t *out)
{
    struct store_conn *conn = NULL;
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc = SQLITE_OK;

    if (st == NULL || out == NULL) {
        log_err("event=store_bug op=audit_count error=\"missing argument\"");
        return WD_E_INTERNAL;
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    if (serial == NULL) {
        err = store_stmt_get(conn, STORE_STMT_AUDIT_COUNT, sql_count, &s);
    } else {
        err = store_stmt_get(conn, STORE_STMT_AUDIT_COUNT_SERIAL,
                             sql_count_serial, &s);
        if (err == WD_OK) {
            rc = sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC);
        }
    }
    if (err != WD_OK) {
        goto out;
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_ROW) {
        err = store_sql_err(conn->db, rc, "audit_count");
        goto out;
    }
    *out = sqlite3_column_int64(s, 0);
out:
    store_stmt_done(s);
    store_conn_return(st, conn);
    return err;
}
