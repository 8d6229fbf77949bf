// ui.c — finding the dashboard's embedded files (ui.h) and describing
// them for the gateway: content types and ETags. Pure: no state.
#include "door/ui.h"

#include <string.h>

const sje__ui_asset *
sje__ui_find(const char *path, size_t n)
{
	static const char prefix[] = "/ui/";
	size_t            pl       = sizeof(prefix) - 1;
	if (n < pl || memcmp(path, prefix, pl) != 0) {
		return NULL;
	}
	const char *name = path + pl;
	size_t      nl   = n - pl;
	if (nl == 0) {
		name = "index.html";
		nl   = strlen(name);
	}
	for (unsigned i = 0; i < sje__ui_n_assets; i++) {
		const sje__ui_asset *a = &sje__ui_assets[i];
		if (strlen(a->name) == nl && memcmp(a->name, name, nl) == 0) {
			return a;
		}
	}
	return NULL;
}

// ui_ends_with is true when s ends with tail.
static bool
ui_ends_with(const char *s, const char *tail)
{
	size_t sl = strlen(s);
	size_t tl = strlen(tail);
	return sl >= tl && strcmp(s + sl - tl, tail) == 0;
}

const char *
sje__ui_content_type(const char *name)
{
	if (ui_ends_with(name, ".html")) {
		return "text/html; charset=utf-8";
	}
	if (ui_ends_with(name, ".js")) {
		return "text/javascript; charset=utf-8";
	}
	if (ui_ends_with(name, ".css")) {
		return "text/css; charset=utf-8";
	}
	if (ui_ends_with(name, ".svg")) {
		return "image/svg+xml";
	}
	return "application/octet-stream";
}

bool
sje__ui_etag_matches(const char *inm, size_t n, const char *etag)
{
	size_t el = strlen(etag);
	size_t i  = 0;
	// A list of entity tags, separated by commas; W/ marks a weak one,
	// which matches too (RFC 9110 13.1.2: weak comparison).
	while (i < n) {
		while (i < n &&
		    (inm[i] == ' ' || inm[i] == '\t' || inm[i] == ',')) {
			i++;
		}
		size_t start = i;
		while (i < n && inm[i] != ',') {
			i++;
		}
		size_t end = i;
		while (end > start &&
		    (inm[end - 1] == ' ' || inm[end - 1] == '\t')) {
			end--;
		}
		const char *t  = inm + start;
		size_t      tl = end - start;
		if (tl == 1 && t[0] == '*') {
			return true;
		}
		if (tl > 2 && t[0] == 'W' && t[1] == '/') {
			t += 2;
			tl -= 2;
		}
		if (tl == el && memcmp(t, etag, el) == 0) {
			return true;
		}
	}
	return false;
}
