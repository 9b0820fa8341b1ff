/*
 * Bounded parsers for the small values that arrive as text: numbers,
 * durations, serials. Each refuses rather than truncates.
 */
#ifndef WD_PARSE_H
#define WD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal digits only, no sign or spaces, min <= value <= max. */
bool wd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * A duration such as "720h", "30d", "90m" or "3600s" (one number, one unit)
 * into seconds, at most max_s. Returns false for anything else.
 */
bool wd_parse_duration(const char *s, uint64_t max_s, uint64_t *out_s);

/* 1 to WD_MAX_SERIAL_HEX lowercase hex digits, nothing else. */
bool wd_serial_is_valid(const char *s, size_t len);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void wd_hex_encode(const uint8_t *in, size_t len, char *out);

#endif
