/*
 * The intermediate's CRL: built from the store in one streaming pass,
 * published in memory, served at /crl, /crl.pem and /crls.pem (with the
 * root's CRL, also at /root.crl). A worker thread rebuilds it when a
 * revocation asks for it (the revoke handler waits for the CRL that
 * includes its revocation), when another process revoked (the store's
 * STORE_COUNTER_REVOCATIONS counter moved) and at half-life, well before
 * nextUpdate. Revocations arriving during a build are folded into the next one:
 * the worker always builds for the newest requested generation.
 */
#include "api_priv.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* How often the worker looks for revocations by other processes. */
#define POLL_S 1
/* After a failed build, retry this soon. */
#define RETRY_S 5
/* How long a revoke waits for the CRL that includes it. */
#define NOTIFY_WAIT_S 30

/* One published CRL: everything a GET needs, replaced whole. */
struct crl_pub {
    struct api_blob *der;
    struct api_blob *pem;
    struct api_blob *bundle; /* this CRL's PEM + the root's */
    uint64_t number;
    time_t this_update;
    time_t next_update;
};

struct api_crl {
    pthread_mutex_t mu;
    pthread_cond_t wake;  /* the worker waits here */
    pthread_cond_t built; /* revokers wait here */
    pthread_t thread;
    bool running;
    bool stop;
    uint64_t requested;       /* newest generation asked for */
    uint64_t done;            /* generation the published CRL covers */
    time_t refresh_at;        /* rebuild by then regardless */
    time_t retry_at;          /* after a failed build, not before */
    int64_t seen_revocations; /* worker only: counter at last build */
    struct api_revocation_cfg cfg;
    struct crl_pub pub;        /* under mu */
    struct api_blob *root_der; /* under mu */
    uint64_t root_hash;        /* FNV-1a of root_der, for ETags */
    struct api_blob *root_pem; /* under mu */
};

static void
pub_clear(struct crl_pub *p)
{
    api_blob_unref(p->der);
    api_blob_unref(p->pem);
    api_blob_unref(p->bundle);
    memset(p, 0, sizeof(*p));
}

static enum wd_err
add_entry(void *ctx, const char *serial, int64_t revoked_at, int reason,
          int64_t not_after)
{
    (void)not_after;
    /* RFC 5280 5.3.1: reasonCode unspecified SHOULD be absent */
    return pki_crl_add(ctx, serial, (time_t)revoked_at,
                       reason == PKI_REASON_UNSPECIFIED ? -1 : reason);
}

/* crls.pem: what nginx ssl_crl and openssl -crl_check_all need. */
static struct api_blob *
make_bundle(const struct api_blob *pem, const struct api_blob *root_pem)
{
    size_t a = api_blob_len(pem);
    size_t b = root_pem != NULL ? api_blob_len(root_pem) : 0;
    uint8_t *buf = xmalloc(a + b + 1);
    struct api_blob *out;

    memcpy(buf, api_blob_data(pem), a);
    if (b > 0) {
        memcpy(buf + a, api_blob_data(root_pem), b);
    }
    out = api_blob_new(buf, a + b);
    free(buf);
    return out;
}

/*
 * Build and sign a new CRL of the intermediate from the store. The CRL
 * number is taken (and committed) first, so numbers never repeat even if
 * we crash mid-build. Caller frees *der.
 */
enum wd_err
api_crl_build(struct store *st, const struct pki_ca *ca,
              const struct api_revocation_cfg *cfg, time_t now, uint8_t **der,
              size_t *der_len, uint64_t *number)
{
    struct pki_crl_builder *b = NULL;
    struct pki_crl_params params;
    int64_t n;
    enum wd_err rc;

    rc = store_counter_next(st, "crl_number", &n);
    if (rc != WD_OK) {
        return rc;
    }
    params.number = (uint64_t)n;
    params.this_update = now;
    params.next_update = now + (time_t)cfg->crl_validity_s;
    rc = pki_crl_begin(ca, &params, &b);
    if (rc != WD_OK) {
        return rc;
    }
    /* RFC 5280 5.1.2.6: entries may leave once the certificate expires */
    rc = store_revoked_foreach(st, cfg->crl_keep_expired ? 0 : now, add_entry,
                               b);
    if (rc != WD_OK) {
        pki_crl_abort(b);
        return rc;
    }
    rc = pki_crl_finish(b, der, der_len);
    if (rc == WD_OK) {
        *number = params.number;
    }
    return rc;
}

/* A new publication: DER, PEM and the bundle with the root's CRL. */
static enum wd_err
build(struct api *api, const struct api_blob *root_pem, struct crl_pub *out)
{
    struct api_crl *c = api->crl;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *pem = NULL;
    uint64_t number = 0;
    time_t now = time(NULL);
    enum wd_err rc;

    rc = api_crl_build(api->store, api->ca, &c->cfg, now, &der, &der_len,
                       &number);
    if (rc != WD_OK) {
        goto out;
    }
    rc = pki_der_to_pem("X509 CRL", der, der_len, &pem);
    if (rc != WD_OK) {
        goto out;
    }
    out->der = api_blob_new(der, der_len);
    out->pem = api_blob_new(pem, strlen(pem));
    out->bundle = make_bundle(out->pem, root_pem);
    out->number = number;
    out->this_update = now;
    out->next_update = now + (time_t)c->cfg.crl_validity_s;
    log_info("event=crl_built number=%llu bytes=%zu",
             (unsigned long long)number, der_len);
out:
    free(der);
    free(pem);
    return rc;
}

/*
 * One build for generation gen, then publish. Called without mu; takes
 * it to publish. A failed build keeps the previous CRL and retries soon.
 */
static void
rebuild(struct api *api, uint64_t gen, int64_t revocations)
{
    struct api_crl *c = api->crl;
    struct crl_pub fresh = { 0 };
    struct api_blob *root_pem;
    enum wd_err rc;

    pthread_mutex_lock(&c->mu);
    root_pem = api_blob_ref(c->root_pem);
    pthread_mutex_unlock(&c->mu);
    rc = build(api, root_pem, &fresh);
    api_blob_unref(root_pem);
    pthread_mutex_lock(&c->mu);
    if (rc == WD_OK) {
        pub_clear(&c->pub);
        c->pub = fresh;
        c->seen_revocations = revocations;
        c->refresh_at = fresh.this_update + (time_t)(c->cfg.crl_validity_s / 2);
        if (gen > c->done) {
            c->done = gen;
        }
        c->retry_at = 0;
        pthread_cond_broadcast(&c->built);
    } else {
        /* revokers keep waiting: their revocation is not published yet */
        log_err("event=crl_build_failed err=%s retry_s=%d", wd_err_str(rc),
                RETRY_S);
        c->retry_at = time(NULL) + RETRY_S;
    }
    pthread_mutex_unlock(&c->mu);
}

/* Has another process revoked since the last build? */
static bool
revoked_elsewhere(struct api *api, int64_t *revocations)
{
    if (store_counter_get(api->store, STORE_COUNTER_REVOCATIONS, revocations) !=
        WD_OK) {
        return false;
    }
    return *revocations != api->crl->seen_revocations;
}

static void *
worker(void *arg)
{
    struct api *api = arg;
    struct api_crl *c = api->crl;

    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        uint64_t gen = c->requested;
        int64_t revocations = c->seen_revocations;
        time_t now = time(NULL);
        bool due =
            (gen > c->done || now >= c->refresh_at) && now >= c->retry_at;
        bool elsewhere;
        struct timespec until;

        pthread_mutex_unlock(&c->mu);
        elsewhere = revoked_elsewhere(api, &revocations);
        if (elsewhere) {
            /* we don't know which serials: start OCSP afresh */
            api_ocsp_flush(api);
        }
        if (due || elsewhere) {
            rebuild(api, gen, revocations);
        }
        /* OCSP answers past half-life are re-signed here, not on demand */
        api_ocsp_refresh(api);
        pthread_mutex_lock(&c->mu);
        if (c->stop || (c->requested > c->done && time(NULL) >= c->retry_at)) {
            continue;
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += POLL_S;
        pthread_cond_timedwait(&c->wake, &c->mu, &until);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/*
 * Ask for a CRL that includes everything committed so far and wait (at
 * most NOTIFY_WAIT_S) until it is published. WD_E_UNAVAILABLE on timeout:
 * the revocation is durable and the CRL follows.
 */
enum wd_err
api_crl_refresh(struct api *api)
{
    struct api_crl *c = api->crl;
    struct timespec until;
    uint64_t gen;
    enum wd_err rc = WD_OK;

    if (c == NULL) {
        return WD_OK;
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += NOTIFY_WAIT_S;
    pthread_mutex_lock(&c->mu);
    gen = ++c->requested;
    pthread_cond_signal(&c->wake);
    while (c->done < gen && !c->stop) {
        if (pthread_cond_timedwait(&c->built, &c->mu, &until) != 0) {
            rc = WD_E_UNAVAILABLE;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* A content hash for the root CRL's ETag: a re-signed CRL of the same
 * length must not match the old one. */
static uint64_t
fnv1a(const uint8_t *p, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    return h;
}

static void
set_root(struct api_crl *c, const uint8_t *der, size_t len)
{
    char *pem = NULL;

    api_blob_unref(c->root_der);
    api_blob_unref(c->root_pem);
    c->root_der = NULL;
    c->root_pem = NULL;
    c->root_hash = 0;
    if (der == NULL || len == 0) {
        return;
    }
    if (pki_der_to_pem("X509 CRL", der, len, &pem) != WD_OK) {
        return;
    }
    c->root_der = api_blob_new(der, len);
    c->root_pem = api_blob_new(pem, strlen(pem));
    c->root_hash = fnv1a(der, len);
    free(pem);
}

/* Replace the root's CRL and republish the bundle (crls.pem). */
void
api_root_crl_set(struct api *api, const uint8_t *der, size_t len)
{
    struct api_crl *c = api->crl;

    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    set_root(c, der, len);
    if (c->pub.pem != NULL) {
        api_blob_unref(c->pub.bundle);
        c->pub.bundle = make_bundle(c->pub.pem, c->root_pem);
    }
    pthread_mutex_unlock(&c->mu);
    log_info("event=root_crl_loaded bytes=%zu", len);
}

/* Set up the CRL state, build the first CRL, start the worker. */
enum wd_err
api_crl_start(struct api *api, const struct api_revocation_cfg *cfg,
              const uint8_t *root_crl, size_t root_len)
{
    struct api_crl *c = xcalloc(1, sizeof(*c));
    int64_t revocations = 0;

    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->built, NULL);
    c->cfg = *cfg;
    set_root(c, root_crl, root_len);
    api->crl = c;
    store_counter_get(api->store, STORE_COUNTER_REVOCATIONS, &revocations);
    rebuild(api, 0, revocations);
    if (c->pub.der == NULL) {
        api_crl_stop(api);
        return WD_E_INTERNAL;
    }
    if (pthread_create(&c->thread, NULL, worker, api) != 0) {
        log_err("event=crl_worker_failed");
        api_crl_stop(api);
        return WD_E_INTERNAL;
    }
    c->running = true;
    return WD_OK;
}

/* Stop the worker and free the state. Safe when never started. */
void
api_crl_stop(struct api *api)
{
    struct api_crl *c = api->crl;

    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->wake);
    pthread_cond_broadcast(&c->built);
    pthread_mutex_unlock(&c->mu);
    if (c->running) {
        pthread_join(c->thread, NULL);
    }
    pub_clear(&c->pub);
    api_blob_unref(c->root_der);
    api_blob_unref(c->root_pem);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->built);
    free(c);
    api->crl = NULL;
}

/* The published CRL as /metrics and /healthz describe it. */
void
api_crl_state_get(struct api *api, struct api_crl_state *out)
{
    struct api_crl *c = api->crl;

    memset(out, 0, sizeof(*out));
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    if (c->pub.der != NULL) {
        out->published = true;
        out->number = c->pub.number;
        out->der_len = api_blob_len(c->pub.der);
        out->this_update = c->pub.this_update;
        out->next_update = c->pub.next_update;
    }
    out->validity_s = c->cfg.crl_validity_s;
    pthread_mutex_unlock(&c->mu);
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7). */
void
api_http_date(time_t t, char *out, size_t outsz)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, outsz, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Does the If-None-Match list name etag (or "*")? */
bool
api_etag_matches(const char *if_none_match, const char *etag)
{
    const char *p = if_none_match;
    size_t elen = strlen(etag);

    if (p == NULL) {
        return false;
    }
    while (*p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '\t') {
            p++;
        }
        if (*p == '*') {
            return true;
        }
        if (strncmp(p, "W/", 2) == 0) {
            p += 2;
        }
        if (strncmp(p, etag, elen) == 0 &&
            (p[elen] == '\0' || p[elen] == ',' || p[elen] == ' ')) {
            return true;
        }
        p += strcspn(p, ",");
    }
    return false;
}

/* ETag, Last-Modified, Expires and a max-age that ends at nextUpdate. */
static void
cache_headers(struct api_resp *resp, const char *etag, time_t this_update,
              time_t next_update)
{
    char buf[96];
    time_t now = time(NULL);
    long max_age = next_update > now ? (long)(next_update - now) : 0;

    api_resp_header(resp, "ETag", etag);
    api_http_date(this_update, buf, sizeof(buf));
    api_resp_header(resp, "Last-Modified", buf);
    api_http_date(next_update, buf, sizeof(buf));
    api_resp_header(resp, "Expires", buf);
    snprintf(buf, sizeof(buf), "public, max-age=%ld, no-transform", max_age);
    api_resp_header(resp, "Cache-Control", buf);
}

enum crl_form { CRL_DER, CRL_PEM, CRL_BUNDLE, CRL_ROOT };

static void
send_crl(struct api *api, const struct api_req *req, enum crl_form form,
         struct api_resp *resp)
{
    struct api_crl *c = api->crl;
    struct api_blob *blob = NULL;
    struct crl_pub pub;
    char etag[64];
    const char *type = "application/pkix-crl";

    if (c == NULL) {
        api_error(resp, WD_E_UNAVAILABLE, NULL);
        return;
    }
    pthread_mutex_lock(&c->mu);
    pub = c->pub;
    switch (form) {
    case CRL_DER:
        blob = api_blob_ref(pub.der);
        snprintf(etag, sizeof(etag), "\"crl-%llu\"",
                 (unsigned long long)pub.number);
        break;
    case CRL_PEM:
        blob = api_blob_ref(pub.pem);
        type = "application/x-pem-file";
        snprintf(etag, sizeof(etag), "\"crl-pem-%llu\"",
                 (unsigned long long)pub.number);
        break;
    case CRL_BUNDLE:
        blob = api_blob_ref(pub.bundle);
        type = "application/x-pem-file";
        snprintf(etag, sizeof(etag), "\"crls-%llu-%016llx\"",
                 (unsigned long long)pub.number,
                 (unsigned long long)c->root_hash);
        break;
    case CRL_ROOT:
        blob = api_blob_ref(c->root_der);
        snprintf(etag, sizeof(etag), "\"root-crl-%016llx\"",
                 (unsigned long long)c->root_hash);
        break;
    }
    pthread_mutex_unlock(&c->mu);
    if (blob == NULL) {
        api_error(resp, WD_E_NOT_FOUND, "no root CRL in the data dir");
        return;
    }
    if (api_etag_matches(req->if_none_match, etag)) {
        api_text_send(resp, 304, type, "", 0);
    } else {
        api_blob_send(resp, 200, type, blob);
    }
    if (form == CRL_ROOT) {
        /* the root's CRL changes only when an operator re-signs it */
        api_resp_header(resp, "ETag", etag);
        api_resp_header(resp, "Cache-Control", "public, max-age=3600");
    } else {
        cache_headers(resp, etag, pub.this_update, pub.next_update);
    }
    api_blob_unref(blob);
}

/* GET /crl: DER, application/pkix-crl (RFC 5280 4.2.1.13). */
void
api_crl_get_der(struct api *api, const struct api_req *req,
                struct api_resp *resp)
{
    send_crl(api, req, CRL_DER, resp);
}

/* GET /crl.pem */
void
api_crl_get_pem(struct api *api, const struct api_req *req,
                struct api_resp *resp)
{
    send_crl(api, req, CRL_PEM, resp);
}

/* GET /crls.pem: the intermediate's CRL and the root's, PEM. */
void
api_crl_get_bundle(struct api *api, const struct api_req *req,
                   struct api_resp *resp)
{
    send_crl(api, req, CRL_BUNDLE, resp);
}

/* GET /root.crl: the root's CRL, DER (the intermediate's CRL DP). */
void
api_crl_get_root(struct api *api, const struct api_req *req,
                 struct api_resp *resp)
{
    send_crl(api, req, CRL_ROOT, resp);
}
