/*
 * The audit log: who did what to which serial, and how it ended. Rows are
 * only ever appended (triggers from the first migration refuse UPDATE and
 * DELETE), each durable before its caller answers. store_cert_insert_audited
 * and store_cert_revoke write their events through store_audit_insert
 * inside their own transactions; other callers append standalone events.
 * A listing is a page newest first, keyset paginated on id (id < cursor,
 * never OFFSET), optionally filtered by exact serial, actor and action, each
 * filter read through an index that is already in id order.
 *
 * The triggers stop a mistake, not someone who can write the file, so the
 * log is also a hash chain (migration 4): each event stores prev_hash, the
 * hash of the event before it (64 zeros for the first), and hash, the
 * SHA-256 of its own fields and prev_hash in an unambiguous encoding
 * (link_hash). The writer reads the previous hash under the write lock of
 * the transaction that inserts the event, so the chain never forks;
 * store_audit_verify walks it and names the first event that was edited,
 * removed or re-linked.
 */
#include "store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server/base/log.h"
#include "../server/base/parse.h"
#include "../server/base/sha256.h"
#include "../server/base/xmalloc.h"

static const char sql_insert[] =
    "INSERT INTO audit (at, actor, action, serial, outcome, detail, id,"
    " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/* The newest event's hash (NULL when the log is empty) and the id
 * AUTOINCREMENT last handed out: the larger of the highest id and
 * sqlite_sequence, which remembers ids whose rows were deleted. */
static const char sql_head[] =
    "SELECT (SELECT hash FROM audit ORDER BY id DESC LIMIT 1),"
    " max(ifnull((SELECT max(id) FROM audit), 0),"
    " ifnull((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0))";

/* What a link's hash covers, and the hash, in link_read's order. */
#define CHAIN_COLUMNS                                                          \
    "id, at, actor, action, serial, outcome, detail, prev_hash, hash"

static const char sql_walk[] =
    "SELECT " CHAIN_COLUMNS " FROM audit ORDER BY id";

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

/* The prev_hash of the first event: no event came before it. */
static const char genesis[WD_SHA256_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Names the encoding, so no other use of SHA-256 in Warden can produce a
 * hash that reads as an audit link. */
static const char chain_domain[] = "warden-audit-v1";

/* The text fields a link's hash covers after id and at, in CHAIN_COLUMNS
 * order (columns 2 to 7). */
enum {
    TEXT_ACTOR,
    TEXT_ACTION,
    TEXT_SERIAL,
    TEXT_OUTCOME,
    TEXT_DETAIL,
    TEXT_PREV_HASH,
    N_TEXTS
};

/* One event as its hash sees it; text[i] NULL is SQL NULL. Borrowed. */
struct link {
    int64_t id;
    int64_t at; /* seconds, UTC */
    const char *text[N_TEXTS];
    size_t len[N_TEXTS]; /* bytes of text[i] */
};

/* One field: a type byte ('i' integer, 's' text, 'n' NULL), its length as
 * 8 bytes big-endian, then its bytes. Every field says where it ends, so
 * no two different events encode alike ("ab" + "c" is not "a" + "bc"). */
static void
put_field(struct wd_sha256 *ctx, uint8_t type, const void *data, uint64_t len)
{
    uint8_t head[9];
    unsigned i;

    head[0] = type;
    for (i = 0; i < 8; i++) {
        head[1 + i] = (uint8_t)(len >> (56 - 8 * i));
    }
    wd_sha256_update(ctx, head, sizeof(head));
    wd_sha256_update(ctx, data, (size_t)len);
}

static void
put_int(struct wd_sha256 *ctx, int64_t v)
{
    uint64_t u = (uint64_t)v; /* two's complement, as stored */
    uint8_t b[8];
    unsigned i;

    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t)(u >> (56 - 8 * i));
    }
    put_field(ctx, 'i', b, sizeof(b));
}

/* SHA-256 of (domain, id, at, actor, action, serial, outcome, detail,
 * prev_hash), each put_field-encoded, as lowercase hex into out. */
static void
link_hash(const struct link *l, char out[WD_SHA256_HEX_LEN + 1])
{
    struct wd_sha256 ctx;
    uint8_t digest[WD_SHA256_LEN];
    size_t i;

    wd_sha256_init(&ctx);
    put_field(&ctx, 's', chain_domain, sizeof(chain_domain) - 1);
    put_int(&ctx, l->id);
    put_int(&ctx, l->at);
    for (i = 0; i < N_TEXTS; i++) {
        if (l->text[i] == NULL) {
            put_field(&ctx, 'n', NULL, 0);
        } else {
            put_field(&ctx, 's', l->text[i], l->len[i]);
        }
    }
    wd_sha256_final(&ctx, digest);
    wd_hex_encode(digest, sizeof(digest), out);
}

/* Points l at the current row of s (CHAIN_COLUMNS order): valid until s
 * steps or resets. Lengths come from SQLite, so a NUL hidden in a text
 * still counts. */
static void
link_read(sqlite3_stmt *s, struct link *l)
{
    size_t i;

    l->id = sqlite3_column_int64(s, 0);
    l->at = sqlite3_column_int64(s, 1);
    for (i = 0; i < N_TEXTS; i++) {
        l->text[i] = (const char *)sqlite3_column_text(s, 2 + (int)i);
        l->len[i] = l->text[i] != NULL
                        ? (size_t)sqlite3_column_bytes(s, 2 + (int)i)
                        : 0;
    }
}

/* Does column i of s hold exactly the hash hex? */
static bool
column_is_hash(sqlite3_stmt *s, int i, const char *hex)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t != NULL && sqlite3_column_bytes(s, i) == WD_SHA256_HEX_LEN &&
           memcmp(t, hex, WD_SHA256_HEX_LEN) == 0;
}

/*
 * The chain's head on conn: the hash the next event links to into prev
 * (genesis for an empty log, or for a head without a well-formed hash,
 * which verify reports before it) and the last id AUTOINCREMENT gave out
 * into *last_id.
 */
static enum wd_err
head_read(struct store_conn *conn, char prev[WD_SHA256_HEX_LEN + 1],
          int64_t *last_id)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_AUDIT_HEAD, sql_head, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        err = store_sql_err(conn->db, rc, "audit_head");
        goto out;
    }
    memcpy(prev, genesis, sizeof(genesis));
    if (sqlite3_column_text(s, 0) != NULL &&
        sqlite3_column_bytes(s, 0) == WD_SHA256_HEX_LEN) {
        memcpy(prev, sqlite3_column_text(s, 0), WD_SHA256_HEX_LEN);
    }
    *last_id = sqlite3_column_int64(s, 1);
out:
    store_stmt_done(s);
    return err;
}

/* Where a new event goes in the chain, and the hash it gets there. */
struct placement {
    int64_t id;
    int64_t at; /* seconds, UTC */
    char prev_hash[WD_SHA256_HEX_LEN + 1];
    char hash[WD_SHA256_HEX_LEN + 1];
};

static int
event_bind(sqlite3_stmt *s, const struct placement *chain,
           const struct store_audit_event *ev)
{
    const char *const text[] = { ev->actor, ev->action, ev->serial, ev->outcome,
                                 ev->detail }; /* ?2 to ?6 */
    size_t i;
    int rc;

    rc = sqlite3_bind_int64(s, 1, chain->at);
    for (i = 0; i < sizeof(text) / sizeof(text[0]) && rc == SQLITE_OK; i++) {
        /* a NULL pointer binds SQL NULL: serial and detail may be absent */
        rc = sqlite3_bind_text(s, 2 + (int)i, text[i], -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 7, chain->id);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 8, chain->prev_hash, WD_SHA256_HEX_LEN,
                               SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 9, chain->hash, WD_SHA256_HEX_LEN,
                               SQLITE_STATIC);
    }
    return rc;
}

/*
 * Append ev on conn inside the caller's write transaction, as the next link
 * of the chain: its id is the one after the last AUTOINCREMENT handed out,
 * its prev_hash the newest event's hash, both read under the write lock
 * the transaction holds, so no other writer can slip an event in between.
 * ev->at of 0 means now. WD_E_INTERNAL (logged) for an incomplete event or
 * a call outside a transaction.
 */
enum wd_err
store_audit_insert(struct store_conn *conn, const struct store_audit_event *ev)
{
    struct placement chain = { 0 };
    struct link l = { 0 };
    sqlite3_stmt *s = NULL;
    int64_t last_id = 0;
    enum wd_err err;
    size_t i;
    int rc;

    if (!event_is_complete(ev) || sqlite3_get_autocommit(conn->db) != 0) {
        log_err("event=store_bug op=audit_insert error=\"incomplete event, "
                "or no write transaction to chain it in\"");
        return WD_E_INTERNAL;
    }
    err = head_read(conn, chain.prev_hash, &last_id);
    if (err != WD_OK) {
        return err;
    }
    chain.id = last_id + 1;
    chain.at = ev->at != 0 ? ev->at : (int64_t)time(NULL);
    l.id = chain.id;
    l.at = chain.at;
    l.text[TEXT_ACTOR] = ev->actor;
    l.text[TEXT_ACTION] = ev->action;
    l.text[TEXT_SERIAL] = ev->serial;
    l.text[TEXT_OUTCOME] = ev->outcome;
    l.text[TEXT_DETAIL] = ev->detail;
    l.text[TEXT_PREV_HASH] = chain.prev_hash;
    for (i = 0; i < N_TEXTS; i++) {
        l.len[i] = l.text[i] != NULL ? strlen(l.text[i]) : 0;
    }
    link_hash(&l, chain.hash);
    err = store_stmt_get(conn, STORE_STMT_AUDIT_INSERT, sql_insert, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = event_bind(s, &chain, ev);
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
 * Append one event to the audit log in a write transaction of its own,
 * committed to disk before WD_OK. ev->at of 0 means now. WD_E_UNAVAILABLE
 * if the write lock stayed taken past the busy timeout; WD_E_INTERNAL if
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
    err = store_write_open(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = store_audit_insert(conn, ev);
    if (err != WD_OK) {
        goto out;
    }
    err = store_tx_commit(conn); /* rolls back itself on failure */
out:
    store_write_close(st, conn);
    return err;
}

/* Where a walk of the chain has got to. */
struct walk {
    int64_t next_id;                  /* the id the next row must have */
    char prev[WD_SHA256_HEX_LEN + 1]; /* the hash it must link to */
    int64_t checked;                  /* rows found intact so far */
    int64_t first_bad;                /* 0 while the chain holds */
};

/*
 * Checks the current row of s (CHAIN_COLUMNS) against the walk so far: its
 * id follows the last one (else the first missing id is bad), its
 * prev_hash is the last row's hash and its hash matches its content (else
 * the row is bad).
 */
static void
walk_row(struct walk *w, sqlite3_stmt *s)
{
    char hash[WD_SHA256_HEX_LEN + 1];
    struct link l;

    link_read(s, &l);
    if (l.id != w->next_id) {
        w->first_bad = w->next_id; /* deleted, or ids rewritten */
        return;
    }
    link_hash(&l, hash);
    if (!column_is_hash(s, 7, w->prev) || !column_is_hash(s, 8, hash)) {
        w->first_bad = l.id;
        return;
    }
    memcpy(w->prev, hash, sizeof(hash));
    w->next_id++;
    w->checked++;
}

/*
 * The tail: a last event deleted leaves no gap behind it, but
 * sqlite_sequence still remembers its id.
 */
static enum wd_err
walk_tail(struct store_conn *conn, struct walk *w)
{
    char prev[WD_SHA256_HEX_LEN + 1];
    int64_t last_id = 0;
    enum wd_err err;

    err = head_read(conn, prev, &last_id);
    if (err == WD_OK && w->first_bad == 0 && last_id >= w->next_id) {
        w->first_bad = w->next_id;
    }
    return err;
}

/*
 * Walk the audit log's hash chain in id order, from one snapshot, one row
 * in memory at a time. On WD_OK, *first_bad_id is 0 when every event is
 * intact, else the first event whose hash does not match its content or
 * whose prev_hash is not its predecessor's hash, or the first id missing
 * (a deleted event, also at the end); *checked is the number of events
 * found intact before it (all of them when intact). Both are untouched on
 * failure: WD_E_UNAVAILABLE, WD_E_IO, or WD_E_INTERNAL (logged).
 */
enum wd_err
store_audit_verify(struct store *st, int64_t *first_bad_id, int64_t *checked)
{
    struct store_conn *conn = NULL;
    struct walk w = { .next_id = 1 };
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc = SQLITE_ROW;

    if (st == NULL || first_bad_id == NULL || checked == NULL) {
        log_err("event=store_bug op=audit_verify error=\"missing argument\"");
        return WD_E_INTERNAL;
    }
    memcpy(w.prev, genesis, sizeof(genesis));
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = store_tx_begin_read(conn);
    if (err != WD_OK) {
        goto out;
    }
    err = store_stmt_get(conn, STORE_STMT_AUDIT_WALK, sql_walk, &s);
    if (err != WD_OK) {
        goto out;
    }
    while (w.first_bad == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        walk_row(&w, s);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, "audit_verify");
        goto out;
    }
    store_stmt_done(s);
    s = NULL;
    err = walk_tail(conn, &w);
    if (err != WD_OK) {
        goto out;
    }
    err = store_tx_commit(conn); /* ends the snapshot */
    if (err != WD_OK) {
        goto out;
    }
    if (w.first_bad != 0) {
        log_warn("event=audit_chain_broken first_bad_id=%lld checked=%lld",
                 (long long)w.first_bad, (long long)w.checked);
    }
    *first_bad_id = w.first_bad;
    *checked = w.checked;
out:
    store_stmt_done(s);
    if (conn != NULL) {
        store_tx_rollback(conn);
    }
    store_conn_return(st, conn);
    return err;
}

/* The first migration's trigger, lifted while the backfill writes. */
static const char sql_no_update[] =
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";

static enum wd_err
exec(sqlite3 *db, const char *sql, const char *what)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? WD_OK : store_sql_err(db, rc, what);
}

/*
 * Chain the next unchained event after *last_id (one row at a time, so the
 * UPDATE never runs under an open scan of the table it changes): link it
 * to prev, write its hash into prev and its id into *last_id. *done when
 * no event is left.
 */
static enum wd_err
backfill_next(sqlite3 *db, sqlite3_stmt *next, sqlite3_stmt *update,
              char prev[WD_SHA256_HEX_LEN + 1], int64_t *last_id, bool *done)
{
    char hash[WD_SHA256_HEX_LEN + 1];
    struct link l;
    int64_t id;
    int rc;

    rc = sqlite3_bind_int64(next, 1, *last_id);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(next);
    }
    if (rc == SQLITE_DONE) {
        *done = true;
        sqlite3_reset(next);
        return WD_OK;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(next);
        return store_sql_err(db, rc, "audit_backfill");
    }
    link_read(next, &l);
    l.text[TEXT_PREV_HASH] = prev;
    l.len[TEXT_PREV_HASH] = WD_SHA256_HEX_LEN;
    link_hash(&l, hash);
    id = l.id;
    sqlite3_reset(next); /* l is spent */
    rc = sqlite3_bind_text(update, 1, prev, WD_SHA256_HEX_LEN, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(update, 2, hash, WD_SHA256_HEX_LEN,
                               SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(update, 3, id);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(update);
    }
    sqlite3_reset(update);
    if (rc != SQLITE_DONE) {
        return store_sql_err(db, rc, "audit_backfill");
    }
    memcpy(prev, hash, sizeof(hash));
    *last_id = id;
    return WD_OK;
}

/*
 * Chain every event already in db's audit log, in id order from genesis,
 * exactly as store_audit_insert would have (ids as they are: a gap left
 * before this migration stays visible to verify). Runs inside migration
 * 4's transaction, which also undoes the trigger's removal on failure.
 */
enum wd_err
store_audit_chain_backfill(sqlite3 *db)
{
    sqlite3_stmt *next = NULL;
    sqlite3_stmt *update = NULL;
    char prev[WD_SHA256_HEX_LEN + 1];
    int64_t last_id = 0;
    bool done = false;
    enum wd_err err;
    int rc;

    memcpy(prev, genesis, sizeof(genesis));
    err = exec(db, "DROP TRIGGER audit_no_update", "audit_backfill");
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_prepare_v2(db,
                            "SELECT " CHAIN_COLUMNS " FROM audit WHERE id > ?1"
                            " ORDER BY id LIMIT 1",
                            -1, &next, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db,
                                "UPDATE audit SET prev_hash = ?1, hash = ?2"
                                " WHERE id = ?3",
                                -1, &update, NULL);
    }
    if (rc != SQLITE_OK) {
        err = store_sql_err(db, rc, "audit_backfill");
        goto out;
    }
    while (err == WD_OK && !done) {
        err = backfill_next(db, next, update, prev, &last_id, &done);
    }
    if (err == WD_OK) {
        err = exec(db, sql_no_update, "audit_backfill");
    }
    if (err == WD_OK && last_id > 0) {
        log_info("event=audit_chained last_id=%lld", (long long)last_id);
    }
out:
    sqlite3_finalize(next);
    sqlite3_finalize(update);
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
