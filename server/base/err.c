/*
 * The sentences behind enum wd_err. They are shown to clients and printed
 * by the CLI, so they never carry library text or internals.
 */
#include "err.h"

#include <stddef.h>

static const char *const sentences[WD_E__COUNT] = {
    [WD_OK] = "success",
    [WD_E_INTERNAL] = "internal error",
    [WD_E_CSR_SYNTAX] = "the body is not exactly one PEM or DER certificate "
                        "signing request",
    [WD_E_CSR_SIGNATURE] = "the certificate signing request's signature does "
                           "not verify",
    [WD_E_WEAK_KEY] = "the key is too weak (RSA keys need at least 2048 bits)",
    [WD_E_UNSUPPORTED_KEY] = "the key type is not accepted (RSA 2048-8192, "
                             "ECDSA P-256/P-384/P-521 or Ed25519)",
    [WD_E_BAD_NAME] = "a subject or subject alternative name is not valid",
    [WD_E_NO_NAMES] = "the request names nothing: give a subject alternative "
                      "name or a host name as CN",
    [WD_E_TOO_MANY_NAMES] = "the request has too many subject alternative "
                            "names",
    [WD_E_JSON_SYNTAX] = "the body is not a well-formed JSON object",
    [WD_E_JSON_FIELDS] = "the JSON object has an unknown, missing or wrongly "
                         "typed member",
    [WD_E_BAD_PROFILE] = "unknown profile (server, client or server-client)",
    [WD_E_BAD_VALIDITY] = "validity is not a duration such as 720h or 30d "
                          "within the allowed bounds",
    [WD_E_BAD_SERIAL] = "a serial is 1 to 40 lowercase hex digits",
    [WD_E_BAD_QUERY] = "unknown query parameter or invalid value",
    [WD_E_BAD_CURSOR] = "the cursor is not a position in this list",
    [WD_E_NOT_FOUND] = "not found",
    [WD_E_METHOD] = "method not allowed on this resource",
    [WD_E_MEDIA_TYPE] = "unsupported content type",
    [WD_E_NOT_ACCEPTABLE] = "none of the accepted media types can be produced",
    [WD_E_LENGTH_REQUIRED] = "a request body needs a Content-Length",
    [WD_E_TOO_LARGE] = "the request body is too large",
    [WD_E_CLIENT_CERT_MISSING] = "a client certificate issued by this CA is "
                                 "required",
    [WD_E_CLIENT_CERT_INVALID] = "the client certificate is not valid for "
                                 "this CA (foreign, expired, not yet valid "
                                 "or revoked)",
    [WD_E_FORBIDDEN] = "this identity may not do that",
    [WD_E_CROSS_ORIGIN] = "a request that changes state must come from this "
                          "server's own pages, not another origin",
    [WD_E_NAME_NOT_ALLOWED] = "a requested name is outside what this "
                              "identity may request",
    [WD_E_ALREADY_REVOKED] = "the certificate is already revoked",
    [WD_E_BAD_REASON] = "unknown revocation reason (RFC 5280 names such as "
                        "keyCompromise; certificateHold is not used)",
    [WD_E_OCSP_MALFORMED] = "not a well-formed OCSP request",
    [WD_E_CONFLICT] = "the object already exists",
    [WD_E_CA_EXISTS] = "a CA already exists in this directory",
    [WD_E_NO_CA] = "the directory holds an incomplete CA",
    [WD_E_CONFIG] = "the configuration is invalid",
    [WD_E_IO] = "a file could not be read or written",
    [WD_E_UNAVAILABLE] = "the service is temporarily unavailable",
    [WD_E_KEY_UNPROTECTED] = "a private key or the data directory is "
                             "accessible to other users",
    [WD_E_JWS_MALFORMED] = "not a well-formed JSON Web Signature, JSON Web "
                           "Key or base64url value",
    [WD_E_JWS_SIGNATURE] = "the JSON Web Signature does not verify with "
                           "the key and algorithm given",
};

const char *
wd_err_str(enum wd_err err)
{
    if ((unsigned)err >= WD_E__COUNT || sentences[err] == NULL) {
        return "unknown error";
    }
    return sentences[err];
}
