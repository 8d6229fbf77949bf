// rpc.h — the server's RPC front door: nng rep with contexts.
//
// sje__rpc listens on one URL, decodes each request's envelope, finds the
// method among the services it was given, unpacks the input message, and
// hands the call to the handler. The handler (the scheduler) replies later,
// from any thread, with sje__call_reply or sje__call_error; until then the
// call holds its nng context, which is how a long poll is held. Malformed
// envelopes, unknown methods and bodies that do not decode are answered
// here and never reach the handler.
//
// There is always a pool of contexts posted for receive, grown whenever one
// is taken (PLATFORM.md: rep stops reading a connection when no context is
// receiving, so parked long polls must never use up the receivers).
#ifndef SJE_SERVER_RPC_H
#define SJE_SERVER_RPC_H

#include <sje/sje.h>

#include <protobuf-c/protobuf-c.h>

typedef struct sje__rpc  sje__rpc;
typedef struct sje__call sje__call;

// sje__rpc_handler receives a decoded call. It runs on an nng thread: it
// must not block, and it owns the call until it replies.
typedef void (*sje__rpc_handler)(void *arg, sje__call *call);

// sje__rpc_open listens on url for the services (n of them) and starts
// receiving. The address actually bound (the port when url asked for 0) is
// written to bound_url (len bytes). *out is written on SJE_OK; caller owns
// it. Errors: SJE_EINVAL for a bad URL, SJE_EEXIST when the address is in
// use, others from nng.
sje_err sje__rpc_open(const char *url,
    const ProtobufCServiceDescriptor *const *services, size_t n,
    sje__rpc_handler handler, void *arg, sje__rpc **out, char *bound_url,
    size_t len);

// sje__rpc_quiesce stops handing calls to the handler: from its return on,
// requests are answered UNAVAILABLE here, and no handler call is running.
// Replies to calls already handed over still go out. Thread-safe.
void sje__rpc_quiesce(sje__rpc *rpc);

// sje__rpc_close stops listening and frees everything. Every call handed
// to the handler must have been replied to first. Accepts NULL.
void sje__rpc_close(sje__rpc *rpc);

// sje__call_service, sje__call_method and sje__call_input describe a call;
// the input is borrowed until the reply.
const ProtobufCServiceDescriptor *sje__call_service(const sje__call *call);
unsigned                          sje__call_method(const sje__call *call);
const ProtobufCMessage           *sje__call_input(const sje__call *call);

// sje__call_reply sends out (which stays the caller's) as the OK reply and
// gives the call back to the pool. Thread-safe; never blocks.
void sje__call_reply(sje__call *call, const ProtobufCMessage *out);

// sje__call_send sends a reply whose body (len bytes, may be NULL) is the
// packed output message, with code (sje.v1.StatusCode), message and field
// (both may be NULL). The body stays the caller's. Thread-safe.
void sje__call_send(sje__call *call, int code, const char *message,
    const char *field, const uint8_t *body, size_t len);

// sje__call_error sends an error reply: err's status code, the message and
// the offending field (may be NULL), then gives the call back.
void sje__call_error(sje__call *call, sje_err err, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif // SJE_SERVER_RPC_H
