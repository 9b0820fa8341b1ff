/*
 * The command line: warden init | serve | version. Each subcommand parses
 * its own flags with getopt_long and hands a plain options struct to
 * srv_init_run or srv_serve_run. Exit status: 0 success, 1 failure (one
 * sentence on stderr), 2 bad usage.
 */
#include "srv.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/parse.h"
#include "base/xmalloc.h"

#define MAX_HOSTS 32

static const char usage_text[] =
    "usage: warden <command> [options]\n"
    "\n"
    "  init    [--dir D] [--name NAME] [--key-type T] [--hosts H,...]\n"
    "          [--listen ADDR:PORT] [--public-listen ADDR:PORT]\n"
    "          [--public-url URL]\n"
    "          create a CA in D (refuses to overwrite one)\n"
    "  serve   [--dir D] [--listen ADDR:PORT] [--public-listen ADDR:PORT]\n"
    "          [--acme-listen ADDR:PORT] [--acme-allow NAME|CIDR,...]\n"
    "          [--acme-http01-port N] [--acme-tlsalpn01-port N]\n"
    "          [--acme-dns-resolver ADDR:PORT]\n"
    "          run the daemon; initialises an empty D first\n"
    "  revoke  [--dir D] [--reason R] SERIAL\n"
    "          revoke a certificate (RFC 5280 reason names)\n"
    "  crl     [--dir D] [--out FILE]\n"
    "          sign a CRL of the intermediate from the store now\n"
    "  root-crl [--dir D] --root-key FILE [--revoke SERIAL[:REASON]]...\n"
    "          re-sign the root's CRL with the offline root key\n"
    "  key-import [--dir D] --pkcs11-url URL [--pkcs11-module PATH]\n"
    "          move the intermediate key into a PKCS#11 token\n"
    "  audit verify [--dir D]\n"
    "          check the audit log's hash chain; exit 1 if it is broken\n"
    "  list    [--dir D] [--expiring DUR] [--status S] [--json] [--limit N]\n"
    "          the inventory; --expiring exits 3 if it lists any\n"
    "  backup  [--dir D] OUT\n"
    "          write a consistent copy of warden.db, also while serving\n"
    "  restore [--dir D] [--force] IN\n"
    "          check a backup and put it in place (the daemon stopped)\n"
    "  version print the version\n"
    "\n"
    "D defaults to $WARDEN_DIR, else ./warden-data. Key types: ecdsa-p256\n"
    "(default), ecdsa-p384, rsa-2048, rsa-3072, rsa-4096, ed25519.\n";

static int
usage(const char *problem)
{
    if (problem != NULL) {
        fprintf(stderr, "warden: %s\n\n", problem);
    }
    fputs(usage_text, stderr);
    return 2;
}

static int
fail(enum wd_err err)
{
    fprintf(stderr, "warden: %s (see the log lines above)\n", wd_err_str(err));
    return 1;
}

/* The data dir when no --dir is given: $WARDEN_DIR, else ./warden-data. */
const char *
srv_default_dir(void)
{
    const char *env = getenv("WARDEN_DIR");

    return env != NULL && env[0] != '\0' ? env : SRV_DEFAULT_DIR;
}

/* Split "a,b,c" in place into hosts; false if empty or too many. */
static bool
split_hosts(char *list, const char **hosts, size_t *n)
{
    char *save = NULL;
    char *tok;

    *n = 0;
    for (tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n >= MAX_HOSTS) {
            return false;
        }
        hosts[(*n)++] = tok;
    }
    return *n > 0;
}

static int
cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "name", required_argument, NULL, 'n' },
        { "key-type", required_argument, NULL, 'k' },
        { "hosts", required_argument, NULL, 'H' },
        { "listen", required_argument, NULL, 'l' },
        { "public-listen", required_argument, NULL, 'p' },
        { "public-url", required_argument, NULL, 'u' },
        { NULL, 0, NULL, 0 },
    };
    const char *hosts[MAX_HOSTS] = { "localhost", "127.0.0.1", "::1" };
    char *host_list = NULL;
    struct srv_init_opts opts = {
        .dir = srv_default_dir(),
        .keygen = PKI_KEYGEN_ECDSA_P256,
        .hosts = hosts,
        .n_hosts = 3,
    };
    enum wd_err rc;
    int c;
    int status;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            opts.dir = optarg;
            break;
        case 'n':
            opts.name = optarg;
            break;
        case 'k':
            if (!pki_keygen_parse(optarg, &opts.keygen)) {
                free(host_list);
                return usage("unknown --key-type");
            }
            break;
        case 'H':
            free(host_list);
            host_list = xstrdup(optarg);
            if (!split_hosts(host_list, hosts, &opts.n_hosts)) {
                free(host_list);
                return usage("--hosts takes 1 to 32 comma-separated names");
            }
            break;
        case 'l':
            opts.api_listen = optarg;
            break;
        case 'p':
            opts.public_listen = optarg;
            break;
        case 'u':
            opts.public_url = optarg;
            break;
        default:
            free(host_list);
            return usage(NULL);
        }
    }
    if (optind != argc) {
        free(host_list);
        return usage("init takes no positional arguments");
    }
    rc = srv_init_run(&opts);
    status = rc == WD_OK ? 0 : fail(rc);
    free(host_list);
    return status;
}

static int
cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' },
        { "public-listen", required_argument, NULL, 'p' },
        { "acme-listen", required_argument, NULL, 'a' },
        { "acme-allow", required_argument, NULL, 'A' },
        { "acme-http01-port", required_argument, NULL, 'h' },
        { "acme-tlsalpn01-port", required_argument, NULL, 't' },
        { "acme-dns-resolver", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    struct srv_serve_opts opts = { .dir = srv_default_dir() };
    enum wd_err rc;
    uint64_t port;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            opts.dir = optarg;
            break;
        case 'l':
            opts.api_listen = optarg;
            break;
        case 'p':
            opts.public_listen = optarg;
            break;
        case 'a':
            opts.acme_listen = optarg;
            break;
        case 'A':
            opts.acme_allow = optarg;
            break;
        case 'h':
        case 't':
            if (!wd_parse_u64(optarg, 1, 65535, &port)) {
                return usage("an --acme-...-port is a port number, 1-65535");
            }
            if (c == 'h') {
                opts.acme_http01_port = (unsigned)port;
            } else {
                opts.acme_tlsalpn01_port = (unsigned)port;
            }
            break;
        case 'r':
            opts.acme_dns_resolver = optarg;
            break;
        default:
            return usage(NULL);
        }
    }
    if (optind != argc) {
        return usage("serve takes no positional arguments");
    }
    rc = srv_serve_run(&opts);
    return rc == WD_OK ? 0 : fail(rc);
}

/* Dispatch argv[1] to its subcommand; returns the process exit status. */
int
srv_cli_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv); /* argv[0] is the command */
    } commands[] = {
        { "init", cmd_init },
        { "serve", cmd_serve },
        { "revoke", srv_cmd_revoke },
        { "crl", srv_cmd_crl },
        { "root-crl", srv_cmd_root_crl },
        { "key-import", srv_cmd_key_import },
        { "audit", srv_cmd_audit },
        { "list", srv_cmd_list },
        { "backup", srv_cmd_backup },
        { "restore", srv_cmd_restore },
    };
    size_t i;

    if (argc < 2) {
        return usage(NULL);
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("warden %s\n", WARDEN_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    return usage("unknown command");
}
