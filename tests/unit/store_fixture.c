/*
 * The fixture shared by the store unit tests: setups and teardowns for a
 * store on ":memory:" or on a file in a fresh temporary directory (TMPDIR,
 * else /tmp), the start of every certificate they insert, and the plain
 * sqlite3 helpers and clock they share. A failed setup returns -1 and
 * leaves nothing behind, so cmocka skips the test; a failed helper fails
 * the test that called it.
 */
#include "store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

/*
 * Make a fresh directory and name dir/warden.db in it, without creating
 * the file. On success *state owns the fixture (store_fixture_teardown_file)
 * and returns 0; on failure -1, with nothing left to clean up.
 */
int
store_fixture_setup_file(void **state)
{
    struct store_fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    if (f == NULL) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "%s/warden-store-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/warden.db", f->dir);
    *state = f;
    return 0;
}

/*
 * As store_fixture_setup_file, then open the store on the new file. If the
 * store does not open, the directory is removed and this returns -1.
 */
int
store_fixture_setup_file_open(void **state)
{
    struct store_fixture *f;

    if (store_fixture_setup_file(state) != 0) {
        return -1;
    }
    f = *state;
    if (store_open(f->path, &f->st) != WD_OK) {
        rmdir(f->dir);
        free(f);
        *state = NULL;
        return -1;
    }
    return 0;
}

/*
 * Close the store (if a test opened one), delete the database with its
 * -wal, -shm and -journal files, remove the directory and free the
 * fixture. Always returns 0: what cannot be removed is left behind.
 */
int
store_fixture_teardown_file(void **state)
{
    struct store_fixture *f = *state;
    const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    char p[320];
    size_t i;

    store_close(f->st);
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/*
 * Open a store on ":memory:", migrated and empty. On success *state owns
 * the fixture (store_fixture_teardown_memory) and returns 0; else -1.
 */
int
store_fixture_setup_memory(void **state)
{
    struct store_fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || store_open(":memory:", &f->st) != WD_OK) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* Close the store, which discards its database, and free the fixture. */
int
store_fixture_teardown_memory(void **state)
{
    struct store_fixture *f = *state;

    store_close(f->st);
    free(f);
    return 0;
}

/*
 * Zero c, copy serial into it and point cn at the caller's string (NULL
 * for an absent CN); key type, profile and requester get the values every
 * store test uses. DER, subject, SANs, fingerprint and times stay for the
 * caller, which keeps them alive as long as c.
 */
void
store_fixture_cert_fill(struct store_cert *c, const char *serial,
                        const char *cn)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->serial, sizeof(c->serial), "%s", serial);
    c->cn = (char *)cn;
    c->key_type = "ecdsa-p256";
    c->profile = "server";
    c->requester = "admin";
}

/*
 * Open a plain SQLite connection to f's file, beside the store's own, with
 * the store's busy timeout so it waits for the store's locks as the store
 * waits for its. Fails the test if the file does not open; the caller
 * closes the connection (sqlite3_close).
 */
sqlite3 *
store_fixture_raw_open(const struct store_fixture *f)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* Run sql on db, failing the test unless every statement in it succeeds. */
void
store_fixture_raw_exec(sqlite3 *db, const char *sql)
{
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/*
 * The first column of the first row of sql on db, as an integer. Fails the
 * test if sql does not compile or yields no row.
 */
int64_t
store_fixture_raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* The seconds elapsed on CLOCK_MONOTONIC since *t0, read from that clock. */
double
store_fixture_seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}
