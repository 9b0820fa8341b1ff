/*
 * The stderr logger. Lines are written with one fputs under stdio's own
 * lock, so lines from concurrent threads never interleave.
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
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

void
log_msg(enum log_level level, const char *fmt, ...)
{
    char line[2048];
    char ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;
    int n;

    if (level < min_level) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s ", ts,
                 now.tv_nsec / 1000000L, level_names[level]);
    if (request_id[0] != '\0' && n > 0 && (size_t)n < sizeof(line)) {
        n +=
            snprintf(line + n, sizeof(line) - (size_t)n, "req=%s ", request_id);
    }
    if (n > 0 && (size_t)n < sizeof(line)) {
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    fprintf(stderr, "%s\n", line);
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
