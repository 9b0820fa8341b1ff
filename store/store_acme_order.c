/*
 * ACME orders (RFC 8555 7.1.3, 7.4): an order is written with all its
 * authorizations and their challenges in one transaction, read with its
 * authorizations from one snapshot, listed per account newest first (a
 * keyset on id), counted per account for rate limits, and finalized in
 * two steps around the signing: ready -> processing, a compare-and-set
 * that one finalization wins, then processing -> valid together with the
 * certificate's insertion into the inventory and its audit event, or
 * processing -> invalid. A crash between the steps leaves the order
 * processing with no certificate stored; store_acme_cleanup calls it
 * invalid once STORE_ACME_PROCESSING_GRACE_S has passed.
 */
#include "store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/parse.h"
#include "../server/base/xmalloc.h"

/* Column order read by order_read; id first, as store_page_collect pages
 * on column 0. */
#define ORDER_COLUMNS                                                          \
    "id, oid, account_id, status, expires_at, not_before, not_after, error,"   \
    " certificate_serial, created_at"

static const char sql_account_status[] =
    "SELECT status FROM acme_accounts WHERE id = ?1";

static const char sql_insert[] =
    "INSERT INTO acme_orders (oid, account_id, status, expires_at,"
    " not_before, not_after, created_at)"
    " VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6)";

static const char sql_authz_insert[] =
    "INSERT INTO acme_authzs (aid, order_id, identifier_type,"
    " identifier_value, wildcard, status, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)";

static const char sql_chall_insert[] =
    "INSERT INTO acme_challenges (cid, authz_id, type, token, status)"
    " VALUES (?1, ?2, ?3, ?4, 'pending')";

static const char sql_get[] =
    "SELECT " ORDER_COLUMNS " FROM acme_orders WHERE oid = ?1";

/* Read through the (account_id, id) index, already in page order. */
static const char sql_list[] =
    "SELECT " ORDER_COLUMNS " FROM acme_orders WHERE account_id = ?1"
    " AND id < ?2 ORDER BY id DESC LIMIT ?3";

/* One range of the (account_id, created_at) index. */
static const char sql_count[] =
    "SELECT count(*) FROM acme_orders WHERE account_id = ?1"
    " AND created_at >= ?2";

static const char sql_begin[] =
    "UPDATE acme_orders SET status = 'processing' WHERE oid = ?1"
    " AND status = 'ready' AND expires_at > ?2";

/* What finalize_done and _fail check before they write. */
static const char sql_owner[] =
    "SELECT o.status, a.kid FROM acme_orders o"
    " JOIN acme_accounts a ON a.id = o.account_id WHERE o.oid = ?1";

static const char sql_done[] =
    "UPDATE acme_orders SET status = 'valid', certificate_serial = ?2"
    " WHERE oid = ?1 AND status = 'processing'";

static const char sql_fail[] =
    "UPDATE acme_orders SET status = 'invalid', error = ?2"
    " WHERE oid = ?1 AND status = 'processing'";

/* A kid, and "acme:" and a kid: the requester and audit actor of ACME
 * issuance. */
#define KID_BUF (STORE_ACME_ID_MAX + 1)
#define ACTOR_MAX (sizeof("acme:") - 1 + KID_BUF)

/* Frees what o owns, its authorizations included, not o itself. */
static void
order_clear(struct store_acme_order *o)
{
    size_t i;

    free(o->oid);
    free(o->error);
    for (i = 0; i < o->n_authzs; i++) {
        store_acme_authz_clear(&o->authzs[i]);
    }
    free(o->authzs);
}

/* Free o and everything it owns; accepts NULL. */
void
store_acme_order_free(struct store_acme_order *o)
{
    if (o == NULL) {
        return;
    }
    order_clear(o);
    free(o);
}

/* Free the items of l and empty it; accepts NULL and a zeroed list. */
void
store_acme_order_list_free(struct store_acme_order_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        order_clear(&l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
    l->next_cursor = 0;
}

/* A DNS name or an IP address as text: 1 to WD_MAX_DNS_NAME printable
 * ASCII characters without spaces (api/ checks the syntax; this keeps
 * anything else out of the table and the logs). */
static bool
ident_value_is_valid(const char *v)
{
    size_t i;

    if (v == NULL) {
        return false;
    }
    for (i = 0; v[i] != '\0'; i++) {
        if (i == WD_MAX_DNS_NAME || (unsigned char)v[i] <= 0x20 ||
            (unsigned char)v[i] >= 0x7f) {
            return false;
        }
    }
    return i > 0;
}

static bool
chall_is_complete(const struct store_acme_challenge *c)
{
    return store_acme_id_is_valid(c->cid) &&
           store_acme_chall_type_str(c->type) != NULL &&
           store_acme_b64url_is_valid(c->token, STORE_ACME_TOKEN_MIN,
                                      STORE_ACME_ID_MAX);
}

static bool
authz_is_complete(const struct store_acme_authz *z, int64_t order_expires_at)
{
    size_t i;

    /* RFC 8555 7.1.3: a wildcard is a DNS name's; an authorization
     * outlives its order, so only the order's expiry ends a live order */
    if (!store_acme_id_is_valid(z->aid) ||
        store_acme_ident_type_str(z->ident_type) == NULL ||
        !ident_value_is_valid(z->ident_value) ||
        (z->wildcard && z->ident_type != STORE_ACME_IDENT_DNS) ||
        z->expires_at < order_expires_at || z->challenges == NULL ||
        z->n_challenges < 1 || z->n_challenges > STORE_ACME_MAX_CHALLENGES) {
        return false;
    }
    for (i = 0; i < z->n_challenges; i++) {
        if (!chall_is_complete(&z->challenges[i])) {
            return false;
        }
    }
    return true;
}

static bool
order_is_complete(const struct store_acme_order *o)
{
    size_t i;

    if (o == NULL || !store_acme_id_is_valid(o->oid) || o->account_id <= 0 ||
        o->expires_at <= 0 || o->created_at <= 0 || o->not_before < 0 ||
        o->not_after < 0 ||
        (o->not_before > 0 && o->not_after > 0 &&
         o->not_before >= o->not_after) ||
        o->authzs == NULL || o->n_authzs < 1 ||
        o->n_authzs > STORE_ACME_MAX_IDENTIFIERS) {
        return false;
    }
    for (i = 0; i < o->n_authzs; i++) {
        if (!authz_is_complete(&o->authzs[i], o->expires_at)) {
            return false;
        }
    }
    return true;
}

/* Binds ?n to t, or to NULL when t is 0 (no time requested). */
static int
bind_time(sqlite3_stmt *s, int n, int64_t t)
{
    return t != 0 ? sqlite3_bind_int64(s, n, t) : sqlite3_bind_null(s, n);
}

/* The account must exist (WD_E_NOT_FOUND) and be valid (WD_E_CONFLICT):
 * checked in the order's transaction, so a deactivation cannot slip in
 * between. The foreign key refuses a missing account on its own too. */
static enum wd_err
account_check(struct store_conn *conn, int64_t account_id)
{
    sqlite3_stmt *s = NULL;
    enum store_acme_status status = STORE_ACME_INVALID;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_ORDER_ACCOUNT,
                         sql_account_status, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_int64(s, 1, account_id);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_DONE) {
        err = WD_E_NOT_FOUND;
    } else if (rc != SQLITE_ROW) {
        err = store_sql_err(conn->db, rc, "acme_order_insert");
    } else if (!store_acme_status_parse(sqlite3_column_text(s, 0), &status) ||
               status != STORE_ACME_VALID) {
        log_warn("event=store_conflict op=acme_order_insert account_id=%lld "
                 "error=\"account not valid\"",
                 (long long)account_id);
        err = WD_E_CONFLICT;
    }
    store_stmt_done(s);
    return err;
}

static enum wd_err
chall_insert(struct store_conn *conn, const struct store_acme_challenge *c,
             int64_t authz_id)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_CHALL_INSERT, sql_chall_insert,
                         &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, c->cid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 2, authz_id);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 3, store_acme_chall_type_str(c->type), -1,
                               SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 4, c->token, -1, SQLITE_STATIC);
    }
    /* a unique key taken: the cid, or a type twice in one authorization */
    err = store_acme_step_write(conn, s, rc, "acme_challenge_insert", NULL);
    store_stmt_done(s);
    return err;
}

static enum wd_err
authz_insert(struct store_conn *conn, const struct store_acme_authz *z,
             int64_t order_id)
{
    sqlite3_stmt *s = NULL;
    int64_t authz_id;
    enum wd_err err;
    size_t i;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_AUTHZ_INSERT, sql_authz_insert,
                         &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, z->aid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 2, order_id);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 3, store_acme_ident_type_str(z->ident_type),
                               -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 4, z->ident_value, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int(s, 5, z->wildcard ? 1 : 0);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 6, z->expires_at);
    }
    /* a unique key taken: the aid, or an identifier listed twice */
    err = store_acme_step_write(conn, s, rc, "acme_authz_insert", NULL);
    store_stmt_done(s);
    authz_id = sqlite3_last_insert_rowid(conn->db);
    for (i = 0; i < z->n_challenges && err == WD_OK; i++) {
        err = chall_insert(conn, &z->challenges[i], authz_id);
    }
    return err;
}

/* The rows of one order, inside a group commit's savepoint. */
static enum wd_err
insert_write(struct store_conn *conn, void *ctx)
{
    const struct store_acme_order *o = ctx;
    sqlite3_stmt *s = NULL;
    int64_t order_id;
    enum wd_err err;
    size_t i;
    int rc;

    err = account_check(conn, o->account_id);
    if (err != WD_OK) {
        return err;
    }
    err = store_stmt_get(conn, STORE_STMT_ACME_ORDER_INSERT, sql_insert, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, o->oid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 2, o->account_id);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 3, o->expires_at);
    }
    if (rc == SQLITE_OK) {
        rc = bind_time(s, 4, o->not_before);
    }
    if (rc == SQLITE_OK) {
        rc = bind_time(s, 5, o->not_after);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 6, o->created_at);
    }
    err = store_acme_step_write(conn, s, rc, "acme_order_insert", NULL);
    store_stmt_done(s);
    order_id = sqlite3_last_insert_rowid(conn->db);
    for (i = 0; i < o->n_authzs && err == WD_OK; i++) {
        err = authz_insert(conn, &o->authzs[i], order_id);
    }
    return err;
}

/*
 * Create the order o, pending, with its authorizations and challenges
 * (see store.h for the fields read), in one transaction committed before
 * WD_OK. WD_E_NOT_FOUND for a missing account; WD_E_CONFLICT for an
 * account not valid, an id already used, an identifier or a challenge
 * type listed twice; WD_E_INTERNAL (logged) for a missing or malformed
 * field. Nothing is written on failure.
 */
enum wd_err
store_acme_order_insert(struct store *st, const struct store_acme_order *o)
{
    if (st == NULL || !order_is_complete(o)) {
        log_err("event=store_bug op=acme_order_insert error=\"missing or "
                "malformed field\"");
        return WD_E_INTERNAL;
    }
    return store_group_write(st, insert_write, (void *)o);
}

/* Fills item, a struct store_acme_order, from the current row of s
 * (ORDER_COLUMNS order), without its authorizations. On failure it may
 * be partly filled: the caller clears it. */
static enum wd_err
order_read(sqlite3_stmt *s, void *item)
{
    struct store_acme_order *o = item;
    const unsigned char *serial;
    int serial_len;

    o->id = sqlite3_column_int64(s, 0);
    o->oid = store_acme_column_dup(s, 1);
    o->account_id = sqlite3_column_int64(s, 2);
    o->expires_at = sqlite3_column_int64(s, 4);
    o->not_before = sqlite3_column_int64(s, 5); /* NULL reads as 0 */
    o->not_after = sqlite3_column_int64(s, 6);
    o->error = store_acme_column_dup(s, 7);
    serial = sqlite3_column_text(s, 8);
    serial_len = sqlite3_column_bytes(s, 8);
    o->created_at = sqlite3_column_int64(s, 9);
    if (o->oid == NULL || serial_len > WD_MAX_SERIAL_HEX ||
        !store_acme_status_parse(sqlite3_column_text(s, 3), &o->status)) {
        log_err("event=store_failed op=acme_order_read id=%lld "
                "error=\"malformed row\"",
                (long long)o->id);
        return WD_E_INTERNAL;
    }
    if (serial != NULL) {
        memcpy(o->certificate_serial, serial, (size_t)serial_len);
    }
    o->certificate_serial[serial_len] = '\0';
    return WD_OK;
}

static void
order_item_clear(void *item)
{
    order_clear(item);
}

static const struct store_page_rows order_rows = {
    sizeof(struct store_acme_order),
    order_read,
    order_item_clear,
    "acme_order_list",
};

/* The order oid with its authorizations, read on conn in one snapshot
 * into o (cleared by the caller, also on failure). */
static enum wd_err
order_load(struct store_conn *conn, const char *oid, struct store_acme_order *o)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_tx_begin_read(conn);
    if (err != WD_OK) {
        return err;
    }
    err = store_stmt_get(conn, STORE_STMT_ACME_ORDER_GET, sql_get, &s);
    if (err != WD_OK) {
        goto out;
    }
    rc = sqlite3_bind_text(s, 1, oid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_ROW) {
        err = order_read(s, o);
    } else if (rc == SQLITE_DONE) {
        err = WD_E_NOT_FOUND;
    } else {
        err = store_sql_err(conn->db, rc, "acme_order_get");
    }
    store_stmt_done(s);
    if (err == WD_OK) {
        err = store_acme_authzs_read(conn, o->id, &o->authzs, &o->n_authzs);
    }
    if (err == WD_OK) {
        err = store_tx_commit(conn); /* ends the snapshot */
    }
out:
    store_tx_rollback(conn);
    return err;
}

/*
 * The order oid with its authorizations (without their challenges), from
 * one snapshot. On success the caller owns *out (store_acme_order_free);
 * WD_E_NOT_FOUND if there is none, a malformed oid included; *out is
 * untouched on failure.
 */
enum wd_err
store_acme_order_get(struct store *st, const char *oid,
                     struct store_acme_order **out)
{
    struct store_acme_order *o = NULL;
    struct store_conn *conn = NULL;
    enum wd_err err;

    if (st == NULL || oid == NULL || out == NULL) {
        log_err("event=store_bug op=acme_order_get error=\"missing "
                "argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(oid)) {
        return WD_E_NOT_FOUND; /* from a URL: no row can have it */
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        return err;
    }
    o = xcalloc(1, sizeof(*o));
    err = order_load(conn, oid, o);
    if (err == WD_OK) {
        *out = o;
        o = NULL; /* the caller owns it now */
    }
    store_acme_order_free(o);
    store_conn_return(st, conn);
    return err;
}

/*
 * A page of account_id's orders, newest first, without their
 * authorizations: at most limit with id below cursor (0 = from the
 * newest); out->next_cursor is the last one's id when more follow, else
 * 0. WD_E_BAD_QUERY for a limit outside 1..WD_LIST_LIMIT_MAX,
 * WD_E_BAD_CURSOR for a negative cursor. *out is reset first and filled
 * only on success; the caller frees it with store_acme_order_list_free.
 */
enum wd_err
store_acme_order_list_by_account(struct store *st, int64_t account_id,
                                 unsigned limit, int64_t cursor,
                                 struct store_acme_order_list *out)
{
    /* one more than asked: its presence says a next page exists */
    const int64_t v[] = { account_id, cursor == 0 ? INT64_MAX : cursor,
                          (int64_t)limit + 1 };
    struct store_conn *conn = NULL;
    sqlite3_stmt *s = NULL;
    void *items = NULL;
    enum wd_err err;
    int rc;

    if (st == NULL || out == NULL) {
        log_err("event=store_bug op=acme_order_list error=\"missing "
                "argument\"");
        return WD_E_INTERNAL;
    }
    memset(out, 0, sizeof(*out));
    if (limit < 1 || limit > WD_LIST_LIMIT_MAX) {
        return WD_E_BAD_QUERY;
    }
    if (cursor < 0) {
        return WD_E_BAD_CURSOR;
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = store_stmt_get(conn, STORE_STMT_ACME_ORDER_LIST, sql_list, &s);
    if (err != WD_OK) {
        goto out;
    }
    rc = store_acme_bind_ints(s, v, 3);
    if (rc != SQLITE_OK) {
        err = store_sql_err(conn->db, rc, "acme_order_list");
        goto out;
    }
    err = store_page_collect(conn, s, limit, &order_rows, &items, &out->n,
                             &out->next_cursor);
    out->items = items; /* NULL unless it succeeded */
out:
    store_stmt_done(s);
    store_conn_return(st, conn);
    return err;
}

/*
 * The number of orders account_id created at or after since into *out
 * (0 for an account without orders, or none at all); *out is untouched
 * on failure. Orders deleted by store_acme_cleanup (invalid ones, 30 days
 * past expiry) no longer count, which no rate window reaches.
 */
enum wd_err
store_acme_order_count_since(struct store *st, int64_t account_id,
                             int64_t since, int64_t *out)
{
    const int64_t v[] = { account_id, since };
    struct store_conn *conn = NULL;
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    if (st == NULL || out == NULL) {
        log_err("event=store_bug op=acme_order_count error=\"missing "
                "argument\"");
        return WD_E_INTERNAL;
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = store_stmt_get(conn, STORE_STMT_ACME_ORDER_COUNT, sql_count, &s);
    if (err != WD_OK) {
        goto out;
    }
    rc = store_acme_bind_ints(s, v, 2);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_ROW) {
        err = store_sql_err(conn->db, rc, "acme_order_count");
        goto out;
    }
    *out = sqlite3_column_int64(s, 0);
out:
    store_stmt_done(s);
    store_conn_return(st, conn);
    return err;
}

/*
 * The status of order oid and its account's kid (into kid, KID_BUF
 * bytes), read on conn: WD_E_NOT_FOUND if there is no such order.
 */
static enum wd_err
order_owner(struct store_conn *conn, const char *oid,
            enum store_acme_status *status, char *kid)
{
    sqlite3_stmt *s = NULL;
    const unsigned char *k;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_ORDER_OWNER, sql_owner, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, oid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_DONE) {
        err = WD_E_NOT_FOUND;
    } else if (rc != SQLITE_ROW) {
        err = store_sql_err(conn->db, rc, "acme_order_owner");
    } else {
        k = sqlite3_column_text(s, 1);
        if (k == NULL || sqlite3_column_bytes(s, 1) > STORE_ACME_ID_MAX ||
            !store_acme_status_parse(sqlite3_column_text(s, 0), status)) {
            log_err("event=store_failed op=acme_order_owner "
                    "error=\"malformed row\"");
            err = WD_E_INTERNAL;
        } else {
            snprintf(kid, KID_BUF, "%s", (const char *)k);
        }
    }
    store_stmt_done(s);
    return err;
}

/* The order must be processing: WD_E_CONFLICT (logged) otherwise. */
static enum wd_err
owner_processing(struct store_conn *conn, const char *oid, char *kid)
{
    enum store_acme_status status = STORE_ACME_INVALID;
    enum wd_err err;

    err = order_owner(conn, oid, &status, kid);
    if (err == WD_OK && status != STORE_ACME_PROCESSING) {
        log_warn("event=store_conflict op=acme_finalize oid=%s status=%s", oid,
                 store_acme_status_str(status));
        err = WD_E_CONFLICT;
    }
    return err;
}

struct finalize_job {
    const char *oid;
    int64_t now;
    const struct store_cert *c; /* done: the certificate issued */
    const char *error;          /* fail: problem JSON */
};

static enum wd_err
begin_write(struct store_conn *conn, void *ctx)
{
    struct finalize_job *job = ctx;
    enum store_acme_status status = STORE_ACME_INVALID;
    char kid[KID_BUF];
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int changed = 0;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_ORDER_BEGIN, sql_begin, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, job->oid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 2, job->now);
    }
    err = store_acme_step_write(conn, s, rc, "acme_finalize_begin", &changed);
    store_stmt_done(s);
    if (err != WD_OK || changed > 0) {
        return err;
    }
    /* no row changed: absent, or not ready (under our write lock) */
    err = order_owner(conn, job->oid, &status, kid);
    return err == WD_OK ? WD_E_CONFLICT : err;
}

/*
 * Start finalizing order oid at now: ready -> processing if it has not
 * expired, committed before WD_OK; the caller then signs and ends with
 * store_acme_order_finalize_done or _fail. WD_E_CONFLICT if it is not
 * ready (another finalization won, or its authorizations are not all
 * valid) or has expired; WD_E_NOT_FOUND (a malformed oid included);
 * WD_E_INTERNAL (logged) for now <= 0.
 */
enum wd_err
store_acme_order_finalize_begin(struct store *st, const char *oid, int64_t now)
{
    struct finalize_job job = { .oid = oid, .now = now };

    if (st == NULL || oid == NULL || now <= 0) {
        log_err("event=store_bug op=acme_finalize_begin error=\"missing "
                "argument or time not positive\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(oid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    return store_group_write(st, begin_write, &job);
}

/* Inserts c into the inventory on conn with requester, as store_cert.c
 * does, inside the order's transaction (its own runs in a group commit). */
static enum wd_err
cert_insert(struct store_conn *conn, const struct store_cert *c,
            const char *requester)
{
    struct store_cert row = *c;

    row.requester = (char *)requester; /* only read */
    return store_cert_row_insert(conn, &row);
}

/* Runs the cached compare-and-set in slot on order oid, with ?2 bound to
 * text; WD_E_CONFLICT if it changed no row. */
static enum wd_err
order_set(struct store_conn *conn, enum store_stmt slot, const char *sql,
          const char *oid, const char *text, const char *what)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int changed = 0;
    int rc;

    err = store_stmt_get(conn, slot, sql, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, oid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    }
    err = store_acme_step_write(conn, s, rc, what, &changed);
    store_stmt_done(s);
    if (err == WD_OK && changed == 0) {
        err = WD_E_CONFLICT;
    }
    return err;
}

static enum wd_err
done_write(struct store_conn *conn, void *ctx)
{
    struct finalize_job *job = ctx;
    struct store_audit_event ev = { 0 };
    char detail[sizeof("acme order ") + STORE_ACME_ID_MAX];
    char actor[ACTOR_MAX];
    char kid[KID_BUF];
    enum wd_err err;

    err = owner_processing(conn, job->oid, kid);
    if (err != WD_OK) {
        return err;
    }
    snprintf(actor, sizeof(actor), "acme:%s", kid);
    err = cert_insert(conn, job->c, actor);
    if (err != WD_OK) {
        return err;
    }
    snprintf(detail, sizeof(detail), "acme order %s", job->oid);
    ev.at = job->c->issued_at;
    ev.actor = actor;
    ev.action = "issue";
    ev.serial = job->c->serial;
    ev.outcome = "ok";
    ev.detail = detail;
    err = store_audit_insert(conn, &ev);
    if (err != WD_OK) {
        return err;
    }
    /* after the certificate: certificate_serial references its row */
    return order_set(conn, STORE_STMT_ACME_ORDER_DONE, sql_done, job->oid,
                     job->c->serial, "acme_finalize_done");
}

/*
 * End finalizing order oid with the certificate c issued for it: the
 * inventory row (requester "acme:<kid>"), its "issue" audit event by that
 * actor, and the order valid with its certificate, in one transaction
 * committed before WD_OK. WD_E_CONFLICT if the order is not processing or
 * c's serial is stored already; WD_E_NOT_FOUND (a malformed oid
 * included); WD_E_INTERNAL (logged) for an incomplete certificate.
 * Nothing is written on failure.
 */
enum wd_err
store_acme_order_finalize_done(struct store *st, const char *oid,
                               const struct store_cert *c)
{
    struct finalize_job job = { .oid = oid, .c = c };
    struct store_cert probe;

    if (c != NULL) {
        probe = *c;
        probe.requester = "acme"; /* ignored: the account is the requester */
    }
    if (st == NULL || oid == NULL || c == NULL ||
        !store_cert_is_complete(&probe)) {
        log_err("event=store_bug op=acme_finalize_done error=\"missing "
                "argument, or an incomplete certificate\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(oid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    /* done_write only reads job: in a batch it needs no savepoint, which
     * would cost the certificate's search terms an FTS5 segment of their
     * own (store_group.c) */
    return store_group_write_replayable(st, done_write, &job);
}

static enum wd_err
fail_write(struct store_conn *conn, void *ctx)
{
    struct finalize_job *job = ctx;
    struct store_audit_event ev = { 0 };
    char detail[sizeof("order ") + STORE_ACME_ID_MAX];
    char actor[ACTOR_MAX];
    char kid[KID_BUF];
    enum wd_err err;

    err = owner_processing(conn, job->oid, kid);
    if (err != WD_OK) {
        return err;
    }
    err = order_set(conn, STORE_STMT_ACME_ORDER_FAIL, sql_fail, job->oid,
                    job->error, "acme_finalize_fail");
    if (err != WD_OK) {
        return err;
    }
    snprintf(actor, sizeof(actor), "acme:%s", kid);
    snprintf(detail, sizeof(detail), "order %s", job->oid);
    ev.at = job->now;
    ev.actor = actor;
    ev.action = "acme-finalize";
    ev.outcome = "invalid";
    ev.detail = detail; /* the problem is the order's, not the log's */
    return store_audit_insert(conn, &ev);
}

/*
 * End finalizing order oid without a certificate, at now: invalid with
 * error (problem JSON), and an "acme-finalize" audit event of outcome
 * "invalid", in one transaction committed before WD_OK. WD_E_CONFLICT if
 * it is not processing; WD_E_NOT_FOUND (a malformed oid included);
 * WD_E_INTERNAL (logged) for another argument missing or malformed.
 */
enum wd_err
store_acme_order_finalize_fail(struct store *st, const char *oid,
                               const char *error, int64_t now)
{
    struct finalize_job job = { .oid = oid, .now = now, .error = error };

    if (st == NULL || oid == NULL ||
        !store_acme_text_is_valid(error, STORE_ACME_PROBLEM_MAX) || now <= 0) {
        log_err("event=store_bug op=acme_finalize_fail error=\"missing or "
                "malformed argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(oid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    return store_group_write(st, fail_write, &job);
}
