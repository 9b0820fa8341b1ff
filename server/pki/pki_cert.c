/*
 * Certificates through GnuTLS's API: what every leaf the intermediate
 * signs shares, for the leaves built outside pki_leaf.c (the OCSP
 * responder's delegated certificate), and decoding one we issued into the
 * struct pki_cert the store and the API work with.
 */
#include "pki_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/parse.h"
#include "../base/xmalloc.h"

/*
 * The validity of every leaf the intermediate signs, issued at now for
 * validity_s: from now - WD_BACKDATE_S (clients whose clocks run slow),
 * to now + validity_s but never past the intermediate. WD_E_BAD_VALIDITY
 * for a zero validity, WD_E_CONFIG (logged) once the intermediate has
 * expired.
 */
enum wd_err
pki_leaf_validity(const struct pki_ca *ca, time_t now, uint64_t validity_s,
                  time_t *not_before, time_t *not_after)
{
    if (validity_s == 0) {
        return WD_E_BAD_VALIDITY;
    }
    if (ca->not_after <= now) {
        log_err("event=cert_issue err=\"the intermediate has expired\"");
        return WD_E_CONFIG;
    }
    *not_before = now - WD_BACKDATE_S;
    *not_after = ca->not_after;
    if ((uint64_t)(ca->not_after - now) > validity_s) {
        *not_after = now + (time_t)validity_s;
    }
    return WD_OK;
}

/* Version, serial and validity. */
static enum wd_err
set_basics(gnutls_x509_crt_t crt, const struct pki_ca *ca,
           const struct pki_leaf *leaf)
{
    time_t not_before = 0;
    time_t not_after = 0;
    enum wd_err rc;
    int ret;

    rc = pki_leaf_validity(ca, leaf->now, leaf->validity_s, &not_before,
                           &not_after);
    if (rc != WD_OK) {
        return rc;
    }
    ret = gnutls_x509_crt_set_version(crt, 3);
    if (ret < 0) {
        log_err("event=cert_issue err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    rc = pki_serial_set(crt, leaf->serial);
    if (rc != WD_OK) {
        return rc;
    }
    ret = gnutls_x509_crt_set_activation_time(crt, not_before);
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_expiration_time(crt, not_after);
    }
    if (ret < 0) {
        log_err("event=cert_issue err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * Writes into crt what every leaf the intermediate signs holds, whatever
 * its subject, key and purpose: v3, the serial leaf->serial, not_before
 * now - WD_BACKDATE_S, not_after now + validity_s but never past the
 * intermediate's, basicConstraints CA:FALSE, leaf->key_usage, SKI
 * leaf->ski and AKI the intermediate's SKI. WD_E_BAD_SERIAL,
 * WD_E_BAD_VALIDITY for a zero validity, WD_E_CONFIG once the
 * intermediate has expired, WD_E_INTERNAL (logged) if GnuTLS fails.
 */
enum wd_err
pki_cert_set_leaf(gnutls_x509_crt_t crt, const struct pki_ca *ca,
                  const struct pki_leaf *leaf)
{
    enum wd_err rc;
    int ret;

    rc = set_basics(crt, ca, leaf);
    if (rc != WD_OK) {
        return rc;
    }
    /* RFC 5280 4.2.1.9: CA:FALSE, critical (GnuTLS marks it so) */
    ret = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
    /* RFC 5280 4.2.1.3: keyUsage, critical (GnuTLS marks it so) */
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_key_usage(crt, leaf->key_usage);
    }
    /* RFC 5280 4.2.1.2 */
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_subject_key_id(crt, leaf->ski, leaf->ski_len);
    }
    /* RFC 5280 4.2.1.1: AKI = the issuer's SKI */
    if (ret >= 0) {
        ret = gnutls_x509_crt_set_authority_key_id(crt, ca->ski, ca->ski_len);
    }
    if (ret < 0) {
        log_err("event=cert_issue err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * Signs crt as the intermediate and decodes the result: the last step of
 * every leaf's issuance. Caller owns *out (pki_cert_free); WD_E_INTERNAL
 * (logged) on failure.
 */
enum wd_err
pki_cert_sign(const struct pki_ca *ca, gnutls_x509_crt_t crt,
              struct pki_cert **out)
{
    gnutls_datum_t der = { NULL, 0 };
    enum wd_err rc;
    int ret;

    rc = pki_signer_sign_crt(ca->signer, crt);
    if (rc != WD_OK) {
        return rc;
    }
    ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);
    if (ret < 0) {
        log_err("event=cert_issue err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    rc = pki_cert_parse(der.data, der.size, out);
    gnutls_free(der.data);
    return rc;
}

/*
 * Writes the SHA-256 of der as 64 lowercase hex digits into out.
 * WD_E_INTERNAL (logged) if GnuTLS fails.
 */
enum wd_err
pki_der_fingerprint(const uint8_t *der, size_t len, char out[65])
{
    uint8_t digest[32];
    int ret;

    ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, digest);
    if (ret < 0) {
        log_err("event=fingerprint err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    wd_hex_encode(digest, sizeof(digest), out);
    return WD_OK;
}

/*
 * The value of the first CN AVA in dn if it is a string type GnuTLS hands
 * over as bytes (UTF8String, PrintableString, IA5String, T61String) with
 * no NUL: *out set (caller frees) or left NULL, and *found says whether
 * any CN was seen at all.
 */
#define CN_OID GNUTLS_OID_X520_COMMON_NAME

static void
cn_raw(gnutls_x509_dn_t dn, char **out, bool *found)
{
    gnutls_x509_ava_st ava;
    int irdn;
    int iava;

    *found = false;
    for (irdn = 0;; irdn++) {
        for (iava = 0;; iava++) {
            if (gnutls_x509_dn_get_rdn_ava(dn, irdn, iava, &ava) < 0) {
                break;
            }
            /* the dotted OID, its size counting a trailing NUL or not */
            if (ava.oid.size < sizeof(CN_OID) - 1 ||
                ava.oid.size > sizeof(CN_OID) ||
                memcmp(ava.oid.data, CN_OID, sizeof(CN_OID) - 1) != 0 ||
                (ava.oid.size == sizeof(CN_OID) &&
                 ava.oid.data[sizeof(CN_OID) - 1] != '\0')) {
                continue;
            }
            *found = true;
            /* ASN.1 universal tags: UTF8String 12, PrintableString 19,
             * T61String 20, IA5String 22 */
            if ((ava.value_tag == 12 || ava.value_tag == 19 ||
                 ava.value_tag == 20 || ava.value_tag == 22) &&
                memchr(ava.value.data, '\0', ava.value.size) == NULL) {
                *out = xstrndup((const char *)ava.value.data, ava.value.size);
            }
            return;
        }
        if (iava == 0) {
            return; /* no RDN at irdn: the end of the name */
        }
    }
}

/*
 * Sets *out to the first CN of crt's subject as written: the string itself,
 * not escaped for a DN (the subject text is), so a search, a grant or a
 * page shows what the requester wrote. A value of another type comes as
 * GnuTLS renders it ("#" and hex). NULL if there is no CN. The caller owns
 * *out (free).
 */
enum wd_err
pki_crt_cn(gnutls_x509_crt_t crt, char **out)
{
    gnutls_x509_dn_t dn = NULL;
    char *cn = NULL;
    size_t size = 0;
    bool found = false;
    int ret;

    ret = gnutls_x509_crt_get_subject(crt, &dn);
    if (ret < 0) {
        log_err("event=cert_cn err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    cn_raw(dn, &cn, &found);
    if (cn != NULL || !found) {
        *out = cn;
        return WD_OK;
    }
    ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
                                        NULL, &size);
    if (ret != GNUTLS_E_SHORT_MEMORY_BUFFER) {
        log_err("event=cert_cn err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    cn = xmalloc(size + 1);
    ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
                                        cn, &size);
    if (ret < 0) {
        log_err("event=cert_cn err=\"%s\"", gnutls_strerror(ret));
        free(cn);
        return WD_E_INTERNAL;
    }
    cn[size] = '\0';
    *out = cn;
    return WD_OK;
}

/* Subject text, CN and SANs. */
static enum wd_err
read_names(gnutls_x509_crt_t crt, struct pki_cert *cert)
{
    gnutls_datum_t d = { NULL, 0 };
    unsigned critical;
    enum wd_err rc;
    int ret;

    ret = gnutls_x509_crt_get_dn3(crt, &d, 0);
    if (ret < 0 && ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        log_err("event=cert_parse what=subject err=\"%s\"",
                gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    cert->subject = pki_datum_take_str(&d);
    rc = pki_crt_cn(crt, &cert->cn);
    if (rc != WD_OK) {
        return rc;
    }
    ret = gnutls_x509_crt_get_extension_by_oid2(crt, PKI_OID_SAN, 0, &d,
                                                &critical);
    if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        return WD_OK;
    }
    if (ret < 0) {
        log_err("event=cert_parse what=san err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    rc = pki_sans_decode(&d, &cert->sans, &cert->n_sans);
    gnutls_free(d.data);
    return rc;
}

/* Key type, profile, validity. */
static enum wd_err
read_usage(gnutls_x509_crt_t crt, struct pki_cert *cert)
{
    gnutls_pubkey_t pub = NULL;
    enum wd_err rc = WD_E_INTERNAL;
    int ret;

    ret = gnutls_pubkey_init(&pub);
    if (ret >= 0) {
        ret = gnutls_pubkey_import_x509(pub, crt, 0);
    }
    if (ret < 0) {
        log_err("event=cert_parse what=key err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    rc = pki_key_type(pub, cert->key_type);
    if (rc != WD_OK) {
        goto out;
    }
    cert->profile = pki_profile_of_crt(crt);
    cert->not_before = gnutls_x509_crt_get_activation_time(crt);
    cert->not_after = gnutls_x509_crt_get_expiration_time(crt);
    if (cert->not_before == (time_t)-1 || cert->not_after == (time_t)-1) {
        log_err("event=cert_parse err=\"unreadable validity\"");
        rc = WD_E_INTERNAL;
    }
out:
    gnutls_pubkey_deinit(pub);
    return rc;
}

/*
 * Decode a DER certificate (one we issued) into the fields the store and
 * the API need: serial (lowercase hex, leading zero bytes stripped), DER
 * and PEM, subject, CN, SANs, key type, profile (from the EKU), validity
 * and SHA-256 fingerprint. Caller owns *out (pki_cert_free); on failure
 * *out is untouched and WD_E_INTERNAL (or the name or key reason) is
 * returned.
 */
enum wd_err
pki_cert_parse(const uint8_t *der, size_t len, struct pki_cert **out)
{
    struct pki_cert *cert = xcalloc(1, sizeof(*cert));
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d;
    enum wd_err rc = WD_E_INTERNAL;
    int ret;

    ret = gnutls_x509_crt_init(&crt);
    if (ret >= 0) {
        d.data = (unsigned char *)der;
        d.size = (unsigned)len;
        ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
    }
    if (ret < 0) {
        log_err("event=cert_parse err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    rc = pki_serial_get(crt, cert->serial);
    if (rc != WD_OK) {
        goto out;
    }
    cert->der = xmemdup(der, len);
    cert->der_len = len;
    ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
    if (ret < 0) {
        log_err("event=cert_parse what=pem err=\"%s\"", gnutls_strerror(ret));
        rc = WD_E_INTERNAL;
        goto out;
    }
    cert->pem = pki_datum_take_str(&d);
    rc = read_names(crt, cert);
    if (rc == WD_OK) {
        rc = read_usage(crt, cert);
    }
    if (rc == WD_OK) {
        rc = pki_der_fingerprint(der, len, cert->fingerprint);
    }
    if (rc != WD_OK) {
        goto out;
    }
    *out = cert;
    cert = NULL;
out:
    gnutls_x509_crt_deinit(crt);
    pki_cert_free(cert);
    return rc;
}

/* Frees cert and everything it holds; accepts NULL. */
void
pki_cert_free(struct pki_cert *cert)
{
    if (cert == NULL) {
        return;
    }
    free(cert->der);
    free(cert->pem);
    free(cert->subject);
    free(cert->cn);
    pki_sans_free(cert->sans, cert->n_sans);
    free(cert);
}
