/*
 * GET /whoami: who the server takes the caller to be. The inventory page
 * asks, to show admins the controls only admins may use (the route table
 * still decides every request on its own); scripts use it to check which
 * identity a certificate maps to before relying on it.
 */
#include "api_priv.h"

static const char *
role_name(enum api_role role)
{
    switch (role) {
    case API_ROLE_ADMIN:
        return "admin";
    case API_ROLE_READER:
        return "reader";
    case API_ROLE_SERVICE:
    default:
        return "service";
    }
}

/* 200 {name, role, serial, not_after, expiring_window_s}. */
void
api_whoami_get(struct api *api, const struct api_req *req, const char *arg,
               struct api_resp *resp)
{
    const struct api_identity *who = req->who;

    (void)arg;
    if (req->n_query > 0 || req->query_overflow) {
        api_error(resp, WD_E_BAD_QUERY, NULL);
        return;
    }
    api_json_send(
        resp, 200,
        json_pack("{s:s, s:s, s:s, s:o, s:I}", "name", who->name, "role",
                  role_name(who->role), "serial", who->cert.serial, "not_after",
                  api_json_time(who->row->not_after), "expiring_window_s",
                  (json_int_t)api->cfg.expiring_window_s));
}
