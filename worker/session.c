// session.c — the worker's session with its coordinator: the WorkerHub
// calls, registration and registering again.
//
// Every call is retried: on UNAVAILABLE or DEADLINE_EXCEEDED (SJE_EUNAVAIL,
// SJE_ETIMEDOUT) after a back-off of 100 ms doubling to 2 s; on
// FAILED_PRECONDITION or NOT_FOUND (the coordinator no longer knows the
// session, say after a restart) after registering again. Running jobs go
// on across a re-registration: their reports carry their lease ids, which
// the coordinator checks. Registration is done by one thread at a time
// (sje__session_renew, with rt->registering under rt->mtx); the others
// wait for its result.
//
// A worker with a certificate proves its name at registration: it signs
// the nonce of GetChallenge with its key (PLATFORM.md: nng 1.5.2 does not
// show the server the peer's certificate).
#include "session.h"

#include "runtime_int.h"

#include "log.h"
#include "methods.h"
#include "tls.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

// Call timeout of Register and GetChallenge (ms). Kept short: a call that
// times out is retried, and a call in flight cannot be interrupted.
#define RT_REGISTER_TIMEOUT_MS 3000u
// Heartbeat period when the coordinator names none (ms).
#define RT_DEFAULT_HEARTBEAT_MS 5000u

void
sje__backoff_reset(sje__backoff *b)
{
	b->ms = SJE__BACKOFF_MIN_MS;
}

uint32_t
sje__backoff_next(sje__backoff *b)
{
	uint32_t ms =
	    b->ms < SJE__BACKOFF_MIN_MS ? SJE__BACKOFF_MIN_MS : b->ms;

	b->ms = ms * 2 > SJE__BACKOFF_MAX_MS ? SJE__BACKOFF_MAX_MS : ms * 2;
	return ms;
}

bool
sje__session_transient(sje_err rv)
{
	return rv == SJE_EUNAVAIL || rv == SJE_ETIMEDOUT;
}

bool
sje__session_lost(sje_err rv)
{
	return rv == SJE_EPRECOND || rv == SJE_ENOTFOUND;
}

bool
sje__session_refused(sje_err rv)
{
	return !sje__session_transient(rv) && rv != SJE_EINTERNAL &&
	    rv != SJE_ELIMIT && rv != SJE_EIO;
}

uint64_t
sje__session_id(sje__runtime *rt)
{
	uint64_t s;

	(void) pthread_mutex_lock(&rt->mtx);
	s = rt->session;
	(void) pthread_mutex_unlock(&rt->mtx);
	return s;
}

sje_err
sje__session_call(sje__runtime *rt, unsigned method,
    const ProtobufCMessage *in, ProtobufCMessage **out, uint32_t timeout_ms,
    sje_status *st)
{
	memset(st, 0, sizeof(*st));
	return sje_client_call(rt->client, &sje__v1__worker_hub__descriptor,
	    method, in, out, timeout_ms, st);
}

const char *
sje__session_why(sje_err rv, const sje_status *st, char *buf, size_t len)
{
	if (st->message[0] != '\0') {
		sje__snprintf(
		    buf, len, "%s (%s)", sje_strerror(rv), st->message);
	} else {
		sje__snprintf(buf, len, "%s", sje_strerror(rv));
	}
	return buf;
}

// session_proof adds to req the proof of our name, when we have a certificate:
// a nonce from GetChallenge (copied into nonce, 64 bytes) signed with our
// key (*cert and *sig: caller frees). A coordinator that does not know
// GetChallenge gets no proof. Returns the error of the call otherwise.
static sje_err
session_proof(sje__runtime *rt, Sje__V1__RegisterRequest *req, char **cert,
    uint8_t **sig, uint8_t *nonce, sje_status *st)
{
	if (rt->cert_file == NULL) {
		return SJE_OK;
	}
	Sje__V1__ChallengeRequest creq = SJE__V1__CHALLENGE_REQUEST__INIT;
	ProtobufCMessage         *m    = NULL;
	sje_err rv = sje__session_call(rt, SJE__HUB_CHALLENGE, &creq.base, &m,
	    RT_REGISTER_TIMEOUT_MS, st);
	if (rv == SJE_EUNIMPL) {
		memset(st, 0, sizeof(*st));
		return SJE_OK;
	}
	if (rv != SJE_OK) {
		return rv;
	}
	Sje__V1__ChallengeReply *ch = (Sje__V1__ChallengeReply *) m;
	size_t                   nl = ch->nonce.len <= 64 ? ch->nonce.len : 0;
	memcpy(nonce, ch->nonce.data, nl);
	protobuf_c_message_free_unpacked(m, NULL);
	uint8_t        data[SJE_WORKER_PROOF_MAX];
	size_t         dlen = sje__worker_proof(nonce, nl, rt->name, data);
	sje__tls_files f    = { .cert = rt->cert_file, .key = rt->key_file };
	size_t         clen, slen;
	if (nl == 0 || dlen == 0 ||
	    sje__tls_sign_proof(&f, data, dlen, cert, &clen, sig, &slen,
	        st->message, sizeof(st->message)) != SJE_OK) {
		if (st->message[0] == '\0') {
			sje__snprintf(st->message, sizeof(st->message),
			    "the coordinator's challenge is malformed");
		}
		return SJE_ECONFIG;
	}
	req->certificate.data = (uint8_t *) *cert;
	req->certificate.len  = clen;
	req->nonce.data       = nonce;
	req->nonce.len        = nl;
	req->signature.data   = *sig;
	req->signature.len    = slen;
	return SJE_OK;
}

sje_err
sje__session_renew(sje__runtime *rt, uint64_t stale, sje_status *st)
{
	Sje__V1__RegisterRequest req = SJE__V1__REGISTER_REQUEST__INIT;
	Sje__V1__RegisterReply  *reply;
	ProtobufCMessage        *m = NULL;
	sje_err                  rv;
	bool                     first = false;

	memset(st, 0, sizeof(*st));
	(void) pthread_mutex_lock(&rt->mtx);
	while (rt->registering) {
		(void) pthread_cond_wait(&rt->cv, &rt->mtx);
	}
	if (rt->session != stale) {
		(void) pthread_mutex_unlock(&rt->mtx);
		return SJE_OK;
	}
	rt->registering = true;
	(void) pthread_mutex_unlock(&rt->mtx);

	req.name        = rt->name;
	req.functions   = rt->functions;
	req.n_functions = rt->n_functions;
	req.slots       = rt->slots;
	req.labels      = rt->label_ptrs;
	req.n_labels    = rt->n_labels;

	char    *cert = NULL;
	uint8_t *sig  = NULL;
	uint8_t  nonce[64];
	rv = session_proof(rt, &req, &cert, &sig, nonce, st);
	if (rv == SJE_OK) {
		rv = sje__session_call(rt, SJE__HUB_REGISTER, &req.base, &m,
		    RT_REGISTER_TIMEOUT_MS, st);
	}
	free(cert);
	free(sig);
	reply = (Sje__V1__RegisterReply *) m;
	if (rv == SJE_OK && reply->session == 0) {
		sje__snprintf(st->message, sizeof(st->message),
		    "the coordinator answered with session 0");
		rv = SJE_EPROTO;
	}

	(void) pthread_mutex_lock(&rt->mtx);
	rt->registering = false;
	if (rv == SJE_OK) {
		rt->session         = reply->session;
		rt->fetch_reports   = reply->fetch_reports;
		rt->heartbeat_ms    = reply->heartbeat_ms != 0
		       ? reply->heartbeat_ms
		       : RT_DEFAULT_HEARTBEAT_MS;
		first               = !rt->registered_once;
		rt->registered_once = true;
	}
	(void) pthread_cond_broadcast(&rt->cv);
	(void) pthread_cond_broadcast(&rt->report_cv); // fetch_reports
	(void) pthread_mutex_unlock(&rt->mtx);

	if (rv == SJE_OK) {
		if (first) {
			SJE_INFO(
			    "worker %s registered: %u slots, functions: %s",
			    rt->name, (unsigned) rt->slots,
			    rt->functions_text);
		} else {
			SJE_INFO(
			    "worker %s registered again (the coordinator no "
			    "longer knew its session); running jobs go on",
			    rt->name);
		}
		SJE_DEBUG("session %llu, lease %u s, heartbeat every %u ms",
		    (unsigned long long) reply->session,
		    (unsigned) reply->lease_s,
		    (unsigned) (reply->heartbeat_ms != 0
		            ? reply->heartbeat_ms
		            : RT_DEFAULT_HEARTBEAT_MS));
	}
	if (m != NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return rv;
}

bool
sje__session_first_register(sje__runtime *rt)
{
	sje__backoff b;
	sje_status   st;
	sje_err      rv;
	char         why[384];
	unsigned     failures = 0;

	sje__backoff_reset(&b);
	while (!sje__rt_flag(rt, &rt->stopping)) {
		rv = sje__session_renew(rt, 0, &st);
		if (rv == SJE_OK) {
			return true;
		}
		if (sje__session_refused(rv)) {
			(void) pthread_mutex_lock(&rt->mtx);
			rt->failed = true;
			sje__snprintf(rt->fail_msg, sizeof(rt->fail_msg),
			    "the coordinator at %s refused to register worker "
			    "%s: %s",
			    rt->server_url, rt->name,
			    sje__session_why(rv, &st, why, sizeof(why)));
			(void) pthread_cond_broadcast(&rt->cv);
			(void) pthread_mutex_unlock(&rt->mtx);
			return false;
		}
		if (failures++ == 0) {
			SJE_WARN(
			    "cannot register with the coordinator at %s: %s; "
			    "retrying",
			    rt->server_url,
			    sje__session_why(rv, &st, why, sizeof(why)));
		}
		sje__rt_sleep(rt, sje__backoff_next(&b), &rt->stopping);
	}
	return false;
}
