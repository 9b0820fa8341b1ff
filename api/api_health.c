/*
 * GET /healthz on the public listener: is this daemon ready to serve? It
 * is when the store answers a query, the CA's keys are loaded (the
 * intermediate's, and the OCSP responder set up) and the published CRL is
 * fresh. 200 with "status": "ok", else 503 with "status": "degraded" and
 * the part that is not, so a load balancer or an orchestrator can act on
 * the status alone and a person on the body.
 */
#include "api_priv.h"

/*
 * The worker rebuilds the CRL at half its validity and retries a failed
 * build within seconds: a CRL three quarters through its validity means
 * rebuilds have been failing for a long while, though relying parties
 * still accept it until nextUpdate.
 */
static bool
crl_fresh(const struct api_crl_state *c, int64_t now)
{
    return c->published && now < (int64_t)c->next_update &&
           now - (int64_t)c->this_update < (int64_t)(c->validity_s / 4 * 3);
}

static json_t *
crl_json(const struct api_crl_state *c, bool fresh, int64_t now)
{
    if (!c->published) {
        return json_pack("{s:b, s:n, s:n, s:n}", "fresh", 0, "age_seconds",
                         "number", "next_update");
    }
    return json_pack("{s:b, s:I, s:I, s:o}", "fresh", fresh, "age_seconds",
                     (json_int_t)(now - (int64_t)c->this_update), "number",
                     (json_int_t)c->number, "next_update",
                     api_json_time((int64_t)c->next_update));
}

/* GET /healthz */
void
api_health_get(struct api *api, const struct api_req *req,
               struct api_resp *resp)
{
    struct api_crl_state crl;
    int64_t revocations;
    bool store_ok;
    bool keys_ok;
    bool fresh;
    bool ok;

    /* one read through the connection pool: the file is there, readable,
     * and a connection comes free in time */
    store_ok = api->store != NULL &&
               store_counter_get(api->store, STORE_COUNTER_REVOCATIONS,
                                 &revocations) == WD_OK;
    keys_ok = api->ca != NULL && api->ocsp != NULL;
    api_crl_state_get(api, &crl);
    fresh = crl_fresh(&crl, req->now);
    ok = store_ok && keys_ok && fresh;
    api_json_send(resp, ok ? 200 : 503,
                  json_pack("{s:s, s:s, s:s, s:o}", "status",
                            ok ? "ok" : "degraded", "store",
                            store_ok ? "ok" : "unreachable", "keys",
                            keys_ok ? "ok" : "not_loaded", "crl",
                            crl_json(&crl, fresh, req->now)));
}
