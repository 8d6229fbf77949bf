// worker_report_test — the worker's outcome queue, how a batch is taken
// from it and sorted by call, and how the coordinator's per-outcome answer
// is read (worker/report.c). Sending, retrying and falling back from
// Release need a coordinator: integration.worker_reconnect (reports
// flushed across a restart), worker_fencing and semantics cover them.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "report.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// success is an outcome with a result of n bytes.
static sje__outcome *
success(const char *task_id, size_t n)
{
	sje__outcome *o = calloc(1, sizeof(*o));
	assert_non_null(o);
	o->task_id = sje__strdup(task_id);
	o->ok      = true;
	o->state   = "SUCCEEDED";
	o->result  = malloc(n + 1);
	assert_non_null(o->result);
	memset(o->result, '1', n);
	o->result[n] = '\0';
	return o;
}

// failure is an outcome with an error message of n bytes; release makes
// it a job handed back.
static sje__outcome *
failure(const char *task_id, size_t n, bool release)
{
	sje__outcome *o = calloc(1, sizeof(*o));
	assert_non_null(o);
	o->task_id    = sje__strdup(task_id);
	o->release    = release;
	o->state      = "FAILED";
	o->error_type = sje__strdup(release ? "interrupted" : "error");
	o->error_msg  = malloc(n + 1);
	assert_non_null(o->error_msg);
	memset(o->error_msg, 'e', n);
	o->error_msg[n] = '\0';
	return o;
}

static void
batch_free(sje__outcome *o)
{
	while (o != NULL) {
		sje__outcome *next = o->next;
		sje__outcome_free(o);
		o = next;
	}
}

static void
queue_free(sje__outq *q)
{
	batch_free(q->head);
	q->head = q->tail = NULL;
}

static void
test_outq_take_returns_everything_queued_in_order(void **state)
{
	(void) state;
	sje__outq q = { 0 };
	size_t    n = 99;

	assert_null(sje__outq_take(&q, 10, 1000, &n));
	assert_int_equal(n, 99); // untouched when empty
	sje__outq_push(&q, success("a", 1));
	sje__outq_push(&q, failure("b", 1, false));
	sje__outq_push(&q, success("c", 1));
	sje__outcome *b = sje__outq_take(&q, 10, 1000, &n);
	assert_int_equal(n, 3);
	assert_string_equal(b->task_id, "a");
	assert_string_equal(b->next->task_id, "b");
	assert_string_equal(b->next->next->task_id, "c");
	assert_null(b->next->next->next);
	assert_null(q.head);
	assert_null(q.tail);
	batch_free(b);
}

static void
test_outq_take_stops_at_the_count_cap_and_keeps_the_rest(void **state)
{
	(void) state;
	sje__outq q = { 0 };
	size_t    n;
	char      id[8];

	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		sje__outq_push(&q, success(id, 1));
	}
	sje__outcome *b = sje__outq_take(&q, 2, 1000, &n);
	assert_int_equal(n, 2);
	assert_null(b->next->next);
	assert_string_equal(q.head->task_id, "t2");
	batch_free(b);
	// Pushing after a partial take appends behind what stayed.
	sje__outq_push(&q, success("t5", 1));
	b = sje__outq_take(&q, 10, 1000, &n);
	assert_int_equal(n, 4);
	assert_string_equal(b->task_id, "t2");
	batch_free(b);
	assert_null(q.tail);
}

static void
test_outq_take_stops_before_the_byte_cap_but_takes_one_at_least(void **state)
{
	(void) state;
	sje__outq q = { 0 };
	size_t    n;

	sje__outq_push(&q, success("big", 500)); // alone over the cap
	sje__outq_push(&q, success("a", 40));
	sje__outq_push(&q, failure("b", 40, false)); // error bytes count
	sje__outq_push(&q, success("c", 30));
	sje__outcome *b = sje__outq_take(&q, 10, 100, &n);
	assert_int_equal(n, 1);
	assert_string_equal(b->task_id, "big");
	batch_free(b);
	b = sje__outq_take(&q, 10, 100, &n); // 40 + 40, then 30 is too many
	assert_int_equal(n, 2);
	assert_string_equal(b->next->task_id, "b");
	batch_free(b);
	b = sje__outq_take(&q, 10, 100, &n);
	assert_int_equal(n, 1);
	assert_string_equal(b->task_id, "c");
	batch_free(b);
	queue_free(&q);
}

static void
test_report_sort_puts_each_outcome_with_its_call_in_order(void **state)
{
	(void) state;
	sje__outq     q = { 0 };
	sje__outcome *oks[5], *fails[5], *rels[5];
	size_t        n, n_ok, n_fail, n_rel;

	sje__outq_push(&q, success("ok1", 1));
	sje__outq_push(&q, failure("rel1", 1, true));
	sje__outq_push(&q, failure("fail1", 1, false));
	sje__outq_push(&q, success("ok2", 1));
	sje__outq_push(&q, failure("rel2", 1, true));
	sje__outcome *b = sje__outq_take(&q, 10, 1000, &n);
	sje__report_sort(b, false, oks, &n_ok, fails, &n_fail, rels, &n_rel);
	assert_int_equal(n_ok, 2);
	assert_int_equal(n_fail, 1);
	assert_int_equal(n_rel, 2);
	assert_string_equal(oks[0]->task_id, "ok1");
	assert_string_equal(oks[1]->task_id, "ok2");
	assert_string_equal(fails[0]->task_id, "fail1");
	assert_string_equal(rels[0]->task_id, "rel1");
	assert_string_equal(rels[1]->task_id, "rel2");
	batch_free(b);
}

static void
test_report_sort_fails_jobs_handed_back_when_there_is_no_release(void **state)
{
	(void) state;
	sje__outq     q = { 0 };
	sje__outcome *oks[3], *fails[3], *rels[3];
	size_t        n, n_ok, n_fail, n_rel;

	sje__outq_push(&q, failure("rel", 1, true));
	sje__outq_push(&q, failure("fail", 1, false));
	sje__outq_push(&q, success("ok", 1));
	sje__outcome *b = sje__outq_take(&q, 10, 1000, &n);
	sje__report_sort(b, true, oks, &n_ok, fails, &n_fail, rels, &n_rel);
	assert_int_equal(n_rel, 0);
	assert_int_equal(n_fail, 2);
	assert_string_equal(fails[0]->task_id, "rel");
	assert_string_equal(fails[1]->task_id, "fail");
	assert_int_equal(n_ok, 1);
	batch_free(b);
}

static void
test_report_answered_turns_a_refused_result_into_a_failure(void **state)
{
	(void) state;
	sje__outcome        *outs[4] = { success("ok", 1), success("bad", 1),
		       success("big", 1), success("gone", 1) };
	sje__outcome        *refused[4];
	size_t               n_refused = 0;
	Sje__V1__StatusCode  codes[]   = { SJE__V1__STATUS_CODE__OK,
		   SJE__V1__STATUS_CODE__INVALID_ARGUMENT,
		   SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED,
		   SJE__V1__STATUS_CODE__FAILED_PRECONDITION };
	Sje__V1__ReportReply reply     = SJE__V1__REPORT_REPLY__INIT;
	reply.accepted                 = codes;
	reply.n_accepted               = 4;

	sje__report_answered(outs, 4, &reply, refused, &n_refused);
	assert_int_equal(n_refused, 2);
	assert_ptr_equal(refused[0], outs[1]);
	assert_ptr_equal(refused[1], outs[2]);
	assert_false(outs[1]->ok);
	assert_string_equal(outs[1]->error_type, "invalid_result");
	assert_non_null(strstr(outs[1]->error_msg, "INVALID_ARGUMENT"));
	assert_non_null(strstr(outs[2]->error_msg, "RESOURCE_EXHAUSTED"));
	// Accepted, and refused for good (a lease that moved): left alone.
	assert_true(outs[0]->ok);
	assert_true(outs[3]->ok);
	for (int i = 0; i < 4; i++) {
		sje__outcome_free(outs[i]);
	}
}

static void
test_report_answered_retries_nothing_for_fail_or_a_short_answer(void **state)
{
	(void) state;
	sje__outcome *outs[2] = { failure("f", 1, false), success("s", 1) };
	Sje__V1__StatusCode codes[] = {
		SJE__V1__STATUS_CODE__INVALID_ARGUMENT
	};
	Sje__V1__ReportReply reply = SJE__V1__REPORT_REPLY__INIT;
	reply.accepted             = codes;
	reply.n_accepted           = 1; // the second outcome got no answer

	// Without a refused list (Fail, Release) nothing is turned over.
	sje__report_answered(outs, 2, &reply, NULL, NULL);
	assert_string_equal(outs[0]->error_type, "error");
	assert_true(outs[1]->ok);
	// A failure whose error is refused is not turned into anything.
	sje__outcome *refused[2];
	size_t        n_refused = 0;
	sje__report_answered(outs, 2, &reply, refused, &n_refused);
	assert_int_equal(n_refused, 0);
	assert_true(outs[1]->ok); // UNKNOWN is not a refused result
	sje__outcome_free(outs[0]);
	sje__outcome_free(outs[1]);
}

static void
test_outq_take_carried_skips_jobs_handed_back_and_keeps_them_in_order(
    void **state)
{
	(void) state;
	sje__outq q = { 0 };
	size_t    n = 0;

	sje__outq_push(&q, failure("r1", 1, true));
	sje__outq_push(&q, success("a", 1));
	sje__outq_push(&q, failure("r2", 1, true));
	sje__outq_push(&q, failure("b", 1, false));
	assert_true(sje__outq_has_release(&q));
	sje__outcome *b = sje__outq_take_carried(&q, 10, 1000, &n);
	assert_int_equal(n, 2);
	assert_string_equal(b->task_id, "a");
	assert_string_equal(b->next->task_id, "b");
	assert_null(b->next->next);
	assert_string_equal(q.head->task_id, "r1");
	assert_string_equal(q.head->next->task_id, "r2");
	assert_ptr_equal(q.tail, q.head->next);
	assert_null(q.tail->next);
	// Only releases left: nothing to carry.
	assert_null(sje__outq_take_carried(&q, 10, 1000, &n));
	// A push after the take goes to the tail.
	sje__outq_push(&q, success("c", 1));
	assert_string_equal(q.tail->task_id, "c");
	batch_free(b);
	queue_free(&q);
	assert_false(sje__outq_has_release(&q));
}

static void
test_outq_take_carried_stops_at_the_count_cap(void **state)
{
	(void) state;
	sje__outq q = { 0 };
	size_t    n = 0;

	sje__outq_push(&q, success("a", 1));
	sje__outq_push(&q, success("b", 1));
	sje__outq_push(&q, success("c", 1));
	sje__outcome *b = sje__outq_take_carried(&q, 2, 1000, &n);
	assert_int_equal(n, 2);
	assert_string_equal(q.head->task_id, "c");
	assert_ptr_equal(q.tail, q.head);
	batch_free(b);
	queue_free(&q);
}

static void
test_outq_requeue_puts_a_batch_back_at_the_head_in_order(void **state)
{
	(void) state;
	sje__outq q = { 0 };
	size_t    n = 0;

	sje__outq_push(&q, success("a", 1));
	sje__outq_push(&q, success("b", 1));
	sje__outcome *b = sje__outq_take(&q, 10, 1000, &n);
	assert_null(q.head);
	sje__outq_push(&q, success("c", 1));
	sje__outq_requeue(&q, b);
	assert_string_equal(q.head->task_id, "a");
	assert_string_equal(q.head->next->task_id, "b");
	assert_string_equal(q.head->next->next->task_id, "c");
	assert_string_equal(q.tail->task_id, "c");
	queue_free(&q);
	// Into an empty queue, the batch's last becomes the tail.
	sje__outq_push(&q, success("d", 1));
	b = sje__outq_take(&q, 10, 1000, &n);
	sje__outq_requeue(&q, b);
	assert_ptr_equal(q.tail, q.head);
	queue_free(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_outq_take_returns_everything_queued_in_order),
		cmocka_unit_test(
		    test_outq_take_stops_at_the_count_cap_and_keeps_the_rest),
		cmocka_unit_test(
		    test_outq_take_stops_before_the_byte_cap_but_takes_one_at_least),
		cmocka_unit_test(
		    test_report_sort_puts_each_outcome_with_its_call_in_order),
		cmocka_unit_test(
		    test_report_sort_fails_jobs_handed_back_when_there_is_no_release),
		cmocka_unit_test(
		    test_report_answered_turns_a_refused_result_into_a_failure),
		cmocka_unit_test(
		    test_report_answered_retries_nothing_for_fail_or_a_short_answer),
		cmocka_unit_test(
		    test_outq_take_carried_skips_jobs_handed_back_and_keeps_them_in_order),
		cmocka_unit_test(
		    test_outq_take_carried_stops_at_the_count_cap),
		cmocka_unit_test(
		    test_outq_requeue_puts_a_batch_back_at_the_head_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
