/*
 * `warden list`: the inventory from the host, for people, cron jobs and
 * scripts. It reads the store directly (beside a running daemon too),
 * page by page through store_cert_list, and prints a table or, with
 * --json, one JSON array of the objects the API's listing returns, each
 * with days_left added. `--expiring 30d` lists the valid certificates
 * that expire within 30 days, soonest first, and exits 3 when there is
 * at least one, so that a cron job alerts on the exit status alone; the
 * table prints nothing at all when nothing matches, so cron mails only
 * when there is something to say.
 * Exit status: 0 listed, 3 --expiring found certificates, 1 failure
 * (one sentence on stderr), 2 bad usage.
 */
#include "srv.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/parse.h"
#include "base/xmalloc.h"

/* The exit status of --expiring when it lists anything. */
#define LIST_EXIT_EXPIRING 3

/* The longest --expiring we take: ten years, as the API's
 * expiring_within. */
#define LIST_MAX_WINDOW_S (10ULL * 366 * 86400)

#define DAY_S 86400

/* Room for "2026-11-29T15:40:26Z". */
#define TIME_TEXT 32

/* Bounds of the table's CN column (characters). */
#define CN_MIN_WIDTH 2
#define CN_MAX_WIDTH 64

struct list_opts {
    const char *dir;
    bool json;
    bool expiring;    /* --expiring given */
    int64_t window_s; /* the "expiring" status's window */
    enum store_status status;
    uint64_t limit; /* 0 = all */
};

static int
usage_error(const char *problem)
{
    fprintf(stderr, "warden list: %s (see warden help)\n", problem);
    return 2;
}

static bool
status_parse(const char *s, enum store_status *out)
{
    static const struct {
        const char *name;
        enum store_status status;
    } names[] = {
        { "valid", STORE_STATUS_VALID },
        { "expiring", STORE_STATUS_EXPIRING },
        { "expired", STORE_STATUS_EXPIRED },
        { "revoked", STORE_STATUS_REVOKED },
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].status;
            return true;
        }
    }
    return false;
}

/* Whole days until not_after, rounded down (negative once expired). */
static int64_t
days_left(int64_t not_after, int64_t now)
{
    int64_t d = not_after - now;

    return d >= 0 ? d / DAY_S : -((-d + DAY_S - 1) / DAY_S);
}

static void
time_text(int64_t t, char out[TIME_TEXT])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, TIME_TEXT, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Text from a certificate for a terminal: a CN is the requester's
 * choice, so control bytes (escape sequences) become '?'. */
static char *
term_text(const char *s)
{
    char *copy = xstrdup(s != NULL && s[0] != '\0' ? s : "-");
    size_t i;

    for (i = 0; copy[i] != '\0'; i++) {
        if ((unsigned char)copy[i] < 0x20 || (unsigned char)copy[i] == 0x7f) {
            copy[i] = '?';
        }
    }
    return copy;
}

/* One row as the API's listing has it, plus days_left. */
static json_t *
json_cert(const struct store_cert *c, int64_t now, int64_t window_s)
{
    json_t *o = api_json_cert(c, now, window_s);

    json_object_set_new(o, "days_left",
                        json_integer(days_left(c->not_after, now)));
    return o;
}

/* Characters (UTF-8 lead bytes) of s, as a terminal lays them out. */
static int
text_width(const char *s)
{
    int n = 0;

    for (; *s != '\0'; s++) {
        n += ((unsigned char)*s & 0xc0) != 0x80;
    }
    return n;
}

/* The CN column's width: the widest CN of the first page, within bounds;
 * a longer CN on a later page widens its own row only. */
static int
cn_width(const struct store_cert_list *page)
{
    int w = CN_MIN_WIDTH;
    size_t i;

    for (i = 0; i < page->n; i++) {
        char *cn = term_text(page->items[i].cn);
        int n = text_width(cn);

        w = n > w ? n : w;
        free(cn);
    }
    return w < CN_MAX_WIDTH ? w : CN_MAX_WIDTH;
}

/* Print row number n (from 0) of the listing. */
static void
print_row(const struct list_opts *o, const struct store_cert *c, int64_t now,
          uint64_t n, int width)
{
    char not_after[TIME_TEXT];
    char *cn;
    char *requester;
    char *text;

    if (o->json) {
        json_t *j = json_cert(c, now, o->window_s);

        text = json_dumps(j, JSON_COMPACT);
        printf("%s%s", n == 0 ? "[\n" : ",\n", text != NULL ? text : "{}");
        free(text);
        json_decref(j);
        return;
    }
    if (n == 0) {
        printf("%-32s  %-*s  %-20s  %5s  %-8s  %s\n", "SERIAL", width, "CN",
               "NOT_AFTER", "DAYS", "STATUS", "REQUESTER");
    }
    cn = term_text(c->cn);
    requester = term_text(c->requester);
    time_text(c->not_after, not_after);
    /* pad by characters, not bytes, so a non-ASCII CN lines up */
    printf("%-32s  %s%*s  %-20s  %5" PRId64 "  %-8s  %s\n", c->serial, cn,
           width > text_width(cn) ? width - text_width(cn) : 0, "", not_after,
           days_left(c->not_after, now), api_cert_status(c, now, o->window_s),
           requester);
    free(cn);
    free(requester);
}

/*
 * Page through the inventory as o asks, printing each row; *listed is
 * the number printed. Keyset pages neither skip nor repeat a row.
 */
static enum wd_err
list_all(struct store *st, const struct list_opts *o, uint64_t *listed)
{
    struct store_query q = { 0 };
    struct store_cert_list page = { 0 };
    uint64_t n = 0;
    int width = 0;
    enum wd_err rc;
    size_t i;

    q.status = o->status;
    q.now = (int64_t)time(NULL);
    if (o->status == STORE_STATUS_EXPIRING) {
        q.expiring_within = o->window_s;
        q.sort = STORE_SORT_EXPIRES; /* soonest first */
    } else {
        q.sort = STORE_SORT_ISSUED; /* newest first, as the API */
    }
    do {
        q.limit = WD_LIST_LIMIT_MAX;
        if (o->limit != 0 && o->limit - n < q.limit) {
            q.limit = (unsigned)(o->limit - n);
        }
        rc = store_cert_list(st, &q, &page);
        if (rc != WD_OK) {
            break;
        }
        if (n == 0) {
            width = cn_width(&page);
        }
        for (i = 0; i < page.n; i++, n++) {
            print_row(o, &page.items[i], q.now, n, width);
        }
        q.cursor = page.next_cursor;
        q.cursor_not_after = page.next_cursor_not_after;
        store_cert_list_free(&page);
    } while (q.cursor != 0 && (o->limit == 0 || n < o->limit));
    /* a listing cut short by an error is left unclosed: no script
     * mistakes it for the whole inventory */
    if (o->json && rc == WD_OK) {
        printf("%s", n == 0 ? "[]\n" : "\n]\n");
    }
    *listed = n;
    return rc;
}

/* Options into *o; 0 when they parse, else the usage exit status. */
static int
opts_parse(int argc, char **argv, struct list_opts *o)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "expiring", required_argument, NULL, 'e' },
        { "status", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "limit", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    bool status_given = false;
    uint64_t v;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->dir = optarg;
            break;
        case 'e':
            if (!wd_parse_duration(optarg, LIST_MAX_WINDOW_S, &v) || v == 0) {
                return usage_error("--expiring takes a duration such as 30d "
                                   "or 72h (at most ten years)");
            }
            o->expiring = true;
            o->window_s = (int64_t)v;
            break;
        case 's':
            if (!status_parse(optarg, &o->status)) {
                return usage_error("--status is valid, expiring, expired or "
                                   "revoked");
            }
            status_given = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 'n':
            if (!wd_parse_u64(optarg, 1, UINT32_MAX, &o->limit)) {
                return usage_error("--limit takes a number from 1");
            }
            break;
        default:
            return usage_error("unknown option");
        }
    }
    if (optind != argc) {
        return usage_error("list takes no positional arguments");
    }
    if (o->expiring && status_given && o->status != STORE_STATUS_EXPIRING) {
        return usage_error("--expiring lists valid certificates; it does not "
                           "combine with another --status");
    }
    if (o->expiring) {
        o->status = STORE_STATUS_EXPIRING;
    }
    return 0;
}

/*
 * warden list [--dir D] [--expiring DUR] [--status S] [--json]
 * [--limit N]; returns the exit status.
 */
int
srv_cmd_list(int argc, char **argv)
{
    struct list_opts o = { .dir = srv_default_dir(),
                           .status = STORE_STATUS_ANY };
    struct srv_config cfg = { 0 };
    struct store *st = NULL;
    uint64_t listed = 0;
    char path[4096];
    enum wd_err rc = WD_OK;
    int status;

    status = opts_parse(argc, argv, &o);
    if (status != 0) {
        return status;
    }
    /* a missing database is no CA, not an empty inventory to create */
    if (!srv_file_exists(o.dir, SRV_FILE_DB)) {
        rc = WD_E_NO_CA;
    }
    /* without --expiring, "expiring" means the configured window */
    if (rc == WD_OK && !o.expiring) {
        rc = srv_config_load(o.dir, &cfg);
        o.window_s = cfg.expiring_window_s;
    }
    if (rc == WD_OK) {
        snprintf(path, sizeof(path), "%s/%s", o.dir, SRV_FILE_DB);
        rc = store_open(path, &st);
    }
    if (rc == WD_OK) {
        rc = list_all(st, &o, &listed);
    }
    store_close(st);
    srv_config_clear(&cfg);
    if (rc != WD_OK) {
        fprintf(stderr, "warden list: %s\n", wd_err_str(rc));
        return 1;
    }
    return o.expiring && listed > 0 ? LIST_EXIT_EXPIRING : 0;
}
