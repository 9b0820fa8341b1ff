/*
 * The one place where a wd_err becomes an HTTP status and a JSON error
 * code. A unit test walks the enum to prove every value has a row. A 5xx
 * carries a generic sentence and the request id, never library text.
 */
#include "api_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"

static const struct api_err_row {
    enum wd_err err;
    int status;
    const char *code; /* the JSON error.code */
} err_rows[] = {
    /* one row per enum value */
    { WD_OK, 200, "ok" },
    { WD_E_INTERNAL, 500, "internal_error" },
    { WD_E_CSR_SYNTAX, 400, "bad_csr" },
    { WD_E_CSR_SIGNATURE, 400, "bad_csr_signature" },
    { WD_E_WEAK_KEY, 400, "weak_key" },
    { WD_E_UNSUPPORTED_KEY, 400, "unsupported_key" },
    { WD_E_BAD_NAME, 400, "invalid_name" },
    { WD_E_NO_NAMES, 400, "no_names" },
    { WD_E_TOO_MANY_NAMES, 400, "too_many_names" },
    { WD_E_JSON_SYNTAX, 400, "bad_json" },
    { WD_E_JSON_FIELDS, 400, "invalid_field" },
    { WD_E_BAD_PROFILE, 400, "invalid_profile" },
    { WD_E_BAD_VALIDITY, 400, "invalid_validity" },
    { WD_E_BAD_SERIAL, 400, "invalid_serial" },
    { WD_E_BAD_QUERY, 400, "invalid_query" },
    { WD_E_BAD_CURSOR, 400, "invalid_cursor" },
    { WD_E_NOT_FOUND, 404, "not_found" },
    { WD_E_METHOD, 405, "method_not_allowed" },
    { WD_E_MEDIA_TYPE, 415, "unsupported_media_type" },
    { WD_E_NOT_ACCEPTABLE, 406, "not_acceptable" },
    { WD_E_LENGTH_REQUIRED, 411, "length_required" },
    { WD_E_TOO_LARGE, 413, "body_too_large" },
    { WD_E_CLIENT_CERT_MISSING, 403, "client_certificate_required" },
    { WD_E_CLIENT_CERT_INVALID, 403, "client_certificate_invalid" },
    { WD_E_FORBIDDEN, 403, "forbidden" },
    { WD_E_CROSS_ORIGIN, 403, "cross_origin" },
    { WD_E_NAME_NOT_ALLOWED, 403, "name_not_allowed" },
    { WD_E_ALREADY_REVOKED, 409, "already_revoked" },
    { WD_E_BAD_REASON, 400, "invalid_reason" },
    { WD_E_OCSP_MALFORMED, 400, "malformed_ocsp_request" },
    { WD_E_CONFLICT, 409, "conflict" },
    { WD_E_CA_EXISTS, 409, "ca_exists" },
    { WD_E_NO_CA, 500, "internal_error" },
    { WD_E_CONFIG, 500, "internal_error" },
    { WD_E_IO, 500, "internal_error" },
    { WD_E_UNAVAILABLE, 503, "unavailable" },
    { WD_E_KEY_UNPROTECTED, 500, "internal_error" },
    { WD_E_JWS_MALFORMED, 400, "bad_jws" },
    { WD_E_JWS_SIGNATURE, 400, "bad_signature" },
};

static const struct api_err_row *
find_row(enum wd_err err)
{
    size_t i;

    for (i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++) {
        if (err_rows[i].err == err) {
            return &err_rows[i];
        }
    }
    return NULL;
}

/* The HTTP status for err; 500 for a value without a row. */
int
api_error_status(enum wd_err err)
{
    const struct api_err_row *row = find_row(err);

    return row != NULL ? row->status : 500;
}

/* The JSON error.code for err; "internal_error" without a row. */
const char *
api_error_code(enum wd_err err)
{
    const struct api_err_row *row = find_row(err);

    return row != NULL ? row->code : "internal_error";
}

/*
 * Replace whatever resp holds with the JSON error for err. For a 5xx the
 * message is always the generic sentence, plus the request id so an
 * operator can find the logged cause.
 */
void
api_error(struct api_resp *resp, enum wd_err err, const char *message)
{
    int status = api_error_status(err);
    json_t *body;
    json_t *error;

    if (status >= 500 || message == NULL) {
        message = wd_err_str(
            status >= 500 && err != WD_E_UNAVAILABLE ? WD_E_INTERNAL : err);
    }
    error = json_pack("{s:s, s:s}", "code", api_error_code(err), "message",
                      message);
    if (status >= 500 && log_request_id()[0] != '\0') {
        json_object_set_new(error, "request_id", json_string(log_request_id()));
    }
    body = json_pack("{s:o}", "error", error);
    api_json_send(resp, status, body);
    resp->error_code = api_error_code(err);
}

/* Append a response header; silently capped at API_MAX_HEADERS. */
void
api_resp_header(struct api_resp *resp, const char *name, const char *value)
{
    if (resp->n_headers >= API_MAX_HEADERS) {
        log_err("event=bug reason=too_many_response_headers name=%s", name);
        return;
    }
    resp->headers[resp->n_headers].name = name;
    snprintf(resp->headers[resp->n_headers].value,
             sizeof(resp->headers[0].value), "%s", value);
    resp->n_headers++;
}

/* Free (or give back) the body only; status and headers stay. */
void
api_resp_drop_body(struct api_resp *resp)
{
    if (resp->release != NULL) {
        resp->release(resp->release_cls);
    } else {
        free(resp->body);
    }
    resp->body = NULL;
    resp->body_len = 0;
    resp->release = NULL;
    resp->release_cls = NULL;
}

/* Free (or give back) the body and reset the struct for reuse. */
void
api_resp_clear(struct api_resp *resp)
{
    api_resp_drop_body(resp);
    memset(resp, 0, sizeof(*resp));
}
