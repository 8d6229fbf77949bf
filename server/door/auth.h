// auth.h — who may call what: API keys and OAuth 2 bearer JWTs, and the
// scope each method needs.
//
// One implementation for both front doors (rpc.c and gateway.c): they
// pass whatever credentials the request carried and the method it names,
// and answer the error themselves. Authentication is enabled when the
// config names at least one API key or an OAuth key (hs256_secret_env or
// rs256_public_key); otherwise every call is allowed.
//
// Scopes by method: Coordinator.Submit and RunWorkflow need `submit`;
// GetStatus, Wait, ListJobs and ListEvents need `read`; Cancel needs
// `cancel`; ListWorkers and Stats (GET /workers, GET /metrics) need
// `admin`; every WorkerHub method needs `worker`. `admin` implies every
// scope. A method this table does not know needs `admin`.
//
// This is the only server module, with tls, that includes mbedTLS.
#ifndef SJE_SERVER_AUTH_H
#define SJE_SERVER_AUTH_H

#include <sje/sje.h>

#include "config.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#define SJE_AUTH_MAX_TOKEN_BYTES 8192u // a longer bearer token is refused
#define SJE_AUTH_MAX_KEY_BYTES 1024u   // a longer API key is refused
#define SJE_AUTH_SKEW_S 30             // clock skew allowed on exp and nbf

typedef struct sje__auth sje__auth;

// sje__auth_open reads cfg->security.auth (borrowed for the call only):
// the API keys' hashes, the HS256 secret from the environment variable
// named by hs256_secret_env (at least 32 bytes; never logged or copied
// into err), and the RS256 public key from the PEM file rs256_public_key.
// On SJE_OK *out is written; caller owns it (sje__auth_close). On
// SJE_ECONFIG err (len bytes) gets one line saying what is wrong (a
// missing variable, an unreadable or invalid key, issuer or audience
// without a key). Not thread-safe; call once at start.
sje_err sje__auth_open(
    const sje_config *cfg, sje__auth **out, char *err, size_t len);

// sje__auth_close zeroes the secret and frees a. Accepts NULL.
void sje__auth_close(sje__auth *a);

// sje__auth_enabled is true when a is not NULL and calls need
// credentials. Thread-safe.
bool sje__auth_enabled(const sje__auth *a);

// sje__auth_check decides whether a caller with these credentials may
// call method (an index in svc). api_key and bearer may be NULL or "";
// a bearer value with two dots is a JWT, any other an API key (so
// "Authorization: Bearer <api key>" works). When both are given the API
// key is used. Results: SJE_OK (allowed; also when a is NULL or auth is
// disabled), SJE_EUNAUTH (no credentials, or wrong, expired, forged,
// malformed ones), SJE_EPERM (valid, but without the method's scope).
// who (wholen bytes, may be NULL) gets on SJE_OK the caller's name (the
// API key's name, the JWT's sub, or "anonymous"), and on failure the
// reason, fit for a log line and for the client: it never holds the key
// or the token. Thread-safe: called on nng threads concurrently.
sje_err sje__auth_check(const sje__auth *a, const char *api_key,
    const char *bearer, const ProtobufCServiceDescriptor *svc, unsigned method,
    char *who, size_t wholen);

// sje__auth_scope_of names the scope method of svc needs ("submit",
// "read", "cancel", "admin" or "worker"), or returns NULL when auth.c's
// tables name none for it (a call to such a method needs admin). Pure.
const char *sje__auth_scope_of(
    const ProtobufCServiceDescriptor *svc, unsigned method);

#endif // SJE_SERVER_AUTH_H
