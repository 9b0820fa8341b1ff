/*
 * loadgen: an HTTP/1.1 load generator that speaks mTLS with GnuTLS, for
 * the figures of tests/bench/run. C client threads, each with one
 * blocking connection, send requests back to back for D seconds, over
 * keep-alive connections, or a fresh connection (a full handshake, or a
 * resumed one with --resume) per request. Responses are read by
 * Content-Length, chunked encoding or EOF, as from libmicrohttpd, Go's
 * net/http or openssl.
 *
 * Bodies: a file (--body-file), or made per request: --csr-pool K keeps
 * K P-256 CSRs made at start and cycles through them (serials are random,
 * so one CSR may be issued many times), as PEM or wrapped in the JSON of
 * Warden or cfssl (--csr-format); --ocsp-cert/--ocsp-issuer builds an
 * OCSP request for that certificate with a fresh nonce every time.
 *
 * Prints one JSON line: requests, errors (transport failures and non-2xx
 * answers), rps, p50_ms, p90_ms, p99_ms, max_ms, connections, resumed,
 * seconds and status_counts. Latency runs from sending the request to the
 * last byte of the answer; without keep-alive it includes connecting and
 * the handshake, which is what such a run measures.
 */
#include <errno.h>
#include <getopt.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "../../server/base/parse.h"
#include "../../server/base/xmalloc.h"

#define MAX_HEADERS 16
#define MAX_CLIENTS 1024
/* A read or write that stalls this long fails the request. */
#define IO_TIMEOUT_S 10
/* A status or header line longer than this fails the request. */
#define MAX_LINE 8192
/* Status codes counted: 100 to 599. */
#define STATUS_MAX 600

enum csr_format { CSR_PEM, CSR_WARDEN_JSON, CSR_CFSSL_JSON };

/* The run's settings, shared read-only by the client threads. */
struct cfg {
    char host[256];
    char port[8];
    char path[2048];
    bool tls;
    const char *method;
    const char *headers[MAX_HEADERS];
    size_t n_headers;
    unsigned clients;
    double duration; /* seconds */
    bool keepalive;
    bool resume;
    const char *priority; /* GnuTLS priority string or NULL */
    struct addrinfo *addr;
    gnutls_certificate_credentials_t creds;
    /* bodies: a fixed one, a pool to cycle, or OCSP with a nonce */
    char **bodies;
    size_t *body_lens;
    size_t n_bodies;
    const char *content_type;
    gnutls_x509_crt_t ocsp_cert;
    gnutls_x509_crt_t ocsp_issuer;
    double t_start; /* monotonic seconds */
};

/* One client thread's connection and tallies. */
struct client {
    const struct cfg *cfg;
    unsigned index;
    int fd;
    gnutls_session_t s;
    bool open;
    gnutls_datum_t ticket; /* session data for --resume */
    uint8_t buf[16384];
    size_t off, len;
    bool eof;
    /* results */
    uint32_t *lat_us;
    size_t n_lat, cap_lat;
    uint64_t errors;
    uint64_t connections;
    uint64_t resumed;
    uint64_t status[STATUS_MAX];
    double t_end;
    char first_error[160];
    gnutls_ocsp_req_t ocsp;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

_Noreturn static void
die(const char *what, const char *why)
{
    fprintf(stderr, "loadgen: %s: %s\n", what, why);
    exit(1);
}

static void
note_error(struct client *c, const char *what, const char *why)
{
    c->errors++;
    if (c->first_error[0] == '\0') {
        snprintf(c->first_error, sizeof(c->first_error), "%s: %s", what, why);
    }
}

static void
conn_close(struct client *c)
{
    if (c->s != NULL) {
        gnutls_deinit(c->s);
        c->s = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->open = false;
    c->off = c->len = 0;
    c->eof = false;
}

static bool
conn_open(struct client *c)
{
    const struct cfg *cfg = c->cfg;
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    int one = 1;
    int ret;

    c->fd = socket(cfg->addr->ai_family, SOCK_STREAM, 0);
    if (c->fd < 0) {
        note_error(c, "socket", strerror(errno));
        return false;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(c->fd, cfg->addr->ai_addr, cfg->addr->ai_addrlen) != 0) {
        note_error(c, "connect", strerror(errno));
        conn_close(c);
        return false;
    }
    c->connections++;
    if (cfg->tls) {
        ret = gnutls_init(&c->s, GNUTLS_CLIENT);
        if (ret >= 0) {
            ret = cfg->priority != NULL
                      ? gnutls_priority_set_direct(c->s, cfg->priority, NULL)
                      : gnutls_set_default_priority(c->s);
        }
        if (ret >= 0) {
            ret = gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE,
                                         cfg->creds);
        }
        if (ret >= 0) {
            gnutls_session_set_verify_cert(c->s, cfg->host, 0);
            gnutls_transport_set_int(c->s, c->fd);
            gnutls_handshake_set_timeout(c->s, IO_TIMEOUT_S * 1000);
            if (cfg->resume && c->ticket.data != NULL) {
                ret = gnutls_session_set_data(c->s, c->ticket.data,
                                              c->ticket.size);
            }
        }
        if (ret >= 0) {
            do {
                ret = gnutls_handshake(c->s);
            } while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
        }
        if (ret < 0) {
            note_error(c, "handshake", gnutls_strerror(ret));
            conn_close(c);
            return false;
        }
        if (gnutls_session_is_resumed(c->s)) {
            c->resumed++;
        }
    }
    c->open = true;
    return true;
}

static bool
conn_write(struct client *c, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len > 0) {
        ssize_t n = c->s != NULL ? gnutls_record_send(c->s, p, len)
                                 : write(c->fd, p, len);

        if (n < 0 && (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ||
                      (c->s == NULL && errno == EINTR))) {
            continue;
        }
        if (n <= 0) {
            note_error(c, "write",
                       c->s != NULL ? gnutls_strerror((int)n)
                                    : strerror(errno));
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* More bytes into the buffer; false on error, sets eof at the end. */
static bool
conn_fill(struct client *c)
{
    ssize_t n;

    if (c->off > 0 && c->off == c->len) {
        c->off = c->len = 0;
    }
    if (c->len == sizeof(c->buf)) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    for (;;) {
        n = c->s != NULL
                ? gnutls_record_recv(c->s, c->buf + c->len,
                                     sizeof(c->buf) - c->len)
                : read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (n < 0 && (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ||
                      (c->s == NULL && errno == EINTR))) {
            continue;
        }
        break;
    }
    if (n == 0 || (c->s != NULL && n == GNUTLS_E_PREMATURE_TERMINATION)) {
        c->eof = true;
        return true;
    }
    if (n < 0) {
        note_error(c, "read",
                   c->s != NULL ? gnutls_strerror((int)n) : strerror(errno));
        return false;
    }
    c->len += (size_t)n;
    return true;
}

/* One CRLF-terminated line (without it) into line; false on error/EOF. */
static bool
read_line(struct client *c, char *line, size_t max)
{
    size_t n = 0;

    for (;;) {
        while (c->off < c->len) {
            char ch = (char)c->buf[c->off++];

            if (ch == '\n') {
                if (n > 0 && line[n - 1] == '\r') {
                    n--;
                }
                line[n] = '\0';
                return true;
            }
            if (n + 1 >= max) {
                note_error(c, "read", "header line too long");
                return false;
            }
            line[n++] = ch;
        }
        if (!conn_fill(c)) {
            return false;
        }
        if (c->eof) {
            note_error(c, "read", "connection closed mid-answer");
            return false;
        }
    }
}

/* Consume n body bytes, or with to_eof everything until the peer closes. */
static bool
skip_body(struct client *c, size_t n, bool to_eof)
{
    for (;;) {
        size_t have = c->len - c->off;
        size_t take = to_eof || have < n ? have : n;

        c->off += take;
        if (!to_eof) {
            n -= take;
            if (n == 0) {
                return true;
            }
        }
        if (!conn_fill(c)) {
            return false;
        }
        if (c->eof) {
            if (to_eof) {
                return true;
            }
            note_error(c, "read", "connection closed mid-body");
            return false;
        }
    }
}

/* Reads one answer; *status and *close are set on success. */
static bool
read_response(struct client *c, int *status, bool *close_after)
{
    char line[MAX_LINE];
    bool chunked = false;
    bool has_len = false;
    uint64_t len = 0;
    int minor = 1;

    if (!read_line(c, line, sizeof(line))) {
        return false;
    }
    if (sscanf(line, "HTTP/1.%d %d", &minor, status) != 2 || *status < 100 ||
        *status >= STATUS_MAX) {
        note_error(c, "read", "not an HTTP/1.x status line");
        return false;
    }
    *close_after = minor == 0;
    for (;;) {
        char *colon, *v;

        if (!read_line(c, line, sizeof(line))) {
            return false;
        }
        if (line[0] == '\0') {
            break;
        }
        colon = strchr(line, ':');
        if (colon == NULL) {
            continue;
        }
        *colon = '\0';
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
        }
        if (strcasecmp(line, "content-length") == 0) {
            has_len = wd_parse_u64(v, 0, UINT32_MAX, &len);
        } else if (strcasecmp(line, "transfer-encoding") == 0) {
            chunked = strcasecmp(v, "chunked") == 0;
        } else if (strcasecmp(line, "connection") == 0) {
            if (strcasecmp(v, "close") == 0) {
                *close_after = true;
            } else if (strcasecmp(v, "keep-alive") == 0) {
                *close_after = false;
            }
        }
    }
    if (*status == 204 || *status == 304 || *status < 200) {
        return true;
    }
    if (chunked) {
        for (;;) {
            unsigned long size;
            char *end;

            if (!read_line(c, line, sizeof(line))) {
                return false;
            }
            size = strtoul(line, &end, 16);
            if (end == line) {
                note_error(c, "read", "bad chunk size");
                return false;
            }
            if (size == 0) {
                break;
            }
            if (!skip_body(c, size, false) ||
                !read_line(c, line, sizeof(line))) {
                return false;
            }
        }
        do { /* trailers, then the empty line */
            if (!read_line(c, line, sizeof(line))) {
                return false;
            }
        } while (line[0] != '\0');
        return true;
    }
    if (has_len) {
        return skip_body(c, (size_t)len, false);
    }
    *close_after = true;
    return skip_body(c, 0, true);
}

/* The body of request number seq: borrowed, or built into *owned. */
static bool
body_get(struct client *c, uint64_t seq, const char **body, size_t *len,
         gnutls_datum_t *owned)
{
    const struct cfg *cfg = c->cfg;
    int ret;

    if (c->ocsp != NULL) {
        ret = gnutls_ocsp_req_randomize_nonce(c->ocsp);
        if (ret >= 0) {
            ret = gnutls_ocsp_req_export(c->ocsp, owned);
        }
        if (ret < 0) {
            note_error(c, "ocsp request", gnutls_strerror(ret));
            return false;
        }
        *body = (const char *)owned->data;
        *len = owned->size;
        return true;
    }
    if (cfg->n_bodies == 0) {
        *body = "";
        *len = 0;
        return true;
    }
    /* clients start at different places in the pool */
    seq = (seq + (uint64_t)c->index * 7919) % cfg->n_bodies;
    *body = cfg->bodies[seq];
    *len = cfg->body_lens[seq];
    return true;
}

static void
lat_add(struct client *c, double s)
{
    double us = s * 1e6;

    if (c->n_lat == c->cap_lat) {
        c->cap_lat = c->cap_lat * 2 + 4096;
        c->lat_us = xrealloc(c->lat_us, c->cap_lat * sizeof(*c->lat_us));
    }
    c->lat_us[c->n_lat++] = us > 4e9 ? UINT32_MAX : (uint32_t)us;
}

/* One request and its answer; false if the connection is unusable. */
static bool
one_request(struct client *c, uint64_t seq)
{
    const struct cfg *cfg = c->cfg;
    gnutls_datum_t owned = { NULL, 0 };
    const char *body;
    size_t body_len;
    char head[4096];
    size_t hl;
    size_t i;
    int status = 0;
    bool close_after = false;
    bool ok = false;
    double t0 = now_s();

    if (!body_get(c, seq, &body, &body_len, &owned)) {
        return false;
    }
    if (!c->open) {
        if (!conn_open(c)) {
            goto out;
        }
        if (cfg->keepalive && c->connections == 1) {
            /* a client's first connection is set-up, not load; later
             * ones (the server closed) count in the latency */
            t0 = now_s();
        }
    }
    hl = (size_t)snprintf(head, sizeof(head),
                          "%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
                          "User-Agent: warden-loadgen\r\n%s",
                          cfg->method, cfg->path, cfg->host, cfg->port,
                          cfg->keepalive ? "" : "Connection: close\r\n");
    if (body_len > 0 || strcmp(cfg->method, "POST") == 0) {
        hl += (size_t)snprintf(head + hl, sizeof(head) - hl,
                               "Content-Length: %zu\r\n", body_len);
        if (cfg->content_type != NULL) {
            hl += (size_t)snprintf(head + hl, sizeof(head) - hl,
                                   "Content-Type: %s\r\n", cfg->content_type);
        }
    }
    for (i = 0; i < cfg->n_headers && hl < sizeof(head); i++) {
        hl += (size_t)snprintf(head + hl, sizeof(head) - hl, "%s\r\n",
                               cfg->headers[i]);
    }
    if (hl + 3 > sizeof(head)) {
        die("request", "headers too long");
    }
    memcpy(head + hl, "\r\n", 2);
    hl += 2;
    if (!conn_write(c, head, hl) ||
        (body_len > 0 && !conn_write(c, body, body_len)) ||
        !read_response(c, &status, &close_after)) {
        goto out;
    }
    lat_add(c, now_s() - t0);
    c->status[status]++;
    if (status < 200 || status >= 300) {
        char why[32];

        snprintf(why, sizeof(why), "HTTP %d", status);
        note_error(c, "answer", why);
    }
    ok = true;
out:
    gnutls_free(owned.data);
    if (!ok || close_after || !cfg->keepalive) {
        if (ok && c->s != NULL && cfg->resume) {
            /* TLS 1.3 tickets arrive with the first answer */
            gnutls_free(c->ticket.data);
            c->ticket.data = NULL;
            if (gnutls_session_get_data2(c->s, &c->ticket) < 0) {
                c->ticket.data = NULL;
            }
        }
        if (ok && c->s != NULL) {
            gnutls_bye(c->s, GNUTLS_SHUT_WR);
        }
        conn_close(c);
    }
    return ok;
}

static void *
client_run(void *arg)
{
    struct client *c = arg;
    const struct cfg *cfg = c->cfg;
    double deadline = cfg->t_start + cfg->duration;
    uint64_t seq = 0;

    if (cfg->ocsp_cert != NULL) {
        int ret = gnutls_ocsp_req_init(&c->ocsp);

        if (ret >= 0) {
            ret = gnutls_ocsp_req_add_cert(c->ocsp, GNUTLS_DIG_SHA1,
                                           cfg->ocsp_issuer, cfg->ocsp_cert);
        }
        if (ret < 0) {
            die("ocsp request", gnutls_strerror(ret));
        }
    }
    while (now_s() < deadline) {
        if (!one_request(c, seq++)) {
            /* a refused or broken connection: do not spin on it */
            struct timespec ts = { 0, 1000000 };

            nanosleep(&ts, NULL);
        }
    }
    c->t_end = now_s();
    conn_close(c);
    gnutls_free(c->ticket.data);
    if (c->ocsp != NULL) {
        gnutls_ocsp_req_deinit(c->ocsp);
    }
    return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static double
pct_ms(const uint32_t *v, size_t n, double p)
{
    size_t i;

    if (n == 0) {
        return 0;
    }
    i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0;
}

static void
report(struct client *cl, unsigned n)
{
    uint64_t requests = 0, errors = 0, conns = 0, resumed = 0;
    uint64_t status[STATUS_MAX] = { 0 };
    uint32_t *all;
    size_t n_all = 0, k;
    double end = 0, secs;
    unsigned i;
    bool first = true;
    const char *first_error = NULL;

    for (i = 0; i < n; i++) {
        n_all += cl[i].n_lat;
    }
    all = xmalloc((n_all + 1) * sizeof(*all));
    n_all = 0;
    for (i = 0; i < n; i++) {
        memcpy(all + n_all, cl[i].lat_us, cl[i].n_lat * sizeof(*all));
        n_all += cl[i].n_lat;
        errors += cl[i].errors;
        conns += cl[i].connections;
        resumed += cl[i].resumed;
        end = cl[i].t_end > end ? cl[i].t_end : end;
        for (k = 0; k < STATUS_MAX; k++) {
            status[k] += cl[i].status[k];
        }
        if (first_error == NULL && cl[i].first_error[0] != '\0') {
            first_error = cl[i].first_error;
        }
    }
    requests = n_all;
    qsort(all, n_all, sizeof(*all), cmp_u32);
    secs = end - cl[0].cfg->t_start;
    printf("{\"requests\": %llu, \"errors\": %llu, \"rps\": %.1f, "
           "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
           "\"max_ms\": %.3f, \"connections\": %llu, \"resumed\": %llu, "
           "\"seconds\": %.2f, \"status_counts\": {",
           (unsigned long long)requests, (unsigned long long)errors,
           secs > 0 ? (double)requests / secs : 0.0, pct_ms(all, n_all, 0.50),
           pct_ms(all, n_all, 0.90), pct_ms(all, n_all, 0.99),
           n_all > 0 ? (double)all[n_all - 1] / 1000.0 : 0.0,
           (unsigned long long)conns, (unsigned long long)resumed, secs);
    for (k = 0; k < STATUS_MAX; k++) {
        if (status[k] > 0) {
            printf("%s\"%zu\": %llu", first ? "" : ", ", k,
                   (unsigned long long)status[k]);
            first = false;
        }
    }
    printf("}}\n");
    if (first_error != NULL) {
        fprintf(stderr, "loadgen: first error: %s\n", first_error);
    }
    free(all);
}

static void
url_parse(const char *url, struct cfg *cfg)
{
    const char *p, *slash, *colon;
    size_t hl;

    if (strncmp(url, "https://", 8) == 0) {
        cfg->tls = true;
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        cfg->tls = false;
        p = url + 7;
    } else {
        die(url, "want http:// or https://");
    }
    slash = strchr(p, '/');
    if (slash == NULL) {
        slash = p + strlen(p);
    }
    colon = memchr(p, ':', (size_t)(slash - p));
    hl = (size_t)((colon != NULL ? colon : slash) - p);
    if (hl == 0 || hl >= sizeof(cfg->host)) {
        die(url, "bad host");
    }
    memcpy(cfg->host, p, hl);
    cfg->host[hl] = '\0';
    if (colon != NULL) {
        size_t pl = (size_t)(slash - colon - 1);

        if (pl == 0 || pl >= sizeof(cfg->port)) {
            die(url, "bad port");
        }
        memcpy(cfg->port, colon + 1, pl);
        cfg->port[pl] = '\0';
    } else {
        snprintf(cfg->port, sizeof(cfg->port), "%s", cfg->tls ? "443" : "80");
    }
    snprintf(cfg->path, sizeof(cfg->path), "%s", *slash ? slash : "/");
}

static char *
file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t cap = 0, n = 0, got;

    if (f == NULL) {
        die(path, strerror(errno));
    }
    do {
        if (n + 4096 > cap) {
            cap = (n + 4096) * 2;
            data = xrealloc(data, cap);
        }
        got = fread(data + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
}

static gnutls_x509_crt_t
crt_load(const char *path)
{
    gnutls_x509_crt_t crt = NULL;
    size_t len;
    char *pem = file_read(path, &len);
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };
    int ret;

    ret = gnutls_x509_crt_init(&crt);
    if (ret >= 0) {
        ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
    }
    if (ret < 0) {
        die(path, gnutls_strerror(ret));
    }
    free(pem);
    return crt;
}

/* "\n" -> "\\n" for a PEM inside a JSON string; PEM has nothing else. */
static char *
json_wrap(const char *key, const char *pem)
{
    size_t n = strlen(pem);
    char *out = xmalloc(2 * n + strlen(key) + 16);
    size_t o = 0;
    size_t i;

    o += (size_t)sprintf(out, "{\"%s\": \"", key);
    for (i = 0; i < n; i++) {
        if (pem[i] == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = pem[i];
        }
    }
    strcpy(out + o, "\"}");
    return out;
}

/* K P-256 keys and CSRs (CN and one DNS SAN), made once. */
static void
csr_pool_make(struct cfg *cfg, size_t k, enum csr_format fmt)
{
    size_t i;

    cfg->bodies = xcalloc(k, sizeof(*cfg->bodies));
    cfg->body_lens = xcalloc(k, sizeof(*cfg->body_lens));
    cfg->n_bodies = k;
    for (i = 0; i < k; i++) {
        gnutls_x509_privkey_t key = NULL;
        gnutls_x509_crq_t crq = NULL;
        gnutls_datum_t pem = { NULL, 0 };
        char cn[64];
        int ret;

        snprintf(cn, sizeof(cn), "bench-%zu.loadgen.internal", i);
        ret = gnutls_x509_privkey_init(&key);
        if (ret >= 0) {
            ret = gnutls_x509_privkey_generate(
                key, GNUTLS_PK_ECDSA,
                GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
        }
        if (ret >= 0) {
            ret = gnutls_x509_crq_init(&crq);
        }
        if (ret >= 0) {
            ret = gnutls_x509_crq_set_dn_by_oid(
                crq, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn));
        }
        if (ret >= 0) {
            ret = gnutls_x509_crq_set_subject_alt_name(crq, GNUTLS_SAN_DNSNAME,
                                                       cn, (unsigned)strlen(cn),
                                                       GNUTLS_FSAN_SET);
        }
        if (ret >= 0) {
            ret = gnutls_x509_crq_set_key(crq, key);
        }
        if (ret >= 0) {
            ret = gnutls_x509_crq_sign2(crq, key, GNUTLS_DIG_SHA256, 0);
        }
        if (ret >= 0) {
            ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM, &pem);
        }
        if (ret < 0) {
            die("csr pool", gnutls_strerror(ret));
        }
        if (fmt == CSR_PEM) {
            cfg->bodies[i] = xstrndup((const char *)pem.data, pem.size);
        } else {
            char *text = xstrndup((const char *)pem.data, pem.size);

            cfg->bodies[i] = json_wrap(
                fmt == CSR_CFSSL_JSON ? "certificate_request" : "csr", text);
            free(text);
        }
        cfg->body_lens[i] = strlen(cfg->bodies[i]);
        gnutls_free(pem.data);
        gnutls_x509_crq_deinit(crq);
        gnutls_x509_privkey_deinit(key);
    }
}

_Noreturn static void
usage(void)
{
    fprintf(
        stderr,
        "usage: loadgen --url URL [--method M] [--header 'K: V']...\n"
        "         [--body-file F | --csr-pool K [--csr-format "
        "pem|warden-json|cfssl-json]\n"
        "          | --ocsp-cert F --ocsp-issuer F]\n"
        "         [--content-type T] [--cacert F] [--cert F --key F]\n"
        "         [--clients C] [--duration S] [--no-keepalive] [--resume]\n"
        "         [--priority GNUTLS-PRIORITY]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "url", required_argument, NULL, 'u' },
        { "method", required_argument, NULL, 'X' },
        { "header", required_argument, NULL, 'H' },
        { "body-file", required_argument, NULL, 'b' },
        { "content-type", required_argument, NULL, 'T' },
        { "csr-pool", required_argument, NULL, 'k' },
        { "csr-format", required_argument, NULL, 'f' },
        { "ocsp-cert", required_argument, NULL, 'o' },
        { "ocsp-issuer", required_argument, NULL, 'i' },
        { "cacert", required_argument, NULL, 'A' },
        { "cert", required_argument, NULL, 'C' },
        { "key", required_argument, NULL, 'K' },
        { "clients", required_argument, NULL, 'c' },
        { "duration", required_argument, NULL, 'd' },
        { "keepalive", no_argument, NULL, 'a' },
        { "no-keepalive", no_argument, NULL, 'n' },
        { "resume", no_argument, NULL, 'r' },
        { "plain-http", no_argument, NULL, 'p' },
        { "priority", required_argument, NULL, 'P' },
        { NULL, 0, NULL, 0 },
    };
    struct cfg cfg = { 0 };
    struct addrinfo hints = { 0 };
    struct client *cl;
    pthread_t *tids;
    const char *url = NULL, *body_file = NULL, *cacert = NULL;
    const char *cert = NULL, *key = NULL, *ocsp_cert = NULL;
    const char *ocsp_issuer = NULL;
    enum csr_format fmt = CSR_PEM;
    uint64_t pool = 0, clients = 1, dur_ms = 10000;
    unsigned i;
    int c, ret;

    cfg.method = "GET";
    cfg.keepalive = true;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'X':
            cfg.method = optarg;
            break;
        case 'H':
            if (cfg.n_headers == MAX_HEADERS) {
                usage();
            }
            cfg.headers[cfg.n_headers++] = optarg;
            break;
        case 'b':
            body_file = optarg;
            break;
        case 'T':
            cfg.content_type = optarg;
            break;
        case 'k':
            if (!wd_parse_u64(optarg, 1, 100000, &pool)) {
                usage();
            }
            break;
        case 'f':
            if (strcmp(optarg, "pem") == 0) {
                fmt = CSR_PEM;
            } else if (strcmp(optarg, "warden-json") == 0) {
                fmt = CSR_WARDEN_JSON;
            } else if (strcmp(optarg, "cfssl-json") == 0) {
                fmt = CSR_CFSSL_JSON;
            } else {
                usage();
            }
            break;
        case 'o':
            ocsp_cert = optarg;
            break;
        case 'i':
            ocsp_issuer = optarg;
            break;
        case 'A':
            cacert = optarg;
            break;
        case 'C':
            cert = optarg;
            break;
        case 'K':
            key = optarg;
            break;
        case 'c':
            if (!wd_parse_u64(optarg, 1, MAX_CLIENTS, &clients)) {
                usage();
            }
            break;
        case 'd': {
            double d = atof(optarg);

            if (d <= 0 || d > 3600) {
                usage();
            }
            dur_ms = (uint64_t)(d * 1000);
            break;
        }
        case 'a':
            cfg.keepalive = true;
            break;
        case 'n':
            cfg.keepalive = false;
            break;
        case 'r':
            cfg.resume = true;
            break;
        case 'p':
            break; /* http:// in --url says it */
        case 'P':
            cfg.priority = optarg;
            break;
        default:
            usage();
        }
    }
    if (url == NULL || (cert == NULL) != (key == NULL) ||
        (ocsp_cert == NULL) != (ocsp_issuer == NULL) ||
        (cfg.resume && cfg.keepalive)) {
        usage();
    }
    url_parse(url, &cfg);
    cfg.clients = (unsigned)clients;
    cfg.duration = (double)dur_ms / 1000.0;
    hints.ai_socktype = SOCK_STREAM;
    ret = getaddrinfo(cfg.host, cfg.port, &hints, &cfg.addr);
    if (ret != 0) {
        die(cfg.host, gai_strerror(ret));
    }
    if (cfg.tls) {
        ret = gnutls_certificate_allocate_credentials(&cfg.creds);
        if (ret >= 0 && cacert != NULL) {
            ret = gnutls_certificate_set_x509_trust_file(cfg.creds, cacert,
                                                         GNUTLS_X509_FMT_PEM);
        }
        if (ret >= 0 && cert != NULL) {
            ret = gnutls_certificate_set_x509_key_file(cfg.creds, cert, key,
                                                       GNUTLS_X509_FMT_PEM);
        }
        if (ret < 0) {
            die("credentials", gnutls_strerror(ret));
        }
        if (cacert == NULL) {
            die("--cacert", "needed for https (the server is verified)");
        }
    }
    if (body_file != NULL) {
        cfg.bodies = xcalloc(1, sizeof(*cfg.bodies));
        cfg.body_lens = xcalloc(1, sizeof(*cfg.body_lens));
        cfg.bodies[0] = file_read(body_file, &cfg.body_lens[0]);
        cfg.n_bodies = 1;
    } else if (pool > 0) {
        csr_pool_make(&cfg, (size_t)pool, fmt);
    } else if (ocsp_cert != NULL) {
        cfg.ocsp_cert = crt_load(ocsp_cert);
        cfg.ocsp_issuer = crt_load(ocsp_issuer);
        if (cfg.content_type == NULL) {
            cfg.content_type = "application/ocsp-request";
        }
    }

    cl = xcalloc(cfg.clients, sizeof(*cl));
    tids = xcalloc(cfg.clients, sizeof(*tids));
    cfg.t_start = now_s();
    for (i = 0; i < cfg.clients; i++) {
        cl[i].cfg = &cfg;
        cl[i].index = i;
        cl[i].fd = -1;
        if (pthread_create(&tids[i], NULL, client_run, &cl[i]) != 0) {
            die("pthread_create", strerror(errno));
        }
    }
    for (i = 0; i < cfg.clients; i++) {
        pthread_join(tids[i], NULL);
    }
    report(cl, cfg.clients);

    for (i = 0; i < cfg.clients; i++) {
        free(cl[i].lat_us);
    }
    free(cl);
    free(tids);
    for (i = 0; i < cfg.n_bodies; i++) {
        free(cfg.bodies[i]);
    }
    free(cfg.bodies);
    free(cfg.body_lens);
    gnutls_x509_crt_deinit(cfg.ocsp_cert);
    gnutls_x509_crt_deinit(cfg.ocsp_issuer);
    if (cfg.creds != NULL) {
        gnutls_certificate_free_credentials(cfg.creds);
    }
    freeaddrinfo(cfg.addr);
    return 0;
}
