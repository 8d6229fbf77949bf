// channel.c — libsje's RPC channel: gRPC-shaped calls over nng req/rep.
//
// A call packs its input message into an sje.v1.Request envelope (method
// name "/sje.v1.Coordinator/Submit", credentials, packed body), sends it on
// its own nng context of the client's req socket, and waits for the
// sje.v1.Reply, whose status code becomes the call's sje_err.
//
// nng traps handled here (see shared/PLATFORM.md): the req socket's resend
// is turned off, because a held long poll (Fetch, Wait) would otherwise be
// sent again every minute; and every aio gets its own timeout, since socket
// timeouts do not apply to aios. With resend off, a connection that drops
// fails the pending call with SJE_EUNAVAIL; the caller retries, and every
// RPC is idempotent so a retried call is safe.
//
// For a tls+tcp:// URL the dialer carries a TLS config (tls.c) built from
// the options' CA, certificate and key, with the server name always set
// (the URL's host unless the options name another). A failed handshake is
// retried by the dialer like any failed connection, so calls time out.
//
// Thread-safety: the socket is shared; each call opens its own context and
// aio, so calls from many threads proceed at once.
#include <sje/client.h>

#include "config.h"
#include "methods.h"
#include "tls.h"
#include "util.h"

#include <sje/v1/rpc.pb-c.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <stdlib.h>
#include <string.h>

#define CHANNEL_DEFAULT_URL "tcp://127.0.0.1:7100"
#define CHANNEL_DEFAULT_TIMEOUT_MS 10000u

struct sje_client {
	nng_socket sock;
	nng_dialer dialer;
	uint32_t   timeout_ms;   // default per call
	char      *api_key;      // NULL: none
	char      *bearer_token; // NULL: none
};

sje_err
sje_client_open(const sje_client_opts *opts, sje_client **out)
{
	sje_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return SJE_ENOMEM;
	}
	const char *url = opts != NULL && opts->server_url != NULL &&
	        opts->server_url[0] != '\0'
	    ? opts->server_url
	    : CHANNEL_DEFAULT_URL;
	c->timeout_ms   = opts != NULL && opts->timeout_ms != 0
	      ? opts->timeout_ms
	      : CHANNEL_DEFAULT_TIMEOUT_MS;
	if (opts != NULL && opts->api_key != NULL && opts->api_key[0] != 0) {
		if ((c->api_key = sje__strdup(opts->api_key)) == NULL) {
			free(c);
			return SJE_ENOMEM;
		}
	}
	if (opts != NULL && opts->bearer_token != NULL &&
	    opts->bearer_token[0] != '\0') {
		c->bearer_token = sje__strdup(opts->bearer_token);
		if (c->bearer_token == NULL) {
			free(c->api_key);
			free(c);
			return SJE_ENOMEM;
		}
	}

	int rv;
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		goto fail_open;
	}
	// Resend off: a long poll must never arrive twice (PLATFORM.md).
	if ((rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
	         NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(
	         c->sock, NNG_OPT_RECVMAXSZ, SJE_MAX_FRAME_BYTES)) != 0 ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 20)) != 0 ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000)) != 0) {
		goto fail_sock;
	}
	// Non-blocking dial (over TLS for tls+tcp://): the dialer keeps
	// trying in the background, so a client may start before its server
	// and survives server restarts.
	char    why[256];
	sje_err err =
	    sje__tls_dial(c->sock, url, opts, &c->dialer, why, sizeof(why));
	if (err != SJE_OK) {
		nng_close(c->sock);
		free(c->api_key);
		free(c->bearer_token);
		free(c);
		return err;
	}
	*out = c;
	return SJE_OK;

fail_sock:
	nng_close(c->sock);
fail_open:
	free(c->api_key);
	free(c->bearer_token);
	free(c);
	return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? SJE_EINVAL
	                                                 : sje__nng_err(rv);
}

void
sje_client_opts_from_config(
    const sje_config *cfg, sje_client_role role, sje_client_opts *out)
{
	memset(out, 0, sizeof(*out));
	if (cfg == NULL) {
		return;
	}
	out->server_url = role == SJE_CLIENT_ROLE_WORKER
	    ? cfg->worker.server_url
	    : cfg->client.server_url;
	out->ca_file    = cfg->security.tls.ca;
	out->cert_file  = cfg->security.tls.cert;
	out->key_file   = cfg->security.tls.key;
	if (cfg->security.tls.server_name != NULL &&
	    cfg->security.tls.server_name[0] != '\0') {
		out->server_name = cfg->security.tls.server_name;
	}
}

sje_err
sje_client_opts_check(const sje_client_opts *opts, char *errbuf, size_t errlen)
{
	const char *url = opts != NULL ? opts->server_url : NULL;
	if (!sje__tls_url(url)) {
		return SJE_OK;
	}
	char host[256] = "";
	(void) sje__url_host(url, host, sizeof(host));
	sje__tls_files f = {
		.ca   = opts->ca_file,
		.cert = opts->cert_file,
		.key  = opts->key_file,
	};
	nng_tls_config *cfg;
	sje_err         err = sje__tls_client_config(&f,
            opts->server_name != NULL && opts->server_name[0] != '\0'
	                ? opts->server_name
	                : host,
	            &cfg, errbuf, errlen);
	if (err == SJE_OK) {
		nng_tls_config_free(cfg);
	}
	return err;
}

void
sje_client_close(sje_client *c)
{
	if (c == NULL) {
		return;
	}
	nng_close(c->sock);
	free(c->api_key);
	free(c->bearer_token);
	free(c);
}

// channel_status fills st, which may be NULL.
static void
channel_status(
    sje_status *st, int code, const char *message, const char *field)
{
	if (st == NULL) {
		return;
	}
	st->code = code;
	sje__snprintf(st->message, sizeof(st->message), "%s",
	    message != NULL ? message : "");
	sje__snprintf(
	    st->field, sizeof(st->field), "%s", field != NULL ? field : "");
}

// channel_transport_status describes a transport failure in st.
static sje_err
channel_transport_fail(sje_status *st, int rv, const char *what)
{
	sje_err err = sje__nng_err(rv);
	if (err == SJE_ECANCELED) {
		err = SJE_EUNAVAIL;
	}
	char msg[160];
	sje__snprintf(msg, sizeof(msg), "%s: %s", what, nng_strerror(rv));
	channel_status(st, sje_err_to_status(err), msg, NULL);
	return err;
}

// channel_pack_request builds the request frame for the call.
static sje_err
channel_pack_request(sje_client *c, const char *method,
    const ProtobufCMessage *in, nng_msg **out)
{
	size_t   body_len = protobuf_c_message_get_packed_size(in);
	uint8_t *body     = malloc(body_len > 0 ? body_len : 1);
	if (body == NULL) {
		return SJE_ENOMEM;
	}
	protobuf_c_message_pack(in, body);

	Sje__V1__Request     req   = SJE__V1__REQUEST__INIT;
	Sje__V1__Credentials creds = SJE__V1__CREDENTIALS__INIT;
	req.method                 = (char *) method;
	req.body.data              = body;
	req.body.len               = body_len;
	if (c->api_key != NULL || c->bearer_token != NULL) {
		creds.api_key = c->api_key != NULL ? c->api_key : "";
		creds.bearer_token =
		    c->bearer_token != NULL ? c->bearer_token : "";
		req.credentials = &creds;
	}
	size_t   len = sje__v1__request__get_packed_size(&req);
	nng_msg *msg;
	if (nng_msg_alloc(&msg, len) != 0) {
		free(body);
		return SJE_ENOMEM;
	}
	sje__v1__request__pack(&req, nng_msg_body(msg));
	free(body);
	*out = msg;
	return SJE_OK;
}

sje_err
sje_client_call(sje_client *c, const ProtobufCServiceDescriptor *service,
    unsigned method_index, const ProtobufCMessage *in, ProtobufCMessage **out,
    uint32_t timeout_ms, sje_status *st)
{
	if (c == NULL || service == NULL || in == NULL || out == NULL ||
	    method_index >= service->n_methods) {
		channel_status(st, SJE__V1__STATUS_CODE__INVALID_ARGUMENT,
		    "bad call arguments", NULL);
		return SJE_EINVAL;
	}
	const ProtobufCMethodDescriptor *m = &service->methods[method_index];
	if (in->descriptor != m->input) {
		channel_status(st, SJE__V1__STATUS_CODE__INVALID_ARGUMENT,
		    "input message does not match the method", NULL);
		return SJE_EINVAL;
	}
	char method[160];
	sje__snprintf(
	    method, sizeof(method), "/%s/%s", service->name, m->name);

	nng_msg *msg;
	sje_err  err = channel_pack_request(c, method, in, &msg);
	if (err != SJE_OK) {
		channel_status(st, sje_err_to_status(err), "out of memory", 0);
		return err;
	}

	nng_ctx  ctx;
	nng_aio *aio;
	int      rv;
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		nng_msg_free(msg);
		return channel_transport_fail(st, rv, "cannot start call");
	}
	if ((rv = nng_ctx_open(&ctx, c->sock)) != 0) {
		nng_aio_free(aio);
		nng_msg_free(msg);
		return channel_transport_fail(st, rv, "cannot start call");
	}
	nng_aio_set_timeout(aio,
	    (nng_duration) (timeout_ms != 0 ? timeout_ms : c->timeout_ms));
	nng_aio_set_msg(aio, msg);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(msg); // a failed send leaves the message ours
		nng_ctx_close(ctx);
		nng_aio_free(aio);
		return channel_transport_fail(st, rv, "cannot send request");
	}
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	nng_ctx_close(ctx);
	if (rv != 0) {
		nng_aio_free(aio);
		return channel_transport_fail(st, rv, "no reply");
	}
	msg = nng_aio_get_msg(aio);
	nng_aio_free(aio);

	Sje__V1__Reply *reply =
	    sje__v1__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	nng_msg_free(msg);
	if (reply == NULL) {
		channel_status(st, SJE__V1__STATUS_CODE__DATA_LOSS,
		    "malformed reply from server", NULL);
		return SJE_EPROTO;
	}
	if (reply->code != SJE__V1__STATUS_CODE__OK) {
		channel_status(st, reply->code, reply->message, reply->field);
		err = sje_status_to_err(reply->code);
		sje__v1__reply__free_unpacked(reply, NULL);
		return err;
	}
	ProtobufCMessage *res = protobuf_c_message_unpack(
	    m->output, NULL, reply->body.len, reply->body.data);
	sje__v1__reply__free_unpacked(reply, NULL);
	if (res == NULL) {
		channel_status(st, SJE__V1__STATUS_CODE__DATA_LOSS,
		    "malformed reply body from server", NULL);
		return SJE_EPROTO;
	}
	channel_status(st, SJE__V1__STATUS_CODE__OK, "", "");
	*out = res;
	return SJE_OK;
}

// A ProtobufCService over a client, for protoc-c's generated stubs.
typedef struct channel_service {
	ProtobufCService base;
	sje_client      *client;
} channel_service;

static void
channel_service_invoke(ProtobufCService *service, unsigned method_index,
    const ProtobufCMessage *input, ProtobufCClosure closure,
    void *closure_data)
{
	channel_service  *cs  = (channel_service *) service;
	ProtobufCMessage *out = NULL;
	if (sje_client_call(cs->client, service->descriptor, method_index,
	        input, &out, 0, NULL) != SJE_OK) {
		out = NULL;
	}
	if (closure != NULL) {
		closure(out, closure_data);
	}
	// The closure borrowed the reply for its call only.
	if (out != NULL) {
		protobuf_c_message_free_unpacked(out, NULL);
	}
}

static void
channel_service_destroy(ProtobufCService *service)
{
	free(service);
}

ProtobufCService *
sje_client_service(sje_client *c, const ProtobufCServiceDescriptor *service)
{
	channel_service *cs = calloc(1, sizeof(*cs));
	if (cs == NULL) {
		return NULL;
	}
	cs->base.descriptor = service;
	cs->base.invoke     = channel_service_invoke;
	cs->base.destroy    = channel_service_destroy;
	cs->client          = c;
	return &cs->base;
}

#define COORD_CALL(c, idx, in, out, extra_ms, st)                      \
	sje_client_call((c), &sje__v1__coordinator__descriptor, (idx), \
	    &(in)->base, (ProtobufCMessage **) (out), (extra_ms), (st))

sje_err
sje_client_submit(sje_client *c, const Sje__V1__SubmitRequest *req,
    Sje__V1__SubmitReply **out, sje_status *st)
{
	return COORD_CALL(c, SJE__COORD_SUBMIT, req, out, 0, st);
}

sje_err
sje_client_get_status(
    sje_client *c, const char *task_id, Sje__V1__Job **out, sje_status *st)
{
	Sje__V1__GetStatusRequest req = SJE__V1__GET_STATUS_REQUEST__INIT;
	req.task_id                   = (char *) task_id;
	return COORD_CALL(c, SJE__COORD_GET_STATUS, &req, out, 0, st);
}

sje_err
sje_client_wait(sje_client *c, const Sje__V1__WaitRequest *req,
    Sje__V1__WaitReply **out, sje_status *st)
{
	// The server holds the call up to req->timeout_ms: allow for it.
	uint32_t t = c != NULL ? c->timeout_ms + req->timeout_ms : 0;
	return COORD_CALL(c, SJE__COORD_WAIT, req, out, t, st);
}

sje_err
sje_client_cancel(sje_client *c, const char *task_id,
    Sje__V1__CancelReply **out, sje_status *st)
{
	Sje__V1__CancelRequest req = SJE__V1__CANCEL_REQUEST__INIT;
	req.task_id                = (char *) task_id;
	return COORD_CALL(c, SJE__COORD_CANCEL, &req, out, 0, st);
}

sje_err
sje_client_list_jobs(sje_client *c, const Sje__V1__ListJobsRequest *req,
    Sje__V1__ListJobsReply **out, sje_status *st)
{
	return COORD_CALL(c, SJE__COORD_LIST_JOBS, req, out, 0, st);
}

sje_err
sje_client_list_events(sje_client *c, const Sje__V1__ListEventsRequest *req,
    Sje__V1__ListEventsReply **out, sje_status *st)
{
	// The server holds the call up to req->wait_ms: allow for it.
	uint32_t t = c != NULL ? c->timeout_ms + req->wait_ms : 0;
	return COORD_CALL(c, SJE__COORD_LIST_EVENTS, req, out, t, st);
}

sje_err
sje_client_list_workers(
    sje_client *c, Sje__V1__ListWorkersReply **out, sje_status *st)
{
	Sje__V1__ListWorkersRequest req = SJE__V1__LIST_WORKERS_REQUEST__INIT;
	return COORD_CALL(c, SJE__COORD_LIST_WORKERS, &req, out, 0, st);
}
