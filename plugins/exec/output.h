// output.h — the exec plugin's handling of a command's output: bounded
// capture buffers, turning stdout into a result and an exit status and
// stderr into an error message.
//
// Pure functions over memory (no I/O, no globals): thread-safe, and tested
// on their own (tests/unit/exec_output_test.c).
#ifndef SJE_EXEC_OUTPUT_H
#define SJE_EXEC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// exec_buf keeps the first max bytes written to it (stdout). Zeroed
// storage plus exec_buf_init is a valid empty buffer.
typedef struct exec_buf {
	char  *data; // len bytes, NUL-terminated when not NULL; owned
	size_t len;
	size_t cap;      // allocated bytes in data
	size_t max;      // most bytes kept
	bool   overflow; // more than max bytes were written
} exec_buf;

// exec_buf_init makes b an empty buffer that keeps up to max bytes.
void exec_buf_init(exec_buf *b, size_t max);

// exec_buf_append appends n bytes of p. Returns false when they do not
// fit under max (b->overflow is then set and the bytes that fit are kept)
// or when memory is short (b unchanged but for overflow, which is set:
// the caller cannot keep the output either way).
bool exec_buf_append(exec_buf *b, const char *p, size_t n);

// exec_buf_fini frees b's memory. Accepts a zeroed b.
void exec_buf_fini(exec_buf *b);

// exec_tail keeps the last cap bytes written to it (stderr), and counts
// them all.
typedef struct exec_tail {
	char    *data; // owned; 2 * cap bytes; the kept bytes start at 0
	size_t   len;  // bytes in data: the last min(len, cap) are the tail
	size_t   cap;
	uint64_t total; // every byte ever written
} exec_tail;

// exec_tail_init makes t an empty tail of cap bytes (cap >= 1). Returns
// false when memory is short.
bool exec_tail_init(exec_tail *t, size_t cap);

// exec_tail_append adds n bytes of p, forgetting the oldest beyond cap.
void exec_tail_append(exec_tail *t, const char *p, size_t n);

// exec_tail_get points *p at the kept tail (at most cap bytes; borrowed
// until the next append) and returns its length.
size_t exec_tail_get(const exec_tail *t, const char **p);

// exec_tail_fini frees t's memory. Accepts a zeroed t.
void exec_tail_fini(exec_tail *t);

// exec_utf8_clean copies n bytes of s, replacing each byte that is not
// part of a valid UTF-8 sequence (and NUL bytes) with U+FFFD. Returns the
// new NUL-terminated string (caller frees) and its length in *out_len;
// NULL when memory is short.
char *exec_utf8_clean(const char *s, size_t n, size_t *out_len);

// exec_result_json turns a command's stdout into the job's result, JSON
// text (caller frees): empty or blank stdout is "null"; stdout that is
// one JSON value (surrounding white space aside) is that text, trimmed;
// anything else is a JSON string of stdout, without one trailing newline
// ("\n" or "\r\n") and with invalid UTF-8 replaced by U+FFFD. NULL when
// memory is short.
char *exec_result_json(const char *out, size_t len);

// exec_describe_status writes how a process ended, from a waitpid
// status, into buf: "exited with status 3" or "killed by signal 9
// (SIGKILL)". Returns buf.
const char *exec_describe_status(int wstatus, char *buf, size_t len);

// exec_error_message writes "<head>; stderr: <tail>" into buf (len
// bytes, len >= 64), or "<head> (no output on stderr)" when total is 0.
// When the tail does not fit whole, or when total says more was written
// than the tail holds, the tail's oldest bytes are dropped (at a UTF-8
// character boundary) and the text says "stderr (last N of M bytes):".
// Invalid UTF-8 in the tail is replaced by U+FFFD. Returns buf.
const char *exec_error_message(char *buf, size_t len, const char *head,
    const char *tail, size_t tail_len, uint64_t total);

#endif // SJE_EXEC_OUTPUT_H
