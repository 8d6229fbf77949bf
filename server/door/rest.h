// rest.h — the REST gateway's internals, shared by its parts (internal to
// server/door/; the rest of the server sees only gateway.h).
//
// The gateway is three files around the one call struct below:
//
//   gateway.c      the routes, the call's life (START -> SCHED -> RENDER),
//                  credentials, open / quiesce / close
//   rest_input.c   requests -> the method's input message (matching the
//                  path against the route table, the query string,
//                  percent-decoding, JSON bodies); records why a request
//                  is refused (rest_input.h)
//   rest_output.c  answers: the handler's answer rendered as JSON (or
//                  Prometheus text), errors, the status table; answering
//                  frees the call (rest_output.h)
//
// gateway.c calls into both; rest_input.c uses rest_output.c's
// sje__rest_sanitize only; rest_output.c calls neither.
//
// Which thread touches a call when. A call is touched by one thread at a
// time, so it has no lock:
//   START   the HTTP layer's callback (an nng thread): gateway.c routes
//           it, checks credentials, rest_input.c builds the input;
//   SCHED   the scheduler's thread, in the call's send (gateway.c): it
//           copies the answer and hops to an nng thread;
//   RENDER  that nng thread (the call's io aio): rest_output.c renders.
// Answering at any step (sje__rest_respond) hands the response to the
// layer and frees the call: whoever answers must not touch it afterwards.
#ifndef SJE_SERVER_REST_H
#define SJE_SERVER_REST_H

#include <sje/v1/coordinator.pb-c.h>

#include "door/gateway.h"
#include "door/http.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SJE__REST_LOG_PATH_BYTES 160u // a request's path, for logs
#define SJE__REST_FIELD_BYTES 256u    // an error's field
#define SJE__REST_MSG_BYTES 512u      // an error's message
#define SJE__REST_JSON "application/json"

struct nng_aio;

// sje__gw is the gateway (gateway.c makes it; rest_output.c counts its
// calls down as it frees them). Locking: mtx guards n_posting, n_calls,
// quiesced and closing; the rest is read-only after sje__gw_open.
struct sje__gw {
	sje__http       *http;
	sje__gw_handler  handler;
	void            *arg;
	size_t           max_body_bytes;
	bool             metrics;   // GET /metrics is served
	bool             dashboard; // /ui/ is served, and / redirects there
	const sje__auth *auth;      // borrowed; NULL: no authentication

	pthread_mutex_t mtx;
	pthread_cond_t  cv;        // n_posting or n_calls dropped to 0
	int             n_posting; // handler calls running (mtx)
	int             n_calls;   // calls alive (mtx)
	bool            quiesced;  // no more handler calls (mtx)
	bool            closing;   // (mtx)
};

// sje__rest_state is where a call is in its life (see above).
typedef enum sje__rest_state {
	SJE__REST_START,  // routing the request
	SJE__REST_SCHED,  // with the handler
	SJE__REST_RENDER, // answered; rendering on an nng thread
} sje__rest_state;

typedef struct sje__rest_call  sje__rest_call;
typedef struct sje__rest_route sje__rest_route;

// sje__rest_prepare_fn builds c->base's input from the request, or
// records why not with sje__rest_fail and returns false; the caller
// answers (sje__rest_refuse). It never answers itself.
typedef bool (*sje__rest_prepare_fn)(sje__rest_call *c);

// sje__rest_render_fn turns the handler's OK answer (out, an instance of
// the method's output, borrowed for the call) into the response: it
// answers, so c is gone on return.
typedef void (*sje__rest_render_fn)(
    sje__rest_call *c, const ProtobufCMessage *out);

// sje__rest_route is one endpoint of gateway.c's route table: a method
// and a path pattern, either an exact path (param NULL) or path, then one
// parameter (a whole, non-empty path segment: no '/'), then suffix ("":
// the parameter ends the path; else it starts with '/'), e.g. "/jobs/"
// {task_id} "/explain". Several routes may share a path with different
// methods (sje__rest_route_match, rest_input.h).
struct sje__rest_route {
	const char *method; // "GET" (HEAD too), "POST", "PUT" or "DELETE"
	const char *path;   // the exact path, or the part before the param
	const char *param;  // the input field the parameter fills; NULL: none
	const char *suffix; // after the parameter ("" or "/..."); NULL: none
	const char *rpc;    // Coordinator method; NULL: answered here
	sje__rest_prepare_fn prepare;
	sje__rest_render_fn  render;
};

// sje__rest_call is one request, from the layer's callback until it is
// answered. gateway.c allocates it; sje__rest_respond frees it.
struct sje__rest_call {
	sje__call                base; // first: the scheduler sees only this
	sje__gw                 *gw;
	sje__http_conn          *conn; // the layer's, until we respond
	const sje__http_request *req;  // borrowed until we respond
	struct nng_aio          *io;   // ours: the hop to RENDER
	sje__rest_state          state;
	const sje__rest_route   *route;
	sje_dur_ms               start_ms;
	char                     method[16];
	char           path[SJE__REST_LOG_PATH_BYTES]; // raw, printable
	char          *param;     // the decoded path parameter (owned)
	char          *uri;       // the request target (owned)
	char          *query;     // raw query text, after '?' (owned)
	bool           head;      // HEAD: the response has no body
	bool           close;     // close the connection after the response
	bool           batch;     // POST /submit with {"tasks": [...]}
	bool           challenge; // 401: say "WWW-Authenticate: Bearer"
	const uint8_t *body;      // the request body (borrowed, as req)
	size_t         body_len;
	// The handler's answer, copied by the call's send (owned).
	int      code;
	char    *a_message;
	char    *a_field;
	uint8_t *a_body;
	size_t   a_len;
	// Why prepare refused the request (answered by the caller).
	int         e_status;
	const char *e_code;
	char        e_field[SJE__REST_FIELD_BYTES];
	char        e_msg[SJE__REST_MSG_BYTES];
	int         status; // of the response
};

#endif // SJE_SERVER_REST_H
