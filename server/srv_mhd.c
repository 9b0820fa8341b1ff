/*
 * libmicrohttpd glue shared by the listeners (srv_mhd.h): reading the
 * query string, MHD's log lines, and queueing an api_resp with the
 * headers every answer of Warden carries.
 */
#include "srv_mhd.h"

#include <stdio.h>
#include <time.h>
#include <string.h>

#include "base/log.h"
#include "base/xmalloc.h"

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
              const char *value)
{
    struct srv_query *q = cls;

    (void)kind;
    if (q->n >= API_MAX_QUERY_PARAMS) {
        q->overflow = true;
        return MHD_NO;
    }
    q->kv[q->n].key = key;
    q->kv[q->n].value = value;
    q->n++;
    return MHD_YES;
}

/* Fill q from conn's query string (srv_mhd.h). */
void
srv_mhd_query_read(struct MHD_Connection *conn, struct srv_query *q)
{
    q->n = 0;
    q->overflow = false;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, q);
}

/* MHD's own complaints (malformed requests, resource limits), as one
 * warning line each with the listener's name (srv_mhd.h). */
void
srv_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    char quoted[LOG_QUOTE_BUF];
    size_t len;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n') {
        msg[--len] = '\0';
    }
    log_warn("event=http_library listener=%s msg=%s",
             cls != NULL ? (const char *)cls : "?",
             log_quote(msg, len, quoted));
}

/* Append to a bounded request body (srv_mhd.h). */
bool
srv_mhd_body_append(uint8_t **buf, size_t *len, size_t *cap, size_t limit,
                    const char *data, size_t n)
{
    if (n > limit - *len) {
        return false;
    }
    if (*len + n > *cap) {
        *cap = *cap * 2 > *len + n ? *cap * 2 : *len + n;
        if (*cap > limit) {
            *cap = limit;
        }
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    return true;
}

/* Queue resp on conn with the headers every answer carries (srv_mhd.h). */
enum MHD_Result
srv_mhd_send(struct MHD_Connection *conn, const char *request_id, bool closing,
             struct api_resp *resp)
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
    if (resp->content_type != NULL || resp->body_len > 0) {
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type != NULL
                                    ? resp->content_type
                                    : "application/octet-stream");
    }
    MHD_add_response_header(mr, "X-Request-Id", request_id);
    if (closing) {
        /* shutting down: no next request on this connection */
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    /* a browser may render what we send (the page, a JSON error): never
     * sniff it into HTML, frame it or leak our URLs to another site */
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "X-Frame-Options", "DENY");
    MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
    for (i = 0; i < resp->n_headers; i++) {
        /* several of one name (ACME's Link) each go out */
        MHD_add_response_header(mr, resp->headers[i].name,
                                resp->headers[i].value);
    }
    if (MHD_get_response_header(mr, "Content-Security-Policy") == NULL) {
        /* nothing but the page (api_web.c sets its own) runs anything */
        MHD_add_response_header(mr, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'");
    }
    if (MHD_get_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL) == NULL) {
        /* answers, errors and nonces (RFC 8555 6.5) are per caller and
         * moment: never cache */
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
    ret = MHD_queue_response(conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    api_resp_clear(resp);
    return ret;
}

uint64_t
srv_mhd_request_done(enum log_level level, const struct srv_mhd_done *d)
{
    struct timespec end;
    char path[LOG_QUOTE_BUF];
    char who[LOG_QUOTE_BUF];
    char listener[64] = "";
    long us;

    clock_gettime(CLOCK_MONOTONIC, &end);
    us = (end.tv_sec - d->start.tv_sec) * 1000000L +
         (end.tv_nsec - d->start.tv_nsec) / 1000L;
    if (!log_enabled(level)) {
        return us > 0 ? (uint64_t)us : 0;
    }
    if (d->listener != NULL) {
        snprintf(listener, sizeof(listener), "listener=%s ", d->listener);
    }
    log_set_request_id(d->request_id);
    log_msg(level,
            "event=request %sidentity=%s serial=%s method=%s path=%s "
            "status=%d error=%s duration_ms=%.3f%s",
            listener,
            d->identity != NULL
                ? log_quote(d->identity, strlen(d->identity), who)
                : "-",
            d->serial != NULL ? d->serial : "-", d->method,
            log_quote(d->path, strlen(d->path), path), d->status,
            d->error_code != NULL ? d->error_code : "-", (double)us / 1000.0,
            d->aborted ? " aborted=1" : "");
    log_set_request_id(NULL);
    return us > 0 ? (uint64_t)us : 0;
}
