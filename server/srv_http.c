/*
 * The two listeners, and the only user of microhttpd.h. For every request
 * this file: names it (request id), on the API listener verifies the
 * client certificate before anything else, answers 413/411 from the
 * headers before reading a body byte, collects at most the route's limit,
 * fills a struct api_req and sends the struct api_resp that api/ returns.
 * One log line per request, at completion. It also counts what a graceful
 * shutdown waits for (srv_http_drain) and gives each TLS session the
 * identity current when it was accepted (srv_tls.c).
 */
#include "srv_mhd.h"

#include <errno.h>
#include <fcntl.h>
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
    struct srv_live *live; /* the policy and limits a request starts with */
    struct srv_tls *tls;   /* the identity a new API connection gets */
    struct listener api_l;
    struct listener public_l;
    char id_prefix[9]; /* random per process: request ids differ */
    atomic_uint_fast64_t next_id;
    /* connections not idle between requests (new, or a request in
     * flight): what a graceful shutdown waits for */
    atomic_int busy;
    atomic_bool stopping; /* draining: every answer closes its connection */
    struct srv_client_cache *verified; /* client chains, for every conn */
    int quiesced_fd[2]; /* listen sockets taken back from MHD; -1 = none */
};

/* Per-request state, MHD's *con_cls. */
struct request {
    struct srv_http *http;
    struct conn *conn;         /* its connection's state, or NULL */
    struct srv_live_cfg *live; /* held from the first byte to the end */
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

/*
 * Send resp (its body handed to MHD) plus the headers every response
 * carries. Records status and error code for the completion log line.
 */
static enum MHD_Result
send_resp(struct MHD_Connection *conn, struct request *r, struct api_resp *resp)
{
    r->responded = true;
    r->status = resp->status;
    r->error_code = resp->error_code;
    return srv_mhd_send(conn, r->id, atomic_load(&r->http->stopping), resp);
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, struct request *r, enum wd_err err)
{
    struct api_resp resp = { 0 };

    api_error(&resp, err, NULL);
    return send_resp(conn, r, &resp);
}

/*
 * What one TLS connection's client certificate was verified as. A
 * keep-alive connection pays for the chain check (signature verifications)
 * once, not on every request; the store is still asked each time, so a
 * revocation takes effect at the next request. Keyed by the certificate's
 * bytes: an identity that changes mid-connection is checked anew.
 */
struct conn_cache {
    uint8_t *der;
    size_t der_len;
    struct pki_client client;
};

/* Per-connection state, MHD's *socket_context (on_connection makes it
 * when the socket opens and frees it when it closes). */
struct conn {
    struct conn_cache cache;   /* API listener: the verified client */
    struct srv_tls_cred *cred; /* API listener: this session's identity */
    bool idle;                 /* between requests: not counted as busy */
};

/* The state on_connection keeps for conn, or NULL. */
static struct conn *
conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return info != NULL ? info->socket_context : NULL;
}

/* conn's cache, or NULL. */
static struct conn_cache *
conn_cache_get(struct MHD_Connection *conn)
{
    struct conn *c = conn_of(conn);

    return c != NULL ? &c->cache : NULL;
}

/* Verify the peer's chain, or reuse this connection's verification of the
 * same leaf, or any connection's of the same chain, while it has not
 * expired. */
static enum wd_err
verify_client(struct srv_http *http, struct MHD_Connection *conn,
              const gnutls_datum_t *peers, unsigned n, time_t now,
              struct pki_client *out)
{
    const uint8_t *ders[MAX_PEER_CERTS];
    size_t lens[MAX_PEER_CERTS];
    struct conn_cache *cache = n > 0 ? conn_cache_get(conn) : NULL;
    enum wd_err rc;
    size_t i;

    if (cache != NULL && cache->der != NULL &&
        cache->der_len == peers[0].size &&
        memcmp(cache->der, peers[0].data, peers[0].size) == 0 &&
        now < cache->client.not_after) {
        *out = cache->client;
        return WD_OK;
    }
    if (srv_client_cache_get(http->verified, http->api->ca, peers, n, now,
                             out)) {
        rc = WD_OK;
    } else {
        for (i = 0; i < n && i < MAX_PEER_CERTS; i++) {
            ders[i] = peers[i].data;
            lens[i] = peers[i].size;
        }
        rc = pki_ca_verify_client(http->api->ca, ders, lens, i, now, out);
        if (rc == WD_OK) {
            srv_client_cache_put(http->verified, http->api->ca, peers, n, out);
        }
    }
    if (rc == WD_OK && cache != NULL) {
        free(cache->der);
        cache->der = xmalloc(peers[0].size);
        memcpy(cache->der, peers[0].data, peers[0].size);
        cache->der_len = peers[0].size;
        cache->client = *out;
    }
    return rc;
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
         const struct api_policy *policy, struct api_identity *who,
         struct store_cert **row)
{
    const union MHD_ConnectionInfo *info;
    const gnutls_datum_t *peers;
    unsigned int n = 0;
    enum wd_err rc;

    info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (info == NULL || info->tls_session == NULL) {
        return WD_E_CLIENT_CERT_MISSING;
    }
    peers =
        gnutls_certificate_get_peers((gnutls_session_t)info->tls_session, &n);
    if (peers == NULL) {
        n = 0;
    }
    memset(who, 0, sizeof(*who));
    rc = verify_client(http, conn, peers, n, now, &who->cert);
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
    who->role = api_policy_role(policy, *row, who->name, sizeof(who->name));
    return WD_OK;
}

/* Run the route with what has arrived and queue its response. */
static enum MHD_Result
dispatch(struct listener *l, struct MHD_Connection *conn, struct request *r,
         const char *url, const char *method, size_t declared_body)
{
    struct srv_query acc;
    struct api_req req = { 0 };
    struct api_resp resp = { 0 };
    /* handlers read api->cfg: this request's snapshot, the same from its
     * first byte to its last whatever a SIGHUP does meanwhile */
    struct api view = *l->http->api;

    view.cfg = *srv_live_cfg_api(r->live);
    srv_mhd_query_read(conn, &acc);
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
        api_handle(&view, &req, &resp);
    } else {
        api_public_handle(&view, &req, &resp);
    }
    return send_resp(conn, r, &resp);
}

static struct request *
request_new(struct srv_http *http, struct MHD_Connection *conn, const char *url,
            const char *method)
{
    struct request *r = xcalloc(1, sizeof(*r));

    r->http = http;
    r->live = srv_live_cfg_ref(http->live);
    r->conn = conn_of(conn);
    if (r->conn != NULL && r->conn->idle) {
        /* a kept-alive connection is busy again */
        r->conn->idle = false;
        atomic_fetch_add(&http->busy, 1);
    }

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
        rc = identify(l->http, conn, time(NULL),
                      srv_live_cfg_api(r->live)->policy, &r->who, &r->who_row);
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

/* One call of MHD's for r: the headers, a piece of the body, or the end. */
static enum MHD_Result
on_request_step(struct listener *l, struct MHD_Connection *conn,
                struct request *r, const char *url, const char *method,
                const char *upload_data, size_t *upload_data_size)
{
    if (r->responded) {
        *upload_data_size = 0; /* an answered request reads nothing more */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!srv_mhd_body_append(&r->body, &r->len, &r->cap, r->limit,
                                 upload_data, *upload_data_size)) {
            return MHD_NO; /* more than Content-Length said: drop it */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(l, conn, r, url, method, r->len);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    struct listener *l = cls;
    struct request *r = *con_cls;
    enum MHD_Result ret;

    (void)version;
    if (r == NULL) {
        r = request_new(l->http, conn, url, method);
        *con_cls = r;
        log_set_request_id(r->id);
        ret = on_headers(l, conn, r, url, method);
    } else {
        log_set_request_id(r->id);
        ret = on_request_step(l, conn, r, url, method, upload_data,
                              upload_data_size);
    }
    /* a public thread serves many connections: the next line it logs may
     * be another request's, or MHD's own */
    log_set_request_id(NULL);
    return ret;
}

/* One log line per request and its metrics, then free its state. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct listener *l = cls;
    struct request *r = *con_cls;
    uint64_t us;

    (void)conn;
    if (r == NULL) {
        return;
    }
    /* the public listener answers OCSP and CRLs tens of thousands of
     * times a second: a line for each was a sixth of its work, so what
     * it answers is at debug and only what it refuses at info; /metrics
     * counts them all */
    us = srv_mhd_request_done(
        l->is_api || r->status >= 400 ? LOG_INFO : LOG_DEBUG,
        &(struct srv_mhd_done){
            .request_id = r->id,
            /* the caller's own certificate: its identity */
            .identity = r->have_who ? r->who.name : NULL,
            .serial = r->have_who ? r->who.cert.serial : NULL,
            .method = r->method,
            .path = r->path,
            .status = r->status,
            .error_code = r->error_code,
            .start = r->start,
            .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK,
        });
    api_metrics_request(l->http->api, l->is_api, r->method, r->path, r->status,
                        us);
    if (r->conn != NULL) {
        /* kept alive or about to close: no longer busy either way */
        r->conn->idle = true;
        atomic_fetch_sub(&l->http->busy, 1);
    }
    srv_live_cfg_unref(r->live);
    store_cert_free(r->who_row);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/*
 * A connection opens or closes. Opening (before its TLS handshake, which
 * runs in its own thread): it counts as busy until its first request
 * ends, and on the API listener its session gets the identity current
 * now, held until the session is gone (MHD deinits it before CLOSED).
 */
static void
on_connection(void *cls, struct MHD_Connection *connection,
              void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
    struct listener *l = cls;
    struct conn *c = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        c = xcalloc(1, sizeof(*c));
        if (l->is_api) {
            const union MHD_ConnectionInfo *info = MHD_get_connection_info(
                connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);

            c->cred = srv_tls_cred_ref(l->http->tls);
            if (info == NULL || info->tls_session == NULL ||
                !srv_tls_cred_apply(c->cred,
                                    (gnutls_session_t)info->tls_session)) {
                log_warn("event=tls_identity_not_set reason=\"this "
                         "connection uses the certificate of the start\"");
            } else {
                /* a returning client resumes instead of a full handshake */
                srv_tls_tickets_enable(l->http->tls,
                                       (gnutls_session_t)info->tls_session);
            }
        }
        atomic_fetch_add(&l->http->busy, 1);
        *socket_context = c;
        return;
    }
    if (c == NULL) {
        return;
    }
    if (!c->idle) {
        atomic_fetch_sub(&l->http->busy, 1);
    }
    srv_tls_cred_unref(c->cred);
    free(c->cache.der);
    free(c);
    *socket_context = NULL;
}

/*
 * Threads of the public listener: two per core. Its handlers answer from
 * memory (cached OCSP, CRL, CA files) or do a short store read and at most
 * one signature, so a few threads polling with epoll serve every
 * connection without a thread, and its context switches, per keep-alive
 * client; the second per core keeps the others' connections moving while
 * one thread waits for the store (nonce OCSP, /healthz, /metrics).
 */
static unsigned
public_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 1 ? 2 * (unsigned)n : 2;
}

static struct MHD_Daemon *
start_daemon(struct listener *l, const struct sockaddr_storage *addr,
             const struct srv_http_cfg *cfg)
{
    /* ITC: what MHD_quiesce_daemon and MHD_add_connection need (drain) */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC;

    if (addr->ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (!l->is_api) {
        /* plain HTTP, no handshake to wait on: a pool polling with epoll */
        flags = (flags & MHD_USE_IPv6) | MHD_USE_EPOLL_INTERNAL_THREAD |
                MHD_USE_ERROR_LOG | MHD_USE_ITC;
        return MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, l,
            /* first, so that MHD logs nothing to stderr on its own */
            MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, "public",
            MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_THREAD_POOL_SIZE,
            public_threads(), MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)WD_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)WD_CONNECTION_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
            on_completed, l, MHD_OPTION_NOTIFY_CONNECTION, on_connection, l,
            MHD_OPTION_END);
    }
    return MHD_start_daemon(
        flags | MHD_USE_TLS, 0, NULL, NULL, on_request, l,
        MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, "api", MHD_OPTION_SOCK_ADDR,
        addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)WD_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WD_CONNECTION_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, l,
        MHD_OPTION_HTTPS_MEM_CERT, cfg->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
        cfg->tls_key_pem,
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
    http->live = cfg->live;
    http->quiesced_fd[0] = -1;
    http->quiesced_fd[1] = -1;
    http->verified = srv_client_cache_new();
    if (srv_tls_new(cfg->tls_cert_pem, cfg->tls_key_pem, cfg->trust_pem,
                    &http->tls) != WD_OK) {
        srv_http_stop(http);
        return WD_E_CONFIG;
    }
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

/*
 * Stop both listeners: close every connection left (after srv_http_drain,
 * only idle ones) once the threads serving requests are done. Accepts
 * NULL.
 */
void
srv_http_stop(struct srv_http *http)
{
    size_t i;

    if (http == NULL) {
        return;
    }
    if (http->api_d != NULL) {
        MHD_stop_daemon(http->api_d);
    }
    if (http->public_d != NULL) {
        MHD_stop_daemon(http->public_d);
    }
    /* MHD leaves a quiesced socket to us, to close once it has stopped */
    for (i = 0; i < 2; i++) {
        if (http->quiesced_fd[i] >= 0) {
            close(http->quiesced_fd[i]);
        }
    }
    srv_tls_free(http->tls);
    srv_client_cache_free(http->verified);
    free(http);
}

/*
 * Take a listen socket back from d: first hand d the connections already
 * waiting in its backlog (closing the socket would reset them), then stop
 * it listening, so that a later attempt is refused rather than queued and
 * reset. Returns the socket (closed by srv_http_stop), or -1.
 */
static int
stop_listening(struct MHD_Daemon *d)
{
    int fd = MHD_quiesce_daemon(d);
    struct sockaddr_storage addr;
    socklen_t len;
    int flags;
    int c;

    if (fd == MHD_INVALID_SOCKET) {
        return -1;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
        log_warn("event=drain_backlog_skipped err=\"%s\"", strerror(errno));
    } else {
        for (;;) {
            len = sizeof(addr);
            c = accept(fd, (struct sockaddr *)&addr, &len);
            if (c < 0 && errno == EINTR) {
                continue;
            }
            if (c < 0) {
                break; /* EAGAIN: the backlog is empty */
            }
            /* on failure MHD closes c itself */
            MHD_add_connection(d, c, (struct sockaddr *)&addr, len);
        }
    }
    /* Linux: a listening socket shut down for reading stops listening */
    shutdown(fd, SHUT_RD);
    return fd;
}

/*
 * SIGTERM's first half: stop accepting on both listeners and wait, at
 * most wait_s, until no connection is busy: every request in flight
 * answered (with Connection: close) and every connection accepted before
 * the stop served. Idle keep-alive connections are left to srv_http_stop.
 */
void
srv_http_drain(struct srv_http *http, unsigned wait_s)
{
    struct timespec start;
    struct timespec now;
    struct timespec tick = { .tv_sec = 0, .tv_nsec = 20 * 1000000L };
    int busy;

    atomic_store(&http->stopping, true);
    http->quiesced_fd[0] = stop_listening(http->api_d);
    http->quiesced_fd[1] = stop_listening(http->public_d);
    clock_gettime(CLOCK_MONOTONIC, &start);
    while ((busy = atomic_load(&http->busy)) > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= (time_t)wait_s) {
            log_warn("event=drain_timeout busy=%d wait_s=%u", busy, wait_s);
            return;
        }
        nanosleep(&tick, NULL);
    }
    log_info("event=drained");
}

/* New API connections get cert_pem and key_pem (checked first). */
enum wd_err
srv_http_tls_reload(struct srv_http *http, const char *cert_pem,
                    const char *key_pem)
{
    return srv_tls_reload(http->tls, cert_pem, key_pem);
}

/* The identity new API connections get (srv.h); the ACME listener's too. */
struct srv_tls *
srv_http_tls(struct srv_http *http)
{
    return http->tls;
}
