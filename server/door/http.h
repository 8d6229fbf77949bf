// http.h — a small HTTP/1.1 server on nng's byte streams.
//
// sje__http accepts TCP (or TLS) connections and reads requests from them
// with the parser of http_parse.h, one at a time per connection: the next
// request (pipelined or not) is parsed only once the previous answer was
// written, so answers go out strictly in order. A request reaches the
// handler whole, its body read (up to max_body_bytes; a larger one is
// refused 413 before it is read); the handler answers it, later if it
// likes, with sje__http_respond, whose buffer is written as one piece.
//
// It guards the door: a cap on open connections (over it a JSON 503 and
// a close, logged once per episode with a count), a time limit for a
// request head to arrive from its first byte, one for a body, one for a
// kept-alive connection to sit idle, and the parser's limits (414, 431).
// It answers itself, in JSON, what never reaches the handler: malformed
// requests (400), Transfer-Encoding (411), bad expectations (417), 408
// on a head or body timeout, 413, 414, 431, 505, and the interim 100 for
// "Expect: 100-continue". A connection closes right after a response
// that closes it; only bytes the client is known to be still sending (a
// refused body, the rest of a refused head) are drained first, bounded.
#ifndef SJE_SERVER_HTTP_H
#define SJE_SERVER_HTTP_H

#include <sje/sje.h>

#include "door/http_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sje__http      sje__http;
typedef struct sje__http_conn sje__http_conn;

struct nng_tls_config;

// sje__http_fn receives a whole request on an nng thread: it must not
// block. req and body (body_len bytes, NULL when empty) are borrowed
// until the handler calls sje__http_respond on conn, which it must do
// exactly once, from any thread.
typedef void (*sje__http_fn)(void *arg, sje__http_conn *conn,
    const sje__http_request *req, const uint8_t *body, size_t body_len);

// sje__http_options says how to serve.
typedef struct sje__http_options {
	const char *url; // "tcp://host:port" (port 0: any) or "tls+tcp://..."
	struct nng_tls_config *tls; // tls+tcp: the server config (borrowed)
	uint32_t               header_timeout_ms; // first byte to whole head
	uint32_t               body_timeout_ms;   // reading a body; a write
	uint32_t               idle_timeout_ms;   // kept alive, no request
	uint32_t               max_connections;   // open at once, >= 1
	size_t                 max_body_bytes;    // larger bodies get 413
	sje__http_limits       limits;
} sje__http_options;

// sje__http_open listens as o says (borrowed for the call) and starts
// accepting; fn gets each request with arg. *port gets the bound TCP
// port. *out is written on SJE_OK; caller owns it. Errors: SJE_EINVAL
// for a bad URL, SJE_EEXIST when the address is in use, others from nng.
sje_err sje__http_open(const sje__http_options *o, sje__http_fn fn, void *arg,
    sje__http **out, int *port);

// sje__http_respond writes resp (len bytes: a whole response, status
// line to body; taken, freed here; NULL closes the connection) on conn and
// then reads the next request, or closes the connection when close is set.
// conn is not the caller's after the call. Thread-safe.
void sje__http_respond(
    sje__http_conn *conn, char *resp, size_t len, bool close);

// sje__http_reason is the reason phrase of an HTTP status. Pure.
const char *sje__http_reason(int status);

// sje__http_close stops accepting, closes every connection and frees
// everything. Requests with the handler must have been answered, or be
// answered, with sje__http_respond: it waits for them. Accepts NULL.
void sje__http_close(sje__http *s);

#endif // SJE_SERVER_HTTP_H
