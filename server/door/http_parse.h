// http_parse.h — an HTTP/1.1 request head parser: pure, no I/O.
//
// sje__http_parse reads one request head (the request line and the header
// fields, up to the empty line) from the bytes received so far, and says
// how many bytes it took, so that pipelined requests in one buffer parse
// one after another. It never allocates: the request it fills points into
// the caller's buffer. What it refuses carries the HTTP status to answer
// (400 malformed, 411 Transfer-Encoding, 414 target too long, 417 unknown
// expectation, 431 head too large, 505 version) and a message.
//
// Rules (RFC 9112): CRLF or a bare LF ends a line; empty lines before the
// request line are skipped; OWS around a field value is SP or HTAB; field
// names are tokens, compared case-insensitively; obs-fold (a line that
// starts with SP or HTAB) is refused; Content-Length must be digits, at
// most once; Transfer-Encoding is refused (no chunked bodies); HTTP/1.1
// needs exactly one Host; HTTP/1.1 keeps the connection unless
// "Connection: close", HTTP/1.0 closes it unless "Connection: keep-alive".
#ifndef SJE_SERVER_HTTP_PARSE_H
#define SJE_SERVER_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SJE_HTTP_MAX_FIELDS 100u // header fields in one request, at most

// sje__http_limits bounds what a request head may hold.
typedef struct sje__http_limits {
	size_t max_target_bytes; // request target, query included: else 414
	size_t max_head_bytes;   // request line and fields: else 431
	size_t max_fields;       // <= SJE_HTTP_MAX_FIELDS: else 431
} sje__http_limits;

// sje__http_field is one header field; both point into the parsed buffer.
typedef struct sje__http_field {
	const char *name;
	size_t      name_len;
	const char *value; // without the OWS around it
	size_t      value_len;
} sje__http_field;

// sje__http_request is a parsed head. Pointers are into the parsed buffer
// and live as long as it does.
typedef struct sje__http_request {
	const char     *method;
	size_t          method_len;
	const char     *target; // as sent: path, then maybe '?' and query
	size_t          target_len;
	int             minor;           // HTTP/1.<minor>: 0 or 1
	bool            keep_alive;      // the client lets the connection stay
	bool            has_length;      // a Content-Length was given
	uint64_t        content_length;  // bytes of body; 0 when none
	bool            expect_continue; // "Expect: 100-continue"
	size_t          n_fields;
	sje__http_field fields[SJE_HTTP_MAX_FIELDS];
} sje__http_request;

// sje__http_error is why a head was refused: the status to answer, the
// error code of API.md and a message (static strings).
typedef struct sje__http_error {
	int         status;
	const char *code;
	const char *message;
} sje__http_error;

typedef enum sje__http_result {
	SJE__HTTP_DONE, // a whole head was read: *req and *consumed are set
	SJE__HTTP_MORE, // not yet a whole head, and nothing wrong so far
	SJE__HTTP_BAD,  // refused: *err is set; the stream cannot go on
} sje__http_result;

// sje__http_parse parses the request head at the start of buf (len bytes
// received so far). DONE writes *req and *consumed (the bytes of the head,
// empty lines before it included: the body or the next request starts
// there). MORE asks for more bytes: call again with the same start and a
// longer len. BAD writes *err. *scan is the caller's state for the calls
// on one head: set it to 0 before the first and keep it between them (it
// makes a head that arrives byte by byte cost linear time). Pure and
// thread-safe.
sje__http_result sje__http_parse(const char *buf, size_t len,
    const sje__http_limits *lim, size_t *scan, sje__http_request *req,
    size_t *consumed, sje__http_error *err);

// sje__http_header returns the value of the first field of req named
// name (case-insensitive) and writes its length to *len; NULL when there
// is none. Pure.
const char *sje__http_header(
    const sje__http_request *req, const char *name, size_t *len);

// sje__http_has_token is true when the comma-separated list v (n bytes)
// holds token, case-insensitively (as in "Connection: keep-alive, close").
// Pure.
bool sje__http_has_token(const char *v, size_t n, const char *token);

#endif // SJE_SERVER_HTTP_PARSE_H
