/*
 * OCSP requests (RFC 6960 4.1) as the public listener receives them:
 * hostile bytes, decoded by GnuTLS into the one CertID Warden answers
 * for. The serial comes out in the hex form the store keys on, "ours"
 * says whether the CertID names our intermediate, and the CertID's own
 * bytes and the nonce are kept for the response to echo.
 */
#include "pki_priv.h"

#include <gnutls/ocsp.h>
#include <string.h>

#include "../base/log.h"
#include "../base/parse.h"

/* A request for one certificate is about 100 bytes, a signed one with
 * its certificate chain a few KiB; 64 KiB bounds the work one can cause. */
#define MAX_REQUEST_BYTES (64 * 1024)

/* RFC 5280 4.1.2.2: a serial is at most 20 octets. */
#define SERIAL_MAX_OCTETS (WD_MAX_SERIAL_HEX / 2)

/* The INTEGER's bytes as the store's hex: leading zero bytes stripped,
 * "0" for zero. A negative serial, or one over 20 octets, is no serial a
 * conforming CA issues (RFC 5280 4.1.2.2). */
static enum wd_err
serial_hex(const gnutls_datum_t *sn, char out[WD_MAX_SERIAL_HEX + 1])
{
    size_t first;

    if (sn->size == 0 || (sn->data[0] & 0x80) != 0) {
        log_info("event=ocsp_refused reason=\"serial empty or negative, "
                 "RFC 5280 4.1.2.2\"");
        return WD_E_OCSP_MALFORMED;
    }
    for (first = 0; first < sn->size && sn->data[first] == 0; first++) {
    }
    if (first == sn->size) {
        memcpy(out, "0", 2);
        return WD_OK;
    }
    if (sn->size - first > SERIAL_MAX_OCTETS) {
        log_info("event=ocsp_refused reason=\"serial over 20 octets, RFC "
                 "5280 4.1.2.2\"");
        return WD_E_OCSP_MALFORMED;
    }
    wd_hex_encode(sn->data + first, sn->size - first, out);
    return WD_OK;
}

/* Whether name_hash and key_hash (digest's size, checked by the caller)
 * are those of our intermediate's subject DN and public key bits. */
static enum wd_err
names_us(const struct pki_ca *ca, gnutls_digest_algorithm_t digest,
         const gnutls_datum_t *name_hash, const gnutls_datum_t *key_hash,
         bool *ours)
{
    gnutls_datum_t dn = { NULL, 0 };
    uint8_t name[PKI_KEY_ID_MAX];
    uint8_t key[PKI_KEY_ID_MAX];
    size_t key_len = 0;
    enum wd_err rc;
    int ret;

    ret = gnutls_x509_crt_get_raw_dn(ca->intermediate, &dn);
    if (ret >= 0) {
        ret = gnutls_hash_fast(digest, dn.data, dn.size, name);
    }
    gnutls_free(dn.data);
    if (ret < 0) {
        log_err("event=ocsp_request what=name_hash err=\"%s\"",
                gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    rc = pki_ocsp_key_hash(ca->intermediate_der, ca->intermediate_der_len,
                           digest, key, &key_len);
    if (rc != WD_OK) {
        return rc;
    }
    *ours = key_hash->size == key_len &&
            memcmp(name_hash->data, name, name_hash->size) == 0 &&
            memcmp(key_hash->data, key, key_len) == 0;
    return WD_OK;
}

/* The one CertID: its hash algorithm, serial and whether it is ours. */
static enum wd_err
read_cert_id(const struct pki_ca *ca, gnutls_ocsp_req_t req,
             struct pki_ocsp_req *out)
{
    gnutls_digest_algorithm_t digest = GNUTLS_DIG_UNKNOWN;
    gnutls_datum_t name_hash = { NULL, 0 };
    gnutls_datum_t key_hash = { NULL, 0 };
    gnutls_datum_t serial = { NULL, 0 };
    enum wd_err rc = WD_E_OCSP_MALFORMED;
    size_t hash_len;
    int ret;

    ret = gnutls_ocsp_req_get_cert_id(req, 0, &digest, &name_hash, &key_hash,
                                      &serial);
    if (ret < 0) {
        log_info("event=ocsp_refused what=cert_id err=\"%s\"",
                 gnutls_strerror(ret));
        goto out;
    }
    /* Warden answers for one certificate per request, as RFC 5019 2.1.1
     * clients ask; a list would need as many lookups and answers */
    ret = gnutls_ocsp_req_get_cert_id(req, 1, NULL, NULL, NULL, NULL);
    if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        log_info("event=ocsp_refused reason=\"more than one CertID\"");
        goto out;
    }
    if (digest != GNUTLS_DIG_SHA1 && digest != GNUTLS_DIG_SHA256) {
        log_info("event=ocsp_refused reason=\"CertID hash neither SHA-1 nor "
                 "SHA-256\"");
        goto out;
    }
    hash_len = gnutls_hash_get_len(digest);
    if (name_hash.size != hash_len || key_hash.size != hash_len) {
        log_info("event=ocsp_refused reason=\"CertID hashes of the wrong "
                 "size\"");
        goto out;
    }
    rc = serial_hex(&serial, out->serial);
    if (rc == WD_OK) {
        rc = names_us(ca, digest, &name_hash, &key_hash, &out->ours);
    }
    out->hash = (int)digest;
out:
    gnutls_free(name_hash.data);
    gnutls_free(key_hash.data);
    gnutls_free(serial.data);
    return rc;
}

/*
 * The CertID exactly as the client encoded it, for the response to echo
 * (clients compare the response's CertID with the one they sent). GnuTLS
 * hands out the CertID's parts only, and rebuilding it from them can
 * change the bytes (hash parameters NULL or absent, a serial's leading
 * zero), so its place in the request is found with our own module.
 */
static enum wd_err
copy_cert_id(const uint8_t *der, size_t len, struct pki_ocsp_req *out)
{
    asn1_node req = NULL;
    int start = 0;
    int end = -1;
    enum wd_err rc;
    int ret;

    rc = pki_ocsp_asn_decode("OCSPRequest", der, len, &req);
    if (rc == WD_E_OCSP_MALFORMED) {
        log_info("event=ocsp_refused reason=\"not one DER OCSPRequest\"");
    }
    if (rc != WD_OK) {
        return rc;
    }
    rc = WD_E_OCSP_MALFORMED;
    ret = asn1_der_decoding_startEnd(
        req, der, (int)len, "tbsRequest.requestList.?1.reqCert", &start, &end);
    if (ret != ASN1_SUCCESS || start < 0 || end < start) {
        log_info("event=ocsp_refused what=cert_id err=\"%s\"",
                 asn1_strerror(ret));
        goto out;
    }
    if ((size_t)(end - start) + 1 > sizeof(out->cert_id)) {
        log_info("event=ocsp_refused reason=\"CertID over %zu bytes\"",
                 sizeof(out->cert_id));
        goto out;
    }
    out->cert_id_len = (size_t)(end - start) + 1;
    memcpy(out->cert_id, der + start, out->cert_id_len);
    rc = WD_OK;
out:
    asn1_delete_structure(&req);
    return rc;
}

/* RFC 8954 2.1: the nonce, an OCTET STRING of 1 to 32 octets in the
 * standard; we echo up to PKI_OCSP_MAX_NONCE for older clients. */
static enum wd_err
read_nonce(gnutls_ocsp_req_t req, struct pki_ocsp_req *out)
{
    gnutls_datum_t nonce = { NULL, 0 };
    unsigned critical = 0;
    enum wd_err rc = WD_E_OCSP_MALFORMED;
    int ret;

    ret = gnutls_ocsp_req_get_nonce(req, &critical, &nonce);
    if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        out->has_nonce = false;
        return WD_OK;
    }
    if (ret < 0) {
        log_info("event=ocsp_refused what=nonce err=\"%s\"",
                 gnutls_strerror(ret));
        return WD_E_OCSP_MALFORMED;
    }
    if (nonce.size == 0 || nonce.size > PKI_OCSP_MAX_NONCE) {
        log_info("event=ocsp_refused reason=\"nonce empty or over %d bytes, "
                 "RFC 8954 2.1\"",
                 PKI_OCSP_MAX_NONCE);
        goto out;
    }
    out->has_nonce = true;
    out->nonce_len = nonce.size;
    memcpy(out->nonce, nonce.data, nonce.size);
    rc = WD_OK;
out:
    gnutls_free(nonce.data);
    return rc;
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
    gnutls_ocsp_req_t req = NULL;
    struct pki_ocsp_req parsed;
    gnutls_datum_t d;
    enum wd_err rc = WD_E_OCSP_MALFORMED;
    int ret;

    memset(&parsed, 0, sizeof(parsed));
    if (der == NULL || len == 0 || len > MAX_REQUEST_BYTES) {
        log_info("event=ocsp_refused reason=\"empty or over %d bytes\"",
                 MAX_REQUEST_BYTES);
        return WD_E_OCSP_MALFORMED;
    }
    ret = gnutls_ocsp_req_init(&req);
    if (ret < 0) {
        log_err("event=ocsp_request err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    d.data = (unsigned char *)der;
    d.size = (unsigned)len;
    ret = gnutls_ocsp_req_import(req, &d);
    if (ret < 0) {
        log_info("event=ocsp_refused err=\"%s\"", gnutls_strerror(ret));
        goto out;
    }
    rc = read_cert_id(ca, req, &parsed);
    if (rc == WD_OK) {
        rc = copy_cert_id(der, len, &parsed);
    }
    if (rc == WD_OK) {
        rc = read_nonce(req, &parsed);
    }
    if (rc != WD_OK) {
        goto out;
    }
    *out = parsed;
out:
    gnutls_ocsp_req_deinit(req);
    return rc;
}
