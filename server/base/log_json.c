/*
 * One log line as a JSON object. Call sites write key=value text (the
 * form a person reads on a terminal); rather than give every call site a
 * second form, the formatted text is taken apart here: keys are
 * [a-z0-9_]+, values are bare up to the next space, or double-quoted as
 * log_quote writes them (\" \\ \xHH). Whatever does not parse as a pair
 * is kept whole under "msg", so nothing logged is lost. Every value is a
 * JSON string, so a field keeps one type from line to line.
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <stdbool.h>
#include <string.h>

/* Room kept back for the closing members whatever the line holds. */
#define JSON_TAIL_ROOM 32

/* A bounded writer: a member either fits whole or is left out. */
struct out {
    char *buf;
    size_t cap; /* usable bytes, JSON_TAIL_ROOM and the NUL excluded */
    size_t len;
    bool full;
};

static void
put(struct out *o, const char *s, size_t n)
{
    if (o->full || n > o->cap - o->len) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void
put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/*
 * Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0:
 * JSON must be UTF-8, and a name logged through log_quote comes back here
 * as \xHH bytes that should read as the characters they were.
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    size_t want;
    size_t i;

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        want = 2;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        want = 3;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        want = 4;
    } else {
        return 0;
    }
    if (n < want) {
        return 0;
    }
    for (i = 1; i < want; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    /* no overlong forms, no surrogates, nothing past U+10FFFF */
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)) {
        return 0;
    }
    return want;
}

/* s[0..n) as a JSON string; bytes that are not UTF-8 become U+00XX. */
static void
put_json_str(struct out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    put(o, "\"", 1);
    while (i < n) {
        unsigned char c = p[i];
        size_t seq;

        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };

            put(o, esc, 2);
            i++;
        } else if (c >= 0x20 && c < 0x7f) {
            put(o, s + i, 1);
            i++;
        } else if (c >= 0x80 && (seq = utf8_len(p + i, n - i)) > 0) {
            put(o, s + i, seq);
            i += seq;
        } else {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };

            put(o, esc, sizeof(esc));
            i++;
        }
    }
    put(o, "\"", 1);
}

static int
hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Undo log_quote: *p is just past the opening quote. The bytes go to val
 * (at most valsz, never more than the input holds); *p ends past the
 * closing quote, or at the end of the text when there is none.
 */
static size_t
unquote(const char **p, char *val, size_t valsz)
{
    const char *s = *p;
    size_t n = 0;

    while (*s != '\0' && *s != '"' && n < valsz) {
        if (s[0] == '\\' && s[1] == 'x' && hex_val(s[2]) >= 0 &&
            hex_val(s[3]) >= 0) {
            val[n++] = (char)(hex_val(s[2]) * 16 + hex_val(s[3]));
            s += 4;
        } else if (s[0] == '\\' && s[1] != '\0') {
            val[n++] = s[1];
            s += 2;
        } else {
            val[n++] = *s++;
        }
    }
    if (*s == '"') {
        s++;
    }
    *p = s;
    return n;
}

/* One ,"key":"value" member; left out whole when it does not fit. */
static void
member(struct out *o, const char *key, size_t klen, const char *val,
       size_t vlen)
{
    size_t mark = o->len;

    put(o, ",", 1);
    put_json_str(o, key, klen);
    put(o, ":", 1);
    put_json_str(o, val, vlen);
    if (o->full) {
        o->len = mark;
    }
}

static bool
is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Turn kv, a line of key=value pairs, into one JSON object in out
 * (outsz bytes, at least LOG_JSON_MIN): time, level, request_id (when
 * not empty or NULL), then the pairs in order. A line too long for out
 * keeps the members that fit and gains "truncated":"true"; the object is
 * always complete. Returns its length.
 */
size_t
log_json_line(char *out, size_t outsz, const char *time, const char *level,
              const char *request_id, const char *kv)
{
    struct out o = { .buf = out, .cap = outsz - JSON_TAIL_ROOM - 1 };
    const char *p = kv;
    bool truncated = false;
    char val[LOG_LINE_MAX];

    put_str(&o, "{\"time\":");
    put_json_str(&o, time, strlen(time));
    put_str(&o, ",\"level\":");
    put_json_str(&o, level, strlen(level));
    if (request_id != NULL && request_id[0] != '\0') {
        member(&o, "request_id", 10, request_id, strlen(request_id));
    }
    while (*p != '\0' && !o.full) {
        const char *key;
        size_t klen = 0;
        size_t vlen;

        while (*p == ' ') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        key = p;
        while (is_key_char(key[klen])) {
            klen++;
        }
        if (klen == 0 || key[klen] != '=') {
            /* not a pair: keep the rest as it was written */
            member(&o, "msg", 3, p, strlen(p));
            break;
        }
        p = key + klen + 1;
        if (*p == '"') {
            p++;
            vlen = unquote(&p, val, sizeof(val));
            member(&o, key, klen, val, vlen);
        } else {
            vlen = strcspn(p, " ");
            member(&o, key, klen, p, vlen);
            p += vlen;
        }
    }
    truncated = o.full;
    /* the tail room is kept for these, so they always fit */
    o.cap += JSON_TAIL_ROOM;
    o.full = false;
    if (truncated) {
        put_str(&o, ",\"truncated\":\"true\"");
    }
    put(&o, "}", 1);
    out[o.len] = '\0';
    return o.len;
}
