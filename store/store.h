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

#endif
