/*
 * The inventory: insert an issued certificate together with its audit
 * event ("issue", or the caller's action such as "renew"), get one by
 * serial (whole, or the few columns OCSP reads), revoke one with its audit
 * event and counter, list a page newest first. A page is keyset paginated
 * on id (id < cursor, never OFFSET), filtered by status against the
 * caller's clock (the listing itself is in store_cert_list.c).
 */
#include "store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/parse.h"
#include "../server/base/xmalloc.h"

static const char sql_insert[] =
    "INSERT INTO certificates (serial, der, subject, cn, sans, key_type,"
    " profile, requester, fingerprint, not_before, not_after, issued_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/* The row's search terms (migration 7: no trigger writes them). */
static const char sql_insert_fts[] =
    "INSERT INTO certificates_fts (rowid, cn, sans, serial)"
    " VALUES (?1, ?2, ?3, ?4)";

static const char sql_get[] =
    "SELECT " STORE_CERT_COLUMNS " FROM certificates c WHERE c.serial = ?1";

/* Only a live row changes: revoking twice leaves the first revocation. */
static const char sql_revoke[] =
    "UPDATE certificates SET revoked_at = ?2, revoke_reason = ?3"
    " WHERE serial = ?1 AND revoked_at IS NULL";

/* The OCSP path: the serial index, then the row's last columns only. */
static const char sql_state[] =
    "SELECT not_after, revoked_at, revoke_reason FROM certificates"
    " WHERE serial = ?1";

/* RFC 5280 5.3.1 CRLReason names, for the audit log. */
static const char *const reason_names[] = {
    [0] = "unspecified",
    [1] = "keyCompromise",
    [2] = "cACompromise",
    [3] = "affiliationChanged",
    [4] = "superseded",
    [5] = "cessationOfOperation",
    [6] = "certificateHold",
    /* 7 is not used */
    [8] = "removeFromCRL",
    [9] = "privilegeWithdrawn",
    [10] = "aACompromise",
};

#define N_REASONS (sizeof(reason_names) / sizeof(reason_names[0]))

/* Audit actions and actors are short names ("renew", a config name, a CN
 * of at most RFC 5280's 64); a detail is a sentence or two, not a blob. */
#define AUDIT_WORD_MAX 64
#define AUDIT_DETAIL_MAX 1024

/* Frees what c owns, not c itself. */
void
store_cert_clear(struct store_cert *c)
{
    free(c->der);
    free(c->subject);
    free(c->cn);
    free(c->sans);
    free(c->key_type);
    free(c->profile);
    free(c->requester);
    free(c->fingerprint);
}

/* Free c and everything it owns; accepts NULL. */
void
store_cert_free(struct store_cert *c)
{
    if (c == NULL) {
        return;
    }
    store_cert_clear(c);
    free(c);
}

/* Everything a row needs is there: a missing field is a caller's bug. */
bool
store_cert_is_complete(const struct store_cert *c)
{
    return c != NULL &&
           wd_serial_is_valid(c->serial,
                              strnlen(c->serial, sizeof(c->serial))) &&
           c->der != NULL && c->der_len > 0 && c->subject != NULL &&
           c->sans != NULL && c->key_type != NULL && c->profile != NULL &&
           c->requester != NULL && c->fingerprint != NULL;
}

static int
cert_bind(sqlite3_stmt *s, const struct store_cert *c)
{
    const char *const text[] = { c->subject,    c->cn,      c->sans,
                                 c->key_type,   c->profile, c->requester,
                                 c->fingerprint }; /* ?3 to ?9 */
    const int64_t times[] = { c->not_before, c->not_after, c->issued_at };
    size_t i;
    int rc;

    rc = sqlite3_bind_text(s, 1, c->serial, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_blob64(s, 2, c->der, c->der_len, SQLITE_STATIC);
    }
    for (i = 0; i < sizeof(text) / sizeof(text[0]) && rc == SQLITE_OK; i++) {
        /* a NULL pointer binds SQL NULL: cn may be absent */
        rc = sqlite3_bind_text(s, 3 + (int)i, text[i], -1, SQLITE_STATIC);
    }
    for (i = 0; i < sizeof(times) / sizeof(times[0]) && rc == SQLITE_OK; i++) {
        rc = sqlite3_bind_int64(s, 10 + (int)i, times[i]);
    }
    return rc;
}

/* The search terms of row id, c, into the inventory's FTS index. */
static enum wd_err
fts_insert(struct store_conn *conn, int64_t id, const struct store_cert *c)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_CERT_INSERT_FTS, sql_insert_fts, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_int64(s, 1, id);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 2, c->cn, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 3, c->sans, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 4, c->serial, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, "cert_insert_fts");
    }
    store_stmt_done(s);
    return err;
}

enum wd_err
store_cert_row_insert(struct store_conn *conn, const struct store_cert *c)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_CERT_INSERT, sql_insert, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = cert_bind(s, c);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        /* 128 random bits do not collide: this is a bug or a replay */
        log_warn("event=store_conflict op=cert_insert serial=%s", c->serial);
        err = WD_E_CONFLICT;
    } else if (rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, "cert_insert");
    }
    store_stmt_done(s);
    if (err != WD_OK) {
        return err;
    }
    return fts_insert(conn, sqlite3_last_insert_rowid(conn->db), c);
}

/* An audit action or actor: 1 to AUDIT_WORD_MAX printable ASCII
 * characters, so an event reads the same in any terminal or report. */
static bool
word_is_valid(const char *w)
{
    size_t i;

    if (w == NULL) {
        return false;
    }
    for (i = 0; w[i] != '\0'; i++) {
        if (i == AUDIT_WORD_MAX || (unsigned char)w[i] < 0x20 ||
            (unsigned char)w[i] > 0x7e) {
            return false;
        }
    }
    return i > 0;
}

/*
 * Insert c, an issued certificate, and its audit event (actor, action,
 * detail, outcome "ok") together, committed to disk before WD_OK: in one
 * transaction with the insertions of other threads (store_group.c), each
 * kept or undone whole.
 * c->id, revoked_at and revoke_reason are ignored. WD_E_CONFLICT if
 * c->serial is already stored (nothing is written); WD_E_UNAVAILABLE if the
 * write lock stayed taken past the busy timeout; WD_E_INTERNAL (logged,
 * nothing written) for a caller's bug: a required field missing, a serial
 * that is not 1 to 40 lowercase hex digits, an actor or action that is not
 * 1 to 64 printable ASCII characters, or a detail over 1024 bytes.
 */
struct insert_job {
    const struct store_cert *c;
    struct store_audit_event ev;
};

/* The writes of one insertion, inside a group commit's savepoint. */
static enum wd_err
insert_write(struct store_conn *conn, void *ctx)
{
    struct insert_job *job = ctx;
    enum wd_err err;

    err = store_cert_row_insert(conn, job->c);
    if (err == WD_OK) {
        err = store_audit_insert(conn, &job->ev);
    }
    return err;
}

enum wd_err
store_cert_insert_audited(struct store *st, const struct store_cert *c,
                          const char *actor, const char *action,
                          const char *detail)
{
    struct insert_job job = { 0 };

    if (st == NULL || !store_cert_is_complete(c) || !word_is_valid(actor) ||
        !word_is_valid(action) ||
        (detail != NULL &&
         strnlen(detail, AUDIT_DETAIL_MAX + 1) > AUDIT_DETAIL_MAX)) {
        log_err("event=store_bug op=cert_insert error=\"incomplete "
                "certificate, or a bad actor, action or detail\"");
        return WD_E_INTERNAL;
    }
    job.c = c;
    job.ev.actor = actor;
    job.ev.action = action;
    job.ev.serial = c->serial;
    job.ev.outcome = "ok";
    job.ev.detail = detail;
    /* shares its commit (and fsync) with concurrent insertions; it only
     * reads job, so a batch of them needs no savepoints */
    return store_group_write_replayable(st, insert_write, &job);
}

/*
 * store_cert_insert_audited with the action "issue" and no detail: the
 * same transaction, the same errors.
 */
enum wd_err
store_cert_insert(struct store *st, const struct store_cert *c,
                  const char *actor)
{
    return store_cert_insert_audited(st, c, actor, "issue", NULL);
}

/* A copy of column i's text, NULL for SQL NULL. */
static char *
text_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t != NULL ? xstrdup((const char *)t) : NULL;
}

static enum wd_err
malformed(int64_t id)
{
    log_err("event=store_failed op=cert_read id=%lld error=\"malformed row\"",
            (long long)id);
    return WD_E_INTERNAL;
}

/* Fills c from the current row of s (STORE_CERT_COLUMNS order). On failure c
 * may be partly filled: the caller clears it. */
enum wd_err
store_cert_row_read(sqlite3_stmt *s, struct store_cert *c)
{
    const unsigned char *serial;
    const void *der;
    int serial_len;
    int der_len;

    c->id = sqlite3_column_int64(s, 0);
    serial = sqlite3_column_text(s, 1);
    serial_len = sqlite3_column_bytes(s, 1);
    der = sqlite3_column_blob(s, 2);
    der_len = sqlite3_column_bytes(s, 2);
    if (serial == NULL || serial_len < 1 || serial_len > WD_MAX_SERIAL_HEX ||
        der == NULL || der_len < 1) {
        return malformed(c->id);
    }
    memcpy(c->serial, serial, (size_t)serial_len);
    c->serial[serial_len] = '\0';
    c->der = xmemdup(der, (size_t)der_len);
    c->der_len = (size_t)der_len;
    c->subject = text_dup(s, 3);
    c->cn = text_dup(s, 4);
    c->sans = text_dup(s, 5);
    c->key_type = text_dup(s, 6);
    c->profile = text_dup(s, 7);
    c->requester = text_dup(s, 8);
    c->fingerprint = text_dup(s, 9);
    c->not_before = sqlite3_column_int64(s, 10);
    c->not_after = sqlite3_column_int64(s, 11);
    c->issued_at = sqlite3_column_int64(s, 12);
    c->revoked_at = sqlite3_column_int64(s, 13); /* NULL reads as 0 */
    c->revoke_reason = sqlite3_column_int(s, 14);
    if (c->subject == NULL || c->sans == NULL || c->key_type == NULL ||
        c->profile == NULL || c->requester == NULL || c->fingerprint == NULL) {
        return malformed(c->id);
    }
    return WD_OK;
}

/*
 * Run the cached statement id (from sql) with ?1 bound to serial, up to its
 * first row: *found says whether there is one, to read from *out before the
 * caller resets it with store_stmt_done (also after a failure, which is
 * logged under what).
 */
static enum wd_err
serial_step(struct store_conn *conn, enum store_stmt id, const char *sql,
            const char *serial, const char *what, sqlite3_stmt **out,
            bool *found)
{
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, id, sql, out);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(*out, 1, serial, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(*out);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, what);
    }
    *found = rc == SQLITE_ROW;
    return err;
}

/* The row with serial, read on conn into a new *out (the caller's, on
 * success only); WD_E_NOT_FOUND if there is none. */
static enum wd_err
row_get(struct store_conn *conn, const char *serial, struct store_cert **out)
{
    struct store_cert *c = NULL;
    sqlite3_stmt *s = NULL;
    bool found = false;
    enum wd_err err;

    err = serial_step(conn, STORE_STMT_CERT_GET, sql_get, serial, "cert_get",
                      &s, &found);
    if (err == WD_OK && !found) {
        err = WD_E_NOT_FOUND;
    }
    if (err != WD_OK) {
        goto out;
    }
    c = xcalloc(1, sizeof(*c));
    err = store_cert_row_read(s, c);
    if (err != WD_OK) {
        goto out;
    }
    *out = c;
    c = NULL; /* the caller owns it now */
out:
    store_cert_free(c);
    store_stmt_done(s);
    return err;
}

/*
 * The certificate with serial. On success the caller owns *out
 * (store_cert_free); WD_E_NOT_FOUND if no row has that serial, and *out is
 * untouched on any failure.
 */
enum wd_err
store_cert_get(struct store *st, const char *serial, struct store_cert **out)
{
    struct store_conn *conn = NULL;
    enum wd_err err;

    if (st == NULL || serial == NULL || out == NULL) {
        log_err("event=store_bug op=cert_get error=\"missing argument\"");
        return WD_E_INTERNAL;
    }
    err = store_conn_borrow(st, &conn);
    if (err == WD_OK) {
        err = row_get(conn, serial, out);
    }
    store_conn_return(st, conn);
    return err;
}

/* The columns OCSP needs, into *out; found is false when there is no row. */
static enum wd_err
state_read(struct store_conn *conn, const char *serial,
           struct store_cert_state *out)
{
    struct store_cert_state state = { 0 };
    sqlite3_stmt *s = NULL;
    bool found = false;
    enum wd_err err;

    err = serial_step(conn, STORE_STMT_CERT_STATE, sql_state, serial,
                      "cert_state", &s, &found);
    if (err == WD_OK && found) {
        state.found = true;
        state.not_after = sqlite3_column_int64(s, 0);
        state.revoked_at = sqlite3_column_int64(s, 1); /* NULL reads as 0 */
        state.revoke_reason = sqlite3_column_int(s, 2);
    }
    store_stmt_done(s);
    if (err == WD_OK) {
        *out = state;
    }
    return err;
}

/*
 * What OCSP needs about serial, read through the serial index and the row
 * without its DER. out->found is false (and the rest 0) for a serial not
 * stored, malformed ones included: that is an answer, not an error. *out
 * is untouched on failure.
 */
enum wd_err
store_cert_state_get(struct store *st, const char *serial,
                     struct store_cert_state *out)
{
    struct store_conn *conn = NULL;
    enum wd_err err;

    if (st == NULL || serial == NULL || out == NULL) {
        log_err("event=store_bug op=cert_state error=\"missing argument\"");
        return WD_E_INTERNAL;
    }
    err = store_conn_borrow(st, &conn);
    if (err == WD_OK) {
        err = state_read(conn, serial, out);
    }
    store_conn_return(st, conn);
    return err;
}

/* RFC 5280 5.3.1: CRLReason 0 to 10, where the value 7 is not used. */
static bool
reason_is_valid(int reason)
{
    return reason >= 0 && reason < (int)N_REASONS &&
           reason_names[reason] != NULL;
}

/* Marks serial revoked if it is not yet. WD_E_NOT_FOUND or
 * WD_E_ALREADY_REVOKED when no row changed. */
static enum wd_err
row_revoke(struct store_conn *conn, const char *serial, int reason, int64_t at)
{
    struct store_cert_state state;
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int changed = 0;
    int rc;

    err = store_stmt_get(conn, STORE_STMT_CERT_REVOKE, sql_revoke, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(s, 2, at);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int(s, 3, reason);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_DONE) {
        changed = sqlite3_changes(conn->db);
    } else {
        err = store_sql_err(conn->db, rc, "cert_revoke");
    }
    store_stmt_done(s);
    if (err != WD_OK || changed > 0) {
        return err;
    }
    /* no row changed: absent, or revoked before (under our write lock, so
     * the answer cannot change before the caller hears it) */
    err = state_read(conn, serial, &state);
    if (err == WD_OK) {
        err = state.found ? WD_E_ALREADY_REVOKED : WD_E_NOT_FOUND;
    }
    return err;
}

/*
 * Revoke serial at time at (seconds, UTC) for reason (an RFC 5280
 * CRLReason): set revoked_at and revoke_reason, append a "revoke" audit
 * event by actor whose detail names the reason, and add one to the
 * STORE_COUNTER_REVOCATIONS counter, in one transaction committed to disk
 * before WD_OK. On WD_OK and out != NULL, the caller owns *out, the row as
 * revoked (store_cert_free). Otherwise nothing is written and *out is
 * untouched: WD_E_BAD_SERIAL for a serial that is not 1 to 40 lowercase
 * hex digits, WD_E_NOT_FOUND for one never stored, WD_E_ALREADY_REVOKED,
 * WD_E_UNAVAILABLE if the write lock stayed taken past the busy timeout,
 * WD_E_INTERNAL (logged) for a caller's bug: a missing argument, at <= 0,
 * or a reason outside 0..10 or the unused 7.
 */
enum wd_err
store_cert_revoke(struct store *st, const char *serial, int reason, int64_t at,
                  const char *actor, struct store_cert **out)
{
    struct store_audit_event ev = { 0 };
    struct store_conn *conn = NULL;
    struct store_cert *c = NULL;
    enum wd_err err;

    if (st == NULL || serial == NULL || actor == NULL) {
        log_err("event=store_bug op=cert_revoke error=\"missing argument\"");
        return WD_E_INTERNAL;
    }
    if (!wd_serial_is_valid(serial, strnlen(serial, WD_MAX_SERIAL_HEX + 1))) {
        return WD_E_BAD_SERIAL;
    }
    if (at <= 0 || !reason_is_valid(reason)) {
        log_err("event=store_bug op=cert_revoke error=\"time not positive or "
                "not an RFC 5280 CRLReason\" at=%lld reason=%d",
                (long long)at, reason);
        return WD_E_INTERNAL;
    }
    err = store_write_open(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = row_revoke(conn, serial, reason, at);
    if (err != WD_OK) {
        goto out;
    }
    ev.actor = actor;
    ev.action = "revoke";
    ev.serial = serial;
    ev.outcome = "ok";
    ev.detail = reason_names[reason];
    err = store_audit_insert(conn, &ev);
    if (err != WD_OK) {
        goto out;
    }
    err = store_counter_bump(conn, STORE_COUNTER_REVOCATIONS, NULL);
    if (err != WD_OK) {
        goto out;
    }
    if (out != NULL) {
        /* read in the transaction: exactly the row this call wrote */
        err = row_get(conn, serial, &c);
        if (err != WD_OK) {
            goto out;
        }
    }
    err = store_tx_commit(conn); /* rolls back itself on failure */
    if (err != WD_OK) {
        goto out;
    }
    if (out != NULL) {
        *out = c;
        c = NULL; /* the caller owns it now */
    }
out:
    store_cert_free(c);
    store_write_close(st, conn);
    return err;
}
