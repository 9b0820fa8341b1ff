/*
 * ACME challenge validation (RFC 8555 8): the three checks a worker of the
 * validation pool (srv_acme_pool.c) runs against the client's servers,
 * each one attempt, blocking, bounded by cfg->timeout_s from the first
 * packet to the verdict. http-01 (RFC 8555 8.3) fetches the key
 * authorization over plain HTTP; tls-alpn-01 (RFC 8737) reads the
 * certificate a TLS server presents for ALPN "acme-tls/1"; dns-01 (RFC
 * 8555 8.4) reads the TXT records of _acme-challenge.<name> through
 * libresolv, from the host's resolver or one the config names. IP
 * identifiers follow RFC 8738. Every byte from the client's server is
 * hostile: responses are bounded and parsed strictly, and a failure comes
 * back as an ACME problem (type and one sentence of ours; nothing the
 * peer sent is echoed).
 */
#define _DEFAULT_SOURCE /* resolv.h: res_n* and ns_* are BSD, not POSIX */

#include "srv.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "base/log.h"
#include "base/xmalloc.h"

#define ACME_ERR "urn:ietf:params:acme:error:"

/* A key authorization is under 300 bytes; 8 KiB holds one with any sane
 * set of headers and refuses a server that streams something else. */
#define HTTP_MAX_RESPONSE (8 * 1024)

/* RFC 8555 8.3 says to follow redirects; we follow this many, and only to
 * the same host and port over http (issue #9: no other host). */
#define HTTP_MAX_REDIRECTS 3

/* The longest path we request: the challenge's is under 200 bytes. */
#define HTTP_MAX_PATH 1024

/* A TXT answer fits UDP's 512 bytes or EDNS's 4 KiB; libresolv retries
 * a truncated one over TCP, which could be larger; 16 KiB is no longer a
 * challenge answer. */
#define DNS_MAX_ANSWER (16 * 1024)

/* RFC 8737 3: id-pe-acmeIdentifier, and ALPN's protocol name. */
#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"
#define OID_SAN "2.5.29.17"
#define ALPN_ACME "acme-tls/1"

/* RFC 8737 4: TLS 1.2 or later only. The certificate is not verified
 * and nothing secret crosses the connection, so its keyUsage does not
 * matter: lego's (Go's) challenge certificate has keyEncipherment only,
 * which GnuTLS refuses for a key that signs the handshake unless %COMPAT
 * lets a client ignore the peer's key usage. */
#define TLSALPN_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%COMPAT"

/* What went wrong, as RFC 8555 6.7 names it; each with its status and
 * the wd_err the checks return for it. */
enum kind {
    K_CONNECTION,
    K_DNS,
    K_TLS,
    K_UNAUTHORIZED,
    K_INCORRECT,
    K_INTERNAL,
};

static const struct kind_row {
    const char *type;
    int status;
    enum wd_err err;
} kind_rows[] = {
    [K_CONNECTION] = { ACME_ERR "connection", 400, WD_E_UNAVAILABLE },
    [K_DNS] = { ACME_ERR "dns", 400, WD_E_UNAVAILABLE },
    [K_TLS] = { ACME_ERR "tls", 400, WD_E_UNAVAILABLE },
    [K_UNAUTHORIZED] = { ACME_ERR "unauthorized", 403, WD_E_FORBIDDEN },
    [K_INCORRECT] = { ACME_ERR "incorrectResponse", 403, WD_E_FORBIDDEN },
    [K_INTERNAL] = { ACME_ERR "serverInternal", 500, WD_E_INTERNAL },
};

/* Fill p with kind and the sentence; returns the kind's wd_err. */
static enum wd_err problem(struct srv_acme_problem *p, enum kind k,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum wd_err
problem(struct srv_acme_problem *p, enum kind k, const char *fmt, ...)
{
    va_list ap;

    p->type = kind_rows[k].type;
    p->status = kind_rows[k].status;
    va_start(ap, fmt);
    vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
    va_end(ap);
    return kind_rows[k].err;
}

/* ---- time and sockets ---- */

static void
deadline_set(struct timespec *dl, const struct srv_acme_check_cfg *cfg)
{
    unsigned s =
        cfg->timeout_s > 0 ? cfg->timeout_s : SRV_ACME_DEFAULT_TIMEOUT_S;

    clock_gettime(CLOCK_MONOTONIC, dl);
    dl->tv_sec += (time_t)s;
}

/* Milliseconds until dl, 0 once it passed. */
static int
ms_left(const struct timespec *dl)
{
    struct timespec now;
    int64_t ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = ((int64_t)dl->tv_sec - now.tv_sec) * 1000 +
         (dl->tv_nsec - now.tv_nsec) / 1000000;
    return ms > 0 ? (int)ms : 0;
}

/* True when fd is ready for events before dl. */
static bool
wait_fd(int fd, short events, const struct timespec *dl)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    int n;

    do {
        n = poll(&pfd, 1, ms_left(dl));
    } while (n < 0 && errno == EINTR);
    return n > 0;
}

/* Connect to addr before dl; a non-blocking socket into *fd, or the
 * errno of the failure (ETIMEDOUT once dl passed). */
static int
connect_one(const struct addrinfo *ai, const struct timespec *dl, int *fd)
{
    int s;
    int err = 0;
    socklen_t errlen = sizeof(err);

    s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (s < 0) {
        return errno;
    }
    if (fcntl(s, F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(s, F_SETFL, O_NONBLOCK) != 0) {
        err = errno;
        goto fail;
    }
    if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            err = errno;
            goto fail;
        }
        if (!wait_fd(s, POLLOUT, dl)) {
            err = ETIMEDOUT;
            goto fail;
        }
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0) {
            err = errno;
            goto fail;
        }
        if (err != 0) {
            goto fail;
        }
    }
    *fd = s;
    return 0;
fail:
    close(s);
    return err;
}

/*
 * Connect to host (a DNS name, resolved by the host's resolver, or an IP
 * literal, used as is: RFC 8738 3) on port before dl, trying each address
 * in turn. A non-blocking socket into *fd; a problem otherwise.
 */
static enum wd_err
tcp_connect(const char *host, bool is_ip, unsigned port,
            const struct timespec *dl, int *fd, struct srv_acme_problem *p)
{
    struct addrinfo hints = { 0 };
    struct addrinfo *res = NULL;
    const struct addrinfo *ai;
    char portstr[12];
    int gai;
    int err = ECONNREFUSED;
    enum wd_err rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (is_ip ? AI_NUMERICHOST : 0);
    snprintf(portstr, sizeof(portstr), "%u", port);
    gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        rc = problem(p, K_DNS, "%s could not be resolved: %s", host,
                     gai_strerror(gai));
        goto out;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        err = ms_left(dl) > 0 ? connect_one(ai, dl, fd) : ETIMEDOUT;
        if (err == 0 || err == ETIMEDOUT) {
            break;
        }
    }
    if (err != 0) {
        rc =
            problem(p, K_CONNECTION, "could not connect to %s port %u: %s",
                    host, port, err == ETIMEDOUT ? "timed out" : strerror(err));
        goto out;
    }
    rc = WD_OK;
out:
    if (res != NULL) {
        freeaddrinfo(res);
    }
    return rc;
}

/* ---- what the API hands us ---- */

static bool
b64url_ok(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        char ch = s[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
            return false;
        }
    }
    return true;
}

/*
 * The check as the API made it: a DNS name without "*." or an IP literal
 * of the type it claims, a base64url token and key authorization
 * "token.thumbprint" (RFC 8555 8.1). Anything else is a bug upstream:
 * it must not reach a request line or a DNS query.
 */
static enum wd_err
check_input(const struct api_acme_check *c, struct srv_acme_problem *p)
{
    size_t id_len = strnlen(c->identifier, sizeof(c->identifier));
    size_t tok_len = strnlen(c->token, sizeof(c->token));
    size_t ka_len = strnlen(c->key_auth, sizeof(c->key_auth));
    uint8_t addr[sizeof(struct in6_addr)];
    char q[LOG_QUOTE_BUF];
    bool id_ok;

    if (c->ident_type == STORE_ACME_IDENT_IP) {
        id_ok = id_len < sizeof(c->identifier) &&
                (inet_pton(AF_INET, c->identifier, addr) == 1 ||
                 inet_pton(AF_INET6, c->identifier, addr) == 1);
    } else {
        id_ok = c->ident_type == STORE_ACME_IDENT_DNS &&
                id_len < sizeof(c->identifier) && c->identifier[0] != '*' &&
                pki_name_is_dns(c->identifier, id_len);
    }
    if (!id_ok || tok_len == sizeof(c->token) ||
        tok_len < STORE_ACME_TOKEN_MIN || !b64url_ok(c->token, tok_len) ||
        ka_len == sizeof(c->key_auth) ||
        ka_len != tok_len + 1 + STORE_ACME_THUMBPRINT_LEN ||
        memcmp(c->key_auth, c->token, tok_len) != 0 ||
        c->key_auth[tok_len] != '.' ||
        !b64url_ok(c->key_auth + tok_len + 1, STORE_ACME_THUMBPRINT_LEN)) {
        log_err("event=acme_check_malformed challenge=%s reason=\"not what "
                "the API makes\"",
                log_quote(c->cid, strnlen(c->cid, sizeof(c->cid)), q));
        return problem(p, K_INTERNAL, "the challenge could not be checked");
    }
    return WD_OK;
}

/* Case-insensitive ASCII comparison of len bytes (NULs compared too). */
static bool
ascii_case_eq(const char *a, const char *b, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char x = (unsigned char)a[i];
        unsigned char y = (unsigned char)b[i];

        if (x >= 'A' && x <= 'Z') {
            x = (unsigned char)(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = (unsigned char)(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

static unsigned
port_or(unsigned port, unsigned dflt)
{
    return port > 0 ? port : dflt;
}

/* ---- http-01, RFC 8555 8.3 ---- */

enum parse { PARSE_MORE, PARSE_DONE, PARSE_BAD };

/* An HTTP response as far as http-01 needs it. */
struct http_resp {
    int status;
    size_t head_len;                  /* status line and headers, CRLFCRLF */
    char location[HTTP_MAX_PATH + 1]; /* "" if none */
    bool has_length;
    size_t length;  /* Content-Length */
    bool too_large; /* a Content-Length over HTTP_MAX_RESPONSE */
    bool chunked;
    char body[HTTP_MAX_RESPONSE]; /* decoded */
    size_t body_len;
};

/* RFC 9110 5.6.2 tchar. */
static bool
is_tchar(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* RFC 9110 5.5: field-value bytes are VCHAR, SP, HTAB or obs-text. */
static bool
is_field_byte(unsigned char ch)
{
    return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/* Decimal digits only, at most max; the value into *v. */
static bool
parse_dec(const char *s, size_t len, size_t max, size_t *v)
{
    size_t i;
    size_t n = 0;

    if (len == 0) {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        n = n * 10 + (size_t)(s[i] - '0');
        if (n > max) {
            return false;
        }
    }
    *v = n;
    return true;
}

/* One header field of the response; false for a malformed or a repeated
 * one that framing or redirects depend on. */
static bool
parse_field(struct http_resp *r, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    size_t name_len;
    const char *v;
    size_t v_len;
    size_t i;

    if (colon == NULL || colon == line) {
        return false;
    }
    name_len = (size_t)(colon - line);
    for (i = 0; i < name_len; i++) {
        /* RFC 9112 5.1: no whitespace before the colon */
        if (!is_tchar((unsigned char)line[i])) {
            return false;
        }
    }
    v = colon + 1;
    v_len = len - name_len - 1;
    for (i = 0; i < v_len; i++) {
        if (!is_field_byte((unsigned char)v[i])) {
            return false;
        }
    }
    while (v_len > 0 && (v[0] == ' ' || v[0] == '\t')) {
        v++;
        v_len--;
    }
    while (v_len > 0 && (v[v_len - 1] == ' ' || v[v_len - 1] == '\t')) {
        v_len--;
    }
    if (name_len == 14 && ascii_case_eq(line, "content-length", 14)) {
        /* RFC 9112 6.3: a repeated or malformed length is an error;
         * a larger one than we read is refused now */
        if (r->has_length || !parse_dec(v, v_len, SIZE_MAX / 16, &r->length)) {
            return false;
        }
        r->too_large = r->length > HTTP_MAX_RESPONSE;
        r->has_length = true;
        return !r->too_large;
    } else if (name_len == 17 && ascii_case_eq(line, "transfer-encoding", 17)) {
        if (r->chunked || v_len != 7 || !ascii_case_eq(v, "chunked", 7)) {
            return false;
        }
        r->chunked = true;
    } else if (name_len == 8 && ascii_case_eq(line, "location", 8)) {
        if (r->location[0] != '\0' || v_len == 0 ||
            v_len >= sizeof(r->location)) {
            return false;
        }
        memcpy(r->location, v, v_len);
        r->location[v_len] = '\0';
    }
    return true;
}

/* The status line and header fields: PARSE_MORE until CRLFCRLF came. */
static enum parse
parse_head(struct http_resp *r, const char *buf, size_t len)
{
    const char *end = NULL;
    const char *line;
    const char *eol;
    size_t i;

    for (i = 0; i + 4 <= len; i++) {
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            end = buf + i + 2; /* after the last field's CRLF */
            break;
        }
    }
    if (end == NULL) {
        return PARSE_MORE;
    }
    r->head_len = (size_t)(end - buf) + 2;
    /* RFC 9112 4: HTTP/1.x SP 3DIGIT SP reason CRLF */
    eol = memchr(buf, '\r', (size_t)(end - buf));
    if ((size_t)(eol - buf) < 12 ||
        (memcmp(buf, "HTTP/1.1 ", 9) != 0 &&
         memcmp(buf, "HTTP/1.0 ", 9) != 0) ||
        buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
        buf[11] < '0' || buf[11] > '9' ||
        ((size_t)(eol - buf) > 12 && buf[12] != ' ')) {
        return PARSE_BAD;
    }
    for (line = buf + 12; line < eol; line++) {
        if (!is_field_byte((unsigned char)*line)) {
            return PARSE_BAD;
        }
    }
    r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (r->status < 200) {
        return PARSE_BAD; /* we sent no Expect: an interim answer is odd */
    }
    for (line = eol + 2; line < end; line = eol + 2) {
        eol = memchr(line, '\r', (size_t)(end - line));
        /* a bare CR or LF, or obs-fold (RFC 9112 5.2), is refused */
        if (eol == NULL || eol[1] != '\n' || line[0] == ' ' ||
            line[0] == '\t' ||
            memchr(line, '\n', (size_t)(eol - line)) != NULL ||
            !parse_field(r, line, (size_t)(eol - line))) {
            return PARSE_BAD;
        }
    }
    if (r->chunked && r->has_length) {
        return PARSE_BAD; /* RFC 9112 6.3: a smuggling sign */
    }
    return PARSE_DONE;
}

/* RFC 9112 7.1: decode a chunked body from buf into r->body. */
static enum parse
parse_chunked(struct http_resp *r, const char *buf, size_t len)
{
    size_t pos = 0;
    size_t size;
    const char *eol;

    r->body_len = 0;
    for (;;) {
        eol = memchr(buf + pos, '\r', len - pos);
        if (eol == NULL || (size_t)(eol - buf) + 1 >= len) {
            return PARSE_MORE;
        }
        if (eol[1] != '\n') {
            return PARSE_BAD;
        }
        size = 0;
        if (!isxdigit((unsigned char)buf[pos])) {
            return PARSE_BAD;
        }
        for (; pos < (size_t)(eol - buf) && isxdigit((unsigned char)buf[pos]);
             pos++) {
            char ch = buf[pos];

            size = size * 16 + (size_t)(ch <= '9'   ? ch - '0'
                                        : ch <= 'F' ? ch - 'A' + 10
                                                    : ch - 'a' + 10);
            if (size > HTTP_MAX_RESPONSE) {
                return PARSE_BAD;
            }
        }
        if (pos < (size_t)(eol - buf) && buf[pos] != ';') {
            return PARSE_BAD; /* only a chunk-ext may follow the size */
        }
        pos = (size_t)(eol - buf) + 2;
        if (size == 0) {
            break;
        }
        if (len - pos < size + 2) {
            return PARSE_MORE;
        }
        if (memcmp(buf + pos + size, "\r\n", 2) != 0 ||
            r->body_len + size > sizeof(r->body)) {
            return PARSE_BAD;
        }
        memcpy(r->body + r->body_len, buf + pos, size);
        r->body_len += size;
        pos += size + 2;
    }
    /* trailer fields, ignored, up to the empty line */
    for (;;) {
        eol = memchr(buf + pos, '\r', len - pos);
        if (eol == NULL || (size_t)(eol - buf) + 1 >= len) {
            return PARSE_MORE;
        }
        if (eol[1] != '\n') {
            return PARSE_BAD;
        }
        if (eol == buf + pos) {
            return PARSE_DONE;
        }
        pos = (size_t)(eol - buf) + 2;
    }
}

/* What was read so far, parsed: is the response complete? */
static enum parse
parse_resp(struct http_resp *r, const char *buf, size_t len, bool eof)
{
    enum parse ps;

    memset(r, 0, offsetof(struct http_resp, body));
    ps = parse_head(r, buf, len);
    if (ps != PARSE_DONE) {
        return ps == PARSE_MORE && eof ? PARSE_BAD : ps;
    }
    if (r->status != 200) {
        return PARSE_DONE; /* only a 200's body matters */
    }
    buf += r->head_len;
    len -= r->head_len;
    if (r->chunked) {
        ps = parse_chunked(r, buf, len);
        return ps == PARSE_MORE && eof ? PARSE_BAD : ps;
    }
    if (r->has_length) {
        if (len < r->length) {
            return eof ? PARSE_BAD : PARSE_MORE;
        }
        len = r->length; /* what follows is not ours to read */
    } else if (!eof) {
        return PARSE_MORE; /* delimited by the close (RFC 9112 6.3) */
    }
    memcpy(r->body, buf, len);
    r->body_len = len;
    return PARSE_DONE;
}

/* Send all len bytes of buf before dl. */
static bool
send_all(int fd, const char *buf, size_t len, const struct timespec *dl)
{
    ssize_t n;

    while (len > 0) {
        n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
                wait_fd(fd, POLLOUT, dl)) {
                continue;
            }
            return false;
        }
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/*
 * One GET of path from host:port (host_hdr as the Host field), the
 * response into *r, all before dl. A problem for no connection, a
 * timeout, a malformed response or one over HTTP_MAX_RESPONSE bytes.
 */
static enum wd_err
http_get(const struct api_acme_check *c, unsigned port, const char *host_hdr,
         const char *path, const struct timespec *dl, struct http_resp *r,
         struct srv_acme_problem *p)
{
    char *buf = xmalloc(HTTP_MAX_RESPONSE + 1);
    char req[HTTP_MAX_PATH + 512];
    size_t len = 0;
    int fd = -1;
    int n;
    ssize_t got;
    enum parse ps = PARSE_MORE;
    enum wd_err rc;

    rc = tcp_connect(c->identifier, c->ident_type == STORE_ACME_IDENT_IP, port,
                     dl, &fd, p);
    if (rc != WD_OK) {
        goto out;
    }
    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: %s\r\n"
                 "User-Agent: Warden-ACME/" WARDEN_VERSION "\r\n"
                 "Accept: */*\r\nConnection: close\r\n\r\n",
                 path, host_hdr);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        rc = problem(p, K_INTERNAL, "the challenge could not be checked");
        goto out;
    }
    if (!send_all(fd, req, (size_t)n, dl)) {
        rc = problem(p, K_CONNECTION,
                     "http-01: sending the request to %s port %u failed",
                     c->identifier, port);
        goto out;
    }
    while (ps == PARSE_MORE) {
        /* one byte over the limit tells "too large" from "just fits" */
        got = recv(fd, buf + len, HTTP_MAX_RESPONSE + 1 - len, 0);
        if (got < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (!wait_fd(fd, POLLIN, dl)) {
                rc = problem(p, K_CONNECTION,
                             "http-01: %s port %u did not answer in time",
                             c->identifier, port);
                goto out;
            }
            continue;
        }
        if (got < 0) {
            rc = problem(p, K_CONNECTION,
                         "http-01: %s port %u reset the connection",
                         c->identifier, port);
            goto out;
        }
        len += (size_t)got;
        if (len > HTTP_MAX_RESPONSE) {
            rc = problem(p, K_INCORRECT,
                         "http-01: the response from %s is over %d bytes",
                         c->identifier, HTTP_MAX_RESPONSE);
            goto out;
        }
        ps = parse_resp(r, buf, len, got == 0);
    }
    if (ps == PARSE_BAD && r->too_large) {
        rc = problem(p, K_INCORRECT,
                     "http-01: the response from %s is over %d bytes",
                     c->identifier, HTTP_MAX_RESPONSE);
        goto out;
    }
    if (ps == PARSE_BAD) {
        rc = problem(p, K_INCORRECT,
                     "http-01: %s sent a malformed HTTP response",
                     c->identifier);
        goto out;
    }
    rc = WD_OK;
out:
    if (fd >= 0) {
        close(fd);
    }
    free(buf);
    return rc;
}

/*
 * A redirect's Location, followed only on the same host and port over
 * plain http: "/path" or "http://host[:port]/path" with host as
 * host_form (the Host we sent, without the port). The path into path.
 */
static enum wd_err
redirect_path(const struct http_resp *r, const char *host_form, unsigned port,
              char *path, size_t pathsz, struct srv_acme_problem *p)
{
    const char *loc = r->location;
    const char *rest;
    size_t host_len = strlen(host_form);
    size_t auth_len;
    size_t loc_port = 80; /* http:// without a port */
    size_t i;
    size_t plen;

    if (loc[0] == '/' && loc[1] != '/') {
        rest = loc;
    } else if (strncasecmp(loc, "http://", 7) == 0) {
        rest = loc + 7;
        auth_len = strcspn(rest, "/?#");
        /* host, then nothing or ":port": userinfo or another host fail */
        if (auth_len < host_len || !ascii_case_eq(rest, host_form, host_len) ||
            (auth_len > host_len &&
             (rest[host_len] != ':' ||
              !parse_dec(rest + host_len + 1, auth_len - host_len - 1, 65535,
                         &loc_port))) ||
            loc_port != port) {
            return problem(p, K_UNAUTHORIZED,
                           "http-01: a redirect to another host or port is "
                           "not followed (only %s port %u)",
                           host_form, port);
        }
        rest += auth_len;
        if (*rest == '\0') {
            rest = "/";
        } else if (*rest != '/') {
            return problem(p, K_INCORRECT,
                           "http-01: the redirect's Location is malformed");
        }
    } else if (strncasecmp(loc, "https://", 8) == 0) {
        return problem(p, K_UNAUTHORIZED,
                       "http-01: a redirect to https is not followed: only "
                       "redirects to the same host over http are");
    } else {
        return problem(p, K_UNAUTHORIZED,
                       "http-01: a redirect to a relative reference or "
                       "another scheme is not followed");
    }
    plen = strcspn(rest, "#"); /* a fragment is never sent */
    for (i = 0; i < plen; i++) {
        if (rest[i] <= 0x20 || rest[i] > 0x7e) {
            return problem(p, K_INCORRECT,
                           "http-01: the redirect's Location is malformed");
        }
    }
    if (plen >= pathsz) {
        return problem(p, K_INCORRECT,
                       "http-01: the redirect's Location is too long");
    }
    memcpy(path, rest, plen);
    path[plen] = '\0';
    return WD_OK;
}

static bool
is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 ||
           status == 308;
}

/*
 * RFC 8555 8.3: GET http://<identifier>/.well-known/acme-challenge/<token>
 * on cfg->http01_port; a 200 whose body, trailing whitespace aside, is
 * the key authorization. Redirects: at most HTTP_MAX_REDIRECTS, on the
 * same host and port over http; others are refused (issue #9).
 */
enum wd_err
srv_acme_http01_check(const struct srv_acme_check_cfg *cfg,
                      const struct api_acme_check *c,
                      struct srv_acme_problem *p)
{
    unsigned port = port_or(cfg->http01_port, SRV_ACME_DEFAULT_HTTP01_PORT);
    struct http_resp *r = xcalloc(1, sizeof(*r));
    struct timespec dl;
    char host_form[sizeof(c->identifier) + 2];
    char host_hdr[sizeof(host_form) + 12];
    char path[HTTP_MAX_PATH + 1];
    const char *body;
    size_t body_len;
    unsigned hops;
    enum wd_err rc;

    rc = check_input(c, p);
    if (rc != WD_OK) {
        goto out;
    }
    deadline_set(&dl, cfg);
    /* RFC 8738 3 and RFC 3986 3.2.2: an IPv6 literal in brackets */
    snprintf(host_form, sizeof(host_form),
             strchr(c->identifier, ':') != NULL ? "[%s]" : "%s", c->identifier);
    if (port == 80) {
        snprintf(host_hdr, sizeof(host_hdr), "%s", host_form);
    } else {
        snprintf(host_hdr, sizeof(host_hdr), "%s:%u", host_form, port);
    }
    snprintf(path, sizeof(path), "/.well-known/acme-challenge/%s", c->token);
    for (hops = 0;; hops++) {
        rc = http_get(c, port, host_hdr, path, &dl, r, p);
        if (rc != WD_OK) {
            goto out;
        }
        if (!is_redirect(r->status)) {
            break;
        }
        if (hops == HTTP_MAX_REDIRECTS) {
            rc = problem(p, K_UNAUTHORIZED, "http-01: more than %d redirects",
                         HTTP_MAX_REDIRECTS);
            goto out;
        }
        if (r->location[0] == '\0') {
            rc =
                problem(p, K_INCORRECT,
                        "http-01: a %d redirect without a Location", r->status);
            goto out;
        }
        rc = redirect_path(r, host_form, port, path, sizeof(path), p);
        if (rc != WD_OK) {
            goto out;
        }
    }
    if (r->status != 200) {
        rc = problem(p, K_UNAUTHORIZED,
                     "http-01: %s port %u answered %d to the challenge URL",
                     c->identifier, port, r->status);
        goto out;
    }
    body = r->body;
    body_len = r->body_len;
    /* RFC 8555 8.3: trailing whitespace is ignored */
    while (body_len > 0 &&
           (body[body_len - 1] == ' ' || body[body_len - 1] == '\t' ||
            body[body_len - 1] == '\r' || body[body_len - 1] == '\n')) {
        body_len--;
    }
    if (body_len != strlen(c->key_auth) ||
        memcmp(body, c->key_auth, body_len) != 0) {
        rc = problem(p, K_INCORRECT,
                     "http-01: the body served by %s is not the key "
                     "authorization",
                     c->identifier);
        goto out;
    }
    rc = WD_OK;
out:
    free(r);
    return rc;
}

/* ---- tls-alpn-01, RFC 8737 ---- */

/* RFC 8738 6: an IP's SNI is its reverse-mapping name. */
static void
sni_name(const struct api_acme_check *c, char *out, size_t outsz)
{
    uint8_t a[16];
    size_t pos = 0;
    int i;

    if (c->ident_type != STORE_ACME_IDENT_IP) {
        snprintf(out, outsz, "%s", c->identifier);
    } else if (inet_pton(AF_INET, c->identifier, a) == 1) {
        snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
                 a[0]);
    } else {
        inet_pton(AF_INET6, c->identifier, a);
        for (i = 15; i >= 0; i--) {
            pos += (size_t)snprintf(out + pos, outsz - pos, "%x.%x.",
                                    a[i] & 0x0f, a[i] >> 4);
        }
        snprintf(out + pos, outsz - pos, "ip6.arpa");
    }
}

/* The handshake, driven over the non-blocking socket until dl. */
static int
handshake(gnutls_session_t s, int fd, const struct timespec *dl)
{
    int ret;

    do {
        ret = gnutls_handshake(s);
        if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
            if (!wait_fd(fd, gnutls_record_get_direction(s) ? POLLOUT : POLLIN,
                         dl)) {
                return GNUTLS_E_TIMEDOUT;
            }
        } else if (ret < 0 && ms_left(dl) == 0) {
            return GNUTLS_E_TIMEDOUT;
        }
    } while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
    return ret;
}

/*
 * RFC 8737 3: the one certificate holds exactly one SAN extension with
 * exactly one name, the identifier (a dNSName, or an iPAddress: RFC 8738
 * 6), and a critical id-pe-acmeIdentifier whose value is the DER OCTET
 * STRING of SHA-256(key authorization).
 */
static enum wd_err
check_cert(const struct api_acme_check *c, const gnutls_datum_t *der,
           struct srv_acme_problem *p)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t ext = { NULL, 0 };
    uint8_t want[2 + 32] = { 0x04, 0x20 };
    uint8_t ip[16];
    size_t ip_len = 0;
    char oid[128];
    size_t oid_len;
    char san[sizeof(c->identifier) + 1];
    size_t san_len;
    unsigned critical;
    unsigned n_san = 0;
    unsigned n_acme = 0;
    unsigned i;
    int ret;
    enum wd_err rc;

    if (gnutls_x509_crt_init(&crt) < 0) {
        rc = problem(p, K_INTERNAL, "the challenge could not be checked");
        goto out;
    }
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0) {
        rc = problem(p, K_UNAUTHORIZED,
                     "tls-alpn-01: the certificate presented is malformed");
        goto out;
    }
    for (i = 0;; i++) {
        oid_len = sizeof(oid);
        ret = gnutls_x509_crt_get_extension_info(crt, i, oid, &oid_len,
                                                 &critical);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (ret < 0) {
            rc = problem(p, K_UNAUTHORIZED,
                         "tls-alpn-01: the certificate's extensions are "
                         "malformed");
            goto out;
        }
        n_san += strcmp(oid, OID_SAN) == 0;
        n_acme += strcmp(oid, OID_ACME_IDENTIFIER) == 0;
    }
    if (n_san != 1 || n_acme != 1) {
        rc = problem(p, K_UNAUTHORIZED,
                     "tls-alpn-01: the certificate must hold one "
                     "subjectAltName and one acmeIdentifier extension "
                     "(RFC 8737 3)");
        goto out;
    }
    if (c->ident_type == STORE_ACME_IDENT_IP) {
        ip_len = inet_pton(AF_INET, c->identifier, ip) == 1 ? 4 : 16;
        if (ip_len == 16) {
            inet_pton(AF_INET6, c->identifier, ip);
        }
    }
    for (i = 0;; i++) {
        san_len = sizeof(san);
        ret = gnutls_x509_crt_get_subject_alt_name(crt, i, san, &san_len, NULL);
        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (i > 0 ||
            (ret == GNUTLS_SAN_DNSNAME &&
             (c->ident_type != STORE_ACME_IDENT_DNS ||
              san_len != strlen(c->identifier) ||
              !ascii_case_eq(san, c->identifier, san_len))) ||
            (ret == GNUTLS_SAN_IPADDRESS &&
             (c->ident_type != STORE_ACME_IDENT_IP || san_len != ip_len ||
              memcmp(san, ip, ip_len) != 0)) ||
            (ret != GNUTLS_SAN_DNSNAME && ret != GNUTLS_SAN_IPADDRESS)) {
            rc = problem(p, K_UNAUTHORIZED,
                         "tls-alpn-01: the certificate's subjectAltName "
                         "must be %s and nothing else (RFC 8737 3)",
                         c->identifier);
            goto out;
        }
    }
    if (i == 0) {
        rc = problem(p, K_UNAUTHORIZED,
                     "tls-alpn-01: the certificate names no identifier");
        goto out;
    }
    ret = gnutls_x509_crt_get_extension_by_oid2(crt, OID_ACME_IDENTIFIER, 0,
                                                &ext, &critical);
    if (ret < 0) {
        rc = problem(p, K_UNAUTHORIZED,
                     "tls-alpn-01: the acmeIdentifier extension is "
                     "unreadable");
        goto out;
    }
    if (!critical) {
        rc = problem(p, K_UNAUTHORIZED,
                     "tls-alpn-01: the acmeIdentifier extension must be "
                     "critical (RFC 8737 3)");
        goto out;
    }
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, c->key_auth, strlen(c->key_auth),
                         want + 2) < 0) {
        rc = problem(p, K_INTERNAL, "the challenge could not be checked");
        goto out;
    }
    /* Authorization ::= OCTET STRING (SIZE (32)), DER: 04 20 + digest */
    if (ext.size != sizeof(want) || memcmp(ext.data, want, sizeof(want)) != 0) {
        rc = problem(p, K_INCORRECT,
                     "tls-alpn-01: the acmeIdentifier extension does not "
                     "hold the SHA-256 of the key authorization");
        goto out;
    }
    rc = WD_OK;
out:
    gnutls_free(ext.data);
    if (crt != NULL) {
        gnutls_x509_crt_deinit(crt);
    }
    return rc;
}

/*
 * RFC 8737 3: a TLS handshake with <identifier>:cfg->tlsalpn01_port
 * offering only ALPN "acme-tls/1", SNI the identifier (RFC 8738 6 for an
 * IP), which the server must select; its one certificate, not verified
 * against anything, must carry the key authorization's digest.
 */
enum wd_err
srv_acme_tlsalpn01_check(const struct srv_acme_check_cfg *cfg,
                         const struct api_acme_check *c,
                         struct srv_acme_problem *p)
{
    unsigned port =
        port_or(cfg->tlsalpn01_port, SRV_ACME_DEFAULT_TLSALPN01_PORT);
    gnutls_certificate_credentials_t cred = NULL;
    gnutls_session_t s = NULL;
    gnutls_datum_t proto = { (unsigned char *)ALPN_ACME, 10 };
    gnutls_datum_t sel = { NULL, 0 };
    const gnutls_datum_t *certs;
    unsigned n_certs = 0;
    struct timespec dl;
    char sni[sizeof(c->identifier) + 16];
    int fd = -1;
    int ret;
    enum wd_err rc;

    rc = check_input(c, p);
    if (rc != WD_OK) {
        goto out;
    }
    deadline_set(&dl, cfg);
    sni_name(c, sni, sizeof(sni));
    rc = tcp_connect(c->identifier, c->ident_type == STORE_ACME_IDENT_IP, port,
                     &dl, &fd, p);
    if (rc != WD_OK) {
        goto out;
    }
    if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
        gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0 ||
        gnutls_priority_set_direct(s, TLSALPN_PRIORITIES, NULL) < 0 ||
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
        gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni)) < 0 ||
        gnutls_alpn_set_protocols(s, &proto, 1, 0) < 0) {
        log_err("event=acme_check_failed type=tls-alpn-01 "
                "reason=\"GnuTLS session setup\"");
        rc = problem(p, K_INTERNAL, "the challenge could not be checked");
        goto out;
    }
    gnutls_transport_set_int(s, fd);
    ret = handshake(s, fd, &dl);
    if (ret < 0) {
        rc = problem(p, ret == GNUTLS_E_TIMEDOUT ? K_CONNECTION : K_TLS,
                     "tls-alpn-01: the TLS handshake with %s port %u "
                     "failed: %s",
                     c->identifier, port, gnutls_strerror(ret));
        goto out;
    }
    if (gnutls_alpn_get_selected_protocol(s, &sel) < 0 ||
        sel.size != proto.size || memcmp(sel.data, proto.data, sel.size) != 0) {
        rc = problem(p, K_TLS,
                     "tls-alpn-01: %s port %u did not select ALPN "
                     "\"acme-tls/1\" (RFC 8737 3)",
                     c->identifier, port);
        goto out;
    }
    certs = gnutls_certificate_type_get(s) == GNUTLS_CRT_X509
                ? gnutls_certificate_get_peers(s, &n_certs)
                : NULL;
    if (certs == NULL || n_certs != 1) {
        rc = problem(p, K_UNAUTHORIZED,
                     "tls-alpn-01: %s port %u must present exactly one "
                     "certificate (RFC 8737 3)",
                     c->identifier, port);
        goto out;
    }
    rc = check_cert(c, &certs[0], p);
out:
    if (s != NULL) {
        gnutls_deinit(s);
    }
    if (cred != NULL) {
        gnutls_certificate_free_credentials(cred);
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/* ---- dns-01, RFC 8555 8.4 ---- */

/* "a.b.c.d" or "a.b.c.d:port" into *sin. */
static bool
resolver_parse(const char *text, struct sockaddr_in *sin)
{
    char host[INET_ADDRSTRLEN];
    const char *colon = strchr(text, ':');
    size_t host_len = colon != NULL ? (size_t)(colon - text) : strlen(text);
    size_t port = 53;

    if (host_len == 0 || host_len >= sizeof(host) ||
        (colon != NULL &&
         !parse_dec(colon + 1, strlen(colon + 1), 65535, &port)) ||
        port == 0) {
        return false;
    }
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sin->sin_addr) == 1;
}

/*
 * Settings that could never work: WD_E_CONFIG (logged) for a port above
 * 65535 or a dns_resolver that is not "IPv4[:port]"; WD_OK otherwise.
 */
enum wd_err
srv_acme_check_cfg_validate(const struct srv_acme_check_cfg *cfg)
{
    struct sockaddr_in sin;
    size_t len = strnlen(cfg->dns_resolver, sizeof(cfg->dns_resolver));

    if (cfg->http01_port > 65535 || cfg->tlsalpn01_port > 65535) {
        log_err("event=config_invalid key=acme.http01_port "
                "reason=\"a challenge port above 65535\"");
        return WD_E_CONFIG;
    }
    if (len == sizeof(cfg->dns_resolver) ||
        (len > 0 && !resolver_parse(cfg->dns_resolver, &sin))) {
        log_err("event=config_invalid key=acme.dns_resolver "
                "reason=\"not IPv4[:port]\"");
        return WD_E_CONFIG;
    }
    return WD_OK;
}

/* Does the TXT record (rdata: character-strings, RFC 1035 3.3.14) hold
 * want? Its strings are joined, as a long value is split into them.
 * -1 for rdata that is not a list of character-strings. */
static int
txt_matches(const uint8_t *rd, size_t rdlen, const char *want)
{
    size_t want_len = strlen(want);
    size_t pos = 0;
    size_t have = 0;
    bool same = true;
    size_t n;

    while (pos < rdlen) {
        n = rd[pos++];
        if (n > rdlen - pos) {
            return -1;
        }
        if (have + n > want_len || memcmp(rd + pos, want + have, n) != 0) {
            same = false;
        } else {
            have += n;
        }
        pos += n;
    }
    return same && have == want_len;
}

/*
 * RFC 8555 8.4: one TXT record of _acme-challenge.<identifier> (a
 * wildcard's name without "*.") must be base64url(SHA-256(key
 * authorization)). Asked of cfg->dns_resolver, or of the host's
 * resolvers; not for IP identifiers (RFC 8738 7).
 */
enum wd_err
srv_acme_dns01_check(const struct srv_acme_check_cfg *cfg,
                     const struct api_acme_check *c, struct srv_acme_problem *p)
{
    unsigned timeout_s =
        cfg->timeout_s > 0 ? cfg->timeout_s : SRV_ACME_DEFAULT_TIMEOUT_S;
    struct __res_state rs;
    bool rs_open = false;
    struct sockaddr_in sin;
    uint8_t digest[32];
    char *want = NULL;
    uint8_t *ans = NULL;
    char qname[sizeof(c->identifier) + 16];
    ns_msg msg;
    ns_rr rr;
    int n;
    int m;
    int i;
    unsigned n_txt = 0;
    enum wd_err rc;

    rc = check_input(c, p);
    if (rc != WD_OK) {
        goto out;
    }
    if (c->ident_type != STORE_ACME_IDENT_DNS) {
        log_err("event=acme_check_malformed challenge=%s reason=\"dns-01 for "
                "an IP (RFC 8738 7)\"",
                c->cid);
        rc = problem(p, K_INTERNAL, "the challenge could not be checked");
        goto out;
    }
    snprintf(qname, sizeof(qname), "_acme-challenge.%s", c->identifier);
    if (strlen(qname) > WD_MAX_DNS_NAME) {
        rc = problem(p, K_DNS,
                     "dns-01: _acme-challenge.%.200s... is longer "
                     "than a DNS name may be",
                     c->identifier);
        goto out;
    }
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, c->key_auth, strlen(c->key_auth),
                         digest) < 0) {
        rc = problem(p, K_INTERNAL, "the challenge could not be checked");
        goto out;
    }
    want = pki_b64url_encode(digest, sizeof(digest));
    memset(&rs, 0, sizeof(rs));
    if (res_ninit(&rs) != 0) {
        log_err("event=acme_check_failed type=dns-01 reason=\"res_ninit\"");
        rc = problem(p, K_INTERNAL, "the challenge could not be checked");
        goto out;
    }
    rs_open = true;
    if (cfg->dns_resolver[0] != '\0') {
        if (!resolver_parse(cfg->dns_resolver, &sin)) {
            log_err("event=config_invalid key=acme.dns_resolver "
                    "reason=\"not IPv4[:port]\"");
            rc = problem(p, K_INTERNAL, "the challenge could not be checked");
            goto out;
        }
        rs.nsaddr_list[0] = sin;
        rs.nscount = 1;
    }
    /* each server is tried twice, half the budget each time */
    rs.retrans = timeout_s / 2 > 0 ? (int)(timeout_s / 2) : 1;
    rs.retry = 2;
    ans = xmalloc(DNS_MAX_ANSWER);
    n = res_nquery(&rs, qname, ns_c_in, ns_t_txt, ans, DNS_MAX_ANSWER);
    if (n < 0) {
        if (rs.res_h_errno == HOST_NOT_FOUND || rs.res_h_errno == NO_DATA) {
            rc = problem(p, K_UNAUTHORIZED, "dns-01: no TXT record at %s",
                         qname);
        } else {
            rc = problem(p, K_DNS, "dns-01: the query for TXT %s failed (%s)",
                         qname,
                         rs.res_h_errno == TRY_AGAIN ? "timeout or SERVFAIL"
                                                     : "refused or malformed");
        }
        goto out;
    }
    if (n > DNS_MAX_ANSWER || ns_initparse(ans, n, &msg) < 0) {
        rc = problem(p, K_DNS, "dns-01: the answer for TXT %s is malformed",
                     qname);
        goto out;
    }
    for (i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
            rc = problem(p, K_DNS, "dns-01: the answer for TXT %s is malformed",
                         qname);
            goto out;
        }
        if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in) {
            continue; /* a CNAME on the way */
        }
        n_txt++;
        m = txt_matches(ns_rr_rdata(rr), ns_rr_rdlen(rr), want);
        if (m < 0) {
            rc = problem(p, K_DNS, "dns-01: the answer for TXT %s is malformed",
                         qname);
            goto out;
        }
        if (m == 1) {
            rc = WD_OK;
            goto out;
        }
    }
    if (n_txt == 0) {
        rc = problem(p, K_UNAUTHORIZED, "dns-01: no TXT record at %s", qname);
    } else {
        rc = problem(p, K_INCORRECT,
                     "dns-01: none of the %u TXT records at %s is the key "
                     "authorization's digest",
                     n_txt, qname);
    }
out:
    if (rs_open) {
        res_nclose(&rs);
    }
    free(ans);
    free(want);
    return rc;
}

/* The check c->type names: one attempt (see srv.h). */
enum wd_err
srv_acme_check_run(const struct srv_acme_check_cfg *cfg,
                   const struct api_acme_check *c, struct srv_acme_problem *p)
{
    switch (c->type) {
    case STORE_ACME_HTTP_01:
        return srv_acme_http01_check(cfg, c, p);
    case STORE_ACME_TLS_ALPN_01:
        return srv_acme_tlsalpn01_check(cfg, c, p);
    case STORE_ACME_DNS_01:
        return srv_acme_dns01_check(cfg, c, p);
    }
    log_err("event=acme_check_malformed challenge=%s reason=\"unknown "
            "challenge type %d\"",
            c->cid, (int)c->type);
    return problem(p, K_INTERNAL, "the challenge could not be checked");
}
