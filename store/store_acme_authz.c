/*
 * ACME authorizations and their challenges (RFC 8555 7.1.4, 7.5, 8): read
 * them, and move them through RFC 8555 7.1.6's state machines. Each move
 * is an UPDATE whose WHERE names the status it moves from, so of two
 * racing requests one changes the row and the other is told
 * WD_E_CONFLICT; the consequences for the authorization and its order
 * follow in the same transaction, so a challenge found valid never
 * leaves an order that waits for ever: the last authorization of an
 * order to turn valid makes it ready, whichever thread gets there.
 * store_acme_order_insert (store_acme_order.c) writes them; a validator
 * finds its work again after a restart through
 * store_acme_challenge_list_due.
 */
#include "store_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* Column order read by authz_read; z.id first. */
#define AUTHZ_COLUMNS                                                          \
    "z.id, z.aid, z.order_id, o.account_id, z.identifier_type,"                \
    " z.identifier_value, z.wildcard, z.status, z.expires_at"

#define AUTHZ_FROM " FROM acme_authzs z JOIN acme_orders o ON o.id = z.order_id"

/* Column order read by chall_read; c.id first, as store_page_collect
 * pages on column 0. */
#define CHALL_COLUMNS                                                          \
    "c.id, c.cid, c.authz_id, z.aid, c.type, c.token, c.status,"               \
    " c.validated_at, c.error, c.attempts, c.next_attempt_at"

#define CHALL_FROM                                                             \
    " FROM acme_challenges c JOIN acme_authzs z ON z.id = c.authz_id"

static const char sql_authz_get[] =
    "SELECT " AUTHZ_COLUMNS AUTHZ_FROM " WHERE z.aid = ?1";

static const char sql_authzs_of_order[] =
    "SELECT " AUTHZ_COLUMNS AUTHZ_FROM " WHERE z.order_id = ?1 ORDER BY z.id";

static const char sql_chall_get[] =
    "SELECT " CHALL_COLUMNS CHALL_FROM " WHERE c.cid = ?1";

static const char sql_challs_of_authz[] =
    "SELECT " CHALL_COLUMNS CHALL_FROM " WHERE c.authz_id = ?1 ORDER BY c.id";

/* Soonest due first, read in that order from the small partial index of
 * processing challenges: without statistics the planner would rather
 * start from every pending authorization. z.status leaves out those
 * whose authorization was decided meanwhile (store_acme_cleanup
 * invalidates them). */
static const char sql_chall_due[] =
    "SELECT " CHALL_COLUMNS " FROM acme_challenges c"
    " INDEXED BY acme_challenges_due JOIN acme_authzs z ON z.id = c.authz_id"
    " WHERE c.status = 'processing' AND c.next_attempt_at <= ?1"
    " AND z.status = 'pending' ORDER BY c.next_attempt_at, c.id LIMIT ?2";

/* ?2 the new status, ?3 and ?4 the ones it may move from. */
static const char sql_authz_set[] =
    "UPDATE acme_authzs SET status = ?2 WHERE aid = ?1"
    " AND status IN (?3, ?4) RETURNING order_id";

/* RFC 8555 7.1.6: an order is invalid once one of its authorizations
 * fails, expires, or is deactivated or revoked. */
static const char sql_order_invalid[] =
    "UPDATE acme_orders SET status = 'invalid' WHERE id = ?1"
    " AND status IN ('pending', 'ready')";

/* RFC 8555 7.1.6: an order is ready once all its authorizations are
 * valid. Run after each one that turns valid, in its transaction. */
static const char sql_order_ready[] =
    "UPDATE acme_orders SET status = 'ready' WHERE id = ?1"
    " AND status = 'pending' AND NOT EXISTS (SELECT 1 FROM acme_authzs"
    " WHERE order_id = ?1 AND status != 'valid')";

/* Only while its authorization can still turn valid (?2: now); a
 * correlated EXISTS looks up that one authorization, where IN would list
 * every pending one first. */
static const char sql_chall_processing[] =
    "UPDATE acme_challenges SET status = 'processing', attempts = 0,"
    " next_attempt_at = ?2, error = NULL WHERE cid = ?1"
    " AND status = 'pending' AND EXISTS (SELECT 1 FROM acme_authzs z"
    " WHERE z.id = acme_challenges.authz_id AND z.status = 'pending'"
    " AND z.expires_at > ?2)";

static const char sql_chall_retry[] =
    "UPDATE acme_challenges SET attempts = attempts + 1,"
    " next_attempt_at = ?2, error = ?3 WHERE cid = ?1"
    " AND status = 'processing'";

/* ?2 the result, ?3 validated_at (NULL unless valid), ?4 the error. */
static const char sql_chall_result[] =
    "UPDATE acme_challenges SET status = ?2, validated_at = ?3, error = ?4,"
    " attempts = attempts + 1, next_attempt_at = NULL WHERE cid = ?1"
    " AND status = 'processing' RETURNING authz_id";

/* The challenge's verdict passes to its authorization if that is still
 * pending and unexpired (?3: now); otherwise it stays as it is. */
static const char sql_authz_result[] =
    "UPDATE acme_authzs SET status = ?2 WHERE id = ?1 AND status = 'pending'"
    " AND expires_at > ?3 RETURNING order_id";

/* Frees what c owns, not c itself. */
void
store_acme_challenge_clear(struct store_acme_challenge *c)
{
    free(c->cid);
    free(c->aid);
    free(c->token);
    free(c->error);
}

/* Free c and everything it owns; accepts NULL. */
void
store_acme_challenge_free(struct store_acme_challenge *c)
{
    if (c == NULL) {
        return;
    }
    store_acme_challenge_clear(c);
    free(c);
}

/* Frees what z owns, its challenges included, not z itself. */
void
store_acme_authz_clear(struct store_acme_authz *z)
{
    size_t i;

    free(z->aid);
    free(z->ident_value);
    for (i = 0; i < z->n_challenges; i++) {
        store_acme_challenge_clear(&z->challenges[i]);
    }
    free(z->challenges);
}

/* Free z and everything it owns; accepts NULL. */
void
store_acme_authz_free(struct store_acme_authz *z)
{
    if (z == NULL) {
        return;
    }
    store_acme_authz_clear(z);
    free(z);
}

/* Free the items of l and empty it; accepts NULL and a zeroed list. */
void
store_acme_challenge_list_free(struct store_acme_challenge_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        store_acme_challenge_clear(&l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static enum wd_err
malformed(const char *what, int64_t id)
{
    log_err("event=store_failed op=%s id=%lld error=\"malformed row\"", what,
            (long long)id);
    return WD_E_INTERNAL;
}

/* Fills item, a struct store_acme_challenge, from the current row of s
 * (CHALL_COLUMNS order). On failure it may be partly filled: the caller
 * clears it. */
static enum wd_err
chall_read(sqlite3_stmt *s, void *item)
{
    struct store_acme_challenge *c = item;

    c->id = sqlite3_column_int64(s, 0);
    c->cid = store_acme_column_dup(s, 1);
    c->authz_id = sqlite3_column_int64(s, 2);
    c->aid = store_acme_column_dup(s, 3);
    c->token = store_acme_column_dup(s, 5);
    c->validated_at = sqlite3_column_int64(s, 7); /* NULL reads as 0 */
    c->error = store_acme_column_dup(s, 8);
    c->attempts = sqlite3_column_int64(s, 9);
    c->next_attempt_at = sqlite3_column_int64(s, 10);
    if (c->cid == NULL || c->aid == NULL || c->token == NULL ||
        !store_acme_chall_type_parse(sqlite3_column_text(s, 4), &c->type) ||
        !store_acme_status_parse(sqlite3_column_text(s, 6), &c->status)) {
        return malformed("acme_challenge_read", c->id);
    }
    return WD_OK;
}

static void
chall_clear(void *item)
{
    store_acme_challenge_clear(item);
}

static const struct store_page_rows chall_rows = {
    sizeof(struct store_acme_challenge),
    chall_read,
    chall_clear,
    "acme_challenge_read",
};

/* Fills item, a struct store_acme_authz, from the current row of s
 * (AUTHZ_COLUMNS order), without its challenges. On failure it may be
 * partly filled: the caller clears it. */
static enum wd_err
authz_read(sqlite3_stmt *s, void *item)
{
    struct store_acme_authz *z = item;

    z->id = sqlite3_column_int64(s, 0);
    z->aid = store_acme_column_dup(s, 1);
    z->order_id = sqlite3_column_int64(s, 2);
    z->account_id = sqlite3_column_int64(s, 3);
    z->ident_value = store_acme_column_dup(s, 5);
    z->wildcard = sqlite3_column_int(s, 6) != 0;
    z->expires_at = sqlite3_column_int64(s, 8);
    if (z->aid == NULL || z->ident_value == NULL ||
        !store_acme_ident_type_parse(sqlite3_column_text(s, 4),
                                     &z->ident_type) ||
        !store_acme_status_parse(sqlite3_column_text(s, 7), &z->status)) {
        return malformed("acme_authz_read", z->id);
    }
    return WD_OK;
}

static void
authz_clear(void *item)
{
    store_acme_authz_clear(item);
}

static const struct store_page_rows authz_rows = {
    sizeof(struct store_acme_authz),
    authz_read,
    authz_clear,
    "acme_authz_read",
};

/* The rows of the cached statement in slot with ?1 bound to id, read by
 * rows into a new array *items of *n (both the caller's, set on success
 * only). At most max rows: more is a malformed database. */
static enum wd_err
rows_of(struct store_conn *conn, enum store_stmt slot, const char *sql,
        int64_t id, size_t max, const struct store_page_rows *rows,
        void **items, size_t *n)
{
    sqlite3_stmt *s = NULL;
    void *got = NULL;
    int64_t more = 0;
    size_t n_got = 0;
    enum wd_err err;
    size_t i;
    int rc;

    err = store_stmt_get(conn, slot, sql, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_int64(s, 1, id);
    if (rc != SQLITE_OK) {
        err = store_sql_err(conn->db, rc, rows->what);
    } else {
        err = store_page_collect(conn, s, max, rows, &got, &n_got, &more);
    }
    store_stmt_done(s);
    if (err == WD_OK && more != 0) {
        for (i = 0; i < n_got; i++) {
            rows->clear((unsigned char *)got + i * rows->item_size);
        }
        free(got);
        return malformed(rows->what, id);
    }
    if (err == WD_OK) {
        *items = got;
        *n = n_got;
    }
    return err;
}

/*
 * The authorizations of order_id on conn, in insertion order, without
 * their challenges, into a new array *out of *n (the caller's, on
 * success only: each cleared with store_acme_authz_clear, then freed).
 */
enum wd_err
store_acme_authzs_read(struct store_conn *conn, int64_t order_id,
                       struct store_acme_authz **out, size_t *n)
{
    void *items = NULL;
    enum wd_err err;

    err = rows_of(conn, STORE_STMT_ACME_AUTHZS_OF_ORDER, sql_authzs_of_order,
                  order_id, STORE_ACME_MAX_IDENTIFIERS, &authz_rows, &items, n);
    if (err == WD_OK) {
        *out = items;
    }
    return err;
}

/* The first row of the cached statement in slot with ?1 bound to key,
 * read by read into item; WD_E_NOT_FOUND if there is none. */
static enum wd_err
row_by_key(struct store_conn *conn, enum store_stmt slot, const char *sql,
           const char *key, enum wd_err (*read)(sqlite3_stmt *, void *),
           void *item, const char *what)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, slot, sql, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_ROW) {
        err = read(s, item);
    } else if (rc == SQLITE_DONE) {
        err = WD_E_NOT_FOUND;
    } else {
        err = store_sql_err(conn->db, rc, what);
    }
    store_stmt_done(s);
    return err;
}

/* The authorization aid with its challenges, read on conn in one
 * snapshot into z (cleared by the caller, also on failure). */
static enum wd_err
authz_load(struct store_conn *conn, const char *aid, struct store_acme_authz *z)
{
    void *items = NULL;
    enum wd_err err;

    err = store_tx_begin_read(conn);
    if (err != WD_OK) {
        return err;
    }
    err = row_by_key(conn, STORE_STMT_ACME_AUTHZ_GET, sql_authz_get, aid,
                     authz_read, z, "acme_authz_get");
    if (err == WD_OK) {
        err = rows_of(conn, STORE_STMT_ACME_CHALLS_OF_AUTHZ,
                      sql_challs_of_authz, z->id, STORE_ACME_MAX_CHALLENGES,
                      &chall_rows, &items, &z->n_challenges);
    }
    if (err == WD_OK) {
        z->challenges = items;
        err = store_tx_commit(conn); /* ends the snapshot */
    }
    store_tx_rollback(conn);
    return err;
}

/*
 * The authorization aid with its challenges, from one snapshot. On
 * success the caller owns *out (store_acme_authz_free); WD_E_NOT_FOUND if
 * there is none, a malformed aid included; *out is untouched on failure.
 */
enum wd_err
store_acme_authz_get(struct store *st, const char *aid,
                     struct store_acme_authz **out)
{
    struct store_acme_authz *z = NULL;
    struct store_conn *conn = NULL;
    enum wd_err err;

    if (st == NULL || aid == NULL || out == NULL) {
        log_err("event=store_bug op=acme_authz_get error=\"missing "
                "argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(aid)) {
        return WD_E_NOT_FOUND; /* from a URL: no row can have it */
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        return err;
    }
    z = xcalloc(1, sizeof(*z));
    err = authz_load(conn, aid, z);
    if (err == WD_OK) {
        *out = z;
        z = NULL; /* the caller owns it now */
    }
    store_acme_authz_free(z);
    store_conn_return(st, conn);
    return err;
}

/*
 * The challenge cid. On success the caller owns *out
 * (store_acme_challenge_free); WD_E_NOT_FOUND if there is none, a
 * malformed cid included; *out is untouched on failure.
 */
enum wd_err
store_acme_challenge_get(struct store *st, const char *cid,
                         struct store_acme_challenge **out)
{
    struct store_acme_challenge *c = NULL;
    struct store_conn *conn = NULL;
    enum wd_err err;

    if (st == NULL || cid == NULL || out == NULL) {
        log_err("event=store_bug op=acme_challenge_get error=\"missing "
                "argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(cid)) {
        return WD_E_NOT_FOUND;
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        return err;
    }
    c = xcalloc(1, sizeof(*c));
    err = row_by_key(conn, STORE_STMT_ACME_CHALL_GET, sql_chall_get, cid,
                     chall_read, c, "acme_challenge_get");
    if (err == WD_OK) {
        *out = c;
        c = NULL; /* the caller owns it now */
    }
    store_acme_challenge_free(c);
    store_conn_return(st, conn);
    return err;
}

/* Runs the cached order update in slot (sql_order_invalid or
 * sql_order_ready) for order_id. */
static enum wd_err
order_follow(struct store_conn *conn, enum store_stmt slot, const char *sql,
             int64_t order_id)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;

    err = store_stmt_get(conn, slot, sql, &s);
    if (err != WD_OK) {
        return err;
    }
    err = store_acme_step_write(conn, s, sqlite3_bind_int64(s, 1, order_id),
                                "acme_order_follow", NULL);
    store_stmt_done(s);
    return err;
}

/* After a compare-and-set on a key changed no row: WD_E_NOT_FOUND if
 * the row does not exist (the statement in slot finds it), else
 * WD_E_CONFLICT. Read under the caller's write lock, so it holds. */
static enum wd_err
why_unchanged(struct store_conn *conn, bool authz, const char *key)
{
    struct store_acme_authz z = { 0 };
    struct store_acme_challenge c = { 0 };
    enum wd_err err;

    if (authz) {
        err = row_by_key(conn, STORE_STMT_ACME_AUTHZ_GET, sql_authz_get, key,
                         authz_read, &z, "acme_authz_get");
    } else {
        err = row_by_key(conn, STORE_STMT_ACME_CHALL_GET, sql_chall_get, key,
                         chall_read, &c, "acme_challenge_get");
    }
    store_acme_authz_clear(&z);
    store_acme_challenge_clear(&c);
    return err == WD_OK ? WD_E_CONFLICT : err;
}

struct authz_job {
    const char *aid;
    enum store_acme_status to;
    enum store_acme_status from[2]; /* the statuses it may move from */
};

static enum wd_err
authz_set_write(struct store_conn *conn, void *ctx)
{
    struct authz_job *job = ctx;
    const char *const text[] = { job->aid, store_acme_status_str(job->to),
                                 store_acme_status_str(job->from[0]),
                                 store_acme_status_str(job->from[1]) };
    sqlite3_stmt *s = NULL;
    int64_t order_id = 0;
    bool found = false;
    enum wd_err err;
    size_t i;
    int rc = SQLITE_OK;

    err = store_stmt_get(conn, STORE_STMT_ACME_AUTHZ_SET, sql_authz_set, &s);
    if (err != WD_OK) {
        return err;
    }
    for (i = 0; i < sizeof(text) / sizeof(text[0]) && rc == SQLITE_OK; i++) {
        rc = sqlite3_bind_text(s, 1 + (int)i, text[i], -1, SQLITE_STATIC);
    }
    err = store_acme_step_one(conn, s, rc, "acme_authz_set", &found, &order_id);
    store_stmt_done(s);
    if (err != WD_OK) {
        return err;
    }
    if (!found) {
        return why_unchanged(conn, true, job->aid);
    }
    /* every status this sets ends the authorization's use for its order */
    return order_follow(conn, STORE_STMT_ACME_ORDER_INVALID, sql_order_invalid,
                        order_id);
}

/*
 * Move authorization aid to status (DEACTIVATED from pending or valid,
 * REVOKED from valid, INVALID from pending) and its order, if pending or
 * ready, to invalid, in one transaction committed before WD_OK.
 * WD_E_CONFLICT if aid is in no status it may move from, WD_E_NOT_FOUND
 * (a malformed aid included), WD_E_INTERNAL (logged) for another status.
 */
enum wd_err
store_acme_authz_set_status(struct store *st, const char *aid,
                            enum store_acme_status status)
{
    struct authz_job job = { .aid = aid, .to = status };
    bool known = true;

    switch (status) {
    case STORE_ACME_DEACTIVATED: /* RFC 8555 7.5.2 */
        job.from[0] = STORE_ACME_PENDING;
        job.from[1] = STORE_ACME_VALID;
        break;
    case STORE_ACME_REVOKED:
        job.from[0] = job.from[1] = STORE_ACME_VALID;
        break;
    case STORE_ACME_INVALID:
        job.from[0] = job.from[1] = STORE_ACME_PENDING;
        break;
    default:
        known = false; /* not a move this function makes */
        break;
    }
    if (st == NULL || !known || aid == NULL) {
        log_err("event=store_bug op=acme_authz_set error=\"missing "
                "argument, or a status set elsewhere\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(aid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    return store_group_write(st, authz_set_write, &job);
}

struct chall_job {
    const char *cid;
    enum store_acme_status result; /* set_result: VALID or INVALID */
    const char *error;             /* problem JSON or NULL */
    int64_t t;                     /* now, or retry: next_attempt_at */
};

static enum wd_err
processing_write(struct store_conn *conn, void *ctx)
{
    struct chall_job *job = ctx;
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int changed = 0;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_CHALL_PROCESSING,
                         sql_chall_processing, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, job->cid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 2, job->t);
    }
    err = store_acme_step_write(conn, s, rc, "acme_challenge_processing",
                                &changed);
    store_stmt_done(s);
    if (err == WD_OK && changed == 0) {
        err = why_unchanged(conn, false, job->cid);
    }
    return err;
}

/*
 * Start validating challenge cid at now: pending -> processing, due now,
 * its attempts and error reset, if its authorization is pending and
 * unexpired. Committed before WD_OK. WD_E_CONFLICT if it is not pending
 * (a concurrent request got there first) or its authorization cannot
 * turn valid any more; WD_E_NOT_FOUND (a malformed cid included);
 * WD_E_INTERNAL (logged) for now <= 0.
 */
enum wd_err
store_acme_challenge_set_processing(struct store *st, const char *cid,
                                    int64_t now)
{
    struct chall_job job = { .cid = cid, .t = now };

    if (st == NULL || cid == NULL || now <= 0) {
        log_err("event=store_bug op=acme_challenge_processing error=\"missing "
                "argument or time not positive\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(cid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    return store_group_write(st, processing_write, &job);
}

static enum wd_err
retry_write(struct store_conn *conn, void *ctx)
{
    struct chall_job *job = ctx;
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int changed = 0;
    int rc;

    err =
        store_stmt_get(conn, STORE_STMT_ACME_CHALL_RETRY, sql_chall_retry, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, job->cid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 2, job->t);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 3, job->error, -1, SQLITE_STATIC);
    }
    err = store_acme_step_write(conn, s, rc, "acme_challenge_retry", &changed);
    store_stmt_done(s);
    if (err == WD_OK && changed == 0) {
        err = why_unchanged(conn, false, job->cid);
    }
    return err;
}

/* Optional problem JSON: NULL, or a bounded text. */
static bool
problem_is_valid(const char *error)
{
    return error == NULL ||
           store_acme_text_is_valid(error, STORE_ACME_PROBLEM_MAX);
}

/*
 * Record a failed attempt of the processing challenge cid that will be
 * retried: one more attempt, error kept (problem JSON or NULL), due
 * again at next_attempt_at. Committed before WD_OK. WD_E_CONFLICT if it
 * is not processing; WD_E_NOT_FOUND (a malformed cid included);
 * WD_E_INTERNAL (logged) for another argument missing or malformed.
 */
enum wd_err
store_acme_challenge_retry(struct store *st, const char *cid,
                           int64_t next_attempt_at, const char *error)
{
    struct chall_job job = { .cid = cid, .error = error, .t = next_attempt_at };

    if (st == NULL || cid == NULL || next_attempt_at <= 0 ||
        !problem_is_valid(error)) {
        log_err("event=store_bug op=acme_challenge_retry error=\"missing or "
                "malformed argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(cid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    return store_group_write(st, retry_write, &job);
}

/* The challenge's verdict for its authorization (authz_id), and that
 * authorization's for its order. */
static enum wd_err
result_follow(struct store_conn *conn, const struct chall_job *job,
              int64_t authz_id)
{
    sqlite3_stmt *s = NULL;
    int64_t order_id = 0;
    bool found = false;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_AUTHZ_RESULT, sql_authz_result,
                         &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_int64(s, 1, authz_id);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 2, store_acme_status_str(job->result), -1,
                               SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 3, job->t);
    }
    err = store_acme_step_one(conn, s, rc, "acme_authz_result", &found,
                              &order_id);
    store_stmt_done(s);
    if (err != WD_OK || !found) {
        return err; /* decided before, or expired: it keeps its status */
    }
    if (job->result == STORE_ACME_VALID) {
        return order_follow(conn, STORE_STMT_ACME_ORDER_READY, sql_order_ready,
                            order_id);
    }
    return order_follow(conn, STORE_STMT_ACME_ORDER_INVALID, sql_order_invalid,
                        order_id);
}

static enum wd_err
result_write(struct store_conn *conn, void *ctx)
{
    struct chall_job *job = ctx;
    sqlite3_stmt *s = NULL;
    int64_t authz_id = 0;
    bool found = false;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_CHALL_RESULT, sql_chall_result,
                         &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, job->cid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 2, store_acme_status_str(job->result), -1,
                               SQLITE_STATIC);
    }
    if (rc == SQLITE_OK && job->result == STORE_ACME_VALID) {
        rc = sqlite3_bind_int64(s, 3, job->t); /* else ?3 stays NULL */
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 4, job->error, -1, SQLITE_STATIC);
    }
    err = store_acme_step_one(conn, s, rc, "acme_challenge_result", &found,
                              &authz_id);
    store_stmt_done(s);
    if (err != WD_OK) {
        return err;
    }
    if (!found) {
        return why_unchanged(conn, false, job->cid);
    }
    return result_follow(conn, job, authz_id);
}

/*
 * End the validation of the processing challenge cid with status (VALID,
 * validated at now, or INVALID) and error (problem JSON or NULL), and
 * pass the verdict on to its authorization and order (see store.h), in
 * one transaction committed before WD_OK. WD_E_CONFLICT if it is not
 * processing; WD_E_NOT_FOUND (a malformed cid included); WD_E_INTERNAL
 * (logged) for another status or argument missing or malformed.
 */
enum wd_err
store_acme_challenge_set_result(struct store *st, const char *cid,
                                enum store_acme_status status,
                                const char *error, int64_t now)
{
    struct chall_job job = {
        .cid = cid, .result = status, .error = error, .t = now
    };

    if (st == NULL || cid == NULL ||
        (status != STORE_ACME_VALID && status != STORE_ACME_INVALID) ||
        !problem_is_valid(error) || now <= 0) {
        log_err("event=store_bug op=acme_challenge_result error=\"missing or "
                "malformed argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(cid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    return store_group_write(st, result_write, &job);
}

/*
 * Up to limit processing challenges due at now whose authorization is
 * pending, soonest due first, into *out (reset first, filled on success
 * only; the caller frees it with store_acme_challenge_list_free).
 * WD_E_BAD_QUERY for a limit outside 1..WD_LIST_LIMIT_MAX.
 */
enum wd_err
store_acme_challenge_list_due(struct store *st, int64_t now, unsigned limit,
                              struct store_acme_challenge_list *out)
{
    const int64_t v[] = { now, limit };
    struct store_conn *conn = NULL;
    sqlite3_stmt *s = NULL;
    void *items = NULL;
    int64_t more = 0;
    enum wd_err err;
    int rc;

    if (st == NULL || out == NULL) {
        log_err("event=store_bug op=acme_challenge_due error=\"missing "
                "argument\"");
        return WD_E_INTERNAL;
    }
    memset(out, 0, sizeof(*out));
    if (limit < 1 || limit > WD_LIST_LIMIT_MAX) {
        return WD_E_BAD_QUERY;
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = store_stmt_get(conn, STORE_STMT_ACME_CHALL_DUE, sql_chall_due, &s);
    if (err != WD_OK) {
        goto out;
    }
    rc = store_acme_bind_ints(s, v, 2);
    if (rc != SQLITE_OK) {
        err = store_sql_err(conn->db, rc, "acme_challenge_due");
        goto out;
    }
    err =
        store_page_collect(conn, s, limit, &chall_rows, &items, &out->n, &more);
    out->items = items; /* NULL unless it succeeded */
out:
    store_stmt_done(s);
    store_conn_return(st, conn);
    return err;
}
