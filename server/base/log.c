/*
 * The stderr logger. Each line is formatted on the caller's stack and
 * written with one write(2): lines from concurrent threads never
 * interleave, and no thread waits on a lock while another one writes
 * (stdio's stderr lock is held across its write, so busy threads queued
 * on it).
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <errno.h>
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

/* The lowest level written: WARDEN_LOG_LEVEL (debug, info, warn, error),
 * read at the first line, or log_set_level; info by default. */
#define LEVEL_UNSET (-1)
static atomic_int min_level = LEVEL_UNSET;
/* decided on the first line (an enum log_format); atomic because that
 * line may come from any thread */
static atomic_int format = LOG_FORMAT_AUTO;
static _Thread_local char request_id[40];
/* The last second this thread formatted ("2024-05-01T12:00:00"): one
 * gmtime_r, which takes glibc's time zone lock, per second and thread
 * instead of one per line. */
static _Thread_local time_t ts_sec = -1;
static _Thread_local char ts_text[32];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_set_level(enum log_level level)
{
    atomic_store(&min_level, (int)level);
}

static enum log_level
level_get(void)
{
    int l = atomic_load(&min_level);
    const char *env;
    size_t i;

    if (l != LEVEL_UNSET) {
        return (enum log_level)l;
    }
    l = LOG_INFO;
    env = getenv("WARDEN_LOG_LEVEL");
    for (i = 0; env != NULL && i < sizeof(level_names) / sizeof(*level_names);
         i++) {
        if (strcmp(env, level_names[i]) == 0) {
            l = (int)i;
        }
    }
    atomic_store(&min_level, l);
    return (enum log_level)l;
}

/* Whether a line at level would be written: spares the caller building
 * its arguments when not. */
bool
log_enabled(enum log_level level)
{
    return level >= level_get();
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

/* now as "2024-05-01T12:00:00.123Z" into ts (at least 32 bytes). */
static void
timestamp(char *ts, size_t tssz)
{
    struct timespec now;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != ts_sec) {
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts_text, sizeof(ts_text), "%Y-%m-%dT%H:%M:%S", &tm);
        ts_sec = now.tv_sec;
    }
    snprintf(ts, tssz, "%s.%03ldZ", ts_text, now.tv_nsec / 1000000L);
}

/* All of line to stderr in one write(2), unless stderr fails. */
static void
write_line(const char *line, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(STDERR_FILENO, line, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* nowhere left to say so */
        }
        line += n;
        len -= (size_t)n;
    }
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    char kv[LOG_LINE_MAX];
    char line[LOG_JSON_MAX + 1]; /* + the newline */
    char ts[48];
    va_list ap;
    int n;
    size_t len;

    if (!log_enabled(level)) {
        return;
    }
    timestamp(ts, sizeof(ts));
    va_start(ap, fmt);
    vsnprintf(kv, sizeof(kv), fmt, ap);
    va_end(ap);
    if (format_get() == LOG_FORMAT_JSON) {
        len = log_json_line(line, LOG_JSON_MAX, ts, level_names[level],
                            request_id, kv);
    } else {
        /* kv is cut at LOG_LINE_MAX, so the text form always fits */
        n = request_id[0] != '\0'
                ? snprintf(line, LOG_JSON_MAX,
                           "ts=%s level=%s request_id=%s %s", ts,
                           level_names[level], request_id, kv)
                : snprintf(line, LOG_JSON_MAX, "ts=%s level=%s %s", ts,
                           level_names[level], kv);
        len = n < 0 ? 0 : (size_t)n;
    }
    if (len >= LOG_JSON_MAX) {
        len = LOG_JSON_MAX - 1; /* never past line, whatever changes above */
    }
    line[len++] = '\n';
    write_line(line, len);
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
