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
// Failover: server_url may list several coordinators, comma-separated, in
// the order to try them. The client dials the first and stays with the
// one it reached until it loses it. A call that finds no connection gives
// the current URL CHANNEL_FIRST_MS from its dial, then dials every other
// URL as well, on the same socket, and goes out on the first connection
// that comes up, within its timeout; the next call then closes the other
// dialers, so that the client is back to one coordinator. (A standby
// coordinator opens no port, so only an active one can answer.) A pipe
// notification counts the live connections and records whose dialer made
// the last one, so a connected client pays nothing for this. Every RPC
// being idempotent, the caller retries a call that failed while the
// connection moved.
//
// Thread-safety: the socket is shared; each call has a context and an aio
// of its own, so calls from many threads proceed at once. A call that went
// well gives its pair back to the client's pool for the next (opening
// them costs more than a small call: an aio draws from the kernel's random
// source in nng 1.5.2); one that failed closes them. mtx serializes the
// move from one URL to the next, pool_mtx the pool.
#include <sje/client.h>

#include "config.h"
#include "methods.h"
#include "tls.h"
#include "util.h"

#include <sje/v1/rpc.pb-c.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define CHANNEL_DEFAULT_URL "tcp://127.0.0.1:7100"
#define CHANNEL_DEFAULT_TIMEOUT_MS 10000u
// How long the current URL of a list has, from its dial, to connect
// before the others are dialed too.
#define CHANNEL_FIRST_MS 200
#define CHANNEL_MAX_URLS 16

struct sje_client {
	nng_socket sock;
	uint32_t   timeout_ms;   // default per call
	char      *api_key;      // NULL: none
	char      *bearer_token; // NULL: none

	// Failover (mtx guards dialers, cur and dialed_at once open
	// returns).
	char           *url_buf; // server_url, its commas made NULs
	const char     *urls[CHANNEL_MAX_URLS];
	size_t          n_urls;
	nng_dialer      dialers[CHANNEL_MAX_URLS]; // id 0: not dialing
	size_t          cur;       // the URL the client is with
	nng_time        dialed_at; // when it was dialed
	atomic_bool     spread;    // every URL is being dialed
	sje_client_opts tls;       // the TLS options, strings copied
	char           *tls_strs[4];
	pthread_mutex_t mtx;
	atomic_int      pipes;       // live connections
	atomic_int      live_dialer; // the dialer id of the newest one

	pthread_mutex_t      pool_mtx;
	struct channel_pair *idle; // (pool_mtx)
	size_t               n_idle;
};

// channel_pair is a context and its aio, idle in the pool or in a call.
typedef struct channel_pair {
	nng_ctx              ctx;
	nng_aio             *aio;
	struct channel_pair *next;
} channel_pair;

// At most this many pairs wait in the pool; more are closed.
#define CHANNEL_POOL_MAX 64

// channel_pipe_event counts the socket's live connections and notes whose
// dialer made the newest.
static void
channel_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	sje_client *c = arg;
	if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_store(
		    &c->live_dialer, nng_dialer_id(nng_pipe_dialer(p)));
		atomic_fetch_add(&c->pipes, 1);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&c->pipes, 1);
	}
}

// channel_split splits url (one URL, or several comma-separated) into
// c->urls. SJE_EINVAL for an empty item or more than CHANNEL_MAX_URLS.
static sje_err
channel_split(sje_client *c, const char *url)
{
	if ((c->url_buf = sje__strdup(url)) == NULL) {
		return SJE_ENOMEM;
	}
	for (char *p = c->url_buf;;) {
		char *comma = strchr(p, ',');
		if (comma != NULL) {
			*comma = '\0';
		}
		if (p[0] == '\0' || c->n_urls == CHANNEL_MAX_URLS) {
			return SJE_EINVAL;
		}
		c->urls[c->n_urls++] = p;
		if (comma == NULL) {
			return SJE_OK;
		}
		p = comma + 1;
	}
}

// channel_copy_tls keeps copies of the TLS options, for dialing the next
// URL later.
static sje_err
channel_copy_tls(sje_client *c, const sje_client_opts *opts)
{
	if (opts == NULL) {
		return SJE_OK;
	}
	const char *src[4] = { opts->ca_file, opts->cert_file, opts->key_file,
		opts->server_name };
	for (int i = 0; i < 4; i++) {
		if (src[i] != NULL &&
		    (c->tls_strs[i] = sje__strdup(src[i])) == NULL) {
			return SJE_ENOMEM;
		}
	}
	c->tls.ca_file     = c->tls_strs[0];
	c->tls.cert_file   = c->tls_strs[1];
	c->tls.key_file    = c->tls_strs[2];
	c->tls.server_name = c->tls_strs[3];
	return SJE_OK;
}

// channel_free frees what open allocated (the socket is closed already).
static void
channel_free(sje_client *c)
{
	free(c->api_key);
	free(c->bearer_token);
	free(c->url_buf);
	for (int i = 0; i < 4; i++) {
		free(c->tls_strs[i]);
	}
	free(c);
}

// channel_dial starts a dialer to c->urls[i].
static sje_err
channel_dial(sje_client *c, size_t i, char *why, size_t len)
{
	return sje__tls_dial(
	    c->sock, c->urls[i], &c->tls, &c->dialers[i], why, len);
}

// channel_settle, once a connection is up after a spread, closes every
// dialer but the one that made it: the client is with one coordinator.
static void
channel_settle(sje_client *c)
{
	(void) pthread_mutex_lock(&c->mtx);
	int live = atomic_load(&c->live_dialer);
	if (atomic_load(&c->spread) && atomic_load(&c->pipes) > 0) {
		for (size_t i = 0; i < c->n_urls; i++) {
			int id = nng_dialer_id(c->dialers[i]);
			if (id == live) {
				c->cur = i;
			} else if (id > 0) {
				(void) nng_dialer_close(c->dialers[i]);
				c->dialers[i] =
				    (nng_dialer) NNG_DIALER_INITIALIZER;
			}
		}
		atomic_store(&c->spread, false);
	}
	(void) pthread_mutex_unlock(&c->mtx);
}

// channel_failover, when server_url lists several coordinators and none is
// connected, gives the current one the rest of its CHANNEL_FIRST_MS, then
// dials every other as well (a URL that cannot be dialed, its TLS files
// gone say, is passed over); once one is connected, it settles on it.
static void
channel_failover(sje_client *c)
{
	if (c->n_urls < 2) {
		return;
	}
	if (atomic_load(&c->pipes) > 0) {
		if (atomic_load(&c->spread)) {
			channel_settle(c);
		}
		return;
	}
	(void) pthread_mutex_lock(&c->mtx);
	// Bounded: CHANNEL_FIRST_MS from the current URL's dial.
	while (atomic_load(&c->pipes) == 0 && !atomic_load(&c->spread) &&
	    nng_clock() < c->dialed_at + CHANNEL_FIRST_MS) {
		nng_msleep(2);
	}
	if (atomic_load(&c->pipes) == 0 && !atomic_load(&c->spread)) {
		char why[256];
		for (size_t i = 0; i < c->n_urls; i++) {
			if (nng_dialer_id(c->dialers[i]) <= 0) {
				(void) channel_dial(c, i, why, sizeof(why));
			}
		}
		atomic_store(&c->spread, true);
	}
	(void) pthread_mutex_unlock(&c->mtx);
}

sje_err
sje_client_open(const sje_client_opts *opts, sje_client **out)
{
	sje_client *c = calloc(1, sizeof(*c));
	sje_err     err;
	int         rv;

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
	atomic_init(&c->pipes, 0);
	atomic_init(&c->live_dialer, 0);
	atomic_init(&c->spread, false);
	for (size_t i = 0; i < CHANNEL_MAX_URLS; i++) {
		c->dialers[i] = (nng_dialer) NNG_DIALER_INITIALIZER;
	}
	if ((err = channel_split(c, url)) != SJE_OK ||
	    (err = channel_copy_tls(c, opts)) != SJE_OK) {
		channel_free(c);
		return err;
	}
	if (opts != NULL && opts->api_key != NULL && opts->api_key[0] != 0) {
		if ((c->api_key = sje__strdup(opts->api_key)) == NULL) {
			channel_free(c);
			return SJE_ENOMEM;
		}
	}
	if (opts != NULL && opts->bearer_token != NULL &&
	    opts->bearer_token[0] != '\0') {
		c->bearer_token = sje__strdup(opts->bearer_token);
		if (c->bearer_token == NULL) {
			channel_free(c);
			return SJE_ENOMEM;
		}
	}
	if (pthread_mutex_init(&c->mtx, NULL) != 0) {
		channel_free(c);
		return SJE_ENOMEM;
	}
	if (pthread_mutex_init(&c->pool_mtx, NULL) != 0) {
		(void) pthread_mutex_destroy(&c->mtx);
		channel_free(c);
		return SJE_ENOMEM;
	}

	if ((rv = nng_req0_open(&c->sock)) != 0) {
		goto fail_open;
	}
	// Resend off: a long poll must never arrive twice (PLATFORM.md).
	if ((rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
	         NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(
	         c->sock, NNG_OPT_RECVMAXSZ, SJE_MAX_FRAME_BYTES)) != 0 ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 20)) != 0 ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000)) != 0 ||
	    (rv = nng_pipe_notify(
	         c->sock, NNG_PIPE_EV_ADD_POST, channel_pipe_event, c)) != 0 ||
	    (rv = nng_pipe_notify(
	         c->sock, NNG_PIPE_EV_REM_POST, channel_pipe_event, c)) != 0) {
		goto fail_sock;
	}
	// Every URL of a list must be one: a bad one is refused now, not
	// when the client fails over to it.
	for (size_t i = 0; i < c->n_urls; i++) {
		nng_url *u;
		if ((rv = nng_url_parse(&u, c->urls[i])) != 0) {
			rv = NNG_EADDRINVAL;
			goto fail_sock;
		}
		nng_url_free(u);
	}
	// Non-blocking dial (over TLS for tls+tcp://): the dialer keeps
	// trying in the background, so a client may start before its server
	// and survives server restarts.
	char why[256];
	c->dialed_at = nng_clock();
	if ((err = channel_dial(c, 0, why, sizeof(why))) != SJE_OK) {
		nng_close(c->sock);
		(void) pthread_mutex_destroy(&c->pool_mtx);
		(void) pthread_mutex_destroy(&c->mtx);
		channel_free(c);
		return err;
	}
	*out = c;
	return SJE_OK;

fail_sock:
	nng_close(c->sock);
fail_open:
	(void) pthread_mutex_destroy(&c->pool_mtx);
	(void) pthread_mutex_destroy(&c->mtx);
	channel_free(c);
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

// channel_check_one is sje_client_opts_check of one URL.
static sje_err
channel_check_one(
    const sje_client_opts *opts, const char *url, char *errbuf, size_t errlen)
{
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

sje_err
sje_client_opts_check(const sje_client_opts *opts, char *errbuf, size_t errlen)
{
	const char *url = opts != NULL ? opts->server_url : NULL;
	char        one[1024];

	// Each URL of a list, since each has its host to check.
	while (url != NULL && url[0] != '\0') {
		size_t n = strcspn(url, ",");
		sje__snprintf(one, sizeof(one), "%.*s", (int) n, url);
		sje_err err = channel_check_one(opts, one, errbuf, errlen);
		if (err != SJE_OK) {
			return err;
		}
		url = url[n] == ',' ? url + n + 1 : NULL;
	}
	return SJE_OK;
}

void
sje_client_close(sje_client *c)
{
	if (c == NULL) {
		return;
	}
	nng_close(c->sock); // closes the pool's contexts too
	while (c->idle != NULL) {
		channel_pair *p = c->idle;
		c->idle         = p->next;
		nng_aio_free(p->aio);
		free(p);
	}
	(void) pthread_mutex_destroy(&c->pool_mtx);
	(void) pthread_mutex_destroy(&c->mtx);
	channel_free(c);
}

// channel_take gives a call a context and an aio: the pool's newest, or
// new ones. NULL with *rv set when they cannot be opened.
static channel_pair *
channel_take(sje_client *c, int *rv)
{
	(void) pthread_mutex_lock(&c->pool_mtx);
	channel_pair *p = c->idle;
	if (p != NULL) {
		c->idle = p->next;
		c->n_idle--;
	}
	(void) pthread_mutex_unlock(&c->pool_mtx);
	if (p != NULL) {
		return p;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*rv = NNG_ENOMEM;
		return NULL;
	}
	if ((*rv = nng_aio_alloc(&p->aio, NULL, NULL)) != 0) {
		free(p);
		return NULL;
	}
	if ((*rv = nng_ctx_open(&p->ctx, c->sock)) != 0) {
		nng_aio_free(p->aio);
		free(p);
		return NULL;
	}
	return p;
}

// channel_give ends a call's use of p: back to the pool after a call that
// went well (the context is then between requests), closed otherwise.
static void
channel_give(sje_client *c, channel_pair *p, bool well)
{
	if (well) {
		(void) pthread_mutex_lock(&c->pool_mtx);
		if (c->n_idle < CHANNEL_POOL_MAX) {
			p->next = c->idle;
			c->idle = p;
			c->n_idle++;
			p = NULL;
		}
		(void) pthread_mutex_unlock(&c->pool_mtx);
		if (p == NULL) {
			return;
		}
	}
	(void) nng_ctx_close(p->ctx);
	nng_aio_free(p->aio);
	free(p);
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

	channel_failover(c);
	nng_msg *msg;
	sje_err  err = channel_pack_request(c, method, in, &msg);
	if (err != SJE_OK) {
		channel_status(st, sje_err_to_status(err), "out of memory", 0);
		return err;
	}

	int           rv;
	channel_pair *p = channel_take(c, &rv);
	if (p == NULL) {
		nng_msg_free(msg);
		return channel_transport_fail(st, rv, "cannot start call");
	}
	nng_aio *aio = p->aio;
	nng_aio_set_timeout(aio,
	    (nng_duration) (timeout_ms != 0 ? timeout_ms : c->timeout_ms));
	nng_aio_set_msg(aio, msg);
	nng_ctx_send(p->ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(msg); // a failed send leaves the message ours
		channel_give(c, p, false);
		return channel_transport_fail(st, rv, "cannot send request");
	}
	nng_ctx_recv(p->ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		channel_give(c, p, false);
		return channel_transport_fail(st, rv, "no reply");
	}
	msg = nng_aio_get_msg(aio);
	nng_aio_set_msg(aio, NULL);
	channel_give(c, p, true);

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

sje_err
sje_client_retry(sje_client *c, const char *task_id, bool descendants,
    Sje__V1__RetryReply **out, sje_status *st)
{
	Sje__V1__RetryRequest req = SJE__V1__RETRY_REQUEST__INIT;
	req.task_id               = (char *) task_id;
	req.descendants           = descendants;
	return COORD_CALL(c, SJE__COORD_RETRY, &req, out, 0, st);
}

sje_err
sje_client_delete_job(sje_client *c, const char *task_id,
    Sje__V1__DeleteJobReply **out, sje_status *st)
{
	Sje__V1__DeleteJobRequest req = SJE__V1__DELETE_JOB_REQUEST__INIT;
	req.task_id                   = (char *) task_id;
	return COORD_CALL(c, SJE__COORD_DELETE_JOB, &req, out, 0, st);
}

sje_err
sje_client_explain(sje_client *c, const char *task_id,
    Sje__V1__ExplainReply **out, sje_status *st)
{
	Sje__V1__ExplainRequest req = SJE__V1__EXPLAIN_REQUEST__INIT;
	req.task_id                 = (char *) task_id;
	return COORD_CALL(c, SJE__COORD_EXPLAIN, &req, out, 0, st);
}

sje_err
sje_client_list_functions(
    sje_client *c, Sje__V1__ListFunctionsReply **out, sje_status *st)
{
	Sje__V1__ListFunctionsRequest req =
	    SJE__V1__LIST_FUNCTIONS_REQUEST__INIT;
	return COORD_CALL(c, SJE__COORD_LIST_FUNCTIONS, &req, out, 0, st);
}

sje_err
sje_client_list_schedules(
    sje_client *c, Sje__V1__ListSchedulesReply **out, sje_status *st)
{
	Sje__V1__ListSchedulesRequest req =
	    SJE__V1__LIST_SCHEDULES_REQUEST__INIT;
	return COORD_CALL(c, SJE__COORD_LIST_SCHEDULES, &req, out, 0, st);
}

sje_err
sje_client_set_function(sje_client *c, const Sje__V1__SetFunctionRequest *req,
    Sje__V1__FunctionInfo **out, sje_status *st)
{
	return COORD_CALL(c, SJE__COORD_SET_FUNCTION, req, out, 0, st);
}

sje_err
sje_client_bulk_cancel(sje_client *c, const Sje__V1__BulkRequest *req,
    Sje__V1__BulkReply **out, sje_status *st)
{
	return COORD_CALL(c, SJE__COORD_BULK_CANCEL, req, out, 0, st);
}

sje_err
sje_client_bulk_retry(sje_client *c, const Sje__V1__BulkRequest *req,
    Sje__V1__BulkReply **out, sje_status *st)
{
	return COORD_CALL(c, SJE__COORD_BULK_RETRY, req, out, 0, st);
}

sje_err
sje_client_bulk_delete(sje_client *c, const Sje__V1__BulkRequest *req,
    Sje__V1__BulkReply **out, sje_status *st)
{
	return COORD_CALL(c, SJE__COORD_BULK_DELETE, req, out, 0, st);
}

sje_err
sje_client_get_workflow_run(sje_client *c, const char *workflow_id,
    Sje__V1__WorkflowRun **out, sje_status *st)
{
	Sje__V1__WorkflowRunRequest req = SJE__V1__WORKFLOW_RUN_REQUEST__INIT;
	req.workflow_id                 = (char *) workflow_id;
	return COORD_CALL(c, SJE__COORD_GET_WORKFLOW_RUN, &req, out, 0, st);
}

sje_err
sje_client_cancel_workflow_run(sje_client *c, const char *workflow_id,
    Sje__V1__BulkReply **out, sje_status *st)
{
	Sje__V1__WorkflowRunRequest req = SJE__V1__WORKFLOW_RUN_REQUEST__INIT;
	req.workflow_id                 = (char *) workflow_id;
	return COORD_CALL(c, SJE__COORD_CANCEL_WORKFLOW_RUN, &req, out, 0, st);
}
