/*
 * Serial numbers: made from the CSPRNG, written into certificates as
 * positive DER INTEGERs and read back as the lowercase hex the store, the
 * API and the CRL use. One hex form everywhere: leading zero bytes
 * stripped, so a serial round-trips through a certificate unchanged.
 * pki_serial_decode turns that form into the bytes certificates and CRL
 * entries carry.
 */
#include "pki_priv.h"

#include <string.h>

#include "../base/log.h"
#include "../base/parse.h"

/* 128 bits: well above the 64 of CA/Browser Forum BR 7.1, and unique
 * enough that the store's unique key is a formality. */
#define SERIAL_BYTES 16

/* A zero first byte comes up once in 256 draws; 64 in a row means the
 * random source is broken. */
#define SERIAL_TRIES 64

/* RFC 5280 4.1.2.2: at most 20 octets, plus one 0x00 for the sign. */
#define SERIAL_DER_MAX (PKI_SERIAL_MAX_BYTES + 1)

/*
 * Writes a fresh serial into out: 16 bytes from the CSPRNG with a
 * non-zero first byte, as 32 lowercase hex digits. WD_E_INTERNAL (logged)
 * if the random source fails; out is written only on success.
 */
enum wd_err
pki_serial_new(char out[WD_MAX_SERIAL_HEX + 1])
{
    uint8_t buf[SERIAL_BYTES];
    int tries;
    int ret;

    for (tries = 0; tries < SERIAL_TRIES; tries++) {
        ret = gnutls_rnd(GNUTLS_RND_RANDOM, buf, sizeof(buf));
        if (ret < 0) {
            log_err("event=serial_new err=\"%s\"", gnutls_strerror(ret));
            return WD_E_INTERNAL;
        }
        if (buf[0] != 0) {
            wd_hex_encode(buf, sizeof(buf), out);
            return WD_OK;
        }
    }
    log_err("event=serial_new err=\"random source returns zeros\"");
    return WD_E_INTERNAL;
}

/* Each lowercase hex digit's value plus one; 0 for every other byte. */
static const uint8_t hex_plus_one[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* c's value; any other byte than a lowercase hex digit sets bits in *bad.
 * No branch on c: the digits of random serials defeat prediction, and a
 * CRL decodes a million serials. */
static unsigned
nibble(char c, unsigned *bad)
{
    unsigned v = (unsigned)hex_plus_one[(unsigned char)c] - 1;

    *bad |= v >> 4; /* 0 - 1 wraps around to a value with high bits */
    return v & 0xf;
}

/*
 * A serial as stored (1 to WD_MAX_SERIAL_HEX lowercase hex digits) as
 * big-endian bytes in out[0..*len), leading zero bytes kept. False for
 * any other string and for zero (RFC 5280 4.1.2.2 wants it positive);
 * out and *len then mean nothing. Accepts what wd_serial_is_valid does,
 * in one pass.
 */
bool
pki_serial_decode(const char *hex, uint8_t out[PKI_SERIAL_MAX_BYTES],
                  size_t *len)
{
    size_t n = hex != NULL ? strnlen(hex, WD_MAX_SERIAL_HEX + 1) : 0;
    size_t i = 0;
    size_t o = 0;
    unsigned bad = 0;
    unsigned any = 0; /* a non-zero byte seen */

    if (n == 0 || n > WD_MAX_SERIAL_HEX) {
        return false;
    }
    if (n % 2 == 1) {
        out[o] = (uint8_t)nibble(hex[i++], &bad);
        any |= out[o++];
    }
    for (; i < n; i += 2) {
        out[o] =
            (uint8_t)(nibble(hex[i], &bad) << 4 | nibble(hex[i + 1], &bad));
        any |= out[o++];
    }
    *len = o;
    return bad == 0 && any != 0;
}

/*
 * Sets crt's serial number to hex (1 to WD_MAX_SERIAL_HEX lowercase hex
 * digits, not all zero) as a positive INTEGER: GnuTLS writes the bytes it
 * is given as they are, so a 0x00 goes in front when the top bit is set
 * (X.690 8.3). WD_E_BAD_SERIAL for any other string, WD_E_INTERNAL if
 * GnuTLS fails.
 */
enum wd_err
pki_serial_set(gnutls_x509_crt_t crt, const char *hex)
{
    uint8_t buf[SERIAL_DER_MAX];
    size_t n = 0;
    size_t first;
    int ret;

    /* buf[0] is the sign byte, used if needed */
    if (!pki_serial_decode(hex, buf + 1, &n)) {
        return WD_E_BAD_SERIAL;
    }
    n++; /* the serial is buf[1..n) */
    for (first = 1; first < n && buf[first] == 0; first++) {
    }
    if (buf[first] & 0x80) {
        buf[--first] = 0;
    }
    ret = gnutls_x509_crt_set_serial(crt, buf + first, n - first);
    if (ret < 0) {
        log_err("event=serial_set err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * Reads crt's serial number as lowercase hex with leading zero bytes
 * stripped ("0" for zero). WD_E_INTERNAL for a serial longer than RFC 5280
 * 4.1.2.2 allows or a GnuTLS failure; out is written only on success.
 */
enum wd_err
pki_serial_get(gnutls_x509_crt_t crt, char out[WD_MAX_SERIAL_HEX + 1])
{
    uint8_t buf[SERIAL_DER_MAX];
    size_t size = sizeof(buf);
    int ret;

    ret = gnutls_x509_crt_get_serial(crt, buf, &size);
    if (ret < 0) {
        log_err("event=serial_get err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    if (!pki_serial_hex(buf, size, out)) {
        log_err("event=serial_get err=\"serial over 20 octets, RFC 5280 "
                "4.1.2.2\"");
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

bool
pki_serial_hex(const uint8_t *p, size_t n, char out[WD_MAX_SERIAL_HEX + 1])
{
    while (n > 0 && p[0] == 0) {
        p++;
        n--;
    }
    if (n == 0) {
        memcpy(out, "0", 2);
        return true;
    }
    if (n > PKI_SERIAL_MAX_BYTES) {
        return false;
    }
    wd_hex_encode(p, n, out);
    return true;
}
