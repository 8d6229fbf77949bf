// tls.c — nng TLS configurations from PEM files, and TLS dialing.
//
// Design. Files are read here, not by nng: so that an unreadable file is
// reported by name ("cannot read TLS key '/etc/sje/key.pem': Permission
// denied") rather than as nng's bare "Cryptographic error", and so that a
// certificate and a key in two files can be loaded at all (nng's
// cert_key_file wants both in one PEM file; nng_tls_config_own_cert takes
// them from memory). A key is wiped from our memory as soon as nng has
// parsed it. The CA file is handed to nng by path after the readability
// check, since nng's loader also takes a CRL from the same file.
//
// Auth modes. Servers either require a client certificate from the CA
// (RPC and events, with security.tls.require_client_cert) or ask for none
// (HTTPS: browsers and curl authenticate with API keys and tokens; asking
// for an optional certificate would make browsers prompt, and nng's
// OPTIONAL mode lets in certificates from any CA, PLATFORM.md). Clients
// always verify the server (REQUIRED) and always set the server name.
//
// No state, no locks: every function is thread-safe.
#include "tls.h"

#include "util.h"

#include <nng/supplemental/tls/tls.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TLS_MAX_PEM_BYTES (1024u * 1024u) // one certificate or key file

// tls_given is true when a file name was given.
static bool
tls_given(const char *path)
{
	return path != NULL && path[0] != '\0';
}

// tls_wipe clears len bytes at p in a way the compiler keeps.
static void
tls_wipe(char *p, size_t len)
{
	volatile char *v = p;
	while (len-- > 0) {
		*v++ = 0;
	}
}

// tls_read_pem reads the file at path (what says which one, for errors)
// into a new NUL-terminated buffer: *out (caller frees), *lenp its length.
static sje_err
tls_read_pem(const char *what, const char *path, char **out, size_t *lenp,
    char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		sje__snprintf(errbuf, errlen, "cannot read %s '%s': %s", what,
		    path, strerror(errno));
		return SJE_ECONFIG;
	}
	char *buf = malloc(TLS_MAX_PEM_BYTES + 1);
	if (buf == NULL) {
		fclose(f);
		sje__snprintf(errbuf, errlen, "out of memory");
		return SJE_ENOMEM;
	}
	size_t n = fread(buf, 1, TLS_MAX_PEM_BYTES + 1, f);
	int    e = ferror(f) ? errno : 0;
	fclose(f);
	if (e != 0 || n > TLS_MAX_PEM_BYTES || n == 0) {
		sje__snprintf(errbuf, errlen, "cannot read %s '%s': %s", what,
		    path,
		    e != 0       ? strerror(e)
		        : n == 0 ? "the file is empty"
		                 : "larger than 1 MiB, not a PEM file");
		tls_wipe(buf, n > TLS_MAX_PEM_BYTES ? TLS_MAX_PEM_BYTES : n);
		free(buf);
		return SJE_ECONFIG;
	}
	buf[n] = '\0';
	*out   = buf;
	*lenp  = n;
	return SJE_OK;
}

// tls_load_ca makes the peer's certificate chain to the CA(s) in path.
static sje_err
tls_load_ca(nng_tls_config *cfg, const char *path, char *errbuf, size_t errlen)
{
	char   *pem;
	size_t  len;
	sje_err err =
	    tls_read_pem("TLS CA file", path, &pem, &len, errbuf, errlen);
	if (err != SJE_OK) {
		return err;
	}
	bool has_cert = strstr(pem, "-----BEGIN CERTIFICATE-----") != NULL;
	free(pem);
	int rv;
	if (!has_cert || (rv = nng_tls_config_ca_file(cfg, path)) != 0) {
		sje__snprintf(errbuf, errlen,
		    "TLS CA file '%s' holds no valid PEM certificate", path);
		return SJE_ECONFIG;
	}
	return SJE_OK;
}

// tls_pair_ok is true when the key in key_pem (NUL-terminated, key_len
// bytes before the NUL) is the private half of the first certificate in
// cert_pem: nng and mbedTLS accept a mismatched pair, which then fails
// every handshake with no word of why.
static bool
tls_pair_ok(
    const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len)
{
	mbedtls_x509_crt   crt;
	mbedtls_pk_context key;
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	// PEM input is parsed with its NUL, hence the + 1.
	bool ok = mbedtls_x509_crt_parse(&crt,
	              (const unsigned char *) cert_pem, cert_len + 1) >= 0 &&
	    crt.version != 0 &&
	    mbedtls_pk_parse_key(&key, (const unsigned char *) key_pem,
	        key_len + 1, NULL, 0) == 0 &&
	    mbedtls_pk_check_pair(&crt.pk, &key) == 0;
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&crt);
	return ok;
}

// tls_load_own loads our certificate (and its key, from key_path or, when
// that is not given, from the certificate's file).
static sje_err
tls_load_own(nng_tls_config *cfg, const char *cert_path, const char *key_path,
    char *errbuf, size_t errlen)
{
	char   *cert, *key        = NULL;
	size_t  cert_len, key_len = 0;
	sje_err err = tls_read_pem(
	    "TLS certificate", cert_path, &cert, &cert_len, errbuf, errlen);
	if (err != SJE_OK) {
		return err;
	}
	if (tls_given(key_path) &&
	    (err = tls_read_pem("TLS key", key_path, &key, &key_len, errbuf,
	         errlen)) != SJE_OK) {
		tls_wipe(cert, cert_len);
		free(cert);
		return err;
	}
	const char *key_pem = key != NULL ? key : cert;
	size_t      klen    = key != NULL ? key_len : cert_len;
	if (strstr(cert, "-----BEGIN CERTIFICATE-----") == NULL) {
		sje__snprintf(errbuf, errlen,
		    "TLS certificate '%s' holds no PEM certificate",
		    cert_path);
		err = SJE_ECONFIG;
	} else if (strstr(key_pem, "PRIVATE KEY-----") == NULL) {
		sje__snprintf(errbuf, errlen,
		    key != NULL ? "TLS key '%s' holds no PEM private key"
		                : "TLS certificate '%s' holds no private key "
		                  "(give the key file too)",
		    key != NULL ? key_path : cert_path);
		err = SJE_ECONFIG;
	} else if (!tls_pair_ok(cert, cert_len, key_pem, klen) ||
	    nng_tls_config_own_cert(cfg, cert, key_pem, NULL) != 0) {
		if (key != NULL) {
			sje__snprintf(errbuf, errlen,
			    "TLS certificate '%s' and key '%s' do not load "
			    "(unreadable PEM, an encrypted key, or a key that "
			    "does not match the certificate)",
			    cert_path, key_path);
		} else {
			sje__snprintf(errbuf, errlen,
			    "TLS certificate and key '%s' do not load "
			    "(unreadable PEM, an encrypted key, or a key that "
			    "does not match the certificate)",
			    cert_path);
		}
		err = SJE_ECONFIG;
	}
	tls_wipe(cert, cert_len);
	free(cert);
	if (key != NULL) {
		tls_wipe(key, key_len);
		free(key);
	}
	return err;
}

sje_err
sje__tls_server_config(const sje__tls_files *f, bool require_client_cert,
    nng_tls_config **out, char *errbuf, size_t errlen)
{
	if (!tls_given(f->cert)) {
		sje__snprintf(errbuf, errlen,
		    "TLS needs security.tls.cert (the server's certificate)");
		return SJE_ECONFIG;
	}
	if (require_client_cert && !tls_given(f->ca)) {
		sje__snprintf(errbuf, errlen,
		    "security.tls.require_client_cert needs security.tls.ca "
		    "(the CA that signs client certificates)");
		return SJE_ECONFIG;
	}
	nng_tls_config *cfg;
	int             rv;
	sje_err         err;
	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) != 0) {
		sje__snprintf(
		    errbuf, errlen, "cannot set up TLS: %s", nng_strerror(rv));
		return sje__nng_err(rv);
	}
	if ((err = tls_load_own(cfg, f->cert, f->key, errbuf, errlen)) !=
	        SJE_OK ||
	    (tls_given(f->ca) &&
	        (err = tls_load_ca(cfg, f->ca, errbuf, errlen)) != SJE_OK)) {
		nng_tls_config_free(cfg);
		return err;
	}
	if ((rv = nng_tls_config_auth_mode(cfg,
	         require_client_cert ? NNG_TLS_AUTH_MODE_REQUIRED
	                             : NNG_TLS_AUTH_MODE_NONE)) != 0) {
		nng_tls_config_free(cfg);
		sje__snprintf(
		    errbuf, errlen, "cannot set up TLS: %s", nng_strerror(rv));
		return sje__nng_err(rv);
	}
	*out = cfg;
	return SJE_OK;
}

sje_err
sje__tls_client_config(const sje__tls_files *f, const char *server_name,
    nng_tls_config **out, char *errbuf, size_t errlen)
{
	if (!tls_given(f->ca)) {
		sje__snprintf(errbuf, errlen,
		    "tls+tcp:// needs a TLS CA file (security.tls.ca: the CA "
		    "that signed the server's certificate)");
		return SJE_ECONFIG;
	}
	if (server_name == NULL || server_name[0] == '\0') {
		sje__snprintf(errbuf, errlen,
		    "tls+tcp:// needs the server's name: put a host name in the "
		    "URL or set the TLS server name");
		return SJE_ECONFIG;
	}
	nng_tls_config *cfg;
	int             rv;
	sje_err         err;
	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) != 0) {
		sje__snprintf(
		    errbuf, errlen, "cannot set up TLS: %s", nng_strerror(rv));
		return sje__nng_err(rv);
	}
	if ((err = tls_load_ca(cfg, f->ca, errbuf, errlen)) != SJE_OK ||
	    (tls_given(f->cert) &&
	        (err = tls_load_own(cfg, f->cert, f->key, errbuf, errlen)) !=
	            SJE_OK)) {
		nng_tls_config_free(cfg);
		return err;
	}
	// Without a server name mbedTLS checks no name at all (PLATFORM.md).
	if ((rv = nng_tls_config_server_name(cfg, server_name)) != 0 ||
	    (rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) !=
	        0) {
		nng_tls_config_free(cfg);
		sje__snprintf(
		    errbuf, errlen, "cannot set up TLS: %s", nng_strerror(rv));
		return sje__nng_err(rv);
	}
	*out = cfg;
	return SJE_OK;
}

bool
sje__tls_url(const char *url)
{
	return url != NULL && strncmp(url, "tls+tcp", 7) == 0 &&
	    (strncmp(url + 7, "://", 3) == 0 ||
	        strncmp(url + 7, "4://", 4) == 0 ||
	        strncmp(url + 7, "6://", 4) == 0);
}

bool
sje__url_host(const char *url, char *buf, size_t len)
{
	if (url == NULL) {
		return false;
	}
	const char *p = strstr(url, "://");
	if (p != NULL) {
		if (strncmp(url, "ipc:", 4) == 0 ||
		    strncmp(url, "inproc:", 7) == 0) {
			return false;
		}
		p += 3;
	} else {
		p = url;
	}
	const char *end;
	if (p[0] == '[') {
		p++;
		if ((end = strchr(p, ']')) == NULL) {
			return false;
		}
	} else {
		end = strrchr(p, ':');
		if (end == NULL) {
			end = p + strcspn(p, "/");
		}
	}
	size_t n = (size_t) (end - p);
	if (n >= len) {
		return false;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

void
sje__url_advertised(const char *url, const char *host, char *buf, size_t len)
{
	char        bound[256] = "";
	const char *sep        = strstr(url, "://");
	const char *port       = strrchr(url, ':');
	bool        wild       = sje__url_host(url, bound, sizeof(bound)) &&
	    (bound[0] == '\0' || strcmp(bound, "0.0.0.0") == 0 ||
	        strcmp(bound, "::") == 0);
	if (!wild || sep == NULL || port == NULL || port < sep + 3) {
		sje__snprintf(buf, len, "%s", url);
		return;
	}
	bool v6 = strchr(host, ':') != NULL;
	sje__snprintf(buf, len, "%.*s://%s%s%s%s", (int) (sep - url), url,
	    v6 ? "[" : "", host, v6 ? "]" : "", port);
}

bool
sje__host_is_loopback(const char *host)
{
	if (host == NULL || host[0] == '\0') {
		return false;
	}
	if (strcasecmp(host, "localhost") == 0) {
		return true;
	}
	char   h[64];
	size_t n = strlen(host);
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(h)) {
		return false;
	}
	memcpy(h, host, n);
	h[n] = '\0';
	struct in_addr  a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, h, &a4) == 1) {
		return (ntohl(a4.s_addr) >> 24) == 127;
	}
	if (inet_pton(AF_INET6, h, &a6) == 1) {
		static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
			0, 0, 0xff, 0xff };
		if (memcmp(a6.s6_addr, v4mapped, 12) == 0) {
			return a6.s6_addr[12] == 127;
		}
		return memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
	}
	return false;
}

sje_err
sje__tls_dial(nng_socket s, const char *url, const sje_client_opts *opts,
    nng_dialer *dp, char *errbuf, size_t errlen)
{
	nng_dialer d;
	int        rv;
	if ((rv = nng_dialer_create(&d, s, url)) != 0) {
		sje__snprintf(errbuf, errlen, "cannot dial '%s': %s", url,
		    nng_strerror(rv));
		return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ||
		        rv == NNG_EINVAL
		    ? SJE_EINVAL
		    : sje__nng_err(rv);
	}
	if (sje__tls_url(url)) {
		char host[256] = "";
		(void) sje__url_host(url, host, sizeof(host));
		const char *name = opts != NULL && tls_given(opts->server_name)
		    ? opts->server_name
		    : host;
		sje__tls_files f = { 0 };
		if (opts != NULL) {
			f.ca   = opts->ca_file;
			f.cert = opts->cert_file;
			f.key  = opts->key_file;
		}
		nng_tls_config *cfg;
		sje_err         err =
		    sje__tls_client_config(&f, name, &cfg, errbuf, errlen);
		if (err != SJE_OK) {
			nng_dialer_close(d);
			return err;
		}
		// The dialer holds its own reference to the config.
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg);
		if (rv != 0) {
			nng_dialer_close(d);
			sje__snprintf(errbuf, errlen, "cannot set up TLS: %s",
			    nng_strerror(rv));
			return sje__nng_err(rv);
		}
	}
	// Non-blocking: the dialer keeps trying in the background, so a peer
	// may start before its server and survives server restarts.
	if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		nng_dialer_close(d);
		sje__snprintf(errbuf, errlen, "cannot dial '%s': %s", url,
		    nng_strerror(rv));
		return sje__nng_err(rv);
	}
	if (dp != NULL) {
		*dp = d;
	}
	return SJE_OK;
}

size_t
sje__worker_proof(
    const uint8_t *nonce, size_t nonce_len, const char *name, uint8_t *buf)
{
	static const char tag[] = "sje-register-v1"; // and its NUL
	size_t            nl    = name != NULL ? strlen(name) : 0;
	if (nonce_len > 64 || nl > SJE_MAX_ID_BYTES) {
		return 0;
	}
	memcpy(buf, tag, sizeof(tag));
	memcpy(buf + sizeof(tag), nonce, nonce_len);
	memcpy(buf + sizeof(tag) + nonce_len, name, nl);
	return sizeof(tag) + nonce_len + nl;
}

sje_err
sje__tls_sign_proof(const sje__tls_files *f, const uint8_t *data, size_t len,
    char **cert_pem, size_t *cert_len, uint8_t **sig, size_t *sig_len,
    char *errbuf, size_t errlen)
{
	const char *key_path =
	    f->key != NULL && f->key[0] != '\0' ? f->key : f->cert;
	char   *cert = NULL, *key = NULL;
	size_t  clen = 0, klen = 0;
	sje_err err;
	if ((err = tls_read_pem("TLS certificate", f->cert, &cert, &clen,
	         errbuf, errlen)) != SJE_OK) {
		return err;
	}
	if ((err = tls_read_pem("TLS key", key_path, &key, &klen, errbuf,
	         errlen)) != SJE_OK) {
		free(cert);
		return err;
	}
	mbedtls_pk_context       pk;
	mbedtls_entropy_context  entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_pk_init(&pk);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	uint8_t  hash[32];
	uint8_t *out  = malloc(MBEDTLS_PK_SIGNATURE_MAX_SIZE);
	size_t   olen = 0;
	err           = SJE_ECONFIG;
	if (out == NULL) {
		sje__snprintf(errbuf, errlen, "out of memory");
		err = SJE_ENOMEM;
	} else if (mbedtls_pk_parse_key(&pk, (const unsigned char *) key,
	               klen + 1, NULL, 0) != 0) {
		sje__snprintf(errbuf, errlen,
		    "TLS key '%s' holds no private key that can be read",
		    key_path);
	} else if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
	               (const unsigned char *) "sje-proof", 9) != 0 ||
	    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), data, len,
	        hash) != 0 ||
	    mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), out,
	        &olen, mbedtls_ctr_drbg_random, &drbg) != 0) {
		sje__snprintf(errbuf, errlen,
		    "cannot sign with the TLS key '%s'", key_path);
	} else {
		err = SJE_OK;
	}
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	mbedtls_pk_free(&pk);
	tls_wipe(key, klen);
	free(key);
	if (err != SJE_OK) {
		free(out);
		free(cert);
		return err;
	}
	*cert_pem = cert;
	*cert_len = clen;
	*sig      = out;
	*sig_len  = olen;
	return SJE_OK;
}
