// jwt_util.h — makes JWTs for the tests (auth_test.c, jwt_make.c), with
// mbedTLS: HS256 with a secret, RS256 with an RSA private key, or no
// signature at all (alg none). Header-only: static functions.
#ifndef SJE_TESTS_JWT_UTIL_H
#define SJE_TESTS_JWT_UTIL_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

// jwt_b64url encodes n bytes as unpadded base64url; caller frees.
static char *
jwt_b64url(const unsigned char *d, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	                          "qrstuvwxyz0123456789-_";
	char             *out   = malloc(n / 3 * 4 + 5);
	size_t            o     = 0;
	size_t            i     = 0;
	if (out == NULL) {
		return NULL;
	}
	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned) d[i] << 16 | (unsigned) d[i + 1] << 8 |
		    d[i + 2];
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned) d[i] << 16;
		out[o++]   = abc[v >> 18 & 63];
		out[o++]   = abc[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned) d[i] << 16 | (unsigned) d[i + 1] << 8;
		out[o++]   = abc[v >> 18 & 63];
		out[o++]   = abc[v >> 12 & 63];
		out[o++]   = abc[v >> 6 & 63];
	}
	out[o] = '\0';
	return out;
}

// jwt_make signs header.payload (both JSON text): with HMAC-SHA256 and
// secret (secret_len bytes) when secret is not NULL, else with RSA
// PKCS#1 v1.5 SHA-256 and rsa when rsa is not NULL, else not at all (an
// empty signature). forge flips a bit of the signature. Caller frees;
// NULL on failure.
static char *
jwt_make(const char *header, const char *payload, const unsigned char *secret,
    size_t secret_len, mbedtls_pk_context *rsa, bool forge)
{
	char *h = jwt_b64url((const unsigned char *) header, strlen(header));
	char *p = jwt_b64url((const unsigned char *) payload, strlen(payload));
	if (h == NULL || p == NULL) {
		free(h);
		free(p);
		return NULL;
	}
	size_t in_len = strlen(h) + 1 + strlen(p);
	char  *input  = malloc(in_len + 1);
	strcpy(input, h);
	strcat(input, ".");
	strcat(input, p);
	free(h);
	free(p);

	unsigned char            sig[1024];
	size_t                   sig_len = 0;
	const mbedtls_md_info_t *md =
	    mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	if (secret != NULL) {
		mbedtls_md_hmac(md, secret, secret_len,
		    (const unsigned char *) input, in_len, sig);
		sig_len = 32;
	} else if (rsa != NULL) {
		unsigned char            hash[32];
		mbedtls_entropy_context  ent;
		mbedtls_ctr_drbg_context drbg;
		mbedtls_entropy_init(&ent);
		mbedtls_ctr_drbg_init(&drbg);
		mbedtls_ctr_drbg_seed(
		    &drbg, mbedtls_entropy_func, &ent, NULL, 0);
		mbedtls_md(md, (const unsigned char *) input, in_len, hash);
		if (mbedtls_pk_sign(rsa, MBEDTLS_MD_SHA256, hash, sizeof(hash),
		        sig, &sig_len, mbedtls_ctr_drbg_random, &drbg) != 0) {
			sig_len = 0;
		}
		mbedtls_ctr_drbg_free(&drbg);
		mbedtls_entropy_free(&ent);
	}
	if (forge && sig_len > 0) {
		sig[sig_len / 2] ^= 0x01;
	}
	char *s   = jwt_b64url(sig, sig_len);
	char *tok = malloc(in_len + 1 + strlen(s) + 1);
	strcpy(tok, input);
	strcat(tok, ".");
	strcat(tok, s);
	free(s);
	free(input);
	return tok;
}

#endif // SJE_TESTS_JWT_UTIL_H
