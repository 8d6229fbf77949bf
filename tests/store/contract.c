// contract.c — the store contract: one set of cases that every backend of
// store.h must pass, run once per backend (the first argument: "sqlite",
// a store in a fresh temporary directory per case; "postgres", a store in
// the real PostgreSQL whose connection string the file named by
// $SJE_TEST_PG_DSN_FILE holds (tests/support/pg.sh), its schema dropped
// before each case; or "memory"). Cases that reopen a store run where the
// backend outlives a close (SQLite, PostgreSQL) and are skipped
// elsewhere.
#include <sje/sje.h>

#include "memstore.h"
#include "sje/v1/job.pb-c.h"
#include "store/store.h"
#include "tmpdir.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// cmocka.h needs these first.
#include <setjmp.h>

#include <cmocka.h>

#include <libpq-fe.h>

enum {
	PENDING   = 1,
	SCHEDULED = 2,
	QUEUED    = 3,
	RUNNING   = 4,
	SUCCEEDED = 5,
	FAILED    = 6
};

static enum { B_SQLITE, B_POSTGRES, B_MEMORY } backend;
static char pg_dsn[1024]; // PostgreSQL's connection string

typedef struct fixture {
	char        dir[512]; // SQLite's directory
	sje__store *store;
} fixture;

static sje_err
fixture_open(fixture *f)
{
	if (backend == B_MEMORY) {
		return sje__memstore_open(&f->store);
	}
	if (backend == B_POSTGRES) {
		sje__store_postgres_opts o = { .dsn = pg_dsn };
		return sje__store_open_postgres(&o, &f->store);
	}
	sje__store_sqlite_opts o = { .directory = f->dir,
		.sync                           = SJE_SYNC_NORMAL };
	return sje__store_open_sqlite(&o, &f->store);
}

// pg_fresh empties the database (its public schema), so that the case
// starts from no store at all; false with a line on stderr.
static bool
pg_fresh(void)
{
	PGconn *c  = PQconnectdb(pg_dsn);
	bool    ok = PQstatus(c) == CONNECTION_OK;
	if (ok) {
		PGresult *r = PQexec(c,
		    "SET client_min_messages = warning; "
		    "DROP SCHEMA public CASCADE; "
		    "CREATE SCHEMA public");
		ok          = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
	}
	if (!ok) {
		fprintf(stderr, "contract: cannot reset the database: %s",
		    PQerrorMessage(c));
	}
	PQfinish(c);
	return ok;
}

// pg_dsn_read reads the connection string from $SJE_TEST_PG_DSN_FILE.
static bool
pg_dsn_read(void)
{
	const char *path = getenv("SJE_TEST_PG_DSN_FILE");
	FILE       *fp   = path != NULL ? fopen(path, "r") : NULL;
	bool        ok   = fp != NULL && fgets(pg_dsn, sizeof(pg_dsn), fp);
	if (fp != NULL) {
		fclose(fp);
	}
	pg_dsn[strcspn(pg_dsn, "\n")] = '\0';
	if (!ok || pg_dsn[0] == '\0') {
		fprintf(stderr,
		    "contract: SJE_TEST_PG_DSN_FILE names no "
		    "connection string (tests/support/pg.sh "
		    "start writes one)\n");
		return false;
	}
	return true;
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	if ((backend == B_SQLITE &&
	        !sje_test_tmpdir_make(
	            f->dir, sizeof(f->dir), "sje-contract")) ||
	    (backend == B_POSTGRES && !pg_fresh()) ||
	    fixture_open(f) != SJE_OK) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f  = *state;
	bool     ok = true;

	sje__store_close(f->store);
	if (backend == B_SQLITE) {
		ok = sje_test_tmpdir_remove(f->dir);
	}
	free(f);
	return ok ? 0 : -1;
}

// reopen closes and opens the store again; skips the case on a backend
// whose data ends with its handle.
static void
reopen(fixture *f)
{
	if (backend == B_MEMORY) {
		skip();
	}
	sje__store_close(f->store);
	f->store = NULL;
	assert_int_equal(fixture_open(f), SJE_OK);
}

// A spec blob with a NUL and high bytes in it: the store keeps bytes.
static const uint8_t spec_bytes[] = { 0x0a, 0x03, 'j', '-', '1', 0x00, 0xff,
	0x12, 0x04, 'e', 'c', 'h', 'o' };

// full_row returns a row with every field set to a distinct value; its
// strings are literals (not to be freed).
static sje__job_row
full_row(const char *task_id, const char *function, int state)
{
	sje__job_row r = {
		.id               = 0,
		.task_id          = (char *) task_id,
		.function         = (char *) function,
		.spec             = (uint8_t *) spec_bytes,
		.spec_len         = sizeof(spec_bytes),
		.state            = state,
		.priority         = -7,
		.attempt          = 2,
		.max_attempts     = 5,
		.timeout_s        = 3600,
		.lease_id         = UINT64_MAX - 1, // above INT64_MAX
		.lease_expires_ms = 1700000001234,
		.ready_at_ms      = 1700000005678,
		.worker           = "worker-a",
		.result_json      = "{\"ok\":true,\"n\":[1,2,3]}",
		.error_type       = "timeout",
		.error_message    = "took too long: \xc3\xa9t\xc3\xa9",
		.progress_pct     = 42.5,
		.progress_msg     = "half way",
		.cancel_requested = true,
		.created_ms       = 1700000000000,
		.started_ms       = 1700000000500,
		.finished_ms      = 1700000009999,
		.workflow_id      = "run-1",
	};
	return r;
}

// min_row returns a row with every optional field unset (NULL, 0).
static sje__job_row
min_row(const char *task_id, const char *function, int state)
{
	sje__job_row r = {
		.task_id  = (char *) task_id,
		.function = (char *) function,
		.spec     = (uint8_t *) spec_bytes,
		.spec_len = sizeof(spec_bytes),
		.state    = state,
	};
	return r;
}

static void
assert_str_or_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		assert_null(a);
		assert_null(b);
	} else {
		assert_string_equal(a, b);
	}
}

// assert_rows_equal compares every field but id.
static void
assert_rows_equal(const sje__job_row *a, const sje__job_row *b)
{
	assert_str_or_null(a->task_id, b->task_id);
	assert_str_or_null(a->function, b->function);
	assert_int_equal(a->spec_len, b->spec_len);
	if (a->spec_len > 0) {
		assert_memory_equal(a->spec, b->spec, a->spec_len);
	}
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->attempt, b->attempt);
	assert_int_equal(a->max_attempts, b->max_attempts);
	assert_int_equal(a->timeout_s, b->timeout_s);
	assert_true(a->lease_id == b->lease_id);
	assert_true(a->lease_expires_ms == b->lease_expires_ms);
	assert_true(a->ready_at_ms == b->ready_at_ms);
	assert_str_or_null(a->worker, b->worker);
	assert_str_or_null(a->result_json, b->result_json);
	assert_str_or_null(a->error_type, b->error_type);
	assert_str_or_null(a->error_message, b->error_message);
	assert_true(a->progress_pct == b->progress_pct);
	assert_str_or_null(a->progress_msg, b->progress_msg);
	assert_int_equal(a->cancel_requested, b->cancel_requested);
	assert_true(a->created_ms == b->created_ms);
	assert_true(a->started_ms == b->started_ms);
	assert_true(a->finished_ms == b->finished_ms);
	assert_str_or_null(a->workflow_id, b->workflow_id);
}

static int64_t
insert(sje__store *s, const sje__job_row *row)
{
	int64_t id = -1;
	assert_int_equal(sje__store_insert_job(s, row, &id), SJE_OK);
	assert_true(id > 0);
	return id;
}

// get reads task_id, which must exist (caller frees).
static sje__job_row *
get(sje__store *s, const char *task_id)
{
	sje__job_row *row = NULL;
	assert_int_equal(sje__store_get_job(s, task_id, &row), SJE_OK);
	return row;
}

// get_id is the id of task_id, which must exist.
static int64_t
get_id(sje__store *s, const char *task_id)
{
	sje__job_row *row = get(s, task_id);
	int64_t       id  = row->id;
	sje__job_row_free(row);
	return id;
}

static const sje__job_expect any = { .state = 0, .lease_id = 0 };

// ---- insert and read -------------------------------------------------

static void
test_insert_then_get_by_task_id_and_id_round_trips_every_field(void **state)
{
	fixture      *f    = *state;
	sje__job_row  full = full_row("job-1", "resize", 4);
	sje__job_row  min  = min_row("job-2", "noop", 3);
	sje__job_row *got  = NULL;
	int64_t       id1  = insert(f->store, &full);
	int64_t       id2  = insert(f->store, &min);

	assert_true(id2 > id1);
	got = get(f->store, "job-1");
	assert_true(got->id == id1);
	assert_rows_equal(got, &full);
	sje__job_row_free(got);

	assert_int_equal(
	    sje__store_get_job_by_id(f->store, id1, &got), SJE_OK);
	assert_true(got->id == id1);
	assert_rows_equal(got, &full);
	sje__job_row_free(got);

	// NULL strings stay NULL; zeros stay zero.
	got = get(f->store, "job-2");
	assert_true(got->id == id2);
	assert_rows_equal(got, &min);
	sje__job_row_free(got);
}

static void
test_insert_keeps_an_empty_spec_and_empty_strings(void **state)
{
	fixture      *f   = *state;
	sje__job_row  row = min_row("job-e", "f", 1);
	sje__job_row *got = NULL;

	row.spec     = NULL;
	row.spec_len = 0;
	row.worker   = "";
	insert(f->store, &row);
	got = get(f->store, "job-e");
	assert_int_equal(got->spec_len, 0);
	assert_string_equal(got->worker, "");
	assert_null(got->result_json);
	sje__job_row_free(got);
}

static void
test_insert_of_an_existing_task_id_fails_with_eexist(void **state)
{
	fixture     *f   = *state;
	sje__job_row row = full_row("dup", "resize", 3);
	sje__job_row two = min_row("dup", "other", 1);
	int64_t      id  = 12345;

	insert(f->store, &row);
	assert_int_equal(
	    sje__store_insert_job(f->store, &two, &id), SJE_EEXIST);
	assert_true(id == 12345); // untouched on failure
}

static void
test_insert_jobs_of_a_batch_is_all_or_nothing(void **state)
{
	fixture      *f       = *state;
	sje__job_row  rows[3] = { min_row("b1", "f", 3), min_row("b2", "f", 3),
		 min_row("b3", "f", 3) };
	int64_t       ids[3]  = { 0, 0, 0 };
	sje__job_row *got;

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	insert(f->store,
	    &(sje__job_row) {
	        .task_id = "before", .function = "f", .state = 3 });
	// b3 exists already: none of the batch is kept, the earlier
	// write of the transaction is.
	insert(f->store, &rows[2]);
	assert_int_equal(
	    sje__store_insert_jobs(f->store, rows, 3, ids), SJE_EEXIST);
	assert_true(ids[0] == 0 && ids[1] == 0);
	assert_int_equal(
	    sje__store_get_job(f->store, "b1", &got), SJE_ENOTFOUND);
	assert_int_equal(
	    sje__store_get_job(f->store, "b2", &got), SJE_ENOTFOUND);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	sje__job_row_free(get(f->store, "before"));

	// Without the clash the batch goes in, ids rising in row order.
	rows[2].task_id = "b4";
	assert_int_equal(
	    sje__store_insert_jobs(f->store, rows, 3, ids), SJE_OK);
	assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
	got = get(f->store, "b2");
	assert_true(got->id == ids[1]);
	sje__job_row_free(got);
}

// A batch larger than one statement of any backend (PostgreSQL sends
// 200 rows a statement).
#define BIG_BATCH 450

static void
test_a_batch_of_many_statements_is_all_or_nothing_too(void **state)
{
	fixture      *f = *state;
	sje__job_row *rows;
	int64_t      *ids;
	char(*names)[16];
	sje__job_row *got;

	rows  = calloc(BIG_BATCH, sizeof(*rows));
	ids   = calloc(BIG_BATCH, sizeof(*ids));
	names = calloc(BIG_BATCH, sizeof(*names));
	assert_non_null(rows);
	assert_non_null(ids);
	assert_non_null(names);
	for (int i = 0; i < BIG_BATCH; i++) {
		snprintf(names[i], sizeof(names[i]), "big-%d", i);
		rows[i] = min_row(names[i], "f", 3);
	}
	// The last row's task_id exists: nothing of the batch is kept, in a
	// transaction or outside one.
	insert(f->store, &rows[BIG_BATCH - 1]);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(
	    sje__store_insert_jobs(f->store, rows, BIG_BATCH, ids),
	    SJE_EEXIST);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	assert_int_equal(
	    sje__store_insert_jobs(f->store, rows, BIG_BATCH, ids),
	    SJE_EEXIST);
	for (int i = 0; i < BIG_BATCH - 1; i += 50) {
		assert_int_equal(sje__store_get_job(f->store, names[i], &got),
		    SJE_ENOTFOUND);
	}
	// Without the clash all go in, ids rising in row order.
	snprintf(names[BIG_BATCH - 1], sizeof(names[0]), "big-last");
	assert_int_equal(
	    sje__store_insert_jobs(f->store, rows, BIG_BATCH, ids), SJE_OK);
	for (int i = 0; i < BIG_BATCH; i++) {
		if (i > 0) {
			assert_true(ids[i - 1] < ids[i]);
		}
		if (i % 50 == 0 || i == BIG_BATCH - 1) {
			got = get(f->store, names[i]);
			assert_true(got->id == ids[i]);
			sje__job_row_free(got);
		}
	}
	free(names);
	free(ids);
	free(rows);
}

static void
test_a_refused_write_leaves_the_transaction_usable(void **state)
{
	fixture       *f   = *state;
	sje__job_row   one = min_row("one", "f", 3);
	sje__job_row   two = min_row("two", "f", 3);
	sje__job_row   row = min_row("ghost", "f", 3);
	sje__job_claim c   = { .lease_id = 7, .worker = "w", .attempt = 1 };
	uint64_t       seq;
	int64_t        id;

	// Each refusal is an answer, not a failure of the transaction: the
	// writes around it commit.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	id = insert(f->store, &one);
	assert_int_equal(
	    sje__store_insert_job(f->store, &one, &id), SJE_EEXIST);
	assert_int_equal(sje__store_next_event_seq(f->store, &seq), SJE_OK);
	assert_int_equal(sje__store_add_event(
	                     f->store, seq, "one", (const uint8_t *) "e", 1),
	    SJE_OK);
	assert_int_equal(sje__store_add_event(
	                     f->store, seq, "one", (const uint8_t *) "e", 1),
	    SJE_EEXIST);
	row.id = id + 1000;
	assert_int_equal(
	    sje__store_update_job(f->store, &row, &any), SJE_ENOTFOUND);
	assert_int_equal(sje__store_claim_job(f->store, id, &c), SJE_OK);
	assert_int_equal(sje__store_claim_job(f->store, id, &c), SJE_EPRECOND);
	insert(f->store, &two);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);

	sje__job_row *got = get(f->store, "one");
	assert_int_equal(got->state, RUNNING);
	sje__job_row_free(got);
	sje__job_row_free(get(f->store, "two"));
	uint64_t last = 0;
	assert_int_equal(sje__store_last_event_seq(f->store, &last), SJE_OK);
	assert_true(last == seq);
}

static void
test_get_of_an_unknown_job_fails_with_enotfound(void **state)
{
	fixture      *f   = *state;
	sje__job_row *got = (sje__job_row *) &got;

	assert_int_equal(
	    sje__store_get_job(f->store, "nobody", &got), SJE_ENOTFOUND);
	assert_int_equal(
	    sje__store_get_job_by_id(f->store, 42, &got), SJE_ENOTFOUND);
	assert_int_equal(
	    sje__store_get_job(f->store, NULL, &got), SJE_ENOTFOUND);
	assert_ptr_equal(got, (sje__job_row *) &got);
}

static void
test_get_result_reads_the_result_alone(void **state)
{
	fixture     *f    = *state;
	sje__job_row full = full_row("with-result", "fn", 5);
	sje__job_row bare = min_row("no-result", "fn", 3);
	char        *out  = (char *) &out;

	insert(f->store, &full);
	insert(f->store, &bare);
	assert_int_equal(
	    sje__store_get_result(f->store, "with-result", &out), SJE_OK);
	assert_string_equal(out, "{\"ok\":true,\"n\":[1,2,3]}");
	free(out);
	assert_int_equal(
	    sje__store_get_result(f->store, "no-result", &out), SJE_OK);
	assert_null(out);
	assert_int_equal(
	    sje__store_get_result(f->store, "nobody", &out), SJE_ENOTFOUND);
	assert_null(out);
}

// ---- conditional updates ---------------------------------------------

static void
test_update_changes_the_mutable_fields_only(void **state)
{
	fixture        *f   = *state;
	sje__job_row    row = min_row("job-u", "resize", 3);
	sje__job_row    upd = full_row("ignored", "ignored", 5);
	sje__job_row    want;
	sje__job_row   *got = NULL;
	sje__job_expect e   = { .state = 3 };

	row.priority    = 9;
	row.timeout_s   = 60;
	row.created_ms  = 1000;
	row.workflow_id = "run-x";
	upd.id          = insert(f->store, &row);
	assert_int_equal(sje__store_update_job(f->store, &upd, &e), SJE_OK);
	got = get(f->store, "job-u");

	// Expected: upd's mutable fields over row's fixed ones.
	want             = upd;
	want.task_id     = row.task_id;
	want.function    = row.function;
	want.priority    = row.priority;
	want.timeout_s   = row.timeout_s;
	want.created_ms  = row.created_ms;
	want.workflow_id = row.workflow_id;
	assert_rows_equal(got, &want);
	sje__job_row_free(got);

	// And back to NULLs (from SUCCEEDED, under its lease).
	row.id = upd.id;
	e      = (sje__job_expect) { .state = 5, .lease_id = upd.lease_id };
	assert_int_equal(sje__store_update_job(f->store, &row, &e), SJE_OK);
	got = get(f->store, "job-u");
	assert_rows_equal(got, &row);
	sje__job_row_free(got);
}

static void
test_update_of_an_unknown_id_fails_with_enotfound(void **state)
{
	fixture        *f   = *state;
	sje__job_row    row = full_row("x", "y", 3);
	sje__job_expect e   = { .state = 3 };

	row.id = 999;
	assert_int_equal(
	    sje__store_update_job(f->store, &row, &e), SJE_ENOTFOUND);
	assert_int_equal(
	    sje__store_update_job(f->store, &row, &any), SJE_ENOTFOUND);
}

static void
test_update_from_another_state_changes_nothing(void **state)
{
	fixture        *f   = *state;
	sje__job_row    row = min_row("sched", "f", SCHEDULED);
	sje__job_expect e   = { .state = PENDING };
	sje__job_row   *got;

	row.id    = insert(f->store, &row);
	row.state = QUEUED;
	assert_int_equal(
	    sje__store_update_job(f->store, &row, &e), SJE_EPRECOND);
	got = get(f->store, "sched");
	assert_int_equal(got->state, SCHEDULED);
	sje__job_row_free(got);
	e.state = SCHEDULED;
	assert_int_equal(sje__store_update_job(f->store, &row, &e), SJE_OK);
	got = get(f->store, "sched");
	assert_int_equal(got->state, QUEUED);
	sje__job_row_free(got);
}

static void
test_finish_from_any_unfinished_state_happens_once(void **state)
{
	fixture      *f   = *state;
	sje__job_row  row = min_row("once", "f", PENDING);
	sje__job_row *got;

	row.id          = insert(f->store, &row);
	row.state       = FAILED;
	row.finished_ms = 10;
	assert_int_equal(sje__store_update_job(f->store, &row, &any), SJE_OK);
	row.state       = SUCCEEDED;
	row.finished_ms = 20;
	assert_int_equal(
	    sje__store_update_job(f->store, &row, &any), SJE_EPRECOND);
	got = get(f->store, "once");
	assert_int_equal(got->state, FAILED);
	assert_true(got->finished_ms == 10);
	sje__job_row_free(got);
}

// claim leases job id under lease, as attempt n.
static sje_err
claim(sje__store *s, int64_t id, uint64_t lease, uint32_t n)
{
	sje__job_claim c = { .lease_id = lease,
		.lease_expires_ms      = 5000 + n,
		.worker                = "w1",
		.attempt               = n,
		.started_ms            = 100 * n };
	return sje__store_claim_job(s, id, &c);
}

static void
test_claim_leases_a_queued_job_and_records_its_attempt(void **state)
{
	fixture          *f   = *state;
	sje__job_row      row = full_row("c", "f", QUEUED);
	sje__attempt_row *att;
	size_t            n;
	sje__job_row     *got;
	int64_t           id = insert(f->store, &row);

	assert_int_equal(claim(f->store, id, 77, 3), SJE_OK);
	got = get(f->store, "c");
	assert_int_equal(got->state, RUNNING);
	assert_int_equal(got->attempt, 3);
	assert_true(got->lease_id == 77);
	assert_true(got->lease_expires_ms == 5003);
	assert_true(got->started_ms == 300);
	assert_string_equal(got->worker, "w1");
	assert_true(got->progress_pct == 0);
	assert_null(got->progress_msg);
	// What a claim does not touch stays.
	assert_string_equal(got->error_type, "timeout");
	assert_true(got->ready_at_ms == row.ready_at_ms);
	sje__job_row_free(got);

	assert_int_equal(
	    sje__store_list_attempts(f->store, id, &att, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(att[0].number, 3);
	assert_int_equal(att[0].outcome, RUNNING);
	assert_string_equal(att[0].worker, "w1");
	assert_true(att[0].started_ms == 300 && att[0].finished_ms == 0);
	sje__attempt_rows_free(att, n);
}

static void
test_claim_refuses_a_job_already_leased(void **state)
{
	fixture          *f   = *state;
	sje__job_row      row = min_row("leased", "f", QUEUED);
	sje__job_row     *got;
	sje__attempt_row *att;
	size_t            n;
	int64_t           id = insert(f->store, &row);

	assert_int_equal(claim(f->store, id, 1, 1), SJE_OK);
	assert_int_equal(claim(f->store, id, 2, 2), SJE_EPRECOND);
	got = get(f->store, "leased");
	assert_true(got->lease_id == 1);
	assert_int_equal(got->attempt, 1);
	sje__job_row_free(got);
	assert_int_equal(
	    sje__store_list_attempts(f->store, id, &att, &n), SJE_OK);
	assert_int_equal(n, 1);
	sje__attempt_rows_free(att, n);

	// Nor a job that is not QUEUED; nor one that is not there.
	sje__job_row p = min_row("pending", "f", PENDING);
	assert_int_equal(
	    claim(f->store, insert(f->store, &p), 3, 1), SJE_EPRECOND);
	assert_int_equal(claim(f->store, 4242, 3, 1), SJE_ENOTFOUND);
	assert_int_equal(claim(f->store, id, 0, 1), SJE_EINVAL);
}

// succeed ends job id under lease with result at finished.
static sje_err
succeed(sje__store *s, int64_t id, uint64_t lease, const char *result,
    sje_time_ms finished)
{
	sje__job_success ok = { .lease_id = lease,
		.result_json              = result,
		.finished_ms              = finished };
	return sje__store_succeed_job(s, id, &ok);
}

static void
test_succeed_ends_a_running_job_and_its_current_attempt(void **state)
{
	fixture          *f   = *state;
	sje__job_row      row = full_row("ok", "f", QUEUED);
	sje__attempt_row *att;
	size_t            n;
	sje__job_row     *got;
	int64_t           id = insert(f->store, &row);

	// Two attempts; the second is the one that succeeds.
	assert_int_equal(claim(f->store, id, 5, 1), SJE_OK);
	got                   = get(f->store, "ok");
	got->state            = QUEUED;
	sje__job_expect under = { .state = RUNNING, .lease_id = 5 };
	assert_int_equal(sje__store_update_job(f->store, got, &under), SJE_OK);
	sje__job_row_free(got);
	assert_int_equal(claim(f->store, id, 6, 2), SJE_OK);

	assert_int_equal(succeed(f->store, id, 6, "{\"n\":1}", 900), SJE_OK);
	got = get(f->store, "ok");
	assert_int_equal(got->state, SUCCEEDED);
	assert_string_equal(got->result_json, "{\"n\":1}");
	assert_null(got->error_type);
	assert_null(got->error_message);
	assert_true(got->progress_pct == 100);
	assert_true(got->finished_ms == 900);
	assert_true(got->lease_expires_ms == 0);
	// What a success does not touch stays.
	assert_int_equal(got->attempt, 2);
	assert_true(got->lease_id == 6);
	assert_string_equal(got->worker, "w1");
	assert_true(got->started_ms == 200);
	assert_true(got->ready_at_ms == row.ready_at_ms);
	sje__job_row_free(got);

	assert_int_equal(
	    sje__store_list_attempts(f->store, id, &att, &n), SJE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(att[0].outcome, RUNNING); // as update_job left it
	assert_int_equal(att[1].number, 2);
	assert_int_equal(att[1].outcome, SUCCEEDED);
	assert_string_equal(att[1].worker, "w1");
	assert_true(att[1].started_ms == 200 && att[1].finished_ms == 900);
	assert_null(att[1].error_type);
	sje__attempt_rows_free(att, n);
}

static void
test_succeed_refuses_a_stale_lease_another_state_or_no_job(void **state)
{
	fixture          *f   = *state;
	sje__job_row      row = min_row("late", "f", QUEUED);
	sje__job_row     *got;
	sje__attempt_row *att;
	size_t            n;
	int64_t           id = insert(f->store, &row);

	assert_int_equal(succeed(f->store, id, 1, "1", 10), SJE_EPRECOND);
	assert_int_equal(claim(f->store, id, 7, 1), SJE_OK);
	assert_int_equal(succeed(f->store, id, 8, "1", 10), SJE_EPRECOND);
	assert_int_equal(succeed(f->store, id, 0, "1", 10), SJE_EINVAL);
	assert_int_equal(succeed(f->store, id, 7, NULL, 10), SJE_EINVAL);
	assert_int_equal(succeed(f->store, 4242, 7, "1", 10), SJE_ENOTFOUND);
	got = get(f->store, "late");
	assert_int_equal(got->state, RUNNING);
	assert_null(got->result_json);
	sje__job_row_free(got);

	// Once only: the result is written once.
	assert_int_equal(succeed(f->store, id, 7, "1", 10), SJE_OK);
	assert_int_equal(succeed(f->store, id, 7, "2", 20), SJE_EPRECOND);
	got = get(f->store, "late");
	assert_string_equal(got->result_json, "1");
	assert_true(got->finished_ms == 10);
	sje__job_row_free(got);
	assert_int_equal(
	    sje__store_list_attempts(f->store, id, &att, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_true(att[0].finished_ms == 10);
	sje__attempt_rows_free(att, n);
}

static void
test_a_claim_and_its_success_in_one_transaction_commit_both(void **state)
{
	fixture          *f   = *state;
	sje__job_row      row = min_row("quick", "f", QUEUED);
	sje__attempt_row *att;
	size_t            n;
	sje__job_row     *got;
	int64_t           id = insert(f->store, &row);

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(claim(f->store, id, 3, 1), SJE_OK);
	assert_int_equal(succeed(f->store, id, 3, "true", 50), SJE_OK);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	got = get(f->store, "quick");
	assert_int_equal(got->state, SUCCEEDED);
	sje__job_row_free(got);
	assert_int_equal(
	    sje__store_list_attempts(f->store, id, &att, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(att[0].outcome, SUCCEEDED);
	assert_true(att[0].started_ms == 100 && att[0].finished_ms == 50);
	sje__attempt_rows_free(att, n);
}

static void
test_finish_with_a_stale_lease_changes_nothing(void **state)
{
	fixture        *f   = *state;
	sje__job_row    row = min_row("stale", "f", QUEUED);
	sje__job_row   *got;
	sje__job_expect old = { .state = RUNNING, .lease_id = 10 };
	sje__job_expect cur = { .state = RUNNING, .lease_id = 11 };

	row.id = insert(f->store, &row);
	assert_int_equal(claim(f->store, row.id, 10, 1), SJE_OK);
	// Lease 10 is lost: the job is queued again and leased anew.
	got        = get(f->store, "stale");
	got->state = QUEUED;
	assert_int_equal(sje__store_update_job(f->store, got, &old), SJE_OK);
	sje__job_row_free(got);
	assert_int_equal(claim(f->store, row.id, 11, 2), SJE_OK);

	// A late report on lease 10 is refused, and changes nothing.
	row.state       = SUCCEEDED;
	row.result_json = "\"late\"";
	row.lease_id    = 10;
	assert_int_equal(
	    sje__store_update_job(f->store, &row, &old), SJE_EPRECOND);
	got = get(f->store, "stale");
	assert_int_equal(got->state, RUNNING);
	assert_true(got->lease_id == 11);
	assert_null(got->result_json);
	sje__job_row_free(got);

	// The current lease's report counts.
	row.lease_id = 11;
	assert_int_equal(sje__store_update_job(f->store, &row, &cur), SJE_OK);
	got = get(f->store, "stale");
	assert_int_equal(got->state, SUCCEEDED);
	assert_string_equal(got->result_json, "\"late\"");
	sje__job_row_free(got);
}

static void
test_extend_lease_holds_only_under_the_current_lease(void **state)
{
	fixture      *f   = *state;
	sje__job_row  row = min_row("ext", "f", QUEUED);
	sje__job_row *got;
	int64_t       id = insert(f->store, &row);

	assert_int_equal(
	    sje__store_extend_lease(f->store, id, 5, 9000), SJE_EPRECOND);
	assert_int_equal(claim(f->store, id, 5, 1), SJE_OK);
	assert_int_equal(
	    sje__store_extend_lease(f->store, id, 6, 9000), SJE_EPRECOND);
	assert_int_equal(
	    sje__store_extend_lease(f->store, id, 5, 9000), SJE_OK);
	got = get(f->store, "ext");
	assert_true(got->lease_expires_ms == 9000);
	sje__job_row_free(got);
	assert_int_equal(
	    sje__store_extend_lease(f->store, 999, 5, 1), SJE_ENOTFOUND);
}

// ---- transactions ------------------------------------------------------

static void
test_rollback_undoes_the_inserts_and_commit_keeps_them(void **state)
{
	fixture      *f   = *state;
	sje__job_row  a   = min_row("rolled-back", "f", 3);
	sje__job_row  b   = min_row("committed", "f", 3);
	sje__job_row *got = NULL;
	uint64_t      seq = 0;

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	insert(f->store, &a);
	assert_int_equal(sje__store_next_event_seq(f->store, &seq), SJE_OK);
	assert_int_equal(sje__store_add_event(f->store, seq, "rolled-back",
	                     (const uint8_t *) "x", 1),
	    SJE_OK);
	sje__store_rollback(f->store);
	assert_int_equal(
	    sje__store_get_job(f->store, "rolled-back", &got), SJE_ENOTFOUND);
	// The seq it took is given back.
	assert_int_equal(sje__store_last_event_seq(f->store, &seq), SJE_OK);
	assert_true(seq == 0);

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	insert(f->store, &b);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	sje__job_row_free(get(f->store, "committed"));
}

static void
test_rollback_undoes_claims_updates_and_attempts(void **state)
{
	fixture          *f   = *state;
	sje__job_row      row = min_row("r", "f", QUEUED);
	sje__job_row     *got;
	sje__attempt_row *att;
	size_t            n;
	int64_t           id = insert(f->store, &row);

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(claim(f->store, id, 9, 1), SJE_OK);
	sje__store_rollback(f->store);
	got = get(f->store, "r");
	assert_int_equal(got->state, QUEUED);
	assert_true(got->lease_id == 0);
	sje__job_row_free(got);
	assert_int_equal(
	    sje__store_list_attempts(f->store, id, &att, &n), SJE_OK);
	assert_int_equal(n, 0);
	sje__attempt_rows_free(att, n);
}

static void
test_rollback_without_a_transaction_is_harmless(void **state)
{
	fixture *f = *state;

	sje__store_rollback(f->store);
	sje__store_rollback(f->store);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	// A commit with none open fails, and leaves the store usable.
	assert_int_equal(sje__store_commit(f->store), SJE_EIO);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	sje__store_rollback(f->store);
}

static void
test_data_survives_close_and_reopen(void **state)
{
	fixture      *f   = *state;
	sje__job_row  row = full_row("durable", "resize", 2);
	sje__job_row *got = NULL;
	int64_t       id;

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	id = insert(f->store, &row);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	reopen(f);
	got = get(f->store, "durable");
	assert_true(got->id == id);
	assert_rows_equal(got, &row);
	sje__job_row_free(got);
}

// ---- scans and lists ---------------------------------------------------

typedef struct scan_seen {
	int64_t ids[16];
	char    task_ids[16][16];
	size_t  n;
	size_t  stop_after; // 0: never
} scan_seen;

static sje_err
scan_collect(void *arg, const sje__job_row *row)
{
	scan_seen *seen = arg;

	assert_true(seen->n < 16);
	assert_false(row->state >= 5); // never a terminal job
	seen->ids[seen->n] = row->id;
	snprintf(seen->task_ids[seen->n], sizeof(seen->task_ids[0]), "%s",
	    row->task_id);
	seen->n++;
	if (seen->stop_after != 0 && seen->n == seen->stop_after) {
		return SJE_ECANCELED;
	}
	return SJE_OK;
}

static void
test_scan_active_returns_only_non_terminal_jobs_in_id_order(void **state)
{
	fixture *f = *state;
	// One job per state, 1..8, inserted in a shuffled order.
	const int states[] = { 6, 3, 8, 1, 5, 4, 7, 2 };
	char      names[8][16];
	int64_t   ids[8];
	scan_seen seen = { .n = 0 };
	size_t    k    = 0;

	for (size_t i = 0; i < 8; i++) {
		snprintf(names[i], sizeof(names[i]), "s%zu", i);
		sje__job_row r = min_row(names[i], "f", states[i]);
		ids[i]         = insert(f->store, &r);
	}
	assert_int_equal(
	    sje__store_scan_active(f->store, scan_collect, &seen), SJE_OK);
	assert_int_equal(seen.n, 4);
	for (size_t i = 0; i < 8; i++) {
		if (states[i] >= 5) {
			continue;
		}
		assert_true(seen.ids[k] == ids[i]);
		assert_string_equal(seen.task_ids[k], names[i]);
		k++;
	}

	// The callback's error stops the scan and is returned.
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 2;
	assert_int_equal(sje__store_scan_active(f->store, scan_collect, &seen),
	    SJE_ECANCELED);
	assert_int_equal(seen.n, 2);

	// The store is usable afterwards (the scan was reset).
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(
	    sje__store_scan_active(f->store, scan_collect, &seen), SJE_OK);
	assert_int_equal(seen.n, 4);
}

static void
list(sje__store *s, const sje__job_filter *filt, size_t want_n, ...)
{
	sje__job_row **rows = NULL;
	size_t         n    = 99;
	va_list        ap;

	assert_int_equal(sje__store_list_jobs(s, filt, &rows, &n), SJE_OK);
	assert_int_equal(n, want_n);
	va_start(ap, want_n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(
		    rows[i]->task_id, va_arg(ap, const char *));
		sje__job_row_free(rows[i]);
	}
	va_end(ap);
	free(rows);
}

#define F(...) (&(sje__job_filter) { __VA_ARGS__ })

static void
test_list_jobs_filters_by_state_function_and_run_newest_first(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *task_id;
		const char *function;
		int         state;
		const char *run;
	} jobs[] = {
		{ "j1", "resize", 3, NULL },
		{ "j2", "encode", 3, "run-a" },
		{ "j3", "resize", 5, "run-a" },
		{ "j4", "resize", 3, "run-b" },
		{ "j5", "encode", 6, "run-a" },
	};

	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		sje__job_row r =
		    min_row(jobs[i].task_id, jobs[i].function, jobs[i].state);
		r.workflow_id = (char *) jobs[i].run;
		insert(f->store, &r);
	}
	list(f->store, F(.limit = 100), 5, "j5", "j4", "j3", "j2", "j1");
	list(f->store, F(.function = "", .limit = 100), 5, "j5", "j4", "j3",
	    "j2", "j1");
	list(f->store, F(.state = 3, .limit = 100), 3, "j4", "j2", "j1");
	list(f->store, F(.function = "resize", .limit = 100), 3, "j4", "j3",
	    "j1");
	list(f->store, F(.state = 3, .function = "resize", .limit = 100), 2,
	    "j4", "j1");
	list(f->store, F(.state = 6, .function = "resize", .limit = 100), 0);
	list(f->store, F(.function = "nothing", .limit = 100), 0);
	list(f->store, F(.limit = 0), 0);
	list(f->store, F(.workflow_id = "run-a", .limit = 100), 3, "j5", "j3",
	    "j2");
	list(f->store, F(.workflow_id = "run-a", .state = 3, .limit = 100), 1,
	    "j2");
	list(f->store,
	    F(.workflow_id = "run-a", .function = "encode", .limit = 100), 2,
	    "j5", "j2");
	list(f->store, F(.workflow_id = "run-z", .limit = 100), 0);
}

static void
test_list_jobs_pages_with_before_id(void **state)
{
	fixture        *f = *state;
	char            names[7][8];
	int64_t         ids[7];
	sje__job_filter filt = { .limit = 3 };
	sje__job_row  **rows = NULL;
	size_t          n    = 0;
	size_t          seen = 0;
	int             want = 6;

	for (int i = 0; i < 7; i++) {
		snprintf(names[i], sizeof(names[i]), "p%d", i);
		sje__job_row r = min_row(names[i], "f", 3);
		ids[i]         = insert(f->store, &r);
	}
	// Pages of 3, 3, 1, then an empty one, newest first throughout.
	for (int page = 0; page < 4; page++) {
		assert_int_equal(
		    sje__store_list_jobs(f->store, &filt, &rows, &n), SJE_OK);
		assert_int_equal(n, page < 2 ? 3 : page == 2 ? 1 : 0);
		for (size_t i = 0; i < n; i++) {
			assert_true(rows[i]->id == ids[want]);
			assert_string_equal(rows[i]->task_id, names[want]);
			want--;
			seen++;
		}
		if (n > 0) {
			filt.before_id = rows[n - 1]->id;
		}
		for (size_t i = 0; i < n; i++) {
			sje__job_row_free(rows[i]);
		}
		free(rows);
		rows = NULL;
	}
	assert_int_equal(seen, 7);

	// before_id with a filter: state 3 below the 4th job.
	list(f->store,
	    F(.state = 3, .function = "f", .limit = 10, .before_id = ids[3]),
	    3, "p2", "p1", "p0");
}

static void
test_list_jobs_filters_by_worker_and_creation_time_newest_first(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *task_id;
		const char *function;
		int         state;
		const char *worker;
		sje_time_ms created_ms;
		const char *run;
	} jobs[] = {
		{ "w1", "resize", 5, "wa", 1000, NULL },
		{ "w2", "resize", 6, "wb", 2000, "run-a" },
		{ "w3", "encode", 5, "wa", 3000, "run-a" },
		{ "w4", "resize", 3, NULL, 4000, NULL },
		{ "w5", "resize", 5, "wa", 5000, NULL },
	};

	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		sje__job_row r =
		    min_row(jobs[i].task_id, jobs[i].function, jobs[i].state);
		r.worker      = (char *) jobs[i].worker;
		r.created_ms  = jobs[i].created_ms;
		r.workflow_id = (char *) jobs[i].run;
		insert(f->store, &r);
	}
	list(f->store, F(.worker = "wa", .limit = 100), 3, "w5", "w3", "w1");
	list(f->store, F(.worker = "", .limit = 100), 5, "w5", "w4", "w3",
	    "w2", "w1");
	list(f->store, F(.worker = "nobody", .limit = 100), 0);
	// from is inclusive, before exclusive: [2000, 5000).
	list(f->store,
	    F(.created_from_ms = 2000, .created_before_ms = 5000,
	        .limit = 100),
	    3, "w4", "w3", "w2");
	list(f->store, F(.created_from_ms = 3000, .limit = 100), 3, "w5", "w4",
	    "w3");
	list(f->store, F(.created_before_ms = 3000, .limit = 100), 2, "w2",
	    "w1");
	list(f->store, F(.created_before_ms = 1000, .limit = 100), 0);
	// With each of the indexed filters.
	list(f->store, F(.state = 5, .worker = "wa", .limit = 100), 3, "w5",
	    "w3", "w1");
	list(f->store,
	    F(.state = 5, .worker = "wa", .created_before_ms = 5000,
	        .limit = 100),
	    2, "w3", "w1");
	list(f->store, F(.function = "resize", .worker = "wa", .limit = 100),
	    2, "w5", "w1");
	list(f->store,
	    F(.state = 5, .function = "resize", .created_from_ms = 2000,
	        .limit = 100),
	    1, "w5");
	list(f->store, F(.workflow_id = "run-a", .worker = "wa", .limit = 100),
	    1, "w3");
	list(f->store,
	    F(.workflow_id = "run-a", .created_before_ms = 3000, .limit = 100),
	    1, "w2");
	// Paging goes on below before_id with the filters kept.
	list(f->store, F(.worker = "wa", .limit = 1), 1, "w5");
	list(f->store,
	    F(.worker = "wa", .limit = 1, .before_id = get_id(f->store, "w5")),
	    1, "w3");
}

// labelled_row is min_row with a real packed spec (freed by the caller:
// free(r.spec)) whose labels are the n pairs of kv (key, value, ...).
static sje__job_row
labelled_row(const char *task_id, int state, size_t n, ...)
{
	Sje__V1__JobSpec               spec = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__JobSpec__LabelsEntry  e[4];
	Sje__V1__JobSpec__LabelsEntry *ep[4];
	va_list                        ap;

	assert_true(n <= 4);
	spec.task_id  = (char *) task_id;
	spec.function = "f";
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		sje__v1__job_spec__labels_entry__init(&e[i]);
		e[i].key   = va_arg(ap, char *);
		e[i].value = va_arg(ap, char *);
		ep[i]      = &e[i];
	}
	va_end(ap);
	spec.labels    = ep;
	spec.n_labels  = n;
	sje__job_row r = min_row(task_id, "f", state);
	r.spec_len     = sje__v1__job_spec__get_packed_size(&spec);
	r.spec         = malloc(r.spec_len + 1);
	assert_non_null(r.spec);
	sje__v1__job_spec__pack(&spec, r.spec);
	return r;
}

static void
insert_labelled(sje__store *s, sje__job_row r)
{
	insert(s, &r);
	free(r.spec);
}

static void
test_list_jobs_filters_by_a_label_of_the_packed_spec(void **state)
{
	fixture *f = *state;

	insert_labelled(f->store, labelled_row("l1", 5, 1, "team", "etl"));
	insert_labelled(
	    f->store, labelled_row("l2", 6, 2, "team", "web", "tier", "1"));
	insert_labelled(f->store, labelled_row("l3", 6, 0));
	insert_labelled(
	    f->store, labelled_row("l4", 5, 2, "tier", "1", "team", "etl"));
	insert_labelled(f->store, labelled_row("l5", 3, 1, "team", ""));
	// A spec that does not unpack has no labels.
	sje__job_row bad = min_row("l6", "f", 5);
	insert(f->store, &bad);

	list(f->store,
	    F(.label_key = "team", .label_value = "etl", .limit = 9), 2, "l4",
	    "l1");
	list(f->store, F(.label_key = "tier", .label_value = "1", .limit = 9),
	    2, "l4", "l2");
	list(f->store, F(.label_key = "team", .label_value = "", .limit = 9),
	    1, "l5");
	list(f->store, F(.label_key = "team", .limit = 9), 1, "l5");
	list(f->store,
	    F(.label_key = "team", .label_value = "ETL", .limit = 9), 0);
	list(f->store, F(.label_key = "", .label_value = "etl", .limit = 9), 6,
	    "l6", "l5", "l4", "l3", "l2", "l1");
	// With the backend's filters, and the limit.
	list(f->store,
	    F(.label_key = "team", .label_value = "etl", .state = 5,
	        .limit = 9),
	    2, "l4", "l1");
	list(f->store,
	    F(.label_key = "tier", .label_value = "1", .state = 6, .limit = 9),
	    1, "l2");
	list(f->store,
	    F(.label_key = "team", .label_value = "etl", .limit = 1), 1, "l4");
	list(f->store,
	    F(.label_key = "team", .label_value = "etl", .limit = 0), 0);
}

// collect_pages reads every job matching filt (taken by copy), pages of
// limit with the cursor rule of ListJobs (the last row's id when a page
// is full, else resume_id; the end when both are 0), into names (room for
// max), and returns how many; *pages counts the calls.
static size_t
collect_pages(sje__store *s, sje__job_filter filt, char (*names)[8],
    size_t max, size_t *pages)
{
	int64_t resume = -1;
	size_t  got    = 0;

	filt.resume_id = &resume;
	*pages         = 0;
	for (;;) {
		sje__job_row **rows = NULL;
		size_t         n    = 0;
		assert_int_equal(
		    sje__store_list_jobs(s, &filt, &rows, &n), SJE_OK);
		assert_true(resume >= 0);
		(*pages)++;
		assert_true(*pages < 100);
		for (size_t i = 0; i < n; i++) {
			assert_true(got < max);
			snprintf(names[got++], 8, "%s", rows[i]->task_id);
		}
		int64_t next = n == filt.limit ? rows[n - 1]->id : resume;
		for (size_t i = 0; i < n; i++) {
			sje__job_row_free(rows[i]);
		}
		free(rows);
		if (next == 0) {
			return got;
		}
		filt.before_id = next;
	}
}

static void
test_a_label_filter_reads_at_most_max_scan_rows_and_says_where_to_go_on(
    void **state)
{
	fixture *f = *state;
	char     names[40][8];
	size_t   pages;

	// 30 jobs, every 7th with the label: m3, m10, m17, m24.
	for (int i = 0; i < 30; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%c%d", i % 7 == 3 ? 'm' : 'x', i);
		insert_labelled(f->store,
		    i % 7 == 3 ? labelled_row(id, 5, 1, "k", "v")
		               : labelled_row(id, 5, 1, "k", "w"));
	}
	// A call reads at most 4 rows: the first finds nothing in x29..x26
	// and says to go on below x26.
	int64_t         resume = -1;
	sje__job_filter filt   = { .label_key = "k",
		  .label_value                = "v",
		  .limit                      = 10,
		  .max_scan                   = 4,
		  .resume_id                  = &resume };
	list(f->store, &filt, 0);
	assert_true(resume == get_id(f->store, "x26"));
	filt.before_id = resume;
	list(f->store, &filt, 1, "m24");
	assert_true(resume == get_id(f->store, "x22"));

	// Paged to the end, every labelled job comes once, newest first.
	filt.before_id = 0;
	size_t n       = collect_pages(f->store, filt, names, 40, &pages);
	assert_int_equal(n, 4);
	assert_string_equal(names[0], "m24");
	assert_string_equal(names[1], "m17");
	assert_string_equal(names[2], "m10");
	assert_string_equal(names[3], "m3");
	assert_true(pages >= 30 / 4);
	// A limit met before the bound leaves no resume_id: the caller goes
	// on from the last row.
	filt.limit    = 2;
	filt.max_scan = 0; // the default bound
	list(f->store, &filt, 2, "m24", "m17");
	assert_true(resume == 0);
	filt.limit = 1;
	n          = collect_pages(f->store, filt, names, 40, &pages);
	assert_int_equal(n, 4);
	assert_string_equal(names[3], "m3");
	// Without a label, resume_id is 0 whatever the page.
	resume = -1;
	list(f->store, F(.limit = 1, .resume_id = &resume), 1, "x29");
	assert_true(resume == 0);
}

// ---- attempts ------------------------------------------------------------

static void
test_attempts_are_kept_in_order_and_replaced_by_number(void **state)
{
	fixture         *f  = *state;
	sje__attempt_row a1 = { .number = 1,
		.worker                 = "wa",
		.started_ms             = 10,
		.finished_ms            = 20,
		.outcome                = 6,
		.error_type             = "lost",
		.error_message          = "lease expired" };
	sje__attempt_row a2 = {
		.number = 2, .worker = "wb", .started_ms = 30, .outcome = 4
	};
	assert_int_equal(sje__store_put_attempt(f->store, 7, &a2), SJE_OK);
	assert_int_equal(sje__store_put_attempt(f->store, 7, &a1), SJE_OK);
	assert_int_equal(sje__store_put_attempt(f->store, 8, &a1), SJE_OK);
	// Attempt 2 finishes: the same number replaces the running record.
	a2.finished_ms = 40;
	a2.outcome     = 5;
	assert_int_equal(sje__store_put_attempt(f->store, 7, &a2), SJE_OK);

	sje__attempt_row *rows;
	size_t            n;
	assert_int_equal(
	    sje__store_list_attempts(f->store, 7, &rows, &n), SJE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].number, 1);
	assert_string_equal(rows[0].worker, "wa");
	assert_string_equal(rows[0].error_type, "lost");
	assert_string_equal(rows[0].error_message, "lease expired");
	assert_int_equal(rows[1].number, 2);
	assert_int_equal(rows[1].outcome, 5);
	assert_true(rows[1].finished_ms == 40);
	assert_null(rows[1].error_type);
	sje__attempt_rows_free(rows, n);

	assert_int_equal(
	    sje__store_list_attempts(f->store, 9, &rows, &n), SJE_OK);
	assert_int_equal(n, 0);
	sje__attempt_rows_free(rows, n);
}

// ---- events ----------------------------------------------------------------

typedef struct seen_events {
	uint64_t seq[16];
	char     data[16][8];
	size_t   n;
} seen_events;

static sje_err
collect_event(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
	seen_events *e = arg;
	assert_true(e->n < 16);
	e->seq[e->n] = seq;
	snprintf(e->data[e->n], sizeof(e->data[0]), "%.*s", (int) len,
	    (const char *) data);
	e->n++;
	return SJE_OK;
}

// add_event takes the next seq and keeps data under it; returns the seq.
static uint64_t
add_event(sje__store *s, const char *task_id, const char *data)
{
	uint64_t seq = 0;
	assert_int_equal(sje__store_next_event_seq(s, &seq), SJE_OK);
	assert_int_equal(sje__store_add_event(s, seq, task_id,
	                     (const uint8_t *) data, strlen(data)),
	    SJE_OK);
	return seq;
}

static void
test_events_get_consecutive_seqs_from_one(void **state)
{
	fixture *f   = *state;
	uint64_t seq = 99;

	assert_int_equal(sje__store_last_event_seq(f->store, &seq), SJE_OK);
	assert_true(seq == 0);
	assert_true(add_event(f->store, "t", "a") == 1);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_true(add_event(f->store, "t", "b") == 2);
	assert_true(add_event(f->store, "t", "c") == 3);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	assert_int_equal(sje__store_last_event_seq(f->store, &seq), SJE_OK);
	assert_true(seq == 3);
	// A seq is kept once.
	assert_int_equal(
	    sje__store_add_event(f->store, 2, "t", (const uint8_t *) "x", 1),
	    SJE_EEXIST);
	// Pruning forgets events, not the count.
	assert_int_equal(sje__store_prune_events(f->store, 3), SJE_OK);
	assert_true(add_event(f->store, "t", "d") == 4);
}

static void
test_events_get_consecutive_seqs_across_a_reopen(void **state)
{
	fixture *f = *state;

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_true(add_event(f->store, "t", "a") == 1);
	assert_true(add_event(f->store, "t", "b") == 2);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	// Taken, then rolled back: not counted.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_true(add_event(f->store, "t", "x") == 3);
	sje__store_rollback(f->store);
	// Pruned to nothing: still counted.
	assert_int_equal(sje__store_prune_events(f->store, 2), SJE_OK);
	reopen(f);
	assert_true(add_event(f->store, "t", "c") == 3);
	reopen(f);
	uint64_t seq = 0;
	assert_int_equal(sje__store_last_event_seq(f->store, &seq), SJE_OK);
	assert_true(seq == 3);
}

// count_events checks that the events it is called with come in seq order,
// each holding its seq as text, and counts them.
typedef struct event_count {
	uint64_t last;
	size_t   n;
} event_count;

static sje_err
count_event(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
	event_count *c = arg;
	char         want[24];
	snprintf(want, sizeof(want), "%llu", (unsigned long long) seq);
	assert_true(seq > c->last);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(data, want, len);
	c->last = seq;
	c->n++;
	return SJE_OK;
}

// add_events keeps n events, each holding its seq as text.
static void
add_events(sje__store *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t seq = 0;
		char     d[24];
		assert_int_equal(sje__store_next_event_seq(s, &seq), SJE_OK);
		snprintf(d, sizeof(d), "%llu", (unsigned long long) seq);
		assert_int_equal(sje__store_add_event(s, seq, "t",
		                     (const uint8_t *) d, strlen(d)),
		    SJE_OK);
	}
}

static size_t
count_events(sje__store *s)
{
	event_count c = { 0, 0 };
	assert_int_equal(
	    sje__store_list_events(s, 0, NULL, 10000, count_event, &c),
	    SJE_OK);
	return c.n;
}

static void
test_many_events_of_a_transaction_are_listed_in_it_and_kept_by_commit(
    void **state)
{
	fixture *f   = *state;
	uint64_t seq = 0;

	// More than a backend may hold back before writing, in one
	// transaction: listed inside it, in order, and kept by its commit.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	add_events(f->store, 300);
	assert_int_equal(count_events(f->store), 300);
	add_events(f->store, 37);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	assert_int_equal(count_events(f->store), 337);
	// A rollback drops every event of its transaction, and the seqs.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	add_events(f->store, 41);
	sje__store_rollback(f->store);
	assert_int_equal(count_events(f->store), 337);
	assert_int_equal(sje__store_last_event_seq(f->store, &seq), SJE_OK);
	assert_true(seq == 337);
	// The seqs given back are taken again, and a duplicate is refused
	// inside a transaction too.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	add_events(f->store, 20);
	assert_int_equal(
	    sje__store_add_event(f->store, 340, "t", (const uint8_t *) "x", 1),
	    SJE_EEXIST);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	assert_int_equal(count_events(f->store), 357);
	reopen(f);
	assert_int_equal(count_events(f->store), 357);
}

static void
test_events_are_listed_after_a_seq_filtered_and_pruned(void **state)
{
	fixture *f = *state;
	for (unsigned i = 1; i <= 6; i++) {
		char d[8];
		snprintf(d, sizeof(d), "e%u", i);
		assert_true(
		    add_event(f->store, i % 2 == 0 ? "even" : "odd", d) == i);
	}
	seen_events e = { .n = 0 };
	assert_int_equal(
	    sje__store_list_events(f->store, 2, NULL, 3, collect_event, &e),
	    SJE_OK);
	assert_int_equal(e.n, 3);
	assert_true(e.seq[0] == 3 && e.seq[2] == 5);
	assert_string_equal(e.data[0], "e3");

	e.n = 0;
	assert_int_equal(
	    sje__store_list_events(f->store, 0, "even", 10, collect_event, &e),
	    SJE_OK);
	assert_int_equal(e.n, 3);
	assert_true(e.seq[0] == 2 && e.seq[1] == 4 && e.seq[2] == 6);

	assert_int_equal(sje__store_prune_events(f->store, 4), SJE_OK);
	e.n = 0;
	assert_int_equal(
	    sje__store_list_events(f->store, 0, NULL, 10, collect_event, &e),
	    SJE_OK);
	assert_int_equal(e.n, 2);
	assert_true(e.seq[0] == 5 && e.seq[1] == 6);
}

// ---- purge
// -------------------------------------------------------------------

static void
test_purge_deletes_only_jobs_finished_before_the_time(void **state)
{
	fixture *f = *state;
	int64_t  ids[3];
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "purge-%d", i);
		sje__job_row r = full_row(name, "f", i < 2 ? 5 : 3);
		r.finished_ms  = i == 0 ? 1000 : 5000;
		assert_int_equal(
		    sje__store_insert_job(f->store, &r, &ids[i]), SJE_OK);
		sje__attempt_row a = { .number = 1, .outcome = 5 };
		assert_int_equal(
		    sje__store_put_attempt(f->store, ids[i], &a), SJE_OK);
	}
	uint32_t n = 0;
	assert_int_equal(
	    sje__store_purge_finished(f->store, 2000, 100, &n), SJE_OK);
	assert_int_equal(n, 1);
	sje__job_row *row;
	assert_int_equal(
	    sje__store_get_job(f->store, "purge-0", &row), SJE_ENOTFOUND);
	sje__attempt_row *rows;
	size_t            k;
	assert_int_equal(
	    sje__store_list_attempts(f->store, ids[0], &rows, &k), SJE_OK);
	assert_int_equal(k, 0);
	sje__attempt_rows_free(rows, k);
	// Finished later, or not finished: kept, whatever the time.
	sje__job_row_free(get(f->store, "purge-1"));
	assert_int_equal(
	    sje__store_purge_finished(f->store, 99999, 100, &n), SJE_OK);
	assert_int_equal(n, 1);
	sje__job_row_free(get(f->store, "purge-2"));
	assert_int_equal(
	    sje__store_list_attempts(f->store, ids[2], &rows, &k), SJE_OK);
	assert_int_equal(k, 1);
	sje__attempt_rows_free(rows, k);
}

static void
test_purge_keeps_unfinished_jobs_and_takes_the_oldest_first(void **state)
{
	fixture *f = *state;
	// Finished at 30, 10, 20; one running with an old finished_ms.
	static const sje_time_ms at[] = { 30, 10, 20 };
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "old-%d", i);
		sje__job_row r = min_row(name, "f", SUCCEEDED);
		r.finished_ms  = at[i];
		insert(f->store, &r);
	}
	sje__job_row run = min_row("running", "f", RUNNING);
	run.finished_ms  = 1;
	insert(f->store, &run);

	uint32_t n = 0;
	assert_int_equal(
	    sje__store_purge_finished(f->store, 1000, 2, &n), SJE_OK);
	assert_int_equal(n, 2);
	sje__job_row_free(get(f->store, "old-0")); // the newest stays
	assert_int_equal(
	    sje__store_purge_finished(f->store, 1000, 100, &n), SJE_OK);
	assert_int_equal(n, 1);
	sje__job_row_free(get(f->store, "running"));
	list(f->store, F(.limit = 10), 1, "running");
}

// ---- delete_job ----------------------------------------------------------

// n_attempts is how many attempts job id has.
static size_t
n_attempts(sje__store *s, int64_t id)
{
	sje__attempt_row *rows = NULL;
	size_t            n    = 99;
	assert_int_equal(sje__store_list_attempts(s, id, &rows, &n), SJE_OK);
	sje__attempt_rows_free(rows, n);
	return n;
}

// put_attempts writes attempts 1..n of job id, the last one ended as
// outcome, the others FAILED.
// ---- task_id prefix, children, workflow runs ------------------------

// add_parents records that child named parents[0..n).
static sje_err
add_parents(sje__store *s, int64_t child, char *const *parents, size_t n)
{
	sje__parent_edge e[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		e[i] = (sje__parent_edge) { parents[i], child };
	}
	return sje__store_add_parents(s, e, n);
}

static void
test_list_jobs_by_task_id_prefix_is_a_byte_range_newest_first(void **state)
{
	fixture *f = *state;
	// '%' and '_' are plain characters, not patterns; "a%" must not find
	// "ab", "a_" not "ab"; a prefix can be the whole id; a multi-byte
	// last character and one that is U+10FFFF have an upper bound too.
	static const char *const ids[] = { "a%1", "ab", "a_1", "a_2", "b", "a",
		"a\xc3\xa9x", "a\xc3\xa9", "a\xc3\xaa", "a\xf4\x8f\xbf\xbfz",
		"a\xf4\x8f\xbf\xbf", "ac", "a_1.step" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sje__job_row r = min_row(ids[i], i % 2 ? "odd" : "even",
		    i % 3 ? QUEUED : SUCCEEDED);
		insert(f->store, &r);
	}
	list(f->store, F(.task_id_prefix = "a%", .limit = 50), 1, "a%1");
	list(f->store, F(.task_id_prefix = "a_", .limit = 50), 3, "a_1.step",
	    "a_2", "a_1");
	list(f->store, F(.task_id_prefix = "a_1", .limit = 50), 2, "a_1.step",
	    "a_1");
	// The whole id: itself, and the ids it is a prefix of.
	list(f->store, F(.task_id_prefix = "a_1.step", .limit = 50), 1,
	    "a_1.step");
	list(f->store, F(.task_id_prefix = "b", .limit = 50), 1, "b");
	list(f->store, F(.task_id_prefix = "bb", .limit = 50), 0);
	list(f->store, F(.task_id_prefix = "a\xc3\xa9", .limit = 50), 2,
	    "a\xc3\xa9", "a\xc3\xa9x");
	list(f->store, F(.task_id_prefix = "a\xf4\x8f\xbf\xbf", .limit = 50),
	    2, "a\xf4\x8f\xbf\xbf", "a\xf4\x8f\xbf\xbfz");
	// "" is no filter.
	list(f->store, F(.task_id_prefix = "", .limit = 2), 2, "a_1.step",
	    "ac");
	// With the other filters, and paged by before_id, newest first.
	list(f->store, F(.task_id_prefix = "a", .limit = 50, .state = QUEUED),
	    7, "ac", "a\xf4\x8f\xbf\xbf", "a\xc3\xaa", "a\xc3\xa9", "a", "a_1",
	    "ab");
	list(f->store,
	    F(.task_id_prefix = "a", .limit = 50, .function = "even",
	        .state = SUCCEEDED),
	    3, "a_1.step", "a\xc3\xa9x", "a%1");
	int64_t below = get_id(f->store, "a_2");
	list(f->store, F(.task_id_prefix = "a_", .limit = 1), 1, "a_1.step");
	list(f->store,
	    F(.task_id_prefix = "a_", .limit = 1, .before_id = below), 1,
	    "a_1");
	list(f->store,
	    F(.task_id_prefix = "a_", .limit = 5,
	        .before_id = get_id(f->store, "a_1")),
	    0);
}

static void
test_paging_a_prefix_many_jobs_share_sees_each_of_them_once_newest_first(
    void **state)
{
	fixture *f = *state;
	char     ids[60][16];
	// 40 jobs of the prefix among 20 others, under a bound of 1 job read
	// per call (a prefix of more than 20 jobs is then read by id): a
	// backend may stop early and say where to go on.
	for (int i = 0; i < 60; i++) {
		snprintf(ids[i], sizeof(ids[i]),
		    i % 3 == 2 ? "q-%02d" : "p-%02d", i);
		sje__job_row r =
		    min_row(ids[i], "f", i % 2 ? QUEUED : SUCCEEDED);
		insert(f->store, &r);
	}
	for (int state_filter = 0; state_filter < 2; state_filter++) {
		int64_t         resume = 0;
		sje__job_filter filt   = { .task_id_prefix = "p-",
			  .limit                           = 3,
			  .max_scan                        = 1,
			  .resume_id                       = &resume,
			  .state = state_filter ? QUEUED : 0 };
		int             want   = 59;
		int             calls  = 0;
		bool            more   = true;
		while (more && calls++ < 100) {
			sje__job_row **rows = NULL;
			size_t         n    = 0;
			assert_int_equal(
			    sje__store_list_jobs(f->store, &filt, &rows, &n),
			    SJE_OK);
			for (size_t i = 0; i < n; i++) {
				while (want >= 0 &&
				    (want % 3 == 2 ||
				        (state_filter && want % 2 == 0))) {
					want--;
				}
				assert_true(want >= 0);
				assert_string_equal(
				    rows[i]->task_id, ids[want]);
				want--;
			}
			if (n == filt.limit) {
				filt.before_id = rows[n - 1]->id;
			} else if (resume != 0) {
				filt.before_id = resume;
			} else {
				more = false;
			}
			for (size_t i = 0; i < n; i++) {
				sje__job_row_free(rows[i]);
			}
			free(rows);
		}
		while (want >= 0 &&
		    (want % 3 == 2 || (state_filter && want % 2 == 0))) {
			want--;
		}
		assert_int_equal(want, -1); // every one was seen
	}
}

static void
test_list_jobs_by_parent_finds_the_children_newest_first(void **state)
{
	fixture     *f = *state;
	sje__job_row p = min_row("p", "f", SUCCEEDED);
	sje__job_row q = min_row("q", "f", SUCCEEDED);
	insert(f->store, &p);
	insert(f->store, &q);
	char *const pq[]     = { "p", "q", "p" };
	char *const only_p[] = { "p" };
	const char *kids[]   = { "c1", "c2", "c3", "other" };
	int64_t     ids[4];
	for (int i = 0; i < 4; i++) {
		sje__job_row c = min_row(
		    kids[i], i == 1 ? "g" : "f", i == 2 ? QUEUED : SUCCEEDED);
		ids[i] = insert(f->store, &c);
	}
	assert_int_equal(add_parents(f->store, ids[0], pq, 3),
	    SJE_OK); // p named twice: kept once
	assert_int_equal(add_parents(f->store, ids[1], only_p, 1), SJE_OK);
	assert_int_equal(add_parents(f->store, ids[2], pq, 2), SJE_OK);
	assert_int_equal(add_parents(f->store, ids[3], pq, 0), SJE_OK);
	list(f->store, F(.parent = "p", .limit = 50), 3, "c3", "c2", "c1");
	list(f->store, F(.parent = "q", .limit = 50), 2, "c3", "c1");
	list(f->store, F(.parent = "c1", .limit = 50), 0);
	list(f->store, F(.parent = "nobody", .limit = 50), 0);
	// Paged by before_id, and with the other filters.
	list(f->store, F(.parent = "p", .limit = 2), 2, "c3", "c2");
	list(f->store, F(.parent = "p", .limit = 2, .before_id = ids[1]), 1,
	    "c1");
	list(f->store, F(.parent = "p", .limit = 50, .state = SUCCEEDED), 2,
	    "c2", "c1");
	list(
	    f->store, F(.parent = "p", .limit = 50, .function = "g"), 1, "c2");
	list(f->store, F(.parent = "p", .limit = 50, .task_id_prefix = "c3"),
	    1, "c3");
	char *const bad[] = { "p", "" };
	assert_int_equal(add_parents(f->store, ids[3], bad, 2), SJE_EINVAL);
}

static void
test_a_deleted_or_purged_child_leaves_no_parent_record_behind(void **state)
{
	fixture     *f = *state;
	sje__job_row p = min_row("p", "f", SUCCEEDED);
	p.finished_ms  = 9000;
	insert(f->store, &p);
	char *const  only_p[] = { "p" };
	sje__job_row a        = min_row("a", "f", SUCCEEDED);
	sje__job_row c        = min_row("c", "f", QUEUED);
	sje__job_row b        = min_row("b", "f", SUCCEEDED);
	a.finished_ms         = 100;
	b.finished_ms         = 5000;
	int64_t ia = insert(f->store, &a), ic = insert(f->store, &c);
	int64_t ib = insert(f->store, &b);
	assert_int_equal(add_parents(f->store, ia, only_p, 1), SJE_OK);
	assert_int_equal(add_parents(f->store, ic, only_p, 1), SJE_OK);
	assert_int_equal(add_parents(f->store, ib, only_p, 1), SJE_OK);
	list(f->store, F(.parent = "p", .limit = 50), 3, "b", "c", "a");
	uint32_t n = 0;
	assert_int_equal(
	    sje__store_purge_finished(f->store, 1000, 10, &n), SJE_OK);
	assert_int_equal(n, 1); // "a"
	list(f->store, F(.parent = "p", .limit = 50), 2, "b", "c");
	// "b" is the newest job: a job stored after its delete may take its
	// id (SQLite reuses the highest rowid), and is no child of "p".
	assert_int_equal(sje__store_delete_job(f->store, "b"), SJE_OK);
	list(f->store, F(.parent = "p", .limit = 50), 1, "c");
	sje__job_row b2 = min_row("b2", "f", QUEUED);
	insert(f->store, &b2);
	list(f->store, F(.parent = "p", .limit = 50), 1, "c");
	// The parent's delete keeps the record: "c" still names "p".
	assert_int_equal(sje__store_delete_job(f->store, "p"), SJE_OK);
	list(f->store, F(.parent = "p", .limit = 50), 1, "c");
}

static void
test_list_jobs_of_runs_finds_the_first_step_of_each_run_newest_first(
    void **state)
{
	fixture *f = *state;
	static const struct {
		const char *task_id;
		const char *run;
		bool        first;
		int         state;
	} jobs[] = {
		{ "r1.a", "r1", true, SUCCEEDED },
		{ "r1.b", "r1", false, SUCCEEDED },
		{ "lone", NULL, false, QUEUED },
		{ "r2.a", "r2", true, QUEUED },
		{ "r2.b", "r2", false, PENDING },
		{ "r3.a", "r3", true, FAILED },
	};
	int64_t ids[6];
	for (size_t i = 0; i < 6; i++) {
		sje__job_row r = min_row(jobs[i].task_id, "f", jobs[i].state);
		r.workflow_id  = (char *) jobs[i].run;
		r.run_first    = jobs[i].first;
		ids[i]         = insert(f->store, &r);
	}
	list(
	    f->store, F(.runs = true, .limit = 50), 3, "r3.a", "r2.a", "r1.a");
	list(f->store, F(.runs = true, .limit = 1, .before_id = ids[5]), 1,
	    "r2.a");
	list(f->store, F(.runs = true, .limit = 50, .state = SUCCEEDED), 1,
	    "r1.a");
	sje__job_row *got = get(f->store, "r2.a");
	assert_true(got->run_first);
	sje__job_row_free(got);
	got = get(f->store, "r2.b");
	assert_false(got->run_first);
	sje__job_row_free(got);
	// A run whose first step is deleted is listed no more.
	assert_int_equal(sje__store_delete_job(f->store, "r1.a"), SJE_OK);
	list(f->store, F(.runs = true, .limit = 50), 2, "r3.a", "r2.a");
}

static void
test_prefix_upper_bound_is_the_least_string_above_the_prefix(void **state)
{
	(void) state;
	static const struct {
		const char *prefix, *upper;
	} cases[] = {
		{ "a", "b" },
		{ "task_", "task`" },
		{ "a%", "a&" },
		{ "a\x7f", "a\xc2\x80" },
		{ "a\xc3\xbf", "a\xc4\x80" },
		{ "a\xed\x9f\xbf",
		    "a\xee\x80\x80" }, // U+D7FF: past surrogates
		{ "a\xef\xbf\xbf", "a\xf0\x90\x80\x80" },
		{ "a\xf4\x8f\xbf\xbf", "b" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = NULL;
		assert_int_equal(
		    sje__store_prefix_upper(cases[i].prefix, &u), SJE_OK);
		assert_string_equal(u, cases[i].upper);
		free(u);
	}
	char *u = NULL;
	assert_int_equal(
	    sje__store_prefix_upper("\xf4\x8f\xbf\xbf", &u), SJE_OK);
	assert_true(strlen(u) > 4 + SJE_MAX_ID_BYTES);
	free(u);
	assert_int_equal(sje__store_prefix_upper("a\xc3", &u), SJE_EINVAL);
}

static void
put_attempts(sje__store *s, int64_t id, uint32_t n, int outcome)
{
	for (uint32_t k = 1; k <= n; k++) {
		sje__attempt_row a = { .number = k,
			.worker                = "w",
			.started_ms            = 10 * k,
			.finished_ms           = 10 * k + 5,
			.outcome               = k == n ? outcome : FAILED };
		assert_int_equal(sje__store_put_attempt(s, id, &a), SJE_OK);
	}
}

static void
test_delete_job_removes_a_finished_job_and_its_attempts(void **state)
{
	fixture      *f    = *state;
	sje__job_row  done = full_row("done", "f", SUCCEEDED);
	sje__job_row  fail = full_row("failed", "f", FAILED);
	sje__job_row  keep = full_row("kept", "f", SUCCEEDED);
	sje__job_row *got;
	int64_t       id_done = insert(f->store, &done);
	int64_t       id_fail = insert(f->store, &fail);
	int64_t       id_keep = insert(f->store, &keep);

	put_attempts(f->store, id_done, 2, SUCCEEDED);
	put_attempts(f->store, id_fail, 3, FAILED);
	put_attempts(f->store, id_keep, 1, SUCCEEDED);

	assert_int_equal(sje__store_delete_job(f->store, "done"), SJE_OK);
	assert_int_equal(
	    sje__store_get_job(f->store, "done", &got), SJE_ENOTFOUND);
	assert_int_equal(
	    sje__store_get_job_by_id(f->store, id_done, &got), SJE_ENOTFOUND);
	assert_int_equal(n_attempts(f->store, id_done), 0);
	// A failed job is finished too.
	assert_int_equal(sje__store_delete_job(f->store, "failed"), SJE_OK);
	assert_int_equal(n_attempts(f->store, id_fail), 0);
	// Once deleted, it is not there to delete again.
	assert_int_equal(
	    sje__store_delete_job(f->store, "done"), SJE_ENOTFOUND);

	// The other job and its attempts stay as they were.
	got = get(f->store, "kept");
	assert_true(got->id == id_keep);
	assert_rows_equal(got, &keep);
	sje__job_row_free(got);
	assert_int_equal(n_attempts(f->store, id_keep), 1);
	list(f->store, F(.limit = 10), 1, "kept");
}

static void
test_delete_job_refuses_an_unfinished_job_and_changes_nothing(void **state)
{
	fixture *f = *state;
	char     names[4][16];
	int64_t  ids[4];

	// One job in each unfinished state, each with an attempt.
	for (int i = 0; i < 4; i++) {
		snprintf(names[i], sizeof(names[i]), "unfinished-%d", i + 1);
		sje__job_row r = full_row(names[i], "f", PENDING + i);
		ids[i]         = insert(f->store, &r);
		put_attempts(f->store, ids[i], 1, RUNNING);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(
		    sje__store_delete_job(f->store, names[i]), SJE_EPRECOND);
	}
	for (int i = 0; i < 4; i++) {
		sje__job_row  want = full_row(names[i], "f", PENDING + i);
		sje__job_row *got  = get(f->store, names[i]);
		assert_true(got->id == ids[i]);
		assert_rows_equal(got, &want);
		sje__job_row_free(got);
		assert_int_equal(n_attempts(f->store, ids[i]), 1);
	}
	// Once it has finished, it can go.
	sje__job_row r = full_row(names[3], "f", SUCCEEDED);
	r.id           = ids[3];
	assert_int_equal(sje__store_update_job(f->store, &r, &any), SJE_OK);
	assert_int_equal(sje__store_delete_job(f->store, names[3]), SJE_OK);
	assert_int_equal(n_attempts(f->store, ids[3]), 0);
	list(f->store, F(.limit = 10), 3, "unfinished-3", "unfinished-2",
	    "unfinished-1");
}

static void
test_delete_job_of_an_unknown_id_is_not_found(void **state)
{
	fixture     *f   = *state;
	sje__job_row row = min_row("job-10", "f", SUCCEEDED);

	assert_int_equal(
	    sje__store_delete_job(f->store, "nobody"), SJE_ENOTFOUND);
	assert_int_equal(sje__store_delete_job(f->store, NULL), SJE_ENOTFOUND);
	insert(f->store, &row);
	// Exactly that task_id: not a prefix of it, nor one it prefixes.
	assert_int_equal(
	    sje__store_delete_job(f->store, "job-1"), SJE_ENOTFOUND);
	assert_int_equal(
	    sje__store_delete_job(f->store, "job-100"), SJE_ENOTFOUND);
	assert_int_equal(sje__store_delete_job(f->store, ""), SJE_ENOTFOUND);
	sje__job_row_free(get(f->store, "job-10"));
}

static void
test_delete_job_inside_a_transaction_is_undone_by_rollback(void **state)
{
	fixture      *f   = *state;
	sje__job_row  row = full_row("finished", "f", SUCCEEDED);
	sje__job_row *got;
	int64_t       id = insert(f->store, &row);

	put_attempts(f->store, id, 2, SUCCEEDED);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(sje__store_delete_job(f->store, "finished"), SJE_OK);
	// Gone within the transaction...
	assert_int_equal(
	    sje__store_get_job(f->store, "finished", &got), SJE_ENOTFOUND);
	assert_int_equal(n_attempts(f->store, id), 0);
	sje__store_rollback(f->store);
	// ...and back after the rollback, attempts and all.
	got = get(f->store, "finished");
	assert_true(got->id == id);
	assert_rows_equal(got, &row);
	sje__job_row_free(got);
	assert_int_equal(n_attempts(f->store, id), 2);

	// Committed, it is gone for good.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(sje__store_delete_job(f->store, "finished"), SJE_OK);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	assert_int_equal(
	    sje__store_get_job(f->store, "finished", &got), SJE_ENOTFOUND);
	assert_int_equal(n_attempts(f->store, id), 0);
}

static void
test_delete_job_takes_the_attempts_written_earlier_in_its_transaction(
    void **state)
{
	fixture     *f   = *state;
	sje__job_row row = min_row("short", "f", QUEUED);
	int64_t      id  = insert(f->store, &row);

	// Claimed, finished and deleted in one transaction: no attempt of
	// it may come back at commit.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(claim(f->store, id, 3, 1), SJE_OK);
	row.id            = id;
	row.state         = SUCCEEDED;
	row.attempt       = 1;
	row.lease_id      = 3;
	row.finished_ms   = 500;
	sje__job_expect e = { .state = RUNNING, .lease_id = 3 };
	assert_int_equal(sje__store_update_job(f->store, &row, &e), SJE_OK);
	sje__attempt_row a = {
		.number = 1, .worker = "w1", .finished_ms = 500, .outcome = 5
	};
	assert_int_equal(sje__store_put_attempt(f->store, id, &a), SJE_OK);
	assert_int_equal(sje__store_delete_job(f->store, "short"), SJE_OK);
	assert_int_equal(n_attempts(f->store, id), 0);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	sje__job_row *got;
	assert_int_equal(
	    sje__store_get_job(f->store, "short", &got), SJE_ENOTFOUND);
	assert_int_equal(n_attempts(f->store, id), 0);
}

static void
test_a_refused_delete_job_leaves_the_transaction_usable(void **state)
{
	fixture      *f   = *state;
	sje__job_row  one = min_row("running", "f", QUEUED);
	sje__job_row  two = min_row("after", "f", QUEUED);
	sje__fn_row   fn  = { .name = "f", .paused = true, .concurrency = 2 };
	sje__fn_row  *fns = NULL;
	size_t        n   = 0;
	sje__job_row *got;
	int64_t       id;

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	id = insert(f->store, &one);
	assert_int_equal(claim(f->store, id, 1, 1), SJE_OK);
	assert_int_equal(
	    sje__store_delete_job(f->store, "running"), SJE_EPRECOND);
	assert_int_equal(
	    sje__store_delete_job(f->store, "nobody"), SJE_ENOTFOUND);
	insert(f->store, &two);
	assert_int_equal(sje__store_put_function(f->store, &fn), SJE_OK);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);

	got = get(f->store, "running");
	assert_int_equal(got->state, RUNNING);
	assert_true(got->lease_id == 1);
	sje__job_row_free(got);
	assert_int_equal(n_attempts(f->store, id), 1);
	sje__job_row_free(get(f->store, "after"));
	assert_int_equal(
	    sje__store_list_functions(f->store, &fns, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(fns[0].name, "f");
	assert_true(fns[0].paused);
	sje__fn_rows_free(fns, n);
}

// ---- functions -------------------------------------------------------------

// put_fn keeps the settings of function name.
static void
put_fn(sje__store *s, const char *name, bool paused, int64_t concurrency,
    const char *rate, sje_time_ms updated_ms)
{
	sje__fn_row row = { .name = (char *) name,
		.paused           = paused,
		.concurrency      = concurrency,
		.rate             = (char *) rate,
		.updated_ms       = updated_ms };
	assert_int_equal(sje__store_put_function(s, &row), SJE_OK);
}

// assert_fn checks one row of list_functions.
static void
assert_fn(const sje__fn_row *r, const char *name, bool paused,
    int64_t concurrency, const char *rate, sje_time_ms updated_ms)
{
	assert_string_equal(r->name, name);
	assert_int_equal(r->paused, paused);
	assert_true(r->concurrency == concurrency);
	assert_str_or_null(r->rate, rate);
	assert_true(r->updated_ms == updated_ms);
}

static void
test_put_function_replaces_the_settings_and_list_functions_reads_them_by_name(
    void **state)
{
	fixture     *f    = *state;
	sje__fn_row *rows = (sje__fn_row *) &rows;
	size_t       n    = 99;

	// None kept yet.
	assert_int_equal(
	    sje__store_list_functions(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 0);
	assert_null(rows);

	// Each setting's unset value is kept as such: -1 and NULL; 0 and ""
	// (no limit) are values of their own.
	put_fn(f->store, "resize", true, 4, "100/s", 1700000000123);
	put_fn(f->store, "encode", false, -1, NULL, 2000);
	put_fn(f->store, "zip", false, 0, "", 3000);
	put_fn(f->store, "Zeta", true, INT64_MAX, "5/m", 4000);
	assert_int_equal(
	    sje__store_list_functions(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 4);
	// By name, byte by byte (upper case before lower case).
	assert_fn(&rows[0], "Zeta", true, INT64_MAX, "5/m", 4000);
	assert_fn(&rows[1], "encode", false, -1, NULL, 2000);
	assert_fn(&rows[2], "resize", true, 4, "100/s", 1700000000123);
	assert_fn(&rows[3], "zip", false, 0, "", 3000);
	sje__fn_rows_free(rows, n);

	// A put replaces every setting of that function, and only its.
	put_fn(f->store, "resize", false, -1, NULL, 5000);
	put_fn(f->store, "encode", true, 8, "1/s", 6000);
	assert_int_equal(
	    sje__store_list_functions(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 4);
	assert_fn(&rows[0], "Zeta", true, INT64_MAX, "5/m", 4000);
	assert_fn(&rows[1], "encode", true, 8, "1/s", 6000);
	assert_fn(&rows[2], "resize", false, -1, NULL, 5000);
	assert_fn(&rows[3], "zip", false, 0, "", 3000);
	sje__fn_rows_free(rows, n);
}

static void
test_put_function_inside_a_transaction_is_undone_by_rollback(void **state)
{
	fixture     *f    = *state;
	sje__fn_row *rows = NULL;
	size_t       n    = 0;

	put_fn(f->store, "kept", true, 1, "1/s", 100);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	put_fn(f->store, "kept", false, 9, NULL, 200);
	put_fn(f->store, "new", true, 2, "2/s", 300);
	assert_int_equal(
	    sje__store_list_functions(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 2);
	assert_fn(&rows[0], "kept", false, 9, NULL, 200);
	assert_fn(&rows[1], "new", true, 2, "2/s", 300);
	sje__fn_rows_free(rows, n);
	sje__store_rollback(f->store);
	assert_int_equal(
	    sje__store_list_functions(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_fn(&rows[0], "kept", true, 1, "1/s", 100);
	sje__fn_rows_free(rows, n);
}

static void
test_function_settings_survive_reopening(void **state)
{
	fixture     *f    = *state;
	sje__fn_row *rows = NULL;
	size_t       n    = 0;

	put_fn(f->store, "by-itself", true, 3, "10/s", 1700000000001);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	put_fn(f->store, "committed", false, 0, "", 1700000000002);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	reopen(f);
	assert_int_equal(
	    sje__store_list_functions(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 2);
	assert_fn(&rows[0], "by-itself", true, 3, "10/s", 1700000000001);
	assert_fn(&rows[1], "committed", false, 0, "", 1700000000002);
	sje__fn_rows_free(rows, n);
}

static void
test_a_reader_reads_the_function_settings_the_writer_committed(void **state)
{
	fixture     *f    = *state;
	sje__store  *r    = NULL;
	sje__fn_row *rows = NULL;
	size_t       n    = 0;

	if (backend == B_MEMORY) {
		skip(); // no readers
	}
	put_fn(f->store, "seen", true, 5, "3/s", 700);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	put_fn(f->store, "unseen", false, 1, NULL, 800);
	// The reader opens on the current schema and sees what is
	// committed, not the writer's open transaction.
	assert_int_equal(sje__store_open_reader(f->store, &r), SJE_OK);
	assert_int_equal(sje__store_list_functions(r, &rows, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_fn(&rows[0], "seen", true, 5, "3/s", 700);
	sje__fn_rows_free(rows, n);
	// It cannot write.
	sje__fn_row row = { .name = "x", .concurrency = -1 };
	assert_int_not_equal(sje__store_put_function(r, &row), SJE_OK);
	sje__store_close(r);
	sje__store_rollback(f->store);
}

static void
test_put_function_refuses_an_empty_name(void **state)
{
	fixture     *f    = *state;
	sje__fn_row  row  = { .name = NULL, .paused = true, .concurrency = 1 };
	sje__fn_row *rows = NULL;
	size_t       n    = 99;

	assert_int_equal(sje__store_put_function(f->store, &row), SJE_EINVAL);
	row.name = "";
	assert_int_equal(sje__store_put_function(f->store, &row), SJE_EINVAL);
	// In a transaction too, which stays usable.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(sje__store_put_function(f->store, &row), SJE_EINVAL);
	put_fn(f->store, "named", false, -1, NULL, 1);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	assert_int_equal(
	    sje__store_list_functions(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_fn(&rows[0], "named", false, -1, NULL, 1);
	sje__fn_rows_free(rows, n);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

// put_sched keeps schedule name's state, which must succeed.
static void
put_sched(sje__store *s, const char *name, sje_time_ms tick, const char *id)
{
	sje__schedule_row row = { .name = (char *) name,
		.last_tick_ms           = tick,
		.last_task_id           = (char *) id };
	assert_int_equal(sje__store_put_schedule(s, &row), SJE_OK);
}

static void
test_put_schedule_replaces_the_state_and_list_schedules_reads_it_by_name(
    void **state)
{
	fixture           *f    = *state;
	sje__schedule_row *rows = NULL;
	size_t             n    = 0;

	assert_int_equal(
	    sje__store_list_schedules(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 0);
	assert_null(rows);
	put_sched(f->store, "sweep", 1700000000000, "sweep@1700000000");
	put_sched(f->store, "nightly", 1700000060000, NULL);
	put_sched(f->store, "sweep", 1700000300000, "sweep@1700000300");
	assert_int_equal(
	    sje__store_list_schedules(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].name, "nightly");
	assert_int_equal(rows[0].last_tick_ms, 1700000060000);
	assert_null(rows[0].last_task_id);
	assert_string_equal(rows[1].name, "sweep");
	assert_int_equal(rows[1].last_tick_ms, 1700000300000);
	assert_string_equal(rows[1].last_task_id, "sweep@1700000300");
	sje__schedule_rows_free(rows, n);
}

static void
test_put_schedule_inside_a_transaction_is_undone_by_rollback(void **state)
{
	fixture           *f    = *state;
	sje__schedule_row *rows = NULL;
	size_t             n    = 0;

	put_sched(f->store, "kept", 1000, "kept@1");
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	put_sched(f->store, "kept", 2000, "kept@2");
	put_sched(f->store, "new", 3000, "new@3");
	sje__store_rollback(f->store);
	assert_int_equal(
	    sje__store_list_schedules(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].last_tick_ms, 1000);
	assert_string_equal(rows[0].last_task_id, "kept@1");
	sje__schedule_rows_free(rows, n);
}

static void
test_schedule_state_survives_reopening(void **state)
{
	fixture           *f    = *state;
	sje__schedule_row *rows = NULL;
	size_t             n    = 0;

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	put_sched(f->store, "sweep", 1700000000000, "sweep@1700000000");
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	reopen(f);
	assert_int_equal(
	    sje__store_list_schedules(f->store, &rows, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].name, "sweep");
	assert_int_equal(rows[0].last_tick_ms, 1700000000000);
	sje__schedule_rows_free(rows, n);
}

static void
test_put_schedule_refuses_an_empty_name(void **state)
{
	fixture          *f   = *state;
	sje__schedule_row row = { .name = "", .last_tick_ms = 1 };
	assert_int_equal(sje__store_put_schedule(f->store, &row), SJE_EINVAL);
	row.name = NULL;
	assert_int_equal(sje__store_put_schedule(f->store, &row), SJE_EINVAL);
}

static void
test_find_jobs_tells_which_task_ids_are_stored_in_one_call(void **state)
{
	fixture *f = *state;
	// Ids with the characters an array literal or a LIKE would trip on.
	const char *stored[] = { "plain", "quote\"d", "back\\slash",
		"{brace,comma}", "100%_x", "\xc3\xa9t\xc3\xa9" };
	for (size_t i = 0; i < sizeof(stored) / sizeof(*stored); i++) {
		sje__job_row r = min_row(stored[i], "f", 3);
		(void) insert(f->store, &r);
	}
	const char *ask[]  = { "plain", "missing", "quote\"d", NULL,
		 "back\\slash", "{brace,comma}", "100%_y", "100%_x",
		 "\xc3\xa9t\xc3\xa9", "plai", "plain" };
	const bool  want[] = { true, false, true, false, true, true, false,
		 true, true, false, true };
	bool        found[sizeof(ask) / sizeof(*ask)];
	memset(found, 0xff, sizeof(found));
	assert_int_equal(sje__store_find_jobs(
	                     f->store, ask, sizeof(ask) / sizeof(*ask), found),
	    SJE_OK);
	for (size_t i = 0; i < sizeof(ask) / sizeof(*ask); i++) {
		assert_int_equal(found[i], want[i]);
	}
	// Inside a transaction it sees the transaction's own rows.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	sje__job_row r = min_row("fresh", "f", 3);
	(void) insert(f->store, &r);
	const char *fresh[] = { "fresh" };
	assert_int_equal(
	    sje__store_find_jobs(f->store, fresh, 1, found), SJE_OK);
	assert_true(found[0]);
	sje__store_rollback(f->store);
	assert_int_equal(
	    sje__store_find_jobs(f->store, fresh, 1, found), SJE_OK);
	assert_false(found[0]);
	// None asked: nothing to do.
	assert_int_equal(
	    sje__store_find_jobs(f->store, NULL, 0, found), SJE_OK);
}

static void
test_get_jobs_reads_each_asked_job_in_the_order_asked(void **state)
{
	fixture      *f     = *state;
	sje__job_row  a     = full_row("a\"1", "f", SUCCEEDED);
	sje__job_row  b     = full_row("b,2", "g", FAILED);
	int64_t       ida   = insert(f->store, &a);
	int64_t       idb   = insert(f->store, &b);
	const char   *ask[] = { "b,2", "missing", "a\"1", NULL, "b,2" };
	sje__job_row *rows[5];
	assert_int_equal(sje__store_get_jobs(f->store, ask, 5, rows), SJE_OK);
	assert_non_null(rows[0]);
	assert_null(rows[1]);
	assert_non_null(rows[2]);
	assert_null(rows[3]);
	assert_non_null(rows[4]);
	assert_true(rows[0]->id == idb && rows[4]->id == idb);
	assert_true(rows[2]->id == ida);
	a.id = ida;
	b.id = idb;
	assert_rows_equal(rows[2], &a);
	assert_rows_equal(rows[0], &b);
	assert_rows_equal(rows[4], &b);
	for (size_t i = 0; i < 5; i++) {
		sje__job_row_free(rows[i]);
	}
	assert_int_equal(sje__store_get_jobs(f->store, NULL, 0, rows), SJE_OK);
}

static void
test_list_attempts_of_reads_each_jobs_attempts_in_the_order_asked(void **state)
{
	fixture     *f   = *state;
	sje__job_row a   = full_row("a", "f", SUCCEEDED);
	sje__job_row b   = full_row("b", "f", FAILED);
	sje__job_row c   = full_row("c", "f", QUEUED);
	int64_t      ida = insert(f->store, &a);
	int64_t      idb = insert(f->store, &b);
	int64_t      idc = insert(f->store, &c);
	put_attempts(f->store, ida, 1, SUCCEEDED);
	// Attempts written in a transaction are seen in it.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	put_attempts(f->store, idb, 3, FAILED);
	const int64_t     ask[] = { idb, idc, ida, idb, 999999 };
	size_t            counts[5];
	sje__attempt_row *rows = NULL;
	assert_int_equal(
	    sje__store_list_attempts_of(f->store, ask, 5, &rows, counts),
	    SJE_OK);
	assert_int_equal(counts[0], 3);
	assert_int_equal(counts[1], 0);
	assert_int_equal(counts[2], 1);
	assert_int_equal(counts[3], 3);
	assert_int_equal(counts[4], 0);
	const uint32_t numbers[] = { 1, 2, 3, 1, 1, 2, 3 };
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(rows[i].number, numbers[i]);
		assert_string_equal(rows[i].worker, "w");
	}
	assert_int_equal(rows[3].outcome, SUCCEEDED);
	assert_true(rows[2].finished_ms == 35);
	sje__attempt_rows_free(rows, 7);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	// No attempts at all: no array.
	const int64_t none[] = { idc };
	assert_int_equal(
	    sje__store_list_attempts_of(f->store, none, 1, &rows, counts),
	    SJE_OK);
	assert_int_equal(counts[0], 0);
	assert_null(rows);
}

static void
test_a_claim_that_fails_in_a_transaction_commits_none_of_it(void **state)
{
	fixture       *f    = *state;
	sje__job_row   run  = min_row("already", "f", RUNNING);
	sje__job_row   q    = min_row("queued", "f", QUEUED);
	sje__job_row   side = min_row("side", "f", QUEUED);
	int64_t        idr  = insert(f->store, &run);
	int64_t        idq  = insert(f->store, &q);
	sje__job_claim c    = { .lease_id = 9, .worker = "w", .attempt = 1 };

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	insert(f->store, &side);
	assert_int_equal(sje__store_claim_job(f->store, idq, &c), SJE_OK);
	sje_err at_once = sje__store_claim_job(f->store, idr, &c);
	if (at_once == SJE_EPRECOND) {
		// Checked at the call: the transaction goes on.
		assert_int_equal(sje__store_commit(f->store), SJE_OK);
		sje__job_row *got = get(f->store, "queued");
		assert_int_equal(got->state, RUNNING);
		sje__job_row_free(got);
		return;
	}
	// Kept for later: the next read of jobs, or the commit, fails, and
	// nothing of the transaction is kept.
	assert_int_equal(at_once, SJE_OK);
	assert_int_not_equal(sje__store_commit(f->store), SJE_OK);
	sje__job_row *got = get(f->store, "queued");
	assert_int_equal(got->state, QUEUED);
	sje__job_row_free(got);
	sje__job_row *none = NULL;
	assert_int_equal(
	    sje__store_get_job(f->store, "side", &none), SJE_ENOTFOUND);
	// And the store goes on.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(sje__store_claim_job(f->store, idq, &c), SJE_OK);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	got = get(f->store, "queued");
	assert_int_equal(got->state, RUNNING);
	assert_true(got->lease_id == 9);
	sje__job_row_free(got);
}

static void
test_a_success_that_fails_in_a_transaction_commits_none_of_it(void **state)
{
	fixture      *f    = *state;
	sje__job_row  a    = min_row("ends", "f", QUEUED);
	sje__job_row  b    = min_row("moved", "f", QUEUED);
	sje__job_row  side = min_row("aside", "f", QUEUED);
	int64_t       ida  = insert(f->store, &a);
	int64_t       idb  = insert(f->store, &b);
	sje__job_row *got;

	assert_int_equal(claim(f->store, ida, 4, 1), SJE_OK);
	assert_int_equal(claim(f->store, idb, 5, 1), SJE_OK);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	insert(f->store, &side);
	assert_int_equal(succeed(f->store, ida, 4, "1", 30), SJE_OK);
	// A second success of the job in the transaction: refused at once.
	assert_int_equal(succeed(f->store, ida, 4, "2", 31), SJE_EPRECOND);
	sje_err at_once = succeed(f->store, idb, 6, "1", 30); // stale lease
	if (at_once == SJE_EPRECOND) {
		// Checked at the call: the transaction goes on.
		assert_int_equal(sje__store_commit(f->store), SJE_OK);
		got = get(f->store, "ends");
		assert_int_equal(got->state, SUCCEEDED);
		assert_string_equal(got->result_json, "1");
		sje__job_row_free(got);
		return;
	}
	// Kept for later: the next read of jobs, or the commit, fails, and
	// nothing of the transaction is kept.
	assert_int_equal(at_once, SJE_OK);
	assert_int_not_equal(sje__store_commit(f->store), SJE_OK);
	got = get(f->store, "ends");
	assert_int_equal(got->state, RUNNING);
	sje__job_row_free(got);
	sje__job_row *none = NULL;
	assert_int_equal(
	    sje__store_get_job(f->store, "aside", &none), SJE_ENOTFOUND);
	// And the store goes on.
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(succeed(f->store, ida, 4, "3", 40), SJE_OK);
	// A read of the job in the transaction sees the success.
	got = get(f->store, "ends");
	assert_int_equal(got->state, SUCCEEDED);
	sje__job_row_free(got);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	got = get(f->store, "ends");
	assert_string_equal(got->result_json, "3");
	assert_true(got->finished_ms == 40);
	sje__job_row_free(got);
}

static void
test_a_cursor_written_by_a_reader_is_read_by_the_next_one(void **state)
{
	fixture    *f = *state;
	sje__store *r = NULL, *r2 = NULL;
	uint64_t    seq = 99;

	if (backend != B_POSTGRES) {
		// One coordinator per store: the cursor is its own file.
		assert_int_equal(
		    sje__store_get_cursor(f->store, "hooks", &seq),
		    SJE_EUNIMPL);
		assert_int_equal(
		    sje__store_put_cursor(f->store, "hooks", 1), SJE_EUNIMPL);
		assert_int_equal(seq, 99);
		return;
	}
	assert_int_equal(sje__store_open_reader(f->store, &r), SJE_OK);
	assert_int_equal(
	    sje__store_get_cursor(r, "hooks", &seq), SJE_ENOTFOUND);
	// The one write a reader may make, committed at once.
	assert_int_equal(sje__store_put_cursor(r, "hooks", 41), SJE_OK);
	assert_int_equal(sje__store_put_cursor(r, "hooks", 42), SJE_OK);
	assert_int_equal(sje__store_put_cursor(r, "other", 7), SJE_OK);
	sje__store_close(r);
	// Another coordinator's reader, later, goes on from it.
	reopen(f);
	assert_int_equal(sje__store_open_reader(f->store, &r2), SJE_OK);
	assert_int_equal(sje__store_get_cursor(r2, "hooks", &seq), SJE_OK);
	assert_int_equal(seq, 42);
	assert_int_equal(sje__store_get_cursor(r2, "other", &seq), SJE_OK);
	assert_int_equal(seq, 7);
	// And the reader stays read-only for everything else.
	sje__fn_row row = { .name = "x", .concurrency = -1 };
	assert_int_not_equal(sje__store_put_function(r2, &row), SJE_OK);
	sje__store_close(r2);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_insert_then_get_by_task_id_and_id_round_trips_every_field),
		T(test_insert_keeps_an_empty_spec_and_empty_strings),
		T(test_insert_of_an_existing_task_id_fails_with_eexist),
		T(test_insert_jobs_of_a_batch_is_all_or_nothing),
		T(test_a_batch_of_many_statements_is_all_or_nothing_too),
		T(test_a_refused_write_leaves_the_transaction_usable),
		T(test_get_of_an_unknown_job_fails_with_enotfound),
		T(test_get_result_reads_the_result_alone),
		T(test_update_changes_the_mutable_fields_only),
		T(test_update_of_an_unknown_id_fails_with_enotfound),
		T(test_update_from_another_state_changes_nothing),
		T(test_finish_from_any_unfinished_state_happens_once),
		T(test_claim_leases_a_queued_job_and_records_its_attempt),
		T(test_claim_refuses_a_job_already_leased),
		T(test_succeed_ends_a_running_job_and_its_current_attempt),
		T(test_succeed_refuses_a_stale_lease_another_state_or_no_job),
		T(test_a_claim_and_its_success_in_one_transaction_commit_both),
		T(test_a_success_that_fails_in_a_transaction_commits_none_of_it),
		T(test_finish_with_a_stale_lease_changes_nothing),
		T(test_extend_lease_holds_only_under_the_current_lease),
		T(test_rollback_undoes_the_inserts_and_commit_keeps_them),
		T(test_rollback_undoes_claims_updates_and_attempts),
		T(test_rollback_without_a_transaction_is_harmless),
		T(test_data_survives_close_and_reopen),
		T(test_scan_active_returns_only_non_terminal_jobs_in_id_order),
		T(test_list_jobs_filters_by_state_function_and_run_newest_first),
		T(test_list_jobs_pages_with_before_id),
		T(test_list_jobs_filters_by_worker_and_creation_time_newest_first),
		T(test_list_jobs_filters_by_a_label_of_the_packed_spec),
		T(test_a_label_filter_reads_at_most_max_scan_rows_and_says_where_to_go_on),
		T(test_list_jobs_by_task_id_prefix_is_a_byte_range_newest_first),
		T(test_paging_a_prefix_many_jobs_share_sees_each_of_them_once_newest_first),
		T(test_list_jobs_by_parent_finds_the_children_newest_first),
		T(test_a_deleted_or_purged_child_leaves_no_parent_record_behind),
		T(test_list_jobs_of_runs_finds_the_first_step_of_each_run_newest_first),
		T(test_prefix_upper_bound_is_the_least_string_above_the_prefix),
		T(test_attempts_are_kept_in_order_and_replaced_by_number),
		T(test_events_get_consecutive_seqs_from_one),
		T(test_events_get_consecutive_seqs_across_a_reopen),
		T(test_events_are_listed_after_a_seq_filtered_and_pruned),
		T(test_many_events_of_a_transaction_are_listed_in_it_and_kept_by_commit),
		T(test_purge_deletes_only_jobs_finished_before_the_time),
		T(test_purge_keeps_unfinished_jobs_and_takes_the_oldest_first),
		T(test_delete_job_removes_a_finished_job_and_its_attempts),
		T(test_delete_job_refuses_an_unfinished_job_and_changes_nothing),
		T(test_delete_job_of_an_unknown_id_is_not_found),
		T(test_delete_job_inside_a_transaction_is_undone_by_rollback),
		T(test_delete_job_takes_the_attempts_written_earlier_in_its_transaction),
		T(test_a_refused_delete_job_leaves_the_transaction_usable),
		T(test_put_function_replaces_the_settings_and_list_functions_reads_them_by_name),
		T(test_put_function_inside_a_transaction_is_undone_by_rollback),
		T(test_function_settings_survive_reopening),
		T(test_a_reader_reads_the_function_settings_the_writer_committed),
		T(test_put_function_refuses_an_empty_name),
		T(test_put_schedule_replaces_the_state_and_list_schedules_reads_it_by_name),
		T(test_put_schedule_inside_a_transaction_is_undone_by_rollback),
		T(test_schedule_state_survives_reopening),
		T(test_put_schedule_refuses_an_empty_name),
		T(test_a_cursor_written_by_a_reader_is_read_by_the_next_one),
		T(test_find_jobs_tells_which_task_ids_are_stored_in_one_call),
		T(test_a_claim_that_fails_in_a_transaction_commits_none_of_it),
		T(test_get_jobs_reads_each_asked_job_in_the_order_asked),
		T(test_list_attempts_of_reads_each_jobs_attempts_in_the_order_asked),
	};
	if (argc == 2 && strcmp(argv[1], "sqlite") == 0) {
		backend = B_SQLITE;
	} else if (argc == 2 && strcmp(argv[1], "postgres") == 0) {
		backend = B_POSTGRES;
		if (!pg_dsn_read()) {
			return 1;
		}
	} else if (argc == 2 && strcmp(argv[1], "memory") == 0) {
		backend = B_MEMORY;
	} else {
		fprintf(stderr, "usage: %s sqlite|postgres|memory\n", argv[0]);
		return 2;
	}
	return cmocka_run_group_tests_name(argv[1], tests, NULL, NULL);
}
