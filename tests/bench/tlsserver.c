/*
 * tlsserver: the smallest mTLS HTTP server GnuTLS allows, as the yardstick
 * for Warden's new-connection figures (tests/bench/run, figure 6): a
 * thread per connection like Warden's libmicrohttpd listener, a required
 * client certificate verified against --cacert, TLS 1.3 session tickets
 * (so --resume can resume), and a two-byte answer to every request, kept
 * alive unless the client says "Connection: close". It never reads a
 * request body: loadgen sends GETs. Runs until killed.
 *
 * Usage: tlsserver --listen 127.0.0.1:PORT --cert F --key F --cacert F
 *        [--priority GNUTLS-PRIORITY]
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Idle or slow clients are dropped after this long, as Warden does. */
#define IO_TIMEOUT_S 30

static gnutls_certificate_credentials_t creds;
static gnutls_priority_t prio;
static gnutls_datum_t ticket_key;
static unsigned failures;

_Noreturn static void
die(const char *what, const char *why)
{
    fprintf(stderr, "tlsserver: %s: %s\n", what, why);
    exit(1);
}

/* Reads request heads until "\r\n\r\n"; *close if the client asked. */
static bool
read_head(gnutls_session_t s, char *buf, size_t cap, size_t *have,
          bool *close_after)
{
    char *end, *p;

    for (;;) {
        ssize_t n;

        buf[*have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            break;
        }
        if (*have + 1 >= cap) {
            return false;
        }
        do {
            n = gnutls_record_recv(s, buf + *have, cap - 1 - *have);
        } while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
        if (n <= 0) {
            return false;
        }
        *have += (size_t)n;
    }
    *end = '\0';
    for (p = buf; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    *close_after = strstr(buf, "\nconnection: close") != NULL;
    end += 4;
    *have -= (size_t)(end - buf);
    memmove(buf, end, *have);
    return true;
}

static void *
serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                 "Content-Type: text/plain\r\n\r\nok";
    gnutls_session_t s = NULL;
    char buf[8192];
    size_t have = 0;
    bool close_after = false;
    int ret;

    ret = gnutls_init(&s, GNUTLS_SERVER);
    if (ret >= 0) {
        ret = gnutls_priority_set(s, prio);
    }
    if (ret >= 0) {
        ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds);
    }
    if (ret >= 0) {
        ret = gnutls_session_ticket_enable_server(s, &ticket_key);
    }
    if (ret < 0) {
        goto out;
    }
    /* the client's certificate is required and verified in the
     * handshake, against the trust list in creds */
    gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_cert(s, NULL, 0);
    gnutls_transport_set_int(s, fd);
    gnutls_handshake_set_timeout(s, IO_TIMEOUT_S * 1000);
    do {
        ret = gnutls_handshake(s);
    } while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
    if (ret < 0) {
        /* a few, so a broken setup shows without flooding a benchmark */
        if (__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED) < 5) {
            fprintf(stderr, "tlsserver: handshake: %s\n", gnutls_strerror(ret));
        }
        goto out;
    }
    while (!close_after &&
           read_head(s, buf, sizeof(buf), &have, &close_after)) {
        do {
            ret = (int)gnutls_record_send(s, answer, sizeof(answer) - 1);
        } while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
        if (ret < 0) {
            break;
        }
    }
    gnutls_bye(s, GNUTLS_SHUT_WR);
out:
    gnutls_deinit(s);
    close(fd);
    return NULL;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "cert", required_argument, NULL, 'c' },
        { "key", required_argument, NULL, 'k' },
        { "cacert", required_argument, NULL, 'a' },
        { "priority", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    const char *listen_at = NULL, *cert = NULL, *key = NULL, *ca = NULL;
    const char *priority = "NORMAL";
    struct sockaddr_in sin = { 0 };
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    char host[64];
    const char *colon;
    pthread_attr_t attr;
    int one = 1;
    int lfd, c, ret;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen_at = optarg;
            break;
        case 'c':
            cert = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'a':
            ca = optarg;
            break;
        case 'p':
            priority = optarg;
            break;
        default:
            listen_at = NULL;
            break;
        }
    }
    colon = listen_at != NULL ? strrchr(listen_at, ':') : NULL;
    if (colon == NULL || cert == NULL || key == NULL || ca == NULL ||
        (size_t)(colon - listen_at) >= sizeof(host)) {
        fprintf(stderr, "usage: tlsserver --listen ADDR:PORT --cert F "
                        "--key F --cacert F [--priority P]\n");
        return 2;
    }
    memcpy(host, listen_at, (size_t)(colon - listen_at));
    host[colon - listen_at] = '\0';
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        die(listen_at, "want an IPv4 address and a port");
    }

    ret = gnutls_certificate_allocate_credentials(&creds);
    if (ret >= 0) {
        ret = gnutls_certificate_set_x509_key_file(creds, cert, key,
                                                   GNUTLS_X509_FMT_PEM);
    }
    if (ret >= 0) {
        ret = gnutls_certificate_set_x509_trust_file(creds, ca,
                                                     GNUTLS_X509_FMT_PEM);
    }
    if (ret >= 0) {
        ret = gnutls_priority_init(&prio, priority, NULL);
    }
    if (ret >= 0) {
        ret = gnutls_session_ticket_key_generate(&ticket_key);
    }
    if (ret < 0) {
        die("gnutls", gnutls_strerror(ret));
    }

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 ||
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(lfd, 512) != 0) {
        die(listen_at, strerror(errno));
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        pthread_t tid;
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) {
                continue;
            }
            die("accept", strerror(errno));
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (pthread_create(&tid, &attr, serve_conn, (void *)(intptr_t)fd) !=
            0) {
            close(fd);
        }
    }
}
