/*
 * `warden backup` and `warden restore`: the store's backup API
 * (store/store_backup.c) from the host. backup writes a consistent
 * snapshot of D/warden.db while the daemon serves. restore puts a backup
 * in place of D/warden.db once it is proven sound (integrity, schema
 * version, every certificate's bytes) and this CA's (its first and last
 * certificates were issued by D/intermediate.crt), refusing while any
 * process has the database open, and keeps the database it replaces as
 * D/warden.db.pre-restore-<UTC time>. Only the database is backed up:
 * the CA's keys and files are the operator's to keep, apart and secret.
 * Exit status: 0 done, 1 refused or failed (one sentence on stderr), 2
 * bad usage.
 */
#include "srv.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PEM_MAX_BYTES (1024 * 1024)

/* Names in D that a backup must never be written over. */
static const char *const live_names[] = {
    SRV_FILE_DB,
    SRV_FILE_DB "-wal",
    SRV_FILE_DB "-shm",
    SRV_FILE_DB "-journal",
};

static int
usage_error(const char *cmd, const char *problem)
{
    fprintf(stderr, "warden %s: %s (see warden help)\n", cmd, problem);
    return 2;
}

/* Are a and b one file, or one directory (both exist)? */
static bool
same_file(const char *a, const char *b)
{
    struct stat sa;
    struct stat sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Would writing path replace one of the live database's files in dir? */
static bool
is_live(const char *dir, const char *path)
{
    char base_buf[4096]; /* basename and dirname may edit their input */
    char dir_buf[4096];
    const char *base;
    bool live = false;
    size_t i;

    snprintf(base_buf, sizeof(base_buf), "%s", path);
    snprintf(dir_buf, sizeof(dir_buf), "%s", path);
    base = basename(base_buf);
    for (i = 0; i < sizeof(live_names) / sizeof(live_names[0]); i++) {
        live = live || strcmp(base, live_names[i]) == 0;
    }
    return live && same_file(dir, dirname(dir_buf));
}

/* warden backup [--dir D] OUT */
int
srv_cmd_backup(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = srv_default_dir();
    struct store_backup_info info = { 0 };
    struct store *st = NULL;
    const char *out;
    char path[4096];
    enum wd_err rc;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd') {
            dir = optarg;
        } else {
            return usage_error("backup", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("backup", "give exactly one OUT file");
    }
    out = argv[optind];
    if (is_live(dir, out)) {
        return usage_error("backup", "OUT would overwrite the live database; "
                                     "choose another name");
    }
    if (!srv_file_exists(dir, SRV_FILE_DB)) {
        fprintf(stderr, "warden backup: no %s in %s\n", SRV_FILE_DB, dir);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, SRV_FILE_DB);
    rc = store_open(path, &st);
    if (rc == WD_OK) {
        rc = store_backup(st, out, &info);
    }
    store_close(st);
    if (rc == WD_OK) {
        printf("backed up %s to %s: %lld certificates (%lld revoked), %lld "
               "audit events, schema version %d\n",
               path, out, (long long)info.certificates, (long long)info.revoked,
               (long long)info.audit_events, info.schema_version);
    } else if (info.problem[0] != '\0') {
        fprintf(stderr, "warden backup: the copy failed its check: %s\n",
                info.problem);
    } else {
        fprintf(stderr, "warden backup: %s (see the log lines above)\n",
                wd_err_str(rc));
    }
    store_backup_info_clear(&info);
    return rc == WD_OK ? 0 : 1;
}

/* What the CA check learnt, for the message. */
struct ca_match {
    const char *issuer_pem; /* D/intermediate.crt */
    bool force;             /* --force: skip the check */
    bool empty;             /* the backup holds no certificate */
    char bad_serial[WD_MAX_SERIAL_HEX + 1]; /* one not issued by D's CA */
};

/*
 * store_backup_accept_fn: the backup belongs to this CA if its first and
 * last certificates were all issued by D's intermediate. A backup of
 * another CA fails on its very first one; a certificate of ours that
 * fails is damage the fingerprint check could not see.
 */
static enum wd_err
accept_ca(void *ctx, const struct store_backup_info *b)
{
    struct ca_match *m = ctx;
    const uint8_t *ders[2 * STORE_BACKUP_SAMPLE];
    size_t lens[2 * STORE_BACKUP_SAMPLE];
    size_t first_bad = 0;
    enum wd_err rc;
    size_t i;

    if (m->force) {
        return WD_OK;
    }
    if (b->n_sample == 0) {
        m->empty = true;
        return WD_E_CONFIG;
    }
    for (i = 0; i < b->n_sample; i++) {
        ders[i] = b->sample[i].der;
        lens[i] = b->sample[i].der_len;
    }
    rc = pki_chain_check(m->issuer_pem, ders, lens, b->n_sample, &first_bad);
    if (rc == WD_OK && first_bad < b->n_sample) {
        snprintf(m->bad_serial, sizeof(m->bad_serial), "%s",
                 b->sample[first_bad].serial);
        rc = WD_E_CONFIG;
    }
    return rc;
}

/* D/warden.db.pre-restore-<UTC time>, with -N added if that is taken. */
static void
keep_name(const char *dir, char *out, size_t outsz)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    int n;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, outsz, "%s/%s.pre-restore-%s", dir, SRV_FILE_DB, stamp);
    for (n = 2; access(out, F_OK) == 0 && n < 100; n++) {
        snprintf(out, outsz, "%s/%s.pre-restore-%s-%d", dir, SRV_FILE_DB, stamp,
                 n);
    }
}

/* The one line restore prints when it refuses or fails. */
static void
restore_failed(const char *dir, const char *in, enum wd_err rc,
               const struct ca_match *m, const struct store_backup_info *info)
{
    if (rc == WD_E_UNAVAILABLE) {
        fprintf(stderr,
                "warden restore: %s/%s is open in another process (is "
                "warden serve running on %s?): stop it first\n",
                dir, SRV_FILE_DB, dir);
    } else if (info->problem[0] != '\0') {
        fprintf(stderr, "warden restore: %s is not a usable backup: %s\n", in,
                info->problem);
    } else if (m->empty) {
        fprintf(stderr,
                "warden restore: %s holds no certificate, so nothing shows "
                "it belongs to this CA (--force restores it anyway)\n",
                in);
    } else if (m->bad_serial[0] != '\0') {
        fprintf(stderr,
                "warden restore: %s belongs to another CA: certificate %s "
                "was not issued by %s/%s (--force restores it anyway)\n",
                in, m->bad_serial, dir, SRV_FILE_INTERMEDIATE_CERT);
    } else {
        fprintf(stderr, "warden restore: %s (see the log lines above)\n",
                wd_err_str(rc));
    }
}

/*
 * What the replaced database knew and the restored one does not: the
 * certificates issued after the backup are unknown to it (OCSP says
 * unknown, the API refuses their holders, and no CRL can list them), and
 * revocations made after it are undone until made again.
 */
static void
lost_warn(const struct store_backup_info *info, const char *keep)
{
    if (info->lost_certificates == 0 && info->lost_revocations == 0) {
        return;
    }
    fprintf(stderr,
            "warden restore: warning: %s holds %lld certificates and %lld "
            "revocations made after the backup, which the restored "
            "database does not; revoke again what must stay revoked "
            "(warden revoke)\n",
            keep, (long long)info->lost_certificates,
            (long long)info->lost_revocations);
}

/* warden restore [--dir D] [--force] IN */
int
srv_cmd_restore(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "force", no_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = srv_default_dir();
    struct ca_match m = { 0 };
    struct store_backup_info info = { 0 };
    struct store *st = NULL;
    char *issuer = NULL;
    size_t len;
    const char *in;
    char db[4096];
    char keep[4200];
    bool installed;
    enum wd_err rc;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd') {
            dir = optarg;
        } else if (c == 'f') {
            m.force = true;
        } else {
            return usage_error("restore", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("restore", "give exactly one IN file");
    }
    in = argv[optind];
    snprintf(db, sizeof(db), "%s/%s", dir, SRV_FILE_DB);
    if (same_file(in, db)) {
        return usage_error("restore", "IN is the live database itself");
    }
    /* the database means nothing without the CA that issued it */
    if (!srv_file_exists(dir, SRV_FILE_INTERMEDIATE_CERT)) {
        fprintf(stderr,
                "warden restore: %s holds no CA: put the CA's files there "
                "first (everything but %s*)\n",
                dir, SRV_FILE_DB);
        return 1;
    }
    rc = srv_file_read(dir, SRV_FILE_INTERMEDIATE_CERT, PEM_MAX_BYTES, &issuer,
                       &len);
    if (rc == WD_OK) {
        m.issuer_pem = issuer;
        keep_name(dir, keep, sizeof(keep));
        rc = store_backup_restore(db, in, keep, accept_ca, &m, &info);
    }
    installed = rc == WD_OK;
    if (installed) {
        /* an older schema is migrated now, not at the daemon's start */
        rc = store_open(db, &st);
        store_close(st);
    }
    if (installed && rc != WD_OK) {
        fprintf(stderr,
                "warden restore: %s is in place but does not open: %s (see "
                "the log lines above)\n",
                db, wd_err_str(rc));
    } else if (rc == WD_OK) {
        printf("restored %s into %s: %lld certificates (%lld revoked), %lld "
               "audit events, schema version %d",
               in, db, (long long)info.certificates, (long long)info.revoked,
               (long long)info.audit_events, info.schema_version);
        if (info.schema_version < store_schema_version()) {
            printf(" (migrated to %d)", store_schema_version());
        }
        if (access(keep, F_OK) == 0) {
            printf("; the previous database is %s", keep);
        }
        printf("%s\n", m.force ? "; CA check skipped (--force)" : "");
        lost_warn(&info, keep);
    } else {
        restore_failed(dir, in, rc, &m, &info);
    }
    store_backup_info_clear(&info);
    free(issuer);
    return rc == WD_OK ? 0 : 1;
}
