// workerid.c — checks a worker's proof of name (see workerid.h), with
// mbedTLS: the certificate's chain to the CA, its subject CN, and the
// signature over sje__worker_proof(nonce, name).
//
// Nonces live in a small table: at most WORKERID_MAX_NONCES outstanding,
// each used once and forgotten when it expires; when the table is full
// the oldest gives way.
#include "sched/workerid.h"

#include "tls.h"
#include "util.h"

#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <string.h>

#define WORKERID_MAX_NONCES 1024
#define WORKERID_MAX_CERT_BYTES (64u * 1024u)

typedef struct workerid_nonce {
	uint8_t     v[SJE_WORKERID_NONCE_BYTES];
	sje_time_ms expires_ms; // 0: free slot
} workerid_nonce;

struct sje__workerid {
	const sje_config *cfg; // borrowed: worker_nodes
	mbedtls_x509_crt  ca;
	workerid_nonce    nonces[WORKERID_MAX_NONCES];
};

sje_err
sje__workerid_open(
    const sje_config *cfg, sje__workerid **out, char *err, size_t errlen)
{
	*out = NULL;
	if (cfg->executor.worker_nodes.n == 0) {
		return SJE_OK;
	}
	const char *ca = cfg->security.tls.ca;
	if (ca == NULL || ca[0] == '\0') {
		sje__snprintf(err, errlen,
		    "executor.worker_nodes needs security.tls.ca, to check the "
		    "workers' certificates");
		return SJE_ECONFIG;
	}
	sje__workerid *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return SJE_ENOMEM;
	}
	w->cfg = cfg;
	mbedtls_x509_crt_init(&w->ca);
	if (mbedtls_x509_crt_parse_file(&w->ca, ca) != 0) {
		sje__snprintf(err, errlen,
		    "security.tls.ca: cannot read CA certificates from '%s'",
		    ca);
		sje__workerid_close(w);
		return SJE_ECONFIG;
	}
	*out = w;
	return SJE_OK;
}

void
sje__workerid_close(sje__workerid *w)
{
	if (w == NULL) {
		return;
	}
	mbedtls_x509_crt_free(&w->ca);
	free(w);
}

void
sje__workerid_challenge(sje__workerid *w, sje_time_ms now_ms, uint8_t *nonce)
{
	for (size_t i = 0; i < SJE_WORKERID_NONCE_BYTES; i += 8) {
		uint64_t r = sje__random_u64();
		memcpy(nonce + i, &r, 8);
	}
	if (w == NULL) {
		return;
	}
	// A free or expired slot, else the one closest to expiry.
	size_t pick = 0;
	for (size_t i = 0; i < WORKERID_MAX_NONCES; i++) {
		if (w->nonces[i].expires_ms <= now_ms) {
			pick = i;
			break;
		}
		if (w->nonces[i].expires_ms < w->nonces[pick].expires_ms) {
			pick = i;
		}
	}
	memcpy(w->nonces[pick].v, nonce, SJE_WORKERID_NONCE_BYTES);
	w->nonces[pick].expires_ms =
	    now_ms + (sje_time_ms) SJE_WORKERID_TTL_S * 1000;
}

// workerid_take uses up nonce; false when it is not one given and alive.
static bool
workerid_take(
    sje__workerid *w, sje_time_ms now_ms, const uint8_t *nonce, size_t len)
{
	if (len != SJE_WORKERID_NONCE_BYTES) {
		return false;
	}
	for (size_t i = 0; i < WORKERID_MAX_NONCES; i++) {
		workerid_nonce *n = &w->nonces[i];
		if (n->expires_ms > now_ms && memcmp(n->v, nonce, len) == 0) {
			n->expires_ms = 0;
			return true;
		}
	}
	return false;
}

// workerid_cn copies the subject CN of crt into buf; false when none.
static bool
workerid_cn(const mbedtls_x509_crt *crt, char *buf, size_t len)
{
	for (const mbedtls_x509_name *n = &crt->subject; n != NULL;
	     n                          = n->next) {
		if (n->oid.p != NULL &&
		    MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
			if (n->val.len >= len) {
				return false;
			}
			memcpy(buf, n->val.p, n->val.len);
			buf[n->val.len] = '\0';
			return true;
		}
	}
	return false;
}

sje_err
sje__workerid_verify(sje__workerid *w, sje_time_ms now_ms, const char *name,
    const uint8_t *cert, size_t cert_len, const uint8_t *nonce,
    size_t nonce_len, const uint8_t *sig, size_t sig_len, char *why,
    size_t whylen)
{
	if (w == NULL) {
		return SJE_OK;
	}
	if (cert_len == 0 || nonce_len == 0 || sig_len == 0) {
		sje__snprintf(why, whylen,
		    "this coordinator admits only named workers: register with "
		    "a certificate (security.tls.cert) to prove the name");
		return SJE_EPERM;
	}
	if (!workerid_take(w, now_ms, nonce, nonce_len)) {
		sje__snprintf(why, whylen,
		    "the challenge is unknown, used or "
		    "expired: ask for a new one");
		return SJE_EPERM;
	}
	bool listed = false;
	for (size_t i = 0; i < w->cfg->executor.worker_nodes.n; i++) {
		listed |=
		    strcmp(w->cfg->executor.worker_nodes.items[i], name) == 0;
	}
	if (!listed) {
		sje__snprintf(why, whylen,
		    "worker name '%s' is not in executor.worker_nodes", name);
		return SJE_EPERM;
	}
	if (cert_len > WORKERID_MAX_CERT_BYTES) {
		sje__snprintf(why, whylen, "the certificate is too large");
		return SJE_EPERM;
	}
	// mbedTLS wants PEM with its NUL counted.
	unsigned char *pem = malloc(cert_len + 1);
	if (pem == NULL) {
		return SJE_ENOMEM;
	}
	memcpy(pem, cert, cert_len);
	pem[cert_len] = '\0';
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	sje_err  rv = SJE_EPERM;
	uint32_t flags;
	char     cn[SJE_MAX_ID_BYTES + 1];
	uint8_t  data[SJE_WORKER_PROOF_MAX];
	uint8_t  hash[32];
	size_t   dlen = sje__worker_proof(nonce, nonce_len, name, data);
	if (mbedtls_x509_crt_parse(&crt, pem, cert_len + 1) != 0) {
		sje__snprintf(why, whylen, "the certificate cannot be read");
	} else if (mbedtls_x509_crt_verify(
	               &crt, &w->ca, NULL, NULL, &flags, NULL, NULL) != 0) {
		sje__snprintf(why, whylen,
		    "the certificate does not chain to the cluster's CA "
		    "(flags 0x%x)",
		    flags);
	} else if (!workerid_cn(&crt, cn, sizeof(cn)) ||
	    strcmp(cn, name) != 0) {
		sje__snprintf(why, whylen,
		    "the certificate names another worker than '%s'", name);
	} else if (dlen == 0 ||
	    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), data,
	        dlen, hash) != 0 ||
	    mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash),
	        sig, sig_len) != 0) {
		sje__snprintf(why, whylen,
		    "the signature does not match the certificate");
	} else {
		rv = SJE_OK;
	}
	mbedtls_x509_crt_free(&crt);
	free(pem);
	return rv;
}
