/*
 * warden.conf: a JSON object read with jansson, strictly (unknown keys and
 * duplicates are errors, so a typo never silently falls back to a
 * default). init writes it; serve reads it once at start.
 */
#include "srv.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/xmalloc.h"

/* 64 KiB of config is far more than hundreds of admins need. */
#define CONFIG_MAX_BYTES (64 * 1024)

/* Longest validity anyone may configure: 100 years, in seconds. */
#define CONFIG_MAX_DURATION_S (100ULL * 366 * 86400)

/* ACME's bounds: an order lives a minute to a year; a thread per core of
 * a large host checks challenges, each waiting mostly on the network. */
#define ACME_ORDER_LIFETIME_MIN_S 60ULL
#define ACME_ORDER_LIFETIME_MAX_S (365ULL * 86400)
#define ACME_ORDERS_PER_HOUR_MAX 1000000
#define ACME_THREADS_MAX 64

/* Fill cfg with what init writes and what an absent key means. */
void
srv_config_defaults(struct srv_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->api_listen, sizeof(cfg->api_listen), "%s",
             SRV_DEFAULT_API_LISTEN);
    snprintf(cfg->public_listen, sizeof(cfg->public_listen), "%s",
             SRV_DEFAULT_PUBLIC_LISTEN);
    cfg->default_validity_s = 90ULL * 86400; /* PRODUCT: default 90 days */
    cfg->max_validity_s = 397ULL * 86400;    /* CA/B Forum's ceiling */
    cfg->expiring_window_s = 30LL * 86400;
    cfg->crl_validity_s = 86400; /* nextUpdate a day ahead */
    cfg->crl_keep_expired = true;
    cfg->ocsp_validity_s = 4 * 3600; /* re-signed every 2 hours */
    cfg->ocsp_delegated = true;
    cfg->ocsp_responder_validity_s = 7ULL * 86400; /* renewed at 2/3 */
    cfg->root_crl_validity_s = 365ULL * 86400;
    snprintf(cfg->tls_priorities, sizeof(cfg->tls_priorities), "%s",
             SRV_DEFAULT_TLS_PRIORITIES);
    cfg->max_sans = WD_MAX_SANS;
    cfg->acme.orders_per_hour = 300;
    cfg->acme.order_lifetime_s = 7ULL * 86400;
    cfg->acme.cert_validity_s = 90ULL * 86400; /* as other CAs' ACME */
    cfg->acme.http01_port = 80;                /* RFC 8555 8.3 */
    cfg->acme.tlsalpn01_port = 443;            /* RFC 8737 3 */
    cfg->acme.validation_threads = 4;
}

static bool
copy_str(const char *s, char *out, size_t outsz)
{
    if (strlen(s) >= outsz) {
        return false;
    }
    snprintf(out, outsz, "%s", s);
    return true;
}

/* A priority string GnuTLS accepts; the error position is logged. */
static bool
priorities_ok(const char *s)
{
    gnutls_priority_t p;
    const char *err = NULL;
    int ret = gnutls_priority_init(&p, s, &err);

    if (ret < 0) {
        log_err("event=config_invalid key=tls_priorities reason=\"%s\" "
                "at=\"%.40s\"",
                gnutls_strerror(ret), err != NULL ? err : "");
        return false;
    }
    gnutls_priority_deinit(p);
    return true;
}

static bool
duration(const char *s, uint64_t *out)
{
    return s == NULL || wd_parse_duration(s, CONFIG_MAX_DURATION_S, out);
}

/* An environment variable's name: [A-Za-z_][A-Za-z0-9_]*. */
static bool
env_name_ok(const char *s)
{
    if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9')) {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_')) {
            return false;
        }
    }
    return true;
}

/*
 * Where the intermediate's key and its passphrase come from: a PKCS#11
 * URL or intermediate.key; a passphrase file or an environment variable
 * (never the command line, which others can read in /proc), not both.
 */
static bool
key_source_ok(struct srv_config *cfg, const char *key, const char *module,
              const char *pass_file, const char *pass_env)
{
    if (key != NULL && (strncmp(key, "pkcs11:", 7) != 0 ||
                        !copy_str(key, cfg->intermediate_key,
                                  sizeof(cfg->intermediate_key)))) {
        log_err("event=config_invalid key=intermediate_key "
                "reason=\"a PKCS#11 URL (pkcs11:...), RFC 7512\"");
        return false;
    }
    if (module != NULL &&
        (module[0] == '\0' ||
         !copy_str(module, cfg->pkcs11_module, sizeof(cfg->pkcs11_module)))) {
        log_err("event=config_invalid key=pkcs11_module "
                "reason=\"a library path\"");
        return false;
    }
    if (pass_file != NULL && pass_env != NULL) {
        log_err("event=config_invalid key=intermediate_key_passphrase_file "
                "reason=\"give a passphrase file or an environment "
                "variable, not both\"");
        return false;
    }
    if (pass_file != NULL &&
        (pass_file[0] == '\0' || !copy_str(pass_file, cfg->passphrase_file,
                                           sizeof(cfg->passphrase_file)))) {
        log_err("event=config_invalid key=intermediate_key_passphrase_file "
                "reason=\"a file path\"");
        return false;
    }
    if (pass_env != NULL &&
        (!env_name_ok(pass_env) || !copy_str(pass_env, cfg->passphrase_env,
                                             sizeof(cfg->passphrase_env)))) {
        log_err("event=config_invalid key=intermediate_key_passphrase_env "
                "reason=\"an environment variable's name\"");
        return false;
    }
    return true;
}

static void
acme_allow_clear(struct srv_acme_config *a)
{
    size_t i;

    for (i = 0; i < a->n_allow; i++) {
        free(a->allow[i]);
    }
    free(a->allow);
    a->allow = NULL;
    a->n_allow = 0;
}

/* Free what the config owns. */
void
srv_config_clear(struct srv_config *cfg)
{
    api_policy_clear(&cfg->policy);
    acme_allow_clear(&cfg->acme);
}

/* An IPv4 or IPv6 address, alone or as a CIDR range ("10.0.0.0/8"). */
static bool
ip_range_ok(const char *s)
{
    const char *slash = strchr(s, '/');
    size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
    unsigned char bin[16];
    char addr[INET6_ADDRSTRLEN];
    uint64_t bits;
    uint64_t max;

    if (len == 0 || len >= sizeof(addr)) {
        return false;
    }
    memcpy(addr, s, len);
    addr[len] = '\0';
    if (inet_pton(AF_INET, addr, bin) == 1) {
        max = 32;
    } else if (inet_pton(AF_INET6, addr, bin) == 1) {
        max = 128;
    } else {
        return false;
    }
    return slash == NULL || wd_parse_u64(slash + 1, 0, max, &bits);
}

/*
 * Replace a's allow list with items: each a DNS name (no wildcard: a
 * name allows every name below it) or an IP address or range, stored in
 * lower case. Nothing changes on failure (logged with key).
 */
static enum wd_err
acme_allow_set(struct srv_acme_config *a, const char *const *items, size_t n,
               const char *key)
{
    char **list;
    size_t i;
    size_t j;

    if (n == 0 || n > SRV_ACME_MAX_ALLOW) {
        log_err("event=config_invalid key=%s reason=\"1 to %d names or IP "
                "ranges\"",
                key, SRV_ACME_MAX_ALLOW);
        return WD_E_CONFIG;
    }
    for (i = 0; i < n; i++) {
        if (!ip_range_ok(items[i]) &&
            (items[i][0] == '*' ||
             !pki_name_is_dns(items[i], strlen(items[i])))) {
            log_err("event=config_invalid key=%s[%zu] reason=\"a DNS name "
                    "(without *) or an IP address or range\"",
                    key, i);
            return WD_E_CONFIG;
        }
    }
    list = xcalloc(n, sizeof(*list));
    for (i = 0; i < n; i++) {
        list[i] = xstrdup(items[i]);
        for (j = 0; list[i][j] != '\0'; j++) {
            list[i][j] = (char)tolower((unsigned char)list[i][j]);
        }
    }
    acme_allow_clear(a);
    a->allow = list;
    a->n_allow = n;
    return WD_OK;
}

/* acme.allow from JSON: an array of strings. */
static enum wd_err
acme_allow_json(struct srv_acme_config *a, json_t *arr)
{
    const char *items[SRV_ACME_MAX_ALLOW];
    size_t i;

    if (!json_is_array(arr) || json_array_size(arr) > SRV_ACME_MAX_ALLOW) {
        log_err("event=config_invalid key=acme.allow reason=\"an array of "
                "1 to %d names or IP ranges\"",
                SRV_ACME_MAX_ALLOW);
        return WD_E_CONFIG;
    }
    for (i = 0; i < json_array_size(arr); i++) {
        items[i] = json_string_value(json_array_get(arr, i));
        if (items[i] == NULL) {
            log_err("event=config_invalid key=acme.allow[%zu] "
                    "reason=\"a string\"",
                    i);
            return WD_E_CONFIG;
        }
    }
    return acme_allow_set(a, items, json_array_size(arr), "acme.allow");
}

/* An ADDR:PORT that srv_addr_parse takes, copied into out. */
static bool
addr_ok(const char *s, char *out, size_t outsz)
{
    struct sockaddr_storage ss;
    socklen_t len;

    return srv_addr_parse(s, &ss, &len) == WD_OK && copy_str(s, out, outsz);
}

/* "https://..." without trailing slashes, copied into out. */
static bool
https_url_ok(const char *s, char *out, size_t outsz)
{
    size_t len;

    if (strncmp(s, "https://", 8) != 0 || strlen(s) <= 8 ||
        strchr(s, ' ') != NULL || !copy_str(s, out, outsz)) {
        return false;
    }
    len = strlen(out);
    while (len > 8 && out[len - 1] == '/') {
        out[--len] = '\0';
    }
    return true;
}

/* A port number 1..65535 from JSON (-1 = absent: keep *out). */
static bool
port_ok(json_int_t v, unsigned *out)
{
    if (v == -1) {
        return true;
    }
    if (v < 1 || v > 65535) {
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/*
 * warden.conf's "acme" object over a's defaults, strictly. The bound of
 * cert_validity by the server profile is checked once the profiles are
 * known (acme_validity_check). WD_E_CONFIG with the key logged.
 */
static enum wd_err
acme_parse(json_t *obj, struct srv_acme_config *a, bool *validity_set)
{
    json_error_t jerr;
    const char *listen = NULL;
    const char *base_url = NULL;
    json_t *allow = NULL;
    int eab = -1;
    json_int_t orders = -1;
    const char *lifetime = NULL;
    const char *validity = NULL;
    json_int_t http01 = -1;
    json_int_t tlsalpn01 = -1;
    const char *resolver = NULL;
    json_int_t threads = -1;
    const char *bad = NULL;

    if (json_unpack_ex(
            obj, &jerr, JSON_STRICT,
            "{s?s, s?s, s?o, s?b, s?I, s?s, s?s, s?I, s?I, s?s, s?I}", "listen",
            &listen, "base_url", &base_url, "allow", &allow, "eab_required",
            &eab, "orders_per_hour", &orders, "order_lifetime", &lifetime,
            "cert_validity", &validity, "http01_port", &http01,
            "tlsalpn01_port", &tlsalpn01, "dns_resolver", &resolver,
            "validation_threads", &threads) != 0) {
        log_err("event=config_invalid file=%s key=acme reason=\"%s\"",
                SRV_FILE_CONFIG, jerr.text);
        return WD_E_CONFIG;
    }
    *validity_set = validity != NULL;
    if (listen != NULL && !addr_ok(listen, a->listen, sizeof(a->listen))) {
        bad = "acme.listen";
    } else if (base_url != NULL &&
               !https_url_ok(base_url, a->base_url, sizeof(a->base_url))) {
        bad = "acme.base_url";
    } else if (orders != -1 &&
               (orders < 0 || orders > ACME_ORDERS_PER_HOUR_MAX)) {
        bad = "acme.orders_per_hour";
    } else if (lifetime != NULL &&
               (!wd_parse_duration(lifetime, ACME_ORDER_LIFETIME_MAX_S,
                                   &a->order_lifetime_s) ||
                a->order_lifetime_s < ACME_ORDER_LIFETIME_MIN_S)) {
        bad = "acme.order_lifetime";
    } else if (validity != NULL &&
               (!wd_parse_duration(validity, CONFIG_MAX_DURATION_S,
                                   &a->cert_validity_s) ||
                a->cert_validity_s == 0)) {
        bad = "acme.cert_validity";
    } else if (!port_ok(http01, &a->http01_port)) {
        bad = "acme.http01_port";
    } else if (!port_ok(tlsalpn01, &a->tlsalpn01_port)) {
        bad = "acme.tlsalpn01_port";
    } else if (resolver != NULL && resolver[0] != '\0' &&
               !addr_ok(resolver, a->dns_resolver, sizeof(a->dns_resolver))) {
        bad = "acme.dns_resolver";
    } else if (threads != -1 && (threads < 1 || threads > ACME_THREADS_MAX)) {
        bad = "acme.validation_threads";
    }
    if (bad != NULL) {
        log_err("event=config_invalid file=%s key=%s reason=\"see "
                "deploy/warden.conf.md for its form and bounds\"",
                SRV_FILE_CONFIG, bad);
        return WD_E_CONFIG;
    }
    if (orders != -1) {
        a->orders_per_hour = (unsigned)orders;
    }
    if (eab != -1) {
        a->eab_required = eab != 0;
    }
    if (threads != -1) {
        a->validation_threads = (unsigned)threads;
    }
    return allow != NULL ? acme_allow_json(a, allow) : WD_OK;
}

/*
 * ACME's certificates are server certificates: an acme.cert_validity
 * beyond the server profile's max_validity is refused, and the default
 * (90 days) shortened to it.
 */
static enum wd_err
acme_validity_check(struct srv_config *cfg, bool validity_set)
{
    uint64_t max = cfg->policy.profiles[PKI_PROFILE_SERVER].max_validity_s;

    if (cfg->acme.cert_validity_s <= max) {
        return WD_OK;
    }
    if (!validity_set) {
        cfg->acme.cert_validity_s = max;
        return WD_OK;
    }
    log_err("event=config_invalid file=%s key=acme.cert_validity "
            "reason=\"longer than the server profile's max_validity\"",
            SRV_FILE_CONFIG);
    return WD_E_CONFIG;
}

/*
 * Read dir/warden.conf on top of the defaults. WD_E_IO if it cannot be
 * read, WD_E_CONFIG (cause logged) if it is not what we wrote.
 */
enum wd_err
srv_config_load(const char *dir, struct srv_config *cfg)
{
    char *text = NULL;
    size_t len;
    json_t *doc = NULL;
    json_t *admins = NULL;
    json_t *readers = NULL;
    json_t *grants = NULL;
    json_t *profiles = NULL;
    json_t *acme = NULL;
    json_error_t jerr;
    const char *api_listen = NULL;
    const char *public_listen = NULL;
    const char *public_url = NULL;
    const char *def_validity = NULL;
    const char *max_validity = NULL;
    const char *expiring = NULL;
    const char *crl_validity = NULL;
    int keep_expired = -1;
    const char *ocsp_validity = NULL;
    const char *ocsp_responder = NULL;
    const char *ocsp_responder_validity = NULL;
    const char *root_crl_validity = NULL;
    const char *tls_priorities = NULL;
    const char *key = NULL;
    const char *module = NULL;
    const char *pass_file = NULL;
    const char *pass_env = NULL;
    json_int_t max_sans = -1;
    uint64_t window;
    bool acme_validity_set = false;
    enum wd_err rc;

    srv_config_defaults(cfg);
    rc = srv_file_read(dir, SRV_FILE_CONFIG, CONFIG_MAX_BYTES, &text, &len);
    if (rc != WD_OK) {
        goto out;
    }
    rc = WD_E_CONFIG;
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        log_err("event=config_invalid file=%s line=%d reason=\"%s\"",
                SRV_FILE_CONFIG, jerr.line, jerr.text);
        goto out;
    }
    if (json_unpack_ex(
            doc, &jerr, JSON_STRICT,
            "{s?s, s?s, s?s, s?s, s?s, s?s, s?s, s?b, s?s, s?s, s?s, s?s, "
            "s?s, s?I, s?o, s?o, s?o, s?o, s?s, s?s, s?s, s?s, s?o}",
            "api_listen", &api_listen, "public_listen", &public_listen,
            "public_url", &public_url, "default_validity", &def_validity,
            "max_validity", &max_validity, "expiring_window", &expiring,
            "crl_validity", &crl_validity, "crl_keep_expired", &keep_expired,
            "ocsp_validity", &ocsp_validity, "ocsp_responder", &ocsp_responder,
            "ocsp_responder_validity", &ocsp_responder_validity,
            "root_crl_validity", &root_crl_validity, "tls_priorities",
            &tls_priorities, "max_sans", &max_sans, "admins", &admins,
            "readers", &readers, "grants", &grants, "profiles", &profiles,
            "intermediate_key", &key, "pkcs11_module", &module,
            "intermediate_key_passphrase_file", &pass_file,
            "intermediate_key_passphrase_env", &pass_env, "acme", &acme) != 0) {
        log_err("event=config_invalid file=%s reason=\"%s\"", SRV_FILE_CONFIG,
                jerr.text);
        goto out;
    }
    window = (uint64_t)cfg->expiring_window_s;
    if ((api_listen != NULL &&
         !copy_str(api_listen, cfg->api_listen, sizeof(cfg->api_listen))) ||
        (public_listen != NULL && !copy_str(public_listen, cfg->public_listen,
                                            sizeof(cfg->public_listen))) ||
        (public_url != NULL &&
         !copy_str(public_url, cfg->public_url, sizeof(cfg->public_url))) ||
        !duration(def_validity, &cfg->default_validity_s) ||
        !duration(max_validity, &cfg->max_validity_s) ||
        !duration(expiring, &window) ||
        !duration(crl_validity, &cfg->crl_validity_s) ||
        !duration(ocsp_validity, &cfg->ocsp_validity_s) ||
        !duration(ocsp_responder_validity, &cfg->ocsp_responder_validity_s) ||
        !duration(root_crl_validity, &cfg->root_crl_validity_s) ||
        cfg->default_validity_s > cfg->max_validity_s) {
        log_err("event=config_invalid file=%s reason=\"a listen address, "
                "URL or duration is invalid, or default_validity > "
                "max_validity\"",
                SRV_FILE_CONFIG);
        goto out;
    }
    cfg->expiring_window_s = (int64_t)window;
    if (tls_priorities != NULL &&
        (!copy_str(tls_priorities, cfg->tls_priorities,
                   sizeof(cfg->tls_priorities)) ||
         !priorities_ok(tls_priorities))) {
        goto out;
    }
    if (max_sans != -1) {
        if (max_sans < 1 || max_sans > WD_MAX_SANS) {
            log_err("event=config_invalid key=max_sans reason=\"1 to %d\"",
                    WD_MAX_SANS);
            goto out;
        }
        cfg->max_sans = (unsigned)max_sans;
    }
    if (keep_expired >= 0) {
        cfg->crl_keep_expired = keep_expired != 0;
    }
    if (ocsp_responder != NULL) {
        if (strcmp(ocsp_responder, "delegated") != 0 &&
            strcmp(ocsp_responder, "intermediate") != 0) {
            log_err("event=config_invalid key=ocsp_responder "
                    "reason=\"delegated or intermediate\"");
            goto out;
        }
        cfg->ocsp_delegated = strcmp(ocsp_responder, "delegated") == 0;
    }
    if (!key_source_ok(cfg, key, module, pass_file, pass_env)) {
        goto out;
    }
    if (cfg->public_url[0] != '\0' &&
        strncmp(cfg->public_url, "http://", 7) != 0 &&
        strncmp(cfg->public_url, "https://", 8) != 0) {
        log_err("event=config_invalid key=public_url reason=not_http");
        goto out;
    }
    if (acme != NULL &&
        acme_parse(acme, &cfg->acme, &acme_validity_set) != WD_OK) {
        goto out;
    }
    rc = srv_policy_parse(profiles, admins, readers, grants,
                          cfg->default_validity_s, cfg->max_validity_s,
                          &cfg->policy);
    if (rc == WD_OK) {
        rc = acme_validity_check(cfg, acme_validity_set);
    }
out:
    json_decref(doc);
    free(text);
    return rc;
}

static json_t *
duration_json(uint64_t s)
{
    if (s % 86400 == 0) {
        return json_sprintf("%llud", (unsigned long long)(s / 86400));
    }
    if (s % 3600 == 0) {
        return json_sprintf("%lluh", (unsigned long long)(s / 3600));
    }
    return json_sprintf("%llus", (unsigned long long)s);
}

/* The config as indented JSON, as init writes it. Caller frees. */
char *
srv_config_dump(const struct srv_config *cfg)
{
    json_t *doc = json_object();
    char *text;

    json_object_set_new(doc, "api_listen", json_string(cfg->api_listen));
    json_object_set_new(doc, "public_listen", json_string(cfg->public_listen));
    if (cfg->public_url[0] != '\0') {
        json_object_set_new(doc, "public_url", json_string(cfg->public_url));
    }
    json_object_set_new(doc, "default_validity",
                        duration_json(cfg->default_validity_s));
    json_object_set_new(doc, "max_validity",
                        duration_json(cfg->max_validity_s));
    json_object_set_new(doc, "expiring_window",
                        duration_json((uint64_t)cfg->expiring_window_s));
    json_object_set_new(doc, "crl_validity",
                        duration_json(cfg->crl_validity_s));
    json_object_set_new(doc, "crl_keep_expired",
                        json_boolean(cfg->crl_keep_expired));
    json_object_set_new(doc, "ocsp_validity",
                        duration_json(cfg->ocsp_validity_s));
    json_object_set_new(
        doc, "ocsp_responder",
        json_string(cfg->ocsp_delegated ? "delegated" : "intermediate"));
    json_object_set_new(doc, "ocsp_responder_validity",
                        duration_json(cfg->ocsp_responder_validity_s));
    json_object_set_new(doc, "root_crl_validity",
                        duration_json(cfg->root_crl_validity_s));
    json_object_set_new(doc, "tls_priorities",
                        json_string(cfg->tls_priorities));
    json_object_set_new(doc, "max_sans", json_integer(cfg->max_sans));
    json_object_set_new(doc, "admins", srv_policy_admins_json(&cfg->policy));
    text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

/*
 * Point warden.conf at a key in a token: set intermediate_key to url and,
 * unless module is NULL, pkcs11_module, keeping every other key and its
 * order; the file is replaced atomically with its mode (0640). WD_E_IO
 * or WD_E_CONFIG (logged) if it cannot be read, parsed or written.
 */
enum wd_err
srv_config_set_key(const char *dir, const char *url, const char *module)
{
    char *text = NULL;
    char *out = NULL;
    size_t len;
    json_t *doc = NULL;
    json_error_t jerr;
    enum wd_err rc;

    rc = srv_file_read(dir, SRV_FILE_CONFIG, CONFIG_MAX_BYTES, &text, &len);
    if (rc != WD_OK) {
        goto out;
    }
    rc = WD_E_CONFIG;
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL || !json_is_object(doc)) {
        log_err("event=config_invalid file=%s reason=\"not a JSON object\"",
                SRV_FILE_CONFIG);
        goto out;
    }
    json_object_set_new(doc, "intermediate_key", json_string(url));
    if (module != NULL) {
        json_object_set_new(doc, "pkcs11_module", json_string(module));
    }
    out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (out == NULL) {
        goto out;
    }
    rc = srv_file_replace(dir, SRV_FILE_CONFIG, out, strlen(out), 0640);
out:
    free(out);
    json_decref(doc);
    free(text);
    return rc;
}

/* Flags win over warden.conf; NULL leaves the config's value. */
void
srv_config_override(struct srv_config *cfg, const char *api_listen,
                    const char *public_listen, const char *public_url)
{
    if (api_listen != NULL) {
        snprintf(cfg->api_listen, sizeof(cfg->api_listen), "%s", api_listen);
    }
    if (public_listen != NULL) {
        snprintf(cfg->public_listen, sizeof(cfg->public_listen), "%s",
                 public_listen);
    }
    if (public_url != NULL) {
        snprintf(cfg->public_url, sizeof(cfg->public_url), "%s", public_url);
    }
}

/* Split "a,b,c" in place into at most max items; the count, or 0 if
 * the list is empty or too long. */
static size_t
split_list(char *list, const char **items, size_t max)
{
    char *save = NULL;
    char *tok;
    size_t n = 0;

    for (tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (n >= max) {
            return 0;
        }
        items[n++] = tok;
    }
    return n;
}

/*
 * serve's --acme-* flags win over warden.conf's "acme"; then an enabled
 * ACME must have an allow list (RFC 8555 leaves policy to the CA: ours
 * issues for nothing by default). WD_E_CONFIG (logged) otherwise.
 */
enum wd_err
srv_config_acme_override(struct srv_config *cfg,
                         const struct srv_serve_opts *opts)
{
    struct srv_acme_config *a = &cfg->acme;
    const char *items[SRV_ACME_MAX_ALLOW];
    enum wd_err rc = WD_OK;
    char *list;
    size_t n;

    if (opts->acme_listen != NULL &&
        !addr_ok(opts->acme_listen, a->listen, sizeof(a->listen))) {
        log_err("event=config_invalid flag=--acme-listen "
                "reason=\"not ADDR:PORT\"");
        return WD_E_CONFIG;
    }
    if (opts->acme_dns_resolver != NULL &&
        !addr_ok(opts->acme_dns_resolver, a->dns_resolver,
                 sizeof(a->dns_resolver))) {
        log_err("event=config_invalid flag=--acme-dns-resolver "
                "reason=\"not ADDR:PORT\"");
        return WD_E_CONFIG;
    }
    if (opts->acme_http01_port != 0) {
        a->http01_port = opts->acme_http01_port;
    }
    if (opts->acme_tlsalpn01_port != 0) {
        a->tlsalpn01_port = opts->acme_tlsalpn01_port;
    }
    if (opts->acme_allow != NULL) {
        list = xstrdup(opts->acme_allow);
        n = split_list(list, items, SRV_ACME_MAX_ALLOW);
        rc = acme_allow_set(a, items, n, "--acme-allow");
        free(list);
        if (rc != WD_OK) {
            return rc;
        }
    }
    if (a->listen[0] != '\0' && a->n_allow == 0) {
        log_err("event=config_invalid key=acme.allow reason=\"ACME is on "
                "(acme.listen, --acme-listen) but allows no identifier: "
                "set acme.allow or --acme-allow\"");
        return WD_E_CONFIG;
    }
    return WD_OK;
}

/* Where ACME clients reach the listener, without a trailing slash. */
void
srv_config_acme_base_url(const struct srv_config *cfg, char *out, size_t outsz)
{
    if (cfg->acme.base_url[0] != '\0') {
        snprintf(out, outsz, "%s", cfg->acme.base_url);
    } else {
        snprintf(out, outsz, "https://%s", cfg->acme.listen);
    }
}

/* The base URL certificates point at, without a trailing slash. */
void
srv_config_public_url(const struct srv_config *cfg, char *out, size_t outsz)
{
    if (cfg->public_url[0] != '\0') {
        snprintf(out, outsz, "%s", cfg->public_url);
    } else {
        snprintf(out, outsz, "http://%s", cfg->public_listen);
    }
    while (strlen(out) > 0 && out[strlen(out) - 1] == '/') {
        out[strlen(out) - 1] = '\0';
    }
}

/*
 * "127.0.0.1:8443" or "[::1]:8443" into a socket address. Numeric hosts
 * only: a CA should not depend on DNS to decide where it listens.
 */
enum wd_err
srv_addr_parse(const char *text, struct sockaddr_storage *out, socklen_t *len)
{
    char host[64];
    const char *port;
    struct addrinfo hints = { 0 };
    struct addrinfo *res = NULL;
    uint64_t p;
    size_t hlen;

    if (text[0] == '[') {
        const char *end = strchr(text, ']');

        if (end == NULL || end[1] != ':') {
            return WD_E_CONFIG;
        }
        hlen = (size_t)(end - text - 1);
        if (hlen >= sizeof(host)) {
            return WD_E_CONFIG;
        }
        memcpy(host, text + 1, hlen);
        port = end + 2;
    } else {
        const char *colon = strrchr(text, ':');

        if (colon == NULL) {
            return WD_E_CONFIG;
        }
        hlen = (size_t)(colon - text);
        if (hlen >= sizeof(host)) {
            return WD_E_CONFIG;
        }
        memcpy(host, text, hlen);
        port = colon + 1;
    }
    host[hlen] = '\0';
    if (!wd_parse_u64(port, 1, 65535, &p)) {
        return WD_E_CONFIG;
    }
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL) {
        return WD_E_CONFIG;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return WD_OK;
}
