// events.h — the event stream: one nng pub socket.
//
// Each message is the topic "<STATE>/<function>/", one NUL byte, and the
// packed sje.v1.JobEvent (see proto/sje/v1/job.proto). Pub/sub is lossy:
// events carry a sequence number so that subscribers can see gaps, and
// nothing that must happen depends on an event arriving.
#ifndef SJE_SERVER_EVENTS_H
#define SJE_SERVER_EVENTS_H

#include <sje/sje.h>
#include <sje/v1/job.pb-c.h>

typedef struct sje__events sje__events;

struct nng_tls_config;
struct nng_msg;

// sje__events_open listens on url, with TLS when tls is not NULL (url is
// then tls+tcp://; tls is borrowed, the listener takes a reference); the
// address bound is written to bound_url. *out is written on SJE_OK;
// caller owns it.
sje_err sje__events_open(const char *url, struct nng_tls_config *tls,
    sje__events **out, char *bound_url, size_t len);

// sje__events_close closes the socket and frees ev. Accepts NULL.
void sje__events_close(sje__events *ev);

// sje__events_publish sends ev; never blocks (a slow subscriber loses
// messages). Not thread-safe: called by the scheduler thread only.
void sje__events_publish(sje__events *ev, const Sje__V1__JobEvent *event);

// sje__events_publish_packed sends an event already packed (len bytes)
// under topic (without its NUL). Never blocks. Scheduler thread only.
void sje__events_publish_packed(
    sje__events *ev, const char *topic, const uint8_t *data, size_t len);

// sje__events_relay publishes msg as it came from another coordinator's
// stream (topic, NUL, packed event), taking it. Never blocks. Thread-safe
// (a follower's relay thread, while no scheduler here publishes).
void sje__events_relay(sje__events *ev, struct nng_msg *msg);

// sje__events_topic writes the topic of event (without the NUL) into buf.
void sje__events_topic(const Sje__V1__JobEvent *event, char *buf, size_t len);

#endif // SJE_SERVER_EVENTS_H
