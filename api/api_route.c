/*
 * The mTLS listener's route table and dispatcher. Authorization lives in
 * the table: api_handle checks the caller against a route's access before
 * its handler runs, so no handler repeats that decision.
 */
#include "api_priv.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../server/base/limits.h"
#include "../server/base/parse.h"

#define API_PREFIX "/api/v1"

static const struct api_route routes[] = {
    /* paths below /api/v1 */
    { "POST", "/certificates", API_ACCESS_ISSUER, WD_MAX_CSR_BYTES,
      api_cert_issue },
    { "GET", "/certificates", API_ACCESS_READ, 0, api_cert_list },
    { "GET", "/certificates/*", API_ACCESS_READ_OR_HOLDER, 0, api_cert_get },
    { "POST", "/certificates/*/revoke", API_ACCESS_HOLDER,
      WD_MAX_SMALL_BODY_BYTES, api_cert_revoke },
    { "GET", "/ca", API_ACCESS_ANY, 0, api_ca_get },
    { "POST", "/renew", API_ACCESS_ANY, WD_MAX_CSR_BYTES, api_renew },
    { "GET", "/audit", API_ACCESS_ADMIN, 0, api_audit_list },
    { "GET", "/stats", API_ACCESS_READ, 0, api_stats_get },
    { "GET", "/whoami", API_ACCESS_ANY, 0, api_whoami_get },
    { "POST", "/acme/eab", API_ACCESS_ADMIN, 0, api_acme_eab_new },
};

/* The inventory page's files, outside /api/v1 (api_web.c). */
static const struct api_route page_route = { "GET", "/", API_ACCESS_READ, 0,
                                             api_web_get };

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/*
 * Does path match pattern, where "*" stands for one non-empty segment?
 * The matched segment is copied to arg (empty if none).
 */
static bool
match(const char *pattern, const char *path, char *arg, size_t argsz)
{
    arg[0] = '\0';
    while (*pattern != '\0') {
        if (*pattern == '*') {
            size_t len = strcspn(path, "/");

            if (len == 0 || len >= argsz) {
                /* too long for any serial: no route, handled as 404 */
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

static bool
allowed(enum api_access access, const struct api_identity *who, const char *arg)
{
    bool holder = arg != NULL && strcmp(arg, who->cert.serial) == 0;
    bool reader = who->role == API_ROLE_READER;

    if (who->role == API_ROLE_ADMIN) {
        return true;
    }
    switch (access) {
    case API_ACCESS_ANY:
        return true;
    case API_ACCESS_READ:
        return reader;
    case API_ACCESS_READ_OR_HOLDER:
        return reader || holder;
    case API_ACCESS_ISSUER:
        return !reader; /* the handler checks the service's grants */
    case API_ACCESS_HOLDER:
        return holder;
    case API_ACCESS_ADMIN:
        return false;
    }
    return false;
}

/*
 * A browser sends its client certificate with any request to this origin,
 * a cross-site form's or script's too. So a write is refused when the
 * browser says it comes from elsewhere: an Origin other than this
 * listener's own, or Sec-Fetch-Site other than same-origin or none. Tools
 * such as curl send neither header and are not affected.
 */
static bool
cross_origin(const struct api_req *req)
{
    char own[WD_MAX_URL];

    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
        return false;
    }
    if (req->sec_fetch_site != NULL &&
        strcmp(req->sec_fetch_site, "same-origin") != 0 &&
        strcmp(req->sec_fetch_site, "none") != 0) {
        return true;
    }
    if (req->origin == NULL) {
        return false;
    }
    if (req->host == NULL) {
        return true;
    }
    snprintf(own, sizeof(own), "https://%s", req->host);
    return strcasecmp(req->origin, own) != 0;
}

/*
 * Find the route for method + path. Returns it, or NULL with *err set to
 * WD_E_NOT_FOUND or WD_E_METHOD (allow lists the path's methods).
 */
static const struct api_route *
lookup(const char *method, const char *path, char *arg, size_t argsz,
       char *allow, size_t allowsz, enum wd_err *err)
{
    const struct api_route *found = NULL;
    size_t i;

    allow[0] = '\0';
    arg[0] = '\0';
    *err = WD_E_NOT_FOUND;
    if (api_web_has(path)) {
        if (strcmp(method, page_route.method) == 0) {
            *err = WD_OK;
            return &page_route;
        }
        snprintf(allow, allowsz, "%s", page_route.method);
        *err = WD_E_METHOD;
        return NULL;
    }
    if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0) {
        return NULL;
    }
    path += strlen(API_PREFIX);
    for (i = 0; i < N_ROUTES; i++) {
        if (!match(routes[i].pattern, path, arg, argsz)) {
            continue;
        }
        if (strcmp(routes[i].method, method) == 0) {
            found = &routes[i];
            break;
        }
        *err = WD_E_METHOD;
        if (strstr(allow, routes[i].method) == NULL) {
            size_t used = strlen(allow);

            snprintf(allow + used, allowsz - used, "%s%s", used > 0 ? ", " : "",
                     routes[i].method);
        }
    }
    if (found != NULL) {
        /* match() again: a later pattern may have overwritten arg */
        match(found->pattern, path, arg, argsz);
        *err = WD_OK;
    }
    return found;
}

/*
 * Serve one API request: route, authorize, run the handler. resp is
 * always filled (a JSON error when anything is refused).
 */
void
api_handle(struct api *api, const struct api_req *req, struct api_resp *resp)
{
    const struct api_route *route;
    char arg[WD_MAX_URL];
    char allow[64];
    enum wd_err err;

    route = lookup(req->method, req->path, arg, sizeof(arg), allow,
                   sizeof(allow), &err);
    if (route == NULL) {
        api_error(resp, err, NULL);
        if (err == WD_E_METHOD) {
            api_resp_header(resp, "Allow", allow);
        }
        return;
    }
    if (cross_origin(req)) {
        api_error(resp, WD_E_CROSS_ORIGIN, NULL);
        goto out;
    }
    if (req->who == NULL ||
        !allowed(route->access, req->who, arg[0] != '\0' ? arg : NULL)) {
        api_error(resp, WD_E_FORBIDDEN, NULL);
        goto out;
    }
    if (route->body_limit == 0 && req->body_len > 0) {
        api_error(resp, WD_E_TOO_LARGE, "this request takes no body");
        return;
    }
    route->handler(api, req, arg[0] != '\0' ? arg : NULL, resp);
out:
    if (resp->status == 403 && req->who != NULL) {
        char action[64];

        snprintf(action, sizeof(action), "%s %s", req->method,
                 route != NULL ? route->pattern : "?");
        api_audit_refusal(api, req->who->name, action,
                          wd_serial_is_valid(arg, strlen(arg)) ? arg : NULL,
                          resp->error_code);
    }
}

/*
 * Decide from method, path and caller alone whether a request may go on to
 * send its body: WD_OK with the route's body limit, or the error that
 * api_handle will answer (no route, wrong method, not allowed).
 */
enum wd_err
api_route_preflight(const char *method, const char *path,
                    const struct api_identity *who, size_t *body_limit)
{
    char arg[WD_MAX_URL];
    char allow[64];
    enum wd_err err;
    const struct api_route *route;

    *body_limit = 0;
    route = lookup(method, path, arg, sizeof(arg), allow, sizeof(allow), &err);
    if (route == NULL) {
        return err;
    }
    if (who == NULL ||
        !allowed(route->access, who, arg[0] != '\0' ? arg : NULL)) {
        return WD_E_FORBIDDEN;
    }
    *body_limit = route->body_limit;
    return WD_OK;
}

/* The route method + path reaches, named for metrics (no authorization:
 * a refused request is counted under the route it asked for). */
bool
api_route_name_get(const char *method, const char *path,
                   struct api_route_name *out)
{
    char arg[WD_MAX_URL];
    char allow[64];
    enum wd_err err;
    const struct api_route *route;

    route = lookup(method, path, arg, sizeof(arg), allow, sizeof(allow), &err);
    if (route == NULL) {
        return false;
    }
    out->key = route;
    out->method = route->method;
    out->prefix = route == &page_route ? "" : API_PREFIX;
    out->pattern = route->pattern;
    return true;
}
