/*
 * GnuTLS hands out buffers it allocated (gnutls_datum_t) while the rest of
 * Warden frees with free(). This file moves one into the other and wipes
 * the GnuTLS copy, so that a key's PEM leaves no trace in freed memory.
 */
#include "pki_priv.h"

#include <string.h>

#include "../base/xmalloc.h"

/*
 * Moves d into a NUL-terminated string the caller frees with free(). The
 * GnuTLS buffer is wiped and released, and d is left empty. Never fails.
 */
char *
pki_datum_take_str(gnutls_datum_t *d)
{
    char *s = xmalloc((size_t)d->size + 1);

    if (d->size > 0) {
        memcpy(s, d->data, d->size);
    }
    s[d->size] = '\0';
    if (d->data != NULL) {
        gnutls_memset(d->data, 0, d->size);
        gnutls_free(d->data);
    }
    d->data = NULL;
    d->size = 0;
    return s;
}
