/*
 * Unit tests for server/pki/pki_der.c: the DER writer's exact bytes at
 * every length boundary (X.690 8.1.3), INTEGERs, OIDs, times around the
 * RFC 5280 UTCTime/GeneralizedTime switch (and the arithmetic encoders
 * checked against gmtime_r), nested and wrapped elements,
 * the reader's refusals, a signed object taken apart (and every other
 * shape refused), and PEM armour.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include "../../server/pki/pki_priv.h"

/* 2^24 + 1: a length that needs four bytes (0x84). */
#define BIG_LEN ((size_t)16 * 1024 * 1024 + 1)

/* The bytes written to d are exactly want[0..n). */
static void
assert_der(const struct pki_der *d, const uint8_t *want, size_t n)
{
    size_t len = 0;
    const uint8_t *got = pki_der_data(d, &len);

    assert_int_equal(len, n);
    if (n > 0) {
        assert_memory_equal(got, want, n);
    }
}

#define ASSERT_DER(d, ...)                                                     \
    do {                                                                       \
        static const uint8_t want_[] = { __VA_ARGS__ };                        \
        assert_der((d), want_, sizeof(want_));                                 \
    } while (0)

/* Content of n bytes that a misplaced copy would not reproduce. */
static uint8_t *
pattern(size_t n)
{
    uint8_t *p = malloc(n > 0 ? n : 1);
    size_t i;

    assert_non_null(p);
    for (i = 0; i < n; i++) {
        p[i] = (uint8_t)(i * 7 + i / 251);
    }
    return p;
}

/* The header X.690 8.1.3 asks for a length of len (tag 0x04). */
static size_t
want_header(size_t len, uint8_t out[PKI_DER_HEADER_MAX])
{
    out[0] = PKI_DER_OCTET_STRING;
    if (len < 128) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xff) {
        out[1] = 0x81;
        out[2] = (uint8_t)len;
        return 3;
    }
    if (len <= 0xffff) {
        out[1] = 0x82;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    if (len <= 0xffffff) {
        out[1] = 0x83;
        out[2] = (uint8_t)(len >> 16);
        out[3] = (uint8_t)(len >> 8);
        out[4] = (uint8_t)len;
        return 5;
    }
    out[1] = 0x84;
    out[2] = (uint8_t)(len >> 24);
    out[3] = (uint8_t)(len >> 16);
    out[4] = (uint8_t)(len >> 8);
    out[5] = (uint8_t)len;
    return 6;
}

/* d holds one OCTET STRING of content[0..len) with the right header. */
static void
assert_element(const struct pki_der *d, const uint8_t *content, size_t len)
{
    uint8_t hdr[PKI_DER_HEADER_MAX];
    size_t hdr_len = want_header(len, hdr);
    size_t got_len = 0;
    const uint8_t *got = pki_der_data(d, &got_len);

    assert_int_equal(got_len, hdr_len + len);
    assert_memory_equal(got, hdr, hdr_len);
    if (len > 0) {
        assert_memory_equal(got + hdr_len, content, len);
    }
}

static const size_t boundary_lens[] = {
    0, 1, 127, 128, 129, 255, 256, 65535, 65536, 16777215, BIG_LEN,
};

#define N_BOUNDARY_LENS (sizeof(boundary_lens) / sizeof(boundary_lens[0]))

static void
test_pki_der_header_uses_the_short_form_below_128(void **state)
{
    struct pki_der d = { NULL, 0, 0, 0 };

    (void)state;
    pki_der_header(&d, PKI_DER_SEQUENCE, 0);
    pki_der_header(&d, PKI_DER_SEQUENCE, 1);
    pki_der_header(&d, PKI_DER_OCTET_STRING, 127);
    ASSERT_DER(&d, 0x30, 0x00, 0x30, 0x01, 0x04, 0x7f);
    pki_der_clear(&d);
}

static void
test_pki_der_header_uses_the_shortest_long_form_from_128(void **state)
{
    struct pki_der d = { NULL, 0, 0, 0 };

    (void)state;
    pki_der_header(&d, 0x04, 128);
    pki_der_header(&d, 0x04, 255);
    pki_der_header(&d, 0x04, 256);
    pki_der_header(&d, 0x04, 65535);
    pki_der_header(&d, 0x04, 65536);
    pki_der_header(&d, 0x04, 16777215);
    pki_der_header(&d, 0x04, 16777216);
    ASSERT_DER(&d, 0x04, 0x81, 0x80, 0x04, 0x81, 0xff, 0x04, 0x82, 0x01, 0x00,
               0x04, 0x82, 0xff, 0xff, 0x04, 0x83, 0x01, 0x00, 0x00, 0x04, 0x83,
               0xff, 0xff, 0xff, 0x04, 0x84, 0x01, 0x00, 0x00, 0x00);
    pki_der_clear(&d);
}

static void
test_pki_der_prim_writes_every_boundary_length(void **state)
{
    uint8_t *content = pattern(BIG_LEN);
    struct pki_der d;
    size_t i;

    (void)state;
    for (i = 0; i < N_BOUNDARY_LENS; i++) {
        pki_der_init(&d, 0);
        pki_der_prim(&d, PKI_DER_OCTET_STRING, content, boundary_lens[i]);
        assert_element(&d, content, boundary_lens[i]);
        pki_der_clear(&d);
    }
    free(content);
}

static void
test_pki_der_end_moves_the_content_for_a_long_length(void **state)
{
    uint8_t *content = pattern(BIG_LEN);
    struct pki_der d;
    size_t mark;
    size_t i;

    (void)state;
    for (i = 0; i < N_BOUNDARY_LENS; i++) {
        pki_der_init(&d, 0);
        mark = pki_der_begin(&d, PKI_DER_OCTET_STRING);
        pki_der_raw(&d, content, boundary_lens[i]);
        pki_der_end(&d, mark);
        assert_element(&d, content, boundary_lens[i]);
        pki_der_clear(&d);
    }
    free(content);
}

static void
test_pki_der_wrap_writes_every_boundary_length(void **state)
{
    uint8_t *content = pattern(BIG_LEN);
    struct pki_der d;
    size_t headroom;
    size_t i;

    (void)state;
    for (headroom = 0; headroom <= PKI_DER_HEADER_MAX;
         headroom += PKI_DER_HEADER_MAX) {
        for (i = 0; i < N_BOUNDARY_LENS; i++) {
            pki_der_init(&d, headroom);
            pki_der_raw(&d, content, boundary_lens[i]);
            pki_der_wrap(&d, PKI_DER_OCTET_STRING);
            assert_element(&d, content, boundary_lens[i]);
            pki_der_clear(&d);
        }
    }
    free(content);
}

static void
test_pki_der_wrap_writes_into_the_headroom_without_moving(void **state)
{
    uint8_t *content = pattern(70000);
    struct pki_der d;
    const uint8_t *before;
    const uint8_t *after;
    size_t len = 0;

    (void)state;
    pki_der_init(&d, 2 * PKI_DER_HEADER_MAX);
    pki_der_raw(&d, content, 70000);
    before = pki_der_data(&d, &len);
    pki_der_wrap(&d, PKI_DER_SEQUENCE);
    pki_der_wrap(&d, PKI_DER_CONTEXT(0));
    after = pki_der_data(&d, &len);
    assert_ptr_equal(after + 5 + 5, before);
    assert_int_equal(len, 70000 + 10);
    assert_memory_equal(after, "\xa0\x83\x01\x11\x75\x30\x83\x01\x11\x70", 10);
    free(content);
    pki_der_clear(&d);
}

static void
test_pki_der_nests_constructed_elements(void **state)
{
    struct pki_der d = { NULL, 0, 0, 0 };
    size_t outer;
    size_t inner;
    size_t set;

    (void)state;
    outer = pki_der_begin(&d, PKI_DER_SEQUENCE);
    inner = pki_der_begin(&d, PKI_DER_SEQUENCE);
    pki_der_uint(&d, PKI_DER_INTEGER, 1);
    pki_der_end(&d, inner);
    inner = pki_der_begin(&d, PKI_DER_CONTEXT(0));
    pki_der_null(&d);
    pki_der_end(&d, inner);
    set = pki_der_begin(&d, PKI_DER_SET);
    pki_der_end(&d, set);
    pki_der_end(&d, outer);
    ASSERT_DER(&d, 0x30, 0x0b, 0x30, 0x03, 0x02, 0x01, 0x01, 0xa0, 0x02, 0x05,
               0x00, 0x31, 0x00);
    pki_der_clear(&d);
}

static void
test_pki_der_nests_elements_that_grow_past_one_length_byte(void **state)
{
    uint8_t *content = pattern(300);
    struct pki_der d = { NULL, 0, 0, 0 };
    const uint8_t *got;
    size_t len = 0;
    size_t outer;
    size_t inner;

    (void)state;
    outer = pki_der_begin(&d, PKI_DER_SEQUENCE);
    inner = pki_der_begin(&d, PKI_DER_OCTET_STRING);
    pki_der_raw(&d, content, 200);
    pki_der_end(&d, inner);
    pki_der_raw(&d, content + 200, 100);
    pki_der_end(&d, outer);
    got = pki_der_data(&d, &len);
    /* 30 82 01 2f | 04 81 c8 <200> | <100> */
    assert_int_equal(len, 4 + 3 + 300);
    assert_memory_equal(got, "\x30\x82\x01\x2f\x04\x81\xc8", 7);
    assert_memory_equal(got + 7, content, 300);
    free(content);
    pki_der_clear(&d);
}

static void
test_pki_der_prepend_puts_bytes_in_front(void **state)
{
    struct pki_der d;

    (void)state;
    pki_der_init(&d, 1);
    pki_der_raw(&d, "\x03\x04", 2);
    pki_der_prepend(&d, "\x02", 1);
    pki_der_prepend(&d, "\x00\x01", 2); /* past the headroom: moves */
    pki_der_wrap(&d, PKI_DER_SEQUENCE);
    ASSERT_DER(&d, 0x30, 0x05, 0x00, 0x01, 0x02, 0x03, 0x04);
    pki_der_clear(&d);
}

static void
test_pki_der_take_hands_over_the_bytes_from_the_front(void **state)
{
    struct pki_der d;
    uint8_t *buf;
    size_t len = 0;

    (void)state;
    pki_der_init(&d, 3 * PKI_DER_HEADER_MAX);
    pki_der_uint(&d, PKI_DER_INTEGER, 0x1234);
    pki_der_wrap(&d, PKI_DER_SEQUENCE);
    buf = pki_der_take(&d, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "\x30\x04\x02\x02\x12\x34", 6);
    assert_null(d.buf);
    free(buf);

    pki_der_init(&d, 8);
    assert_null(pki_der_take(&d, &len));
    assert_int_equal(len, 0);
    pki_der_clear(&d);
    pki_der_clear(NULL);
}

/* pki_der_integer of be[0..n) writes want[0..want_len). */
static void
assert_integer(const uint8_t *be, size_t n, const uint8_t *want,
               size_t want_len)
{
    struct pki_der d = { NULL, 0, 0, 0 };

    pki_der_integer(&d, be, n);
    assert_der(&d, want, want_len);
    pki_der_clear(&d);
}

static void
test_pki_der_integer_is_minimal_and_positive(void **state)
{
    static const uint8_t serial_high[20] = {
        0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    };
    static const uint8_t serial_low[20] = {
        0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    };
    uint8_t want[23];

    (void)state;
    assert_integer(NULL, 0, (const uint8_t *)"\x02\x01\x00", 3);
    assert_integer((const uint8_t *)"\x00", 1, (const uint8_t *)"\x02\x01\x00",
                   3);
    assert_integer((const uint8_t *)"\x00\x00\x00", 3,
                   (const uint8_t *)"\x02\x01\x00", 3);
    assert_integer((const uint8_t *)"\x7f", 1, (const uint8_t *)"\x02\x01\x7f",
                   3);
    assert_integer((const uint8_t *)"\x80", 1,
                   (const uint8_t *)"\x02\x02\x00\x80", 4);
    assert_integer((const uint8_t *)"\xff", 1,
                   (const uint8_t *)"\x02\x02\x00\xff", 4);
    assert_integer((const uint8_t *)"\xff\xff\xff", 3,
                   (const uint8_t *)"\x02\x04\x00\xff\xff\xff", 6);
    assert_integer((const uint8_t *)"\x00\x00\x01\x02", 4,
                   (const uint8_t *)"\x02\x02\x01\x02", 4);
    assert_integer((const uint8_t *)"\x00\x00\x80\x01", 4,
                   (const uint8_t *)"\x02\x03\x00\x80\x01", 5);

    want[0] = 0x02;
    want[1] = 21;
    want[2] = 0x00;
    memcpy(want + 3, serial_high, 20);
    assert_integer(serial_high, 20, want, 23);
    want[1] = 20;
    memcpy(want + 2, serial_low, 20);
    assert_integer(serial_low, 20, want, 22);
}

static void
test_pki_der_uint_writes_integers_and_enumerated(void **state)
{
    struct pki_der d = { NULL, 0, 0, 0 };

    (void)state;
    pki_der_uint(&d, PKI_DER_INTEGER, 0);
    pki_der_uint(&d, PKI_DER_INTEGER, 127);
    pki_der_uint(&d, PKI_DER_INTEGER, 128);
    pki_der_uint(&d, PKI_DER_INTEGER, 256);
    pki_der_uint(&d, PKI_DER_ENUMERATED, 9);
    ASSERT_DER(&d, 0x02, 0x01, 0x00, 0x02, 0x01, 0x7f, 0x02, 0x02, 0x00, 0x80,
               0x02, 0x02, 0x01, 0x00, 0x0a, 0x01, 0x09);
    pki_der_clear(&d);
    pki_der_uint(&d, PKI_DER_INTEGER, UINT64_MAX);
    ASSERT_DER(&d, 0x02, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
               0xff);
    pki_der_clear(&d);
}

/* pki_der_oid(dotted) writes want[0..want_len). */
static void
assert_oid(const char *dotted, const uint8_t *want, size_t want_len)
{
    struct pki_der d = { NULL, 0, 0, 0 };

    assert_wd_err(pki_der_oid(&d, dotted), WD_OK);
    assert_der(&d, want, want_len);
    pki_der_clear(&d);
}

static void
test_pki_der_oid_writes_multi_byte_arcs(void **state)
{
    (void)state;
    assert_oid("2.5.29.35", (const uint8_t *)"\x06\x03\x55\x1d\x23", 5);
    assert_oid("1.3.101.112", (const uint8_t *)"\x06\x03\x2b\x65\x70", 5);
    assert_oid("1.2.840.10045.4.3.2",
               (const uint8_t *)"\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 10);
    assert_oid("1.2.840.113549.1.1.11",
               (const uint8_t *)"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b",
               11);
    assert_oid("0.0", (const uint8_t *)"\x06\x01\x00", 3);
    assert_oid("1.39.127.128", (const uint8_t *)"\x06\x04\x4f\x7f\x81\x00", 6);
    /* under the first arc 2 the second is unbounded: 2*40+999 = 1079 */
    assert_oid("2.999.3", (const uint8_t *)"\x06\x03\x88\x37\x03", 5);
    assert_oid("1.2.18446744073709551615",
               (const uint8_t *)"\x06\x0b\x2a\x81\xff\xff\xff\xff\xff\xff\xff"
                                "\xff\x7f",
               13);
}

static void
test_pki_der_oid_refuses_malformed_text(void **state)
{
    static const char *const bad[] = {
        "",
        "1",
        "3.1",
        "1.40",
        "0.40",
        "1..2",
        "1.2.",
        ".1.2",
        "01.2",
        "1.02",
        "1.2a",
        "1.-2",
        "1 .2",
        "1.2.3 ",
        "2.18446744073709551615",
        "1.2.18446744073709551616",
    };
    struct pki_der d = { NULL, 0, 0, 0 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_wd_err(pki_der_oid(&d, bad[i]), WD_E_INTERNAL);
        assert_int_equal(d.end, d.start);
    }
    assert_wd_err(pki_der_oid(&d, NULL), WD_E_INTERNAL);
    pki_der_clear(&d);
}

static void
test_pki_der_writes_null_boolean_and_bit_string(void **state)
{
    struct pki_der d = { NULL, 0, 0, 0 };

    (void)state;
    pki_der_null(&d);
    pki_der_boolean(&d, true);
    pki_der_boolean(&d, false);
    pki_der_bit_string(&d, (const uint8_t *)"\xaa\xbb", 2);
    pki_der_bit_string(&d, NULL, 0);
    pki_der_prim(&d, PKI_DER_CONTEXT_PRIM(0), "\x01", 1);
    ASSERT_DER(&d, 0x05, 0x00, 0x01, 0x01, 0xff, 0x01, 0x01, 0x00, 0x03, 0x03,
               0x00, 0xaa, 0xbb, 0x03, 0x01, 0x00, 0x80, 0x01, 0x01);
    pki_der_clear(&d);
}

/* pki_der_time(t) writes tag and text. */
static void
assert_time(time_t t, uint8_t tag, const char *text)
{
    struct pki_der d = { NULL, 0, 0, 0 };
    uint8_t want[2 + 15];
    size_t n = strlen(text);

    want[0] = tag;
    want[1] = (uint8_t)n;
    memcpy(want + 2, text, n);
    assert_wd_err(pki_der_time(&d, t), WD_OK);
    assert_der(&d, want, 2 + n);
    pki_der_clear(&d);
}

static void
test_pki_der_time_is_utctime_from_1950_through_2049(void **state)
{
    (void)state;
    assert_time(-631152000, PKI_DER_UTC_TIME, "500101000000Z");
    assert_time(0, PKI_DER_UTC_TIME, "700101000000Z");
    assert_time(1700000000, PKI_DER_UTC_TIME, "231114221320Z");
    assert_time(951782400, PKI_DER_UTC_TIME, "000229000000Z");
    assert_time(2524607999, PKI_DER_UTC_TIME, "491231235959Z");
}

static void
test_pki_der_time_is_generalized_time_from_2050_and_before_1950(void **state)
{
    (void)state;
    assert_time(2524608000, PKI_DER_GENERALIZED_TIME, "20500101000000Z");
    assert_time(4102444800, PKI_DER_GENERALIZED_TIME, "21000101000000Z");
    assert_time(253402300799, PKI_DER_GENERALIZED_TIME, "99991231235959Z");
    assert_time(-631152001, PKI_DER_GENERALIZED_TIME, "19491231235959Z");
    assert_time(-62167219200, PKI_DER_GENERALIZED_TIME, "00000101000000Z");
}

static void
test_pki_der_time_refuses_years_outside_0_to_9999(void **state)
{
    struct pki_der d = { NULL, 0, 0, 0 };

    (void)state;
    assert_wd_err(pki_der_time(&d, 253402300800), WD_E_INTERNAL);
    assert_wd_err(pki_der_time(&d, -62167219201), WD_E_INTERNAL);
    assert_int_equal(d.end, d.start);
    pki_der_clear(&d);
}

/* pki_der_time_encode(t), and pki_der_time(t) through it, give the Time
 * gmtime_r makes of t: UTCTime for 1950 through 2049. */
static void
assert_time_encode_matches(time_t t)
{
    struct pki_der d = { NULL, 0, 0, 0 };
    uint8_t out[PKI_DER_TIME_MAX];
    uint8_t want[PKI_DER_TIME_MAX + 1];
    size_t len = 0;
    struct tm tm;
    long year;
    bool utc;
    int n;

    assert_non_null(gmtime_r(&t, &tm));
    year = (long)tm.tm_year + 1900;
    utc = year >= 1950 && year <= 2049;
    n = snprintf((char *)want + 2, sizeof(want) - 2,
                 utc ? "%02ld%02d%02d%02d%02d%02dZ"
                     : "%04ld%02d%02d%02d%02d%02dZ",
                 utc ? year % 100 : year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
    want[0] = utc ? PKI_DER_UTC_TIME : PKI_DER_GENERALIZED_TIME;
    want[1] = (uint8_t)n;
    assert_wd_err(pki_der_time_encode(t, out, &len), WD_OK);
    assert_int_equal(len, (size_t)n + 2);
    assert_memory_equal(out, want, len);
    assert_wd_err(pki_der_time(&d, t), WD_OK);
    assert_der(&d, want, len);
    pki_der_clear(&d);
}

static void
test_pki_der_time_encode_writes_what_gmtime_makes(void **state)
{
    /* year 0, the UTCTime switch both ways, leap days of 1900 (none),
     * 2000 and 2100 (none), 1970 and the last second of 9999 */
    static const time_t edges[] = {
        -62167219200, -62167219199, -62135596801, -2208988801,
        -2203891200,  -2203891201,  -631152001,   -631152000,
        -86401,       -86400,       -1,           0,
        951782399,    951782400,    951868800,    2524607999,
        2524608000,   4107456000,   4107542400,   253402300799,
    };
    const int64_t first = -62167219200;
    const int64_t span = 253402300800 - first;
    uint64_t x = 0x9e3779b97f4a7c15u;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        assert_time_encode_matches(edges[i]);
    }
    /* a sweep over every year, at any second of the day */
    for (i = 0; i < 200000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        assert_time_encode_matches((time_t)(first + (int64_t)(x >> 1) % span));
    }
}

static void
test_pki_der_time_encode_refuses_years_outside_0_to_9999(void **state)
{
    uint8_t out[PKI_DER_TIME_MAX];
    size_t len = 0;

    (void)state;
    assert_wd_err(pki_der_time_encode(253402300800, out, &len), WD_E_INTERNAL);
    assert_wd_err(pki_der_time_encode(-62167219201, out, &len), WD_E_INTERNAL);
    assert_int_equal(len, 0);
}

/* pki_der_generalized_time(t) writes what gmtime_r and strftime make. */
static void
assert_generalized_time_matches(time_t t)
{
    struct pki_der d = { NULL, 0, 0, 0 };
    uint8_t want[2 + 16];
    struct tm tm;

    assert_non_null(gmtime_r(&t, &tm));
    want[0] = PKI_DER_GENERALIZED_TIME;
    want[1] = 15;
    assert_int_equal(strftime((char *)want + 2, 16, "%Y%m%d%H%M%SZ", &tm), 15);
    assert_wd_err(pki_der_generalized_time(&d, t), WD_OK);
    assert_der(&d, want, 2 + 15);
    pki_der_clear(&d);
}

static void
test_pki_der_generalized_time_is_gmtime_for_every_four_digit_year(void **state)
{
    /* year 1000, the UTCTime years, leap days of 1900 (none), 2000 and
     * 2100 (none), 1970 and the last second of 9999 */
    static const time_t edges[] = {
        -30610224000, -30610223999, -2208988801,  -2203891200, -2203891201,
        -631152001,   -631152000,   -86401,       -1,          0,
        951782399,    951782400,    951868800,    2524607999,  2524608000,
        4107456000,   4107542400,   253402300799,
    };
    const int64_t first = -30610224000;
    const int64_t span = 253402300800 - first;
    uint64_t x = 0x9e3779b97f4a7c15u;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        assert_generalized_time_matches(edges[i]);
    }
    for (i = 0; i < 200000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        assert_generalized_time_matches(
            (time_t)(first + (int64_t)(x >> 1) % span));
    }
}

static void
test_pki_der_generalized_time_refuses_years_outside_1000_to_9999(void **state)
{
    struct pki_der d = { NULL, 0, 0, 0 };

    (void)state;
    assert_wd_err(pki_der_generalized_time(&d, 253402300800), WD_E_INTERNAL);
    assert_wd_err(pki_der_generalized_time(&d, -30610224001), WD_E_INTERNAL);
    assert_int_equal(d.end, d.start);
    pki_der_clear(&d);
}

static void
test_pki_der_read_takes_nested_elements_apart(void **state)
{
    static const uint8_t der[] = { 0x30, 0x08, 0x02, 0x01, 0x05, 0xa0,
                                   0x03, 0x05, 0x00, 0x00, 0x04, 0x00 };
    struct pki_der_in in = { der, sizeof(der) };
    struct pki_der_in seq;
    struct pki_der_in part;

    (void)state;
    assert_true(pki_der_next_is(&in, PKI_DER_SEQUENCE));
    assert_false(pki_der_read(&in, PKI_DER_SET, &seq));
    assert_true(pki_der_read(&in, PKI_DER_SEQUENCE, &seq));
    assert_int_equal(seq.len, 8);
    assert_true(pki_der_read(&seq, PKI_DER_INTEGER, &part));
    assert_int_equal(part.len, 1);
    assert_int_equal(part.p[0], 5);
    assert_false(pki_der_next_is(&seq, PKI_DER_NULL));
    assert_true(pki_der_read(&seq, PKI_DER_CONTEXT(0), &part));
    assert_int_equal(part.len, 3);
    assert_int_equal(seq.len, 0);
    assert_false(pki_der_next_is(&seq, PKI_DER_NULL));
    assert_true(pki_der_read(&in, PKI_DER_OCTET_STRING, &part));
    assert_int_equal(part.len, 0);
    assert_int_equal(in.len, 0);
}

/* pki_der_read refuses der and leaves the cursor where it was. */
static void
assert_read_refuses(const uint8_t *der, size_t len)
{
    struct pki_der_in in = { der, len };
    struct pki_der_in content;

    assert_false(pki_der_read(&in, PKI_DER_SEQUENCE, &content));
    assert_ptr_equal(in.p, der);
    assert_int_equal(in.len, len);
}

static void
test_pki_der_read_refuses_what_der_forbids(void **state)
{
    static uint8_t long_form[4 + 0x80];

    (void)state;
    assert_read_refuses(NULL, 0);
    assert_read_refuses((const uint8_t *)"\x30", 1);
    /* indefinite length (X.690 10.1) */
    assert_read_refuses((const uint8_t *)"\x30\x80\x00\x00", 4);
    /* a long form for a short length, and a leading zero length byte */
    assert_read_refuses((const uint8_t *)"\x30\x81\x01\x00", 4);
    long_form[0] = 0x30;
    long_form[1] = 0x82;
    long_form[2] = 0x00;
    long_form[3] = 0x80;
    assert_read_refuses(long_form, sizeof(long_form));
    /* past the end */
    assert_read_refuses((const uint8_t *)"\x30\x03\x00\x00", 4);
    assert_read_refuses((const uint8_t *)"\x30\x81", 2);
    assert_read_refuses((const uint8_t *)"\x30\x89\x01\x00\x00\x00\x00\x00"
                                         "\x00\x00\x00",
                        11);
}

static void
test_pki_der_read_takes_back_every_boundary_length(void **state)
{
    uint8_t *content = pattern(BIG_LEN);
    struct pki_der d;
    struct pki_der_in in;
    struct pki_der_in got;
    size_t i;

    (void)state;
    for (i = 0; i < N_BOUNDARY_LENS; i++) {
        pki_der_init(&d, 0);
        pki_der_prim(&d, PKI_DER_OCTET_STRING, content, boundary_lens[i]);
        in.p = pki_der_data(&d, &in.len);
        assert_true(pki_der_read(&in, PKI_DER_OCTET_STRING, &got));
        assert_int_equal(got.len, boundary_lens[i]);
        assert_int_equal(in.len, 0);
        if (got.len > 0) {
            assert_memory_equal(got.p, content, got.len);
        }
        pki_der_clear(&d);
    }
    free(content);
}

/* SEQUENCE { tbs SEQUENCE { INTEGER 5 }, alg SEQUENCE { NULL },
 * BIT STRING (0 unused) ab cd }: the shape of every signed object. */
static const uint8_t signed_obj[] = {
    0x30, 0x0e, 0x30, 0x03, 0x02, 0x01, 0x05, 0x30,
    0x02, 0x05, 0x00, 0x03, 0x03, 0x00, 0xab, 0xcd,
};

static bool
signed_parts_of(const uint8_t *der, size_t len)
{
    struct pki_der_in tbs;
    struct pki_der_in sig;

    return pki_der_signed_parts(der, len, &tbs, &sig);
}

static void
test_pki_der_signed_parts_takes_a_signed_object_apart(void **state)
{
    struct pki_der_in tbs;
    struct pki_der_in sig;

    (void)state;
    assert_true(
        pki_der_signed_parts(signed_obj, sizeof(signed_obj), &tbs, &sig));
    assert_ptr_equal(tbs.p, signed_obj + 2);
    assert_int_equal(tbs.len, 5); /* with its header: what was signed */
    assert_int_equal(sig.len, 2);
    assert_int_equal(sig.p[0], 0xab);
    assert_int_equal(sig.p[1], 0xcd);
}

static void
test_pki_der_signed_parts_refuses_every_other_shape(void **state)
{
    uint8_t buf[sizeof(signed_obj) + 1];
    size_t n;

    (void)state;
    /* every truncation, and nothing at all */
    for (n = 0; n < sizeof(signed_obj); n++) {
        assert_false(signed_parts_of(signed_obj, n));
    }
    /* a byte after the object */
    memcpy(buf, signed_obj, sizeof(signed_obj));
    buf[sizeof(signed_obj)] = 0x00;
    assert_false(signed_parts_of(buf, sizeof(buf)));
    /* a SET outside, unused bits in the signature, a tbs that is no
     * SEQUENCE, an INTEGER where the BIT STRING goes */
    memcpy(buf, signed_obj, sizeof(signed_obj));
    buf[0] = 0x31;
    assert_false(signed_parts_of(buf, sizeof(signed_obj)));
    memcpy(buf, signed_obj, sizeof(signed_obj));
    buf[13] = 0x01;
    assert_false(signed_parts_of(buf, sizeof(signed_obj)));
    memcpy(buf, signed_obj, sizeof(signed_obj));
    buf[2] = 0x31;
    assert_false(signed_parts_of(buf, sizeof(signed_obj)));
    memcpy(buf, signed_obj, sizeof(signed_obj));
    buf[11] = 0x02;
    assert_false(signed_parts_of(buf, sizeof(signed_obj)));
    /* an empty BIT STRING: no unused-bits octet */
    {
        static const uint8_t empty_bits[] = { 0x30, 0x0b, 0x30, 0x03, 0x02,
                                              0x01, 0x05, 0x30, 0x02, 0x05,
                                              0x00, 0x03, 0x00 };

        assert_false(signed_parts_of(empty_bits, sizeof(empty_bits)));
    }
}

static void
test_pki_der_to_pem_armours_der(void **state)
{
    static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
    gnutls_datum_t pem_d;
    gnutls_datum_t back = { NULL, 0 };
    char *pem = NULL;

    (void)state;
    assert_wd_err(pki_der_to_pem("X509 CRL", der, sizeof(der), &pem), WD_OK);
    assert_string_equal(pem, "-----BEGIN X509 CRL-----\nMAMCAQc=\n"
                             "-----END X509 CRL-----\n");
    pem_d.data = (unsigned char *)pem;
    pem_d.size = (unsigned)strlen(pem);
    assert_int_equal(gnutls_pem_base64_decode2("X509 CRL", &pem_d, &back), 0);
    assert_int_equal(back.size, sizeof(der));
    assert_memory_equal(back.data, der, sizeof(der));
    gnutls_free(back.data);
    free(pem);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_der_header_uses_the_short_form_below_128),
        cmocka_unit_test(
            test_pki_der_header_uses_the_shortest_long_form_from_128),
        cmocka_unit_test(test_pki_der_prim_writes_every_boundary_length),
        cmocka_unit_test(test_pki_der_end_moves_the_content_for_a_long_length),
        cmocka_unit_test(test_pki_der_wrap_writes_every_boundary_length),
        cmocka_unit_test(
            test_pki_der_wrap_writes_into_the_headroom_without_moving),
        cmocka_unit_test(test_pki_der_nests_constructed_elements),
        cmocka_unit_test(
            test_pki_der_nests_elements_that_grow_past_one_length_byte),
        cmocka_unit_test(test_pki_der_prepend_puts_bytes_in_front),
        cmocka_unit_test(test_pki_der_take_hands_over_the_bytes_from_the_front),
        cmocka_unit_test(test_pki_der_integer_is_minimal_and_positive),
        cmocka_unit_test(test_pki_der_uint_writes_integers_and_enumerated),
        cmocka_unit_test(test_pki_der_oid_writes_multi_byte_arcs),
        cmocka_unit_test(test_pki_der_oid_refuses_malformed_text),
        cmocka_unit_test(test_pki_der_writes_null_boolean_and_bit_string),
        cmocka_unit_test(test_pki_der_time_is_utctime_from_1950_through_2049),
        cmocka_unit_test(
            test_pki_der_time_is_generalized_time_from_2050_and_before_1950),
        cmocka_unit_test(test_pki_der_time_refuses_years_outside_0_to_9999),
        cmocka_unit_test(test_pki_der_time_encode_writes_what_gmtime_makes),
        cmocka_unit_test(
            test_pki_der_time_encode_refuses_years_outside_0_to_9999),
        cmocka_unit_test(
            test_pki_der_generalized_time_is_gmtime_for_every_four_digit_year),
        cmocka_unit_test(
            test_pki_der_generalized_time_refuses_years_outside_1000_to_9999),
        cmocka_unit_test(test_pki_der_read_takes_nested_elements_apart),
        cmocka_unit_test(test_pki_der_read_refuses_what_der_forbids),
        cmocka_unit_test(test_pki_der_read_takes_back_every_boundary_length),
        cmocka_unit_test(test_pki_der_signed_parts_takes_a_signed_object_apart),
        cmocka_unit_test(test_pki_der_signed_parts_refuses_every_other_shape),
        cmocka_unit_test(test_pki_der_to_pem_armours_der),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
