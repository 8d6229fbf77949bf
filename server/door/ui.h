// ui.h — the dashboard's files, compiled into sje-server.
//
// server/ui/ holds the dashboard (index.html, app.js, app.css: plain
// HTML, CSS and JavaScript, nothing fetched from elsewhere);
// server/ui/embed.cmake turns them into byte arrays at build time
// (ui_assets.c in the build directory). The gateway serves them at /ui/
// when http.dashboard is on (gateway.c).
#ifndef SJE_SERVER_UI_H
#define SJE_SERVER_UI_H

#include <stdbool.h>
#include <stddef.h>

// sje__ui_asset is one embedded file. Everything is static data.
typedef struct sje__ui_asset {
	const char          *name; // "app.js"
	const unsigned char *data; // len bytes (and a NUL after them)
	size_t               len;
	const char          *etag; // "\"<hex>\"": from the file's SHA-256
} sje__ui_asset;

extern const sje__ui_asset sje__ui_assets[];
extern const unsigned      sje__ui_n_assets;

// sje__ui_find is the file served at path (n bytes, no query): "/ui/"
// and "/ui/index.html" are index.html, "/ui/app.js" is app.js; NULL for
// any other path. Pure.
const sje__ui_asset *sje__ui_find(const char *path, size_t n);

// sje__ui_content_type is the Content-Type of a file, by the end of its
// name (text/html, text/javascript, text/css; application/octet-stream
// for others), with "; charset=utf-8" for text. Pure.
const char *sje__ui_content_type(const char *name);

// sje__ui_etag_matches is true when an If-None-Match value (n bytes)
// names etag, or is "*". Pure.
bool sje__ui_etag_matches(const char *inm, size_t n, const char *etag);

#endif // SJE_SERVER_UI_H
