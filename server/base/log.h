/*
 * One line per event on stderr: a JSON object when stderr is a file, a
 * pipe or journald, key=value text when it is a terminal (or as
 * WARDEN_LOG_FORMAT=json|text says). Call sites write key=value pairs
 * either way; log_json.c turns them into JSON. Every line carries the
 * request id that srv_http.c sets for the thread serving a request.
 * Untrusted text goes through log_quote() first: it is escaped and capped.
 */
#ifndef WD_LOG_H
#define WD_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/* Sets the request id printed on this thread's lines; NULL clears it. */
void log_set_request_id(const char *id);
const char *log_request_id(void);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)

/* Room for a quoted value of up to LOG_QUOTE_MAX input bytes. */
#define LOG_QUOTE_MAX 128
#define LOG_QUOTE_BUF (LOG_QUOTE_MAX * 4 + 8)

/*
 * Writes s (len bytes, may hold anything) into buf as a double-quoted
 * string with quotes, backslashes and non-printable bytes escaped, cut at
 * LOG_QUOTE_MAX input bytes with "..." appended. Returns buf.
 */
const char *log_quote(const char *s, size_t len, char buf[LOG_QUOTE_BUF]);

/* The longest key=value line; longer ones are cut. */
#define LOG_LINE_MAX 2048
/* Room for any line as JSON: each byte may become a 6-byte escape. */
#define LOG_JSON_MAX (LOG_LINE_MAX * 6 + 256)
#define LOG_JSON_MIN 256

/*
 * kv (key=value pairs as the call sites write them) as one JSON object:
 * {"time":..., "level":..., "request_id":..., then each pair}, written to
 * out (outsz >= LOG_JSON_MIN). Returns its length (log_json.c).
 */
size_t log_json_line(char *out, size_t outsz, const char *time,
                     const char *level, const char *request_id, const char *kv);

#endif
