/*
 * ACME revocation (RFC 8555 7.6): a certificate of ours is revoked when
 * the account it was issued to asks (kid), or whoever holds its private
 * key (a JWS by the certificate's own key, jwk). As with the mTLS API
 * (api_revoke.c), the revocation commits with its audit event, the OCSP
 * cache forgets the serial and the CRL is rebuilt before the answer.
 */
#include "api_acme_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"

/* RFC 8555 7.6 with RFC 5280 5.3.1: the reasons a subscriber may give;
 * certificateHold (6), removeFromCRL (8) and the unassigned 7 are
 * refused, and so is aACompromise (10), which is no subscriber's. */
static bool
reason_ok(json_int_t r)
{
    return r == PKI_REASON_UNSPECIFIED || r == PKI_REASON_KEY_COMPROMISE ||
           r == PKI_REASON_CA_COMPROMISE ||
           r == PKI_REASON_AFFILIATION_CHANGED || r == PKI_REASON_SUPERSEDED ||
           r == PKI_REASON_CESSATION_OF_OPERATION ||
           r == PKI_REASON_PRIVILEGE_WITHDRAWN;
}

/*
 * May the signer revoke row? The account it was issued to (the store's
 * requester "acme:<kid>"), or the certificate's own key.
 */
static bool
may_revoke(const struct api_acme_jws *jws, const struct store_cert *row,
           const uint8_t *der, size_t der_len)
{
    struct pki_jwk *key = NULL;
    bool ok;

    if (jws->account != NULL) {
        return strncmp(row->requester, "acme:", 5) == 0 &&
               strcmp(row->requester + 5, jws->account->kid) == 0;
    }
    if (pki_jwk_from_cert(der, der_len, &key) != WD_OK) {
        return false;
    }
    ok = pki_jwk_equal(key, jws->jwk);
    pki_jwk_free(key);
    return ok;
}

/* POST /acme/revoke-cert (RFC 8555 7.6): 200 with an empty body. */
void
api_acme_revoke_cert(struct api_acme *a, const struct api_req *req,
                     const struct api_acme_jws *jws, const char *arg,
                     struct api_resp *resp)
{
    struct store_cert *row = NULL;
    struct pki_cert *cert = NULL;
    const char *text = NULL;
    size_t len = 0;
    json_int_t reason = PKI_REASON_UNSPECIFIED;
    json_error_t jerr;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char actor[STORE_ACME_ID_MAX + 16];
    enum wd_err rc;

    (void)arg;
    if (jws->post_as_get ||
        json_unpack_ex(jws->payload, &jerr, JSON_STRICT, "{s:s%, s?I}",
                       "certificate", &text, &len, "reason", &reason) != 0) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "revokeCert takes certificate (base64url DER) "
                              "and reason (an integer)",
                              NULL);
        goto out;
    }
    if (!reason_ok(reason)) {
        api_acme_problem_send(resp, API_ACME_P_BAD_REVOCATION_REASON, 0,
                              "reason is an RFC 5280 CRLReason a subscriber "
                              "may give (not certificateHold)",
                              NULL);
        goto out;
    }
    rc = pki_b64url_decode(text, len, &der, &der_len);
    if (rc == WD_OK && der_len > WD_MAX_CSR_BYTES) {
        rc = WD_E_TOO_LARGE;
    }
    if (rc == WD_OK) {
        rc = pki_cert_parse(der, der_len, &cert);
    }
    if (rc == WD_OK) {
        rc = store_cert_get(a->api->store, cert->serial, &row);
    }
    /* ours only: the serial stored, with these very bytes */
    if (rc == WD_OK &&
        (row->der_len != der_len || memcmp(row->der, der, der_len) != 0)) {
        rc = WD_E_NOT_FOUND;
    }
    if (rc != WD_OK) {
        if (rc == WD_E_INTERNAL || rc == WD_E_UNAVAILABLE) {
            api_acme_problem_err(resp, rc, NULL);
        } else {
            api_acme_problem_send(resp, API_ACME_P_MALFORMED, 404,
                                  "the certificate was not issued by this "
                                  "server",
                                  NULL);
        }
        goto out;
    }
    if (!may_revoke(jws, row, der, der_len)) {
        api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 0,
                              "the signer may not revoke this certificate",
                              NULL);
        goto out;
    }
    if (jws->account != NULL) {
        snprintf(actor, sizeof(actor), "acme:%s", jws->account->kid);
    } else {
        snprintf(actor, sizeof(actor), "acme:certificate-key");
    }
    store_cert_free(row);
    row = NULL;
    rc = store_cert_revoke(a->api->store, cert->serial, (int)reason, req->now,
                           actor, &row);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc,
                             rc == WD_E_ALREADY_REVOKED
                                 ? "the certificate is revoked already"
                                 : NULL);
        goto out;
    }
    log_info("event=revoked serial=%s reason=%s actor=%s", row->serial,
             pki_reason_name(row->revoke_reason), actor);
    api_metrics_revoked(a->api, row->revoke_reason);
    api_ocsp_forget(a->api, row->serial);
    if (api_crl_refresh(a->api) != WD_OK) {
        /* durable already; the worker publishes the CRL when it can */
        log_warn("event=crl_lagging serial=%s", row->serial);
    }
    api_resp_drop_body(resp);
    resp->status = 200;
    resp->content_type = NULL;
out:
    free(der);
    pki_cert_free(cert);
    store_cert_free(row);
}
