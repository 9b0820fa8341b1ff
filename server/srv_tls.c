/*
 * The API listener's TLS identity (server.crt and server.key), replaceable
 * while the listener runs. Each connection takes a reference to the
 * credentials current when it is accepted and keeps them until it
 * closes, so a reload (SIGHUP) changes the certificate for new
 * connections and never pulls one from under a handshake. libmicrohttpd
 * loads its credentials once at start; srv_http.c sets these on each new
 * session instead (gnutls_credentials_set), before its handshake.
 */
#include "srv.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/xmalloc.h"

struct srv_tls_cred {
    atomic_uint refs;
    gnutls_certificate_credentials_t gc;
};

struct srv_tls {
    pthread_mutex_t lock; /* guards cur while a reference is taken */
    struct srv_tls_cred *cur;
    char *trust_pem; /* the CAs whose clients we ask for a certificate */
    /* the session ticket key (RFC 8446 4.6.1 resumption), made at start
     * and never written anywhere: a restart invalidates every ticket.
     * GnuTLS rotates the keys it derives from it */
    gnutls_datum_t ticket_key;
};

/* Is the first certificate of gc within its validity at now? */
static bool
in_validity(gnutls_certificate_credentials_t gc, time_t now)
{
    gnutls_x509_crt_t *crts = NULL;
    unsigned int n = 0;
    bool ok = false;
    unsigned int i;

    if (gnutls_certificate_get_x509_crt(gc, 0, &crts, &n) < 0) {
        return false;
    }
    if (n > 0) {
        ok = gnutls_x509_crt_get_activation_time(crts[0]) <= now &&
             now < gnutls_x509_crt_get_expiration_time(crts[0]);
    }
    for (i = 0; i < n; i++) {
        gnutls_x509_crt_deinit(crts[i]);
    }
    gnutls_free(crts);
    return ok;
}

/*
 * Credentials from a PEM chain and key, checked: the key must be the
 * certificate's (GnuTLS compares them) and the certificate within its
 * validity. WD_E_CONFIG (logged) otherwise.
 */
static enum wd_err
cred_new(const char *cert_pem, const char *key_pem, const char *trust_pem,
         struct srv_tls_cred **out)
{
    struct srv_tls_cred *c = xcalloc(1, sizeof(*c));
    gnutls_datum_t cert = { (unsigned char *)cert_pem,
                            (unsigned int)strlen(cert_pem) };
    gnutls_datum_t key = { (unsigned char *)key_pem,
                           (unsigned int)strlen(key_pem) };
    gnutls_datum_t trust = { (unsigned char *)trust_pem,
                             (unsigned int)strlen(trust_pem) };
    enum wd_err rc = WD_E_CONFIG;
    int ret;

    atomic_init(&c->refs, 1);
    ret = gnutls_certificate_allocate_credentials(&c->gc);
    if (ret < 0) {
        c->gc = NULL;
        rc = WD_E_INTERNAL;
        goto out;
    }
    ret = gnutls_certificate_set_x509_key_mem(c->gc, &cert, &key,
                                              GNUTLS_X509_FMT_PEM);
    if (ret < 0) {
        log_err("event=tls_identity_invalid files=%s,%s reason=\"%s\"",
                SRV_FILE_SERVER_CERT, SRV_FILE_SERVER_KEY,
                gnutls_strerror(ret));
        goto out;
    }
    if (!in_validity(c->gc, time(NULL))) {
        log_err("event=tls_identity_invalid file=%s "
                "reason=\"not within its validity\"",
                SRV_FILE_SERVER_CERT);
        goto out;
    }
    ret = gnutls_certificate_set_x509_trust_mem(c->gc, &trust,
                                                GNUTLS_X509_FMT_PEM);
    if (ret < 0) {
        log_err("event=tls_identity_invalid what=trust reason=\"%s\"",
                gnutls_strerror(ret));
        goto out;
    }
    rc = WD_OK;
out:
    if (rc != WD_OK) {
        srv_tls_cred_unref(c);
        return rc;
    }
    *out = c;
    return WD_OK;
}

/* The identity to start the listener with. Caller owns *out. */
enum wd_err
srv_tls_new(const char *cert_pem, const char *key_pem, const char *trust_pem,
            struct srv_tls **out)
{
    struct srv_tls_cred *c = NULL;
    struct srv_tls *t;
    enum wd_err rc;

    rc = cred_new(cert_pem, key_pem, trust_pem, &c);
    if (rc != WD_OK) {
        return rc;
    }
    t = xcalloc(1, sizeof(*t));
    if (gnutls_session_ticket_key_generate(&t->ticket_key) < 0) {
        /* resumption is an optimisation: serve without it */
        log_warn("event=tls_tickets_off reason=\"no ticket key\"");
        t->ticket_key.data = NULL;
        t->ticket_key.size = 0;
    }
    pthread_mutex_init(&t->lock, NULL);
    t->cur = c;
    t->trust_pem = xstrdup(trust_pem);
    *out = t;
    return WD_OK;
}

/* Accepts NULL; connections still holding credentials keep them. */
void
srv_tls_free(struct srv_tls *t)
{
    if (t == NULL) {
        return;
    }
    srv_tls_cred_unref(t->cur);
    pthread_mutex_destroy(&t->lock);
    free(t->trust_pem);
    if (t->ticket_key.data != NULL) {
        gnutls_memset(t->ticket_key.data, 0, t->ticket_key.size);
        gnutls_free(t->ticket_key.data);
    }
    free(t);
}

/*
 * Let session resume a TLS session by ticket (RFC 8446 4.6.1; RFC 5077 for
 * TLS 1.2): a client reconnecting skips the key exchange and the
 * certificate signatures. The client certificate travels in the ticket
 * and is checked again, with the store, on every request as on a full
 * handshake. False if tickets are off (the session still works).
 */
bool
srv_tls_tickets_enable(const struct srv_tls *t, gnutls_session_t session)
{
    return t->ticket_key.data != NULL &&
           gnutls_session_ticket_enable_server(session, &t->ticket_key) ==
               GNUTLS_E_SUCCESS;
}

/*
 * Use a new certificate and key for connections accepted from now on.
 * Nothing changes unless both are usable (WD_E_CONFIG, logged).
 */
enum wd_err
srv_tls_reload(struct srv_tls *t, const char *cert_pem, const char *key_pem)
{
    struct srv_tls_cred *fresh = NULL;
    struct srv_tls_cred *old;
    enum wd_err rc;

    rc = cred_new(cert_pem, key_pem, t->trust_pem, &fresh);
    if (rc != WD_OK) {
        return rc;
    }
    pthread_mutex_lock(&t->lock);
    old = t->cur;
    t->cur = fresh;
    pthread_mutex_unlock(&t->lock);
    srv_tls_cred_unref(old);
    return WD_OK;
}

/* The current credentials, with a reference for one connection. */
struct srv_tls_cred *
srv_tls_cred_ref(struct srv_tls *t)
{
    struct srv_tls_cred *c;

    pthread_mutex_lock(&t->lock);
    c = t->cur;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&t->lock);
    return c;
}

/* Give a reference back (after the session's gnutls_deinit); NULL ok. */
void
srv_tls_cred_unref(struct srv_tls_cred *c)
{
    if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1) {
        if (c->gc != NULL) {
            gnutls_certificate_free_credentials(c->gc);
        }
        free(c);
    }
}

/* Put c's certificate and key on a session before its handshake. */
bool
srv_tls_cred_apply(const struct srv_tls_cred *c, gnutls_session_t session)
{
    return gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, c->gc) ==
           GNUTLS_E_SUCCESS;
}
