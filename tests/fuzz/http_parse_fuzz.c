// http_parse_fuzz — libFuzzer target for the REST door's request head
// parser (sje__http_parse in server/door/http_parse.c).
//
// Beyond the sanitizers' findings it checks the parser's contract:
//   - the input parses the same whole and fed in two pieces (the scan
//     state makes no difference), so pipelined and trickled heads agree;
//   - DONE consumes at least one byte and no more than it was given, and
//     every pointer of the request lies within the input;
//   - BAD carries a 4xx or 505 status, an error code and a message;
//   - pipelined heads parse one after another until none is left.
//
//   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSJE_FUZZ=ON
//   cmake --build build-fuzz --target http_parse_fuzz
//   build-fuzz/bin/http_parse_fuzz NEW_CORPUS_DIR tests/fuzz/corpus/http_parse
#include "door/http_parse.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const sje__http_limits lim = {
	.max_target_bytes = 256,
	.max_head_bytes   = 2048,
	.max_fields       = 20,
};

static bool
within(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sje__http_request req, req2;
	const char              *buf = (const char *) data;
	size_t                   at  = 0;
	for (int round = 0; round < 64 && at < size; round++) {
		const char      *p    = buf + at;
		size_t           n    = size - at;
		size_t           scan = 0, consumed = 0;
		sje__http_error  err;
		sje__http_result r =
		    sje__http_parse(p, n, &lim, &scan, &req, &consumed, &err);

		// Fed in two pieces, the same answer.
		size_t           scan2 = 0, consumed2 = 0;
		sje__http_error  err2;
		sje__http_result r1 = sje__http_parse(
		    p, n / 2, &lim, &scan2, &req2, &consumed2, &err2);
		if (r1 == SJE__HTTP_MORE) {
			sje__http_result r2 = sje__http_parse(
			    p, n, &lim, &scan2, &req2, &consumed2, &err2);
			if (r2 != r ||
			    (r == SJE__HTTP_DONE && consumed2 != consumed) ||
			    (r == SJE__HTTP_BAD &&
			        err2.status != err.status)) {
				abort();
			}
		}
		if (r == SJE__HTTP_MORE) {
			break;
		}
		if (r == SJE__HTTP_BAD) {
			if (!((err.status >= 400 && err.status < 500) ||
			        err.status == 505) ||
			    err.code == NULL || err.message == NULL) {
				abort();
			}
			break;
		}
		if (consumed == 0 || consumed > n ||
		    !within(req.method, req.method_len, p, consumed) ||
		    !within(req.target, req.target_len, p, consumed) ||
		    req.n_fields > lim.max_fields ||
		    (req.minor != 0 && req.minor != 1)) {
			abort();
		}
		for (size_t i = 0; i < req.n_fields; i++) {
			const sje__http_field *f = &req.fields[i];
			if (f->name_len == 0 ||
			    !within(f->name, f->name_len, p, consumed) ||
			    !within(f->value, f->value_len, p, consumed)) {
				abort();
			}
		}
		at += consumed;
	}
	return 0;
}
