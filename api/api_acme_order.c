/*
 * ACME orders (RFC 8555 7.4): newOrder turns the identifiers a client
 * asks for into an order with one authorization per identifier and its
 * challenges, after the operator's policy (cfg->allow) and the rate limit
 * agreed; the order resource reads it back. Authorizations and
 * challenges are api_acme_authz.c's, finalization and the certificate
 * api_acme_finalize.c's.
 */
#include "api_acme_priv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* RFC 8555 7.4 leaves the wait to us: a finalization is synchronous, so a
 * client that finds an order processing should look again soon. */
#define RETRY_AFTER_S "3"

/* An hour, as RFC 8555 has no window for rate limits: the client waits
 * until an order of the last hour leaves it. */
#define RATE_WINDOW_S (60 * 60)

/* One identifier of a newOrder, normalised. */
struct ident {
    enum store_acme_ident_type type;
    char value[WD_MAX_DNS_NAME + 1]; /* without "*.", lower case */
    bool wildcard;
};

/* The RFC 8555 7.1.3 order object (api_acme_priv.h). */
json_t *
api_acme_order_json(const struct api_acme *a, const struct store_acme_order *o,
                    int64_t now)
{
    json_t *idents = json_array();
    json_t *authzs = json_array();
    char *finalize = api_acme_url(a, "order", o->oid);
    size_t flen = strlen(finalize) + sizeof("/finalize");
    char *furl = xmalloc(flen);
    enum store_acme_status status = api_acme_order_status(o, now);
    json_t *doc;
    size_t i;

    snprintf(furl, flen, "%s/finalize", finalize);
    for (i = 0; i < o->n_authzs; i++) {
        const struct store_acme_authz *z = &o->authzs[i];
        char *url = api_acme_url(a, "authz", z->aid);

        json_array_append_new(
            idents, json_pack("{s:s, s:s+}", "type",
                              store_acme_ident_type_str(z->ident_type), "value",
                              z->wildcard ? "*." : "", z->ident_value));
        json_array_append_new(authzs, json_string(url));
        free(url);
    }
    doc = json_pack("{s:s, s:o, s:o, s:o, s:s}", "status",
                    store_acme_status_str(status), "expires",
                    api_json_time(o->expires_at), "identifiers", idents,
                    "authorizations", authzs, "finalize", furl);
    if (o->not_before != 0) {
        json_object_set_new(doc, "notBefore", api_json_time(o->not_before));
    }
    if (o->not_after != 0) {
        json_object_set_new(doc, "notAfter", api_json_time(o->not_after));
    }
    if (status == STORE_ACME_VALID && o->certificate_serial[0] != '\0') {
        char *cert = api_acme_url(a, "cert", o->oid);

        json_object_set_new(doc, "certificate", json_string(cert));
        free(cert);
    }
    if (o->error != NULL) {
        json_t *err = json_loads(o->error, 0, NULL);

        if (err != NULL) {
            json_object_set_new(doc, "error", err);
        }
    }
    free(finalize);
    free(furl);
    return doc;
}

/* The order with its URL and, while processing, Retry-After. */
void
api_acme_order_send(const struct api_acme *a, const struct store_acme_order *o,
                    int status, int64_t now, struct api_resp *resp)
{
    char *url = api_acme_url(a, "order", o->oid);

    api_acme_send(resp, status, api_acme_order_json(a, o, now), url);
    if (o->status == STORE_ACME_PROCESSING) {
        api_resp_header(resp, "Retry-After", RETRY_AFTER_S);
    }
    free(url);
}

/* Is entry (cfg->allow) an IP address or range rather than a name? */
static bool
is_ip_entry(const char *entry)
{
    struct in_addr v4;

    return strchr(entry, ':') != NULL || strchr(entry, '/') != NULL ||
           inet_pton(AF_INET, entry, &v4) == 1;
}

/* Is name equal to suffix or below it, on a label boundary? */
static bool
at_or_below(const char *name, const char *suffix)
{
    size_t n = strlen(name);
    size_t s = strlen(suffix);

    if (n == s) {
        return strcasecmp(name, suffix) == 0;
    }
    return n > s && name[n - s - 1] == '.' &&
           strcasecmp(name + n - s, suffix) == 0;
}

/*
 * Does cfg->allow cover id? A name entry "example.internal" covers that
 * name and every name below it, "*.example.internal" only the names below
 * it; a wildcard identifier stands for names below its base. An IP entry
 * is an address or CIDR range (api_pattern_matches).
 */
static bool
allowed(const struct api_acme *a, const struct ident *id)
{
    size_t i;

    for (i = 0; i < a->n_allow; i++) {
        const char *entry = a->allow[i];

        if (id->type == STORE_ACME_IDENT_IP) {
            if (is_ip_entry(entry) &&
                api_pattern_matches(entry, PKI_SAN_IP, id->value)) {
                return true;
            }
            continue;
        }
        if (is_ip_entry(entry)) {
            continue;
        }
        if (entry[0] == '*' && entry[1] == '.') {
            if (at_or_below(id->value, entry + 2) &&
                (id->wildcard || strcasecmp(id->value, entry + 2) != 0)) {
                return true;
            }
        } else if (at_or_below(id->value, entry)) {
            return true;
        }
    }
    return false;
}

/* One subproblem of RFC 8555 6.7.1 for the identifier (type, value). */
static json_t *
subproblem(enum api_acme_problem p, const char *type, const char *value,
           const char *detail)
{
    char urn[96];

    snprintf(urn, sizeof(urn), "urn:ietf:params:acme:error:%s",
             api_acme_problem_name(p));
    return json_pack("{s:s, s:s, s:{s:s, s:o}}", "type", urn, "detail", detail,
                     "identifier", "type", type, "value", api_json_text(value));
}

/*
 * One identifier object into *out: its type, a valid name (RFC 8555
 * 7.1.4: a wildcard as "*." and a name) or IP literal (RFC 8738 3,
 * written back in canonical form), covered by the policy. NULL on
 * success, else the subproblem to report.
 */
static json_t *
ident_parse(const struct api_acme *a, const json_t *obj, struct ident *out)
{
    const char *type = NULL;
    const char *value = NULL;
    size_t len = 0;
    json_error_t jerr;
    uint8_t ip[16];
    size_t i;

    if (json_unpack_ex((json_t *)obj, &jerr, JSON_STRICT, "{s:s, s:s%}", "type",
                       &type, "value", &value, &len) != 0) {
        return subproblem(API_ACME_P_MALFORMED, "?", "?",
                          "an identifier is {type, value}");
    }
    if (strcmp(type, "dns") == 0) {
        out->type = STORE_ACME_IDENT_DNS;
        if (len > WD_MAX_DNS_NAME || strlen(value) != len ||
            !pki_name_is_dns(value, len)) {
            return subproblem(API_ACME_P_REJECTED_IDENTIFIER, type, value,
                              "not a valid DNS name");
        }
        out->wildcard = value[0] == '*';
        value += out->wildcard ? 2 : 0;
        for (i = 0; value[i] != '\0'; i++) {
            char c = value[i];

            out->value[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        out->value[i] = '\0';
    } else if (strcmp(type, "ip") == 0) {
        out->type = STORE_ACME_IDENT_IP;
        out->wildcard = false;
        if (strlen(value) != len) {
            return subproblem(API_ACME_P_REJECTED_IDENTIFIER, type, "?",
                              "not an IP address");
        }
        if (inet_pton(AF_INET, value, ip) == 1) {
            inet_ntop(AF_INET, ip, out->value, sizeof(out->value));
        } else if (inet_pton(AF_INET6, value, ip) == 1) {
            inet_ntop(AF_INET6, ip, out->value, sizeof(out->value));
        } else {
            return subproblem(API_ACME_P_REJECTED_IDENTIFIER, type, value,
                              "not an IP address");
        }
    } else {
        return subproblem(API_ACME_P_UNSUPPORTED_IDENTIFIER, type, value,
                          "identifier types are dns and ip");
    }
    if (!allowed(a, out)) {
        return subproblem(API_ACME_P_REJECTED_IDENTIFIER, type, value,
                          "this server does not issue for this identifier");
    }
    return NULL;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era;
    int64_t yoe;
    int64_t doy;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* RFC 3339 5.6 in UTC, "2026-11-29T15:40:26Z", optionally with a
 * fraction of a second (dropped), into *out. */
static bool
time_parse(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec;
    int used = 0;
    const char *p;

    if (s == NULL || strlen(s) < 20 ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
               &used) != 6 ||
        used != 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' ||
        s[16] != ':' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || sec > 60 || y < 1970 || h < 0 || mi < 0 || sec < 0) {
        return false;
    }
    p = s + 19;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (strcmp(p, "Z") != 0) {
        return false;
    }
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

/* The challenges of one authorization (RFC 8555 8, RFC 8737, RFC 8738):
 * dns-01 only for a wildcard, no dns-01 for an IP. */
static enum wd_err
add_challenges(struct store_acme_authz *z)
{
    enum store_acme_chall_type types[STORE_ACME_MAX_CHALLENGES];
    size_t n = 0;
    size_t i;
    enum wd_err rc = WD_OK;

    if (!z->wildcard) {
        types[n++] = STORE_ACME_HTTP_01;
    }
    if (z->ident_type == STORE_ACME_IDENT_DNS) {
        types[n++] = STORE_ACME_DNS_01;
    }
    if (!z->wildcard) {
        types[n++] = STORE_ACME_TLS_ALPN_01;
    }
    z->challenges = xcalloc(n, sizeof(*z->challenges));
    z->n_challenges = n;
    for (i = 0; i < n && rc == WD_OK; i++) {
        z->challenges[i].type = types[i];
        z->challenges[i].cid = xmalloc(STORE_ACME_ID_MAX + 1);
        z->challenges[i].token = xmalloc(STORE_ACME_ID_MAX + 1);
        rc = api_acme_id_new(z->challenges[i].cid);
        if (rc == WD_OK) {
            rc = api_acme_id_new(z->challenges[i].token);
        }
    }
    return rc;
}

/* The identifiers of a newOrder, normalised, without duplicates. On
 * WD_OK the caller frees *out; otherwise resp holds the problem. */
static enum wd_err
idents_parse(const struct api_acme *a, const json_t *list, struct ident **out,
             size_t *n_out, struct api_resp *resp)
{
    struct ident *ids;
    json_t *subs = json_array();
    enum api_acme_problem top = API_ACME_P_UNSUPPORTED_IDENTIFIER;
    size_t n = 0;
    size_t i;
    size_t j;
    json_t *v;

    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > STORE_ACME_MAX_IDENTIFIERS) {
        json_decref(subs);
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "identifiers is an array of 1 to 100 "
                              "identifiers",
                              NULL);
        return WD_E_JSON_FIELDS;
    }
    ids = xcalloc(json_array_size(list), sizeof(*ids));
    json_array_foreach(list, i, v)
    {
        json_t *sub = ident_parse(a, v, &ids[n]);
        bool dup = false;

        if (sub != NULL) {
            const char *t = json_string_value(json_object_get(sub, "type"));

            if (strstr(t, ":unsupportedIdentifier") == NULL) {
                top = API_ACME_P_REJECTED_IDENTIFIER;
            }
            json_array_append_new(subs, sub);
            continue;
        }
        for (j = 0; j < n && !dup; j++) {
            dup = ids[j].type == ids[n].type &&
                  ids[j].wildcard == ids[n].wildcard &&
                  strcmp(ids[j].value, ids[n].value) == 0;
        }
        if (!dup) {
            n++;
        }
    }
    if (json_array_size(subs) > 0) {
        free(ids);
        api_acme_problem_send(resp, top, 0,
                              "some identifiers cannot be issued for", subs);
        return WD_E_NAME_NOT_ALLOWED;
    }
    json_decref(subs);
    *out = ids;
    *n_out = n;
    return WD_OK;
}

/* RFC 8555 7.4: notBefore is refused (a certificate starts when it is
 * issued); notAfter, if given, must lie within the validity we issue. */
static enum wd_err
window_parse(const struct api_acme *a, const struct api_req *req,
             const char *not_before, const char *not_after,
             struct store_acme_order *o, struct api_resp *resp)
{
    if (not_before != NULL) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "notBefore is not supported: a certificate is "
                              "valid from its issuance",
                              NULL);
        return WD_E_BAD_VALIDITY;
    }
    if (not_after == NULL) {
        return WD_OK;
    }
    if (!time_parse(not_after, &o->not_after) || o->not_after <= req->now ||
        (uint64_t)(o->not_after - req->now) > a->cert_validity_s) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "notAfter is an RFC 3339 UTC time within the "
                              "validity this server issues",
                              NULL);
        return WD_E_BAD_VALIDITY;
    }
    return WD_OK;
}

/* RFC 8555 7.4 and cfg: at most orders_per_hour per account. */
static bool
rate_ok(const struct api_acme *a, const struct api_req *req,
        const struct api_acme_jws *jws, struct api_resp *resp)
{
    int64_t n = 0;
    enum wd_err rc;

    if (a->orders_per_hour == 0) {
        return true;
    }
    rc = store_acme_order_count_since(a->api->store, jws->account->id,
                                      (int64_t)req->now - RATE_WINDOW_S, &n);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        return false;
    }
    if (n < (int64_t)a->orders_per_hour) {
        return true;
    }
    api_acme_problem_send(resp, API_ACME_P_RATE_LIMITED, 0,
                          "too many new orders for this account in the last "
                          "hour",
                          NULL);
    api_resp_header(resp, "Retry-After", "3600");
    return false;
}

/*
 * POST /acme/new-order (RFC 8555 7.4): 201 with the order (pending), an
 * authorization per identifier, its URL in Location.
 */
void
api_acme_order_new(struct api_acme *a, const struct api_req *req,
                   const struct api_acme_jws *jws, const char *arg,
                   struct api_resp *resp)
{
    struct store_acme_order o = { 0 };
    struct store_acme_order *stored = NULL;
    struct ident *ids = NULL;
    size_t n_ids = 0;
    json_t *list = NULL;
    const char *not_before = NULL;
    const char *not_after = NULL;
    char oid[STORE_ACME_ID_MAX + 1];
    json_error_t jerr;
    enum wd_err rc;
    size_t i;

    (void)arg;
    if (jws->post_as_get ||
        json_unpack_ex(jws->payload, &jerr, JSON_STRICT, "{s:o, s?s, s?s}",
                       "identifiers", &list, "notBefore", &not_before,
                       "notAfter", &not_after) != 0) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "newOrder takes identifiers, notBefore and "
                              "notAfter",
                              NULL);
        return;
    }
    if (window_parse(a, req, not_before, not_after, &o, resp) != WD_OK ||
        idents_parse(a, list, &ids, &n_ids, resp) != WD_OK ||
        !rate_ok(a, req, jws, resp)) {
        goto out;
    }
    rc = api_acme_id_new(oid);
    o.oid = oid;
    o.account_id = jws->account->id;
    o.created_at = req->now;
    o.expires_at = (int64_t)req->now + (int64_t)a->order_lifetime_s;
    o.authzs = xcalloc(n_ids, sizeof(*o.authzs));
    o.n_authzs = n_ids;
    for (i = 0; i < n_ids && rc == WD_OK; i++) {
        struct store_acme_authz *z = &o.authzs[i];

        z->aid = xmalloc(STORE_ACME_ID_MAX + 1);
        rc = api_acme_id_new(z->aid);
        z->ident_type = ids[i].type;
        z->ident_value = xstrdup(ids[i].value);
        z->wildcard = ids[i].wildcard;
        z->expires_at = o.expires_at;
        if (rc == WD_OK) {
            rc = add_challenges(z);
        }
    }
    if (rc == WD_OK) {
        rc = store_acme_order_insert(a->api->store, &o);
    }
    if (rc == WD_OK) {
        rc = store_acme_order_get(a->api->store, oid, &stored);
    }
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc, NULL);
        goto out;
    }
    log_info("event=acme_order_new oid=%s kid=%s identifiers=%zu", oid,
             jws->account->kid, n_ids);
    api_acme_order_send(a, stored, 201, req->now, resp);
out:
    o.oid = NULL; /* on the stack */
    for (i = 0; i < o.n_authzs; i++) {
        size_t c;

        for (c = 0; c < o.authzs[i].n_challenges; c++) {
            free(o.authzs[i].challenges[c].cid);
            free(o.authzs[i].challenges[c].token);
        }
        free(o.authzs[i].challenges);
        free(o.authzs[i].aid);
        free(o.authzs[i].ident_value);
    }
    free(o.authzs);
    free(ids);
    store_acme_order_free(stored);
}

/* POST-as-GET /acme/order/{oid} (RFC 8555 7.4): the order. */
void
api_acme_order_get(struct api_acme *a, const struct api_req *req,
                   const struct api_acme_jws *jws, const char *arg,
                   struct api_resp *resp)
{
    struct store_acme_order *o = NULL;
    enum wd_err rc;

    if (!jws->post_as_get) {
        api_acme_problem_send(resp, API_ACME_P_MALFORMED, 0,
                              "an order is read with POST-as-GET", NULL);
        return;
    }
    rc = store_acme_order_get(a->api->store, arg, &o);
    if (rc != WD_OK) {
        api_acme_problem_err(resp, rc,
                             rc == WD_E_NOT_FOUND ? "no such order" : NULL);
        return;
    }
    if (api_acme_owns(jws, o->account_id, resp)) {
        api_acme_order_send(a, o, 200, req->now, resp);
    }
    store_acme_order_free(o);
}
