/*
 * Unit tests for api/api_grant.c: how config entries recognise a client
 * certificate, which role a caller gets, and whether a service may have
 * the names, profile and validity its CSR asks for. Requests are built
 * field by field, plus a few fixtures of tests/data parsed for real.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include "../../api/api.h"

#define DAY (86400ULL)

#define FP_DEPLOY                                                              \
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static char *deploy_names[] = { "*.svc.internal" };
static char *deploy_ip_names[] = { "10.20.0.0/16", "fd00:20::/32" };
static char *long_names[] = { "long.svc.internal" };
static char *web_names[] = { "web.internal", "www.example.com" };
static char *ci_names[] = { "spiffe://internal/ns/prod/*", "*@example.com" };

static struct api_grant grants[] = {
    {
        .name = "deploy",
        .who = { API_MATCH_CN, "deploy-bot" },
        .names = deploy_names,
        .n_names = 1,
        .profiles = { true, false, true },
        .max_validity_s = 30 * DAY,
    },
    {
        .name = "deploy-ips",
        .who = { API_MATCH_CN, "deploy-bot" },
        .names = deploy_ip_names,
        .n_names = 2,
        .profiles = { true, false, true },
        .max_validity_s = 7 * DAY,
    },
    {
        .name = "long-lived",
        .who = { API_MATCH_FINGERPRINT, FP_DEPLOY },
        .names = long_names,
        .n_names = 1,
        .profiles = { false, false, true },
        .max_validity_s = 365 * DAY,
    },
    {
        .name = "web",
        .who = { API_MATCH_DNS, "web.internal" },
        .names = web_names,
        .n_names = 2,
        .profiles = { true, true, true },
        .max_validity_s = 90 * DAY,
    },
    {
        .name = "ci",
        .who = { API_MATCH_URI, "spiffe://internal/ns/ci/sa/bot" },
        .names = ci_names,
        .n_names = 2,
        .profiles = { false, true, false },
        .max_validity_s = 1 * DAY,
    },
};

static struct api_member admins[] = {
    { "ops", { API_MATCH_CN, "Warden Admin" } },
    { "deploy-admin", { API_MATCH_DNS, "deploy-bot.svc.internal" } },
};

static struct api_member readers[] = {
    { "auditor", { API_MATCH_URI, "spiffe://internal/ns/audit/sa/reader" } },
    { "deploy-reader", { API_MATCH_CN, "deploy-bot" } },
};

static const struct api_policy policy = {
    .grants = grants,
    .n_grants = sizeof(grants) / sizeof(grants[0]),
};

static const struct api_policy roles = {
    .admins = admins,
    .n_admins = 2,
    .readers = readers,
    .n_readers = 2,
};

static struct store_cert deploy_bot = {
    .serial = "1001",
    .cn = "deploy-bot",
    .sans = "DNS:deploy-bot.svc.internal, URI:spiffe://internal/ns/ci/deploy",
    .fingerprint = FP_DEPLOY,
};

static struct store_cert web = {
    .serial = "1002",
    .cn = "web",
    .sans = "IP:10.0.0.5, DNS:web.internal, email:web@example.com",
    .fingerprint = "00",
};

static struct store_cert ci = {
    .serial = "0a1b",
    .sans = "URI:spiffe://internal/ns/ci/sa/bot",
    .fingerprint = "01",
};

static struct store_cert stranger = {
    .serial = "1003",
    .cn = "stranger",
    .sans = "DNS:stranger.internal",
    .fingerprint = "02",
};

static struct api_match
match(enum api_match_kind kind, const char *value)
{
    struct api_match m = { .kind = kind };

    strcpy(m.value, value);
    return m;
}

static bool
recognises(enum api_match_kind kind, const char *value,
           const struct store_cert *row)
{
    struct api_match m = match(kind, value);

    return api_match_identity(&m, row);
}

static char bad[128];

static enum wd_err
check(const struct store_cert *caller, const struct pki_csr *csr,
      enum pki_profile profile, uint64_t validity_s)
{
    uint64_t v = validity_s;

    return api_grant_check(&policy, caller, csr, profile, &v, bad, sizeof(bad));
}

/* Parses tests/data/<name>, which must succeed; pki_csr_free it. */
static struct pki_csr *
parse_ok(const char *name)
{
    struct pki_csr *csr = NULL;
    size_t len = 0;
    uint8_t *buf = test_read_file(name, &len);

    assert_non_null(buf);
    assert_wd_err(pki_csr_parse(buf, len, &csr), WD_OK);
    free(buf);
    return csr;
}

static void
test_api_match_identity_by_cn_ignores_case(void **state)
{
    (void)state;
    assert_true(recognises(API_MATCH_CN, "deploy-bot", &deploy_bot));
    assert_true(recognises(API_MATCH_CN, "Deploy-BOT", &deploy_bot));
    assert_false(recognises(API_MATCH_CN, "deploy-bot2", &deploy_bot));
    assert_false(recognises(API_MATCH_CN, "deploy", &deploy_bot));
    assert_false(recognises(API_MATCH_CN, "0a1b", &ci)); /* no CN */
}

static void
test_api_match_identity_by_dns_san_ignores_case_and_trailing_dot(void **state)
{
    (void)state;
    assert_true(
        recognises(API_MATCH_DNS, "deploy-bot.svc.internal", &deploy_bot));
    assert_true(
        recognises(API_MATCH_DNS, "Deploy-Bot.SVC.internal.", &deploy_bot));
    assert_true(recognises(API_MATCH_DNS, "web.internal", &web));
    assert_false(recognises(API_MATCH_DNS, "svc.internal", &deploy_bot));
    assert_false(recognises(API_MATCH_DNS, "*.svc.internal", &deploy_bot));
    assert_false(recognises(API_MATCH_DNS, "deploy-bot", &deploy_bot));
    /* the CN is no DNS SAN, and other SAN types do not count */
    assert_false(recognises(API_MATCH_DNS, "web", &web));
    assert_false(recognises(API_MATCH_DNS, "10.0.0.5", &web));
}

static void
test_api_match_identity_by_uri_san_is_exact(void **state)
{
    (void)state;
    assert_true(
        recognises(API_MATCH_URI, "spiffe://internal/ns/ci/sa/bot", &ci));
    assert_true(recognises(API_MATCH_URI, "spiffe://internal/ns/ci/deploy",
                           &deploy_bot));
    assert_false(
        recognises(API_MATCH_URI, "SPIFFE://internal/ns/ci/sa/bot", &ci));
    assert_false(recognises(API_MATCH_URI, "spiffe://internal/ns/ci/sa", &ci));
    assert_false(
        recognises(API_MATCH_URI, "spiffe://internal/ns/ci/sa/bot/", &ci));
    assert_false(
        recognises(API_MATCH_URI, "deploy-bot.svc.internal", &deploy_bot));
}

static void
test_api_match_identity_by_fingerprint_ignores_case(void **state)
{
    (void)state;
    assert_true(recognises(API_MATCH_FINGERPRINT, FP_DEPLOY, &deploy_bot));
    assert_true(recognises(
        API_MATCH_FINGERPRINT,
        "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
        &deploy_bot));
    assert_false(recognises(API_MATCH_FINGERPRINT, FP_DEPLOY, &web));
    assert_false(recognises(API_MATCH_FINGERPRINT, "9f86d081", &deploy_bot));
}

static void
test_api_match_identity_refuses_a_stranger(void **state)
{
    struct api_match unterminated = { .kind = API_MATCH_CN };

    (void)state;
    assert_false(recognises(API_MATCH_CN, "deploy-bot", &stranger));
    assert_false(recognises(API_MATCH_DNS, "web.internal", &stranger));
    assert_false(recognises(API_MATCH_DNS, "stranger", &stranger));
    assert_false(recognises(API_MATCH_DNS, "internal", &stranger));
    assert_false(
        recognises(API_MATCH_URI, "spiffe://internal/ns/ci/sa/bot", &stranger));
    assert_false(recognises(API_MATCH_FINGERPRINT, FP_DEPLOY, &stranger));
    assert_false(recognises(API_MATCH_CN, "", &stranger));
    assert_false(recognises(API_MATCH_CN, "stranger", NULL));
    memset(unterminated.value, 'a', sizeof(unterminated.value));
    assert_false(api_match_identity(&unterminated, &stranger));
}

static void
test_api_match_identity_reads_every_item_of_the_san_column(void **state)
{
    struct store_cert row = {
        .sans = "DNS:a.example, IP:10.0.0.1, URI:urn:x,y, "
                "email:ops@example.com, DNS:b.example, URI:spiffe://x/y",
    };

    (void)state;
    assert_true(recognises(API_MATCH_DNS, "a.example", &row));
    assert_true(recognises(API_MATCH_DNS, "b.example", &row));
    assert_true(recognises(API_MATCH_URI, "urn:x,y", &row));
    assert_true(recognises(API_MATCH_URI, "spiffe://x/y", &row));
    assert_false(recognises(API_MATCH_URI, "urn:x", &row));
    assert_false(recognises(API_MATCH_DNS, "a.example, IP:10.0.0.1", &row));
    assert_false(recognises(API_MATCH_DNS, "example.com", &row));
    assert_false(recognises(API_MATCH_DNS, "ops@example.com", &row));
    assert_false(recognises(API_MATCH_URI, "x/y", &row));
    row.sans = "";
    assert_false(recognises(API_MATCH_DNS, "a.example", &row));
    row.sans = NULL;
    assert_false(recognises(API_MATCH_DNS, "a.example", &row));
}

static void
test_api_policy_role_puts_admins_before_readers(void **state)
{
    char name[64];

    (void)state;
    /* deploy-bot is listed as a reader by CN, but an admin by DNS SAN */
    assert_int_equal(api_policy_role(&roles, &deploy_bot, name, sizeof(name)),
                     API_ROLE_ADMIN);
    assert_string_equal(name, "deploy-admin");
}

static void
test_api_policy_role_finds_readers(void **state)
{
    struct store_cert auditor = {
        .serial = "77",
        .cn = "auditor",
        .sans = "URI:spiffe://internal/ns/audit/sa/reader",
        .fingerprint = "03",
    };
    char name[64];

    (void)state;
    assert_int_equal(api_policy_role(&roles, &auditor, name, sizeof(name)),
                     API_ROLE_READER);
    assert_string_equal(name, "auditor");
}

static void
test_api_policy_role_names_a_service_by_cn_or_serial(void **state)
{
    struct store_cert no_cn = { .serial = "0a1b", .cn = "", .sans = "" };
    char name[64];

    (void)state;
    assert_int_equal(api_policy_role(&roles, &web, name, sizeof(name)),
                     API_ROLE_SERVICE);
    assert_string_equal(name, "web");
    assert_int_equal(api_policy_role(&roles, &ci, name, sizeof(name)),
                     API_ROLE_SERVICE);
    assert_string_equal(name, "0a1b");
    assert_int_equal(api_policy_role(&roles, &no_cn, name, sizeof(name)),
                     API_ROLE_SERVICE);
    assert_string_equal(name, "0a1b");
    assert_int_equal(api_policy_role(&policy, &deploy_bot, name, sizeof(name)),
                     API_ROLE_SERVICE);
    assert_string_equal(name, "deploy-bot");
}

static void
test_api_policy_role_without_a_row_is_an_unknown_service(void **state)
{
    char name[64];

    (void)state;
    assert_int_equal(api_policy_role(&roles, NULL, name, sizeof(name)),
                     API_ROLE_SERVICE);
    assert_string_equal(name, "unknown");
    assert_int_equal(api_policy_role(NULL, &web, name, sizeof(name)),
                     API_ROLE_SERVICE);
    assert_string_equal(name, "web");
}

static void
test_api_policy_role_truncates_the_name(void **state)
{
    char name[4];

    (void)state;
    assert_int_equal(api_policy_role(&roles, &deploy_bot, name, sizeof(name)),
                     API_ROLE_ADMIN);
    assert_string_equal(name, "dep");
    assert_int_equal(api_policy_role(&roles, &deploy_bot, NULL, 0),
                     API_ROLE_ADMIN);
}

static void
test_api_policy_clear_frees_everything_and_zeroes(void **state)
{
    struct api_policy p = { 0 };
    size_t i;

    (void)state;
    api_policy_clear(&p); /* a zeroed policy is fine */
    api_policy_clear(NULL);
    p.admins = calloc(2, sizeof(*p.admins));
    p.n_admins = 2;
    p.readers = calloc(1, sizeof(*p.readers));
    p.n_readers = 1;
    p.grants = calloc(3, sizeof(*p.grants));
    p.n_grants = 3;
    for (i = 0; i < 2; i++) { /* the last one as a failed parse leaves it */
        p.grants[i].names = calloc(2, sizeof(char *));
        p.grants[i].names[0] = strdup("*.svc.internal");
        p.grants[i].names[1] = strdup("10.0.0.0/8");
        p.grants[i].n_names = 2;
    }
    p.profiles[0].max_validity_s = DAY;
    api_policy_clear(&p);
    assert_null(p.admins);
    assert_null(p.grants);
    assert_int_equal(p.n_grants, 0);
    assert_int_equal(p.profiles[0].max_validity_s, 0);
}

static void
test_api_grant_check_lets_deploy_bot_issue_under_its_wildcard(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "x.svc.internal" },
                              { PKI_SAN_DNS, "y.svc.internal" } };
    struct pki_csr csr = { .cn = "x.svc.internal", .sans = sans, .n_sans = 2 };

    (void)state;
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, 30 * DAY),
                  WD_OK);
    assert_string_equal(bad, "");
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER_CLIENT, 1 * DAY),
                  WD_OK);
}

static void
test_api_grant_check_names_the_first_name_outside_the_grants(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "x.svc.internal" },
                              { PKI_SAN_DNS, "x.other.internal" },
                              { PKI_SAN_DNS, "y.other.internal" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 3 };

    (void)state;
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "DNS:x.other.internal");
}

static void
test_api_grant_check_refuses_a_name_one_label_too_deep(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "a.b.svc.internal" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 1 };

    (void)state;
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "DNS:a.b.svc.internal");
    sans[0].value = "svc.internal";
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "DNS:svc.internal");
}

static void
test_api_grant_check_refuses_a_profile_not_granted(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "x.svc.internal" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 1 };

    (void)state;
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_CLIENT, DAY),
                  WD_E_FORBIDDEN);
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_OCSP_SIGNING, DAY),
                  WD_E_FORBIDDEN);
    assert_wd_err(check(&deploy_bot, &csr, (enum pki_profile)99, DAY),
                  WD_E_FORBIDDEN);
}

static void
test_api_grant_check_refuses_an_unknown_identity(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "x.svc.internal" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 1 };
    struct api_policy none = { 0 };

    (void)state;
    assert_wd_err(check(&stranger, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_FORBIDDEN);
    assert_string_equal(bad, "");
    assert_wd_err(check(NULL, &csr, PKI_PROFILE_SERVER, DAY), WD_E_FORBIDDEN);
    assert_wd_err(api_grant_check(&none, &deploy_bot, &csr, PKI_PROFILE_SERVER,
                                  (uint64_t[]){ DAY }, bad, sizeof(bad)),
                  WD_E_FORBIDDEN);
    assert_wd_err(api_grant_check(NULL, &deploy_bot, &csr, PKI_PROFILE_SERVER,
                                  (uint64_t[]){ DAY }, bad, sizeof(bad)),
                  WD_E_FORBIDDEN);
}

static void
test_api_grant_check_refuses_validity_above_the_grant_max(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "x.svc.internal" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 1 };

    (void)state;
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, 30 * DAY),
                  WD_OK);
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, 30 * DAY + 1),
                  WD_E_BAD_VALIDITY);
    assert_string_equal(bad, "");
}

static void
test_api_grant_check_combines_grants_for_different_names(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "x.svc.internal" },
                              { PKI_SAN_IP, "10.20.3.4" },
                              { PKI_SAN_IP, "fd00:20::9" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 3 };

    (void)state;
    /* the IPs come from a grant with a 7-day maximum: the smallest wins */
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, 7 * DAY), WD_OK);
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, 8 * DAY),
                  WD_E_BAD_VALIDITY);
}

static void
test_api_grant_check_counts_the_most_generous_grant_per_name(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "long.svc.internal" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 1 };

    (void)state;
    /* covered by "*.svc.internal" (30 days) and by long-lived (365 days),
     * which recognises deploy-bot by fingerprint for server-client only */
    assert_wd_err(
        check(&deploy_bot, &csr, PKI_PROFILE_SERVER_CLIENT, 365 * DAY), WD_OK);
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, 365 * DAY),
                  WD_E_BAD_VALIDITY);
    assert_wd_err(
        check(&deploy_bot, &csr, PKI_PROFILE_SERVER_CLIENT, 366 * DAY),
        WD_E_BAD_VALIDITY);
}

static void
test_api_grant_check_covers_ip_sans_with_cidr_grants(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_IP, "10.20.255.1" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 1 };

    (void)state;
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY), WD_OK);
    sans[0].value = "10.21.0.1";
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "IP:10.21.0.1");
    sans[0].value = "::ffff:10.20.0.1";
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "IP:::ffff:10.20.0.1");
}

static void
test_api_grant_check_covers_uri_and_email_sans(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_URI, "spiffe://internal/ns/prod/api" },
                              { PKI_SAN_EMAIL, "ci@example.com" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 2 };

    (void)state;
    assert_wd_err(check(&ci, &csr, PKI_PROFILE_CLIENT, DAY), WD_OK);
    assert_wd_err(check(&ci, &csr, PKI_PROFILE_SERVER, DAY), WD_E_FORBIDDEN);
    sans[0].value = "spiffe://internal/ns/dev/api";
    assert_wd_err(check(&ci, &csr, PKI_PROFILE_CLIENT, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "URI:spiffe://internal/ns/dev/api");
}

static void
test_api_grant_check_checks_the_cn_too(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "web.internal" } };
    struct pki_csr csr = { .cn = "Web.Internal", .sans = sans, .n_sans = 1 };

    (void)state;
    assert_wd_err(check(&web, &csr, PKI_PROFILE_SERVER, DAY), WD_OK);
    csr.cn = "www.example.com";
    assert_wd_err(check(&web, &csr, PKI_PROFILE_SERVER, DAY), WD_OK);
    csr.cn = "Web Frontend";
    assert_wd_err(check(&web, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "CN:Web Frontend");
    csr.cn = "admin.internal";
    assert_wd_err(check(&web, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "CN:admin.internal");
}

static void
test_api_grant_check_judges_an_ip_literal_cn_as_an_address(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_IP, "10.20.0.7" } };
    struct pki_csr csr = { .cn = "10.20.0.7", .sans = sans, .n_sans = 1 };

    (void)state;
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY), WD_OK);
    csr.cn = "10.30.0.7";
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "CN:10.30.0.7");
}

static void
test_api_grant_check_refuses_a_csr_without_names(void **state)
{
    struct pki_csr csr = { .cn = NULL };

    (void)state;
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
    csr.cn = "";
    assert_wd_err(check(&deploy_bot, &csr, PKI_PROFILE_SERVER, DAY),
                  WD_E_NAME_NOT_ALLOWED);
}

static void
test_api_grant_check_truncates_the_bad_name(void **state)
{
    struct pki_san sans[] = { { PKI_SAN_DNS, "x.other.internal" } };
    struct pki_csr csr = { .sans = sans, .n_sans = 1 };
    char small[8];

    (void)state;
    assert_wd_err(api_grant_check(&policy, &deploy_bot, &csr,
                                  PKI_PROFILE_SERVER, (uint64_t[]){ DAY },
                                  small, sizeof(small)),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(small, "DNS:x.o");
    assert_wd_err(api_grant_check(&policy, &deploy_bot, &csr,
                                  PKI_PROFILE_SERVER, (uint64_t[]){ DAY }, NULL,
                                  0),
                  WD_E_NAME_NOT_ALLOWED);
}

static void
test_api_grant_check_on_parsed_requests(void **state)
{
    struct pki_csr *mixed = parse_ok("csr-sans-mixed.pem");
    struct pki_csr *cn_ip = parse_ok("csr-cn-only-ip.pem");
    struct pki_csr *not_host = parse_ok("csr-cn-only-not-host.pem");
    char *names[] = { "mixed.example.com", "*.mixed.example.com",
                      "192.0.2.0/24",      "2001:db8::/64",
                      "*@example.com",     "spiffe://example.org/ns/*" };
    struct api_grant g = {
        .name = "mixed",
        .who = { API_MATCH_CN, "web" },
        .names = names,
        .n_names = 6,
        .profiles = { true, true, true },
        .max_validity_s = DAY,
    };
    struct api_policy p = { .grants = &g, .n_grants = 1 };

    (void)state;
    assert_wd_err(api_grant_check(&p, &web, mixed, PKI_PROFILE_SERVER,
                                  (uint64_t[]){ DAY }, bad, sizeof(bad)),
                  WD_OK);
    assert_wd_err(api_grant_check(&p, &web, cn_ip, PKI_PROFILE_SERVER,
                                  (uint64_t[]){ DAY }, bad, sizeof(bad)),
                  WD_OK);
    assert_wd_err(api_grant_check(&p, &web, not_host, PKI_PROFILE_SERVER,
                                  (uint64_t[]){ DAY }, bad, sizeof(bad)),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "CN:Alice Smith");
    names[1] = "x.mixed.example.com"; /* the requested wildcard is literal */
    assert_wd_err(api_grant_check(&p, &web, mixed, PKI_PROFILE_SERVER,
                                  (uint64_t[]){ DAY }, bad, sizeof(bad)),
                  WD_E_NAME_NOT_ALLOWED);
    assert_string_equal(bad, "DNS:*.mixed.example.com");
    pki_csr_free(mixed);
    pki_csr_free(cn_ip);
    pki_csr_free(not_host);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_match_identity_by_cn_ignores_case),
        cmocka_unit_test(
            test_api_match_identity_by_dns_san_ignores_case_and_trailing_dot),
        cmocka_unit_test(test_api_match_identity_by_uri_san_is_exact),
        cmocka_unit_test(test_api_match_identity_by_fingerprint_ignores_case),
        cmocka_unit_test(test_api_match_identity_refuses_a_stranger),
        cmocka_unit_test(
            test_api_match_identity_reads_every_item_of_the_san_column),
        cmocka_unit_test(test_api_policy_role_puts_admins_before_readers),
        cmocka_unit_test(test_api_policy_role_finds_readers),
        cmocka_unit_test(test_api_policy_role_names_a_service_by_cn_or_serial),
        cmocka_unit_test(
            test_api_policy_role_without_a_row_is_an_unknown_service),
        cmocka_unit_test(test_api_policy_role_truncates_the_name),
        cmocka_unit_test(test_api_policy_clear_frees_everything_and_zeroes),
        cmocka_unit_test(
            test_api_grant_check_lets_deploy_bot_issue_under_its_wildcard),
        cmocka_unit_test(
            test_api_grant_check_names_the_first_name_outside_the_grants),
        cmocka_unit_test(
            test_api_grant_check_refuses_a_name_one_label_too_deep),
        cmocka_unit_test(test_api_grant_check_refuses_a_profile_not_granted),
        cmocka_unit_test(test_api_grant_check_refuses_an_unknown_identity),
        cmocka_unit_test(
            test_api_grant_check_refuses_validity_above_the_grant_max),
        cmocka_unit_test(
            test_api_grant_check_combines_grants_for_different_names),
        cmocka_unit_test(
            test_api_grant_check_counts_the_most_generous_grant_per_name),
        cmocka_unit_test(test_api_grant_check_covers_ip_sans_with_cidr_grants),
        cmocka_unit_test(test_api_grant_check_covers_uri_and_email_sans),
        cmocka_unit_test(test_api_grant_check_checks_the_cn_too),
        cmocka_unit_test(
            test_api_grant_check_judges_an_ip_literal_cn_as_an_address),
        cmocka_unit_test(test_api_grant_check_refuses_a_csr_without_names),
        cmocka_unit_test(test_api_grant_check_truncates_the_bad_name),
        cmocka_unit_test(test_api_grant_check_on_parsed_requests),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
