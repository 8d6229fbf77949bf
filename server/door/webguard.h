// webguard.h — what the gateway does against browsers being turned
// against it: the security headers on every response, and the refusal of
// state-changing requests sent from another site.
//
// A browser lets any page post a simple form to any address, with the
// user's network position; it always says where such a request comes
// from (Origin, and Sec-Fetch-Site in current browsers). So a request
// that changes state (any method but GET, HEAD and OPTIONS) is refused
// when it carries an Origin that is not the server's own (the scheme and
// the Host header the request was sent to) or a Sec-Fetch-Site of
// "cross-site". Requests without those headers (curl, libsje, scripts)
// are not browsers' cross-site requests and go on as before.
#ifndef SJE_SERVER_WEBGUARD_H
#define SJE_SERVER_WEBGUARD_H

#include "door/http_parse.h"

#include <stdbool.h>
#include <stddef.h>

// The header fields every gateway response carries (each line ends with
// CRLF): no inline scripts or styles, nothing loaded from elsewhere, no
// framing, no content sniffing, no referrer.
#define SJE__WEB_SECURITY_HEADERS                                          \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; " \
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; "     \
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n"  \
	"X-Frame-Options: DENY\r\n"                                        \
	"X-Content-Type-Options: nosniff\r\n"                              \
	"Referrer-Policy: no-referrer\r\n"

// sje__web_cross_site is true when req must be refused as a cross-site
// state-changing request (see above); why (len bytes) then says which
// header gave it away (it never echoes the header's value). Pure.
bool sje__web_cross_site(const sje__http_request *req, char *why, size_t len);

#endif // SJE_SERVER_WEBGUARD_H
