// store_test.c — unit tests of the SQLite job store (server/store/sqlite.c).
//
// Each test gets a fresh temporary directory (under $TMPDIR or /tmp) with
// a store opened in it; teardown closes the store and removes the files.
// sqlite3.h is included only for the test that plants a newer schema
// version, which the store's API cannot do.
#include <sje/sje.h>

#include "store/store.h"

#include <sqlite3.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// cmocka.h needs these first.
#include <setjmp.h>

#include <cmocka.h>

typedef struct fixture {
	char        dir[512];  // the temporary directory
	char        data[600]; // the data_dir given to the store
	sje__store *store;
} fixture;

// A spec blob with a NUL and high bytes in it: the store keeps bytes.
static const uint8_t spec_bytes[] = { 0x0a, 0x03, 'j', '-', '1', 0x00, 0xff,
	0x12, 0x04, 'e', 'c', 'h', 'o' };

static void
path_join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s/%s", a, b);
	assert_true(n > 0 && (size_t) n < len);
}

static void
remove_tree_files(const char *dir)
{
	static const char *const names[] = { "sje.db", "sje.db-wal",
		"sje.db-shm", "sje.db-journal" };
	char                     path[700];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_join(path, sizeof(path), dir, names[i]);
		(void) unlink(path);
	}
}

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	fixture    *f   = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	if (tmp == NULL || tmp[0] == '\0') {
		tmp = "/tmp";
	}
	snprintf(f->dir, sizeof(f->dir), "%s/sje-store-test-XXXXXX", tmp);
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	// A data_dir two levels down: open must create it (mkdir -p).
	snprintf(f->data, sizeof(f->data), "%s/a/b", f->dir);
	if (sje__store_open(f->data, SJE_SYNC_NORMAL, &f->store) != SJE_OK) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	char     path[700];

	sje__store_close(f->store);
	remove_tree_files(f->data);
	rmdir(f->data);
	path_join(path, sizeof(path), f->dir, "a");
	rmdir(path);
	if (rmdir(f->dir) != 0) {
		fprintf(stderr, "teardown: cannot remove %s: %s\n", f->dir,
		    strerror(errno));
		free(f);
		return -1;
	}
	free(f);
	return 0;
}

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
}

static int64_t
insert(sje__store *s, const sje__job_row *row)
{
	int64_t id = -1;
	assert_int_equal(sje__store_insert_job(s, row, &id), SJE_OK);
	assert_true(id > 0);
	return id;
}

static void
test_open_creates_the_data_dir_and_the_database_file(void **state)
{
	fixture    *f = *state;
	struct stat sb;
	char        path[700];

	assert_int_equal(stat(f->data, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0700);
	path_join(path, sizeof(path), f->data, "sje.db");
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
}

static void
test_open_fails_with_eio_when_data_dir_is_a_file(void **state)
{
	fixture    *f = *state;
	sje__store *s = (sje__store *) &s; // must stay untouched
	char        path[700];
	FILE       *fp;

	path_join(path, sizeof(path), f->dir, "plain-file");
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(sje__store_open(path, SJE_SYNC_NORMAL, &s), SJE_EIO);
	assert_ptr_equal(s, (sje__store *) &s);
	assert_int_equal(unlink(path), 0);
}

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

	assert_int_equal(sje__store_get_job(f->store, "job-1", &got), SJE_OK);
	assert_true(got->id == id1);
	assert_rows_equal(got, &full);
	sje__job_row_free(got);

	assert_int_equal(
	    sje__store_get_job_by_id(f->store, id1, &got), SJE_OK);
	assert_true(got->id == id1);
	assert_rows_equal(got, &full);
	sje__job_row_free(got);

	// NULL strings stay NULL; zeros stay zero.
	assert_int_equal(sje__store_get_job(f->store, "job-2", &got), SJE_OK);
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
	assert_int_equal(sje__store_get_job(f->store, "job-e", &got), SJE_OK);
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
test_update_changes_the_mutable_fields_only(void **state)
{
	fixture      *f   = *state;
	sje__job_row  row = min_row("job-u", "resize", 3);
	sje__job_row  upd = full_row("ignored", "ignored", 5);
	sje__job_row  want;
	sje__job_row *got = NULL;

	row.priority   = 9;
	row.timeout_s  = 60;
	row.created_ms = 1000;
	upd.id         = insert(f->store, &row);
	assert_int_equal(sje__store_update_job(f->store, &upd), SJE_OK);
	assert_int_equal(sje__store_get_job(f->store, "job-u", &got), SJE_OK);

	// Expected: upd's mutable fields over row's fixed ones.
	want            = upd;
	want.task_id    = row.task_id;
	want.function   = row.function;
	want.priority   = row.priority;
	want.timeout_s  = row.timeout_s;
	want.created_ms = row.created_ms;
	assert_rows_equal(got, &want);
	sje__job_row_free(got);

	// And back to NULLs.
	row.id = upd.id;
	assert_int_equal(sje__store_update_job(f->store, &row), SJE_OK);
	assert_int_equal(sje__store_get_job(f->store, "job-u", &got), SJE_OK);
	assert_rows_equal(got, &row);
	sje__job_row_free(got);
}

static void
test_update_of_an_unknown_id_fails_with_enotfound(void **state)
{
	fixture     *f   = *state;
	sje__job_row row = full_row("x", "y", 3);

	row.id = 999;
	assert_int_equal(sje__store_update_job(f->store, &row), SJE_ENOTFOUND);
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
	assert_ptr_equal(got, (sje__job_row *) &got);
}

static void
test_rollback_discards_an_insert_and_commit_keeps_one(void **state)
{
	fixture      *f   = *state;
	sje__job_row  a   = min_row("rolled-back", "f", 3);
	sje__job_row  b   = min_row("committed", "f", 3);
	sje__job_row *got = NULL;
	uint64_t      v   = 1;

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	insert(f->store, &a);
	assert_int_equal(sje__store_meta_set(f->store, "seq", 7), SJE_OK);
	sje__store_rollback(f->store);
	assert_int_equal(
	    sje__store_get_job(f->store, "rolled-back", &got), SJE_ENOTFOUND);
	assert_int_equal(sje__store_meta_get(f->store, "seq", &v), SJE_OK);
	assert_true(v == 0);

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	insert(f->store, &b);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	assert_int_equal(
	    sje__store_get_job(f->store, "committed", &got), SJE_OK);
	sje__job_row_free(got);
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
	uint64_t      v   = 0;
	int64_t       id;

	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	id = insert(f->store, &row);
	assert_int_equal(sje__store_meta_set(f->store, "seq", 99), SJE_OK);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	sje__store_close(f->store);
	f->store = NULL;

	assert_int_equal(
	    sje__store_open(f->data, SJE_SYNC_FULL, &f->store), SJE_OK);
	assert_int_equal(
	    sje__store_get_job(f->store, "durable", &got), SJE_OK);
	assert_true(got->id == id);
	assert_rows_equal(got, &row);
	sje__job_row_free(got);
	assert_int_equal(sje__store_meta_get(f->store, "seq", &v), SJE_OK);
	assert_true(v == 99);
}

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
list(sje__store *s, int st, const char *function, uint32_t limit,
    int64_t before_id, size_t want_n, ...)
{
	sje__job_filter filt = { .state = st,
		.function               = function,
		.limit                  = limit,
		.before_id              = before_id };
	sje__job_row  **rows = NULL;
	size_t          n    = 99;
	va_list         ap;

	assert_int_equal(sje__store_list_jobs(s, &filt, &rows, &n), SJE_OK);
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

static void
test_list_jobs_filters_by_state_and_function_newest_first(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *task_id;
		const char *function;
		int         state;
	} jobs[] = {
		{ "j1", "resize", 3 },
		{ "j2", "encode", 3 },
		{ "j3", "resize", 5 },
		{ "j4", "resize", 3 },
		{ "j5", "encode", 6 },
	};

	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		sje__job_row r =
		    min_row(jobs[i].task_id, jobs[i].function, jobs[i].state);
		insert(f->store, &r);
	}
	list(f->store, 0, NULL, 100, 0, 5, "j5", "j4", "j3", "j2", "j1");
	list(f->store, 0, "", 100, 0, 5, "j5", "j4", "j3", "j2", "j1");
	list(f->store, 3, NULL, 100, 0, 3, "j4", "j2", "j1");
	list(f->store, 0, "resize", 100, 0, 3, "j4", "j3", "j1");
	list(f->store, 3, "resize", 100, 0, 2, "j4", "j1");
	list(f->store, 6, "resize", 100, 0, 0);
	list(f->store, 0, "nothing", 100, 0, 0);
	list(f->store, 0, NULL, 0, 0, 0);
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
	list(f->store, 3, "f", 10, ids[3], 3, "p2", "p1", "p0");
}

static void
test_meta_is_zero_when_unset_and_round_trips(void **state)
{
	fixture *f = *state;
	uint64_t v = 1;

	assert_int_equal(
	    sje__store_meta_get(f->store, "event_seq", &v), SJE_OK);
	assert_true(v == 0);
	assert_int_equal(
	    sje__store_meta_set(f->store, "event_seq", 5), SJE_OK);
	assert_int_equal(
	    sje__store_meta_get(f->store, "event_seq", &v), SJE_OK);
	assert_true(v == 5);
	// Overwrites, and keeps all 64 bits.
	assert_int_equal(
	    sje__store_meta_set(f->store, "event_seq", UINT64_MAX), SJE_OK);
	assert_int_equal(
	    sje__store_meta_get(f->store, "event_seq", &v), SJE_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(sje__store_meta_get(f->store, "other", &v), SJE_OK);
	assert_true(v == 0);
}

static void
test_open_refuses_a_schema_newer_than_ours_with_eproto(void **state)
{
	fixture    *f = *state;
	sje__store *s = NULL;
	sqlite3    *db;
	char        path[700];
	char        sql[64];

	sje__store_close(f->store);
	f->store = NULL;
	path_join(path, sizeof(path), f->data, "sje.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    SJE_STORE_SCHEMA_VERSION + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);

	assert_int_equal(
	    sje__store_open(f->data, SJE_SYNC_NORMAL, &s), SJE_EPROTO);
	assert_null(s);

	// Back to our version: it opens again (for teardown).
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    SJE_STORE_SCHEMA_VERSION);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(
	    sje__store_open(f->data, SJE_SYNC_NORMAL, &f->store), SJE_OK);
}

static void
test_close_accepts_null(void **state)
{
	(void) state;
	sje__store_close(NULL);
	sje__job_row_free(NULL);
}

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

typedef struct seen_events {
	uint64_t seq[16];
	char     data[16][8];
	size_t   n;
} seen_events;

static sje_err
collect_event(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
	seen_events *e = arg;
	e->seq[e->n]   = seq;
	snprintf(e->data[e->n], sizeof(e->data[0]), "%.*s", (int) len,
	    (const char *) data);
	e->n++;
	return SJE_OK;
}

static void
test_events_are_listed_after_a_seq_filtered_and_pruned(void **state)
{
	fixture *f = *state;
	for (uint64_t i = 1; i <= 6; i++) {
		char d[8];
		snprintf(d, sizeof(d), "e%u", (unsigned) i);
		assert_int_equal(sje__store_add_event(f->store, i,
		                     i % 2 == 0 ? "even" : "odd",
		                     (const uint8_t *) d, strlen(d)),
		    SJE_OK);
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

static void
test_reader_sees_what_the_writer_committed_and_nothing_else(void **state)
{
	fixture    *f = *state;
	sje__store *r;
	seen_events e = { .n = 0 };

	assert_int_equal(sje__store_open_reader(f->data, &r), SJE_OK);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(
	    sje__store_add_event(f->store, 1, "t", (const uint8_t *) "e1", 2),
	    SJE_OK);
	// Not committed yet: the reader (WAL) does not see it, nor wait.
	assert_int_equal(
	    sje__store_list_events(r, 0, NULL, 10, collect_event, &e), SJE_OK);
	assert_int_equal(e.n, 0);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	assert_int_equal(
	    sje__store_list_events(r, 0, NULL, 10, collect_event, &e), SJE_OK);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.data[0], "e1");
	// It reads; it cannot write.
	assert_int_not_equal(sje__store_meta_set(r, "x", 1), SJE_OK);
	sje__store_close(r);
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

static void
test_reader_refuses_a_missing_database(void **state)
{
	fixture    *f = *state;
	sje__store *r = NULL;
	char        dir[700];

	path_join(dir, sizeof(dir), f->dir, "nothing-here");
	assert_int_not_equal(sje__store_open_reader(dir, &r), SJE_OK);
	assert_null(r);
}

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
	assert_int_equal(
	    sje__store_get_job(f->store, "purge-1", &row), SJE_OK);
	sje__job_row_free(row);
	assert_int_equal(
	    sje__store_purge_finished(f->store, 99999, 100, &n), SJE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(
	    sje__store_get_job(f->store, "purge-2", &row), SJE_OK);
	sje__job_row_free(row);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_creates_the_data_dir_and_the_database_file),
		T(test_open_fails_with_eio_when_data_dir_is_a_file),
		T(test_insert_then_get_by_task_id_and_id_round_trips_every_field),
		T(test_insert_keeps_an_empty_spec_and_empty_strings),
		T(test_insert_of_an_existing_task_id_fails_with_eexist),
		T(test_update_changes_the_mutable_fields_only),
		T(test_update_of_an_unknown_id_fails_with_enotfound),
		T(test_get_of_an_unknown_job_fails_with_enotfound),
		T(test_rollback_discards_an_insert_and_commit_keeps_one),
		T(test_rollback_without_a_transaction_is_harmless),
		T(test_data_survives_close_and_reopen),
		T(test_scan_active_returns_only_non_terminal_jobs_in_id_order),
		T(test_list_jobs_filters_by_state_and_function_newest_first),
		T(test_list_jobs_pages_with_before_id),
		T(test_meta_is_zero_when_unset_and_round_trips),
		T(test_open_refuses_a_schema_newer_than_ours_with_eproto),
		T(test_attempts_are_kept_in_order_and_replaced_by_number),
		T(test_events_are_listed_after_a_seq_filtered_and_pruned),
		T(test_purge_deletes_only_jobs_finished_before_the_time),
		T(test_reader_sees_what_the_writer_committed_and_nothing_else),
		T(test_reader_refuses_a_missing_database),
		T(test_get_result_reads_the_result_alone),
		cmocka_unit_test(test_close_accepts_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
