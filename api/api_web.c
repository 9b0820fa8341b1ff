/*
 * The inventory page on the API listener: GET /, /app.js and /app.css from
 * the bytes compiled into the binary (web/web_assets.h), for admins and
 * readers (the route table decides). The page is a client of this same
 * API; the headers here lock it to that: scripts and styles only from this
 * origin, no inline code, no framing.
 */
#include "api_priv.h"

#include "../web/web_assets.h"

/* PRODUCT: a strict policy. 'self' for everything the page loads; data:
 * images only; no plugins, no <base>, no form posts, never framed. */
#define PAGE_CSP                                                               \
    "default-src 'self'; script-src 'self'; style-src 'self';"                 \
    " img-src 'self' data:; connect-src 'self'; object-src 'none';"            \
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

_Static_assert(sizeof(PAGE_CSP) <=
                   sizeof(((struct api_resp *)0)->headers[0].value),
               "the policy fits a response header slot");

/* The bytes are static: nothing to give back. */
static void
keep_static(void *cls)
{
    (void)cls;
}

/* Is path one of the page's files? (for the route lookup) */
bool
api_web_has(const char *path)
{
    return web_asset_find(path) != NULL;
}

/* GET of a page file: 200 with its bytes, or 304 when If-None-Match holds
 * its ETag. Revalidated on every load (no-cache) so an upgrade shows at
 * once, at the cost of one small round trip. */
void
api_web_get(struct api *api, const struct api_req *req, const char *arg,
            struct api_resp *resp)
{
    const struct web_asset *a = web_asset_find(req->path);

    (void)api;
    (void)arg;
    if (a == NULL) { /* the route lookup found it: cannot happen */
        api_error(resp, WD_E_NOT_FOUND, NULL);
        return;
    }
    if (req->n_query > 0 || req->query_overflow) {
        api_error(resp, WD_E_BAD_QUERY, NULL);
        return;
    }
    api_resp_header(resp, "ETag", a->etag);
    api_resp_header(resp, "Cache-Control", "no-cache");
    api_resp_header(resp, "Content-Security-Policy", PAGE_CSP);
    if (api_etag_matches(req->if_none_match, a->etag)) {
        api_text_send(resp, 304, a->content_type, "", 0);
        return;
    }
    resp->status = 200;
    resp->content_type = a->content_type;
    /* MHD only reads the body; the const is ours to keep */
    resp->body = (uint8_t *)(uintptr_t)a->data;
    resp->body_len = a->len;
    resp->release = keep_static;
    resp->release_cls = NULL;
}
