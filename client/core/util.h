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

// sje__mkdirs creates dir and its missing parents, new ones mode 0700
// (mkdir -p); an existing directory is left as it is. SJE_EIO, with why
// in err (errlen bytes), when it cannot, or when dir is there but is not
// a directory.
sje_err sje__mkdirs(const char *dir, char *err, size_t errlen);

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

// sje__thread_name names the calling thread (at most 15 bytes are kept),
// as top -H, ps -L and /proc/<pid>/task/*/comm show it.
void sje__thread_name(const char *name);

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

// sje__utf8_seq returns the length (1-4) of the well-formed UTF-8
// sequence at s[0..len) (len > 0), or 0 when s starts with an ill-formed
// one: a stray continuation byte, an overlong form, a surrogate
// (U+D800-DFFF), a code point above U+10FFFF, or a sequence cut short.
// NUL is a well-formed one-byte sequence here. Pure.
size_t sje__utf8_seq(const char *s, size_t len);

// sje__utf8_check is true when s[0..len) is well-formed UTF-8 holding no
// NUL byte (the rule for every string SJE accepts from the network). When
// false, *bad (may be NULL) is the offset of the first offending byte.
// Pure.
bool sje__utf8_check(const char *s, size_t len, size_t *bad);

// sje__utf8_repair appends s[0..len) to b with every ill-formed sequence
// replaced by U+FFFD (one per maximal ill-formed subpart, as Unicode
// recommends); NUL bytes are kept. For rendering text stored before it
// was checked.
void sje__utf8_repair(sje__buf *b, const char *s, size_t len);

// sje__text_escape appends s[0..len) to b for a line of text read by
// people (a log line, a terminal): well-formed UTF-8 is copied, except
// that a backslash becomes "\\", \n \r \t their C escapes, other
// control characters (C0, DEL, C1) and ill-formed bytes "\xHH". The
// result holds no byte below 0x20 and no ESC, so it can neither forge a
// line nor drive a terminal.
void sje__text_escape(sje__buf *b, const char *s, size_t len);

// Hard limits on network input, shared by server and clients.
#define SJE_MAX_FRAME_BYTES (16u * 1024u * 1024u) // one RPC frame
#define SJE_MAX_ID_BYTES 128u                     // task_id, worker name
#define SJE_MAX_FUNCTION_BYTES 128u
#define SJE_MAX_PARAMS_BYTES (1024u * 1024u) // params or result JSON
#define SJE_MAX_JOBS_PER_CALL 10000u
#define SJE_MAX_DEPENDS 10000u         // parents of one job
#define SJE_MAX_EDGES_PER_CALL 100000u // depends_on entries in one submit
#define SJE_MAX_LABELS 64u
#define SJE_MAX_JSON_DEPTH 64u

#endif // SJE_UTIL_H
