/*
 * Fuzz target for the CSR intake: any bytes through pki_csr_parse (PEM or
 * DER, then the key and name checks) and pki_csr_free, and every request
 * it accepts through pki_cert_issue, which copies the request's subject
 * and key bytes into a leaf written by hand (pki_leaf.c). Besides the
 * sanitizers, it checks the contracts: a request on WD_OK, nothing
 * published on failure, and a certificate issued is one that reads back.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../server/base/log.h"

/* Issue for csr as the API would; abort on a broken contract. */
static void
issue(const struct pki_csr *csr)
{
    const struct pki_ca *ca = fuzz_ca_get(NULL);
    struct pki_issue req = {
        .csr = csr,
        .profile = PKI_PROFILE_SERVER_CLIENT,
        .serial = "0a0b0c0d",
        .validity_s = 86400,
        .now = time(NULL),
    };
    struct pki_cert *cert = NULL;
    struct pki_cert *back = NULL;
    enum wd_err rc = pki_cert_issue(ca, &req, &cert);

    if ((rc == WD_OK) != (cert != NULL)) {
        abort();
    }
    if (cert == NULL) {
        return;
    }
    /* what we hand out must read back, naming the same subject */
    if (pki_cert_parse(cert->der, cert->der_len, &back) != WD_OK ||
        strcmp(back->subject, cert->subject) != 0) {
        abort();
    }
    pki_cert_free(back);
    pki_cert_free(cert);
}

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
    if (csr != NULL) {
        issue(csr);
    }
    pki_csr_free(csr);
    return 0;
}
