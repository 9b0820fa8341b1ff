/*
 * The intermediate's key on the host: the one path by which serve and
 * `warden crl` load the CA (srv_ca_load), with the data dir and key files
 * checked for other users' access, the passphrase of an encrypted key (or
 * a token's PIN) read from a file or an environment variable named in
 * warden.conf and wiped after use; and `warden key-import`, which moves
 * intermediate.key into a PKCS#11 token. The key itself is only ever
 * handled by pki_signer.c.
 */
#include "srv.h"

#include <getopt.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xmalloc.h"

/* PEM files of the data dir are small; 1 MiB bounds a corrupt one. */
#define PEM_MAX_BYTES (1024 * 1024)
/* A passphrase or PIN is a line of text; 4 KiB is plenty. */
#define PASSPHRASE_MAX_BYTES 4096
/* The label the intermediate's key gets in a token. */
#define TOKEN_LABEL "warden-intermediate"

/*
 * The passphrase (or PIN) warden.conf points at, without one trailing
 * newline, or NULL when none is configured. WD_E_CONFIG (logged) for an
 * unset variable or an empty passphrase, WD_E_KEY_UNPROTECTED for a file
 * others may read. Caller wipes and frees *out.
 */
static enum wd_err
passphrase_read(const char *dir, const struct srv_config *cfg, char **out)
{
    const char *file = cfg->passphrase_file;
    char *pass = NULL;
    size_t len = 0;
    enum wd_err rc = WD_OK;

    *out = NULL;
    if (file[0] != '\0') {
        rc = srv_file_read_secret(file[0] == '/' ? NULL : dir, file,
                                  PASSPHRASE_MAX_BYTES, &pass, &len);
    } else if (cfg->passphrase_env[0] != '\0') {
        const char *env = getenv(cfg->passphrase_env);

        if (env == NULL) {
            log_err("event=passphrase_missing env=%s reason=\"the "
                    "environment variable intermediate_key_passphrase_env "
                    "names is not set\"",
                    cfg->passphrase_env);
            return WD_E_CONFIG;
        }
        pass = xstrdup(env);
        len = strlen(pass);
    } else {
        return WD_OK;
    }
    if (rc != WD_OK) {
        return rc;
    }
    if (len > 0 && pass[len - 1] == '\n') {
        pass[--len] = '\0';
    }
    if (len == 0 || strlen(pass) != len) {
        log_err("event=passphrase_invalid reason=\"empty, or holds a NUL "
                "byte\"");
        srv_secret_free(pass);
        return WD_E_CONFIG;
    }
    *out = pass;
    return WD_OK;
}

/* The configured PKCS#11 module, or NULL for p11-kit's. */
static const char *
module_of(const struct srv_config *cfg)
{
    return cfg->pkcs11_module[0] != '\0' ? cfg->pkcs11_module : NULL;
}

/*
 * Load the CA from dir as cfg says; see srv.h. Every secret read here is
 * wiped before it is freed, whatever the outcome.
 */
enum wd_err
srv_ca_load(const char *dir, const struct srv_config *cfg,
            const char *public_url, struct pki_ca **out)
{
    bool token = cfg->intermediate_key[0] != '\0';
    char *root = NULL;
    char *inter = NULL;
    char *key = NULL;
    char *pass = NULL;
    size_t len;
    enum wd_err rc;

    rc = srv_dir_check(dir);
    if (rc != WD_OK) {
        return rc;
    }
    rc = srv_file_read(dir, SRV_FILE_ROOT_CERT, PEM_MAX_BYTES, &root, &len);
    if (rc == WD_OK) {
        rc = srv_file_read(dir, SRV_FILE_INTERMEDIATE_CERT, PEM_MAX_BYTES,
                           &inter, &len);
    }
    if (rc == WD_OK && !token) {
        rc = srv_file_read_secret(dir, SRV_FILE_INTERMEDIATE_KEY, PEM_MAX_BYTES,
                                  &key, &len);
    }
    if (rc == WD_E_IO) {
        rc = WD_E_NO_CA;
    }
    if (rc == WD_OK) {
        rc = passphrase_read(dir, cfg, &pass);
    }
    if (rc == WD_OK && token) {
        rc = pki_pkcs11_init(module_of(cfg));
    }
    if (rc == WD_OK) {
        rc = pki_ca_load(
            &(struct pki_ca_cfg){
                .root_pem = root,
                .intermediate_pem = inter,
                .intermediate_key_pem = key,
                .intermediate_key_url = token ? cfg->intermediate_key : NULL,
                .intermediate_key_passphrase = pass,
                .public_url = public_url,
            },
            out);
    }
    if (rc == WD_OK) {
        log_info("event=ca_key_loaded source=%s encrypted=%s",
                 token ? "pkcs11" : SRV_FILE_INTERMEDIATE_KEY,
                 !token && pass != NULL ? "yes" : "no");
    }
    srv_secret_free(pass);
    srv_secret_free(key);
    free(root);
    free(inter);
    return rc;
}

/* Into the token, then proven usable, then the config, then the file. */
static enum wd_err
key_import(const char *dir, const char *token_url, const char *module)
{
    struct srv_config cfg = { 0 };
    struct pki_ca *ca = NULL;
    char public_url[256];
    char *key = NULL;
    char *pass = NULL;
    char *key_url = NULL;
    size_t len;
    enum wd_err rc;

    rc = srv_dir_check(dir);
    if (rc == WD_OK) {
        rc = srv_config_load(dir, &cfg);
    }
    if (rc != WD_OK) {
        goto out;
    }
    if (cfg.intermediate_key[0] != '\0') {
        log_err("event=key_import_refused reason=\"warden.conf already "
                "points intermediate_key at a token\"");
        rc = WD_E_CONFIG;
        goto out;
    }
    if (module == NULL) {
        module = module_of(&cfg);
    }
    rc = srv_file_read_secret(dir, SRV_FILE_INTERMEDIATE_KEY, PEM_MAX_BYTES,
                              &key, &len);
    if (rc == WD_OK) {
        rc = passphrase_read(dir, &cfg, &pass);
    }
    if (rc == WD_OK) {
        rc = pki_pkcs11_init(module);
    }
    if (rc == WD_OK) {
        /* the same passphrase answers the token's PIN prompt, unless the
         * URL carries pin-value or pin-source */
        rc = pki_pkcs11_key_import(key, pass, token_url, pass, TOKEN_LABEL,
                                   &key_url);
    }
    if (rc != WD_OK) {
        goto out;
    }
    if (strlen(key_url) >= sizeof(cfg.intermediate_key)) {
        log_err("event=key_import_failed reason=\"the key's URL is too long "
                "for warden.conf\"");
        rc = WD_E_CONFIG;
        goto out;
    }
    /* serve's own loading path, before anything on disk changes */
    snprintf(cfg.intermediate_key, sizeof(cfg.intermediate_key), "%s", key_url);
    srv_config_public_url(&cfg, public_url, sizeof(public_url));
    rc = srv_ca_load(dir, &cfg, public_url, &ca);
    if (rc == WD_OK) {
        rc = srv_config_set_key(dir, key_url, module);
    }
    if (rc == WD_OK) {
        rc = srv_file_wipe(dir, SRV_FILE_INTERMEDIATE_KEY);
    }
    if (rc == WD_OK) {
        log_info("event=key_imported label=%s", TOKEN_LABEL);
    }
out:
    pki_ca_free(ca);
    srv_secret_free(key_url);
    srv_secret_free(pass);
    srv_secret_free(key);
    srv_config_clear(&cfg);
    return rc;
}

/*
 * warden key-import [--dir D] --pkcs11-url URL [--pkcs11-module PATH]:
 * write intermediate.key into the token URL names (PIN in the URL's
 * pin-value or pin-source, or the configured passphrase), check that the
 * CA loads from there, point warden.conf at it, then overwrite and remove
 * intermediate.key. Returns the exit status.
 */
int
srv_cmd_key_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "pkcs11-url", required_argument, NULL, 'u' },
        { "pkcs11-module", required_argument, NULL, 'm' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = srv_default_dir();
    const char *url = NULL;
    const char *module = NULL;
    enum wd_err rc;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd') {
            dir = optarg;
        } else if (c == 'u') {
            url = optarg;
        } else if (c == 'm') {
            module = optarg;
        } else {
            fprintf(stderr, "warden key-import: unknown option (see warden "
                            "help)\n");
            return 2;
        }
    }
    if (optind != argc || url == NULL || strncmp(url, "pkcs11:", 7) != 0) {
        fprintf(stderr, "warden key-import: give --pkcs11-url pkcs11:... "
                        "and no positional arguments (see warden help)\n");
        return 2;
    }
    rc = key_import(dir, url, module);
    if (rc != WD_OK) {
        fprintf(stderr, "warden key-import: %s (see the log lines above)\n",
                wd_err_str(rc));
        return 1;
    }
    printf("the intermediate key is in the token; %s points at it; %s was "
           "overwritten and removed (best effort: a journaling or "
           "copy-on-write file system, an SSD or a backup may keep old "
           "copies)\n",
           SRV_FILE_CONFIG, SRV_FILE_INTERMEDIATE_KEY);
    return 0;
}
