/*
 * The inventory list's query string: status, q, expiring_within,
 * expires_after, expires_before, sort, limit, cursor; and the cursor
 * string a page hands out for the next. Each parameter at most once, every
 * value checked; anything else is refused with WD_E_BAD_QUERY rather than
 * ignored.
 */
#include "api_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../server/base/limits.h"
#include "../server/base/parse.h"

/* The longest expiring_within we take: ten years, in seconds. */
#define MAX_EXPIRING_WITHIN_S (10ULL * 366 * 86400)

/* Expiry bounds are Unix seconds up to the year 9999 (GeneralizedTime's
 * last). */
#define MAX_UNIX_TIME 253402300799ULL

/*
 * A cursor as api_query_cursor wrote it for q->sort: "<id>" newest first,
 * "<not_after>_<id>" by expiry. Anything else is one we did not hand out.
 */
static enum wd_err
parse_cursor(const char *s, struct store_query *q)
{
    const char *sep = strchr(s, '_');
    char key[24];
    uint64_t id;
    uint64_t not_after;

    if (q->sort == STORE_SORT_ISSUED) {
        if (!wd_parse_u64(s, 1, INT64_MAX, &id)) {
            return WD_E_BAD_CURSOR;
        }
        q->cursor = (int64_t)id;
        return WD_OK;
    }
    if (sep == NULL || (size_t)(sep - s) >= sizeof(key)) {
        return WD_E_BAD_CURSOR;
    }
    memcpy(key, s, (size_t)(sep - s));
    key[sep - s] = '\0';
    if (!wd_parse_u64(key, 0, MAX_UNIX_TIME, &not_after) ||
        !wd_parse_u64(sep + 1, 1, INT64_MAX, &id)) {
        return WD_E_BAD_CURSOR;
    }
    q->cursor = (int64_t)id;
    q->cursor_not_after = (int64_t)not_after;
    return WD_OK;
}

/*
 * The next_cursor string of a page of list listed in q's order, written to
 * out (at least API_CURSOR_MAX bytes); "" when it is the last page.
 */
void
api_query_cursor(const struct store_query *q, const struct store_cert_list *l,
                 char *out, size_t outsz)
{
    out[0] = '\0';
    if (l->next_cursor <= 0) {
        return;
    }
    if (q->sort == STORE_SORT_EXPIRES) {
        snprintf(out, outsz, "%" PRId64 "_%" PRId64, l->next_cursor_not_after,
                 l->next_cursor);
    } else {
        snprintf(out, outsz, "%" PRId64, l->next_cursor);
    }
}

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
parse_one(const struct api_kv *kv, struct store_query *q, const char **cursor)
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
    if (strcmp(kv->key, "expires_after") == 0) {
        if (!wd_parse_u64(kv->value, 1, MAX_UNIX_TIME, &v)) {
            return WD_E_BAD_QUERY;
        }
        q->expires_after = (int64_t)v;
        return WD_OK;
    }
    if (strcmp(kv->key, "expires_before") == 0) {
        if (!wd_parse_u64(kv->value, 1, MAX_UNIX_TIME, &v)) {
            return WD_E_BAD_QUERY;
        }
        q->expires_before = (int64_t)v;
        return WD_OK;
    }
    if (strcmp(kv->key, "sort") == 0) {
        if (strcmp(kv->value, "issued") == 0) {
            q->sort = STORE_SORT_ISSUED;
        } else if (strcmp(kv->value, "expires") == 0) {
            q->sort = STORE_SORT_EXPIRES;
        } else {
            return WD_E_BAD_QUERY;
        }
        return WD_OK;
    }
    if (strcmp(kv->key, "cursor") == 0) {
        *cursor = kv->value; /* read once the sort is known */
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
    const char *cursor = NULL;
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
        rc = parse_one(&req->query[i], q, &cursor);
        if (rc != WD_OK) {
            return rc;
        }
    }
    if (cursor != NULL) {
        rc = parse_cursor(cursor, q);
        if (rc != WD_OK) {
            return rc;
        }
    }
    if (q->expires_after > 0 && q->expires_before > 0 &&
        q->expires_before <= q->expires_after) {
        return WD_E_BAD_QUERY; /* an empty range is a mistake, not a filter */
    }
    if (q->status == STORE_STATUS_EXPIRING && q->expiring_within == 0) {
        q->expiring_within = cfg->expiring_window_s;
    }
    return WD_OK;
}
