// job_test.c — unit tests of the job module (server/store/job.c):
// sje__job_row_to_pb and sje__job_spec_check. The state machine's are in
// jobstate_test.c.
#include <sje/sje.h>

#include "store/job.h"
#include "store/store.h"
#include "util.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// cmocka.h needs these first.
#include <setjmp.h>

#include <cmocka.h>

enum {
	QUEUED = SJE__V1__JOB_STATE__JOB_STATE_QUEUED,
	FAILED = SJE__V1__JOB_STATE__JOB_STATE_FAILED,
};

// --- row -> pb ------------------------------------------------------------

// pack_spec packs spec into a new buffer.
static uint8_t *
pack_spec(const Sje__V1__JobSpec *spec, size_t *len)
{
	uint8_t *buf;

	*len = sje__v1__job_spec__get_packed_size(spec);
	buf  = malloc(*len > 0 ? *len : 1);
	assert_non_null(buf);
	assert_int_equal(sje__v1__job_spec__pack(spec, buf), *len);
	return buf;
}

// job_repack packs and unpacks job: proves it is a consistent message.
static void
job_repack(const Sje__V1__Job *job)
{
	size_t        len = sje__v1__job__get_packed_size(job);
	uint8_t      *buf = malloc(len > 0 ? len : 1);
	Sje__V1__Job *back;

	assert_non_null(buf);
	assert_int_equal(sje__v1__job__pack(job, buf), len);
	back = sje__v1__job__unpack(NULL, len, buf);
	assert_non_null(back);
	assert_string_equal(back->task_id, job->task_id);
	assert_int_equal(back->n_labels, job->n_labels);
	sje__v1__job__free_unpacked(back, NULL);
	free(buf);
}

static void
test_row_to_pb_round_trips_every_field(void **state)
{
	Sje__V1__Json                 params = SJE__V1__JSON__INIT;
	Sje__V1__JobSpec__LabelsEntry l0 =
	    SJE__V1__JOB_SPEC__LABELS_ENTRY__INIT;
	Sje__V1__JobSpec__LabelsEntry l1 =
	    SJE__V1__JOB_SPEC__LABELS_ENTRY__INIT;
	Sje__V1__JobSpec__LabelsEntry *labels[] = { &l0, &l1 };
	char                          *deps[]   = { "parent-a", "parent-b" };
	Sje__V1__JobSpec               spec     = SJE__V1__JOB_SPEC__INIT;
	sje__job_row                   row;
	Sje__V1__Job                  *job = NULL;

	(void) state;
	params.text       = "{\"input_data\":[1,2,3]}";
	l0.key            = "team";
	l0.value          = "search";
	l1.key            = "tier";
	l1.value          = "";
	spec.task_id      = "job-9";
	spec.function     = "calculate_data";
	spec.params       = &params;
	spec.n_depends_on = 2;
	spec.depends_on   = deps;
	spec.timeout_s    = 30;
	spec.n_labels     = 2;
	spec.labels       = labels;

	memset(&row, 0, sizeof(row));
	row.id               = 9;
	row.task_id          = "job-9";
	row.function         = "calculate_data";
	row.spec             = pack_spec(&spec, &row.spec_len);
	row.state            = FAILED;
	row.priority         = -3;
	row.attempt          = 3;
	row.max_attempts     = 3;
	row.timeout_s        = 0; // the spec's then
	row.worker           = "worker-b";
	row.result_json      = "{\"mean\":2}";
	row.error_type       = "timeout";
	row.error_message    = "no answer in 30 s";
	row.progress_pct     = 66.5;
	row.progress_msg     = "2 of 3";
	row.cancel_requested = true;
	row.created_ms       = 1700000000000;
	row.started_ms       = 1700000000100;
	row.finished_ms      = 1700000030100;

	assert_int_equal(sje__job_row_to_pb(&row, &job), SJE_OK);
	assert_non_null(job);
	assert_string_equal(job->task_id, "job-9");
	assert_string_equal(job->function, "calculate_data");
	assert_int_equal(job->state, FAILED);
	assert_non_null(job->params);
	assert_string_equal(job->params->text, "{\"input_data\":[1,2,3]}");
	assert_non_null(job->result);
	assert_string_equal(job->result->text, "{\"mean\":2}");
	assert_non_null(job->error);
	assert_string_equal(job->error->type, "timeout");
	assert_string_equal(job->error->message, "no answer in 30 s");
	assert_int_equal(job->attempt, 3);
	assert_int_equal(job->max_attempts, 3);
	assert_int_equal(job->priority, -3);
	assert_int_equal(job->n_depends_on, 2);
	assert_string_equal(job->depends_on[0], "parent-a");
	assert_string_equal(job->depends_on[1], "parent-b");
	assert_string_equal(job->worker, "worker-b");
	assert_non_null(job->progress);
	assert_true(job->progress->percent == 66.5);
	assert_string_equal(job->progress->message, "2 of 3");
	assert_true(job->cancel_requested);
	assert_non_null(job->created_at);
	assert_true(job->created_at->unix_ms == 1700000000000);
	assert_non_null(job->started_at);
	assert_true(job->started_at->unix_ms == 1700000000100);
	assert_non_null(job->finished_at);
	assert_true(job->finished_at->unix_ms == 1700000030100);
	assert_int_equal(job->timeout_s, 30);
	assert_int_equal(job->n_labels, 2);
	assert_string_equal(job->labels[0]->key, "team");
	assert_string_equal(job->labels[0]->value, "search");
	assert_string_equal(job->labels[1]->key, "tier");
	assert_string_equal(job->labels[1]->value, "");
	job_repack(job);
	protobuf_c_message_free_unpacked(&job->base, NULL);

	// The row's timeout (the effective one) wins over the spec's.
	row.timeout_s = 90;
	assert_int_equal(sje__job_row_to_pb(&row, &job), SJE_OK);
	assert_int_equal(job->timeout_s, 90);
	protobuf_c_message_free_unpacked(&job->base, NULL);
	free(row.spec);
}

static void
test_row_to_pb_leaves_unset_parts_absent(void **state)
{
	Sje__V1__JobSpec spec = SJE__V1__JOB_SPEC__INIT;
	sje__job_row     row;
	Sje__V1__Job    *job = NULL;

	(void) state;
	spec.task_id  = "bare";
	spec.function = "noop";
	memset(&row, 0, sizeof(row));
	row.task_id    = "bare";
	row.function   = "noop";
	row.spec       = pack_spec(&spec, &row.spec_len);
	row.state      = QUEUED;
	row.error_type = ""; // empty counts as unset
	row.created_ms = 5;

	assert_int_equal(sje__job_row_to_pb(&row, &job), SJE_OK);
	assert_null(job->params);
	assert_null(job->result);
	assert_null(job->error);
	assert_null(job->progress);
	assert_non_null(job->created_at);
	assert_null(job->started_at);
	assert_null(job->finished_at);
	assert_int_equal(job->n_depends_on, 0);
	assert_int_equal(job->n_labels, 0);
	assert_string_equal(job->worker, "");
	assert_false(job->cancel_requested);
	job_repack(job);
	protobuf_c_message_free_unpacked(&job->base, NULL);
	free(row.spec);
}

static void
test_row_to_pb_fails_with_eio_on_a_corrupt_spec(void **state)
{
	// Field 1 (task_id), length-delimited, says 100 bytes, has 2.
	uint8_t       bad[] = { 0x0a, 0x64, 'a', 'b' };
	sje__job_row  row;
	Sje__V1__Job *job = (Sje__V1__Job *) &job;

	(void) state;
	memset(&row, 0, sizeof(row));
	row.task_id  = "corrupt";
	row.function = "f";
	row.spec     = bad;
	row.spec_len = sizeof(bad);
	assert_int_equal(sje__job_row_to_pb(&row, &job), SJE_EIO);
	assert_ptr_equal(job, (Sje__V1__Job *) &job); // untouched
}

// --- spec checks ------------------------------------------------------------

// A valid spec, built on the stack by spec_init, that each case spoils.
typedef struct spec_fix {
	Sje__V1__JobSpec               spec;
	Sje__V1__Json                  params;
	Sje__V1__RetryPolicy           retry;
	Sje__V1__JobSpec__LabelsEntry  label[SJE_MAX_LABELS + 1];
	Sje__V1__JobSpec__LabelsEntry *labels[SJE_MAX_LABELS + 1];
	char                          *deps[SJE_MAX_DEPENDS + 1];
	char                           dep_names[SJE_MAX_DEPENDS + 1][16];
	char                           key_names[SJE_MAX_LABELS + 1][16];
	char                          *big; // freed by spec_fini
} spec_fix;

static void
spec_init(spec_fix *f)
{
	memset(f, 0, sizeof(*f));
	sje__v1__job_spec__init(&f->spec);
	sje__v1__json__init(&f->params);
	sje__v1__retry_policy__init(&f->retry);
	for (size_t i = 0; i <= SJE_MAX_DEPENDS; i++) {
		snprintf(
		    f->dep_names[i], sizeof(f->dep_names[i]), "dep-%zu", i);
		f->deps[i] = f->dep_names[i];
	}
	for (size_t i = 0; i <= SJE_MAX_LABELS; i++) {
		snprintf(f->key_names[i], sizeof(f->key_names[i]), "k%zu", i);
		sje__v1__job_spec__labels_entry__init(&f->label[i]);
		f->label[i].key   = f->key_names[i];
		f->label[i].value = "v";
		f->labels[i]      = &f->label[i];
	}
	f->params.text        = "{\"a\":[1,2,{\"b\":null}]}";
	f->retry.max_attempts = 3;
	f->retry.backoff      = "exponential";
	f->spec.task_id       = "job-1";
	f->spec.function      = "resize.image:v2";
	f->spec.params        = &f->params;
	f->spec.depends_on    = f->deps;
	f->spec.n_depends_on  = 2;
	f->spec.timeout_s     = 60;
	f->spec.retry         = &f->retry;
	f->spec.delay_s       = 10;
	f->spec.labels        = f->labels;
	f->spec.n_labels      = 2;
}

// spec_big returns a new string of n copies of c (kept in f->big).
static char *
spec_big(spec_fix *f, size_t n, char c)
{
	free(f->big);
	f->big = malloc(n + 1);
	assert_non_null(f->big);
	memset(f->big, c, n);
	f->big[n] = '\0';
	return f->big;
}

static void
spec_fini(spec_fix *f)
{
	free(f->big);
	f->big = NULL;
}

// Each case spoils the valid spec in one way.
static void
bad_function_empty(spec_fix *f)
{
	f->spec.function = "";
}
static void
bad_function_space(spec_fix *f)
{
	f->spec.function = "a b";
}
static void
bad_function_slash(spec_fix *f)
{
	f->spec.function = "a/b";
}
static void
bad_function_long(spec_fix *f)
{
	f->spec.function = spec_big(f, SJE_MAX_FUNCTION_BYTES + 1, 'f');
}
static void
bad_task_id_char(spec_fix *f)
{
	f->spec.task_id = "x y";
}
static void
bad_task_id_long(spec_fix *f)
{
	f->spec.task_id = spec_big(f, SJE_MAX_ID_BYTES + 1, 't');
}
static void
bad_params_syntax(spec_fix *f)
{
	f->params.text = "{\"a\":";
}
static void
bad_params_empty(spec_fix *f)
{
	f->params.text = "";
}
static void
bad_params_two(spec_fix *f)
{
	f->params.text = "1 2";
}
static void
bad_params_dup_key(spec_fix *f)
{
	f->params.text = "{\"a\":1,\"a\":2}";
}
static void
bad_params_big(spec_fix *f)
{
	// A valid JSON string one byte over the limit.
	char *s                 = spec_big(f, SJE_MAX_PARAMS_BYTES + 1, 'x');
	s[0]                    = '"';
	s[SJE_MAX_PARAMS_BYTES] = '"';
	f->params.text          = s;
}
static void
bad_depends_empty(spec_fix *f)
{
	f->deps[1] = "";
}
static void
bad_depends_char(spec_fix *f)
{
	f->deps[1] = "a,b";
}
static void
bad_depends_self(spec_fix *f)
{
	f->deps[0] = "job-1";
}
static void
bad_depends_dup(spec_fix *f)
{
	f->spec.n_depends_on = 4;
	f->deps[3]           = f->deps[1];
}
static void
bad_depends_many(spec_fix *f)
{
	f->spec.n_depends_on = SJE_MAX_DEPENDS + 1;
}
static void
bad_timeout(spec_fix *f)
{
	f->spec.timeout_s = SJE_JOB_MAX_TIMEOUT_S + 1;
}
static void
bad_delay(spec_fix *f)
{
	f->spec.delay_s = SJE_JOB_MAX_DELAY_S + 1;
}
static void
bad_backoff(spec_fix *f)
{
	f->retry.backoff = "linear";
}
static void
bad_max_attempts(spec_fix *f)
{
	f->retry.max_attempts = SJE_JOB_MAX_ATTEMPTS + 1;
}
static void
bad_delays(spec_fix *f)
{
	f->retry.initial_delay_ms = 5000;
	f->retry.max_delay_ms     = 1000;
}
static void
bad_labels_many(spec_fix *f)
{
	f->spec.n_labels = SJE_MAX_LABELS + 1;
}
static void
bad_label_key_empty(spec_fix *f)
{
	f->label[0].key = "";
}
static void
bad_label_key_char(spec_fix *f)
{
	f->label[1].key = "a=b";
}
static void
bad_label_value_ctl(spec_fix *f)
{
	f->label[0].value = "a\nb";
}
static void
bad_label_value_long(spec_fix *f)
{
	f->label[1].value =
	    spec_big(f, SJE_JOB_MAX_LABEL_VALUE_BYTES + 1, 'v');
}
static void
bad_label_dup(spec_fix *f)
{
	f->label[1].key = "k0";
}

static const struct {
	const char *name;
	void (*spoil)(spec_fix *f);
	const char *field;
} bad_cases[] = {
	{ "empty function", bad_function_empty, "function" },
	{ "space in function", bad_function_space, "function" },
	{ "slash in function", bad_function_slash, "function" },
	{ "long function", bad_function_long, "function" },
	{ "bad task_id char", bad_task_id_char, "task_id" },
	{ "long task_id", bad_task_id_long, "task_id" },
	{ "params not JSON", bad_params_syntax, "params" },
	{ "params empty", bad_params_empty, "params" },
	{ "params two values", bad_params_two, "params" },
	{ "params duplicate key", bad_params_dup_key, "params" },
	{ "params too big", bad_params_big, "params" },
	{ "empty parent", bad_depends_empty, "depends_on[1]" },
	{ "bad parent char", bad_depends_char, "depends_on[1]" },
	{ "depends on itself", bad_depends_self, "depends_on[0]" },
	{ "duplicate parent", bad_depends_dup, "depends_on[3]" },
	{ "too many parents", bad_depends_many, "depends_on" },
	{ "timeout over 7 days", bad_timeout, "timeout_s" },
	{ "delay over a year", bad_delay, "delay_s" },
	{ "unknown backoff", bad_backoff, "retry.backoff" },
	{ "too many attempts", bad_max_attempts, "retry.max_attempts" },
	{ "initial delay above max", bad_delays, "retry.initial_delay_ms" },
	{ "too many labels", bad_labels_many, "labels" },
	{ "empty label key", bad_label_key_empty, "labels[0]" },
	{ "bad label key", bad_label_key_char, "labels[1]" },
	{ "control char in label value", bad_label_value_ctl, "labels[0]" },
	{ "long label value", bad_label_value_long, "labels[1]" },
	{ "duplicate label key", bad_label_dup, "labels[1]" },
};

static void
test_spec_check_accepts_a_valid_spec_and_leaves_the_buffers_alone(void **state)
{
	spec_fix *f = malloc(sizeof(*f));
	char      field[32];
	char      msg[128];

	(void) state;
	assert_non_null(f);
	spec_init(f);
	strcpy(field, "untouched");
	strcpy(msg, "untouched");
	assert_int_equal(sje__job_spec_check(
	                     &f->spec, field, sizeof(field), msg, sizeof(msg)),
	    SJE_OK);
	assert_string_equal(field, "untouched");
	assert_string_equal(msg, "untouched");

	// Limits themselves are allowed; so are absent parts.
	f->spec.task_id       = "";
	f->spec.function      = spec_big(f, SJE_MAX_FUNCTION_BYTES, 'f');
	f->spec.timeout_s     = SJE_JOB_MAX_TIMEOUT_S;
	f->spec.delay_s       = SJE_JOB_MAX_DELAY_S;
	f->spec.n_depends_on  = SJE_MAX_DEPENDS;
	f->spec.n_labels      = SJE_MAX_LABELS;
	f->retry.max_attempts = SJE_JOB_MAX_ATTEMPTS;
	f->retry.backoff      = "fixed";
	f->label[0].key       = "app.example.com/name";
	f->label[0].value     = "";
	assert_int_equal(
	    sje__job_spec_check(&f->spec, NULL, 0, NULL, 0), SJE_OK);
	f->spec.params   = NULL;
	f->spec.retry    = NULL;
	f->retry.backoff = "";
	f->spec.n_labels = 0;
	assert_int_equal(
	    sje__job_spec_check(&f->spec, NULL, 0, NULL, 0), SJE_OK);
	spec_fini(f);
	free(f);
}

static void
test_spec_check_refuses_each_bad_spec_naming_its_field(void **state)
{
	spec_fix *f = malloc(sizeof(*f));
	char      field[32];
	char      msg[256];

	(void) state;
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		spec_init(f);
		bad_cases[i].spoil(f);
		field[0] = msg[0] = '\0';
		sje_err rv        = sje__job_spec_check(
		           &f->spec, field, sizeof(field), msg, sizeof(msg));
		if (rv != SJE_EINVAL ||
		    strcmp(field, bad_cases[i].field) != 0) {
			fail_msg("%s: got %d, field '%s' (%s); want '%s'",
			    bad_cases[i].name, (int) rv, field, msg,
			    bad_cases[i].field);
		}
		// A one-line message, for people.
		assert_true(strlen(msg) > 0);
		assert_null(strchr(msg, '\n'));
		spec_fini(f);
	}
	free(f);
}

static void
test_spec_check_truncates_field_and_message_to_the_buffers(void **state)
{
	spec_fix *f = malloc(sizeof(*f));
	char      field[5];
	char      msg[8];

	(void) state;
	assert_non_null(f);
	spec_init(f);
	bad_delays(f);
	memset(field, 'x', sizeof(field));
	memset(msg, 'x', sizeof(msg));
	assert_int_equal(sje__job_spec_check(
	                     &f->spec, field, sizeof(field), msg, sizeof(msg)),
	    SJE_EINVAL);
	assert_string_equal(field, "retr");
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
	// No buffers at all is fine too.
	assert_int_equal(
	    sje__job_spec_check(&f->spec, NULL, 0, NULL, 0), SJE_EINVAL);
	spec_fini(f);
	free(f);
}

static void
test_job_id_valid_accepts_the_id_alphabet_only(void **state)
{
	char long_id[SJE_MAX_ID_BYTES + 2];

	(void) state;
	assert_true(sje__job_id_valid("a-Z_0.9:x"));
	assert_false(sje__job_id_valid(""));
	assert_false(sje__job_id_valid(NULL));
	assert_false(sje__job_id_valid("a b"));
	assert_false(sje__job_id_valid("caf\xc3\xa9"));
	memset(long_id, 'a', sizeof(long_id));
	long_id[SJE_MAX_ID_BYTES] = '\0';
	assert_true(sje__job_id_valid(long_id));
	long_id[SJE_MAX_ID_BYTES]     = 'a';
	long_id[SJE_MAX_ID_BYTES + 1] = '\0';
	assert_false(sje__job_id_valid(long_id));
}

static void
test_a_field_is_named_plainly_alone_and_by_index_in_a_batch(void **state)
{
	(void) state;
	char buf[64];
	sje__job_field(buf, sizeof(buf), NULL, 0, "task_id");
	assert_string_equal(buf, "task_id");
	sje__job_field(buf, sizeof(buf), "jobs", 2, "function");
	assert_string_equal(buf, "jobs[2].function");
	sje__job_field(buf, sizeof(buf), "jobs", 7, NULL);
	assert_string_equal(buf, "jobs[7]");
	sje__job_field(buf, sizeof(buf), NULL, 3, NULL);
	assert_string_equal(buf, "");
	sje__job_field(buf, 6, "jobs", 12, "depends_on");
	assert_string_equal(buf, "jobs[");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_to_pb_round_trips_every_field),
		cmocka_unit_test(
		    test_a_field_is_named_plainly_alone_and_by_index_in_a_batch),
		cmocka_unit_test(test_row_to_pb_leaves_unset_parts_absent),
		cmocka_unit_test(
		    test_row_to_pb_fails_with_eio_on_a_corrupt_spec),
		cmocka_unit_test(
		    test_spec_check_accepts_a_valid_spec_and_leaves_the_buffers_alone),
		cmocka_unit_test(
		    test_spec_check_refuses_each_bad_spec_naming_its_field),
		cmocka_unit_test(
		    test_spec_check_truncates_field_and_message_to_the_buffers),
		cmocka_unit_test(
		    test_job_id_valid_accepts_the_id_alphabet_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
