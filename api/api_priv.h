/*
 * Shared internals of api/: the route table's shape, the handlers, and the
 * JSON and media-type helpers they share.
 */
#ifndef WD_API_PRIV_H
#define WD_API_PRIV_H

#include <jansson.h>
#include <stdio.h>

#include "api.h"

/* Who may call a route; checked by api_handle before the handler runs. */
enum api_access {
    API_ACCESS_ANY,            /* any valid client of this CA */
    API_ACCESS_ADMIN,          /* admins only */
    API_ACCESS_READ,           /* admins and readers */
    API_ACCESS_READ_OR_HOLDER, /* admins, readers, the serial's holder */
    API_ACCESS_ISSUER, /* admins; services, whose grants the handler checks */
    API_ACCESS_HOLDER, /* admins, or the holder of the serial in the path */
};

typedef void api_handler_fn(struct api *api, const struct api_req *req,
                            const char *arg, struct api_resp *resp);

struct api_route {
    const char *method;
    const char *pattern; /* below /api/v1; "*" matches one segment */
    enum api_access access;
    size_t body_limit; /* bytes; 0 = no body */
    api_handler_fn *handler;
};

/* Handlers; arg is the segment matched by "*", or NULL. */
api_handler_fn api_cert_issue;
api_handler_fn api_cert_list;
api_handler_fn api_cert_get;
api_handler_fn api_ca_get;
api_handler_fn api_cert_revoke;
api_handler_fn api_renew;
api_handler_fn api_audit_list;
api_handler_fn api_stats_get;
api_handler_fn api_whoami_get;
api_handler_fn api_web_get;

/* Is path one of the inventory page's files? (api_web.c) */
bool api_web_has(const char *path);

/* The 201 of an issuance: JSON, or the PEM chain (api_cert_issue.c). */
void api_send_issued(struct api *api, const struct pki_cert *cert, bool pem,
                     struct api_resp *resp);

/* Commit cert with an audit action of our choosing (api_record.c). */
enum wd_err api_cert_record_as(struct store *st, const struct pki_cert *cert,
                               const char *requester, time_t now,
                               const char *action, const char *detail);

/* The store's SAN column of cert, "DNS:a, IP:b" (api_record.c). Caller
 * frees. */
char *api_cert_sans_join(const struct pki_cert *cert);

/* POST /api/v1/acme/eab: a new External Account Binding key for ACME
 * (api_acme_eab.c). */
api_handler_fn api_acme_eab_new;

/* The validity bounds of profile under the configured policy. */
struct api_profile_policy api_profile_bounds(const struct api_cfg *cfg,
                                             enum pki_profile profile);

/* Free or give back resp's body; status and headers stay. */
void api_resp_drop_body(struct api_resp *resp);

/* Immutable, reference-counted bytes sent without copies (api_blob.c). */
struct api_blob;

struct api_blob *api_blob_new(const void *data, size_t len);
struct api_blob *api_blob_ref(struct api_blob *b);
void api_blob_unref(struct api_blob *b);
const uint8_t *api_blob_data(const struct api_blob *b);
size_t api_blob_len(const struct api_blob *b);
void api_blob_send(struct api_resp *resp, int status, const char *content_type,
                   struct api_blob *b);

/* A signing slot around every private-key operation (api_sign.c). */
enum wd_err api_sign_begin(struct api *api);
enum wd_err api_sign_try_begin(struct api *api);
void api_sign_end(struct api *api);

/* Sends json (reference stolen) with status as application/json. */
void api_json_send(struct api_resp *resp, int status, json_t *json);

/* Sends a copy of text with the given static content type. */
void api_text_send(struct api_resp *resp, int status, const char *content_type,
                   const void *body, size_t len);

/* s as a JSON string (null for NULL), bytes that are not printable ASCII
 * replaced by '?' when s is not valid UTF-8 (api_json.c). */
json_t *api_json_text(const char *s);

/* RFC 3339 UTC ("2026-11-29T15:40:26Z"), as a new JSON string. */
json_t *api_json_time(int64_t t);

/*
 * Does the Accept header take the PEM chain instead of JSON? WD_OK with
 * *pem set, or WD_E_NOT_ACCEPTABLE when it names neither.
 */
enum wd_err api_accept_pem(const char *accept, bool *pem);

/*
 * The chain a TLS peer presents for leaf_pem: the leaf, then the
 * intermediate (the root is the trust anchor clients already hold).
 * Caller frees; *len is its length without the NUL.
 */
char *api_leaf_chain(const struct pki_ca *ca, const char *leaf_pem,
                     size_t *len);

/* CRL publishing (api_crl.c). */
enum wd_err api_crl_start(struct api *api, const struct api_revocation_cfg *cfg,
                          const uint8_t *root_crl, size_t root_len);
void api_crl_stop(struct api *api);
enum wd_err api_crl_refresh(struct api *api);
void api_crl_get_der(struct api *api, const struct api_req *req,
                     struct api_resp *resp);
void api_crl_get_pem(struct api *api, const struct api_req *req,
                     struct api_resp *resp);
void api_crl_get_bundle(struct api *api, const struct api_req *req,
                        struct api_resp *resp);
void api_crl_get_root(struct api *api, const struct api_req *req,
                      struct api_resp *resp);

/* The published CRL, as /metrics and /healthz describe it (api_crl.c). */
struct api_crl_state {
    bool published; /* false before the first build */
    uint64_t number;
    size_t der_len;
    time_t this_update;
    time_t next_update;
    uint64_t validity_s; /* the configured crl_validity */
};

void api_crl_state_get(struct api *api, struct api_crl_state *out);

/* OCSP responder and its cache (api_ocsp.c). */
enum wd_err api_ocsp_start(struct api *api,
                           const struct api_revocation_cfg *cfg,
                           struct pki_ocsp_responder *r);
void api_ocsp_stop(struct api *api);
void api_ocsp_forget(struct api *api, const char *serial);
void api_ocsp_flush(struct api *api);
void api_ocsp_refresh(struct api *api);
void api_ocsp_post(struct api *api, const struct api_req *req,
                   struct api_resp *resp);
void api_ocsp_get(struct api *api, const struct api_req *req, const char *b64,
                  struct api_resp *resp);

/* The public listener's health and metrics pages (api_health.c,
 * api_metrics_page.c). */
void api_health_get(struct api *api, const struct api_req *req,
                    struct api_resp *resp);
void api_metrics_get(struct api *api, const struct api_req *req,
                     struct api_resp *resp);

/*
 * The route table entry method + path reaches, as metrics label it:
 * endpoint = prefix + pattern ("/api/v1" + "/ca"); key tells
 * entries apart. false when no entry matches (api_route.c, api_public.c).
 */
struct api_route_name {
    const void *key;
    const char *method;
    const char *prefix;
    const char *pattern;
};

bool api_route_name_get(const char *method, const char *path,
                        struct api_route_name *out);
bool api_public_route_name_get(const char *method, const char *path,
                               struct api_route_name *out);

/* What handlers record for /metrics (api_metrics.c); each is a no-op
 * when api->metrics is NULL. */
void api_metrics_issued(struct api *api, enum pki_profile profile,
                        bool renewal);
void api_metrics_revoked(struct api *api, int reason);
void api_metrics_signed(struct api *api, uint64_t duration_us);
void api_metrics_ocsp_cache(struct api *api, bool hit);

/* The inventory's counts (30-day "expiring" window), cached a few
 * seconds and recounted beside the scrape, not in it (api_stats_cache.c). */
enum wd_err api_metrics_stats_get(struct api *api, int64_t now,
                                  struct store_cert_stats *out);

/* Inventory counts made by a thread of their own, at most max_age_s old
 * or, while a recount runs, the last ones (api_stats_cache.c). */
struct api_stats_cache;
struct api_stats_cache *api_stats_cache_new(struct store *st, int64_t window_s,
                                            int64_t max_age_s);
void api_stats_cache_free(struct api_stats_cache *c);
enum wd_err api_stats_cache_get(struct api_stats_cache *c, int64_t now,
                                struct store_cert_stats *out);

/* The recorded families in the text format (api_metrics.c). */
void api_metrics_print(const struct api_metrics *m, FILE *f);

/* HTTP dates and ETag matching for cacheable public objects. */
void api_http_date(time_t t, char *out, size_t outsz);
bool api_etag_matches(const char *if_none_match, const char *etag);

/* The list filters from the query string (api_query.c). */
enum wd_err api_query_parse(const struct api_req *req,
                            const struct api_cfg *cfg, struct store_query *q);

/* The next_cursor of a page listed by q; "" on the last page. */
#define API_CURSOR_MAX 48
void api_query_cursor(const struct store_query *q,
                      const struct store_cert_list *l, char *out, size_t outsz);

/* The media type of a Content-Type header, lower-cased, without params. */
void api_media_type(const char *content_type, char *out, size_t outsz);

#endif
