// rpc_frame_fuzz — libFuzzer target for the RPC front door's decoding of a
// request frame (sje__rpc_decode in server/rpc.c): the sje.v1.Request
// envelope, the method by name, and the method's input message, for every
// method of Coordinator and WorkerHub.
//
// Beyond the sanitizers' findings it checks the decoder's contract:
//   - OK means a known method and an input of that method's type, which
//     packs and decodes again to the same bytes;
//   - anything else is INVALID_ARGUMENT or UNIMPLEMENTED with a message,
//     and leaves nothing allocated.
//
//   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSJE_FUZZ=ON
//   cmake --build build-fuzz --target rpc_frame_fuzz
//   build-fuzz/bin/rpc_frame_fuzz NEW_CORPUS_DIR tests/fuzz/corpus/rpc_frame
#include <sje/v1/common.pb-c.h>
#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include "rpc.h"

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
