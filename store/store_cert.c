/*
 * The inventory: insert an issued certificate together with its audit
 * event ("issue", or the caller's action such as "renew"), get one by
 * serial (whole, or the few columns OCSP reads), revoke one with its audit
 * event and counter, list a page newest first. A page is keyset paginated
 * on id (id < cursor, never OFFSET), filtered by status against the
 * caller's clock, and searched through the trigram index certificates_fts
 * when the term is long enough for it. Each listing's SQL is glued from
 * fixed fragments, every value bound, and prepared once per connection.
 */
#include "store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/parse.h"
#include "../server/base/xmalloc.h"

/* Column order read by row_read; c is the row's table alias. id first, as
 * store_page_collect pages on column 0. */
#define CERT_COLUMNS                                                           \
    "c.id, c.serial, c.der, c.subject, c.cn, c.sans, c.key_type, c.profile,"   \
    " c.requester, c.fingerprint, c.not_before, c.not_after, c.issued_at,"     \
    " c.revoked_at, c.revoke_reason"

static const char sql_insert[] =
    "INSERT INTO certificates (serial, der, subject, cn, sans, key_type,"
    " profile, requester, fingerprint, not_before, not_after, issued_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

static const char sql_get[] =
    "SELECT " CERT_COLUMNS " FROM certificates c WHERE c.serial = ?1";

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

/* How a listing searches; :q is bound to a term made by search_term. */
enum search { SEARCH_NONE, SEARCH_FTS, SEARCH_LIKE, SEARCH__COUNT };

/* The inner SELECT up to its status filter. The FTS5 variant walks the
 * trigram index newest first (it honours ORDER BY rowid DESC and rowid <
 * :cursor), so a term matching every row still stops after one page. */
static const char *const search_sql[SEARCH__COUNT] = {
    [SEARCH_NONE] = "SELECT s.id FROM certificates s WHERE s.id < :cursor",
    [SEARCH_FTS] = "SELECT f.rowid FROM certificates_fts f"
                   " JOIN certificates s INDEXED BY certificates_status"
                   " ON s.id = f.rowid"
                   " WHERE certificates_fts MATCH :q AND f.rowid < :cursor",
    [SEARCH_LIKE] = "SELECT s.id FROM certificates s WHERE s.id < :cursor"
                    " AND (s.cn LIKE :q ESCAPE '\\'"
                    " OR s.sans LIKE :q ESCAPE '\\'"
                    " OR s.serial LIKE :q ESCAPE '\\')",
};

static const char *const order_sql[SEARCH__COUNT] = {
    [SEARCH_NONE] = " ORDER BY s.id DESC",
    [SEARCH_FTS] = " ORDER BY f.rowid DESC",
    [SEARCH_LIKE] = " ORDER BY s.id DESC",
};

_Static_assert((FILTER__COUNT * SEARCH__COUNT) == STORE_LIST_VARIANTS,
               "store_priv.h reserves one statement slot per variant");

/* Frees what c owns, not c itself. */
static void
cert_clear(struct store_cert *c)
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
    cert_clear(c);
    free(c);
}

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
        cert_clear(&l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
    l->next_cursor = 0;
}

/* Everything a row needs is there: a missing field is a caller's bug. */
static bool
cert_is_complete(const struct store_cert *c)
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

static enum wd_err
row_insert(struct store_conn *conn, const struct store_cert *c)
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
    return err;
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
 * detail, outcome "ok") in one transaction, committed to disk before WD_OK.
 * c->id, revoked_at and revoke_reason are ignored. WD_E_CONFLICT if
 * c->serial is already stored (nothing is written); WD_E_UNAVAILABLE if the
 * write lock stayed taken past the busy timeout; WD_E_INTERNAL (logged,
 * nothing written) for a caller's bug: a required field missing, a serial
 * that is not 1 to 40 lowercase hex digits, an actor or action that is not
 * 1 to 64 printable ASCII characters, or a detail over 1024 bytes.
 */
enum wd_err
store_cert_insert_audited(struct store *st, const struct store_cert *c,
                          const char *actor, const char *action,
                          const char *detail)
{
    struct store_audit_event ev = { 0 };
    struct store_conn *conn = NULL;
    enum wd_err err;

    if (st == NULL || !cert_is_complete(c) || !word_is_valid(actor) ||
        !word_is_valid(action) ||
        (detail != NULL &&
         strnlen(detail, AUDIT_DETAIL_MAX + 1) > AUDIT_DETAIL_MAX)) {
        log_err("event=store_bug op=cert_insert error=\"incomplete "
                "certificate, or a bad actor, action or detail\"");
        return WD_E_INTERNAL;
    }
    err = store_write_open(st, &conn);
    if (err != WD_OK) {
        goto out;
    }
    err = row_insert(conn, c);
    if (err != WD_OK) {
        goto out;
    }
    ev.actor = actor;
    ev.action = action;
    ev.serial = c->serial;
    ev.outcome = "ok";
    ev.detail = detail;
    err = store_audit_insert(conn, &ev);
    if (err != WD_OK) {
        goto out;
    }
    err = store_tx_commit(conn); /* rolls back itself on failure */
out:
    store_write_close(st, conn);
    return err;
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

/* Fills c from the current row of s (CERT_COLUMNS order). On failure c may
 * be partly filled: the caller clears it. */
static enum wd_err
row_read(sqlite3_stmt *s, struct store_cert *c)
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
    err = row_read(s, c);
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

/* row_read and cert_clear on store_page_collect's untyped items. */
static enum wd_err
item_read(sqlite3_stmt *s, void *item)
{
    return row_read(s, item);
}

static void
item_clear(void *item)
{
    cert_clear(item);
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
    if ((unsigned)q->status > STORE_STATUS_EXPIRING || q->expiring_within < 0) {
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

static enum wd_err
list_stmt(struct store_conn *conn, enum filter f, enum search how,
          sqlite3_stmt **out)
{
    char sql[1024];
    enum store_stmt slot =
        (enum store_stmt)(STORE_STMT_CERT_LIST + f * SEARCH__COUNT + how);
    int n;

    if (conn->stmts[slot] != NULL) {
        *out = conn->stmts[slot];
        return WD_OK;
    }
    /* fixed fragments only: no value of the query is in the text */
    n = snprintf(sql, sizeof(sql),
                 "SELECT " CERT_COLUMNS " FROM certificates c WHERE c.id IN"
                 " (%s%s%s LIMIT :limit) ORDER BY c.id DESC",
                 search_sql[how], filter_sql[f], order_sql[how]);
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

static int
list_bind(sqlite3_stmt *s, const struct store_query *q, const char *term)
{
    int64_t soon = q->now > INT64_MAX - q->expiring_within
                       ? INT64_MAX
                       : q->now + q->expiring_within;
    int rc;

    rc = bind_int(s, ":cursor", q->cursor == 0 ? INT64_MAX : q->cursor);
    if (rc == SQLITE_OK) {
        rc = bind_int(s, ":now", q->now);
    }
    if (rc == SQLITE_OK) {
        rc = bind_int(s, ":soon", soon);
    }
    if (rc == SQLITE_OK) {
        /* one more than asked: its presence says a next page exists */
        rc = bind_int(s, ":limit", (int64_t)q->limit + 1);
    }
    if (rc == SQLITE_OK && term != NULL) {
        rc = sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":q"), term,
                               -1, SQLITE_STATIC);
    }
    return rc;
}

/*
 * A page of the inventory matching q, newest first: at most q->limit rows
 * with id below q->cursor (0 = from the newest). out->next_cursor is the id
 * of the last row when more rows match, else 0. Status semantics are in
 * store.h; q->expiring_within > 0 with STORE_STATUS_ANY or VALID selects
 * the EXPIRING rows, and EXPIRED and REVOKED ignore it. WD_E_BAD_QUERY for
 * a limit outside 1..WD_LIST_LIMIT_MAX, an unknown status, a negative
 * window or an overlong term; WD_E_BAD_CURSOR for a negative cursor. *out
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
    enum search how;
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
    err = list_stmt(conn, filter_pick(q), how, &s);
    if (err != WD_OK) {
        goto out;
    }
    rc = list_bind(s, q, term);
    if (rc != SQLITE_OK) {
        err = store_sql_err(conn->db, rc, "cert_list");
        goto out;
    }
    err = store_page_collect(conn, s, q->limit, &cert_rows, &items, &out->n,
                             &out->next_cursor);
    out->items = items; /* NULL unless it succeeded */
out:
    free(term);
    store_stmt_done(s);
    store_conn_return(st, conn);
    return err;
}
