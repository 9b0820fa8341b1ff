/*
 * What the fuzz targets in tests/fuzz share: the libFuzzer entry point
 * (called by libFuzzer in the WARDEN_FUZZ build, by replay_main.c in every
 * other build) and a throwaway CA made once per process (fuzz_ca.c).
 */
#ifndef WD_FUZZ_H
#define WD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "../../server/pki/pki.h"

/* Run one input; returns 0. A finding aborts or trips a sanitizer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An ECDSA P-256 root, intermediate and admin identity (pki_ca_create),
 * made on the first call and kept for the life of the process, as *made;
 * the loaded intermediate (pki_ca_load) is returned. Aborts on failure.
 */
const struct pki_ca *fuzz_ca_get(const struct pki_ca_new **made);

#endif
