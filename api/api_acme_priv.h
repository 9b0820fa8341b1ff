/*
 * Shared internals of the ACME server (api_acme*.c): the server's state,
 * the authenticated request a handler gets, the problem documents, and
 * the URLs and JSON objects the handlers share. api_acme.c routes and
 * answers; api_acme_jws.c authenticates; the other files each serve one
 * kind of resource of RFC 8555.
 */
#ifndef WD_API_ACME_PRIV_H
#define WD_API_ACME_PRIV_H

#include "api_priv.h"

/* The ACME server (api.h: api_acme_new). */
struct api_acme {
    struct api *api; /* borrowed: store, CA, signing slots, CRL, OCSP */
    char *base_url;  /* "https://host:port", no trailing slash */
    char **allow;    /* owned copies of cfg->allow */
    size_t n_allow;
    bool eab_required;
    unsigned orders_per_hour;  /* per account; 0 = no limit */
    uint64_t order_lifetime_s; /* seconds */
    uint64_t cert_validity_s;  /* seconds */
    api_acme_submit_fn *submit;
    void *submit_ctx;
};

/* RFC 8555 6.7 error types we send, as "urn:ietf:params:acme:error:" +
 * the name api_acme_problem_name gives. */
enum api_acme_problem {
    API_ACME_P_MALFORMED,
    API_ACME_P_UNAUTHORIZED,
    API_ACME_P_BAD_NONCE,
    API_ACME_P_BAD_SIGNATURE_ALGORITHM,
    API_ACME_P_BAD_PUBLIC_KEY,
    API_ACME_P_ACCOUNT_DOES_NOT_EXIST,
    API_ACME_P_EXTERNAL_ACCOUNT_REQUIRED,
    API_ACME_P_INVALID_CONTACT,
    API_ACME_P_UNSUPPORTED_CONTACT,
    API_ACME_P_REJECTED_IDENTIFIER,
    API_ACME_P_UNSUPPORTED_IDENTIFIER,
    API_ACME_P_RATE_LIMITED,
    API_ACME_P_ORDER_NOT_READY,
    API_ACME_P_BAD_CSR,
    API_ACME_P_ALREADY_REVOKED,
    API_ACME_P_BAD_REVOCATION_REASON,
    API_ACME_P_SERVER_INTERNAL,
    API_ACME_P__COUNT
};

/* "malformed", "badNonce", ...; "serverInternal" outside the enum. */
const char *api_acme_problem_name(enum api_acme_problem p);

/* The problem type and HTTP status RFC 8555 gives err (one table, like
 * api_error.c; a unit test walks enum wd_err). */
enum api_acme_problem api_acme_problem_of(enum wd_err err, int *status);

/*
 * Fill resp with an application/problem+json document (RFC 7807, RFC
 * 8555 6.7): type p, status (0 = p's usual one), detail (NULL = a fixed
 * sentence) and subproblems (reference stolen; NULL = none). A 5xx never
 * carries the detail given: it names the request id instead.
 */
void api_acme_problem_send(struct api_resp *resp, enum api_acme_problem p,
                           int status, const char *detail, json_t *subproblems);

/* api_acme_problem_send for the reason err (detail NULL =
 * wd_err_str(err)). */
void api_acme_problem_err(struct api_resp *resp, enum wd_err err,
                          const char *detail);

/* A problem as compact JSON text to store with an order or challenge
 * (store_acme_*: error). Caller frees. */
char *api_acme_problem_text(enum api_acme_problem p, const char *detail);

/* Which key a route's JWS must name (RFC 8555 6.2). */
enum api_acme_key {
    API_ACME_KEY_NONE, /* not a POST: no JWS */
    API_ACME_KEY_KID,  /* an account URL; the account must be valid */
    API_ACME_KEY_JWK,  /* a public key in the header (newAccount) */
    API_ACME_KEY_ANY,  /* either (revokeCert) */
};

/* One flattened JWS (RFC 7515 7.2.2) split into its parts, with the
 * protected header decoded. Strings point into doc and header. */
struct api_acme_flat {
    json_t *header;        /* owned: the decoded protected header */
    const char *protected; /* base64url as sent */
    const char *payload;   /* base64url as sent; "" for POST-as-GET */
    const char *signature; /* base64url as sent */
    uint8_t *sig;          /* owned: the decoded signature */
    size_t sig_len;
};

/* Split obj, a flattened JWS, strictly: exactly "protected", "payload"
 * and "signature", all strings, the header a JSON object. On WD_OK the
 * caller clears *out (api_acme_flat_clear); WD_E_JWS_MALFORMED else. */
enum wd_err api_acme_flat_parse(const json_t *obj, struct api_acme_flat *out);
void api_acme_flat_clear(struct api_acme_flat *f);

/* The signing input protected "." payload of f; caller frees. */
char *api_acme_flat_input(const struct api_acme_flat *f, size_t *len);

/* A public key from a JWK object: only public members of RSA, EC and OKP
 * keys (private ones are refused). Caller owns *out. WD_E_JWS_MALFORMED,
 * or pki_jwk_import's reasons. */
enum wd_err api_acme_jwk_parse(const json_t *jwk, struct pki_jwk **out);
enum wd_err api_acme_jwk_parse_text(const char *text, struct pki_jwk **out);

/* A request that passed authentication (api_acme_jws.c). */
struct api_acme_jws {
    json_t *payload;     /* owned: the payload object; NULL if POST-as-GET */
    bool post_as_get;    /* the payload was "" (RFC 8555 6.3) */
    struct pki_jwk *jwk; /* owned: the key that signed */
    /* owned: the account with a kid (valid); NULL with a jwk */
    struct store_acme_account *account;
    char url[WD_MAX_URL]; /* the header's url: this request's */
};

/*
 * Authenticate req as RFC 8555 6.2 to 6.4 ask: Content-Type, a strict
 * flattened JWS, alg, nonce (taken once), url (this request's), a key as
 * `need` says, the signature. On WD_OK the caller clears *out
 * (api_acme_jws_clear); otherwise resp holds the problem.
 */
enum wd_err api_acme_jws_check(struct api_acme *a, const struct api_req *req,
                               enum api_acme_key need, struct api_acme_jws *out,
                               struct api_resp *resp);
void api_acme_jws_clear(struct api_acme_jws *j);

/* Handlers of the ACME routes; arg is the id in the path, or NULL; jws
 * is NULL for the routes that take no JWS. */
typedef void api_acme_handler_fn(struct api_acme *a, const struct api_req *req,
                                 const struct api_acme_jws *jws,
                                 const char *arg, struct api_resp *resp);

api_acme_handler_fn api_acme_account_new;
api_acme_handler_fn api_acme_account_post;
api_acme_handler_fn api_acme_account_orders;
api_acme_handler_fn api_acme_account_key_change;
api_acme_handler_fn api_acme_order_new;
api_acme_handler_fn api_acme_order_get;
api_acme_handler_fn api_acme_order_finalize;
api_acme_handler_fn api_acme_authz_post;
api_acme_handler_fn api_acme_chall_post;
api_acme_handler_fn api_acme_cert_get;
api_acme_handler_fn api_acme_revoke_cert;

/* base_url + "/acme/" + kind (+ "/" + id when id is not NULL), e.g.
 * api_acme_url(a, "order", oid). Caller frees. */
char *api_acme_url(const struct api_acme *a, const char *kind, const char *id);

/* Add a header whose value is <url>;rel="rel" (RFC 8288). */
void api_acme_link(struct api_resp *resp, const char *url, const char *rel);

/* Sends obj (reference stolen) as application/json with status, and a
 * Location header when location is not NULL. */
void api_acme_send(struct api_resp *resp, int status, json_t *obj,
                   const char *location);

/* A fresh random id: 128 bits as 22 characters of base64url (account
 * kids, order, authorization and challenge ids, tokens, nonces). */
enum wd_err api_acme_id_new(char out[STORE_ACME_ID_MAX + 1]);

/*
 * RFC 8555 7.3.4: check the externalAccountBinding eab of a newAccount
 * signed by jwk to url: a JWS by an unused EAB key over that very JWK.
 * On WD_OK kid (STORE_ACME_ID_MAX + 1 bytes) is the EAB key's id;
 * otherwise resp holds the problem (api_acme_eab.c).
 */
enum wd_err api_acme_eab_check(struct api_acme *a, const json_t *eab,
                               const struct pki_jwk *jwk, const char *url,
                               char *kid, struct api_resp *resp);

/* The RFC 8555 7.1.2 account object. */
json_t *api_acme_account_json(const struct api_acme *a,
                              const struct store_acme_account *acct);

/* Is the stored state `status` still current at now, given expires_at?
 * RFC 8555 7.1.6: pending or ready orders past expiry read "invalid",
 * pending or valid authorizations "expired" (cleanup catches up later). */
enum store_acme_status api_acme_order_status(const struct store_acme_order *o,
                                             int64_t now);
enum store_acme_status api_acme_authz_status(const struct store_acme_authz *z,
                                             int64_t now);

/* The RFC 8555 7.1.3 order object at now (api_acme_order.c). */
json_t *api_acme_order_json(const struct api_acme *a,
                            const struct store_acme_order *o, int64_t now);

/* Sends the order with status, its URL in Location, and Retry-After
 * while it is processing (RFC 8555 7.4). */
void api_acme_order_send(const struct api_acme *a,
                         const struct store_acme_order *o, int status,
                         int64_t now, struct api_resp *resp);

/* Is this request's account the owner (account_id)? If not, resp holds
 * the unauthorized problem. */
bool api_acme_owns(const struct api_acme_jws *jws, int64_t account_id,
                   struct api_resp *resp);

#endif
