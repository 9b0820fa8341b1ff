/*
 * Persistence: every issued certificate, every revocation, the audit log.
 * SQLite in WAL mode with synchronous=FULL, schema by numbered migrations
 * (PRAGMA user_version). Certificates are DER plus the columns we index;
 * the store never parses X.509. All functions are safe to call from many
 * threads at once. A second backend would implement this header.
 */
#ifndef WD_STORE_H
#define WD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../server/base/err.h"
#include "../server/base/limits.h"

struct store;

/*
 * Open (creating if needed) the database at path and bring its schema to
 * the current version. ":memory:" gives a private in-memory store (one
 * connection). Caller owns *out (store_close).
 */
enum wd_err store_open(const char *path, struct store **out);
void store_close(struct store *st);

/* The schema version this build writes (the migrations' count). */
int store_schema_version(void);

/* One row of the inventory. Strings are owned by the struct. */
struct store_cert {
    int64_t id; /* insertion order; assigned by the store */
    char serial[WD_MAX_SERIAL_HEX + 1];
    uint8_t *der;
    size_t der_len;
    char *subject;      /* RFC 4514 text */
    char *cn;           /* may be NULL */
    char *sans;         /* "DNS:a.example, IP:10.0.0.1", may be "" */
    char *key_type;     /* "ecdsa-p256", ... */
    char *profile;      /* "server", "client", "server-client" */
    char *requester;    /* identity that asked, e.g. "admin" or a CN */
    char *fingerprint;  /* SHA-256 of the DER, hex */
    int64_t not_before; /* seconds, UTC */
    int64_t not_after;  /* seconds, UTC */
    int64_t issued_at;  /* seconds, UTC */
    int64_t revoked_at; /* seconds, UTC; 0 when not revoked */
    int revoke_reason;  /* RFC 5280 CRLReason; meaningful if revoked */
};

void store_cert_free(struct store_cert *c);

/*
 * Insert one issued certificate and its "issue" audit event in one
 * transaction, durable (fsync'd) before this returns WD_OK. c->id,
 * revoked_at and revoke_reason are ignored. A serial already present gives
 * WD_E_CONFLICT and stores nothing.
 */
enum wd_err store_cert_insert(struct store *st, const struct store_cert *c,
                              const char *actor);

/* One certificate by serial: WD_E_NOT_FOUND if absent. Caller owns *out. */
enum wd_err store_cert_get(struct store *st, const char *serial,
                           struct store_cert **out);

enum store_status {
    STORE_STATUS_ANY,
    STORE_STATUS_VALID,   /* not revoked, now < not_after */
    STORE_STATUS_EXPIRED, /* not revoked, not_after <= now */
    STORE_STATUS_REVOKED,
    STORE_STATUS_EXPIRING, /* valid and not_after <= now + expiring_within */
};

/* The order of a listing; each is a keyset on a unique key, so pages
 * neither skip nor repeat rows however deep they go. */
enum store_sort {
    STORE_SORT_ISSUED,  /* newest first: id descending */
    STORE_SORT_EXPIRES, /* soonest not_after first, then id ascending */
};

struct store_query {
    enum store_status status;
    const char *q;           /* substring of CN, SAN or serial; NULL = any */
    int64_t now;             /* seconds, UTC */
    int64_t expiring_within; /* seconds; with EXPIRING, or alone to filter */
    int64_t expires_after;   /* not_after > this; 0 = no bound */
    int64_t expires_before;  /* not_after <= this; 0 = no bound */
    enum store_sort sort;
    unsigned limit; /* 1..WD_LIST_LIMIT_MAX */
    /* 0 = the first page. ISSUED: ids below cursor. EXPIRES: rows after
     * (cursor_not_after, cursor) in (not_after, id) order. */
    int64_t cursor;
    int64_t cursor_not_after;
};

struct store_cert_list {
    struct store_cert *items; /* in the query's order */
    size_t n;
    int64_t next_cursor;           /* id of the last item; 0 on the last page */
    int64_t next_cursor_not_after; /* its not_after, for STORE_SORT_EXPIRES */
};

/* A page of the inventory in q's order (a keyset: no OFFSET). */
enum wd_err store_cert_list(struct store *st, const struct store_query *q,
                            struct store_cert_list *out);
void store_cert_list_free(struct store_cert_list *l);

/* Weeks ahead that store_cert_stats_get counts expiries for. */
#define STORE_STATS_WEEKS 13

/* The inventory's counts at one instant. */
struct store_cert_stats {
    int64_t total;
    int64_t valid;    /* not revoked, not expired (expiring included) */
    int64_t expiring; /* valid, not_after within the window */
    int64_t expired;  /* not revoked, not_after passed */
    int64_t revoked;
    /* weeks[i]: not revoked, now + i weeks < not_after <= now + i+1 weeks */
    int64_t weeks[STORE_STATS_WEEKS];
};

/* Counts per status and expiries per week ahead, from one snapshot. */
enum wd_err store_cert_stats_get(struct store *st, int64_t now,
                                 int64_t expiring_window,
                                 struct store_cert_stats *out);

/* Bytes of the database (its pages) and of its write-ahead log file
 * (store_size.c). */
enum wd_err store_size_get(struct store *st, int64_t *db_bytes,
                           int64_t *wal_bytes);

/* An audit event: who did what to which serial, and how it ended. */
struct store_audit_event {
    int64_t at;          /* seconds, UTC; 0 = now */
    const char *actor;   /* caller identity */
    const char *action;  /* "issue", "revoke", "refuse", ... */
    const char *serial;  /* or NULL */
    const char *outcome; /* "ok" or an error code */
    const char *detail;  /* short free text or NULL */
};

/* Append one event, durable before WD_OK. */
enum wd_err store_audit_append(struct store *st,
                               const struct store_audit_event *ev);

/*
 * Walk the audit log's hash chain in id order (streaming, one snapshot)
 * and report the first broken link in *first_bad_id: an event whose hash
 * does not match its content, or whose prev_hash is not its predecessor's
 * hash, or the first id missing; 0 when all is intact. *checked is the
 * number of events found intact before it. Both are set on WD_OK only.
 */
enum wd_err store_audit_verify(struct store *st, int64_t *first_bad_id,
                               int64_t *checked);

/* Number of audit events for serial (NULL = all); for tests and counts. */
enum wd_err store_audit_count(struct store *st, const char *serial,
                              int64_t *out);

/*
 * Revoke one certificate: sets revoked_at and reason, appends a "revoke"
 * audit event and bumps the "revocations" counter, in one transaction,
 * durable before WD_OK. WD_E_NOT_FOUND, WD_E_ALREADY_REVOKED (nothing
 * written). On WD_OK *out (if out != NULL) is the updated row.
 */
enum wd_err store_cert_revoke(struct store *st, const char *serial, int reason,
                              int64_t at, const char *actor,
                              struct store_cert **out);

/*
 * Called per revoked certificate; a non-WD_OK return stops the walk.
 * serial points into SQLite's row: valid only during the call (copy it to
 * keep it). fn must not call into the store: the walk holds a connection.
 */
typedef enum wd_err store_revoked_fn(void *ctx, const char *serial,
                                     int64_t revoked_at, int reason,
                                     int64_t not_after);

/*
 * Walk every revoked certificate whose not_after >= keep_after (0 = all),
 * in ascending serial order, from one consistent snapshot, without
 * loading them all in memory. Returns the callback's error if it stops.
 */
enum wd_err store_revoked_foreach(struct store *st, int64_t keep_after,
                                  store_revoked_fn *fn, void *ctx);

/*
 * What OCSP needs about one serial, without the DER: found is false for
 * a serial never issued.
 */
struct store_cert_state {
    bool found;
    int64_t not_after;
    int64_t revoked_at; /* 0 when not revoked */
    int revoke_reason;
};

enum wd_err store_cert_state_get(struct store *st, const char *serial,
                                 struct store_cert_state *out);

/* The counter store_cert_revoke adds one to. */
#define STORE_COUNTER_REVOCATIONS "revocations"

/*
 * Durable named counters (meta table). _next increments and returns the
 * new value (first call gives 1), committed before WD_OK: CRL numbers
 * never repeat, even across a crash. _get reads (0 when never set).
 * Names are 1 to 64 characters of [a-z0-9_.-].
 */
enum wd_err store_counter_next(struct store *st, const char *name,
                               int64_t *out);
enum wd_err store_counter_get(struct store *st, const char *name, int64_t *out);

/*
 * store_cert_insert with the audit event's action ("issue", "renew") and
 * detail (e.g. "renews <serial>", or NULL) chosen by the caller.
 */
enum wd_err store_cert_insert_audited(struct store *st,
                                      const struct store_cert *c,
                                      const char *actor, const char *action,
                                      const char *detail);

/* One audit event as stored. Strings owned by the row. */
struct store_audit_row {
    int64_t id; /* insertion order */
    int64_t at; /* seconds, UTC */
    char *actor;
    char *action;
    char *serial;  /* or NULL */
    char *outcome; /* "ok" or an error code */
    char *detail;  /* or NULL */
};

struct store_audit_query {
    const char *serial; /* exact; NULL = any */
    const char *actor;  /* exact; NULL = any */
    const char *action; /* exact; NULL = any */
    unsigned limit;     /* 1..WD_LIST_LIMIT_MAX */
    int64_t cursor;     /* 0 = from the newest; else ids below it */
};

struct store_audit_list {
    struct store_audit_row *items; /* newest first */
    size_t n;
    int64_t next_cursor; /* 0 when this is the last page */
};

/* A page of the audit log, newest first, keyset on id. */
enum wd_err store_audit_list(struct store *st,
                             const struct store_audit_query *q,
                             struct store_audit_list *out);
void store_audit_list_free(struct store_audit_list *l);

/* ---- Backup and restore (store_backup.c) ---- */

/* store_backup_check lends the first and the last this many certificates
 * (by id) of a backup, for the caller to check whose CA issued them. */
#define STORE_BACKUP_SAMPLE 8

struct store_backup_cert {
    char serial[WD_MAX_SERIAL_HEX + 1];
    uint8_t *der;
    size_t der_len;
};

/* What a checked backup holds. Owned memory: store_backup_info_clear. */
struct store_backup_info {
    int schema_version; /* PRAGMA user_version */
    int64_t certificates;
    int64_t revoked;
    int64_t audit_events;
    struct store_backup_cert *sample; /* in id order, up to 2 * SAMPLE */
    size_t n_sample;
    /* restore only: what the replaced database holds and the backup does
     * not (made after the backup was taken); 0 when it was unreadable */
    int64_t lost_certificates;
    int64_t lost_revocations;
    char problem[256]; /* why a check refused, for a person; "" if none */
};

void store_backup_info_clear(struct store_backup_info *info);

/*
 * Write one consistent snapshot of st's database to out_path while others
 * keep reading and writing it: a standalone file (no -wal), mode 0600,
 * checked (store_backup_check, into *out) before it is renamed into
 * place, so a file at out_path is always a whole, checked backup.
 */
enum wd_err store_backup(struct store *st, const char *out_path,
                         struct store_backup_info *out);

/*
 * Read the backup at path without writing to it: integrity, schema
 * version (1 to store_schema_version(); older ones are migrated when
 * opened), every certificate's DER against its SHA-256 fingerprint, the
 * counts and a sample. WD_E_IO (damaged, unreadable, not SQLite) or
 * WD_E_CONFIG (not a Warden database, or a newer one) with out->problem
 * set. Caller clears *out either way.
 */
enum wd_err store_backup_check(const char *path, struct store_backup_info *out);

/* Decides whether a checked backup may replace the database (does it
 * belong to this CA?); anything but WD_OK refuses the restore. */
typedef enum wd_err store_backup_accept_fn(void *ctx,
                                           const struct store_backup_info *b);

/*
 * Put the backup at in_path in place of the database at db_path, which
 * no other process may have open (WD_E_UNAVAILABLE, nothing changed). A
 * copy is made beside db_path and checked (store_backup_check, into
 * *out), then accept decides; the database it replaces is renamed to
 * keep_path (its -wal too, if one is left), and its counters (the CRL
 * numbers) carried over where higher, so they never go back; out says
 * what it held that the backup does not (lost_*). db_path
 * changes in one rename: a crash leaves the old database or the new one
 * there. Caller clears *out.
 */
enum wd_err store_backup_restore(const char *db_path, const char *in_path,
                                 const char *keep_path,
                                 store_backup_accept_fn *accept, void *ctx,
                                 struct store_backup_info *out);

/* ---- ACME, RFC 8555 (store_acme*.c) ---- */

/*
 * The state of the ACME server: accounts, orders with their
 * authorizations and challenges, replay nonces, and the External Account
 * Binding keys an admin hands out. The store checks shapes and state
 * transitions; api/ speaks the protocol: it makes the random ids, the
 * canonical JWK and the problem documents (JSON text, stored as given:
 * this module does not parse JSON), and compares expires_at with its
 * clock when it reads, since store_acme_cleanup only runs now and then.
 * Every write is durable before it returns and shares its fsync with
 * concurrent writes (store_group.c); a state change is a compare-and-set
 * on the status, so a lost race is WD_E_CONFLICT, never a half-made
 * state. An id naming an object that is not stored is WD_E_NOT_FOUND,
 * whatever its shape (it may come from a URL); missing arguments and
 * malformed values a caller made (a new object's id, a time, an enum)
 * are bugs: WD_E_INTERNAL, logged, nothing written.
 */

/* The public ids (account kid, order, authorization and challenge ids,
 * EAB key ids, nonces and challenge tokens) are base64url (RFC 4648
 * section 5, no padding) drawn by api/ from a random source. At least 16
 * characters (96 bits), so guessing never finds another client's object;
 * at most 48: a 256-bit id is 43, and "acme:" + a kid stays within the
 * audit log's 64-character actor. */
#define STORE_ACME_ID_MIN 16
#define STORE_ACME_ID_MAX 48

/* RFC 8555 8.1: a token holds at least 128 bits of entropy. */
#define STORE_ACME_TOKEN_MIN 22

/* RFC 7638 thumbprint: SHA-256 in base64url without padding. */
#define STORE_ACME_THUMBPRINT_LEN 43

/* An RSA-8192 public JWK is about 1.4 KiB of JSON. */
#define STORE_ACME_JWK_MAX 4096

/* An account's contact: a JSON array of a few mailto: URLs. */
#define STORE_ACME_CONTACT_MAX 2048

/* An RFC 7807 problem document, subproblems included. */
#define STORE_ACME_PROBLEM_MAX 4096

/* RFC 7518 3.2: an HMAC key is at least as long as the hash (HS256:
 * 32 bytes); HS512 wants 64, and longer buys nothing. */
#define STORE_ACME_EAB_KEY_MIN 32
#define STORE_ACME_EAB_KEY_MAX 64

/* One challenge of each type per authorization. */
#define STORE_ACME_MAX_CHALLENGES 3

/* Identifiers per order: each becomes a SAN of the certificate, so the
 * bound is the certificate's, WD_MAX_SANS. */
#define STORE_ACME_MAX_IDENTIFIERS WD_MAX_SANS

/* store_acme_cleanup leaves an order in processing this long past its
 * expiry before calling it invalid: a finalization takes seconds, so one
 * still processing an hour later was orphaned by a crash. */
#define STORE_ACME_PROCESSING_GRACE_S (60 * 60)

/* Invalid orders (and their authorizations and challenges) are deleted
 * this long after they expire: long enough to answer a client that polls
 * late and to look into a failure; valid orders stay, as the link from a
 * certificate to its order. */
#define STORE_ACME_INVALID_RETENTION_S (30 * 24 * 60 * 60)

/* Rows of each kind one store_acme_cleanup changes at most, so one call
 * holds the write lock for milliseconds, not for a backlog. */
#define STORE_ACME_CLEANUP_BATCH 1000

/* RFC 8555 7.1.6 statuses. Each object takes a subset: an account valid,
 * deactivated or revoked; an order pending, ready, processing, valid or
 * invalid; an authorization pending, valid, invalid, deactivated, expired
 * or revoked; a challenge pending, processing, valid or invalid. */
enum store_acme_status {
    STORE_ACME_PENDING,
    STORE_ACME_READY,
    STORE_ACME_PROCESSING,
    STORE_ACME_VALID,
    STORE_ACME_INVALID,
    STORE_ACME_DEACTIVATED,
    STORE_ACME_EXPIRED,
    STORE_ACME_REVOKED,
};

/* RFC 8555 9.7.7 identifier types (RFC 8738 for "ip"). */
enum store_acme_ident_type {
    STORE_ACME_IDENT_DNS,
    STORE_ACME_IDENT_IP,
};

/* RFC 8555 8.3 and 8.4, RFC 8737. */
enum store_acme_chall_type {
    STORE_ACME_HTTP_01,
    STORE_ACME_TLS_ALPN_01,
    STORE_ACME_DNS_01,
};

/* The names RFC 8555 gives these values ("pending", "dns", "http-01"),
 * as the JSON carries them; NULL for a value outside the enum. */
const char *store_acme_status_str(enum store_acme_status s);
const char *store_acme_ident_type_str(enum store_acme_ident_type t);
const char *store_acme_chall_type_str(enum store_acme_chall_type t);

/* One account. Strings are owned by the struct (store_acme_account_free)
 * when the store made it, by the caller when the caller fills one. */
struct store_acme_account {
    int64_t id;                    /* assigned by the store */
    char *kid;                     /* the id in the account URL */
    char *jwk;                     /* public key, RFC 7638 canonical JSON */
    char *thumbprint;              /* RFC 7638 of jwk, base64url */
    enum store_acme_status status; /* VALID, DEACTIVATED or REVOKED */
    char *contact;                 /* JSON array as sent; NULL = none */
    char *eab_kid;                 /* EAB key bound at creation, or NULL */
    int64_t created_at;            /* seconds, UTC */
};

void store_acme_account_free(struct store_acme_account *a);

/*
 * Create an account (status valid) from a: kid, jwk, thumbprint,
 * created_at, and contact and eab_kid when given; a->id and status are
 * ignored. With eab_kid, the key is bound to this account in the same
 * transaction: each EAB key serves one account (RFC 8555 7.3.4). Appends
 * an "acme-account-new" audit event by "acme:<kid>". *id (if id != NULL)
 * is the new account's. WD_E_CONFLICT if the kid or the key (thumbprint)
 * already has an account (RFC 8555 7.3.1: look it up and answer with it),
 * WD_E_NOT_FOUND for an unknown eab_kid, WD_E_FORBIDDEN for an EAB key
 * bound to an account already; nothing is written then.
 */
enum wd_err store_acme_account_insert(struct store *st,
                                      const struct store_acme_account *a,
                                      int64_t *id);

/* The account with kid (an account URL's) or with thumbprint (a JWS
 * key's). Caller owns *out; WD_E_NOT_FOUND if none, malformed keys
 * included (they come from the client). */
enum wd_err store_acme_account_get_by_kid(struct store *st, const char *kid,
                                          struct store_acme_account **out);
enum wd_err
store_acme_account_get_by_thumbprint(struct store *st, const char *thumbprint,
                                     struct store_acme_account **out);

/* The account with the store's id (a struct store_acme_authz's or
 * store_acme_order's account_id). Caller owns *out; WD_E_NOT_FOUND if
 * none. */
enum wd_err store_acme_account_get_by_id(struct store *st, int64_t id,
                                         struct store_acme_account **out);

/* Replace a valid account's contact (NULL = none). WD_E_NOT_FOUND, or
 * WD_E_CONFLICT for an account no longer valid. */
enum wd_err store_acme_account_update_contact(struct store *st, const char *kid,
                                              const char *contact);

/*
 * RFC 8555 7.3.6: valid -> deactivated, at now (seconds, UTC). Its
 * pending and ready orders become invalid and their pending
 * authorizations deactivated, in the same transaction, with an
 * "acme-account-deactivate" audit event; an order already processing
 * completes. WD_E_NOT_FOUND, or WD_E_CONFLICT if it was not valid.
 */
enum wd_err store_acme_account_deactivate(struct store *st, const char *kid,
                                          int64_t now);

/*
 * RFC 8555 7.3.5 key rollover: replace the key of the valid account kid,
 * provided its key is still old_thumbprint (the one the request was
 * checked against), with new_jwk / new_thumbprint, and append an
 * "acme-key-change" audit event. WD_E_CONFLICT if the new key belongs to
 * an account (this one included: RFC 8555 answers 409 with its URL), or
 * the account's key or status changed meanwhile; WD_E_NOT_FOUND.
 */
enum wd_err store_acme_account_key_change(struct store *st, const char *kid,
                                          const char *old_thumbprint,
                                          const char *new_jwk,
                                          const char *new_thumbprint,
                                          int64_t now);

/* One challenge. Owned strings, as store_acme_account. */
struct store_acme_challenge {
    int64_t id; /* assigned by the store */
    char *cid;  /* the id in the challenge URL */
    int64_t authz_id;
    char *aid; /* read only: its authorization's, for the "up" link */
    enum store_acme_chall_type type;
    char *token;                   /* RFC 8555 8.1, base64url */
    enum store_acme_status status; /* PENDING, PROCESSING, VALID, INVALID */
    int64_t validated_at;          /* seconds, UTC; 0 unless valid */
    char *error;                   /* problem JSON of the last failure */
    int64_t attempts;              /* validation attempts made */
    int64_t next_attempt_at;       /* seconds, UTC; 0 unless processing */
};

/* One authorization: one identifier of one order. */
struct store_acme_authz {
    int64_t id; /* assigned by the store */
    char *aid;  /* the id in the authorization URL */
    int64_t order_id;
    int64_t account_id; /* read only: the order's, to check ownership */
    enum store_acme_ident_type ident_type;
    char *ident_value; /* a DNS name without "*.", or an IP address */
    bool wildcard;     /* the order asked for "*." + ident_value */
    enum store_acme_status status;
    int64_t expires_at; /* seconds, UTC */
    /* in insertion order; none in an order's authorizations */
    struct store_acme_challenge *challenges;
    size_t n_challenges;
};

/* One order with its authorizations (their challenges left out: an order
 * names its authorizations by URL only). */
struct store_acme_order {
    int64_t id; /* assigned by the store; order of creation */
    char *oid;  /* the id in the order URL */
    int64_t account_id;
    enum store_acme_status status;
    int64_t expires_at; /* seconds, UTC */
    int64_t not_before; /* requested, seconds, UTC; 0 = none */
    int64_t not_after;  /* requested, seconds, UTC; 0 = none */
    char *error;        /* problem JSON, or NULL */
    char certificate_serial[WD_MAX_SERIAL_HEX + 1]; /* "" unless valid */
    int64_t created_at;                             /* seconds, UTC */
    struct store_acme_authz *authzs; /* in the order the client listed */
    size_t n_authzs;
};

void store_acme_order_free(struct store_acme_order *o);
void store_acme_authz_free(struct store_acme_authz *z);
void store_acme_challenge_free(struct store_acme_challenge *c);

/*
 * Create an order (pending) with its authorizations (pending) and their
 * challenges (pending), all in one transaction. From o: oid, account_id,
 * expires_at, not_before, not_after, created_at, and 1 to
 * STORE_ACME_MAX_IDENTIFIERS authzs (aid, ident_type, ident_value,
 * wildcard, expires_at no earlier than the order's, so an authorization
 * never expires under a live order) with 1 to STORE_ACME_MAX_CHALLENGES
 * challenges of distinct types each (cid, type, token); the rest is
 * ignored. Authorizations are the order's own, never shared between
 * orders. WD_E_NOT_FOUND for an account that does not exist,
 * WD_E_CONFLICT for one that is not valid, for an id already used or an
 * identifier listed twice; nothing is written then.
 */
enum wd_err store_acme_order_insert(struct store *st,
                                    const struct store_acme_order *o);

/* The order oid with its authorizations. Caller owns *out;
 * WD_E_NOT_FOUND if none (a malformed oid included). */
enum wd_err store_acme_order_get(struct store *st, const char *oid,
                                 struct store_acme_order **out);

struct store_acme_order_list {
    struct store_acme_order *items; /* newest first, without authzs */
    size_t n;
    int64_t next_cursor; /* id of the last item; 0 on the last page */
};

/* RFC 8555 7.1.2.1: a page of the orders of account_id, newest first,
 * at most limit (1..WD_LIST_LIMIT_MAX) with id below cursor (0 = from the
 * newest), a keyset: no OFFSET. Caller frees with
 * store_acme_order_list_free. */
enum wd_err store_acme_order_list_by_account(struct store *st,
                                             int64_t account_id, unsigned limit,
                                             int64_t cursor,
                                             struct store_acme_order_list *out);
void store_acme_order_list_free(struct store_acme_order_list *l);

/* For per-account rate limits: the number of orders account_id created
 * at or after since (seconds, UTC) into *out, read from an index. */
enum wd_err store_acme_order_count_since(struct store *st, int64_t account_id,
                                         int64_t since, int64_t *out);

/*
 * RFC 8555 7.4: ready -> processing, if the order has not expired at now.
 * Of concurrent finalizations exactly one gets WD_OK; the others, and a
 * finalization of an order that is not ready, WD_E_CONFLICT.
 * WD_E_NOT_FOUND.
 */
enum wd_err store_acme_order_finalize_begin(struct store *st, const char *oid,
                                            int64_t now);

/*
 * processing -> valid: insert the certificate c issued for the order and
 * link it, in one transaction, with its "issue" audit event. Its requester
 * and the event's actor are the account, "acme:<kid>" (c->requester is
 * ignored); otherwise c is as for store_cert_insert. WD_E_CONFLICT if
 * the order is not processing or the serial is stored already;
 * WD_E_NOT_FOUND; nothing is written then.
 */
enum wd_err store_acme_order_finalize_done(struct store *st, const char *oid,
                                           const struct store_cert *c);

/* processing -> invalid with error (problem JSON, required) and an
 * "acme-finalize" audit event of outcome "invalid". WD_E_CONFLICT if the
 * order is not processing; WD_E_NOT_FOUND. */
enum wd_err store_acme_order_finalize_fail(struct store *st, const char *oid,
                                           const char *error, int64_t now);

/* The authorization aid with its challenges. Caller owns *out;
 * WD_E_NOT_FOUND if none. */
enum wd_err store_acme_authz_get(struct store *st, const char *aid,
                                 struct store_acme_authz **out);

/*
 * Move authorization aid to status: DEACTIVATED (RFC 8555 7.5.2, from
 * pending or valid), REVOKED (from valid) or INVALID (from pending); valid
 * and expired come from store_acme_challenge_set_result and
 * store_acme_cleanup. Its order, if pending or ready, becomes invalid in
 * the same transaction (RFC 8555 7.1.6). WD_E_CONFLICT if the status is
 * not one it can move from; WD_E_NOT_FOUND.
 */
enum wd_err store_acme_authz_set_status(struct store *st, const char *aid,
                                        enum store_acme_status status);

/* The challenge cid. Caller owns *out; WD_E_NOT_FOUND if none. */
enum wd_err store_acme_challenge_get(struct store *st, const char *cid,
                                     struct store_acme_challenge **out);

/*
 * RFC 8555 7.5.1, the client asks for validation: pending -> processing,
 * due at now, if its authorization is pending and unexpired at now. Only
 * the first of concurrent requests gets WD_OK; the others, and a
 * challenge past pending, WD_E_CONFLICT (RFC 8555 answers with the
 * challenge as it is). WD_E_NOT_FOUND.
 */
enum wd_err store_acme_challenge_set_processing(struct store *st,
                                                const char *cid, int64_t now);

/* An attempt failed and will be retried (RFC 8555 8.2): the challenge
 * stays processing, counts the attempt, keeps error (problem JSON, or
 * NULL) and is due again at next_attempt_at. WD_E_CONFLICT if it is not
 * processing; WD_E_NOT_FOUND. */
enum wd_err store_acme_challenge_retry(struct store *st, const char *cid,
                                       int64_t next_attempt_at,
                                       const char *error);

/*
 * The validation ended: processing -> status (VALID, at now, or INVALID
 * with error, problem JSON or NULL), counting the attempt. In the same
 * transaction (RFC 8555 7.1.6) its authorization, if pending and
 * unexpired at now, takes that status too; an invalid authorization
 * makes its order invalid, and the last one of an order to turn valid
 * makes the order ready. WD_E_CONFLICT if the challenge is not
 * processing; WD_E_NOT_FOUND.
 */
enum wd_err store_acme_challenge_set_result(struct store *st, const char *cid,
                                            enum store_acme_status status,
                                            const char *error, int64_t now);

struct store_acme_challenge_list {
    struct store_acme_challenge *items; /* soonest due first */
    size_t n;
};

/* Up to limit (1..WD_LIST_LIMIT_MAX) processing challenges of pending
 * authorizations due at now: the validator's work, which survives a
 * restart. Caller frees with store_acme_challenge_list_free. */
enum wd_err
store_acme_challenge_list_due(struct store *st, int64_t now, unsigned limit,
                              struct store_acme_challenge_list *out);
void store_acme_challenge_list_free(struct store_acme_challenge_list *l);

/* RFC 8555 7.2: remember a nonce handed out, usable until expires_at
 * (seconds, UTC). WD_E_CONFLICT if it was handed out before. */
enum wd_err store_acme_nonce_insert(struct store *st, const char *nonce,
                                    int64_t expires_at);

/*
 * RFC 8555 6.5: use a nonce once. Deletes it and sets *fresh when it was
 * stored and unexpired at now, in one statement: of concurrent takes of
 * one nonce, one sees it. *fresh is false for a nonce unknown, used,
 * expired or malformed (it comes from the client): that is an answer
 * (badNonce), not an error.
 */
enum wd_err store_acme_nonce_take(struct store *st, const char *nonce,
                                  int64_t now, bool *fresh);

/* An External Account Binding key (RFC 8555 7.3.4). */
struct store_acme_eab_key {
    char *kid;
    uint8_t *hmac_key; /* secret: wiped by store_acme_eab_key_free */
    size_t hmac_key_len;
    char *created_by;   /* the admin's identity */
    int64_t created_at; /* seconds, UTC */
    char *used_by;      /* kid of the account bound to it; NULL if none */
};

void store_acme_eab_key_free(struct store_acme_eab_key *k);

/* Store a new EAB key (k->used_by is ignored) with an "acme-eab-new"
 * audit event by created_by; the key itself is never logged or audited.
 * WD_E_CONFLICT for a kid already stored. */
enum wd_err store_acme_eab_insert(struct store *st,
                                  const struct store_acme_eab_key *k);

/* The EAB key kid (from a client's JWS). Caller owns *out
 * (store_acme_eab_key_free wipes it); WD_E_NOT_FOUND if none. */
enum wd_err store_acme_eab_get(struct store *st, const char *kid,
                               struct store_acme_eab_key **out);

/* What one store_acme_cleanup changed. */
struct store_acme_cleanup {
    int64_t nonces_deleted;         /* expired */
    int64_t orders_invalidated;     /* pending or ready past expiry */
    int64_t authzs_expired;         /* pending or valid past expiry */
    int64_t challenges_invalidated; /* processing, authorization decided */
    int64_t orders_deleted;         /* invalid, past the retention */
    /* a kind filled its batch: call again */
    bool more;
};

/*
 * One batch of housekeeping at now (seconds, UTC), in one transaction:
 * delete expired nonces; orders pending or ready past expires_at become
 * invalid, and processing ones STORE_ACME_PROCESSING_GRACE_S later;
 * authorizations pending or valid past expires_at become expired;
 * processing challenges whose authorization is no longer pending become
 * invalid; invalid orders STORE_ACME_INVALID_RETENTION_S past expiry are
 * deleted with their authorizations and challenges. Accounts, valid
 * orders and the audit log stay. At most STORE_ACME_CLEANUP_BATCH rows
 * of each kind; out->more asks for another call.
 */
enum wd_err store_acme_cleanup(struct store *st, int64_t now,
                               struct store_acme_cleanup *out);

#endif
