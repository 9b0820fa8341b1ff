/*
 * OCSP responses (RFC 6960 4.2): a BasicOCSPResponse written as DER by
 * hand with pki_der.c (GnuTLS reads responses but cannot build one, and
 * building one node by node with libtasn1 cost more than its signature),
 * signed by the responder and wrapped in a successful OCSPResponse; and
 * the unsigned responses that carry nothing but an error status. The
 * caller has parsed the request (pki_ocsp_req_parse) and looked up the
 * answer. tests/unit/test_pki_ocsp_resp.c holds the bytes against those
 * libtasn1 writes from ocsp.asn for the same inputs.
 */
#include "pki_priv.h"

#include "../base/log.h"

/* Pre-encoded OIDs, tag and length included: RFC 6960 4.2.1
 * id-pkix-ocsp-basic (1.3.6.1.5.5.7.48.1.1) and 4.4.1 id-pkix-ocsp-nonce
 * (1.3.6.1.5.5.7.48.1.2). */
static const uint8_t oid_ocsp_basic[] = {
    PKI_DER_OID, 9, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01,
};
static const uint8_t oid_ocsp_nonce[] = {
    PKI_DER_OID, 9, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02,
};

/* RFC 6960 4.2.1: OCSPResponseStatus successful. */
#define STATUS_SUCCESSFUL 0

/* ResponseData's responderID byKey [2] and responseExtensions [1]. */
#define RESPONDER_BY_KEY PKI_DER_CONTEXT(2)
#define RESPONSE_EXTENSIONS PKI_DER_CONTEXT(1)
/* CertStatus: good [0] and unknown [2] IMPLICIT NULL, revoked [1]
 * IMPLICIT RevokedInfo; RevokedInfo's revocationReason [0] EXPLICIT. */
#define STATUS_GOOD PKI_DER_CONTEXT_PRIM(0)
#define STATUS_REVOKED PKI_DER_CONTEXT(1)
#define STATUS_UNKNOWN PKI_DER_CONTEXT_PRIM(2)
#define REVOCATION_REASON PKI_DER_CONTEXT(0)
/* SingleResponse's nextUpdate [0] EXPLICIT. */
#define NEXT_UPDATE PKI_DER_CONTEXT(0)
/* BasicOCSPResponse's certs and OCSPResponse's responseBytes, [0]
 * EXPLICIT both. */
#define CERTS PKI_DER_CONTEXT(0)
#define RESPONSE_BYTES PKI_DER_CONTEXT(0)

/*
 * Room in front of ResponseData's content for what wraps it, so that
 * nothing moves: six headers (ResponseData, BasicOCSPResponse, the
 * OCTET STRING, ResponseBytes, [0], OCSPResponse), the responseType OID
 * and the status.
 */
#define RESP_HEADROOM (6 * PKI_DER_HEADER_MAX + sizeof(oid_ocsp_basic) + 3)

/* RFC 5280 5.3.1: the reason codes; 7 is unused. */
static bool
reason_ok(int reason)
{
    return reason >= 0 && reason <= 10 && reason != 7;
}

/* RFC 6960 4.2.1 CertStatus: good, revoked (time, reason) or unknown. */
static enum wd_err
put_status(struct pki_der *d, const struct pki_ocsp_answer *a)
{
    size_t info;
    size_t reason;

    switch (a->status) {
    case PKI_OCSP_GOOD: /* good and unknown are NULLs: the tag is all */
        pki_der_header(d, STATUS_GOOD, 0);
        return WD_OK;
    case PKI_OCSP_UNKNOWN:
        pki_der_header(d, STATUS_UNKNOWN, 0);
        return WD_OK;
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
    info = pki_der_begin(d, STATUS_REVOKED);
    if (pki_der_generalized_time(d, a->revoked_at) != WD_OK) {
        return WD_E_INTERNAL;
    }
    if (a->reason >= 0) { /* a reason we do not know is left out */
        reason = pki_der_begin(d, REVOCATION_REASON);
        pki_der_uint(d, PKI_DER_ENUMERATED, (uint64_t)a->reason);
        pki_der_end(d, reason);
    }
    pki_der_end(d, info);
    return WD_OK;
}

/* The one SingleResponse, in its SEQUENCE OF. */
static enum wd_err
put_responses(struct pki_der *d, const struct pki_ocsp_req *req,
              const struct pki_ocsp_answer *a)
{
    size_t list = pki_der_begin(d, PKI_DER_SEQUENCE);
    size_t single = pki_der_begin(d, PKI_DER_SEQUENCE);
    size_t next;

    /* the client's own bytes: it compares them with what it sent */
    pki_der_raw(d, req->cert_id, req->cert_id_len);
    if (put_status(d, a) != WD_OK ||
        pki_der_generalized_time(d, a->this_update) != WD_OK) {
        return WD_E_INTERNAL;
    }
    if (a->next_update != 0) {
        next = pki_der_begin(d, NEXT_UPDATE);
        if (pki_der_generalized_time(d, a->next_update) != WD_OK) {
            return WD_E_INTERNAL;
        }
        pki_der_end(d, next);
    }
    /* no singleExtensions */
    pki_der_end(d, single);
    pki_der_end(d, list);
    return WD_OK;
}

/* RFC 6960 4.4.1: the request's nonce, as the extension's OCTET STRING
 * value (RFC 8954 2.1), the same bytes the client sent. */
static void
put_nonce(struct pki_der *d, const struct pki_ocsp_req *req)
{
    size_t outer = pki_der_begin(d, RESPONSE_EXTENSIONS);
    size_t list = pki_der_begin(d, PKI_DER_SEQUENCE);
    size_t ext = pki_der_begin(d, PKI_DER_SEQUENCE);
    size_t value;

    pki_der_raw(d, oid_ocsp_nonce, sizeof(oid_ocsp_nonce));
    /* critical: FALSE, the DEFAULT, which DER leaves out */
    value = pki_der_begin(d, PKI_DER_OCTET_STRING);
    pki_der_prim(d, PKI_DER_OCTET_STRING, req->nonce, req->nonce_len);
    pki_der_end(d, value);
    pki_der_end(d, ext);
    pki_der_end(d, list);
    pki_der_end(d, outer);
}

/* ResponseData (everything the signature covers) as d's only content. */
static enum wd_err
put_response_data(struct pki_der *d, const struct pki_ocsp_responder *r,
                  const struct pki_ocsp_req *req,
                  const struct pki_ocsp_answer *a)
{
    size_t id;

    /* version: v1, the DEFAULT, which DER leaves out */
    /* RFC 6960 4.2.2.3: by key, the SHA-1 of the responder's key bits */
    id = pki_der_begin(d, RESPONDER_BY_KEY);
    pki_der_prim(d, PKI_DER_OCTET_STRING, r->key_hash, sizeof(r->key_hash));
    pki_der_end(d, id);
    if (pki_der_generalized_time(d, a->produced_at) != WD_OK ||
        put_responses(d, req, a) != WD_OK) {
        return WD_E_INTERNAL;
    }
    if (req->has_nonce) {
        put_nonce(d, req);
    }
    pki_der_wrap(d, PKI_DER_SEQUENCE);
    return WD_OK;
}

/*
 * Signs the ResponseData that d holds and makes d the BasicOCSPResponse:
 * the algorithm, the signature, and the responder's certificate when it
 * is not the intermediate (RFC 6960 4.2.2.2).
 */
static enum wd_err
sign(struct pki_der *d, const struct pki_ocsp_responder *r)
{
    gnutls_datum_t tbs;
    gnutls_datum_t sig = { NULL, 0 };
    size_t tbs_len;
    size_t certs;
    size_t list;
    enum wd_err rc;

    tbs.data = (unsigned char *)pki_der_data(d, &tbs_len);
    tbs.size = (unsigned)tbs_len;
    rc = pki_signer_sign_data(r->signer, &tbs, &sig);
    if (rc == WD_OK) {
        rc = pki_der_sig_algorithm(d, pki_signer_algorithm(r->signer));
    }
    if (rc != WD_OK) {
        goto out;
    }
    pki_der_bit_string(d, sig.data, sig.size);
    if (r->cert_der != NULL) {
        certs = pki_der_begin(d, CERTS);
        list = pki_der_begin(d, PKI_DER_SEQUENCE);
        pki_der_raw(d, r->cert_der, r->cert_der_len);
        pki_der_end(d, list);
        pki_der_end(d, certs);
    }
    pki_der_wrap(d, PKI_DER_SEQUENCE);
out:
    gnutls_free(sig.data);
    return rc;
}

/*
 * Makes d, which holds a BasicOCSPResponse or nothing, the OCSPResponse
 * { status, responseBytes when d is not empty }.
 */
static void
wrap(struct pki_der *d, int status)
{
    /* X.690 8.4: every status is one octet */
    const uint8_t status_der[] = { PKI_DER_ENUMERATED, 1, (uint8_t)status };
    size_t len;

    pki_der_data(d, &len);
    if (len > 0) {
        pki_der_wrap(d, PKI_DER_OCTET_STRING); /* response */
        pki_der_prepend(d, oid_ocsp_basic, sizeof(oid_ocsp_basic));
        pki_der_wrap(d, PKI_DER_SEQUENCE); /* ResponseBytes */
        pki_der_wrap(d, RESPONSE_BYTES);
    }
    pki_der_prepend(d, status_der, sizeof(status_der));
    pki_der_wrap(d, PKI_DER_SEQUENCE);
}

/*
 * A signed OCSPResponse (successful, id-pkix-ocsp-basic) answering req,
 * which must be ours: version v1, responder ID by key hash, producedAt,
 * one SingleResponse with req's CertID as sent, the status of a
 * (revoked with time and, when a->reason >= 0, reason), thisUpdate and
 * nextUpdate (left out when 0), the nonce extension when req has one;
 * every time a GeneralizedTime. Signed by r, with r's certificate when r
 * is delegated. On success the caller frees *der; WD_E_INTERNAL (logged)
 * for a request that is not ours, an answer out of range, or a signing
 * failure.
 */
enum wd_err
pki_ocsp_resp_build(const struct pki_ocsp_responder *r,
                    const struct pki_ocsp_req *req,
                    const struct pki_ocsp_answer *a, uint8_t **der,
                    size_t *der_len)
{
    struct pki_der d;
    enum wd_err rc;

    if (!req->ours || req->cert_id_len == 0 ||
        req->cert_id_len > sizeof(req->cert_id)) {
        log_err("event=ocsp_response err=\"no CertID of ours to answer\"");
        return WD_E_INTERNAL;
    }
    if (req->has_nonce &&
        (req->nonce_len == 0 || req->nonce_len > PKI_OCSP_MAX_NONCE)) {
        log_err("event=ocsp_response err=\"nonce of %zu bytes\"",
                req->nonce_len);
        return WD_E_INTERNAL;
    }
    pki_der_init(&d, RESP_HEADROOM);
    rc = put_response_data(&d, r, req, a);
    if (rc == WD_OK) {
        rc = sign(&d, r);
    }
    if (rc == WD_OK) {
        wrap(&d, STATUS_SUCCESSFUL);
        *der = pki_der_take(&d, der_len);
    }
    pki_der_clear(&d);
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
    struct pki_der d;

    switch (status) {
    case PKI_OCSP_MALFORMED_REQUEST:
    case PKI_OCSP_INTERNAL_ERROR:
    case PKI_OCSP_TRY_LATER:
    case PKI_OCSP_UNAUTHORIZED:
        break;
    default:
        log_err("event=ocsp_response err=\"unknown error status %d\"",
                (int)status);
        return WD_E_INTERNAL;
    }
    pki_der_init(&d, RESP_HEADROOM);
    wrap(&d, (int)status);
    *der = pki_der_take(&d, der_len);
    return WD_OK;
}
