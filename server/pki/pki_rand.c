/*
 * Randomness, MACs and wiping for the layers above pki: the ACME server's
 * ids, tokens and External Account Binding keys and MACs. They come from
 * GnuTLS like every other secret of Warden; only pki links it.
 */
#include "pki_priv.h"

#include <gnutls/crypto.h>

#include "../base/log.h"

/*
 * Fill buf with len random bytes: PKI_RANDOM_KEY for secrets (GnuTLS's key
 * generator), PKI_RANDOM_NONCE for values that are public but must not be
 * guessed (ids, tokens). WD_E_INTERNAL (logged) if the generator fails.
 */
enum wd_err
pki_random(void *buf, size_t len, enum pki_random_kind kind)
{
    int ret = gnutls_rnd(
        kind == PKI_RANDOM_KEY ? GNUTLS_RND_KEY : GNUTLS_RND_NONCE, buf, len);

    if (ret < 0) {
        log_err("event=random_failed err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    return WD_OK;
}

/*
 * Does mac (mac_len bytes) equal HMAC-SHA256(key, data) (RFC 2104)? The
 * comparison takes the same time wherever the first difference is.
 * WD_OK, WD_E_JWS_SIGNATURE, or WD_E_INTERNAL (logged).
 */
enum wd_err
pki_hmac_sha256_verify(const uint8_t *key, size_t key_len, const void *data,
                       size_t len, const uint8_t *mac, size_t mac_len)
{
    uint8_t want[PKI_HMAC_SHA256_LEN];
    uint8_t diff = 0;
    size_t i;
    int ret;

    ret = gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_len, data, len, want);
    if (ret < 0) {
        log_err("event=hmac_failed err=\"%s\"", gnutls_strerror(ret));
        return WD_E_INTERNAL;
    }
    if (mac_len != sizeof(want)) {
        gnutls_memset(want, 0, sizeof(want));
        return WD_E_JWS_SIGNATURE;
    }
    for (i = 0; i < sizeof(want); i++) {
        diff |= (uint8_t)(want[i] ^ mac[i]);
    }
    gnutls_memset(want, 0, sizeof(want));
    return diff == 0 ? WD_OK : WD_E_JWS_SIGNATURE;
}

/* Overwrite n bytes at p with zeros, in a way the compiler keeps. */
void
pki_wipe(void *p, size_t n)
{
    gnutls_memset(p, 0, n);
}
