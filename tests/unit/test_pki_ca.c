/*
 * Unit tests for server/pki/pki_ca_new.c (pki_ca_create for every key
 * type), server/pki/pki_ca.c (pki_ca_load's cross-checks, the accessors,
 * pki_ca_verify_client) and, through them, server/pki/pki_signer.c
 * (keys in PEM, encrypted PKCS#8 with a passphrase included). Two
 * throwaway CAs, "Main" and "Other", are built in the group setup.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../server/pki/pki.h"
#include "pki_fixture.h"

#define PUBLIC_URL "http://127.0.0.1:8080"
#define DAY_S (24 * 3600)
#define YEAR_S (365 * DAY_S)

struct fixtures {
    struct pki_ca_new main;
    struct pki_ca_new other;
    struct pki_ca *ca; /* "Main", loaded */
    time_t now;
};

static const char *const default_hosts[] = { "localhost", "127.0.0.1", "::1" };

/* The fixture's options, with a DNS name and two IPs for the server. */
static void
default_opts(struct pki_ca_new_opts *opts, const char *name, enum pki_keygen kg,
             time_t now)
{
    pki_fixture_ca_opts(opts, name, kg, PUBLIC_URL, now);
    opts->hosts = default_hosts;
    opts->n_hosts = 3;
}

static enum wd_err
load(const char *root, const char *intermediate, const char *key,
     const char *url, struct pki_ca **out)
{
    struct pki_ca_cfg cfg = { 0 };

    cfg.root_pem = root;
    cfg.intermediate_pem = intermediate;
    cfg.intermediate_key_pem = key;
    cfg.public_url = url;
    return pki_ca_load(&cfg, out);
}

static int
setup(void **state)
{
    struct fixtures *f = calloc(1, sizeof(*f));
    struct pki_ca_new_opts opts;

    if (f == NULL) {
        return -1;
    }
    f->now = time(NULL);
    default_opts(&opts, "Main", PKI_KEYGEN_ECDSA_P256, f->now);
    if (pki_ca_create(&opts, &f->main) != WD_OK) {
        return -1;
    }
    default_opts(&opts, "Other", PKI_KEYGEN_ECDSA_P256, f->now);
    if (pki_ca_create(&opts, &f->other) != WD_OK) {
        return -1;
    }
    if (pki_fixture_ca_load(&f->main, PUBLIC_URL, &f->ca) != WD_OK) {
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixtures *f = *state;

    pki_fixture_ca_free(&f->main, f->ca);
    pki_fixture_ca_free(&f->other, NULL);
    free(f);
    return 0;
}

static gnutls_x509_crt_t
import_pem(const char *pem)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };

    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    return crt;
}

static void
assert_dn(gnutls_x509_crt_t crt, const char *want)
{
    gnutls_datum_t dn = { NULL, 0 };

    assert_int_equal(gnutls_x509_crt_get_dn3(crt, &dn, 0), 0);
    assert_string_equal(dn.data, want);
    gnutls_free(dn.data);
}

/* What every CA pki_ca_create makes must hold, whatever its key type. */
static void
check_created(enum pki_keygen kg, gnutls_sign_algorithm_t sign)
{
    struct pki_ca_new made;
    struct pki_ca_new_opts opts;
    struct pki_ca *ca = NULL;
    gnutls_x509_crt_t root;
    gnutls_x509_crt_t inter;
    struct pki_client client;
    const uint8_t *ders[1];
    size_t lens[1];
    unsigned critical = 0;
    unsigned is_ca = 0;
    int pathlen = -1;
    unsigned usage = 0;
    unsigned reasons = 0;
    char url[128];
    size_t size = sizeof(url);
    time_t now = time(NULL);

    memset(&made, 0, sizeof(made));
    default_opts(&opts, "Kind", kg, now);
    assert_wd_err(pki_ca_create(&opts, &made), WD_OK);
    assert_wd_err(load(made.root_pem, made.intermediate_pem,
                       made.intermediate_key_pem, PUBLIC_URL, &ca),
                  WD_OK);
    assert_string_equal(pki_ca_key_type(ca), pki_keygen_name(kg));
    assert_string_equal(made.server->key_type, pki_keygen_name(kg));
    assert_string_equal(made.admin->key_type, pki_keygen_name(kg));

    root = import_pem(made.root_pem);
    inter = import_pem(made.intermediate_pem);
    assert_dn(root, "CN=Kind Root CA,O=Kind");
    assert_dn(inter, "CN=Kind Intermediate CA,O=Kind");
    assert_true(gnutls_x509_crt_check_issuer(root, root));
    assert_true(gnutls_x509_crt_check_issuer(inter, root));
    assert_true(gnutls_x509_crt_get_basic_constraints(root, &critical, &is_ca,
                                                      &pathlen) >= 0);
    assert_true(critical && is_ca && pathlen == -1);
    assert_true(gnutls_x509_crt_get_basic_constraints(inter, &critical, &is_ca,
                                                      &pathlen) >= 0);
    assert_true(critical && is_ca);
    assert_int_equal(pathlen, 0);
    assert_true(gnutls_x509_crt_get_key_usage(inter, &usage, &critical) >= 0);
    assert_true(critical);
    assert_int_equal(usage, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
    assert_int_equal(gnutls_x509_crt_get_crl_dist_points(inter, 0, url, &size,
                                                         &reasons, &critical),
                     GNUTLS_SAN_URI);
    assert_string_equal(url, PUBLIC_URL "/root.crl");
    assert_int_equal(gnutls_x509_crt_get_signature_algorithm(root), sign);
    assert_int_equal(gnutls_x509_crt_get_signature_algorithm(inter), sign);

    assert_non_null(strstr(made.root_key_pem, "-----BEGIN PRIVATE KEY-----"));
    assert_non_null(
        strstr(made.intermediate_key_pem, "-----BEGIN PRIVATE KEY-----"));
    assert_non_null(strstr(made.server_key_pem, "-----BEGIN PRIVATE KEY-----"));
    assert_non_null(strstr(made.admin_key_pem, "-----BEGIN PRIVATE KEY-----"));

    ders[0] = made.admin->der;
    lens[0] = made.admin->der_len;
    assert_wd_err(pki_ca_verify_client(ca, ders, lens, 1, now, &client), WD_OK);

    gnutls_x509_crt_deinit(root);
    gnutls_x509_crt_deinit(inter);
    pki_ca_free(ca);
    pki_ca_new_clear(&made);
}

static void
test_pki_ca_create_makes_a_loadable_ecdsa_p256_ca(void **state)
{
    (void)state;
    check_created(PKI_KEYGEN_ECDSA_P256, GNUTLS_SIGN_ECDSA_SHA256);
}

static void
test_pki_ca_create_makes_a_loadable_ecdsa_p384_ca(void **state)
{
    (void)state;
    check_created(PKI_KEYGEN_ECDSA_P384, GNUTLS_SIGN_ECDSA_SHA384);
}

static void
test_pki_ca_create_makes_a_loadable_rsa_2048_ca(void **state)
{
    (void)state;
    check_created(PKI_KEYGEN_RSA_2048, GNUTLS_SIGN_RSA_SHA256);
}

static void
test_pki_ca_create_makes_a_loadable_rsa_3072_ca(void **state)
{
    (void)state;
    check_created(PKI_KEYGEN_RSA_3072, GNUTLS_SIGN_RSA_SHA256);
}

static void
test_pki_ca_create_makes_a_loadable_rsa_4096_ca(void **state)
{
    (void)state;
    check_created(PKI_KEYGEN_RSA_4096, GNUTLS_SIGN_RSA_SHA256);
}

static void
test_pki_ca_create_makes_a_loadable_ed25519_ca(void **state)
{
    (void)state;
    check_created(PKI_KEYGEN_ED25519, GNUTLS_SIGN_EDDSA_ED25519);
}

static void
test_pki_ca_create_issues_the_server_and_admin_identities(void **state)
{
    const struct fixtures *f = *state;
    const struct pki_cert *server = f->main.server;
    const struct pki_cert *admin = f->main.admin;

    assert_string_equal(server->subject, "CN=localhost");
    assert_int_equal(server->profile, PKI_PROFILE_SERVER);
    assert_int_equal(server->n_sans, 3);
    assert_int_equal(server->sans[0].type, PKI_SAN_DNS);
    assert_string_equal(server->sans[0].value, "localhost");
    assert_int_equal(server->sans[1].type, PKI_SAN_IP);
    assert_string_equal(server->sans[1].value, "127.0.0.1");
    assert_int_equal(server->sans[2].type, PKI_SAN_IP);
    assert_string_equal(server->sans[2].value, "::1");

    assert_string_equal(admin->subject, "CN=admin,O=Main");
    assert_string_equal(admin->cn, "admin");
    assert_int_equal(admin->profile, PKI_PROFILE_CLIENT);
    assert_int_equal(admin->n_sans, 0);
    assert_string_not_equal(admin->serial, server->serial);
}

static void
test_pki_ca_create_applies_the_defaults(void **state)
{
    static const char *const hosts[] = { "ca.example.com" };
    struct pki_ca_new made;
    struct pki_ca_new_opts opts;
    gnutls_x509_crt_t root;
    gnutls_x509_crt_t inter;
    time_t now = time(NULL);

    (void)state;
    memset(&made, 0, sizeof(made));
    default_opts(&opts, NULL, PKI_KEYGEN_ECDSA_P256, now);
    opts.hosts = hosts;
    opts.n_hosts = 1;
    assert_wd_err(pki_ca_create(&opts, &made), WD_OK);
    root = import_pem(made.root_pem);
    inter = import_pem(made.intermediate_pem);
    assert_dn(root, "CN=Warden Root CA,O=Warden");
    assert_int_equal(gnutls_x509_crt_get_activation_time(root), now - 300);
    assert_int_equal(gnutls_x509_crt_get_expiration_time(root),
                     now + 20 * (time_t)YEAR_S);
    assert_int_equal(gnutls_x509_crt_get_expiration_time(inter),
                     now + 10 * (time_t)YEAR_S);
    assert_int_equal(made.server->not_before, now - 300);
    assert_int_equal(made.server->not_after, now + YEAR_S);
    assert_int_equal(made.admin->not_after, now + YEAR_S);
    assert_string_equal(made.server->subject, "CN=ca.example.com");
    gnutls_x509_crt_deinit(root);
    gnutls_x509_crt_deinit(inter);
    pki_ca_new_clear(&made);
}

static void
test_pki_ca_create_keeps_the_intermediate_within_the_root(void **state)
{
    struct pki_ca_new made;
    struct pki_ca_new_opts opts;
    gnutls_x509_crt_t root;
    gnutls_x509_crt_t inter;

    (void)state;
    memset(&made, 0, sizeof(made));
    default_opts(&opts, "Short", PKI_KEYGEN_ECDSA_P256, time(NULL));
    opts.root_validity_s = 10 * DAY_S;
    opts.intermediate_validity_s = 20 * DAY_S;
    opts.leaf_validity_s = 30 * DAY_S;
    assert_wd_err(pki_ca_create(&opts, &made), WD_OK);
    root = import_pem(made.root_pem);
    inter = import_pem(made.intermediate_pem);
    assert_int_equal(gnutls_x509_crt_get_expiration_time(inter),
                     gnutls_x509_crt_get_expiration_time(root));
    assert_int_equal(made.server->not_after,
                     gnutls_x509_crt_get_expiration_time(inter));
    gnutls_x509_crt_deinit(root);
    gnutls_x509_crt_deinit(inter);
    pki_ca_new_clear(&made);
}

/* pki_ca_create fails with want and leaves out all zero. */
static void
create_fails(const struct pki_ca_new_opts *opts, enum wd_err want)
{
    struct pki_ca_new made;
    struct pki_ca_new zero;

    memset(&made, 0, sizeof(made));
    memset(&zero, 0, sizeof(zero));
    assert_wd_err(pki_ca_create(opts, &made), want);
    assert_memory_equal(&made, &zero, sizeof(made));
}

static void
test_pki_ca_create_refuses_a_bad_host(void **state)
{
    static const char *const hosts[] = { "localhost", "a..b.example.com" };
    struct pki_ca_new_opts opts;

    (void)state;
    default_opts(&opts, "Bad", PKI_KEYGEN_ECDSA_P256, 0);
    opts.hosts = hosts;
    opts.n_hosts = 2;
    create_fails(&opts, WD_E_BAD_NAME);
}

static void
test_pki_ca_create_refuses_no_hosts(void **state)
{
    struct pki_ca_new_opts opts;

    (void)state;
    default_opts(&opts, "None", PKI_KEYGEN_ECDSA_P256, 0);
    opts.n_hosts = 0;
    create_fails(&opts, WD_E_NO_NAMES);
}

static void
test_pki_ca_create_refuses_a_bad_ca_name(void **state)
{
    struct pki_ca_new_opts opts;

    (void)state;
    default_opts(&opts, "", PKI_KEYGEN_ECDSA_P256, 0);
    create_fails(&opts, WD_E_BAD_NAME);
    default_opts(&opts, "Line\nBreak", PKI_KEYGEN_ECDSA_P256, 0);
    create_fails(&opts, WD_E_BAD_NAME);
}

static void
test_pki_ca_create_refuses_a_missing_public_url(void **state)
{
    struct pki_ca_new_opts opts;

    (void)state;
    default_opts(&opts, "NoUrl", PKI_KEYGEN_ECDSA_P256, 0);
    opts.public_url = NULL;
    create_fails(&opts, WD_E_CONFIG);
}

static void
test_pki_ca_new_clear_accepts_a_zeroed_struct(void **state)
{
    struct pki_ca_new made;

    (void)state;
    memset(&made, 0, sizeof(made));
    pki_ca_new_clear(&made);
    pki_ca_new_clear(NULL);
}

static void
test_pki_ca_load_exposes_the_material(void **state)
{
    const struct fixtures *f = *state;
    gnutls_x509_crt_t inter = import_pem(f->main.intermediate_pem);
    gnutls_datum_t der = { NULL, 0 };
    const uint8_t *got;
    size_t got_len = 0;
    char *chain;

    assert_string_equal(pki_ca_root_pem(f->ca), f->main.root_pem);
    chain =
        malloc(strlen(f->main.intermediate_pem) + strlen(f->main.root_pem) + 1);
    assert_non_null(chain);
    strcpy(chain, f->main.intermediate_pem);
    strcat(chain, f->main.root_pem);
    assert_string_equal(pki_ca_chain_pem(f->ca), chain);
    assert_int_equal(gnutls_x509_crt_export2(inter, GNUTLS_X509_FMT_DER, &der),
                     0);
    got = pki_ca_intermediate_der(f->ca, &got_len);
    assert_int_equal(got_len, der.size);
    assert_memory_equal(got, der.data, der.size);
    assert_string_equal(pki_ca_key_type(f->ca), "ecdsa-p256");
    assert_int_equal(pki_ca_not_after(f->ca),
                     gnutls_x509_crt_get_expiration_time(inter));
    assert_string_equal(pki_ca_public_url(f->ca), PUBLIC_URL);
    gnutls_free(der.data);
    gnutls_x509_crt_deinit(inter);
    free(chain);
}

static void
test_pki_ca_load_drops_a_trailing_slash_of_the_public_url(void **state)
{
    const struct fixtures *f = *state;
    struct pki_ca *ca = NULL;

    assert_wd_err(load(f->main.root_pem, f->main.intermediate_pem,
                       f->main.intermediate_key_pem, PUBLIC_URL "/", &ca),
                  WD_OK);
    assert_string_equal(pki_ca_public_url(ca), PUBLIC_URL);
    pki_ca_free(ca);
}

/* pki_ca_load fails with WD_E_CONFIG and leaves out NULL. */
static void
load_fails(const char *root, const char *intermediate, const char *key,
           const char *url)
{
    struct pki_ca *ca = NULL;

    assert_wd_err(load(root, intermediate, key, url, &ca), WD_E_CONFIG);
    assert_null(ca);
}

static void
test_pki_ca_load_refuses_a_key_that_does_not_match(void **state)
{
    const struct fixtures *f = *state;

    load_fails(f->main.root_pem, f->main.intermediate_pem,
               f->other.intermediate_key_pem, PUBLIC_URL);
    load_fails(f->main.root_pem, f->main.intermediate_pem, f->main.root_key_pem,
               PUBLIC_URL);
}

static void
test_pki_ca_load_refuses_an_intermediate_of_another_root(void **state)
{
    const struct fixtures *f = *state;

    load_fails(f->other.root_pem, f->main.intermediate_pem,
               f->main.intermediate_key_pem, PUBLIC_URL);
}

static void
test_pki_ca_load_refuses_a_leaf_as_intermediate(void **state)
{
    const struct fixtures *f = *state;

    load_fails(f->main.root_pem, f->main.server->pem, f->main.server_key_pem,
               PUBLIC_URL);
}

static void
test_pki_ca_load_refuses_missing_or_garbled_material(void **state)
{
    const struct fixtures *f = *state;
    const char *junk = "-----BEGIN CERTIFICATE-----\nMAA=\n"
                       "-----END CERTIFICATE-----\n";

    load_fails(NULL, f->main.intermediate_pem, f->main.intermediate_key_pem,
               PUBLIC_URL);
    load_fails(junk, f->main.intermediate_pem, f->main.intermediate_key_pem,
               PUBLIC_URL);
    load_fails(f->main.root_pem, "", f->main.intermediate_key_pem, PUBLIC_URL);
    load_fails(f->main.root_pem, f->main.intermediate_pem, NULL, PUBLIC_URL);
    load_fails(f->main.root_pem, f->main.intermediate_pem, "not a key",
               PUBLIC_URL);
    load_fails(f->main.root_pem, f->main.intermediate_pem,
               f->main.intermediate_key_pem, NULL);
    load_fails(f->main.root_pem, f->main.intermediate_pem,
               f->main.intermediate_key_pem, "/");
}

/* Verifies one DER certificate (as a TLS peer's only one) at now. */
static enum wd_err
verify_one(const struct fixtures *f, const uint8_t *der, size_t len, time_t now,
           struct pki_client *out)
{
    const uint8_t *ders[1] = { der };
    size_t lens[1] = { len };

    return pki_ca_verify_client(f->ca, ders, lens, 1, now, out);
}

static void
test_pki_ca_verify_client_accepts_the_admin_certificate(void **state)
{
    const struct fixtures *f = *state;
    const struct pki_cert *admin = f->main.admin;
    struct pki_client client;

    memset(&client, 0, sizeof(client));
    assert_wd_err(verify_one(f, admin->der, admin->der_len, f->now, &client),
                  WD_OK);
    assert_string_equal(client.serial, admin->serial);
    assert_string_equal(client.fingerprint, admin->fingerprint);
    assert_string_equal(client.cn, "admin");
    assert_int_equal(client.not_after, admin->not_after);
}

static void
test_pki_ca_verify_client_ignores_what_else_the_peer_sends(void **state)
{
    const struct fixtures *f = *state;
    static const uint8_t junk[] = { 0x30, 0x00 };
    const uint8_t *ders[3] = { f->main.admin->der, junk, f->other.admin->der };
    size_t lens[3] = { f->main.admin->der_len, sizeof(junk),
                       f->other.admin->der_len };
    struct pki_client client;

    assert_wd_err(pki_ca_verify_client(f->ca, ders, lens, 3, f->now, &client),
                  WD_OK);
    assert_string_equal(client.serial, f->main.admin->serial);
}

static void
test_pki_ca_verify_client_accepts_a_server_client_certificate(void **state)
{
    const struct fixtures *f = *state;
    struct pki_csr *csr = NULL;
    struct pki_cert *cert = NULL;
    struct pki_client client;
    struct pki_issue req;
    char serial[WD_MAX_SERIAL_HEX + 1];
    size_t len = 0;
    uint8_t *pem = test_read_file("csr-ecdsa-p256.pem", &len);

    assert_non_null(pem);
    assert_wd_err(pki_csr_parse(pem, len, &csr), WD_OK);
    assert_wd_err(pki_serial_new(serial), WD_OK);
    req.csr = csr;
    req.profile = PKI_PROFILE_SERVER_CLIENT;
    req.serial = serial;
    req.validity_s = DAY_S;
    req.now = f->now;
    assert_wd_err(pki_cert_issue(f->ca, &req, &cert), WD_OK);
    assert_wd_err(verify_one(f, cert->der, cert->der_len, f->now, &client),
                  WD_OK);
    assert_string_equal(client.cn, "p256.example.com");
    pki_cert_free(cert);
    pki_csr_free(csr);
    free(pem);
}

static void
test_pki_ca_verify_client_refuses_an_empty_list(void **state)
{
    const struct fixtures *f = *state;
    struct pki_client client;

    assert_wd_err(pki_ca_verify_client(f->ca, NULL, NULL, 0, f->now, &client),
                  WD_E_CLIENT_CERT_MISSING);
}

/* Verification fails as INVALID and leaves out as it was. */
static void
verify_fails(const struct fixtures *f, const uint8_t *der, size_t len,
             time_t now)
{
    struct pki_client client;
    struct pki_client before;

    memset(&client, 0x5a, sizeof(client));
    before = client;
    assert_wd_err(verify_one(f, der, len, now, &client),
                  WD_E_CLIENT_CERT_INVALID);
    assert_memory_equal(&client, &before, sizeof(client));
}

static void
test_pki_ca_verify_client_refuses_a_certificate_of_another_ca(void **state)
{
    const struct fixtures *f = *state;

    verify_fails(f, f->other.admin->der, f->other.admin->der_len, f->now);
}

static void
test_pki_ca_verify_client_refuses_an_expired_certificate(void **state)
{
    const struct fixtures *f = *state;
    const struct pki_cert *admin = f->main.admin;
    struct pki_client client;

    assert_wd_err(verify_one(f, admin->der, admin->der_len,
                             admin->not_after - 1, &client),
                  WD_OK);
    verify_fails(f, admin->der, admin->der_len, admin->not_after);
    verify_fails(f, admin->der, admin->der_len, admin->not_after + DAY_S);
}

static void
test_pki_ca_verify_client_refuses_a_not_yet_valid_certificate(void **state)
{
    const struct fixtures *f = *state;
    const struct pki_cert *admin = f->main.admin;
    struct pki_client client;

    assert_wd_err(
        verify_one(f, admin->der, admin->der_len, admin->not_before, &client),
        WD_OK);
    verify_fails(f, admin->der, admin->der_len, admin->not_before - 1);
}

static void
test_pki_ca_verify_client_refuses_a_server_only_certificate(void **state)
{
    const struct fixtures *f = *state;

    verify_fails(f, f->main.server->der, f->main.server->der_len, f->now);
}

static void
test_pki_ca_verify_client_refuses_the_intermediate_itself(void **state)
{
    const struct fixtures *f = *state;
    size_t len = 0;
    const uint8_t *der = pki_ca_intermediate_der(f->ca, &len);

    verify_fails(f, der, len, f->now);
}

static void
test_pki_ca_verify_client_refuses_garbage(void **state)
{
    const struct fixtures *f = *state;
    static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

    verify_fails(f, junk, sizeof(junk), f->now);
    verify_fails(f, junk, 0, f->now);
}

/* The Main intermediate's key as encrypted PKCS#8 (PBES2, AES-256). */
static char *
encrypt_key(const char *pem, const char *passphrase)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };
    gnutls_datum_t out = { NULL, 0 };
    char *enc;

    assert_int_equal(gnutls_x509_privkey_init(&key), 0);
    assert_int_equal(
        gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0), 0);
    assert_int_equal(
        gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, passphrase,
                                          GNUTLS_PKCS_PBES2_AES_256, &out),
        0);
    gnutls_x509_privkey_deinit(key);
    enc = strndup((const char *)out.data, out.size);
    gnutls_free(out.data);
    assert_non_null(strstr(enc, "ENCRYPTED PRIVATE KEY"));
    return enc;
}

static enum wd_err
load_encrypted(const struct fixtures *f, const char *key_pem,
               const char *passphrase, struct pki_ca **out)
{
    struct pki_ca_cfg cfg = { 0 };

    cfg.root_pem = f->main.root_pem;
    cfg.intermediate_pem = f->main.intermediate_pem;
    cfg.intermediate_key_pem = key_pem;
    cfg.intermediate_key_passphrase = passphrase;
    cfg.public_url = PUBLIC_URL;
    return pki_ca_load(&cfg, out);
}

static void
test_pki_ca_load_decrypts_an_encrypted_key_with_its_passphrase(void **state)
{
    const struct fixtures *f = *state;
    char *enc = encrypt_key(f->main.intermediate_key_pem, "s3cret pass");
    struct pki_ca *ca = NULL;
    struct pki_cert *leaf;

    assert_wd_err(load_encrypted(f, enc, "s3cret pass", &ca), WD_OK);
    leaf = pki_fixture_leaf_issue(ca, NULL, f->now);
    assert_non_null(leaf);
    pki_cert_free(leaf);
    pki_ca_free(ca);
    pki_fixture_key_free(enc);
}

static void
test_pki_ca_load_refuses_an_encrypted_key_without_or_with_a_wrong_passphrase(
    void **state)
{
    const struct fixtures *f = *state;
    char *enc = encrypt_key(f->main.intermediate_key_pem, "s3cret pass");
    struct pki_ca *ca = NULL;

    assert_wd_err(load_encrypted(f, enc, NULL, &ca), WD_E_CONFIG);
    assert_null(ca);
    assert_wd_err(load_encrypted(f, enc, "wrong", &ca), WD_E_CONFIG);
    assert_null(ca);
    assert_wd_err(load_encrypted(f, enc, "", &ca), WD_E_CONFIG);
    assert_null(ca);
    pki_fixture_key_free(enc);
}

static void
test_pki_ca_load_ignores_a_passphrase_for_a_plain_key(void **state)
{
    const struct fixtures *f = *state;
    struct pki_ca *ca = NULL;

    assert_wd_err(
        load_encrypted(f, f->main.intermediate_key_pem, "unused", &ca), WD_OK);
    pki_ca_free(ca);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_ca_create_makes_a_loadable_ecdsa_p256_ca),
        cmocka_unit_test(test_pki_ca_create_makes_a_loadable_ecdsa_p384_ca),
        cmocka_unit_test(test_pki_ca_create_makes_a_loadable_rsa_2048_ca),
        cmocka_unit_test(test_pki_ca_create_makes_a_loadable_rsa_3072_ca),
        cmocka_unit_test(test_pki_ca_create_makes_a_loadable_rsa_4096_ca),
        cmocka_unit_test(test_pki_ca_create_makes_a_loadable_ed25519_ca),
        cmocka_unit_test(
            test_pki_ca_create_issues_the_server_and_admin_identities),
        cmocka_unit_test(test_pki_ca_create_applies_the_defaults),
        cmocka_unit_test(
            test_pki_ca_create_keeps_the_intermediate_within_the_root),
        cmocka_unit_test(test_pki_ca_create_refuses_a_bad_host),
        cmocka_unit_test(test_pki_ca_create_refuses_no_hosts),
        cmocka_unit_test(test_pki_ca_create_refuses_a_bad_ca_name),
        cmocka_unit_test(test_pki_ca_create_refuses_a_missing_public_url),
        cmocka_unit_test(test_pki_ca_new_clear_accepts_a_zeroed_struct),
        cmocka_unit_test(test_pki_ca_load_exposes_the_material),
        cmocka_unit_test(
            test_pki_ca_load_drops_a_trailing_slash_of_the_public_url),
        cmocka_unit_test(test_pki_ca_load_refuses_a_key_that_does_not_match),
        cmocka_unit_test(
            test_pki_ca_load_refuses_an_intermediate_of_another_root),
        cmocka_unit_test(test_pki_ca_load_refuses_a_leaf_as_intermediate),
        cmocka_unit_test(test_pki_ca_load_refuses_missing_or_garbled_material),
        cmocka_unit_test(
            test_pki_ca_load_decrypts_an_encrypted_key_with_its_passphrase),
        cmocka_unit_test(
            test_pki_ca_load_refuses_an_encrypted_key_without_or_with_a_wrong_passphrase),
        cmocka_unit_test(test_pki_ca_load_ignores_a_passphrase_for_a_plain_key),
        cmocka_unit_test(
            test_pki_ca_verify_client_accepts_the_admin_certificate),
        cmocka_unit_test(
            test_pki_ca_verify_client_ignores_what_else_the_peer_sends),
        cmocka_unit_test(
            test_pki_ca_verify_client_accepts_a_server_client_certificate),
        cmocka_unit_test(test_pki_ca_verify_client_refuses_an_empty_list),
        cmocka_unit_test(
            test_pki_ca_verify_client_refuses_a_certificate_of_another_ca),
        cmocka_unit_test(
            test_pki_ca_verify_client_refuses_an_expired_certificate),
        cmocka_unit_test(
            test_pki_ca_verify_client_refuses_a_not_yet_valid_certificate),
        cmocka_unit_test(
            test_pki_ca_verify_client_refuses_a_server_only_certificate),
        cmocka_unit_test(
            test_pki_ca_verify_client_refuses_the_intermediate_itself),
        cmocka_unit_test(test_pki_ca_verify_client_refuses_garbage),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
