/*
 * POST /api/v1/certificates/{serial}/revoke: the revocation commits with
 * its audit event, then the OCSP cache forgets the serial and the handler
 * waits for the CRL that lists it, so that what relying parties fetch
 * after the 200 already says "revoked".
 */
#include "api_priv.h"

#include <string.h>

#include "../server/base/log.h"
#include "../server/base/parse.h"

/* The optional JSON body {"reason": "keyCompromise"}. */
static enum wd_err
parse_reason(const struct api_req *req, enum pki_reason *reason)
{
    char type[96];
    json_error_t jerr;
    json_t *doc;
    const char *name = NULL;
    enum wd_err rc = WD_OK;

    *reason = PKI_REASON_UNSPECIFIED;
    if (req->body_len == 0) {
        return WD_OK;
    }
    api_media_type(req->content_type, type, sizeof(type));
    if (strcmp(type, "application/json") != 0 &&
        strcmp(type, "application/x-www-form-urlencoded") != 0) {
        return WD_E_MEDIA_TYPE;
    }
    doc = json_loadb((const char *)req->body, req->body_len,
                     JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        return WD_E_JSON_SYNTAX;
    }
    if (json_unpack_ex(doc, &jerr, JSON_STRICT, "{s?s}", "reason", &name) !=
        0) {
        rc = WD_E_JSON_FIELDS;
    } else if (name != NULL && !pki_reason_parse(name, reason)) {
        rc = WD_E_BAD_REASON;
    }
    json_decref(doc);
    return rc;
}

/* 200 {serial, revoked_at, reason}; 404, 409 already_revoked, 400. */
void
api_cert_revoke(struct api *api, const struct api_req *req, const char *arg,
                struct api_resp *resp)
{
    struct store_cert *row = NULL;
    enum pki_reason reason;
    enum wd_err rc;

    if (req->n_query > 0 || req->query_overflow) {
        rc = WD_E_BAD_QUERY;
        goto out;
    }
    if (arg == NULL || !wd_serial_is_valid(arg, strlen(arg))) {
        rc = WD_E_BAD_SERIAL;
        goto out;
    }
    rc = parse_reason(req, &reason);
    if (rc != WD_OK) {
        goto out;
    }
    rc = store_cert_revoke(api->store, arg, (int)reason, req->now,
                           req->who->name, &row);
    if (rc != WD_OK) {
        goto out;
    }
    log_info("event=revoked serial=%s reason=%s", row->serial,
             pki_reason_name(row->revoke_reason));
    api_metrics_revoked(api, row->revoke_reason);
    api_ocsp_forget(api, row->serial);
    if (api_crl_refresh(api) != WD_OK) {
        /* durable already; the worker publishes the CRL when it can */
        log_warn("event=crl_lagging serial=%s", row->serial);
    }
    api_json_send(resp, 200,
                  json_pack("{s:s, s:o, s:s}", "serial", row->serial,
                            "revoked_at", api_json_time(row->revoked_at),
                            "reason", pki_reason_name(row->revoke_reason)));
out:
    if (rc != WD_OK) {
        api_error(resp, rc, NULL);
    }
    store_cert_free(row);
}
