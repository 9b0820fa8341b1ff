/*
 * Unit tests of ACME challenge validation: the three checks of
 * server/srv_acme_check.c against real servers on loopback ports (an
 * HTTP responder and a GnuTLS acme-tls/1 server, each a thread of this
 * test, and dnsmasq for dns-01, skipped with a message where it is not
 * installed: tests/packages.txt lists dnsmasq-base), and the pool of
 * server/srv_acme_pool.c, which they share a responder with, recording
 * outcomes in a real store on a temporary file.
 */
#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../server/srv.h"

#define TOKEN "tok0123456789abcdefghij-_KLMNOP"
#define THUMBPRINT "TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT"
#define KEY_AUTH TOKEN "." THUMBPRINT
#define CHALLENGE_PATH "/.well-known/acme-challenge/" TOKEN

#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"
#define DNSMASQ "/usr/sbin/dnsmasq"

/* A test waits this long at most for something that takes milliseconds. */
#define WAIT_MS 15000

extern char **environ;

/* ---- clocks and sockets ---- */

static int64_t
now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };

    nanosleep(&t, NULL);
}

/* A socket of type bound to 127.0.0.1 on a free port, into *port. */
static int
loopback_socket(int type, unsigned *port)
{
    struct sockaddr_in sin = { 0 };
    socklen_t len = sizeof(sin);
    int one = 1;
    int fd = socket(AF_INET, type, 0);

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

/* A loopback port nothing listens on (bound, then closed). */
static unsigned
dead_port(int type)
{
    unsigned port;

    close(loopback_socket(type, &port));
    return port;
}

/* ---- a small server thread: accepts until stopped ---- */

struct server;
typedef void server_fn(struct server *s, int fd);

struct server {
    int lfd;
    unsigned port;
    pthread_t th;
    atomic_bool stop;
    server_fn *serve;
    /* http */
    struct route {
        char path[128];
        char *resp;
        size_t len;
    } routes[4];
    size_t n_routes;
    bool silent; /* read the request, never answer */
    /* tls */
    gnutls_certificate_credentials_t cred;
    bool alpn;
    /* what the last client sent, for the asserts */
    pthread_mutex_t mu;
    char last_request[1024];
    char hello[2048]; /* the start of the last ClientHello */
    size_t hello_len;
    unsigned conns;
};

static void *
server_loop(void *arg)
{
    struct server *s = arg;
    struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
    struct timeval tv = { 2, 0 };
    int fd;

    while (!atomic_load(&s->stop)) {
        if (poll(&pfd, 1, 20) <= 0) {
            continue;
        }
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        pthread_mutex_lock(&s->mu);
        s->conns++;
        pthread_mutex_unlock(&s->mu);
        s->serve(s, fd);
        close(fd);
    }
    return NULL;
}

/* Listen on a loopback port (s->port), not serving yet. */
static void
server_listen(struct server *s)
{
    s->lfd = loopback_socket(SOCK_STREAM, &s->port);
    assert_int_equal(listen(s->lfd, 16), 0);
    atomic_store(&s->stop, false);
    pthread_mutex_init(&s->mu, NULL);
}

/* Serve each connection with serve, on a thread, until server_stop. */
static void
server_run(struct server *s, server_fn *serve)
{
    s->serve = serve;
    assert_int_equal(pthread_create(&s->th, NULL, server_loop, s), 0);
}

static void
server_start(struct server *s, server_fn *serve)
{
    server_listen(s);
    server_run(s, serve);
}

static void
server_stop(struct server *s)
{
    size_t i;

    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    close(s->lfd);
    pthread_mutex_destroy(&s->mu);
    for (i = 0; i < s->n_routes; i++) {
        free(s->routes[i].resp);
    }
    if (s->cred != NULL) {
        gnutls_certificate_free_credentials(s->cred);
    }
    memset(s, 0, sizeof(*s));
}

/* ---- the HTTP responder ---- */

/* Answer path with the raw response resp (len bytes; -1 = strlen). */
static void
http_route(struct server *s, const char *path, const char *resp, long len)
{
    struct route *r = &s->routes[s->n_routes++];

    assert_true(s->n_routes <= 4);
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->len = len < 0 ? strlen(resp) : (size_t)len;
    r->resp = malloc(r->len + 1);
    assert_non_null(r->resp);
    memcpy(r->resp, resp, r->len);
}

/* Answer path with 200 and body, with a Content-Length. */
static void
http_route_ok(struct server *s, const char *path, const char *body)
{
    char resp[1024];

    snprintf(resp, sizeof(resp),
             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    http_route(s, path, resp, -1);
}

/* Answer path with a redirect to location. */
static void
http_route_redirect(struct server *s, const char *path, const char *location)
{
    char resp[1024];

    snprintf(resp, sizeof(resp),
             "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
             location);
    http_route(s, path, resp, -1);
}

static void
http_serve(struct server *s, int fd)
{
    static const char not_found[] =
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    char req[1024];
    size_t len = 0;
    ssize_t n;
    char path[256] = "";
    const struct route *r = NULL;
    size_t i;

    while (len < sizeof(req) - 1) {
        n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL) {
            break;
        }
    }
    req[len] = '\0';
    pthread_mutex_lock(&s->mu);
    snprintf(s->last_request, sizeof(s->last_request), "%s", req);
    pthread_mutex_unlock(&s->mu);
    if (s->silent) {
        while (!atomic_load(&s->stop)) {
            sleep_ms(10);
        }
        return;
    }
    sscanf(req, "GET %255s HTTP/1.1", path);
    for (i = 0; i < s->n_routes; i++) {
        if (strcmp(s->routes[i].path, path) == 0) {
            r = &s->routes[i];
        }
    }
    if (r != NULL) {
        send(fd, r->resp, r->len, MSG_NOSIGNAL);
    } else {
        send(fd, not_found, strlen(not_found), MSG_NOSIGNAL);
    }
}

/* ---- the acme-tls/1 server ---- */

static void
tls_serve(struct server *s, int fd)
{
    static const gnutls_datum_t proto = { (unsigned char *)"acme-tls/1", 10 };
    gnutls_session_t g = NULL;
    char hello[2048];
    ssize_t n;
    int ret;

    /* the ClientHello as sent, for the SNI: GnuTLS's server keeps no
     * name it does not like (RFC 8738's reverse names among them) */
    n = recv(fd, hello, sizeof(hello), MSG_PEEK);
    pthread_mutex_lock(&s->mu);
    s->hello_len = n > 0 ? (size_t)n : 0;
    memcpy(s->hello, hello, s->hello_len);
    pthread_mutex_unlock(&s->mu);

    /* no cmocka asserts off the test's thread: a failure here shows as
     * a failed handshake in the test */
    if (gnutls_init(&g, GNUTLS_SERVER) < 0) {
        return;
    }
    /* the server of a lego-like certificate ignores its keyUsage too */
    if (gnutls_priority_set_direct(
            g, "NORMAL:%DEBUG_ALLOW_KEY_USAGE_VIOLATIONS", NULL) < 0 ||
        gnutls_credentials_set(g, GNUTLS_CRD_CERTIFICATE, s->cred) < 0 ||
        (s->alpn && gnutls_alpn_set_protocols(g, &proto, 1, 0) < 0)) {
        gnutls_deinit(g);
        return;
    }
    gnutls_transport_set_int(g, fd);
    gnutls_handshake_set_timeout(g, 2000);
    do {
        ret = gnutls_handshake(g);
    } while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
    if (ret == 0) {
        gnutls_bye(g, GNUTLS_SHUT_WR);
    }
    gnutls_deinit(g);
}

/* ---- fixtures made once ---- */

struct fixtures {
    gnutls_x509_privkey_t key; /* of every tls-alpn-01 certificate */
    char digest_b64[64];       /* base64url(SHA-256(KEY_AUTH)) */
    pid_t dnsmasq;             /* 0 if not running */
    unsigned dns_port;
};

static struct fixtures *fx;

static void
check_init(struct api_acme_check *c, enum store_acme_chall_type type,
           enum store_acme_ident_type ident_type, const char *identifier)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->cid, sizeof(c->cid), "chall-0123456789abcdef");
    c->type = type;
    c->ident_type = ident_type;
    snprintf(c->identifier, sizeof(c->identifier), "%s", identifier);
    snprintf(c->token, sizeof(c->token), "%s", TOKEN);
    snprintf(c->key_auth, sizeof(c->key_auth), "%s", KEY_AUTH);
}

static bool
dnsmasq_start(struct fixtures *f)
{
    char port_arg[32];
    char right[128];
    char split[128];
    char *argv[16];
    posix_spawn_file_actions_t fa;
    struct srv_acme_check_cfg cfg = { 0 };
    struct api_acme_check c;
    struct srv_acme_problem p;
    int64_t until;
    int rc;

    if (access(DNSMASQ, X_OK) != 0) {
        return false;
    }
    f->dns_port = dead_port(SOCK_DGRAM);
    snprintf(port_arg, sizeof(port_arg), "--port=%u", f->dns_port);
    snprintf(right, sizeof(right),
             "--txt-record=_acme-challenge.right.example,%s", f->digest_b64);
    /* one TXT record of two strings, joined by the check */
    snprintf(split, sizeof(split),
             "--txt-record=_acme-challenge.split.example,%.20s,%s",
             f->digest_b64, f->digest_b64 + 20);
    argv[0] = DNSMASQ;
    argv[1] = "--no-daemon";
    argv[2] = port_arg;
    argv[3] = "--listen-address=127.0.0.1";
    argv[4] = "--bind-interfaces";
    argv[5] = "--no-resolv";
    argv[6] = "--no-hosts";
    argv[7] = "--conf-file=/dev/null";
    argv[8] = "--pid-file=";
    argv[9] = "--local=/example/"; /* unknown names: NXDOMAIN */
    argv[10] = right;
    argv[11] = split;
    argv[12] = "--txt-record=_acme-challenge.wrong.example,not-the-digest";
    argv[13] = "--txt-record=_acme-challenge.wrong.example,nor-this";
    argv[14] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&f->dnsmasq, DNSMASQ, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        f->dnsmasq = 0;
        return false;
    }
    /* ready once it answers */
    snprintf(cfg.dns_resolver, sizeof(cfg.dns_resolver), "127.0.0.1:%u",
             f->dns_port);
    cfg.timeout_s = 1;
    check_init(&c, STORE_ACME_DNS_01, STORE_ACME_IDENT_DNS, "right.example");
    for (until = now_ms() + 5000; now_ms() < until; sleep_ms(50)) {
        if (srv_acme_dns01_check(&cfg, &c, &p) == WD_OK) {
            return true;
        }
    }
    kill(f->dnsmasq, SIGTERM);
    waitpid(f->dnsmasq, NULL, 0);
    f->dnsmasq = 0;
    return false;
}

static int
group_setup(void **state)
{
    struct fixtures *f = calloc(1, sizeof(*f));
    uint8_t digest[32];
    char *b64;

    (void)state;
    if (f == NULL || gnutls_x509_privkey_init(&f->key) < 0 ||
        gnutls_x509_privkey_generate(
            f->key, GNUTLS_PK_ECDSA,
            GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
        gnutls_hash_fast(GNUTLS_DIG_SHA256, KEY_AUTH, strlen(KEY_AUTH),
                         digest) < 0) {
        return -1;
    }
    b64 = pki_b64url_encode(digest, sizeof(digest));
    snprintf(f->digest_b64, sizeof(f->digest_b64), "%s", b64);
    free(b64);
    if (!dnsmasq_start(f)) {
        fprintf(stderr,
                "dnsmasq (%s) is not installed or did not start: "
                "the dns-01 tests are skipped\n",
                DNSMASQ);
    }
    fx = f;
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    if (fx->dnsmasq > 0) {
        kill(fx->dnsmasq, SIGTERM);
        waitpid(fx->dnsmasq, NULL, 0);
    }
    gnutls_x509_privkey_deinit(fx->key);
    free(fx);
    return 0;
}

static struct srv_acme_check_cfg
cfg_for(unsigned http_port, unsigned tls_port)
{
    struct srv_acme_check_cfg cfg = { 0 };

    cfg.http01_port = http_port;
    cfg.tlsalpn01_port = tls_port;
    cfg.timeout_s = 2;
    return cfg;
}

/* The check with a problem type ending in type_suffix. */
static void
assert_problem(const struct srv_acme_problem *p, const char *type_suffix)
{
    const char *prefix = "urn:ietf:params:acme:error:";

    assert_non_null(p->type);
    assert_int_equal(strncmp(p->type, prefix, strlen(prefix)), 0);
    assert_string_equal(p->type + strlen(prefix), type_suffix);
    assert_true(p->detail[0] != '\0');
}

/* ---- http-01 ---- */

static void
test_http01_accepts_the_key_authorization(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };
    char host[64];

    (void)state;
    http_route_ok(&s, CHALLENGE_PATH, KEY_AUTH);
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_OK);
    /* RFC 8555 8.3: the path, and the Host with the port (not 80) */
    snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%u\r\n", s.port);
    pthread_mutex_lock(&s.mu);
    assert_non_null(strstr(s.last_request, "GET " CHALLENGE_PATH " HTTP/1.1"));
    assert_non_null(strstr(s.last_request, host));
    pthread_mutex_unlock(&s.mu);
    server_stop(&s);
}

static void
test_http01_resolves_a_dns_name(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    http_route_ok(&s, CHALLENGE_PATH, KEY_AUTH "\r\n");
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_DNS, "localhost");
    assert_wd_err(srv_acme_check_run(&cfg, &c, &p), WD_OK);
    server_stop(&s);
}

static void
test_http01_ignores_trailing_whitespace_only(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    http_route_ok(&s, CHALLENGE_PATH, KEY_AUTH " \t\r\n\n");
    http_route_ok(&s, "/.well-known/acme-challenge/" TOKEN "x", " " KEY_AUTH);
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_OK);
    /* leading whitespace is not ignored */
    snprintf(c.token, sizeof(c.token), "%sx", TOKEN);
    snprintf(c.key_auth, sizeof(c.key_auth), "%sx.%s", TOKEN, THUMBPRINT);
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_problem(&p, "incorrectResponse");
    server_stop(&s);
}

static void
test_http01_reads_a_chunked_or_close_delimited_body(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };
    char resp[512];

    (void)state;
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "a;ext=1\r\n%.10s\r\n%zx\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n",
             KEY_AUTH, strlen(KEY_AUTH) - 10, KEY_AUTH + 10);
    http_route(&s, CHALLENGE_PATH, resp, -1);
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_OK);
    server_stop(&s);

    http_route(&s, CHALLENGE_PATH,
               "HTTP/1.0 200 OK\r\nServer: x\r\n\r\n" KEY_AUTH, -1);
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_OK);
    server_stop(&s);
}

static void
test_http01_refuses_a_wrong_body(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    /* the token without the thumbprint, then a NUL smuggled in */
    http_route_ok(&s, CHALLENGE_PATH, TOKEN);
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_problem(&p, "incorrectResponse");
    assert_int_equal(p.status, 403);
    server_stop(&s);

    http_route(
        &s, CHALLENGE_PATH,
        "HTTP/1.1 200 OK\r\nContent-Length: 76\r\n\r\n" KEY_AUTH "\0xxxxxxx",
        (long)strlen("HTTP/1.1 200 OK\r\nContent-Length: 76\r\n\r\n") + 76);
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_problem(&p, "incorrectResponse");
    server_stop(&s);
}

static void
test_http01_refuses_a_status_other_than_200(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    server_start(&s, http_serve); /* every path: 404 */
    cfg = cfg_for(s.port, 0);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_problem(&p, "unauthorized");
    assert_non_null(strstr(p.detail, "404"));
    server_stop(&s);
}

static void
test_http01_refuses_an_oversized_response(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };
    size_t big = 20000;
    char *resp = malloc(big + 128);
    int n;

    (void)state;
    assert_non_null(resp);
    /* a Content-Length over the limit is refused before the body */
    http_route(&s, CHALLENGE_PATH,
               "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" KEY_AUTH, -1);
    /* a close-delimited body over the limit: the key authorization
     * first, and the bytes after it are not ignored */
    n = snprintf(resp, 128, "HTTP/1.1 200 OK\r\n\r\n%s", KEY_AUTH);
    memset(resp + n, ' ', big);
    http_route(&s, CHALLENGE_PATH "2", resp, (long)(n + (int)big));
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_problem(&p, "incorrectResponse");
    assert_non_null(strstr(p.detail, "over 8192 bytes"));
    snprintf(c.token, sizeof(c.token), "%s2", TOKEN);
    snprintf(c.key_auth, sizeof(c.key_auth), "%s2.%s", TOKEN, THUMBPRINT);
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_non_null(strstr(p.detail, "over 8192 bytes"));
    server_stop(&s);
    free(resp);
}

static void
test_http01_refuses_malformed_responses(void **state)
{
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nName : v\r\n\r\n",
        "HTTP/1.1 200 OK\r\n Folded: v\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/2 200\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
        "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
    };
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };
    size_t i;

    (void)state;
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http_route(&s, CHALLENGE_PATH, bad[i], -1);
        server_start(&s, http_serve);
        cfg = cfg_for(s.port, 0);
        print_message("response %zu\n", i);
        assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
        assert_problem(&p, "incorrectResponse");
        server_stop(&s);
    }
}

static void
test_http01_follows_redirects_on_the_same_host_only(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };
    char loc[128];

    (void)state;
    server_listen(&s); /* the routes name the port */
    snprintf(loc, sizeof(loc), "http://127.0.0.1:%u/b#frag", s.port);
    http_route_redirect(&s, CHALLENGE_PATH, "/a");
    http_route_redirect(&s, "/a", loc);
    http_route_ok(&s, "/b", KEY_AUTH);
    server_run(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_OK);
    pthread_mutex_lock(&s.mu);
    assert_int_equal(s.conns, 3);
    assert_non_null(strstr(s.last_request, "GET /b HTTP/1.1"));
    pthread_mutex_unlock(&s.mu);
    server_stop(&s);
}

static void
test_http01_refuses_redirects_elsewhere_or_too_many(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };
    char other_port[128];
    char other_host[128];
    char userinfo[128];

    (void)state;
    server_listen(&s);
    snprintf(other_port, sizeof(other_port), "http://127.0.0.1:%u/x",
             s.port + 1);
    snprintf(other_host, sizeof(other_host), "http://localhost:%u/x", s.port);
    snprintf(userinfo, sizeof(userinfo), "http://127.0.0.1:%u@evil/x", s.port);
    http_route_redirect(&s, CHALLENGE_PATH, "/loop");
    http_route_redirect(&s, "/loop", "/loop");
    http_route_redirect(&s, CHALLENGE_PATH "1", other_port);
    http_route_redirect(&s, CHALLENGE_PATH "2", other_host);
    server_run(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");

    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_problem(&p, "unauthorized");
    assert_non_null(strstr(p.detail, "more than 3 redirects"));
    pthread_mutex_lock(&s.mu);
    assert_int_equal(s.conns, 4);
    pthread_mutex_unlock(&s.mu);

    snprintf(c.token, sizeof(c.token), "%s1", TOKEN);
    snprintf(c.key_auth, sizeof(c.key_auth), "%s1.%s", TOKEN, THUMBPRINT);
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_non_null(strstr(p.detail, "another host or port"));

    snprintf(c.token, sizeof(c.token), "%s2", TOKEN);
    snprintf(c.key_auth, sizeof(c.key_auth), "%s2.%s", TOKEN, THUMBPRINT);
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_non_null(strstr(p.detail, "another host or port"));
    server_stop(&s);

    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    http_route_redirect(&s, CHALLENGE_PATH, "https://127.0.0.1/x");
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_non_null(strstr(p.detail, "https"));
    server_stop(&s);

    http_route_redirect(&s, CHALLENGE_PATH, userinfo);
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    server_stop(&s);
}

static void
test_http01_reports_nothing_listening_as_connection(void **state)
{
    struct srv_acme_check_cfg cfg = cfg_for(dead_port(SOCK_STREAM), 0);
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_UNAVAILABLE);
    assert_problem(&p, "connection");
    assert_int_equal(p.status, 400);
}

static void
test_http01_gives_up_on_a_silent_server_in_time(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };
    int64_t t0;

    (void)state;
    s.silent = true;
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    cfg.timeout_s = 1;
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    t0 = now_ms();
    assert_wd_err(srv_acme_http01_check(&cfg, &c, &p), WD_E_UNAVAILABLE);
    assert_true(now_ms() - t0 >= 900);
    assert_true(now_ms() - t0 < 2500);
    assert_problem(&p, "connection");
    server_stop(&s);
}

static void
test_checks_refuse_a_malformed_check_from_the_api(void **state)
{
    struct srv_acme_check_cfg cfg = cfg_for(1, 1);
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_DNS,
               "a.example\r\nX-Injected: 1");
    assert_wd_err(srv_acme_check_run(&cfg, &c, &p), WD_E_INTERNAL);
    assert_problem(&p, "serverInternal");
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_DNS, "*.a.example");
    assert_wd_err(srv_acme_check_run(&cfg, &c, &p), WD_E_INTERNAL);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "localhost");
    assert_wd_err(srv_acme_check_run(&cfg, &c, &p), WD_E_INTERNAL);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    snprintf(c.token, sizeof(c.token), "a b/../../etc/passwd-xxxxxxxx");
    assert_wd_err(srv_acme_check_run(&cfg, &c, &p), WD_E_INTERNAL);
    /* RFC 8738 7: no dns-01 for an IP */
    check_init(&c, STORE_ACME_DNS_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_check_run(&cfg, &c, &p), WD_E_INTERNAL);
}

static void
test_check_cfg_validate_refuses_a_bad_resolver(void **state)
{
    struct srv_acme_check_cfg cfg = { 0 };

    (void)state;
    assert_wd_err(srv_acme_check_cfg_validate(&cfg), WD_OK);
    snprintf(cfg.dns_resolver, sizeof(cfg.dns_resolver), "10.0.0.53:5353");
    assert_wd_err(srv_acme_check_cfg_validate(&cfg), WD_OK);
    snprintf(cfg.dns_resolver, sizeof(cfg.dns_resolver), "10.0.0.53");
    assert_wd_err(srv_acme_check_cfg_validate(&cfg), WD_OK);
    snprintf(cfg.dns_resolver, sizeof(cfg.dns_resolver), "dns.example");
    assert_wd_err(srv_acme_check_cfg_validate(&cfg), WD_E_CONFIG);
    snprintf(cfg.dns_resolver, sizeof(cfg.dns_resolver), "10.0.0.53:0");
    assert_wd_err(srv_acme_check_cfg_validate(&cfg), WD_E_CONFIG);
    snprintf(cfg.dns_resolver, sizeof(cfg.dns_resolver), "10.0.0.53:65536");
    assert_wd_err(srv_acme_check_cfg_validate(&cfg), WD_E_CONFIG);
    cfg.dns_resolver[0] = '\0';
    cfg.http01_port = 70000;
    assert_wd_err(srv_acme_check_cfg_validate(&cfg), WD_E_CONFIG);
}

/* ---- tls-alpn-01 ---- */

enum flaw {
    FLAW_NONE,
    FLAW_DIGEST,       /* the digest of another key authorization */
    FLAW_NOT_CRITICAL, /* acmeIdentifier not critical */
    FLAW_EXTRA_SAN,    /* a second name */
    FLAW_NO_ACME_EXT,
    FLAW_RAW_DIGEST, /* the digest without its OCTET STRING header */
    /* not a flaw: keyUsage keyEncipherment only, as lego's (Go's) */
    QUIRK_KEY_ENCIPHERMENT,
};

/* Credentials with a self-signed certificate for dns or ip4 (4 bytes)
 * carrying the acmeIdentifier of KEY_AUTH, but for flaw. */
static gnutls_certificate_credentials_t
cred_make(const char *dns, const uint8_t *ip4, enum flaw flaw)
{
    gnutls_certificate_credentials_t cred = NULL;
    gnutls_x509_crt_t crt = NULL;
    uint8_t ext[34] = { 0x04, 0x20 };
    const char *ka = flaw == FLAW_DIGEST ? TOKEN ".other" : KEY_AUTH;
    time_t now = time(NULL);
    uint8_t serial[8] = { 0x01, 0x02 };

    assert_int_equal(
        gnutls_hash_fast(GNUTLS_DIG_SHA256, ka, strlen(ka), ext + 2), 0);
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
    assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)),
                     0);
    assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now - 3600), 0);
    assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now + 3600), 0);
    assert_int_equal(gnutls_x509_crt_set_dn(crt, "CN=acme-tls-alpn", NULL), 0);
    assert_int_equal(gnutls_x509_crt_set_key(crt, fx->key), 0);
    if (dns != NULL) {
        assert_int_equal(gnutls_x509_crt_set_subject_alt_name(
                             crt, GNUTLS_SAN_DNSNAME, dns,
                             (unsigned)strlen(dns), GNUTLS_FSAN_APPEND),
                         0);
    } else {
        assert_int_equal(
            gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip4,
                                                 4, GNUTLS_FSAN_APPEND),
            0);
    }
    if (flaw == FLAW_EXTRA_SAN) {
        assert_int_equal(gnutls_x509_crt_set_subject_alt_name(
                             crt, GNUTLS_SAN_DNSNAME, "other.example", 13,
                             GNUTLS_FSAN_APPEND),
                         0);
    }
    if (flaw == QUIRK_KEY_ENCIPHERMENT) {
        assert_int_equal(
            gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_ENCIPHERMENT), 0);
    }
    if (flaw != FLAW_NO_ACME_EXT) {
        assert_int_equal(gnutls_x509_crt_set_extension_by_oid(
                             crt, OID_ACME_IDENTIFIER,
                             flaw == FLAW_RAW_DIGEST ? ext + 2 : ext,
                             flaw == FLAW_RAW_DIGEST ? 32 : sizeof(ext),
                             flaw != FLAW_NOT_CRITICAL),
                         0);
    }
    assert_int_equal(
        gnutls_x509_crt_sign2(crt, crt, fx->key, GNUTLS_DIG_SHA256, 0), 0);
    assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
    assert_int_equal(gnutls_certificate_set_x509_key(cred, &crt, 1, fx->key),
                     0);
    gnutls_x509_crt_deinit(crt);
    return cred;
}

/* Does the ClientHello s received hold the SNI name (RFC 6066 3: a
 * two-byte length, then the name)? */
static bool
hello_has_sni(const struct server *s, const char *name)
{
    size_t len = strlen(name);
    size_t i;

    for (i = 2; i + len <= s->hello_len; i++) {
        if ((size_t)((uint8_t)s->hello[i - 2] << 8 |
                     (uint8_t)s->hello[i - 1]) == len &&
            memcmp(s->hello + i, name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* One tls-alpn-01 check against a server with cred (and ALPN or not);
 * sni, if not NULL, must be the name the ClientHello carried. */
static enum wd_err
tls_check(gnutls_certificate_credentials_t cred, bool alpn,
          enum store_acme_ident_type it, const char *identifier,
          struct srv_acme_problem *p, const char *sni)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    bool sni_seen;
    enum wd_err rc;

    s.cred = cred;
    s.alpn = alpn;
    server_start(&s, tls_serve);
    cfg = cfg_for(0, s.port);
    check_init(&c, STORE_ACME_TLS_ALPN_01, it, identifier);
    rc = srv_acme_tlsalpn01_check(&cfg, &c, p);
    pthread_mutex_lock(&s.mu);
    sni_seen = sni == NULL || hello_has_sni(&s, sni);
    pthread_mutex_unlock(&s.mu);
    assert_true(sni_seen);
    server_stop(&s);
    return rc;
}

static void
test_tlsalpn01_accepts_the_right_certificate(void **state)
{
    struct srv_acme_problem p = { 0 };

    (void)state;
    assert_wd_err(tls_check(cred_make("localhost", NULL, FLAW_NONE), true,
                            STORE_ACME_IDENT_DNS, "localhost", &p, "localhost"),
                  WD_OK);
}

static void
test_tlsalpn01_ignores_the_key_usage_as_lego_sets_it(void **state)
{
    struct srv_acme_problem p = { 0 };

    (void)state;
    enum wd_err rc;

    (void)state;
    rc = tls_check(cred_make("localhost", NULL, QUIRK_KEY_ENCIPHERMENT), true,
                   STORE_ACME_IDENT_DNS, "localhost", &p, NULL);
    assert_wd_err(rc, WD_OK);
}

static void
test_tlsalpn01_accepts_an_ip_with_its_reverse_name_as_sni(void **state)
{
    static const uint8_t ip[4] = { 127, 0, 0, 1 };
    struct srv_acme_problem p = { 0 };

    (void)state;
    assert_wd_err(tls_check(cred_make(NULL, ip, FLAW_NONE), true,
                            STORE_ACME_IDENT_IP, "127.0.0.1", &p,
                            "1.0.0.127.in-addr.arpa"), /* RFC 8738 6 */
                  WD_OK);
}

static void
test_tlsalpn01_refuses_a_wrong_digest(void **state)
{
    struct srv_acme_problem p = { 0 };

    (void)state;
    assert_wd_err(tls_check(cred_make("localhost", NULL, FLAW_DIGEST), true,
                            STORE_ACME_IDENT_DNS, "localhost", &p, NULL),
                  WD_E_FORBIDDEN);
    assert_problem(&p, "incorrectResponse");
    assert_wd_err(tls_check(cred_make("localhost", NULL, FLAW_RAW_DIGEST), true,
                            STORE_ACME_IDENT_DNS, "localhost", &p, NULL),
                  WD_E_FORBIDDEN);
    assert_problem(&p, "incorrectResponse");
}

static void
test_tlsalpn01_refuses_a_server_without_acme_tls_1(void **state)
{
    struct srv_acme_problem p = { 0 };

    (void)state;
    assert_wd_err(tls_check(cred_make("localhost", NULL, FLAW_NONE), false,
                            STORE_ACME_IDENT_DNS, "localhost", &p, NULL),
                  WD_E_UNAVAILABLE);
    assert_problem(&p, "tls");
    assert_non_null(strstr(p.detail, "acme-tls/1"));
}

static void
test_tlsalpn01_refuses_flawed_certificates(void **state)
{
    static const uint8_t other_ip[4] = { 127, 0, 0, 2 };
    struct srv_acme_problem p = { 0 };

    (void)state;
    assert_wd_err(tls_check(cred_make("localhost", NULL, FLAW_NOT_CRITICAL),
                            true, STORE_ACME_IDENT_DNS, "localhost", &p, NULL),
                  WD_E_FORBIDDEN);
    assert_problem(&p, "unauthorized");
    assert_non_null(strstr(p.detail, "critical"));
    assert_wd_err(tls_check(cred_make("localhost", NULL, FLAW_EXTRA_SAN), true,
                            STORE_ACME_IDENT_DNS, "localhost", &p, NULL),
                  WD_E_FORBIDDEN);
    assert_problem(&p, "unauthorized");
    assert_wd_err(tls_check(cred_make("localhost", NULL, FLAW_NO_ACME_EXT),
                            true, STORE_ACME_IDENT_DNS, "localhost", &p, NULL),
                  WD_E_FORBIDDEN);
    assert_wd_err(tls_check(cred_make("other.example", NULL, FLAW_NONE), true,
                            STORE_ACME_IDENT_DNS, "localhost", &p, NULL),
                  WD_E_FORBIDDEN);
    assert_wd_err(tls_check(cred_make(NULL, other_ip, FLAW_NONE), true,
                            STORE_ACME_IDENT_IP, "127.0.0.1", &p, NULL),
                  WD_E_FORBIDDEN);
    /* a DNS name where an IP is validated */
    assert_wd_err(tls_check(cred_make("127.0.0.1", NULL, FLAW_NONE), true,
                            STORE_ACME_IDENT_IP, "127.0.0.1", &p, NULL),
                  WD_E_FORBIDDEN);
}

static void
test_tlsalpn01_reports_nothing_listening_as_connection(void **state)
{
    struct srv_acme_check_cfg cfg = cfg_for(0, dead_port(SOCK_STREAM));
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    check_init(&c, STORE_ACME_TLS_ALPN_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    assert_wd_err(srv_acme_tlsalpn01_check(&cfg, &c, &p), WD_E_UNAVAILABLE);
    assert_problem(&p, "connection");
}

static void
test_tlsalpn01_gives_up_on_a_silent_server_in_time(void **state)
{
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };
    int64_t t0;

    (void)state;
    s.silent = true; /* reads the ClientHello, never answers */
    server_start(&s, http_serve);
    cfg = cfg_for(0, s.port);
    cfg.timeout_s = 1;
    check_init(&c, STORE_ACME_TLS_ALPN_01, STORE_ACME_IDENT_IP, "127.0.0.1");
    t0 = now_ms();
    assert_wd_err(srv_acme_tlsalpn01_check(&cfg, &c, &p), WD_E_UNAVAILABLE);
    assert_true(now_ms() - t0 < 2500);
    assert_problem(&p, "connection");
    server_stop(&s);
}

/* ---- dns-01 ---- */

static bool
dns_ready(struct srv_acme_check_cfg *cfg)
{
    if (fx->dnsmasq == 0) {
        print_message("dnsmasq (%s) is not available: skipped\n", DNSMASQ);
        return false;
    }
    *cfg = cfg_for(0, 0);
    snprintf(cfg->dns_resolver, sizeof(cfg->dns_resolver), "127.0.0.1:%u",
             fx->dns_port);
    return true;
}

static void
test_dns01_accepts_the_digest_in_one_or_more_strings(void **state)
{
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    if (!dns_ready(&cfg)) {
        skip();
    }
    check_init(&c, STORE_ACME_DNS_01, STORE_ACME_IDENT_DNS, "right.example");
    assert_wd_err(srv_acme_dns01_check(&cfg, &c, &p), WD_OK);
    check_init(&c, STORE_ACME_DNS_01, STORE_ACME_IDENT_DNS, "split.example");
    assert_wd_err(srv_acme_check_run(&cfg, &c, &p), WD_OK);
}

static void
test_dns01_refuses_wrong_records(void **state)
{
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    if (!dns_ready(&cfg)) {
        skip();
    }
    check_init(&c, STORE_ACME_DNS_01, STORE_ACME_IDENT_DNS, "wrong.example");
    assert_wd_err(srv_acme_dns01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_problem(&p, "incorrectResponse");
    assert_non_null(strstr(p.detail, "2 TXT records"));
}

static void
test_dns01_refuses_a_missing_record(void **state)
{
    struct srv_acme_check_cfg cfg;
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };

    (void)state;
    if (!dns_ready(&cfg)) {
        skip();
    }
    check_init(&c, STORE_ACME_DNS_01, STORE_ACME_IDENT_DNS, "missing.example");
    assert_wd_err(srv_acme_dns01_check(&cfg, &c, &p), WD_E_FORBIDDEN);
    assert_problem(&p, "unauthorized");
    assert_non_null(strstr(p.detail, "_acme-challenge.missing.example"));
}

static void
test_dns01_reports_a_dead_resolver_in_time(void **state)
{
    struct srv_acme_check_cfg cfg = cfg_for(0, 0);
    struct api_acme_check c;
    struct srv_acme_problem p = { 0 };
    int64_t t0;

    (void)state;
    snprintf(cfg.dns_resolver, sizeof(cfg.dns_resolver), "127.0.0.1:%u",
             dead_port(SOCK_DGRAM));
    check_init(&c, STORE_ACME_DNS_01, STORE_ACME_IDENT_DNS, "right.example");
    t0 = now_ms();
    assert_wd_err(srv_acme_dns01_check(&cfg, &c, &p), WD_E_UNAVAILABLE);
    assert_true(now_ms() - t0 < 5000);
    assert_problem(&p, "dns");
}

/* ---- the pool, over a real store ---- */

struct pool_fx {
    char dir[256];
    char path[300];
    struct store *st;
    int64_t account_id;
};

static void
pool_fx_open(struct pool_fx *f)
{
    struct store_acme_account a = { 0 };
    const char *tmp = getenv("TMPDIR");

    snprintf(f->dir, sizeof(f->dir), "%s/warden-acmeval-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/warden.db", f->dir);
    assert_wd_err(store_open(f->path, &f->st), WD_OK);
    a.kid = "acct-0123456789abcdef";
    a.jwk = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"a\",\"y\":\"b\"}";
    a.thumbprint = THUMBPRINT;
    a.created_at = time(NULL);
    assert_wd_err(store_acme_account_insert(f->st, &a, &f->account_id), WD_OK);
}

static void
pool_fx_close(struct pool_fx *f)
{
    char p[400];

    store_close(f->st);
    snprintf(p, sizeof(p), "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", f->path);
    unlink(p);
    unlink(f->path);
    rmdir(f->dir);
}

/* An order (tag) for identifier "localhost" with one http-01 challenge
 * of token, set processing at processing_at; its cid into cid. */
static void
pool_fx_order(struct pool_fx *f, const char *tag, const char *token,
              int64_t processing_at, char *cid, size_t cidsz)
{
    struct store_acme_order o = { 0 };
    struct store_acme_authz z = { 0 };
    struct store_acme_challenge ch = { 0 };
    char oid[64];
    char aid[64];
    int64_t now = time(NULL);

    snprintf(oid, sizeof(oid), "order-%s-0123456789", tag);
    snprintf(aid, sizeof(aid), "authz-%s-0123456789", tag);
    snprintf(cid, cidsz, "chall-%s-0123456789", tag);
    ch.cid = cid;
    ch.type = STORE_ACME_HTTP_01;
    ch.token = (char *)token;
    z.aid = aid;
    z.ident_type = STORE_ACME_IDENT_DNS;
    z.ident_value = "localhost";
    z.expires_at = now + 7200;
    z.challenges = &ch;
    z.n_challenges = 1;
    o.oid = oid;
    o.account_id = f->account_id;
    o.expires_at = now + 3600;
    o.created_at = now - 7200;
    o.authzs = &z;
    o.n_authzs = 1;
    assert_wd_err(store_acme_order_insert(f->st, &o), WD_OK);
    assert_wd_err(
        store_acme_challenge_set_processing(f->st, cid, processing_at), WD_OK);
}

/* Wait until challenge cid leaves processing; its final state into *out
 * (caller frees). */
static void
pool_wait(struct pool_fx *f, const char *cid, struct store_acme_challenge **out)
{
    int64_t until = now_ms() + WAIT_MS;
    struct store_acme_challenge *c = NULL;

    for (;;) {
        assert_wd_err(store_acme_challenge_get(f->st, cid, &c), WD_OK);
        if (c->status != STORE_ACME_PROCESSING || now_ms() > until) {
            break;
        }
        store_acme_challenge_free(c);
        c = NULL;
        sleep_ms(20);
    }
    *out = c;
}

static void
test_pool_validates_a_challenge_into_the_store(void **state)
{
    struct pool_fx f = { 0 };
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct srv_acme_pool *pool = NULL;
    struct api_acme_check c;
    struct store_acme_challenge *ch = NULL;
    struct store_acme_authz *z = NULL;

    (void)state;
    pool_fx_open(&f);
    http_route_ok(&s, CHALLENGE_PATH, KEY_AUTH);
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    assert_wd_err(srv_acme_pool_start(f.st, &cfg, 2, &pool), WD_OK);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_DNS, "localhost");
    pool_fx_order(&f, "ok", TOKEN, time(NULL), c.cid, sizeof(c.cid));
    srv_acme_pool_submit(pool, &c);
    srv_acme_pool_submit(pool, &c); /* a second submit is ignored */
    pool_wait(&f, c.cid, &ch);
    assert_int_equal(ch->status, STORE_ACME_VALID);
    assert_int_equal(ch->attempts, 1);
    assert_wd_err(store_acme_authz_get(f.st, "authz-ok-0123456789", &z), WD_OK);
    assert_int_equal(z->status, STORE_ACME_VALID);
    store_acme_authz_free(z);
    store_acme_challenge_free(ch);
    srv_acme_pool_stop(pool);
    server_stop(&s);
    pool_fx_close(&f);
}

static void
test_pool_retries_then_fails_a_challenge(void **state)
{
    struct pool_fx f = { 0 };
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct srv_acme_pool *pool = NULL;
    struct api_acme_check c;
    struct store_acme_challenge *ch = NULL;
    json_t *err;

    (void)state;
    pool_fx_open(&f);
    server_start(&s, http_serve); /* 404 */
    cfg = cfg_for(s.port, 0);
    cfg.retry_delay_ms = 20;
    assert_wd_err(srv_acme_pool_start(f.st, &cfg, 0, &pool), WD_OK);
    check_init(&c, STORE_ACME_HTTP_01, STORE_ACME_IDENT_DNS, "localhost");
    pool_fx_order(&f, "bad", TOKEN, time(NULL), c.cid, sizeof(c.cid));
    srv_acme_pool_submit(pool, &c);
    pool_wait(&f, c.cid, &ch);
    assert_int_equal(ch->status, STORE_ACME_INVALID);
    assert_int_equal(ch->attempts, 4); /* the first and three retries */
    pthread_mutex_lock(&s.mu);
    assert_int_equal(s.conns, 4);
    pthread_mutex_unlock(&s.mu);
    err = json_loads(ch->error, 0, NULL);
    assert_non_null(err);
    assert_string_equal(json_string_value(json_object_get(err, "type")),
                        "urn:ietf:params:acme:error:unauthorized");
    assert_int_equal(json_integer_value(json_object_get(err, "status")), 403);
    assert_non_null(json_string_value(json_object_get(err, "detail")));
    json_decref(err);
    store_acme_challenge_free(ch);
    srv_acme_pool_stop(pool);
    server_stop(&s);
    pool_fx_close(&f);
}

static void
test_pool_resumes_a_challenge_left_processing_by_an_earlier_run(void **state)
{
    struct pool_fx f = { 0 };
    struct server s = { 0 };
    struct srv_acme_check_cfg cfg;
    struct srv_acme_pool *pool = NULL;
    struct store_acme_challenge *ch = NULL;
    char cid[64];
    char young[64];

    (void)state;
    pool_fx_open(&f);
    http_route_ok(&s, CHALLENGE_PATH, KEY_AUTH);
    server_start(&s, http_serve);
    cfg = cfg_for(s.port, 0);
    pool_fx_order(&f, "old", TOKEN, time(NULL) - 3600, cid, sizeof(cid));
    /* one the API set processing a moment ago is on its way: left alone */
    pool_fx_order(&f, "new", TOKEN, time(NULL), young, sizeof(young));
    /* no submit: the sweep rebuilds the key authorization from the store */
    assert_wd_err(srv_acme_pool_start(f.st, &cfg, 1, &pool), WD_OK);
    pool_wait(&f, cid, &ch);
    assert_int_equal(ch->status, STORE_ACME_VALID);
    assert_int_equal(ch->attempts, 1);
    store_acme_challenge_free(ch);
    srv_acme_pool_stop(pool);
    pthread_mutex_lock(&s.mu);
    assert_int_equal(s.conns, 1);
    assert_non_null(strstr(s.last_request, "GET " CHALLENGE_PATH " "));
    pthread_mutex_unlock(&s.mu);
    assert_wd_err(store_acme_challenge_get(f.st, young, &ch), WD_OK);
    assert_int_equal(ch->status, STORE_ACME_PROCESSING);
    store_acme_challenge_free(ch);
    server_stop(&s);
    pool_fx_close(&f);
}

static void
test_pool_resumes_with_the_retries_an_earlier_run_left(void **state)
{
    struct pool_fx f = { 0 };
    struct srv_acme_check_cfg cfg = cfg_for(dead_port(SOCK_STREAM), 0);
    struct srv_acme_pool *pool = NULL;
    struct store_acme_challenge *ch = NULL;
    char cid[64];

    (void)state;
    pool_fx_open(&f);
    cfg.retry_delay_ms = 20;
    pool_fx_order(&f, "retry", TOKEN, time(NULL) - 3600, cid, sizeof(cid));
    /* the earlier run made two attempts, then stopped */
    assert_wd_err(
        store_acme_challenge_retry(f.st, cid, time(NULL) - 3600, NULL), WD_OK);
    assert_wd_err(
        store_acme_challenge_retry(f.st, cid, time(NULL) - 3600, NULL), WD_OK);
    assert_wd_err(srv_acme_pool_start(f.st, &cfg, 1, &pool), WD_OK);
    pool_wait(&f, cid, &ch);
    /* nothing listens: two more attempts, not four */
    assert_int_equal(ch->status, STORE_ACME_INVALID);
    assert_int_equal(ch->attempts, 4);
    assert_non_null(strstr(ch->error, "urn:ietf:params:acme:error:connection"));
    store_acme_challenge_free(ch);
    srv_acme_pool_stop(pool);
    pool_fx_close(&f);
}

static void
test_pool_stops_promptly_when_idle(void **state)
{
    struct pool_fx f = { 0 };
    struct srv_acme_check_cfg cfg = cfg_for(1, 1);
    struct srv_acme_pool *pool = NULL;
    int64_t t0;

    (void)state;
    pool_fx_open(&f);
    assert_wd_err(srv_acme_pool_start(f.st, &cfg, 4, &pool), WD_OK);
    sleep_ms(50);
    t0 = now_ms();
    srv_acme_pool_stop(pool);
    assert_true(now_ms() - t0 < 1000);
    srv_acme_pool_stop(NULL);
    snprintf(cfg.dns_resolver, sizeof(cfg.dns_resolver), "not-an-ip");
    assert_wd_err(srv_acme_pool_start(f.st, &cfg, 1, &pool), WD_E_CONFIG);
    pool_fx_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http01_accepts_the_key_authorization),
        cmocka_unit_test(test_http01_resolves_a_dns_name),
        cmocka_unit_test(test_http01_ignores_trailing_whitespace_only),
        cmocka_unit_test(test_http01_reads_a_chunked_or_close_delimited_body),
        cmocka_unit_test(test_http01_refuses_a_wrong_body),
        cmocka_unit_test(test_http01_refuses_a_status_other_than_200),
        cmocka_unit_test(test_http01_refuses_an_oversized_response),
        cmocka_unit_test(test_http01_refuses_malformed_responses),
        cmocka_unit_test(test_http01_follows_redirects_on_the_same_host_only),
        cmocka_unit_test(test_http01_refuses_redirects_elsewhere_or_too_many),
        cmocka_unit_test(test_http01_reports_nothing_listening_as_connection),
        cmocka_unit_test(test_http01_gives_up_on_a_silent_server_in_time),
        cmocka_unit_test(test_checks_refuse_a_malformed_check_from_the_api),
        cmocka_unit_test(test_check_cfg_validate_refuses_a_bad_resolver),
        cmocka_unit_test(test_tlsalpn01_accepts_the_right_certificate),
        cmocka_unit_test(test_tlsalpn01_ignores_the_key_usage_as_lego_sets_it),
        cmocka_unit_test(
            test_tlsalpn01_accepts_an_ip_with_its_reverse_name_as_sni),
        cmocka_unit_test(test_tlsalpn01_refuses_a_wrong_digest),
        cmocka_unit_test(test_tlsalpn01_refuses_a_server_without_acme_tls_1),
        cmocka_unit_test(test_tlsalpn01_refuses_flawed_certificates),
        cmocka_unit_test(
            test_tlsalpn01_reports_nothing_listening_as_connection),
        cmocka_unit_test(test_tlsalpn01_gives_up_on_a_silent_server_in_time),
        cmocka_unit_test(test_dns01_accepts_the_digest_in_one_or_more_strings),
        cmocka_unit_test(test_dns01_refuses_wrong_records),
        cmocka_unit_test(test_dns01_refuses_a_missing_record),
        cmocka_unit_test(test_dns01_reports_a_dead_resolver_in_time),
        cmocka_unit_test(test_pool_validates_a_challenge_into_the_store),
        cmocka_unit_test(test_pool_retries_then_fails_a_challenge),
        cmocka_unit_test(
            test_pool_resumes_a_challenge_left_processing_by_an_earlier_run),
        cmocka_unit_test(
            test_pool_resumes_with_the_retries_an_earlier_run_left),
        cmocka_unit_test(test_pool_stops_promptly_when_idle),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
