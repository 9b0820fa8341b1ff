/*
 * The stderr logger. Lines are written with one fputs under stdio's own
 * lock, so lines from concurrent threads never interleave.
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum log_format {
    LOG_FORMAT_AUTO, /* not decided yet */
    LOG_FORMAT_TEXT,
    LOG_FORMAT_JSON,
};

static enum log_level min_level = LOG_INFO;
/* decided on the first line (an enum log_format); atomic because that
 * line may come from any thread */
static atomic_int format = LOG_FORMAT_AUTO;
static _Thread_local char request_id[40];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_set_level(enum log_level level)
{
    min_level = level;
}

void
log_set_request_id(const char *id)
{
    if (id == NULL) {
        request_id[0] = '\0';
        return;
    }
    snprintf(request_id, sizeof(request_id), "%s", id);
}

const char *
log_request_id(void)
{
    return request_id;
}

/* A machine reads the log unless a person is watching the terminal. */
static enum log_format
format_get(void)
{
    int f = atomic_load(&format);
    const char *env;

    if (f != LOG_FORMAT_AUTO) {
        return (enum log_format)f;
    }
    env = getenv("WARDEN_LOG_FORMAT");
    if (env != NULL && strcmp(env, "json") == 0) {
        f = LOG_FORMAT_JSON;
    } else if (env != NULL && strcmp(env, "text") == 0) {
        f = LOG_FORMAT_TEXT;
    } else {
        f = isatty(STDERR_FILENO) ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
    }
    atomic_store(&format, f);
    return (enum log_format)f;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    char kv[LOG_LINE_MAX];
    char json[LOG_JSON_MAX];
    char ts[48];
    char sec[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    if (level < min_level) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts, sizeof(ts), "%s.%03ldZ", sec, now.tv_nsec / 1000000L);
    va_start(ap, fmt);
    vsnprintf(kv, sizeof(kv), fmt, ap);
    va_end(ap);
    if (format_get() == LOG_FORMAT_JSON) {
        log_json_line(json, sizeof(json), ts, level_names[level], request_id,
                      kv);
        fprintf(stderr, "%s\n", json);
    } else if (request_id[0] != '\0') {
        fprintf(stderr, "ts=%s level=%s request_id=%s %s\n", ts,
                level_names[level], request_id, kv);
    } else {
        fprintf(stderr, "ts=%s level=%s %s\n", ts, level_names[level], kv);
    }
}

const char *
log_quote(const char *s, size_t len, char buf[LOG_QUOTE_BUF])
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    size_t o = 0;

    buf[o++] = '"';
    for (i = 0; s != NULL && i < len && i < LOG_QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 0xf];
        } else {
            buf[o++] = (char)c;
        }
    }
    if (s != NULL && len > LOG_QUOTE_MAX) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
