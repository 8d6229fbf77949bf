// workerid.h — proof of a worker's name at registration.
//
// nng 1.5.2 does not tell the coordinator which certificate a TLS peer
// presented, so mutual TLS proves only that a worker belongs to the
// cluster. When executor.worker_nodes names the workers allowed, a worker
// proves its name: it asks for a nonce (WorkerHub.GetChallenge), signs
// sje__worker_proof(nonce, name) with its certificate's key, and sends the
// certificate, the nonce and the signature with RegisterWorker. The
// coordinator checks that the nonce is one it gave and has not been used,
// that the certificate chains to security.tls.ca, that its subject CN is
// the name registered and one of worker_nodes, and the signature.
//
// Not thread-safe: owned by the round's holder (round.c).
#ifndef SJE_SERVER_WORKERID_H
#define SJE_SERVER_WORKERID_H

#include "config.h"
#include <sje/sje.h>

#define SJE_WORKERID_NONCE_BYTES 32
#define SJE_WORKERID_TTL_S 60

typedef struct sje__workerid sje__workerid;

// sje__workerid_open prepares the checks of cfg: with no worker_nodes,
// *out is NULL (nothing to enforce). With them, security.tls.ca must name
// a readable CA file, else SJE_ECONFIG with one line in err.
sje_err sje__workerid_open(
    const sje_config *cfg, sje__workerid **out, char *err, size_t errlen);

// sje__workerid_close frees w. Accepts NULL.
void sje__workerid_close(sje__workerid *w);

// sje__workerid_challenge writes a new single-use nonce, valid for
// SJE_WORKERID_TTL_S from now_ms, into nonce (SJE_WORKERID_NONCE_BYTES).
// Works (and its nonces are simply never checked) when w is NULL.
void sje__workerid_challenge(
    sje__workerid *w, sje_time_ms now_ms, uint8_t *nonce);

// sje__workerid_verify checks a registration's proof of name (see the
// top). SJE_OK when w is NULL (nothing enforced) or the proof holds;
// SJE_EPERM with the reason in why (no secrets, for the log and the
// worker) otherwise. The nonce is used up either way.
sje_err sje__workerid_verify(sje__workerid *w, sje_time_ms now_ms,
    const char *name, const uint8_t *cert, size_t cert_len,
    const uint8_t *nonce, size_t nonce_len, const uint8_t *sig, size_t sig_len,
    char *why, size_t whylen);

#endif // SJE_SERVER_WORKERID_H
