// webguard.c — the refusal of cross-site state-changing requests
// (webguard.h). Pure: it reads a parsed request head and nothing else.
#include "door/webguard.h"

#include "util.h"

#include <string.h>
#include <strings.h>

// web_safe_method is true for the methods that change nothing.
static bool
web_safe_method(const sje__http_request *req)
{
	static const char *const safe[] = { "GET", "HEAD", "OPTIONS" };
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++) {
		if (req->method_len == strlen(safe[i]) &&
		    memcmp(req->method, safe[i], req->method_len) == 0) {
			return true;
		}
	}
	return false;
}

// web_same_origin is true when origin (n bytes) is "http://" or
// "https://" followed by exactly the Host the request was sent to
// (host names compare case-insensitively).
static bool
web_same_origin(const sje__http_request *req, const char *origin, size_t n)
{
	size_t      hl;
	const char *host = sje__http_header(req, "Host", &hl);
	if (host == NULL || hl == 0) {
		return false;
	}
	static const char *const schemes[] = { "http://", "https://" };
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t sl = strlen(schemes[i]);
		if (n == sl + hl && strncasecmp(origin, schemes[i], sl) == 0 &&
		    strncasecmp(origin + sl, host, hl) == 0) {
			return true;
		}
	}
	return false;
}

bool
sje__web_cross_site(const sje__http_request *req, char *why, size_t len)
{
	if (web_safe_method(req)) {
		return false;
	}
	size_t      n;
	const char *site = sje__http_header(req, "Sec-Fetch-Site", &n);
	if (site != NULL && n == strlen("cross-site") &&
	    strncasecmp(site, "cross-site", n) == 0) {
		sje__snprintf(why, len,
		    "a cross-site request (Sec-Fetch-Site: cross-site) may not "
		    "change anything");
		return true;
	}
	const char *origin = sje__http_header(req, "Origin", &n);
	if (origin != NULL && !web_same_origin(req, origin, n)) {
		sje__snprintf(why, len,
		    "the request's Origin is not this server's: a request "
		    "from another site may not change anything");
		return true;
	}
	return false;
}
