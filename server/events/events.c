// events.c — publishes job events on an nng pub socket.
//
// The send buffer per subscriber is raised well above nng's default of 16
// (PLATFORM.md: a burst of 30 lost a third), but a subscriber that cannot
// keep up still loses the oldest messages: that is pub/sub's contract.
//
// Every event goes out through one aio, kept (mtx): nng_sendmsg would
// allocate one per message, and in nng 1.5.2 that draws from the kernel's
// random source each time.
#include "events/events.h"

#include <sje/client.h>

#include "util.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_SENDBUF 8192

struct sje__events {
	nng_socket      sock;
	nng_listener    listener;
	pthread_mutex_t mtx; // one send at a time on aio
	nng_aio        *aio;
};

sje_err
sje__events_open(const char *url, struct nng_tls_config *tls,
    sje__events **out, char *bound_url, size_t len)
{
	sje__events *ev = calloc(1, sizeof(*ev));
	if (ev == NULL) {
		return SJE_ENOMEM;
	}
	int rv;
	if ((rv = nng_aio_alloc(&ev->aio, NULL, NULL)) != 0) {
		free(ev);
		return sje__nng_err(rv);
	}
	// A pub send never waits; zero says so (as NNG_FLAG_NONBLOCK).
	nng_aio_set_timeout(ev->aio, NNG_DURATION_ZERO);
	if ((rv = nng_pub0_open(&ev->sock)) != 0) {
		nng_aio_free(ev->aio);
		free(ev);
		return sje__nng_err(rv);
	}
	// TLS goes on the listener before it starts; it holds a reference.
	if ((rv = nng_socket_set_int(
	         ev->sock, NNG_OPT_SENDBUF, EVENTS_SENDBUF)) != 0 ||
	    (rv = nng_listener_create(&ev->listener, ev->sock, url)) != 0 ||
	    (tls != NULL &&
	        (rv = nng_listener_set_ptr(
	             ev->listener, NNG_OPT_TLS_CONFIG, tls)) != 0) ||
	    (rv = nng_listener_start(ev->listener, 0)) != 0) {
		nng_close(ev->sock);
		nng_aio_free(ev->aio);
		free(ev);
		if (rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP) {
			return SJE_EINVAL;
		}
		return sje__nng_err(rv);
	}
	nng_sockaddr sa;
	if (nng_listener_get_addr(ev->listener, NNG_OPT_LOCADDR, &sa) != 0) {
		sa.s_family = NNG_AF_UNSPEC;
	}
	sje__bound_url(url, &sa, bound_url, len);
	pthread_mutex_init(&ev->mtx, NULL);
	*out = ev;
	return SJE_OK;
}

void
sje__events_close(sje__events *ev)
{
	if (ev == NULL) {
		return;
	}
	nng_close(ev->sock);
	nng_aio_free(ev->aio);
	pthread_mutex_destroy(&ev->mtx);
	free(ev);
}

// events_send publishes msg, or frees it.
static void
events_send(sje__events *ev, nng_msg *msg)
{
	pthread_mutex_lock(&ev->mtx);
	nng_aio_set_msg(ev->aio, msg);
	nng_send_aio(ev->sock, ev->aio);
	nng_aio_wait(ev->aio);
	if (nng_aio_result(ev->aio) != 0) {
		nng_msg_free(msg); // a failed send leaves it ours
	}
	nng_aio_set_msg(ev->aio, NULL);
	pthread_mutex_unlock(&ev->mtx);
}

void
sje__events_relay(sje__events *ev, nng_msg *msg)
{
	if (ev == NULL) {
		nng_msg_free(msg);
		return;
	}
	events_send(ev, msg);
}

void
sje__events_topic(const Sje__V1__JobEvent *event, char *buf, size_t len)
{
	sje__snprintf(buf, len, "%s/%s/", sje_job_state_name(event->state),
	    event->function != NULL ? event->function : "");
}

void
sje__events_publish_packed(
    sje__events *ev, const char *topic, const uint8_t *data, size_t len)
{
	if (ev == NULL) {
		return;
	}
	size_t   tlen = strlen(topic) + 1; // with its NUL
	nng_msg *msg;
	if (nng_msg_alloc(&msg, tlen + len) != 0) {
		return; // lossy by contract; readers catch up from the store
	}
	uint8_t *p = nng_msg_body(msg);
	memcpy(p, topic, tlen);
	memcpy(p + tlen, data, len);
	events_send(ev, msg);
}

void
sje__events_publish(sje__events *ev, const Sje__V1__JobEvent *event)
{
	if (ev == NULL) {
		return;
	}
	char topic[SJE_MAX_FUNCTION_BYTES + 32];
	sje__events_topic(event, topic, sizeof(topic));
	size_t   tlen = strlen(topic) + 1; // with its NUL
	size_t   blen = sje__v1__job_event__get_packed_size(event);
	nng_msg *msg;
	if (nng_msg_alloc(&msg, tlen + blen) != 0) {
		return; // lossy by contract; the event stays in the store's
		        // seq
	}
	uint8_t *p = nng_msg_body(msg);
	memcpy(p, topic, tlen);
	sje__v1__job_event__pack(event, p + tlen);
	events_send(ev, msg);
}
