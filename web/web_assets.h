/*
 * The inventory page's files, compiled into the binary: web_embed.cmake
 * turns each file of web/ into bytes in the generated web_assets_data.c,
 * so serving the page reads no file at run time and cannot be pointed at
 * another directory. api_web.c serves them on the API listener.
 */
#ifndef WD_WEB_ASSETS_H
#define WD_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *path;         /* the URL path: "/", "/app.js", ... */
    const char *content_type; /* with charset for text */
    const unsigned char *data;
    size_t len;
    const char *etag; /* strong, quoted: the file's SHA-256 at build time */
};

/* The asset served at path, or NULL. */
const struct web_asset *web_asset_find(const char *path);

#endif
