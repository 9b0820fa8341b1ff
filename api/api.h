/*
 * The HTTP API without HTTP: routes, authorization, JSON in and out, error
 * mapping. srv_http.c turns a libmicrohttpd request into a struct api_req,
 * calls api_handle() (mTLS listener) or api_public_handle() (plain
 * listener) and sends the struct api_resp it gets back. Handlers never see
 * a socket, so tests call these functions directly.
 */
#ifndef WD_API_H
#define WD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <semaphore.h>
#include <time.h>

#include <jansson.h>

#include "../server/base/err.h"
#include "../server/pki/pki.h"
#include "../store/store.h"

/* Who the caller is; decided by the server from the verified certificate. */
enum api_role {
    API_ROLE_SERVICE, /* any other valid certificate of this CA */
    API_ROLE_READER,  /* listed in the config: may list and read */
    API_ROLE_ADMIN,   /* listed in the config: may do everything */
};

struct api_identity {
    enum api_role role;
    char name[256];         /* config name for admins/readers, else the CN */
    struct pki_client cert; /* the verified client certificate */
    const struct store_cert *row; /* the caller's certificate as stored */
};

/* ---- Policy: who is admin or reader, who may issue what (api_grant.c) */

/* How a config entry recognises a client certificate. */
enum api_match_kind {
    API_MATCH_CN,          /* the subject's CN, case-insensitive */
    API_MATCH_DNS,         /* any DNS SAN, case-insensitive */
    API_MATCH_URI,         /* any URI SAN, exactly (spiffe://...) */
    API_MATCH_FINGERPRINT, /* SHA-256 of the certificate, hex */
};

#define API_MATCH_MAX 512

struct api_match {
    enum api_match_kind kind;
    char value[API_MATCH_MAX];
};

/* An admin or reader entry of the config. */
struct api_member {
    char name[64];
    struct api_match match;
};

#define API_N_PROFILES 3 /* server, client, server-client */

/*
 * A grant: identities matching `who` may issue certificates whose every
 * name (CN and each SAN) fits one of `names`, for the listed profiles, up
 * to max_validity_s. Patterns: exact DNS names, "*.suffix" (exactly one
 * extra left-most label), IPv4/IPv6 addresses and CIDR ranges, email
 * addresses or "*@domain", URIs or a URI prefix ending in "*".
 */
struct api_grant {
    char name[64];
    struct api_match who;
    char **names; /* owned patterns */
    size_t n_names;
    bool profiles[API_N_PROFILES]; /* indexed by enum pki_profile */
    uint64_t max_validity_s;
};

/* Per-profile validity bounds. */
struct api_profile_policy {
    uint64_t default_validity_s;
    uint64_t max_validity_s;
};

struct api_policy {
    struct api_member *admins;
    size_t n_admins;
    struct api_member *readers;
    size_t n_readers;
    struct api_grant *grants;
    size_t n_grants;
    struct api_profile_policy profiles[API_N_PROFILES];
};

/* Frees what the policy owns (the arrays and grant patterns). */
void api_policy_clear(struct api_policy *p);

/* Does m recognise the stored certificate row? */
bool api_match_identity(const struct api_match *m,
                        const struct store_cert *row);

/*
 * The caller's role: admin if an admin entry matches row, else reader if
 * a reader entry does, else service. name gets the entry's name, or the
 * certificate's CN (its serial when it has none).
 */
enum api_role api_policy_role(const struct api_policy *p,
                              const struct store_cert *row, char *name,
                              size_t name_size);

/*
 * Does pattern (a grant's name) cover name, a SAN of type t (or a CN,
 * checked as DNS)? Case-insensitive for DNS and email domains; one
 * trailing dot ignored on both sides.
 */
bool api_pattern_matches(const char *pattern, enum pki_san_type t,
                         const char *name);

/*
 * May caller (not an admin) issue csr with profile for validity_s? WD_OK;
 * WD_E_FORBIDDEN when no grant names the caller for this profile;
 * WD_E_NAME_NOT_ALLOWED with the first uncovered name copied to bad_name;
 * WD_E_BAD_VALIDITY when *validity_s exceeds what the covering grants
 * allow; a *validity_s of 0 becomes the longest they allow.
 */
enum wd_err api_grant_check(const struct api_policy *p,
                            const struct store_cert *caller,
                            const struct pki_csr *csr, enum pki_profile profile,
                            uint64_t *validity_s, char *bad_name,
                            size_t bad_name_size);

/* One query parameter as received (already percent-decoded). */
struct api_kv {
    const char *key;
    const char *value; /* NULL for "?key" without "=" */
};

#define API_MAX_QUERY_PARAMS 16

struct api_req {
    const char *method;
    const char *path; /* without the query string */
    const struct api_kv *query;
    size_t n_query;
    bool query_overflow;        /* more than API_MAX_QUERY_PARAMS were sent */
    const char *content_type;   /* or NULL */
    const char *accept;         /* or NULL */
    const char *if_none_match;  /* or NULL */
    const char *host;           /* Host header, or NULL */
    const char *origin;         /* Origin header (browsers), or NULL */
    const char *sec_fetch_site; /* Sec-Fetch-Site (browsers), or NULL */
    const uint8_t *body;
    size_t body_len;
    const struct api_identity *who; /* NULL on the public listener */
    time_t now;                     /* seconds, UTC */
};

#define API_MAX_HEADERS 8

struct api_resp {
    int status;
    const char *content_type; /* static string */
    uint8_t *body;            /* owned, unless release is set */
    size_t body_len;
    /* when set, body is borrowed and release(release_cls) gives it back */
    void (*release)(void *cls);
    void *release_cls;
    const char *error_code; /* JSON error.code for the log, or NULL */
    struct {
        const char *name; /* static string */
        char value[256];
    } headers[API_MAX_HEADERS];
    size_t n_headers;
};

/* Policy the API applies; from warden.conf. */
struct api_cfg {
    const struct api_policy *policy; /* roles, grants, profile bounds */
    uint64_t default_validity_s;     /* issuance without "validity" */
    uint64_t max_validity_s;         /* upper bound for "validity" */
    int64_t expiring_window_s;       /* "expiring" status, default 30 days */
    unsigned max_sans; /* SANs per request, 1..WD_MAX_SANS; 0 = the max */
};

/* Revocation publishing (CRL and OCSP); from warden.conf. */
struct api_revocation_cfg {
    uint64_t crl_validity_s;  /* nextUpdate - thisUpdate, default 24h */
    bool crl_keep_expired;    /* list revoked certs after they expire */
    uint64_t ocsp_validity_s; /* cached responses' nextUpdate window */
};

struct api_crl;
struct api_ocsp;
struct api_metrics;

struct api {
    struct store *store;     /* borrowed */
    const struct pki_ca *ca; /* borrowed */
    struct api_cfg cfg;
    struct api_crl *crl;         /* api_revocation_start */
    struct api_ocsp *ocsp;       /* api_revocation_start */
    sem_t *sign_slots;           /* bounds concurrent signings; NULL = none */
    struct api_metrics *metrics; /* borrowed; NULL = nothing recorded */
};

/* What /metrics reports that requests move (api_metrics.c): counters and
 * histograms updated with atomics, never a lock; and the inventory counts
 * of st (which must outlive the metrics), cached. */
struct api_metrics *api_metrics_new(struct store *st);
void api_metrics_free(struct api_metrics *m);

/*
 * Record one finished request of either listener: method and path as
 * received (the route tables turn them into a bounded set of labels),
 * the status sent (0 for none) and its duration.
 */
void api_metrics_request(struct api *api, bool api_listener, const char *method,
                         const char *path, int status, uint64_t duration_us);

/*
 * Build the first CRL (synchronously: serve never starts without one),
 * set up the OCSP cache with responder r (ownership taken; NULL = sign
 * with the intermediate), and start the worker that rebuilds the CRL
 * after revocations, for revocations committed by other processes
 * (warden revoke), and well before nextUpdate. root_crl: the root's CRL
 * (DER) for /root.crl and /crls.pem.
 */
enum wd_err api_revocation_start(struct api *api,
                                 const struct api_revocation_cfg *cfg,
                                 struct pki_ocsp_responder *r,
                                 const uint8_t *root_crl, size_t root_len);

/*
 * One CRL of the intermediate from the store, signed, with a fresh CRL
 * number (committed before signing). For serve's worker and `warden crl`.
 * Caller frees *der.
 */
enum wd_err api_crl_build(struct store *st, const struct pki_ca *ca,
                          const struct api_revocation_cfg *cfg, time_t now,
                          uint8_t **der, size_t *der_len, uint64_t *number);

/* Stop the worker and free the CRL and OCSP state. Safe if not started. */
void api_revocation_stop(struct api *api);

/* Replace the root's CRL (after `warden root-crl` and a SIGHUP). */
void api_root_crl_set(struct api *api, const uint8_t *der, size_t len);

/* Replace the OCSP responder (renewal); ownership of r taken. */
void api_ocsp_responder_set(struct api *api, struct pki_ocsp_responder *r);

/* Serve one request of the mTLS listener; req->who must be set. */
void api_handle(struct api *api, const struct api_req *req,
                struct api_resp *resp);

/* Serve one request of the public listener (no identity). */
void api_public_handle(struct api *api, const struct api_req *req,
                       struct api_resp *resp);

/*
 * Before reading a body: may who call method + path, and how many body
 * bytes does that route read (0 = none)? WD_OK, or the error api_handle
 * would answer, so the server can refuse without reading the body.
 */
enum wd_err api_route_preflight(const char *method, const char *path,
                                const struct api_identity *who,
                                size_t *body_limit);

/*
 * Commit an issued certificate to the inventory with its audit event,
 * durable before WD_OK; requester is who asked (also the audit actor).
 * WD_E_CONFLICT if the serial is already stored (nothing written).
 */
enum wd_err api_cert_record(struct store *st, const struct pki_cert *cert,
                            const char *requester, time_t now);

/* The public listener's counterpart of api_route_preflight. */
enum wd_err api_public_preflight(const char *method, const char *path,
                                 size_t *body_limit);

/*
 * Record a refused request in the audit log (403s of callers whose
 * certificate chains to us): who, what, which serial, which error code.
 */
void api_audit_refusal(struct api *api, const char *actor, const char *action,
                       const char *serial, const char *code);

/* Fill resp with the JSON error for err; message NULL = wd_err_str(). */
void api_error(struct api_resp *resp, enum wd_err err, const char *message);

/* HTTP status and JSON code for err (the one mapping table). */
int api_error_status(enum wd_err err);
const char *api_error_code(enum wd_err err);

/* Add a response header (name static, value copied and capped). */
void api_resp_header(struct api_resp *resp, const char *name,
                     const char *value);

/* Frees the body; the struct can be reused. */
void api_resp_clear(struct api_resp *resp);

/* The inventory status of a row: valid, expiring, expired or revoked
 * (api_json.c). */
const char *api_cert_status(const struct store_cert *c, int64_t now,
                            int64_t expiring_window_s);

/* The JSON view of a stored certificate, no PEM (api_json.c): what the
 * API lists, and what `warden list --json` prints. */
json_t *api_json_cert(const struct store_cert *c, int64_t now,
                      int64_t expiring_window_s);

/* ---- ACME, RFC 8555, on its own listener (api_acme*.c) ---- */

/* One challenge for the server's validation pool to check (srv_acme_*.c):
 * everything the check needs, copied, so the pool never reads the store
 * to start it. */
struct api_acme_check {
    char cid[STORE_ACME_ID_MAX + 1]; /* the challenge, for the store */
    enum store_acme_chall_type type;
    enum store_acme_ident_type ident_type;
    char identifier[256]; /* a DNS name (no "*.") or an IP literal */
    char token[128];      /* RFC 8555 8.1, base64url */
    char key_auth[256];   /* token "." account key thumbprint (8.1) */
};

/* Hands c to the validation pool; returns at once. The pool records the
 * outcome with store_acme_challenge_set_result (or _retry). */
typedef void api_acme_submit_fn(void *ctx, const struct api_acme_check *c);

/* ACME's policy and addresses; from warden.conf and serve's flags. */
struct api_acme_cfg {
    const char *base_url; /* "https://host:port" of the ACME listener */
    /* identifiers ACME may issue for: "example.internal" (that name and
     * every name below it) or an IP range "10.0.0.0/8", "fd00::/8" */
    const char *const *allow;
    size_t n_allow;
    bool eab_required;         /* newAccount needs externalAccountBinding */
    unsigned orders_per_hour;  /* per account; 0 = no limit */
    uint64_t order_lifetime_s; /* a pending order's and its authzs' life */
    uint64_t cert_validity_s;  /* the certificates ACME issues */
};

struct api_acme;

/*
 * The ACME server over api's store and CA. submit (with ctx) is how a
 * challenge the client answered reaches validation. On success the caller
 * owns *out (api_acme_free).
 */
enum wd_err api_acme_new(struct api *api, const struct api_acme_cfg *cfg,
                         api_acme_submit_fn *submit, void *submit_ctx,
                         struct api_acme **out);
void api_acme_free(struct api_acme *a);

/* Serve one request of the ACME listener: resp is always filled, errors
 * as application/problem+json with urn:ietf:params:acme:error:* types. */
void api_acme_handle(struct api_acme *a, const struct api_req *req,
                     struct api_resp *resp);

/* Housekeeping for serve's maintenance loop, every minute or so: expired
 * nonces, orders and authorizations (store_acme_cleanup, in bounded
 * batches; failures are logged and left for the next call). */
void api_acme_maintain(struct api_acme *a, int64_t now);

/* Largest ACME request body: a JWS around a CSR of WD_MAX_CSR_BYTES,
 * base64url-encoded twice over (protected, payload) with room to spare. */
#define API_ACME_MAX_BODY (4 * WD_MAX_CSR_BYTES)

#endif
