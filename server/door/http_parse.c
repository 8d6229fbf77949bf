// http_parse.c — the HTTP/1.1 request head parser (see http_parse.h).
//
// Design. A head is parsed only once it is whole: each call first looks
// for the empty line that ends it, resuming where the previous call on the
// same head stopped (*scan), so a head that trickles in costs linear time.
// Until it is whole, the parts already there are checked against the
// limits, so that an endless request line is refused 414 and an endless
// head 431 as soon as they pass the limit, not when they end. Then the
// request line and each field are checked, and the fields with a meaning
// for the framing (Content-Length, Transfer-Encoding, Host, Connection,
// Expect) are read. No allocation: the request points into the buffer.
// No state but the caller's *scan, hence thread-safe.
#include "door/http_parse.h"

#include <string.h>
#include <strings.h>

#define HTTP_MAX_METHOD_BYTES 32u
#define HTTP_CL_MAX_DIGITS 19u // below 2^63

static bool
http_is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z')) {
		return true;
	}
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
http_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static sje__http_result
http_bad(sje__http_error *err, int status, const char *code, const char *msg)
{
	err->status  = status;
	err->code    = code;
	err->message = msg;
	return SJE__HTTP_BAD;
}

#define HTTP_BAD(err, msg) http_bad((err), 400, "INVALID_ARGUMENT", (msg))

// http_line_end returns the length of the line at p (n bytes available)
// without its CRLF or LF, and writes where the next line starts to
// *next; false when no LF is there yet.
static bool
http_line(const char *p, size_t n, size_t *line_len, size_t *next)
{
	const char *lf = memchr(p, '\n', n);
	if (lf == NULL) {
		return false;
	}
	size_t l = (size_t) (lf - p);
	*next    = l + 1;
	if (l > 0 && p[l - 1] == '\r') {
		l--;
	}
	*line_len = l;
	return true;
}

// http_request_line checks the request line (n bytes, no line end) and
// fills the method, target and version of req.
static sje__http_result
http_request_line(const char *p, size_t n, const sje__http_limits *lim,
    sje__http_request *req, sje__http_error *err)
{
	const char *sp1 = memchr(p, ' ', n);
	if (sp1 == NULL || sp1 == p) {
		return HTTP_BAD(err, "malformed request line");
	}
	size_t ml = (size_t) (sp1 - p);
	if (ml > HTTP_MAX_METHOD_BYTES) {
		return HTTP_BAD(err, "the method is too long");
	}
	for (size_t i = 0; i < ml; i++) {
		if (!http_is_tchar((unsigned char) p[i])) {
			return HTTP_BAD(err, "malformed method");
		}
	}
	const char *t    = sp1 + 1;
	size_t      rest = n - ml - 1;
	const char *sp2  = memchr(t, ' ', rest);
	size_t      tl   = sp2 != NULL ? (size_t) (sp2 - t) : rest;
	if (tl > lim->max_target_bytes) {
		return http_bad(err, 414, "INVALID_ARGUMENT",
		    "the request target is too long");
	}
	if (sp2 == NULL || tl == 0) {
		return HTTP_BAD(err, "malformed request line");
	}
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char) t[i];
		if (c <= 0x20 || c >= 0x7f) {
			return HTTP_BAD(err, "malformed request target");
		}
	}
	if (t[0] != '/') {
		return HTTP_BAD(err, "the request target must be a path");
	}
	const char *v  = sp2 + 1;
	size_t      vl = n - (size_t) (v - p);
	if (vl != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' ||
	    v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9') {
		return HTTP_BAD(err, "malformed HTTP version");
	}
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
		return http_bad(err, 505, "INVALID_ARGUMENT",
		    "only HTTP/1.0 and HTTP/1.1 are served");
	}
	req->method     = p;
	req->method_len = ml;
	req->target     = t;
	req->target_len = tl;
	req->minor      = v[7] - '0';
	return SJE__HTTP_DONE;
}

// http_partial checks the start of a head that is not whole yet (n bytes
// from p): MORE when nothing is wrong so far.
static sje__http_result
http_partial(const char *p, size_t n, const sje__http_limits *lim,
    sje__http_request *req, sje__http_error *err)
{
	size_t ll, next;
	if (!http_line(p, n, &ll, &next)) {
		// The request line is still coming: past the limit of a
		// target (with room for a method and a version), it is 414
		// when it has begun a target, 400 otherwise.
		if (n > lim->max_target_bytes + HTTP_MAX_METHOD_BYTES + 11) {
			return memchr(p, ' ', n) != NULL
			    ? http_bad(err, 414, "INVALID_ARGUMENT",
			          "the request target is too long")
			    : HTTP_BAD(err, "malformed request line");
		}
		return SJE__HTTP_MORE;
	}
	sje__http_result r = http_request_line(p, ll, lim, req, err);
	if (r != SJE__HTTP_DONE) {
		return r;
	}
	if (n > lim->max_head_bytes) {
		return http_bad(err, 431, "RESOURCE_EXHAUSTED",
		    "the request header fields are too large");
	}
	return SJE__HTTP_MORE;
}

// http_field checks one field line (n bytes, no line end) and appends it.
static sje__http_result
http_field(const char *p, size_t n, const sje__http_limits *lim,
    sje__http_request *req, sje__http_error *err)
{
	if (n > 0 && http_is_ows(p[0])) {
		return HTTP_BAD(err, "folded header lines are not accepted");
	}
	const char *colon = memchr(p, ':', n);
	if (colon == NULL || colon == p) {
		return HTTP_BAD(err, "malformed header field");
	}
	size_t nl = (size_t) (colon - p);
	for (size_t i = 0; i < nl; i++) {
		if (!http_is_tchar((unsigned char) p[i])) {
			return HTTP_BAD(err, "malformed header field name");
		}
	}
	const char *v  = colon + 1;
	size_t      vl = n - nl - 1;
	while (vl > 0 && http_is_ows(v[0])) {
		v++;
		vl--;
	}
	while (vl > 0 && http_is_ows(v[vl - 1])) {
		vl--;
	}
	for (size_t i = 0; i < vl; i++) {
		unsigned char c = (unsigned char) v[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return HTTP_BAD(err, "malformed header field value");
		}
	}
	if (req->n_fields >= lim->max_fields ||
	    req->n_fields >= SJE_HTTP_MAX_FIELDS) {
		return http_bad(err, 431, "RESOURCE_EXHAUSTED",
		    "too many request header fields");
	}
	sje__http_field *f = &req->fields[req->n_fields++];
	f->name            = p;
	f->name_len        = nl;
	f->value           = v;
	f->value_len       = vl;
	return SJE__HTTP_DONE;
}

static bool
http_name_is(const sje__http_field *f, const char *name)
{
	return strlen(name) == f->name_len &&
	    strncasecmp(f->name, name, f->name_len) == 0;
}

// http_framing reads the fields that decide the framing and the
// connection's fate, in the order their refusals are answered.
static sje__http_result
http_framing(sje__http_request *req, sje__http_error *err)
{
	size_t n_host = 0, n_length = 0;
	bool   te = false, close = false, keep = false, expect_other = false;
	for (size_t i = 0; i < req->n_fields; i++) {
		const sje__http_field *f = &req->fields[i];
		if (http_name_is(f, "Transfer-Encoding")) {
			te = true;
		} else if (http_name_is(f, "Content-Length")) {
			if (++n_length > 1) {
				continue; // refused below
			}
			if (f->value_len == 0 ||
			    f->value_len > HTTP_CL_MAX_DIGITS) {
				n_length = 99;
				continue;
			}
			uint64_t v = 0;
			for (size_t k = 0; k < f->value_len; k++) {
				char c = f->value[k];
				if (c < '0' || c > '9') {
					n_length = 99;
					break;
				}
				v = v * 10 + (uint64_t) (c - '0');
			}
			req->content_length = v;
		} else if (http_name_is(f, "Host")) {
			n_host++;
		} else if (http_name_is(f, "Connection")) {
			close = close ||
			    sje__http_has_token(
			        f->value, f->value_len, "close");
			keep = keep ||
			    sje__http_has_token(
			        f->value, f->value_len, "keep-alive");
		} else if (http_name_is(f, "Expect")) {
			if (f->value_len == 12 &&
			    strncasecmp(f->value, "100-continue", 12) == 0) {
				req->expect_continue = true;
			} else {
				expect_other = true;
			}
		}
	}
	if (te) {
		return http_bad(err, 411, "INVALID_ARGUMENT",
		    "chunked request bodies are not supported: send the body "
		    "with a Content-Length");
	}
	if (n_length > 1) {
		return HTTP_BAD(
		    err, "Content-Length must be one number, given once");
	}
	if (expect_other) {
		return http_bad(err, 417, "INVALID_ARGUMENT",
		    "the only expectation understood is 100-continue");
	}
	if (n_host > 1 || (req->minor == 1 && n_host == 0)) {
		return HTTP_BAD(err, "an HTTP/1.1 request needs one Host");
	}
	req->has_length = n_length == 1;
	req->keep_alive = !close && (req->minor == 1 || keep);
	return SJE__HTTP_DONE;
}

sje__http_result
sje__http_parse(const char *buf, size_t len, const sje__http_limits *lim,
    size_t *scan, sje__http_request *req, size_t *consumed,
    sje__http_error *err)
{
	// Empty lines before a request line are skipped (RFC 9112 2.2).
	size_t start = 0;
	while (start < len && (buf[start] == '\r' || buf[start] == '\n')) {
		if (buf[start] == '\r' && start + 1 < len &&
		    buf[start + 1] != '\n') {
			return HTTP_BAD(err, "malformed request line");
		}
		start += buf[start] == '\r' ? 2 : 1;
		if (start > lim->max_head_bytes) {
			return HTTP_BAD(err, "too many empty lines");
		}
	}
	if (start >= len) {
		return SJE__HTTP_MORE;
	}
	memset(req, 0, sizeof(*req) - sizeof(req->fields));

	// Find the empty line that ends the head, from where we stopped.
	size_t i   = *scan > start ? *scan : start;
	size_t end = 0;
	for (; i < len; i++) {
		if (buf[i] != '\n') {
			continue;
		}
		if (i + 1 >= len) {
			break;
		}
		if (buf[i + 1] == '\n') {
			end = i + 2;
			break;
		}
		if (buf[i + 1] == '\r') {
			if (i + 2 >= len) {
				break;
			}
			if (buf[i + 2] == '\n') {
				end = i + 3;
				break;
			}
		}
	}
	*scan = i;
	if (end == 0) {
		return http_partial(buf + start, len - start, lim, req, err);
	}

	const char      *p  = buf + start;
	size_t           n  = end - start;
	size_t           ll = 0, next = 0;
	sje__http_result r;
	(void) http_line(p, n, &ll, &next); // a whole head has an LF
	if ((r = http_request_line(p, ll, lim, req, err)) != SJE__HTTP_DONE) {
		return r;
	}
	if (n > lim->max_head_bytes) {
		return http_bad(err, 431, "RESOURCE_EXHAUSTED",
		    "the request header fields are too large");
	}
	for (size_t at = next; at < n;) {
		if (!http_line(p + at, n - at, &ll, &next)) {
			return HTTP_BAD(err, "malformed header section");
		}
		if (ll == 0) {
			break; // the empty line: the end
		}
		if (memchr(p + at, '\r', ll) != NULL) {
			return HTTP_BAD(err, "a bare CR in a header line");
		}
		if ((r = http_field(p + at, ll, lim, req, err)) !=
		    SJE__HTTP_DONE) {
			return r;
		}
		at += next;
	}
	if ((r = http_framing(req, err)) != SJE__HTTP_DONE) {
		return r;
	}
	*consumed = end;
	return SJE__HTTP_DONE;
}

const char *
sje__http_header(const sje__http_request *req, const char *name, size_t *len)
{
	for (size_t i = 0; i < req->n_fields; i++) {
		if (http_name_is(&req->fields[i], name)) {
			*len = req->fields[i].value_len;
			return req->fields[i].value;
		}
	}
	return NULL;
}

bool
sje__http_has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);
	size_t i  = 0;
	while (i < n) {
		while (i < n && (http_is_ows(v[i]) || v[i] == ',')) {
			i++;
		}
		size_t s = i;
		while (i < n && v[i] != ',') {
			i++;
		}
		size_t e = i;
		while (e > s && http_is_ows(v[e - 1])) {
			e--;
		}
		if (e - s == tl && strncasecmp(v + s, token, tl) == 0) {
			return true;
		}
	}
	return false;
}
