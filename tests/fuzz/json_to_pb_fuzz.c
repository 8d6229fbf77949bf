// json_to_pb_fuzz — libFuzzer target for the JSON -> protobuf mapping
// (client/core/pbjson.c), as the REST gateway uses it on request bodies.
//
// Each input is tried as an sje.v1.JobSpec and as an sje.v1.SubmitRequest
// (sje__json_to_pb), and as a body of the shapes the gateway accepts
// (sje__json_parse, then sje__json_value_to_pb on the parsed object).
// Beyond the sanitizers' findings, it checks the mapping's contract:
//   - a refusal is SJE_EINVAL (or SJE_ENOMEM) with field and msg
//     terminated and msg not empty, and nothing allocated;
//   - an accepted message survives the round trip: rendered with
//     sje__pb_to_json and sje__json_dumps, it maps back to a message
//     that renders to the same JSON and packs to the same bytes.
//
//   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSJE_FUZZ=ON
//   cmake --build build-fuzz --target json_to_pb_fuzz
//   build-fuzz/bin/json_to_pb_fuzz -dict=tests/fuzz/json.dict \
//       NEW_CORPUS_DIR tests/fuzz/corpus/json_to_pb
#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/job.pb-c.h>

#include "pbjson.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// check_refusal aborts when an error breaks the contract.
static void
check_refusal(sje_err rv, const char *field, size_t fieldlen, const char *msg,
    size_t msglen)
{
	if (rv != SJE_EINVAL && rv != SJE_ENOMEM) {
		fprintf(stderr, "unexpected error %d\n", (int) rv);
		abort();
	}
	if (strnlen(field, fieldlen) == fieldlen ||
	    strnlen(msg, msglen) == msglen || msg[0] == '\0') {
		fprintf(stderr, "field or msg not terminated, or msg empty\n");
		abort();
	}
}

// check_round_trip aborts when m does not survive JSON and back.
static void
check_round_trip(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m)
{
	json_t *j1 = sje__pb_to_json(m);
	if (j1 == NULL) {
		fprintf(stderr, "an accepted message does not render\n");
		abort();
	}
	char *text = sje__json_dumps(j1, JSON_COMPACT);
	if (text == NULL) {
		abort();
	}
	char              field[256], msg[512];
	ProtobufCMessage *m2 = NULL;
	sje_err rv = sje__json_to_pb(d, text, strlen(text), &m2, field,
	    sizeof(field), msg, sizeof(msg));
	if (rv != SJE_OK) {
		fprintf(stderr, "its rendering is refused: %s (%s)\n%s\n", msg,
		    field, text);
		abort();
	}
	json_t *j2 = sje__pb_to_json(m2);
	if (j2 == NULL || !json_equal(j1, j2)) {
		fprintf(stderr, "the round trip changed it:\n%s\n", text);
		abort();
	}
	size_t n1 = protobuf_c_message_get_packed_size(m);
	size_t n2 = protobuf_c_message_get_packed_size(m2);
	if (n1 != n2) {
		fprintf(stderr, "packed sizes differ: %zu, %zu\n", n1, n2);
		abort();
	}
	uint8_t *p1 = malloc(n1 + 1);
	uint8_t *p2 = malloc(n2 + 1);
	if (p1 == NULL || p2 == NULL) {
		abort();
	}
	protobuf_c_message_pack(m, p1);
	protobuf_c_message_pack(m2, p2);
	if (memcmp(p1, p2, n1) != 0) {
		fprintf(stderr, "packed bytes differ\n");
		abort();
	}
	free(p1);
	free(p2);
	json_decref(j1);
	json_decref(j2);
	free(text);
	protobuf_c_message_free_unpacked(m2, NULL);
}

// try_text maps the input as a message of type d.
static void
try_text(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t size)
{
	char              field[256], msg[512];
	ProtobufCMessage *m = NULL;
	sje_err rv = sje__json_to_pb(d, (const char *) data, size, &m, field,
	    sizeof(field), msg, sizeof(msg));
	if (rv != SJE_OK) {
		check_refusal(rv, field, sizeof(field), msg, sizeof(msg));
		if (m != NULL) {
			abort(); // out is written only on success
		}
		return;
	}
	check_round_trip(d, m);
	protobuf_c_message_free_unpacked(m, NULL);
}

// try_body does what the gateway does with a POST /submit body: parse,
// then map each element of "tasks" with a path prefix, or the whole.
static void
try_body(const uint8_t *data, size_t size)
{
	char    field[256], msg[512];
	json_t *j;
	sje_err rv = sje__json_parse(&sje__v1__job_spec__descriptor,
	    (const char *) data, size, &j, field, sizeof(field), msg,
	    sizeof(msg));
	if (rv != SJE_OK) {
		check_refusal(rv, field, sizeof(field), msg, sizeof(msg));
		return;
	}
	json_t *tasks = json_object_get(j, "tasks");
	if (json_is_array(tasks)) {
		size_t  i;
		json_t *t;
		json_array_foreach (tasks, i, t) {
			char              path[32];
			ProtobufCMessage *m = NULL;
			snprintf(path, sizeof(path), "tasks[%zu]", i);
			rv = sje__json_value_to_pb(
			    &sje__v1__job_spec__descriptor, t, path, &m, field,
			    sizeof(field), msg, sizeof(msg));
			if (rv != SJE_OK) {
				check_refusal(rv, field, sizeof(field), msg,
				    sizeof(msg));
				if (strncmp(field, path, strlen(path)) != 0) {
					fprintf(stderr, "field %s lacks %s\n",
					    field, path);
					abort();
				}
				continue;
			}
			protobuf_c_message_free_unpacked(m, NULL);
		}
	}
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	try_text(&sje__v1__job_spec__descriptor, data, size);
	try_text(&sje__v1__submit_request__descriptor, data, size);
	try_body(data, size);
	return 0;
}
