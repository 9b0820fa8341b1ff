/*
 * Finding an embedded file of the inventory page by its URL path. The
 * table itself is generated at build time (web_embed.cmake).
 */
#include "web_assets.h"

#include <string.h>

extern const struct web_asset web_assets[];
extern const size_t web_n_assets;

/* The asset at path ("/" is index.html), or NULL for any other path. */
const struct web_asset *
web_asset_find(const char *path)
{
    size_t i;

    for (i = 0; i < web_n_assets; i++) {
        if (strcmp(web_assets[i].path, path) == 0) {
            return &web_assets[i];
        }
    }
    return NULL;
}
