// call.h — one request to the scheduler, from any front door.
//
// The RPC endpoint (rpc.c) and the REST gateway both turn a request into an
// sje__call: the method of a service and its decoded input message. The
// scheduler handles it and answers through sje__call_send, which hands the
// packed reply to the front door that made the call; that front door
// renders it (a protobuf frame, or JSON over HTTP) and frees the call.
// One implementation of each operation, two front doors.
#ifndef SJE_SERVER_CALL_H
#define SJE_SERVER_CALL_H

#include <sje/sje.h>

#include <protobuf-c/protobuf-c.h>

typedef struct sje__call sje__call;

// sje__call_send_fn answers call: code is an sje.v1.StatusCode, message and
// field may be NULL, body (len bytes, may be NULL) is the packed output
// message and stays the caller's. It gives the call back to its front
// door: the call must not be used afterwards. Thread-safe; never blocks.
typedef void (*sje__call_send_fn)(sje__call *call, int code,
    const char *message, const char *field, const uint8_t *body, size_t len);

// sje__call is embedded first in each front door's own call object.
struct sje__call {
	sje__call_send_fn                 send;
	const ProtobufCServiceDescriptor *service;
	unsigned                          method; // index in service
	ProtobufCMessage                 *input;  // owned by the front door
	const char                       *origin; // "rpc" or "http", for logs
	bool checked; // the doors checked the input (door/validate.h)
	// The caller's credentials as it gave them (NULL: none), borrowed
	// only while the door's handler runs: for a coordinator that hands
	// the call on to another (door/leader.h), which checks them again.
	const char *api_key;
	const char *bearer;
};

// sje__call_service, sje__call_method and sje__call_input describe a call;
// the input is borrowed until the reply.
static inline const ProtobufCServiceDescriptor *
sje__call_service(const sje__call *call)
{
	return call->service;
}

static inline unsigned
sje__call_method(const sje__call *call)
{
	return call->method;
}

static inline const ProtobufCMessage *
sje__call_input(const sje__call *call)
{
	return call->input;
}

// sje__call_send answers the call (see sje__call_send_fn).
static inline void
sje__call_send(sje__call *call, int code, const char *message,
    const char *field, const uint8_t *body, size_t len)
{
	call->send(call, code, message, field, body, len);
}

// sje__call_reply packs out and sends it as the OK reply.
void sje__call_reply(sje__call *call, const ProtobufCMessage *out);

// sje__call_error sends an error reply: err's status code, the message and
// the offending field (may be NULL).
void sje__call_error(sje__call *call, sje_err err, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif // SJE_SERVER_CALL_H
