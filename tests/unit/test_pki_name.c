/*
 * Unit tests for server/pki/pki_name.c (pki_name_is_dns, SAN type names)
 * and the small name tables of pki_keygen.c and pki_profile.c.
 */
#include "support.h"

#include <string.h>

#include "../../server/pki/pki.h"

static bool
is_dns(const char *s)
{
    return pki_name_is_dns(s, strlen(s));
}

static void
test_pki_name_is_dns_accepts_host_names(void **state)
{
    (void)state;
    assert_true(is_dns("example.com"));
    assert_true(is_dns("a.b.c.example.com"));
    assert_true(is_dns("localhost"));
    assert_true(is_dns("db-1.internal"));
    assert_true(is_dns("1password.example.com"));
    assert_true(is_dns("xn--bcher-kva.example.com"));
    assert_true(is_dns("Mixed.Example.COM"));
}

static void
test_pki_name_is_dns_accepts_a_whole_leftmost_wildcard(void **state)
{
    (void)state;
    assert_true(is_dns("*.example.com"));
    assert_true(is_dns("*.svc.cluster.local"));
}

static void
test_pki_name_is_dns_refuses_other_wildcards(void **state)
{
    (void)state;
    assert_false(is_dns("*"));
    assert_false(is_dns("*."));
    assert_false(is_dns("*.com")); /* a whole top-level domain */
    assert_false(is_dns("a*.example.com"));
    assert_false(is_dns("*a.example.com"));
    assert_false(is_dns("www.*.example.com"));
    assert_false(is_dns("*.*.example.com"));
    assert_false(is_dns("example.*"));
}

static void
test_pki_name_is_dns_refuses_empty_labels(void **state)
{
    (void)state;
    assert_false(is_dns(""));
    assert_false(is_dns("."));
    assert_false(is_dns("a..b.com"));
    assert_false(is_dns(".example.com"));
}

static void
test_pki_name_is_dns_refuses_a_trailing_dot(void **state)
{
    (void)state;
    assert_false(is_dns("example.com."));
}

static void
test_pki_name_is_dns_limits_a_label_to_63_bytes(void **state)
{
    char name[128];

    (void)state;
    memset(name, 'a', 63);
    strcpy(name + 63, ".com");
    assert_true(is_dns(name));
    memset(name, 'a', 64);
    strcpy(name + 64, ".com");
    assert_false(is_dns(name));
}

static void
test_pki_name_is_dns_limits_a_name_to_253_bytes(void **state)
{
    char name[300];
    size_t i;

    (void)state;
    /* 50 labels "abcd." then "com": 253 bytes */
    for (i = 0; i < 50; i++) {
        memcpy(name + 5 * i, "abcd.", 5);
    }
    strcpy(name + 250, "com");
    assert_int_equal(strlen(name), 253);
    assert_true(is_dns(name));
    strcpy(name + 250, "comx");
    assert_int_equal(strlen(name), 254);
    assert_false(is_dns(name));
}

static void
test_pki_name_is_dns_refuses_characters_outside_ldh(void **state)
{
    (void)state;
    assert_false(is_dns("under_score.example.com"));
    assert_false(is_dns("space here.example.com"));
    assert_false(is_dns("-lead.example.com"));
    assert_false(is_dns("trail-.example.com"));
    assert_false(is_dns("b\xc3\xbc"
                        "cher.example.com"));
    assert_false(is_dns("a/b.example.com"));
    assert_false(is_dns("a@b.example.com"));
}

static void
test_pki_name_is_dns_refuses_an_embedded_nul(void **state)
{
    (void)state;
    assert_false(pki_name_is_dns("a\0b.example.com", 15));
    assert_true(pki_name_is_dns("ab.example.com\0junk", 14));
}

static void
test_pki_name_is_dns_refuses_ip_literals(void **state)
{
    (void)state;
    assert_false(is_dns("192.0.2.1"));
    assert_false(is_dns("2001:db8::1"));
    assert_false(is_dns("example.123"));
}

static void
test_pki_keygen_names_round_trip(void **state)
{
    static const char *const names[] = {
        "ecdsa-p256", "ecdsa-p384", "rsa-2048",
        "rsa-3072",   "rsa-4096",   "ed25519"
    };
    enum pki_keygen kg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_true(pki_keygen_parse(names[i], &kg));
        assert_string_equal(pki_keygen_name(kg), names[i]);
    }
    assert_false(pki_keygen_parse("rsa-1024", &kg));
    assert_false(pki_keygen_parse("ECDSA-P256", &kg));
    assert_false(pki_keygen_parse("", &kg));
    assert_false(pki_keygen_parse(NULL, &kg));
}

static void
test_pki_profile_names_round_trip(void **state)
{
    enum pki_profile p;

    (void)state;
    assert_true(pki_profile_parse("server", &p));
    assert_int_equal(p, PKI_PROFILE_SERVER);
    assert_true(pki_profile_parse("client", &p));
    assert_int_equal(p, PKI_PROFILE_CLIENT);
    assert_true(pki_profile_parse("server-client", &p));
    assert_int_equal(p, PKI_PROFILE_SERVER_CLIENT);
    assert_string_equal(pki_profile_name(PKI_PROFILE_SERVER), "server");
    assert_string_equal(pki_profile_name(PKI_PROFILE_CLIENT), "client");
    assert_string_equal(pki_profile_name(PKI_PROFILE_SERVER_CLIENT),
                        "server-client");
    assert_false(pki_profile_parse("Server", &p));
    assert_false(pki_profile_parse("server,client", &p));
    assert_false(pki_profile_parse(NULL, &p));
}

static void
test_pki_san_type_names_are_openssl_spelling(void **state)
{
    (void)state;
    assert_string_equal(pki_san_type_name(PKI_SAN_DNS), "DNS");
    assert_string_equal(pki_san_type_name(PKI_SAN_IP), "IP");
    assert_string_equal(pki_san_type_name(PKI_SAN_EMAIL), "email");
    assert_string_equal(pki_san_type_name(PKI_SAN_URI), "URI");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_name_is_dns_accepts_host_names),
        cmocka_unit_test(
            test_pki_name_is_dns_accepts_a_whole_leftmost_wildcard),
        cmocka_unit_test(test_pki_name_is_dns_refuses_other_wildcards),
        cmocka_unit_test(test_pki_name_is_dns_refuses_empty_labels),
        cmocka_unit_test(test_pki_name_is_dns_refuses_a_trailing_dot),
        cmocka_unit_test(test_pki_name_is_dns_limits_a_label_to_63_bytes),
        cmocka_unit_test(test_pki_name_is_dns_limits_a_name_to_253_bytes),
        cmocka_unit_test(test_pki_name_is_dns_refuses_characters_outside_ldh),
        cmocka_unit_test(test_pki_name_is_dns_refuses_an_embedded_nul),
        cmocka_unit_test(test_pki_name_is_dns_refuses_ip_literals),
        cmocka_unit_test(test_pki_keygen_names_round_trip),
        cmocka_unit_test(test_pki_profile_names_round_trip),
        cmocka_unit_test(test_pki_san_type_names_are_openssl_spelling),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
