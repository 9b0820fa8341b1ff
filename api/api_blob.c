/*
 * Reference-counted immutable byte blobs: a CRL or a cached OCSP response
 * is built once and sent to many clients without a copy per request. The
 * HTTP layer holds a reference until the bytes are on the wire.
 */
#include "api_priv.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../server/base/xmalloc.h"

struct api_blob {
    atomic_int refs;
    size_t len;
    uint8_t data[];
};

/* A new blob holding a copy of len bytes; one reference, the caller's. */
struct api_blob *
api_blob_new(const void *data, size_t len)
{
    struct api_blob *b = xmalloc(sizeof(*b) + len + 1);

    atomic_init(&b->refs, 1);
    b->len = len;
    memcpy(b->data, data, len);
    b->data[len] = '\0'; /* PEM blobs can be used as strings */
    return b;
}

/* Another reference to b (NULL stays NULL). */
struct api_blob *
api_blob_ref(struct api_blob *b)
{
    if (b != NULL) {
        atomic_fetch_add(&b->refs, 1);
    }
    return b;
}

/* Drop one reference; the last one frees. Accepts NULL. */
void
api_blob_unref(struct api_blob *b)
{
    if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1) {
        free(b);
    }
}

const uint8_t *
api_blob_data(const struct api_blob *b)
{
    return b->data;
}

size_t
api_blob_len(const struct api_blob *b)
{
    return b->len;
}

static void
release_blob(void *cls)
{
    api_blob_unref(cls);
}

/* Send b as resp's body without copying it; resp holds a reference. */
void
api_blob_send(struct api_resp *resp, int status, const char *content_type,
              struct api_blob *b)
{
    api_resp_drop_body(resp);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = (uint8_t *)b->data; /* borrowed: release drops the ref */
    resp->body_len = b->len;
    resp->release = release_blob;
    resp->release_cls = api_blob_ref(b);
}
