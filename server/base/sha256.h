/*
 * SHA-256 (FIPS 180-4) for the modules that may not link GnuTLS: the store
 * chains its audit events with it. Incremental (_init, _update, _final) or
 * one call (wd_sha256); no allocation, no global state.
 */
#ifndef WD_SHA256_H
#define WD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define WD_SHA256_LEN 32                      /* bytes of a digest */
#define WD_SHA256_HEX_LEN (2 * WD_SHA256_LEN) /* as hex (wd_hex_encode) */

/* A hash in progress; fields are private to sha256.c. */
struct wd_sha256 {
    uint32_t h[8];     /* the intermediate hash value */
    uint64_t bits;     /* message length so far, in bits */
    uint8_t block[64]; /* the partial block */
    size_t used;       /* bytes of block filled, 0..63 */
};

void wd_sha256_init(struct wd_sha256 *ctx);
void wd_sha256_update(struct wd_sha256 *ctx, const void *data, size_t len);
void wd_sha256_final(struct wd_sha256 *ctx, uint8_t out[WD_SHA256_LEN]);

/* The digest of data[0..len) in one call. */
void wd_sha256(const void *data, size_t len, uint8_t out[WD_SHA256_LEN]);

#endif
