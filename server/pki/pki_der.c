/*
 * A small DER writer (X.690) for what GnuTLS cannot build fast enough: the
 * CRL's TBSCertList (GnuTLS grows its entry list in quadratic time), the
 * leaf's TBSCertificate (pki_leaf.c) and the OCSP response
 * (pki_ocsp_resp.c). It appends to one growable buffer in a single pass. A
 * constructed element is either opened and closed in the stream
 * (pki_der_begin/_end: one length byte reserved, the content moved only when it
 * reaches 128 bytes) or made of everything written so far (pki_der_wrap: the
 * header goes into headroom kept in front, so a 40 MB entry list is never moved
 * for it). A minimal reader takes elements apart again (pki_crl_read, a
 * request's signed part and its subject and key), and pki_der_to_pem puts PEM
 * armour around any DER.
 */
#include "pki_priv.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/xmalloc.h"

/* Small elements stay in the first allocation; big ones double. */
#define MIN_CAP 256

/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; a
 * year before 1950 has no UTCTime form at all. */
#define UTC_TIME_FIRST_YEAR 1950
#define UTC_TIME_LAST_YEAR 2049

/* "YYYYMMDDHHMMSSZ" */
#define TIME_MAX 15

/*
 * Starts d empty, with headroom bytes kept free in front for what
 * pki_der_prepend and pki_der_wrap put there later. A zeroed struct is an
 * empty writer without headroom. Release with pki_der_clear.
 */
void
pki_der_init(struct pki_der *d, size_t headroom)
{
    memset(d, 0, sizeof(*d));
    if (headroom > 0) {
        d->cap = headroom + MIN_CAP;
        d->buf = xmalloc(d->cap);
        d->start = headroom;
        d->end = headroom;
    }
}

/* Frees what d holds and leaves it empty; accepts NULL. */
void
pki_der_clear(struct pki_der *d)
{
    if (d == NULL) {
        return;
    }
    free(d->buf);
    memset(d, 0, sizeof(*d));
}

/* The bytes written so far; lent, valid until the next write to d. */
const uint8_t *
pki_der_data(const struct pki_der *d, size_t *len)
{
    *len = d->end - d->start;
    return d->buf != NULL ? d->buf + d->start : NULL;
}

/*
 * Hands the bytes written to the caller, who frees them with free(); d is
 * left empty. Moves them once to the front of the allocation if headroom
 * is left over. NULL (and *len 0) when nothing was written.
 */
uint8_t *
pki_der_take(struct pki_der *d, size_t *len)
{
    uint8_t *buf = d->buf;

    *len = d->end - d->start;
    if (*len == 0) {
        pki_der_clear(d);
        return NULL;
    }
    if (d->start > 0) {
        memmove(buf, buf + d->start, *len);
    }
    d->buf = NULL;
    pki_der_clear(d);
    return buf;
}

/* Room for n more bytes at the end. */
static void
reserve(struct pki_der *d, size_t n)
{
    size_t cap = d->cap > 0 ? d->cap : MIN_CAP;

    if (d->cap - d->end >= n) {
        return;
    }
    assert(n <= SIZE_MAX / 2 - d->end);
    while (cap - d->end < n) {
        cap *= 2;
    }
    d->buf = xrealloc(d->buf, cap);
    d->cap = cap;
}

/* At least n bytes of headroom, moving the content if there are fewer. */
static void
make_headroom(struct pki_der *d, size_t n)
{
    size_t len = d->end - d->start;
    size_t shift;

    if (d->start >= n) {
        return;
    }
    shift = n - d->start;
    reserve(d, shift);
    memmove(d->buf + n, d->buf + d->start, len);
    d->start = n;
    d->end = n + len;
}

/* X.690 8.1.3: the bytes of a definite length in its shortest form. */
static size_t
length_size(size_t len)
{
    size_t n = 1;

    if (len < 0x80) {
        return 1;
    }
    while (len > 0) {
        n++;
        len >>= 8;
    }
    return n;
}

/* Writes the length into out, which holds length_size(len) bytes. */
static void
put_length(uint8_t *out, size_t len)
{
    size_t n = length_size(len);
    size_t i;

    if (n == 1) {
        out[0] = (uint8_t)len;
        return;
    }
    out[0] = (uint8_t)(0x80 | (n - 1));
    for (i = n - 1; i > 0; i--) {
        out[i] = (uint8_t)(len & 0xff);
        len >>= 8;
    }
}

/* Appends n raw bytes (already encoded DER, e.g. a Name from GnuTLS). */
void
pki_der_raw(struct pki_der *d, const void *p, size_t n)
{
    if (n == 0) {
        return;
    }
    reserve(d, n);
    memcpy(d->buf + d->end, p, n);
    d->end += n;
}

/* Puts n raw bytes in front of everything written so far. */
void
pki_der_prepend(struct pki_der *d, const void *p, size_t n)
{
    if (n == 0) {
        return;
    }
    make_headroom(d, n);
    d->start -= n;
    memcpy(d->buf + d->start, p, n);
}

/*
 * Appends the identifier and length octets of an element whose len bytes
 * of content the caller writes next. tag is one byte (tag numbers < 31).
 */
void
pki_der_header(struct pki_der *d, uint8_t tag, size_t len)
{
    uint8_t hdr[PKI_DER_HEADER_MAX];

    assert((tag & 0x1f) != 0x1f);
    hdr[0] = tag;
    put_length(hdr + 1, len);
    pki_der_raw(d, hdr, 1 + length_size(len));
}

/* A primitive element: OCTET STRING, a pre-encoded OID, any other. */
void
pki_der_prim(struct pki_der *d, uint8_t tag, const void *p, size_t n)
{
    pki_der_header(d, tag, n);
    pki_der_raw(d, p, n);
}

/*
 * Opens a constructed element in the stream and returns its mark for
 * pki_der_end. Nothing may be prepended or wrapped until it is closed.
 */
size_t
pki_der_begin(struct pki_der *d, uint8_t tag)
{
    size_t mark = d->end;
    uint8_t hdr[2];

    assert((tag & 0x1f) != 0x1f);
    hdr[0] = tag;
    hdr[1] = 0; /* the length, once known */
    pki_der_raw(d, hdr, sizeof(hdr));
    return mark;
}

/*
 * Closes the element opened at mark: its content is everything written
 * since. Content of 128 bytes or more needs a longer length, so it moves
 * up by the extra bytes.
 */
void
pki_der_end(struct pki_der *d, size_t mark)
{
    size_t content = mark + 2;
    size_t len = d->end - content;
    size_t extra = length_size(len) - 1;

    assert(mark >= d->start && content <= d->end);
    if (extra > 0) {
        reserve(d, extra);
        memmove(d->buf + content + extra, d->buf + content, len);
        d->end += extra;
    }
    put_length(d->buf + mark + 1, len);
}

/* Makes everything written so far the content of one element of tag. */
void
pki_der_wrap(struct pki_der *d, uint8_t tag)
{
    size_t len = d->end - d->start;
    size_t n = 1 + length_size(len);

    assert((tag & 0x1f) != 0x1f);
    make_headroom(d, n);
    d->start -= n;
    d->buf[d->start] = tag;
    put_length(d->buf + d->start + 1, len);
}

/* X.690 8.3: two's complement in the fewest bytes, so leading zeros go
 * and a 0x00 comes in front of a set top bit; zero is one 0x00. */
static void
put_unsigned(struct pki_der *d, uint8_t tag, const uint8_t *be, size_t n)
{
    static const uint8_t zero = 0;

    while (n > 0 && be[0] == 0) {
        be++;
        n--;
    }
    if (n == 0) {
        pki_der_prim(d, tag, &zero, 1);
        return;
    }
    if (be[0] & 0x80) {
        pki_der_header(d, tag, n + 1);
        pki_der_raw(d, &zero, 1);
        pki_der_raw(d, be, n);
        return;
    }
    pki_der_prim(d, tag, be, n);
}

/*
 * An INTEGER of the unsigned big-endian number in be[0..n), such as a
 * serial: positive whatever its top bit. Zero (n == 0 too) is 02 01 00.
 */
void
pki_der_integer(struct pki_der *d, const uint8_t *be, size_t n)
{
    put_unsigned(d, PKI_DER_INTEGER, be, n);
}

/*
 * v as a non-negative element of tag: PKI_DER_INTEGER, or
 * PKI_DER_ENUMERATED, which X.690 8.4 encodes the same way.
 */
void
pki_der_uint(struct pki_der *d, uint8_t tag, uint64_t v)
{
    uint8_t be[sizeof(v)];
    size_t i;

    for (i = sizeof(be); i > 0; i--) {
        be[i - 1] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    put_unsigned(d, tag, be, sizeof(be));
}

/* One base-128 subidentifier, high groups first (X.690 8.19.2). */
static void
put_arc(struct pki_der *d, uint64_t arc)
{
    uint8_t out[10]; /* ceil(64 / 7) */
    size_t n = sizeof(out);

    out[--n] = (uint8_t)(arc & 0x7f);
    arc >>= 7;
    while (arc > 0) {
        out[--n] = (uint8_t)(0x80 | (arc & 0x7f));
        arc >>= 7;
    }
    pki_der_raw(d, out + n, sizeof(out) - n);
}

/* A decimal arc without sign or leading zero; *s moves past it. */
static bool
read_arc(const char **s, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;

    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9')) {
        return false;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *s = p;
    *out = v;
    return true;
}

/* The content octets of dotted into d; false if dotted is no OID. */
static bool
put_oid(struct pki_der *d, const char *dotted)
{
    const char *p = dotted;
    uint64_t first;
    uint64_t arc;

    /* X.660: at least two arcs, the first 0..2, the second under 40
     * below 0 and 1; the two share one subidentifier (X.690 8.19.4) */
    if (!read_arc(&p, &first) || first > 2 || *p++ != '.' ||
        !read_arc(&p, &arc) || (first < 2 && arc >= 40) ||
        arc > UINT64_MAX - 80) {
        return false;
    }
    put_arc(d, first * 40 + arc);
    while (*p == '.') {
        p++;
        if (!read_arc(&p, &arc)) {
            return false;
        }
        put_arc(d, arc);
    }
    return *p == '\0';
}

/*
 * An OBJECT IDENTIFIER from its dotted text ("1.2.840.10045.4.3.2").
 * WD_E_INTERNAL (logged) for text that is not an OID; nothing is written
 * then.
 */
enum wd_err
pki_der_oid(struct pki_der *d, const char *dotted)
{
    struct pki_der content = { NULL, 0, 0, 0 };
    const uint8_t *p;
    size_t len;

    if (dotted == NULL || !put_oid(&content, dotted)) {
        log_err("event=der_oid err=\"not an OID\"");
        pki_der_clear(&content);
        return WD_E_INTERNAL;
    }
    p = pki_der_data(&content, &len);
    pki_der_prim(d, PKI_DER_OID, p, len);
    pki_der_clear(&content);
    return WD_OK;
}

/* NULL, as in an RSA AlgorithmIdentifier's parameters. */
void
pki_der_null(struct pki_der *d)
{
    pki_der_header(d, PKI_DER_NULL, 0);
}

/* X.690 11.1: TRUE is 0xff in DER. */
void
pki_der_boolean(struct pki_der *d, bool v)
{
    uint8_t b = v ? 0xff : 0x00;

    pki_der_prim(d, PKI_DER_BOOLEAN, &b, 1);
}

/* A BIT STRING of whole bytes (a signature, a key): no unused bits. */
void
pki_der_bit_string(struct pki_der *d, const uint8_t *p, size_t n)
{
    static const uint8_t unused = 0;

    pki_der_header(d, PKI_DER_BIT_STRING, n + 1);
    pki_der_raw(d, &unused, 1);
    pki_der_raw(d, p, n);
}

/* Writes v as digits decimal digits into out. */
static void
put_digits(char *out, unsigned v, int digits)
{
    while (digits-- > 0) {
        out[digits] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Seconds from 1970 to 0000-01-01T00:00:00Z and to 10000-01-01 (the
 * proleptic Gregorian calendar, as gmtime_r counts). */
#define YEAR_0_S (-62167219200LL)
#define YEAR_10000_S 253402300800LL

/*
 * Year, month (1-12) and day (1-31) of a day count from 1970-01-01, in
 * the proleptic Gregorian calendar: days from March 1 of year 0 split
 * into 400-year eras, the year's leap day last (H. Hinnant, "chrono-
 * compatible low-level date algorithms", civil_from_days).
 */
static void
civil_from_days(int64_t days, long *year, unsigned *month, unsigned *day)
{
    int64_t z = days + 719468; /* days from 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153; /* 0 is March */

    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (long)(yoe + era * 400) + (*month <= 2);
}

/* The calendar date and the seconds into that day of s, seconds from
 * 1970 (negative before it). */
struct civil_time {
    long year;
    unsigned month;
    unsigned day;
    unsigned sod;
};

static struct civil_time
civil_from_seconds(int64_t s)
{
    struct civil_time c;
    int64_t days = s / 86400;
    int64_t sod = s % 86400;

    if (sod < 0) {
        sod += 86400;
        days--;
    }
    civil_from_days(days, &c.year, &c.month, &c.day);
    c.sod = (unsigned)sod;
    return c;
}

/* c as YYMMDDHHMMSSZ (year_digits 2) or YYYYMMDDHHMMSSZ (4) into p, at
 * least TIME_MAX bytes; returns the length. */
static size_t
put_civil(char *p, const struct civil_time *c, int year_digits)
{
    size_t n = (size_t)year_digits;

    put_digits(p, (unsigned)(year_digits == 2 ? c->year % 100 : c->year),
               year_digits);
    put_digits(p + n, c->month, 2);
    put_digits(p + n + 2, c->day, 2);
    put_digits(p + n + 4, c->sod / 3600, 2);
    put_digits(p + n + 6, c->sod / 60 % 60, 2);
    put_digits(p + n + 8, c->sod % 60, 2);
    p[n + 10] = 'Z';
    return n + 11;
}

/*
 * The DER of the Time that pki_der_time writes for t, into out: the same
 * octets, from arithmetic instead of gmtime_r, whose time-zone lock and
 * table walk were a tenth of a million-entry CRL's build. *len gets the
 * length (tag and length octets included). WD_E_INTERNAL (logged) for a
 * year after 9999 or before year 0; out is not written then.
 */
enum wd_err
pki_der_time_encode(time_t t, uint8_t out[PKI_DER_TIME_MAX], size_t *len)
{
    int64_t s = (int64_t)t;
    struct civil_time c;
    bool utc;
    size_t n;

    if (s < YEAR_0_S || s >= YEAR_10000_S) {
        log_err("event=der_time err=\"no Time form before year 0 or after "
                "9999, RFC 5280 4.1.2.5\"");
        return WD_E_INTERNAL;
    }
    c = civil_from_seconds(s);
    utc = c.year >= UTC_TIME_FIRST_YEAR && c.year <= UTC_TIME_LAST_YEAR;
    out[0] = utc ? PKI_DER_UTC_TIME : PKI_DER_GENERALIZED_TIME;
    n = put_civil((char *)out + 2, &c, utc ? 2 : 4);
    out[1] = (uint8_t)n;
    *len = 2 + n;
    return WD_OK;
}

/*
 * A Time (RFC 5280 4.1.2.5): UTCTime YYMMDDHHMMSSZ for 1950 through 2049,
 * GeneralizedTime YYYYMMDDHHMMSSZ otherwise, seconds, no fraction.
 * WD_E_INTERNAL (logged) for a year after 9999 or before year 0; nothing
 * is written then.
 */
enum wd_err
pki_der_time(struct pki_der *d, time_t t)
{
    uint8_t der[PKI_DER_TIME_MAX];
    size_t len = 0;

    if (pki_der_time_encode(t, der, &len) != WD_OK) {
        return WD_E_INTERNAL;
    }
    pki_der_raw(d, der, len);
    return WD_OK;
}

/* Seconds from 1970 to 1000-01-01T00:00:00Z, the first four-digit year. */
#define YEAR_1000_S (-30610224000LL)

/*
 * A GeneralizedTime YYYYMMDDHHMMSSZ, never UTCTime (RFC 5280 4.1.2.5.2,
 * as RFC 6960 uses it for every OCSP time), seconds, no fraction, from
 * arithmetic as pki_der_time_encode. WD_E_INTERNAL (logged) for a year
 * without four digits (before 1000 or after 9999); nothing is written
 * then.
 */
enum wd_err
pki_der_generalized_time(struct pki_der *d, time_t t)
{
    int64_t s = (int64_t)t;
    struct civil_time c;
    char text[TIME_MAX];
    size_t n;

    if (s < YEAR_1000_S || s >= YEAR_10000_S) {
        log_err("event=der_time err=\"no four-digit year, RFC 5280 "
                "4.1.2.5.2\"");
        return WD_E_INTERNAL;
    }
    c = civil_from_seconds(s);
    n = put_civil(text, &c, 4);
    pki_der_prim(d, PKI_DER_GENERALIZED_TIME, text, n);
    return WD_OK;
}

/*
 * The AlgorithmIdentifier GnuTLS writes for algo: RSA PKCS#1 v1.5 with
 * NULL parameters (RFC 4055 5), ECDSA (RFC 5758 3.2) and Ed25519 (RFC
 * 8410 3) without. WD_E_INTERNAL (logged) for an algorithm without an
 * OID (GNUTLS_SIGN_UNKNOWN among them).
 */
enum wd_err
pki_der_sig_algorithm(struct pki_der *d, gnutls_sign_algorithm_t algo)
{
    const char *oid = gnutls_sign_get_oid(algo);
    size_t mark;

    if (oid == NULL) {
        log_err("event=der_algorithm err=\"no signature algorithm OID for "
                "the key\"");
        return WD_E_INTERNAL;
    }
    mark = pki_der_begin(d, PKI_DER_SEQUENCE);
    if (pki_der_oid(d, oid) != WD_OK) {
        return WD_E_INTERNAL;
    }
    if (gnutls_sign_get_pk_algorithm(algo) == GNUTLS_PK_RSA) {
        pki_der_null(d);
    }
    pki_der_end(d, mark);
    return WD_OK;
}

/* Whether the next element of in has tag (false at the end). */
bool
pki_der_next_is(const struct pki_der_in *in, uint8_t tag)
{
    return in->len > 0 && in->p[0] == tag;
}

/*
 * Takes the next element off in if it has tag and a definite length in
 * its shortest form (X.690 10.1) that fits in what is left; *content gets
 * its content octets. Returns false, leaving in alone, otherwise.
 */
bool
pki_der_read(struct pki_der_in *in, uint8_t tag, struct pki_der_in *content)
{
    size_t hdr = 2;
    size_t len;
    size_t n;
    size_t i;

    assert((tag & 0x1f) != 0x1f);
    if (in->len < 2 || in->p[0] != tag) {
        return false;
    }
    len = in->p[1];
    if (len & 0x80) {
        n = len & 0x7f; /* 0: indefinite, which DER forbids */
        if (n == 0 || n > sizeof(size_t) || in->len - 2 < n || in->p[2] == 0) {
            return false;
        }
        len = 0;
        for (i = 0; i < n; i++) {
            len = len << 8 | in->p[2 + i];
        }
        if (len < 0x80) {
            return false;
        }
        hdr += n;
    }
    if (len > in->len - hdr) {
        return false;
    }
    content->p = in->p + hdr;
    content->len = len;
    in->p += hdr + len;
    in->len -= hdr + len;
    return true;
}

/*
 * A signed object (a Certificate, a CertificationRequest, a CertificateList:
 * SEQUENCE { signed part, AlgorithmIdentifier, BIT STRING }) taken apart:
 * *tbs is the signed part with its header, *sig the signature's octets.
 * False unless der is exactly one such SEQUENCE and the BIT STRING has no
 * unused bits.
 */
bool
pki_der_signed_parts(const uint8_t *der, size_t len, struct pki_der_in *tbs,
                     struct pki_der_in *sig)
{
    struct pki_der_in in = { der, len };
    struct pki_der_in outer;
    struct pki_der_in skip;
    struct pki_der_in bits;
    const uint8_t *start;

    if (!pki_der_read(&in, PKI_DER_SEQUENCE, &outer) || in.len != 0) {
        return false;
    }
    start = outer.p;
    if (!pki_der_read(&outer, PKI_DER_SEQUENCE, &skip)) {
        return false;
    }
    tbs->p = start;
    tbs->len = (size_t)(outer.p - start);
    if (!pki_der_read(&outer, PKI_DER_SEQUENCE, &skip) ||
        !pki_der_read(&outer, PKI_DER_BIT_STRING, &bits) || outer.len != 0 ||
        bits.len < 1 || bits.p[0] != 0) {
        return false;
    }
    sig->p = bits.p + 1;
    sig->len = bits.len - 1;
    return true;
}

/*
 * PEM armour (RFC 7468) around der with label ("X509 CRL", "CERTIFICATE").
 * On success the caller frees *pem; WD_E_INTERNAL (logged) otherwise.
 */
enum wd_err
pki_der_to_pem(const char *label, const uint8_t *der, size_t len, char **pem)
{
    gnutls_datum_t in;
    gnutls_datum_t out = { NULL, 0 };
    int ret;

    if (len > UINT_MAX) {
        log_err("event=der_to_pem err=\"over 4 GiB\"");
        return WD_E_INTERNAL;
    }
    in.data = (unsigned char *)der;
    in.size = (unsigned)len;
    ret = gnutls_pem_base64_encode2(label, &in, &out);
    if (ret < 0) {
        log_err("event=der_to_pem err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    *pem = pki_datum_take_str(&out);
    return WD_OK;
}
