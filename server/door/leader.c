// leader.c — a coordinator's calls to its own scheduler, or on to the
// leader of its database (leader.h).
//
// Handing a call on: the call's input is packed into a Request envelope
// with the caller's credentials and sent on a context of a req socket
// dialed to the leader (resend off: a call must never arrive twice); the
// Reply's code, message, field and body are the answer, passed to the
// door as they are. A call's time out is the time the leader may hold it
// (a Fetch's or a Wait's own), plus LEADER_SLACK_MS.
//
// The way to a leader is a link: its socket and whether a connection is
// up (pipe events). A call is handed on only over a link that is
// connected, else answered UNAVAILABLE at once; a call out when the
// connection drops is failed by nng (ECONNRESET, resend being off). A
// link left (another leader, or this one leads now) is closed on a thread
// of its own, which fails its calls out; nng_close may wait on nng's
// threads, and the main thread must go on trying the lock meanwhile.
//
// Locking: mtx guards link, links, pool and n_out. A link's socket is
// used (a context opened on it) only under mtx while it is the current
// link, so that once it is detached no new call goes out on it.
#include "door/leader.h"

#include "door/validate.h"
#include "log.h"
#include "methods.h"
#include "tls.h"
#include "util.h"

#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/rpc.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A call handed on may take the time the leader holds it plus this long.
#define LEADER_SLACK_MS 15000
// A call that the leader does not hold: at most this long.
#define LEADER_CALL_MS 60000
// Held calls (a Fetch, a Wait, a read of events) are held this long at
// most, whatever they ask: the leader caps them lower.
#define LEADER_HOLD_MAX_MS 600000u
// Free call records kept for reuse.
#define LEADER_POOL_MAX 64

typedef struct leader_link {
	nng_socket          sock;
	atomic_int          pipes; // connections up
	pthread_t           closer;
	bool                has_closer;
	struct leader_link *next; // in sje__leader.links
	char                url[512];
} leader_link;

typedef struct leader_call {
	sje__leader        *l;
	nng_aio            *aio;
	nng_ctx             ctx;
	bool                receiving;
	sje__call          *call;
	struct leader_call *next; // in the pool
} leader_call;

struct sje__leader {
	_Atomic(sje__sched *) sched; // set once this coordinator leads
	pthread_mutex_t       mtx;
	pthread_cond_t        idle;  // n_out went to 0
	leader_link          *link;  // where calls go; NULL: nowhere
	leader_link          *links; // every link made, for close
	leader_call          *pool;
	size_t                pooled;
	size_t                n_out; // calls handed on, not answered yet
	sje_client_opts       tls;   // dialing: the ca, cert and key below
	char                 *ca, *cert, *key;
	char                  name[256];
	// The relay of the leader's events: a sub socket and its aio
	// (sub_open: both are there).
	sje__events *events;
	nng_socket   sub;
	bool         sub_open;
	nng_aio     *sub_aio;
	char         events_url[512];
};

// leader_pipe_event counts a link's connections.
static void
leader_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void) p;
	leader_link *k = arg;
	if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_fetch_add(&k->pipes, 1);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&k->pipes, 1);
	}
}

static void *
leader_link_close(void *arg)
{
	leader_link *k = arg;
	sje__thread_name("sje:link-close");
	nng_close(k->sock);
	return NULL;
}

// leader_drop detaches the current link and closes it on a thread of its
// own (inline when no thread can be made).
static void
leader_drop(sje__leader *l)
{
	pthread_mutex_lock(&l->mtx);
	leader_link *k = l->link;
	l->link        = NULL;
	pthread_mutex_unlock(&l->mtx);
	if (k == NULL) {
		return;
	}
	if (pthread_create(&k->closer, NULL, leader_link_close, k) == 0) {
		k->has_closer = true;
	} else {
		nng_close(k->sock);
	}
}

// leader_link_open makes a link dialed to url (non-blocking: the dialer
// keeps trying in the background).
static sje_err
leader_link_open(sje__leader *l, const char *url, leader_link **out)
{
	leader_link *k = calloc(1, sizeof(*k));
	if (k == NULL) {
		return SJE_ENOMEM;
	}
	atomic_init(&k->pipes, 0);
	sje__snprintf(k->url, sizeof(k->url), "%s", url);
	int  rv;
	char why[256];
	if ((rv = nng_req0_open(&k->sock)) != 0) {
		free(k);
		return sje__nng_err(rv);
	}
	sje_err e = SJE_OK;
	if ((rv = nng_socket_set_ms(k->sock, NNG_OPT_REQ_RESENDTIME,
	         NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(
	         k->sock, NNG_OPT_RECVMAXSZ, SJE_MAX_FRAME_BYTES)) != 0 ||
	    (rv = nng_socket_set_ms(k->sock, NNG_OPT_RECONNMINT, 20)) != 0 ||
	    (rv = nng_socket_set_ms(k->sock, NNG_OPT_RECONNMAXT, 500)) != 0 ||
	    (rv = nng_pipe_notify(
	         k->sock, NNG_PIPE_EV_ADD_POST, leader_pipe_event, k)) != 0 ||
	    (rv = nng_pipe_notify(
	         k->sock, NNG_PIPE_EV_REM_POST, leader_pipe_event, k)) != 0) {
		e = sje__nng_err(rv);
	} else if ((e = sje__tls_dial(k->sock, url, &l->tls, NULL, why,
	                sizeof(why))) != SJE_OK) {
		SJE_ERROR(
		    "cannot reach the active coordinator at %s: %s", url, why);
	}
	if (e != SJE_OK) {
		nng_close(k->sock);
		free(k);
		return e;
	}
	*out = k;
	return SJE_OK;
}

// leader_relay_cb publishes what the leader's stream sent, and receives
// the next.
static void
leader_relay_cb(void *arg)
{
	sje__leader *l = arg;
	if (nng_aio_result(l->sub_aio) != 0) {
		return; // closed
	}
	sje__events_relay(l->events, nng_aio_get_msg(l->sub_aio));
	nng_aio_set_msg(l->sub_aio, NULL);
	nng_recv_aio(l->sub, l->sub_aio);
}

// leader_relay_stop closes the relay, if any.
static void
leader_relay_stop(sje__leader *l)
{
	if (l->sub_open) {
		nng_close(l->sub); // fails the receive: the callback stops
		nng_aio_free(l->sub_aio); // waits for the callback
		l->sub_aio  = NULL;
		l->sub_open = false;
	}
	l->events_url[0] = '\0';
}

// leader_relay_start subscribes to url and relays it (logged on failure:
// events are lossy by contract, and read over the doors all the same).
static void
leader_relay_start(sje__leader *l, const char *url)
{
	if (l->events == NULL || url == NULL || url[0] == '\0') {
		return;
	}
	int  rv;
	char why[256] = "";
	if ((rv = nng_aio_alloc(&l->sub_aio, leader_relay_cb, l)) != 0) {
		SJE_WARN(
		    "cannot relay events from %s: %s", url, nng_strerror(rv));
		return;
	}
	if ((rv = nng_sub0_open(&l->sub)) != 0) {
		SJE_WARN(
		    "cannot relay events from %s: %s", url, nng_strerror(rv));
		nng_aio_free(l->sub_aio);
		l->sub_aio = NULL;
		return;
	}
	if ((rv = nng_socket_set(l->sub, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0 ||
	    (rv = nng_socket_set_ms(l->sub, NNG_OPT_RECONNMINT, 20)) != 0 ||
	    (rv = nng_socket_set_ms(l->sub, NNG_OPT_RECONNMAXT, 500)) != 0 ||
	    sje__tls_dial(l->sub, url, &l->tls, NULL, why, sizeof(why)) !=
	        SJE_OK) {
		SJE_WARN("cannot relay events from %s: %s", url,
		    why[0] != '\0' ? why : nng_strerror(rv));
		nng_close(l->sub);
		nng_aio_free(l->sub_aio);
		l->sub_aio = NULL;
		return;
	}
	l->sub_open = true;
	sje__snprintf(l->events_url, sizeof(l->events_url), "%s", url);
	nng_recv_aio(l->sub, l->sub_aio);
}

sje_err
sje__leader_open(const sje_config *cfg, sje__events *events, sje__leader **out)
{
	sje__leader *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return SJE_ENOMEM;
	}
	atomic_init(&l->sched, NULL);
	l->events        = events;
	const char *ca   = cfg->security.tls.ca;
	const char *cert = cfg->security.tls.cert;
	const char *key  = cfg->security.tls.key;
	l->ca            = sje__strdup(ca != NULL ? ca : "");
	l->cert          = sje__strdup(cert != NULL ? cert : "");
	l->key           = sje__strdup(key != NULL ? key : "");
	if (l->ca == NULL || l->cert == NULL || l->key == NULL) {
		goto fail;
	}
	l->tls.ca_file   = l->ca[0] != '\0' ? l->ca : NULL;
	l->tls.cert_file = l->cert[0] != '\0' ? l->cert : NULL;
	l->tls.key_file  = l->key[0] != '\0' ? l->key : NULL;
	if (pthread_mutex_init(&l->mtx, NULL) != 0) {
		goto fail;
	}
	if (pthread_cond_init(&l->idle, NULL) != 0) {
		pthread_mutex_destroy(&l->mtx);
		goto fail;
	}
	*out = l;
	return SJE_OK;
fail:
	free(l->ca);
	free(l->cert);
	free(l->key);
	free(l);
	return SJE_ENOMEM;
}

void
sje__leader_follow(sje__leader *l, const char *name, const char *rpc_url,
    const char *events_url)
{
	const char *now = l->link != NULL ? l->link->url : "";
	if (strcmp(now, rpc_url != NULL ? rpc_url : "") == 0) {
		return;
	}
	leader_drop(l);
	leader_relay_stop(l);
	if (rpc_url == NULL || rpc_url[0] == '\0') {
		return;
	}
	leader_link *k;
	if (leader_link_open(l, rpc_url, &k) != SJE_OK) {
		return; // logged; tried again when the leader is read again
	}
	sje__snprintf(
	    l->name, sizeof(l->name), "%s", name != NULL ? name : "?");
	pthread_mutex_lock(&l->mtx);
	k->next  = l->links;
	l->links = k;
	l->link  = k;
	pthread_mutex_unlock(&l->mtx);
	leader_relay_start(l, events_url);
	SJE_INFO("following the active coordinator (%s) at %s: calls go "
	         "on to it",
	    l->name, rpc_url);
}

bool
sje__leader_connected(sje__leader *l)
{
	pthread_mutex_lock(&l->mtx);
	bool up = l->link != NULL && atomic_load(&l->link->pipes) > 0;
	pthread_mutex_unlock(&l->mtx);
	return up;
}

void
sje__leader_become(sje__leader *l, sje__sched *sched)
{
	atomic_store(&l->sched, sched);
	leader_drop(l);
	leader_relay_stop(l);
}

// leader_hold_ms is how long the leader may hold call: what it asks to
// wait, for the calls that wait; 0 for the others.
static uint32_t
leader_hold_ms(const sje__call *call)
{
	const ProtobufCMessage *in = sje__call_input(call);
	uint32_t                ms = 0;
	if (in == NULL) {
		return 0;
	}
	if (sje__call_service(call) == &sje__v1__worker_hub__descriptor) {
		if (sje__call_method(call) == SJE__HUB_FETCH) {
			ms = ((const Sje__V1__FetchRequest *) in)->wait_ms;
		}
	} else if (sje__call_method(call) == SJE__COORD_WAIT) {
		ms = ((const Sje__V1__WaitRequest *) in)->timeout_ms;
	} else if (sje__call_method(call) == SJE__COORD_LIST_EVENTS) {
		ms = ((const Sje__V1__ListEventsRequest *) in)->wait_ms;
	}
	return ms < LEADER_HOLD_MAX_MS ? ms : LEADER_HOLD_MAX_MS;
}

// leader_pack makes the Request frame of call: its method's full name,
// its input packed, its caller's credentials.
static nng_msg *
leader_pack(const sje__call *call)
{
	const ProtobufCServiceDescriptor *svc = sje__call_service(call);
	char                              method[256];
	sje__snprintf(method, sizeof(method), "/%s/%s", svc->name,
	    svc->methods[sje__call_method(call)].name);
	const ProtobufCMessage *in = sje__call_input(call);
	size_t blen = in != NULL ? protobuf_c_message_get_packed_size(in) : 0;
	uint8_t *body = malloc(blen > 0 ? blen : 1);
	if (body == NULL) {
		return NULL;
	}
	if (in != NULL) {
		protobuf_c_message_pack(in, body);
	}
	Sje__V1__Request     req = SJE__V1__REQUEST__INIT;
	Sje__V1__Credentials cr  = SJE__V1__CREDENTIALS__INIT;
	req.method               = method;
	req.body.data            = body;
	req.body.len             = blen;
	if (call->api_key != NULL || call->bearer != NULL) {
		cr.api_key =
		    (char *) (call->api_key != NULL ? call->api_key : "");
		cr.bearer_token =
		    (char *) (call->bearer != NULL ? call->bearer : "");
		req.credentials = &cr;
	}
	nng_msg *msg;
	size_t   len = sje__v1__request__get_packed_size(&req);
	if (nng_msg_alloc(&msg, len) != 0) {
		free(body);
		return NULL;
	}
	sje__v1__request__pack(&req, nng_msg_body(msg));
	free(body);
	return msg;
}

// leader_call_done gives c back: its context closed, to the pool.
static void
leader_call_done(leader_call *c)
{
	sje__leader *l = c->l;
	nng_ctx_close(c->ctx);
	c->call = NULL;
	pthread_mutex_lock(&l->mtx);
	if (l->pooled < LEADER_POOL_MAX) {
		c->next = l->pool;
		l->pool = c;
		l->pooled++;
		c = NULL;
	}
	if (--l->n_out == 0) {
		pthread_cond_broadcast(&l->idle);
	}
	pthread_mutex_unlock(&l->mtx);
	if (c != NULL) {
		nng_aio_free(c->aio);
		free(c);
	}
}

// leader_unavailable answers call UNAVAILABLE, saying why.
static void
leader_unavailable(sje__call *call, const char *why, const char *name)
{
	char msg[400];
	sje__snprintf(msg, sizeof(msg), "%s%s%s%s", why,
	    name != NULL ? " (" : "", name != NULL ? name : "",
	    name != NULL ? ")" : "");
	sje__call_send(
	    call, SJE__V1__STATUS_CODE__UNAVAILABLE, msg, NULL, NULL, 0);
}

static void
leader_call_cb(void *arg)
{
	leader_call *c  = arg;
	int          rv = nng_aio_result(c->aio);
	if (!c->receiving) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(c->aio));
			nng_aio_set_msg(c->aio, NULL);
			leader_unavailable(c->call,
			    "cannot reach the active coordinator", NULL);
			leader_call_done(c);
			return;
		}
		c->receiving = true;
		nng_ctx_recv(c->ctx, c->aio);
		return;
	}
	if (rv != 0) {
		leader_unavailable(c->call,
		    rv == NNG_ETIMEDOUT
		        ? "the active coordinator did not answer in time"
		        : "the active coordinator went away during the call",
		    NULL);
		leader_call_done(c);
		return;
	}
	nng_msg *msg = nng_aio_get_msg(c->aio);
	nng_aio_set_msg(c->aio, NULL);
	Sje__V1__Reply *reply =
	    sje__v1__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	if (reply == NULL) {
		sje__call_send(c->call, SJE__V1__STATUS_CODE__INTERNAL,
		    "the active coordinator's answer does not decode", NULL,
		    NULL, 0);
	} else {
		sje__call_send(c->call, reply->code,
		    reply->message[0] != '\0' ? reply->message : NULL,
		    reply->field[0] != '\0' ? reply->field : NULL,
		    reply->body.data, reply->body.len);
		sje__v1__reply__free_unpacked(reply, NULL);
	}
	nng_msg_free(msg);
	leader_call_done(c);
}

// leader_hand_on sends call to the leader followed, or answers it.
static void
leader_hand_on(sje__leader *l, sje__call *call)
{
	nng_msg *msg = leader_pack(call);
	if (msg == NULL) {
		sje__call_send(call, SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED,
		    "out of memory", NULL, NULL, 0);
		return;
	}
	pthread_mutex_lock(&l->mtx);
	leader_link *k = l->link;
	if (k == NULL || atomic_load(&k->pipes) == 0) {
		pthread_mutex_unlock(&l->mtx);
		nng_msg_free(msg);
		leader_unavailable(call,
		    k == NULL ? "no active coordinator is known yet"
		              : "not connected to the active coordinator",
		    k != NULL ? l->name : NULL);
		return;
	}
	leader_call *c = l->pool;
	if (c != NULL) {
		l->pool = c->next;
		l->pooled--;
	} else if ((c = calloc(1, sizeof(*c))) != NULL &&
	    nng_aio_alloc(&c->aio, leader_call_cb, c) != 0) {
		free(c);
		c = NULL;
	}
	if (c == NULL || nng_ctx_open(&c->ctx, k->sock) != 0) {
		if (c != NULL) {
			c->next = l->pool;
			l->pool = c;
			l->pooled++;
		}
		pthread_mutex_unlock(&l->mtx);
		nng_msg_free(msg);
		leader_unavailable(
		    call, "cannot reach the active coordinator", NULL);
		return;
	}
	l->n_out++;
	pthread_mutex_unlock(&l->mtx);
	c->l          = l;
	c->call       = call;
	c->receiving  = false;
	uint32_t hold = leader_hold_ms(call);
	nng_aio_set_timeout(c->aio,
	    hold > 0 ? (nng_duration) (hold + LEADER_SLACK_MS)
	             : LEADER_CALL_MS);
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
}

void
sje__leader_post(void *leader, sje__call *call)
{
	sje__leader *l     = leader;
	sje__sched  *sched = atomic_load(&l->sched);
	if (sched != NULL) {
		sje__validate_post(sched, call);
		return;
	}
	if (sje__validate_call(call)) {
		leader_hand_on(l, call);
	}
}

void
sje__leader_close(sje__leader *l)
{
	if (l == NULL) {
		return;
	}
	leader_drop(l);
	leader_relay_stop(l);
	pthread_mutex_lock(&l->mtx);
	while (l->n_out > 0) {
		pthread_cond_wait(&l->idle, &l->mtx);
	}
	leader_link *k = l->links;
	l->links       = NULL;
	pthread_mutex_unlock(&l->mtx);
	while (k != NULL) {
		leader_link *next = k->next;
		if (k->has_closer) {
			pthread_join(k->closer, NULL);
		}
		free(k);
		k = next;
	}
	while (l->pool != NULL) {
		leader_call *c = l->pool;
		l->pool        = c->next;
		nng_aio_free(c->aio);
		free(c);
	}
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->mtx);
	free(l->ca);
	free(l->cert);
	free(l->key);
	free(l);
}
