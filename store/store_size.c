/*
 * How much disk the database takes, for /metrics. The database is counted
 * in pages as SQLite sees it (page_count * page_size: what is committed,
 * pages still in the write-ahead log included); the write-ahead log as
 * the file system sees it, since it only shrinks at a checkpoint.
 */
#include "store_priv.h"

#include <stdio.h>
#include <sys/stat.h>

/* One integer from a PRAGMA (prepared per call: this runs per scrape). */
static enum wd_err
pragma_int(struct store_conn *conn, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err = WD_OK;
    int rc;

    rc = sqlite3_prepare_v2(conn->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
    } else {
        err = store_sql_err(conn->db, rc, "size");
    }
    sqlite3_finalize(s);
    return err;
}

/* Bytes of the -wal file beside the database; 0 when there is none. */
static int64_t
wal_size(struct store_conn *conn)
{
    const char *db = sqlite3_db_filename(conn->db, "main");
    char path[4096];
    struct stat st;

    if (db == NULL || db[0] == '\0') {
        return 0; /* in memory */
    }
    if ((size_t)snprintf(path, sizeof(path), "%s-wal", db) >= sizeof(path) ||
        stat(path, &st) != 0) {
        return 0;
    }
    return (int64_t)st.st_size;
}

/*
 * The database's size in *db_bytes and its write-ahead log's in
 * *wal_bytes. Both untouched on failure (WD_E_UNAVAILABLE when no
 * connection is free in time).
 */
enum wd_err
store_size_get(struct store *st, int64_t *db_bytes, int64_t *wal_bytes)
{
    struct store_conn *conn = NULL;
    int64_t pages = 0;
    int64_t page_size = 0;
    enum wd_err err;

    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        return err;
    }
    err = pragma_int(conn, "PRAGMA page_count", &pages);
    if (err == WD_OK) {
        err = pragma_int(conn, "PRAGMA page_size", &page_size);
    }
    if (err == WD_OK) {
        *db_bytes = pages * page_size;
        *wal_bytes = wal_size(conn);
    }
    store_conn_return(st, conn);
    return err;
}
