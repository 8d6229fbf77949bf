// util.h — small helpers shared by SJE's modules (internal).
#ifndef SJE_UTIL_H
#define SJE_UTIL_H

#include <sje/sje.h>

#include <stdarg.h>

// sje__strdup copies s (NULL gives NULL). Returns NULL when out of memory.
char *sje__strdup(const char *s);

// sje__asprintf formats into a new string; NULL when out of memory.
char *sje__asprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

// sje__snprintf is snprintf that always terminates and never warns about
// truncation; returns true when the text fit.
bool sje__snprintf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// sje__errno_err translates an errno value.
sje_err sje__errno_err(int e);

// sje__nng_err translates an nng error code (NNG_E*).
sje_err sje__nng_err(int rv);

union nng_sockaddr;

// sje__bound_url writes url into buf (len bytes) with its port replaced by
// the port of sa, the address a listener actually bound: IPv4 and IPv6
// alike, so "tcp://localhost:0" bound on ::1 reads "tcp://localhost:PORT".
// A url with no port, or an sa of another family (ipc://, inproc://), is
// copied unchanged. Pure.
void sje__bound_url(
    const char *url, const union nng_sockaddr *sa, char *buf, size_t len);

// sje__random_u64 returns 64 random bits (getrandom, falling back to the
// clock). Thread-safe.
uint64_t sje__random_u64(void);

// sje__gen_id writes a new random id "<prefix><26 base32 chars>" into buf
// (at least 48 bytes).
void sje__gen_id(const char *prefix, char *buf, size_t len);

// sje__sleep_ms sleeps ms milliseconds.
void sje__sleep_ms(uint32_t ms);

// sje__buf is a growing text buffer, always NUL-terminated once written
// to. failed records the first allocation failure: later writes are then
// dropped, and sje__buf_take gives NULL. Zero-initialise it to start.
typedef struct sje__buf {
	char  *p;
	size_t n, cap;
	bool   failed;
} sje__buf;

// sje__buf_put appends n bytes of s.
void sje__buf_put(sje__buf *b, const char *s, size_t n);

// sje__buf_puts appends the string s.
void sje__buf_puts(sje__buf *b, const char *s);

// sje__buf_printf appends formatted text.
void sje__buf_printf(sje__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// sje__buf_take returns the text, "" when nothing was written (caller
// frees), and *len its length (len may be NULL); NULL after a failure.
// b is empty afterwards.
char *sje__buf_take(sje__buf *b, size_t *len);

// Hard limits on network input, shared by server and clients.
#define SJE_MAX_FRAME_BYTES (16u * 1024u * 1024u) // one RPC frame
#define SJE_MAX_ID_BYTES 128u                     // task_id, worker name
#define SJE_MAX_FUNCTION_BYTES 128u
#define SJE_MAX_PARAMS_BYTES (1024u * 1024u) // params or result JSON
#define SJE_MAX_JOBS_PER_CALL 10000u
#define SJE_MAX_DEPENDS 10000u // parents of one job
#define SJE_MAX_LABELS 64u
#define SJE_MAX_JSON_DEPTH 64u

#endif // SJE_UTIL_H
