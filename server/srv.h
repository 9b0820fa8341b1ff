/*
 * The daemon and its CLI: configuration, data-dir files, init, serve and
 * the two libmicrohttpd listeners. Everything below (api, pki, store) is
 * reached from here; nothing below includes this header.
 */
#ifndef WD_SRV_H
#define WD_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <sys/socket.h>

#include "../api/api.h"
#include "base/err.h"
#include "pki/pki.h"
#include "../store/store.h"

#define SRV_DEFAULT_DIR "./warden-data"
#define SRV_DEFAULT_API_LISTEN "127.0.0.1:8443"
#define SRV_DEFAULT_PUBLIC_LISTEN "127.0.0.1:8080"
/* TLS 1.2 and 1.3 only; AEAD ciphers with ECDHE: no CBC, no RSA key
 * transport, no SHA-1 (or SHA-224) signatures. */
#define SRV_DEFAULT_TLS_PRIORITIES                                             \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"                  \
    "+CHACHA20-POLY1305:+AES-256-GCM:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:"     \
    "+ECDHE-ECDSA:+ECDHE-RSA:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:"                 \
    "-SIGN-DSA-SHA1:-SIGN-RSA-SHA224:-SIGN-ECDSA-SHA224"
/* TLS 1.2 and 1.3 only; AEAD ciphers with ECDHE: no CBC, no RSA key
 * transport, no SHA-1 (or SHA-224) signatures. */
#define SRV_DEFAULT_TLS_PRIORITIES                                             \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"                  \
    "+CHACHA20-POLY1305:+AES-256-GCM:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:"     \
    "+ECDHE-ECDSA:+ECDHE-RSA:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:"                 \
    "-SIGN-DSA-SHA1:-SIGN-RSA-SHA224:-SIGN-ECDSA-SHA224"

/* Files of the data dir that tools rely on (PRODUCT.md). */
#define SRV_FILE_ROOT_CERT "ca.crt"
#define SRV_FILE_ROOT_KEY "root.key"
#define SRV_FILE_INTERMEDIATE_CERT "intermediate.crt"
#define SRV_FILE_INTERMEDIATE_KEY "intermediate.key"
#define SRV_FILE_SERVER_CERT "server.crt"
#define SRV_FILE_SERVER_KEY "server.key"
#define SRV_FILE_ADMIN_CERT "admin.crt"
#define SRV_FILE_ADMIN_KEY "admin.key"
#define SRV_FILE_OCSP_CERT "ocsp.crt"
#define SRV_FILE_OCSP_KEY "ocsp.key"
#define SRV_FILE_ROOT_CRL "root.crl"
#define SRV_FILE_CONFIG "warden.conf"
#define SRV_FILE_DB "warden.db"

/* Most entries of warden.conf's acme.allow (and of --acme-allow). */
#define SRV_ACME_MAX_ALLOW 256

/* warden.conf's "acme" object: RFC 8555 on a listener of its own. */
struct srv_acme_config {
    char listen[128];   /* ADDR:PORT; "" = ACME is off */
    char base_url[256]; /* "https://..."; "" = https://<listen> */
    /* identifiers ACME may issue for: a DNS name (it and every name
     * below it) or an IP address or range; owned */
    char **allow;
    size_t n_allow;
    bool eab_required;           /* newAccount needs an EAB key */
    unsigned orders_per_hour;    /* per account; 0 = no limit */
    uint64_t order_lifetime_s;   /* a pending order's life */
    uint64_t cert_validity_s;    /* <= the server profile's max_validity */
    unsigned http01_port;        /* where http-01 is fetched: 1..65535 */
    unsigned tlsalpn01_port;     /* where tls-alpn-01 is checked */
    char dns_resolver[64];       /* ADDR:PORT for dns-01; "" = libc's */
    unsigned validation_threads; /* challenges checked at once */
};

/* warden.conf, parsed (srv_config.c). */
struct srv_config {
    char api_listen[128]; /* ADDR:PORT or [V6]:PORT */
    char public_listen[128];
    char public_url[256]; /* "" = http://<public_listen> */
    uint64_t default_validity_s;
    uint64_t max_validity_s;
    int64_t expiring_window_s;
    uint64_t crl_validity_s;  /* CRL nextUpdate - thisUpdate */
    bool crl_keep_expired;    /* keep expired revoked certs listed */
    uint64_t ocsp_validity_s; /* OCSP response validity */
    bool ocsp_delegated;      /* sign OCSP with ocsp.crt, else the CA */
    uint64_t ocsp_responder_validity_s; /* life of ocsp.crt */
    uint64_t root_crl_validity_s;       /* root CRL nextUpdate window */
    char tls_priorities[512]; /* GnuTLS priority string, API listener */
    unsigned max_sans;        /* SANs per CSR, 1..WD_MAX_SANS */
    /* the intermediate's key: "" = the data dir's intermediate.key, else
     * an RFC 7512 PKCS#11 URL */
    char intermediate_key[1024];
    char pkcs11_module[512]; /* "" = the modules p11-kit knows */
    /* where the key's passphrase (or the token's PIN) comes from: a file
     * (relative to the data dir unless absolute) or an environment
     * variable; at most one, "" = none */
    char passphrase_file[512];
    char passphrase_env[128];
    struct api_policy policy; /* admins, readers, grants, profiles */
    struct srv_acme_config acme;
};

/* Defaults for every key (what init writes). */
void srv_config_defaults(struct srv_config *cfg);

/* Free what the config owns (its policy). */
void srv_config_clear(struct srv_config *cfg);

/* The policy keys of warden.conf (srv_policy.c). */
enum wd_err srv_policy_parse(json_t *profiles, json_t *admins, json_t *readers,
                             json_t *grants, uint64_t default_validity_s,
                             uint64_t max_validity_s, struct api_policy *p);
json_t *srv_policy_admins_json(const struct api_policy *p);

/* Read dir/warden.conf over the defaults; WD_E_CONFIG with a logged cause. */
enum wd_err srv_config_load(const char *dir, struct srv_config *cfg);

/* The config as JSON text (for init); caller frees. */
char *srv_config_dump(const struct srv_config *cfg);

/* Command-line values over the config's; NULL leaves a key as it is. */
void srv_config_override(struct srv_config *cfg, const char *api_listen,
                         const char *public_listen, const char *public_url);

/* "http://" + public_listen unless public_url is set. */
void srv_config_public_url(const struct srv_config *cfg, char *out,
                           size_t outsz);

/* Parse "127.0.0.1:8443" or "[::1]:8443" (numeric only). */
enum wd_err srv_addr_parse(const char *text, struct sockaddr_storage *out,
                           socklen_t *len);

/* Data-dir files (srv_files.c). */
enum wd_err srv_file_read(const char *dir, const char *name, size_t max,
                          char **out, size_t *len);
enum wd_err srv_file_create(const char *dir, const char *name, const void *data,
                            size_t len, unsigned mode);
enum wd_err srv_file_replace(const char *dir, const char *name,
                             const void *data, size_t len, unsigned mode);
enum wd_err srv_file_read_secret(const char *dir, const char *name, size_t max,
                                 char **out, size_t *len);
enum wd_err srv_dir_check(const char *dir);
enum wd_err srv_file_wipe(const char *dir, const char *name);
bool srv_file_exists(const char *dir, const char *name);
void srv_secret_free(char *s); /* wipe (gnutls_memset) and free */
enum wd_err srv_dir_sync(const char *dir);

struct srv_init_opts {
    const char *dir;
    const char *name;
    enum pki_keygen keygen;
    const char *const *hosts;
    size_t n_hosts;
    const char *api_listen;    /* NULL = default */
    const char *public_listen; /* NULL = default */
    const char *public_url;    /* NULL = derived from public_listen */
    bool quiet;                /* no summary on stdout */
};

/* Does dir hold any file of a CA (so init must refuse)? */
bool srv_init_exists(const char *dir);

/* warden init: create a CA in opts->dir (srv_init.c). */
enum wd_err srv_init_run(const struct srv_init_opts *opts);

struct srv_serve_opts {
    const char *dir;
    const char *api_listen;    /* NULL = from the config */
    const char *public_listen; /* NULL = from the config */
    /* ACME: NULL or 0 = from the config's "acme" */
    const char *acme_listen;
    const char *acme_allow; /* comma-separated, replaces acme.allow */
    unsigned acme_http01_port;
    unsigned acme_tlsalpn01_port;
    const char *acme_dns_resolver;
};

/*
 * serve's --acme-* flags over the config's "acme" (srv_config.c), then the
 * checks that need both: an enabled ACME needs an allow list. WD_E_CONFIG
 * (logged) for a value that is not usable.
 */
enum wd_err srv_config_acme_override(struct srv_config *cfg,
                                     const struct srv_serve_opts *opts);

/* The ACME base URL: acme.base_url, else "https://" + acme.listen; no
 * trailing slash. */
void srv_config_acme_base_url(const struct srv_config *cfg, char *out,
                              size_t outsz);

/* warden serve: run until SIGTERM or SIGINT (srv_serve.c). */
enum wd_err srv_serve_run(const struct srv_serve_opts *opts);

/* Readiness for systemd Type=notify (srv_notify.c): READY=1 once both
 * listeners are up, STOPPING=1 when shutdown begins; no-ops without
 * $NOTIFY_SOCKET. */
void srv_notify_ready(const char *api_listen, const char *public_listen);
void srv_notify_stopping(void);

/*
 * What SIGHUP reloads of warden.conf (srv_live.c): the policy and limits
 * as immutable, reference-counted snapshots. A request holds the one
 * current at its start until its end; srv_live_swap makes a new one
 * current, taking over cfg's policy.
 */
struct srv_live;
struct srv_live_cfg;

struct srv_live *srv_live_new(struct srv_config *cfg);
void srv_live_free(struct srv_live *l);
struct srv_live_cfg *srv_live_cfg_ref(struct srv_live *l);
void srv_live_cfg_unref(struct srv_live_cfg *c);
const struct api_cfg *srv_live_cfg_api(const struct srv_live_cfg *c);
void srv_live_swap(struct srv_live *l, struct srv_config *cfg);

/*
 * The API listener's TLS identity, replaceable while it runs (srv_tls.c):
 * each connection holds a reference to the credentials current when it
 * was accepted until it closes.
 */
struct srv_tls;
struct srv_tls_cred;

enum wd_err srv_tls_new(const char *cert_pem, const char *key_pem,
                        const char *trust_pem, struct srv_tls **out);
void srv_tls_free(struct srv_tls *t);
enum wd_err srv_tls_reload(struct srv_tls *t, const char *cert_pem,
                           const char *key_pem);
struct srv_tls_cred *srv_tls_cred_ref(struct srv_tls *t);
void srv_tls_cred_unref(struct srv_tls_cred *c);
bool srv_tls_cred_apply(const struct srv_tls_cred *c, gnutls_session_t session);
bool srv_tls_tickets_enable(const struct srv_tls *t, gnutls_session_t session);

/* The listeners (srv_http.c). */
struct srv_http;

struct srv_http_cfg {
    struct api *api;                 /* borrowed */
    const struct srv_config *config; /* borrowed: the listen addresses */
    struct srv_live *live;           /* borrowed: the policy and limits */
    struct sockaddr_storage api_addr;
    socklen_t api_addr_len;
    struct sockaddr_storage public_addr;
    socklen_t public_addr_len;
    const char *tls_cert_pem; /* server cert + intermediate */
    const char *tls_key_pem;
    const char *trust_pem;      /* intermediate + root */
    const char *tls_priorities; /* GnuTLS priority string */
};

enum wd_err srv_http_start(const struct srv_http_cfg *cfg,
                           struct srv_http **out);
void srv_http_stop(struct srv_http *http);

/*
 * Graceful shutdown's first half: stop accepting on both listeners (a
 * new connection is refused), serve what was already accepted, and wait
 * up to wait_s for every request in flight to complete. srv_http_stop
 * then closes what is left (idle keep-alive connections).
 */
void srv_http_drain(struct srv_http *http, unsigned wait_s);

/* New connections of the API listener use this certificate and key. */
enum wd_err srv_http_tls_reload(struct srv_http *http, const char *cert_pem,
                                const char *key_pem);

/* The API listener's TLS identity, lent to the ACME listener so that a
 * reload renews both; valid until srv_http_stop. */
struct srv_tls *srv_http_tls(struct srv_http *http);

/* The ACME listener (srv_acme_http.c): HTTPS without client certificates,
 * every request handed to api_acme_handle. */
struct srv_acme_http;

struct srv_acme_http_cfg {
    struct api_acme *acme; /* borrowed */
    struct srv_tls *tls;   /* borrowed: srv_http_tls */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    const char *listen;       /* ADDR:PORT, for the log */
    const char *tls_cert_pem; /* server cert + intermediate */
    const char *tls_key_pem;
    const char *tls_priorities; /* GnuTLS priority string */
};

enum wd_err srv_acme_http_start(const struct srv_acme_http_cfg *cfg,
                                struct srv_acme_http **out);
void srv_acme_http_drain(struct srv_acme_http *h, unsigned wait_s);
void srv_acme_http_stop(struct srv_acme_http *h);

/* SIGHUP: reload warden.conf's policy and limits into live and the TLS
 * identity into http; what fails to load is logged and kept (srv_reload.c). */
void srv_reload_run(const struct srv_serve_opts *opts,
                    const struct srv_config *run, struct srv_live *live,
                    struct srv_http *http);

/*
 * The delegated OCSP responder (srv_ocsp.c): load ocsp.crt/ocsp.key, or
 * issue (and record in the store) a fresh pair when they are missing,
 * unusable or past two thirds of their life. Caller owns *out.
 */
enum wd_err srv_ocsp_responder_ensure(const char *dir, const struct pki_ca *ca,
                                      struct store *st,
                                      const struct srv_config *cfg, time_t now,
                                      struct pki_ocsp_responder **out);

/* Is the responder past two thirds of its life (time to renew)? */
bool srv_ocsp_responder_due(const struct pki_ocsp_responder *r,
                            const struct srv_config *cfg, time_t now);

/* One entry for the root's CRL (srv_root_crl.c). */
struct srv_root_revocation {
    const char *serial;
    int reason;
};

/*
 * Sign the root's CRL with the root key: the entries of the current
 * root.crl (if any) plus add[], a new number from the store, written
 * atomically to dir/root.crl.
 */
enum wd_err srv_root_crl_sign(const char *dir, struct store *st,
                              const char *root_pem, const char *root_key_pem,
                              const struct srv_root_revocation *add,
                              size_t n_add, uint64_t validity_s, time_t now,
                              uint64_t *number);

/*
 * The CA as serve and `warden crl` load it (srv_keys.c): the data dir
 * checked, the intermediate's key from intermediate.key (decrypted with
 * the configured passphrase) or from a PKCS#11 token, the passphrase
 * wiped after use. Caller owns *out (pki_ca_free). WD_E_KEY_UNPROTECTED
 * (logged) for a key, passphrase file or data dir open to others,
 * WD_E_CONFIG for a missing or wrong passphrase or PIN;
 * WD_E_NO_CA if a CA file is missing.
 */
enum wd_err srv_ca_load(const char *dir, const struct srv_config *cfg,
                        const char *public_url, struct pki_ca **out);

/* warden key-import: the intermediate's key into a PKCS#11 token. */
int srv_cmd_key_import(int argc, char **argv);

/* Point warden.conf's intermediate_key (and pkcs11_module, unless NULL)
 * at a token, keeping every other key as it is (srv_config.c). */
enum wd_err srv_config_set_key(const char *dir, const char *url,
                               const char *module);

/* warden revoke | crl | root-crl (srv_cmd_revoke.c). */
int srv_cmd_revoke(int argc, char **argv);
int srv_cmd_crl(int argc, char **argv);
int srv_cmd_root_crl(int argc, char **argv);

/* warden audit verify: check the audit log's hash chain (srv_cmd_audit.c). */
int srv_cmd_audit(int argc, char **argv);

/* warden backup | restore: the database's backup (srv_cmd_backup.c). */
int srv_cmd_backup(int argc, char **argv);
int srv_cmd_restore(int argc, char **argv);

/* warden list: the inventory from the host (srv_cmd_list.c). */
int srv_cmd_list(int argc, char **argv);

/* The data dir when no --dir is given: $WARDEN_DIR, else ./warden-data
 * (srv_cli.c). */
const char *srv_default_dir(void);

/* warden <command> ...: the CLI (srv_cli.c). Returns the exit status. */
int srv_cli_main(int argc, char **argv);

/* ---- client chains verified once for every connection
 * (srv_client_cache.c) ---- */
struct srv_client_cache;

struct srv_client_cache *srv_client_cache_new(void);
void srv_client_cache_free(struct srv_client_cache *c);
bool srv_client_cache_get(struct srv_client_cache *c, const void *ca,
                          const gnutls_datum_t *peers, unsigned n, time_t now,
                          struct pki_client *out);
void srv_client_cache_put(struct srv_client_cache *c, const void *ca,
                          const gnutls_datum_t *peers, unsigned n,
                          const struct pki_client *client);

/* ---- ACME challenge validation, RFC 8555 8 (srv_acme_check.c,
 * srv_acme_pool.c) ---- */

#define SRV_ACME_DEFAULT_HTTP01_PORT 80     /* RFC 8555 8.3 */
#define SRV_ACME_DEFAULT_TLSALPN01_PORT 443 /* RFC 8737 3 */
#define SRV_ACME_DEFAULT_TIMEOUT_S 10
#define SRV_ACME_DEFAULT_THREADS 4

/* How validation reaches the client's servers; a zero field takes its
 * default, so { 0 } is the production setting. */
struct srv_acme_check_cfg {
    unsigned http01_port;    /* 0 = 80; tests use a loopback port */
    unsigned tlsalpn01_port; /* 0 = 443 */
    /* dns-01's resolver: "IPv4" or "IPv4:port" (53 if none); "" = the
     * host's (/etc/resolv.conf) */
    char dns_resolver[64];
    unsigned timeout_s; /* one check, first packet to verdict; 0 = 10 */
    /* tests only: each retry this many ms after a failure; 0 = the
     * production schedule (2, 5 and 10 s) */
    unsigned retry_delay_ms;
};

/* Why a check failed: the challenge's error, an RFC 7807 problem. */
struct srv_acme_problem {
    const char *type; /* "urn:ietf:params:acme:error:..." (static) */
    int status;       /* its HTTP status: 400, 403; 500 for our bug */
    char detail[256]; /* one sentence, safe to show the client */
};

/*
 * One attempt at a challenge, blocking for at most cfg->timeout_s (name
 * resolution by the host's resolver for http-01 and tls-alpn-01 aside):
 * http-01 (RFC 8555 8.3), tls-alpn-01 (RFC 8737) or dns-01 (RFC 8555
 * 8.4), for a DNS name or an IP address (RFC 8738). WD_OK when the
 * client's answer is right; otherwise *p says why, and the return is
 * WD_E_FORBIDDEN (an answer came and was wrong or refused),
 * WD_E_UNAVAILABLE (no answer: connection, DNS, TLS, timeout) or
 * WD_E_INTERNAL (our bug or a library failure, logged). srv_acme_check_run
 * picks the one c->type names.
 */
enum wd_err srv_acme_http01_check(const struct srv_acme_check_cfg *cfg,
                                  const struct api_acme_check *c,
                                  struct srv_acme_problem *p);
enum wd_err srv_acme_tlsalpn01_check(const struct srv_acme_check_cfg *cfg,
                                     const struct api_acme_check *c,
                                     struct srv_acme_problem *p);
enum wd_err srv_acme_dns01_check(const struct srv_acme_check_cfg *cfg,
                                 const struct api_acme_check *c,
                                 struct srv_acme_problem *p);
enum wd_err srv_acme_check_run(const struct srv_acme_check_cfg *cfg,
                               const struct api_acme_check *c,
                               struct srv_acme_problem *p);

/* WD_E_CONFIG (logged) for settings that could never work: a port above
 * 65535, a dns_resolver that is not "IPv4[:port]". */
enum wd_err srv_acme_check_cfg_validate(const struct srv_acme_check_cfg *cfg);

struct srv_acme_pool;

/* Challenges in flight at once (queued, waiting to retry, or checked): a
 * job is under 1 KiB, and this is hundreds of orders validating at the
 * same moment, far beyond an internal CA's peak. */
#define SRV_ACME_POOL_MAX_JOBS 1024

/*
 * Start the validation pool over st (borrowed; it must outlive the pool):
 * threads workers (0 = SRV_ACME_DEFAULT_THREADS, at most 64) and a
 * scheduler that finds challenges left processing by an earlier run.
 * On success the caller owns *out (srv_acme_pool_stop).
 */
enum wd_err srv_acme_pool_start(struct store *st,
                                const struct srv_acme_check_cfg *cfg,
                                unsigned threads, struct srv_acme_pool **out);

/* api_acme_submit_fn for api_acme_new (ctx = the pool): queue c, which
 * the API has just set processing; returns at once, never waits for a
 * check. With SRV_ACME_POOL_MAX_JOBS in flight the challenge is failed
 * at once (rateLimited) rather than queued without bound. */
void srv_acme_pool_submit(void *pool, const struct api_acme_check *c);

/* Stop and free the pool (NULL is fine): waits for the checks running,
 * each bounded by timeout_s; queued ones stay processing in the store. */
void srv_acme_pool_stop(struct srv_acme_pool *pool);

#endif
