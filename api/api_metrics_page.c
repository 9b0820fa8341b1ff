/*
 * GET /metrics on the public listener: the Prometheus text format,
 * version 0.0.4. What requests move is recorded in api_metrics.c; what
 * describes the CA's state is read here, per scrape: the inventory's
 * counts (cached, recounted beside the scrape: api_stats_cache.c), the
 * published CRL and the database's size. Names carry their unit
 * (_seconds, _bytes) and counters end in _total.
 */
#include "api_priv.h"

#include <stdio.h>
#include <stdlib.h>

#include "../server/base/log.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void
gauge(FILE *f, const char *name, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void
print_inventory(FILE *f, struct api *api, int64_t now)
{
    struct store_cert_stats s;

    if (api_metrics_stats_get(api, now, &s) != WD_OK) {
        return; /* logged by the store; the other families still count */
    }
    gauge(f, "warden_certificates",
          "Certificates in the inventory by status; valid includes those "
          "expiring soon.");
    fprintf(f,
            "warden_certificates{status=\"valid\"} %lld\n"
            "warden_certificates{status=\"expired\"} %lld\n"
            "warden_certificates{status=\"revoked\"} %lld\n",
            (long long)s.valid, (long long)s.expired, (long long)s.revoked);
    gauge(f, "warden_certificates_expiring",
          "Valid certificates whose notAfter falls within the window.");
    fprintf(f,
            "warden_certificates_expiring{within=\"7d\"} %lld\n"
            "warden_certificates_expiring{within=\"30d\"} %lld\n",
            (long long)s.weeks[0], (long long)s.expiring);
}

static void
print_crl(FILE *f, struct api *api, int64_t now)
{
    struct api_crl_state c;

    api_crl_state_get(api, &c);
    if (!c.published) {
        return;
    }
    gauge(f, "warden_crl_number", "CRL number of the published CRL.");
    fprintf(f, "warden_crl_number %llu\n", (unsigned long long)c.number);
    gauge(f, "warden_crl_size_bytes", "Size of the published CRL (DER).");
    fprintf(f, "warden_crl_size_bytes %zu\n", c.der_len);
    gauge(f, "warden_crl_this_update_timestamp_seconds",
          "thisUpdate of the published CRL, Unix time.");
    fprintf(f, "warden_crl_this_update_timestamp_seconds %lld\n",
            (long long)c.this_update);
    gauge(f, "warden_crl_next_update_timestamp_seconds",
          "nextUpdate of the published CRL, Unix time.");
    fprintf(f, "warden_crl_next_update_timestamp_seconds %lld\n",
            (long long)c.next_update);
    gauge(f, "warden_crl_age_seconds",
          "Seconds since the published CRL's thisUpdate.");
    fprintf(f, "warden_crl_age_seconds %lld\n",
            (long long)(now - (int64_t)c.this_update));
}

static void
print_store(FILE *f, struct api *api)
{
    int64_t db = 0;
    int64_t wal = 0;

    if (store_size_get(api->store, &db, &wal) != WD_OK) {
        return;
    }
    gauge(f, "warden_db_size_bytes",
          "Size of the database: its pages, write-ahead log included.");
    fprintf(f, "warden_db_size_bytes %lld\n", (long long)db);
    gauge(f, "warden_db_wal_size_bytes",
          "Size of the database's write-ahead log file.");
    fprintf(f, "warden_db_wal_size_bytes %lld\n", (long long)wal);
}

/* GET /metrics */
void
api_metrics_get(struct api *api, const struct api_req *req,
                struct api_resp *resp)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL) {
        log_err("event=metrics_failed reason=open_memstream");
        api_error(resp, WD_E_INTERNAL, NULL);
        return;
    }
    gauge(f, "warden_build_info", "Always 1; the version is a label.");
    fprintf(f, "warden_build_info{version=\"%s\"} 1\n", WARDEN_VERSION);
    print_inventory(f, api, req->now);
    print_crl(f, api, req->now);
    print_store(f, api);
    api_metrics_print(api->metrics, f);
    if (fclose(f) != 0 || text == NULL) {
        log_err("event=metrics_failed reason=out_of_memory");
        free(text);
        api_error(resp, WD_E_INTERNAL, NULL);
        return;
    }
    api_text_send(resp, 200, CONTENT_TYPE, text, len);
    free(text);
}
