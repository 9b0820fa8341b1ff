/*
 * A new CA, as init creates it: an offline root, an intermediate signed
 * by it (pathlen 0, pointing at the root's CRL), then the daemon's TLS
 * certificate and the bootstrap admin identity. The two leaves go through
 * pki_ca_load and pki_cert_issue like every other certificate, so init
 * proves the material loads and issuance works before it writes a file.
 * This is the only code that sees the root's key, once.
 */
#include "pki_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

#define DAY_S ((uint64_t)24 * 3600)
#define YEAR_S (365 * DAY_S)
#define DEFAULT_ROOT_VALIDITY_S (20 * YEAR_S)
#define DEFAULT_INTERMEDIATE_VALIDITY_S (10 * YEAR_S)
#define DEFAULT_LEAF_VALIDITY_S YEAR_S
/* Beyond any CA's life, and keeps now + validity far from overflow. */
#define MAX_VALIDITY_S (100 * YEAR_S)

/* "<name> Intermediate CA" must fit ub-common-name (RFC 5280 A.1, 64). */
#define MAX_CA_NAME 48

/* What differs between the root and the intermediate. */
struct ca_spec {
    const char *cn;
    const char *org;
    gnutls_x509_privkey_t key;        /* the subject's */
    gnutls_x509_crt_t issuer;         /* NULL: self-signed */
    gnutls_x509_privkey_t issuer_key; /* NULL: self-signed */
    int pathlen;                      /* -1: no limit */
    const char *crl_url;              /* NULL: no CRL DP */
    time_t not_before;                /* seconds, UTC */
    time_t not_after;                 /* seconds, UTC */
};

/* What differs between the server and the admin certificate. */
struct leaf_spec {
    const char *cn;
    const char *org;            /* NULL: CN only */
    const struct pki_san *sans; /* checked names, copied */
    size_t n_sans;
    enum pki_profile profile;
    uint64_t validity_s;
};

static enum wd_err
gnutls_failed(const char *what, int ret)
{
    log_err("event=ca_create what=%s err=\"%s\"", what, gnutls_strerror(ret));
    return WD_E_INTERNAL;
}

/* The subject O=org,CN=cn (RFC 4514 shows it as "CN=cn,O=org"). */
static int
set_crt_dn(gnutls_x509_crt_t crt, const char *cn, const char *org)
{
    int ret = 0;

    if (org != NULL) {
        ret = gnutls_x509_crt_set_dn_by_oid(crt,
                                            GNUTLS_OID_X520_ORGANIZATION_NAME,
                                            0, org, (unsigned)strlen(org));
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                            cn, (unsigned)strlen(cn));
    }
    return ret;
}

/* Signs crt with issuer_key, hashing as pki_key_digest says for it. */
static enum wd_err
sign_crt(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer,
         gnutls_x509_privkey_t issuer_key)
{
    gnutls_pubkey_t pub = NULL;
    gnutls_digest_algorithm_t digest;
    enum wd_err rc;
    int ret;

    ret = gnutls_pubkey_init(&pub);
    if (ret >= 0) {
        ret = gnutls_pubkey_import_x509(pub, issuer, 0);
    }
    if (ret < 0) {
        rc = gnutls_failed("sign", ret);
        goto out;
    }
    rc = pki_key_digest(pub, &digest);
    if (rc != WD_OK) {
        goto out;
    }
    ret = gnutls_x509_crt_sign2(crt, issuer, issuer_key, digest, 0);
    if (ret < 0) {
        rc = gnutls_failed("sign", ret);
    }
out:
    gnutls_pubkey_deinit(pub);
    return rc;
}

/* Identity, key, validity, and the extensions a CA certificate holds. */
static int
fill_ca_crt(gnutls_x509_crt_t crt, const struct ca_spec *spec)
{
    uint8_t id[PKI_KEY_ID_MAX];
    size_t id_len = sizeof(id);
    unsigned critical;
    int ret;

    ret = gnutls_x509_crt_set_version(crt, 3);
    if (ret >= 0) {
        ret = set_crt_dn(crt, spec->cn, spec->org);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_key(crt, spec->key);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_activation_time(crt, spec->not_before);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_expiration_time(crt, spec->not_after);
    }
    /* RFC 5280 4.2.1.9: CA:TRUE, critical (GnuTLS marks it so) */
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_basic_constraints(crt, 1, spec->pathlen);
    }
    /* RFC 5280 4.2.1.3: signs certificates and CRLs, nothing else */
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
                                                     GNUTLS_KEY_CRL_SIGN);
    }
    /* RFC 5280 4.2.1.2: the same key id as leaves get (pki_cert.c) */
    if (ret >= 0) {
        ret = gnutls_x509_privkey_get_key_id(spec->key, GNUTLS_KEYID_USE_SHA1,
                                             id, &id_len);
    }
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_subject_key_id(crt, id, id_len);
    }
    /* RFC 5280 4.2.1.1: AKI = the issuer's SKI; a root may omit it */
    if (ret >= 0 && spec->issuer != NULL) {
        id_len = sizeof(id);
        ret = gnutls_x509_crt_get_subject_key_id(spec->issuer, id, &id_len,
                                                 &critical);
        if (ret >= 0) {
            ret = gnutls_x509_crt_set_authority_key_id(crt, id, id_len);
        }
    }
    /* RFC 5280 4.2.1.13: where the issuer's CRL lives */
    if (ret >= 0 && spec->crl_url != NULL) {
        ret = gnutls_x509_crt_set_crl_dist_points2(
            crt, GNUTLS_SAN_URI, spec->crl_url, (unsigned)strlen(spec->crl_url),
            0);
    }
    return ret;
}

/* A root (self-signed) or intermediate certificate per spec. */
static enum wd_err
make_ca_crt(const struct ca_spec *spec, gnutls_x509_crt_t *out)
{
    gnutls_x509_crt_t crt = NULL;
    char serial[WD_MAX_SERIAL_HEX + 1];
    enum wd_err rc;
    int ret;

    ret = gnutls_x509_crt_init(&crt);
    if (ret < 0) {
        rc = gnutls_failed("ca_crt", ret);
        goto out;
    }
    rc = pki_serial_new(serial);
    if (rc == WD_OK) {
        rc = pki_serial_set(crt, serial);
    }
    if (rc != WD_OK) {
        goto out;
    }
    ret = fill_ca_crt(crt, spec);
    if (ret < 0) {
        rc = gnutls_failed("ca_crt", ret);
        goto out;
    }
    if (spec->issuer != NULL) {
        rc = sign_crt(crt, spec->issuer, spec->issuer_key);
    } else {
        rc = sign_crt(crt, crt, spec->key);
    }
    if (rc != WD_OK) {
        goto out;
    }
    *out = crt;
    crt = NULL;
out:
    gnutls_x509_crt_deinit(crt);
    return rc;
}

static enum wd_err
export_crt(gnutls_x509_crt_t crt, char **out)
{
    gnutls_datum_t d = { NULL, 0 };
    int ret;

    ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
    if (ret < 0) {
        return gnutls_failed("export", ret);
    }
    *out = pki_datum_take_str(&d);
    return WD_OK;
}

/*
 * What pki_csr_parse would make of a request for spec signed by key, built
 * directly: the names were checked by pki_san_from_host already, and the
 * CN-to-SAN rule must not turn "admin" into a DNS name.
 */
static enum wd_err
leaf_request(const struct leaf_spec *spec, gnutls_x509_privkey_t key,
             struct pki_csr **out)
{
    struct pki_csr *csr = xcalloc(1, sizeof(*csr));
    gnutls_x509_crq_t crq = NULL;
    gnutls_pubkey_t pub = NULL;
    gnutls_digest_algorithm_t digest;
    gnutls_datum_t dn = { NULL, 0 };
    gnutls_datum_t der = { NULL, 0 };
    enum wd_err rc = WD_E_INTERNAL;
    size_t i;
    int ret;

    ret = gnutls_x509_crq_init(&crq);
    if (ret < 0) {
        rc = gnutls_failed("leaf_request", ret);
        goto out;
    }
    if (spec->org != NULL) {
        ret = gnutls_x509_crq_set_dn_by_oid(
            crq, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, spec->org,
            (unsigned)strlen(spec->org));
    }
    if (ret >= 0) {
        ret =
            gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0,
                                          spec->cn, (unsigned)strlen(spec->cn));
    }
    if (ret >= 0) {
        ret = gnutls_x509_crq_set_key(crq, key);
    }
    if (ret >= 0) {
        ret = gnutls_pubkey_init(&pub);
    }
    if (ret >= 0) {
        ret = gnutls_pubkey_import_x509_crq(pub, crq, 0);
    }
    if (ret < 0) {
        rc = gnutls_failed("leaf_request", ret);
        goto out;
    }
    rc = pki_key_type(pub, csr->key_type);
    if (rc == WD_OK) {
        rc = pki_key_digest(pub, &digest);
    }
    if (rc != WD_OK) {
        goto out;
    }
    ret = gnutls_x509_crq_sign2(crq, key, digest, 0);
    if (ret >= 0) {
        ret = gnutls_x509_crq_get_dn3(crq, &dn, 0);
    }
    /* the DER pki_cert_issue takes the subject and key from */
    if (ret >= 0) {
        ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der);
    }
    if (ret < 0) {
        rc = gnutls_failed("leaf_request", ret);
        goto out;
    }
    csr->der = xmemdup(der.data, der.size);
    csr->der_len = der.size;
    csr->subject = pki_datum_take_str(&dn);
    csr->cn = xstrdup(spec->cn);
    csr->sans = xcalloc(spec->n_sans, sizeof(*csr->sans));
    for (i = 0; i < spec->n_sans; i++) {
        csr->sans[i].type = spec->sans[i].type;
        csr->sans[i].value = xstrdup(spec->sans[i].value);
        csr->n_sans++;
    }
    *out = csr;
    csr = NULL;
out:
    gnutls_free(der.data);
    gnutls_pubkey_deinit(pub);
    gnutls_x509_crq_deinit(crq);
    pki_csr_free(csr);
    return rc;
}

/* A fresh key and a certificate for it from ca, as the API would issue. */
static enum wd_err
make_leaf(const struct pki_ca *ca, enum pki_keygen kg, time_t now,
          const struct leaf_spec *spec, char **key_pem, struct pki_cert **cert)
{
    gnutls_x509_privkey_t key = NULL;
    struct pki_csr *csr = NULL;
    struct pki_issue req;
    char serial[WD_MAX_SERIAL_HEX + 1];
    enum wd_err rc;

    rc = pki_key_generate(kg, &key);
    if (rc == WD_OK) {
        rc = leaf_request(spec, key, &csr);
    }
    if (rc == WD_OK) {
        rc = pki_serial_new(serial);
    }
    if (rc != WD_OK) {
        goto out;
    }
    req.csr = csr;
    req.profile = spec->profile;
    req.serial = serial;
    req.validity_s = spec->validity_s;
    req.now = now;
    rc = pki_cert_issue(ca, &req, cert);
    if (rc == WD_OK) {
        rc = pki_key_export_pem(key, "ca_create", key_pem);
    }
out:
    pki_csr_free(csr);
    if (key != NULL) {
        gnutls_x509_privkey_deinit(key);
    }
    return rc;
}

/* The server certificate's names: each host an IP or DNS SAN. */
static enum wd_err
host_sans(const struct pki_ca_new_opts *opts, struct pki_san **out)
{
    struct pki_san *sans;
    char quoted[LOG_QUOTE_BUF];
    size_t i;

    if (opts->n_hosts == 0 || opts->hosts == NULL) {
        log_err("event=ca_create err=\"no host names for the server\"");
        return WD_E_NO_NAMES;
    }
    if (opts->n_hosts > WD_MAX_SANS) {
        return WD_E_TOO_MANY_NAMES;
    }
    sans = xcalloc(opts->n_hosts, sizeof(*sans));
    for (i = 0; i < opts->n_hosts; i++) {
        const char *h = opts->hosts[i] != NULL ? opts->hosts[i] : "";

        if (pki_san_from_host(h, strlen(h), &sans[i]) != WD_OK) {
            log_err("event=ca_create err=\"not a host name or IP\" host=%s",
                    log_quote(h, strlen(h), quoted));
            pki_sans_free(sans, i);
            return WD_E_BAD_NAME;
        }
    }
    *out = sans;
    return WD_OK;
}

/* Defaults applied: a validity of 0 means the default, too long is out. */
static enum wd_err
validity(uint64_t given, uint64_t fallback, uint64_t *out)
{
    *out = given != 0 ? given : fallback;
    if (*out > MAX_VALIDITY_S) {
        log_err("event=ca_create err=\"validity over 100 years\"");
        return WD_E_BAD_VALIDITY;
    }
    return WD_OK;
}

/* public_url's length without trailing slashes, as pki_ca_load keeps it. */
static int
url_len(const struct pki_ca_new_opts *opts)
{
    size_t len = strlen(opts->public_url);

    while (len > 0 && opts->public_url[len - 1] == '/') {
        len--;
    }
    return (int)len;
}

/* Root and intermediate certificates and keys into made. */
static enum wd_err
make_cas(const struct pki_ca_new_opts *opts, const char *name, time_t now,
         struct pki_ca_new *made)
{
    gnutls_x509_privkey_t root_key = NULL;
    gnutls_x509_privkey_t int_key = NULL;
    gnutls_x509_crt_t root = NULL;
    gnutls_x509_crt_t inter = NULL;
    char root_cn[MAX_CA_NAME + 16];
    char int_cn[MAX_CA_NAME + 24];
    char crl_url[PKI_PUBLIC_URL_MAX + 16];
    struct ca_spec spec;
    uint64_t root_s;
    uint64_t int_s;
    enum wd_err rc;

    rc = validity(opts->root_validity_s, DEFAULT_ROOT_VALIDITY_S, &root_s);
    if (rc == WD_OK) {
        rc = validity(opts->intermediate_validity_s,
                      DEFAULT_INTERMEDIATE_VALIDITY_S, &int_s);
    }
    if (rc == WD_OK) {
        rc = pki_key_generate(opts->keygen, &root_key);
    }
    if (rc == WD_OK) {
        rc = pki_key_generate(opts->keygen, &int_key);
    }
    if (rc != WD_OK) {
        goto out;
    }
    snprintf(root_cn, sizeof(root_cn), "%s Root CA", name);
    snprintf(int_cn, sizeof(int_cn), "%s Intermediate CA", name);
    /* the root's CRL, which init signs and the public listener serves */
    snprintf(crl_url, sizeof(crl_url), "%.*s/root.crl", url_len(opts),
             opts->public_url);
    memset(&spec, 0, sizeof(spec));
    spec.cn = root_cn;
    spec.org = name;
    spec.key = root_key;
    spec.pathlen = -1;
    spec.not_before = now - WD_BACKDATE_S; /* clocks that run slow */
    spec.not_after = now + (time_t)root_s;
    rc = make_ca_crt(&spec, &root);
    if (rc != WD_OK) {
        goto out;
    }
    spec.cn = int_cn;
    spec.key = int_key;
    spec.issuer = root;
    spec.issuer_key = root_key;
    spec.pathlen = 0; /* RFC 5280 4.2.1.9: issues leaves only */
    spec.crl_url = crl_url;
    if (int_s < root_s) {
        spec.not_after = now + (time_t)int_s; /* else the root's end */
    }
    rc = make_ca_crt(&spec, &inter);
    if (rc == WD_OK) {
        rc = export_crt(root, &made->root_pem);
    }
    if (rc == WD_OK) {
        rc = export_crt(inter, &made->intermediate_pem);
    }
    if (rc == WD_OK) {
        rc = pki_key_export_pem(root_key, "ca_create", &made->root_key_pem);
    }
    if (rc == WD_OK) {
        rc = pki_key_export_pem(int_key, "ca_create",
                                &made->intermediate_key_pem);
    }
out:
    gnutls_x509_crt_deinit(root);
    gnutls_x509_crt_deinit(inter);
    if (root_key != NULL) {
        gnutls_x509_privkey_deinit(root_key);
    }
    if (int_key != NULL) {
        gnutls_x509_privkey_deinit(int_key);
    }
    return rc;
}

/* 1-48 printable ASCII bytes, so every subject built on it is valid. */
static bool
name_ok(const char *name)
{
    size_t len = strlen(name);

    return len > 0 && len <= MAX_CA_NAME && pki_name_is_printable(name, len);
}

/*
 * Create root, intermediate (pathlen 0, CRL DP <public_url>/root.crl),
 * server (profile server, CN the first host, SANs the hosts) and admin
 * (profile client, "CN=admin,O=<name>") identities with keys of type
 * opts->keygen, all valid from now - WD_BACKDATE_S. A NULL name is
 * "Warden", a zero now is the current time, zero validities take their
 * defaults (20 years, 10, 1; the intermediate never outlives the root).
 * On success the caller owns *out (pki_ca_new_clear); on failure *out is
 * untouched: WD_E_BAD_NAME for a bad name or host, WD_E_NO_NAMES without
 * hosts, WD_E_CONFIG without public_url, WD_E_BAD_VALIDITY, WD_E_INTERNAL.
 */
enum wd_err
pki_ca_create(const struct pki_ca_new_opts *opts, struct pki_ca_new *out)
{
    struct pki_ca_new made;
    struct pki_ca_cfg cfg = { 0 };
    struct pki_ca *ca = NULL;
    struct pki_san *sans = NULL;
    struct leaf_spec leaf;
    const char *name = opts->name != NULL ? opts->name : "Warden";
    time_t now = opts->now != 0 ? opts->now : time(NULL);
    uint64_t leaf_s = 0;
    enum wd_err rc;

    memset(&made, 0, sizeof(made));
    if (!name_ok(name)) {
        log_err("event=ca_create err=\"the CA name must be 1-%d printable "
                "ASCII characters\"",
                MAX_CA_NAME);
        rc = WD_E_BAD_NAME;
        goto out;
    }
    if (opts->public_url == NULL ||
        strlen(opts->public_url) > PKI_PUBLIC_URL_MAX) {
        log_err("event=ca_create err=\"public_url missing or too long\"");
        rc = WD_E_CONFIG;
        goto out;
    }
    rc = host_sans(opts, &sans);
    if (rc == WD_OK) {
        rc = validity(opts->leaf_validity_s, DEFAULT_LEAF_VALIDITY_S, &leaf_s);
    }
    if (rc == WD_OK) {
        rc = make_cas(opts, name, now, &made);
    }
    if (rc != WD_OK) {
        goto out;
    }
    cfg.root_pem = made.root_pem;
    cfg.intermediate_pem = made.intermediate_pem;
    cfg.intermediate_key_pem = made.intermediate_key_pem;
    cfg.public_url = opts->public_url;
    rc = pki_ca_load(&cfg, &ca);
    if (rc != WD_OK) {
        goto out;
    }
    leaf.cn = sans[0].value;
    leaf.org = NULL;
    leaf.sans = sans;
    leaf.n_sans = opts->n_hosts;
    leaf.profile = PKI_PROFILE_SERVER;
    leaf.validity_s = leaf_s;
    rc = make_leaf(ca, opts->keygen, now, &leaf, &made.server_key_pem,
                   &made.server);
    if (rc != WD_OK) {
        goto out;
    }
    leaf.cn = "admin";
    leaf.org = name;
    leaf.sans = NULL;
    leaf.n_sans = 0;
    leaf.profile = PKI_PROFILE_CLIENT;
    rc = make_leaf(ca, opts->keygen, now, &leaf, &made.admin_key_pem,
                   &made.admin);
    if (rc != WD_OK) {
        goto out;
    }
    *out = made;
    memset(&made, 0, sizeof(made)); /* the caller owns it all now */
out:
    pki_ca_new_clear(&made);
    pki_ca_free(ca);
    pki_sans_free(sans, sans != NULL ? opts->n_hosts : 0);
    return rc;
}

static void
wipe_free(char *s)
{
    if (s != NULL) {
        gnutls_memset(s, 0, strlen(s));
        free(s);
    }
}

/*
 * Frees everything in n, wiping the key PEMs first, and leaves n zeroed.
 * Accepts NULL and a zeroed struct.
 */
void
pki_ca_new_clear(struct pki_ca_new *n)
{
    if (n == NULL) {
        return;
    }
    wipe_free(n->root_key_pem);
    wipe_free(n->intermediate_key_pem);
    wipe_free(n->server_key_pem);
    wipe_free(n->admin_key_pem);
    free(n->root_pem);
    free(n->intermediate_pem);
    pki_cert_free(n->server);
    pki_cert_free(n->admin);
    memset(n, 0, sizeof(*n));
}
