// netsec.h — the coordinator's network security settings: which listeners
// may leave loopback, and the TLS configurations they use.
//
// Secure by default: a server asked to listen beyond loopback (any
// server.rpc_url, server.events_url or http.listen host other than
// 127.0.0.0/8, ::1 or localhost) must have TLS (tls+tcp:// URLs, and
// security.tls.cert for HTTPS) and authentication (an API key or an OAuth
// key in security.auth); otherwise it refuses to start.
#ifndef SJE_SERVER_NETSEC_H
#define SJE_SERVER_NETSEC_H
#include "config.h"

struct nng_tls_config;

// sje__netsec is the TLS configurations of the listeners. A NULL field
// means plain TCP (or HTTP).
typedef struct sje__netsec {
	struct nng_tls_config *rpc;    // RPC and events: mutual TLS when
	                               // security.tls.require_client_cert
	struct nng_tls_config *events; // the same object as rpc, one more
	                               // reference
	struct nng_tls_config *https;  // the gateway: no client certificate
} sje__netsec;

// sje__netsec_check applies the secure-by-default rule and checks that
// tls+tcp:// URLs have a certificate to use. On failure returns
// SJE_ECONFIG with one line naming the offending setting in errbuf.
// Pure.
sje_err sje__netsec_check(const sje_config *cfg, char *errbuf, size_t errlen);

// sje__netsec_events_ok says whether the event stream (server.events_url)
// may open. A pub socket cannot ask its readers for credentials: with
// authentication on, it opens only on tls+tcp:// with client certificates
// required (security.tls.require_client_cert and security.tls.ca), where
// only holders of a certificate of the cluster's CA can read it. When it
// may not, why holds one line for the log saying so and where events are
// read instead. Pure.
bool sje__netsec_events_ok(const sje_config *cfg, char *why, size_t len);

// sje__netsec_open builds the TLS configurations that cfg asks for into
// *ns (zeroed first). On failure nothing is left allocated and errbuf
// holds one line naming the file at fault. Thread-safe.
sje_err sje__netsec_open(
    const sje_config *cfg, sje__netsec *ns, char *errbuf, size_t errlen);

// sje__netsec_close drops the references of ns (the listeners hold their
// own). Accepts a zeroed or partly filled ns.
void sje__netsec_close(sje__netsec *ns);

#endif // SJE_SERVER_NETSEC_H
