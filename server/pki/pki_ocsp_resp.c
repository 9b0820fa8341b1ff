/*
 * OCSP responses (RFC 6960 4.2): a BasicOCSPResponse built with libtasn1
 * from ocsp.asn (GnuTLS reads responses but cannot build one), signed by
 * the responder and wrapped in a successful OCSPResponse; and the
 * unsigned responses that carry nothing but an error status. The caller
 * has parsed the request (pki_ocsp_req_parse) and looked up the answer.
 */
#include "pki_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"

/* RFC 6960 4.2.1: id-pkix-ocsp-basic; 4.4.1: id-pkix-ocsp-nonce. */
#define OID_OCSP_BASIC "1.3.6.1.5.5.7.48.1.1"
#define OID_OCSP_NONCE "1.3.6.1.5.5.7.48.1.2"

/* Paths into a BasicOCSPResponse; Warden answers one CertID at a time. */
#define TBS "tbsResponseData"
#define SINGLE TBS ".responses.?1"

/* RFC 5280 4.1.2.5.2 as RFC 6960 uses it: YYYYMMDDHHMMSSZ, no fraction. */
#define GENERALIZED_TIME_LEN 15

/* X.690 8.8: the NULL that RSA's AlgorithmIdentifier carries. */
static const uint8_t der_null[] = { 0x05, 0x00 };

static enum wd_err
asn_failed(const char *what, int ret)
{
    log_err("event=ocsp_response what=%s err=\"%s\"", what, asn1_strerror(ret));
    return WD_E_INTERNAL;
}

/* Writes value (len as asn1_write_value reads it) at name, or fails. */
static enum wd_err
put(asn1_node node, const char *name, const void *value, int len)
{
    int ret = asn1_write_value(node, name, value, len);

    if (ret != ASN1_SUCCESS) {
        return asn_failed(name, ret);
    }
    return WD_OK;
}

/* A GeneralizedTime in UTC, whole seconds, four-digit years. */
static enum wd_err
put_time(asn1_node node, const char *name, time_t t)
{
    char buf[GENERALIZED_TIME_LEN + 1];
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1000 ||
        tm.tm_year + 1900 > 9999 ||
        strftime(buf, sizeof(buf), "%Y%m%d%H%M%SZ", &tm) !=
            GENERALIZED_TIME_LEN) {
        log_err("event=ocsp_response what=%s err=\"time %lld out of "
                "range\"",
                name, (long long)t);
        return WD_E_INTERNAL;
    }
    return put(node, name, buf, 1);
}

/* An INTEGER or ENUMERATED from a small non-negative number. */
static enum wd_err
put_number(asn1_node node, const char *name, int v)
{
    char buf[16];

    snprintf(buf, sizeof(buf), "%d", v);
    return put(node, name, buf, 0);
}

/* RFC 5280 5.3.1: the reason codes; 7 is unused. */
static bool
reason_ok(int reason)
{
    return reason >= 0 && reason <= 10 && reason != 7;
}

/* RFC 6960 4.2.1 CertStatus: good, revoked (time, reason) or unknown. */
static enum wd_err
put_status(asn1_node basic, const struct pki_ocsp_answer *a)
{
    enum wd_err rc;

    switch (a->status) {
    case PKI_OCSP_GOOD: /* good and unknown are NULLs: choosing is all */
        return put(basic, SINGLE ".certStatus", "good", 1);
    case PKI_OCSP_UNKNOWN:
        return put(basic, SINGLE ".certStatus", "unknown", 1);
    case PKI_OCSP_REVOKED:
        break;
    default:
        log_err("event=ocsp_response err=\"unknown status %d\"",
                (int)a->status);
        return WD_E_INTERNAL;
    }
    if (a->reason >= 0 && !reason_ok(a->reason)) {
        log_err("event=ocsp_response err=\"reason %d is no CRLReason\"",
                a->reason);
        return WD_E_INTERNAL;
    }
    rc = put(basic, SINGLE ".certStatus", "revoked", 1);
    if (rc == WD_OK) {
        rc = put_time(basic, SINGLE ".certStatus.revoked.revocationTime",
                      a->revoked_at);
    }
    if (rc != WD_OK) {
        return rc;
    }
    if (a->reason < 0) {
        return put(basic, SINGLE ".certStatus.revoked.revocationReason", NULL,
                   0);
    }
    return put_number(basic, SINGLE ".certStatus.revoked.revocationReason",
                      a->reason);
}

/* RFC 6960 4.4.1: the request's nonce, as the extension's OCTET STRING
 * value (RFC 8954 2.1), the same bytes the client sent. */
static enum wd_err
put_nonce(asn1_node basic, const struct pki_ocsp_req *req)
{
    uint8_t value[PKI_OCSP_MAX_NONCE + 8];
    unsigned tl_len = sizeof(value);
    enum wd_err rc;
    int ret;

    if (!req->has_nonce) {
        return put(basic, TBS ".responseExtensions", NULL, 0);
    }
    if (req->nonce_len == 0 || req->nonce_len > PKI_OCSP_MAX_NONCE) {
        log_err("event=ocsp_response err=\"nonce of %zu bytes\"",
                req->nonce_len);
        return WD_E_INTERNAL;
    }
    ret = asn1_encode_simple_der(ASN1_ETYPE_OCTET_STRING, req->nonce,
                                 (unsigned)req->nonce_len, value, &tl_len);
    if (ret != ASN1_SUCCESS) {
        return asn_failed("nonce", ret);
    }
    memcpy(value + tl_len, req->nonce, req->nonce_len);
    rc = put(basic, TBS ".responseExtensions", "NEW", 1);
    if (rc == WD_OK) {
        rc = put(basic, TBS ".responseExtensions.?1.extnID", OID_OCSP_NONCE, 1);
    }
    /* critical: FALSE, the DEFAULT, which DER leaves out; so unwritten */
    if (rc == WD_OK) {
        rc = put(basic, TBS ".responseExtensions.?1.extnValue", value,
                 (int)(tl_len + req->nonce_len));
    }
    return rc;
}

/* ResponseData: everything the signature covers. */
static enum wd_err
put_response_data(asn1_node basic, const struct pki_ocsp_responder *r,
                  const struct pki_ocsp_req *req,
                  const struct pki_ocsp_answer *a)
{
    enum wd_err rc;

    /* version: v1, the DEFAULT, which DER leaves out; so left unwritten */
    /* RFC 6960 4.2.2.3: by key, the SHA-1 of the responder's key bits */
    rc = put(basic, TBS ".responderID", "byKey", 1);
    if (rc == WD_OK) {
        rc = put(basic, TBS ".responderID.byKey", r->key_hash,
                 (int)sizeof(r->key_hash));
    }
    if (rc == WD_OK) {
        rc = put_time(basic, TBS ".producedAt", a->produced_at);
    }
    if (rc == WD_OK) {
        rc = put(basic, TBS ".responses", "NEW", 1);
    }
    /* the client's own bytes: it compares them with what it sent */
    if (rc == WD_OK) {
        rc = put(basic, SINGLE ".certID", req->cert_id, (int)req->cert_id_len);
    }
    if (rc == WD_OK) {
        rc = put_status(basic, a);
    }
    if (rc == WD_OK) {
        rc = put_time(basic, SINGLE ".thisUpdate", a->this_update);
    }
    if (rc == WD_OK && a->next_update != 0) {
        rc = put_time(basic, SINGLE ".nextUpdate", a->next_update);
    } else if (rc == WD_OK) {
        rc = put(basic, SINGLE ".nextUpdate", NULL, 0);
    }
    if (rc == WD_OK) {
        rc = put(basic, SINGLE ".singleExtensions", NULL, 0);
    }
    if (rc == WD_OK) {
        rc = put_nonce(basic, req);
    }
    return rc;
}

/* RFC 5280 4.1.1.2 AlgorithmIdentifier of alg: parameters NULL for RSA
 * (RFC 4055 5), absent for ECDSA (RFC 5758 3.2) and Ed25519 (RFC 8410 3). */
static enum wd_err
put_algorithm(asn1_node basic, gnutls_sign_algorithm_t alg)
{
    const char *oid = gnutls_sign_get_oid(alg);
    enum wd_err rc;

    if (oid == NULL) {
        log_err("event=ocsp_response err=\"no OID for signature algorithm "
                "%d\"",
                (int)alg);
        return WD_E_INTERNAL;
    }
    rc = put(basic, "signatureAlgorithm.algorithm", oid, 1);
    if (rc != WD_OK) {
        return rc;
    }
    if (gnutls_sign_get_pk_algorithm(alg) == GNUTLS_PK_RSA) {
        return put(basic, "signatureAlgorithm.parameters", der_null,
                   (int)sizeof(der_null));
    }
    return put(basic, "signatureAlgorithm.parameters", NULL, 0);
}

/* Signs ResponseData and adds the signature and the responder's
 * certificate when it is not the intermediate (RFC 6960 4.2.2.2). */
static enum wd_err
sign(asn1_node basic, const struct pki_ocsp_responder *r)
{
    gnutls_datum_t tbs = { NULL, 0 };
    gnutls_datum_t sig = { NULL, 0 };
    uint8_t *tbs_der = NULL;
    size_t tbs_len = 0;
    enum wd_err rc;

    rc = pki_ocsp_asn_encode(basic, TBS, &tbs_der, &tbs_len);
    if (rc != WD_OK) {
        return rc;
    }
    tbs.data = tbs_der;
    tbs.size = (unsigned)tbs_len;
    rc = pki_signer_sign_data(r->signer, &tbs, &sig);
    if (rc == WD_OK) {
        rc = put_algorithm(basic, pki_signer_algorithm(r->signer));
    }
    if (rc == WD_OK) { /* a BIT STRING's length is in bits */
        rc = put(basic, "signature", sig.data, (int)sig.size * 8);
    }
    if (rc == WD_OK && r->cert_der != NULL) {
        rc = put(basic, "certs", "NEW", 1);
        if (rc == WD_OK) {
            rc = put(basic, "certs.?1", r->cert_der, (int)r->cert_der_len);
        }
    } else if (rc == WD_OK) {
        rc = put(basic, "certs", NULL, 0);
    }
    gnutls_free(sig.data);
    free(tbs_der);
    return rc;
}

/* OCSPResponse { status, responseBytes when basic_der is not NULL }. */
static enum wd_err
wrap(int status, const uint8_t *basic_der, size_t basic_len, uint8_t **der,
     size_t *der_len)
{
    asn1_node resp = NULL;
    enum wd_err rc;

    rc = pki_ocsp_asn_new("OCSPResponse", &resp);
    if (rc == WD_OK) {
        rc = put_number(resp, "responseStatus", status);
    }
    if (rc == WD_OK && basic_der != NULL) {
        rc = put(resp, "responseBytes.responseType", OID_OCSP_BASIC, 1);
        if (rc == WD_OK) {
            rc = put(resp, "responseBytes.response", basic_der, (int)basic_len);
        }
    } else if (rc == WD_OK) {
        rc = put(resp, "responseBytes", NULL, 0);
    }
    if (rc == WD_OK) {
        rc = pki_ocsp_asn_encode(resp, "", der, der_len);
    }
    asn1_delete_structure(&resp);
    return rc;
}

/*
 * A signed OCSPResponse (successful, id-pkix-ocsp-basic) answering req,
 * which must be ours: version v1, responder ID by key hash, producedAt,
 * one SingleResponse with req's CertID as sent, the status of a
 * (revoked with time and, when a->reason >= 0, reason), thisUpdate and
 * nextUpdate (left out when 0), the nonce extension when req has one;
 * signed by r, with r's certificate when r is delegated. On success the
 * caller frees *der; WD_E_INTERNAL (logged) for a request that is not
 * ours, an answer out of range, or a signing failure.
 */
enum wd_err
pki_ocsp_resp_build(const struct pki_ocsp_responder *r,
                    const struct pki_ocsp_req *req,
                    const struct pki_ocsp_answer *a, uint8_t **der,
                    size_t *der_len)
{
    asn1_node basic = NULL;
    uint8_t *basic_der = NULL;
    size_t basic_len = 0;
    enum wd_err rc = WD_E_INTERNAL;

    if (!req->ours || req->cert_id_len == 0 ||
        req->cert_id_len > sizeof(req->cert_id)) {
        log_err("event=ocsp_response err=\"no CertID of ours to answer\"");
        goto out;
    }
    rc = pki_ocsp_asn_new("BasicOCSPResponse", &basic);
    if (rc == WD_OK) {
        rc = put_response_data(basic, r, req, a);
    }
    if (rc == WD_OK) {
        rc = sign(basic, r);
    }
    if (rc == WD_OK) {
        rc = pki_ocsp_asn_encode(basic, "", &basic_der, &basic_len);
    }
    if (rc == WD_OK) {
        rc = wrap(0, basic_der, basic_len, der, der_len); /* successful */
    }
out:
    free(basic_der);
    asn1_delete_structure(&basic);
    return rc;
}

/*
 * An OCSPResponse with status alone (RFC 6960 4.2.1: no responseBytes
 * for an error), e.g. 30 03 0a 01 01 for malformedRequest. The caller
 * frees *der; WD_E_INTERNAL for a status we do not send.
 */
enum wd_err
pki_ocsp_resp_error(enum pki_ocsp_error status, uint8_t **der, size_t *der_len)
{
    switch (status) {
    case PKI_OCSP_MALFORMED_REQUEST:
    case PKI_OCSP_INTERNAL_ERROR:
    case PKI_OCSP_TRY_LATER:
    case PKI_OCSP_UNAUTHORIZED:
        return wrap((int)status, NULL, 0, der, der_len);
    default:
        log_err("event=ocsp_response err=\"unknown error status %d\"",
                (int)status);
        return WD_E_INTERNAL;
    }
}
