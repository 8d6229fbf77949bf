// gateway.h — the server's REST front door: JSON over HTTP.
//
// sje__gw serves the REST API of API.md on our HTTP/1.1 layer (http.h),
// which guards the connections (a cap, timeouts, limits): it turns
// each request into an sje__call (the method's input message, built with
// the generic JSON mapping of pbjson.h) and hands it to the handler (the
// scheduler), exactly as the RPC endpoint does; the handler answers
// through the call's send, and the gateway renders that answer as JSON (or
// Prometheus text for /metrics). /healthz, unknown paths, wrong methods
// and malformed requests are answered here and never reach the handler.
// Every response, errors included, is JSON with the HTTP status of the
// one table in sje__gw_http_status.
//
// The HTTP framing (parsing, timeouts, the connection cap) is http.h's;
// routing and credentials are gateway.c's, the JSON mapping of requests
// rest_input.c's, rendering and the status table rest_output.c's (their
// shared call struct: rest.h).
#ifndef SJE_SERVER_GATEWAY_H
#define SJE_SERVER_GATEWAY_H

#include "door/auth.h"
#include "sched/call.h"

typedef struct sje__gw sje__gw;

struct nng_tls_config;

// sje__gw_handler receives a decoded call. It runs on an nng thread: it
// must not block, and it owns the call until it answers (from any
// thread). sje__sched_post is one.
typedef void (*sje__gw_handler)(void *arg, sje__call *call);

// sje__gw_options says how to serve (from config's http and monitoring).
typedef struct sje__gw_options {
	const char *listen;            // "host:port"; port 0 picks a free one
	size_t      max_body_bytes;    // larger request bodies get 413
	uint32_t    header_timeout_ms; // a request head, from its first byte
	uint32_t    body_timeout_ms;   // a request body; writing a response
	uint32_t idle_timeout_ms; // a kept-alive connection between requests
	uint32_t max_connections; // open at once; more get 503
	bool     metrics;         // serve GET /metrics (else 404)
	bool     dashboard;       // serve the dashboard at /ui/ (else 404)
	// Who may call what (borrowed: must outlive the gateway). NULL or
	// disabled: every request is allowed. Enabled: every endpoint but
	// /healthz needs "Authorization: Bearer <api key or JWT>" or
	// "X-API-Key: <key>"; 401 without valid ones, 403 without the scope.
	const sje__auth *auth;
	// tls: NULL serves plain HTTP; otherwise HTTPS with this server
	// config (borrowed: the server takes its own reference).
	struct nng_tls_config *tls;
} sje__gw_options;

// sje__gw_open listens as opts say (borrowed for the call only) and
// starts serving. The URL actually bound ("http://127.0.0.1:PORT", or
// "https://..." with opts->tls) is
// written to bound_url (len bytes). *out is written on SJE_OK; caller
// owns it. Errors: SJE_EINVAL for a bad address, SJE_EEXIST when it is in
// use, others from nng.
sje_err sje__gw_open(const sje__gw_options *opts, sje__gw_handler handler,
    void *arg, sje__gw **out, char *bound_url, size_t len);

// sje__gw_quiesce stops handing calls to the handler: from its return on,
// requests are answered 503 here, and no handler call is running.
// Answers to calls already handed over still go out. Thread-safe;
// accepts NULL.
void sje__gw_quiesce(sje__gw *gw);

// sje__gw_close stops listening, closes every connection and frees
// everything. Every call handed to the handler must have been answered
// first (sje__sched_close answers them all). Accepts NULL.
void sje__gw_close(sje__gw *gw);

// sje__gw_http_status maps a gRPC status code (sje.v1.StatusCode) to the
// HTTP status the gateway answers with: the one table of SJE's HTTP
// codes (rest_output.c). Codes it does not name are 500. Pure.
int sje__gw_http_status(int code);

#endif // SJE_SERVER_GATEWAY_H
