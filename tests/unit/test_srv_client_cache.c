/*
 * Unit tests for server/srv_client_cache.c, the verified client chains
 * every API connection shares: a hit needs the same certificates in the
 * same order, verified by the same CA, with the leaf still valid; a
 * chain that differs by a byte, a certificate more or less, or a split
 * in another place is a miss; a newer chain takes a shared slot.
 */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include "../../server/srv.h"

#define NOW 1700000000

static const int ca_a = 1; /* stand-ins for two CAs: only addresses count */
static const int ca_b = 2;

static struct pki_client
client(const char *serial, time_t not_after)
{
    struct pki_client c;

    memset(&c, 0, sizeof(c));
    snprintf(c.serial, sizeof(c.serial), "%s", serial);
    snprintf(c.cn, sizeof(c.cn), "svc-%s", serial);
    c.not_after = not_after;
    return c;
}

static void
test_srv_client_cache_returns_what_was_verified(void **state)
{
    struct srv_client_cache *c = srv_client_cache_new();
    uint8_t leaf[] = "leaf certificate bytes";
    uint8_t inter[] = "intermediate bytes";
    gnutls_datum_t chain[2] = { { leaf, sizeof(leaf) },
                                { inter, sizeof(inter) } };
    struct pki_client in = client("0a", NOW + 60);
    struct pki_client out;

    (void)state;
    assert_false(srv_client_cache_get(c, &ca_a, chain, 2, NOW, &out));
    srv_client_cache_put(c, &ca_a, chain, 2, &in);
    memset(&out, 0, sizeof(out));
    assert_true(srv_client_cache_get(c, &ca_a, chain, 2, NOW, &out));
    assert_string_equal(out.serial, "0a");
    assert_string_equal(out.cn, "svc-0a");
    assert_int_equal(out.not_after, NOW + 60);
    srv_client_cache_free(c);
}

static void
test_srv_client_cache_misses_any_other_chain_or_ca(void **state)
{
    struct srv_client_cache *c = srv_client_cache_new();
    uint8_t leaf[] = "leaf certificate bytes";
    uint8_t inter[] = "intermediate bytes";
    uint8_t joined[sizeof(leaf) + sizeof(inter)];
    gnutls_datum_t chain[2] = { { leaf, sizeof(leaf) },
                                { inter, sizeof(inter) } };
    gnutls_datum_t one[1] = { { joined, sizeof(joined) } };
    struct pki_client in = client("0a", NOW + 60);
    struct pki_client out;

    (void)state;
    srv_client_cache_put(c, &ca_a, chain, 2, &in);
    /* the leaf alone, the same bytes as one certificate, another CA */
    assert_false(srv_client_cache_get(c, &ca_a, chain, 1, NOW, &out));
    memcpy(joined, leaf, sizeof(leaf));
    memcpy(joined + sizeof(leaf), inter, sizeof(inter));
    assert_false(srv_client_cache_get(c, &ca_a, one, 1, NOW, &out));
    assert_false(srv_client_cache_get(c, &ca_b, chain, 2, NOW, &out));
    /* one byte changed */
    leaf[0] ^= 1;
    assert_false(srv_client_cache_get(c, &ca_a, chain, 2, NOW, &out));
    leaf[0] ^= 1;
    assert_true(srv_client_cache_get(c, &ca_a, chain, 2, NOW, &out));
    /* nothing at all */
    assert_false(srv_client_cache_get(c, &ca_a, chain, 0, NOW, &out));
    srv_client_cache_free(c);
}

static void
test_srv_client_cache_forgets_an_expired_leaf(void **state)
{
    struct srv_client_cache *c = srv_client_cache_new();
    uint8_t leaf[] = "short-lived leaf";
    gnutls_datum_t chain[1] = { { leaf, sizeof(leaf) } };
    struct pki_client in = client("0b", NOW + 10);
    struct pki_client out;

    (void)state;
    srv_client_cache_put(c, &ca_a, chain, 1, &in);
    assert_true(srv_client_cache_get(c, &ca_a, chain, 1, NOW + 9, &out));
    assert_false(srv_client_cache_get(c, &ca_a, chain, 1, NOW + 10, &out));
    assert_false(srv_client_cache_get(c, &ca_a, chain, 1, NOW + 3600, &out));
    srv_client_cache_free(c);
}

static void
test_srv_client_cache_holds_many_clients(void **state)
{
    struct srv_client_cache *c = srv_client_cache_new();
    char bytes[4000][16];
    gnutls_datum_t chain;
    struct pki_client in;
    struct pki_client out;
    int hits = 0;
    int i;

    (void)state;
    for (i = 0; i < 4000; i++) {
        snprintf(bytes[i], sizeof(bytes[i]), "client %d", i);
        chain.data = (unsigned char *)bytes[i];
        chain.size = (unsigned)strlen(bytes[i]);
        in = client("0c", NOW + 60);
        snprintf(in.cn, sizeof(in.cn), "client %d", i);
        srv_client_cache_put(c, &ca_a, &chain, 1, &in);
    }
    /* more clients than slots: whatever is still held is the right one */
    for (i = 0; i < 4000; i++) {
        chain.data = (unsigned char *)bytes[i];
        chain.size = (unsigned)strlen(bytes[i]);
        if (srv_client_cache_get(c, &ca_a, &chain, 1, NOW, &out)) {
            assert_string_equal(out.cn, bytes[i]);
            hits++;
        }
    }
    assert_true(hits > 0);
    assert_true(hits < 4000);
    srv_client_cache_free(c);
    srv_client_cache_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srv_client_cache_returns_what_was_verified),
        cmocka_unit_test(test_srv_client_cache_misses_any_other_chain_or_ca),
        cmocka_unit_test(test_srv_client_cache_forgets_an_expired_leaf),
        cmocka_unit_test(test_srv_client_cache_holds_many_clients),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
