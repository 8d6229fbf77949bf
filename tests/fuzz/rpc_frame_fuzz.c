// rpc_frame_fuzz — libFuzzer target for the RPC front door's decoding of a
// request frame (sje__rpc_decode in server/door/rpc.c): the sje.v1.Request
// envelope, the method by name, and the method's input message, for every
// method of Coordinator and WorkerHub.
//
// Beyond the sanitizers' findings it checks the decoder's contract:
//   - OK means a known method and an input of that method's type, which
//     packs and decodes again to the same bytes;
//   - OK means every string of the envelope and the input is well-formed
//     UTF-8 (text_ok) and, since a string holding NUL would pack shorter,
//     none was cut at a NUL (repack);
//   - anything else is INVALID_ARGUMENT or UNIMPLEMENTED with a message,
//     and leaves nothing allocated.
//
//   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSJE_FUZZ=ON
//   cmake --build build-fuzz --target rpc_frame_fuzz
//   build-fuzz/bin/rpc_frame_fuzz NEW_CORPUS_DIR tests/fuzz/corpus/rpc_frame
#include <sje/v1/common.pb-c.h>
#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include "door/rpc.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCServiceDescriptor *const services[] = {
	&sje__v1__coordinator__descriptor,
	&sje__v1__worker_hub__descriptor,
};

// has_unknown is true when m or a message inside it kept unknown fields.
// protobuf-c packs those again as they came, and some that it accepts (a
// field number 0 under a non-minimal tag) do not decode once packed; the
// scheduler checks what it stores for exactly that reason.
static bool
has_unknown(const ProtobufCMessage *m)
{
	if (m->n_unknown_fields > 0) {
		return true;
	}
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			continue;
		}
		const char *base = (const char *) m + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *) ((const char *) m +
			    f->quantifier_offset);
			ProtobufCMessage *const *v =
			    *(ProtobufCMessage *const *const *) base;
			for (size_t k = 0; k < n; k++) {
				if (has_unknown(v[k])) {
					return true;
				}
			}
		} else {
			const ProtobufCMessage *sub =
			    *(const ProtobufCMessage *const *) base;
			if (sub != NULL && has_unknown(sub)) {
				return true;
			}
		}
	}
	return false;
}

// text_ok is true when every string field of m and of the messages in it
// (repeated, oneof members, map entries) is well-formed UTF-8.
static bool
text_ok(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE &&
		    f->type != PROTOBUF_C_TYPE_STRING) {
			continue;
		}
		const char  *base = (const char *) m + f->offset;
		size_t       n    = 1;
		void *const *v    = (void *const *) base;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *) ((const char *) m +
			    f->quantifier_offset);
			v = *(void *const *const *) base;
		} else if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    *(const uint32_t *) ((const char *) m +
		        f->quantifier_offset) != f->id) {
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			if (v[k] == NULL) {
				continue;
			}
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				if (!text_ok(v[k])) {
					return false;
				}
			} else if (!sje__utf8_check(
			               v[k], strlen(v[k]), NULL)) {
				return false;
			}
		}
	}
	return true;
}

// repack checks that an accepted input packs to bytes that decode to a
// message packing to the same bytes.
static void
repack(const ProtobufCMessage *m)
{
	size_t   n = protobuf_c_message_get_packed_size(m);
	uint8_t *a = malloc(n + 1);
	protobuf_c_message_pack(m, a);
	ProtobufCMessage *again =
	    protobuf_c_message_unpack(m->descriptor, NULL, n, a);
	if (again == NULL) {
		fprintf(stderr, "an accepted input does not decode again\n");
		abort();
	}
	size_t   n2 = protobuf_c_message_get_packed_size(again);
	uint8_t *b  = malloc(n2 + 1);
	protobuf_c_message_pack(again, b);
	if (n2 != n || memcmp(a, b, n) != 0) {
		fprintf(
		    stderr, "an accepted input changes when packed again\n");
		abort();
	}
	protobuf_c_message_free_unpacked(again, NULL);
	free(b);
	free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sje__rpc_frame f;
	char           msg[256];
	const char    *field = NULL;
	int            code  = sje__rpc_decode(
	                services, 2, data, size, &f, msg, sizeof(msg), &field);
	if (code == SJE__V1__STATUS_CODE__OK) {
		if (f.req == NULL || f.service == NULL || f.input == NULL ||
		    f.method >= f.service->n_methods ||
		    f.input->descriptor !=
		        f.service->methods[f.method].input) {
			fprintf(stderr, "OK without a consistent frame\n");
			abort();
		}
		if (!text_ok(&f.req->base) || !text_ok(f.input)) {
			fprintf(
			    stderr, "OK with a string that is not UTF-8\n");
			abort();
		}
		if (!has_unknown(f.input)) {
			repack(f.input);
		}
	} else {
		if ((code != SJE__V1__STATUS_CODE__INVALID_ARGUMENT &&
		        code != SJE__V1__STATUS_CODE__UNIMPLEMENTED) ||
		    msg[0] == '\0' || f.req != NULL || f.input != NULL) {
			fprintf(stderr, "a refusal breaks the contract: %d\n",
			    code);
			abort();
		}
	}
	sje__rpc_frame_fini(&f);
	return 0;
}
