// pbjson_test.c — the protobuf -> JSON mapping (client/core/pbjson.c).
//
// Messages are built on the stack with the generated INIT macros, so
// nothing here is freed by protobuf-c; every json_t is released.
// A small hand-written descriptor (test.Probe) covers what sje.v1 does not
// use yet: oneof members, repeated scalars of every width, and a map with
// an integer key.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"
#include "util.h"

#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/job.pb-c.h>
#include <sje/v1/rpc.pb-c.h>

// 2026-11-27T22:00:00.123Z and 1.377 s later.
#define T_CREATED 1795816800123LL
#define T_STARTED 1795816801500LL

// expect_str asserts that obj[key] is the string want.
static void
expect_str(json_t *obj, const char *key, const char *want)
{
	json_t *v = json_object_get(obj, key);
	assert_non_null(v);
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), want);
}

// expect_int asserts that obj[key] is the integer want.
static void
expect_int(json_t *obj, const char *key, json_int_t want)
{
	json_t *v = json_object_get(obj, key);
	assert_non_null(v);
	assert_true(json_is_integer(v));
	assert_true(json_integer_value(v) == want);
}

// expect_null asserts that obj has key, with the value null.
static void
expect_null(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	assert_non_null(v);
	assert_true(json_is_null(v));
}

// expect_json asserts that v equals the JSON text want.
static void
expect_json(json_t *v, const char *want)
{
	json_error_t err;
	json_t      *w = json_loads(want, JSON_DECODE_ANY, &err);
	assert_non_null(w);
	assert_non_null(v);
	if (!json_equal(v, w)) {
		char *got = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		print_error("got %s, want %s\n", got, want);
		free(got);
		json_decref(w);
		fail();
	}
	json_decref(w);
}

static void
test_job_with_every_field_maps_to_the_api_shape(void **state)
{
	(void) state;
	Sje__V1__Job               job      = SJE__V1__JOB__INIT;
	Sje__V1__Json              params   = SJE__V1__JSON__INIT;
	Sje__V1__Json              result   = SJE__V1__JSON__INIT;
	Sje__V1__JobError          error    = SJE__V1__JOB_ERROR__INIT;
	Sje__V1__Progress          progress = SJE__V1__PROGRESS__INIT;
	Sje__V1__Timestamp         created  = SJE__V1__TIMESTAMP__INIT;
	Sje__V1__Timestamp         started  = SJE__V1__TIMESTAMP__INIT;
	Sje__V1__Timestamp         finished = SJE__V1__TIMESTAMP__INIT;
	Sje__V1__Job__LabelsEntry  l1       = SJE__V1__JOB__LABELS_ENTRY__INIT;
	Sje__V1__Job__LabelsEntry  l2       = SJE__V1__JOB__LABELS_ENTRY__INIT;
	Sje__V1__Job__LabelsEntry *labels[] = { &l1, &l2 };
	char                      *deps[]   = { "task_0", "task_00" };

	job.task_id          = "task_1";
	job.function         = "calculate_data";
	job.state            = SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
	params.text          = "{\"input_data\": [1, 2, 3]}";
	job.params           = &params;
	result.text          = "{\"count\":3,\"sum\":6,\"mean\":2.5}";
	job.result           = &result;
	error.type           = "error";
	error.message        = "first attempt failed";
	job.error            = &error;
	job.attempt          = 2;
	job.max_attempts     = 3;
	job.priority         = -4;
	job.n_depends_on     = 2;
	job.depends_on       = deps;
	job.worker           = "worker-a";
	progress.percent     = 100;
	progress.message     = "done";
	job.progress         = &progress;
	job.cancel_requested = 1;
	created.unix_ms      = T_CREATED;
	started.unix_ms      = T_STARTED;
	finished.unix_ms     = T_STARTED + 1000;
	job.created_at       = &created;
	job.started_at       = &started;
	job.finished_at      = &finished;
	job.timeout_s        = 300;
	l1.key               = "team";
	l1.value             = "etl";
	l2.key               = "tier";
	l2.value             = "gold";
	job.n_labels         = 2;
	job.labels           = labels;

	json_t *j = sje__pb_to_json(&job.base);
	assert_non_null(j);
	assert_true(json_is_object(j));

	expect_str(j, "task_id", "task_1");
	expect_str(j, "function", "calculate_data");
	expect_str(j, "state", "SUCCEEDED");
	expect_json(json_object_get(j, "params"), "{\"input_data\":[1,2,3]}");
	expect_json(json_object_get(j, "result"),
	    "{\"count\":3,\"sum\":6,\"mean\":2.5}");
	expect_json(json_object_get(j, "error"),
	    "{\"type\":\"error\",\"message\":\"first attempt failed\"}");
	expect_int(j, "attempt", 2);
	expect_int(j, "max_attempts", 3);
	expect_int(j, "priority", -4);
	expect_json(
	    json_object_get(j, "depends_on"), "[\"task_0\",\"task_00\"]");
	expect_str(j, "worker", "worker-a");
	expect_json(json_object_get(j, "progress"),
	    "{\"percent\":100.0,\"message\":\"done\"}");
	assert_true(json_is_true(json_object_get(j, "cancel_requested")));
	expect_str(j, "created_at", "2026-11-27T22:00:00.123Z");
	expect_str(j, "started_at", "2026-11-27T22:00:01.500Z");
	expect_str(j, "finished_at", "2026-11-27T22:00:02.500Z");
	expect_int(j, "timeout_s", 300);
	expect_json(json_object_get(j, "labels"),
	    "{\"team\":\"etl\",\"tier\":\"gold\"}");
	expect_json(json_object_get(j, "attempts"), "[]");
	expect_json(json_object_get(j, "requires"), "{}");
	// Every field of Job, and nothing else.
	assert_int_equal(json_object_size(j), 21);
	json_decref(j);
}

static void
test_absent_messages_and_unset_fields_are_written(void **state)
{
	(void) state;
	Sje__V1__Job       job  = SJE__V1__JOB__INIT;
	Sje__V1__Timestamp zero = SJE__V1__TIMESTAMP__INIT;
	Sje__V1__Json      none = SJE__V1__JSON__INIT; // text ""
	job.started_at          = &zero;               // unix_ms 0 means never
	job.result              = &none;

	json_t *j = sje__pb_to_json(&job.base);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 21);
	expect_str(j, "task_id", "");
	expect_str(j, "state", "UNSPECIFIED");
	expect_null(j, "params");
	expect_null(j, "result");
	expect_null(j, "error");
	expect_null(j, "progress");
	expect_null(j, "created_at");
	expect_null(j, "started_at");
	expect_null(j, "finished_at");
	expect_int(j, "attempt", 0);
	expect_int(j, "priority", 0);
	assert_true(json_is_false(json_object_get(j, "cancel_requested")));
	expect_json(json_object_get(j, "depends_on"), "[]");
	expect_json(json_object_get(j, "labels"), "{}");
	json_decref(j);
}

static void
test_64_bit_integers_stay_exact(void **state)
{
	(void) state;
	Sje__V1__JobEvent ev = SJE__V1__JOB_EVENT__INIT;
	ev.seq               = (UINT64_C(1) << 63) + 1;
	ev.state             = SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED;

	json_t *j = sje__pb_to_json(&ev.base);
	assert_non_null(j);
	// Above INT64_MAX: no json_int_t holds it; a string keeps it exact.
	expect_str(j, "seq", "9223372036854775809");
	expect_str(j, "state", "UPSTREAM_FAILED");
	expect_null(j, "at");
	json_decref(j);

	ev.seq = (uint64_t) INT64_MAX;
	j      = sje__pb_to_json(&ev.base);
	expect_int(j, "seq", INT64_MAX);
	char *text = json_dumps(j, JSON_COMPACT);
	assert_non_null(strstr(text, "\"seq\":9223372036854775807"));
	free(text);
	json_decref(j);

	ev.seq = (UINT64_C(1) << 53) + 1; // beyond a double's exact range
	j      = sje__pb_to_json(&ev.base);
	expect_int(j, "seq", (json_int_t) ((INT64_C(1) << 53) + 1));
	json_decref(j);

	// A Timestamp on its own is an ordinary message: int64 exactness.
	Sje__V1__Timestamp ts = SJE__V1__TIMESTAMP__INIT;
	ts.unix_ms            = INT64_MIN;
	j                     = sje__pb_to_json(&ts.base);
	expect_int(j, "unix_ms", INT64_MIN);
	json_decref(j);
}

static void
test_json_fields_hold_any_value(void **state)
{
	(void) state;
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "42", "42" },
		{ "\"s\"", "\"s\"" },
		{ "null", "null" },
		{ "true", "true" },
		{ " [1, {\"a\": null}] ", "[1,{\"a\":null}]" },
		{ "-1.5e3", "-1500.0" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Sje__V1__Job  job    = SJE__V1__JOB__INIT;
		Sje__V1__Json params = SJE__V1__JSON__INIT;
		params.text          = (char *) cases[i].text;
		job.params           = &params;
		json_t *j            = sje__pb_to_json(&job.base);
		assert_non_null(j);
		json_t *p = json_object_get(j, "params");
		assert_non_null(p);
		expect_json(p, cases[i].want);
		json_decref(j);
	}
}

static void
test_json_field_with_text_that_is_not_json_renders_as_a_string(void **state)
{
	(void) state;
	Sje__V1__Job  job    = SJE__V1__JOB__INIT;
	Sje__V1__Json params = SJE__V1__JSON__INIT;
	params.text          = "{\"a\":";
	job.params           = &params;
	json_t *j            = sje__pb_to_json(&job.base);
	assert_non_null(j);
	assert_string_equal(
	    json_string_value(json_object_get(j, "params")), "{\"a\":");
	json_decref(j);
	assert_null(sje__pb_to_json(NULL));
}

// A row stored before the server checked UTF-8 renders with U+FFFD in
// place of each ill-formed sequence: strings, map keys and values, and
// strings inside a Json text.
static void
test_ill_formed_utf8_renders_with_replacement_characters(void **state)
{
	(void) state;
	Sje__V1__Job               job    = SJE__V1__JOB__INIT;
	Sje__V1__Json              params = SJE__V1__JSON__INIT;
	Sje__V1__JobError          err    = SJE__V1__JOB_ERROR__INIT;
	Sje__V1__Job__LabelsEntry  e      = SJE__V1__JOB__LABELS_ENTRY__INIT;
	Sje__V1__Job__LabelsEntry *labels[1] = { &e };
	job.task_id                          = "t\xff"
	                                       "1";
	err.message =
	    "bad \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 cut \xe2\x82";
	job.error    = &err;
	e.key        = "k\xfe";
	e.value      = "v\x80";
	job.labels   = labels;
	job.n_labels = 1;
	params.text  = "{\"s\":\"x\xffy\"}";
	job.params   = &params;
	json_t *j    = sje__pb_to_json(&job.base);
	assert_non_null(j);
	assert_string_equal(
	    json_string_value(json_object_get(j, "task_id")), "t\uFFFD1");
	// Overlong C0 AF: two; a surrogate ED A0 80: three; F4 90 80 80
	// (above U+10FFFF): four; a cut E2 82: one (Unicode's maximal
	// subparts).
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(j, "error"), "message")),
	    "bad \uFFFD\uFFFD \uFFFD\uFFFD\uFFFD "
	    "\uFFFD\uFFFD\uFFFD\uFFFD cut \uFFFD");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(j, "labels"), "k\uFFFD")),
	    "v\uFFFD");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(j, "params"), "s")),
	    "x\uFFFDy");
	char *text = sje__json_dumps(j, JSON_COMPACT);
	assert_non_null(text);
	json_decref(j);
	json_error_t jerr;
	json_t      *back = json_loads(text, 0, &jerr);
	assert_non_null(back); // valid JSON, valid UTF-8
	json_decref(back);
	free(text);
}

static void
test_other_enums_keep_their_names_and_bytes_are_base64(void **state)
{
	(void) state;
	Sje__V1__Reply rep = SJE__V1__REPLY__INIT;
	rep.code           = SJE__V1__STATUS_CODE__NOT_FOUND;
	rep.message        = "no such job";
	rep.body.data      = (uint8_t *) "hello";
	rep.body.len       = 5;

	json_t *j = sje__pb_to_json(&rep.base);
	assert_non_null(j);
	expect_str(j, "code", "NOT_FOUND");
	expect_str(j, "body", "aGVsbG8=");
	expect_str(j, "field", "");
	json_decref(j);

	static const struct {
		const char *in;
		const char *b64;
	} b64[] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" } };
	for (size_t i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
		rep.body.data = (uint8_t *) b64[i].in;
		rep.body.len  = strlen(b64[i].in);
		j             = sje__pb_to_json(&rep.base);
		expect_str(j, "body", b64[i].b64);
		json_decref(j);
	}

	// A value this build does not know (from a newer peer): its number.
	rep.code = 99;
	j        = sje__pb_to_json(&rep.base);
	expect_int(j, "code", 99);
	json_decref(j);
}

static void
test_nested_repeated_messages_and_maps(void **state)
{
	(void) state;
	Sje__V1__WorkerInfo              w    = SJE__V1__WORKER_INFO__INIT;
	Sje__V1__Timestamp               seen = SJE__V1__TIMESTAMP__INIT;
	Sje__V1__WorkerInfo__LabelsEntry zone =
	    SJE__V1__WORKER_INFO__LABELS_ENTRY__INIT;
	Sje__V1__WorkerInfo__LabelsEntry *labels[] = { &zone };
	char *fns[]   = { "calculate_data", "resize_image" };
	w.name        = "worker-a";
	w.n_functions = 2;
	w.functions   = fns;
	w.slots       = 4;
	w.busy        = 1;
	zone.key      = "zone";
	zone.value    = "b";
	w.n_labels    = 1;
	w.labels      = labels;
	seen.unix_ms  = 0; // 1970-01-01T00:00:00.000Z would lie: null
	w.last_seen   = &seen;

	Sje__V1__WorkerInfo      *ws[] = { &w };
	Sje__V1__ListWorkersReply rep  = SJE__V1__LIST_WORKERS_REPLY__INIT;
	rep.n_workers                  = 1;
	rep.workers                    = ws;

	json_t *j = sje__pb_to_json(&rep.base);
	expect_json(j,
	    "{\"workers\":[{\"name\":\"worker-a\","
	    "\"functions\":[\"calculate_data\",\"resize_image\"],"
	    "\"slots\":4,\"busy\":1,\"labels\":{\"zone\":\"b\"},"
	    "\"last_seen\":null}]}");
	json_decref(j);

	Sje__V1__ListJobsReply empty = SJE__V1__LIST_JOBS_REPLY__INIT;
	j                            = sje__pb_to_json(&empty.base);
	expect_json(j, "{\"jobs\":[],\"next_cursor\":\"\"}");
	json_decref(j);
}

static void
test_nan_progress_is_null(void **state)
{
	(void) state;
	Sje__V1__Progress p = SJE__V1__PROGRESS__INIT;
	p.percent           = NAN;
	json_t *j           = sje__pb_to_json(&p.base);
	assert_non_null(j);
	expect_null(j, "percent");
	json_decref(j);
}

// test.Probe: a message sje.v1 does not have (yet), described by hand.
//   oneof kind { string name = 1; int32 num = 2; }
//   repeated uint64 big = 3; repeated double d = 4; repeated bool b = 5;
//   map<int32, string> codes = 6; repeated bytes raw = 7;
typedef struct {
	ProtobufCMessage base;
	int32_t          code;
	char            *text;
} ProbeEntry;

static const ProtobufCFieldDescriptor probe_entry_fields[] = {
	{ "key", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT32, 0,
	    offsetof(ProbeEntry, code), NULL, NULL, 0, 0, NULL, NULL },
	{ "value", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, 0,
	    offsetof(ProbeEntry, text), NULL, NULL, 0, 0, NULL, NULL },
};
static const unsigned          probe_entry_by_name[] = { 0, 1 };
static const ProtobufCIntRange probe_entry_ranges[]  = { { 1, 0 }, { 0, 2 } };
static const ProtobufCMessageDescriptor probe_entry_desc = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Probe.CodesEntry",
	"CodesEntry", "ProbeEntry", "test", sizeof(ProbeEntry), 2,
	probe_entry_fields, probe_entry_by_name, 1, probe_entry_ranges, NULL,
	NULL, NULL, NULL
};

typedef enum {
	PROBE_KIND_NOT_SET = 0,
	PROBE_KIND_NAME    = 1,
	PROBE_KIND_NUM     = 2
} ProbeKind;

typedef struct {
	ProtobufCMessage base;
	ProbeKind        kind_case;
	union {
		char   *name;
		int32_t num;
	};
	size_t               n_big;
	uint64_t            *big;
	size_t               n_d;
	double              *d;
	size_t               n_b;
	protobuf_c_boolean  *b;
	size_t               n_codes;
	ProbeEntry         **codes;
	size_t               n_raw;
	ProtobufCBinaryData *raw;
} Probe;

static const ProtobufCFieldDescriptor probe_fields[] = {
	{ "name", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING,
	    offsetof(Probe, kind_case), offsetof(Probe, name), NULL, NULL,
	    PROTOBUF_C_FIELD_FLAG_ONEOF, 0, NULL, NULL },
	{ "num", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT32,
	    offsetof(Probe, kind_case), offsetof(Probe, num), NULL, NULL,
	    PROTOBUF_C_FIELD_FLAG_ONEOF, 0, NULL, NULL },
	{ "big", 3, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_UINT64,
	    offsetof(Probe, n_big), offsetof(Probe, big), NULL, NULL,
	    PROTOBUF_C_FIELD_FLAG_PACKED, 0, NULL, NULL },
	{ "d", 4, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_DOUBLE,
	    offsetof(Probe, n_d), offsetof(Probe, d), NULL, NULL,
	    PROTOBUF_C_FIELD_FLAG_PACKED, 0, NULL, NULL },
	{ "b", 5, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_BOOL,
	    offsetof(Probe, n_b), offsetof(Probe, b), NULL, NULL,
	    PROTOBUF_C_FIELD_FLAG_PACKED, 0, NULL, NULL },
	{ "codes", 6, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_MESSAGE,
	    offsetof(Probe, n_codes), offsetof(Probe, codes),
	    &probe_entry_desc, NULL, 0, 0, NULL, NULL },
	{ "raw", 7, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_BYTES,
	    offsetof(Probe, n_raw), offsetof(Probe, raw), NULL, NULL, 0, 0,
	    NULL, NULL },
};
static const unsigned          probe_by_name[]     = { 4, 2, 5, 3, 0, 1, 6 };
static const ProtobufCIntRange probe_ranges[]      = { { 1, 0 }, { 0, 7 } };
static const ProtobufCMessageDescriptor probe_desc = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Probe", "Probe", "Probe",
	"test", sizeof(Probe), 7, probe_fields, probe_by_name, 1, probe_ranges,
	NULL, NULL, NULL, NULL
};

static void
test_oneof_repeated_scalars_and_integer_keyed_maps(void **state)
{
	(void) state;
	uint64_t           big[] = { 1, UINT64_MAX };
	double             d[]   = { 0.5, -2 };
	protobuf_c_boolean b[]   = { 1, 0, 1 };
	ProbeEntry  e1 = { PROTOBUF_C_MESSAGE_INIT(&probe_entry_desc), 404,
		 "not found" };
	ProbeEntry  e2 = { PROTOBUF_C_MESSAGE_INIT(&probe_entry_desc), -1,
		 "minus one" };
	ProbeEntry *codes[]       = { &e1, &e2 };
	ProtobufCBinaryData raw[] = { { 2, (uint8_t *) "hi" } };

	Probe p   = { .base = PROTOBUF_C_MESSAGE_INIT(&probe_desc) };
	p.n_big   = 2;
	p.big     = big;
	p.n_d     = 2;
	p.d       = d;
	p.n_b     = 3;
	p.b       = b;
	p.n_codes = 2;
	p.codes   = codes;
	p.n_raw   = 1;
	p.raw     = raw;

	// No oneof member set: neither is written.
	json_t *j = sje__pb_to_json(&p.base);
	expect_json(j,
	    "{\"big\":[1,\"18446744073709551615\"],"
	    "\"d\":[0.5,-2.0],\"b\":[true,false,true],"
	    "\"codes\":{\"404\":\"not found\",\"-1\":\"minus one\"},"
	    "\"raw\":[\"aGk=\"]}");
	json_decref(j);

	p.kind_case = PROBE_KIND_NAME;
	p.name      = "probe";
	j           = sje__pb_to_json(&p.base);
	expect_str(j, "name", "probe");
	assert_null(json_object_get(j, "num"));
	json_decref(j);

	p.kind_case = PROBE_KIND_NUM;
	p.num       = 7;
	j           = sje__pb_to_json(&p.base);
	expect_int(j, "num", 7);
	assert_null(json_object_get(j, "name"));
	json_decref(j);
}

// nested builds n levels of arrays around 0: "[[...0...]]".
static char *
nested(unsigned n, char open, char close)
{
	char *s = malloc(2 * n + 2);
	assert_non_null(s);
	memset(s, open, n);
	s[n] = '0';
	memset(s + n + 1, close, n);
	s[2 * n + 1] = '\0';
	return s;
}

#define VALID(lit) sje__json_valid((lit), sizeof(lit) - 1)

static void
test_json_valid_accepts_any_single_value(void **state)
{
	(void) state;
	assert_true(VALID("{\"input_data\":[1,2,3]}"));
	assert_true(VALID("42"));
	assert_true(VALID("-0.5e-3"));
	assert_true(VALID("\"s\""));
	assert_true(VALID("null"));
	assert_true(VALID("false"));
	assert_true(VALID(" [ ] \n"));
	assert_true(VALID("\"caf\xc3\xa9 \\u00e9 [{\""));
	assert_true(VALID("{\"a\":{\"a\":1}}")); // same key, other objects
	assert_true(VALID("[\"\\\"[[[[\"]"));    // brackets in strings
	assert_true(VALID("-9223372036854775808"));

	char *ok = nested(SJE_MAX_JSON_DEPTH, '[', ']');
	assert_true(sje__json_valid(ok, strlen(ok)));
	free(ok);
}

static void
test_json_valid_rejects_bad_text(void **state)
{
	(void) state;
	assert_false(VALID(""));
	assert_false(VALID("   "));
	assert_false(VALID("{\"a\":"));           // truncated
	assert_false(VALID("[1,2"));              // truncated
	assert_false(VALID("\"abc"));             // truncated
	assert_false(VALID("{} x"));              // trailing garbage
	assert_false(VALID("1 2"));               // two values
	assert_false(VALID("{\"a\":1}{}"));       // two values
	assert_false(VALID("{\"a\":1,\"a\":2}")); // duplicate key
	assert_false(VALID("\"\xff\""));          // invalid UTF-8
	assert_false(VALID("\"\xc3\""));          // truncated UTF-8 sequence
	assert_false(VALID("\"\xed\xa0\x80\""));  // a surrogate in UTF-8
	assert_false(VALID("{'a':1}"));
	assert_false(VALID("[1,]"));
	assert_false(VALID("NaN"));
	assert_false(VALID("1\0"));         // a NUL byte after the value
	assert_false(VALID("\"a\0b\""));    // a raw NUL in a string
	assert_false(VALID("\"\\u0000\"")); // NUL, escaped: jansson refuses
	// Beyond int64: jansson cannot hold it, so SJE cannot render it.
	assert_false(VALID("18446744073709551615"));
	assert_false(sje__json_valid(NULL, 0));
	// Only len bytes count: "[1]" cut to "[1".
	assert_false(sje__json_valid("[1]", 2));

	char *deep = nested(SJE_MAX_JSON_DEPTH + 1, '[', ']');
	assert_false(sje__json_valid(deep, strlen(deep)));
	free(deep);
	// Objects count as levels too.
	char *s = malloc(8 * (SJE_MAX_JSON_DEPTH + 1) + 8);
	assert_non_null(s);
	s[0] = '\0';
	for (unsigned i = 0; i <= SJE_MAX_JSON_DEPTH; i++) {
		strcat(s, "{\"a\":");
	}
	strcat(s, "1");
	for (unsigned i = 0; i <= SJE_MAX_JSON_DEPTH; i++) {
		strcat(s, "}");
	}
	assert_false(sje__json_valid(s, strlen(s)));
	free(s);
	// Far deeper than jansson's own limit: refused, quickly.
	char *abyss = nested(100000, '[', ']');
	assert_false(sje__json_valid(abyss, strlen(abyss)));
	free(abyss);
}

static void
test_rfc3339_of_known_instants(void **state)
{
	(void) state;
	char buf[32];
	sje__rfc3339(T_CREATED, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-27T22:00:00.123Z");
	sje__rfc3339(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	sje__rfc3339(951782400007LL, buf, sizeof(buf)); // a leap day
	assert_string_equal(buf, "2000-02-29T00:00:00.007Z");
	sje__rfc3339(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	char small[8];
	sje__rfc3339(T_CREATED, small, sizeof(small)); // truncated, terminated
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

// ---- JSON -> protobuf ------------------------------------------------------

#define TO_PB(desc, lit, out)                                       \
	sje__json_to_pb((desc), (lit), sizeof(lit) - 1,             \
	    (ProtobufCMessage **) (out), field, sizeof(field), msg, \
	    sizeof(msg))

// expect_field asserts that text, as a message of type d, is refused
// with SJE_EINVAL naming want as the field.
static void
expect_field(
    const ProtobufCMessageDescriptor *d, const char *text, const char *want)
{
	char              field[128] = "x", msg[256] = "x";
	ProtobufCMessage *m  = NULL;
	sje_err           rv = sje__json_to_pb(
	              d, text, strlen(text), &m, field, sizeof(field), msg, sizeof(msg));
	if (rv != SJE_EINVAL || strcmp(field, want) != 0) {
		print_error("%s: rv %d, field '%s' (want '%s'), msg '%s'\n",
		    text, (int) rv, field, want, msg);
		if (m != NULL) {
			protobuf_c_message_free_unpacked(m, NULL);
		}
		fail();
	}
	assert_null(m);
	assert_true(msg[0] != '\0');
}

static void
test_json_to_pb_reads_the_api_job_spec(void **state)
{
	(void) state;
	char              field[128], msg[256];
	Sje__V1__JobSpec *spec = NULL;
	assert_int_equal(
	    TO_PB(&sje__v1__job_spec__descriptor,
	        "{\"task_id\": \"task_1\", \"function\": "
	        "\"calculate_data\", \"params\": {\"input_data\": "
	        "[1, 2, 3]}, \"depends_on\": [\"task_0\"], "
	        "\"priority\": -2, \"timeout_s\": 300, \"retry\": "
	        "{\"max_attempts\": 3, \"backoff\": \"exponential\", "
	        "\"initial_delay_ms\": 1000, \"max_delay_ms\": "
	        "60000}, \"delay_s\": 0, \"labels\": {\"team\": "
	        "\"etl\", \"tier\": \"1\"}}",
	        &spec),
	    SJE_OK);
	assert_string_equal(spec->task_id, "task_1");
	assert_string_equal(spec->function, "calculate_data");
	assert_non_null(spec->params);
	assert_string_equal(spec->params->text, "{\"input_data\":[1,2,3]}");
	assert_int_equal(spec->n_depends_on, 1);
	assert_string_equal(spec->depends_on[0], "task_0");
	assert_int_equal(spec->priority, -2);
	assert_int_equal(spec->timeout_s, 300);
	assert_non_null(spec->retry);
	assert_int_equal(spec->retry->max_attempts, 3);
	assert_string_equal(spec->retry->backoff, "exponential");
	assert_int_equal(spec->retry->initial_delay_ms, 1000);
	assert_int_equal(spec->retry->max_delay_ms, 60000);
	assert_int_equal(spec->n_labels, 2);
	assert_string_equal(spec->labels[0]->key, "team");
	assert_string_equal(spec->labels[0]->value, "etl");
	assert_string_equal(spec->labels[1]->key, "tier");
	sje__v1__job_spec__free_unpacked(spec, NULL);

	// null is absent; only function is needed.
	assert_int_equal(TO_PB(&sje__v1__job_spec__descriptor,
	                     "{\"function\":\"f\",\"params\":null,\"retry\":"
	                     "null,\"depends_on\":null,\"labels\":null,"
	                     "\"task_id\":null}",
	                     &spec),
	    SJE_OK);
	assert_string_equal(spec->function, "f");
	assert_string_equal(spec->task_id, "");
	assert_null(spec->params);
	assert_null(spec->retry);
	assert_int_equal(spec->n_depends_on, 0);
	sje__v1__job_spec__free_unpacked(spec, NULL);
}

static void
test_json_to_pb_names_the_field_of_every_refusal(void **state)
{
	(void) state;
	const ProtobufCMessageDescriptor *js = &sje__v1__job_spec__descriptor;
	const ProtobufCMessageDescriptor *sr =
	    &sje__v1__submit_request__descriptor;
	// Wrong types.
	expect_field(js, "{\"function\": 5}", "function");
	expect_field(js,
	    "{\"function\":\"f\",\"retry\":{\"max_attempts\":\"3\"}}",
	    "retry.max_attempts");
	expect_field(js, "{\"function\":\"f\",\"priority\":1.5}", "priority");
	expect_field(js, "{\"function\":\"f\",\"priority\":true}", "priority");
	expect_field(js, "{\"function\":\"f\",\"timeout_s\":-1}", "timeout_s");
	expect_field(
	    js, "{\"function\":\"f\",\"timeout_s\":4294967296}", "timeout_s");
	expect_field(
	    js, "{\"function\":\"f\",\"priority\":2147483648}", "priority");
	expect_field(
	    js, "{\"function\":\"f\",\"labels\":{\"a\":1}}", "labels.a");
	expect_field(js, "{\"function\":\"f\",\"labels\":[]}", "labels");
	expect_field(js, "{\"function\":\"f\",\"depends_on\":[\"a\",2]}",
	    "depends_on[1]");
	expect_field(js, "{\"function\":\"f\",\"depends_on\":[\"a\",null]}",
	    "depends_on[1]");
	expect_field(
	    js, "{\"function\":\"f\",\"depends_on\":\"a\"}", "depends_on");
	expect_field(js, "{\"function\":\"f\",\"retry\":[]}", "retry");
	// Unknown fields, at any depth.
	expect_field(js, "{\"function\":\"f\",\"nope\":1}", "nope");
	expect_field(
	    js, "{\"function\":\"f\",\"retry\":{\"tries\":1}}", "retry.tries");
	expect_field(sr,
	    "{\"jobs\":[{\"function\":\"f\"},{\"function\":"
	    "\"g\",\"x\":1}]}",
	    "jobs[1].x");
	// The document itself.
	expect_field(js, "[1]", "");
	expect_field(js, "\"spec\"", "");
	expect_field(js, "", "");
	expect_field(js, "{} x", "");
	// Malformed text names where it broke, cut at the Json field.
	expect_field(
	    js, "{\"function\":\"f\",\"params\":{\"a\":[1,2", "params");
	expect_field(js, "{\"function\":\"f\",\"retry\":{\"backoff\":\"fi",
	    "retry.backoff");
	expect_field(
	    js, "{\"task_id\":\"\xff\",\"function\":\"f\"}", "task_id");
	expect_field(
	    js, "{\"function\":\"f\",\"function\":\"g\"}", "function");
	expect_field(
	    js, "{\"function\":\"f\",\"params\":{\"a\":1,\"a\":2}}", "params");
	expect_field(sr,
	    "{\"jobs\":[{\"function\":\"f\"},{\"function\":"
	    "\"g\",\"params\":{\"x\":[1,}}]}",
	    "jobs[1].params");
	expect_field(js, "{\"function\":\"f\",\"labels\":{\"k\":\"\xc3\"}}",
	    "labels.k");
	expect_field(sr,
	    "{\"jobs\":[{\"function\":\"f\"},{\"function\":"
	    "\"g\",\"params\":[1,}]}",
	    "jobs[1].params");
	expect_field(js, "{\"task_id\":\"t\"", "");
	expect_field(js, "{\"task_id\":\"t\",}", "");
	expect_field(
	    js, "{\"retry\":{\"max_attempts\":1 \"backoff\":1}}", "retry");
	char              nul[] = "{\"function\":\"f\",\"task_id\":\"a\0b\"}";
	char              field[128], msg[256];
	ProtobufCMessage *m = NULL;
	assert_int_equal(sje__json_to_pb(js, nul, sizeof(nul) - 1, &m, field,
	                     sizeof(field), msg, sizeof(msg)),
	    SJE_EINVAL);
	assert_string_equal(field, "task_id");
	assert_null(m);
}

static void
test_json_to_pb_bounds_strings_depth_and_size(void **state)
{
	(void) state;
	const ProtobufCMessageDescriptor *js = &sje__v1__job_spec__descriptor;
	char                              field[128], msg[256];

	// An id one byte past its limit, a 200 KB label value.
	char *t = malloc(600 * 1024);
	assert_non_null(t);
	strcpy(t, "{\"function\":\"f\",\"task_id\":\"");
	size_t n = strlen(t);
	memset(t + n, 'a', SJE_MAX_ID_BYTES + 1);
	strcpy(t + n + SJE_MAX_ID_BYTES + 1, "\"}");
	expect_field(js, t, "task_id");
	strcpy(t, "{\"function\":\"f\",\"labels\":{\"k\":\"");
	n = strlen(t);
	memset(t + n, 'a', 200 * 1024);
	strcpy(t + n + 200 * 1024, "\"}}");
	expect_field(js, t, "labels.k");

	// params: any value up to the depth and size limits.
	char *ok = nested(SJE_MAX_JSON_DEPTH, '[', ']');
	snprintf(t, 600 * 1024, "{\"function\":\"f\",\"params\":%s}", ok);
	Sje__V1__JobSpec *spec = NULL;
	assert_int_equal(
	    sje__json_to_pb(js, t, strlen(t), (ProtobufCMessage **) &spec,
	        field, sizeof(field), msg, sizeof(msg)),
	    SJE_OK);
	assert_string_equal(spec->params->text, ok);
	sje__v1__job_spec__free_unpacked(spec, NULL);
	free(ok);
	char *deep = nested(SJE_MAX_JSON_DEPTH + 1, '[', ']');
	snprintf(t, 600 * 1024, "{\"function\":\"f\",\"params\":%s}", deep);
	expect_field(js, t, "params");
	free(deep);
	free(t);

	size_t big = SJE_MAX_PARAMS_BYTES + 16;
	t          = malloc(big + 64);
	assert_non_null(t);
	strcpy(t, "{\"function\":\"f\",\"params\":[\"");
	n = strlen(t);
	memset(t + n, 'x', big);
	strcpy(t + n + big, "\"]}");
	expect_field(js, t, "params");
	free(t);

	// Far deeper than jansson's own limit: refused, and named.
	char *abyss = nested(100000, '[', ']');
	t           = malloc(strlen(abyss) + 64);
	assert_non_null(t);
	sprintf(t, "{\"function\":\"f\",\"params\":%s}", abyss);
	expect_field(js, t, "params");
	free(t);
	free(abyss);
}

static void
test_json_params_round_trip_exactly(void **state)
{
	(void) state;
	static const char *const values[] = {
		"{\"input_data\":[1,2,3]}",
		"[0.1,100.0,1e-7,1.5e300,-0.0,0.00001,1e17,123456.789]",
		"{\"big\":9223372036854775807,\"neg\":-9223372036854775808}",
		"\"caf\xc3\xa9 \\\" \\\\ \\n \\u0001\"",
		"42",
		"true",
		"{\"nested\":{\"a\":[{},[],{\"b\":null}]},\"z\":\"last\",\"a\":1}",
		"2.718281828459045",
		"[1e16,12345678901234567.0,0.30000000000000004]",
	};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char text[512], field[128], msg[256];
		snprintf(text, sizeof(text),
		    "{\"function\":\"f\",\"params\":%s}", values[i]);
		Sje__V1__JobSpec *spec = NULL;
		assert_int_equal(
		    sje__json_to_pb(&sje__v1__job_spec__descriptor, text,
		        strlen(text), (ProtobufCMessage **) &spec, field,
		        sizeof(field), msg, sizeof(msg)),
		    SJE_OK);
		// The stored text reads back to the same value, and is what
		// sje__json_dumps makes of it again (a fixed point).
		json_error_t jerr;
		json_t *want = json_loads(values[i], JSON_DECODE_ANY, &jerr);
		json_t *got =
		    json_loads(spec->params->text, JSON_DECODE_ANY, &jerr);
		assert_non_null(got);
		if (!json_equal(want, got)) {
			print_error("%s came back as %s\n", values[i],
			    spec->params->text);
			fail();
		}
		char *again = sje__json_dumps(got, JSON_COMPACT);
		assert_string_equal(again, spec->params->text);
		free(again);
		json_decref(want);
		json_decref(got);
		sje__v1__job_spec__free_unpacked(spec, NULL);
	}
}

static void
test_json_dumps_writes_reals_without_needless_exponents(void **state)
{
	(void) state;
	static const struct {
		double      d;
		const char *want;
	} cases[] = {
		{ 100.0, "100.0" },
		{ 0.1, "0.1" },
		{ 1.0, "1.0" },
		{ -2.5, "-2.5" },
		{ 1e-5, "0.00001" },
		{ 1.5e-5, "0.000015" },
		{ 1e-6, "1e-6" },
		{ 1e16, "10000000000000000.0" },
		{ 1e17, "1e17" },
		{ 1.25e17, "1.25e17" },
		{ -1e300, "-1e300" },
		{ 0.0, "0.0" },
		{ 123456.789, "123456.789" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 5e-324, "5e-324" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		sje__json_fmt_real(cases[i].d, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0) {
			print_error("%.17g: got %s, want %s\n", cases[i].d,
			    buf, cases[i].want);
			fail();
		}
		assert_true(strtod(buf, NULL) == cases[i].d);
	}
	char buf[32];
	sje__json_fmt_real(NAN, buf, sizeof(buf));
	assert_string_equal(buf, "null");

	// Layout: compact, default and indented, as jansson lays them out.
	json_error_t jerr;
	json_t      *j = json_loads(
	         "{\"a\":[1,2.5,{}],\"b\":{\"c\":null},\"d\":[]}", 0, &jerr);
	assert_non_null(j);
	static const size_t flags[] = { JSON_COMPACT, 0, JSON_INDENT(2),
		JSON_INDENT(3) | JSON_COMPACT };
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char *ours = sje__json_dumps(j, flags[i]);
		char *theirs =
		    json_dumps(j, flags[i] | JSON_REAL_PRECISION(2));
		assert_string_equal(ours, theirs);
		free(ours);
		free(theirs);
	}
	json_decref(j);
	json_t *x = json_string("x");
	char   *s = sje__json_dumps(x, 0);
	assert_string_equal(s, "\"x\"");
	free(s);
	json_decref(x);
}

static void
test_json_to_pb_enums_64_bit_integers_and_timestamps(void **state)
{
	(void) state;
	char                      field[128], msg[256];
	Sje__V1__ListJobsRequest *lj       = NULL;
	static const char *const  queued[] = { "\"QUEUED\"",
		 "\"JOB_STATE_QUEUED\"", "\"queued\"", "3" };
	for (size_t i = 0; i < 4; i++) {
		char text[64];
		snprintf(text, sizeof(text), "{\"state\":%s}", queued[i]);
		assert_int_equal(
		    sje__json_to_pb(&sje__v1__list_jobs_request__descriptor,
		        text, strlen(text), (ProtobufCMessage **) &lj, field,
		        sizeof(field), msg, sizeof(msg)),
		    SJE_OK);
		assert_int_equal(
		    lj->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
		sje__v1__list_jobs_request__free_unpacked(lj, NULL);
	}
	expect_field(&sje__v1__list_jobs_request__descriptor,
	    "{\"state\":\"BOGUS\"}", "state");
	expect_field(&sje__v1__list_jobs_request__descriptor, "{\"state\":99}",
	    "state");
	expect_field(&sje__v1__list_jobs_request__descriptor, "{\"state\":[]}",
	    "state");

	Sje__V1__ListEventsRequest *le = NULL;
	assert_int_equal(TO_PB(&sje__v1__list_events_request__descriptor,
	                     "{\"after\":\"18446744073709551615\"}", &le),
	    SJE_OK);
	assert_true(le->after == UINT64_MAX);
	sje__v1__list_events_request__free_unpacked(le, NULL);
	assert_int_equal(
	    TO_PB(&sje__v1__list_events_request__descriptor,
	        "{\"after\":9223372036854775807,\"wait_ms\":5}", &le),
	    SJE_OK);
	assert_true(le->after == (uint64_t) INT64_MAX);
	assert_int_equal(le->wait_ms, 5);
	sje__v1__list_events_request__free_unpacked(le, NULL);
	expect_field(&sje__v1__list_events_request__descriptor,
	    "{\"after\":-1}", "after");
	expect_field(&sje__v1__list_events_request__descriptor,
	    "{\"after\":\"1x\"}", "after");
	expect_field(&sje__v1__list_events_request__descriptor,
	    "{\"after\":\"18446744073709551616\"}", "after");
	expect_field(&sje__v1__list_events_request__descriptor,
	    "{\"after\":1.0}", "after");

	Sje__V1__WorkerInfo *wi = NULL;
	assert_int_equal(
	    TO_PB(&sje__v1__worker_info__descriptor,
	        "{\"last_seen\":\"2026-11-27T22:00:00.123Z\"}", &wi),
	    SJE_OK);
	assert_true(wi->last_seen->unix_ms == T_CREATED);
	sje__v1__worker_info__free_unpacked(wi, NULL);
	assert_int_equal(
	    TO_PB(&sje__v1__worker_info__descriptor,
	        "{\"last_seen\":\"2026-11-27T23:30:00.12345+01:30\"}", &wi),
	    SJE_OK);
	assert_true(wi->last_seen->unix_ms == T_CREATED);
	sje__v1__worker_info__free_unpacked(wi, NULL);
	assert_int_equal(
	    TO_PB(&sje__v1__worker_info__descriptor,
	        "{\"last_seen\":\"1969-12-31T23:59:59.999Z\"}", &wi),
	    SJE_OK);
	assert_true(wi->last_seen->unix_ms == -1);
	sje__v1__worker_info__free_unpacked(wi, NULL);
	expect_field(&sje__v1__worker_info__descriptor,
	    "{\"last_seen\":\"2026-02-29T00:00:00Z\"}", "last_seen");
	expect_field(&sje__v1__worker_info__descriptor,
	    "{\"last_seen\":\"2026-11-27 22:00:00Z\"}", "last_seen");
	expect_field(&sje__v1__worker_info__descriptor,
	    "{\"last_seen\":1795816800123}", "last_seen");
}

static void
test_json_to_pb_oneofs_maps_bytes_and_repeated_scalars(void **state)
{
	(void) state;
	char   field[128], msg[256];
	Probe *p = NULL;
	assert_int_equal(TO_PB(&probe_desc,
	                     "{\"num\":7,\"big\":[1,\"18446744073709551615\"],"
	                     "\"d\":[0.5,-2,\"NaN\"],\"b\":[true,false],"
	                     "\"codes\":{\"404\":\"not found\",\"-1\":\"m\"},"
	                     "\"raw\":[\"aGk=\",\"aGk\",\"_-8\"]}",
	                     &p),
	    SJE_OK);
	assert_int_equal(p->kind_case, PROBE_KIND_NUM);
	assert_int_equal(p->num, 7);
	assert_int_equal(p->n_big, 2);
	assert_true(p->big[1] == UINT64_MAX);
	assert_int_equal(p->n_d, 3);
	assert_true(p->d[1] == -2.0);
	assert_true(isnan(p->d[2]));
	assert_int_equal(p->n_b, 2);
	assert_true(p->b[0] && !p->b[1]);
	assert_int_equal(p->n_codes, 2);
	assert_int_equal(p->codes[0]->code, 404);
	assert_string_equal(p->codes[0]->text, "not found");
	assert_int_equal(p->codes[1]->code, -1);
	assert_int_equal(p->n_raw, 3);
	assert_int_equal(p->raw[0].len, 2);
	assert_memory_equal(p->raw[0].data, "hi", 2);
	assert_int_equal(p->raw[1].len, 2);
	assert_int_equal(p->raw[2].len, 2);
	assert_memory_equal(p->raw[2].data, "\xff\xef", 2);
	protobuf_c_message_free_unpacked(&p->base, NULL);

	assert_int_equal(
	    TO_PB(&probe_desc, "{\"name\":\"probe\"}", &p), SJE_OK);
	assert_int_equal(p->kind_case, PROBE_KIND_NAME);
	assert_string_equal(p->name, "probe");
	protobuf_c_message_free_unpacked(&p->base, NULL);

	expect_field(&probe_desc, "{\"name\":\"x\",\"num\":1}", "num");
	expect_field(&probe_desc, "{\"codes\":{\"x\":\"y\"}}", "codes.x");
	expect_field(&probe_desc, "{\"codes\":{\"1\":2}}", "codes.1");
	expect_field(&probe_desc, "{\"b\":[true,1]}", "b[1]");
	expect_field(&probe_desc, "{\"raw\":[\"a\"]}", "raw[0]");
	expect_field(&probe_desc, "{\"raw\":[\"a*==\"]}", "raw[0]");
	expect_field(&probe_desc, "{\"big\":[-1]}", "big[0]");
	expect_field(&probe_desc, "{\"d\":[\"1.5\"]}", "d[0]");
	// A failure after entries were built frees them (ASan checks).
	expect_field(&probe_desc,
	    "{\"name\":\"x\",\"big\":[1,2],\"codes\":{\"1\":\"a\",\"2\":\"b\"},"
	    "\"raw\":[\"aGk=\"],\"d\":[true]}",
	    "d[0]");
}

static void
test_json_round_trips_a_job_through_both_mappings(void **state)
{
	(void) state;
	Sje__V1__Job       job     = SJE__V1__JOB__INIT;
	Sje__V1__Json      params  = SJE__V1__JSON__INIT;
	Sje__V1__Json      result  = SJE__V1__JSON__INIT;
	Sje__V1__Timestamp created = SJE__V1__TIMESTAMP__INIT;
	Sje__V1__Progress  prog    = SJE__V1__PROGRESS__INIT;
	Sje__V1__JobError  err     = SJE__V1__JOB_ERROR__INIT;
	Sje__V1__Attempt   att     = SJE__V1__ATTEMPT__INIT;
	Sje__V1__Attempt  *atts[]  = { &att };
	char              *deps[]  = { "a", "b" };
	job.task_id                = "t1";
	job.function               = "calculate_data";
	job.state                  = SJE__V1__JOB_STATE__JOB_STATE_FAILED;
	params.text                = "{\"x\":[0.1,2,\"s\"]}";
	job.params                 = &params;
	result.text                = "3.5";
	job.result                 = &result;
	created.unix_ms            = T_CREATED;
	job.created_at             = &created;
	prog.percent               = 12.5;
	prog.message               = "half";
	job.progress               = &prog;
	err.type                   = "error";
	err.message                = "boom";
	job.error                  = &err;
	job.n_depends_on           = 2;
	job.depends_on             = deps;
	att.number                 = 1;
	att.worker                 = "w";
	att.started_at             = &created;
	att.outcome                = SJE__V1__JOB_STATE__JOB_STATE_FAILED;
	job.n_attempts             = 1;
	job.attempts               = atts;
	job.attempt                = 1;
	job.max_attempts           = 3;

	json_t *j1   = sje__pb_to_json(&job.base);
	char   *text = sje__json_dumps(j1, JSON_COMPACT);
	assert_non_null(text);
	char          field[128], msg[256];
	Sje__V1__Job *back = NULL;
	assert_int_equal(sje__json_to_pb(&sje__v1__job__descriptor, text,
	                     strlen(text), (ProtobufCMessage **) &back, field,
	                     sizeof(field), msg, sizeof(msg)),
	    SJE_OK);
	json_t *j2 = sje__pb_to_json(&back->base);
	assert_true(json_equal(j1, j2));
	assert_string_equal(back->params->text, params.text);
	json_decref(j1);
	json_decref(j2);
	free(text);
	sje__v1__job__free_unpacked(back, NULL);
}

static void
test_json_value_to_pb_prefixes_the_path(void **state)
{
	(void) state;
	char              field[128], msg[256];
	json_error_t      jerr;
	json_t           *v = json_loads("{\"function\":7}", 0, &jerr);
	ProtobufCMessage *m = NULL;
	assert_int_equal(
	    sje__json_value_to_pb(&sje__v1__job_spec__descriptor, v,
	        "tasks[3]", &m, field, sizeof(field), msg, sizeof(msg)),
	    SJE_EINVAL);
	assert_string_equal(field, "tasks[3].function");
	assert_non_null(strstr(msg, "tasks[3].function"));
	json_decref(v);
	// Not an object at all.
	v = json_integer(1);
	assert_int_equal(
	    sje__json_value_to_pb(&sje__v1__job_spec__descriptor, v,
	        "tasks[0]", &m, field, sizeof(field), msg, sizeof(msg)),
	    SJE_EINVAL);
	assert_string_equal(field, "tasks[0]");
	json_decref(v);
	assert_null(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_job_with_every_field_maps_to_the_api_shape),
		cmocka_unit_test(
		    test_absent_messages_and_unset_fields_are_written),
		cmocka_unit_test(test_64_bit_integers_stay_exact),
		cmocka_unit_test(test_json_fields_hold_any_value),
		cmocka_unit_test(
		    test_json_field_with_text_that_is_not_json_renders_as_a_string),
		cmocka_unit_test(
		    test_ill_formed_utf8_renders_with_replacement_characters),
		cmocka_unit_test(
		    test_other_enums_keep_their_names_and_bytes_are_base64),
		cmocka_unit_test(test_nested_repeated_messages_and_maps),
		cmocka_unit_test(test_nan_progress_is_null),
		cmocka_unit_test(
		    test_oneof_repeated_scalars_and_integer_keyed_maps),
		cmocka_unit_test(test_json_valid_accepts_any_single_value),
		cmocka_unit_test(test_json_valid_rejects_bad_text),
		cmocka_unit_test(test_rfc3339_of_known_instants),
		cmocka_unit_test(test_json_to_pb_reads_the_api_job_spec),
		cmocka_unit_test(
		    test_json_to_pb_names_the_field_of_every_refusal),
		cmocka_unit_test(
		    test_json_to_pb_bounds_strings_depth_and_size),
		cmocka_unit_test(test_json_params_round_trip_exactly),
		cmocka_unit_test(
		    test_json_dumps_writes_reals_without_needless_exponents),
		cmocka_unit_test(
		    test_json_to_pb_enums_64_bit_integers_and_timestamps),
		cmocka_unit_test(
		    test_json_to_pb_oneofs_maps_bytes_and_repeated_scalars),
		cmocka_unit_test(
		    test_json_round_trips_a_job_through_both_mappings),
		cmocka_unit_test(test_json_value_to_pb_prefixes_the_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
