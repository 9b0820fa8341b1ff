/*
 * ACME's errors: RFC 7807 problem documents with the RFC 8555 6.7 types,
 * and the one table that turns a wd_err into a problem type and an HTTP
 * status, as api_error.c does for the mTLS API. A unit test walks enum
 * wd_err to prove every value has a row. A 5xx carries a generic
 * sentence and the request id, never library text.
 */
#include "api_acme_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

#define ACME_ERROR_NS "urn:ietf:params:acme:error:"

static const struct type_row {
    enum api_acme_problem p;
    const char *name; /* RFC 8555 6.7 */
    int status;       /* its usual HTTP status */
} type_rows[] = {
    /* indexed by enum api_acme_problem */
    { API_ACME_P_MALFORMED, "malformed", 400 },
    { API_ACME_P_UNAUTHORIZED, "unauthorized", 403 },
    { API_ACME_P_BAD_NONCE, "badNonce", 400 },
    { API_ACME_P_BAD_SIGNATURE_ALGORITHM, "badSignatureAlgorithm", 400 },
    { API_ACME_P_BAD_PUBLIC_KEY, "badPublicKey", 400 },
    { API_ACME_P_ACCOUNT_DOES_NOT_EXIST, "accountDoesNotExist", 400 },
    { API_ACME_P_EXTERNAL_ACCOUNT_REQUIRED, "externalAccountRequired", 400 },
    { API_ACME_P_INVALID_CONTACT, "invalidContact", 400 },
    { API_ACME_P_UNSUPPORTED_CONTACT, "unsupportedContact", 400 },
    { API_ACME_P_REJECTED_IDENTIFIER, "rejectedIdentifier", 400 },
    { API_ACME_P_UNSUPPORTED_IDENTIFIER, "unsupportedIdentifier", 400 },
    { API_ACME_P_RATE_LIMITED, "rateLimited", 429 },
    { API_ACME_P_ORDER_NOT_READY, "orderNotReady", 403 },
    { API_ACME_P_BAD_CSR, "badCSR", 400 },
    { API_ACME_P_ALREADY_REVOKED, "alreadyRevoked", 400 },
    { API_ACME_P_BAD_REVOCATION_REASON, "badRevocationReason", 400 },
    { API_ACME_P_SERVER_INTERNAL, "serverInternal", 500 },
};

static const struct err_row {
    enum wd_err err;
    enum api_acme_problem p;
    int status;
} err_rows[] = {
    /* one row per enum wd_err value */
    { WD_OK, API_ACME_P_SERVER_INTERNAL, 500 }, /* never sent: a bug */
    { WD_E_INTERNAL, API_ACME_P_SERVER_INTERNAL, 500 },
    { WD_E_CSR_SYNTAX, API_ACME_P_BAD_CSR, 400 },
    { WD_E_CSR_SIGNATURE, API_ACME_P_BAD_CSR, 400 },
    { WD_E_WEAK_KEY, API_ACME_P_BAD_CSR, 400 },
    { WD_E_UNSUPPORTED_KEY, API_ACME_P_BAD_CSR, 400 },
    { WD_E_BAD_NAME, API_ACME_P_BAD_CSR, 400 },
    { WD_E_NO_NAMES, API_ACME_P_BAD_CSR, 400 },
    { WD_E_TOO_MANY_NAMES, API_ACME_P_BAD_CSR, 400 },
    { WD_E_JSON_SYNTAX, API_ACME_P_MALFORMED, 400 },
    { WD_E_JSON_FIELDS, API_ACME_P_MALFORMED, 400 },
    { WD_E_BAD_PROFILE, API_ACME_P_MALFORMED, 400 },
    { WD_E_BAD_VALIDITY, API_ACME_P_MALFORMED, 400 },
    { WD_E_BAD_SERIAL, API_ACME_P_MALFORMED, 400 },
    { WD_E_BAD_QUERY, API_ACME_P_MALFORMED, 400 },
    { WD_E_BAD_CURSOR, API_ACME_P_MALFORMED, 400 },
    { WD_E_NOT_FOUND, API_ACME_P_MALFORMED, 404 },
    { WD_E_METHOD, API_ACME_P_MALFORMED, 405 },
    { WD_E_MEDIA_TYPE, API_ACME_P_MALFORMED, 415 },
    { WD_E_NOT_ACCEPTABLE, API_ACME_P_MALFORMED, 406 },
    { WD_E_LENGTH_REQUIRED, API_ACME_P_MALFORMED, 411 },
    { WD_E_TOO_LARGE, API_ACME_P_MALFORMED, 413 },
    { WD_E_CLIENT_CERT_MISSING, API_ACME_P_UNAUTHORIZED, 403 },
    { WD_E_CLIENT_CERT_INVALID, API_ACME_P_UNAUTHORIZED, 403 },
    { WD_E_FORBIDDEN, API_ACME_P_UNAUTHORIZED, 403 },
    { WD_E_CROSS_ORIGIN, API_ACME_P_UNAUTHORIZED, 403 },
    { WD_E_NAME_NOT_ALLOWED, API_ACME_P_REJECTED_IDENTIFIER, 400 },
    { WD_E_ALREADY_REVOKED, API_ACME_P_ALREADY_REVOKED, 400 },
    { WD_E_BAD_REASON, API_ACME_P_BAD_REVOCATION_REASON, 400 },
    { WD_E_OCSP_MALFORMED, API_ACME_P_MALFORMED, 400 },
    { WD_E_CONFLICT, API_ACME_P_MALFORMED, 409 },
    { WD_E_CA_EXISTS, API_ACME_P_SERVER_INTERNAL, 500 },
    { WD_E_NO_CA, API_ACME_P_SERVER_INTERNAL, 500 },
    { WD_E_CONFIG, API_ACME_P_SERVER_INTERNAL, 500 },
    { WD_E_IO, API_ACME_P_SERVER_INTERNAL, 500 },
    { WD_E_UNAVAILABLE, API_ACME_P_SERVER_INTERNAL, 503 },
    { WD_E_KEY_UNPROTECTED, API_ACME_P_SERVER_INTERNAL, 500 },
    { WD_E_JWS_MALFORMED, API_ACME_P_MALFORMED, 400 },
    /* RFC 8555 defines no type for a signature that does not verify;
     * like Boulder we call the request malformed */
    { WD_E_JWS_SIGNATURE, API_ACME_P_MALFORMED, 400 },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The RFC 8555 name of p; "serverInternal" outside the enum. */
const char *
api_acme_problem_name(enum api_acme_problem p)
{
    if ((unsigned)p >= N_OF(type_rows)) {
        return "serverInternal";
    }
    return type_rows[p].name;
}

/* The problem type of err, with its HTTP status in *status; a value
 * without a row is serverInternal, 500. */
enum api_acme_problem
api_acme_problem_of(enum wd_err err, int *status)
{
    size_t i;

    for (i = 0; i < N_OF(err_rows); i++) {
        if (err_rows[i].err == err) {
            *status = err_rows[i].status;
            return err_rows[i].p;
        }
    }
    *status = 500;
    return API_ACME_P_SERVER_INTERNAL;
}

static json_t *
problem_json(enum api_acme_problem p, int status, const char *detail)
{
    char type[96];

    snprintf(type, sizeof(type), ACME_ERROR_NS "%s", api_acme_problem_name(p));
    return json_pack("{s:s, s:o, s:i}", "type", type, "detail",
                     api_json_text(detail), "status", status);
}

/* Replace whatever resp holds with the problem document (api_acme_priv.h). */
void
api_acme_problem_send(struct api_resp *resp, enum api_acme_problem p,
                      int status, const char *detail, json_t *subproblems)
{
    char generic[128];
    json_t *doc;
    char *text;

    if (status == 0) {
        status = (unsigned)p < N_OF(type_rows) ? type_rows[p].status : 500;
    }
    if (status >= 500) {
        snprintf(generic, sizeof(generic), "%s; request id %s",
                 wd_err_str(status == 503 ? WD_E_UNAVAILABLE : WD_E_INTERNAL),
                 log_request_id()[0] != '\0' ? log_request_id() : "none");
        detail = generic;
    } else if (detail == NULL) {
        detail = api_acme_problem_name(p);
    }
    doc = problem_json(p, status, detail);
    if (subproblems != NULL) {
        json_object_set_new(doc, "subproblems", subproblems);
    }
    text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(doc);
    api_resp_drop_body(resp);
    if (text == NULL) {
        log_err("event=json_encode_failed");
        status = 500;
        p = API_ACME_P_SERVER_INTERNAL;
        text = xstrdup("{\"type\":\"" ACME_ERROR_NS "serverInternal\"}");
    }
    resp->status = status;
    resp->content_type = "application/problem+json";
    resp->body = (uint8_t *)text;
    resp->body_len = text != NULL ? strlen(text) : 0;
    resp->error_code = api_acme_problem_name(p);
}

/* api_acme_problem_send with the type and status of err. */
void
api_acme_problem_err(struct api_resp *resp, enum wd_err err, const char *detail)
{
    int status;
    enum api_acme_problem p = api_acme_problem_of(err, &status);

    api_acme_problem_send(resp, p, status,
                          detail != NULL ? detail : wd_err_str(err), NULL);
}

/* The problem as compact JSON for the store; caller frees. */
char *
api_acme_problem_text(enum api_acme_problem p, const char *detail)
{
    json_t *doc = problem_json(
        p, (unsigned)p < N_OF(type_rows) ? type_rows[p].status : 500,
        detail != NULL ? detail : api_acme_problem_name(p));
    char *text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);

    json_decref(doc);
    return text;
}
