// worker_slots_test — the worker's ledger of leased tasks (worker/slots.c),
// the heartbeat's snapshot of it (worker/heartbeat.c) and the fetch
// thread's slot arithmetic (worker/fetch.c), on real tasks made from
// assignments as a Fetch reply carries them. The threads themselves run
// against a coordinator: integration.end_to_end, exec, semantics and
// worker_reconnect cover them.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fetch.h"
#include "heartbeat.h"
#include "slots.h"
#include "task.h"
#include "util.h"

#include <string.h>

// leased makes a task of an assignment for task_id under lease.
static sje_task *
leased(const char *task_id, uint64_t lease)
{
	Sje__V1__Assignment a = SJE__V1__ASSIGNMENT__INIT;
	sje_task           *t = NULL;

	a.task_id  = (char *) task_id;
	a.function = "echo";
	a.lease_id = lease;
	a.attempt  = 1;
	assert_int_equal(sje__task_alloc(&a, NULL, &t), SJE_OK);
	return t;
}

// ledger_free empties s, freeing its tasks.
static void
ledger_free(sje__slots *s)
{
	sje_task *t;

	while ((t = s->jobs) != NULL) {
		sje__slots_remove(s, t);
		sje__task_free(t);
	}
}

// lease_three adds tasks a, b and c (leases 1, 2, 3) to s, in that order.
static void
lease_three(sje__slots *s, sje_task **a, sje_task **b, sje_task **c)
{
	*a = leased("a", 1);
	*b = leased("b", 2);
	*c = leased("c", 3);
	assert_true(sje__slots_add(s, *a));
	assert_true(sje__slots_add(s, *b));
	assert_true(sje__slots_add(s, *c));
}

static void
test_slots_hand_out_tasks_oldest_first_and_count_them_busy(void **state)
{
	(void) state;
	sje__slots s = { 0 };
	sje_task  *a, *b, *c;

	lease_three(&s, &a, &b, &c);
	assert_int_equal(s.busy, 3);
	assert_ptr_equal(sje__slots_take(&s), a);
	assert_true(a->started);
	assert_false(b->started);
	assert_ptr_equal(sje__slots_take(&s), b);
	assert_int_equal(s.busy, 3); // taken tasks stay leased
	sje__slots_remove(&s, a);
	sje__task_free(a);
	assert_int_equal(s.busy, 2);
	assert_ptr_equal(sje__slots_take(&s), c);
	assert_null(sje__slots_take(&s));
	assert_null(s.q_tail);
	ledger_free(&s);
	assert_int_equal(s.busy, 0);
	assert_null(s.jobs);
}

static void
test_slots_refuse_a_lease_received_twice(void **state)
{
	(void) state;
	sje__slots s     = { 0 };
	sje_task  *first = leased("job", 7);
	sje_task  *again = leased("job", 7);
	sje_task  *other = leased("job", 8); // a new lease of the same job

	assert_true(sje__slots_add(&s, first));
	assert_false(sje__slots_add(&s, again));
	assert_int_equal(s.busy, 1);
	sje__task_free(again);
	assert_true(sje__slots_add(&s, other));
	assert_int_equal(s.busy, 2);
	ledger_free(&s);
}

static void
test_slots_remove_unlinks_from_anywhere_in_the_ledger(void **state)
{
	(void) state;
	sje__slots s = { 0 };
	sje_task  *a, *b, *c;

	lease_three(&s, &a, &b, &c);
	while (sje__slots_take(&s) != NULL) { }
	sje__slots_remove(&s, b); // the middle
	sje__task_free(b);
	assert_int_equal(s.busy, 2);
	assert_ptr_equal(s.jobs, c);
	assert_ptr_equal(c->next, a);
	assert_ptr_equal(a->prev, c);
	sje__slots_remove(&s, c); // the head
	sje__task_free(c);
	assert_ptr_equal(s.jobs, a);
	assert_null(a->prev);
	ledger_free(&s);
}

static void
test_slots_cancel_stops_every_lease_of_the_job_once(void **state)
{
	(void) state;
	sje__slots s = { 0 };
	sje_task  *a = leased("job", 1), *b = leased("job", 2);
	sje_task  *c = leased("other", 3);

	assert_true(sje__slots_add(&s, a));
	assert_true(sje__slots_add(&s, b));
	assert_true(sje__slots_add(&s, c));
	assert_int_equal(sje__slots_cancel(&s, "job", SJE__CANCEL_SERVER), 2);
	assert_int_equal(a->cancel, SJE__CANCEL_SERVER);
	assert_int_equal(b->cancel, SJE__CANCEL_SERVER);
	assert_int_equal(c->cancel, SJE__CANCEL_NONE);
	// The first reason wins: a lost lease after a cancel changes nothing.
	assert_int_equal(sje__slots_cancel(&s, "job", SJE__CANCEL_LOST), 0);
	assert_int_equal(a->cancel, SJE__CANCEL_SERVER);
	assert_int_equal(sje__slots_cancel(&s, "nobody", SJE__CANCEL_LOST), 0);
	ledger_free(&s);
}

static void
test_heartbeat_snapshot_copies_every_lease_and_its_progress(void **state)
{
	(void) state;
	sje__slots       s = { 0 };
	sje_task        *a = leased("a", 11), *b = leased("b", 12);
	sje__hb_snapshot snap;

	assert_true(sje__slots_add(&s, a));
	assert_true(sje__slots_add(&s, b));
	sje__task_host_api()->progress(a, 40.0, "loading");
	sje__hb_snapshot_init(&s, &snap, 99);
	assert_int_equal(snap.req.session, 99);
	assert_int_equal(snap.req.n_running, 2);
	// The ledger lists the newest first.
	assert_string_equal(snap.req.running[0]->task_id, "b");
	assert_int_equal(snap.req.running[0]->lease_id, 12);
	assert_string_equal(snap.req.running[1]->task_id, "a");
	assert_int_equal(snap.req.running[1]->lease_id, 11);
	assert_true(snap.req.running[1]->progress->percent == 40.0);
	assert_string_equal(snap.req.running[1]->progress->message, "loading");
	// The snapshot lives on after its tasks are gone.
	ledger_free(&s);
	assert_string_equal(snap.req.running[0]->task_id, "b");
	sje__hb_snapshot_fini(&snap);
	assert_int_equal(snap.n, 0);
}

static void
test_heartbeat_snapshot_of_an_idle_worker_names_no_job(void **state)
{
	(void) state;
	sje__slots       s = { 0 };
	sje__hb_snapshot snap;

	sje__hb_snapshot_init(&s, &snap, 5);
	assert_int_equal(snap.req.session, 5);
	assert_int_equal(snap.req.n_running, 0);
	sje__hb_snapshot_fini(&snap);
}

static void
test_fetch_gathers_only_while_fewer_than_half_the_slots_are_free(void **state)
{
	(void) state;
	assert_false(sje__fetch_should_gather(8, 0)); // idle: at once
	assert_false(sje__fetch_should_gather(8, 4)); // half free
	assert_true(sje__fetch_should_gather(8, 5));
	assert_true(sje__fetch_should_gather(8, 7));
	assert_false(sje__fetch_should_gather(1, 0));
	assert_false(sje__fetch_should_gather(2, 1));
	assert_true(sje__fetch_should_gather(3, 2));
}

static void
test_fetch_awaits_short_running_jobs_only_after_draining_the_queue(
    void **state)
{
	(void) state;
	const uint32_t seen = SJE__FETCH_RUNS_SEEN;
	assert_true(sje__fetch_should_await(true, 1, 0.01, seen));
	assert_true(sje__fetch_should_await(true, 8, 0.9, seen));
	// The coordinator had more: fetch at once, the jobs keep coming.
	assert_false(sje__fetch_should_await(false, 1, 0.01, seen));
	// Nothing runs; or the jobs are long, or not known yet.
	assert_false(sje__fetch_should_await(true, 0, 0.01, seen));
	assert_false(
	    sje__fetch_should_await(true, 1, SJE__FETCH_AWAIT_MS, seen));
	assert_false(sje__fetch_should_await(true, 1, 0.01, seen - 1));
}

static void
test_fetch_asks_for_the_free_slots_up_to_the_call_limit(void **state)
{
	(void) state;
	assert_int_equal(sje__fetch_max_jobs(8, 3), 5);
	assert_int_equal(sje__fetch_max_jobs(1, 0), 1);
	assert_int_equal(sje__fetch_max_jobs(4, 4), 0);
	assert_int_equal(sje__fetch_max_jobs(SJE_MAX_JOBS_PER_CALL + 50, 0),
	    SJE_MAX_JOBS_PER_CALL);
}

static void
test_fetch_prefetches_nothing_until_enough_jobs_ran(void **state)
{
	(void) state;
	assert_int_equal(
	    sje__fetch_extra(1, 0.0, SJE__FETCH_RUNS_SEEN - 1), 0);
	assert_int_equal(sje__fetch_extra(1, 0.0, SJE__FETCH_RUNS_SEEN),
	    SJE__FETCH_PREFETCH_MAX);
}

static void
test_fetch_prefetches_what_the_slots_run_in_the_window(void **state)
{
	(void) state;
	uint32_t seen = SJE__FETCH_RUNS_SEEN;
	// 1 slot of 2.5 ms jobs: 4 in 10 ms; 2 slots: 8.
	assert_int_equal(sje__fetch_extra(1, 2.5, seen), 4);
	assert_int_equal(sje__fetch_extra(2, 2.5, seen), 8);
	// Jobs as long as the window or longer: none ahead.
	assert_int_equal(sje__fetch_extra(1, 10.5, seen), 0);
	assert_int_equal(sje__fetch_extra(4, 1000.0, seen), 0);
	// Never more than the cap.
	assert_int_equal(
	    sje__fetch_extra(8, 0.01, seen), SJE__FETCH_PREFETCH_MAX);
}

static void
test_fetch_average_is_the_mean_at_first_then_follows_recent_runs(void **state)
{
	(void) state;
	double   avg  = 0;
	uint32_t seen = 0;
	for (; seen < SJE__FETCH_RUNS_SEEN; seen++) {
		avg = sje__fetch_average(avg, seen, seen % 2 == 0 ? 1.0 : 3.0);
	}
	assert_true(avg > 1.99 && avg < 2.01);
	// A run of long jobs soon moves it past the window.
	for (int i = 0; i < 40; i++) {
		avg = sje__fetch_average(avg, seen, 100.0);
	}
	assert_true(avg > SJE__FETCH_PREFETCH_WINDOW_MS);
	assert_int_equal(sje__fetch_extra(1, avg, seen), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_slots_hand_out_tasks_oldest_first_and_count_them_busy),
		cmocka_unit_test(test_slots_refuse_a_lease_received_twice),
		cmocka_unit_test(
		    test_slots_remove_unlinks_from_anywhere_in_the_ledger),
		cmocka_unit_test(
		    test_slots_cancel_stops_every_lease_of_the_job_once),
		cmocka_unit_test(
		    test_heartbeat_snapshot_copies_every_lease_and_its_progress),
		cmocka_unit_test(
		    test_heartbeat_snapshot_of_an_idle_worker_names_no_job),
		cmocka_unit_test(
		    test_fetch_gathers_only_while_fewer_than_half_the_slots_are_free),
		cmocka_unit_test(
		    test_fetch_awaits_short_running_jobs_only_after_draining_the_queue),
		cmocka_unit_test(
		    test_fetch_asks_for_the_free_slots_up_to_the_call_limit),
		cmocka_unit_test(
		    test_fetch_prefetches_nothing_until_enough_jobs_ran),
		cmocka_unit_test(
		    test_fetch_prefetches_what_the_slots_run_in_the_window),
		cmocka_unit_test(
		    test_fetch_average_is_the_mean_at_first_then_follows_recent_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
