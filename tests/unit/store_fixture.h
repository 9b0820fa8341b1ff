/*
 * The fixture shared by the store unit tests (every test_store*.c): a
 * store on ":memory:", or a warden.db in a fresh temporary directory that
 * teardown removes with its -wal, -shm and -journal companions. Setups and
 * teardowns are cmocka's, taking the test's state; certificates start from
 * store_fixture_cert_fill. A plain sqlite3 connection (store_fixture_raw_*)
 * looks behind the store's back, and a monotonic clock times the large
 * tests.
 */
#ifndef WD_TEST_STORE_FIXTURE_H
#define WD_TEST_STORE_FIXTURE_H

#include <sqlite3.h>
#include <stdint.h>
#include <time.h>

#include "../../store/store.h"

struct store_fixture {
    char dir[256];    /* a fresh temporary directory; "" on :memory: */
    char path[300];   /* dir/warden.db */
    struct store *st; /* NULL until opened; closed by teardown */
};

/* A fixture with dir and path but no store, for tests that open it. */
int store_fixture_setup_file(void **state);

/* A fixture with dir and path, and st open on path. */
int store_fixture_setup_file_open(void **state);

/* Closes st and removes path, its companions and dir. */
int store_fixture_teardown_file(void **state);

/* A fixture with st open on ":memory:". */
int store_fixture_setup_memory(void **state);

/* Closes st. */
int store_fixture_teardown_memory(void **state);

/* Zeroes c, then sets serial, cn and the fields every store test shares. */
void store_fixture_cert_fill(struct store_cert *c, const char *serial,
                             const char *cn);

/* A plain connection to f's file, beside the store's own; caller closes. */
sqlite3 *store_fixture_raw_open(const struct store_fixture *f);

/* Runs sql (one or more statements) on db; fails the test on error. */
void store_fixture_raw_exec(sqlite3 *db, const char *sql);

/* The first column of the first row of sql, as an integer. */
int64_t store_fixture_raw_int(sqlite3 *db, const char *sql);

/* Seconds on CLOCK_MONOTONIC since *t0, taken from the same clock. */
double store_fixture_seconds_since(const struct timespec *t0);

/* SQL that takes today's schema back to before migration 8: the index on
 * fingerprints comes back. */
#define STORE_FIXTURE_UNDO_8                                                   \
    "CREATE INDEX certificates_fingerprint ON certificates (fingerprint);"

/* SQL that takes today's schema back to before migration 7: the trigger
 * that fed a new certificate's search terms comes back. */
#define STORE_FIXTURE_UNDO_7                                                   \
    STORE_FIXTURE_UNDO_8                                                       \
    "CREATE TRIGGER certificates_fts_insert AFTER INSERT ON certificates"      \
    " BEGIN"                                                                   \
    "  INSERT INTO certificates_fts (rowid, cn, sans, serial)"                 \
    "  VALUES (new.id, new.cn, new.sans, new.serial);"                         \
    " END;"

/* SQL that takes today's schema back to before migration 6: the ACME
 * tables go, their indexes with them, children before parents (and
 * their sqlite_sequence rows: SQLite drops those with the tables). */
#define STORE_FIXTURE_UNDO_6                                                   \
    STORE_FIXTURE_UNDO_7                                                       \
    "DROP TABLE acme_nonces;"                                                  \
    "DROP TABLE acme_challenges;"                                              \
    "DROP TABLE acme_authzs;"                                                  \
    "DROP TABLE acme_orders;"                                                  \
    "DROP TABLE acme_accounts;"                                                \
    "DROP TABLE acme_eab_keys;"

/* SQL that takes today's schema back to before migration 5, for tests
 * that build an older database from a current one: the later migrations
 * are undone first, so every test that goes back to 5 or older undoes
 * them too. */
#define STORE_FIXTURE_UNDO_5                                                   \
    STORE_FIXTURE_UNDO_6                                                       \
    "DROP INDEX certificates_expiry;"                                          \
    "CREATE INDEX certificates_not_after ON certificates (not_after);"

#endif
