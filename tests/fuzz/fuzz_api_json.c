/*
 * Fuzz target for the JSON request bodies of issuance and revocation,
 * through the real route table: the input is POSTed as application/json
 * by a fixed admin to /api/v1/certificates and to
 * /api/v1/certificates/<serial>/revoke, against a store on :memory: and
 * a CA made once. Hostile input must get a 4xx: any 5xx is a finding.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

#include "../../api/api.h"

/* A well-formed serial that is never issued: revocation answers 404
 * after parsing the body, so every input sees the same store. */
#define FUZZ_REVOKE_PATH "/api/v1/certificates/00ff00ff00ff00ff/revoke"

struct fuzz_api {
    struct store *st;
    struct api api;
    struct api_identity admin;
    time_t now; /* seconds, UTC: the CA's creation time */
};

static struct fuzz_api *
fuzz_api_get(void)
{
    static struct fuzz_api *f;
    const struct pki_ca_new *made = NULL;

    if (f != NULL) {
        return f;
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        abort();
    }
    f->api.ca = fuzz_ca_get(&made);
    f->now = time(NULL);
    if (store_open(":memory:", &f->st) != WD_OK ||
        api_cert_record(f->st, made->admin, "init", f->now) != WD_OK) {
        fprintf(stderr, "fuzz: the in-memory store failed\n");
        abort();
    }
    f->api.store = f->st;
    f->api.cfg.default_validity_s = 90 * 86400;
    f->api.cfg.max_validity_s = 397 * 86400;
    f->api.cfg.expiring_window_s = 30 * 86400;
    f->admin.role = API_ROLE_ADMIN;
    snprintf(f->admin.name, sizeof(f->admin.name), "admin");
    snprintf(f->admin.cert.serial, sizeof(f->admin.cert.serial), "%s",
             made->admin->serial);
    return f;
}

/* POST the body to path as the admin; abort on a 5xx. */
static void
post(struct fuzz_api *f, const char *path, const uint8_t *body, size_t len)
{
    struct api_req req = {
        .method = "POST",
        .path = path,
        .content_type = "application/json",
        .body = body,
        .body_len = len,
        .who = &f->admin,
        .now = f->now,
    };
    struct api_resp resp = { 0 };

    api_handle(&f->api, &req, &resp);
    if (resp.status >= 500) {
        fprintf(stderr, "fuzz: POST %s answered %d (%s)\n", path, resp.status,
                resp.error_code != NULL ? resp.error_code : "-");
        abort();
    }
    api_resp_clear(&resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_api *f = fuzz_api_get();

    post(f, "/api/v1/certificates", data, size);
    post(f, FUZZ_REVOKE_PATH, data, size);
    return 0;
}
