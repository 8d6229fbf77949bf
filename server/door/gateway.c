// gateway.c — the REST front door on our HTTP/1.1 layer (http.h): the
// routes, the call's life, credentials, open and close.
//
// Design. The HTTP layer (http.c) owns the connections: it parses each
// request (http_parse.c), enforces the connection cap and the head, body
// and idle timeouts, refuses what it cannot frame (400, 411, 413 before
// reading an oversized body, 414, 417, 431, 505, in JSON), answers
// "Expect: 100-continue", reads the body, and hands the whole request to
// gw_handle; it writes each answer strictly in order on a connection, and
// closes right after an answer that closes it. The gateway routes
// (gw_routes: a method and an exact path or a path with one parameter
// segment, e.g. DELETE /jobs/{task_id} and GET /jobs/{task_id}/explain;
// several methods may share a path; exact paths are matched first, by
// sje__rest_route_match) so that unknown paths get a JSON 404 and wrong
// methods a JSON 405 whose Allow header lists every method of the path,
// checks credentials, decodes the path parameter into the field its
// route names, maps JSON to the method's input (rest_input.c) and the
// answer back, and renders every response (rest_output.c).
//
// Each request is a sje__rest_call (rest.h), which embeds the sje__call
// handed to the scheduler. It holds one aio of its own (io), used only to
// hop from the scheduler's thread to an nng thread for the rendering. A
// call moves through
//
//   START -> SCHED -> RENDER -> done        (or START -> done)
//
// and is answered at the first step that fails. SCHED is the time with
// the scheduler: its send copies the answer and hops to an nng thread
// (RENDER) so that the JSON rendering never runs on the scheduler's
// thread. Answering (sje__rest_respond) hands the response to the layer
// and frees the call.
//
// Lifetime. The layer keeps a connection while its request is with us:
// only a call with the scheduler can hold one open, so sje__gw_close
// runs after the scheduler answered every call. A client that goes away
// while its call is with the scheduler is noticed when the answer cannot
// be written.
//
// Locking: gw->mtx guards n_posting, n_calls, quiesced and closing. A
// call is touched by one thread at a time (the layer's callback, the
// scheduler's send and the render follow each other), so it has no lock.
#include "door/gateway.h"

#include "door/rest.h"
#include "door/rest_input.h"
#include "door/rest_output.h"
#include "door/ui.h"
#include "door/webguard.h"

#include "clock.h"
#include "log.h"
#include "util.h"

#include <nng/nng.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GW_MAX_TARGET_BYTES 2048u // request target, query included: 414
#define GW_MAX_HEAD_BYTES 16384u  // request line and header fields: 431
#define GW_MAX_FIELDS 100u        // header fields: 431
#define GW_CLOSE_GRACE_S 2        // for answers in flight at close

// gw_send is the call's send: it runs on the scheduler's thread (or in
// sje__sched_post), so it only copies the answer and hops to an nng
// thread to render it.
static void
gw_send(sje__call *base, int code, const char *message, const char *field,
    const uint8_t *body, size_t len)
{
	sje__rest_call *c = (sje__rest_call *) base;
	if (c->base.input != NULL) {
		protobuf_c_message_free_unpacked(c->base.input, NULL);
		c->base.input = NULL;
	}
	c->code      = code;
	c->a_message = message != NULL ? sje__strdup(message) : NULL;
	c->a_field   = field != NULL ? sje__strdup(field) : NULL;
	if (body != NULL && len > 0 && (c->a_body = malloc(len)) != NULL) {
		memcpy(c->a_body, body, len);
		c->a_len = len;
	} else if (body != NULL && len > 0) {
		c->code = SJE__V1__STATUS_CODE__INTERNAL; // out of memory
	}
	c->state = SJE__REST_RENDER;
	if (nng_aio_begin(c->io)) {
		nng_aio_finish(c->io, 0); // runs gw_io_cb on an nng thread
	}
}

// ---- the request's life ------------------------------------------------

// The routes: a method and a path, exact or with one parameter that
// fills the input field named (sje__rest_route, rest.h). Exact paths are
// matched before parameter patterns (sje__rest_route_match).
static const sje__rest_route gw_routes[] = {
	{ "POST", "/submit", NULL, NULL, "Submit", sje__rest_prep_submit,
	    sje__rest_render_submit },
	{ "GET", "/status/", "task_id", "", "GetStatus", sje__rest_prep_id,
	    sje__rest_render_plain },
	{ "POST", "/cancel/", "task_id", "", "Cancel", sje__rest_prep_id,
	    sje__rest_render_cancel },
	{ "POST", "/retry/", "task_id", "", "Retry", sje__rest_prep_body,
	    sje__rest_render_retry },
	{ "GET", "/jobs", NULL, NULL, "ListJobs", sje__rest_prep_query,
	    sje__rest_render_plain },
	{ "POST", "/jobs/cancel", NULL, NULL, "BulkCancel",
	    sje__rest_prep_json, sje__rest_render_plain },
	{ "POST", "/jobs/retry", NULL, NULL, "BulkRetry", sje__rest_prep_json,
	    sje__rest_render_plain },
	{ "POST", "/jobs/delete", NULL, NULL, "BulkDelete",
	    sje__rest_prep_json, sje__rest_render_plain },
	{ "DELETE", "/jobs/", "task_id", "", "DeleteJob", sje__rest_prep_id,
	    sje__rest_render_plain },
	{ "GET", "/jobs/", "task_id", "/explain", "Explain", sje__rest_prep_id,
	    sje__rest_render_explain },
	{ "POST", "/workflows/", "name", "", "RunWorkflow",
	    sje__rest_prep_body, sje__rest_render_workflow },
	// A run's routes have two segments after /workflows/, so they never
	// fit POST /workflows/{name} (one segment, nothing after it).
	{ "GET", "/workflows/runs", NULL, NULL, "ListWorkflowRuns",
	    sje__rest_prep_query, sje__rest_render_plain },
	{ "GET", "/workflows/runs/", "workflow_id", "", "GetWorkflowRun",
	    sje__rest_prep_id, sje__rest_render_plain },
	{ "POST", "/workflows/runs/", "workflow_id", "/cancel",
	    "CancelWorkflowRun", sje__rest_prep_id, sje__rest_render_plain },
	{ "GET", "/functions", NULL, NULL, "ListFunctions",
	    sje__rest_prep_query, sje__rest_render_functions },
	{ "POST", "/functions/", "name", "/pause", "SetFunction",
	    sje__rest_prep_pause, sje__rest_render_function },
	{ "POST", "/functions/", "name", "/resume", "SetFunction",
	    sje__rest_prep_resume, sje__rest_render_function },
	{ "PUT", "/functions/", "name", "/limits", "SetFunction",
	    sje__rest_prep_limits, sje__rest_render_function },
	{ "GET", "/workers", NULL, NULL, "ListWorkers", sje__rest_prep_query,
	    sje__rest_render_plain },
	{ "GET", "/schedules", NULL, NULL, "ListSchedules",
	    sje__rest_prep_query, sje__rest_render_schedules },
	{ "GET", "/events", NULL, NULL, "ListEvents", sje__rest_prep_query,
	    sje__rest_render_plain },
	{ "GET", "/metrics", NULL, NULL, "Stats", sje__rest_prep_query,
	    sje__rest_render_metrics },
	// The same answer as JSON, with the last hour minute by minute (for
	// the dashboard); not a Prometheus exposition, so always served.
	{ "GET", "/stats", NULL, NULL, "Stats", sje__rest_prep_query,
	    sje__rest_render_plain },
	{ "GET", "/healthz", NULL, NULL, NULL, NULL, NULL },
};

static char *gw_header_value(
    const sje__http_request *req, const char *name, const char *scheme);

// gw_post prepares the input and hands the call to the handler.
static void
gw_post(sje__rest_call *c)
{
	sje__gw *gw = c->gw;
	bool     ok = sje__rest_method(c) && c->route->prepare(c);
	c->body     = NULL; // the input holds what it needs
	c->body_len = 0;
	if (!ok) {
		sje__rest_refuse(c);
		return;
	}
	pthread_mutex_lock(&gw->mtx);
	bool q = gw->quiesced;
	if (!q) {
		gw->n_posting++;
	}
	pthread_mutex_unlock(&gw->mtx);
	if (q) {
		sje__rest_error(
		    c, 503, "UNAVAILABLE", "", "the server is shutting down");
		return;
	}
	// The credentials, for a handler that hands the call on
	// (door/leader.h); ours until the handler returns.
	char *bearer    = gw_header_value(c->req, "Authorization", "Bearer");
	char *key       = gw_header_value(c->req, "X-API-Key", NULL);
	c->base.api_key = key;
	c->base.bearer  = bearer;
	c->base.send    = gw_send;
	c->base.origin  = "http";
	c->state        = SJE__REST_SCHED;
	gw->handler(gw->arg, &c->base); // c may be gone on return
	free(key);
	free(bearer);
	pthread_mutex_lock(&gw->mtx);
	if (--gw->n_posting == 0) {
		pthread_cond_broadcast(&gw->cv);
	}
	pthread_mutex_unlock(&gw->mtx);
}

// gw_dispatch answers /healthz, or hands the call on (the body, if any,
// has been read).
static void
gw_dispatch(sje__rest_call *c)
{
	if (c->route->rpc != NULL) {
		gw_post(c);
		return;
	}
	if (!sje__rest_no_query(c)) {
		sje__rest_refuse(c);
		return;
	}
	pthread_mutex_lock(&c->gw->mtx);
	bool q = c->gw->quiesced;
	pthread_mutex_unlock(&c->gw->mtx);
	if (q) {
		sje__rest_error(
		    c, 503, "UNAVAILABLE", "", "the server is shutting down");
		return;
	}
	static const char ok[] = "{\"status\":\"ok\"}";
	sje__rest_respond(c, 200, SJE__REST_JSON, ok, sizeof(ok) - 1, NULL);
}

static void
gw_io_cb(void *arg)
{
	sje__rest_call *c = arg;
	if (c->state == SJE__REST_RENDER) {
		sje__rest_render(c);
		return;
	}
	SJE_ERROR("http: a completion in state %d", (int) c->state);
	sje__rest_error(c, 500, "INTERNAL", "", "internal error");
}

// gw_header_value copies header name of the request into a new string
// (caller owns it), after "<scheme> " when scheme is not NULL. NULL when
// absent, empty, of another scheme, or out of memory.
static char *
gw_header_value(
    const sje__http_request *req, const char *name, const char *scheme)
{
	size_t      n;
	const char *v = sje__http_header(req, name, &n);
	if (v == NULL) {
		return NULL;
	}
	if (scheme != NULL) {
		size_t sl = strlen(scheme);
		if (n <= sl || strncasecmp(v, scheme, sl) != 0 ||
		    (v[sl] != ' ' && v[sl] != '\t')) {
			return NULL;
		}
		v += sl;
		n -= sl;
		while (n > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			n--;
		}
	}
	char *copy = n > 0 ? malloc(n + 1) : NULL;
	if (copy != NULL) {
		memcpy(copy, v, n);
		copy[n] = '\0';
	}
	return copy;
}

// gw_auth_or_reply checks the request's credentials for the route's
// method: true when it may go on; else it has answered 401 (with
// WWW-Authenticate) or 403, and the call is no longer ours. The
// credentials are "Authorization: Bearer <api key or JWT>" and
// "X-API-Key: <key>" (sje__auth_check tells the two bearer kinds apart).
static bool
gw_auth_or_reply(sje__rest_call *c)
{
	const sje__auth *auth = c->gw->auth;
	if (c->route->rpc == NULL || !sje__auth_enabled(auth)) {
		return true; // /healthz, or no authentication configured
	}
	const ProtobufCServiceDescriptor *svc =
	    &sje__v1__coordinator__descriptor;
	const ProtobufCMethodDescriptor *m =
	    protobuf_c_service_descriptor_get_method_by_name(
	        svc, c->route->rpc);
	char   *bearer = gw_header_value(c->req, "Authorization", "Bearer");
	char   *key    = gw_header_value(c->req, "X-API-Key", NULL);
	char    why[256];
	size_t  n;
	sje_err rv = sje__auth_check(auth, key, bearer, svc,
	    m != NULL ? (unsigned) (m - svc->methods) : svc->n_methods, why,
	    sizeof(why));
	if (rv == SJE_EUNAUTH && key == NULL && bearer == NULL &&
	    sje__http_header(c->req, "Authorization", &n) != NULL) {
		sje__snprintf(why, sizeof(why),
		    "the Authorization header must be \"Bearer <api key or "
		    "token>\"");
	}
	free(key);
	free(bearer);
	if (rv == SJE_OK) {
		return true;
	}
	SJE_WARN("http %s %s (%s): refused: %s", c->method, c->path,
	    c->route->rpc, why);
	if (rv == SJE_EPERM) {
		sje__rest_error(c, 403, "PERMISSION_DENIED", "", "%s", why);
	} else if (rv == SJE_EUNAUTH) {
		c->challenge = true;
		sje__rest_error(c, 401, "UNAUTHENTICATED", "", "%s", why);
	} else {
		sje__rest_error(
		    c, 500, "INTERNAL", "", "cannot check credentials");
	}
	return false;
}

// ---- answered here: the dashboard and /whoami ------------------------

// gw_safe_method is true for GET and HEAD, the methods of what the
// gateway answers itself.
static bool
gw_safe_method(const sje__rest_call *c)
{
	return strcmp(c->method, "GET") == 0 || c->head;
}

// gw_ui answers a path of the dashboard (GET / redirects to /ui/): the
// file with its Content-Type and ETag, 304 when the browser has it, 404
// JSON for a name that is not one of its files. The files are public
// (they hold no data); every call they make needs credentials.
static void
gw_ui(sje__rest_call *c, const char *path, size_t pl)
{
	if (!gw_safe_method(c)) {
		sje__rest_error_allow(c, 405, "METHOD_NOT_ALLOWED", "",
		    "GET, HEAD", "%s takes GET, HEAD, not %s", c->path,
		    c->method);
		return;
	}
	if (pl == 1 || (pl == 3 && memcmp(path, "/ui", 3) == 0)) {
		static const char body[] = "{\"location\":\"/ui/\"}";
		sje__rest_respond_with(c, 302, SJE__REST_JSON, body,
		    sizeof(body) - 1, "no-store", "Location: /ui/\r\n");
		return;
	}
	const sje__ui_asset *a = sje__ui_find(path, pl);
	if (a == NULL) {
		sje__rest_error(
		    c, 404, "NOT_FOUND", "", "no such endpoint: %s", c->path);
		return;
	}
	char        extra[128];
	size_t      n;
	const char *inm = sje__http_header(c->req, "If-None-Match", &n);
	sje__snprintf(extra, sizeof(extra), "ETag: %s\r\n", a->etag);
	// no-cache: the browser keeps the file but asks each time, so a new
	// server's dashboard is seen at once (a 304 costs one round trip).
	sje__rest_respond_with(c,
	    inm != NULL && sje__ui_etag_matches(inm, n, a->etag) ? 304 : 200,
	    sje__ui_content_type(a->name), (const char *) a->data, a->len,
	    "no-cache", extra);
}

// gw_whoami answers GET /whoami: who the credentials are, and which
// Coordinator methods and scopes they may use, so that the dashboard
// shows only the actions the key may take. Without authentication
// configured everyone may do everything. Credentials that prove nothing
// get 401, as on any other endpoint.
static void
gw_whoami(sje__rest_call *c)
{
	if (!gw_safe_method(c)) {
		sje__rest_error_allow(c, 405, "METHOD_NOT_ALLOWED", "",
		    "GET, HEAD", "%s takes GET, HEAD, not %s", c->path,
		    c->method);
		return;
	}
	if (!sje__rest_no_query(c)) {
		sje__rest_refuse(c);
		return;
	}
	const sje__auth                  *auth = c->gw->auth;
	const ProtobufCServiceDescriptor *svc =
	    &sje__v1__coordinator__descriptor;
	bool    enabled   = sje__auth_enabled(auth);
	char   *bearer    = gw_header_value(c->req, "Authorization", "Bearer");
	char   *key       = gw_header_value(c->req, "X-API-Key", NULL);
	json_t *can       = json_object();
	json_t *scopes    = json_array();
	char    name[256] = "anonymous";
	bool    known     = !enabled; // the credentials proved who
	for (unsigned i = 0; i < svc->n_methods && can != NULL; i++) {
		char    who[256];
		sje_err rv = sje__auth_check(
		    auth, key, bearer, svc, i, who, sizeof(who));
		if (rv == SJE_EUNAUTH) {
			sje__snprintf(name, sizeof(name), "%s", who);
			break;
		}
		known = true;
		json_object_set_new(
		    can, svc->methods[i].name, json_boolean(rv == SJE_OK));
		if (rv != SJE_OK) {
			continue;
		}
		if (enabled) {
			sje__snprintf(name, sizeof(name), "%s", who);
		}
		const char *scope = sje__auth_scope_of(svc, i);
		scope             = scope != NULL ? scope : "admin";
		bool seen         = false;
		for (size_t k = 0; k < json_array_size(scopes); k++) {
			seen = seen ||
			    strcmp(
			        json_string_value(json_array_get(scopes, k)),
			        scope) == 0;
		}
		if (!seen) {
			json_array_append_new(scopes, json_string(scope));
		}
	}
	free(key);
	free(bearer);
	if (!known) {
		json_decref(can);
		json_decref(scopes);
		c->challenge = true;
		SJE_WARN("http %s %s: refused: %s", c->method, c->path, name);
		sje__rest_error(c, 401, "UNAUTHENTICATED", "", "%s", name);
		return;
	}
	sje__rest_respond_json(c, 200,
	    json_pack("{s:s, s:b, s:o, s:o}", "name", name, "auth", enabled,
	        "scopes", scopes, "can", can),
	    NULL);
}

// gw_start routes a new request (its body read, its framing checked by
// the layer) and answers it or hands it on.
static void
gw_start(sje__rest_call *c)
{
	sje__gw                 *gw  = c->gw;
	const sje__http_request *req = c->req;
	const char              *uri = c->uri;
	size_t                   pl  = strcspn(uri, "?#");

	sje__rest_sanitize(
	    c->method, sizeof(c->method), req->method, req->method_len);
	sje__rest_sanitize(c->path, sizeof(c->path), uri, pl);
	pthread_mutex_lock(&gw->mtx);
	bool closing = gw->closing;
	pthread_mutex_unlock(&gw->mtx);
	c->close = closing || !req->keep_alive;
	c->head  = strcmp(c->method, "HEAD") == 0;

	char why[200];
	if (sje__web_cross_site(req, why, sizeof(why))) {
		SJE_WARN("http %s %s: refused: %s", c->method, c->path, why);
		sje__rest_error(c, 403, "PERMISSION_DENIED", "", "%s", why);
		return;
	}
	if (gw->dashboard &&
	    ((pl == 1 && uri[0] == '/') ||
	        (pl >= 3 && memcmp(uri, "/ui", 3) == 0 &&
	            (pl == 3 || uri[3] == '/')))) {
		gw_ui(c, uri, pl);
		return;
	}
	if (uri[pl] == '?') {
		size_t ql = strcspn(uri + pl + 1, "#");
		if ((c->query = malloc(ql + 1)) == NULL) {
			sje__rest_error(
			    c, 500, "INTERNAL", "", "out of memory");
			return;
		}
		memcpy(c->query, uri + pl + 1, ql);
		c->query[ql] = '\0';
	}
	if (pl == strlen("/whoami") && memcmp(uri, "/whoami", pl) == 0) {
		gw_whoami(c);
		return;
	}

	sje__rest_match m;
	sje__rest_route_match(gw_routes,
	    sizeof(gw_routes) / sizeof(gw_routes[0]), c->method, uri, pl, &m);
	c->route = m.route;
	if (m.first != NULL && m.first->render == sje__rest_render_metrics &&
	    !gw->metrics) {
		sje__rest_error(c, 404, "NOT_FOUND", "",
		    "metrics are not served (monitoring.metrics is false)");
		return;
	}
	if (m.first == NULL) {
		sje__rest_error(
		    c, 404, "NOT_FOUND", "", "no such endpoint: %s", c->path);
		return;
	}
	if (m.route == NULL) {
		sje__rest_error_allow(c, 405, "METHOD_NOT_ALLOWED", "",
		    m.allow, "%s takes %s, not %s", c->path, m.allow,
		    c->method);
		return;
	}
	if (!gw_auth_or_reply(c)) {
		return;
	}
	if (m.param != NULL && !sje__rest_param(c, m.param, m.param_len)) {
		sje__rest_refuse(c);
		return;
	}
	gw_dispatch(c);
}

// gw_handle is the layer's handler for every request.
static void
gw_handle(void *arg, sje__http_conn *conn, const sje__http_request *req,
    const uint8_t *body, size_t body_len)
{
	sje__gw        *gw = arg;
	sje__rest_call *c  = calloc(1, sizeof(*c));
	if (c == NULL || nng_aio_alloc(&c->io, gw_io_cb, c) != 0 ||
	    (c->uri = malloc(req->target_len + 1)) == NULL) {
		if (c != NULL && c->io != NULL) {
			nng_aio_free(c->io);
		}
		free(c);
		sje__http_respond(conn, NULL, 0, true); // closes it
		return;
	}
	memcpy(c->uri, req->target, req->target_len);
	c->uri[req->target_len] = '\0';
	c->gw                   = gw;
	c->conn                 = conn;
	c->req                  = req;
	c->body                 = body;
	c->body_len             = body_len;
	c->start_ms             = sje_mono_ms();
	c->state                = SJE__REST_START;
	pthread_mutex_lock(&gw->mtx);
	gw->n_calls++;
	pthread_mutex_unlock(&gw->mtx);
	gw_start(c);
}

// ---- the server ------------------------------------------------------------

sje_err
sje__gw_open(const sje__gw_options *opts, sje__gw_handler handler, void *arg,
    sje__gw **out, char *bound_url, size_t len)
{
	const char *listen = opts != NULL ? opts->listen : NULL;
	if (listen == NULL || listen[0] == '\0' ||
	    strchr(listen, '/') != NULL) {
		return SJE_EINVAL;
	}
	sje__gw *gw = calloc(1, sizeof(*gw));
	if (gw == NULL) {
		return SJE_ENOMEM;
	}
	gw->handler        = handler;
	gw->arg            = arg;
	gw->max_body_bytes = opts->max_body_bytes;
	gw->metrics        = opts->metrics;
	gw->dashboard      = opts->dashboard;
	gw->auth           = opts->auth;
	pthread_mutex_init(&gw->mtx, NULL);
	sje_err rv = sje__cond_init_mono(&gw->cv); // for the close's grace
	if (rv != SJE_OK) {
		pthread_mutex_destroy(&gw->mtx);
		free(gw);
		return rv;
	}

	char url[600];
	sje__snprintf(url, sizeof(url), "%s://%s",
	    opts->tls != NULL ? "tls+tcp" : "tcp", listen);
	sje__http_options ho = {
		.url               = url,
		.tls               = opts->tls,
		.header_timeout_ms = opts->header_timeout_ms,
		.body_timeout_ms   = opts->body_timeout_ms,
		.idle_timeout_ms   = opts->idle_timeout_ms,
		.max_connections   = opts->max_connections,
		.max_body_bytes    = opts->max_body_bytes,
		.limits            = { .max_target_bytes = GW_MAX_TARGET_BYTES,
		               .max_head_bytes           = GW_MAX_HEAD_BYTES,
		               .max_fields               = GW_MAX_FIELDS },
	};
	int port = 0;
	rv       = sje__http_open(&ho, gw_handle, gw, &gw->http, &port);
	if (rv != SJE_OK) {
		pthread_cond_destroy(&gw->cv);
		pthread_mutex_destroy(&gw->mtx);
		free(gw);
		return rv;
	}
	// Keep the host as configured, with the bound port.
	const char *colon = strrchr(listen, ':');
	sje__snprintf(bound_url, len, "%s://%.*s:%d",
	    opts->tls != NULL ? "https" : "http",
	    (int) (colon != NULL ? colon - listen : 0), listen, port);
	*out = gw;
	return SJE_OK;
}

void
sje__gw_quiesce(sje__gw *gw)
{
	if (gw == NULL) {
		return;
	}
	pthread_mutex_lock(&gw->mtx);
	gw->quiesced = true;
	while (gw->n_posting > 0) {
		pthread_cond_wait(&gw->cv, &gw->mtx);
	}
	pthread_mutex_unlock(&gw->mtx);
}

void
sje__gw_close(sje__gw *gw)
{
	if (gw == NULL) {
		return;
	}
	// Let the answers already on their way (the scheduler answered every
	// held call as it closed) go out, for a little while: new requests
	// get 503 and a close meanwhile.
	sje_dur_ms deadline = sje_mono_ms() + GW_CLOSE_GRACE_S * 1000;
	pthread_mutex_lock(&gw->mtx);
	gw->quiesced = true;
	gw->closing  = true;
	while (gw->n_calls > 0 &&
	    sje__cond_wait_until(&gw->cv, &gw->mtx, deadline)) { }
	pthread_mutex_unlock(&gw->mtx);
	// Closes every connection and waits until each has ended (a call
	// still rendering answers, and its connection ends then).
	sje__http_close(gw->http);
	pthread_mutex_lock(&gw->mtx);
	while (gw->n_calls > 0) {
		pthread_cond_wait(&gw->cv, &gw->mtx);
	}
	pthread_mutex_unlock(&gw->mtx);
	pthread_cond_destroy(&gw->cv);
	pthread_mutex_destroy(&gw->mtx);
	free(gw);
}
