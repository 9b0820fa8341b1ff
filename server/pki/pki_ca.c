/*
 * The CA as serve holds it: root and intermediate certificates, the
 * signer with the intermediate's key, and a trust list with the root for
 * checking API clients. pki_ca_load cross-checks the material an operator
 * configured, so that a mismatch stops the daemon at start, not at the
 * first issuance. pki_ca_verify_client is the mTLS listener's question
 * "is this peer one of ours, right now?".
 */
#include "pki_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

/* Time checks are ours to make (against the caller's "now", so tests can
 * move the clock); GnuTLS checks signatures, CA flags and purposes. */
#define VERIFY_FLAGS                                                           \
    (GNUTLS_VERIFY_DISABLE_TIME_CHECKS |                                       \
     GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS)

/* RFC 5280 4.2.1.9: a certificate that signs others says CA:TRUE. */
static bool
is_ca(gnutls_x509_crt_t crt)
{
    unsigned critical = 0;
    unsigned ca = 0;
    int pathlen = -1;

    return gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca,
                                                 &pathlen) >= 0 &&
           ca != 0;
}

static char *
export_pem(gnutls_x509_crt_t crt)
{
    gnutls_datum_t d = { NULL, 0 };
    int ret;

    ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
    if (ret < 0) {
        log_err("event=ca_load what=export err=\"%s\"", gnutls_strerror(ret));
        return NULL;
    }
    return pki_datum_take_str(&d);
}

/* The public base URL: printable, bounded, kept without trailing '/'. */
static enum wd_err
take_public_url(const char *url, struct pki_ca *ca)
{
    size_t len = url != NULL ? strlen(url) : 0;

    while (len > 0 && url[len - 1] == '/') {
        len--;
    }
    if (len == 0 || len > PKI_PUBLIC_URL_MAX ||
        !pki_name_is_printable(url, len) || memchr(url, ' ', len) != NULL) {
        log_err("event=ca_load err=\"public_url missing or invalid\"");
        return WD_E_CONFIG;
    }
    ca->public_url = xstrndup(url, len);
    return WD_OK;
}

/* Logs what was verified (what) and GnuTLS's sentence for its status. */
static void
log_status(enum log_level level, const char *event, const char *what,
           unsigned status)
{
    gnutls_datum_t text = { NULL, 0 };
    int ret;

    ret = gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
                                                       &text, 0);
    log_msg(level, "event=%s what=\"%s\" reason=\"%s\"", event, what,
            ret >= 0 ? (const char *)text.data : "unknown");
    gnutls_free(text.data);
}

/* The intermediate: a CA, signed by the root, with a key we sign with. */
static enum wd_err
check_intermediate(struct pki_ca *ca)
{
    gnutls_pubkey_t pub = NULL;
    unsigned status = 0;
    unsigned critical = 0;
    enum wd_err rc = WD_E_CONFIG;
    int ret;

    if (!is_ca(ca->root) || !is_ca(ca->intermediate)) {
        log_err("event=ca_load err=\"root or intermediate is not a CA, "
                "RFC 5280 4.2.1.9\"");
        goto out;
    }
    ret = gnutls_x509_crt_verify(ca->intermediate, &ca->root, 1, VERIFY_FLAGS,
                                 &status);
    if (ret < 0) {
        log_err("event=ca_load err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    if (status != 0) {
        log_status(LOG_ERR, "ca_load", "the intermediate against the root",
                   status);
        goto out;
    }
    ret = gnutls_pubkey_init(&pub);
    if (ret >= 0) {
        ret = gnutls_pubkey_import_x509(pub, ca->intermediate, 0);
    }
    if (ret < 0) {
        log_err("event=ca_load what=key err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    if (pki_key_type(pub, ca->key_type) != WD_OK) {
        log_err("event=ca_load err=\"intermediate key type not accepted\"");
        goto out;
    }
    /* RFC 5280 4.2.1.1: leaves name the intermediate's SKI as AKI; an
     * imported intermediate without one gets the key id we would set */
    ca->ski_len = sizeof(ca->ski);
    ret = gnutls_x509_crt_get_subject_key_id(ca->intermediate, ca->ski,
                                             &ca->ski_len, &critical);
    if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        ca->ski_len = sizeof(ca->ski);
        ret = gnutls_x509_crt_get_key_id(
            ca->intermediate, GNUTLS_KEYID_USE_SHA1, ca->ski, &ca->ski_len);
    }
    if (ret < 0) {
        log_err("event=ca_load what=ski err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    ca->not_after = gnutls_x509_crt_get_expiration_time(ca->intermediate);
    rc = WD_OK;
out:
    gnutls_pubkey_deinit(pub);
    return rc;
}

/* A trust list holding its own copy of the root (it frees what it has). */
static enum wd_err
build_trust(struct pki_ca *ca)
{
    gnutls_x509_crt_t anchor = NULL;
    enum wd_err rc;
    int ret;

    rc = pki_crt_import_pem(ca->root_pem, "ca_load", "root", &anchor);
    if (rc != WD_OK) {
        return rc;
    }
    ret = gnutls_x509_trust_list_init(&ca->trust, 0);
    if (ret >= 0) {
        ret = gnutls_x509_trust_list_add_cas(ca->trust, &anchor, 1, 0);
        if (ret == 1) {
            anchor = NULL; /* the list owns it now */
        }
    }
    gnutls_x509_crt_deinit(anchor);
    if (ret != 1) {
        log_err("event=ca_load what=trust err=\"%s\"",
                ret < 0 ? gnutls_strerror(ret) : "\"root not added\"");
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * Parse and cross-check the CA material: root and intermediate are CAs,
 * the root signed the intermediate, the key is the intermediate's and of
 * a type we sign with (pki_signer_new), public_url is usable. WD_E_CONFIG
 * with the reason logged if not. Caller owns *out (pki_ca_free).
 */
enum wd_err
pki_ca_load(const struct pki_ca_cfg *cfg, struct pki_ca **out)
{
    struct pki_ca *ca = xcalloc(1, sizeof(*ca));
    gnutls_datum_t der = { NULL, 0 };
    char *intermediate_pem = NULL;
    enum wd_err rc;
    int ret;

    rc = take_public_url(cfg->public_url, ca);
    if (rc == WD_OK) {
        rc = pki_crt_import_pem(cfg->root_pem, "ca_load", "root", &ca->root);
    }
    if (rc == WD_OK) {
        rc = pki_crt_import_pem(cfg->intermediate_pem, "ca_load",
                                "intermediate", &ca->intermediate);
    }
    if (rc == WD_OK) {
        rc = check_intermediate(ca);
    }
    if (rc != WD_OK) {
        goto out;
    }
    rc = WD_E_INTERNAL;
    ret = gnutls_x509_crt_export2(ca->intermediate, GNUTLS_X509_FMT_DER, &der);
    if (ret < 0) {
        log_err("event=ca_load what=export err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    ca->intermediate_der = xmemdup(der.data, der.size);
    ca->intermediate_der_len = der.size;
    if (pki_ocsp_issuer_hashes(ca) != WD_OK) {
        goto out;
    }
    ca->root_pem = export_pem(ca->root);
    intermediate_pem = export_pem(ca->intermediate);
    if (ca->root_pem == NULL || intermediate_pem == NULL) {
        goto out;
    }
    ca->chain_pem =
        xmalloc(strlen(intermediate_pem) + strlen(ca->root_pem) + 1);
    strcpy(ca->chain_pem, intermediate_pem);
    strcat(ca->chain_pem, ca->root_pem);
    rc = pki_signer_new(
        &(struct pki_key_src){
            .pem = cfg->intermediate_key_pem,
            .url = cfg->intermediate_key_url,
            .passphrase = cfg->intermediate_key_passphrase,
        },
        ca->intermediate_der, ca->intermediate_der_len, &ca->signer);
    if (rc != WD_OK) {
        goto out;
    }
    rc = build_trust(ca);
    if (rc != WD_OK) {
        goto out;
    }
    *out = ca;
    ca = NULL;
out:
    gnutls_free(der.data);
    free(intermediate_pem);
    pki_ca_free(ca);
    return rc;
}

/* Frees ca, its signer (which wipes the key) and trust list; NULL is ok. */
void
pki_ca_free(struct pki_ca *ca)
{
    if (ca == NULL) {
        return;
    }
    gnutls_x509_crt_deinit(ca->root);
    gnutls_x509_crt_deinit(ca->intermediate);
    if (ca->trust != NULL) {
        gnutls_x509_trust_list_deinit(ca->trust, 1);
    }
    pki_signer_free(ca->signer);
    free(ca->root_pem);
    free(ca->chain_pem);
    free(ca->intermediate_der);
    free(ca->public_url);
    free(ca);
}

/* The root certificate as PEM (ca.crt); lent, valid while ca lives. */
const char *
pki_ca_root_pem(const struct pki_ca *ca)
{
    return ca->root_pem;
}

/* Intermediate PEM then root PEM (chain.pem); lent. */
const char *
pki_ca_chain_pem(const struct pki_ca *ca)
{
    return ca->chain_pem;
}

/* The intermediate as DER (/intermediate.crt); lent, length in *len. */
const uint8_t *
pki_ca_intermediate_der(const struct pki_ca *ca, size_t *len)
{
    *len = ca->intermediate_der_len;
    return ca->intermediate_der;
}

/* The intermediate's key type, e.g. "ecdsa-p256"; lent. */
const char *
pki_ca_key_type(const struct pki_ca *ca)
{
    return ca->key_type;
}

/* The intermediate's not_after: no leaf outlives it. Seconds, UTC. */
time_t
pki_ca_not_after(const struct pki_ca *ca)
{
    return ca->not_after;
}

/* The public listener's base URL, without trailing slash; lent. */
const char *
pki_ca_public_url(const struct pki_ca *ca)
{
    return ca->public_url;
}

/* not_before <= now < not_after (RFC 5280 4.1.2.5, at the caller's now). */
static bool
valid_at(gnutls_x509_crt_t crt, time_t now)
{
    time_t not_before = gnutls_x509_crt_get_activation_time(crt);
    time_t not_after = gnutls_x509_crt_get_expiration_time(crt);

    return not_before != (time_t)-1 && not_after != (time_t)-1 &&
           not_before <= now && now < not_after;
}

/* GnuTLS's chain check: our intermediate, our root, clientAuth usage. */
static bool
chain_ok(const struct pki_ca *ca, gnutls_x509_crt_t leaf)
{
    gnutls_x509_crt_t chain[2];
    gnutls_typed_vdata_st purpose;
    unsigned status = 0;
    int ret;

    chain[0] = leaf;
    chain[1] = ca->intermediate;
    purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
    purpose.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT;
    purpose.size = 0;
    ret = gnutls_x509_trust_list_verify_crt2(ca->trust, chain, 2, &purpose, 1,
                                             VERIFY_FLAGS, &status, NULL);
    if (ret < 0) {
        log_err("event=client_cert err=\"%s\"", gnutls_strerror(ret));
        return false;
    }
    if (status != 0) {
        log_status(LOG_INFO, "client_cert_refused", "chain to our root",
                   status);
        return false;
    }
    return true;
}

/* The leaf itself: issued by our intermediate, not a CA, in its time. */
static bool
leaf_ok(const struct pki_ca *ca, gnutls_x509_crt_t leaf, time_t now)
{
    if (!gnutls_x509_crt_check_issuer(leaf, ca->intermediate)) {
        log_info("event=client_cert_refused reason=\"not issued by our "
                 "intermediate\"");
        return false;
    }
    if (is_ca(leaf)) {
        log_info("event=client_cert_refused reason=\"a CA certificate, "
                 "RFC 5280 4.2.1.9\"");
        return false;
    }
    if (!valid_at(leaf, now) || !valid_at(ca->intermediate, now)) {
        log_info("event=client_cert_refused reason=\"expired or not yet "
                 "valid\"");
        return false;
    }
    return true;
}

/* What the API needs to know about the caller. */
static enum wd_err
describe(gnutls_x509_crt_t leaf, const uint8_t *der, size_t len,
         struct pki_client *out)
{
    char *cn = NULL;
    enum wd_err rc;

    rc = pki_serial_get(leaf, out->serial);
    if (rc == WD_OK) {
        rc = pki_der_fingerprint(der, len, out->fingerprint);
    }
    if (rc == WD_OK) {
        rc = pki_crt_cn(leaf, &cn);
    }
    if (rc != WD_OK) {
        return rc;
    }
    out->cn[0] = '\0';
    if (cn != NULL && strlen(cn) < sizeof(out->cn) &&
        pki_name_is_printable(cn, strlen(cn))) {
        memcpy(out->cn, cn, strlen(cn) + 1);
    }
    free(cn);
    out->not_after = gnutls_x509_crt_get_expiration_time(leaf);
    return WD_OK;
}

/*
 * Verify a TLS peer's certificate list (leaf first, DER) against this CA.
 * Only the leaf is taken from the peer; the chain checked is the leaf, our
 * intermediate and our root, for TLS client authentication (EKU
 * clientAuth), with both certificates valid at now. On success *out holds
 * the leaf's serial, fingerprint, CN (printable ASCII, else "") and
 * not_after. WD_E_CLIENT_CERT_MISSING for an empty list,
 * WD_E_CLIENT_CERT_INVALID (reason logged at info) otherwise; *out is
 * written only on success. Revocation is the caller's check.
 */
enum wd_err
pki_ca_verify_client(const struct pki_ca *ca, const uint8_t *const *ders,
                     const size_t *lens, size_t n, time_t now,
                     struct pki_client *out)
{
    gnutls_x509_crt_t leaf = NULL;
    struct pki_client client;
    gnutls_datum_t d;
    enum wd_err rc = WD_E_CLIENT_CERT_INVALID;
    int ret;

    if (n == 0 || ders == NULL || lens == NULL) {
        return WD_E_CLIENT_CERT_MISSING;
    }
    ret = gnutls_x509_crt_init(&leaf);
    if (ret >= 0 && ders[0] != NULL) {
        d.data = (unsigned char *)ders[0];
        d.size = (unsigned)lens[0];
        ret = gnutls_x509_crt_import(leaf, &d, GNUTLS_X509_FMT_DER);
    }
    if (ret < 0 || ders[0] == NULL) {
        log_info("event=client_cert_refused err=\"%s\"",
                 ret < 0 ? gnutls_strerror(ret) : "\"empty\"");
        goto out;
    }
    if (!chain_ok(ca, leaf) || !leaf_ok(ca, leaf, now)) {
        goto out;
    }
    if (describe(leaf, ders[0], lens[0], &client) != WD_OK) {
        goto out;
    }
    *out = client;
    rc = WD_OK;
out:
    gnutls_x509_crt_deinit(leaf);
    return rc;
}
