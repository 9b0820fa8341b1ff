/*
 * Fuzz target for the OCSP request intake: the bytes as a DER OCSPRequest
 * (the POST form) through pki_ocsp_req_parse against a CA made once, and
 * the same bytes as the base64 text of the GET form through
 * pki_base64_decode, whose output is parsed as a request in turn.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../server/base/xmalloc.h"

/* Parse der as a request and check what the responder relies on. */
static void
parse_request(const struct pki_ca *ca, const uint8_t *der, size_t len)
{
    struct pki_ocsp_req req;

    memset(&req, 0, sizeof(req));
    if (pki_ocsp_req_parse(ca, der, len, &req) != WD_OK) {
        return;
    }
    if (req.cert_id_len > sizeof(req.cert_id) ||
        req.nonce_len > sizeof(req.nonce) ||
        memchr(req.serial, '\0', sizeof(req.serial)) == NULL) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct pki_ca *ca = fuzz_ca_get(NULL);
    char *text;
    uint8_t *der = NULL;
    size_t der_len = 0;

    parse_request(ca, data, size);

    /* an exact-size copy without a NUL, so an over-read is caught */
    text = xmalloc(size > 0 ? size : 1);
    if (size > 0) {
        memcpy(text, data, size);
    }
    if (pki_base64_decode(text, size, &der, &der_len) == WD_OK) {
        parse_request(ca, der, der_len);
    }
    free(der);
    free(text);
    return 0;
}
