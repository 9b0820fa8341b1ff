/*
 * ACME accounts (RFC 8555 7.3) and the External Account Binding keys an
 * admin creates for them (7.3.4). An account is found by its kid (the id
 * in its URL, which a JWS names) or by its key's thumbprint (newAccount,
 * keyChange); both are unique, so one key serves one account. Accounts
 * are never deleted: deactivation (7.3.6) is a status, and the audit log
 * names them as "acme:<kid>". An EAB key is bound to the account created
 * with it in that account's own transaction, so a key is never spent on
 * an account that was not made, and never serves two.
 */
#include "store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* Column order read by account_read. */
#define ACCOUNT_COLUMNS                                                        \
    "id, kid, jwk, thumbprint, status, contact, eab_kid, created_at"

static const char sql_insert[] =
    "INSERT INTO acme_accounts (kid, jwk, thumbprint, status, contact,"
    " eab_kid, created_at) VALUES (?1, ?2, ?3, 'valid', ?4, ?5, ?6)";

static const char sql_by_kid[] =
    "SELECT " ACCOUNT_COLUMNS " FROM acme_accounts WHERE kid = ?1";

static const char sql_by_thumbprint[] =
    "SELECT " ACCOUNT_COLUMNS " FROM acme_accounts WHERE thumbprint = ?1";

static const char sql_by_id[] =
    "SELECT " ACCOUNT_COLUMNS " FROM acme_accounts WHERE id = ?1";

static const char sql_contact[] =
    "UPDATE acme_accounts SET contact = ?2 WHERE kid = ?1"
    " AND status = 'valid'";

static const char sql_deactivate[] =
    "UPDATE acme_accounts SET status = 'deactivated' WHERE kid = ?1"
    " AND status = 'valid' RETURNING id";

/* RFC 8555 7.3.6: "the server SHOULD cancel any pending operations
 * authorized by the account's key". Authorizations first: the orders
 * they belong to are still pending or ready then. The unary + keeps the
 * planner off the status index (every pending authorization of every
 * account) and on the account's orders, then each one's authorizations. */
static const char sql_deactivate_authzs[] =
    "UPDATE acme_authzs SET status = 'deactivated' WHERE +status = 'pending'"
    " AND order_id IN (SELECT id FROM acme_orders WHERE account_id = ?1"
    " AND status IN ('pending', 'ready'))";

static const char sql_deactivate_orders[] =
    "UPDATE acme_orders SET status = 'invalid' WHERE account_id = ?1"
    " AND status IN ('pending', 'ready')";

/* The old key in the WHERE: a rollover checked against a key that has
 * changed since changes nothing. */
static const char sql_key_change[] =
    "UPDATE acme_accounts SET jwk = ?3, thumbprint = ?4 WHERE kid = ?1"
    " AND thumbprint = ?2 AND status = 'valid'";

static const char sql_eab_insert[] =
    "INSERT INTO acme_eab_keys (kid, hmac_key, created_by, created_at)"
    " VALUES (?1, ?2, ?3, ?4)";

/* The key and the account bound to it, if any (acme_accounts.eab_kid is
 * unique: at most one). */
static const char sql_eab_get[] =
    "SELECT e.kid, e.hmac_key, e.created_by, e.created_at, a.kid"
    " FROM acme_eab_keys e LEFT JOIN acme_accounts a ON a.eab_kid = e.kid"
    " WHERE e.kid = ?1";

/* "acme:" and a kid: an audit actor. */
#define ACTOR_MAX (sizeof("acme:") - 1 + STORE_ACME_ID_MAX + 1)

/* An audit detail naming up to two thumbprints. */
#define DETAIL_MAX (2 * STORE_ACME_THUMBPRINT_LEN + 64)

/* An admin's identity, as the audit actors store_cert.c accepts. */
#define ADMIN_MAX 64

/* Frees what a owns, not a itself. */
static void
account_clear(struct store_acme_account *a)
{
    free(a->kid);
    free(a->jwk);
    free(a->thumbprint);
    free(a->contact);
    free(a->eab_kid);
}

/* Free a and everything it owns; accepts NULL. */
void
store_acme_account_free(struct store_acme_account *a)
{
    if (a == NULL) {
        return;
    }
    account_clear(a);
    free(a);
}

static bool
thumbprint_is_valid(const char *t)
{
    return store_acme_b64url_is_valid(t, STORE_ACME_THUMBPRINT_LEN,
                                      STORE_ACME_THUMBPRINT_LEN);
}

/* Optional contact: NULL, or a bounded text. */
static bool
contact_is_valid(const char *contact)
{
    return contact == NULL ||
           store_acme_text_is_valid(contact, STORE_ACME_CONTACT_MAX);
}

static bool
account_is_complete(const struct store_acme_account *a)
{
    return a != NULL && store_acme_id_is_valid(a->kid) &&
           store_acme_text_is_valid(a->jwk, STORE_ACME_JWK_MAX) &&
           thumbprint_is_valid(a->thumbprint) && contact_is_valid(a->contact) &&
           (a->eab_kid == NULL || store_acme_id_is_valid(a->eab_kid)) &&
           a->created_at > 0;
}

/* Fills a from the current row of s (ACCOUNT_COLUMNS order). On failure
 * a may be partly filled: the caller clears it. */
static enum wd_err
account_read(sqlite3_stmt *s, struct store_acme_account *a)
{
    a->id = sqlite3_column_int64(s, 0);
    a->kid = store_acme_column_dup(s, 1);
    a->jwk = store_acme_column_dup(s, 2);
    a->thumbprint = store_acme_column_dup(s, 3);
    a->contact = store_acme_column_dup(s, 5);
    a->eab_kid = store_acme_column_dup(s, 6);
    a->created_at = sqlite3_column_int64(s, 7);
    if (a->kid == NULL || a->jwk == NULL || a->thumbprint == NULL ||
        !store_acme_status_parse(sqlite3_column_text(s, 4), &a->status)) {
        log_err("event=store_failed op=acme_account_read id=%lld "
                "error=\"malformed row\"",
                (long long)a->id);
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * Step s, prepared and bound by the caller (rc: the bind's result), and
 * read its row into a new *out (the caller's, on success only);
 * WD_E_NOT_FOUND if there is none. The caller resets s.
 */
static enum wd_err
account_step(struct store_conn *conn, sqlite3_stmt *s, int rc,
             struct store_acme_account **out)
{
    struct store_acme_account *a = NULL;
    enum wd_err err;

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_DONE) {
        return WD_E_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
        return store_sql_err(conn->db, rc, "acme_account_get");
    }
    a = xcalloc(1, sizeof(*a));
    err = account_read(s, a);
    if (err != WD_OK) {
        store_acme_account_free(a);
        return err;
    }
    *out = a;
    return WD_OK;
}

/*
 * The account whose key column (the statement in slot: kid or
 * thumbprint) is key, read on conn into a new *out (the caller's, on
 * success only); WD_E_NOT_FOUND if none.
 */
static enum wd_err
account_find(struct store_conn *conn, enum store_stmt slot, const char *sql,
             const char *key, struct store_acme_account **out)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;

    err = store_stmt_get(conn, slot, sql, &s);
    if (err != WD_OK) {
        return err;
    }
    err = account_step(conn, s, sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC),
                       out);
    store_stmt_done(s);
    return err;
}

/* After a compare-and-set on kid changed no row: WD_E_NOT_FOUND if there
 * is no such account, else WD_E_CONFLICT (its status or key is not the
 * one expected). Read under the caller's write lock, so it holds. */
static enum wd_err
why_unchanged(struct store_conn *conn, const char *kid)
{
    struct store_acme_account *a = NULL;
    enum wd_err err;

    err =
        account_find(conn, STORE_STMT_ACME_ACCOUNT_BY_KID, sql_by_kid, kid, &a);
    store_acme_account_free(a);
    return err == WD_OK ? WD_E_CONFLICT : err;
}

/* Appends an audit event by "acme:<kid>" on conn, in its transaction. */
static enum wd_err
audit(struct store_conn *conn, const char *kid, const char *action,
      const char *detail, int64_t at)
{
    struct store_audit_event ev = { 0 };
    char actor[ACTOR_MAX];

    snprintf(actor, sizeof(actor), "acme:%s", kid);
    ev.at = at;
    ev.actor = actor;
    ev.action = action;
    ev.outcome = "ok";
    ev.detail = detail;
    return store_audit_insert(conn, &ev);
}

/*
 * The EAB key eab_kid must exist and be bound to no account:
 * WD_E_NOT_FOUND or WD_E_FORBIDDEN otherwise. The unique eab_kid column
 * stops a second binding regardless; this tells the two cases apart.
 */
static enum wd_err
eab_check_unbound(struct store_conn *conn, const char *eab_kid)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_EAB_GET, sql_eab_get, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, eab_kid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_DONE) {
        err = WD_E_NOT_FOUND;
    } else if (rc != SQLITE_ROW) {
        err = store_sql_err(conn->db, rc, "acme_account_insert");
    } else if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
        log_warn("event=acme_eab_reused eab_kid=%s", eab_kid);
        err = WD_E_FORBIDDEN;
    }
    store_stmt_done(s);
    return err;
}

struct insert_job {
    const struct store_acme_account *a;
    int64_t id; /* the new account's, on success */
};

/* The writes of one account creation, inside a group commit's savepoint. */
static enum wd_err
insert_write(struct store_conn *conn, void *ctx)
{
    struct insert_job *job = ctx;
    const struct store_acme_account *a = job->a;
    const char *const text[] = { a->kid, a->jwk, a->thumbprint, a->contact,
                                 a->eab_kid }; /* ?1 to ?5 */
    char detail[DETAIL_MAX];
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    size_t i;
    int rc = SQLITE_OK;

    if (a->eab_kid != NULL) {
        err = eab_check_unbound(conn, a->eab_kid);
        if (err != WD_OK) {
            return err;
        }
    }
    err = store_stmt_get(conn, STORE_STMT_ACME_ACCOUNT_INSERT, sql_insert, &s);
    if (err != WD_OK) {
        return err;
    }
    for (i = 0; i < sizeof(text) / sizeof(text[0]) && rc == SQLITE_OK; i++) {
        /* a NULL pointer binds SQL NULL: contact and eab_kid may be absent */
        rc = sqlite3_bind_text(s, 1 + (int)i, text[i], -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 6, a->created_at);
    }
    /* a unique key taken: the kid, or the key's thumbprint */
    err = store_acme_step_write(conn, s, rc, "acme_account_insert", NULL);
    store_stmt_done(s);
    if (err != WD_OK) {
        return err;
    }
    job->id = sqlite3_last_insert_rowid(conn->db);
    snprintf(detail, sizeof(detail), "key %s%s%s", a->thumbprint,
             a->eab_kid != NULL ? " eab " : "",
             a->eab_kid != NULL ? a->eab_kid : "");
    return audit(conn, a->kid, "acme-account-new", detail, a->created_at);
}

/*
 * Create the account a (see store.h), binding its EAB key if it names
 * one, with its audit event, in one transaction committed before WD_OK;
 * *id (if id != NULL) is then the new account's. WD_E_CONFLICT (kid or
 * key taken), WD_E_NOT_FOUND (no such EAB key), WD_E_FORBIDDEN (EAB key
 * bound already), WD_E_INTERNAL (logged) for a missing or malformed
 * field; nothing is written on failure.
 */
enum wd_err
store_acme_account_insert(struct store *st, const struct store_acme_account *a,
                          int64_t *id)
{
    struct insert_job job = { .a = a };
    enum wd_err err;

    if (st == NULL || !account_is_complete(a)) {
        log_err("event=store_bug op=acme_account_insert error=\"missing or "
                "malformed field\"");
        return WD_E_INTERNAL;
    }
    err = store_group_write(st, insert_write, &job);
    if (err == WD_OK && id != NULL) {
        *id = job.id;
    }
    return err;
}

/* Borrow a connection and find the account by the statement in slot. */
static enum wd_err
account_get(struct store *st, enum store_stmt slot, const char *sql,
            const char *key, struct store_acme_account **out)
{
    struct store_conn *conn = NULL;
    enum wd_err err;

    err = store_conn_borrow(st, &conn);
    if (err == WD_OK) {
        err = account_find(conn, slot, sql, key, out);
    }
    store_conn_return(st, conn);
    return err;
}

/*
 * The account with kid. On success the caller owns *out
 * (store_acme_account_free); WD_E_NOT_FOUND if there is none, a kid that
 * is not one of ours included; *out is untouched on failure.
 */
enum wd_err
store_acme_account_get_by_kid(struct store *st, const char *kid,
                              struct store_acme_account **out)
{
    if (st == NULL || kid == NULL || out == NULL) {
        log_err("event=store_bug op=acme_account_get error=\"missing "
                "argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(kid)) {
        return WD_E_NOT_FOUND; /* from a URL: no row can have it */
    }
    return account_get(st, STORE_STMT_ACME_ACCOUNT_BY_KID, sql_by_kid, kid,
                       out);
}

/*
 * The account whose key has the RFC 7638 thumbprint. On success the
 * caller owns *out (store_acme_account_free); WD_E_NOT_FOUND if there is
 * none, a malformed thumbprint included; *out is untouched on failure.
 */
enum wd_err
store_acme_account_get_by_thumbprint(struct store *st, const char *thumbprint,
                                     struct store_acme_account **out)
{
    if (st == NULL || thumbprint == NULL || out == NULL) {
        log_err("event=store_bug op=acme_account_get error=\"missing "
                "argument\"");
        return WD_E_INTERNAL;
    }
    if (!thumbprint_is_valid(thumbprint)) {
        return WD_E_NOT_FOUND;
    }
    return account_get(st, STORE_STMT_ACME_ACCOUNT_BY_THUMBPRINT,
                       sql_by_thumbprint, thumbprint, out);
}

/*
 * The account with the store's id id (an order's or an authorization's
 * account_id). On success the caller owns *out (store_acme_account_free);
 * WD_E_NOT_FOUND if there is none; *out is untouched on failure.
 */
enum wd_err
store_acme_account_get_by_id(struct store *st, int64_t id,
                             struct store_acme_account **out)
{
    struct store_conn *conn = NULL;
    sqlite3_stmt *s = NULL;
    enum wd_err err;

    if (st == NULL || out == NULL) {
        log_err("event=store_bug op=acme_account_get error=\"missing "
                "argument\"");
        return WD_E_INTERNAL;
    }
    err = store_conn_borrow(st, &conn);
    if (err == WD_OK) {
        err =
            store_stmt_get(conn, STORE_STMT_ACME_ACCOUNT_BY_ID, sql_by_id, &s);
    }
    if (err == WD_OK) {
        err = account_step(conn, s, sqlite3_bind_int64(s, 1, id), out);
    }
    store_stmt_done(s);
    store_conn_return(st, conn);
    return err;
}

struct contact_job {
    const char *kid;
    const char *contact;
};

static enum wd_err
contact_write(struct store_conn *conn, void *ctx)
{
    struct contact_job *job = ctx;
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int changed = 0;
    int rc;

    err =
        store_stmt_get(conn, STORE_STMT_ACME_ACCOUNT_CONTACT, sql_contact, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, job->kid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 2, job->contact, -1, SQLITE_STATIC);
    }
    err = store_acme_step_write(conn, s, rc, "acme_account_contact", &changed);
    store_stmt_done(s);
    if (err == WD_OK && changed == 0) {
        err = why_unchanged(conn, job->kid);
    }
    return err;
}

/*
 * Replace the contact of the valid account kid with contact (a JSON
 * array as the client sent it, or NULL for none), committed before
 * WD_OK. WD_E_NOT_FOUND (a malformed kid included), WD_E_CONFLICT if
 * the account is not valid, WD_E_INTERNAL (logged) for an oversized
 * contact.
 */
enum wd_err
store_acme_account_update_contact(struct store *st, const char *kid,
                                  const char *contact)
{
    struct contact_job job = { .kid = kid, .contact = contact };

    if (st == NULL || kid == NULL || !contact_is_valid(contact)) {
        log_err("event=store_bug op=acme_account_contact error=\"missing or "
                "malformed argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(kid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    return store_group_write(st, contact_write, &job);
}

struct deactivate_job {
    const char *kid;
    int64_t now;
};

/* Runs the cached statement in slot with ?1 bound to account_id. */
static enum wd_err
run_account(struct store_conn *conn, enum store_stmt slot, const char *sql,
            int64_t account_id)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;

    err = store_stmt_get(conn, slot, sql, &s);
    if (err != WD_OK) {
        return err;
    }
    err = store_acme_step_write(conn, s, sqlite3_bind_int64(s, 1, account_id),
                                "acme_account_deactivate", NULL);
    store_stmt_done(s);
    return err;
}

static enum wd_err
deactivate_write(struct store_conn *conn, void *ctx)
{
    struct deactivate_job *job = ctx;
    sqlite3_stmt *s = NULL;
    int64_t account_id = 0;
    bool found = false;
    enum wd_err err;

    err = store_stmt_get(conn, STORE_STMT_ACME_ACCOUNT_DEACTIVATE,
                         sql_deactivate, &s);
    if (err != WD_OK) {
        return err;
    }
    err = store_acme_step_one(
        conn, s, sqlite3_bind_text(s, 1, job->kid, -1, SQLITE_STATIC),
        "acme_account_deactivate", &found, &account_id);
    store_stmt_done(s);
    if (err != WD_OK) {
        return err;
    }
    if (!found) {
        return why_unchanged(conn, job->kid);
    }
    err = run_account(conn, STORE_STMT_ACME_ACCOUNT_DEACTIVATE_AUTHZS,
                      sql_deactivate_authzs, account_id);
    if (err == WD_OK) {
        err = run_account(conn, STORE_STMT_ACME_ACCOUNT_DEACTIVATE_ORDERS,
                          sql_deactivate_orders, account_id);
    }
    if (err == WD_OK) {
        err = audit(conn, job->kid, "acme-account-deactivate", NULL, job->now);
    }
    return err;
}

/*
 * Deactivate the valid account kid at now (RFC 8555 7.3.6): its status,
 * its pending and ready orders (invalid) and their pending
 * authorizations (deactivated), and an audit event, in one transaction
 * committed before WD_OK. WD_E_NOT_FOUND (a malformed kid included),
 * WD_E_CONFLICT if the account is not valid, WD_E_INTERNAL (logged) for
 * now <= 0.
 */
enum wd_err
store_acme_account_deactivate(struct store *st, const char *kid, int64_t now)
{
    struct deactivate_job job = { .kid = kid, .now = now };

    if (st == NULL || kid == NULL || now <= 0) {
        log_err("event=store_bug op=acme_account_deactivate error=\"missing "
                "argument or time not positive\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(kid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    return store_group_write(st, deactivate_write, &job);
}

struct key_change_job {
    const char *kid;
    const char *old_thumbprint;
    const char *new_jwk;
    const char *new_thumbprint;
    int64_t now;
};

static enum wd_err
key_change_write(struct store_conn *conn, void *ctx)
{
    struct key_change_job *job = ctx;
    const char *const text[] = { job->kid, job->old_thumbprint, job->new_jwk,
                                 job->new_thumbprint }; /* ?1 to ?4 */
    struct store_acme_account *holder = NULL;
    char detail[DETAIL_MAX];
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int changed = 0;
    size_t i;
    int rc = SQLITE_OK;

    /* RFC 8555 7.3.5: a key that has an account (this one too) is
     * refused; the unique thumbprint would refuse it anyway, this logs
     * which account holds it */
    err = account_find(conn, STORE_STMT_ACME_ACCOUNT_BY_THUMBPRINT,
                       sql_by_thumbprint, job->new_thumbprint, &holder);
    if (err == WD_OK) {
        log_warn("event=store_conflict op=acme_key_change kid=%s "
                 "error=\"the new key belongs to an account\" holder=%s",
                 job->kid, holder->kid);
        store_acme_account_free(holder);
        return WD_E_CONFLICT;
    }
    if (err != WD_E_NOT_FOUND) {
        return err;
    }
    err = store_stmt_get(conn, STORE_STMT_ACME_ACCOUNT_KEY_CHANGE,
                         sql_key_change, &s);
    if (err != WD_OK) {
        return err;
    }
    for (i = 0; i < sizeof(text) / sizeof(text[0]) && rc == SQLITE_OK; i++) {
        rc = sqlite3_bind_text(s, 1 + (int)i, text[i], -1, SQLITE_STATIC);
    }
    err = store_acme_step_write(conn, s, rc, "acme_key_change", &changed);
    store_stmt_done(s);
    if (err != WD_OK) {
        return err;
    }
    if (changed == 0) {
        return why_unchanged(conn, job->kid);
    }
    snprintf(detail, sizeof(detail), "key %s replaces %s", job->new_thumbprint,
             job->old_thumbprint);
    return audit(conn, job->kid, "acme-key-change", detail, job->now);
}

/*
 * Roll the valid account kid over from the key old_thumbprint to new_jwk
 * (thumbprint new_thumbprint) at now, with its audit event, in one
 * transaction committed before WD_OK. WD_E_CONFLICT if the new key has an
 * account (this one included) or the account's key or status is not the
 * one expected; WD_E_NOT_FOUND (a malformed kid included);
 * WD_E_INTERNAL (logged) for another argument missing or malformed.
 * Nothing is written on failure.
 */
enum wd_err
store_acme_account_key_change(struct store *st, const char *kid,
                              const char *old_thumbprint, const char *new_jwk,
                              const char *new_thumbprint, int64_t now)
{
    struct key_change_job job = { kid, old_thumbprint, new_jwk, new_thumbprint,
                                  now };

    if (st == NULL || kid == NULL || !thumbprint_is_valid(old_thumbprint) ||
        !store_acme_text_is_valid(new_jwk, STORE_ACME_JWK_MAX) ||
        !thumbprint_is_valid(new_thumbprint) || now <= 0) {
        log_err("event=store_bug op=acme_key_change error=\"missing or "
                "malformed argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(kid)) {
        return WD_E_NOT_FOUND; /* no row can have it */
    }
    return store_group_write(st, key_change_write, &job);
}

/* Overwrites len bytes at p in a way the compiler cannot drop as a dead
 * store (base has no gnutls_memset; C11 has no memset_explicit). */
static void
wipe(void *p, size_t len)
{
    volatile unsigned char *v = p;

    while (len-- > 0) {
        *v++ = 0;
    }
}

/* Wipe the HMAC key, then free k and everything it owns; accepts NULL. */
void
store_acme_eab_key_free(struct store_acme_eab_key *k)
{
    if (k == NULL) {
        return;
    }
    if (k->hmac_key != NULL) {
        wipe(k->hmac_key, k->hmac_key_len);
    }
    free(k->hmac_key);
    free(k->kid);
    free(k->created_by);
    free(k->used_by);
    free(k);
}

/* An admin's identity: 1 to ADMIN_MAX printable ASCII characters. */
static bool
admin_is_valid(const char *who)
{
    size_t i;

    if (who == NULL) {
        return false;
    }
    for (i = 0; who[i] != '\0'; i++) {
        if (i == ADMIN_MAX || (unsigned char)who[i] < 0x20 ||
            (unsigned char)who[i] > 0x7e) {
            return false;
        }
    }
    return i > 0;
}

static enum wd_err
eab_insert_write(struct store_conn *conn, void *ctx)
{
    const struct store_acme_eab_key *k = ctx;
    struct store_audit_event ev = { 0 };
    char detail[sizeof("eab ") + STORE_ACME_ID_MAX];
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_EAB_INSERT, sql_eab_insert, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, k->kid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_blob64(s, 2, k->hmac_key, k->hmac_key_len,
                                 SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 3, k->created_by, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 4, k->created_at);
    }
    err = store_acme_step_write(conn, s, rc, "acme_eab_insert", NULL);
    store_stmt_done(s);
    if (err != WD_OK) {
        return err;
    }
    snprintf(detail, sizeof(detail), "eab %s", k->kid);
    ev.at = k->created_at;
    ev.actor = k->created_by;
    ev.action = "acme-eab-new";
    ev.outcome = "ok";
    ev.detail = detail; /* the id only: the key never leaves the table */
    return store_audit_insert(conn, &ev);
}

/*
 * Store the EAB key k (kid, hmac_key of STORE_ACME_EAB_KEY_MIN to _MAX
 * bytes, created_by, created_at) with an "acme-eab-new" audit event, in
 * one transaction committed before WD_OK. WD_E_CONFLICT for a kid stored
 * already; WD_E_INTERNAL (logged) for a missing or malformed field.
 */
enum wd_err
store_acme_eab_insert(struct store *st, const struct store_acme_eab_key *k)
{
    if (st == NULL || k == NULL || !store_acme_id_is_valid(k->kid) ||
        k->hmac_key == NULL || k->hmac_key_len < STORE_ACME_EAB_KEY_MIN ||
        k->hmac_key_len > STORE_ACME_EAB_KEY_MAX ||
        !admin_is_valid(k->created_by) || k->created_at <= 0) {
        log_err("event=store_bug op=acme_eab_insert error=\"missing or "
                "malformed field\"");
        return WD_E_INTERNAL;
    }
    return store_group_write(st, eab_insert_write, (void *)k);
}

/* Fills k from the current row of sql_eab_get. */
static enum wd_err
eab_read(sqlite3_stmt *s, struct store_acme_eab_key *k)
{
    const void *key = sqlite3_column_blob(s, 1);
    int key_len = sqlite3_column_bytes(s, 1);

    k->kid = store_acme_column_dup(s, 0);
    k->created_by = store_acme_column_dup(s, 2);
    k->created_at = sqlite3_column_int64(s, 3);
    k->used_by = store_acme_column_dup(s, 4);
    if (key == NULL || key_len < STORE_ACME_EAB_KEY_MIN ||
        key_len > STORE_ACME_EAB_KEY_MAX || k->kid == NULL ||
        k->created_by == NULL) {
        log_err("event=store_failed op=acme_eab_get error=\"malformed row\"");
        return WD_E_INTERNAL;
    }
    k->hmac_key = xmemdup(key, (size_t)key_len);
    k->hmac_key_len = (size_t)key_len;
    return WD_OK;
}

/*
 * The EAB key kid and the account bound to it, if any. On success the
 * caller owns *out (store_acme_eab_key_free, which wipes the key);
 * WD_E_NOT_FOUND if there is none, a malformed kid included; *out is
 * untouched on failure.
 */
enum wd_err
store_acme_eab_get(struct store *st, const char *kid,
                   struct store_acme_eab_key **out)
{
    struct store_acme_eab_key *k = NULL;
    struct store_conn *conn = NULL;
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    if (st == NULL || kid == NULL || out == NULL) {
        log_err("event=store_bug op=acme_eab_get error=\"missing argument\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(kid)) {
        return WD_E_NOT_FOUND; /* from a JWS: no row can have it */
    }
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = store_stmt_get(conn, STORE_STMT_ACME_EAB_GET, sql_eab_get, &s);
    if (err != WD_OK) {
        goto out;
    }
    rc = sqlite3_bind_text(s, 1, kid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_DONE) {
        err = WD_E_NOT_FOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        err = store_sql_err(conn->db, rc, "acme_eab_get");
        goto out;
    }
    k = xcalloc(1, sizeof(*k));
    err = eab_read(s, k);
    if (err != WD_OK) {
        goto out;
    }
    *out = k;
    k = NULL; /* the caller owns it now */
out:
    store_acme_eab_key_free(k);
    store_stmt_done(s);
    store_conn_return(st, conn);
    return err;
}
