/*
 * The ASN.1 module of OCSP (ocsp.asn, RFC 6960), which asn1Parser turns
 * into a C table at build time. The table becomes a libtasn1 tree once
 * per process; from then on every thread that reads a request's CertID
 * creates its elements from that tree, which is never written again.
 * Also here: the one question OCSP asks of a certificate at the DER
 * level, the hash of its subject's public key bits.
 */
#include "pki_priv.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

/* asn1Parser's output, pki_ocsp_asn1_tab.c in the build tree. */
extern const asn1_static_node pki_ocsp_asn1_tab[];

/* The module's name in ocsp.asn, the prefix of every type's name. */
#define MODULE "WardenOCSP."

/* DER only (X.690 10): what we sign must be DER, so what we echo is too;
 * time encodings are left to GnuTLS, which loaded the certificates. */
#define DECODE_FLAGS                                                           \
    (ASN1_DECODE_FLAG_STRICT_DER | ASN1_DECODE_FLAG_ALLOW_INCORRECT_TIME)

static pthread_once_t tree_once = PTHREAD_ONCE_INIT;
static asn1_node tree; /* the definitions; they live as long as the process */
static int tree_ret;

static void
load_tree(void)
{
    char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";

    tree_ret = asn1_array2tree(pki_ocsp_asn1_tab, &tree, err);
    if (tree_ret != ASN1_SUCCESS) {
        log_err("event=ocsp_asn err=\"%s\" at=\"%s\"", asn1_strerror(tree_ret),
                err);
    }
}

/*
 * Creates an empty element of type (a type of ocsp.asn, e.g.
 * "BasicOCSPResponse"), loading the module on first use. On success the
 * caller owns *out (asn1_delete_structure); WD_E_INTERNAL (logged) if the
 * module does not load or has no such type.
 */
enum wd_err
pki_ocsp_asn_new(const char *type, asn1_node *out)
{
    char name[64];
    int ret;

    pthread_once(&tree_once, load_tree);
    if (tree_ret != ASN1_SUCCESS) {
        return WD_E_INTERNAL;
    }
    snprintf(name, sizeof(name), MODULE "%s", type);
    *out = NULL;
    ret = asn1_create_element(tree, name, out);
    if (ret != ASN1_SUCCESS) {
        log_err("event=ocsp_asn type=%s err=\"%s\"", type, asn1_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * Decodes der (len bytes: DER only, nothing after it) as type into a new
 * element. On success the caller owns *out (asn1_delete_structure).
 * WD_E_OCSP_MALFORMED if the bytes are not one such DER object, left to
 * the caller to log (hostile input, or a bug if the bytes are ours);
 * WD_E_INTERNAL (logged) if the module does not load. On failure *out is
 * NULL.
 */
enum wd_err
pki_ocsp_asn_decode(const char *type, const uint8_t *der, size_t len,
                    asn1_node *out)
{
    char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";
    int der_len = (int)len;
    enum wd_err rc;
    int ret;

    *out = NULL;
    if (len > INT_MAX) {
        return WD_E_OCSP_MALFORMED;
    }
    rc = pki_ocsp_asn_new(type, out);
    if (rc != WD_OK) {
        return rc;
    }
    ret = asn1_der_decoding2(out, der, &der_len, DECODE_FLAGS, err);
    if (ret != ASN1_SUCCESS) {
        asn1_delete_structure(out);
        *out = NULL;
        return WD_E_OCSP_MALFORMED;
    }
    return WD_OK;
}

/*
 * Hashes with digest the subject public key of the DER certificate
 * crt_der: the bits of its subjectPublicKey BIT STRING, without tag,
 * length and unused-bits octet, as RFC 6960 4.1.1 (issuerKeyHash) and
 * 4.2.1 (ResponderID byKey) are read by OpenSSL and GnuTLS. Writes the
 * hash into out and its size into *out_len. WD_E_INTERNAL (logged) for a
 * certificate that does not decode: ours were loaded by GnuTLS already.
 */
enum wd_err
pki_ocsp_key_hash(const uint8_t *crt_der, size_t len,
                  gnutls_digest_algorithm_t digest, uint8_t out[PKI_KEY_ID_MAX],
                  size_t *out_len)
{
    asn1_node crt = NULL;
    uint8_t *bits = NULL;
    int bits_len = (int)len; /* in bytes now, in bits once read */
    size_t hash_len = gnutls_hash_get_len(digest);
    enum wd_err rc = WD_E_INTERNAL;
    int ret;

    if (hash_len == 0 || hash_len > PKI_KEY_ID_MAX) {
        log_err("event=ocsp_key_hash err=\"no such digest %d\"", (int)digest);
        return WD_E_INTERNAL;
    }
    if (pki_ocsp_asn_decode("SignedCertificate", crt_der, len, &crt) != WD_OK) {
        log_err("event=ocsp_key_hash err=\"the certificate does not decode\"");
        goto out;
    }
    bits = xmalloc(len); /* the key bits are shorter than the certificate */
    ret = asn1_read_value(
        crt, "tbsCertificate.subjectPublicKeyInfo.subjectPublicKey", bits,
        &bits_len);
    if (ret != ASN1_SUCCESS) {
        log_err("event=ocsp_key_hash what=key err=\"%s\"", asn1_strerror(ret));
        goto out;
    }
    ret = gnutls_hash_fast(digest, bits, ((size_t)bits_len + 7) / 8, out);
    if (ret < 0) {
        log_err("event=ocsp_key_hash err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    *out_len = hash_len;
    rc = WD_OK;
out:
    free(bits);
    asn1_delete_structure(&crt);
    return rc;
}
