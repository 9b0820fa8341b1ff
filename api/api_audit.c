/*
 * The audit trail from the API's side: refused requests are recorded
 * here (issuance, renewal and revocation record themselves in the store's
 * own transactions), and GET /api/v1/audit pages through all of it.
 */
#include "api_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../server/base/limits.h"
#include "../server/base/log.h"
#include "../server/base/parse.h"

/* Best effort: a refusal stands even if the store cannot record it. */
void
api_audit_refusal(struct api *api, const char *actor, const char *action,
                  const char *serial, const char *code)
{
    struct store_audit_event ev = {
        .actor = actor != NULL && actor[0] != '\0' ? actor : "unknown",
        .action = action,
        .serial = serial,
        .outcome = code != NULL ? code : "forbidden",
        .detail = NULL,
    };

    if (api->store == NULL || store_audit_append(api->store, &ev) != WD_OK) {
        log_warn("event=audit_append_failed action=\"%s\"", action);
    }
}

static enum wd_err
parse_query(const struct api_req *req, struct store_audit_query *q)
{
    size_t i;
    size_t j;
    uint64_t v;

    memset(q, 0, sizeof(*q));
    q->limit = WD_LIST_LIMIT_DEFAULT;
    if (req->query_overflow) {
        return WD_E_BAD_QUERY;
    }
    for (i = 0; i < req->n_query; i++) {
        const struct api_kv *kv = &req->query[i];

        for (j = 0; j < i; j++) {
            if (strcmp(kv->key, req->query[j].key) == 0) {
                return WD_E_BAD_QUERY; /* a parameter given twice */
            }
        }
        if (kv->value == NULL || kv->value[0] == '\0' ||
            strlen(kv->value) > WD_MAX_QUERY_TERM) {
            return WD_E_BAD_QUERY;
        }
        if (strcmp(kv->key, "limit") == 0) {
            if (!wd_parse_u64(kv->value, 1, WD_LIST_LIMIT_MAX, &v)) {
                return WD_E_BAD_QUERY;
            }
            q->limit = (unsigned)v;
        } else if (strcmp(kv->key, "cursor") == 0) {
            if (!wd_parse_u64(kv->value, 1, INT64_MAX, &v)) {
                return WD_E_BAD_CURSOR;
            }
            q->cursor = (int64_t)v;
        } else if (strcmp(kv->key, "serial") == 0) {
            if (!wd_serial_is_valid(kv->value, strlen(kv->value))) {
                return WD_E_BAD_SERIAL;
            }
            q->serial = kv->value;
        } else if (strcmp(kv->key, "actor") == 0) {
            q->actor = kv->value;
        } else if (strcmp(kv->key, "action") == 0) {
            q->action = kv->value;
        } else {
            return WD_E_BAD_QUERY;
        }
    }
    return WD_OK;
}

static json_t *
event_json(const struct store_audit_row *e)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(e->id));
    json_object_set_new(o, "at", api_json_time(e->at));
    json_object_set_new(o, "actor", json_string(e->actor));
    json_object_set_new(o, "action", json_string(e->action));
    json_object_set_new(
        o, "serial", e->serial != NULL ? json_string(e->serial) : json_null());
    json_object_set_new(o, "outcome", json_string(e->outcome));
    json_object_set_new(
        o, "detail", e->detail != NULL ? json_string(e->detail) : json_null());
    return o;
}

/* GET /audit: {items: [...], next_cursor}, newest first. */
void
api_audit_list(struct api *api, const struct api_req *req, const char *arg,
               struct api_resp *resp)
{
    struct store_audit_query q;
    struct store_audit_list list = { 0 };
    json_t *items;
    char cursor[24];
    enum wd_err rc;
    size_t i;

    (void)arg;
    rc = parse_query(req, &q);
    if (rc == WD_OK) {
        rc = store_audit_list(api->store, &q, &list);
    }
    if (rc != WD_OK) {
        api_error(resp, rc, NULL);
        return;
    }
    items = json_array();
    for (i = 0; i < list.n; i++) {
        json_array_append_new(items, event_json(&list.items[i]));
    }
    snprintf(cursor, sizeof(cursor), "%" PRId64, list.next_cursor);
    api_json_send(
        resp, 200,
        json_pack("{s:o, s:o}", "items", items, "next_cursor",
                  list.next_cursor > 0 ? json_string(cursor) : json_null()));
    store_audit_list_free(&list);
}
