/*
 * The inventory's listing: a page of certificates, newest first or
 * soonest to expire first, keyset paginated (id < cursor, or (not_after,
 * id) after the cursor's; never OFFSET), filtered by status against the
 * caller's clock and by an expiry range, and searched through the trigram index
 * certificates_fts when the term is long enough for it. Each listing's SQL
 * is glued from fixed fragments, every value bound, and prepared once per
 * connection.
 */
#include "store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/*
 * A listing is one statement in two steps. The inner SELECT finds the
 * page's ids (alias s) through narrow indexes only: certificates_status
 * holds id, revoked_at and not_after in id order, so skipping rows that
 * fail a filter never reads their DER. The outer SELECT (alias c) then
 * reads the page's rows whole. At a million rows of about 1 KiB each this
 * is the difference between reading megabytes and gigabytes.
 */

/* Status filters on s; :now and :soon are bound. */
enum filter {
    FILTER_NONE,
    FILTER_VALID,
    FILTER_EXPIRED,
    FILTER_REVOKED,
    FILTER_EXPIRING,
    FILTER__COUNT
};

static const char *const filter_sql[FILTER__COUNT] = {
    [FILTER_NONE] = "",
    [FILTER_VALID] = " AND s.revoked_at IS NULL AND s.not_after > :now",
    [FILTER_EXPIRED] = " AND s.revoked_at IS NULL AND s.not_after <= :now",
    [FILTER_REVOKED] = " AND s.revoked_at IS NOT NULL",
    [FILTER_EXPIRING] = " AND s.revoked_at IS NULL AND s.not_after > :now"
                        " AND s.not_after <= :soon",
};

/* How a listing searches; :q is bound to a term made by search_term, :ids
 * to the JSON array fts_probe made. */
enum search { SEARCH_NONE, SEARCH_FTS, SEARCH_LIKE, SEARCH_IDS, SEARCH__COUNT };

/*
 * FTS5 walks a phrase's doclists forwards about three times faster than
 * backwards (one match among a million rows: 1.3 ms against 5 ms). So a
 * trigram search first asks the index for up to FTS_PROBE matches oldest
 * first, whatever the page's status and order; fewer than that are all of
 * them, and the page is picked among those ids (SEARCH_IDS). A term
 * matching more rows pages backwards through the index (SEARCH_FTS),
 * where a dense match fills a page early.
 */
#define FTS_PROBE 256

static const char sql_fts_probe[] =
    "SELECT rowid FROM certificates_fts WHERE certificates_fts MATCH :q"
    " AND rowid < :cursor ORDER BY rowid LIMIT :probe";

#define SORT__COUNT 2 /* enum store_sort */

/*
 * The inner SELECT up to its status filter, per order. Newest first, the
 * FTS5 variant walks the trigram index backwards (it honours ORDER BY
 * rowid DESC and rowid < :cursor), so a term matching every row still
 * stops after one page. By expiry, the keyset is the row value (not_after,
 * id) and certificates_expiry holds exactly that order, with revoked_at
 * for the status filters; a search by expiry sorts its matches.
 */
static const char *const search_sql[SORT__COUNT][SEARCH__COUNT] = {
    [STORE_SORT_ISSUED] = {
        [SEARCH_NONE] = "SELECT s.id FROM certificates s WHERE s.id < :cursor",
        [SEARCH_FTS] = "SELECT f.rowid FROM certificates_fts f"
                       " JOIN certificates s INDEXED BY certificates_status"
                       " ON s.id = f.rowid"
                       " WHERE certificates_fts MATCH :q"
                       " AND f.rowid < :cursor",
        [SEARCH_LIKE] = "SELECT s.id FROM certificates s WHERE s.id < :cursor"
                        " AND (s.cn LIKE :q ESCAPE '\\'"
                        " OR s.sans LIKE :q ESCAPE '\\'"
                        " OR s.serial LIKE :q ESCAPE '\\')",
        [SEARCH_IDS] = "SELECT s.id FROM certificates s"
                       " WHERE s.id IN (SELECT value FROM json_each(:ids))"
                       " AND s.id < :cursor",
    },
    [STORE_SORT_EXPIRES] = {
        [SEARCH_NONE] = "SELECT s.id FROM certificates s"
                        " INDEXED BY certificates_expiry"
                        " WHERE (s.not_after, s.id) > (:cna, :cursor)",
        [SEARCH_FTS] = "SELECT f.rowid FROM certificates_fts f"
                       " JOIN certificates s INDEXED BY certificates_status"
                       " ON s.id = f.rowid"
                       " WHERE certificates_fts MATCH :q"
                       " AND (s.not_after, s.id) > (:cna, :cursor)",
        [SEARCH_LIKE] = "SELECT s.id FROM certificates s"
                        " INDEXED BY certificates_expiry"
                        " WHERE (s.not_after, s.id) > (:cna, :cursor)"
                        " AND (s.cn LIKE :q ESCAPE '\\'"
                        " OR s.sans LIKE :q ESCAPE '\\'"
                        " OR s.serial LIKE :q ESCAPE '\\')",
        [SEARCH_IDS] = "SELECT s.id FROM certificates s"
                       " WHERE s.id IN (SELECT value FROM json_each(:ids))"
                       " AND (s.not_after, s.id) > (:cna, :cursor)",
    },
};

static const char *const order_sql[SORT__COUNT][SEARCH__COUNT] = {
    [STORE_SORT_ISSUED] = {
        [SEARCH_NONE] = " ORDER BY s.id DESC",
        [SEARCH_FTS] = " ORDER BY f.rowid DESC",
        [SEARCH_LIKE] = " ORDER BY s.id DESC",
        [SEARCH_IDS] = " ORDER BY s.id DESC",
    },
    [STORE_SORT_EXPIRES] = {
        [SEARCH_NONE] = " ORDER BY s.not_after, s.id",
        [SEARCH_FTS] = " ORDER BY s.not_after, s.id",
        [SEARCH_LIKE] = " ORDER BY s.not_after, s.id",
        [SEARCH_IDS] = " ORDER BY s.not_after, s.id",
    },
};

/* The outer SELECT's order, the same as the inner one's. */
static const char *const outer_order_sql[SORT__COUNT] = {
    [STORE_SORT_ISSUED] = "c.id DESC",
    [STORE_SORT_EXPIRES] = "c.not_after, c.id",
};

/* An expiry range, when the query has either bound; :after and :before
 * are bound, the missing one to the widest value. */
static const char *const range_sql[2] = {
    "",
    " AND s.not_after > :after AND s.not_after <= :before",
};

_Static_assert((FILTER__COUNT * SEARCH__COUNT * SORT__COUNT * 2) ==
                   STORE_LIST_VARIANTS,
               "store_priv.h reserves one statement slot per variant");

/* Free the items of l and empty it; accepts NULL. l itself is the
 * caller's. */
void
store_cert_list_free(struct store_cert_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        store_cert_clear(&l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
    l->next_cursor = 0;
}

/* row_read and cert_clear on store_page_collect's untyped items. */
static enum wd_err
item_read(sqlite3_stmt *s, void *item)
{
    return store_cert_row_read(s, item);
}

static void
item_clear(void *item)
{
    store_cert_clear(item);
}

/* A listing's rows, for store_page_collect. */
static const struct store_page_rows cert_rows = {
    sizeof(struct store_cert),
    item_read,
    item_clear,
    "cert_list",
};

static enum wd_err
query_check(const struct store_query *q)
{
    if (q->limit < 1 || q->limit > WD_LIST_LIMIT_MAX) {
        return WD_E_BAD_QUERY;
    }
    if (q->cursor < 0) {
        return WD_E_BAD_CURSOR;
    }
    if ((unsigned)q->status > STORE_STATUS_EXPIRING || q->expiring_within < 0 ||
        (unsigned)q->sort >= SORT__COUNT || q->expires_after < 0 ||
        q->expires_before < 0) {
        return WD_E_BAD_QUERY;
    }
    if (q->q != NULL && strlen(q->q) > WD_MAX_QUERY_TERM) {
        return WD_E_BAD_QUERY;
    }
    return WD_OK;
}

/* An expiry window with ANY or VALID means "valid and expiring in it". */
static enum filter
filter_pick(const struct store_query *q)
{
    switch (q->status) {
    case STORE_STATUS_VALID:
        return q->expiring_within > 0 ? FILTER_EXPIRING : FILTER_VALID;
    case STORE_STATUS_EXPIRED:
        return FILTER_EXPIRED;
    case STORE_STATUS_REVOKED:
        return FILTER_REVOKED;
    case STORE_STATUS_EXPIRING:
        return FILTER_EXPIRING;
    case STORE_STATUS_ANY:
    default:
        return q->expiring_within > 0 ? FILTER_EXPIRING : FILTER_NONE;
    }
}

/* Trigrams need a term of three characters, not bytes: count UTF-8 lead
 * bytes. Shorter terms scan the table with LIKE. */
static enum search
search_pick(const char *term)
{
    size_t chars = 0;
    size_t i;

    if (term == NULL || term[0] == '\0') {
        return SEARCH_NONE;
    }
    for (i = 0; term[i] != '\0'; i++) {
        if (((unsigned char)term[i] & 0xc0) != 0x80) {
            chars++;
        }
    }
    return chars >= 3 ? SEARCH_FTS : SEARCH_LIKE;
}

/*
 * The value bound to :q, so the user's term is only ever literal text. For
 * FTS5, one string literal ("..." with " doubled): a phrase of trigrams,
 * which matches a case-insensitive substring. For LIKE, %term% with \, %
 * and _ escaped by \. Caller frees.
 */
static char *
search_term(const char *term, enum search how)
{
    size_t len = strlen(term);
    char *out = xmalloc(2 * len + 3);
    size_t o = 0;
    size_t i;

    out[o++] = how == SEARCH_FTS ? '"' : '%';
    for (i = 0; i < len; i++) {
        if (how == SEARCH_FTS && term[i] == '"') {
            out[o++] = '"';
        } else if (how == SEARCH_LIKE &&
                   (term[i] == '\\' || term[i] == '%' || term[i] == '_')) {
            out[o++] = '\\';
        }
        out[o++] = term[i];
    }
    out[o++] = how == SEARCH_FTS ? '"' : '%';
    out[o] = '\0';
    return out;
}

static bool
has_range(const struct store_query *q)
{
    return q->expires_after > 0 || q->expires_before > 0;
}

static enum wd_err
list_stmt(struct store_conn *conn, const struct store_query *q, enum filter f,
          enum search how, sqlite3_stmt **out)
{
    char sql[1024];
    int range = has_range(q) ? 1 : 0;
    enum store_stmt slot = (enum store_stmt)(
        STORE_STMT_CERT_LIST +
        ((f * SEARCH__COUNT + how) * SORT__COUNT + q->sort) * 2 + range);
    int n;

    if (conn->stmts[slot] != NULL) {
        *out = conn->stmts[slot];
        return WD_OK;
    }
    /* fixed fragments only: no value of the query is in the text */
    n = snprintf(sql, sizeof(sql),
                 "SELECT " STORE_CERT_COLUMNS
                 " FROM certificates c WHERE c.id IN"
                 " (%s%s%s%s LIMIT :limit) ORDER BY %s",
                 search_sql[q->sort][how], filter_sql[f], range_sql[range],
                 order_sql[q->sort][how], outer_order_sql[q->sort]);
    if (n < 0 || (size_t)n >= sizeof(sql)) {
        log_err("event=store_bug op=cert_list error=\"SQL too long\"");
        return WD_E_INTERNAL;
    }
    return store_stmt_get(conn, slot, sql, out);
}

/* Binds name if this variant of the statement has it. */
static int
bind_int(sqlite3_stmt *s, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(s, name);

    return i == 0 ? SQLITE_OK : sqlite3_bind_int64(s, i, v);
}

/* The same for text, which s does not copy. */
static int
bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
    int i = sqlite3_bind_parameter_index(s, name);

    return i == 0 ? SQLITE_OK : sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/*
 * Where an expiry-ordered page starts: after the cursor row, and never
 * before the first not_after the filters allow (not_after > floor is
 * (not_after, id) > (floor, INT64_MAX)), so the index walk skips the
 * expired rows a VALID page would only filter out.
 */
static void
expires_start(const struct store_query *q, enum filter f, int64_t *key,
              int64_t *id)
{
    int64_t floor = INT64_MIN;

    *key = q->cursor == 0 ? INT64_MIN : q->cursor_not_after;
    *id = q->cursor == 0 ? INT64_MIN : q->cursor;
    if (f == FILTER_VALID || f == FILTER_EXPIRING) {
        floor = q->now;
    }
    if (q->expires_after > floor) {
        floor = q->expires_after;
    }
    if (*key < floor || (*key == floor && *id < INT64_MAX)) {
        *key = floor;
        *id = INT64_MAX;
    }
}

/*
 * Every id below cursor that the FTS5 term matches, oldest first, as a
 * JSON array for json_each, when there are fewer than FTS_PROBE of them;
 * else *ids stays NULL. Caller frees *ids.
 */
static enum wd_err
fts_probe(struct store_conn *conn, const char *term, int64_t cursor, char **ids)
{
    /* an int64 in decimal with its sign and comma is at most 21 bytes */
    size_t cap = FTS_PROBE * 21 + 3;
    char *buf = NULL;
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    size_t used = 0;
    int n = 0;
    int rc;

    *ids = NULL;
    err = store_stmt_get(conn, STORE_STMT_CERT_FTS_PROBE, sql_fts_probe, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = bind_text(s, ":q", term);
    if (rc == SQLITE_OK) {
        rc = bind_int(s, ":cursor", cursor);
    }
    if (rc == SQLITE_OK) {
        rc = bind_int(s, ":probe", FTS_PROBE);
    }
    if (rc != SQLITE_OK) {
        err = store_sql_err(conn->db, rc, "cert_fts_probe");
        goto out;
    }
    buf = xmalloc(cap);
    buf[used++] = '[';
    /* n bounds the writes to cap whatever the statement returns */
    while (n < FTS_PROBE && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld",
                                 n++ > 0 ? "," : "",
                                 (long long)sqlite3_column_int64(s, 0));
    }
    if (n == FTS_PROBE) {
        goto out; /* more may match: the caller pages through the index */
    }
    if (rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, "cert_fts_probe");
        goto out;
    }
    buf[used++] = ']';
    buf[used] = '\0';
    *ids = buf;
    buf = NULL;
out:
    free(buf);
    store_stmt_done(s);
    return err;
}

/* text is the term for :q or the id array for :ids, whichever s has. */
static int
list_bind(sqlite3_stmt *s, const struct store_query *q, enum filter f,
          const char *text)
{
    int64_t soon = q->now > INT64_MAX - q->expiring_within
                       ? INT64_MAX
                       : q->now + q->expiring_within;
    int64_t key = 0;
    int64_t id = q->cursor == 0 ? INT64_MAX : q->cursor;
    int rc;

    if (q->sort == STORE_SORT_EXPIRES) {
        expires_start(q, f, &key, &id);
    }
    rc = bind_int(s, ":cursor", id);
    if (rc == SQLITE_OK) {
        rc = bind_int(s, ":cna", key);
    }
    if (rc == SQLITE_OK) {
        rc = bind_int(s, ":now", q->now);
    }
    if (rc == SQLITE_OK) {
        rc = bind_int(s, ":soon", soon);
    }
    if (rc == SQLITE_OK) {
        rc = bind_int(s, ":after",
                      q->expires_after > 0 ? q->expires_after : INT64_MIN);
    }
    if (rc == SQLITE_OK) {
        rc = bind_int(s, ":before",
                      q->expires_before > 0 ? q->expires_before : INT64_MAX);
    }
    if (rc == SQLITE_OK) {
        /* one more than asked: its presence says a next page exists */
        rc = bind_int(s, ":limit", (int64_t)q->limit + 1);
    }
    if (rc == SQLITE_OK && text != NULL) {
        rc = bind_text(s, ":q", text);
    }
    if (rc == SQLITE_OK && text != NULL) {
        rc = bind_text(s, ":ids", text);
    }
    return rc;
}

/*
 * A page of the inventory matching q, in q->sort's order: at most
 * q->limit rows after the cursor (store.h; 0 = the first page).
 * out->next_cursor (and next_cursor_not_after) name the last row when more
 * rows match, else 0. Status semantics are in store.h; q->expiring_within
 * > 0 with STORE_STATUS_ANY or VALID selects the EXPIRING rows, and
 * EXPIRED and REVOKED ignore it; expires_after and expires_before bound
 * not_after whatever the status. WD_E_BAD_QUERY for a limit outside
 * 1..WD_LIST_LIMIT_MAX, an unknown status or sort, a negative window or
 * bound, or an overlong term; WD_E_BAD_CURSOR for a negative cursor. *out
 * is reset first and filled only on success; the caller frees it with
 * store_cert_list_free.
 */
enum wd_err
store_cert_list(struct store *st, const struct store_query *q,
                struct store_cert_list *out)
{
    struct store_conn *conn = NULL;
    sqlite3_stmt *s = NULL;
    void *items = NULL;
    char *term = NULL;
    char *ids = NULL;
    enum search how;
    enum filter f;
    enum wd_err err;
    int rc;

    if (st == NULL || q == NULL || out == NULL) {
        log_err("event=store_bug op=cert_list error=\"missing argument\"");
        return WD_E_INTERNAL;
    }
    memset(out, 0, sizeof(*out));
    err = query_check(q);
    if (err != WD_OK) {
        goto out;
    }
    how = search_pick(q->q);
    if (how != SEARCH_NONE) {
        term = search_term(q->q, how);
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    if (how == SEARCH_FTS) {
        /* by expiry, the cursor is not an id bound: every match counts */
        err = fts_probe(conn, term,
                        q->sort == STORE_SORT_ISSUED && q->cursor != 0
                            ? q->cursor
                            : INT64_MAX,
                        &ids);
        if (err != WD_OK) {
            goto out;
        }
        how = ids != NULL ? SEARCH_IDS : SEARCH_FTS;
    }
    f = filter_pick(q);
    err = list_stmt(conn, q, f, how, &s);
    if (err != WD_OK) {
        goto out;
    }
    rc = list_bind(s, q, f, how == SEARCH_IDS ? ids : term);
    if (rc != SQLITE_OK) {
        err = store_sql_err(conn->db, rc, "cert_list");
        goto out;
    }
    err = store_page_collect(conn, s, q->limit, &cert_rows, &items, &out->n,
                             &out->next_cursor);
    out->items = items; /* NULL unless it succeeded */
    if (err == WD_OK && out->next_cursor != 0) {
        out->next_cursor_not_after = out->items[out->n - 1].not_after;
    }
out:
    free(ids);
    free(term);
    store_stmt_done(s);
    store_conn_return(st, conn);
    return err;
}
