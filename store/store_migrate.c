/*
 * The schema, as numbered migrations: migrations[i] takes a database from
 * PRAGMA user_version i to i + 1, in one transaction with the version bump,
 * so a crash leaves either version. store_open runs them on its first
 * connection; a current database costs one read of user_version, and a
 * database written by a newer build is refused rather than guessed at.
 * Append new migrations; never edit one that has shipped.
 */
#include "store_priv.h"

#include <stdio.h>

#include "../server/base/log.h"

static const char *const migrations[] = {
    /* 1: the inventory and its search index, the audit log, counters */
    "CREATE TABLE certificates ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused */
    " serial TEXT NOT NULL UNIQUE,"
    " der BLOB NOT NULL,"
    " subject TEXT NOT NULL,"
    " cn TEXT,"
    " sans TEXT NOT NULL,"
    " key_type TEXT NOT NULL,"
    " profile TEXT NOT NULL,"
    " requester TEXT NOT NULL,"
    " fingerprint TEXT NOT NULL,"
    " not_before INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL,"
    " issued_at INTEGER NOT NULL,"
    " revoked_at INTEGER,"
    " revoke_reason INTEGER);"
    "CREATE INDEX certificates_not_after ON certificates (not_after);"
    /* what a listing's status filter reads, in listing order, without
     * the DER: a filtered page skips rows in this narrow index */
    "CREATE INDEX certificates_status"
    " ON certificates (id, revoked_at, not_after);"
    /* few rows are revoked: the CRL and the revoked filter read only them */
    "CREATE INDEX certificates_revoked_at ON certificates (revoked_at)"
    " WHERE revoked_at IS NOT NULL;"
    "CREATE INDEX certificates_fingerprint ON certificates (fingerprint);"
    /* substring search on CN, SANs and serial without scanning every row;
     * external content, so the text is stored once, in certificates */
    "CREATE VIRTUAL TABLE certificates_fts USING fts5("
    " cn, sans, serial, content='certificates', content_rowid='id',"
    " tokenize='trigram');"
    "CREATE TRIGGER certificates_fts_insert AFTER INSERT ON certificates"
    " BEGIN"
    "  INSERT INTO certificates_fts (rowid, cn, sans, serial)"
    "  VALUES (new.id, new.cn, new.sans, new.serial);"
    " END;"
    "CREATE TRIGGER certificates_fts_delete AFTER DELETE ON certificates"
    " BEGIN"
    "  INSERT INTO certificates_fts (certificates_fts, rowid, cn, sans,"
    "   serial) VALUES ('delete', old.id, old.cn, old.sans, old.serial);"
    " END;"
    "CREATE TRIGGER certificates_fts_update"
    " AFTER UPDATE OF id, cn, sans, serial ON certificates"
    " BEGIN"
    "  INSERT INTO certificates_fts (certificates_fts, rowid, cn, sans,"
    "   serial) VALUES ('delete', old.id, old.cn, old.sans, old.serial);"
    "  INSERT INTO certificates_fts (rowid, cn, sans, serial)"
    "  VALUES (new.id, new.cn, new.sans, new.serial);"
    " END;"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " serial TEXT,"
    " outcome TEXT NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX audit_serial ON audit (serial);"
    /* PRODUCT: the audit log is append-only */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    /* counters that must survive restarts, such as the CRL number */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value);",

    /* 2: the revoked walk (CRL) reads this index alone, already in serial
     * order: only revoked rows, each with every column the walk returns,
     * so a million entries cost neither a table lookup each nor a sort */
    "CREATE INDEX certificates_revoked_serial"
    " ON certificates (serial, revoked_at, revoke_reason, not_after)"
    " WHERE revoked_at IS NOT NULL;",

    /* 3: the audit log listed by actor, by action or by both, newest first
     * (audit_serial serves the serial filter). Each index ends in id, so a
     * filtered page is one range of one index, already in id order: no
     * scan of the other events and no sort, however long the log grows */
    "CREATE INDEX audit_actor ON audit (actor, id);"
    "CREATE INDEX audit_action ON audit (action, id);"
    "CREATE INDEX audit_actor_action ON audit (actor, action, id);",

    /* 4: the audit log as a hash chain (store_audit.c): each event carries
     * the hash of the one before it, so an edit or a deletion made behind
     * the store's back shows in `warden audit verify`. The events already
     * stored are chained by store_audit_chain_backfill, in this same
     * transaction (migration_steps) */
    "ALTER TABLE audit ADD COLUMN prev_hash TEXT;"
    "ALTER TABLE audit ADD COLUMN hash TEXT;",

    /* 5: the inventory by expiry (store_cert_list.c) and its counts
     * (store_cert_stats.c). (not_after, id) is the keyset of an
     * expiry-ordered page and revoked_at what its status filter reads, so
     * a page and a count are one index range with no row lookups. It
     * replaces certificates_not_after, whose leading column it shares */
    "CREATE INDEX certificates_expiry"
    " ON certificates (not_after, id, revoked_at);"
    "DROP INDEX certificates_not_after;",

    /* 6: ACME, RFC 8555 (store_acme*.c). Statuses and types are the
     * RFC's words, held to them by CHECK; JSON (a JWK, contacts, problem
     * documents) is text made by api/ and kept as given. Accounts and
     * orders number by AUTOINCREMENT, so an id is never reused: an
     * order listing pages on it, and invalid orders get deleted. Every
     * foreign key's child column leads an index, so checking or
     * cascading a parent's deletion never scans a table */
    /* External Account Binding keys (RFC 8555 7.3.4) an admin made; the
     * account bound to one names it (acme_accounts.eab_kid) */
    "CREATE TABLE acme_eab_keys ("
    " kid TEXT PRIMARY KEY,"
    " hmac_key BLOB NOT NULL,"
    " created_by TEXT NOT NULL,"
    " created_at INTEGER NOT NULL);"
    /* kid is in the account URL; thumbprint (RFC 7638) finds the account
     * of a JWS key; both unique, and eab_kid too: a key serves one
     * account. Never deleted: deactivation is a status */
    "CREATE TABLE acme_accounts ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kid TEXT NOT NULL UNIQUE,"
    " jwk TEXT NOT NULL,"
    " thumbprint TEXT NOT NULL UNIQUE,"
    " status TEXT NOT NULL"
    "  CHECK (status IN ('valid', 'deactivated', 'revoked')),"
    " contact TEXT,"
    " eab_kid TEXT UNIQUE REFERENCES acme_eab_keys (kid),"
    " created_at INTEGER NOT NULL);"
    /* an order's identifiers are its authorizations' (one each, never
     * shared between orders); not_before and not_after are what the
     * client asked for, NULL if nothing; certificate_serial links a
     * valid order to the inventory */
    "CREATE TABLE acme_orders ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " oid TEXT NOT NULL UNIQUE,"
    " account_id INTEGER NOT NULL REFERENCES acme_accounts (id),"
    " status TEXT NOT NULL CHECK (status IN ('pending', 'ready',"
    "  'processing', 'valid', 'invalid')),"
    " expires_at INTEGER NOT NULL,"
    " not_before INTEGER,"
    " not_after INTEGER,"
    " error TEXT,"
    " certificate_serial TEXT REFERENCES certificates (serial),"
    " created_at INTEGER NOT NULL);"
    /* an account's orders newest first, a keyset on id (RFC 8555
     * 7.1.2.1), and counted since a time for rate limits */
    "CREATE INDEX acme_orders_account ON acme_orders (account_id, id);"
    "CREATE INDEX acme_orders_account_created"
    " ON acme_orders (account_id, created_at);"
    /* cleanup: one range per status of the orders past their expiry,
     * never a scan of the valid orders that accumulate */
    "CREATE INDEX acme_orders_expiry ON acme_orders (status, expires_at);"
    "CREATE INDEX acme_orders_certificate ON acme_orders (certificate_serial)"
    " WHERE certificate_serial IS NOT NULL;"
    /* identifier_value is a DNS name without "*." (wildcard says it had
     * one) or an IP address. The unique key refuses an identifier listed
     * twice and serves the lookup by order */
    "CREATE TABLE acme_authzs ("
    " id INTEGER PRIMARY KEY,"
    " aid TEXT NOT NULL UNIQUE,"
    " order_id INTEGER NOT NULL"
    "  REFERENCES acme_orders (id) ON DELETE CASCADE,"
    " identifier_type TEXT NOT NULL CHECK (identifier_type IN ('dns', 'ip')),"
    " identifier_value TEXT NOT NULL,"
    " wildcard INTEGER NOT NULL CHECK (wildcard IN (0, 1)),"
    " status TEXT NOT NULL CHECK (status IN ('pending', 'valid', 'invalid',"
    "  'deactivated', 'expired', 'revoked')),"
    " expires_at INTEGER NOT NULL,"
    " UNIQUE (order_id, identifier_type, identifier_value, wildcard));"
    "CREATE INDEX acme_authzs_expiry ON acme_authzs (status, expires_at);"
    /* one challenge of each type per authorization (the unique key,
     * which serves the lookup by authorization); attempts and
     * next_attempt_at make the validator's queue, which survives a
     * restart */
    "CREATE TABLE acme_challenges ("
    " id INTEGER PRIMARY KEY,"
    " cid TEXT NOT NULL UNIQUE,"
    " authz_id INTEGER NOT NULL"
    "  REFERENCES acme_authzs (id) ON DELETE CASCADE,"
    " type TEXT NOT NULL"
    "  CHECK (type IN ('http-01', 'tls-alpn-01', 'dns-01')),"
    " token TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('pending', 'processing',"
    "  'valid', 'invalid')),"
    " validated_at INTEGER,"
    " error TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER,"
    " UNIQUE (authz_id, type));"
    /* few challenges are processing at once: the validator's due list
     * and the cleanup read this small partial index alone */
    "CREATE INDEX acme_challenges_due ON acme_challenges (next_attempt_at)"
    " WHERE status = 'processing';"
    /* single-use nonces (RFC 8555 6.5): looked up by value only, so the
     * value is the b-tree's key (no rowid); expired ones found by time */
    "CREATE TABLE acme_nonces ("
    " nonce TEXT PRIMARY KEY,"
    " expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX acme_nonces_expiry ON acme_nonces (expires_at);",

    /* 7: a new certificate's search terms are written by
     * store_cert_row_insert itself, not by a trigger. An INSERT that fires
     * a trigger runs in a statement savepoint, and FTS5 writes its pending
     * terms out as a new segment at every savepoint: one segment per
     * certificate, merged again and again (issue #7's profile). As a
     * statement of its own the insert joins the transaction's pending
     * terms, written once at commit. Deletes and updates keep their
     * triggers: they are rare */
    "DROP TRIGGER certificates_fts_insert;",

    /* 8: nothing looks a certificate up by its fingerprint (the API
     * compares the caller's with the row it found by serial), and a
     * SHA-256 is a random key: every issuance wrote a page of this index
     * somewhere in its tree, to the WAL and again at checkpoint (about
     * 8 KB a certificate, issue #7) */
    "DROP INDEX certificates_fingerprint;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Work SQL cannot do, run after migrations[i] in its transaction; NULL for
 * a migration that is SQL alone. */
static enum wd_err (*const migration_steps[])(sqlite3 *db) = {
    NULL, NULL,
    NULL, store_audit_chain_backfill, /* 4: chain the events already stored */
    NULL, NULL,
    NULL, NULL,
};

_Static_assert(sizeof(migration_steps) / sizeof(migration_steps[0]) ==
                   sizeof(migrations) / sizeof(migrations[0]),
               "one step slot per migration");

/* The schema version this build writes: the number of migrations. */
int
store_schema_version(void)
{
    return N_MIGRATIONS;
}

static enum wd_err
exec(sqlite3 *db, const char *sql, const char *what)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? WD_OK : store_sql_err(db, rc, what);
}

static enum wd_err
version_read(sqlite3 *db, int *out)
{
    sqlite3_stmt *s = NULL;
    enum wd_err err = WD_OK;
    int rc;

    rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(s, 0);
    } else {
        err = store_sql_err(db, rc, "user_version");
    }
    sqlite3_finalize(s);
    return err;
}

/*
 * One migration, if one is due, with its version bump. The version is read
 * under the write lock, so two processes opening a fresh file cannot both
 * run the same migration. Sets *done when the schema is current.
 */
static enum wd_err
migrate_next(sqlite3 *db, bool *done)
{
    char bump[40];
    int version = 0;
    enum wd_err err;

    err = exec(db, "BEGIN IMMEDIATE", "migrate");
    if (err != WD_OK) {
        return err;
    }
    err = version_read(db, &version);
    if (err != WD_OK) {
        goto out;
    }
    if (version < 0 || version > N_MIGRATIONS) {
        log_err("event=store_refused error=\"database schema is newer than "
                "this build (or not ours)\" db_version=%d build_version=%d",
                version, N_MIGRATIONS);
        err = WD_E_CONFIG;
        goto out;
    }
    if (version == N_MIGRATIONS) {
        *done = true;
        goto out;
    }
    err = exec(db, migrations[version], "migrate");
    if (err != WD_OK) {
        goto out;
    }
    if (migration_steps[version] != NULL) {
        err = migration_steps[version](db);
        if (err != WD_OK) {
            goto out;
        }
    }
    /* PRAGMA takes no parameters; the number is ours, not input */
    snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", version + 1);
    err = exec(db, bump, "migrate");
    if (err != WD_OK) {
        goto out;
    }
    log_info("event=store_migrated version=%d", version + 1);
out:
    if (err == WD_OK) {
        err = exec(db, "COMMIT", "migrate");
    }
    if (err != WD_OK && sqlite3_get_autocommit(db) == 0) {
        exec(db, "ROLLBACK", "migrate");
    }
    return err;
}

/*
 * Bring db's schema to store_schema_version(), one transaction per
 * migration; a no-op on a current database. WD_E_CONFIG (logged) for a
 * database newer than this build; other failures leave the last version
 * that committed.
 */
enum wd_err
store_schema_migrate(sqlite3 *db)
{
    bool done = false;
    enum wd_err err = WD_OK;

    while (err == WD_OK && !done) {
        err = migrate_next(db, &done);
    }
    return err;
}
