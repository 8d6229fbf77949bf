// gateway.c — the REST front door on our HTTP/1.1 layer (http.h).
//
// Design. The HTTP layer (http.c) owns the connections: it parses each
// request (http_parse.c), enforces the connection cap and the head, body
// and idle timeouts, refuses what it cannot frame (400, 411, 413 before
// reading an oversized body, 414, 417, 431, 505, in JSON), answers
// "Expect: 100-continue", reads the body, and hands the whole request to
// gw_handle; it writes each answer as ONE buffer (status line, headers
// and body: one write, hence one TLS record, PLATFORM.md), strictly in
// order on a connection, and closes right after an answer that closes it.
// The gateway routes (gw_routes) so that unknown paths and wrong methods
// get JSON 404/405, checks credentials, maps JSON to the method's input
// and the answer back, and renders every response.
//
// Each request is a gw_call, which embeds the sje__call handed to the
// scheduler. It holds one aio of its own (io), used only to hop from the
// scheduler's thread to an nng thread for the rendering. A call moves
// through
//
//   START -> SCHED -> RENDER -> done        (or START -> done)
//
// and is answered at the first step that fails. SCHED is the time with
// the scheduler: its send copies the answer and hops to an nng thread
// (RENDER) so that the JSON rendering never runs on the scheduler's
// thread. Answering (gw_respond) hands the response to the layer and
// frees the call.
//
// Lifetime. The layer keeps a connection while its request is with us:
// only a call with the scheduler can hold one open, so sje__gw_close
// runs after the scheduler answered every call. A client that goes away
// while its call is with the scheduler is noticed when the answer cannot
// be written.
//
// Locking: gw->mtx guards n_posting, n_calls, quiesced and closing. A
// gw_call is touched by one thread at a time (the layer's callback, the
// scheduler's send and the render follow each other), so it has no lock.
#include "door/gateway.h"

#include <sje/v1/coordinator.pb-c.h>

#include "clock.h"
#include "events/metrics.h"
#include "log.h"
#include "pbjson.h"
#include "util.h"

#include "door/http.h"

#include <nng/nng.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define GW_MAX_TARGET_BYTES 2048u // request target, query included: 414
#define GW_MAX_HEAD_BYTES 16384u  // request line and header fields: 431
#define GW_MAX_FIELDS 100u        // header fields: 431
#define GW_MAX_WAIT_S 600u        // /events?wait_s=
#define GW_CLOSE_GRACE_S 2        // for answers in flight at close
#define GW_LOG_PATH_BYTES 160u
#define GW_FIELD_BYTES 256u
#define GW_MSG_BYTES 512u

#define GW_JSON "application/json"

struct sje__gw {
	sje__http       *http;
	sje__gw_handler  handler;
	void            *arg;
	size_t           max_body_bytes;
	bool             metrics; // GET /metrics is served
	const sje__auth *auth;    // borrowed; NULL: no authentication

	pthread_mutex_t mtx;
	pthread_cond_t  cv;        // n_posting or n_calls dropped to 0
	int             n_posting; // handler calls running (mtx)
	int             n_calls;   // gw_calls alive (mtx)
	bool            quiesced;  // no more handler calls (mtx)
	bool            closing;   // (mtx)
};

typedef enum gw_state {
	GW_START,  // routing the request
	GW_SCHED,  // with the handler
	GW_RENDER, // answered; rendering on an nng thread
} gw_state;

typedef struct gw_call  gw_call;
typedef struct gw_route gw_route;

// gw_prepare_fn builds c->base's input from the request, or records why
// not with gw_fail and returns false; the caller answers. (Answering
// starts a write that may end, and free the call, on another thread at
// once: whoever answers must not touch the call afterwards.)
typedef bool (*gw_prepare_fn)(gw_call *c);

// gw_render_fn turns the handler's OK answer (out, an instance of the
// method's output) into the response.
typedef void (*gw_render_fn)(gw_call *c, const ProtobufCMessage *out);

struct gw_route {
	const char   *path;   // exact, or a prefix ending in '/' when param
	bool          param;  // the rest of the path is one parameter
	const char   *method; // "GET" (HEAD too) or "POST"
	const char   *rpc;    // Coordinator method; NULL: answered here
	gw_prepare_fn prepare;
	gw_render_fn  render;
};

struct gw_call {
	sje__call                base; // first: the scheduler sees only this
	sje__gw                 *gw;
	sje__http_conn          *conn; // the layer's, until we respond
	const sje__http_request *req;  // borrowed until we respond
	nng_aio                 *io;   // ours: the hop to RENDER
	gw_state                 state;
	const gw_route          *route;
	sje_dur_ms               start_ms;
	char                     method[16];
	char           path[GW_LOG_PATH_BYTES]; // raw, printable, for logs
	char          *param;     // the decoded path parameter (owned)
	char          *uri;       // the request target (owned)
	char          *query;     // raw query text, after '?' (owned)
	bool           head;      // HEAD: the response has no body
	bool           close;     // close the connection after the response
	bool           batch;     // POST /submit with {"tasks": [...]}
	bool           challenge; // 401: say "WWW-Authenticate: Bearer"
	const uint8_t *body;      // the request body (borrowed, as req)
	size_t         body_len;
	// The handler's answer, copied by gw_send (owned).
	int      code;
	char    *a_message;
	char    *a_field;
	uint8_t *a_body;
	size_t   a_len;
	// Why prepare refused the request (answered by the caller).
	int         e_status;
	const char *e_code;
	char        e_field[GW_FIELD_BYTES];
	char        e_msg[GW_MSG_BYTES];
	int         status; // of the response
};

static void gw_io_cb(void *arg);

// ---- status codes -------------------------------------------------------

// The one table from gRPC status codes to HTTP statuses.
static const struct {
	int code;
	int http;
} gw_status_table[] = {
	{ SJE__V1__STATUS_CODE__OK, 200 },
	{ SJE__V1__STATUS_CODE__INVALID_ARGUMENT, 400 },
	{ SJE__V1__STATUS_CODE__OUT_OF_RANGE, 400 },
	{ SJE__V1__STATUS_CODE__UNAUTHENTICATED, 401 },
	{ SJE__V1__STATUS_CODE__PERMISSION_DENIED, 403 },
	{ SJE__V1__STATUS_CODE__NOT_FOUND, 404 },
	{ SJE__V1__STATUS_CODE__ALREADY_EXISTS, 409 },
	{ SJE__V1__STATUS_CODE__FAILED_PRECONDITION, 409 },
	{ SJE__V1__STATUS_CODE__ABORTED, 409 },
	{ SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED, 429 },
	{ SJE__V1__STATUS_CODE__UNIMPLEMENTED, 501 },
	{ SJE__V1__STATUS_CODE__UNAVAILABLE, 503 },
};

int
sje__gw_http_status(int code)
{
	for (size_t i = 0;
	     i < sizeof(gw_status_table) / sizeof(gw_status_table[0]); i++) {
		if (gw_status_table[i].code == code) {
			return gw_status_table[i].http;
		}
	}
	return 500;
}

// ---- calls ---------------------------------------------------------------

// gw_sanitize copies n bytes of s into buf as printable ASCII (for logs).
static void
gw_sanitize(char *buf, size_t len, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		unsigned char ch = (unsigned char) s[i];
		buf[o++]         = ch > 0x20 && ch < 0x7f ? (char) ch : '?';
	}
	if (len > 0) {
		buf[o] = '\0';
	}
}

static void
gw_call_free(gw_call *c)
{
	if (c->base.input != NULL) {
		protobuf_c_message_free_unpacked(c->base.input, NULL);
	}
	free(c->param);
	free(c->uri);
	free(c->query);
	free(c->a_message);
	free(c->a_field);
	free(c->a_body);
	// Maybe from the io aio's own callback: nng_aio_reap, never free.
	if (c->io != NULL) {
		nng_aio_reap(c->io);
	}
	sje__gw *gw = c->gw;
	free(c);
	pthread_mutex_lock(&gw->mtx);
	if (--gw->n_calls == 0) {
		pthread_cond_broadcast(&gw->cv);
	}
	pthread_mutex_unlock(&gw->mtx);
}

// gw_done logs the request and frees the call.
static void
gw_done(gw_call *c)
{
	double ms = (double) (sje_mono_ms() - c->start_ms);
	SJE_INFO("http %s %s %d %.0f ms", c->method, c->path, c->status, ms);
	gw_call_free(c);
}

// gw_respond answers: status, content type, body (len bytes, copied),
// an Allow header when allow is not NULL, all in one buffer that the
// layer writes. Takes over the call: it is freed here.
static void
gw_respond(gw_call *c, int status, const char *ctype, const char *body,
    size_t len, const char *allow)
{
	char head[512];
	int  n      = snprintf(head, sizeof(head),
	          "HTTP/1.1 %d %s\r\n"
	                "Content-Type: %s\r\n"
	                "Content-Length: %zu\r\n"
	                "Cache-Control: no-store\r\n"
	                "%s%s%s"
	                "%s"
	                "%s"
	                "\r\n",
	          status, sje__http_reason(status), ctype, len,
            allow != NULL ? "Allow: " : "", allow != NULL ? allow : "",
            allow != NULL ? "\r\n" : "",
            c->challenge ? "WWW-Authenticate: Bearer realm=\"sje\"\r\n" : "",
            c->close ? "Connection: close\r\n" : "");
	c->status   = status;
	size_t blen = c->head ? 0 : len;
	char  *resp = NULL;
	if (n >= 0 && (size_t) n < sizeof(head) &&
	    (resp = malloc((size_t) n + blen)) != NULL) {
		memcpy(resp, head, (size_t) n);
		if (blen > 0) {
			memcpy(resp + n, body, blen);
		}
	}
	// NULL (out of memory): the layer closes the connection.
	sje__http_respond(
	    c->conn, resp, resp != NULL ? (size_t) n + blen : 0, c->close);
	gw_done(c);
}

// gw_json_text makes a JSON string of s, which may not be UTF-8 (a
// message or a field naming what a client sent).
static json_t *
gw_json_text(const char *s)
{
	json_t *j = json_string(s != NULL ? s : "");
	if (j == NULL && s != NULL) {
		char buf[GW_MSG_BYTES];
		gw_sanitize(buf, sizeof(buf), s, strlen(s));
		j = json_string(buf);
	}
	return j;
}

// gw_respond_json renders j (taken) as the response body.
static void
gw_respond_json(gw_call *c, int status, json_t *j, const char *allow)
{
	char *text = j != NULL ? sje__json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (text == NULL) {
		static const char oom[] = "{\"error\":{\"code\":\"INTERNAL\","
		                          "\"message\":\"out of memory\","
		                          "\"field\":\"\"}}";
		gw_respond(c, 500, GW_JSON, oom, sizeof(oom) - 1, NULL);
		return;
	}
	gw_respond(c, status, GW_JSON, text, strlen(text), allow);
	free(text);
}

// gw_error answers {"error": {"code", "message", "field"}} with status.
static void gw_error_allow(gw_call *c, int status, const char *code,
    const char *field, const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
gw_error_allow(gw_call *c, int status, const char *code, const char *field,
    const char *allow, const char *fmt, ...)
{
	char    msg[GW_MSG_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *e = json_object();
	json_t *j = json_object();
	if (e == NULL || j == NULL ||
	    json_object_set_new(e, "code", json_string(code)) != 0 ||
	    json_object_set_new(e, "message", gw_json_text(msg)) != 0 ||
	    json_object_set_new(e, "field", gw_json_text(field)) != 0 ||
	    json_object_set_new(j, "error", e) != 0) {
		json_decref(e);
		json_decref(j);
		j = NULL;
	}
	gw_respond_json(c, status, j, allow);
}

#define gw_error(c, status, code, field, ...) \
	gw_error_allow((c), (status), (code), (field), NULL, __VA_ARGS__)

// gw_bad answers 400 INVALID_ARGUMENT for field with msg.
static void
gw_bad(gw_call *c, const char *field, const char *msg)
{
	gw_error(c, 400, "INVALID_ARGUMENT", field, "%s", msg);
}

// gw_fail records a refusal for the caller to answer with gw_refuse.
static bool
gw_fail(gw_call *c, int status, const char *code, const char *field,
    const char *msg)
{
	c->e_status = status;
	c->e_code   = code;
	sje__snprintf(c->e_field, sizeof(c->e_field), "%s", field);
	sje__snprintf(c->e_msg, sizeof(c->e_msg), "%s", msg);
	return false;
}

// gw_fail_bad records a 400 INVALID_ARGUMENT for field.
static bool
gw_fail_bad(gw_call *c, const char *field, const char *msg)
{
	return gw_fail(c, 400, "INVALID_ARGUMENT", field, msg);
}

// gw_refuse answers what gw_fail recorded.
static void
gw_refuse(gw_call *c)
{
	if (c->e_code == NULL) {
		gw_error(c, 500, "INTERNAL", "", "internal error");
		return;
	}
	gw_error(c, c->e_status, c->e_code, c->e_field, "%s", c->e_msg);
}

// ---- requests ------------------------------------------------------------

// gw_pct_decode percent-decodes n bytes of s into a new string; '+' is a
// space when plus is set (query strings). NULL for a bad escape or %00.
static char *
gw_pct_decode(const char *s, size_t n, bool plus)
{
	char *out = malloc(n + 1);
	if (out == NULL) {
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '%') {
			unsigned v = 0;
			for (int k = 1; k <= 2; k++) {
				char x = i + (size_t) k < n ? s[i + (size_t) k]
				                            : '\0';
				v <<= 4;
				if (x >= '0' && x <= '9') {
					v |= (unsigned) (x - '0');
				} else if (x >= 'a' && x <= 'f') {
					v |= (unsigned) (x - 'a' + 10);
				} else if (x >= 'A' && x <= 'F') {
					v |= (unsigned) (x - 'A' + 10);
				} else {
					free(out);
					return NULL;
				}
			}
			if (v == 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char) v;
			i += 2;
		} else if (ch == '+' && plus) {
			out[o++] = ' ';
		} else {
			out[o++] = ch;
		}
	}
	out[o] = '\0';
	return out;
}

// gw_input_error records a JSON mapping failure; returns false.
static bool
gw_input_error(gw_call *c, sje_err rv, const char *field, const char *msg)
{
	if (rv == SJE_ENOMEM) {
		return gw_fail(c, 500, "INTERNAL", "", "out of memory");
	}
	return gw_fail_bad(c, field, msg);
}

// gw_method resolves the route's Coordinator method into c->base.
static bool
gw_method(gw_call *c)
{
	const ProtobufCServiceDescriptor *svc =
	    &sje__v1__coordinator__descriptor;
	const ProtobufCMethodDescriptor *m =
	    protobuf_c_service_descriptor_get_method_by_name(
	        svc, c->route->rpc);
	if (m == NULL) {
		return gw_fail(c, 501, "UNIMPLEMENTED", "",
		    "this endpoint is not served by this server yet");
	}
	c->base.service = svc;
	c->base.method  = (unsigned) (m - svc->methods);
	return true;
}

static const ProtobufCMessageDescriptor *
gw_input_desc(const gw_call *c)
{
	return c->base.service->methods[c->base.method].input;
}

// gw_query_value converts a query value for field f to JSON: integers
// and bools as such when they read as one, else a string (which the
// mapping then judges).
static json_t *
gw_query_value(const ProtobufCFieldDescriptor *f, const char *v)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		char     *end;
		long long n = strtoll(v, &end, 10);
		if (*v != '\0' && *end == '\0' && n > INT64_MIN &&
		    n < INT64_MAX &&
		    (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))) {
			return json_integer(n);
		}
		return json_string(v);
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
			return json_true();
		}
		if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
			return json_false();
		}
		return json_string(v);
	default:
		return json_string(v); // 64-bit integers read strings too
	}
}

// gw_query fills obj from the query string with the fields of d that are
// scalars (by their names; an empty value is absent), and wait_s as
// wait_ms for routes that have it. Records a 400 and returns false on
// error.
static bool
gw_query(gw_call *c, const ProtobufCMessageDescriptor *d, json_t *obj)
{
	const char *q = c->query;
	while (q != NULL && *q != '\0') {
		size_t      n   = strcspn(q, "&");
		const char *eq  = memchr(q, '=', n);
		size_t      kn  = eq != NULL ? (size_t) (eq - q) : n;
		char       *key = gw_pct_decode(q, kn, true);
		char       *val = eq != NULL
		          ? gw_pct_decode(eq + 1, n - kn - 1, true)
		          : sje__strdup("");
		char        raw[64];
		gw_sanitize(raw, sizeof(raw), q, kn);
		q += n;
		if (*q == '&') {
			q++;
		}
		if (key == NULL || val == NULL) {
			free(key);
			free(val);
			gw_fail_bad(c, raw, "not valid percent-encoding");
			return false;
		}
		if (key[0] == '\0' && val[0] == '\0') {
			free(key);
			free(val);
			continue; // "a=1&&b=2"
		}
		const char *name = key;
		json_t     *v    = NULL;
		bool        ok   = true;
		const char *why  = NULL;
		if (strcmp(key, "wait_s") == 0 &&
		    protobuf_c_message_descriptor_get_field_by_name(
		        d, "wait_ms") != NULL) {
			// Seconds here, milliseconds in the message.
			name = "wait_ms";
			char         *end;
			unsigned long s = strtoul(val, &end, 10);
			if (val[0] == '\0') {
				v = json_null();
			} else if (val[0] < '0' || val[0] > '9' ||
			    *end != '\0' || s > GW_MAX_WAIT_S) {
				ok  = false;
				why = "expected whole seconds from 0 to 600";
			} else {
				v = json_integer((json_int_t) s * 1000);
			}
		} else {
			const ProtobufCFieldDescriptor *f =
			    protobuf_c_message_descriptor_get_field_by_name(
			        d, key);
			if (f == NULL ||
			    f->label == PROTOBUF_C_LABEL_REPEATED ||
			    f->type == PROTOBUF_C_TYPE_MESSAGE ||
			    f->type == PROTOBUF_C_TYPE_BYTES) {
				ok  = false;
				why = "unknown query parameter";
			} else if (val[0] == '\0') {
				v = json_null(); // "?state=&function=": absent
			} else if ((v = gw_query_value(f, val)) == NULL) {
				ok  = false;
				why = "not valid UTF-8";
			}
		}
		if (ok && json_object_get(obj, name) != NULL) {
			ok  = false;
			why = "given twice";
		}
		if (ok && json_object_set_new(obj, name, v) != 0) {
			ok  = false;
			why = "not valid UTF-8";
			v   = NULL; // set_new took it
		} else if (!ok) {
			json_decref(v);
		}
		if (!ok) {
			gw_fail_bad(c, raw, why);
			free(key);
			free(val);
			return false;
		}
		free(key);
		free(val);
	}
	return true;
}

// gw_prep_query builds the input of a GET route from its query string.
static bool
gw_prep_query(gw_call *c)
{
	const ProtobufCMessageDescriptor *d   = gw_input_desc(c);
	json_t                           *obj = json_object();
	if (obj == NULL) {
		gw_fail(c, 500, "INTERNAL", "", "out of memory");
		return false;
	}
	if (!gw_query(c, d, obj)) {
		json_decref(obj);
		return false;
	}
	char    field[GW_FIELD_BYTES], msg[GW_MSG_BYTES];
	sje_err rv = sje__json_value_to_pb(d, obj, NULL, &c->base.input, field,
	    sizeof(field), msg, sizeof(msg));
	json_decref(obj);
	if (rv != SJE_OK) {
		// The message's wait_ms is the query's wait_s.
		return gw_input_error(c, rv,
		    strcmp(field, "wait_ms") == 0 ? "wait_s" : field, msg);
	}
	return true;
}

// gw_no_query refuses (records) any query parameter on routes that
// take none.
static bool
gw_no_query(gw_call *c)
{
	if (c->query != NULL && c->query[0] != '\0') {
		char raw[64];
		gw_sanitize(
		    raw, sizeof(raw), c->query, strcspn(c->query, "=&"));
		gw_fail_bad(c, raw, "unknown query parameter");
		return false;
	}
	return true;
}

// gw_prep_id builds {"task_id": <path parameter>} (GetStatus, Cancel).
static bool
gw_prep_id(gw_call *c)
{
	if (!gw_no_query(c)) {
		return false;
	}
	json_t *obj = json_object();
	json_t *id  = json_string(c->param);
	if (obj == NULL || id == NULL ||
	    json_object_set_new(obj, "task_id", id) != 0) {
		json_decref(obj);
		gw_fail_bad(c, "task_id", "task_id is not valid UTF-8");
		return false;
	}
	char    field[GW_FIELD_BYTES], msg[GW_MSG_BYTES];
	sje_err rv = sje__json_value_to_pb(gw_input_desc(c), obj, NULL,
	    &c->base.input, field, sizeof(field), msg, sizeof(msg));
	json_decref(obj);
	if (rv != SJE_OK) {
		return gw_input_error(c, rv, field, msg);
	}
	return true;
}

// gw_parse_body parses the body as JSON (whatever Content-Type said),
// naming the field where it broke with the help of d. Records (gw_fail)
// and returns NULL on error; an empty body is {} when empty_ok.
static json_t *
gw_parse_body(gw_call *c, const ProtobufCMessageDescriptor *d, bool empty_ok)
{
	if (c->body_len == 0) {
		if (empty_ok) {
			return json_object();
		}
		gw_fail_bad(c, "", "a JSON body is required");
		return NULL;
	}
	char    field[GW_FIELD_BYTES], msg[GW_MSG_BYTES];
	json_t *j;
	sje_err rv = sje__json_parse(d, (const char *) c->body, c->body_len,
	    &j, field, sizeof(field), msg, sizeof(msg));
	if (rv != SJE_OK) {
		gw_input_error(c, rv, field, msg);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		gw_fail_bad(c, "", "the body must be a JSON object");
		return NULL;
	}
	return j;
}

// gw_prep_submit builds a SubmitRequest from one spec or {"tasks": [...]}.
static bool
gw_prep_submit(gw_call *c)
{
	if (!gw_no_query(c)) {
		return false;
	}
	char    field[GW_FIELD_BYTES], msg[GW_MSG_BYTES];
	json_t *j;
	if (c->body_len == 0) {
		gw_fail_bad(c, "",
		    "a JSON body is required: a job spec, or "
		    "{\"tasks\": [spec, ...]}");
		return false;
	}
	sje_err rv = sje__json_parse(&sje__v1__job_spec__descriptor,
	    (const char *) c->body, c->body_len, &j, field, sizeof(field), msg,
	    sizeof(msg));
	if (rv == SJE_EINVAL && strncmp(field, "tasks", 5) == 0) {
		// Broken inside a batch: name the field within it.
		rv = sje__json_parse(&sje__v1__submit_batch__descriptor,
		    (const char *) c->body, c->body_len, &j, field,
		    sizeof(field), msg, sizeof(msg));
	}
	if (rv != SJE_OK) {
		return gw_input_error(c, rv, field, msg);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		gw_fail_bad(c, "",
		    "the body must be a JSON object: a job spec, or "
		    "{\"tasks\": [spec, ...]}");
		return false;
	}
	// Either way the jobs move into a SubmitRequest of our own: the
	// batch's array, or a new one-element array around the one spec.
	ProtobufCMessage  *m    = NULL;
	Sje__V1__JobSpec **jobs = NULL;
	size_t             n    = 0;
	c->batch                = json_object_get(j, "tasks") != NULL;
	if (c->batch) {
		rv = sje__json_value_to_pb(&sje__v1__submit_batch__descriptor,
		    j, NULL, &m, field, sizeof(field), msg, sizeof(msg));
		if (rv == SJE_OK) {
			Sje__V1__SubmitBatch *b = (Sje__V1__SubmitBatch *) m;
			jobs                    = b->tasks;
			n                       = b->n_tasks;
			b->tasks                = NULL;
			b->n_tasks              = 0;
		}
	} else {
		rv = sje__json_value_to_pb(&sje__v1__job_spec__descriptor, j,
		    NULL, &m, field, sizeof(field), msg, sizeof(msg));
		if (rv == SJE_OK) {
			if ((jobs = malloc(sizeof(*jobs))) == NULL) {
				rv = SJE_ENOMEM;
			} else {
				jobs[0] = (Sje__V1__JobSpec *) m;
				n       = 1;
				m       = NULL; // now jobs[0]
			}
		}
	}
	json_decref(j);
	if (m != NULL) {
		protobuf_c_message_free_unpacked(m, NULL); // the emptied batch
	}
	Sje__V1__SubmitRequest *req = NULL;
	if (rv == SJE_OK && (req = malloc(sizeof(*req))) == NULL) {
		rv = SJE_ENOMEM;
	}
	if (rv != SJE_OK) {
		for (size_t i = 0; i < n; i++) {
			sje__v1__job_spec__free_unpacked(jobs[i], NULL);
		}
		free(jobs);
		return gw_input_error(c, rv, field, msg);
	}
	sje__v1__submit_request__init(req);
	req->jobs     = jobs;
	req->n_jobs   = n;
	c->base.input = &req->base;
	return true;
}

// gw_prep_workflow builds a RunWorkflowRequest: the name from the path,
// the rest (params, workflow_id) from the optional body.
static bool
gw_prep_workflow(gw_call *c)
{
	if (!gw_no_query(c)) {
		return false;
	}
	const ProtobufCMessageDescriptor *d = gw_input_desc(c);
	json_t                           *j = gw_parse_body(c, d, true);
	if (j == NULL) {
		return false;
	}
	if (json_object_get(j, "name") != NULL) {
		json_decref(j);
		gw_fail_bad(
		    c, "name", "the workflow's name is given by the path");
		return false;
	}
	json_t *name = json_string(c->param);
	if (name == NULL || json_object_set_new(j, "name", name) != 0) {
		json_decref(j);
		gw_fail_bad(c, "name", "the name is not valid UTF-8");
		return false;
	}
	char    field[GW_FIELD_BYTES], msg[GW_MSG_BYTES];
	sje_err rv = sje__json_value_to_pb(d, j, NULL, &c->base.input, field,
	    sizeof(field), msg, sizeof(msg));
	json_decref(j);
	if (rv != SJE_OK) {
		return gw_input_error(c, rv, field, msg);
	}
	return true;
}

// ---- answers ---------------------------------------------------------------

static void
gw_render_plain(gw_call *c, const ProtobufCMessage *out)
{
	gw_respond_json(c, 200, sje__pb_to_json(out), NULL);
}

// gw_results renders SubmitResults as [{"task_id", "state"}, ...] and
// tells whether any job was created.
static json_t *
gw_results(Sje__V1__SubmitResult *const *res, size_t n, bool *created)
{
	json_t *a = json_array();
	*created  = false;
	for (size_t i = 0; a != NULL && i < n; i++) {
		json_t *o = sje__pb_to_json(&res[i]->base);
		if (o == NULL) {
			json_decref(a);
			return NULL;
		}
		json_object_del(o, "created");
		*created = *created || res[i]->created;
		json_array_append_new(a, o);
	}
	return a;
}

// gw_render_submit: 201 when any job was created, else 200 (all existed
// with the same spec); one spec in, one {"task_id", "state"} out.
static void
gw_render_submit(gw_call *c, const ProtobufCMessage *out)
{
	const Sje__V1__SubmitReply *r = (const Sje__V1__SubmitReply *) out;
	bool                        created;
	json_t *a = gw_results(r->results, r->n_results, &created);
	json_t *j = NULL;
	if (a != NULL && !c->batch && json_array_size(a) == 1) {
		j = json_incref(json_array_get(a, 0));
		json_decref(a);
	} else if (a != NULL && (j = json_object()) != NULL) {
		json_object_set_new(j, "tasks", a);
	} else {
		json_decref(a);
	}
	gw_respond_json(c, created ? 201 : 200, j, NULL);
}

static void
gw_render_workflow(gw_call *c, const ProtobufCMessage *out)
{
	const Sje__V1__RunWorkflowReply *r =
	    (const Sje__V1__RunWorkflowReply *) out;
	bool    created;
	json_t *a = gw_results(r->tasks, r->n_tasks, &created);
	json_t *j = json_object();
	if (a == NULL || j == NULL ||
	    json_object_set_new(
	        j, "workflow_id", gw_json_text(r->workflow_id)) != 0 ||
	    json_object_set_new(j, "tasks", a) != 0) {
		json_decref(j);
		j = NULL;
	}
	gw_respond_json(c, created ? 201 : 200, j, NULL);
}

// gw_render_cancel: 200 {"state": "CANCELLED"} when it ended at once, 202
// {"state": "RUNNING", "cancel_requested": true} when it is stopping.
static void
gw_render_cancel(gw_call *c, const ProtobufCMessage *out)
{
	const Sje__V1__CancelReply *r = (const Sje__V1__CancelReply *) out;
	json_t                     *j = sje__pb_to_json(out);
	if (j != NULL && !r->cancel_requested) {
		json_object_del(j, "cancel_requested");
	}
	gw_respond_json(c, r->cancel_requested ? 202 : 200, j, NULL);
}

static void
gw_render_metrics(gw_call *c, const ProtobufCMessage *out)
{
	char  *text;
	size_t len;
	if (sje__metrics_render(
	        (const Sje__V1__StatsReply *) out, &text, &len) != SJE_OK) {
		gw_error(c, 500, "INTERNAL", "", "out of memory");
		return;
	}
	gw_respond(c, 200, SJE_METRICS_CONTENT_TYPE, text, len, NULL);
	free(text);
}

// gw_submit_field names a Submit error's field as the body did: the
// scheduler says "jobs[3].function" for a batch and plain "function" for
// one spec; a batch body said "tasks[3]..." (also when it held one), a
// single spec just "function".
static void
gw_submit_field(const gw_call *c, const char *field, char *buf, size_t len)
{
	bool listed = strncmp(field, "jobs", 4) == 0 &&
	    (field[4] == '\0' || field[4] == '[');
	if (c->batch) {
		if (listed) {
			sje__snprintf(buf, len, "tasks%s", field + 4);
		} else {
			sje__snprintf(buf, len, "tasks[0]%s%s",
			    field[0] != '\0' ? "." : "", field);
		}
		return;
	}
	if (!listed) {
		sje__snprintf(buf, len, "%s", field);
		return;
	}
	const char *rest = field + 4;
	if (*rest == '[') {
		rest = strchr(rest, ']');
		rest = rest != NULL ? rest + 1 : "";
	}
	if (*rest == '.') {
		rest++;
	}
	sje__snprintf(buf, len, "%s", rest);
}

// gw_render answers the request from the handler's answer (on an nng
// thread).
static void
gw_render(gw_call *c)
{
	if (c->code != SJE__V1__STATUS_CODE__OK) {
		int         status = sje__gw_http_status(c->code);
		const char *name   = sje_status_name(c->code);
		const char *msg    = c->a_message != NULL ? c->a_message : "";
		const char *f      = c->a_field != NULL ? c->a_field : "";
		char        field[GW_FIELD_BYTES];
		if (c->route->render == gw_render_submit) {
			gw_submit_field(c, f, field, sizeof(field));
		} else {
			sje__snprintf(field, sizeof(field), "%s", f);
		}
		if (status == 500) {
			// No internals: the details go to the log only.
			SJE_WARN("http %s %s: %s: %s", c->method, c->path,
			    name, msg);
			gw_error(c, 500, "INTERNAL", "", "internal error");
		} else if (status == 501) {
			gw_error(c, 501, name, "",
			    "%s is not served by this server yet", c->path);
		} else {
			gw_error(c, status, name, field, "%s", msg);
		}
		return;
	}
	const ProtobufCMessageDescriptor *od =
	    c->base.service->methods[c->base.method].output;
	ProtobufCMessage *out = protobuf_c_message_unpack(od, NULL, c->a_len,
	    c->a_body != NULL ? c->a_body : (uint8_t *) "");
	if (out == NULL) {
		SJE_WARN("http %s %s: the answer does not unpack", c->method,
		    c->path);
		gw_error(c, 500, "INTERNAL", "", "internal error");
		return;
	}
	c->route->render(c, out);
	protobuf_c_message_free_unpacked(out, NULL);
}

// gw_send is the call's send: it runs on the scheduler's thread (or in
// sje__sched_post), so it only copies the answer and hops to an nng
// thread to render it.
static void
gw_send(sje__call *base, int code, const char *message, const char *field,
    const uint8_t *body, size_t len)
{
	gw_call *c = (gw_call *) base;
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
	c->state = GW_RENDER;
	if (nng_aio_begin(c->io)) {
		nng_aio_finish(c->io, 0); // runs gw_io_cb on an nng thread
	}
}

// ---- the request's life ------------------------------------------------

static const gw_route gw_routes[] = {
	{ "/submit", false, "POST", "Submit", gw_prep_submit,
	    gw_render_submit },
	{ "/status/", true, "GET", "GetStatus", gw_prep_id, gw_render_plain },
	{ "/cancel/", true, "POST", "Cancel", gw_prep_id, gw_render_cancel },
	{ "/jobs", false, "GET", "ListJobs", gw_prep_query, gw_render_plain },
	{ "/workflows/", true, "POST", "RunWorkflow", gw_prep_workflow,
	    gw_render_workflow },
	{ "/workers", false, "GET", "ListWorkers", gw_prep_query,
	    gw_render_plain },
	{ "/events", false, "GET", "ListEvents", gw_prep_query,
	    gw_render_plain },
	{ "/metrics", false, "GET", "Stats", gw_prep_query,
	    gw_render_metrics },
	{ "/healthz", false, "GET", NULL, NULL, NULL },
};

// gw_route_find matches path (raw, no query); *param gets the raw rest of
// a parameterised route. NULL when no route has this path.
static const gw_route *
gw_route_find(
    const char *path, size_t n, const char **param, size_t *param_len)
{
	for (size_t i = 0; i < sizeof(gw_routes) / sizeof(gw_routes[0]); i++) {
		const gw_route *r  = &gw_routes[i];
		size_t          rl = strlen(r->path);
		if (!r->param) {
			if (n == rl && memcmp(path, r->path, n) == 0) {
				return r;
			}
			continue;
		}
		if (n >= rl && memcmp(path, r->path, rl) == 0 &&
		    memchr(path + rl, '/', n - rl) == NULL) {
			*param     = path + rl;
			*param_len = n - rl;
			return r;
		}
	}
	return NULL;
}

// gw_post prepares the input and hands the call to the handler.
static void
gw_post(gw_call *c)
{
	sje__gw *gw = c->gw;
	bool     ok = gw_method(c) && c->route->prepare(c);
	c->body     = NULL; // the input holds what it needs
	c->body_len = 0;
	if (!ok) {
		gw_refuse(c);
		return;
	}
	pthread_mutex_lock(&gw->mtx);
	bool q = gw->quiesced;
	if (!q) {
		gw->n_posting++;
	}
	pthread_mutex_unlock(&gw->mtx);
	if (q) {
		gw_error(
		    c, 503, "UNAVAILABLE", "", "the server is shutting down");
		return;
	}
	c->base.send   = gw_send;
	c->base.origin = "http";
	c->state       = GW_SCHED;
	gw->handler(gw->arg, &c->base); // c may be gone on return
	pthread_mutex_lock(&gw->mtx);
	if (--gw->n_posting == 0) {
		pthread_cond_broadcast(&gw->cv);
	}
	pthread_mutex_unlock(&gw->mtx);
}

// gw_dispatch answers /healthz, or hands the call on (the body, if any,
// has been read).
static void
gw_dispatch(gw_call *c)
{
	if (c->route->rpc != NULL) {
		gw_post(c);
		return;
	}
	if (!gw_no_query(c)) {
		gw_refuse(c);
		return;
	}
	pthread_mutex_lock(&c->gw->mtx);
	bool q = c->gw->quiesced;
	pthread_mutex_unlock(&c->gw->mtx);
	if (q) {
		gw_error(
		    c, 503, "UNAVAILABLE", "", "the server is shutting down");
		return;
	}
	static const char ok[] = "{\"status\":\"ok\"}";
	gw_respond(c, 200, GW_JSON, ok, sizeof(ok) - 1, NULL);
}

static void
gw_io_cb(void *arg)
{
	gw_call *c = arg;
	if (c->state == GW_RENDER) {
		gw_render(c);
		return;
	}
	SJE_ERROR("http: a completion in state %d", (int) c->state);
	gw_error(c, 500, "INTERNAL", "", "internal error");
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
gw_auth_or_reply(gw_call *c)
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
		gw_error(c, 403, "PERMISSION_DENIED", "", "%s", why);
	} else if (rv == SJE_EUNAUTH) {
		c->challenge = true;
		gw_error(c, 401, "UNAUTHENTICATED", "", "%s", why);
	} else {
		gw_error(c, 500, "INTERNAL", "", "cannot check credentials");
	}
	return false;
}

// gw_start routes a new request (its body read, its framing checked by
// the layer) and answers it or hands it on.
static void
gw_start(gw_call *c)
{
	sje__gw                 *gw  = c->gw;
	const sje__http_request *req = c->req;
	const char              *uri = c->uri;
	size_t                   pl  = strcspn(uri, "?#");

	gw_sanitize(
	    c->method, sizeof(c->method), req->method, req->method_len);
	gw_sanitize(c->path, sizeof(c->path), uri, pl);
	pthread_mutex_lock(&gw->mtx);
	bool closing = gw->closing;
	pthread_mutex_unlock(&gw->mtx);
	c->close = closing || !req->keep_alive;
	c->head  = strcmp(c->method, "HEAD") == 0;

	const char *param     = NULL;
	size_t      param_len = 0;
	c->route              = gw_route_find(uri, pl, &param, &param_len);
	if (c->route != NULL && c->route->render == gw_render_metrics &&
	    !gw->metrics) {
		gw_error(c, 404, "NOT_FOUND", "",
		    "metrics are not served (monitoring.metrics is false)");
		return;
	}
	if (c->route == NULL) {
		gw_error(
		    c, 404, "NOT_FOUND", "", "no such endpoint: %s", c->path);
		return;
	}
	bool get = strcmp(c->route->method, "GET") == 0;
	if (strcmp(c->method, c->route->method) != 0 && !(get && c->head)) {
		gw_error_allow(c, 405, "METHOD_NOT_ALLOWED", "",
		    get ? "GET, HEAD" : c->route->method,
		    "%s takes %s, not %s", c->path, c->route->method,
		    c->method);
		return;
	}
	if (!gw_auth_or_reply(c)) {
		return;
	}
	if (param != NULL &&
	    (c->param = gw_pct_decode(param, param_len, false)) == NULL) {
		gw_bad(c,
		    strcmp(c->route->rpc, "RunWorkflow") == 0 ? "name"
		                                              : "task_id",
		    "the path holds a bad percent-escape");
		return;
	}
	if (uri[pl] == '?') {
		size_t ql = strcspn(uri + pl + 1, "#");
		if ((c->query = malloc(ql + 1)) == NULL) {
			gw_error(c, 500, "INTERNAL", "", "out of memory");
			return;
		}
		memcpy(c->query, uri + pl + 1, ql);
		c->query[ql] = '\0';
	}
	gw_dispatch(c);
}

// gw_handle is the layer's handler for every request.
static void
gw_handle(void *arg, sje__http_conn *conn, const sje__http_request *req,
    const uint8_t *body, size_t body_len)
{
	sje__gw *gw = arg;
	gw_call *c  = calloc(1, sizeof(*c));
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
	c->state                = GW_START;
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
