// util.c — small helpers shared by SJE's modules: strings, error
// translation for errno and nng, randomness and ids.
#include "util.h"

#include <errno.h>
#include <nng/nng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

char *
sje__strdup(const char *s)
{
	if (s == NULL) {
		return NULL;
	}
	size_t n = strlen(s) + 1;
	char  *d = malloc(n);
	if (d != NULL) {
		memcpy(d, s, n);
	}
	return d;
}

char *
sje__asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return NULL;
	}
	char *s = malloc((size_t) n + 1);
	if (s == NULL) {
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(s, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return s;
}

bool
sje__snprintf(char *buf, size_t len, const char *fmt, ...)
{
	if (len == 0) {
		return false;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		buf[0] = '\0';
		return false;
	}
	return (size_t) n < len;
}

sje_err
sje__errno_err(int e)
{
	switch (e) {
	case 0:
		return SJE_OK;
	case ENOMEM:
		return SJE_ENOMEM;
	case ENOENT:
		return SJE_ENOTFOUND;
	case EEXIST:
		return SJE_EEXIST;
	case EINVAL:
		return SJE_EINVAL;
	case EACCES:
	case EPERM:
		return SJE_EPERM;
	case ETIMEDOUT:
		return SJE_ETIMEDOUT;
	default:
		return SJE_EIO;
	}
}

sje_err
sje__nng_err(int rv)
{
	switch (rv) {
	case 0:
		return SJE_OK;
	case NNG_ENOMEM:
		return SJE_ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
	case NNG_EBADTYPE:
		return SJE_EINVAL;
	case NNG_ETIMEDOUT:
		return SJE_ETIMEDOUT;
	case NNG_ECANCELED:
		return SJE_ECANCELED;
	case NNG_EMSGSIZE:
		return SJE_ELIMIT;
	case NNG_EPROTO:
		return SJE_EPROTO;
	case NNG_EPERM:
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
		return SJE_EUNAUTH;
	case NNG_EADDRINUSE:
		return SJE_EEXIST;
	case NNG_ENOENT:
		return SJE_ENOTFOUND;
	default:
		// ECONNREFUSED, ECONNRESET, ECLOSED, ECONNSHUT,
		// EUNREACHABLE...
		return SJE_EUNAVAIL;
	}
}

void
sje__bound_url(
    const char *url, const union nng_sockaddr *sa, char *buf, size_t len)
{
	uint16_t port;
	switch (sa->s_family) {
	case NNG_AF_INET:
		port = sa->s_in.sa_port;
		break;
	case NNG_AF_INET6:
		port = sa->s_in6.sa_port;
		break;
	default:
		sje__snprintf(buf, len, "%s", url);
		return;
	}
	port = (uint16_t) ((port >> 8) | (port << 8)); // network order
	// The port follows the last ':' after the host; an IPv6 literal's
	// colons sit inside brackets, so that colon must come after any ']'.
	const char *host  = strstr(url, "://");
	const char *start = host != NULL ? host + 3 : url;
	const char *colon = strrchr(start, ':');
	const char *close = strrchr(start, ']');
	if (colon == NULL || (close != NULL && colon < close)) {
		sje__snprintf(buf, len, "%s", url);
		return;
	}
	sje__snprintf(
	    buf, len, "%.*s:%u", (int) (colon - url), url, (unsigned) port);
}

uint64_t
sje__random_u64(void)
{
	uint64_t v;
	if (getrandom(&v, sizeof(v), 0) == (ssize_t) sizeof(v)) {
		return v;
	}
	// No entropy source: mix the clocks. Ids need uniqueness, not secrecy.
	struct timespec a, b;
	clock_gettime(CLOCK_REALTIME, &a);
	clock_gettime(CLOCK_MONOTONIC, &b);
	v = ((uint64_t) a.tv_nsec << 32) ^ (uint64_t) a.tv_sec ^
	    ((uint64_t) b.tv_nsec * 0x9E3779B97F4A7C15ull);
	return v;
}

void
sje__gen_id(const char *prefix, char *buf, size_t len)
{
	static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
	char              body[27];
	// 48 bits of time (ms) then 80 random bits, so ids sort by creation.
	uint64_t t  = (uint64_t) sje_now_ms();
	uint64_t r1 = sje__random_u64();
	uint64_t r2 = sje__random_u64();
	for (int i = 9; i >= 0; i--) {
		body[i] = alphabet[t & 31];
		t >>= 5;
	}
	for (int i = 10; i < 26; i++) {
		uint64_t *r = i < 22 ? &r1 : &r2;
		body[i]     = alphabet[*r & 31];
		*r >>= 5;
	}
	body[26] = '\0';
	sje__snprintf(buf, len, "%s%s", prefix != NULL ? prefix : "", body);
}

void
sje__sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
		.tv_nsec               = (long) (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) { }
}

void
sje__thread_name(const char *name)
{
	(void) prctl(PR_SET_NAME, name, 0, 0, 0);
}

// buf_reserve makes room for n more bytes and a NUL after them; false
// (and the buffer failed) when it cannot.
static bool
buf_reserve(sje__buf *b, size_t n)
{
	size_t cap;
	char  *p;

	if (b->failed) {
		return false;
	}
	if (b->cap - b->n > n) {
		return true;
	}
	cap = b->cap != 0 ? b->cap : 256;
	while (cap - b->n <= n) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->p   = p;
	b->cap = cap;
	return true;
}

void
sje__buf_put(sje__buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n)) {
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void
sje__buf_puts(sje__buf *b, const char *s)
{
	sje__buf_put(b, s, strlen(s));
}

void
sje__buf_printf(sje__buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!buf_reserve(b, (size_t) n)) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t) n;
}

char *
sje__buf_take(sje__buf *b, size_t *len)
{
	char *p = b->p;
	if (b->failed) {
		free(p);
		p = NULL;
	} else if (p == NULL) {
		p = sje__strdup("");
	}
	if (len != NULL) {
		*len = p != NULL ? b->n : 0;
	}
	*b = (sje__buf) { 0 };
	return p;
}

// utf8_lead reads the lead byte c of a multi-byte sequence: its length
// *n and the range [*lo, *hi] its second byte must be in (Table 3-7 of the
// Unicode standard; later bytes are plain continuations 0x80-0xBF). False
// when c cannot start one: a continuation byte, C0/C1 (overlong), or
// F5-FF (above U+10FFFF).
static bool
utf8_lead(unsigned char c, size_t *n, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (c < 0xC2 || c > 0xF4) {
		return false;
	}
	if (c < 0xE0) {
		*n = 2;
	} else if (c < 0xF0) {
		*n = 3;
		if (c == 0xE0) {
			*lo = 0xA0; // overlong below U+0800
		} else if (c == 0xED) {
			*hi = 0x9F; // surrogates U+D800-DFFF
		}
	} else {
		*n = 4;
		if (c == 0xF0) {
			*lo = 0x90; // overlong below U+10000
		} else if (c == 0xF4) {
			*hi = 0x8F; // above U+10FFFF
		}
	}
	return true;
}

// utf8_prefix is how many bytes at u[0..len) (u[0] >= 0x80) belong to
// the sequence its lead byte starts: all of it when well-formed (then
// *whole is true), else the maximal ill-formed subpart (at least 1) that
// one U+FFFD replaces.
static size_t
utf8_prefix(const unsigned char *u, size_t len, bool *whole)
{
	size_t        n;
	unsigned char lo, hi;
	size_t        i = 1;

	*whole = false;
	if (!utf8_lead(u[0], &n, &lo, &hi)) {
		return 1;
	}
	for (; i < n && i < len; i++) {
		unsigned char min = i == 1 ? lo : 0x80;
		unsigned char max = i == 1 ? hi : 0xBF;
		if (u[i] < min || u[i] > max) {
			return i;
		}
	}
	*whole = i == n;
	return i;
}

size_t
sje__utf8_seq(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;
	bool                 whole;

	if (u[0] < 0x80) {
		return 1;
	}
	size_t n = utf8_prefix(u, len, &whole);
	return whole ? n : 0;
}

bool
sje__utf8_check(const char *s, size_t len, size_t *bad)
{
	size_t i = 0;

	while (i < len) {
		// Most text is ASCII: step over it without a call per byte.
		while (i < len && (unsigned char) (s[i] - 1) < 0x7f) {
			i++;
		}
		if (i == len) {
			break;
		}
		size_t n = s[i] == '\0' ? 0 : sje__utf8_seq(s + i, len - i);
		if (n == 0) {
			if (bad != NULL) {
				*bad = i;
			}
			return false;
		}
		i += n;
	}
	return true;
}

void
sje__utf8_repair(sje__buf *b, const char *s, size_t len)
{
	size_t i = 0, start = 0;

	while (i < len) {
		size_t n = sje__utf8_seq(s + i, len - i);
		if (n > 0) {
			i += n;
			continue;
		}
		sje__buf_put(b, s + start, i - start);
		bool whole;
		sje__buf_put(b, "\xEF\xBF\xBD", 3); // U+FFFD
		i += utf8_prefix(
		    (const unsigned char *) s + i, len - i, &whole);
		start = i;
	}
	sje__buf_put(b, s + start, len - start);
}

void
sje__text_escape(sje__buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t            i = 0, start = 0;

	while (i < len) {
		unsigned char c = (unsigned char) s[i];
		size_t        n = sje__utf8_seq(s + i, len - i);
		// C1 controls (U+0080-009F) are 0xC2 0x80-0x9F in UTF-8.
		bool c1 =
		    n == 2 && c == 0xC2 && (unsigned char) s[i + 1] < 0xA0;
		if (n > 1 && !c1) {
			i += n;
			continue;
		}
		if (n == 1 && c >= 0x20 && c != 0x7f && c != '\\') {
			i++;
			continue;
		}
		sje__buf_put(b, s + start, i - start);
		char esc[8];
		if (c == '\\') {
			sje__buf_put(b, "\\\\", 2);
		} else if (c == '\n') {
			sje__buf_put(b, "\\n", 2);
		} else if (c == '\r') {
			sje__buf_put(b, "\\r", 2);
		} else if (c == '\t') {
			sje__buf_put(b, "\\t", 2);
		} else {
			size_t k = c1 ? 2 : 1;
			for (size_t j = 0; j < k; j++) {
				unsigned char x = (unsigned char) s[i + j];
				esc[0]          = '\\';
				esc[1]          = 'x';
				esc[2]          = hex[x >> 4];
				esc[3]          = hex[x & 15];
				sje__buf_put(b, esc, 4);
			}
			i += k - 1;
		}
		i++;
		start = i;
	}
	sje__buf_put(b, s + start, len - start);
}

sje_err
sje__mkdirs(const char *dir, char *err, size_t errlen)
{
	struct stat sb;
	char       *p;
	char       *cur;

	if ((p = sje__strdup(dir)) == NULL) {
		return SJE_ENOMEM;
	}
	// Create each prefix ending before a '/', then the whole path.
	for (cur = p + 1;; cur++) {
		bool last = *cur == '\0';
		if (!last && *cur != '/') {
			continue;
		}
		*cur = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			sje__snprintf(err, errlen,
			    "cannot create directory %s: %s", p,
			    strerror(errno));
			free(p);
			return SJE_EIO;
		}
		if (last) {
			break;
		}
		*cur = '/';
	}
	if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		sje__snprintf(err, errlen, "%s is not a directory", p);
		free(p);
		return SJE_EIO;
	}
	free(p);
	return SJE_OK;
}
