/*
 * The walk over revoked certificates that a CRL is built from. One read
 * transaction gives one snapshot however long the walk takes, while
 * writers carry on in WAL; the rows come from certificates_revoked_serial
 * (migration 2), a partial index that holds only revoked rows, already in
 * serial order, with every column the walk returns. So a million entries
 * cost one pass over a narrow index: no table lookups, no sort, and no
 * allocation per row.
 */
#include "store_priv.h"

#include "../server/base/log.h"

/* The index's own condition is repeated so the planner may use it. */
static const char sql_walk[] =
    "SELECT serial, revoked_at, revoke_reason, not_after"
    " FROM certificates INDEXED BY certificates_revoked_serial"
    " WHERE revoked_at IS NOT NULL AND not_after >= ?1"
    " ORDER BY serial";

/*
 * Call fn(ctx, ...) once per revoked certificate whose not_after >=
 * keep_after (0 = every one), in ascending serial order (bytewise on the
 * hex text: numeric order for serials of one length, as pki_serial_new
 * makes them), all from one snapshot. serial is lent for the call only.
 * Returns WD_OK after the last row; fn's first error, which stops the walk;
 * or the store's (WD_E_UNAVAILABLE, WD_E_IO, WD_E_INTERNAL, logged).
 */
enum wd_err
store_revoked_foreach(struct store *st, int64_t keep_after,
                      store_revoked_fn *fn, void *ctx)
{
    struct store_conn *conn = NULL;
    sqlite3_stmt *s = NULL;
    const char *serial;
    bool in_tx = false;
    enum wd_err err;
    int rc;

    if (st == NULL || fn == NULL) {
        log_err("event=store_bug op=revoked_walk error=\"missing argument\"");
        return WD_E_INTERNAL;
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = store_tx_begin_read(conn);
    if (err != WD_OK) {
        goto out;
    }
    in_tx = true;
    err = store_stmt_get(conn, STORE_STMT_REVOKED_WALK, sql_walk, &s);
    if (err != WD_OK) {
        goto out;
    }
    rc = sqlite3_bind_int64(s, 1, keep_after != 0 ? keep_after : INT64_MIN);
    if (rc != SQLITE_OK) {
        err = store_sql_err(conn->db, rc, "revoked_walk");
        goto out;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        /* text in the index is UTF-8 already: a pointer, not a copy */
        serial = (const char *)sqlite3_column_text(s, 0);
        if (serial == NULL) { /* NOT NULL in the schema: out of memory */
            err = store_sql_err(conn->db, SQLITE_NOMEM, "revoked_walk");
            goto out;
        }
        err = fn(ctx, serial, sqlite3_column_int64(s, 1),
                 sqlite3_column_int(s, 2), sqlite3_column_int64(s, 3));
        if (err != WD_OK) {
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, "revoked_walk");
        goto out;
    }
    store_stmt_done(s);
    s = NULL;
    err = store_tx_commit(conn); /* ends the snapshot; nothing to write */
    in_tx = false;
out:
    store_stmt_done(s);
    if (in_tx) {
        store_tx_rollback(conn);
    }
    store_conn_return(st, conn);
    return err;
}
