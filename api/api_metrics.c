/*
 * The numbers behind /metrics that requests move: counters and
 * histograms kept with C11 atomics, so recording one costs a few relaxed
 * increments and never a lock. The label sets are fixed: a route is an
 * entry of a route table (a slot claimed on its first request), a status
 * the exact code it answered, profiles and reasons are pki's. The
 * inventory counts, which cost a scan of an index, are cached beside them
 * (api_stats_cache.c).
 * api_metrics_page.c writes all of it out with what it reads at scrape
 * time.
 */
#include "api_priv.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../server/base/xmalloc.h"

/* Route slots: both route tables, the page and two "unmatched" slots. */
#define MAX_ROUTES 64
/* Distinct statuses one route answers; beyond that, status="other". */
#define MAX_STATUSES 16
/* Slot 0: requests no route of the API listener matched; 1: public. */
#define UNMATCHED_API 0
#define UNMATCHED_PUBLIC 1
/* How old the cached inventory counts may be before a scrape asks for
 * new ones: counting a million rows takes a moment, and a scrape every
 * few seconds must not repeat it. */
#define STATS_MAX_AGE_S 10
/* The "expiring" window of the cached counts (weeks[0] gives 7 days). */
#define STATS_WINDOW_S (30 * 86400)
/* CRLReason codes are 0 to 10 (RFC 5280 5.3.1). */
#define N_REASONS 11

/* Bucket upper bounds, microseconds. */
static const uint64_t request_bounds[] = {
    500,    1000,   2500,   5000,    10000,   25000,   50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};
static const uint64_t signing_bounds[] = {
    100,   250,   500,    1000,   2500,   5000,    10000,
    25000, 50000, 100000, 250000, 500000, 1000000,
};

#define N_REQUEST_BOUNDS (sizeof(request_bounds) / sizeof(request_bounds[0]))
#define N_SIGNING_BOUNDS (sizeof(signing_bounds) / sizeof(signing_bounds[0]))
#define MAX_BOUNDS N_REQUEST_BOUNDS

struct histogram {
    /* observations per bucket (not cumulative); [n_bounds] is +Inf. The
     * count is their sum, so _count always equals the +Inf bucket. */
    atomic_uint_fast64_t buckets[MAX_BOUNDS + 1];
    atomic_uint_fast64_t sum_us;
};

struct status_count {
    atomic_int code; /* 0 = free; -1 = no response was sent */
    atomic_uint_fast64_t n;
};

struct route_slot {
    _Atomic(const void *) key; /* the route table entry; NULL = free */
    atomic_bool named;         /* the labels below are written */
    bool api;                  /* which listener */
    const char *method;
    const char *prefix;
    const char *pattern;
    struct status_count statuses[MAX_STATUSES];
    atomic_uint_fast64_t other_statuses;
    struct histogram latency;
};

struct api_metrics {
    struct route_slot routes[MAX_ROUTES];
    atomic_uint_fast64_t issued[API_N_PROFILES][2]; /* [profile][renewal] */
    atomic_uint_fast64_t revoked[N_REASONS];
    struct histogram signing;
    atomic_uint_fast64_t ocsp_hits;
    atomic_uint_fast64_t ocsp_misses;
    struct api_stats_cache *stats; /* the inventory counts */
};

static void
name_slot(struct route_slot *s, bool api, const char *method,
          const char *prefix, const char *pattern)
{
    s->api = api;
    s->method = method;
    s->prefix = prefix;
    s->pattern = pattern;
    atomic_store(&s->named, true);
}

struct api_metrics *
api_metrics_new(struct store *st)
{
    struct api_metrics *m = xcalloc(1, sizeof(*m));

    /* calloc's zeroes are a valid initial state for these atomics */
    atomic_store(&m->routes[UNMATCHED_API].key, &m->routes[UNMATCHED_API]);
    name_slot(&m->routes[UNMATCHED_API], true, "other", "", "unmatched");
    atomic_store(&m->routes[UNMATCHED_PUBLIC].key,
                 &m->routes[UNMATCHED_PUBLIC]);
    name_slot(&m->routes[UNMATCHED_PUBLIC], false, "other", "", "unmatched");
    m->stats = api_stats_cache_new(st, STATS_WINDOW_S, STATS_MAX_AGE_S);
    return m;
}

void
api_metrics_free(struct api_metrics *m)
{
    if (m == NULL) {
        return;
    }
    api_stats_cache_free(m->stats);
    free(m);
}

static void
observe(struct histogram *h, const uint64_t *bounds, size_t n, uint64_t us)
{
    size_t i = 0;

    while (i < n && us > bounds[i]) {
        i++;
    }
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

/* The slot of route n, claimed on its first request; NULL when full. */
static struct route_slot *
route_slot(struct api_metrics *m, bool api, const struct api_route_name *n)
{
    size_t i;

    for (i = UNMATCHED_PUBLIC + 1; i < MAX_ROUTES; i++) {
        struct route_slot *s = &m->routes[i];
        const void *key = atomic_load(&s->key);

        if (key == NULL) {
            const void *expected = NULL;

            if (atomic_compare_exchange_strong(&s->key, &expected, n->key)) {
                name_slot(s, api, n->method, n->prefix, n->pattern);
                return s;
            }
            key = expected; /* another thread took it first */
        }
        if (key == n->key) {
            return s;
        }
    }
    return NULL;
}

static void
count_status(struct route_slot *s, int status)
{
    int code = status > 0 ? status : -1;
    size_t i;

    for (i = 0; i < MAX_STATUSES; i++) {
        int have = atomic_load(&s->statuses[i].code);

        if (have == 0) {
            int expected = 0;

            have = atomic_compare_exchange_strong(&s->statuses[i].code,
                                                  &expected, code)
                       ? code
                       : expected;
        }
        if (have == code) {
            atomic_fetch_add_explicit(&s->statuses[i].n, 1,
                                      memory_order_relaxed);
            return;
        }
    }
    atomic_fetch_add_explicit(&s->other_statuses, 1, memory_order_relaxed);
}

/*
 * One finished request: its route (as the route tables name it), status
 * (0 when none was sent) and time from its first byte to its end.
 */
void
api_metrics_request(struct api *api, bool api_listener, const char *method,
                    const char *path, int status, uint64_t duration_us)
{
    struct api_metrics *m = api->metrics;
    struct api_route_name n;
    struct route_slot *s = NULL;
    bool found;

    if (m == NULL) {
        return;
    }
    found = api_listener ? api_route_name_get(method, path, &n)
                         : api_public_route_name_get(method, path, &n);
    if (found) {
        s = route_slot(m, api_listener, &n);
    }
    if (s == NULL) {
        s = &m->routes[api_listener ? UNMATCHED_API : UNMATCHED_PUBLIC];
    }
    count_status(s, status);
    observe(&s->latency, request_bounds, N_REQUEST_BOUNDS, duration_us);
}

void
api_metrics_issued(struct api *api, enum pki_profile profile, bool renewal)
{
    if (api->metrics != NULL && (int)profile >= 0 &&
        (int)profile < API_N_PROFILES) {
        atomic_fetch_add_explicit(&api->metrics->issued[profile][renewal], 1,
                                  memory_order_relaxed);
    }
}

void
api_metrics_revoked(struct api *api, int reason)
{
    if (api->metrics != NULL) {
        atomic_fetch_add_explicit(
            &api->metrics
                 ->revoked[reason >= 0 && reason < N_REASONS ? reason : 0],
            1, memory_order_relaxed);
    }
}

void
api_metrics_signed(struct api *api, uint64_t duration_us)
{
    if (api->metrics != NULL) {
        observe(&api->metrics->signing, signing_bounds, N_SIGNING_BOUNDS,
                duration_us);
    }
}

void
api_metrics_ocsp_cache(struct api *api, bool hit)
{
    if (api->metrics != NULL) {
        atomic_fetch_add_explicit(hit ? &api->metrics->ocsp_hits
                                      : &api->metrics->ocsp_misses,
                                  1, memory_order_relaxed);
    }
}

/*
 * The inventory's counts with a 30-day "expiring" window, made at most
 * STATS_MAX_AGE_S before now or, while they are being made again, the
 * previous ones (api_stats_cache.c): a scrape does not wait for a count.
 */
enum wd_err
api_metrics_stats_get(struct api *api, int64_t now,
                      struct store_cert_stats *out)
{
    if (api->metrics == NULL) {
        return store_cert_stats_get(api->store, now, STATS_WINDOW_S, out);
    }
    return api_stats_cache_get(api->metrics->stats, now, out);
}

/* ---- The text exposition of what is recorded here */

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void
label_value(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"') {
            fprintf(f, "\\%c", *s);
        } else if (*s == '\n') {
            fputs("\\n", f);
        } else {
            fputc(*s, f);
        }
    }
}

/* listener="...",method="...",endpoint="..." of a named slot. */
static void
route_labels(FILE *f, const struct route_slot *s)
{
    fprintf(f, "listener=\"%s\",method=\"", s->api ? "api" : "public");
    label_value(f, s->method);
    fputs("\",endpoint=\"", f);
    label_value(f, s->prefix);
    label_value(f, s->pattern);
    fputc('"', f);
}

static bool
slot_named(const struct route_slot *s)
{
    return atomic_load(&s->named);
}

/* Has the route seen a request yet? (Only those get series.) */
static bool
slot_used(const struct route_slot *s)
{
    return slot_named(s) && (atomic_load(&s->statuses[0].code) != 0 ||
                             atomic_load(&s->other_statuses) > 0);
}

/*
 * One histogram's samples: name_bucket{labels,le=...} cumulative, then
 * _sum and _count. labels is written by put (NULL: no labels).
 */
static void
histogram_samples(FILE *f, const char *name, const struct histogram *h,
                  const uint64_t *bounds, size_t n,
                  void (*put)(FILE *, const struct route_slot *),
                  const struct route_slot *s)
{
    unsigned long long cum = 0;
    size_t i;

    for (i = 0; i <= n; i++) {
        cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        fprintf(f, "%s_bucket{", name);
        if (put != NULL) {
            put(f, s);
            fputc(',', f);
        }
        if (i < n) {
            fprintf(f, "le=\"%g\"} %llu\n", (double)bounds[i] / 1e6, cum);
        } else {
            fprintf(f, "le=\"+Inf\"} %llu\n", cum);
        }
    }
    fprintf(f, "%s_sum", name);
    if (put != NULL) {
        fputc('{', f);
        put(f, s);
        fputc('}', f);
    }
    fprintf(f, " %.6f\n%s_count",
            (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) /
                1e6,
            name);
    if (put != NULL) {
        fputc('{', f);
        put(f, s);
        fputc('}', f);
    }
    fprintf(f, " %llu\n", cum);
}

static void
print_requests(FILE *f, const struct api_metrics *m)
{
    size_t i;
    size_t j;

    family(f, "warden_http_requests_total", "counter",
           "HTTP requests answered, by listener, route and status.");
    for (i = 0; i < MAX_ROUTES; i++) {
        const struct route_slot *s = &m->routes[i];

        if (!slot_named(s)) {
            continue;
        }
        for (j = 0; j < MAX_STATUSES; j++) {
            int code = atomic_load(&s->statuses[j].code);

            if (code == 0) {
                continue;
            }
            fputs("warden_http_requests_total{", f);
            route_labels(f, s);
            if (code > 0) {
                fprintf(f, ",status=\"%d\"} ", code);
            } else {
                fputs(",status=\"none\"} ", f);
            }
            fprintf(f, "%llu\n",
                    (unsigned long long)atomic_load(&s->statuses[j].n));
        }
        if (atomic_load(&s->other_statuses) > 0) {
            fputs("warden_http_requests_total{", f);
            route_labels(f, s);
            fprintf(f, ",status=\"other\"} %llu\n",
                    (unsigned long long)atomic_load(&s->other_statuses));
        }
    }
    family(f, "warden_http_request_duration_seconds", "histogram",
           "Time from a request's first byte to its response's last, by "
           "listener and route.");
    for (i = 0; i < MAX_ROUTES; i++) {
        const struct route_slot *s = &m->routes[i];

        if (slot_used(s)) {
            histogram_samples(f, "warden_http_request_duration_seconds",
                              &s->latency, request_bounds, N_REQUEST_BOUNDS,
                              route_labels, s);
        }
    }
}

static void
print_certificates(FILE *f, const struct api_metrics *m)
{
    int p;
    int r;
    int renewal;

    family(f, "warden_certificates_issued_total", "counter",
           "Certificates issued through the API, by profile and operation "
           "(issue or renew).");
    for (p = 0; p < API_N_PROFILES; p++) {
        for (renewal = 0; renewal < 2; renewal++) {
            fprintf(f,
                    "warden_certificates_issued_total{profile=\"%s\","
                    "operation=\"%s\"} %llu\n",
                    pki_profile_name((enum pki_profile)p),
                    renewal ? "renew" : "issue",
                    (unsigned long long)atomic_load(&m->issued[p][renewal]));
        }
    }
    family(f, "warden_certificates_revoked_total", "counter",
           "Certificates revoked through the API, by RFC 5280 reason.");
    for (r = 0; r < N_REASONS; r++) {
        const char *name = pki_reason_name(r);
        enum pki_reason parsed;

        /* the reasons a revocation may give (not certificateHold) */
        if (pki_reason_parse(name, &parsed) && (int)parsed == r) {
            fprintf(f,
                    "warden_certificates_revoked_total{reason=\"%s\"} %llu\n",
                    name, (unsigned long long)atomic_load(&m->revoked[r]));
        }
    }
}

/* The families recorded here, in the text format (version 0.0.4). */
void
api_metrics_print(const struct api_metrics *m, FILE *f)
{
    if (m == NULL) {
        return;
    }
    print_requests(f, m);
    print_certificates(f, m);
    family(f, "warden_signing_duration_seconds", "histogram",
           "Time one private-key operation (a certificate, an OCSP answer) "
           "holds a signing slot.");
    histogram_samples(f, "warden_signing_duration_seconds", &m->signing,
                      signing_bounds, N_SIGNING_BOUNDS, NULL, NULL);
    family(f, "warden_ocsp_cache_hits_total", "counter",
           "OCSP requests without a nonce answered from the pre-signed "
           "cache.");
    fprintf(f, "warden_ocsp_cache_hits_total %llu\n",
            (unsigned long long)atomic_load(&m->ocsp_hits));
    family(f, "warden_ocsp_cache_misses_total", "counter",
           "OCSP requests without a nonce that had to be signed.");
    fprintf(f, "warden_ocsp_cache_misses_total %llu\n",
            (unsigned long long)atomic_load(&m->ocsp_misses));
}
