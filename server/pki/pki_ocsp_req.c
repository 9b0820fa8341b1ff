/*
 * OCSP requests (RFC 6960 4.1) as the public listener receives them:
 * hostile bytes, decoded once with our own module (ocsp.asn, strict DER)
 * into the one CertID Warden answers for. The serial comes out in the
 * hex form the store keys on, "ours" says whether the CertID names our
 * intermediate (compared with hashes made when the CA was loaded), and
 * the CertID's own bytes and the nonce are kept for the response to echo.
 */
#include "pki_priv.h"

#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/parse.h"

/* A request for one certificate is about 100 bytes, a signed one with
 * its certificate chain a few KiB; 64 KiB bounds the work one can cause. */
#define MAX_REQUEST_BYTES (64 * 1024)

/* RFC 6960 4.4.1: id-pkix-ocsp-nonce. */
#define OID_OCSP_NONCE "1.3.6.1.5.5.7.48.1.2"

/* The CertID hash algorithms we answer for (RFC 6960 4.3, RFC 5019 2.1.1),
 * in the order of struct pki_ca's ocsp_*_hash. */
static const struct cert_id_hash {
    const char *oid;
    gnutls_digest_algorithm_t digest;
} cert_id_hashes[] = {
    { "1.3.14.3.2.26", GNUTLS_DIG_SHA1 },            /* RFC 3279 2.2.1 */
    { "2.16.840.1.101.3.4.2.1", GNUTLS_DIG_SHA256 }, /* RFC 5754 2.2 */
};

#define N_CERT_ID_HASHES (sizeof(cert_id_hashes) / sizeof(cert_id_hashes[0]))

_Static_assert(N_CERT_ID_HASHES ==
                   sizeof(((struct pki_ca *)0)->ocsp_name_hash) /
                       sizeof(((struct pki_ca *)0)->ocsp_name_hash[0]),
               "struct pki_ca holds one CertID hash per algorithm here");

#define CERT_ID "tbsRequest.requestList.?1.reqCert"

/* The INTEGER's bytes as the store's hex: leading zero bytes stripped,
 * "0" for zero. A negative serial, or one over 20 octets, is no serial a
 * conforming CA issues (RFC 5280 4.1.2.2). */
static enum wd_err
serial_hex(const uint8_t *sn, size_t len, char out[WD_MAX_SERIAL_HEX + 1])
{
    if (len == 0 || (sn[0] & 0x80) != 0) {
        log_info("event=ocsp_refused reason=\"serial empty or negative, "
                 "RFC 5280 4.1.2.2\"");
        return WD_E_OCSP_MALFORMED;
    }
    if (!pki_serial_hex(sn, len, out)) {
        log_info("event=ocsp_refused reason=\"serial over 20 octets, RFC "
                 "5280 4.1.2.2\"");
        return WD_E_OCSP_MALFORMED;
    }
    return WD_OK;
}

/* ca's CertID hashes (pki_priv.h): the SHA-1 and SHA-256 of the
 * intermediate's subject DN and of its public key bits. */
enum wd_err
pki_ocsp_issuer_hashes(struct pki_ca *ca)
{
    gnutls_datum_t dn = { NULL, 0 };
    enum wd_err rc = WD_OK;
    size_t key_len = 0;
    size_t i;
    int ret;

    ret = gnutls_x509_crt_get_raw_dn(ca->intermediate, &dn);
    for (i = 0; i < N_CERT_ID_HASHES && ret >= 0 && rc == WD_OK; i++) {
        ret = gnutls_hash_fast(cert_id_hashes[i].digest, dn.data, dn.size,
                               ca->ocsp_name_hash[i]);
        if (ret >= 0) {
            rc = pki_ocsp_key_hash(
                ca->intermediate_der, ca->intermediate_der_len,
                cert_id_hashes[i].digest, ca->ocsp_key_hash[i], &key_len);
        }
    }
    gnutls_free(dn.data);
    if (ret < 0) {
        log_err("event=ocsp_issuer_hashes err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return rc;
}

/* The OCTET STRING at name into buf; false unless exactly want bytes. */
static bool
read_hash(asn1_node req, const char *name, uint8_t buf[PKI_KEY_ID_MAX],
          size_t want)
{
    int len = PKI_KEY_ID_MAX;

    return asn1_read_value(req, name, buf, &len) == ASN1_SUCCESS &&
           (size_t)len == want;
}

/*
 * The one CertID: its hash algorithm, serial, whether it is ours, and its
 * bytes exactly as the client encoded them, for the response to echo
 * (clients compare the response's CertID with the one they sent).
 */
static enum wd_err
read_cert_id(const struct pki_ca *ca, asn1_node req, const uint8_t *der,
             size_t len, struct pki_ocsp_req *out)
{
    char oid[128];
    uint8_t name_hash[PKI_KEY_ID_MAX];
    uint8_t key_hash[PKI_KEY_ID_MAX];
    uint8_t serial[PKI_SERIAL_MAX_BYTES + 2];
    int oid_len = sizeof(oid);
    int serial_len = sizeof(serial);
    int n = 0;
    int start = 0;
    int end = -1;
    size_t hash_len;
    size_t h;
    enum wd_err rc;
    int ret;

    ret = asn1_number_of_elements(req, "tbsRequest.requestList", &n);
    if (ret != ASN1_SUCCESS || n < 1) {
        log_info("event=ocsp_refused what=cert_id reason=\"no CertID\"");
        return WD_E_OCSP_MALFORMED;
    }
    /* Warden answers for one certificate per request, as RFC 5019 2.1.1
     * clients ask; a list would need as many lookups and answers */
    if (n > 1) {
        log_info("event=ocsp_refused reason=\"more than one CertID\"");
        return WD_E_OCSP_MALFORMED;
    }
    ret =
        asn1_read_value(req, CERT_ID ".hashAlgorithm.algorithm", oid, &oid_len);
    for (h = 0; ret == ASN1_SUCCESS && h < N_CERT_ID_HASHES; h++) {
        if (strcmp(oid, cert_id_hashes[h].oid) == 0) {
            break;
        }
    }
    if (ret != ASN1_SUCCESS || h == N_CERT_ID_HASHES) {
        log_info("event=ocsp_refused reason=\"CertID hash neither SHA-1 nor "
                 "SHA-256\"");
        return WD_E_OCSP_MALFORMED;
    }
    hash_len = gnutls_hash_get_len(cert_id_hashes[h].digest);
    if (!read_hash(req, CERT_ID ".issuerNameHash", name_hash, hash_len) ||
        !read_hash(req, CERT_ID ".issuerKeyHash", key_hash, hash_len)) {
        log_info("event=ocsp_refused reason=\"CertID hashes of the wrong "
                 "size\"");
        return WD_E_OCSP_MALFORMED;
    }
    ret = asn1_read_value(req, CERT_ID ".serialNumber", serial, &serial_len);
    if (ret == ASN1_MEM_ERROR) {
        log_info("event=ocsp_refused reason=\"serial over 20 octets, RFC "
                 "5280 4.1.2.2\"");
        return WD_E_OCSP_MALFORMED;
    }
    if (ret != ASN1_SUCCESS) {
        log_info("event=ocsp_refused what=serial err=\"%s\"",
                 asn1_strerror(ret));
        return WD_E_OCSP_MALFORMED;
    }
    rc = serial_hex(serial, (size_t)serial_len, out->serial);
    if (rc != WD_OK) {
        return rc;
    }
    ret = asn1_der_decoding_startEnd(req, der, (int)len, CERT_ID, &start, &end);
    if (ret != ASN1_SUCCESS || start < 0 || end < start) {
        log_info("event=ocsp_refused what=cert_id err=\"%s\"",
                 asn1_strerror(ret));
        return WD_E_OCSP_MALFORMED;
    }
    if ((size_t)(end - start) + 1 > sizeof(out->cert_id)) {
        log_info("event=ocsp_refused reason=\"CertID over %zu bytes\"",
                 sizeof(out->cert_id));
        return WD_E_OCSP_MALFORMED;
    }
    out->cert_id_len = (size_t)(end - start) + 1;
    memcpy(out->cert_id, der + start, out->cert_id_len);
    out->hash = (int)cert_id_hashes[h].digest;
    out->ours = memcmp(name_hash, ca->ocsp_name_hash[h], hash_len) == 0 &&
                memcmp(key_hash, ca->ocsp_key_hash[h], hash_len) == 0;
    return WD_OK;
}

/* RFC 8954 2.1: the nonce, an OCTET STRING of 1 to 32 octets in the
 * standard, carried in the extension's OCTET STRING; we echo up to
 * PKI_OCSP_MAX_NONCE for older clients. The first nonce extension
 * counts. */
static enum wd_err
read_nonce(asn1_node req, struct pki_ocsp_req *out)
{
    char name[96];
    char oid[128];
    uint8_t value[PKI_OCSP_MAX_NONCE + 8];
    const unsigned char *nonce = NULL;
    unsigned nonce_len = 0;
    int n = 0;
    int i;
    int oid_len;
    int value_len;
    int ret;

    out->has_nonce = false;
    ret = asn1_number_of_elements(req, "tbsRequest.requestExtensions", &n);
    if (ret != ASN1_SUCCESS) {
        return WD_OK; /* no extensions */
    }
    for (i = 1; i <= n; i++) {
        snprintf(name, sizeof(name), "tbsRequest.requestExtensions.?%d.extnID",
                 i);
        oid_len = sizeof(oid);
        if (asn1_read_value(req, name, oid, &oid_len) == ASN1_SUCCESS &&
            strcmp(oid, OID_OCSP_NONCE) == 0) {
            break;
        }
    }
    if (i > n) {
        return WD_OK;
    }
    snprintf(name, sizeof(name), "tbsRequest.requestExtensions.?%d.extnValue",
             i);
    value_len = sizeof(value);
    ret = asn1_read_value(req, name, value, &value_len);
    if (ret == ASN1_SUCCESS) {
        ret = asn1_decode_simple_der(ASN1_ETYPE_OCTET_STRING, value,
                                     (unsigned)value_len, &nonce, &nonce_len);
    }
    if (ret == ASN1_MEM_ERROR || (ret == ASN1_SUCCESS && nonce_len == 0)) {
        log_info("event=ocsp_refused reason=\"nonce empty or over %d bytes, "
                 "RFC 8954 2.1\"",
                 PKI_OCSP_MAX_NONCE);
        return WD_E_OCSP_MALFORMED;
    }
    if (ret != ASN1_SUCCESS ||
        (size_t)(nonce - value) + nonce_len != (size_t)value_len) {
        log_info("event=ocsp_refused what=nonce reason=\"not one OCTET "
                 "STRING\"");
        return WD_E_OCSP_MALFORMED;
    }
    if (nonce_len > PKI_OCSP_MAX_NONCE) {
        log_info("event=ocsp_refused reason=\"nonce empty or over %d bytes, "
                 "RFC 8954 2.1\"",
                 PKI_OCSP_MAX_NONCE);
        return WD_E_OCSP_MALFORMED;
    }
    out->has_nonce = true;
    out->nonce_len = nonce_len;
    memcpy(out->nonce, nonce, nonce_len);
    return WD_OK;
}

/*
 * Parse a DER OCSPRequest (at most 64 KiB, nothing after it) holding one
 * CertID with a SHA-1 or SHA-256 hash and a positive serial of at most 20
 * octets, and if it asks for one, a nonce of 1 to PKI_OCSP_MAX_NONCE
 * bytes. A request's signature and other extensions are ignored (RFC 6960
 * 4.1.2, 4.4).
 * out->serial is the serial as the store keys it, out->ours whether the
 * CertID's name and key hashes are our intermediate's, out->cert_id the
 * CertID's DER exactly as sent, out->nonce the nonce's octets. A CertID
 * of another issuer parses fine with ours = false. WD_E_OCSP_MALFORMED
 * (reason logged at info) for anything else, WD_E_INTERNAL (logged) if
 * our own material fails; *out is written only on success.
 */
enum wd_err
pki_ocsp_req_parse(const struct pki_ca *ca, const uint8_t *der, size_t len,
                   struct pki_ocsp_req *out)
{
    asn1_node req = NULL;
    struct pki_ocsp_req parsed;
    enum wd_err rc;

    memset(&parsed, 0, sizeof(parsed));
    if (der == NULL || len == 0 || len > MAX_REQUEST_BYTES) {
        log_info("event=ocsp_refused reason=\"empty or over %d bytes\"",
                 MAX_REQUEST_BYTES);
        return WD_E_OCSP_MALFORMED;
    }
    rc = pki_ocsp_asn_decode("OCSPRequest", der, len, &req);
    if (rc == WD_E_OCSP_MALFORMED) {
        log_info("event=ocsp_refused reason=\"not one DER OCSPRequest\"");
    }
    if (rc == WD_OK) {
        rc = read_cert_id(ca, req, der, len, &parsed);
    }
    if (rc == WD_OK) {
        rc = read_nonce(req, &parsed);
    }
    if (rc == WD_OK) {
        *out = parsed;
    }
    asn1_delete_structure(&req);
    return rc;
}
