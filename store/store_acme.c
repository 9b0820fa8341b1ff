/*
 * ACME (RFC 8555) in the store, the part its files share: the names RFC
 * 8555 gives statuses and types (which migration 6's CHECK constraints
 * hold as text), the shape checks applied to what api/ hands in, the
 * statement runners that turn constraint failures into wd_err, and the
 * periodic cleanup of what expired. Accounts and EAB keys live in
 * store_acme_account.c, orders and finalization in store_acme_order.c,
 * authorizations and challenges in store_acme_authz.c, nonces in
 * store_acme_nonce.c. Every write runs as a job of the group commit
 * (store_group.c): ACME answers each request with a fresh nonce and
 * takes one from each POST, so writes come in pairs per request, and
 * sharing fsyncs is what keeps that cheap.
 */
#include "store_priv.h"

#include <string.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* Indexed by enum store_acme_status. */
static const char *const status_names[] = {
    [STORE_ACME_PENDING] = "pending",
    [STORE_ACME_READY] = "ready",
    [STORE_ACME_PROCESSING] = "processing",
    [STORE_ACME_VALID] = "valid",
    [STORE_ACME_INVALID] = "invalid",
    [STORE_ACME_DEACTIVATED] = "deactivated",
    [STORE_ACME_EXPIRED] = "expired",
    [STORE_ACME_REVOKED] = "revoked",
};

/* Indexed by enum store_acme_ident_type. */
static const char *const ident_names[] = {
    [STORE_ACME_IDENT_DNS] = "dns",
    [STORE_ACME_IDENT_IP] = "ip",
};

/* Indexed by enum store_acme_chall_type. */
static const char *const chall_names[] = {
    [STORE_ACME_HTTP_01] = "http-01",
    [STORE_ACME_TLS_ALPN_01] = "tls-alpn-01",
    [STORE_ACME_DNS_01] = "dns-01",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *names, size_t n, unsigned v)
{
    return v < n ? names[v] : NULL;
}

/* The index of text in names, or -1. */
static int
index_of(const char *const *names, size_t n, const unsigned char *text)
{
    size_t i;

    for (i = 0; text != NULL && i < n; i++) {
        if (strcmp(names[i], (const char *)text) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* The RFC 8555 name of s ("pending", ...); NULL outside the enum. */
const char *
store_acme_status_str(enum store_acme_status s)
{
    return name_of(status_names, N_OF(status_names), (unsigned)s);
}

/* The RFC 8555 name of t ("dns", "ip"); NULL outside the enum. */
const char *
store_acme_ident_type_str(enum store_acme_ident_type t)
{
    return name_of(ident_names, N_OF(ident_names), (unsigned)t);
}

/* The RFC 8555 name of t ("http-01", ...); NULL outside the enum. */
const char *
store_acme_chall_type_str(enum store_acme_chall_type t)
{
    return name_of(chall_names, N_OF(chall_names), (unsigned)t);
}

/* The status named text into *out; false for a name not in the enum. */
bool
store_acme_status_parse(const unsigned char *text, enum store_acme_status *out)
{
    int i = index_of(status_names, N_OF(status_names), text);

    if (i < 0) {
        return false;
    }
    *out = (enum store_acme_status)i;
    return true;
}

/* The identifier type named text into *out; false if none. */
bool
store_acme_ident_type_parse(const unsigned char *text,
                            enum store_acme_ident_type *out)
{
    int i = index_of(ident_names, N_OF(ident_names), text);

    if (i < 0) {
        return false;
    }
    *out = (enum store_acme_ident_type)i;
    return true;
}

/* The challenge type named text into *out; false if none. */
bool
store_acme_chall_type_parse(const unsigned char *text,
                            enum store_acme_chall_type *out)
{
    int i = index_of(chall_names, N_OF(chall_names), text);

    if (i < 0) {
        return false;
    }
    *out = (enum store_acme_chall_type)i;
    return true;
}

/* RFC 4648 section 5: A-Z, a-z, 0-9, '-' and '_'. */
static bool
is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* min to max base64url characters (RFC 4648 section 5), no padding and
 * nothing else; false for NULL. */
bool
store_acme_b64url_is_valid(const char *s, size_t min, size_t max)
{
    size_t i;

    if (s == NULL) {
        return false;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (i == max || !is_b64url(s[i])) {
            return false;
        }
    }
    return i >= min;
}

/* An id of ours: STORE_ACME_ID_MIN to STORE_ACME_ID_MAX base64url. */
bool
store_acme_id_is_valid(const char *s)
{
    return store_acme_b64url_is_valid(s, STORE_ACME_ID_MIN, STORE_ACME_ID_MAX);
}

/*
 * 1 to max bytes with no control character (below 0x20, or 0x7f), so a
 * stored JSON text (which jansson writes with those escaped) reads the
 * same in a log or a terminal; UTF-8 above 0x7f passes. false for NULL.
 */
bool
store_acme_text_is_valid(const char *s, size_t max)
{
    size_t i;

    if (s == NULL) {
        return false;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (i == max || (unsigned char)s[i] < 0x20 ||
            (unsigned char)s[i] == 0x7f) {
            return false;
        }
    }
    return i > 0;
}

/* A copy of column i's text, NULL for SQL NULL. */
char *
store_acme_column_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t != NULL ? xstrdup((const char *)t) : NULL;
}

/* Binds ?1..?n of s to the integers v[0..n-1]; SQLite's result code. */
int
store_acme_bind_ints(sqlite3_stmt *s, const int64_t *v, int n)
{
    int rc = SQLITE_OK;
    int i;

    for (i = 0; i < n && rc == SQLITE_OK; i++) {
        rc = sqlite3_bind_int64(s, i + 1, v[i]);
    }
    return rc;
}

/* The result code of a failed step as a wd_err: a unique key taken is a
 * conflict, a parent row missing a not-found (SQLite's message names the
 * constraint, never a value), anything else store_sql_err's. */
static enum wd_err
step_err(struct store_conn *conn, int rc, const char *what)
{
    const char *msg = sqlite3_errmsg(conn->db);
    char quoted[LOG_QUOTE_BUF];

    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        log_quote(msg, strlen(msg), quoted);
        log_warn("event=store_conflict op=%s error=%s", what, quoted);
        return WD_E_CONFLICT;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        log_quote(msg, strlen(msg), quoted);
        log_warn("event=store_missing_parent op=%s error=%s", what, quoted);
        return WD_E_NOT_FOUND;
    default:
        return store_sql_err(conn->db, rc, what);
    }
}

/*
 * Step s, a write the caller bound (rc is the binding's result code), to
 * its end; *changes (if changes != NULL) is the number of rows it
 * changed. WD_E_CONFLICT for a unique key already taken, WD_E_NOT_FOUND
 * for a foreign key whose parent row is missing, else as store_sql_err,
 * logged under what. The caller resets s.
 */
enum wd_err
store_acme_step_write(struct store_conn *conn, sqlite3_stmt *s, int rc,
                      const char *what, int *changes)
{
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
        return step_err(conn, rc, what);
    }
    if (changes != NULL) {
        *changes = sqlite3_changes(conn->db);
    }
    return WD_OK;
}

/*
 * Step s, a statement the caller bound (rc as above) that yields at most
 * one row, such as an UPDATE ... RETURNING on a unique key, to its end:
 * *found says whether it had a row and *value is that row's first column
 * (0 if none, or NULL). Errors as store_acme_step_write.
 */
enum wd_err
store_acme_step_one(struct store_conn *conn, sqlite3_stmt *s, int rc,
                    const char *what, bool *found, int64_t *value)
{
    *found = false;
    *value = 0;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_ROW) {
        *found = true;
        *value = sqlite3_column_int64(s, 0);
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
        return step_err(conn, rc, what);
    }
    return WD_OK;
}

/*
 * Run the cached write in slot (from sql) with ?1..?n bound to the
 * integers v, and add the rows it changed to *changes.
 */
static enum wd_err
run_ints(struct store_conn *conn, enum store_stmt slot, const char *sql,
         const int64_t *v, int n, const char *what, int64_t *changes)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int changed = 0;

    err = store_stmt_get(conn, slot, sql, &s);
    if (err != WD_OK) {
        return err;
    }
    err = store_acme_step_write(conn, s, store_acme_bind_ints(s, v, n), what,
                                &changed);
    store_stmt_done(s);
    *changes += changed;
    return err;
}

/* Each statement changes at most ?2 rows chosen by a subquery (SQLite
 * has DELETE ... LIMIT only in builds that opt in), found through the
 * (status, expires_at) and expires_at indexes of migration 6. */
static const char sql_cleanup_nonces[] =
    "DELETE FROM acme_nonces WHERE nonce IN (SELECT nonce FROM acme_nonces"
    " WHERE expires_at <= ?1 LIMIT ?2)";

/* RFC 8555 7.1.6: an order whose expiry passes before it is valid is
 * invalid. ?3: now less the grace a processing order gets. */
static const char sql_cleanup_orders[] =
    "UPDATE acme_orders SET status = 'invalid' WHERE id IN ("
    "SELECT id FROM acme_orders WHERE status IN ('pending', 'ready')"
    " AND expires_at <= ?1"
    " UNION ALL SELECT id FROM acme_orders WHERE status = 'processing'"
    " AND expires_at <= ?3 LIMIT ?2)";

/* RFC 8555 7.1.6 has valid authorizations expire; a pending one past its
 * expiry can no longer be fulfilled, and "expired" says so too. */
static const char sql_cleanup_authzs[] =
    "UPDATE acme_authzs SET status = 'expired' WHERE id IN (SELECT id FROM"
    " acme_authzs WHERE status IN ('pending', 'valid') AND expires_at <= ?1"
    " LIMIT ?2)";

/* A processing challenge whose authorization was decided another way
 * (expired, deactivated, another challenge) has nothing left to prove:
 * the validator would otherwise find it due for ever. Few challenges are
 * processing, and the partial index acme_challenges_due holds just them. */
static const char sql_cleanup_challenges[] =
    "UPDATE acme_challenges SET status = 'invalid', next_attempt_at = NULL"
    " WHERE id IN (SELECT c.id FROM acme_challenges c"
    " JOIN acme_authzs z ON z.id = c.authz_id"
    " WHERE c.status = 'processing' AND z.status != 'pending' LIMIT ?1)";

/* ON DELETE CASCADE takes their authorizations and challenges along.
 * ?1: now less the retention. */
static const char sql_cleanup_delete[] =
    "DELETE FROM acme_orders WHERE id IN (SELECT id FROM acme_orders"
    " WHERE status = 'invalid' AND expires_at <= ?1 LIMIT ?2)";

struct cleanup_job {
    int64_t now;
    struct store_acme_cleanup counts;
};

/* One batch of each kind, inside a group commit's savepoint. */
static enum wd_err
cleanup_write(struct store_conn *conn, void *ctx)
{
    struct cleanup_job *job = ctx;
    struct store_acme_cleanup *c = &job->counts;
    const int64_t batch = STORE_ACME_CLEANUP_BATCH;
    const int64_t expiry[] = { job->now, batch,
                               job->now - STORE_ACME_PROCESSING_GRACE_S };
    const int64_t retention[] = { job->now - STORE_ACME_INVALID_RETENTION_S,
                                  batch };
    const int64_t only_batch[] = { batch };
    enum wd_err err;

    err = run_ints(conn, STORE_STMT_ACME_CLEANUP_NONCES, sql_cleanup_nonces,
                   expiry, 2, "acme_cleanup", &c->nonces_deleted);
    if (err == WD_OK) {
        err = run_ints(conn, STORE_STMT_ACME_CLEANUP_ORDERS, sql_cleanup_orders,
                       expiry, 3, "acme_cleanup", &c->orders_invalidated);
    }
    if (err == WD_OK) {
        err = run_ints(conn, STORE_STMT_ACME_CLEANUP_AUTHZS, sql_cleanup_authzs,
                       expiry, 2, "acme_cleanup", &c->authzs_expired);
    }
    if (err == WD_OK) {
        /* after the authorizations: those just expired count too */
        err = run_ints(conn, STORE_STMT_ACME_CLEANUP_CHALLENGES,
                       sql_cleanup_challenges, only_batch, 1, "acme_cleanup",
                       &c->challenges_invalidated);
    }
    if (err == WD_OK) {
        err = run_ints(conn, STORE_STMT_ACME_CLEANUP_DELETE, sql_cleanup_delete,
                       retention, 2, "acme_cleanup", &c->orders_deleted);
    }
    c->more = c->nonces_deleted == batch || c->orders_invalidated == batch ||
              c->authzs_expired == batch ||
              c->challenges_invalidated == batch || c->orders_deleted == batch;
    return err;
}

/*
 * One batch of ACME housekeeping at now, in one transaction committed
 * before WD_OK (see store.h for what it changes); *out counts it and
 * says whether a kind filled its batch. *out is untouched on failure:
 * WD_E_UNAVAILABLE, WD_E_IO, or WD_E_INTERNAL (logged) for a missing
 * argument or now <= 0.
 */
enum wd_err
store_acme_cleanup(struct store *st, int64_t now,
                   struct store_acme_cleanup *out)
{
    struct cleanup_job job = { .now = now };
    const struct store_acme_cleanup *c = &job.counts;
    int64_t changed;
    enum wd_err err;

    if (st == NULL || out == NULL || now <= 0) {
        log_err("event=store_bug op=acme_cleanup error=\"missing argument "
                "or time not positive\"");
        return WD_E_INTERNAL;
    }
    err = store_group_write(st, cleanup_write, &job);
    if (err != WD_OK) {
        return err;
    }
    changed = c->orders_invalidated + c->authzs_expired +
              c->challenges_invalidated + c->orders_deleted;
    if (changed > 0) {
        /* nonces alone are routine: no line for them */
        log_info("event=acme_cleanup nonces_deleted=%lld "
                 "orders_invalidated=%lld authzs_expired=%lld "
                 "challenges_invalidated=%lld orders_deleted=%lld more=%d",
                 (long long)c->nonces_deleted, (long long)c->orders_invalidated,
                 (long long)c->authzs_expired,
                 (long long)c->challenges_invalidated,
                 (long long)c->orders_deleted, c->more ? 1 : 0);
    }
    *out = job.counts;
    return WD_OK;
}
