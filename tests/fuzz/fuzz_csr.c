/*
 * Fuzz target for the CSR intake: any bytes through pki_csr_parse (PEM or
 * DER, then the key and name checks) and pki_csr_free. Besides the
 * sanitizers, it checks the contract of pki_csr.c: a request on WD_OK,
 * nothing published on failure.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdlib.h>

#include "../../server/base/log.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    struct pki_csr *csr = NULL;
    enum wd_err rc;

    if (!quiet) {
        log_set_level(LOG_ERR);
        quiet = true;
    }
    rc = pki_csr_parse(data, size, &csr);
    if ((rc == WD_OK) != (csr != NULL)) {
        abort(); /* WD_OK without a request, or a request with an error */
    }
    pki_csr_free(csr);
    return 0;
}
