/*
 * Client chains already verified, shared by every connection of the API
 * listener. A keep-alive connection remembers its own client
 * (srv_http.c), but a client that reconnects, with a resumed TLS session
 * or a full handshake, would pay for the chain's signature checks again
 * on every connection: GnuTLS's own resumption skips them, and a minimal
 * GnuTLS server resumed sessions at twice Warden's rate for it (issue #7).
 *
 * An entry is keyed by the SHA-256 of every certificate the client sent,
 * in order: the same bytes verify the same way against the same CA, so
 * only time can change the answer, and an entry is used only while its
 * leaf is valid. Revocation is not cached here: the store is asked on
 * every request. A fixed table, one entry per slot, the newest wins.
 */
#include "srv.h"

#include <pthread.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "base/log.h"
#include "base/xmalloc.h"

/* Distinct clients remembered; a slot is a few hundred bytes. */
#define SLOTS 1024

struct slot {
    bool used;
    uint8_t key[32];
    const void *ca; /* the CA that verified it */
    struct pki_client client;
};

struct srv_client_cache {
    pthread_mutex_t lock;
    struct slot slots[SLOTS];
};

struct srv_client_cache *
srv_client_cache_new(void)
{
    struct srv_client_cache *c = xcalloc(1, sizeof(*c));

    pthread_mutex_init(&c->lock, NULL);
    return c;
}

/* Frees c; accepts NULL. */
void
srv_client_cache_free(struct srv_client_cache *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The key of a peer list: SHA-256 over each certificate's length and
 * bytes, so that two lists never run together into the same input. */
static bool
key_of(const gnutls_datum_t *peers, unsigned n, uint8_t key[32])
{
    gnutls_hash_hd_t h;
    uint8_t len[4];
    unsigned i;

    if (n == 0 || gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
        return false;
    }
    for (i = 0; i < n; i++) {
        len[0] = (uint8_t)(peers[i].size >> 24);
        len[1] = (uint8_t)(peers[i].size >> 16);
        len[2] = (uint8_t)(peers[i].size >> 8);
        len[3] = (uint8_t)peers[i].size;
        if (gnutls_hash(h, len, sizeof(len)) < 0 ||
            gnutls_hash(h, peers[i].data, peers[i].size) < 0) {
            gnutls_hash_deinit(h, NULL);
            return false;
        }
    }
    gnutls_hash_deinit(h, key);
    return true;
}

static struct slot *
slot_of(struct srv_client_cache *c, const uint8_t key[32])
{
    return &c->slots[((size_t)key[0] << 8 | key[1]) % SLOTS];
}

/*
 * True, with *out, if ca verified exactly this peer list before and its
 * leaf is still valid at now.
 */
bool
srv_client_cache_get(struct srv_client_cache *c, const void *ca,
                     const gnutls_datum_t *peers, unsigned n, time_t now,
                     struct pki_client *out)
{
    uint8_t key[32];
    struct slot *s;
    bool hit = false;

    if (c == NULL || !key_of(peers, n, key)) {
        return false;
    }
    s = slot_of(c, key);
    pthread_mutex_lock(&c->lock);
    if (s->used && s->ca == ca && memcmp(s->key, key, sizeof(key)) == 0 &&
        now < s->client.not_after) {
        *out = s->client;
        hit = true;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

/* Remember that ca verified this peer list as client. */
void
srv_client_cache_put(struct srv_client_cache *c, const void *ca,
                     const gnutls_datum_t *peers, unsigned n,
                     const struct pki_client *client)
{
    uint8_t key[32];
    struct slot *s;

    if (c == NULL || !key_of(peers, n, key)) {
        return;
    }
    s = slot_of(c, key);
    pthread_mutex_lock(&c->lock);
    s->used = true;
    memcpy(s->key, key, sizeof(key));
    s->ca = ca;
    s->client = *client;
    pthread_mutex_unlock(&c->lock);
}
