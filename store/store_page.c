/*
 * The loop every keyset-paged listing shares (store_cert_list in
 * store_cert.c, store_audit_list in store_audit.c): step a statement the
 * caller bound for limit + 1 rows, read at most limit of them into a fresh
 * array, and take the one beyond as the sign that a next page exists. A
 * listing brings its row type as a size and a pair of callbacks; the first
 * column of its SELECT is the id it pages on.
 */
#include "store_priv.h"

#include <stdlib.h>

#include "../server/base/xmalloc.h"

/*
 * Step s to its end, reading up to limit rows through rows->read into a new
 * array of rows->item_size items. On WD_OK the caller owns *items (each
 * item cleared with rows->clear, then the array freed), *n is the number
 * read and *next_cursor the id (column 0) of the last item when s had a
 * row beyond them, else 0. On failure (rows->read's error, or a step error
 * logged under rows->what) every item read is cleared and the outputs are
 * untouched.
 */
enum wd_err
store_page_collect(struct store_conn *conn, sqlite3_stmt *s, size_t limit,
                   const struct store_page_rows *rows, void **items, size_t *n,
                   int64_t *next_cursor)
{
    unsigned char *buf = xcalloc(limit, rows->item_size);
    enum wd_err err = WD_OK;
    int64_t last_id = 0;
    bool more = false;
    size_t got = 0;
    size_t i;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (got == limit) {
            more = true;
            break;
        }
        last_id = sqlite3_column_int64(s, 0);
        /* counted before reading: a half-read item is cleared too */
        err = rows->read(s, buf + got++ * rows->item_size);
        if (err != WD_OK) {
            goto out;
        }
    }
    if (!more && rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, rows->what);
        goto out;
    }
    *items = buf;
    *n = got;
    *next_cursor = more ? last_id : 0;
    buf = NULL; /* the caller owns them now */
out:
    for (i = 0; buf != NULL && i < got; i++) {
        rows->clear(buf + i * rows->item_size);
    }
    free(buf);
    return err;
}
