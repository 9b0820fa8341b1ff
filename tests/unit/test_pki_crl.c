/*
 * Unit tests for server/pki/pki_crl.c: CRLs built for each key type a CA
 * can have are checked by GnuTLS (import, signature, version, number,
 * AKI, dates, entries), read back with pki_crl_read, and compared with
 * the CRL GnuTLS itself builds from the same entries: byte for byte
 * without reasons, entry by entry with them (GnuTLS writes no entry
 * extensions). Also the root's CRL, reasons by name, refusals, and one
 * look by openssl. One throwaway CA per key type is built in the group
 * setup.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../server/base/parse.h"
#include "../../server/pki/pki.h"
#include "../../server/pki/pki_priv.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://127.0.0.1:8080"
#define DAY_S (24 * 3600)

/* A few hundred entries: past every one-byte and two-byte length. */
#define MANY 300

/* 2049-12-31T23:59:59Z and 2050-01-01T00:00:00Z (RFC 5280 4.1.2.5). */
#define LAST_UTC_TIME 2524607999
#define FIRST_GENERALIZED_TIME 2524608000

/* How GnuTLS judges a CRL issued after now (it checks dates always). */
#define FUTURE                                                                 \
    (GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE | GNUTLS_CERT_INVALID)
#define SUPERSEDED                                                             \
    (GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED | GNUTLS_CERT_INVALID)

static const struct kind {
    enum pki_keygen kg;
    gnutls_digest_algorithm_t digest; /* what GnuTLS is asked to sign with */
    gnutls_sign_algorithm_t sign;
} kinds[] = {
    { PKI_KEYGEN_ECDSA_P256, GNUTLS_DIG_SHA256, GNUTLS_SIGN_ECDSA_SHA256 },
    { PKI_KEYGEN_ECDSA_P384, GNUTLS_DIG_SHA384, GNUTLS_SIGN_ECDSA_SHA384 },
    { PKI_KEYGEN_RSA_2048, GNUTLS_DIG_SHA256, GNUTLS_SIGN_RSA_SHA256 },
    { PKI_KEYGEN_ED25519, GNUTLS_DIG_SHA512, GNUTLS_SIGN_EDDSA_ED25519 },
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

struct fixtures {
    struct pki_ca_new made[N_KINDS];
    struct pki_ca *ca[N_KINDS];
    time_t now;
};

struct entry {
    char serial[WD_MAX_SERIAL_HEX + 1];
    time_t revoked_at;
    int reason;
};

static int
setup(void **state)
{
    struct fixtures *f = calloc(1, sizeof(*f));
    size_t i;

    if (f == NULL) {
        return -1;
    }
    f->now = time(NULL);
    for (i = 0; i < N_KINDS; i++) {
        if (pki_fixture_ca_make("Crl", kinds[i].kg, PUBLIC_URL, f->now,
                                &f->made[i], &f->ca[i]) != 0) {
            return -1;
        }
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixtures *f = *state;
    size_t i;

    for (i = 0; i < N_KINDS; i++) {
        pki_fixture_ca_free(&f->made[i], f->ca[i]);
    }
    free(f);
    return 0;
}

/*
 * n entries: 16-byte serials, every other one with the top bit set, and
 * a few short and 20-byte ones; reasons cycle through every accepted
 * code and "none" when with_reasons is set.
 */
static struct entry *
make_entries(size_t n, time_t base, bool with_reasons)
{
    static const int codes[] = { -1, 0, 1, 2, 3, 4, 5, 9 };
    static const char *const special[] = {
        "1",
        "7f",
        "80",
        "ffffffffffffffffffffffffffffffffffffffff",
        "1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    struct entry *e = calloc(n > 0 ? n : 1, sizeof(*e));
    uint64_t x = 0x9e3779b97f4a7c15u;
    uint8_t b[16];
    size_t i;
    size_t j;

    assert_non_null(e);
    for (i = 0; i < n; i++) {
        for (j = 0; j < sizeof(b); j++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            b[j] = (uint8_t)(x >> 56);
        }
        b[0] = i % 2 == 0 ? (uint8_t)(b[0] | 0x80)
                          : (uint8_t)((b[0] & 0x7f) | 0x01);
        wd_hex_encode(b, sizeof(b), e[i].serial);
        if (i % 50 == 1 && i / 50 < sizeof(special) / sizeof(special[0])) {
            strcpy(e[i].serial, special[i / 50]);
        }
        e[i].revoked_at = base - (time_t)i * 61;
        e[i].reason = with_reasons ? codes[i % 8] : -1;
    }
    return e;
}

static uint8_t *
build(const struct pki_ca *ca, const struct pki_crl_params *params,
      const struct entry *e, size_t n, size_t *len)
{
    struct pki_crl_builder *b = NULL;
    uint8_t *der = NULL;
    size_t i;

    assert_wd_err(pki_crl_begin(ca, params, &b), WD_OK);
    for (i = 0; i < n; i++) {
        assert_wd_err(pki_crl_add(b, e[i].serial, e[i].revoked_at, e[i].reason),
                      WD_OK);
    }
    assert_wd_err(pki_crl_finish(b, &der, len), WD_OK);
    assert_non_null(der);
    return der;
}

/* hex as an INTEGER's content: no leading zeros, 0x00 before a top bit. */
static size_t
integer_content(const char *hex, uint8_t out[WD_MAX_SERIAL_HEX / 2 + 1])
{
    uint8_t buf[WD_MAX_SERIAL_HEX / 2 + 1];
    size_t len = strlen(hex);
    size_t n = 0;
    size_t i = 0;
    size_t first;
    unsigned v;

    if (len % 2 == 1) {
        assert_int_equal(sscanf(hex, "%1x", &v), 1);
        buf[n++] = (uint8_t)v;
        i = 1;
    }
    for (; i < len; i += 2) {
        assert_int_equal(sscanf(hex + i, "%2x", &v), 1);
        buf[n++] = (uint8_t)v;
    }
    for (first = 0; first + 1 < n && buf[first] == 0; first++) {
    }
    i = 0;
    if (buf[first] & 0x80) {
        out[i++] = 0;
    }
    memcpy(out + i, buf + first, n - first);
    return i + n - first;
}

/* The same CRL as GnuTLS builds it (without entry reasons). */
static uint8_t *
build_gnutls(const struct kind *k, const struct pki_ca_new *made,
             const struct pki_crl_params *params, const struct entry *e,
             size_t n, size_t *len)
{
    gnutls_x509_crl_t crl = NULL;
    gnutls_x509_crt_t issuer = NULL;
    gnutls_privkey_t key = NULL;
    gnutls_datum_t d;
    gnutls_datum_t der = { NULL, 0 };
    uint8_t serial[WD_MAX_SERIAL_HEX / 2 + 1];
    uint8_t ski[PKI_KEY_ID_MAX];
    size_t ski_len = sizeof(ski);
    uint8_t number[WD_MAX_SERIAL_HEX / 2 + 1];
    size_t number_len;
    unsigned critical = 0;
    char hex[17];
    uint8_t *out;
    size_t i;

    assert_int_equal(gnutls_x509_crt_init(&issuer), 0);
    d.data = (unsigned char *)made->intermediate_pem;
    d.size = (unsigned)strlen(made->intermediate_pem);
    assert_int_equal(gnutls_x509_crt_import(issuer, &d, GNUTLS_X509_FMT_PEM),
                     0);
    assert_int_equal(gnutls_privkey_init(&key), 0);
    d.data = (unsigned char *)made->intermediate_key_pem;
    d.size = (unsigned)strlen(made->intermediate_key_pem);
    assert_int_equal(
        gnutls_privkey_import_x509_raw(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0),
        0);
    assert_int_equal(
        gnutls_x509_crt_get_subject_key_id(issuer, ski, &ski_len, &critical),
        0);

    assert_int_equal(gnutls_x509_crl_init(&crl), 0);
    assert_int_equal(gnutls_x509_crl_set_version(crl, 2), 0);
    assert_int_equal(gnutls_x509_crl_set_this_update(crl, params->this_update),
                     0);
    assert_int_equal(gnutls_x509_crl_set_next_update(crl, params->next_update),
                     0);
    for (i = 0; i < n; i++) {
        size_t serial_len = integer_content(e[i].serial, serial);

        assert_int_equal(gnutls_x509_crl_set_crt_serial(crl, serial, serial_len,
                                                        e[i].revoked_at),
                         0);
    }
    assert_int_equal(gnutls_x509_crl_set_authority_key_id(crl, ski, ski_len),
                     0);
    snprintf(hex, sizeof(hex), "%llx", (unsigned long long)params->number);
    number_len = integer_content(hex, number);
    assert_int_equal(gnutls_x509_crl_set_number(crl, number, number_len), 0);
    assert_int_equal(
        gnutls_x509_crl_privkey_sign(crl, issuer, key, k->digest, 0), 0);
    assert_int_equal(gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, &der),
                     0);
    out = malloc(der.size);
    assert_non_null(out);
    memcpy(out, der.data, der.size);
    *len = der.size;
    gnutls_free(der.data);
    gnutls_x509_crl_deinit(crl);
    gnutls_privkey_deinit(key);
    gnutls_x509_crt_deinit(issuer);
    return out;
}

/* The TBSCertList's content: the first element of the CertificateList. */
static struct pki_der_in
tbs_of(const uint8_t *der, size_t len)
{
    struct pki_der_in in = { der, len };
    struct pki_der_in crl;
    struct pki_der_in tbs;

    assert_true(pki_der_read(&in, PKI_DER_SEQUENCE, &crl));
    assert_int_equal(in.len, 0);
    assert_true(pki_der_read(&crl, PKI_DER_SEQUENCE, &tbs));
    return tbs;
}

/* The next element of in, header included, whatever its tag. */
static struct pki_der_in
take_any(struct pki_der_in *in)
{
    struct pki_der_in whole = *in;
    struct pki_der_in content;

    assert_true(in->len > 0);
    assert_true(pki_der_read(in, in->p[0], &content));
    whole.len = (size_t)(in->p - whole.p);
    return whole;
}

static void
assert_same(struct pki_der_in a, struct pki_der_in b)
{
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.p, b.p, a.len);
}

/* version, signature, issuer, thisUpdate, nextUpdate: equal in both. */
static void
assert_same_head(struct pki_der_in *ours, struct pki_der_in *theirs)
{
    int i;

    for (i = 0; i < 5; i++) {
        assert_same(take_any(ours), take_any(theirs));
    }
}

/* The reasonCode entry extension pki_crl_add writes (RFC 5280 5.3.1). */
static void
assert_reason_ext(struct pki_der_in rest, int reason)
{
    uint8_t want[] = { 0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55,
                       0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, 0x00 };

    if (reason < 0) {
        assert_int_equal(rest.len, 0);
        return;
    }
    want[sizeof(want) - 1] = (uint8_t)reason;
    assert_int_equal(rest.len, sizeof(want));
    assert_memory_equal(rest.p, want, sizeof(want));
}

/*
 * Ours against GnuTLS's: everything equal but the entries' reasonCode,
 * which only ours has, and an empty entry list, which GnuTLS writes as
 * 30 00 and RFC 5280 5.1.2.6 wants absent.
 */
static void
assert_like_gnutls(const uint8_t *ours, size_t ours_len, const uint8_t *theirs,
                   size_t theirs_len, const struct entry *e, size_t n)
{
    struct pki_der_in a = tbs_of(ours, ours_len);
    struct pki_der_in b = tbs_of(theirs, theirs_len);
    struct pki_der_in list_a;
    struct pki_der_in list_b;
    struct pki_der_in entry_a;
    struct pki_der_in entry_b;
    size_t i;

    assert_same_head(&a, &b);
    assert_true(pki_der_read(&b, PKI_DER_SEQUENCE, &list_b));
    if (n == 0) {
        assert_int_equal(list_b.len, 0);
        assert_false(pki_der_next_is(&a, PKI_DER_SEQUENCE));
        list_a.len = 0;
    } else {
        assert_true(pki_der_read(&a, PKI_DER_SEQUENCE, &list_a));
    }
    for (i = 0; i < n; i++) {
        assert_true(pki_der_read(&list_a, PKI_DER_SEQUENCE, &entry_a));
        assert_true(pki_der_read(&list_b, PKI_DER_SEQUENCE, &entry_b));
        assert_true(entry_a.len >= entry_b.len);
        assert_memory_equal(entry_a.p, entry_b.p, entry_b.len);
        entry_a.p += entry_b.len;
        entry_a.len -= entry_b.len;
        assert_reason_ext(entry_a, e[i].reason);
    }
    assert_int_equal(list_a.len, 0);
    assert_int_equal(list_b.len, 0);
    assert_same(a, b); /* crlExtensions */
}

/* TBSCertList content byte for byte equal. */
static void
assert_tbs_equal(const uint8_t *ours, size_t ours_len, const uint8_t *theirs,
                 size_t theirs_len)
{
    assert_same(tbs_of(ours, ours_len), tbs_of(theirs, theirs_len));
}

/*
 * What GnuTLS sees in der: signed by issuer_pem's key (its verification
 * status is want_status: 0, or a finding about the dates), v2, number,
 * AKI the issuer's SKI, the dates, n entries.
 */
static void
assert_gnutls_accepts(const uint8_t *der, size_t len, const char *issuer_pem,
                      gnutls_sign_algorithm_t sign,
                      const struct pki_crl_params *params, size_t n,
                      unsigned want_status)
{
    gnutls_x509_crl_t crl = NULL;
    gnutls_x509_crt_t issuer = NULL;
    gnutls_datum_t d;
    uint8_t want_id[PKI_KEY_ID_MAX];
    uint8_t got_id[PKI_KEY_ID_MAX];
    size_t want_len = sizeof(want_id);
    size_t got_len = sizeof(got_id);
    uint8_t number[32];
    size_t number_len = sizeof(number);
    uint64_t v = 0;
    unsigned critical = 0;
    unsigned status = 1;
    size_t i;

    assert_int_equal(gnutls_x509_crt_init(&issuer), 0);
    d.data = (unsigned char *)issuer_pem;
    d.size = (unsigned)strlen(issuer_pem);
    assert_int_equal(gnutls_x509_crt_import(issuer, &d, GNUTLS_X509_FMT_PEM),
                     0);
    assert_int_equal(gnutls_x509_crl_init(&crl), 0);
    d.data = (unsigned char *)der;
    d.size = (unsigned)len;
    assert_int_equal(gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER), 0);
    assert_int_equal(gnutls_x509_crl_verify(crl, &issuer, 1, 0, &status), 0);
    assert_int_equal(status, want_status);
    assert_int_equal(gnutls_x509_crl_get_version(crl), 2);
    assert_int_equal(gnutls_x509_crl_get_signature_algorithm(crl), sign);
    assert_int_equal(gnutls_x509_crl_get_this_update(crl), params->this_update);
    assert_int_equal(gnutls_x509_crl_get_next_update(crl), params->next_update);
    assert_int_equal(gnutls_x509_crl_get_crt_count(crl), n);
    assert_int_equal(
        gnutls_x509_crl_get_number(crl, number, &number_len, &critical), 0);
    assert_false(critical);
    for (i = 0; i < number_len; i++) {
        v = v << 8 | number[i];
    }
    assert_int_equal(v, params->number);
    assert_int_equal(
        gnutls_x509_crl_get_authority_key_id(crl, got_id, &got_len, &critical),
        0);
    assert_false(critical);
    assert_int_equal(gnutls_x509_crt_get_subject_key_id(issuer, want_id,
                                                        &want_len, &critical),
                     0);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got_id, want_id, got_len);
    gnutls_x509_crl_deinit(crl);
    gnutls_x509_crt_deinit(issuer);
}

/* The serial as the store keeps it: hex without leading zero bytes. */
static void
stored_form(const char *hex, char out[WD_MAX_SERIAL_HEX + 1])
{
    uint8_t content[WD_MAX_SERIAL_HEX / 2 + 1];
    size_t n = integer_content(hex, content);
    size_t first = content[0] == 0 && n > 1 ? 1 : 0;

    wd_hex_encode(content + first, n - first, out);
}

/* pki_crl_read gives back params and every entry. */
static void
assert_reads_back(const uint8_t *der, size_t len, const char *issuer_pem,
                  const struct pki_crl_params *params, const struct entry *e,
                  size_t n)
{
    struct pki_crl_info info;
    char want[WD_MAX_SERIAL_HEX + 1];
    size_t i;

    memset(&info, 0, sizeof(info));
    assert_wd_err(pki_crl_read(der, len, issuer_pem, &info), WD_OK);
    assert_int_equal(info.number, params->number);
    assert_int_equal(info.this_update, params->this_update);
    assert_int_equal(info.next_update, params->next_update);
    assert_int_equal(info.n_entries, n);
    for (i = 0; i < n; i++) {
        stored_form(e[i].serial, want);
        assert_string_equal(info.entries[i].serial, want);
        assert_int_equal(info.entries[i].revoked_at, e[i].revoked_at);
        assert_int_equal(info.entries[i].reason, e[i].reason);
    }
    pki_crl_info_clear(&info);
    assert_null(info.entries);
}

static struct pki_crl_params
params_at(time_t now, uint64_t number)
{
    struct pki_crl_params p;

    p.number = number;
    p.this_update = now - 60;
    p.next_update = now + DAY_S;
    return p;
}

/* Build n entries with kind i both ways and compare everything. */
static void
check_kind(const struct fixtures *f, size_t i,
           const struct pki_crl_params *params, size_t n, bool with_reasons,
           unsigned want_status)
{
    struct entry *e = make_entries(n, params->this_update - 1, with_reasons);
    uint8_t *ours;
    uint8_t *theirs;
    size_t ours_len = 0;
    size_t theirs_len = 0;

    ours = build(f->ca[i], params, e, n, &ours_len);
    theirs = build_gnutls(&kinds[i], &f->made[i], params, e, n, &theirs_len);
    assert_gnutls_accepts(ours, ours_len, f->made[i].intermediate_pem,
                          kinds[i].sign, params, n, want_status);
    assert_reads_back(ours, ours_len, f->made[i].intermediate_pem, params, e,
                      n);
    if (n > 0 && !with_reasons) {
        assert_tbs_equal(ours, ours_len, theirs, theirs_len);
    }
    assert_like_gnutls(ours, ours_len, theirs, theirs_len, e, n);
    free(ours);
    free(theirs);
    free(e);
}

static void
test_pki_crl_without_entries_has_no_entry_list_and_verifies(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 1);
    size_t i;

    for (i = 0; i < N_KINDS; i++) {
        check_kind(f, i, &params, 0, false, 0);
    }
}

static void
test_pki_crl_tbs_equals_the_one_gnutls_builds(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 200);
    size_t i;

    for (i = 0; i < N_KINDS; i++) {
        check_kind(f, i, &params, 1, false, 0);
        check_kind(f, i, &params, MANY, false, 0);
    }
}

static void
test_pki_crl_tbs_equals_gnutls_around_2050(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params;

    params.number = UINT64_MAX;
    params.this_update = LAST_UTC_TIME;
    params.next_update = FIRST_GENERALIZED_TIME;
    check_kind(f, 0, &params, MANY, false, FUTURE);
    params.this_update = FIRST_GENERALIZED_TIME + 1;
    params.next_update = FIRST_GENERALIZED_TIME + 2;
    check_kind(f, 0, &params, 3, false, FUTURE);
}

static void
test_pki_crl_read_takes_an_expired_crl(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params;

    params.number = 5;
    params.this_update = f->now - 2 * DAY_S;
    params.next_update = f->now - DAY_S;
    check_kind(f, 1, &params, 3, true, SUPERSEDED);
}

static void
test_pki_crl_entries_carry_their_reasons(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 7);
    size_t i;

    for (i = 0; i < N_KINDS; i++) {
        check_kind(f, i, &params, 1, true, 0);
        check_kind(f, i, &params, MANY, true, 0);
    }
}

static void
test_pki_crl_begin_with_key_signs_for_the_root(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 1);
    struct pki_crl_builder *b = NULL;
    struct pki_crl_info info;
    struct entry *e = make_entries(2, f->now - 10, true);
    uint8_t *der = NULL;
    size_t len = 0;
    size_t i;

    for (i = 0; i < N_KINDS; i++) {
        params.next_update = f->now + 365 * DAY_S;
        assert_wd_err(pki_crl_begin_with_key(f->made[i].root_pem,
                                             f->made[i].root_key_pem, &params,
                                             &b),
                      WD_OK);
        assert_wd_err(pki_crl_add(b, e[0].serial, e[0].revoked_at, 1), WD_OK);
        assert_wd_err(pki_crl_finish(b, &der, &len), WD_OK);
        assert_gnutls_accepts(der, len, f->made[i].root_pem, kinds[i].sign,
                              &params, 1, 0);
        memset(&info, 0, sizeof(info));
        assert_wd_err(pki_crl_read(der, len, f->made[i].root_pem, &info),
                      WD_OK);
        assert_int_equal(info.n_entries, 1);
        assert_int_equal(info.entries[0].reason, PKI_REASON_KEY_COMPROMISE);
        pki_crl_info_clear(&info);
        /* the intermediate did not sign it */
        assert_wd_err(
            pki_crl_read(der, len, f->made[i].intermediate_pem, &info),
            WD_E_CONFIG);
        assert_null(info.entries);
        free(der);
    }
    free(e);
}

static void
test_pki_crl_begin_with_key_refuses_a_key_of_another_certificate(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 1);
    struct pki_crl_builder *b = NULL;

    assert_wd_err(pki_crl_begin_with_key(f->made[0].root_pem,
                                         f->made[0].intermediate_key_pem,
                                         &params, &b),
                  WD_E_CONFIG);
    assert_wd_err(pki_crl_begin_with_key(f->made[0].root_pem,
                                         f->made[1].root_key_pem, &params, &b),
                  WD_E_CONFIG);
    assert_wd_err(pki_crl_begin_with_key("not a certificate",
                                         f->made[0].root_key_pem, &params, &b),
                  WD_E_CONFIG);
    assert_wd_err(
        pki_crl_begin_with_key(f->made[0].root_pem, "not a key", &params, &b),
        WD_E_CONFIG);
    assert_wd_err(pki_crl_begin_with_key(NULL, NULL, &params, &b), WD_E_CONFIG);
    assert_null(b);
}

static void
test_pki_crl_begin_refuses_next_update_not_after_this_update(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 1);
    struct pki_crl_builder *b = NULL;

    params.next_update = params.this_update;
    assert_wd_err(pki_crl_begin(f->ca[0], &params, &b), WD_E_INTERNAL);
    params.this_update = 253402300800; /* year 10000 */
    params.next_update = params.this_update + 1;
    assert_wd_err(pki_crl_begin(f->ca[0], &params, &b), WD_E_INTERNAL);
    assert_null(b);
}

static void
test_pki_crl_add_refuses_bad_serials(void **state)
{
    static const char *const bad[] = {
        "",
        "XYZ",
        "ABCD",
        "0x12",
        "12 ",
        "-1",
        "0",
        "0000",
        "fffffffffffffffffffffffffffffffffffffffff", /* 41 digits */
    };
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 3);
    struct pki_crl_builder *b = NULL;
    uint8_t *der = NULL;
    size_t len = 0;
    size_t i;

    assert_wd_err(pki_crl_begin(f->ca[0], &params, &b), WD_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_wd_err(pki_crl_add(b, bad[i], f->now, -1), WD_E_BAD_SERIAL);
    }
    assert_wd_err(pki_crl_add(b, NULL, f->now, -1), WD_E_BAD_SERIAL);
    assert_wd_err(pki_crl_finish(b, &der, &len), WD_OK);
    assert_reads_back(der, len, f->made[0].intermediate_pem, &params, NULL, 0);
    free(der);
}

static void
test_pki_crl_add_refuses_hold_unknown_reasons_and_far_times(void **state)
{
    static const int bad[] = { PKI_REASON_CERTIFICATE_HOLD, 7, 8, 10, 11, 255 };
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 3);
    struct pki_crl_builder *b = NULL;
    struct entry e;
    uint8_t *der = NULL;
    size_t len = 0;
    size_t i;

    assert_wd_err(pki_crl_begin(f->ca[0], &params, &b), WD_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_wd_err(pki_crl_add(b, "abcd", f->now, bad[i]), WD_E_BAD_REASON);
    }
    assert_wd_err(pki_crl_add(b, "abcd", 253402300800, 1), WD_E_INTERNAL);
    strcpy(e.serial, "abcd");
    e.revoked_at = f->now - 5;
    e.reason = PKI_REASON_SUPERSEDED;
    assert_wd_err(pki_crl_add(b, e.serial, e.revoked_at, e.reason), WD_OK);
    assert_wd_err(pki_crl_finish(b, &der, &len), WD_OK);
    assert_reads_back(der, len, f->made[0].intermediate_pem, &params, &e, 1);
    free(der);
}

static void
test_pki_crl_add_strips_leading_zeros_from_serials(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 3);
    struct pki_crl_builder *b = NULL;
    struct pki_crl_info info;
    uint8_t *der = NULL;
    size_t len = 0;

    assert_wd_err(pki_crl_begin(f->ca[0], &params, &b), WD_OK);
    assert_wd_err(pki_crl_add(b, "00ab", f->now, -1), WD_OK);
    assert_wd_err(pki_crl_add(b, "0080", f->now, -1), WD_OK);
    assert_wd_err(pki_crl_finish(b, &der, &len), WD_OK);
    memset(&info, 0, sizeof(info));
    assert_wd_err(pki_crl_read(der, len, f->made[0].intermediate_pem, &info),
                  WD_OK);
    assert_int_equal(info.n_entries, 2);
    assert_string_equal(info.entries[0].serial, "ab");
    assert_string_equal(info.entries[1].serial, "80");
    pki_crl_info_clear(&info);
    pki_crl_info_clear(NULL);
    free(der);
}

static void
test_pki_crl_abort_frees_an_unfinished_builder(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 3);
    struct pki_crl_builder *b = NULL;
    struct entry *e = make_entries(MANY, f->now, true);
    size_t i;

    assert_wd_err(pki_crl_begin(f->ca[0], &params, &b), WD_OK);
    for (i = 0; i < MANY; i++) {
        assert_wd_err(pki_crl_add(b, e[i].serial, e[i].revoked_at, e[i].reason),
                      WD_OK);
    }
    pki_crl_abort(b);
    assert_wd_err(pki_crl_begin_with_key(f->made[3].root_pem,
                                         f->made[3].root_key_pem, &params, &b),
                  WD_OK);
    pki_crl_abort(b);
    pki_crl_abort(NULL);
    free(e);
}

static void
test_pki_crl_read_refuses_garbage_and_bad_signatures(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 3);
    struct entry *e = make_entries(3, f->now, true);
    struct pki_crl_info info;
    struct pki_crl_info zero;
    uint8_t *der;
    size_t len = 0;

    memset(&info, 0, sizeof(info));
    memset(&zero, 0, sizeof(zero));
    der = build(f->ca[0], &params, e, 3, &len);
    /* another CA's intermediate, same names */
    assert_wd_err(pki_crl_read(der, len, f->made[1].intermediate_pem, &info),
                  WD_E_CONFIG);
    assert_wd_err(pki_crl_read(der, len, NULL, &info), WD_E_CONFIG);
    assert_wd_err(
        pki_crl_read(der, len - 1, f->made[0].intermediate_pem, &info),
        WD_E_CONFIG);
    assert_wd_err(pki_crl_read((const uint8_t *)"\x30\x00", 2,
                               f->made[0].intermediate_pem, &info),
                  WD_E_CONFIG);
    assert_wd_err(pki_crl_read(NULL, 0, f->made[0].intermediate_pem, &info),
                  WD_E_CONFIG);
    der[len - 3] ^= 0x01; /* inside the signature */
    assert_wd_err(pki_crl_read(der, len, f->made[0].intermediate_pem, &info),
                  WD_E_CONFIG);
    assert_memory_equal(&info, &zero, sizeof(info));
    free(der);
    free(e);
}

static void
test_pki_reason_parse_takes_the_rfc_5280_names(void **state)
{
    static const struct {
        const char *name;
        enum pki_reason reason;
    } good[] = {
        { "unspecified", PKI_REASON_UNSPECIFIED },
        { "keyCompromise", PKI_REASON_KEY_COMPROMISE },
        { "cACompromise", PKI_REASON_CA_COMPROMISE },
        { "caCompromise", PKI_REASON_CA_COMPROMISE },
        { "affiliationChanged", PKI_REASON_AFFILIATION_CHANGED },
        { "superseded", PKI_REASON_SUPERSEDED },
        { "cessationOfOperation", PKI_REASON_CESSATION_OF_OPERATION },
        { "privilegeWithdrawn", PKI_REASON_PRIVILEGE_WITHDRAWN },
    };
    enum pki_reason r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        r = PKI_REASON_CERTIFICATE_HOLD;
        assert_true(pki_reason_parse(good[i].name, &r));
        assert_int_equal(r, good[i].reason);
    }
    r = PKI_REASON_SUPERSEDED;
    assert_false(pki_reason_parse("certificateHold", &r));
    assert_false(pki_reason_parse("removeFromCRL", &r));
    assert_false(pki_reason_parse("KeyCompromise", &r));
    assert_false(pki_reason_parse("keyCompromise ", &r));
    assert_false(pki_reason_parse("", &r));
    assert_false(pki_reason_parse(NULL, &r));
    assert_int_equal(r, PKI_REASON_SUPERSEDED);
}

static void
test_pki_reason_name_names_each_code(void **state)
{
    (void)state;
    assert_string_equal(pki_reason_name(0), "unspecified");
    assert_string_equal(pki_reason_name(1), "keyCompromise");
    assert_string_equal(pki_reason_name(2), "cACompromise");
    assert_string_equal(pki_reason_name(3), "affiliationChanged");
    assert_string_equal(pki_reason_name(4), "superseded");
    assert_string_equal(pki_reason_name(5), "cessationOfOperation");
    assert_string_equal(pki_reason_name(6), "certificateHold");
    assert_string_equal(pki_reason_name(9), "privilegeWithdrawn");
    assert_string_equal(pki_reason_name(7), "unspecified");
    assert_string_equal(pki_reason_name(-1), "unspecified");
    assert_string_equal(pki_reason_name(100), "unspecified");
}

/* Writes len bytes to a fresh temporary file named in path. */
static void
write_temp(char path[64], const void *p, size_t len)
{
    FILE *fp;
    int fd;

    strcpy(path, "/tmp/test_pki_crl.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fp = fdopen(fd, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void
test_pki_crl_is_verified_and_shown_by_openssl(void **state)
{
    const struct fixtures *f = *state;
    struct pki_crl_params params = params_at(f->now, 42);
    struct entry e[2];
    char crl_path[64];
    char ca_path[64];
    char cmd[256];
    char out[8192];
    uint8_t *der;
    size_t len = 0;
    size_t n;
    FILE *p;

    strcpy(e[0].serial, "8000000000000000000000000000000a");
    e[0].revoked_at = f->now - 100;
    e[0].reason = PKI_REASON_KEY_COMPROMISE;
    strcpy(e[1].serial, "1b");
    e[1].revoked_at = f->now - 50;
    e[1].reason = -1;
    der = build(f->ca[0], &params, e, 2, &len);
    write_temp(crl_path, der, len);
    write_temp(ca_path, f->made[0].intermediate_pem,
               strlen(f->made[0].intermediate_pem));
    snprintf(cmd, sizeof(cmd),
             "openssl crl -inform DER -in %s -CAfile %s -noout -text 2>&1",
             crl_path, ca_path);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    if (pclose(p) == 127 << 8) {
        unlink(crl_path);
        unlink(ca_path);
        free(der);
        skip(); /* no openssl here; the integration tests need it */
    }
    unlink(crl_path);
    unlink(ca_path);
    free(der);
    if (strstr(out, "verify OK") == NULL ||
        strstr(out, "Version 2 (0x1)") == NULL ||
        strstr(out, "X509v3 CRL Number") == NULL ||
        strstr(out, "Serial Number: 8000000000000000000000000000000A") ==
            NULL ||
        strstr(out, "Key Compromise") == NULL ||
        strstr(out, "Serial Number: 1B") == NULL) {
        print_error("%s\n", out);
        fail();
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_pki_crl_without_entries_has_no_entry_list_and_verifies),
        cmocka_unit_test(test_pki_crl_tbs_equals_the_one_gnutls_builds),
        cmocka_unit_test(test_pki_crl_tbs_equals_gnutls_around_2050),
        cmocka_unit_test(test_pki_crl_read_takes_an_expired_crl),
        cmocka_unit_test(test_pki_crl_entries_carry_their_reasons),
        cmocka_unit_test(test_pki_crl_begin_with_key_signs_for_the_root),
        cmocka_unit_test(
            test_pki_crl_begin_with_key_refuses_a_key_of_another_certificate),
        cmocka_unit_test(
            test_pki_crl_begin_refuses_next_update_not_after_this_update),
        cmocka_unit_test(test_pki_crl_add_refuses_bad_serials),
        cmocka_unit_test(
            test_pki_crl_add_refuses_hold_unknown_reasons_and_far_times),
        cmocka_unit_test(test_pki_crl_add_strips_leading_zeros_from_serials),
        cmocka_unit_test(test_pki_crl_abort_frees_an_unfinished_builder),
        cmocka_unit_test(test_pki_crl_read_refuses_garbage_and_bad_signatures),
        cmocka_unit_test(test_pki_reason_parse_takes_the_rfc_5280_names),
        cmocka_unit_test(test_pki_reason_name_names_each_code),
        cmocka_unit_test(test_pki_crl_is_verified_and_shown_by_openssl),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
