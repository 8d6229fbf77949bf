// rpc.c — the server's RPC front door: nng rep contexts and envelopes.
//
// Every call object owns one nng context and one aio, used first to receive
// a request and then to send its reply. A call cycles
//
//     RECV --request--> BUSY (with the handler) --reply--> SEND --> RECV
//                                                               \-> IDLE
//
// and idle calls are kept for reuse. Whenever a receiving call is taken,
// another starts receiving if fewer than RPC_MIN_RECEIVERS remain, so parked
// long polls never starve the socket of receivers; after a send, a call
// goes back to receiving only while fewer than RPC_MAX_RECEIVERS are.
//
// Text: protobuf-c checks neither UTF-8 nor NUL in string fields, and its
// unpack cuts a string at a NUL. So once a frame has unpacked, rpc_text
// walks its wire bytes again, driven by the same descriptors: every
// length-delimited field that is a string (single, repeated, in a oneof,
// a map entry's key or value) must be well-formed UTF-8 without NUL, and
// every nested message is walked in turn. The envelope and the method's
// input are both walked, so every method of every service is covered
// before any handler runs. A refusal is INVALID_ARGUMENT naming the field
// as the handlers do ("jobs[0].labels[1].value"); the text itself is
// never echoed.
//
// Locking: rpc->mtx guards n_receiving, the calls list, the idle state and
// closing. nng callbacks never block: the handler only queues the call.
// Calls are freed only in sje__rpc_close, after nng_close and nng_aio_stop.
#include "door/rpc.h"

#include <sje/v1/rpc.pb-c.h>

#include "log.h"
#include "util.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RPC_MIN_RECEIVERS 8
#define RPC_MAX_RECEIVERS 32
#define RPC_SEND_TIMEOUT_MS 10000

typedef enum call_state {
	CALL_IDLE,
	CALL_RECV,
	CALL_BUSY,
	CALL_SEND,
} call_state;

// rpc_call is an sje__call that came over RPC: the base, then the context
// and aio that receive the request and send the reply.
typedef struct rpc_call rpc_call;
struct rpc_call {
	sje__call  base; // input owned while BUSY
	sje__rpc  *rpc;
	nng_ctx    ctx;
	nng_aio   *aio;
	call_state state; // the call's owner's: the thread whose turn it is
	bool       idle;  // no operation pending, free to reuse (rpc->mtx)
	rpc_call  *next;  // rpc->calls
};

struct sje__rpc {
	nng_socket       sock;
	nng_listener     listener;
	sje__rpc_handler handler;
	void            *arg;
	const sje__auth *auth; // borrowed; NULL: no authentication
	const ProtobufCServiceDescriptor *const *services;
	size_t                                   n_services;

	pthread_mutex_t mtx;
	rpc_call       *calls;       // every call ever made (mtx)
	pthread_cond_t  cv;          // signalled when n_handling drops
	int             n_receiving; // calls in CALL_RECV (mtx)
	int             n_handling;  // handler calls running (mtx)
	bool            quiesced;    // no more handler calls (mtx)
	bool            closing;     // (mtx)
};

static void rpc_call_cb(void *arg);
static void rpc_after_send(rpc_call *call);

// rpc_call_alloc makes a new call with its context and aio.
static rpc_call *
rpc_call_alloc(sje__rpc *rpc)
{
	rpc_call *call = calloc(1, sizeof(*call));
	if (call == NULL) {
		return NULL;
	}
	call->rpc = rpc;
	if (nng_aio_alloc(&call->aio, rpc_call_cb, call) != 0) {
		free(call);
		return NULL;
	}
	if (nng_ctx_open(&call->ctx, rpc->sock) != 0) {
		nng_aio_free(call->aio);
		free(call);
		return NULL;
	}
	call->state = CALL_IDLE;
	call->idle  = true;
	return call;
}

// rpc_add_receiver starts one more call receiving: an idle one if any,
// else a new one. Called without rpc->mtx held.
static void
rpc_add_receiver(sje__rpc *rpc)
{
	pthread_mutex_lock(&rpc->mtx);
	if (rpc->closing) {
		pthread_mutex_unlock(&rpc->mtx);
		return;
	}
	rpc_call *call = NULL;
	for (rpc_call *c = rpc->calls; c != NULL; c = c->next) {
		if (c->idle) {
			call = c;
			break;
		}
	}
	if (call == NULL) {
		if ((call = rpc_call_alloc(rpc)) == NULL) {
			pthread_mutex_unlock(&rpc->mtx);
			SJE_ERROR("rpc: cannot allocate a receiving context");
			return;
		}
		call->next = rpc->calls;
		rpc->calls = call;
	}
	call->state = CALL_RECV;
	call->idle  = false;
	rpc->n_receiving++;
	pthread_mutex_unlock(&rpc->mtx);
	nng_aio_set_timeout(call->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(call->ctx, call->aio);
}

// rpc_send_packed sends a reply envelope around an already packed body.
static void
rpc_send_packed(sje__call *base, int code, const char *message,
    const char *field, const uint8_t *body, size_t body_len)
{
	rpc_call      *call  = (rpc_call *) base;
	Sje__V1__Reply reply = SJE__V1__REPLY__INIT;
	reply.code           = code;
	reply.message        = (char *) (message != NULL ? message : "");
	reply.field          = (char *) (field != NULL ? field : "");
	reply.body.data      = (uint8_t *) body;
	reply.body.len       = body != NULL ? body_len : 0;
	if (call->base.input != NULL) {
		protobuf_c_message_free_unpacked(call->base.input, NULL);
		call->base.input = NULL;
	}
	nng_msg *msg;
	size_t   len = sje__v1__reply__get_packed_size(&reply);
	int      rv  = nng_msg_alloc(&msg, len);
	call->state  = CALL_SEND;
	if (rv != 0) {
		// No memory for the reply: the peer's call times out; we go
		// on.
		rpc_after_send(call);
		return;
	}
	sje__v1__reply__pack(&reply, nng_msg_body(msg));
	nng_aio_set_timeout(call->aio, RPC_SEND_TIMEOUT_MS);
	nng_aio_set_msg(call->aio, msg);
	nng_ctx_send(call->ctx, call->aio);
}

// rpc_send packs out (may be NULL) and sends it.
static void
rpc_send(rpc_call *call, int code, const char *message, const char *field,
    const ProtobufCMessage *out)
{
	uint8_t *body = NULL;
	size_t   n    = 0;
	if (out != NULL) {
		n = protobuf_c_message_get_packed_size(out);
		if ((body = malloc(n > 0 ? n : 1)) == NULL) {
			rpc_send_packed(&call->base,
			    SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED,
			    "out of memory", NULL, NULL, 0);
			return;
		}
		protobuf_c_message_pack(out, body);
	}
	rpc_send_packed(&call->base, code, message, field, body, n);
	free(body);
}

// rpc_find_method resolves "/pkg.Service/Method".
static bool
rpc_find_method(const ProtobufCServiceDescriptor *const *services, size_t n,
    const char *name, const ProtobufCServiceDescriptor **svc, unsigned *method)
{
	if (name == NULL || name[0] != '/') {
		return false;
	}
	const char *slash = strchr(name + 1, '/');
	if (slash == NULL) {
		return false;
	}
	size_t svc_len = (size_t) (slash - (name + 1));
	for (size_t i = 0; i < n; i++) {
		const ProtobufCServiceDescriptor *d = services[i];
		if (strlen(d->name) != svc_len ||
		    strncmp(d->name, name + 1, svc_len) != 0) {
			continue;
		}
		const ProtobufCMethodDescriptor *m =
		    protobuf_c_service_descriptor_get_method_by_name(
		        d, slash + 1);
		if (m == NULL) {
			return false;
		}
		*svc    = d;
		*method = (unsigned) (m - d->methods);
		return true;
	}
	return false;
}

#define RPC_TEXT_MAX_DEPTH 32 // our messages nest far less deeply
#define RPC_TEXT_FIELDS 64    // counts of repeats kept on the stack

// rpc_varint reads a base-128 varint at data[*off..len); false when it is
// cut short or longer than 10 bytes.
static bool
rpc_varint(const uint8_t *data, size_t len, size_t *off, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned i = 0; i < 10; i++) {
		if (*off >= len) {
			return false;
		}
		uint8_t b = data[(*off)++];
		r |= (uint64_t) (b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			*v = r;
			return true;
		}
	}
	return false;
}

// rpc_text_step is one level of the path to the field being walked.
typedef struct rpc_text_step {
	const ProtobufCFieldDescriptor *f;
	unsigned                        i; // the element, when repeated
} rpc_text_step;

// rpc_text_name writes the path of steps[0..n) into buf: "jobs[1]",
// "labels[0].value". Only called to name a refusal, so the walk itself
// formats nothing.
static void
rpc_text_name(const rpc_text_step *steps, unsigned n, char *buf, size_t len)
{
	size_t off = 0;
	buf[0]     = '\0';
	for (unsigned k = 0; k < n && off < len; k++) {
		const ProtobufCFieldDescriptor *f   = steps[k].f;
		const char                     *dot = k > 0 ? "." : "";
		int                             w;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			w = snprintf(buf + off, len - off, "%s%s[%u]", dot,
			    f->name, steps[k].i);
		} else {
			w = snprintf(
			    buf + off, len - off, "%s%s", dot, f->name);
		}
		if (w < 0) {
			break;
		}
		off += (size_t) w;
	}
}

// rpc_text checks the strings of the message of type d packed in
// data[0..len), reached through steps[0..depth) (steps holds
// RPC_TEXT_MAX_DEPTH + 1 entries). True when all are well-formed UTF-8
// without NUL; else false with the field in field and why in msg. Pure:
// never trusts the bytes (bounds checked everywhere).
static bool
rpc_text(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
    rpc_text_step *steps, unsigned depth, char *field, size_t fieldlen,
    char *msg, size_t msglen)
{
	unsigned  local[RPC_TEXT_FIELDS];
	unsigned *seen = local;
	bool      ok   = false;
	size_t    off  = 0;

	if (depth >= RPC_TEXT_MAX_DEPTH) {
		rpc_text_name(steps, depth, field, fieldlen);
		sje__snprintf(msg, msglen, "%s: nested too deeply", field);
		return false;
	}
	if (d->n_fields > RPC_TEXT_FIELDS) {
		if ((seen = calloc(d->n_fields, sizeof(*seen))) == NULL) {
			rpc_text_name(steps, depth, field, fieldlen);
			sje__snprintf(msg, msglen, "out of memory");
			return false;
		}
	} else {
		memset(local, 0, d->n_fields * sizeof(local[0]));
	}
	while (off < len) {
		uint64_t tag, n;
		if (!rpc_varint(data, len, &off, &tag)) {
			goto malformed;
		}
		switch (tag & 7) {
		case 0:
			if (!rpc_varint(data, len, &off, &n)) {
				goto malformed;
			}
			continue;
		case 1:
			if (len - off < 8) {
				goto malformed;
			}
			off += 8;
			continue;
		case 5:
			if (len - off < 4) {
				goto malformed;
			}
			off += 4;
			continue;
		case 2:
			break;
		default:
			goto malformed; // groups: protobuf-c refuses them too
		}
		if (!rpc_varint(data, len, &off, &n) || n > len - off) {
			goto malformed;
		}
		const uint8_t *v = data + off;
		off += (size_t) n;
		if (tag >> 3 > UINT32_MAX) {
			continue; // no such field: unknown, kept as bytes
		}
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field(
		        d, (unsigned) (tag >> 3));
		if (f == NULL ||
		    (f->type != PROTOBUF_C_TYPE_STRING &&
		        f->type != PROTOBUF_C_TYPE_MESSAGE)) {
			continue;
		}
		steps[depth].f = f;
		steps[depth].i = seen[f - d->fields]++;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (!rpc_text(f->descriptor, v, (size_t) n, steps,
			        depth + 1, field, fieldlen, msg, msglen)) {
				goto done;
			}
			continue;
		}
		size_t bad;
		if (!sje__utf8_check((const char *) v, (size_t) n, &bad)) {
			// A Json's text is named by the Json field ("params"),
			// as the JSON mapping names it.
			bool json =
			    depth > 0 && strcmp(d->name, "sje.v1.Json") == 0;
			rpc_text_name(
			    steps, json ? depth : depth + 1, field, fieldlen);
			sje__snprintf(msg, msglen,
			    v[bad] == 0
			        ? "%s holds a NUL byte (at byte %zu)"
			        : "%s is not valid UTF-8 (at byte %zu)",
			    field, bad);
			goto done;
		}
	}
	ok = true;
	goto done;
malformed:
	// unpack accepted these bytes, so this cannot happen; refuse anyway.
	rpc_text_name(steps, depth, field, fieldlen);
	sje__snprintf(msg, msglen, "malformed message%s%s",
	    field[0] != '\0' ? " at " : "", field);
done:
	if (seen != local) {
		free(seen);
	}
	return ok;
}

// rpc_text_check walks the message of type d packed in data[0..len) with
// rpc_text, from the top.
static bool
rpc_text_check(const ProtobufCMessageDescriptor *d, const uint8_t *data,
    size_t len, char *field, size_t fieldlen, char *msg, size_t msglen)
{
	rpc_text_step steps[RPC_TEXT_MAX_DEPTH + 1];
	return rpc_text(d, data, len, steps, 0, field, fieldlen, msg, msglen);
}

int
sje__rpc_decode(const ProtobufCServiceDescriptor *const *services, size_t n,
    const uint8_t *data, size_t len, sje__rpc_frame *f, char *msg,
    size_t msglen, const char **field)
{
	memset(f, 0, sizeof(*f));
	*field = NULL;
	f->req = sje__v1__request__unpack(NULL, len, data);
	if (f->req == NULL) {
		sje__snprintf(msg, msglen, "malformed request envelope");
		return SJE__V1__STATUS_CODE__INVALID_ARGUMENT;
	}
	if (!rpc_text_check(&sje__v1__request__descriptor, data, len, f->field,
	        sizeof(f->field), msg, msglen)) {
		*field = f->field;
		sje__v1__request__free_unpacked(f->req, NULL);
		f->req = NULL;
		return SJE__V1__STATUS_CODE__INVALID_ARGUMENT;
	}
	if (!rpc_find_method(
	        services, n, f->req->method, &f->service, &f->method)) {
		sje__snprintf(msg, msglen, "unknown method '%.120s'",
		    f->req->method != NULL ? f->req->method : "");
		*field = "method";
		sje__rpc_frame_fini(f);
		return SJE__V1__STATUS_CODE__UNIMPLEMENTED;
	}
	f->input =
	    protobuf_c_message_unpack(f->service->methods[f->method].input,
	        NULL, f->req->body.len, f->req->body.data);
	if (f->input == NULL) {
		sje__snprintf(msg, msglen, "malformed request body");
		*field = "body";
		sje__rpc_frame_fini(f);
		return SJE__V1__STATUS_CODE__INVALID_ARGUMENT;
	}
	if (!rpc_text_check(f->service->methods[f->method].input,
	        f->req->body.data, f->req->body.len, f->field,
	        sizeof(f->field), msg, msglen)) {
		*field = f->field;
		protobuf_c_message_free_unpacked(f->input, NULL);
		sje__v1__request__free_unpacked(f->req, NULL);
		f->input = NULL;
		f->req   = NULL;
		return SJE__V1__STATUS_CODE__INVALID_ARGUMENT;
	}
	return SJE__V1__STATUS_CODE__OK;
}

void
sje__rpc_frame_fini(sje__rpc_frame *f)
{
	if (f->input != NULL) {
		protobuf_c_message_free_unpacked(f->input, NULL);
	}
	if (f->req != NULL) {
		sje__v1__request__free_unpacked(f->req, NULL);
	}
	memset(f, 0, sizeof(*f));
}

// rpc_auth_or_reply checks the envelope's credentials for the frame's
// method (auth.h): true when the call may go on; else it has answered
// UNAUTHENTICATED or PERMISSION_DENIED, saying what is missing (never
// the key or token), and logged why.
static bool
rpc_auth_or_reply(rpc_call *call, const sje__rpc_frame *f)
{
	const sje__auth *auth = call->rpc->auth;
	if (!sje__auth_enabled(auth)) {
		return true;
	}
	const Sje__V1__Credentials *cr = f->req->credentials;
	char                        why[256];
	sje_err rv = sje__auth_check(auth, cr != NULL ? cr->api_key : NULL,
	    cr != NULL ? cr->bearer_token : NULL, f->service, f->method, why,
	    sizeof(why));
	if (rv == SJE_OK) {
		return true;
	}
	SJE_WARN("rpc %s.%s: refused: %s", f->service->short_name,
	    f->service->methods[f->method].name, why);
	rpc_send(call,
	    rv == SJE_EPERM         ? SJE__V1__STATUS_CODE__PERMISSION_DENIED
	        : rv == SJE_EUNAUTH ? SJE__V1__STATUS_CODE__UNAUTHENTICATED
	                            : SJE__V1__STATUS_CODE__INTERNAL,
	    rv == SJE_EPERM || rv == SJE_EUNAUTH ? why
	                                         : "cannot check credentials",
	    NULL, NULL);
	return false;
}

// rpc_on_request decodes a received request and hands it on, or answers
// it at once when it is malformed.
static void
rpc_on_request(rpc_call *call, nng_msg *msg)
{
	sje__rpc      *rpc = call->rpc;
	sje__rpc_frame f;
	char           text[200];
	const char    *field;
	int            code =
	    sje__rpc_decode(rpc->services, rpc->n_services, nng_msg_body(msg),
	        nng_msg_len(msg), &f, text, sizeof(text), &field);
	nng_msg_free(msg);
	if (code != SJE__V1__STATUS_CODE__OK) {
		rpc_send(call, code, text, field, NULL);
		return;
	}
	if (!rpc_auth_or_reply(call, &f)) {
		sje__rpc_frame_fini(&f);
		return;
	}
	call->base.send    = rpc_send_packed;
	call->base.service = f.service;
	call->base.method  = f.method;
	call->base.input   = f.input;
	call->base.origin  = "rpc";
	call->base.checked = false; // a reused call: validate.c sets it
	call->state        = CALL_BUSY;
	f.input            = NULL; // the call's now
	// The credentials stay the frame's, kept until the handler returns.
	const Sje__V1__Credentials *cr = f.req->credentials;
	call->base.api_key =
	    cr != NULL && cr->api_key[0] != '\0' ? cr->api_key : NULL;
	call->base.bearer = cr != NULL && cr->bearer_token[0] != '\0'
	    ? cr->bearer_token
	    : NULL;
	pthread_mutex_lock(&rpc->mtx);
	bool quiesced = rpc->quiesced;
	if (!quiesced) {
		rpc->n_handling++;
	}
	pthread_mutex_unlock(&rpc->mtx);
	if (quiesced) {
		sje__rpc_frame_fini(&f);
		rpc_send(call, SJE__V1__STATUS_CODE__UNAVAILABLE,
		    "the server is shutting down", NULL, NULL);
		return;
	}
	rpc->handler(rpc->arg, &call->base); // call may be answered on return
	sje__rpc_frame_fini(&f);
	pthread_mutex_lock(&rpc->mtx);
	if (--rpc->n_handling == 0) {
		pthread_cond_broadcast(&rpc->cv);
	}
	pthread_mutex_unlock(&rpc->mtx);
}

void
sje__rpc_quiesce(sje__rpc *rpc)
{
	if (rpc == NULL) {
		return;
	}
	pthread_mutex_lock(&rpc->mtx);
	rpc->quiesced = true;
	while (rpc->n_handling > 0) {
		pthread_cond_wait(&rpc->cv, &rpc->mtx);
	}
	pthread_mutex_unlock(&rpc->mtx);
}

static void
rpc_call_cb(void *arg)
{
	rpc_call *call = arg;
	sje__rpc *rpc  = call->rpc;
	int       rv   = nng_aio_result(call->aio);

	if (call->state == CALL_RECV) {
		pthread_mutex_lock(&rpc->mtx);
		rpc->n_receiving--;
		bool closing = rpc->closing;
		bool more = !closing && rpc->n_receiving < RPC_MIN_RECEIVERS;
		if (rv != 0) {
			call->state = CALL_IDLE;
			call->idle  = true;
		}
		pthread_mutex_unlock(&rpc->mtx);
		if (rv != 0) {
			if (!closing) {
				rpc_add_receiver(rpc);
			}
			return;
		}
		// Keep the socket read before this call is busy, so a parked
		// long poll never leaves a connection without a receiver.
		if (more) {
			rpc_add_receiver(rpc);
		}
		rpc_on_request(call, nng_aio_get_msg(call->aio));
		return;
	}

	// CALL_SEND finished.
	if (rv != 0) {
		nng_msg *msg = nng_aio_get_msg(call->aio);
		if (msg != NULL) {
			nng_msg_free(msg); // a failed send leaves it ours
		}
	}
	nng_aio_set_msg(call->aio, NULL);
	rpc_after_send(call);
}

// rpc_after_send puts a call whose reply went out back to receiving, or
// idle when enough calls receive already.
static void
rpc_after_send(rpc_call *call)
{
	sje__rpc *rpc = call->rpc;
	pthread_mutex_lock(&rpc->mtx);
	bool recv = !rpc->closing && rpc->n_receiving < RPC_MAX_RECEIVERS;
	if (recv) {
		call->state = CALL_RECV;
		rpc->n_receiving++;
	} else {
		call->state = CALL_IDLE;
		call->idle  = true;
	}
	pthread_mutex_unlock(&rpc->mtx);
	if (recv) {
		nng_aio_set_timeout(call->aio, NNG_DURATION_INFINITE);
		nng_ctx_recv(call->ctx, call->aio);
	}
}

// rpc_bound_url writes the URL actually listened on.
static void
rpc_bound_url(sje__rpc *rpc, const char *url, char *buf, size_t len)
{
	nng_sockaddr sa;
	if (nng_listener_get_addr(rpc->listener, NNG_OPT_LOCADDR, &sa) != 0) {
		sa.s_family = NNG_AF_UNSPEC;
	}
	sje__bound_url(url, &sa, buf, len);
}

sje_err
sje__rpc_open(const char *url, struct nng_tls_config *tls,
    const sje__auth *auth, const ProtobufCServiceDescriptor *const *services,
    size_t n, sje__rpc_handler handler, void *arg, sje__rpc **out,
    char *bound_url, size_t len)
{
	sje__rpc *rpc = calloc(1, sizeof(*rpc));
	if (rpc == NULL) {
		return SJE_ENOMEM;
	}
	rpc->handler    = handler;
	rpc->arg        = arg;
	rpc->auth       = auth;
	rpc->services   = services;
	rpc->n_services = n;
	pthread_mutex_init(&rpc->mtx, NULL);
	pthread_cond_init(&rpc->cv, NULL);

	int rv;
	if ((rv = nng_rep0_open(&rpc->sock)) != 0) {
		goto fail_open;
	}
	// A frame over the limit drops that peer's connection, nobody else's.
	if ((rv = nng_socket_set_size(
	         rpc->sock, NNG_OPT_RECVMAXSZ, SJE_MAX_FRAME_BYTES)) != 0) {
		goto fail_listen;
	}
	// The TLS config goes on the listener before it starts (a started
	// listener silently ignores a new one, PLATFORM.md); the listener
	// holds its own reference.
	if ((rv = nng_listener_create(&rpc->listener, rpc->sock, url)) != 0) {
		goto fail_listen;
	}
	if (tls != NULL &&
	    (rv = nng_listener_set_ptr(
	         rpc->listener, NNG_OPT_TLS_CONFIG, tls)) != 0) {
		goto fail_listen;
	}
	if ((rv = nng_listener_start(rpc->listener, 0)) != 0) {
		goto fail_listen;
	}
	rpc_bound_url(rpc, url, bound_url, len);
	for (int i = 0; i < RPC_MIN_RECEIVERS; i++) {
		rpc_add_receiver(rpc);
	}
	*out = rpc;
	return SJE_OK;

fail_listen:
	nng_close(rpc->sock);
fail_open:
	pthread_cond_destroy(&rpc->cv);
	pthread_mutex_destroy(&rpc->mtx);
	free(rpc);
	if (rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP) {
		return SJE_EINVAL;
	}
	return sje__nng_err(rv);
}

void
sje__rpc_close(sje__rpc *rpc)
{
	if (rpc == NULL) {
		return;
	}
	pthread_mutex_lock(&rpc->mtx);
	rpc->closing = true;
	pthread_mutex_unlock(&rpc->mtx);
	nng_close(rpc->sock);
	// After nng_close no callback starts new work; wait out the running
	// ones, then free.
	for (rpc_call *c = rpc->calls; c != NULL; c = c->next) {
		nng_aio_stop(c->aio);
	}
	rpc_call *c = rpc->calls;
	while (c != NULL) {
		rpc_call *next = c->next;
		if (c->base.input != NULL) {
			protobuf_c_message_free_unpacked(c->base.input, NULL);
		}
		nng_aio_free(c->aio);
		free(c);
		c = next;
	}
	pthread_cond_destroy(&rpc->cv);
	pthread_mutex_destroy(&rpc->mtx);
	free(rpc);
}
