// tls.h — TLS for SJE's nng sockets (tls+tcp://) and the HTTPS gateway
// (internal: the server, the worker, the CLI and libsje's channel).
//
// Builds nng_tls_config objects from PEM files (security.tls of config, or
// the TLS fields of sje_client_opts) and dials with them. nng 1.5.2 uses
// mbedTLS 2.28 underneath: TLS 1.2, and host names only — a certificate's
// IP SANs are never matched, so certificates carry a DNS: entry for every
// name and address that clients dial (deploy/certs.sh does so), and clients
// always set the server name (without it mbedTLS checks no name at all).
//
// Error texts name the file that is at fault and never contain key
// material. Everything here is thread-safe (no shared state).
#ifndef SJE_TLS_H
#define SJE_TLS_H

#include <sje/client.h>

#include <nng/nng.h>

#include "util.h"

struct nng_tls_config;

// sje__tls_files names PEM files; every field is borrowed, and NULL or ""
// means "not given".
typedef struct sje__tls_files {
	const char *ca; // CA certificate(s) to verify the peer; may hold a CRL
	const char *cert; // our certificate (chain); may also hold the key
	const char *key;  // our private key; not given: it is in cert
} sje__tls_files;

// sje__tls_server_config builds a server-side config: our certificate and
// key (both required) and, when f->ca is given, the CA that peers'
// certificates must chain to. With require_client_cert, a peer without a
// valid certificate from f->ca is refused during the handshake
// (NNG_TLS_AUTH_MODE_REQUIRED; f->ca is then required); without it no
// client certificate is asked for (NNG_TLS_AUTH_MODE_NONE: HTTPS, where
// API keys and tokens authenticate). On SJE_OK *out is the config (caller
// owns one reference: nng_tls_config_free). On failure errbuf (errlen
// bytes) holds one line naming the file at fault.
sje_err sje__tls_server_config(const sje__tls_files *f,
    bool require_client_cert, struct nng_tls_config **out, char *errbuf,
    size_t errlen);

// sje__tls_client_config builds a client-side config: the CA that the
// server's certificate must chain to (required), our own certificate and
// key when f->cert is given (for servers that require one), and the name
// the server's certificate must carry (required, non-empty). Results,
// ownership and errors as sje__tls_server_config.
sje_err sje__tls_client_config(const sje__tls_files *f,
    const char *server_name, struct nng_tls_config **out, char *errbuf,
    size_t errlen);

// sje__tls_url is true when url uses TLS (tls+tcp://, tls+tcp4://,
// tls+tcp6://).
bool sje__tls_url(const char *url);

// sje__url_host writes the host of url ("scheme://host:port", or a bare
// "host:port"), without IPv6 brackets, into buf (len bytes). An empty host
// (all interfaces) gives "". Returns false when url has no host part
// (ipc://, inproc://) or it does not fit.
bool sje__url_host(const char *url, char *buf, size_t len);

// sje__url_advertised writes into buf (len bytes) the URL at which others
// reach a listener bound at url: url itself, unless its host is a
// wildcard (0.0.0.0, ::, or none), which becomes host (this machine's
// name, say). Pure.
void sje__url_advertised(
    const char *url, const char *host, char *buf, size_t len);

// sje__host_is_loopback is true for "localhost", 127.0.0.0/8 and ::1
// (also in bracketed or IPv4-mapped form), false for anything else,
// the empty host (all interfaces) included.
bool sje__host_is_loopback(const char *host);

// sje__tls_dial starts a non-blocking dialer on s to url (it keeps
// retrying in the background). When url is tls+tcp://, TLS is set up from
// opts (ca_file, cert_file, key_file, server_name; opts may be NULL only
// for other URLs); the server name defaults to the URL's host. *dp (may be
// NULL) gets the dialer. Errors: SJE_EINVAL for a bad URL, SJE_ECONFIG for
// unusable TLS settings (errbuf says which file), others from nng.
sje_err sje__tls_dial(nng_socket s, const char *url,
    const sje_client_opts *opts, nng_dialer *dp, char *errbuf, size_t errlen);

// SJE_WORKER_PROOF_MAX is the size of the data a worker signs to prove its
// name: "sje-register-v1", a NUL byte, the nonce and the name.
#define SJE_WORKER_PROOF_MAX (16 + 64 + SJE_MAX_ID_BYTES)

// sje__worker_proof writes the data a worker signs at registration into
// buf (SJE_WORKER_PROOF_MAX bytes) and returns its length, or 0 when the
// nonce (at most 64 bytes) or the name (at most SJE_MAX_ID_BYTES) is too
// long. The worker (signing) and the coordinator (verifying) share it.
size_t sje__worker_proof(
    const uint8_t *nonce, size_t nonce_len, const char *name, uint8_t *buf);

// sje__tls_sign_proof signs data (len bytes) with the private key of the
// certificate named by f (SHA-256; ECDSA or RSA as the key is), and reads
// the certificate itself: on SJE_OK *cert_pem (its PEM text, caller frees;
// *cert_len bytes) and *sig (caller frees; *sig_len bytes). On failure
// errbuf names the file at fault.
sje_err sje__tls_sign_proof(const sje__tls_files *f, const uint8_t *data,
    size_t len, char **cert_pem, size_t *cert_len, uint8_t **sig,
    size_t *sig_len, char *errbuf, size_t errlen);

#endif // SJE_TLS_H
