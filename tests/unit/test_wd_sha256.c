/*
 * server/base/sha256.c: the FIPS 180-4 digest the store chains its audit
 * log with. The NIST example vectors ("abc", the 448-bit message, a
 * million 'a's), the empty message, every split of a message across
 * _update calls, and pseudo-random inputs of lengths around the block and
 * padding boundaries compared with what coreutils' sha256sum prints.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../server/base/parse.h"
#include "../../server/base/sha256.h"

/* The digest of data[0..len) as hex into hex. */
static void
digest_hex(const void *data, size_t len, char hex[WD_SHA256_HEX_LEN + 1])
{
    uint8_t d[WD_SHA256_LEN];

    wd_sha256(data, len, d);
    wd_hex_encode(d, sizeof(d), hex);
}

static void
test_wd_sha256_matches_the_nist_abc_vector(void **state)
{
    char hex[WD_SHA256_HEX_LEN + 1];

    (void)state;
    digest_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
}

static void
test_wd_sha256_matches_the_nist_448_bit_vector(void **state)
{
    static const char msg[] =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char hex[WD_SHA256_HEX_LEN + 1];

    (void)state;
    assert_int_equal(strlen(msg) * 8, 448);
    digest_hex(msg, strlen(msg), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
                             "a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_wd_sha256_matches_the_nist_million_a_vector(void **state)
{
    struct wd_sha256 ctx;
    uint8_t chunk[1000];
    uint8_t d[WD_SHA256_LEN];
    char hex[WD_SHA256_HEX_LEN + 1];
    int i;

    (void)state;
    memset(chunk, 'a', sizeof(chunk));
    wd_sha256_init(&ctx);
    for (i = 0; i < 1000; i++) {
        wd_sha256_update(&ctx, chunk, sizeof(chunk));
    }
    wd_sha256_final(&ctx, d);
    wd_hex_encode(d, sizeof(d), hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
                             "f1809a48a497200e046d39ccc7112cd0");
}

static void
test_wd_sha256_of_nothing_is_the_empty_string_digest(void **state)
{
    char hex[WD_SHA256_HEX_LEN + 1];

    (void)state;
    digest_hex(NULL, 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
}

static void
test_wd_sha256_gives_one_digest_however_the_input_is_split(void **state)
{
    uint8_t msg[200];
    uint8_t whole[WD_SHA256_LEN];
    uint8_t split[WD_SHA256_LEN];
    struct wd_sha256 ctx;
    size_t i;
    size_t cut;

    (void)state;
    for (i = 0; i < sizeof(msg); i++) {
        msg[i] = (uint8_t)(i * 7 + 3);
    }
    wd_sha256(msg, sizeof(msg), whole);
    for (cut = 0; cut <= sizeof(msg); cut++) {
        wd_sha256_init(&ctx);
        wd_sha256_update(&ctx, msg, cut);
        wd_sha256_update(&ctx, msg + cut, sizeof(msg) - cut);
        wd_sha256_final(&ctx, split);
        assert_memory_equal(whole, split, sizeof(whole));
    }
}

/* xorshift64: reproducible bytes, the same on every run and host. */
static uint64_t
next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* What `sha256sum path` prints as the digest, into hex; false if the
 * command is missing or says something else. */
static bool
sha256sum_of(const char *path, char hex[WD_SHA256_HEX_LEN + 1])
{
    char cmd[512];
    char line[256];
    FILE *p;
    bool ok;

    snprintf(cmd, sizeof(cmd), "sha256sum '%s' 2>/dev/null", path);
    p = popen(cmd, "r");
    if (p == NULL) {
        return false;
    }
    ok = fgets(line, sizeof(line), p) != NULL &&
         strlen(line) > WD_SHA256_HEX_LEN && line[WD_SHA256_HEX_LEN] == ' ';
    if (pclose(p) != 0) {
        ok = false;
    }
    if (ok) {
        memcpy(hex, line, WD_SHA256_HEX_LEN);
        hex[WD_SHA256_HEX_LEN] = '\0';
    }
    return ok;
}

static void
test_wd_sha256_agrees_with_sha256sum_on_random_inputs(void **state)
{
    /* each side of the block (64) and of the padding limit (55, 56),
     * several blocks, and a few longer messages */
    static const size_t lengths[] = { 1,   2,   31,  32,   54,   55,   56,
                                      57,  63,  64,  65,   119,  120,  127,
                                      128, 129, 200, 1000, 4096, 4097, 65537 };
    const char *tmp = getenv("TMPDIR");
    char path[300];
    char ours[WD_SHA256_HEX_LEN + 1];
    char theirs[WD_SHA256_HEX_LEN + 1];
    uint64_t seed = 0x9e3779b97f4a7c15u;
    uint8_t *buf;
    size_t i;
    size_t j;
    FILE *f;
    int fd;

    (void)state;
    snprintf(path, sizeof(path), "%s/warden-sha256-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    buf = malloc(65537);
    assert_non_null(buf);
    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        for (j = 0; j < lengths[i]; j++) {
            buf[j] = (uint8_t)(next_random(&seed) >> 56);
        }
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, lengths[i], f), lengths[i]);
        assert_int_equal(fclose(f), 0);
        if (!sha256sum_of(path, theirs)) {
            unlink(path);
            free(buf);
            skip(); /* no coreutils here: the NIST vectors still ran */
        }
        digest_hex(buf, lengths[i], ours);
        if (strcmp(ours, theirs) != 0) {
            print_error("length %zu: ours %s, sha256sum %s\n", lengths[i], ours,
                        theirs);
        }
        assert_string_equal(ours, theirs);
    }
    unlink(path);
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wd_sha256_matches_the_nist_abc_vector),
        cmocka_unit_test(test_wd_sha256_matches_the_nist_448_bit_vector),
        cmocka_unit_test(test_wd_sha256_matches_the_nist_million_a_vector),
        cmocka_unit_test(test_wd_sha256_of_nothing_is_the_empty_string_digest),
        cmocka_unit_test(
            test_wd_sha256_gives_one_digest_however_the_input_is_split),
        cmocka_unit_test(test_wd_sha256_agrees_with_sha256sum_on_random_inputs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
