/*
 * Shared internals of store/: the connection pool every public function
 * borrows from, the per-connection cache of prepared statements, the
 * transaction helpers and the one translation of SQLite result codes into
 * wd_err. store_open.c owns all of it; store_migrate.c brings a fresh
 * connection's schema up to date; store_cert.c, store_audit.c,
 * store_revoked.c and store_counter.c run the queries; store_page.c holds
 * the page loop the two listings share.
 */
#ifndef WD_STORE_PRIV_H
#define WD_STORE_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>

#include "store.h"

/* Listing variants: 5 status filters, 4 ways to search, 2 orders, with
 * or without an expiry range (store_cert_list.c). */
#define STORE_LIST_VARIANTS 80

/* Audit listing variants: serial, actor and action each filtered or not
 * (store_audit.c). */
#define STORE_AUDIT_LIST_VARIANTS 8

/* Slots of the per-connection statement cache. */
enum store_stmt {
    STORE_STMT_BEGIN,
    STORE_STMT_BEGIN_READ,
    STORE_STMT_COMMIT,
    STORE_STMT_ROLLBACK,
    STORE_STMT_SAVEPOINT,
    STORE_STMT_RELEASE,
    STORE_STMT_ROLLBACK_TO,
    STORE_STMT_CERT_INSERT,
    STORE_STMT_CERT_INSERT_FTS,
    STORE_STMT_CERT_GET,
    STORE_STMT_CERT_REVOKE,
    STORE_STMT_CERT_STATE,
    STORE_STMT_REVOKED_WALK,
    STORE_STMT_AUDIT_INSERT,
    STORE_STMT_AUDIT_HEAD,
    STORE_STMT_AUDIT_WALK,
    STORE_STMT_AUDIT_COUNT,
    STORE_STMT_AUDIT_COUNT_SERIAL,
    STORE_STMT_COUNTER_BUMP,
    STORE_STMT_COUNTER_GET,
    STORE_STMT_STATS_TOTAL,
    STORE_STMT_STATS_REVOKED,
    STORE_STMT_STATS_EXPIRED,
    STORE_STMT_STATS_EXPIRING,
    /* ACME (store_acme*.c) */
    STORE_STMT_ACME_CLEANUP_NONCES,
    STORE_STMT_ACME_CLEANUP_ORDERS,
    STORE_STMT_ACME_CLEANUP_AUTHZS,
    STORE_STMT_ACME_CLEANUP_CHALLENGES,
    STORE_STMT_ACME_CLEANUP_DELETE,
    STORE_STMT_ACME_ACCOUNT_INSERT,
    STORE_STMT_ACME_ACCOUNT_BY_KID,
    STORE_STMT_ACME_ACCOUNT_BY_THUMBPRINT,
    STORE_STMT_ACME_ACCOUNT_BY_ID,
    STORE_STMT_ACME_ACCOUNT_CONTACT,
    STORE_STMT_ACME_ACCOUNT_DEACTIVATE,
    STORE_STMT_ACME_ACCOUNT_DEACTIVATE_AUTHZS,
    STORE_STMT_ACME_ACCOUNT_DEACTIVATE_ORDERS,
    STORE_STMT_ACME_ACCOUNT_KEY_CHANGE,
    STORE_STMT_ACME_EAB_INSERT,
    STORE_STMT_ACME_EAB_GET,
    STORE_STMT_ACME_NONCE_INSERT,
    STORE_STMT_ACME_NONCE_TAKE,
    STORE_STMT_ACME_ORDER_ACCOUNT,
    STORE_STMT_ACME_ORDER_INSERT,
    STORE_STMT_ACME_AUTHZ_INSERT,
    STORE_STMT_ACME_CHALL_INSERT,
    STORE_STMT_ACME_ORDER_GET,
    STORE_STMT_ACME_ORDER_LIST,
    STORE_STMT_ACME_ORDER_COUNT,
    STORE_STMT_ACME_ORDER_BEGIN,
    STORE_STMT_ACME_ORDER_OWNER,
    STORE_STMT_ACME_ORDER_DONE,
    STORE_STMT_ACME_ORDER_FAIL,
    STORE_STMT_ACME_AUTHZ_GET,
    STORE_STMT_ACME_AUTHZS_OF_ORDER,
    STORE_STMT_ACME_AUTHZ_SET,
    STORE_STMT_ACME_AUTHZ_RESULT,
    STORE_STMT_ACME_ORDER_INVALID,
    STORE_STMT_ACME_ORDER_READY,
    STORE_STMT_ACME_CHALL_GET,
    STORE_STMT_ACME_CHALLS_OF_AUTHZ,
    STORE_STMT_ACME_CHALL_DUE,
    STORE_STMT_ACME_CHALL_PROCESSING,
    STORE_STMT_ACME_CHALL_RETRY,
    STORE_STMT_ACME_CHALL_RESULT,
    STORE_STMT_CERT_FTS_PROBE,
    STORE_STMT_CERT_LIST, /* first of STORE_LIST_VARIANTS slots */
    /* first of STORE_AUDIT_LIST_VARIANTS slots */
    STORE_STMT_AUDIT_LIST = STORE_STMT_CERT_LIST + STORE_LIST_VARIANTS,
    STORE_STMT__COUNT = STORE_STMT_AUDIT_LIST + STORE_AUDIT_LIST_VARIANTS
};

/* One SQLite connection; used by one thread at a time, between borrow and
 * return. */
struct store_conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[STORE_STMT__COUNT]; /* prepared on first use */
    bool busy;                              /* lent out */
};

/* A file database gets this many connections; ":memory:" exactly one, since
 * each in-memory connection would be a database of its own. */
#define STORE_POOL_SIZE 4

/* How long SQLite retries a locked database before SQLITE_BUSY, and how
 * long a caller waits for a free connection before WD_E_UNAVAILABLE. */
#define STORE_BUSY_TIMEOUT_MS 5000

struct store_group_job;

struct store {
    pthread_mutex_t lock; /* guards conns[].busy and the group queue */
    pthread_cond_t freed; /* signalled when a connection comes back */
    struct store_conn conns[STORE_POOL_SIZE];
    size_t n_conns;
    /* group commit (store_group.c): writes waiting for the next batch */
    struct store_group_job *queue;
    struct store_group_job **queue_tail;
    bool committing;          /* a leader is writing a batch */
    pthread_cond_t committed; /* signalled when a batch is durable */
};

/* One write of a group commit: runs inside the batch's transaction, in a
 * savepoint of its own, so its failure undoes only its own rows. */
typedef enum wd_err store_group_fn(struct store_conn *conn, void *ctx);

/*
 * Run fn(conn, ctx) in a write transaction shared with the writes other
 * threads submit meanwhile, and return once that transaction is durable
 * (or failed): fn's error, else the commit's (store_group.c).
 */
enum wd_err store_group_write(struct store *st, store_group_fn *fn, void *ctx);
/* The same for an fn that only reads ctx and the database, so it can run
 * again after a rollback: a batch of only such writes skips savepoints. */
enum wd_err store_group_write_replayable(struct store *st, store_group_fn *fn,
                                         void *ctx);
/* The writes queued for the next batch, for tests that form one. */
size_t store_group_queued(struct store *st);

/* Lends a connection, waiting for one to come back if all are out. */
enum wd_err store_conn_borrow(struct store *st, struct store_conn **out);

/* Gives conn back to the pool; every statement on it must be reset. */
void store_conn_return(struct store *st, struct store_conn *conn);

/*
 * The cached statement in slot id, prepared from sql on first use. sql must
 * be the same text on every call for a slot. The caller resets it with
 * store_stmt_done after use.
 */
enum wd_err store_stmt_get(struct store_conn *conn, enum store_stmt id,
                           const char *sql, sqlite3_stmt **out);

/* Resets s and clears its bindings; accepts NULL. */
void store_stmt_done(sqlite3_stmt *s);

/* Prepares (once), steps and resets a statement that returns no rows, in
 * slot id; a failure is logged as the operation what. */
enum wd_err store_stmt_run(struct store_conn *conn, enum store_stmt id,
                           const char *sql, const char *what);

/* BEGIN IMMEDIATE: take the write lock first, so no reader upgrades. */
enum wd_err store_tx_begin(struct store_conn *conn);
/* BEGIN (deferred): a read transaction, one snapshot until it ends. */
enum wd_err store_tx_begin_read(struct store_conn *conn);
enum wd_err store_tx_commit(struct store_conn *conn);
void store_tx_rollback(struct store_conn *conn);

/*
 * Borrows a connection of st and begins a write transaction on it. On
 * failure the connection is back in the pool and *out untouched.
 */
enum wd_err store_write_open(struct store *st, struct store_conn **out);

/*
 * Rolls back what the caller left open (an exit before store_tx_commit)
 * and gives conn back to st; accepts NULL.
 */
void store_write_close(struct store *st, struct store_conn *conn);

/*
 * Logs SQLite's message for rc on db (what names the operation) and
 * returns the wd_err for it: busy or locked is WD_E_UNAVAILABLE, disk and
 * file trouble WD_E_IO, anything else WD_E_INTERNAL.
 */
enum wd_err store_sql_err(sqlite3 *db, int rc, const char *what);

/*
 * Appends ev to the audit log on conn, inside the caller's write
 * transaction (store_tx_begin), chained to the event before it. ev->at of
 * 0 means now.
 */
enum wd_err store_audit_insert(struct store_conn *conn,
                               const struct store_audit_event *ev);

/*
 * Chains the audit events already stored, in id order, as
 * store_audit_insert chains new ones: migration 4 runs it on db inside its
 * transaction, after adding the prev_hash and hash columns. The
 * append-only trigger is lifted for the walk and restored before it
 * returns (store_audit.c).
 */
enum wd_err store_audit_chain_backfill(sqlite3 *db);

/* The certificates columns store_cert_row_read reads, in its order; c is
 * the row's table alias. id first, as store_page_collect pages on column
 * 0. */
#define STORE_CERT_COLUMNS                                                     \
    "c.id, c.serial, c.der, c.subject, c.cn, c.sans, c.key_type, c.profile,"   \
    " c.requester, c.fingerprint, c.not_before, c.not_after, c.issued_at,"     \
    " c.revoked_at, c.revoke_reason"

/* Fills c from the current row of s (STORE_CERT_COLUMNS order); on failure
 * c may hold part of a row, for store_cert_clear (store_cert.c). */
enum wd_err store_cert_row_read(sqlite3_stmt *s, struct store_cert *c);

/* Inserts the row c on conn, inside the caller's transaction; c->id,
 * revoked_at and revoke_reason are ignored. WD_E_CONFLICT for a serial
 * stored already (store_cert.c). */
enum wd_err store_cert_row_insert(struct store_conn *conn,
                                  const struct store_cert *c);

/* Does c have every field a row needs? (store_cert.c) */
bool store_cert_is_complete(const struct store_cert *c);

/* Frees what c owns, not c itself (store_cert.c). */
void store_cert_clear(struct store_cert *c);

/*
 * Adds one to the counter name in the meta table (creating it at 1) on
 * conn, inside the caller's write transaction, and reads the new value
 * into *out (if out != NULL). name is one the caller checked or a
 * constant of ours (store_counter.c).
 */
enum wd_err store_counter_bump(struct store_conn *conn, const char *name,
                               int64_t *out);

/* How store_page_collect reads one listing's rows into untyped items. */
struct store_page_rows {
    size_t item_size; /* bytes of one item */
    /* fills item from s's current row; on failure item may be partly
     * filled, and is cleared */
    enum wd_err (*read)(sqlite3_stmt *s, void *item);
    void (*clear)(void *item); /* frees what item owns, not item */
    const char *what;          /* names the listing in the log */
};

/*
 * Steps s, bound by the caller for limit + 1 rows with the id it pages on
 * in column 0, and reads up to limit rows into a new array *items of *n
 * (the caller's, on success only). *next_cursor is the last item's id when
 * a further row exists, else 0 (store_page.c).
 */
enum wd_err store_page_collect(struct store_conn *conn, sqlite3_stmt *s,
                               size_t limit, const struct store_page_rows *rows,
                               void **items, size_t *n, int64_t *next_cursor);

/*
 * Brings db's schema to store_schema_version(), one transaction per
 * migration. A database newer than this build is WD_E_CONFIG.
 */
enum wd_err store_schema_migrate(sqlite3 *db);

/* ---- ACME (store_acme*.c): what its files share ---- */

/* The enum value RFC 8555 names text (a column's), into *out; false for
 * a name outside the enum (store_acme.c). */
bool store_acme_status_parse(const unsigned char *text,
                             enum store_acme_status *out);
bool store_acme_ident_type_parse(const unsigned char *text,
                                 enum store_acme_ident_type *out);
bool store_acme_chall_type_parse(const unsigned char *text,
                                 enum store_acme_chall_type *out);

/* min to max base64url characters and nothing else; false for NULL. */
bool store_acme_b64url_is_valid(const char *s, size_t min, size_t max);

/* An id of ours: STORE_ACME_ID_MIN to STORE_ACME_ID_MAX base64url. */
bool store_acme_id_is_valid(const char *s);

/* 1 to max bytes without control characters; false for NULL. */
bool store_acme_text_is_valid(const char *s, size_t max);

/* A copy of column i's text (the caller's), NULL for SQL NULL. */
char *store_acme_column_dup(sqlite3_stmt *s, int i);

/* Binds ?1..?n of s to v[0..n-1]; SQLite's result code. */
int store_acme_bind_ints(sqlite3_stmt *s, const int64_t *v, int n);

/*
 * Steps s, a write bound by the caller (rc: the binding's result code),
 * to its end and sets *changes (if not NULL). A unique key taken is
 * WD_E_CONFLICT, a foreign key's parent missing WD_E_NOT_FOUND, other
 * failures as store_sql_err under what. The caller resets s.
 */
enum wd_err store_acme_step_write(struct store_conn *conn, sqlite3_stmt *s,
                                  int rc, const char *what, int *changes);

/* As store_acme_step_write, for a statement of at most one row (UPDATE
 * ... RETURNING on a unique key): *found and its first column *value. */
enum wd_err store_acme_step_one(struct store_conn *conn, sqlite3_stmt *s,
                                int rc, const char *what, bool *found,
                                int64_t *value);

/* The authorizations of order_id on conn in insertion order, without
 * challenges, into a new array *out of *n, the caller's on success
 * (store_acme_authz_clear each, then free) (store_acme_authz.c). */
enum wd_err store_acme_authzs_read(struct store_conn *conn, int64_t order_id,
                                   struct store_acme_authz **out, size_t *n);

/* Free what z or c owns, not z or c itself (store_acme_authz.c). */
void store_acme_authz_clear(struct store_acme_authz *z);
void store_acme_challenge_clear(struct store_acme_challenge *c);

#endif
