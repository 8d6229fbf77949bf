// auth.c — API keys and OAuth 2 bearer JWTs, checked with mbedTLS.
//
// Design. sje__auth_open turns config into what a check needs: each API
// key's SHA-256 as 32 bytes with its scopes as a bit set, the HS256 secret
// (copied from the environment once, zeroed at close) and the RS256 public
// key (parsed once). A check is then pure computation on per-call state:
//
//   - An API key is hashed and compared with EVERY configured hash in
//     constant time (no early exit), so timing tells nothing about which
//     bytes matched.
//   - A JWT is split into header.payload.signature; each part is decoded
//     with our own strict base64url decoder (mbedtls_base64_decode of
//     unpadded input returns success with zero bytes, PLATFORM.md, and
//     base64url is not its alphabet anyway): only [A-Za-z0-9_-], no '=',
//     no length of 4n+1, no stray bits. The header's alg must name a key
//     we hold (HS256 with the secret, RS256 with the public key): the
//     token never picks the key, `none` and everything else is refused.
//     The signature is verified before the payload is even parsed; then
//     exp (required), nbf, iss, aud, with 30 s of clock skew; scopes come
//     from `scope` (space-separated) or `scp` (an array).
//
// Messages say what is wrong ("bearer token expired", "API key 'web'
// lacks scope 'admin'") and never contain a key, a token or the secret.
//
// Locking: everything is read-only after open except the RSA context,
// whose public operation caches Montgomery values in the context: pk_mtx
// serialises mbedtls_pk_verify. Hashing and HMAC use per-call contexts.
#include "door/auth.h"

#include "methods.h"
#include "util.h"

#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include <jansson.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUTH_SHA256_BYTES 32u
#define AUTH_MIN_SECRET_BYTES 32u // RFC 7518 3.2: a key of 256 bits or more
#define AUTH_MAX_NAME_BYTES 64u   // of a JWT's sub, as reported

enum {
	SCOPE_SUBMIT = 1u << 0,
	SCOPE_READ   = 1u << 1,
	SCOPE_CANCEL = 1u << 2,
	SCOPE_ADMIN  = 1u << 3,
	SCOPE_WORKER = 1u << 4,
};

static const struct {
	const char *name;
	unsigned    bit;
} auth_scopes[] = {
	{ "submit", SCOPE_SUBMIT },
	{ "read", SCOPE_READ },
	{ "cancel", SCOPE_CANCEL },
	{ "admin", SCOPE_ADMIN },
	{ "worker", SCOPE_WORKER },
};

#define N_SCOPES (sizeof(auth_scopes) / sizeof(auth_scopes[0]))

// The scope each Coordinator method needs (0: none named, a bug that
// auth_test catches; such a method needs admin); every WorkerHub method
// needs worker.
static const unsigned auth_coord_scopes[SJE__COORD_N] = {
	[SJE__COORD_SUBMIT]         = SCOPE_SUBMIT,
	[SJE__COORD_RUN_WORKFLOW]   = SCOPE_SUBMIT,
	[SJE__COORD_GET_STATUS]     = SCOPE_READ,
	[SJE__COORD_WAIT]           = SCOPE_READ,
	[SJE__COORD_LIST_JOBS]      = SCOPE_READ,
	[SJE__COORD_LIST_EVENTS]    = SCOPE_READ,
	[SJE__COORD_CANCEL]         = SCOPE_CANCEL,
	[SJE__COORD_LIST_WORKERS]   = SCOPE_ADMIN,
	[SJE__COORD_STATS]          = SCOPE_ADMIN,
	[SJE__COORD_RETRY]          = SCOPE_SUBMIT,
	[SJE__COORD_EXPLAIN]        = SCOPE_READ,
	[SJE__COORD_LIST_FUNCTIONS] = SCOPE_READ,
	[SJE__COORD_DELETE_JOB]     = SCOPE_ADMIN,
	[SJE__COORD_SET_FUNCTION]   = SCOPE_ADMIN,
	[SJE__COORD_LIST_SCHEDULES] = SCOPE_READ,
	// The bulk calls need the scope of their one-job call.
	[SJE__COORD_BULK_CANCEL] = SCOPE_CANCEL,
	[SJE__COORD_BULK_RETRY]  = SCOPE_SUBMIT,
	[SJE__COORD_BULK_DELETE] = SCOPE_ADMIN,
	// A run's status is read, its cancel is cancel (as a job's).
	[SJE__COORD_GET_WORKFLOW_RUN]    = SCOPE_READ,
	[SJE__COORD_CANCEL_WORKFLOW_RUN] = SCOPE_CANCEL,
	[SJE__COORD_LIST_WORKFLOW_RUNS]  = SCOPE_READ,
};

typedef struct auth_key {
	char         *name;
	unsigned char sha256[AUTH_SHA256_BYTES];
	unsigned      scopes; // SCOPE_* bits
} auth_key;

struct sje__auth {
	bool               enabled; // any key configured
	auth_key          *keys;
	size_t             n_keys;
	char              *issuer;   // NULL: iss not checked
	char              *audience; // NULL: aud not checked
	unsigned char     *secret;   // HS256 secret; NULL: HS256 refused
	size_t             secret_len;
	bool               rs; // RS256 accepted, with pk
	mbedtls_pk_context pk;
	pthread_mutex_t    pk_mtx; // serialises mbedtls_pk_verify on pk
};

// ---- small helpers --------------------------------------------------------

// auth_ct_equal compares n bytes in time that depends on n only.
static bool
auth_ct_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	volatile unsigned char diff = 0;
	for (size_t i = 0; i < n; i++) {
		diff |= (unsigned char) (a[i] ^ b[i]);
	}
	return diff == 0;
}

static void auth_msg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
auth_msg(char *buf, size_t len, const char *fmt, ...)
{
	if (buf == NULL || len == 0) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

// auth_printable copies at most max bytes of s into buf as printable
// ASCII: for names taken from a token (sub, alg).
static void
auth_printable(char *buf, size_t len, const char *s, size_t max)
{
	size_t o = 0;
	for (size_t i = 0; s[i] != '\0' && i < max && o + 1 < len; i++) {
		unsigned char ch = (unsigned char) s[i];
		buf[o++]         = ch >= 0x20 && ch < 0x7f ? (char) ch : '?';
	}
	buf[o] = '\0';
}

static unsigned
auth_scope_bit(const char *s, size_t n)
{
	for (size_t i = 0; i < N_SCOPES; i++) {
		if (strlen(auth_scopes[i].name) == n &&
		    memcmp(auth_scopes[i].name, s, n) == 0) {
			return auth_scopes[i].bit;
		}
	}
	return 0; // a scope we do not know grants nothing
}

static const char *
auth_scope_name(unsigned bit)
{
	for (size_t i = 0; i < N_SCOPES; i++) {
		if (auth_scopes[i].bit == bit) {
			return auth_scopes[i].name;
		}
	}
	return "admin";
}

// auth_scope_named is the scope the tables above give method of svc, or
// 0 when they give none.
static unsigned
auth_scope_named(const ProtobufCServiceDescriptor *svc, unsigned method)
{
	if (svc == NULL) {
		return 0;
	}
	if (strcmp(svc->name, sje__v1__coordinator__descriptor.name) == 0 &&
	    method < SJE__COORD_N) {
		return auth_coord_scopes[method];
	}
	if (strcmp(svc->name, sje__v1__worker_hub__descriptor.name) == 0 &&
	    method < SJE__HUB_N) {
		return SCOPE_WORKER;
	}
	return 0;
}

// auth_need is the scope a call needs: admin for a method no table names.
static unsigned
auth_need(const ProtobufCServiceDescriptor *svc, unsigned method)
{
	unsigned scope = auth_scope_named(svc, method);
	return scope != 0 ? scope : SCOPE_ADMIN;
}

const char *
sje__auth_scope_of(const ProtobufCServiceDescriptor *svc, unsigned method)
{
	unsigned scope = auth_scope_named(svc, method);
	return scope != 0 ? auth_scope_name(scope) : NULL;
}

// auth_b64url_value is the 6-bit value of a base64url character, or -1.
static int
auth_b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	if (c == '-') {
		return 62;
	}
	if (c == '_') {
		return 63;
	}
	return -1; // '+', '/', '=' and everything else
}

// auth_b64url_decode decodes the n characters of s (unpadded base64url,
// RFC 7515 2) into a new buffer with a NUL after the *outlen bytes;
// caller owns it. NULL for anything not strictly canonical: a character
// outside the URL alphabet (padding included), a length of 4k+1, or
// non-zero bits left over at the end.
static unsigned char *
auth_b64url_decode(const char *s, size_t n, size_t *outlen)
{
	if (n % 4 == 1) {
		return NULL;
	}
	unsigned char *out = malloc(n / 4 * 3 + 3);
	if (out == NULL) {
		return NULL;
	}
	uint32_t acc  = 0;
	unsigned bits = 0;
	size_t   o    = 0;
	for (size_t i = 0; i < n; i++) {
		int v = auth_b64url_value((unsigned char) s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = ((acc << 6) | (uint32_t) v) & 0xffffu;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char) (acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1u)) != 0) {
		free(out);
		return NULL;
	}
	out[o]  = '\0';
	*outlen = o;
	return out;
}

// ---- API keys -------------------------------------------------------------

static sje_err
auth_api_key(const sje__auth *a, const char *key, unsigned *scopes, char *who,
    size_t wholen)
{
	size_t n = strnlen(key, SJE_AUTH_MAX_KEY_BYTES + 1);
	if (n > SJE_AUTH_MAX_KEY_BYTES) {
		auth_msg(who, wholen, "API key longer than %u bytes",
		    SJE_AUTH_MAX_KEY_BYTES);
		return SJE_EUNAUTH;
	}
	unsigned char h[AUTH_SHA256_BYTES];
	if (mbedtls_sha256_ret((const unsigned char *) key, n, h, 0) != 0) {
		auth_msg(who, wholen, "cannot hash the API key");
		return SJE_EINTERNAL;
	}
	// Every hash is compared, whatever matched before.
	const auth_key *found = NULL;
	for (size_t i = 0; i < a->n_keys; i++) {
		if (auth_ct_equal(h, a->keys[i].sha256, sizeof(h))) {
			found = &a->keys[i];
		}
	}
	mbedtls_platform_zeroize(h, sizeof(h));
	if (found == NULL) {
		auth_msg(who, wholen, "unknown API key");
		return SJE_EUNAUTH;
	}
	*scopes = found->scopes;
	auth_msg(who, wholen, "API key '%s'", found->name);
	return SJE_OK;
}

// ---- JWT ------------------------------------------------------------------

static sje_err
auth_jwt_verify(const sje__auth *a, const char *alg, const char *input,
    size_t input_len, const unsigned char *sig, size_t sig_len, char *why,
    size_t whylen)
{
	unsigned char            mac[AUTH_SHA256_BYTES];
	const mbedtls_md_info_t *md =
	    mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	if (md == NULL) {
		auth_msg(why, whylen, "SHA-256 is not available");
		return SJE_EINTERNAL;
	}
	if (strcmp(alg, "HS256") == 0 && a->secret != NULL) {
		if (mbedtls_md_hmac(md, a->secret, a->secret_len,
		        (const unsigned char *) input, input_len, mac) != 0) {
			auth_msg(why, whylen, "cannot compute the HMAC");
			return SJE_EINTERNAL;
		}
		bool ok = sig_len == sizeof(mac) &&
		    auth_ct_equal(mac, sig, sizeof(mac));
		mbedtls_platform_zeroize(mac, sizeof(mac));
		if (!ok) {
			auth_msg(
			    why, whylen, "bearer token signature is invalid");
			return SJE_EUNAUTH;
		}
		return SJE_OK;
	}
	if (strcmp(alg, "RS256") == 0 && a->rs) {
		if (mbedtls_md(md, (const unsigned char *) input, input_len,
		        mac) != 0) {
			auth_msg(why, whylen, "cannot hash the token");
			return SJE_EINTERNAL;
		}
		// The context is shared; its RSA operation caches values in
		// it.
		pthread_mutex_t *mtx = (pthread_mutex_t *) &a->pk_mtx;
		pthread_mutex_lock(mtx);
		int rv = mbedtls_pk_verify((mbedtls_pk_context *) &a->pk,
		    MBEDTLS_MD_SHA256, mac, sizeof(mac), sig, sig_len);
		pthread_mutex_unlock(mtx);
		if (rv != 0) {
			auth_msg(
			    why, whylen, "bearer token signature is invalid");
			return SJE_EUNAUTH;
		}
		return SJE_OK;
	}
	char shown[24];
	auth_printable(shown, sizeof(shown), alg, 16);
	auth_msg(why, whylen,
	    "bearer token algorithm '%s' is not accepted (expected %s)", shown,
	    a->secret != NULL && a->rs ? "HS256 or RS256"
	        : a->secret != NULL    ? "HS256"
	        : a->rs                ? "RS256"
	                : "no JWT at all: no OAuth key is configured");
	return SJE_EUNAUTH;
}

// auth_jwt_scopes reads `scope` (space-separated) and `scp` (an array of
// strings, or one string).
static unsigned
auth_jwt_scopes(json_t *claims)
{
	unsigned    bits = 0;
	const char *scope =
	    json_string_value(json_object_get(claims, "scope"));
	if (scope != NULL) {
		const char *p = scope;
		while (*p != '\0') {
			size_t n = strcspn(p, " ");
			bits |= auth_scope_bit(p, n);
			p += n;
			p += strspn(p, " ");
		}
	}
	json_t *scp = json_object_get(claims, "scp");
	if (json_is_string(scp)) {
		bits |= auth_scope_bit(
		    json_string_value(scp), json_string_length(scp));
	} else if (json_is_array(scp)) {
		size_t  i;
		json_t *v;
		json_array_foreach (scp, i, v) {
			if (json_is_string(v)) {
				bits |= auth_scope_bit(json_string_value(v),
				    json_string_length(v));
			}
		}
	}
	return bits;
}

// auth_jwt_claims checks the registered claims of a verified token.
static sje_err
auth_jwt_claims(const sje__auth *a, json_t *claims, unsigned *scopes,
    char *who, size_t wholen)
{
	double  now = (double) time(NULL);
	json_t *exp = json_object_get(claims, "exp");
	if (!json_is_number(exp)) {
		auth_msg(who, wholen, "bearer token has no exp claim");
		return SJE_EUNAUTH;
	}
	if (now > json_number_value(exp) + SJE_AUTH_SKEW_S) {
		auth_msg(who, wholen, "bearer token expired");
		return SJE_EUNAUTH;
	}
	json_t *nbf = json_object_get(claims, "nbf");
	if (nbf != NULL && !json_is_number(nbf)) {
		auth_msg(who, wholen, "bearer token nbf is not a number");
		return SJE_EUNAUTH;
	}
	if (nbf != NULL && now + SJE_AUTH_SKEW_S < json_number_value(nbf)) {
		auth_msg(who, wholen, "bearer token is not yet valid (nbf)");
		return SJE_EUNAUTH;
	}
	if (a->issuer != NULL) {
		const char *iss =
		    json_string_value(json_object_get(claims, "iss"));
		if (iss == NULL || strcmp(iss, a->issuer) != 0) {
			auth_msg(who, wholen,
			    "bearer token issuer is not '%s'", a->issuer);
			return SJE_EUNAUTH;
		}
	}
	if (a->audience != NULL) {
		json_t *aud = json_object_get(claims, "aud");
		bool    ok  = false;
		if (json_is_string(aud)) {
			ok = strcmp(json_string_value(aud), a->audience) == 0;
		} else if (json_is_array(aud)) {
			size_t  i;
			json_t *v;
			json_array_foreach (aud, i, v) {
				if (json_is_string(v) &&
				    strcmp(json_string_value(v),
				        a->audience) == 0) {
					ok = true;
				}
			}
		}
		if (!ok) {
			auth_msg(who, wholen,
			    "bearer token audience does not include '%s'",
			    a->audience);
			return SJE_EUNAUTH;
		}
	}
	*scopes         = auth_jwt_scopes(claims);
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	char        name[AUTH_MAX_NAME_BYTES + 1];
	auth_printable(
	    name, sizeof(name), sub != NULL ? sub : "", AUTH_MAX_NAME_BYTES);
	auth_msg(who, wholen, "token '%s'", name[0] != '\0' ? name : "jwt");
	return SJE_OK;
}

// auth_json_object parses n bytes as one JSON object (no duplicate keys).
static json_t *
auth_json_object(const unsigned char *s, size_t n)
{
	json_error_t jerr;
	json_t      *j =
	    json_loadb((const char *) s, n, JSON_REJECT_DUPLICATES, &jerr);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static sje_err
auth_jwt(const sje__auth *a, const char *tok, size_t n, unsigned *scopes,
    char *who, size_t wholen)
{
	const char *d1 = memchr(tok, '.', n);
	const char *d2 = d1 != NULL
	    ? memchr(d1 + 1, '.', n - (size_t) (d1 + 1 - tok))
	    : NULL;
	if (d1 == NULL || d2 == NULL ||
	    memchr(d2 + 1, '.', n - (size_t) (d2 + 1 - tok)) != NULL) {
		auth_msg(who, wholen, "bearer token is not a JWT");
		return SJE_EUNAUTH;
	}
	size_t         hl, pl, sl;
	unsigned char *hdr = auth_b64url_decode(tok, (size_t) (d1 - tok), &hl);
	unsigned char *pay =
	    auth_b64url_decode(d1 + 1, (size_t) (d2 - d1 - 1), &pl);
	unsigned char *sig =
	    auth_b64url_decode(d2 + 1, n - (size_t) (d2 + 1 - tok), &sl);
	json_t *h      = NULL;
	json_t *claims = NULL;
	sje_err rv     = SJE_EUNAUTH;
	if (hdr == NULL || pay == NULL || sig == NULL) {
		auth_msg(who, wholen, "bearer token is not valid base64url");
		goto out;
	}
	if ((h = auth_json_object(hdr, hl)) == NULL) {
		auth_msg(
		    who, wholen, "bearer token header is not a JSON object");
		goto out;
	}
	const char *alg = json_string_value(json_object_get(h, "alg"));
	if (alg == NULL) {
		auth_msg(who, wholen, "bearer token header has no alg");
		goto out;
	}
	if (json_object_get(h, "crit") != NULL) {
		auth_msg(who, wholen,
		    "bearer token header has crit extensions, none understood");
		goto out;
	}
	if ((rv = auth_jwt_verify(a, alg, tok, (size_t) (d2 - tok), sig, sl,
	         who, wholen)) != SJE_OK) {
		goto out;
	}
	rv = SJE_EUNAUTH;
	if ((claims = auth_json_object(pay, pl)) == NULL) {
		auth_msg(
		    who, wholen, "bearer token payload is not a JSON object");
		goto out;
	}
	rv = auth_jwt_claims(a, claims, scopes, who, wholen);
out:
	json_decref(claims);
	json_decref(h);
	free(hdr);
	free(pay);
	free(sig);
	return rv;
}

// ---- the check ------------------------------------------------------------

bool
sje__auth_enabled(const sje__auth *a)
{
	return a != NULL && a->enabled;
}

sje_err
sje__auth_check(const sje__auth *a, const char *api_key, const char *bearer,
    const ProtobufCServiceDescriptor *svc, unsigned method, char *who,
    size_t wholen)
{
	if (!sje__auth_enabled(a)) {
		auth_msg(who, wholen, "anonymous");
		return SJE_OK;
	}
	const char *key =
	    api_key != NULL && api_key[0] != '\0' ? api_key : NULL;
	const char *tok = NULL;
	size_t      tn  = 0;
	if (key == NULL && bearer != NULL && bearer[0] != '\0') {
		tn = strnlen(bearer, SJE_AUTH_MAX_TOKEN_BYTES + 1);
		if (tn > SJE_AUTH_MAX_TOKEN_BYTES) {
			auth_msg(who, wholen,
			    "bearer token longer than %u bytes",
			    SJE_AUTH_MAX_TOKEN_BYTES);
			return SJE_EUNAUTH;
		}
		size_t dots = 0;
		for (size_t i = 0; i < tn; i++) {
			dots += bearer[i] == '.';
		}
		if (dots == 2) {
			tok = bearer;
		} else {
			key = bearer; // "Authorization: Bearer <api key>"
		}
	}
	if (key == NULL && tok == NULL) {
		auth_msg(who, wholen,
		    "no credentials: send an API key or a bearer token");
		return SJE_EUNAUTH;
	}
	char     name[AUTH_MAX_NAME_BYTES + 32];
	unsigned have = 0;
	sje_err  rv   = key != NULL
	       ? auth_api_key(a, key, &have, name, sizeof(name))
	       : auth_jwt(a, tok, tn, &have, name, sizeof(name));
	if (rv != SJE_OK) {
		auth_msg(who, wholen, "%s", name);
		return rv;
	}
	unsigned need = auth_need(svc, method);
	if ((have & (need | SCOPE_ADMIN)) == 0) {
		auth_msg(who, wholen, "%s lacks scope '%s'", name,
		    auth_scope_name(need));
		return SJE_EPERM;
	}
	auth_msg(who, wholen, "%s", name);
	return SJE_OK;
}

// ---- open and close
// ---------------------------------------------------------

static int
auth_hex(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

static sje_err
auth_load_keys(sje__auth *a, const sje_config *cfg, char *err, size_t len)
{
	size_t n = cfg->security.auth.n_api_keys;
	if (n == 0) {
		return SJE_OK;
	}
	if ((a->keys = calloc(n, sizeof(*a->keys))) == NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const sje_api_key_cfg *kc = &cfg->security.auth.api_keys[i];
		auth_key              *k  = &a->keys[a->n_keys];
		const char *hx = kc->sha256 != NULL ? kc->sha256 : "";
		if (strlen(hx) != 2 * AUTH_SHA256_BYTES) {
			auth_msg(err, len,
			    "security.auth.api_keys[%zu].sha256: expected 64 hex "
			    "digits",
			    i);
			return SJE_ECONFIG;
		}
		for (size_t j = 0; j < AUTH_SHA256_BYTES; j++) {
			int hi = auth_hex(hx[2 * j]),
			    lo = auth_hex(hx[2 * j + 1]);
			if (hi < 0 || lo < 0) {
				auth_msg(err, len,
				    "security.auth.api_keys[%zu].sha256: expected "
				    "64 hex digits",
				    i);
				return SJE_ECONFIG;
			}
			k->sha256[j] = (unsigned char) (hi << 4 | lo);
		}
		for (size_t j = 0; j < kc->scopes.n; j++) {
			const char *s   = kc->scopes.items[j];
			unsigned    bit = auth_scope_bit(s, strlen(s));
			if (bit == 0) {
				auth_msg(err, len,
				    "security.auth.api_keys[%zu].scopes: unknown "
				    "scope '%s'",
				    i, s);
				return SJE_ECONFIG;
			}
			k->scopes |= bit;
		}
		if ((k->name = sje__strdup(
		         kc->name != NULL ? kc->name : "")) == NULL) {
			return SJE_ENOMEM;
		}
		a->n_keys++;
	}
	return SJE_OK;
}

static sje_err
auth_load_oauth(sje__auth *a, const sje_config *cfg, char *err, size_t len)
{
	const char *iss = cfg->security.auth.oauth.issuer;
	const char *aud = cfg->security.auth.oauth.audience;
	const char *env = cfg->security.auth.oauth.hs256_secret_env;
	const char *pem = cfg->security.auth.oauth.rs256_public_key;
	if (iss != NULL && iss[0] != '\0' &&
	    (a->issuer = sje__strdup(iss)) == NULL) {
		return SJE_ENOMEM;
	}
	if (aud != NULL && aud[0] != '\0' &&
	    (a->audience = sje__strdup(aud)) == NULL) {
		return SJE_ENOMEM;
	}
	if (env != NULL && env[0] != '\0') {
		const char *v = getenv(env);
		if (v == NULL || v[0] == '\0') {
			auth_msg(err, len,
			    "security.auth.oauth.hs256_secret_env: the "
			    "environment variable %s is not set",
			    env);
			return SJE_ECONFIG;
		}
		size_t n = strlen(v);
		if (n < AUTH_MIN_SECRET_BYTES) {
			auth_msg(err, len,
			    "security.auth.oauth.hs256_secret_env: %s holds %zu "
			    "bytes; an HS256 secret needs at least %u",
			    env, n, AUTH_MIN_SECRET_BYTES);
			return SJE_ECONFIG;
		}
		if ((a->secret = malloc(n)) == NULL) {
			return SJE_ENOMEM;
		}
		memcpy(a->secret, v, n);
		a->secret_len = n;
	}
	if (pem != NULL && pem[0] != '\0') {
		int rv = mbedtls_pk_parse_public_keyfile(&a->pk, pem);
		if (rv != 0) {
			auth_msg(err, len,
			    "security.auth.oauth.rs256_public_key: cannot read a "
			    "PEM public key from '%s'",
			    pem);
			return SJE_ECONFIG;
		}
		if (!mbedtls_pk_can_do(&a->pk, MBEDTLS_PK_RSA)) {
			auth_msg(err, len,
			    "security.auth.oauth.rs256_public_key: '%s' is not "
			    "an RSA public key",
			    pem);
			return SJE_ECONFIG;
		}
		a->rs = true;
	}
	if ((a->issuer != NULL || a->audience != NULL) && a->secret == NULL &&
	    !a->rs) {
		auth_msg(err, len,
		    "security.auth.oauth: issuer and audience need a key "
		    "(hs256_secret_env or rs256_public_key)");
		return SJE_ECONFIG;
	}
	return SJE_OK;
}

sje_err
sje__auth_open(const sje_config *cfg, sje__auth **out, char *err, size_t len)
{
	sje__auth *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		return SJE_ENOMEM;
	}
	mbedtls_pk_init(&a->pk);
	pthread_mutex_init(&a->pk_mtx, NULL);
	sje_err rv;
	if ((rv = auth_load_keys(a, cfg, err, len)) != SJE_OK ||
	    (rv = auth_load_oauth(a, cfg, err, len)) != SJE_OK) {
		if (rv == SJE_ENOMEM) {
			auth_msg(err, len, "out of memory");
		}
		sje__auth_close(a);
		return rv;
	}
	a->enabled = a->n_keys > 0 || a->secret != NULL || a->rs;
	*out       = a;
	return SJE_OK;
}

void
sje__auth_close(sje__auth *a)
{
	if (a == NULL) {
		return;
	}
	for (size_t i = 0; i < a->n_keys; i++) {
		free(a->keys[i].name);
	}
	free(a->keys);
	free(a->issuer);
	free(a->audience);
	if (a->secret != NULL) {
		mbedtls_platform_zeroize(a->secret, a->secret_len);
		free(a->secret);
	}
	mbedtls_pk_free(&a->pk);
	pthread_mutex_destroy(&a->pk_mtx);
	free(a);
}
