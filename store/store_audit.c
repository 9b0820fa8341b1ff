/*
 * The audit log: who did what to which serial, and how it ended. Rows are
 * only ever appended (triggers from the first migration refuse UPDATE and
 * DELETE), each durable before its caller answers. store_cert_insert_audited
 * and store_cert_revoke write their events through store_audit_insert
 * inside their own transactions; other callers append standalone events.
 * A listing is a page newest first, keyset paginated on id (id < cursor,
 * never OFFSET), optionally filtered by exact serial, actor and action, each
 * filter read through an index that is already in id order.
 */
#include "store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

static const char sql_insert[] =
    "INSERT INTO audit (at, actor, action, serial, outcome, detail)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static const char sql_count[] = "SELECT count(*) FROM audit";

static const char sql_count_serial[] =
    "SELECT count(*) FROM audit WHERE serial = ?1";

/* Column order read by row_read; id first, as store_page_collect pages on
 * column 0. */
#define AUDIT_COLUMNS "id, at, actor, action, serial, outcome, detail"

/*
 * A listing's optional filters; a variant of the statement is the sum of
 * the bits of those the query sets, and filter_sql[i] belongs to bit i.
 */
enum {
    FILTER_SERIAL = 1,
    FILTER_ACTOR = 2,
    FILTER_ACTION = 4,
};

static const char *const filter_sql[] = {
    " AND serial = :serial",
    " AND actor = :actor",
    " AND action = :action",
};

/*
 * The index each variant reads. A serial has a handful of events, so
 * audit_serial wins whenever serial is given; without statistics the
 * planner would rather take audit_actor or audit_action (migration 3),
 * whose range can hold millions. Otherwise the index matching every given
 * filter. Each is one range read in id order: a page costs limit + 1
 * index entries and their rows, and no sort.
 */
static const char *const index_sql[STORE_AUDIT_LIST_VARIANTS] = {
    [0] = "", /* the rowid itself, newest first */
    [FILTER_SERIAL] = " INDEXED BY audit_serial",
    [FILTER_ACTOR] = " INDEXED BY audit_actor",
    [FILTER_SERIAL | FILTER_ACTOR] = " INDEXED BY audit_serial",
    [FILTER_ACTION] = " INDEXED BY audit_action",
    [FILTER_SERIAL | FILTER_ACTION] = " INDEXED BY audit_serial",
    [FILTER_ACTOR | FILTER_ACTION] = " INDEXED BY audit_actor_action",
    [FILTER_SERIAL | FILTER_ACTOR | FILTER_ACTION] = " INDEXED BY audit_serial",
};

#define N_FILTERS (sizeof(filter_sql) / sizeof(filter_sql[0]))

_Static_assert((1 << N_FILTERS) == STORE_AUDIT_LIST_VARIANTS,
               "store_priv.h reserves one statement slot per variant");

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

/* Frees what item (a struct store_audit_row) owns, not item itself. */
static void
row_clear(void *item)
{
    struct store_audit_row *r = item;

    free(r->actor);
    free(r->action);
    free(r->serial);
    free(r->outcome);
    free(r->detail);
}

/* Free the items of l and empty it; accepts NULL and a zeroed list. l
 * itself is the caller's. */
void
store_audit_list_free(struct store_audit_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        row_clear(&l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
    l->next_cursor = 0;
}

/* A copy of column i's text, NULL for SQL NULL. */
static char *
text_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t != NULL ? xstrdup((const char *)t) : NULL;
}

/* Fills item, a struct store_audit_row, from the current row of s
 * (AUDIT_COLUMNS order). On failure it may be partly filled: the caller
 * clears it. */
static enum wd_err
row_read(sqlite3_stmt *s, void *item)
{
    struct store_audit_row *r = item;

    r->id = sqlite3_column_int64(s, 0);
    r->at = sqlite3_column_int64(s, 1);
    r->actor = text_dup(s, 2);
    r->action = text_dup(s, 3);
    r->serial = text_dup(s, 4);
    r->outcome = text_dup(s, 5);
    r->detail = text_dup(s, 6);
    if (r->actor == NULL || r->action == NULL || r->outcome == NULL) {
        log_err("event=store_failed op=audit_list id=%lld "
                "error=\"malformed row\"",
                (long long)r->id);
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/* A listing's rows, for store_page_collect. */
static const struct store_page_rows audit_rows = {
    sizeof(struct store_audit_row),
    row_read,
    row_clear,
    "audit_list",
};

static enum wd_err
query_check(const struct store_audit_query *q)
{
    if (q->limit < 1 || q->limit > WD_LIST_LIMIT_MAX) {
        return WD_E_BAD_QUERY;
    }
    if (q->cursor < 0) {
        return WD_E_BAD_CURSOR;
    }
    return WD_OK;
}

/* The statement for the filters q sets, prepared on its first use. */
static enum wd_err
list_stmt(struct store_conn *conn, const struct store_audit_query *q,
          sqlite3_stmt **out)
{
    const char *const values[N_FILTERS] = { q->serial, q->actor, q->action };
    const char *where[N_FILTERS];
    enum store_stmt slot;
    unsigned variant = 0;
    char sql[512];
    size_t i;
    int n;

    for (i = 0; i < N_FILTERS; i++) {
        where[i] = values[i] != NULL ? filter_sql[i] : "";
        variant |= values[i] != NULL ? 1u << i : 0;
    }
    slot = (enum store_stmt)(STORE_STMT_AUDIT_LIST + variant);
    if (conn->stmts[slot] != NULL) {
        *out = conn->stmts[slot];
        return WD_OK;
    }
    /* fixed fragments only: no value of the query is in the text */
    n = snprintf(sql, sizeof(sql),
                 "SELECT " AUDIT_COLUMNS " FROM audit%s WHERE id < :cursor"
                 "%s%s%s ORDER BY id DESC LIMIT :limit",
                 index_sql[variant], where[0], where[1], where[2]);
    if (n < 0 || (size_t)n >= sizeof(sql)) {
        log_err("event=store_bug op=audit_list error=\"SQL too long\"");
        return WD_E_INTERNAL;
    }
    return store_stmt_get(conn, slot, sql, out);
}

static int
list_bind(sqlite3_stmt *s, const struct store_audit_query *q)
{
    static const char *const names[N_FILTERS] = { ":serial", ":actor",
                                                  ":action" };
    const char *const values[N_FILTERS] = { q->serial, q->actor, q->action };
    size_t i;
    int rc;

    rc = sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":cursor"),
                            q->cursor == 0 ? INT64_MAX : q->cursor);
    if (rc == SQLITE_OK) {
        /* one more than asked: its presence says a next page exists */
        rc = sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":limit"),
                                (int64_t)q->limit + 1);
    }
    for (i = 0; i < N_FILTERS && rc == SQLITE_OK; i++) {
        if (values[i] != NULL) {
            rc = sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, names[i]),
                                   values[i], -1, SQLITE_STATIC);
        }
    }
    return rc;
}

/*
 * A page of the audit log matching q, newest first: at most q->limit events
 * with id below q->cursor (0 = from the newest) whose serial, actor and
 * action equal q's (each NULL = any; the values are bound, never part of
 * the SQL, and compared exactly). out->next_cursor is the id of the last
 * event when more match, else 0. WD_E_BAD_QUERY for a limit outside
 * 1..WD_LIST_LIMIT_MAX, WD_E_BAD_CURSOR for a negative cursor. *out is
 * reset first and filled only on success; the caller frees it with
 * store_audit_list_free.
 */
enum wd_err
store_audit_list(struct store *st, const struct store_audit_query *q,
                 struct store_audit_list *out)
{
    struct store_conn *conn = NULL;
    sqlite3_stmt *s = NULL;
    void *items = NULL;
    enum wd_err err;
    int rc;

    if (st == NULL || q == NULL || out == NULL) {
        log_err("event=store_bug op=audit_list error=\"missing argument\"");
        return WD_E_INTERNAL;
    }
    memset(out, 0, sizeof(*out));
    err = query_check(q);
    if (err != WD_OK) {
        goto out;
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = list_stmt(conn, q, &s);
    if (err != WD_OK) {
        goto out;
    }
    rc = list_bind(s, q);
    if (rc != SQLITE_OK) {
        err = store_sql_err(conn->db, rc, "audit_list");
        goto out;
    }
    err = store_page_collect(conn, s, q->limit, &audit_rows, &items, &out->n,
                             &out->next_cursor);
    out->items = items; /* NULL unless it succeeded */
out:
    store_stmt_done(s);
    store_conn_return(st, conn);
    return err;
}
