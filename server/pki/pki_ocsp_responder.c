/*
 * Who signs OCSP responses: a delegated responder (RFC 6960 4.2.2.2), a
 * short-lived leaf of the intermediate with id-kp-OCSPSigning that init
 * issues and the daemon renews, or the intermediate itself. The
 * delegated key is held by a signer of its own (pki_signer.c), so every
 * private key operation stays in one file; the intermediate's signer is
 * borrowed from the CA. Responses (pki_ocsp_resp.c) name the responder
 * by the hash of its key and carry its certificate when it is delegated.
 */
#include "pki_priv.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

/* RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck, whose value is NULL. */
#define OID_OCSP_NOCHECK "1.3.6.1.5.5.7.48.1.5"

/* RFC 5280 appendix A.1: ub-common-name. */
#define MAX_CN 64

#define RESPONDER_CN_SUFFIX " OCSP Responder"

/* Time checks are the caller's (it renews before not_after); GnuTLS
 * checks the signature and that the intermediate may issue. */
#define VERIFY_FLAGS                                                           \
    (GNUTLS_VERIFY_DISABLE_TIME_CHECKS |                                       \
     GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS)

/* X.690 8.8: the value of id-pkix-ocsp-nocheck. */
static const uint8_t der_null[] = { 0x05, 0x00 };

/* RFC 6960 4.2.2.2: a delegated responder says so in its EKU. */
static bool
has_ocsp_signing(gnutls_x509_crt_t crt)
{
    char oid[128];
    size_t size;
    unsigned i;
    int ret;

    for (i = 0;; i++) {
        size = sizeof(oid);
        ret = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size, NULL);
        if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
            continue; /* an OID too long to be this one */
        }
        if (ret < 0) {
            return false;
        }
        if (strcmp(oid, GNUTLS_KP_OCSP_SIGNING) == 0) {
            return true;
        }
    }
}

/* The certificate: issued by our intermediate, for OCSP signing. */
static enum wd_err
check_delegated(const struct pki_ca *ca, gnutls_x509_crt_t crt)
{
    unsigned status = 0;
    int ret;

    ret = gnutls_x509_crt_verify(crt, &ca->intermediate, 1, VERIFY_FLAGS,
                                 &status);
    if (ret < 0) {
        log_err("event=ocsp_responder_load err=\"%s\"", gnutls_strerror(ret));
        return WD_E_CONFIG;
    }
    if (status != 0 || !gnutls_x509_crt_check_issuer(crt, ca->intermediate)) {
        log_err("event=ocsp_responder_load err=\"the certificate was not "
                "issued by our intermediate\"");
        return WD_E_CONFIG;
    }
    if (!has_ocsp_signing(crt)) {
        log_err("event=ocsp_responder_load err=\"no id-kp-OCSPSigning EKU, "
                "RFC 6960 4.2.2.2\"");
        return WD_E_CONFIG;
    }
    return WD_OK;
}

/* A delegated responder from its certificate and key (PEM). */
static enum wd_err
load_delegated(const struct pki_ca *ca, const char *cert_pem,
               const char *key_pem, struct pki_ocsp_responder *r)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t der = { NULL, 0 };
    enum wd_err rc;
    int ret;

    rc = pki_crt_import_pem(cert_pem, "ocsp_responder_load", "certificate",
                            &crt);
    if (rc == WD_OK) {
        rc = check_delegated(ca, crt);
    }
    if (rc != WD_OK) {
        goto out;
    }
    ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);
    if (ret < 0) {
        log_err("event=ocsp_responder_load err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_INTERNAL;
        goto out;
    }
    r->cert_der = xmemdup(der.data, der.size);
    r->cert_der_len = der.size;
    r->not_after = gnutls_x509_crt_get_expiration_time(crt);
    /* the key belongs to the certificate and is of a type we sign with */
    rc = pki_signer_new(&(struct pki_key_src){ .pem = key_pem }, r->cert_der,
                        r->cert_der_len, &r->own);
    r->signer = r->own;
out:
    gnutls_free(der.data);
    gnutls_x509_crt_deinit(crt);
    return rc;
}

/*
 * A responder for ca: with cert_pem and key_pem, the delegated responder
 * they hold, which must be issued by ca's intermediate (expired or not:
 * the caller renews it), carry id-kp-OCSPSigning, and match the key; with
 * both NULL, the intermediate, signing through ca's signer. ca must
 * outlive the responder. Caller owns *out (pki_ocsp_responder_free).
 * WD_E_CONFIG (logged) for a certificate or key that does not qualify or
 * only one of the two, WD_E_INTERNAL (logged) otherwise.
 */
enum wd_err
pki_ocsp_responder_new(const struct pki_ca *ca, const char *cert_pem,
                       const char *key_pem, struct pki_ocsp_responder **out)
{
    struct pki_ocsp_responder *r = xcalloc(1, sizeof(*r));
    const uint8_t *der = ca->intermediate_der;
    size_t der_len = ca->intermediate_der_len;
    size_t hash_len = 0;
    uint8_t hash[PKI_KEY_ID_MAX];
    enum wd_err rc;

    if ((cert_pem == NULL) != (key_pem == NULL)) {
        log_err("event=ocsp_responder_load err=\"a certificate without its "
                "key, or a key without its certificate\"");
        rc = WD_E_CONFIG;
        goto out;
    }
    if (cert_pem != NULL) {
        rc = load_delegated(ca, cert_pem, key_pem, r);
        if (rc != WD_OK) {
            goto out;
        }
        der = r->cert_der;
        der_len = r->cert_der_len;
    } else {
        r->signer = ca->signer;
        r->not_after = ca->not_after;
    }
    /* RFC 6960 4.2.2.3: ResponderID byKey */
    rc = pki_ocsp_key_hash(der, der_len, GNUTLS_DIG_SHA1, hash, &hash_len);
    if (rc != WD_OK) {
        goto out;
    }
    assert(hash_len == sizeof(r->key_hash));
    memcpy(r->key_hash, hash, sizeof(r->key_hash));
    *out = r;
    r = NULL;
out:
    pki_ocsp_responder_free(r);
    return rc;
}

/* Frees r and the delegated key (GnuTLS wipes it); accepts NULL. */
void
pki_ocsp_responder_free(struct pki_ocsp_responder *r)
{
    if (r == NULL) {
        return;
    }
    pki_signer_free(r->own);
    free(r->cert_der);
    free(r);
}

/* When r's certificate expires (the intermediate's, if r is the
 * intermediate). Seconds, UTC. */
time_t
pki_ocsp_responder_not_after(const struct pki_ocsp_responder *r)
{
    return r->not_after;
}

/* "<intermediate's CN> OCSP Responder", or "OCSP Responder" when that
 * CN is missing, not plain text, or too long for ub-common-name. */
static enum wd_err
responder_cn(const struct pki_ca *ca, char out[MAX_CN + 1])
{
    char *cn = NULL;
    enum wd_err rc;

    rc = pki_crt_cn(ca->intermediate, &cn);
    if (rc != WD_OK) {
        return rc;
    }
    if (cn != NULL && cn[0] != '#' && pki_name_is_printable(cn, strlen(cn)) &&
        strlen(cn) + strlen(RESPONDER_CN_SUFFIX) <= MAX_CN) {
        snprintf(out, MAX_CN + 1, "%s" RESPONDER_CN_SUFFIX, cn);
    } else {
        snprintf(out, MAX_CN + 1, "%s", RESPONDER_CN_SUFFIX + 1);
    }
    free(cn);
    return WD_OK;
}

/* A fresh key of the intermediate's type, or P-256 for a type we do not
 * generate (an imported intermediate's). */
static enum wd_err
responder_key(const struct pki_ca *ca, gnutls_x509_privkey_t *out)
{
    enum pki_keygen kg = PKI_KEYGEN_ECDSA_P256;

    if (!pki_keygen_parse(ca->key_type, &kg)) {
        log_info("event=ocsp_responder_issue key_type=%s using=%s",
                 ca->key_type, pki_keygen_name(kg));
    }
    return pki_key_generate(kg, out);
}

/* Subject, key and what makes the certificate a delegated responder's. */
static enum wd_err
fill(gnutls_x509_crt_t crt, const struct pki_ca *ca, gnutls_x509_privkey_t key,
     const char *serial, time_t now, uint64_t validity_s)
{
    char cn[MAX_CN + 1];
    uint8_t ski[PKI_KEY_ID_MAX];
    size_t ski_len = sizeof(ski);
    struct pki_leaf leaf;
    enum wd_err rc;
    int ret;

    rc = responder_cn(ca, cn);
    if (rc != WD_OK) {
        return rc;
    }
    ret = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                        (unsigned)strlen(cn));
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_key(crt, key);
    }
    /* RFC 5280 4.2.1.2: the key id leaves and CAs get (pki_cert.c) */
    if (ret >= 0) {
        ret = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, ski,
                                             &ski_len);
    }
    if (ret < 0) {
        log_err("event=ocsp_responder_issue err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    leaf.serial = serial;
    leaf.now = now;
    leaf.validity_s = validity_s;
    /* RFC 6960 4.2.2.2: signs OCSP responses and nothing else */
    leaf.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
    leaf.ski = ski;
    leaf.ski_len = ski_len;
    rc = pki_cert_set_leaf(crt, ca, &leaf);
    if (rc != WD_OK) {
        return rc;
    }
    ret = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_OCSP_SIGNING, 0);
    /* RFC 6960 4.2.2.2.1: clients need not ask about the responder */
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_extension_by_oid(
            crt, OID_OCSP_NOCHECK, der_null, sizeof(der_null), 0);
    }
    if (ret < 0) {
        log_err("event=ocsp_responder_issue err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * Issue a delegated OCSP responder certificate from ca's intermediate
 * for a fresh key of the intermediate's type (P-256 for a type we do not
 * generate): subject "CN=<intermediate's CN> OCSP Responder", a new
 * serial, valid from now - WD_BACKDATE_S for validity_s (never past the
 * intermediate), basicConstraints CA:FALSE, keyUsage digitalSignature,
 * EKU id-kp-OCSPSigning alone, id-pkix-ocsp-nocheck, SKI and AKI. On
 * success the caller owns *cert (pki_cert_free) and *key_pem, the key as
 * PKCS#8 PEM (wipe it, then free). WD_E_BAD_VALIDITY for a zero
 * validity, WD_E_CONFIG once the intermediate has expired, WD_E_INTERNAL
 * (logged) otherwise; nothing is written on failure.
 */
enum wd_err
pki_ocsp_responder_issue(const struct pki_ca *ca, time_t now,
                         uint64_t validity_s, char **key_pem,
                         struct pki_cert **cert)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    struct pki_cert *issued = NULL;
    char serial[WD_MAX_SERIAL_HEX + 1];
    enum wd_err rc;
    int ret;

    rc = pki_serial_new(serial);
    if (rc == WD_OK) {
        rc = responder_key(ca, &key);
    }
    if (rc != WD_OK) {
        goto out;
    }
    ret = gnutls_x509_crt_init(&crt);
    if (ret < 0) {
        log_err("event=ocsp_responder_issue err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_INTERNAL;
        goto out;
    }
    rc = fill(crt, ca, key, serial, now, validity_s);
    if (rc == WD_OK) {
        rc = pki_cert_sign(ca, crt, &issued);
    }
    if (rc == WD_OK) {
        rc = pki_key_export_pem(key, "ocsp_responder_issue", key_pem);
    }
    if (rc != WD_OK) {
        goto out;
    }
    *cert = issued;
    issued = NULL;
out:
    pki_cert_free(issued);
    gnutls_x509_crt_deinit(crt);
    if (key != NULL) {
        gnutls_x509_privkey_deinit(key);
    }
    return rc;
}
