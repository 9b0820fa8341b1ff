/*
 * Fuzz target for the small text parsers: the input is split into
 * key=value pairs at '&' (a pair without '=' has no value, as "?key"),
 * which go through api_query_parse as a request's query string; each key
 * and value also goes through wd_serial_is_valid, wd_parse_u64 and
 * wd_parse_duration, whose answers are checked against their contracts.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../api/api_priv.h"
#include "../../server/base/limits.h"
#include "../../server/base/parse.h"
#include "../../server/base/xmalloc.h"

/* Run the base parsers on s and abort if one breaks its promise. */
static void
check_value(const char *s)
{
    size_t len = strlen(s);
    uint64_t v = 0;
    size_t i;

    if (wd_serial_is_valid(s, len)) {
        if (len < 1 || len > WD_MAX_SERIAL_HEX) {
            abort();
        }
        for (i = 0; i < len; i++) {
            if (strchr("0123456789abcdef", s[i]) == NULL) {
                abort();
            }
        }
    }
    if (wd_parse_u64(s, 0, UINT64_MAX, &v) && len == 0) {
        abort();
    }
    if (wd_parse_u64(s, 5, 1000, &v) && (v < 5 || v > 1000)) {
        abort();
    }
    if (wd_parse_duration(s, 90 * 86400, &v) && v > 90 * 86400) {
        abort();
    }
    (void)wd_parse_duration(s, UINT64_MAX, &v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_kv kv[API_MAX_QUERY_PARAMS];
    struct api_req req = { .method = "GET", .path = "/api/v1/certificates" };
    struct api_cfg cfg = { .expiring_window_s = 30 * 86400 };
    struct store_query q;
    char *text = xmalloc(size + 1);
    char *p = text;
    char *amp;
    char *eq;

    memcpy(text, data, size);
    text[size] = '\0';
    /* the raw bytes too, with their length: NULs and all */
    (void)wd_serial_is_valid((const char *)data, size);
    while (p != NULL) {
        amp = strchr(p, '&');
        if (amp != NULL) {
            *amp = '\0';
        }
        eq = strchr(p, '=');
        if (eq != NULL) {
            *eq = '\0';
        }
        if (req.n_query < API_MAX_QUERY_PARAMS) {
            kv[req.n_query].key = p;
            kv[req.n_query].value = eq != NULL ? eq + 1 : NULL;
            req.n_query++;
        } else {
            req.query_overflow = true;
        }
        check_value(p);
        if (eq != NULL) {
            check_value(eq + 1);
        }
        p = amp != NULL ? amp + 1 : NULL;
    }
    req.query = kv;
    if (api_query_parse(&req, &cfg, &q) == WD_OK &&
        (q.limit < 1 || q.limit > WD_LIST_LIMIT_MAX)) {
        abort();
    }
    free(text);
    return 0;
}
