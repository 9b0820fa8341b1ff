/*
 * JSON out: how a stored certificate, a time and a response body look on
 * the wire. Every document is built with jansson, never by printf.
 */
#include "api_priv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server/base/log.h"
#include "../server/base/xmalloc.h"

/* Replace resp's body with a copy of body and set status and type. */
void
api_text_send(struct api_resp *resp, int status, const char *content_type,
              const void *body, size_t len)
{
    uint8_t *copy = len > 0 ? xmemdup(body, len) : NULL;

    api_resp_drop_body(resp);
    resp->body = copy;
    resp->body_len = len;
    resp->status = status;
    resp->content_type = content_type;
}

/*
 * Serialize json (the reference is stolen) as resp's body. A failure to
 * serialize is a bug or OOM: answer 500 without recursing into api_error.
 */
void
api_json_send(struct api_resp *resp, int status, json_t *json)
{
    char *text = NULL;

    if (json != NULL) {
        text = json_dumps(json, JSON_COMPACT | JSON_ENSURE_ASCII);
    }
    json_decref(json);
    api_resp_drop_body(resp);
    resp->content_type = "application/json";
    if (text == NULL) {
        static const char fallback[] =
            "{\"error\":{\"code\":\"internal_error\","
            "\"message\":\"internal error\"}}";

        log_err("event=json_encode_failed");
        resp->status = 500;
        resp->error_code = "internal_error";
        resp->body = xmemdup(fallback, sizeof(fallback) - 1);
        resp->body_len = sizeof(fallback) - 1;
        return;
    }
    resp->status = status;
    resp->body_len = strlen(text);
    resp->body = (uint8_t *)text; /* jansson allocates with malloc */
}

/* An RFC 3339 UTC timestamp as a JSON string. */
json_t *
api_json_time(int64_t t)
{
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL) {
        return json_null();
    }
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

/* valid, expiring (within the window), expired or revoked. */
const char *
api_cert_status(const struct store_cert *c, int64_t now,
                int64_t expiring_window_s)
{
    if (c->revoked_at != 0) {
        return "revoked";
    }
    if (c->not_after <= now) {
        return "expired";
    }
    if (c->not_after <= now + expiring_window_s) {
        return "expiring";
    }
    return "valid";
}

/*
 * A JSON string for text from a certificate. Subjects are attacker-chosen:
 * if s is not valid UTF-8, bytes outside printable ASCII become '?'
 * rather than dropping the member.
 */
json_t *
api_json_text(const char *s)
{
    json_t *j;
    char *copy;
    size_t i;

    if (s == NULL) {
        return json_null();
    }
    j = json_string(s);
    if (j != NULL) {
        return j;
    }
    copy = xstrdup(s);
    for (i = 0; copy[i] != '\0'; i++) {
        if ((unsigned char)copy[i] < 0x20 || (unsigned char)copy[i] >= 0x7f) {
            copy[i] = '?';
        }
    }
    j = json_string(copy);
    free(copy);
    return j;
}

/* The SANs column ("DNS:a, IP:b") as a JSON array of "DNS:a" strings. */
static json_t *
sans_array(const char *sans)
{
    json_t *arr = json_array();
    const char *p = sans;

    while (p != NULL && *p != '\0') {
        const char *end = strstr(p, ", ");
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        char *one = xstrndup(p, len);

        json_array_append_new(arr, api_json_text(one));
        free(one);
        p = end != NULL ? end + 2 : NULL;
    }
    return arr;
}

/* The JSON object for one inventory row. Caller owns the reference. */
json_t *
api_json_cert(const struct store_cert *c, int64_t now,
              int64_t expiring_window_s)
{
    json_t *o = json_object();

    json_object_set_new(o, "serial", json_string(c->serial));
    json_object_set_new(o, "subject", api_json_text(c->subject));
    json_object_set_new(o, "cn", api_json_text(c->cn));
    json_object_set_new(o, "sans", sans_array(c->sans));
    json_object_set_new(o, "key_type", json_string(c->key_type));
    json_object_set_new(o, "profile", json_string(c->profile));
    json_object_set_new(o, "requester", api_json_text(c->requester));
    json_object_set_new(o, "fingerprint_sha256", json_string(c->fingerprint));
    json_object_set_new(o, "not_before", api_json_time(c->not_before));
    json_object_set_new(o, "not_after", api_json_time(c->not_after));
    json_object_set_new(o, "issued_at", api_json_time(c->issued_at));
    json_object_set_new(
        o, "status", json_string(api_cert_status(c, now, expiring_window_s)));
    if (c->revoked_at != 0) {
        json_object_set_new(o, "revocation",
                            json_pack("{s:o, s:s}", "revoked_at",
                                      api_json_time(c->revoked_at), "reason",
                                      pki_reason_name(c->revoke_reason)));
    } else {
        json_object_set_new(o, "revocation", json_null());
    }
    return o;
}

/* Leaf PEM followed by the intermediate's PEM. */
char *
api_leaf_chain(const struct pki_ca *ca, const char *leaf_pem, size_t *len)
{
    const char *chain = pki_ca_chain_pem(ca); /* intermediate, then root */
    size_t inter_len = strlen(chain) - strlen(pki_ca_root_pem(ca));
    size_t leaf_len = strlen(leaf_pem);
    char *out = xmalloc(leaf_len + inter_len + 1);

    memcpy(out, leaf_pem, leaf_len);
    memcpy(out + leaf_len, chain, inter_len);
    out[leaf_len + inter_len] = '\0';
    *len = leaf_len + inter_len;
    return out;
}
