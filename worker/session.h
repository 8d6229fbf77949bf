// session.h — the worker's session with its coordinator: the WorkerHub
// calls, registration (with the proof of its name) and registering again
// when the coordinator no longer knows the session, and the back-off of
// every retry.
#ifndef SJE_WORKER_SESSION_H
#define SJE_WORKER_SESSION_H

#include <sje/client.h>

#include <stdbool.h>
#include <stdint.h>

typedef struct sje__runtime sje__runtime;

// sje__backoff is a retry delay: from SJE__BACKOFF_MIN_MS doubling to
// SJE__BACKOFF_MAX_MS. Owned by one thread; plain data.
typedef struct sje__backoff {
	uint32_t ms; // the next delay; below the minimum counts as it
} sje__backoff;

#define SJE__BACKOFF_MIN_MS 100u
#define SJE__BACKOFF_MAX_MS 2000u

// sje__backoff_reset starts b again from the minimum delay.
void sje__backoff_reset(sje__backoff *b);

// sje__backoff_next returns the delay to wait now (ms) and doubles the
// next one, up to the maximum.
uint32_t sje__backoff_next(sje__backoff *b);

// sje__session_transient is true for errors worth retrying after a
// back-off: the coordinator could not be reached or did not answer in
// time.
bool sje__session_transient(sje_err rv);

// sje__session_lost is true for the answers that mean "register again"
// (the coordinator no longer knows the session, say after a restart).
bool sje__session_lost(sje_err rv);

// sje__session_refused is true when a first registration that failed
// with rv is refused for good (the worker cannot go on); false when it is
// worth retrying (unreachable, or briefly unable to answer).
bool sje__session_refused(sje_err rv);

// sje__session_why formats an error for the log into buf (len bytes):
// "what sje says (what the server said)". Returns buf.
const char *sje__session_why(
    sje_err rv, const sje_status *st, char *buf, size_t len);

// sje__session_call is sje_client_call on the WorkerHub service: st is
// cleared first; on SJE_OK *out is the reply (caller frees it with
// protobuf_c_message_free_unpacked). Thread-safe; takes no runtime lock.
sje_err sje__session_call(sje__runtime *rt, unsigned method,
    const ProtobufCMessage *in, ProtobufCMessage **out, uint32_t timeout_ms,
    sje_status *st);

// sje__session_id returns the current session (0: not registered).
// Takes rt->mtx; call without it.
uint64_t sje__session_id(sje__runtime *rt);

// sje__session_renew registers again, unless another thread already did
// since the caller read session stale (0: the first registration).
// Returns SJE_OK when a session other than stale is in place; otherwise
// the error of the Register call, described in st. Registration is done
// by one thread at a time; the others wait for its result. Takes rt->mtx;
// call without it.
sje_err sje__session_renew(sje__runtime *rt, uint64_t stale, sje_status *st);

// sje__session_first_register registers for the first time, retrying
// while the coordinator cannot be reached or is briefly unable to answer.
// Returns false when the worker is stopping or the coordinator refused it
// (then rt->failed is set). Call without rt->mtx.
bool sje__session_first_register(sje__runtime *rt);

#endif // SJE_WORKER_SESSION_H
