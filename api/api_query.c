/*
 * The inventory list's query string: status, q, expiring_within, limit,
 * cursor. Each parameter at most once, every value checked; anything else
 * is refused with WD_E_BAD_QUERY rather than ignored.
 */
#include "api_priv.h"

#include <string.h>

#include "../server/base/limits.h"
#include "../server/base/parse.h"

/* The longest expiring_within we take: ten years, in seconds. */
#define MAX_EXPIRING_WITHIN_S (10ULL * 366 * 86400)

static bool
parse_status(const char *s, enum store_status *out)
{
    static const struct {
        const char *name;
        enum store_status status;
    } names[] = {
        { "valid", STORE_STATUS_VALID },
        { "expired", STORE_STATUS_EXPIRED },
        { "revoked", STORE_STATUS_REVOKED },
        { "expiring", STORE_STATUS_EXPIRING },
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].status;
            return true;
        }
    }
    return false;
}

static enum wd_err
parse_one(const struct api_kv *kv, struct store_query *q)
{
    uint64_t v;

    if (kv->value == NULL) {
        return WD_E_BAD_QUERY;
    }
    if (strcmp(kv->key, "status") == 0) {
        return parse_status(kv->value, &q->status) ? WD_OK : WD_E_BAD_QUERY;
    }
    if (strcmp(kv->key, "q") == 0) {
        size_t len = strlen(kv->value);

        if (len == 0 || len > WD_MAX_QUERY_TERM) {
            return WD_E_BAD_QUERY;
        }
        q->q = kv->value;
        return WD_OK;
    }
    if (strcmp(kv->key, "expiring_within") == 0) {
        if (!wd_parse_duration(kv->value, MAX_EXPIRING_WITHIN_S, &v)) {
            return WD_E_BAD_QUERY;
        }
        q->expiring_within = (int64_t)v;
        return WD_OK;
    }
    if (strcmp(kv->key, "limit") == 0) {
        if (!wd_parse_u64(kv->value, 1, WD_LIST_LIMIT_MAX, &v)) {
            return WD_E_BAD_QUERY;
        }
        q->limit = (unsigned)v;
        return WD_OK;
    }
    if (strcmp(kv->key, "cursor") == 0) {
        if (!wd_parse_u64(kv->value, 1, INT64_MAX, &v)) {
            return WD_E_BAD_CURSOR;
        }
        q->cursor = (int64_t)v;
        return WD_OK;
    }
    return WD_E_BAD_QUERY;
}

/*
 * Fill q from the request's query parameters (defaults first). Returns
 * WD_E_BAD_QUERY or WD_E_BAD_CURSOR on the first bad parameter.
 */
enum wd_err
api_query_parse(const struct api_req *req, const struct api_cfg *cfg,
                struct store_query *q)
{
    size_t i;
    size_t j;
    enum wd_err rc;

    memset(q, 0, sizeof(*q));
    q->status = STORE_STATUS_ANY;
    q->limit = WD_LIST_LIMIT_DEFAULT;
    q->now = req->now;
    if (req->query_overflow) {
        return WD_E_BAD_QUERY;
    }
    for (i = 0; i < req->n_query; i++) {
        for (j = 0; j < i; j++) {
            if (strcmp(req->query[i].key, req->query[j].key) == 0) {
                return WD_E_BAD_QUERY; /* a parameter given twice */
            }
        }
        rc = parse_one(&req->query[i], q);
        if (rc != WD_OK) {
            return rc;
        }
    }
    if (q->status == STORE_STATUS_EXPIRING && q->expiring_within == 0) {
        q->expiring_within = cfg->expiring_window_s;
    }
    return WD_OK;
}
