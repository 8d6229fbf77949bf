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

#include "door/auth.h"
#include "sched/call.h"

#include <sje/v1/rpc.pb-c.h>

typedef struct sje__rpc sje__rpc;

struct nng_tls_config;

// sje__rpc_handler receives a decoded call. It runs on an nng thread: it
// must not block, and it owns the call until it replies.
typedef void (*sje__rpc_handler)(void *arg, sje__call *call);

// sje__rpc_open listens on url for the services (n of them) and starts
// receiving. With tls (borrowed: the listener takes its own reference),
// url must be tls+tcp:// and peers are handled as tls says (netsec.h);
// NULL: no TLS. Every request's credentials are checked with auth
// (borrowed: must outlive rpc; NULL or disabled: every call is allowed)
// before it reaches the handler. The address actually bound (the port
// when url asked for 0) is written to bound_url (len bytes). *out is written
// on SJE_OK; caller owns it. Errors: SJE_EINVAL for a bad URL, SJE_EEXIST when
// the address is in use, others from nng.
sje_err sje__rpc_open(const char *url, struct nng_tls_config *tls,
    const sje__auth *auth, const ProtobufCServiceDescriptor *const *services,
    size_t n, sje__rpc_handler handler, void *arg, sje__rpc **out,
    char *bound_url, size_t len);

// sje__rpc_frame is one request frame, decoded.
typedef struct sje__rpc_frame {
	Sje__V1__Request                 *req; // the envelope (credentials)
	const ProtobufCServiceDescriptor *service; // the method's service
	unsigned                          method;  // its index there
	ProtobufCMessage                 *input;   // the decoded input
	char field[256]; // a refused string's field (decode's *field)
} sje__rpc_frame;

// sje__rpc_decode decodes a request frame of len bytes for one of the
// services (n of them): the envelope, the method by its name, the input
// message. Returns 0 (OK) with *f filled (free with sje__rpc_frame_fini),
// or a status code (INVALID_ARGUMENT, UNIMPLEMENTED) with a message for
// people in msg and the field to blame in *field (static, or f->field:
// valid while f is), and *f otherwise empty. Every string of the envelope
// and of the input must be well-formed UTF-8 without NUL, checked on the
// wire bytes (INVALID_ARGUMENT naming it, "jobs[0].labels[1].value"). Pure and
// thread-safe: the network-facing parser, fuzzed by tests/fuzz.
int sje__rpc_decode(const ProtobufCServiceDescriptor *const *services,
    size_t n, const uint8_t *data, size_t len, sje__rpc_frame *f, char *msg,
    size_t msglen, const char **field);

// sje__rpc_frame_fini frees what decode made; a taken input is set to NULL
// by the taker first. Accepts an empty frame.
void sje__rpc_frame_fini(sje__rpc_frame *f);

// sje__rpc_quiesce stops handing calls to the handler: from its return on,
// requests are answered UNAVAILABLE here, and no handler call is running.
// Replies to calls already handed over still go out. Thread-safe.
void sje__rpc_quiesce(sje__rpc *rpc);

// sje__rpc_close stops listening and frees everything. Every call handed
// to the handler must have been replied to first. Accepts NULL.
void sje__rpc_close(sje__rpc *rpc);

#endif // SJE_SERVER_RPC_H
