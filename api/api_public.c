/*
 * The public listener (plain HTTP): signed, public objects and health.
 * Nothing here is secret or writable, so there is no identity; the same
 * error mapping and JSON shapes as the API apply.
 */
#include "api_priv.h"

#include <string.h>

typedef void public_fn(struct api *api, struct api_resp *resp);

static void
healthz(struct api *api, struct api_resp *resp)
{
    (void)api;
    api_json_send(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static void
root_pem(struct api *api, struct api_resp *resp)
{
    const char *pem = pki_ca_root_pem(api->ca);

    api_text_send(resp, 200, "application/x-pem-file", pem, strlen(pem));
}

static void
chain_pem(struct api *api, struct api_resp *resp)
{
    const char *pem = pki_ca_chain_pem(api->ca);

    api_text_send(resp, 200, "application/pem-certificate-chain", pem,
                  strlen(pem));
}

/* RFC 5280 4.2.2.1: caIssuers over HTTP is one DER certificate. */
static void
intermediate_der(struct api *api, struct api_resp *resp)
{
    size_t len;
    const uint8_t *der = pki_ca_intermediate_der(api->ca, &len);

    api_text_send(resp, 200, "application/pkix-cert", der, len);
}

static const struct {
    const char *path;
    public_fn *fn;
    bool cacheable;
} public_routes[] = {
    { "/healthz", healthz, false },
    { "/ca.crt", root_pem, true },
    { "/chain.pem", chain_pem, true },
    { "/intermediate.crt", intermediate_der, true },
};

/*
 * Serve GET (and HEAD) on the public routes; 404 for unknown paths, 405
 * with Allow for other methods, 400 for a query string or a body.
 */
void
api_public_handle(struct api *api, const struct api_req *req,
                  struct api_resp *resp)
{
    size_t i;

    for (i = 0; i < sizeof(public_routes) / sizeof(public_routes[0]); i++) {
        if (strcmp(req->path, public_routes[i].path) != 0) {
            continue;
        }
        if (strcmp(req->method, "GET") != 0 &&
            strcmp(req->method, "HEAD") != 0) {
            api_error(resp, WD_E_METHOD, NULL);
            api_resp_header(resp, "Allow", "GET, HEAD");
            return;
        }
        if (req->n_query > 0 || req->query_overflow) {
            api_error(resp, WD_E_BAD_QUERY, NULL);
            return;
        }
        if (req->body_len > 0) {
            api_error(resp, WD_E_TOO_LARGE, "this request takes no body");
            return;
        }
        public_routes[i].fn(api, resp);
        if (public_routes[i].cacheable && resp->status == 200) {
            /* CA certificates change only with a new CA */
            api_resp_header(resp, "Cache-Control", "public, max-age=3600");
        }
        return;
    }
    api_error(resp, WD_E_NOT_FOUND, NULL);
}
