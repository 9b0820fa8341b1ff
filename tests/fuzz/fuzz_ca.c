/*
 * The fuzz targets' CA: made once per process, as tests/unit/
 * test_api_route.c does, so each input costs a parse and not a keygen.
 * Logging is turned down to errors so the fuzzer's output stays readable.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../server/base/log.h"

static struct pki_ca_new fuzz_made;
static struct pki_ca *fuzz_ca;

/* See fuzz.h. The CA is reachable until exit, so no leak is reported. */
const struct pki_ca *
fuzz_ca_get(const struct pki_ca_new **made)
{
    static const char *const hosts[] = { "localhost" };
    struct pki_ca_new_opts opts = {
        .name = "Fuzz Test",
        .keygen = PKI_KEYGEN_ECDSA_P256,
        .hosts = hosts,
        .n_hosts = 1,
        .public_url = "http://pub.example:8080",
        .now = 0,
    };
    struct pki_ca_cfg cfg = { 0 };

    if (fuzz_ca == NULL) {
        log_set_level(LOG_ERR);
        opts.now = time(NULL);
        if (pki_ca_create(&opts, &fuzz_made) != WD_OK) {
            fprintf(stderr, "fuzz: pki_ca_create failed\n");
            abort();
        }
        cfg.root_pem = fuzz_made.root_pem;
        cfg.intermediate_pem = fuzz_made.intermediate_pem;
        cfg.intermediate_key_pem = fuzz_made.intermediate_key_pem;
        cfg.public_url = opts.public_url;
        if (pki_ca_load(&cfg, &fuzz_ca) != WD_OK) {
            fprintf(stderr, "fuzz: pki_ca_load failed\n");
            abort();
        }
    }
    if (made != NULL) {
        *made = &fuzz_made;
    }
    return fuzz_ca;
}
