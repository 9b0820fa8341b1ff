/*
 * SIGHUP: take up an edited warden.conf and a renewed server.crt without
 * a restart or a dropped connection. Each is read and checked whole
 * before anything changes; one that does not check out is refused (and
 * logged) and the running one stays. What a reload changes: the policy
 * (admins, readers, grants, profiles) and the issuance limits
 * (default_validity, max_validity, expiring_window, max_sans) for
 * requests that start after it, and the API listener's certificate for
 * connections accepted after it. Keys that shape what runs (listeners,
 * keys, CRL and OCSP settings, TLS priorities, acme) need a restart; a reload
 * that changes them says so and leaves them as they are.
 */
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* PEM files of the data dir are small; 1 MiB bounds a corrupt one. */
#define PEM_MAX_BYTES (1024 * 1024)

/* Append name to the comma-separated list in out when the key differs. */
static void
note(bool differs, const char *name, char *out, size_t outsz)
{
    size_t used = strlen(out);

    if (differs) {
        snprintf(out + used, outsz - used, "%s%s", used > 0 ? "," : "", name);
    }
}

/* Does any key of warden.conf's "acme" differ? */
static bool
acme_differs(const struct srv_acme_config *a, const struct srv_acme_config *b)
{
    size_t i;

    if (strcmp(a->listen, b->listen) != 0 ||
        strcmp(a->base_url, b->base_url) != 0 ||
        a->eab_required != b->eab_required ||
        a->orders_per_hour != b->orders_per_hour ||
        a->order_lifetime_s != b->order_lifetime_s ||
        a->cert_validity_s != b->cert_validity_s ||
        a->http01_port != b->http01_port ||
        a->tlsalpn01_port != b->tlsalpn01_port ||
        strcmp(a->dns_resolver, b->dns_resolver) != 0 ||
        a->validation_threads != b->validation_threads ||
        a->n_allow != b->n_allow) {
        return true;
    }
    for (i = 0; i < a->n_allow; i++) {
        if (strcmp(a->allow[i], b->allow[i]) != 0) {
            return true;
        }
    }
    return false;
}

/* The keys of fresh that differ from the running config's but only take
 * effect at start, as a comma-separated list ("" when none). */
static void
restart_keys(const struct srv_config *run, const struct srv_config *fresh,
             char *out, size_t outsz)
{
    out[0] = '\0';
    note(strcmp(run->api_listen, fresh->api_listen) != 0, "api_listen", out,
         outsz);
    note(strcmp(run->public_listen, fresh->public_listen) != 0, "public_listen",
         out, outsz);
    note(strcmp(run->public_url, fresh->public_url) != 0, "public_url", out,
         outsz);
    note(run->crl_validity_s != fresh->crl_validity_s, "crl_validity", out,
         outsz);
    note(run->crl_keep_expired != fresh->crl_keep_expired, "crl_keep_expired",
         out, outsz);
    note(run->ocsp_validity_s != fresh->ocsp_validity_s, "ocsp_validity", out,
         outsz);
    note(run->ocsp_delegated != fresh->ocsp_delegated, "ocsp_responder", out,
         outsz);
    note(run->ocsp_responder_validity_s != fresh->ocsp_responder_validity_s,
         "ocsp_responder_validity", out, outsz);
    note(run->root_crl_validity_s != fresh->root_crl_validity_s,
         "root_crl_validity", out, outsz);
    note(strcmp(run->tls_priorities, fresh->tls_priorities) != 0,
         "tls_priorities", out, outsz);
    note(strcmp(run->intermediate_key, fresh->intermediate_key) != 0 ||
             strcmp(run->pkcs11_module, fresh->pkcs11_module) != 0 ||
             strcmp(run->passphrase_file, fresh->passphrase_file) != 0 ||
             strcmp(run->passphrase_env, fresh->passphrase_env) != 0,
         "intermediate_key", out, outsz);
    note(acme_differs(&run->acme, &fresh->acme), "acme", out, outsz);
}

/* warden.conf: checked whole, then the policy and limits swapped in. */
static void
reload_config(const struct srv_serve_opts *opts, const struct srv_config *run,
              struct srv_live *live)
{
    struct srv_config fresh = { 0 };
    char keys[512];

    if (srv_config_load(opts->dir, &fresh) != WD_OK) {
        /* the cause is logged by srv_config_load */
        log_err("event=config_reload_refused file=%s "
                "reason=\"the running config stays\"",
                SRV_FILE_CONFIG);
        goto out;
    }
    /* the command line still wins over the file, as at start */
    srv_config_override(&fresh, opts->api_listen, opts->public_listen, NULL);
    if (srv_config_acme_override(&fresh, opts) != WD_OK) {
        /* logged; the running ACME is unaffected until a restart */
        log_warn("event=config_restart_would_fail key=acme");
    }
    restart_keys(run, &fresh, keys, sizeof(keys));
    if (keys[0] != '\0') {
        log_warn("event=config_restart_required keys=%s "
                 "reason=\"these keys take effect at the next start\"",
                 keys);
    }
    log_info("event=config_reloaded admins=%zu readers=%zu grants=%zu",
             fresh.policy.n_admins, fresh.policy.n_readers,
             fresh.policy.n_grants);
    srv_live_swap(live, &fresh);
out:
    srv_config_clear(&fresh);
}

/* server.crt and server.key: the API listener's next connections. */
static void
reload_tls(const char *dir, struct srv_http *http)
{
    char *chain = NULL;
    char *key = NULL;
    size_t len;

    if (srv_file_read(dir, SRV_FILE_SERVER_CERT, PEM_MAX_BYTES, &chain, &len) !=
            WD_OK ||
        srv_file_read_secret(dir, SRV_FILE_SERVER_KEY, PEM_MAX_BYTES, &key,
                             &len) != WD_OK ||
        srv_http_tls_reload(http, chain, key) != WD_OK) {
        log_err("event=tls_reload_refused files=%s,%s "
                "reason=\"the running certificate stays\"",
                SRV_FILE_SERVER_CERT, SRV_FILE_SERVER_KEY);
        goto out;
    }
    log_info("event=tls_reloaded file=%s", SRV_FILE_SERVER_CERT);
out:
    free(chain);
    srv_secret_free(key);
}

/*
 * Reload warden.conf into live and the TLS identity into http; run is
 * the config serve started with (for the keys a reload cannot change).
 * Each part that fails is logged and left as it was.
 */
void
srv_reload_run(const struct srv_serve_opts *opts, const struct srv_config *run,
               struct srv_live *live, struct srv_http *http)
{
    log_info("event=reloading signal=SIGHUP");
    reload_config(opts, run, live);
    reload_tls(opts->dir, http);
}
