/*
 * warden serve: load the config and the CA (never the root key), open the
 * store, start both listeners (and ACME's, when configured) and wait for
 * SIGTERM or SIGINT. A data dir without a CA is initialised first, with
 * defaults.
 */
#include "srv.h"

#include <gnutls/gnutls.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* PEM files of the data dir are small; 1 MiB bounds a corrupt one. */
#define PEM_MAX_BYTES (1024 * 1024)
/* The root's CRL lists revoked intermediates: a handful of entries. */
#define ROOT_CRL_MAX_BYTES (4 * 1024 * 1024)
/* Concurrent signings: twice the cores of the machines we run on keeps
 * both busy while bounding the threads that wait on a key. */
#define SIGN_SLOTS 4
/* How often main wakes for maintenance (responder renewal, ACME's
 * expired nonces and orders). */
#define MAINTENANCE_S 60
/* How long SIGTERM waits for requests in flight: longer than a request
 * normally takes (a signing slot is waited for 10 s at most), short of
 * what a service manager allows before it kills (systemd: 90 s). */
#define DRAIN_S 10

/* The TLS identity serve reads from the data dir (the CA: srv_ca_load). */
struct ca_files {
    char *server_chain;
    char *server_key;
    size_t len;
};

static void
ca_files_free(struct ca_files *f)
{
    free(f->server_chain);
    srv_secret_free(f->server_key);
}

static enum wd_err
ca_files_read(const char *dir, struct ca_files *f)
{
    enum wd_err rc;

    rc = srv_file_read(dir, SRV_FILE_SERVER_CERT, PEM_MAX_BYTES,
                       &f->server_chain, &f->len);
    if (rc == WD_OK) {
        rc = srv_file_read_secret(dir, SRV_FILE_SERVER_KEY, PEM_MAX_BYTES,
                                  &f->server_key, &f->len);
    }
    return rc == WD_E_IO ? WD_E_NO_CA : rc;
}

/* First start on an empty dir: init with defaults and tell the operator. */
static enum wd_err
self_init(const struct srv_serve_opts *opts)
{
    static const char *const hosts[] = { "localhost", "127.0.0.1", "::1" };
    struct srv_init_opts init = {
        .dir = opts->dir,
        .keygen = PKI_KEYGEN_ECDSA_P256,
        .hosts = hosts,
        .n_hosts = sizeof(hosts) / sizeof(hosts[0]),
        .api_listen = opts->api_listen,
        .public_listen = opts->public_listen,
    };
    struct srv_config cfg;
    enum wd_err rc;

    rc = srv_init_run(&init);
    if (rc != WD_OK) {
        return rc;
    }
    srv_config_defaults(&cfg);
    /* three lines a new user can paste: a CSR, issuance, verification */
    printf("\nTry it:\n"
           "  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
           "-nodes -keyout my.key -out my.csr -subj /CN=my.svc.internal\n"
           "  curl --cacert %s/ca.crt --cert %s/admin.crt --key %s/admin.key "
           "-H 'Accept: application/pem-certificate-chain' --data-binary "
           "@my.csr -o my.crt https://%s/api/v1/certificates\n"
           "  openssl verify -CAfile %s/ca.crt -untrusted my.crt my.crt\n\n",
           opts->dir, opts->dir, opts->dir,
           opts->api_listen != NULL ? opts->api_listen : cfg.api_listen,
           opts->dir);
    fflush(stdout);
    return WD_OK;
}

/* Block the signals we handle in every thread; main waits for them. */
static void
block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* root.crl, or NULL (logged): serve goes on without the root's CRL. */
static char *
read_root_crl(const char *dir, size_t *len)
{
    char *der = NULL;

    *len = 0;
    if (srv_file_read(dir, SRV_FILE_ROOT_CRL, ROOT_CRL_MAX_BYTES, &der, len) !=
        WD_OK) {
        log_warn("event=root_crl_missing file=%s", SRV_FILE_ROOT_CRL);
        return NULL;
    }
    return der;
}

/* Start CRL and OCSP publishing with the responder the config asks for. */
static enum wd_err
start_revocation(const char *dir, struct api *api, const struct srv_config *cfg,
                 time_t *responder_not_after)
{
    struct api_revocation_cfg rcfg = {
        .crl_validity_s = cfg->crl_validity_s,
        .crl_keep_expired = cfg->crl_keep_expired,
        .ocsp_validity_s = cfg->ocsp_validity_s,
    };
    struct pki_ocsp_responder *r = NULL;
    char *root = NULL;
    size_t root_len = 0;
    enum wd_err rc;

    *responder_not_after = 0;
    if (cfg->ocsp_delegated) {
        rc = srv_ocsp_responder_ensure(dir, api->ca, api->store, cfg,
                                       time(NULL), &r);
        if (rc != WD_OK) {
            return rc;
        }
        *responder_not_after = pki_ocsp_responder_not_after(r);
    }
    root = read_root_crl(dir, &root_len);
    rc = api_revocation_start(api, &rcfg, r, (const uint8_t *)root, root_len);
    free(root);
    return rc;
}

/* ACME's parts, started in this order when acme.listen is set and
 * stopped in the reverse one. */
struct acme_parts {
    struct srv_acme_pool *pool; /* validates challenges */
    struct api_acme *acme;      /* the protocol, over api */
    struct srv_acme_http *http; /* the listener */
    char base_url[256];
};

/* Seconds one challenge check may take: a slow host, not a dead one. */
#define ACME_CHECK_TIMEOUT_S 10

/*
 * Start ACME: the validation pool, the protocol over api, the listener
 * with the API listener's TLS identity. WD_OK without doing anything when
 * acme.listen is unset. On failure what started is stopped (stop_acme).
 */
static enum wd_err
start_acme(const struct srv_config *cfg, struct api *api, struct srv_http *http,
           const struct ca_files *files, struct acme_parts *p)
{
    struct srv_acme_check_cfg check = {
        .http01_port = cfg->acme.http01_port,
        .tlsalpn01_port = cfg->acme.tlsalpn01_port,
        .timeout_s = ACME_CHECK_TIMEOUT_S,
    };
    struct api_acme_cfg acfg = {
        .base_url = p->base_url,
        .allow = (const char *const *)cfg->acme.allow,
        .n_allow = cfg->acme.n_allow,
        .eab_required = cfg->acme.eab_required,
        .orders_per_hour = cfg->acme.orders_per_hour,
        .order_lifetime_s = cfg->acme.order_lifetime_s,
        .cert_validity_s = cfg->acme.cert_validity_s,
    };
    struct srv_acme_http_cfg hcfg = {
        .tls = srv_http_tls(http),
        .listen = cfg->acme.listen,
        .tls_cert_pem = files->server_chain,
        .tls_key_pem = files->server_key,
        .tls_priorities = cfg->tls_priorities,
    };
    enum wd_err rc;

    if (cfg->acme.listen[0] == '\0') {
        return WD_OK;
    }
    srv_config_acme_base_url(cfg, p->base_url, sizeof(p->base_url));
    snprintf(check.dns_resolver, sizeof(check.dns_resolver), "%s",
             cfg->acme.dns_resolver);
    if (srv_addr_parse(cfg->acme.listen, &hcfg.addr, &hcfg.addr_len) != WD_OK) {
        log_err("event=config_invalid key=acme.listen reason=\"not "
                "ADDR:PORT\" addr=%s",
                cfg->acme.listen);
        return WD_E_CONFIG;
    }
    rc = srv_acme_pool_start(api->store, &check, cfg->acme.validation_threads,
                             &p->pool);
    if (rc == WD_OK) {
        rc = api_acme_new(api, &acfg, srv_acme_pool_submit, p->pool, &p->acme);
    }
    if (rc == WD_OK) {
        hcfg.acme = p->acme;
        rc = srv_acme_http_start(&hcfg, &p->http);
    }
    if (rc != WD_OK) {
        return rc;
    }
    log_info("event=acme_serving directory=%s/acme/directory listen=%s "
             "allow=%zu http01_port=%u tlsalpn01_port=%u",
             p->base_url, cfg->acme.listen, cfg->acme.n_allow,
             cfg->acme.http01_port, cfg->acme.tlsalpn01_port);
    return WD_OK;
}

/* Listener first (no new challenge is submitted), then the pool (no
 * check is left running), then the protocol's state. */
static void
stop_acme(struct acme_parts *p)
{
    srv_acme_http_stop(p->http);
    p->http = NULL;
    srv_acme_pool_stop(p->pool);
    p->pool = NULL;
    api_acme_free(p->acme);
    p->acme = NULL;
}

/* Renew the delegated responder at two thirds of its life. */
static void
maybe_renew_responder(const char *dir, struct api *api,
                      const struct srv_config *cfg, time_t *not_after)
{
    struct pki_ocsp_responder *r = NULL;
    time_t now = time(NULL);

    if (!cfg->ocsp_delegated ||
        *not_after - now >= (time_t)(cfg->ocsp_responder_validity_s / 3)) {
        return;
    }
    if (srv_ocsp_responder_ensure(dir, api->ca, api->store, cfg, now, &r) !=
        WD_OK) {
        log_err("event=ocsp_responder_renew_failed retry=next_tick");
        return;
    }
    *not_after = pki_ocsp_responder_not_after(r);
    api_ocsp_responder_set(api, r);
}

/*
 * Run the daemon until SIGTERM or SIGINT; then stop accepting, let
 * in-flight requests finish (DRAIN_S at most), close the store. SIGHUP
 * reloads warden.conf's policy, the TLS identity and root.crl. WD_OK on a
 * clean stop.
 */
enum wd_err
srv_serve_run(const struct srv_serve_opts *opts)
{
    struct srv_config cfg = { 0 };
    struct ca_files files = { 0 };
    struct pki_ca *ca = NULL;
    struct store *st = NULL;
    struct srv_http *http = NULL;
    struct srv_http_cfg hcfg = { 0 };
    struct api api = { 0 };
    struct srv_live *live = NULL;
    struct acme_parts acme = { 0 };
    char public_url[256];
    char db[4096];
    sigset_t set;
    int sig = 0;
    time_t responder_not_after = 0;
    sem_t sign_slots;
    enum wd_err rc;

    block_signals(&set);
    if (!srv_file_exists(opts->dir, SRV_FILE_CONFIG) &&
        !srv_file_exists(opts->dir, SRV_FILE_ROOT_CERT)) {
        rc = self_init(opts);
        if (rc != WD_OK) {
            goto out;
        }
    }
    /* before reading anything from it: nobody else may write there */
    rc = srv_dir_check(opts->dir);
    if (rc == WD_OK) {
        rc = srv_config_load(opts->dir, &cfg);
    }
    if (rc != WD_OK) {
        goto out;
    }
    srv_config_override(&cfg, opts->api_listen, opts->public_listen, NULL);
    rc = srv_config_acme_override(&cfg, opts);
    if (rc != WD_OK) {
        goto out;
    }
    srv_config_public_url(&cfg, public_url, sizeof(public_url));
    if (srv_addr_parse(cfg.api_listen, &hcfg.api_addr, &hcfg.api_addr_len) !=
            WD_OK ||
        srv_addr_parse(cfg.public_listen, &hcfg.public_addr,
                       &hcfg.public_addr_len) != WD_OK) {
        log_err("event=config_invalid reason=\"listen address is not "
                "ADDR:PORT\" api=%s public=%s",
                cfg.api_listen, cfg.public_listen);
        rc = WD_E_CONFIG;
        goto out;
    }
    rc = srv_ca_load(opts->dir, &cfg, public_url, &ca);
    if (rc == WD_OK) {
        rc = ca_files_read(opts->dir, &files);
    }
    if (rc != WD_OK) {
        goto out;
    }
    snprintf(db, sizeof(db), "%s/%s", opts->dir, SRV_FILE_DB);
    rc = store_open(db, &st);
    if (rc != WD_OK) {
        goto out;
    }
    api.store = st;
    api.ca = ca;
    /* at most SIGN_SLOTS private-key operations at once */
    sem_init(&sign_slots, 0, SIGN_SLOTS);
    api.sign_slots = &sign_slots;
    api.metrics = api_metrics_new(st);
    /* api.cfg stays empty: each request gets the live snapshot's, which
     * SIGHUP replaces (srv_live.c); cfg keeps what only a restart changes */
    live = srv_live_new(&cfg);
    hcfg.api = &api;
    hcfg.config = &cfg;
    hcfg.live = live;
    hcfg.tls_cert_pem = files.server_chain;
    hcfg.tls_key_pem = files.server_key;
    hcfg.trust_pem = pki_ca_chain_pem(ca);
    hcfg.tls_priorities = cfg.tls_priorities;
    rc = start_revocation(opts->dir, &api, &cfg, &responder_not_after);
    if (rc != WD_OK) {
        goto out;
    }
    rc = srv_http_start(&hcfg, &http);
    if (rc == WD_OK) {
        rc = start_acme(&cfg, &api, http, &files, &acme);
    }
    if (rc != WD_OK) {
        goto out;
    }
    log_info("event=serving api=https://%s public=http://%s public_url=%s "
             "key_type=%s",
             cfg.api_listen, cfg.public_listen, public_url,
             pki_ca_key_type(ca));
    srv_notify_ready(cfg.api_listen, cfg.public_listen);
    for (;;) {
        struct timespec tick = { .tv_sec = MAINTENANCE_S };

        sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            break;
        }
        if (sig == SIGHUP) {
            size_t len;
            char *der;

            srv_reload_run(opts, &cfg, live, http);
            der = read_root_crl(opts->dir, &len);
            api_root_crl_set(&api, (const uint8_t *)der, len);
            free(der);
        }
        maybe_renew_responder(opts->dir, &api, &cfg, &responder_not_after);
        if (acme.acme != NULL) {
            api_acme_maintain(acme.acme, (int64_t)time(NULL));
        }
    }
    log_info("event=stopping signal=%d", sig);
    srv_notify_stopping();
    srv_acme_http_drain(acme.http, DRAIN_S);
    srv_http_drain(http, DRAIN_S);
out:
    /* before srv_http_stop: the ACME listener borrows its TLS identity */
    stop_acme(&acme);
    srv_http_stop(http);
    srv_live_free(live);
    api_revocation_stop(&api);
    api_metrics_free(api.metrics);
    store_close(st);
    pki_ca_free(ca);
    ca_files_free(&files);
    srv_config_clear(&cfg);
    if (api.sign_slots != NULL) {
        sem_destroy(api.sign_slots);
    }
    if (rc == WD_OK) {
        log_info("event=stopped");
    }
    return rc;
}
