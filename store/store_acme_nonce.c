/*
 * ACME replay nonces (RFC 8555 6.5, 7.2): api/ draws one for every
 * response, remembers it here until it expires, and takes it back when a
 * JWS carries it. A take deletes the nonce in the one statement that
 * reads it, inside a write transaction, so of two requests replaying one
 * nonce exactly one sees it, across threads and processes alike, and a
 * nonce once taken stays taken after a crash. Expired nonces that nobody
 * took are deleted by store_acme_cleanup (store_acme.c).
 */
#include "store_priv.h"

#include "../server/base/log.h"

static const char sql_insert[] =
    "INSERT INTO acme_nonces (nonce, expires_at) VALUES (?1, ?2)";

/* Deleted whether or not it expired: an expired nonce is spent too. */
static const char sql_take[] =
    "DELETE FROM acme_nonces WHERE nonce = ?1 RETURNING expires_at";

struct nonce_job {
    const char *nonce;
    int64_t t;  /* insert: expires_at; take: now */
    bool fresh; /* take: stored and unexpired */
};

static enum wd_err
insert_write(struct store_conn *conn, void *ctx)
{
    struct nonce_job *job = ctx;
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_ACME_NONCE_INSERT, sql_insert, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, job->nonce, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 2, job->t);
    }
    err = store_acme_step_write(conn, s, rc, "acme_nonce_insert", NULL);
    store_stmt_done(s);
    return err;
}

/*
 * Remember nonce (a base64url id of ours) as handed out until expires_at
 * (seconds, UTC), committed before WD_OK. WD_E_CONFLICT if it is stored
 * already (a random source that repeats: a bug); WD_E_INTERNAL (logged)
 * for a malformed nonce or expires_at <= 0.
 */
enum wd_err
store_acme_nonce_insert(struct store *st, const char *nonce, int64_t expires_at)
{
    struct nonce_job job = { .nonce = nonce, .t = expires_at };

    if (st == NULL || !store_acme_id_is_valid(nonce) || expires_at <= 0) {
        log_err("event=store_bug op=acme_nonce_insert error=\"missing or "
                "malformed argument\"");
        return WD_E_INTERNAL;
    }
    return store_group_write(st, insert_write, &job);
}

static enum wd_err
take_write(struct store_conn *conn, void *ctx)
{
    struct nonce_job *job = ctx;
    sqlite3_stmt *s = NULL;
    int64_t expires_at = 0;
    bool found = false;
    enum wd_err err;

    err = store_stmt_get(conn, STORE_STMT_ACME_NONCE_TAKE, sql_take, &s);
    if (err != WD_OK) {
        return err;
    }
    err = store_acme_step_one(
        conn, s, sqlite3_bind_text(s, 1, job->nonce, -1, SQLITE_STATIC),
        "acme_nonce_take", &found, &expires_at);
    store_stmt_done(s);
    job->fresh = err == WD_OK && found && expires_at > job->t;
    return err;
}

/*
 * Take nonce at now: on WD_OK, *fresh is true when it was stored and
 * unexpired (it is deleted now and never fresh again), false when it is
 * unknown, taken before, expired or malformed (a JWS header's value,
 * hostile: never reaches SQL unchecked). Committed before WD_OK; *fresh
 * is untouched on failure: WD_E_UNAVAILABLE, WD_E_IO, or WD_E_INTERNAL
 * (logged) for a missing argument or now <= 0.
 */
enum wd_err
store_acme_nonce_take(struct store *st, const char *nonce, int64_t now,
                      bool *fresh)
{
    struct nonce_job job = { .nonce = nonce, .t = now };
    enum wd_err err;

    if (st == NULL || nonce == NULL || fresh == NULL || now <= 0) {
        log_err("event=store_bug op=acme_nonce_take error=\"missing "
                "argument or time not positive\"");
        return WD_E_INTERNAL;
    }
    if (!store_acme_id_is_valid(nonce)) {
        *fresh = false; /* no nonce of ours looks like this */
        return WD_OK;
    }
    err = store_group_write(st, take_write, &job);
    if (err == WD_OK) {
        *fresh = job.fresh;
    }
    return err;
}
