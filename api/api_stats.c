/*
 * GET /stats: the inventory's counts per status and its expiries per week
 * ahead, for the page's header and chart (and for scripts). One snapshot
 * of the store, so the counts add up.
 */
#include "api_priv.h"

#define WEEK_S (7 * 86400)

/* 200 {now, expiring_window_s, counts: {...}, expiring_weeks: [...]}. */
void
api_stats_get(struct api *api, const struct api_req *req, const char *arg,
              struct api_resp *resp)
{
    struct store_cert_stats st;
    json_t *weeks;
    enum wd_err rc;
    int i;

    (void)arg;
    if (req->n_query > 0 || req->query_overflow) {
        api_error(resp, WD_E_BAD_QUERY, NULL);
        return;
    }
    rc = store_cert_stats_get(api->store, req->now, api->cfg.expiring_window_s,
                              &st);
    if (rc != WD_OK) {
        api_error(resp, rc, NULL);
        return;
    }
    weeks = json_array();
    for (i = 0; i < STORE_STATS_WEEKS; i++) {
        int64_t start = (int64_t)req->now + (int64_t)i * WEEK_S;

        json_array_append_new(
            weeks, json_pack("{s:o, s:o, s:I, s:I, s:I}", "start",
                             api_json_time(start), "end",
                             api_json_time(start + WEEK_S), "start_unix",
                             (json_int_t)start, "end_unix",
                             (json_int_t)(start + WEEK_S), "count",
                             (json_int_t)st.weeks[i]));
    }
    api_json_send(resp, 200,
                  json_pack("{s:o, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:o}",
                            "now", api_json_time(req->now), "expiring_window_s",
                            (json_int_t)api->cfg.expiring_window_s, "counts",
                            "total", (json_int_t)st.total, "valid",
                            (json_int_t)st.valid, "expiring",
                            (json_int_t)st.expiring, "expired",
                            (json_int_t)st.expired, "revoked",
                            (json_int_t)st.revoked, "expiring_weeks", weeks));
}
