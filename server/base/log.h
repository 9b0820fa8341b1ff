/*
 * One key=value line per event on stderr, for journald. Every line carries
 * the request id that srv_http.c sets for the thread serving a request.
 * Untrusted text goes through log_quote() first: it is escaped and capped.
 */
#ifndef WD_LOG_H
#define WD_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };

void log_set_level(enum log_level level);

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

#endif
