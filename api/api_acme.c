/*
 * The ACME server (RFC 8555) on its own listener: its state, the route
 * table below /acme/, the directory and the nonces. srv_http.c hands each
 * request of the ACME listener to api_acme_handle, which finds the route,
 * authenticates the JWS of a POST (api_acme_jws.c) and runs the handler;
 * every answer then gets a fresh Replay-Nonce and the directory's index
 * link. Accounts, orders and revocation have their own files; errors
 * are problem documents (api_acme_problem.c).
 */
#include "api_acme_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* RFC 8555 6.5: long enough for a client to use the nonce of its last
 * answer after a slow step (a DNS record to publish), short enough that
 * the table stays small; store_acme_cleanup deletes the stale ones. */
#define NONCE_LIFETIME_S (60 * 60)

/* Bytes of randomness in an id, token or nonce (RFC 8555 8.1: a token
 * holds at least 128 bits). */
#define ID_BYTES 16

/* Rounds of store_acme_cleanup one maintenance call runs at most. */
#define MAINTAIN_ROUNDS 16

static void directory_get(struct api_acme *a, const struct api_req *req,
                          const struct api_acme_jws *jws, const char *arg,
                          struct api_resp *resp);
static void nonce_get(struct api_acme *a, const struct api_req *req,
                      const struct api_acme_jws *jws, const char *arg,
                      struct api_resp *resp);

static const struct acme_route {
    const char *method;
    const char *pattern; /* below /acme; "*" matches one segment */
    enum api_acme_key key;
    api_acme_handler_fn *handler;
} routes[] = {
    { "GET", "/directory", API_ACME_KEY_NONE, directory_get },
    { "HEAD", "/new-nonce", API_ACME_KEY_NONE, nonce_get },
    { "GET", "/new-nonce", API_ACME_KEY_NONE, nonce_get },
    { "POST", "/new-account", API_ACME_KEY_JWK, api_acme_account_new },
    { "POST", "/acct/*", API_ACME_KEY_KID, api_acme_account_post },
    { "POST", "/acct/*/orders", API_ACME_KEY_KID, api_acme_account_orders },
    { "POST", "/key-change", API_ACME_KEY_KID, api_acme_account_key_change },
    { "POST", "/new-order", API_ACME_KEY_KID, api_acme_order_new },
    { "POST", "/order/*", API_ACME_KEY_KID, api_acme_order_get },
    { "POST", "/order/*/finalize", API_ACME_KEY_KID, api_acme_order_finalize },
    { "POST", "/authz/*", API_ACME_KEY_KID, api_acme_authz_post },
    { "POST", "/chall/*", API_ACME_KEY_KID, api_acme_chall_post },
    { "POST", "/cert/*", API_ACME_KEY_KID, api_acme_cert_get },
    { "POST", "/revoke-cert", API_ACME_KEY_ANY, api_acme_revoke_cert },
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))
#define ACME_PREFIX "/acme"

/* Does path match pattern ("*" = one non-empty segment, copied to arg)? */
static bool
match(const char *pattern, const char *path, char *arg, size_t argsz)
{
    arg[0] = '\0';
    while (*pattern != '\0') {
        if (*pattern == '*') {
            size_t len = strcspn(path, "/");

            if (len == 0 || len >= argsz) {
                return false;
            }
            memcpy(arg, path, len);
            arg[len] = '\0';
            path += len;
            pattern++;
            continue;
        }
        if (*pattern != *path) {
            return false;
        }
        pattern++;
        path++;
    }
    return *path == '\0';
}

/* The route of method + path, or NULL with *err (NOT_FOUND or METHOD). */
static const struct acme_route *
lookup(const char *method, const char *path, char *arg, size_t argsz,
       char *allow, size_t allowsz, enum wd_err *err)
{
    size_t i;

    allow[0] = '\0';
    *err = WD_E_NOT_FOUND;
    if (strncmp(path, ACME_PREFIX, strlen(ACME_PREFIX)) != 0) {
        return NULL;
    }
    path += strlen(ACME_PREFIX);
    for (i = 0; i < N_ROUTES; i++) {
        size_t used = strlen(allow);

        if (!match(routes[i].pattern, path, arg, argsz)) {
            continue;
        }
        if (strcmp(routes[i].method, method) == 0) {
            *err = WD_OK;
            return &routes[i];
        }
        *err = WD_E_METHOD;
        snprintf(allow + used, allowsz - used, "%s%s", used > 0 ? ", " : "",
                 routes[i].method);
    }
    return NULL;
}

/* A fresh 128-bit id in base64url (api_acme_priv.h). */
enum wd_err
api_acme_id_new(char out[STORE_ACME_ID_MAX + 1])
{
    uint8_t rnd[ID_BYTES];
    char *text;

    if (pki_random(rnd, sizeof(rnd), PKI_RANDOM_NONCE) != WD_OK) {
        return WD_E_INTERNAL;
    }
    text = pki_b64url_encode(rnd, sizeof(rnd));
    snprintf(out, STORE_ACME_ID_MAX + 1, "%s", text);
    free(text);
    return WD_OK;
}

/* base_url/acme/kind[/id] (api_acme_priv.h). */
char *
api_acme_url(const struct api_acme *a, const char *kind, const char *id)
{
    size_t size =
        strlen(a->base_url) + strlen(kind) + 16 + (id != NULL ? strlen(id) : 0);
    char *url = xmalloc(size);

    snprintf(url, size, "%s" ACME_PREFIX "/%s%s%s", a->base_url, kind,
             id != NULL ? "/" : "", id != NULL ? id : "");
    return url;
}

/* <url>;rel="rel" (RFC 8288 3). */
void
api_acme_link(struct api_resp *resp, const char *url, const char *rel)
{
    char value[sizeof(resp->headers[0].value)];

    snprintf(value, sizeof(value), "<%s>;rel=\"%s\"", url, rel);
    api_resp_header(resp, "Link", value);
}

/* JSON with a Location (api_acme_priv.h). */
void
api_acme_send(struct api_resp *resp, int status, json_t *obj,
              const char *location)
{
    api_json_send(resp, status, obj);
    if (location != NULL && resp->status == status) {
        api_resp_header(resp, "Location", location);
    }
}

/* Does the account that signed own the object? */
bool
api_acme_owns(const struct api_acme_jws *jws, int64_t account_id,
              struct api_resp *resp)
{
    if (jws->account != NULL && jws->account->id == account_id) {
        return true;
    }
    api_acme_problem_send(resp, API_ACME_P_UNAUTHORIZED, 0,
                          "this object belongs to another account", NULL);
    return false;
}

/* An order's status as RFC 8555 7.1.6 has it at now. */
enum store_acme_status
api_acme_order_status(const struct store_acme_order *o, int64_t now)
{
    if ((o->status == STORE_ACME_PENDING || o->status == STORE_ACME_READY) &&
        o->expires_at <= now) {
        return STORE_ACME_INVALID;
    }
    return o->status;
}

/* An authorization's status as RFC 8555 7.1.6 has it at now. */
enum store_acme_status
api_acme_authz_status(const struct store_acme_authz *z, int64_t now)
{
    if ((z->status == STORE_ACME_PENDING || z->status == STORE_ACME_VALID) &&
        z->expires_at <= now) {
        return STORE_ACME_EXPIRED;
    }
    return z->status;
}

/* RFC 8555 7.1.1: the directory, with the policy clients must know. */
static void
directory_get(struct api_acme *a, const struct api_req *req,
              const struct api_acme_jws *jws, const char *arg,
              struct api_resp *resp)
{
    char *urls[5];
    json_t *doc;
    size_t i;

    (void)req;
    (void)jws;
    (void)arg;
    urls[0] = api_acme_url(a, "new-nonce", NULL);
    urls[1] = api_acme_url(a, "new-account", NULL);
    urls[2] = api_acme_url(a, "new-order", NULL);
    urls[3] = api_acme_url(a, "revoke-cert", NULL);
    urls[4] = api_acme_url(a, "key-change", NULL);
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:b}}", "newNonce", urls[0],
                    "newAccount", urls[1], "newOrder", urls[2], "revokeCert",
                    urls[3], "keyChange", urls[4], "meta",
                    "externalAccountRequired", a->eab_required);
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        free(urls[i]);
    }
    api_json_send(resp, 200, doc);
}

/* RFC 8555 7.2: HEAD gives 200, GET 204; the nonce is added by
 * api_acme_handle like everywhere, and must not be cached. */
static void
nonce_get(struct api_acme *a, const struct api_req *req,
          const struct api_acme_jws *jws, const char *arg,
          struct api_resp *resp)
{
    (void)a;
    (void)jws;
    (void)arg;
    api_resp_drop_body(resp);
    resp->status = strcmp(req->method, "HEAD") == 0 ? 200 : 204;
    resp->content_type = NULL;
    api_resp_header(resp, "Cache-Control", "no-store");
}

/* A fresh nonce into resp's Replay-Nonce (RFC 8555 6.5). False if none
 * could be stored. */
static bool
add_nonce(struct api_acme *a, const struct api_req *req, struct api_resp *resp)
{
    char nonce[STORE_ACME_ID_MAX + 1];
    enum wd_err rc;

    rc = api_acme_id_new(nonce);
    if (rc == WD_OK) {
        rc = store_acme_nonce_insert(a->api->store, nonce,
                                     (int64_t)req->now + NONCE_LIFETIME_S);
    }
    if (rc != WD_OK) {
        log_warn("event=acme_nonce_failed err=\"%s\"", wd_err_str(rc));
        return false;
    }
    api_resp_header(resp, "Replay-Nonce", nonce);
    return true;
}

/* Serve one request of the ACME listener (api.h). */
void
api_acme_handle(struct api_acme *a, const struct api_req *req,
                struct api_resp *resp)
{
    const struct acme_route *route;
    struct api_acme_jws jws = { 0 };
    char arg[WD_MAX_URL];
    char allow[64];
    char *index;
    enum wd_err err;

    route = lookup(req->method, req->path, arg, sizeof(arg), allow,
                   sizeof(allow), &err);
    if (route == NULL) {
        api_acme_problem_err(resp, err, NULL);
        if (err == WD_E_METHOD) {
            api_resp_header(resp, "Allow", allow);
        }
        goto out;
    }
    if (route->key == API_ACME_KEY_NONE) {
        route->handler(a, req, NULL, arg[0] != '\0' ? arg : NULL, resp);
        goto out;
    }
    if (req->body_len > API_ACME_MAX_BODY) {
        api_acme_problem_err(resp, WD_E_TOO_LARGE, NULL);
        goto out;
    }
    if (api_acme_jws_check(a, req, route->key, &jws, resp) != WD_OK) {
        goto out;
    }
    route->handler(a, req, &jws, arg[0] != '\0' ? arg : NULL, resp);
out:
    /* RFC 8555 6.5: a nonce with every answer, so a client that got
     * badNonce retries at once; 7.1: the directory's link */
    if (!add_nonce(a, req, resp) && route != NULL &&
        strcmp(route->pattern, "/new-nonce") == 0) {
        api_acme_problem_err(resp, WD_E_UNAVAILABLE, NULL);
    }
    index = api_acme_url(a, "directory", NULL);
    api_acme_link(resp, index, "index");
    free(index);
    api_acme_jws_clear(&jws);
}

/*
 * The ACME server over api's store and CA (api.h). cfg is copied.
 * WD_E_CONFIG for a config without base_url or with a zero lifetime or
 * validity.
 */
enum wd_err
api_acme_new(struct api *api, const struct api_acme_cfg *cfg,
             api_acme_submit_fn *submit, void *submit_ctx,
             struct api_acme **out)
{
    struct api_acme *a;
    size_t len;
    size_t i;

    if (api == NULL || cfg == NULL || cfg->base_url == NULL ||
        cfg->base_url[0] == '\0' || cfg->order_lifetime_s == 0 ||
        cfg->cert_validity_s == 0 || submit == NULL ||
        (cfg->n_allow > 0 && cfg->allow == NULL)) {
        log_err("event=acme_config error=\"base_url, order lifetime, "
                "certificate validity and submit are required\"");
        return WD_E_CONFIG;
    }
    a = xcalloc(1, sizeof(*a));
    a->api = api;
    a->base_url = xstrdup(cfg->base_url);
    len = strlen(a->base_url);
    while (len > 0 && a->base_url[len - 1] == '/') {
        a->base_url[--len] = '\0'; /* "https://h:1/" names the same root */
    }
    a->n_allow = cfg->n_allow;
    a->allow = xcalloc(cfg->n_allow + 1, sizeof(*a->allow));
    for (i = 0; i < cfg->n_allow; i++) {
        a->allow[i] = xstrdup(cfg->allow[i]);
    }
    a->eab_required = cfg->eab_required;
    a->orders_per_hour = cfg->orders_per_hour;
    a->order_lifetime_s = cfg->order_lifetime_s;
    a->cert_validity_s = cfg->cert_validity_s;
    a->submit = submit;
    a->submit_ctx = submit_ctx;
    *out = a;
    return WD_OK;
}

/* Frees a; accepts NULL. */
void
api_acme_free(struct api_acme *a)
{
    size_t i;

    if (a == NULL) {
        return;
    }
    for (i = 0; i < a->n_allow; i++) {
        free(a->allow[i]);
    }
    free(a->allow);
    free(a->base_url);
    free(a);
}

/*
 * Periodic housekeeping for serve's maintenance loop (api.h): expired
 * nonces, orders and authorizations, in bounded batches.
 */
void
api_acme_maintain(struct api_acme *a, int64_t now)
{
    struct store_acme_cleanup c = { 0 };
    int round;

    for (round = 0; round < MAINTAIN_ROUNDS; round++) {
        memset(&c, 0, sizeof(c));
        if (store_acme_cleanup(a->api->store, now, &c) != WD_OK) {
            return; /* logged by the store; the next call catches up */
        }
        if (c.orders_invalidated + c.authzs_expired + c.orders_deleted > 0) {
            log_info("event=acme_cleanup nonces=%lld orders_invalidated=%lld "
                     "authzs_expired=%lld challenges_invalidated=%lld "
                     "orders_deleted=%lld",
                     (long long)c.nonces_deleted,
                     (long long)c.orders_invalidated,
                     (long long)c.authzs_expired,
                     (long long)c.challenges_invalidated,
                     (long long)c.orders_deleted);
        }
        if (!c.more) {
            return;
        }
    }
}
