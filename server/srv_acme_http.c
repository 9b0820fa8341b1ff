/*
 * The ACME listener (RFC 8555), a third libmicrohttpd daemon beside the
 * two of srv_http.c: HTTPS with the daemon's own certificate (the API
 * listener's srv_tls, so a SIGHUP renews both) but no client
 * certificate, since ACME clients prove who they are with JWS
 * signatures. For every request it names it (request id), answers 411
 * from the headers when no length is declared, collects at most
 * API_ACME_MAX_BODY bytes (a larger declared body reaches
 * api_acme_handle as a length alone, which answers 413), fills a
 * struct api_req without an identity and sends what api_acme_handle
 * returns. One log line per request, at completion.
 */
#include "srv_mhd.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/xmalloc.h"

struct srv_acme_http {
    struct MHD_Daemon *d;
    struct api_acme *acme; /* borrowed */
    struct srv_tls *tls;   /* borrowed: the API listener's identity */
    char id_prefix[9];     /* random per listener: request ids differ */
    atomic_uint_fast64_t next_id;
    /* connections not idle between requests: what a drain waits for */
    atomic_int busy;
    atomic_bool stopping; /* draining: every answer closes its connection */
    int quiesced_fd;      /* the listen socket taken back from MHD, or -1 */
};

/* Per-connection state, MHD's *socket_context. */
struct conn {
    struct srv_tls_cred *cred; /* this session's certificate and key */
    bool idle;                 /* between requests: not counted as busy */
};

/* Per-request state, MHD's *con_cls. */
struct request {
    struct srv_acme_http *h;
    struct conn *conn; /* its connection's state, or NULL */
    char id[32];
    struct timespec start;
    char method[16];
    char path[256]; /* for the log line only, truncated */
    bool responded; /* a response is queued */
    int status;
    const char *error_code;
    uint8_t *body;
    size_t len;
    size_t cap;
};

/* Send resp (its body handed to MHD) with the headers every answer
 * carries; several headers of one name (Link) each go out. */
static enum MHD_Result
send_resp(struct MHD_Connection *conn, struct request *r, struct api_resp *resp)
{
    r->responded = true;
    r->status = resp->status;
    r->error_code = resp->error_code;
    return srv_mhd_send(conn, r->id, atomic_load(&r->h->stopping), resp);
}

/*
 * A refusal decided from the headers, before api_acme_handle is asked: a
 * problem document (RFC 7807) of type malformed, as RFC 8555 6.7 wants
 * every error to be.
 */
static enum MHD_Result
send_problem(struct MHD_Connection *conn, struct request *r, int status,
             const char *code, const char *detail)
{
    struct api_resp resp = { 0 };
    json_t *doc = json_pack("{s:s, s:s, s:i}", "type",
                            "urn:ietf:params:acme:error:malformed", "detail",
                            detail, "status", status);
    char *text = json_dumps(doc, JSON_COMPACT);

    json_decref(doc);
    resp.status = status;
    resp.content_type = "application/problem+json";
    resp.body = (uint8_t *)text;
    resp.body_len = text != NULL ? strlen(text) : 0;
    resp.error_code = code;
    return send_resp(conn, r, &resp);
}

/* Run api_acme_handle on what arrived and queue its answer. body_len is
 * the bytes read, or for a body refused unread its declared length. */
static enum MHD_Result
dispatch(struct srv_acme_http *h, struct MHD_Connection *conn,
         struct request *r, const char *url, const char *method,
         size_t body_len)
{
    struct srv_query acc;
    struct api_req req = { 0 };
    struct api_resp resp = { 0 };

    srv_mhd_query_read(conn, &acc);
    req.method = method;
    req.path = url;
    req.query = acc.kv;
    req.n_query = acc.n;
    req.query_overflow = acc.overflow;
    req.content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    req.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
    req.host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    req.body = r->body;
    req.body_len = body_len;
    req.who = NULL; /* ACME clients are who their JWS says */
    req.now = time(NULL);
    api_acme_handle(h->acme, &req, &resp);
    return send_resp(conn, r, &resp);
}

static struct request *
request_new(struct srv_acme_http *h, struct MHD_Connection *conn,
            const char *url, const char *method)
{
    struct request *r = xcalloc(1, sizeof(*r));
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    r->h = h;
    r->conn = info != NULL ? info->socket_context : NULL;
    if (r->conn != NULL && r->conn->idle) {
        r->conn->idle = false; /* a kept-alive connection is busy again */
        atomic_fetch_add(&h->busy, 1);
    }
    snprintf(r->id, sizeof(r->id), "%s-%06" PRIuFAST64, h->id_prefix,
             atomic_fetch_add(&h->next_id, 1));
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->path, sizeof(r->path), "%s", url);
    return r;
}

/* The first call for a request (headers only): may its body be read? */
static enum MHD_Result
on_headers(struct srv_acme_http *h, struct MHD_Connection *conn,
           struct request *r, const char *url, const char *method)
{
    const char *cl = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    uint64_t declared = 0;

    if ((cl != NULL && !wd_parse_u64(cl, 0, UINT64_MAX, &declared)) ||
        (cl == NULL && te != NULL)) {
        /* chunked: a size unknown up front cannot be refused unread */
        return send_problem(conn, r, 411, "length_required",
                            "a body needs a Content-Length");
    }
    if (declared > API_ACME_MAX_BODY) {
        /* api_acme_handle sees the length, never the bytes: 413 */
        return dispatch(h, conn, r, url, method, (size_t)declared);
    }
    /* a bodiless request is answered on the next call: MHD closes a
     * connection whose response is queued while it still holds the
     * request's headers, and keep-alive would be lost */
    return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    struct srv_acme_http *h = cls;
    struct request *r = *con_cls;

    (void)version;
    if (r == NULL) {
        r = request_new(h, conn, url, method);
        *con_cls = r;
        log_set_request_id(r->id);
        return on_headers(h, conn, r, url, method);
    }
    log_set_request_id(r->id);
    if (r->responded) {
        *upload_data_size = 0; /* an answered request reads nothing more */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!srv_mhd_body_append(&r->body, &r->len, &r->cap, API_ACME_MAX_BODY,
                                 upload_data, *upload_data_size)) {
            return MHD_NO; /* more than Content-Length said: drop it */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(h, conn, r, url, method, r->len);
}

/* One log line per request, then free its state. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct srv_acme_http *h = cls;
    struct request *r = *con_cls;

    (void)conn;
    if (r == NULL) {
        return;
    }
    srv_mhd_request_done(
        LOG_INFO, &(struct srv_mhd_done){
                      .listener = "acme",
                      .request_id = r->id,
                      .method = r->method,
                      .path = r->path,
                      .status = r->status,
                      .error_code = r->error_code,
                      .start = r->start,
                      .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK,
                  });
    if (r->conn != NULL) {
        r->conn->idle = true; /* kept alive or about to close */
        atomic_fetch_sub(&h->busy, 1);
    }
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/*
 * A connection opens or closes. Opening (before its TLS handshake): its
 * session gets the daemon's certificate current now, held until the
 * session is gone, and it counts as busy until its first request ends.
 * No client certificate is asked for: MHD requests one only with a trust
 * list, and this daemon has none.
 */
static void
on_connection(void *cls, struct MHD_Connection *connection,
              void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
    struct srv_acme_http *h = cls;
    struct conn *c = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(
            connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);

        c = xcalloc(1, sizeof(*c));
        c->cred = srv_tls_cred_ref(h->tls);
        if (info == NULL || info->tls_session == NULL ||
            !srv_tls_cred_apply(c->cred, (gnutls_session_t)info->tls_session)) {
            log_warn("event=tls_identity_not_set listener=acme reason=\"this "
                     "connection uses the certificate of the start\"");
        } else {
            /* clients poll orders: a reconnect resumes */
            srv_tls_tickets_enable(h->tls, (gnutls_session_t)info->tls_session);
        }
        atomic_fetch_add(&h->busy, 1);
        *socket_context = c;
        return;
    }
    if (c == NULL) {
        return;
    }
    if (!c->idle) {
        atomic_fetch_sub(&h->busy, 1);
    }
    srv_tls_cred_unref(c->cred);
    free(c);
    *socket_context = NULL;
}

/*
 * Start the ACME listener on cfg->addr. WD_E_IO if it cannot bind
 * (logged). Caller owns *out (srv_acme_http_stop); cfg's acme and tls
 * must outlive it.
 */
enum wd_err
srv_acme_http_start(const struct srv_acme_http_cfg *cfg,
                    struct srv_acme_http **out)
{
    struct srv_acme_http *h = xcalloc(1, sizeof(*h));
    /* ITC: what MHD_quiesce_daemon needs (drain) */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_USE_TLS;
    uint8_t rnd[4];

    h->acme = cfg->acme;
    h->tls = cfg->tls;
    h->quiesced_fd = -1;
    atomic_init(&h->next_id, 1);
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0) {
        memset(rnd, 0, sizeof(rnd));
    }
    wd_hex_encode(rnd, sizeof(rnd), h->id_prefix);
    if (cfg->addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h,
        /* first, so that MHD logs nothing to stderr on its own */
        MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, "acme", MHD_OPTION_SOCK_ADDR,
        &cfg->addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)WD_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WD_CONNECTION_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        /* MHD wants a certificate to start; each session gets srv_tls's */
        MHD_OPTION_HTTPS_MEM_CERT, cfg->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
        cfg->tls_key_pem, MHD_OPTION_HTTPS_PRIORITIES, cfg->tls_priorities,
        MHD_OPTION_END);
    if (h->d == NULL) {
        log_err("event=listen_failed listener=acme addr=%s", cfg->listen);
        srv_acme_http_stop(h);
        return WD_E_IO;
    }
    *out = h;
    return WD_OK;
}

/*
 * Stop accepting (the listen socket is closed, so a new connection is
 * refused rather than queued), serve what was accepted, and wait up to
 * wait_s for requests in flight: a certificate being signed is answered.
 */
void
srv_acme_http_drain(struct srv_acme_http *h, unsigned wait_s)
{
    struct timespec start;
    struct timespec now;
    struct timespec tick = { .tv_sec = 0, .tv_nsec = 20 * 1000000L };
    int busy;

    if (h == NULL) {
        return;
    }
    atomic_store(&h->stopping, true);
    h->quiesced_fd = MHD_quiesce_daemon(h->d);
    if (h->quiesced_fd != MHD_INVALID_SOCKET) {
        /* Linux: a listening socket shut down for reading stops
         * listening */
        shutdown(h->quiesced_fd, SHUT_RD);
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    while ((busy = atomic_load(&h->busy)) > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= (time_t)wait_s) {
            log_warn("event=drain_timeout listener=acme busy=%d wait_s=%u",
                     busy, wait_s);
            return;
        }
        nanosleep(&tick, NULL);
    }
}

/* Stop the listener, closing what connections are left. Accepts NULL. */
void
srv_acme_http_stop(struct srv_acme_http *h)
{
    if (h == NULL) {
        return;
    }
    if (h->d != NULL) {
        MHD_stop_daemon(h->d);
    }
    if (h->quiesced_fd >= 0) {
        close(h->quiesced_fd);
    }
    free(h);
}
