// output.c — bounded capture of a command's output and what it becomes:
// the job's result (from stdout) or its error message (from the exit
// status and the tail of stderr).
//
// Design: stdout is kept from its first byte up to a cap (a result is
// useless when cut, so going over the cap fails the job); stderr is kept
// as a tail (the last lines say why a command failed). The tail buffer is
// twice its capacity so that appending is a memcpy and the bytes are
// moved down only when the buffer fills, which keeps it linear.
//
// Everything here is pure and thread-safe.
#define _GNU_SOURCE // sigabbrev_np
#include "output.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

// ---- exec_buf ----

void
exec_buf_init(exec_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

bool
exec_buf_append(exec_buf *b, const char *p, size_t n)
{
	size_t keep = n;
	size_t need;

	if (b->len + n > b->max) {
		b->overflow = true;
		keep        = b->max - b->len;
	}
	need = b->len + keep + 1;
	if (need > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 4096;
		char  *d;
		while (cap < need) {
			cap *= 2;
		}
		if (cap > b->max + 1) {
			cap = b->max + 1;
		}
		if ((d = realloc(b->data, cap)) == NULL) {
			b->overflow = true;
			return false;
		}
		b->data = d;
		b->cap  = cap;
	}
	memcpy(b->data + b->len, p, keep);
	b->len += keep;
	b->data[b->len] = '\0';
	return !b->overflow;
}

void
exec_buf_fini(exec_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

// ---- exec_tail ----

bool
exec_tail_init(exec_tail *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	if (cap == 0 || (t->data = malloc(2 * cap)) == NULL) {
		return false;
	}
	t->cap = cap;
	return true;
}

void
exec_tail_append(exec_tail *t, const char *p, size_t n)
{
	t->total += n;
	if (n >= t->cap) {
		// The new bytes alone fill the tail.
		memcpy(t->data, p + (n - t->cap), t->cap);
		t->len = t->cap;
		return;
	}
	if (t->len + n > 2 * t->cap) {
		// Keep the last cap - n bytes, then append: the tail is
		// exactly cap bytes afterwards.
		size_t keep = t->cap - n;
		memmove(t->data, t->data + (t->len - keep), keep);
		t->len = keep;
	}
	memcpy(t->data + t->len, p, n);
	t->len += n;
}

size_t
exec_tail_get(const exec_tail *t, const char **p)
{
	size_t n = t->len < t->cap ? t->len : t->cap;

	*p = t->data != NULL ? t->data + (t->len - n) : "";
	return n;
}

void
exec_tail_fini(exec_tail *t)
{
	free(t->data);
	memset(t, 0, sizeof(*t));
}

// ---- text ----

// utf8_seq_len returns the length of the valid UTF-8 sequence at s[0..n),
// or 0 when s does not start one (overlong forms, surrogates and code
// points past U+10FFFF are invalid; so is NUL, for C strings).
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	size_t i;

	if (s[0] == 0) {
		return 0;
	}
	if (s[0] < 0x80) {
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
	} else {
		return 0;
	}
	if (len > n) {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
	}
	if ((s[0] == 0xe0 && s[1] < 0xa0) ||  // overlong
	    (s[0] == 0xed && s[1] >= 0xa0) || // surrogates
	    (s[0] == 0xf0 && s[1] < 0x90) ||  // overlong
	    (s[0] == 0xf4 && s[1] >= 0x90)) { // past U+10FFFF
		return 0;
	}
	return len;
}

char *
exec_utf8_clean(const char *s, size_t n, size_t *out_len)
{
	static const char    repl[] = "\xef\xbf\xbd"; // U+FFFD
	const unsigned char *u      = (const unsigned char *) s;
	char                *out;
	size_t               i = 0;
	size_t               o = 0;

	if (n > (SIZE_MAX - 1) / 3 || (out = malloc(3 * n + 1)) == NULL) {
		return NULL;
	}
	while (i < n) {
		size_t k = utf8_seq_len(u + i, n - i);
		if (k == 0) {
			memcpy(out + o, repl, 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[o]   = '\0';
	*out_len = o;
	return out;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char *
exec_result_json(const char *out, size_t len)
{
	const char  *t  = out;
	size_t       tl = len;
	json_t      *v;
	json_error_t jerr;
	char        *clean;
	size_t       clean_len;
	char        *text;

	while (tl > 0 && is_space(t[0])) {
		t++;
		tl--;
	}
	while (tl > 0 && is_space(t[tl - 1])) {
		tl--;
	}
	if (tl == 0) {
		return strdup("null");
	}
	// The flags are the worker's own for results, so that what passes
	// here passes there.
	v = json_loadb(t, tl, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (v != NULL) {
		json_decref(v);
		return strndup(t, tl);
	}

	// Not JSON: the text as a JSON string.
	if (len > 0 && out[len - 1] == '\n') {
		len--;
		if (len > 0 && out[len - 1] == '\r') {
			len--;
		}
	}
	if ((clean = exec_utf8_clean(out, len, &clean_len)) == NULL) {
		return NULL;
	}
	v = json_stringn_nocheck(clean, clean_len); // clean: valid UTF-8
	free(clean);
	if (v == NULL) {
		return NULL;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return text;
}

const char *
exec_describe_status(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus)) {
		(void) snprintf(
		    buf, len, "exited with status %d", WEXITSTATUS(wstatus));
	} else if (WIFSIGNALED(wstatus)) {
		int         sig  = WTERMSIG(wstatus);
		const char *abbr = sigabbrev_np(sig);
		(void) snprintf(buf, len, "killed by signal %d%s%s%s%s", sig,
		    abbr != NULL ? " (SIG" : "", abbr != NULL ? abbr : "",
		    abbr != NULL ? ")" : "",
		    WCOREDUMP(wstatus) ? ", core dumped" : "");
	} else {
		(void) snprintf(buf, len, "ended with wait status 0x%x",
		    (unsigned) wstatus);
	}
	return buf;
}

const char *
exec_error_message(char *buf, size_t len, const char *head, const char *tail,
    size_t tail_len, uint64_t total)
{
	char  *clean;
	size_t clean_len;
	size_t start = 0;
	size_t room;
	int    plen;
	char   prefix[160];
	bool   whole = total == tail_len; // nothing was dropped before

	// Trailing line ends say nothing.
	while (tail_len > 0 &&
	    (tail[tail_len - 1] == '\n' || tail[tail_len - 1] == '\r')) {
		tail_len--;
	}
	if (total == 0 || tail_len == 0 ||
	    (clean = exec_utf8_clean(tail, tail_len, &clean_len)) == NULL) {
		(void) snprintf(buf, len, "%s%s", head,
		    total == 0 ? " (no output on stderr)" : "");
		return buf;
	}

	// Whole when it fits and nothing was dropped before.
	plen = snprintf(prefix, sizeof(prefix), "; stderr: ");
	room = len - 1 - strnlen(head, len - 1);
	if (whole && (size_t) plen + clean_len <= room) {
		(void) snprintf(buf, len, "%s%s%s", head, prefix, clean);
		free(clean);
		return buf;
	}

	// Otherwise the last bytes that fit, from a character boundary. The
	// count printed can only shrink from the first guess, and with it
	// the prefix, so the text fits.
	plen = snprintf(prefix, sizeof(prefix),
	    "; stderr (last %zu of %llu bytes): ", clean_len,
	    (unsigned long long) total);
	if (plen < 0 || (size_t) plen >= room) {
		(void) snprintf(buf, len, "%s", head);
		free(clean);
		return buf;
	}
	if (clean_len > room - (size_t) plen) {
		start = clean_len - (room - (size_t) plen);
	}
	while (start < clean_len &&
	    ((unsigned char) clean[start] & 0xc0) == 0x80) {
		start++;
	}
	(void) snprintf(prefix, sizeof(prefix),
	    "; stderr (last %zu of %llu bytes): ", clean_len - start,
	    (unsigned long long) total);
	(void) snprintf(buf, len, "%s%s%s", head, prefix, clean + start);
	free(clean);
	return buf;
}
