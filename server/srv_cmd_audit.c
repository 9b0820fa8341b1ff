/*
 * `warden audit verify`: walk the audit log's hash chain in the store
 * (store_audit_verify) and say whether every event is as it was written.
 * Reads only, from one snapshot, so it may run beside a serving daemon.
 * Exit status: 0 intact, 1 broken or the store unreadable, 2 bad usage.
 */
#include "srv.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
usage_error(const char *problem)
{
    fprintf(stderr, "warden audit: %s (see warden help)\n", problem);
    return 2;
}

static int
verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = srv_default_dir();
    struct store *st = NULL;
    int64_t first_bad = 0;
    int64_t checked = 0;
    char path[4096];
    enum wd_err rc = WD_OK;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd') {
            dir = optarg;
        } else {
            return usage_error("unknown option");
        }
    }
    if (optind != argc) {
        return usage_error("verify takes no positional arguments");
    }
    /* a missing database is no CA, not an empty log to create */
    if (!srv_file_exists(dir, SRV_FILE_DB)) {
        rc = WD_E_NO_CA;
    }
    if (rc == WD_OK) {
        snprintf(path, sizeof(path), "%s/%s", dir, SRV_FILE_DB);
        rc = store_open(path, &st);
    }
    if (rc == WD_OK) {
        rc = store_audit_verify(st, &first_bad, &checked);
    }
    store_close(st);
    if (rc != WD_OK) {
        fprintf(stderr, "warden audit: %s\n", wd_err_str(rc));
        return 1;
    }
    if (first_bad != 0) {
        printf("audit log broken at event %lld\n", (long long)first_bad);
        return 1;
    }
    printf("audit log intact: %lld events\n", (long long)checked);
    return 0;
}

/* warden audit verify [--dir D]; returns the exit status. */
int
srv_cmd_audit(int argc, char **argv)
{
    if (argc < 2) {
        return usage_error("give a subcommand: verify");
    }
    if (strcmp(argv[1], "verify") == 0) {
        return verify(argc - 1, argv + 1);
    }
    return usage_error("unknown subcommand");
}
