/*
 * The inventory's counts: how many certificates are valid, expiring soon,
 * expired and revoked, and how many expire in each of the weeks ahead (the
 * inventory page's header and chart). Every count is one range of an index
 * read in one snapshot, so the figures add up: total = valid + expired +
 * revoked. Counting a million rows reads a million index entries; callers
 * that poll should cache.
 */
#include "store_priv.h"

#include <string.h>

#include "../server/base/log.h"

#define WEEK_S (7 * 86400)

/* count(*) reads the narrowest index that has every row */
static const char sql_total[] = "SELECT count(*) FROM certificates";

/* the partial index certificates_revoked_at holds only revoked rows */
static const char sql_revoked[] =
    "SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL";

static const char sql_expired[] =
    "SELECT count(*) FROM certificates INDEXED BY certificates_expiry"
    " WHERE not_after <= ?1 AND revoked_at IS NULL";

static const char sql_expiring[] =
    "SELECT count(*) FROM certificates INDEXED BY certificates_expiry"
    " WHERE not_after > ?1 AND not_after <= ?2 AND revoked_at IS NULL";

/* ?1 and ?2 saturate rather than overflow on absurd clocks. */
static int64_t
add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Runs the one-row count in slot with ?1 = a, ?2 = b (where it has them)
 * and reads its column 0 into *count. */
static enum wd_err
run_count(struct store_conn *conn, enum store_stmt slot, const char *sql,
          int64_t a, int64_t b, int64_t *count)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err;
    int rc = SQLITE_OK;

    err = store_stmt_get(conn, slot, sql, &s);
    if (err != WD_OK) {
        return err;
    }
    if (sqlite3_bind_parameter_count(s) >= 1) {
        rc = sqlite3_bind_int64(s, 1, a);
    }
    if (rc == SQLITE_OK && sqlite3_bind_parameter_count(s) >= 2) {
        rc = sqlite3_bind_int64(s, 2, b);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_ROW) {
        *count = sqlite3_column_int64(s, 0);
    } else {
        err = store_sql_err(conn->db, rc, "cert_stats");
    }
    store_stmt_done(s);
    return err;
}

/*
 * Week i holds now + i weeks < not_after <= now + (i + 1) weeks: one
 * range count each. A single GROUP BY over the thirteen weeks computed a
 * week number for every row and was six times slower (a million
 * certificates: 98 ms against 16).
 */
static enum wd_err
read_weeks(struct store_conn *conn, int64_t now, struct store_cert_stats *out)
{
    enum wd_err err = WD_OK;
    int i;

    for (i = 0; i < STORE_STATS_WEEKS && err == WD_OK; i++) {
        err =
            run_count(conn, STORE_STMT_STATS_EXPIRING, sql_expiring,
                      add_sat(now, (int64_t)i * WEEK_S),
                      add_sat(now, (int64_t)(i + 1) * WEEK_S), &out->weeks[i]);
    }
    return err;
}

/*
 * The counts of the inventory at now (seconds, UTC), "expiring" meaning
 * valid with not_after <= now + expiring_window, read in one snapshot into
 * *out (untouched on failure). WD_E_INTERNAL (logged) for a missing
 * argument or a negative window.
 */
enum wd_err
store_cert_stats_get(struct store *st, int64_t now, int64_t expiring_window,
                     struct store_cert_stats *out)
{
    struct store_cert_stats stats;
    struct store_conn *conn = NULL;
    enum wd_err err;

    if (st == NULL || out == NULL || expiring_window < 0) {
        log_err("event=store_bug op=cert_stats error=\"bad argument\"");
        return WD_E_INTERNAL;
    }
    memset(&stats, 0, sizeof(stats));
    err = store_conn_borrow(st, &conn);
    if (err != WD_OK) {
        return err;
    }
    err = store_tx_begin_read(conn);
    if (err == WD_OK) {
        err = run_count(conn, STORE_STMT_STATS_TOTAL, sql_total, 0, 0,
                        &stats.total);
    }
    if (err == WD_OK) {
        err = run_count(conn, STORE_STMT_STATS_REVOKED, sql_revoked, 0, 0,
                        &stats.revoked);
    }
    if (err == WD_OK) {
        err = run_count(conn, STORE_STMT_STATS_EXPIRED, sql_expired, now, 0,
                        &stats.expired);
    }
    if (err == WD_OK) {
        err = run_count(conn, STORE_STMT_STATS_EXPIRING, sql_expiring, now,
                        add_sat(now, expiring_window), &stats.expiring);
    }
    if (err == WD_OK) {
        err = read_weeks(conn, now, &stats);
    }
    if (err == WD_OK) {
        err = store_tx_commit(conn);
    } else {
        store_tx_rollback(conn);
    }
    store_conn_return(st, conn);
    if (err == WD_OK) {
        stats.valid = stats.total - stats.revoked - stats.expired;
        *out = stats;
    }
    return err;
}
