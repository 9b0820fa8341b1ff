/*
 * The two listeners, and the only user of microhttpd.h. For every request
 * this file: names it (request id), on the API listener verifies the
 * client certificate before anything else, answers 413/411 from the
 * headers before reading a body byte, collects at most the route's limit,
 * fills a struct api_req and sends the struct api_resp that api/ returns.
 * One log line per request, at completion.
 */
#include "srv.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/xmalloc.h"

/* Peers send leaf and perhaps a few intermediates; more is noise. */
#define MAX_PEER_CERTS 8

struct srv_http;

/* One listener's view of the daemon (the MHD callbacks' closure). */
struct listener {
    struct srv_http *http;
    bool is_api; /* mTLS API, else the public listener */
};

struct srv_http {
    struct MHD_Daemon *api_d;
    struct MHD_Daemon *public_d;
    struct api *api;
    const struct srv_config *config;
    struct listener api_l;
    struct listener public_l;
    char id_prefix[9]; /* random per process: request ids differ */
    atomic_uint_fast64_t next_id;
};

/* Per-request state, MHD's *con_cls. */
struct request {
    char id[32];
    struct timespec start;
    char method[16];
    char path[256]; /* for the log line only, truncated */
    bool responded; /* a response is queued */
    int status;
    const char *error_code;
    size_t limit; /* body bytes this route reads */
    uint8_t *body;
    size_t len;
    size_t cap;
    bool have_who;
    struct api_identity who;
    struct store_cert *who_row; /* the caller's stored certificate */
};

/* Collects query parameters for api_req (MHD_KeyValueIterator). */
struct query_acc {
    struct api_kv kv[API_MAX_QUERY_PARAMS];
    size_t n;
    bool overflow;
};

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
              const char *value)
{
    struct query_acc *acc = cls;

    (void)kind;
    if (acc->n >= API_MAX_QUERY_PARAMS) {
        acc->overflow = true;
        return MHD_NO;
    }
    acc->kv[acc->n].key = key;
    acc->kv[acc->n].value = value;
    acc->n++;
    return MHD_YES;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    char quoted[LOG_QUOTE_BUF];
    size_t len;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n') {
        msg[--len] = '\0';
    }
    log_warn("event=http_library msg=%s", log_quote(msg, len, quoted));
}

/*
 * Send resp (its body handed to MHD) plus the headers every response
 * carries. Records status and error code for the completion log line.
 */
static enum MHD_Result
send_resp(struct MHD_Connection *conn, struct request *r, struct api_resp *resp)
{
    struct MHD_Response *mr;
    enum MHD_Result ret;
    size_t i;

    if (resp->release != NULL) {
        /* a shared blob: MHD gives it back when the bytes are sent */
        mr = MHD_create_response_from_buffer_with_free_callback_cls(
            resp->body_len, resp->body, resp->release, resp->release_cls);
    } else {
        mr = MHD_create_response_from_buffer(resp->body_len, resp->body,
                                             MHD_RESPMEM_MUST_FREE);
    }
    if (mr == NULL) {
        api_resp_clear(resp);
        return MHD_NO;
    }
    resp->body = NULL; /* MHD owns or releases it now */
    resp->release = NULL;
    resp->release_cls = NULL;
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type != NULL
                                ? resp->content_type
                                : "application/octet-stream");
    MHD_add_response_header(mr, "X-Request-Id", r->id);
    /* a browser may render what we send (the page, a JSON error): never
     * sniff it into HTML, frame it or leak our URLs to another site */
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "X-Frame-Options", "DENY");
    MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
    for (i = 0; i < resp->n_headers; i++) {
        MHD_add_response_header(mr, resp->headers[i].name,
                                resp->headers[i].value);
    }
    if (MHD_get_response_header(mr, "Content-Security-Policy") == NULL) {
        /* nothing but the page (api_web.c sets its own) runs anything */
        MHD_add_response_header(mr, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'");
    }
    if (MHD_get_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL) == NULL) {
        /* API answers and errors are per caller and moment: never cache */
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
    ret = MHD_queue_response(conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    r->responded = true;
    r->status = resp->status;
    r->error_code = resp->error_code;
    api_resp_clear(resp);
    return ret;
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, struct request *r, enum wd_err err)
{
    struct api_resp resp = { 0 };

    api_error(&resp, err, NULL);
    return send_resp(conn, r, &resp);
}

/*
 * Who is calling: the verified client certificate, checked against the
 * store (it must be one we issued and not revoked) and the config's
 * policy (admin, reader or service). *row is the stored certificate; the
 * caller frees it, whatever this returns. WD_E_CLIENT_CERT_MISSING / _INVALID
 * when there is no usable one.
 */
static enum wd_err
identify(struct srv_http *http, struct MHD_Connection *conn, time_t now,
         struct api_identity *who, struct store_cert **row)
{
    const union MHD_ConnectionInfo *info;
    const gnutls_datum_t *peers;
    const uint8_t *ders[MAX_PEER_CERTS];
    size_t lens[MAX_PEER_CERTS];
    unsigned int n = 0;
    enum wd_err rc;
    size_t i;

    info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (info == NULL || info->tls_session == NULL) {
        return WD_E_CLIENT_CERT_MISSING;
    }
    peers =
        gnutls_certificate_get_peers((gnutls_session_t)info->tls_session, &n);
    if (peers == NULL) {
        n = 0;
    }
    for (i = 0; i < n && i < MAX_PEER_CERTS; i++) {
        ders[i] = peers[i].data;
        lens[i] = peers[i].size;
    }
    memset(who, 0, sizeof(*who));
    rc = pki_ca_verify_client(http->api->ca, ders, lens, i, now, &who->cert);
    if (rc != WD_OK) {
        return rc;
    }
    /* one we issued, still in the inventory, and not revoked */
    rc = store_cert_get(http->api->store, who->cert.serial, row);
    if (rc == WD_E_NOT_FOUND) {
        log_warn("event=client_cert_unknown serial=%s reason=\"chains to "
                 "our intermediate but the store does not hold it\"",
                 who->cert.serial);
        return WD_E_CLIENT_CERT_INVALID;
    }
    if (rc != WD_OK) {
        return rc;
    }
    if ((*row)->revoked_at != 0 ||
        strcmp((*row)->fingerprint, who->cert.fingerprint) != 0) {
        return WD_E_CLIENT_CERT_INVALID;
    }
    who->row = *row;
    who->role = api_policy_role(&http->config->policy, *row, who->name,
                                sizeof(who->name));
    return WD_OK;
}

/* Run the route with what has arrived and queue its response. */
static enum MHD_Result
dispatch(struct listener *l, struct MHD_Connection *conn, struct request *r,
         const char *url, const char *method, size_t declared_body)
{
    struct query_acc acc = { .n = 0 };
    struct api_req req = { 0 };
    struct api_resp resp = { 0 };

    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &acc);
    req.method = method;
    req.path = url;
    req.query = acc.kv;
    req.n_query = acc.n;
    req.query_overflow = acc.overflow;
    req.content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    req.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
    req.if_none_match =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    req.host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    req.origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    req.sec_fetch_site =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    req.body = r->body;
    /* a route without a body sees the declared length, never the bytes */
    req.body_len = r->limit > 0 ? r->len : declared_body;
    req.now = time(NULL);
    if (l->is_api) {
        req.who = &r->who;
        api_handle(l->http->api, &req, &resp);
    } else {
        api_public_handle(l->http->api, &req, &resp);
    }
    return send_resp(conn, r, &resp);
}

static struct request *
request_new(struct srv_http *http, const char *url, const char *method)
{
    struct request *r = xcalloc(1, sizeof(*r));

    snprintf(r->id, sizeof(r->id), "%s-%06" PRIuFAST64, http->id_prefix,
             atomic_fetch_add(&http->next_id, 1));
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->path, sizeof(r->path), "%s", url);
    return r;
}

/*
 * The first call for a request (headers only): identify the caller on the
 * API listener, then decide from the headers alone whether the body may
 * be read. Returns with r->responded set when it answered already.
 */
static enum MHD_Result
on_headers(struct listener *l, struct MHD_Connection *conn, struct request *r,
           const char *url, const char *method)
{
    const char *cl;
    const char *te;
    uint64_t declared = 0;
    enum wd_err rc;

    if (l->is_api) {
        rc = identify(l->http, conn, time(NULL), &r->who, &r->who_row);
        if (rc == WD_E_CLIENT_CERT_INVALID && r->who.cert.serial[0] != '\0') {
            /* it chains to us (revoked, or unknown to the store): a key
             * we signed is being used where it must not be */
            api_audit_refusal(l->http->api, r->who.cert.serial, "TLS client",
                              r->who.cert.serial, api_error_code(rc));
        }
        if (rc != WD_OK) {
            return send_error(conn, r, rc);
        }
        r->have_who = true;
        if (api_route_preflight(method, url, &r->who, &r->limit) != WD_OK) {
            /* refused from the headers: let the API answer, bodiless */
            return dispatch(l, conn, r, url, method, 0);
        }
    } else if (api_public_preflight(method, url, &r->limit) != WD_OK) {
        return dispatch(l, conn, r, url, method, 0);
    }
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (cl != NULL && !wd_parse_u64(cl, 0, UINT64_MAX, &declared)) {
        return send_error(conn, r, WD_E_LENGTH_REQUIRED);
    }
    if (cl == NULL && te != NULL) {
        /* chunked: its size is unknown up front, so it can't be refused
         * before reading; a CA can ask for a Content-Length */
        return send_error(conn, r, WD_E_LENGTH_REQUIRED);
    }
    if (declared == 0) {
        /* answered on the next call, not from this one: MHD closes a
         * connection whose response is queued while it still holds the
         * request's headers, and a GET would lose keep-alive */
        return MHD_YES;
    }
    if (r->limit == 0) {
        return dispatch(l, conn, r, url, method, (size_t)declared);
    }
    if (declared > r->limit) {
        return send_error(conn, r, WD_E_TOO_LARGE);
    }
    return MHD_YES; /* read the body: at most declared <= limit bytes */
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    struct listener *l = cls;
    struct request *r = *con_cls;

    (void)version;
    if (r == NULL) {
        r = request_new(l->http, url, method);
        *con_cls = r;
        log_set_request_id(r->id);
        return on_headers(l, conn, r, url, method);
    }
    log_set_request_id(r->id);
    if (r->responded) {
        *upload_data_size = 0; /* an answered request reads nothing more */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;

        if (n > r->limit - r->len) {
            return MHD_NO; /* more than Content-Length said: drop it */
        }
        if (r->len + n > r->cap) {
            /* grow as bytes arrive, never by what the peer declared */
            r->cap = r->cap * 2 > r->len + n ? r->cap * 2 : r->len + n;
            if (r->cap > r->limit) {
                r->cap = r->limit;
            }
            r->body = xrealloc(r->body, r->cap);
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(l, conn, r, url, method, r->len);
}

/* One log line per request, then free its state. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct request *r = *con_cls;
    struct timespec end;
    char path[LOG_QUOTE_BUF];
    char who[LOG_QUOTE_BUF];
    long us;

    (void)cls;
    (void)conn;
    if (r == NULL) {
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    us = (end.tv_sec - r->start.tv_sec) * 1000000L +
         (end.tv_nsec - r->start.tv_nsec) / 1000L;
    log_set_request_id(r->id);
    log_info("event=request identity=%s method=%s path=%s status=%d "
             "error=%s duration_us=%ld%s",
             r->have_who ? log_quote(r->who.name, strlen(r->who.name), who)
                         : "-",
             r->method, log_quote(r->path, strlen(r->path), path), r->status,
             r->error_code != NULL ? r->error_code : "-", us,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    log_set_request_id(NULL);
    store_cert_free(r->who_row);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

static struct MHD_Daemon *
start_daemon(struct listener *l, const struct sockaddr_storage *addr,
             const struct srv_http_cfg *cfg)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG;

    if (addr->ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (!l->is_api) {
        return MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, l,
            /* first, so that MHD logs nothing to stderr on its own */
            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
            addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)WD_MAX_CONNECTIONS,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WD_CONNECTION_TIMEOUT_S,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_END);
    }
    return MHD_start_daemon(
        flags | MHD_USE_TLS, 0, NULL, NULL, on_request, l,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)WD_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WD_CONNECTION_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_HTTPS_MEM_CERT,
        cfg->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem,
        /* a trust list makes MHD request a client certificate; we verify
         * it ourselves in identify() */
        MHD_OPTION_HTTPS_MEM_TRUST, cfg->trust_pem, MHD_OPTION_HTTPS_PRIORITIES,
        cfg->tls_priorities, MHD_OPTION_END);
}

/*
 * Start both listeners. WD_E_IO if either cannot bind (logged). Caller
 * owns *out (srv_http_stop).
 */
enum wd_err
srv_http_start(const struct srv_http_cfg *cfg, struct srv_http **out)
{
    struct srv_http *http = xcalloc(1, sizeof(*http));
    uint8_t rnd[4];

    http->api = cfg->api;
    http->config = cfg->config;
    http->api_l.http = http;
    http->api_l.is_api = true;
    http->public_l.http = http;
    http->public_l.is_api = false;
    atomic_init(&http->next_id, 1);
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0) {
        memset(rnd, 0, sizeof(rnd));
    }
    wd_hex_encode(rnd, sizeof(rnd), http->id_prefix);
    http->api_d = start_daemon(&http->api_l, &cfg->api_addr, cfg);
    if (http->api_d == NULL) {
        log_err("event=listen_failed listener=api addr=%s",
                cfg->config->api_listen);
        srv_http_stop(http);
        return WD_E_IO;
    }
    http->public_d = start_daemon(&http->public_l, &cfg->public_addr, cfg);
    if (http->public_d == NULL) {
        log_err("event=listen_failed listener=public addr=%s",
                cfg->config->public_listen);
        srv_http_stop(http);
        return WD_E_IO;
    }
    *out = http;
    return WD_OK;
}

/* Stop both listeners, waiting for in-flight requests. Accepts NULL. */
void
srv_http_stop(struct srv_http *http)
{
    if (http == NULL) {
        return;
    }
    if (http->api_d != NULL) {
        MHD_stop_daemon(http->api_d);
    }
    if (http->public_d != NULL) {
        MHD_stop_daemon(http->public_d);
    }
    free(http);
}
