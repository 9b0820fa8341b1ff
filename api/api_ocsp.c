/*
 * The OCSP responder (RFC 6960) on the public listener: POST /ocsp and
 * GET /ocsp/{base64} (appendix A). Requests without a nonce are answered
 * from a cache of pre-signed responses, keyed by the exact CertID bytes
 * (the response echoes them, so two encodings of one CertID differ),
 * re-signed at half-life (RFC 5019 caching headers); a revocation drops
 * its serial's entries before the revoke call answers. Requests with a
 * nonce, and serials we never issued, are signed live and not cached (a
 * flood of random serials must not fill memory). A request whose exact
 * bytes were seen before skips the parse (struct raw).
 */
#include "api_priv.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server/base/limits.h"
#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* Answers re-signed per background pass (about one pass a second). */
#define REFRESH_BATCH 256

/* Buckets of the cache; entries beyond MAX_ENTRIES start it afresh. */
#define N_BUCKETS 4096
#define MAX_ENTRIES (256 * 1024)

struct entry {
    struct entry *next;
    char serial[WD_MAX_SERIAL_HEX + 1]; /* for forget() */
    /* the key: the CertID exactly as the client sent it */
    uint8_t cert_id[sizeof(((struct pki_ocsp_req *)0)->cert_id)];
    size_t cert_id_len;
    struct api_blob *der;
    time_t this_update;
    time_t next_update;
    time_t refresh_at; /* re-sign from then on */
    /* the caching headers that do not change with the clock, written
     * once when signed rather than on every answer */
    char last_modified[32]; /* this_update, RFC 9110 5.6.7 */
    char expires[32];       /* next_update */
    char etag[96];
};

/*
 * The shortcut in front of the cache: a request's exact bytes, seen before
 * without a nonce, and the CertID they parse to. Relying parties repeat
 * the same request, so most are answered without decoding a byte of ASN.1
 * (the same bytes always parse the same way; nothing here goes stale).
 */
#define RAW_MAX 256                 /* bytes; a nonce-less request is ~80-130 */
#define RAW_MAX_ENTRIES (16 * 1024) /* ~6 MiB at most, then start afresh */

struct raw {
    struct raw *next;
    uint8_t req[RAW_MAX];
    size_t req_len;
    uint8_t cert_id[sizeof(((struct pki_ocsp_req *)0)->cert_id)];
    size_t cert_id_len;
};

struct api_ocsp {
    pthread_rwlock_t responder_lock; /* readers sign, swap writes */
    struct pki_ocsp_responder *responder;
    /* readers answer from the cache; writers fill or drop entries */
    pthread_rwlock_t cache_lock;
    struct entry *buckets[N_BUCKETS];
    size_t n_entries;
    struct raw *raw_buckets[N_BUCKETS];
    size_t n_raw;
    /* bumped by every forget/flush: an answer read from the store before
     * a revocation must not be cached after it */
    uint64_t epoch;
    uint64_t validity_s;
};

static size_t
bucket_of(const uint8_t *id, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ id[i]) * 16777619u;
    }
    return h % N_BUCKETS;
}

static bool
same_id(const struct entry *e, const uint8_t *id, size_t len)
{
    return e->cert_id_len == len && memcmp(e->cert_id, id, len) == 0;
}

static void
entry_free(struct entry *e)
{
    api_blob_unref(e->der);
    free(e);
}

static void
flush_locked(struct api_ocsp *o)
{
    size_t i;

    o->epoch++;
    for (i = 0; i < N_BUCKETS; i++) {
        while (o->buckets[i] != NULL) {
            struct entry *e = o->buckets[i];

            o->buckets[i] = e->next;
            entry_free(e);
        }
    }
    o->n_entries = 0;
}

/* The fresh entry for this CertID, or NULL; cache_lock is held. */
static struct entry *
find_locked(struct api_ocsp *o, const uint8_t *id, size_t len, time_t now)
{
    struct entry *e;

    for (e = o->buckets[bucket_of(id, len)]; e != NULL; e = e->next) {
        if (same_id(e, id, len)) {
            return now < e->refresh_at ? e : NULL;
        }
    }
    return NULL;
}

/* A fresh cached response for this CertID, with a reference; or NULL. */
static struct entry *
cache_get(struct api_ocsp *o, const struct pki_ocsp_req *req, time_t now,
          struct entry *copy)
{
    struct entry *e;

    pthread_rwlock_rdlock(&o->cache_lock);
    e = find_locked(o, req->cert_id, req->cert_id_len, now);
    if (e != NULL) {
        *copy = *e;
        copy->der = api_blob_ref(e->der);
    }
    pthread_rwlock_unlock(&o->cache_lock);
    return e != NULL ? copy : NULL;
}

/* The fresh cached response for a request seen before with exactly these
 * bytes (and no nonce), with a reference; or NULL. */
static struct entry *
raw_get(struct api_ocsp *o, const uint8_t *der, size_t len, time_t now,
        struct entry *copy)
{
    struct entry *e = NULL;
    struct raw *r;

    if (len > RAW_MAX) {
        return NULL;
    }
    pthread_rwlock_rdlock(&o->cache_lock);
    for (r = o->raw_buckets[bucket_of(der, len)]; r != NULL; r = r->next) {
        if (r->req_len == len && memcmp(r->req, der, len) == 0) {
            e = find_locked(o, r->cert_id, r->cert_id_len, now);
            break;
        }
    }
    if (e != NULL) {
        *copy = *e;
        copy->der = api_blob_ref(e->der);
    }
    pthread_rwlock_unlock(&o->cache_lock);
    return e != NULL ? copy : NULL;
}

static void
raw_flush_locked(struct api_ocsp *o)
{
    size_t i;

    for (i = 0; i < N_BUCKETS; i++) {
        while (o->raw_buckets[i] != NULL) {
            struct raw *r = o->raw_buckets[i];

            o->raw_buckets[i] = r->next;
            free(r);
        }
    }
    o->n_raw = 0;
}

/* Remember that these request bytes (no nonce, ours) name req's CertID. */
static void
raw_put(struct api_ocsp *o, const uint8_t *der, size_t len,
        const struct pki_ocsp_req *req)
{
    size_t b = bucket_of(der, len);
    struct raw *r;

    if (len > RAW_MAX) {
        return;
    }
    pthread_rwlock_wrlock(&o->cache_lock);
    for (r = o->raw_buckets[b]; r != NULL; r = r->next) {
        if (r->req_len == len && memcmp(r->req, der, len) == 0) {
            pthread_rwlock_unlock(&o->cache_lock);
            return;
        }
    }
    if (o->n_raw >= RAW_MAX_ENTRIES) {
        raw_flush_locked(o);
    }
    r = xmalloc(sizeof(*r));
    memcpy(r->req, der, len);
    r->req_len = len;
    memcpy(r->cert_id, req->cert_id, req->cert_id_len);
    r->cert_id_len = req->cert_id_len;
    r->next = o->raw_buckets[b];
    o->raw_buckets[b] = r;
    o->n_raw++;
    pthread_rwlock_unlock(&o->cache_lock);
}

static uint64_t
cache_epoch(struct api_ocsp *o)
{
    uint64_t e;

    pthread_rwlock_rdlock(&o->cache_lock);
    e = o->epoch;
    pthread_rwlock_unlock(&o->cache_lock);
    return e;
}

/* Cache fresh unless a revocation happened since epoch was read. */
static void
cache_put(struct api_ocsp *o, const struct entry *fresh, uint64_t epoch)
{
    size_t b = bucket_of(fresh->cert_id, fresh->cert_id_len);
    struct entry **pp;
    struct entry *e = xmalloc(sizeof(*e));

    *e = *fresh;
    e->der = api_blob_ref(fresh->der);
    pthread_rwlock_wrlock(&o->cache_lock);
    if (o->epoch != epoch) {
        pthread_rwlock_unlock(&o->cache_lock);
        entry_free(e);
        return;
    }
    for (pp = &o->buckets[b]; *pp != NULL; pp = &(*pp)->next) {
        if (same_id(*pp, e->cert_id, e->cert_id_len)) {
            struct entry *old = *pp;

            *pp = old->next;
            entry_free(old);
            o->n_entries--;
            break;
        }
    }
    if (o->n_entries >= MAX_ENTRIES) {
        flush_locked(o);
        b = bucket_of(e->cert_id, e->cert_id_len);
    }
    e->next = o->buckets[b];
    o->buckets[b] = e;
    o->n_entries++;
    pthread_rwlock_unlock(&o->cache_lock);
}

/* Drop every cached response about serial (any CertID form). */
void
api_ocsp_forget(struct api *api, const char *serial)
{
    struct api_ocsp *o = api->ocsp;
    size_t i;

    if (o == NULL) {
        return;
    }
    pthread_rwlock_wrlock(&o->cache_lock);
    o->epoch++;
    for (i = 0; i < N_BUCKETS; i++) {
        struct entry **pp = &o->buckets[i];

        while (*pp != NULL) {
            if (strcmp((*pp)->serial, serial) == 0) {
                struct entry *old = *pp;

                *pp = old->next;
                entry_free(old);
                o->n_entries--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
    pthread_rwlock_unlock(&o->cache_lock);
}

/* Drop the whole cache (revocations by another process; new responder). */
void
api_ocsp_flush(struct api *api)
{
    struct api_ocsp *o = api->ocsp;

    if (o == NULL) {
        return;
    }
    pthread_rwlock_wrlock(&o->cache_lock);
    flush_locked(o);
    pthread_rwlock_unlock(&o->cache_lock);
}

/* RFC 6960 / RFC 5019 6.2: the caching headers of a signed response. */
static void
cache_headers(struct api_resp *resp, const struct entry *e, bool cacheable)
{
    char buf[96];
    time_t now = time(NULL);
    long max_age = e->next_update > now ? (long)(e->next_update - now) : 0;

    api_resp_header(resp, "Last-Modified", e->last_modified);
    if (!cacheable) {
        api_resp_header(resp, "Cache-Control", "no-store");
        return;
    }
    api_resp_header(resp, "Expires", e->expires);
    snprintf(buf, sizeof(buf),
             "public, max-age=%ld, no-transform, must-revalidate", max_age);
    api_resp_header(resp, "Cache-Control", buf);
    api_resp_header(resp, "ETag", e->etag);
}

/* An OCSP error status as the whole answer (HTTP 200, RFC 6960 A.1). */
static void
send_status(struct api_resp *resp, enum pki_ocsp_error status)
{
    uint8_t *der = NULL;
    size_t len = 0;

    if (pki_ocsp_resp_error(status, &der, &len) != WD_OK) {
        api_error(resp, WD_E_INTERNAL, NULL);
        return;
    }
    api_text_send(resp, 200, "application/ocsp-response", der, len);
    api_resp_header(resp, "Cache-Control", "no-store");
    free(der);
}

/* What the store says about serial, as an OCSP answer. */
static enum wd_err
answer_for(struct api *api, const char *serial, time_t now,
           struct pki_ocsp_answer *a, bool *issued)
{
    struct store_cert_state st;
    enum wd_err rc;

    rc = store_cert_state_get(api->store, serial, &st);
    if (rc != WD_OK) {
        return rc;
    }
    memset(a, 0, sizeof(*a));
    a->produced_at = now;
    a->this_update = now;
    a->next_update = now + (time_t)api->ocsp->validity_s;
    a->reason = -1;
    *issued = st.found;
    if (!st.found) {
        /* never "good" for what we never issued */
        a->status = PKI_OCSP_UNKNOWN;
    } else if (st.revoked_at != 0) {
        a->status = PKI_OCSP_REVOKED;
        a->revoked_at = (time_t)st.revoked_at;
        /* like the CRL: unspecified is left out (RFC 5280 5.3.1) */
        a->reason =
            st.revoke_reason == PKI_REASON_UNSPECIFIED ? -1 : st.revoke_reason;
    } else {
        a->status = PKI_OCSP_GOOD;
    }
    return WD_OK;
}

/*
 * Look req's serial up and sign a response valid from now: the fresh
 * entry (with one blob reference, the caller's). WD_E_UNAVAILABLE when the
 * store or a signing slot is not to be had, the slot waited for only if
 * wait (the refresher's own thread may; a public request may not);
 * *issued says whether the serial is ours (only those are cached).
 */
static enum wd_err
sign_fresh(struct api *api, const struct pki_ocsp_req *req, time_t now,
           bool wait, struct entry *fresh, bool *issued)
{
    struct api_ocsp *o = api->ocsp;
    struct pki_ocsp_answer a;
    uint8_t *out = NULL;
    size_t out_len = 0;
    enum wd_err rc;

    if (answer_for(api, req->serial, now, &a, issued) != WD_OK ||
        (wait ? api_sign_begin(api) : api_sign_try_begin(api)) != WD_OK) {
        return WD_E_UNAVAILABLE;
    }
    pthread_rwlock_rdlock(&o->responder_lock);
    rc = pki_ocsp_resp_build(o->responder, req, &a, &out, &out_len);
    pthread_rwlock_unlock(&o->responder_lock);
    api_sign_end(api);
    if (rc != WD_OK) {
        return rc;
    }
    memset(fresh, 0, sizeof(*fresh));
    snprintf(fresh->serial, sizeof(fresh->serial), "%s", req->serial);
    memcpy(fresh->cert_id, req->cert_id, req->cert_id_len);
    fresh->cert_id_len = req->cert_id_len;
    fresh->der = api_blob_new(out, out_len);
    fresh->this_update = a.this_update;
    fresh->next_update = a.next_update;
    fresh->refresh_at = a.this_update + (time_t)(o->validity_s / 2);
    api_http_date(fresh->this_update, fresh->last_modified,
                  sizeof(fresh->last_modified));
    api_http_date(fresh->next_update, fresh->expires, sizeof(fresh->expires));
    snprintf(fresh->etag, sizeof(fresh->etag), "\"%s-%08zx-%lld\"",
             fresh->serial, bucket_of(fresh->cert_id, fresh->cert_id_len),
             (long long)fresh->this_update);
    free(out);
    return WD_OK;
}

/*
 * Re-sign, in the background, every cached answer past half its life, so
 * that a relying party never meets a stale one nor waits for a signature.
 * Called by the revocation worker about once a second; the work per call
 * is bounded (REFRESH_BATCH) and the rest waits for the next call.
 */
void
api_ocsp_refresh(struct api *api)
{
    struct api_ocsp *o = api->ocsp;
    struct pki_ocsp_req *due = NULL;
    size_t n_due = 0;
    time_t now = time(NULL);
    uint64_t epoch;
    size_t i;
    struct entry *e;

    if (o == NULL) {
        return;
    }
    due = xcalloc(REFRESH_BATCH, sizeof(*due));
    pthread_rwlock_rdlock(&o->cache_lock);
    epoch = o->epoch;
    for (i = 0; i < N_BUCKETS && n_due < REFRESH_BATCH; i++) {
        for (e = o->buckets[i]; e != NULL && n_due < REFRESH_BATCH;
             e = e->next) {
            if (now >= e->refresh_at) {
                struct pki_ocsp_req *r = &due[n_due++];

                snprintf(r->serial, sizeof(r->serial), "%s", e->serial);
                memcpy(r->cert_id, e->cert_id, e->cert_id_len);
                r->cert_id_len = e->cert_id_len;
                r->ours = true; /* only our own CertIDs are cached */
            }
        }
    }
    pthread_rwlock_unlock(&o->cache_lock);
    for (i = 0; i < n_due; i++) {
        struct entry fresh;
        bool issued = false;

        if (sign_fresh(api, &due[i], now, true, &fresh, &issued) == WD_OK) {
            if (issued) {
                cache_put(o, &fresh, epoch);
            }
            api_blob_unref(fresh.der);
        }
    }
    if (n_due > 0) {
        log_info("event=ocsp_refreshed answers=%zu", n_due);
    }
    free(due);
}

/* Answer one DER OCSPRequest. */
static void
answer(struct api *api, const uint8_t *der, size_t len, struct api_resp *resp)
{
    struct api_ocsp *o = api->ocsp;
    struct pki_ocsp_req req;
    struct entry fresh = { 0 };
    struct entry hit;
    time_t now = time(NULL);
    bool issued = false;
    uint64_t epoch;
    enum wd_err rc;

    if (o == NULL) {
        send_status(resp, PKI_OCSP_TRY_LATER);
        return;
    }
    if (raw_get(o, der, len, now, &hit) != NULL) {
        api_metrics_ocsp_cache(api, true);
        api_blob_send(resp, 200, "application/ocsp-response", hit.der);
        cache_headers(resp, &hit, true);
        api_blob_unref(hit.der);
        return;
    }
    if (pki_ocsp_req_parse(api->ca, der, len, &req) != WD_OK) {
        send_status(resp, PKI_OCSP_MALFORMED_REQUEST);
        return;
    }
    if (!req.ours) {
        send_status(resp, PKI_OCSP_UNAUTHORIZED);
        return;
    }
    if (!req.has_nonce) {
        raw_put(o, der, len, &req);
    }
    if (!req.has_nonce && cache_get(o, &req, now, &hit)) {
        api_metrics_ocsp_cache(api, true);
        api_blob_send(resp, 200, "application/ocsp-response", hit.der);
        cache_headers(resp, &hit, true);
        api_blob_unref(hit.der);
        return;
    }
    if (!req.has_nonce) {
        api_metrics_ocsp_cache(api, false);
    }
    epoch = cache_epoch(o);
    rc = sign_fresh(api, &req, now, false, &fresh, &issued);
    if (rc == WD_E_UNAVAILABLE) {
        send_status(resp, PKI_OCSP_TRY_LATER);
        return;
    }
    if (rc != WD_OK) {
        send_status(resp, PKI_OCSP_INTERNAL_ERROR);
        return;
    }
    if (!req.has_nonce && issued) {
        cache_put(o, &fresh, epoch);
    }
    api_blob_send(resp, 200, "application/ocsp-response", fresh.der);
    cache_headers(resp, &fresh, !req.has_nonce);
    api_blob_unref(fresh.der);
}

/* POST /ocsp with an application/ocsp-request body. */
void
api_ocsp_post(struct api *api, const struct api_req *req, struct api_resp *resp)
{
    char type[96];

    api_media_type(req->content_type, type, sizeof(type));
    if (type[0] != '\0' && strcmp(type, "application/ocsp-request") != 0) {
        api_error(resp, WD_E_MEDIA_TYPE, "send application/ocsp-request");
        return;
    }
    answer(api, req->body, req->body_len, resp);
}

/* GET /ocsp/{base64 of the DER request}, already percent-decoded. */
void
api_ocsp_get(struct api *api, const struct api_req *req, const char *b64,
             struct api_resp *resp)
{
    uint8_t *der = NULL;
    size_t len = 0;

    (void)req;
    if (pki_base64_decode(b64, strlen(b64), &der, &len) != WD_OK) {
        send_status(resp, PKI_OCSP_MALFORMED_REQUEST);
        return;
    }
    answer(api, der, len, resp);
    free(der);
}

/* Replace the responder (renewal); cached answers were signed by the old. */
void
api_ocsp_responder_set(struct api *api, struct pki_ocsp_responder *r)
{
    struct api_ocsp *o = api->ocsp;
    struct pki_ocsp_responder *old;

    if (o == NULL) {
        pki_ocsp_responder_free(r);
        return;
    }
    pthread_rwlock_wrlock(&o->responder_lock);
    old = o->responder;
    o->responder = r;
    pthread_rwlock_unlock(&o->responder_lock);
    pki_ocsp_responder_free(old);
    api_ocsp_flush(api);
}

/* Set up the responder state; r NULL = sign with the intermediate. */
enum wd_err
api_ocsp_start(struct api *api, const struct api_revocation_cfg *cfg,
               struct pki_ocsp_responder *r)
{
    struct api_ocsp *o = xcalloc(1, sizeof(*o));
    enum wd_err rc = WD_OK;

    if (r == NULL) {
        rc = pki_ocsp_responder_new(api->ca, NULL, NULL, &r);
        if (rc != WD_OK) {
            free(o);
            return rc;
        }
    }
    pthread_rwlock_init(&o->responder_lock, NULL);
    pthread_rwlock_init(&o->cache_lock, NULL);
    o->responder = r;
    o->validity_s = cfg->ocsp_validity_s;
    api->ocsp = o;
    return WD_OK;
}

/* Free the responder and the cache. Safe when never started. */
void
api_ocsp_stop(struct api *api)
{
    struct api_ocsp *o = api->ocsp;

    if (o == NULL) {
        return;
    }
    flush_locked(o);
    raw_flush_locked(o);
    pki_ocsp_responder_free(o->responder);
    pthread_rwlock_destroy(&o->responder_lock);
    pthread_rwlock_destroy(&o->cache_lock);
    free(o);
    api->ocsp = NULL;
}
