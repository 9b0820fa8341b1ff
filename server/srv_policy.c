/*
 * The policy part of warden.conf: admins, readers, grants and per-profile
 * validity bounds, parsed strictly into a struct api_policy. Every error
 * names the JSON path of the offending entry ("grants[1].names[0]"), so
 * an operator finds it without guessing.
 */
#include "srv.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/parse.h"
#include "base/xmalloc.h"

/* Longest duration anyone may configure: 100 years, in seconds. */
#define POLICY_MAX_DURATION_S (100ULL * 366 * 86400)
/* Bounds that keep a typo from becoming a denial of service. */
#define POLICY_MAX_MEMBERS 256
#define POLICY_MAX_GRANTS 1024
#define POLICY_MAX_PATTERNS 256

static const char *const match_keys[] = { "cn", "dns", "uri", "fingerprint" };

static enum wd_err
invalid(const char *path, const char *why)
{
    log_err("event=config_invalid file=%s key=%s reason=\"%s\"",
            SRV_FILE_CONFIG, path, why);
    return WD_E_CONFIG;
}

/* Exactly one of cn / dns / uri / fingerprint in obj, into m. */
static enum wd_err
parse_match(json_t *obj, const char *path, struct api_match *m)
{
    size_t i;
    size_t found = 0;

    for (i = 0; i < sizeof(match_keys) / sizeof(match_keys[0]); i++) {
        json_t *v = json_object_get(obj, match_keys[i]);
        const char *s;

        if (v == NULL) {
            continue;
        }
        s = json_string_value(v);
        if (s == NULL || s[0] == '\0' || strlen(s) >= sizeof(m->value)) {
            return invalid(path, "cn, dns, uri or fingerprint must be a "
                                 "non-empty string");
        }
        m->kind = (enum api_match_kind)i; /* same order as the enum */
        snprintf(m->value, sizeof(m->value), "%s", s);
        found++;
    }
    if (found != 1) {
        return invalid(path, "needs exactly one of cn, dns, uri, "
                             "fingerprint");
    }
    if (m->kind == API_MATCH_FINGERPRINT &&
        (strlen(m->value) != 64 || !wd_serial_is_valid(m->value, 32) ||
         !wd_serial_is_valid(m->value + 32, 32))) {
        return invalid(path, "a fingerprint is 64 lowercase hex digits "
                             "(SHA-256 of the certificate DER)");
    }
    return WD_OK;
}

/* Keys an object may hold: name, the match keys, and extra. */
static enum wd_err
check_keys(json_t *obj, const char *path, const char *const *extra,
           size_t n_extra)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        bool known = strcmp(key, "name") == 0;
        size_t i;

        (void)v;
        for (i = 0; !known && i < sizeof(match_keys) / sizeof(match_keys[0]);
             i++) {
            known = strcmp(key, match_keys[i]) == 0;
        }
        for (i = 0; !known && i < n_extra; i++) {
            known = strcmp(key, extra[i]) == 0;
        }
        if (!known) {
            return invalid(path, "unknown key in this entry");
        }
    }
    return WD_OK;
}

static enum wd_err
parse_name(json_t *obj, const char *path, char *out, size_t outsz)
{
    const char *name = json_string_value(json_object_get(obj, "name"));

    if (name == NULL || name[0] == '\0' || strlen(name) >= outsz) {
        return invalid(path, "needs a \"name\" (1-63 characters)");
    }
    snprintf(out, outsz, "%s", name);
    return WD_OK;
}

static enum wd_err
parse_members(json_t *arr, const char *key, struct api_member **out,
              size_t *n_out)
{
    char path[64];
    json_t *item;
    size_t i;
    enum wd_err rc;

    if (!json_is_array(arr) || json_array_size(arr) > POLICY_MAX_MEMBERS) {
        return invalid(key, "must be an array of at most 256 entries");
    }
    *out = xcalloc(json_array_size(arr), sizeof(**out));
    *n_out = 0;
    json_array_foreach(arr, i, item)
    {
        struct api_member *m = &(*out)[i];

        snprintf(path, sizeof(path), "%s[%zu]", key, i);
        if (!json_is_object(item)) {
            return invalid(path, "must be an object");
        }
        rc = check_keys(item, path, NULL, 0);
        if (rc == WD_OK) {
            rc = parse_name(item, path, m->name, sizeof(m->name));
        }
        if (rc == WD_OK) {
            rc = parse_match(item, path, &m->match);
        }
        if (rc != WD_OK) {
            return rc;
        }
        (*n_out)++;
    }
    return WD_OK;
}

static enum wd_err
parse_duration(json_t *v, const char *path, uint64_t *out)
{
    const char *s = json_string_value(v);

    if (s == NULL || !wd_parse_duration(s, POLICY_MAX_DURATION_S, out)) {
        return invalid(path, "a duration such as \"720h\" or \"30d\"");
    }
    return WD_OK;
}

static enum wd_err
parse_grant_names(json_t *arr, const char *path, struct api_grant *g)
{
    json_t *item;
    size_t i;

    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > POLICY_MAX_PATTERNS) {
        return invalid(path, "\"names\" must list 1 to 256 patterns");
    }
    g->names = xcalloc(json_array_size(arr), sizeof(*g->names));
    json_array_foreach(arr, i, item)
    {
        const char *s = json_string_value(item);

        if (s == NULL || s[0] == '\0' || strlen(s) > WD_MAX_URI) {
            return invalid(path, "each name pattern is a non-empty string");
        }
        g->names[i] = xstrdup(s);
        g->n_names++;
    }
    return WD_OK;
}

static enum wd_err
parse_grant_profiles(json_t *arr, const char *path, struct api_grant *g)
{
    json_t *item;
    size_t i;

    if (arr == NULL) {
        for (i = 0; i < API_N_PROFILES; i++) {
            g->profiles[i] = true;
        }
        return WD_OK;
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        return invalid(path, "\"profiles\" lists server, client or "
                             "server-client");
    }
    json_array_foreach(arr, i, item)
    {
        enum pki_profile p;
        const char *s = json_string_value(item);

        if (s == NULL || !pki_profile_parse(s, &p)) {
            return invalid(path, "\"profiles\" lists server, client or "
                                 "server-client");
        }
        g->profiles[p] = true;
    }
    return WD_OK;
}

static enum wd_err
parse_grants(json_t *arr, struct api_policy *p)
{
    static const char *const extra[] = { "names", "profiles", "max_validity" };
    char path[64];
    json_t *item;
    size_t i;
    enum wd_err rc;

    if (!json_is_array(arr) || json_array_size(arr) > POLICY_MAX_GRANTS) {
        return invalid("grants", "must be an array of at most 1024 grants");
    }
    p->grants = xcalloc(json_array_size(arr), sizeof(*p->grants));
    json_array_foreach(arr, i, item)
    {
        struct api_grant *g = &p->grants[i];
        json_t *max;

        p->n_grants++;
        snprintf(path, sizeof(path), "grants[%zu]", i);
        if (!json_is_object(item)) {
            return invalid(path, "must be an object");
        }
        rc = check_keys(item, path, extra, sizeof(extra) / sizeof(extra[0]));
        if (rc == WD_OK) {
            rc = parse_name(item, path, g->name, sizeof(g->name));
        }
        if (rc == WD_OK) {
            rc = parse_match(item, path, &g->who);
        }
        if (rc == WD_OK) {
            rc = parse_grant_names(json_object_get(item, "names"), path, g);
        }
        if (rc == WD_OK) {
            rc = parse_grant_profiles(json_object_get(item, "profiles"), path,
                                      g);
        }
        max = json_object_get(item, "max_validity");
        g->max_validity_s =
            p->profiles[PKI_PROFILE_SERVER_CLIENT].max_validity_s;
        if (rc == WD_OK && max != NULL) {
            rc = parse_duration(max, path, &g->max_validity_s);
        }
        if (rc != WD_OK) {
            return rc;
        }
    }
    return WD_OK;
}

static enum wd_err
parse_profiles(json_t *obj, struct api_policy *p)
{
    const char *key;
    json_t *v;
    enum wd_err rc;

    if (!json_is_object(obj)) {
        return invalid("profiles", "must be an object keyed by profile");
    }
    json_object_foreach(obj, key, v)
    {
        enum pki_profile prof;
        struct api_profile_policy *pp;
        json_t *def;
        json_t *max;
        char path[64];

        snprintf(path, sizeof(path), "profiles.%.40s", key);
        if (!pki_profile_parse(key, &prof) || !json_is_object(v) ||
            json_object_size(v) > 2) {
            return invalid(path, "server, client or server-client, each "
                                 "{default_validity, max_validity}");
        }
        pp = &p->profiles[prof];
        def = json_object_get(v, "default_validity");
        max = json_object_get(v, "max_validity");
        if ((size_t)(def != NULL) + (size_t)(max != NULL) !=
            json_object_size(v)) {
            return invalid(path, "only default_validity and max_validity");
        }
        rc = def != NULL ? parse_duration(def, path, &pp->default_validity_s)
                         : WD_OK;
        if (rc == WD_OK && max != NULL) {
            rc = parse_duration(max, path, &pp->max_validity_s);
        }
        if (rc == WD_OK && pp->default_validity_s > pp->max_validity_s) {
            rc = invalid(path, "default_validity is above max_validity");
        }
        if (rc != WD_OK) {
            return rc;
        }
    }
    return WD_OK;
}

/*
 * Fill p from the config document: profile bounds start at the global
 * default/max validity; "profiles", "admins", "readers" and "grants" are
 * optional. On failure p holds what was parsed so far (api_policy_clear).
 */
enum wd_err
srv_policy_parse(json_t *profiles, json_t *admins, json_t *readers,
                 json_t *grants, uint64_t default_validity_s,
                 uint64_t max_validity_s, struct api_policy *p)
{
    size_t i;
    enum wd_err rc = WD_OK;

    memset(p, 0, sizeof(*p));
    for (i = 0; i < API_N_PROFILES; i++) {
        p->profiles[i].default_validity_s = default_validity_s;
        p->profiles[i].max_validity_s = max_validity_s;
    }
    if (profiles != NULL) {
        rc = parse_profiles(profiles, p);
    }
    if (rc == WD_OK && admins != NULL) {
        rc = parse_members(admins, "admins", &p->admins, &p->n_admins);
    }
    if (rc == WD_OK && readers != NULL) {
        rc = parse_members(readers, "readers", &p->readers, &p->n_readers);
    }
    if (rc == WD_OK && grants != NULL) {
        rc = parse_grants(grants, p);
    }
    return rc;
}

static json_t *
member_json(const struct api_member *m)
{
    return json_pack("{s:s, s:s}", "name", m->name, match_keys[m->match.kind],
                     m->match.value);
}

/* The admins list as init writes it. */
json_t *
srv_policy_admins_json(const struct api_policy *p)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; i < p->n_admins; i++) {
        json_array_append_new(arr, member_json(&p->admins[i]));
    }
    return arr;
}
