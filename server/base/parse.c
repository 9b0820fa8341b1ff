/*
 * Text-to-value parsers shared by the CLI, the config and the API.
 */
#include "parse.h"

#include "limits.h"

bool
wd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (s == NULL || s[0] == '\0') {
        return false;
    }
    for (i = 0; s[i] != '\0'; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9' || i >= 20) {
            return false;
        }
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    if (v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

bool
wd_parse_duration(const char *s, uint64_t max_s, uint64_t *out_s)
{
    char digits[24];
    size_t len = 0;
    uint64_t n;
    uint64_t unit;

    if (s == NULL) {
        return false;
    }
    while (s[len] >= '0' && s[len] <= '9') {
        if (len + 1 >= sizeof(digits)) {
            return false;
        }
        digits[len] = s[len];
        len++;
    }
    digits[len] = '\0';
    if (len == 0 || s[len] == '\0' || s[len + 1] != '\0') {
        return false;
    }
    switch (s[len]) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return false;
    }
    if (!wd_parse_u64(digits, 1, max_s / unit, &n)) {
        return false;
    }
    *out_s = n * unit;
    return true;
}

bool
wd_serial_is_valid(const char *s, size_t len)
{
    size_t i;

    if (s == NULL || len == 0 || len > WD_MAX_SERIAL_HEX) {
        return false;
    }
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

void
wd_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 0xf];
    }
    out[2 * len] = '\0';
}
