/*
 * Unit tests for api/api_pattern.c: which names a grant's pattern covers.
 * Host names by exact name or one left-most wildcard label, addresses by
 * address or CIDR range of the same family, email addresses exactly or by
 * domain, URIs exactly or by prefix; and a pattern of one type never
 * covers a name of another.
 */
#include "support.h"

#include "../../api/api.h"

static bool
dns(const char *pattern, const char *name)
{
    return api_pattern_matches(pattern, PKI_SAN_DNS, name);
}

static bool
ip(const char *pattern, const char *name)
{
    return api_pattern_matches(pattern, PKI_SAN_IP, name);
}

static bool
email(const char *pattern, const char *name)
{
    return api_pattern_matches(pattern, PKI_SAN_EMAIL, name);
}

static bool
uri(const char *pattern, const char *name)
{
    return api_pattern_matches(pattern, PKI_SAN_URI, name);
}

static void
test_api_pattern_exact_dns_name_matches_itself_only(void **state)
{
    (void)state;
    assert_true(dns("svc-a.internal", "svc-a.internal"));
    assert_false(dns("svc-a.internal", "svc-b.internal"));
    assert_false(dns("svc-a.internal", "x.svc-a.internal"));
    assert_false(dns("x.svc-a.internal", "svc-a.internal"));
    assert_false(dns("svc-a.internal", "svc-a.internal.evil"));
}

static void
test_api_pattern_dns_ignores_case(void **state)
{
    (void)state;
    assert_true(dns("Svc-A.Internal", "svc-a.internal"));
    assert_true(dns("svc-a.internal", "SVC-A.INTERNAL"));
    assert_true(dns("*.SVC.internal", "X.svc.INTERNAL"));
}

static void
test_api_pattern_dns_ignores_one_trailing_dot_on_each_side(void **state)
{
    (void)state;
    assert_true(dns("svc-a.internal.", "svc-a.internal"));
    assert_true(dns("svc-a.internal", "svc-a.internal."));
    assert_true(dns("svc-a.internal.", "svc-a.internal."));
    assert_true(dns("*.svc.internal.", "x.svc.internal"));
    assert_true(dns("*.svc.internal", "x.svc.internal."));
    assert_false(dns("svc-a.internal", "svc-a.internal.."));
    assert_false(dns("svc-a.internal..", "svc-a.internal"));
    assert_false(dns("svc-a.internal", "."));
}

static void
test_api_pattern_wildcard_covers_exactly_one_leftmost_label(void **state)
{
    (void)state;
    assert_true(dns("*.svc.internal", "x.svc.internal"));
    assert_true(dns("*.svc.internal", "deploy-7.svc.internal"));
    assert_true(dns("*.svc.internal", "7.svc.internal"));
    assert_false(dns("*.svc.internal", "a.b.svc.internal"));
    assert_false(dns("*.svc.internal", "x.other.internal"));
    assert_false(dns("*.svc.internal", "xsvc.internal"));
}

static void
test_api_pattern_wildcard_does_not_cover_the_apex(void **state)
{
    (void)state;
    assert_false(dns("*.svc.internal", "svc.internal"));
    assert_false(dns("*.svc.internal", ".svc.internal"));
    assert_false(dns("*.svc.internal", "internal"));
}

static void
test_api_pattern_wildcard_label_must_be_a_valid_host_label(void **state)
{
    (void)state;
    assert_false(dns("*.svc.internal", "-x.svc.internal"));
    assert_false(dns("*.svc.internal", "x_y.svc.internal"));
    assert_false(dns("*.svc.internal", "my host.svc.internal"));
    /* but an exact pattern is compared as written */
    assert_true(dns("my host.svc.internal", "my host.svc.internal"));
}

static void
test_api_pattern_idna_labels_are_plain_labels(void **state)
{
    (void)state;
    assert_true(dns("*.svc.internal", "xn--bcher-kva.svc.internal"));
    assert_true(dns("xn--bcher-kva.example", "XN--BCHER-KVA.example"));
    assert_true(dns("*.xn--bcher-kva.example", "a.xn--bcher-kva.example"));
    assert_false(dns("*.xn--bcher-kva.example", "xn--bcher-kva.example"));
    assert_false(dns("xn--bcher-kva.example", "xn--bcher-kvb.example"));
}

static void
test_api_pattern_requested_wildcard_matches_only_the_same_pattern(void **state)
{
    (void)state;
    assert_true(dns("*.svc.internal", "*.svc.internal"));
    assert_false(dns("x.svc.internal", "*.svc.internal"));
    assert_false(dns("*.internal", "*.svc.internal"));
    assert_false(dns("*.*.internal", "*.svc.internal"));
    assert_false(dns("*.*.internal", "a.b.internal"));
    assert_false(dns("*.svc.internal", "*.a.svc.internal"));
}

static void
test_api_pattern_refuses_a_bare_star(void **state)
{
    (void)state;
    assert_false(dns("*", "x"));
    assert_false(dns("*", "x.svc.internal"));
    assert_false(dns("*", "*"));
    assert_false(dns("*.", "x"));
    assert_false(dns("*.", "*."));
    assert_false(ip("*", "10.0.0.1"));
    assert_false(email("*", "a@example.com"));
    assert_false(uri("*", "spiffe://internal/x"));
    assert_false(uri("*", "*"));
}

static void
test_api_pattern_partial_label_stars_are_literal(void **state)
{
    (void)state;
    assert_false(dns("x*.svc.internal", "xy.svc.internal"));
    assert_false(dns("**.svc.internal", "x.svc.internal"));
    assert_false(dns("a.*.internal", "a.b.internal"));
}

static void
test_api_pattern_refuses_empty_and_null(void **state)
{
    (void)state;
    assert_false(dns("", ""));
    assert_false(dns("", "x.internal"));
    assert_false(dns("x.internal", ""));
    assert_false(api_pattern_matches(NULL, PKI_SAN_DNS, "x.internal"));
    assert_false(api_pattern_matches("x.internal", PKI_SAN_DNS, NULL));
}

static void
test_api_pattern_dns_and_ip_never_cross(void **state)
{
    (void)state;
    assert_false(dns("10.0.0.1", "10.0.0.1"));
    assert_false(dns("10.0.0.0/8", "10.0.0.1"));
    assert_false(dns("*.0.0.1", "10.0.0.1"));
    assert_false(dns("::1", "::1"));
    assert_false(ip("localhost", "127.0.0.1"));
    assert_false(ip("*.internal", "10.0.0.1"));
    assert_false(ip("svc.internal", "svc.internal"));
}

static void
test_api_pattern_dns_refuses_email_and_uri_patterns(void **state)
{
    (void)state;
    assert_false(dns("*@svc.internal", "svc.internal"));
    assert_false(dns("spiffe://svc.internal", "svc.internal"));
    assert_false(dns("a@b", "a@b"));
    assert_false(dns("a:b", "a:b"));
}

static void
test_api_pattern_ipv4_exact(void **state)
{
    (void)state;
    assert_true(ip("10.1.2.3", "10.1.2.3"));
    assert_false(ip("10.1.2.3", "10.1.2.4"));
    assert_false(ip("10.1.2.3", "not-an-ip"));
    assert_false(ip("10.1.2", "10.1.2.0"));
}

static void
test_api_pattern_ipv4_cidr(void **state)
{
    (void)state;
    assert_true(ip("10.0.0.0/8", "10.0.0.1"));
    assert_true(ip("10.0.0.0/8", "10.255.255.255"));
    assert_false(ip("10.0.0.0/8", "11.0.0.0"));
    assert_false(ip("10.0.0.0/8", "9.255.255.255"));
    assert_true(ip("192.168.4.0/22", "192.168.7.200"));
    assert_false(ip("192.168.4.0/22", "192.168.8.1"));
    assert_true(ip("10.1.2.3/32", "10.1.2.3"));
    assert_false(ip("10.1.2.3/32", "10.1.2.2"));
    assert_true(ip("0.0.0.0/0", "203.0.113.9"));
    /* host bits in the pattern are ignored, as the prefix says */
    assert_true(ip("10.1.2.3/8", "10.200.0.1"));
}

static void
test_api_pattern_ipv6_exact_and_cidr(void **state)
{
    (void)state;
    assert_true(ip("::1", "::1"));
    assert_true(ip("2001:db8::10", "2001:db8::10"));
    assert_true(ip("2001:DB8:0:0::10", "2001:db8::10"));
    assert_false(ip("::1", "::2"));
    assert_true(ip("fd00::/8", "fd12:3456::1"));
    assert_false(ip("fd00::/8", "fe80::1"));
    assert_true(ip("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(ip("2001:db8::/32", "2001:db9::1"));
    assert_true(ip("2001:db8::10/128", "2001:db8::10"));
    assert_false(ip("2001:db8::10/128", "2001:db8::11"));
    assert_true(ip("::/0", "2001:db8::1"));
}

static void
test_api_pattern_refuses_bad_prefixes(void **state)
{
    (void)state;
    assert_false(ip("10.0.0.0/33", "10.0.0.1"));
    assert_false(ip("fd00::/129", "fd00::1"));
    assert_false(ip("10.0.0.0/x", "10.0.0.1"));
    assert_false(ip("10.0.0.0/", "10.0.0.1"));
    assert_false(ip("10.0.0.0/-1", "10.0.0.1"));
    assert_false(ip("10.0.0.0/+8", "10.0.0.1"));
    assert_false(ip("10.0.0.0/08", "10.0.0.1"));
    assert_false(ip("10.0.0.0/8/8", "10.0.0.1"));
    assert_false(ip("10.0.0.0/8 ", "10.0.0.1"));
    assert_false(ip("fd00::/1280", "fd00::1"));
    assert_false(ip("/8", "10.0.0.1"));
    assert_false(ip("10.0.0.256/8", "10.0.0.1"));
}

static void
test_api_pattern_ipv4_never_matches_ipv6(void **state)
{
    (void)state;
    assert_false(ip("10.0.0.1", "::ffff:10.0.0.1"));
    assert_false(ip("10.0.0.0/8", "::ffff:10.0.0.1"));
    assert_false(ip("0.0.0.0/0", "::1"));
    assert_false(ip("::/0", "10.0.0.1"));
    assert_false(ip("::ffff:10.0.0.1", "10.0.0.1"));
    assert_false(ip("::ffff:0:0/96", "10.0.0.1"));
}

static void
test_api_pattern_email_exact(void **state)
{
    (void)state;
    assert_true(email("ops@example.com", "ops@example.com"));
    assert_true(email("ops@Example.COM", "ops@example.com"));
    assert_false(email("ops@example.com", "Ops@example.com"));
    assert_false(email("ops@example.com", "dev@example.com"));
    assert_false(email("ops@example.com", "ops@example.org"));
    assert_false(email("ops@example.com", "ops@sub.example.com"));
}

static void
test_api_pattern_email_any_local_part_at_a_domain(void **state)
{
    (void)state;
    assert_true(email("*@example.com", "ops@example.com"));
    assert_true(email("*@example.com", "Dev.Team@EXAMPLE.com"));
    assert_false(email("*@example.com", "ops@sub.example.com"));
    assert_false(email("*@example.com", "ops@example.com.evil"));
    assert_false(email("*@example.com", "@example.com"));
    assert_false(email("*@", "ops@example.com"));
    assert_false(email("@example.com", "ops@example.com"));
    assert_false(email("*@*", "ops@example.com"));
    assert_false(email("*@example.com", "example.com"));
}

static void
test_api_pattern_uri_exact(void **state)
{
    (void)state;
    assert_true(uri("spiffe://internal/ns/prod/sa/api",
                    "spiffe://internal/ns/prod/sa/api"));
    assert_false(uri("spiffe://internal/ns/prod/sa/api",
                     "spiffe://internal/ns/prod/sa/API"));
    assert_false(uri("spiffe://internal/ns/prod/sa/api",
                     "spiffe://internal/ns/prod/sa/api/x"));
}

static void
test_api_pattern_uri_prefix_ending_in_star(void **state)
{
    const char *p = "spiffe://internal/ns/prod/*";

    (void)state;
    assert_true(uri(p, "spiffe://internal/ns/prod/sa/api"));
    assert_true(uri(p, "spiffe://internal/ns/prod/x"));
    assert_false(uri(p, "spiffe://internal/ns/prod/"));
    assert_false(uri(p, "spiffe://internal/ns/prod"));
    assert_false(uri(p, "spiffe://internal/ns/dev/x"));
    assert_false(uri(p, "spiffe://internal/ns/production/x"));
}

static void
test_api_pattern_uri_prefix_cannot_be_climbed_out_of(void **state)
{
    const char *p = "spiffe://internal/ns/prod/*";

    (void)state;
    assert_false(uri(p, "spiffe://internal/ns/prod/../admin"));
    assert_false(uri(p, "spiffe://internal/ns/prod/x/../../admin"));
    assert_false(uri(p, "spiffe://internal/ns/prod/./x"));
    assert_false(uri(p, "spiffe://internal/ns/prod/.."));
    assert_false(uri(p, "spiffe://internal/ns/prod/%2e%2e/admin"));
    assert_false(uri(p, "spiffe://internal/ns/prod/%2E%2E/admin"));
    assert_false(uri(p, "spiffe://internal/ns/prod/x\\..\\admin"));
    assert_true(uri(p, "spiffe://internal/ns/prod/x..y"));
    assert_true(uri(p, "spiffe://internal/ns/prod/x?a=../b"));
}

static void
test_api_pattern_uri_prefix_needs_a_scheme(void **state)
{
    (void)state;
    assert_false(uri("s*", "spiffe://internal/x"));
    assert_false(uri("spiffe*", "spiffe://internal/x"));
    assert_true(uri("spiffe:*", "spiffe://internal/x"));
    assert_false(uri("//internal/*", "//internal/x"));
}

static void
test_api_pattern_uri_refuses_ip_ranges(void **state)
{
    (void)state;
    assert_false(uri("fd00::/8", "fd00::/8"));
    assert_false(uri("::1", "::1"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_pattern_exact_dns_name_matches_itself_only),
        cmocka_unit_test(test_api_pattern_dns_ignores_case),
        cmocka_unit_test(
            test_api_pattern_dns_ignores_one_trailing_dot_on_each_side),
        cmocka_unit_test(
            test_api_pattern_wildcard_covers_exactly_one_leftmost_label),
        cmocka_unit_test(test_api_pattern_wildcard_does_not_cover_the_apex),
        cmocka_unit_test(
            test_api_pattern_wildcard_label_must_be_a_valid_host_label),
        cmocka_unit_test(test_api_pattern_idna_labels_are_plain_labels),
        cmocka_unit_test(
            test_api_pattern_requested_wildcard_matches_only_the_same_pattern),
        cmocka_unit_test(test_api_pattern_refuses_a_bare_star),
        cmocka_unit_test(test_api_pattern_partial_label_stars_are_literal),
        cmocka_unit_test(test_api_pattern_refuses_empty_and_null),
        cmocka_unit_test(test_api_pattern_dns_and_ip_never_cross),
        cmocka_unit_test(test_api_pattern_dns_refuses_email_and_uri_patterns),
        cmocka_unit_test(test_api_pattern_ipv4_exact),
        cmocka_unit_test(test_api_pattern_ipv4_cidr),
        cmocka_unit_test(test_api_pattern_ipv6_exact_and_cidr),
        cmocka_unit_test(test_api_pattern_refuses_bad_prefixes),
        cmocka_unit_test(test_api_pattern_ipv4_never_matches_ipv6),
        cmocka_unit_test(test_api_pattern_email_exact),
        cmocka_unit_test(test_api_pattern_email_any_local_part_at_a_domain),
        cmocka_unit_test(test_api_pattern_uri_exact),
        cmocka_unit_test(test_api_pattern_uri_prefix_ending_in_star),
        cmocka_unit_test(test_api_pattern_uri_prefix_cannot_be_climbed_out_of),
        cmocka_unit_test(test_api_pattern_uri_prefix_needs_a_scheme),
        cmocka_unit_test(test_api_pattern_uri_refuses_ip_ranges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
