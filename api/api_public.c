/*
 * The public listener (plain HTTP): signed, public objects, health and
 * metrics.
 * Nothing here is secret, so there is no identity; the same error mapping
 * and JSON shapes as the API apply, except that OCSP answers in OCSP.
 */
#include "api_priv.h"

#include <string.h>

/* RFC 6960 requests are a few hundred bytes; 16 KiB is generous. */
#define OCSP_MAX_REQUEST_BYTES (16 * 1024)

typedef void public_fn(struct api *api, const struct api_req *req,
                       struct api_resp *resp);

static void
root_pem(struct api *api, const struct api_req *req, struct api_resp *resp)
{
    const char *pem = pki_ca_root_pem(api->ca);

    (void)req;
    api_text_send(resp, 200, "application/x-pem-file", pem, strlen(pem));
    api_resp_header(resp, "Cache-Control", "public, max-age=3600");
}

static void
chain_pem(struct api *api, const struct api_req *req, struct api_resp *resp)
{
    const char *pem = pki_ca_chain_pem(api->ca);

    (void)req;
    api_text_send(resp, 200, "application/pem-certificate-chain", pem,
                  strlen(pem));
    api_resp_header(resp, "Cache-Control", "public, max-age=3600");
}

/* RFC 5280 4.2.2.1: caIssuers over HTTP is one DER certificate. */
static void
intermediate_der(struct api *api, const struct api_req *req,
                 struct api_resp *resp)
{
    size_t len;
    const uint8_t *der = pki_ca_intermediate_der(api->ca, &len);

    (void)req;
    api_text_send(resp, 200, "application/pkix-cert", der, len);
    api_resp_header(resp, "Cache-Control", "public, max-age=3600");
}

static const struct public_route {
    const char *method; /* GET routes answer HEAD too */
    const char *path;
    size_t body_limit;
    public_fn *fn;
} public_routes[] = {
    { "GET", "/healthz", 0, api_health_get },
    { "GET", "/metrics", 0, api_metrics_get },
    { "GET", "/ca.crt", 0, root_pem },
    { "GET", "/chain.pem", 0, chain_pem },
    { "GET", "/intermediate.crt", 0, intermediate_der },
    { "GET", "/crl", 0, api_crl_get_der },
    { "GET", "/crl.pem", 0, api_crl_get_pem },
    { "GET", "/crls.pem", 0, api_crl_get_bundle },
    { "GET", "/root.crl", 0, api_crl_get_root },
    { "POST", "/ocsp", OCSP_MAX_REQUEST_BYTES, api_ocsp_post },
};

#define N_PUBLIC (sizeof(public_routes) / sizeof(public_routes[0]))

/* GET /ocsp/{base64}: the rest of the path, slashes included (A.1). */
static const char *
ocsp_get_arg(const char *method, const char *path)
{
    if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
        strncmp(path, "/ocsp/", 6) == 0) {
        return path + 6;
    }
    return NULL;
}

static bool
method_is(const struct public_route *r, const char *method)
{
    return strcmp(r->method, method) == 0 ||
           (strcmp(r->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/*
 * The route for method + path: WD_OK with *route (NULL for the OCSP GET
 * form), or WD_E_NOT_FOUND / WD_E_METHOD (*allow set).
 */
static enum wd_err
lookup(const char *method, const char *path, const struct public_route **route,
       const char **allow)
{
    size_t i;

    *route = NULL;
    *allow = NULL;
    if (ocsp_get_arg(method, path) != NULL) {
        return WD_OK;
    }
    for (i = 0; i < N_PUBLIC; i++) {
        if (strcmp(public_routes[i].path, path) != 0) {
            continue;
        }
        if (method_is(&public_routes[i], method)) {
            *route = &public_routes[i];
            return WD_OK;
        }
        *allow =
            strcmp(public_routes[i].method, "GET") == 0 ? "GET, HEAD" : "POST";
        return WD_E_METHOD;
    }
    return WD_E_NOT_FOUND;
}

/* Before reading a body: the route's limit, or the error to answer. */
enum wd_err
api_public_preflight(const char *method, const char *path, size_t *limit)
{
    const struct public_route *route;
    const char *allow;
    enum wd_err rc = lookup(method, path, &route, &allow);

    *limit = rc == WD_OK && route != NULL ? route->body_limit : 0;
    return rc;
}

/*
 * Serve one request of the public listener: 404 for unknown paths, 405
 * with Allow for other methods, 400 for a query string, 413 for a body on
 * a route that takes none.
 */
void
api_public_handle(struct api *api, const struct api_req *req,
                  struct api_resp *resp)
{
    const struct public_route *route;
    const char *allow;
    const char *b64 = ocsp_get_arg(req->method, req->path);
    enum wd_err rc = lookup(req->method, req->path, &route, &allow);

    if (rc != WD_OK) {
        api_error(resp, rc, NULL);
        if (allow != NULL) {
            api_resp_header(resp, "Allow", allow);
        }
        return;
    }
    if (req->n_query > 0 || req->query_overflow) {
        api_error(resp, WD_E_BAD_QUERY, NULL);
        return;
    }
    if ((route == NULL || route->body_limit == 0) && req->body_len > 0) {
        api_error(resp, WD_E_TOO_LARGE, "this request takes no body");
        return;
    }
    if (route == NULL) {
        api_ocsp_get(api, req, b64, resp);
        return;
    }
    route->fn(api, req, resp);
}

/* The public route method + path reaches, named for metrics. */
bool
api_public_route_name_get(const char *method, const char *path,
                          struct api_route_name *out)
{
    /* the GET form of OCSP has no table entry: this stands for it */
    static const char ocsp_get_key = 0;
    const struct public_route *route;
    const char *allow;

    if (lookup(method, path, &route, &allow) != WD_OK) {
        return false;
    }
    out->key = route != NULL ? (const void *)route : &ocsp_get_key;
    out->method = route != NULL ? route->method : "GET";
    out->prefix = "";
    out->pattern = route != NULL ? route->path : "/ocsp/*";
    return true;
}
