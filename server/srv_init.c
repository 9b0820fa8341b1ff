/*
 * warden init: create a CA in a data dir. pki_ca_create makes the keys and
 * certificates; this file writes them with the right modes, records the
 * two certificates it issued (daemon, admin) in a new store, and writes
 * warden.conf last. It refuses to touch a dir that holds any CA file.
 */
#include "srv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/log.h"
#include "base/xmalloc.h"

static const char *const ca_files[] = {
    SRV_FILE_ROOT_CERT,
    SRV_FILE_ROOT_KEY,
    SRV_FILE_INTERMEDIATE_CERT,
    SRV_FILE_INTERMEDIATE_KEY,
    SRV_FILE_SERVER_CERT,
    SRV_FILE_SERVER_KEY,
    SRV_FILE_ADMIN_CERT,
    SRV_FILE_ADMIN_KEY,
    SRV_FILE_CONFIG,
    SRV_FILE_DB,
    SRV_FILE_OCSP_CERT,
    SRV_FILE_OCSP_KEY,
    SRV_FILE_ROOT_CRL,
};

/* True if dir holds any file init would write. */
bool
srv_init_exists(const char *dir)
{
    size_t i;

    for (i = 0; i < sizeof(ca_files) / sizeof(ca_files[0]); i++) {
        if (srv_file_exists(dir, ca_files[i])) {
            return true;
        }
    }
    return false;
}

static enum wd_err
write_pem(const char *dir, const char *name, const char *pem, unsigned mode)
{
    return srv_file_create(dir, name, pem, strlen(pem), mode);
}

/* server.crt holds the leaf and the intermediate: the chain TLS sends. */
static enum wd_err
write_server_chain(const char *dir, const struct pki_ca_new *ca)
{
    size_t leaf = strlen(ca->server->pem);
    size_t inter = strlen(ca->intermediate_pem);
    char *chain = xmalloc(leaf + inter + 1);
    enum wd_err rc;

    memcpy(chain, ca->server->pem, leaf);
    memcpy(chain + leaf, ca->intermediate_pem, inter + 1);
    rc = srv_file_create(dir, SRV_FILE_SERVER_CERT, chain, leaf + inter, 0644);
    free(chain);
    return rc;
}

static enum wd_err
write_files(const char *dir, const struct pki_ca_new *ca)
{
    enum wd_err rc;

    rc = write_pem(dir, SRV_FILE_ROOT_KEY, ca->root_key_pem, 0600);
    if (rc == WD_OK) {
        rc = write_pem(dir, SRV_FILE_ROOT_CERT, ca->root_pem, 0644);
    }
    if (rc == WD_OK) {
        rc = write_pem(dir, SRV_FILE_INTERMEDIATE_KEY, ca->intermediate_key_pem,
                       0600);
    }
    if (rc == WD_OK) {
        rc = write_pem(dir, SRV_FILE_INTERMEDIATE_CERT, ca->intermediate_pem,
                       0644);
    }
    if (rc == WD_OK) {
        rc = write_pem(dir, SRV_FILE_SERVER_KEY, ca->server_key_pem, 0600);
    }
    if (rc == WD_OK) {
        rc = write_server_chain(dir, ca);
    }
    if (rc == WD_OK) {
        rc = write_pem(dir, SRV_FILE_ADMIN_KEY, ca->admin_key_pem, 0600);
    }
    if (rc == WD_OK) {
        rc = write_pem(dir, SRV_FILE_ADMIN_CERT, ca->admin->pem, 0644);
    }
    return rc;
}

/*
 * The new store: the daemon's and the admin's certificates, the root's
 * first (empty) CRL signed while the root key is at hand, and the
 * delegated OCSP responder.
 */
static enum wd_err
populate(const char *dir, const struct pki_ca_new *made,
         const struct srv_config *cfg, const char *public_url, time_t now)
{
    char path[4096];
    struct store *st = NULL;
    struct pki_ca *ca = NULL;
    struct pki_ocsp_responder *r = NULL;
    struct pki_ca_cfg ca_cfg = {
        .root_pem = made->root_pem,
        .intermediate_pem = made->intermediate_pem,
        .intermediate_key_pem = made->intermediate_key_pem,
        .public_url = public_url,
    };
    uint64_t number;
    enum wd_err rc;

    snprintf(path, sizeof(path), "%s/%s", dir, SRV_FILE_DB);
    rc = store_open(path, &st);
    if (rc == WD_OK) {
        rc = api_cert_record(st, made->server, "init", now);
    }
    if (rc == WD_OK) {
        rc = api_cert_record(st, made->admin, "init", now);
    }
    if (rc == WD_OK) {
        rc = srv_root_crl_sign(dir, st, made->root_pem, made->root_key_pem,
                               NULL, 0, cfg->root_crl_validity_s, now, &number);
    }
    if (rc == WD_OK) {
        rc = pki_ca_load(&ca_cfg, &ca);
    }
    if (rc == WD_OK) {
        rc = srv_ocsp_responder_ensure(dir, ca, st, cfg, now, &r);
    }
    pki_ocsp_responder_free(r);
    pki_ca_free(ca);
    store_close(st);
    return rc;
}

static void
print_summary(const struct srv_init_opts *opts, const struct pki_ca_new *ca)
{
    printf("Created a %s CA in %s\n", pki_keygen_name(opts->keygen), opts->dir);
    printf("  trust anchor (give to clients):  %s/%s\n", opts->dir,
           SRV_FILE_ROOT_CERT);
    printf("  admin identity:                  %s/%s and %s/%s (serial %s)\n",
           opts->dir, SRV_FILE_ADMIN_CERT, opts->dir, SRV_FILE_ADMIN_KEY,
           ca->admin->serial);
    printf("  root private key:                %s/%s\n", opts->dir,
           SRV_FILE_ROOT_KEY);
    printf("The daemon never reads %s: move it offline now (it is only "
           "needed to re-sign the root CRL or a new intermediate).\n",
           SRV_FILE_ROOT_KEY);
}

static enum wd_err
make_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_err("event=init_failed path=%s err=\"%s\"", dir, strerror(errno));
        return WD_E_IO;
    }
    return WD_OK;
}

/*
 * Create a CA in opts->dir. WD_E_CA_EXISTS if the dir holds any CA file;
 * otherwise every file is written fsync'd, warden.conf last.
 */
enum wd_err
srv_init_run(const struct srv_init_opts *opts)
{
    struct pki_ca_new ca = { 0 };
    struct srv_config cfg;
    struct pki_ca_new_opts copts = { 0 };
    char public_url[256];
    char *conf = NULL;
    enum wd_err rc;

    if (srv_init_exists(opts->dir)) {
        log_err("event=init_refused dir=%s reason=ca_exists", opts->dir);
        return WD_E_CA_EXISTS;
    }
    srv_config_defaults(&cfg);
    srv_config_override(&cfg, opts->api_listen, opts->public_listen,
                        opts->public_url);
    srv_config_public_url(&cfg, public_url, sizeof(public_url));
    rc = make_dir(opts->dir);
    if (rc != WD_OK) {
        goto out;
    }
    copts.name = opts->name;
    copts.keygen = opts->keygen;
    copts.hosts = opts->hosts;
    copts.n_hosts = opts->n_hosts;
    copts.public_url = public_url;
    copts.now = time(NULL);
    rc = pki_ca_create(&copts, &ca);
    if (rc != WD_OK) {
        goto out;
    }
    rc = write_files(opts->dir, &ca);
    if (rc != WD_OK) {
        goto out;
    }
    rc = populate(opts->dir, &ca, &cfg, public_url, copts.now);
    if (rc != WD_OK) {
        goto out;
    }
    /* the bootstrap admin, recognised by its certificate's hash */
    cfg.policy.admins = xcalloc(1, sizeof(*cfg.policy.admins));
    cfg.policy.n_admins = 1;
    snprintf(cfg.policy.admins[0].name, sizeof(cfg.policy.admins[0].name),
             "admin");
    cfg.policy.admins[0].match.kind = API_MATCH_FINGERPRINT;
    snprintf(cfg.policy.admins[0].match.value,
             sizeof(cfg.policy.admins[0].match.value), "%s",
             ca.admin->fingerprint);
    conf = srv_config_dump(&cfg);
    rc = srv_file_create(opts->dir, SRV_FILE_CONFIG, conf, strlen(conf), 0640);
    if (rc == WD_OK) {
        rc = srv_dir_sync(opts->dir);
    }
    if (rc == WD_OK) {
        log_info("event=ca_created dir=%s key_type=%s admin_serial=%s",
                 opts->dir, pki_keygen_name(opts->keygen), ca.admin->serial);
        if (!opts->quiet) {
            print_summary(opts, &ca);
        }
    }
out:
    free(conf);
    srv_config_clear(&cfg);
    pki_ca_new_clear(&ca);
    return rc;
}
