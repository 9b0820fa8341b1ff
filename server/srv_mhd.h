/*
 * What the listeners share of libmicrohttpd (srv_mhd.c): the query string
 * as api_req wants it, MHD's own log lines in ours, and a response queued
 * with the headers every answer of Warden carries. Only the listener
 * files (srv_http.c, srv_acme_http.c) include it: they are the users of
 * microhttpd.h.
 */
#ifndef WD_SRV_MHD_H
#define WD_SRV_MHD_H

#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"
#include "srv.h"

/* A request's query parameters, percent-decoded, for struct api_req. */
struct srv_query {
    struct api_kv kv[API_MAX_QUERY_PARAMS];
    size_t n;
    bool overflow; /* more than API_MAX_QUERY_PARAMS were sent */
};

/* Fill q from conn's query string; the strings are MHD's, valid for the
 * request. */
void srv_mhd_query_read(struct MHD_Connection *conn, struct srv_query *q);

/* MHD_OPTION_EXTERNAL_LOGGER: cls is the listener's name (a static
 * string), logged with each line. */
void srv_mhd_log(void *cls, const char *fmt, va_list ap);

/*
 * Append the n bytes at data to a request body (*buf, *len, *cap) bounded
 * by limit bytes: it grows as bytes arrive, never by what the peer
 * declared. False, with nothing appended, if they would pass limit.
 */
bool srv_mhd_body_append(uint8_t **buf, size_t *len, size_t *cap, size_t limit,
                         const char *data, size_t n);

/*
 * Queue resp on conn (its body handed to MHD, resp cleared) with the
 * headers every answer carries: the request id, Connection: close when
 * closing, no sniffing, no framing, no referrer, a policy that runs
 * nothing unless resp brings its own, and no-store unless resp says how
 * to cache.
 */
enum MHD_Result srv_mhd_send(struct MHD_Connection *conn,
                             const char *request_id, bool closing,
                             struct api_resp *resp);

/* What ends one request, for its completion line. */
struct srv_mhd_done {
    const char *listener; /* named in the line, or NULL */
    const char *request_id;
    const char *identity; /* the caller's name, or NULL */
    const char *serial;   /* the caller's certificate, or NULL */
    const char *method;
    const char *path;
    int status;
    const char *error_code; /* or NULL */
    struct timespec start;  /* CLOCK_MONOTONIC, when the request began */
    bool aborted;
};

/*
 * The line every request ends with (README "Logs"), at level, and the
 * request's duration in microseconds, for the metrics, whether the line
 * is written or not.
 */
uint64_t srv_mhd_request_done(enum log_level level,
                              const struct srv_mhd_done *d);

#endif
