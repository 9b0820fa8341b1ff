/*
 * Opening and closing a store, and the pool of connections behind it. Every
 * public store function borrows one connection, runs statements that were
 * prepared once for that connection, and gives it back. A file database
 * gets STORE_POOL_SIZE connections in WAL mode with synchronous=FULL, so
 * readers never wait for the writer and a commit is on disk when it
 * returns; ":memory:" gets exactly one. Also here: the transaction helpers
 * (write and read) and the one place SQLite result codes become wd_err.
 */
#include "store_priv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* Per connection: these settings are not stored in the database file.
 * temp_store: a group commit's savepoints (store_group.c) keep their
 * undo journal in memory, not in a file made and deleted per batch. */
static const char conn_pragmas[] = "PRAGMA foreign_keys = ON;"
                                   "PRAGMA synchronous = FULL;"
                                   "PRAGMA temp_store = MEMORY;";

static enum wd_err
map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return WD_E_UNAVAILABLE;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return WD_E_IO;
    default:
        return WD_E_INTERNAL;
    }
}

/*
 * Logs SQLite's message for rc on db, naming the operation what, and
 * returns the wd_err for it (see store_priv.h). db may be NULL.
 */
enum wd_err
store_sql_err(sqlite3 *db, int rc, const char *what)
{
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    char quoted[LOG_QUOTE_BUF];
    enum wd_err err = map_rc(rc);

    log_quote(msg, strlen(msg), quoted);
    if (err == WD_E_UNAVAILABLE) {
        log_warn("event=store_busy op=%s sqlite_rc=%d error=%s", what, rc,
                 quoted);
    } else {
        log_err("event=store_failed op=%s sqlite_rc=%d error=%s", what, rc,
                quoted);
    }
    return err;
}

/* WAL persists in the file, but asking again is cheap and proves it took. */
static enum wd_err
wal_enable(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    const unsigned char *mode;
    char quoted[LOG_QUOTE_BUF];
    enum wd_err err = WD_OK;
    int rc;

    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_ROW) {
        err = store_sql_err(db, rc, "journal_mode");
        goto out;
    }
    mode = sqlite3_column_text(s, 0);
    if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
        log_quote((const char *)mode, mode != NULL ? strlen((char *)mode) : 0,
                  quoted);
        log_err("event=store_failed op=journal_mode error=\"WAL refused\" "
                "journal_mode=%s",
                quoted);
        err = WD_E_IO;
    }
out:
    sqlite3_finalize(s);
    return err;
}

static enum wd_err
conn_open(const char *path, bool memory, sqlite3 **out)
{
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    sqlite3 *db = NULL;
    const char *msg;
    char qpath[LOG_QUOTE_BUF];
    char qmsg[LOG_QUOTE_BUF];
    enum wd_err err = WD_OK;
    int rc;

    rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        log_quote(path, strlen(path), qpath);
        log_quote(msg, strlen(msg), qmsg);
        log_err("event=store_failed op=open path=%s sqlite_rc=%d error=%s",
                qpath, rc, qmsg);
        err = map_rc(rc);
        goto out;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    rc = sqlite3_exec(db, conn_pragmas, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        err = store_sql_err(db, rc, "pragmas");
        goto out;
    }
    if (!memory) {
        err = wal_enable(db);
        if (err != WD_OK) {
            goto out;
        }
    }
    *out = db;
    db = NULL;
out:
    sqlite3_close(db);
    return err;
}

static void
conn_close(struct store_conn *conn)
{
    size_t i;
    int rc;

    for (i = 0; i < STORE_STMT__COUNT; i++) {
        sqlite3_finalize(conn->stmts[i]);
        conn->stmts[i] = NULL;
    }
    rc = sqlite3_close(conn->db);
    if (rc != SQLITE_OK) {
        store_sql_err(conn->db, rc, "close");
    }
    conn->db = NULL;
}

static bool
sync_init(struct store *st)
{
    pthread_condattr_t attr;
    bool ok = false;

    if (pthread_condattr_init(&attr) != 0) {
        return false;
    }
    /* a deadline on the monotonic clock survives the wall clock jumping */
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
        pthread_cond_init(&st->freed, &attr) == 0) {
        if (pthread_mutex_init(&st->lock, NULL) != 0) {
            pthread_cond_destroy(&st->freed);
        } else if (pthread_cond_init(&st->committed, NULL) != 0) {
            pthread_mutex_destroy(&st->lock);
            pthread_cond_destroy(&st->freed);
        } else {
            st->queue_tail = &st->queue;
            ok = true;
        }
    }
    pthread_condattr_destroy(&attr);
    return ok;
}

static void
pool_free(struct store *st)
{
    size_t i;

    if (st == NULL) {
        return;
    }
    for (i = 0; i < st->n_conns; i++) {
        conn_close(&st->conns[i]);
    }
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->freed);
    pthread_cond_destroy(&st->committed);
    free(st);
}

/*
 * Open (creating if needed) the database at path, bring its schema to
 * store_schema_version() and fill the connection pool. On success the
 * caller owns *out (store_close); on failure *out is untouched and the
 * cause is logged: WD_E_CONFIG for a database newer than this build,
 * WD_E_IO for a file SQLite cannot use, WD_E_INTERNAL otherwise.
 */
enum wd_err
store_open(const char *path, struct store **out)
{
    struct store *st;
    bool memory;
    size_t n;
    enum wd_err err = WD_OK;

    if (path == NULL || out == NULL || sqlite3_threadsafe() == 0) {
        log_err("event=store_failed op=open error=\"no path, or SQLite "
                "built without thread safety\"");
        return WD_E_INTERNAL;
    }
    st = xcalloc(1, sizeof(*st));
    if (!sync_init(st)) {
        log_err("event=store_failed op=open error=\"pthread init failed\"");
        free(st);
        return WD_E_INTERNAL;
    }
    memory = strcmp(path, ":memory:") == 0;
    n = memory ? 1 : STORE_POOL_SIZE;
    while (st->n_conns < n) {
        err = conn_open(path, memory, &st->conns[st->n_conns].db);
        if (err != WD_OK) {
            goto out;
        }
        st->n_conns++;
        if (st->n_conns == 1) {
            err = store_schema_migrate(st->conns[0].db);
            if (err != WD_OK) {
                goto out;
            }
        }
    }
    *out = st;
    st = NULL; /* the caller owns it now */
out:
    pool_free(st);
    return err;
}

/*
 * Close every connection and free st; accepts NULL. No call on st may be
 * running or follow. The last connection to close checkpoints the WAL.
 */
void
store_close(struct store *st)
{
    pool_free(st);
}

/*
 * Lend a connection of st's pool to the calling thread until
 * store_conn_return. Waits for one to come back if all are lent;
 * WD_E_UNAVAILABLE if none does within STORE_BUSY_TIMEOUT_MS.
 */
enum wd_err
store_conn_borrow(struct store *st, struct store_conn **out)
{
    struct store_conn *conn = NULL;
    struct timespec deadline;
    size_t i;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += STORE_BUSY_TIMEOUT_MS / 1000;
    deadline.tv_nsec += (long)(STORE_BUSY_TIMEOUT_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->lock);
    while (conn == NULL && rc == 0) {
        for (i = 0; i < st->n_conns && conn == NULL; i++) {
            if (!st->conns[i].busy) {
                conn = &st->conns[i];
            }
        }
        if (conn == NULL) {
            rc = pthread_cond_timedwait(&st->freed, &st->lock, &deadline);
        }
    }
    if (conn != NULL) {
        conn->busy = true;
    }
    pthread_mutex_unlock(&st->lock);
    if (conn == NULL) {
        log_warn("event=store_busy op=borrow error=\"no free connection\" "
                 "errno=%d",
                 rc);
        return WD_E_UNAVAILABLE;
    }
    *out = conn;
    return WD_OK;
}

/*
 * Give conn back to st's pool; accepts NULL. A statement left running or a
 * transaction left open is a bug: it is logged and undone here, so one bug
 * cannot hold the write lock for ever.
 */
void
store_conn_return(struct store *st, struct store_conn *conn)
{
    size_t i;

    if (conn == NULL) {
        return;
    }
    for (i = 0; i < STORE_STMT__COUNT; i++) {
        if (conn->stmts[i] != NULL && sqlite3_stmt_busy(conn->stmts[i])) {
            log_err("event=store_bug error=\"statement not reset\" slot=%zu",
                    i);
            store_stmt_done(conn->stmts[i]);
        }
    }
    if (sqlite3_get_autocommit(conn->db) == 0) {
        log_err("event=store_bug error=\"transaction left open\"");
        store_tx_rollback(conn);
    }
    pthread_mutex_lock(&st->lock);
    conn->busy = false;
    pthread_cond_signal(&st->freed);
    pthread_mutex_unlock(&st->lock);
}

/*
 * The statement cached in conn's slot id, prepared from sql on first use
 * and kept until store_close. The caller resets it with store_stmt_done;
 * WD_E_INTERNAL (logged) if sql does not compile.
 */
enum wd_err
store_stmt_get(struct store_conn *conn, enum store_stmt id, const char *sql,
               sqlite3_stmt **out)
{
    int rc;

    if (conn->stmts[id] == NULL) {
        rc = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &conn->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            return store_sql_err(conn->db, rc, "prepare");
        }
    }
    *out = conn->stmts[id];
    return WD_OK;
}

/* Reset s for its next use and drop its bindings; accepts NULL. */
void
store_stmt_done(sqlite3_stmt *s)
{
    if (s == NULL) {
        return;
    }
    sqlite3_reset(s); /* repeats the last step's error, logged already */
    sqlite3_clear_bindings(s);
}

/* Step a statement without rows in slot id, failing as what. */
enum wd_err
store_stmt_run(struct store_conn *conn, enum store_stmt id, const char *sql,
               const char *what)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc;

    err = store_stmt_get(conn, id, sql, &s);
    if (err != WD_OK) {
        return err;
    }
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        err = store_sql_err(conn->db, rc, what);
    }
    store_stmt_done(s);
    return err;
}

/*
 * Start a write transaction on conn. IMMEDIATE takes the write lock now,
 * waiting up to the busy timeout, so a transaction never has to upgrade a
 * read lock (the deadlock SQLite answers with SQLITE_BUSY at once).
 * WD_E_UNAVAILABLE if another writer holds the lock for longer.
 */
enum wd_err
store_tx_begin(struct store_conn *conn)
{
    return store_stmt_run(conn, STORE_STMT_BEGIN, "BEGIN IMMEDIATE", "begin");
}

/*
 * Start a read transaction on conn: every statement until it ends sees one
 * snapshot (in WAL, writers carry on beside it). End it with
 * store_tx_commit, or store_tx_rollback on failure; a write inside it would
 * have to upgrade its lock, so it is for reading only.
 */
enum wd_err
store_tx_begin_read(struct store_conn *conn)
{
    return store_stmt_run(conn, STORE_STMT_BEGIN_READ, "BEGIN", "begin_read");
}

/*
 * Commit conn's transaction: with synchronous=FULL it is on disk when this
 * returns WD_OK. On failure the transaction is rolled back.
 */
enum wd_err
store_tx_commit(struct store_conn *conn)
{
    enum wd_err err;

    err = store_stmt_run(conn, STORE_STMT_COMMIT, "COMMIT", "commit");
    if (err != WD_OK) {
        store_tx_rollback(conn);
    }
    return err;
}

/*
 * Roll back conn's transaction, if SQLite has not already done so (it does
 * after some I/O errors). Failure is logged; nothing else can be done.
 */
void
store_tx_rollback(struct store_conn *conn)
{
    if (sqlite3_get_autocommit(conn->db) != 0) {
        return;
    }
    store_stmt_run(conn, STORE_STMT_ROLLBACK, "ROLLBACK", "rollback");
}

/*
 * Borrow a connection of st and begin a write transaction on it
 * (store_tx_begin). On WD_OK the caller holds *out until store_write_close;
 * on failure (WD_E_UNAVAILABLE for a pool or a write lock that stayed
 * taken) the connection is back in the pool and *out is untouched.
 */
enum wd_err
store_write_open(struct store *st, struct store_conn **out)
{
    struct store_conn *conn = NULL;
    enum wd_err err;

    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        return err;
    }
    err = store_tx_begin(conn);
    if (err != WD_OK) {
        store_conn_return(st, conn);
        return err;
    }
    *out = conn;
    return WD_OK;
}

/*
 * End what store_write_open began: roll back the transaction if the caller
 * left before store_tx_commit (after a commit, or a commit that failed and
 * rolled back itself, there is none), then give conn back to st's pool.
 * Accepts NULL, for a store_write_open that failed.
 */
void
store_write_close(struct store *st, struct store_conn *conn)
{
    if (conn == NULL) {
        return;
    }
    store_tx_rollback(conn);
    store_conn_return(st, conn);
}
