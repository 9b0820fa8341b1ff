/*
 * Revocation from the host, for operators: `warden revoke` commits a
 * revocation to the store (a running daemon notices within a second and
 * republishes its CRL and OCSP), `warden crl` writes a freshly signed CRL
 * of the intermediate, and `warden root-crl` re-signs the root's CRL with
 * the offline root key.
 */
#include "srv.h"

#include <getopt.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/parse.h"

#define PEM_MAX_BYTES (1024 * 1024)
/* `root-crl --revoke` takes a few serials at a time. */
#define MAX_ROOT_REVOKES 16

static int
usage_error(const char *cmd, const char *problem)
{
    fprintf(stderr, "warden %s: %s (see warden help)\n", cmd, problem);
    return 2;
}

static int
failed(const char *cmd, enum wd_err err)
{
    fprintf(stderr, "warden %s: %s\n", cmd, wd_err_str(err));
    return 1;
}

static enum wd_err
open_store(const char *dir, struct store **st)
{
    char path[4096];

    if (!srv_file_exists(dir, SRV_FILE_DB)) {
        return WD_E_NO_CA;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, SRV_FILE_DB);
    return store_open(path, st);
}

/* warden revoke [--dir D] [--reason R] SERIAL */
int
srv_cmd_revoke(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "reason", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = srv_default_dir();
    enum pki_reason reason = PKI_REASON_UNSPECIFIED;
    struct store *st = NULL;
    struct store_cert *row = NULL;
    const char *serial;
    char actor[64];
    enum wd_err rc;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd') {
            dir = optarg;
        } else if (c == 'r') {
            if (!pki_reason_parse(optarg, &reason)) {
                return usage_error("revoke", wd_err_str(WD_E_BAD_REASON));
            }
        } else {
            return usage_error("revoke", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("revoke", "give exactly one SERIAL");
    }
    serial = argv[optind];
    if (!wd_serial_is_valid(serial, strlen(serial))) {
        return failed("revoke", WD_E_BAD_SERIAL);
    }
    rc = open_store(dir, &st);
    if (rc == WD_OK) {
        /* the audit log names who did it from the host */
        snprintf(actor, sizeof(actor), "cli:uid=%u", (unsigned)getuid());
        rc =
            store_cert_revoke(st, serial, (int)reason, time(NULL), actor, &row);
    }
    if (rc == WD_OK) {
        printf("revoked %s (%s); a running daemon republishes its CRL and "
               "OCSP within seconds\n",
               row->serial, pki_reason_name(row->revoke_reason));
    }
    store_cert_free(row);
    store_close(st);
    return rc == WD_OK ? 0 : failed("revoke", rc);
}

/* The CA as serve loads it (srv_ca_load), for an offline CRL build. */
static enum wd_err
load_ca(const char *dir, const struct srv_config *cfg, struct pki_ca **ca)
{
    char public_url[256];

    srv_config_public_url(cfg, public_url, sizeof(public_url));
    return srv_ca_load(dir, cfg, public_url, ca);
}

static enum wd_err
write_out(const char *out, const uint8_t *der, size_t len)
{
    FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "wb");
    enum wd_err rc = WD_OK;

    if (f == NULL) {
        return WD_E_IO;
    }
    if (fwrite(der, 1, len, f) != len) {
        rc = WD_E_IO;
    }
    if (f != stdout && fclose(f) != 0) {
        rc = WD_E_IO;
    }
    return rc;
}

/* warden crl [--dir D] [--out FILE|-]: sign a CRL from the store now. */
int
srv_cmd_crl(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "out", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = srv_default_dir();
    const char *out = "-";
    struct srv_config cfg = { 0 };
    struct pki_ca *ca = NULL;
    struct store *st = NULL;
    uint8_t *der = NULL;
    size_t len = 0;
    uint64_t number = 0;
    struct timespec t0;
    struct timespec t1;
    enum wd_err rc;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd') {
            dir = optarg;
        } else if (c == 'o') {
            out = optarg;
        } else {
            return usage_error("crl", "unknown option");
        }
    }
    if (optind != argc) {
        return usage_error("crl", "no positional arguments");
    }
    rc = srv_config_load(dir, &cfg);
    if (rc == WD_OK) {
        rc = load_ca(dir, &cfg, &ca);
    }
    if (rc == WD_OK) {
        rc = open_store(dir, &st);
    }
    if (rc == WD_OK) {
        struct api_revocation_cfg rcfg = {
            .crl_validity_s = cfg.crl_validity_s,
            .crl_keep_expired = cfg.crl_keep_expired,
        };

        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = api_crl_build(st, ca, &rcfg, time(NULL), &der, &len, &number);
        clock_gettime(CLOCK_MONOTONIC, &t1);
    }
    if (rc == WD_OK) {
        rc = write_out(out, der, len);
    }
    if (rc == WD_OK) {
        fprintf(stderr, "crl number=%llu bytes=%zu build_ms=%.1f\n",
                (unsigned long long)number, len,
                (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    free(der);
    store_close(st);
    pki_ca_free(ca);
    srv_config_clear(&cfg);
    return rc == WD_OK ? 0 : failed("crl", rc);
}

/* "SERIAL" or "SERIAL:reasonName" for root-crl --revoke. */
static bool
parse_revoke(char *arg, struct srv_root_revocation *out)
{
    char *colon = strchr(arg, ':');
    enum pki_reason reason = PKI_REASON_UNSPECIFIED;

    if (colon != NULL) {
        *colon = '\0';
        if (!pki_reason_parse(colon + 1, &reason)) {
            return false;
        }
    }
    if (!wd_serial_is_valid(arg, strlen(arg))) {
        return false;
    }
    out->serial = arg;
    out->reason = (int)reason;
    return true;
}

/*
 * warden root-crl [--dir D] --root-key FILE [--revoke SERIAL[:REASON]]...
 * Re-sign the root's CRL (keeping its entries) with the offline root key.
 */
int
srv_cmd_root_crl(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "root-key", required_argument, NULL, 'k' },
        { "revoke", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = srv_default_dir();
    const char *key_path = NULL;
    struct srv_root_revocation add[MAX_ROOT_REVOKES];
    size_t n_add = 0;
    struct srv_config cfg = { 0 };
    struct store *st = NULL;
    char *root = NULL;
    char *key = NULL;
    size_t len;
    uint64_t number = 0;
    enum wd_err rc;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd') {
            dir = optarg;
        } else if (c == 'k') {
            key_path = optarg;
        } else if (c == 'r') {
            if (n_add >= MAX_ROOT_REVOKES ||
                !parse_revoke(optarg, &add[n_add])) {
                return usage_error("root-crl", "--revoke SERIAL[:REASON]");
            }
            n_add++;
        } else {
            return usage_error("root-crl", "unknown option");
        }
    }
    if (key_path == NULL || optind != argc) {
        return usage_error("root-crl", "--root-key FILE is required");
    }
    rc = srv_config_load(dir, &cfg);
    if (rc == WD_OK) {
        rc = srv_file_read(dir, SRV_FILE_ROOT_CERT, PEM_MAX_BYTES, &root, &len);
    }
    if (rc == WD_OK) {
        /* the key lives wherever the operator keeps it offline */
        rc = srv_file_read(NULL, key_path, PEM_MAX_BYTES, &key, &len);
    }
    if (rc == WD_OK) {
        rc = open_store(dir, &st);
    }
    if (rc == WD_OK) {
        rc = srv_root_crl_sign(dir, st, root, key, add, n_add,
                               cfg.root_crl_validity_s, time(NULL), &number);
    }
    if (rc == WD_OK) {
        printf("signed the root CRL, number %llu; send SIGHUP to a running "
               "daemon to publish it\n",
               (unsigned long long)number);
    }
    if (key != NULL) {
        gnutls_memset(key, 0, strlen(key));
    }
    free(key);
    free(root);
    store_close(st);
    srv_config_clear(&cfg);
    return rc == WD_OK ? 0 : failed("root-crl", rc);
}
