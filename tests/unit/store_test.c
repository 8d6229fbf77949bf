// store_test.c — unit tests of what is SQLite's own in the job store
// (server/store/sqlite.c): the directory and the file, the schema version,
// the reader connection, stores written by earlier versions. The verbs
// every backend shares are tested by the store contract
// (tests/store/contract.c), for SQLite too.
//
// Each test gets a fresh temporary directory (under $TMPDIR or /tmp) with
// a store opened in it; teardown closes the store and removes the files.
// sqlite3.h is included only for the test that plants a newer schema
// version, which the store's API cannot do.
#include <sje/sje.h>

#include "store/store.h"
#include "tmpdir.h"

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

static void
path_join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s/%s", a, b);
	assert_true(n > 0 && (size_t) n < len);
}

static sje_err
open_at(const char *dir, sje_sync_mode sync, sje__store **out)
{
	sje__store_sqlite_opts o = { .directory = dir, .sync = sync };
	return sje__store_open_sqlite(&o, out);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	if (!sje_test_tmpdir_make(f->dir, sizeof(f->dir), "sje-store-test")) {
		free(f);
		return -1;
	}
	// A data_dir two levels down: open must create it (mkdir -p).
	snprintf(f->data, sizeof(f->data), "%s/a/b", f->dir);
	if (open_at(f->data, SJE_SYNC_NORMAL, &f->store) != SJE_OK) {
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

	sje__store_close(f->store);
	bool ok = sje_test_tmpdir_remove(f->dir);
	free(f);
	return ok ? 0 : -1;
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
	assert_int_equal(open_at(path, SJE_SYNC_NORMAL, &s), SJE_EIO);
	assert_ptr_equal(s, (sje__store *) &s);
	assert_int_equal(unlink(path), 0);
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

	assert_int_equal(open_at(f->data, SJE_SYNC_NORMAL, &s), SJE_EPROTO);
	assert_null(s);

	// Back to our version: it opens again (for teardown).
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    SJE_STORE_SCHEMA_VERSION);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(open_at(f->data, SJE_SYNC_NORMAL, &f->store), SJE_OK);
}

// exec_at runs sql on the database file of data_dir, the store closed.
static void
exec_at(const char *data_dir, const char *sql)
{
	sqlite3 *db;
	char     path[700];
	path_join(path, sizeof(path), data_dir, "sje.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "%s\n", sqlite3_errmsg(db));
	}
	assert_int_equal(rc, SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void
test_version_7_marks_the_first_step_of_each_run_stored_before(void **state)
{
	fixture *f = *state;
	// Steps of two runs and a lone job, stored as version 6 stored them.
	const char *ids[]  = { "r1.a", "r1.b", "lone", "r2.a", "r2.b" };
	const char *runs[] = { "r1", "r1", NULL, "r2", "r2" };
	for (int i = 0; i < 5; i++) {
		sje__job_row r = { .task_id = (char *) ids[i],
			.function           = "f",
			.state              = 3,
			.workflow_id        = (char *) runs[i] };
		int64_t      id;
		assert_int_equal(
		    sje__store_insert_job(f->store, &r, &id), SJE_OK);
	}
	sje__store_close(f->store);
	f->store = NULL;
	exec_at(f->data,
	    "DROP TABLE parents; DROP INDEX jobs_runs;"
	    "ALTER TABLE jobs DROP COLUMN run_first;"
	    "PRAGMA user_version = 6");
	assert_int_equal(open_at(f->data, SJE_SYNC_NORMAL, &f->store), SJE_OK);
	sje__job_filter flt = { .runs = true, .limit = 10 };
	sje__job_row  **rows;
	size_t          n;
	assert_int_equal(
	    sje__store_list_jobs(f->store, &flt, &rows, &n), SJE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0]->task_id, "r2.a");
	assert_string_equal(rows[1]->task_id, "r1.a");
	for (size_t i = 0; i < n; i++) {
		sje__job_row_free(rows[i]);
	}
	free(rows);
	// The parents' table is there, empty: no child is known.
	flt = (sje__job_filter) { .parent = "r1.a", .limit = 10 };
	assert_int_equal(
	    sje__store_list_jobs(f->store, &flt, &rows, &n), SJE_OK);
	assert_int_equal(n, 0);
}

static void
test_close_accepts_null(void **state)
{
	(void) state;
	sje__store_close(NULL);
	sje__job_row_free(NULL);
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
test_reader_sees_what_the_writer_committed_and_nothing_else(void **state)
{
	fixture    *f = *state;
	sje__store *r;
	seen_events e   = { .n = 0 };
	uint64_t    seq = 0;

	assert_int_equal(sje__store_open_reader(f->store, &r), SJE_OK);
	assert_int_equal(sje__store_begin(f->store), SJE_OK);
	assert_int_equal(sje__store_next_event_seq(f->store, &seq), SJE_OK);
	assert_int_equal(sje__store_add_event(
	                     f->store, seq, "t", (const uint8_t *) "e1", 2),
	    SJE_OK);
	// Not committed yet: the reader (WAL) does not see it, nor wait.
	assert_int_equal(
	    sje__store_list_events(r, 0, NULL, 10, collect_event, &e), SJE_OK);
	assert_int_equal(e.n, 0);
	assert_int_equal(sje__store_last_event_seq(r, &seq), SJE_OK);
	assert_true(seq == 0);
	assert_int_equal(sje__store_commit(f->store), SJE_OK);
	assert_int_equal(
	    sje__store_list_events(r, 0, NULL, 10, collect_event, &e), SJE_OK);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.data[0], "e1");
	assert_int_equal(sje__store_last_event_seq(r, &seq), SJE_OK);
	assert_true(seq == 1);
	// It reads; it cannot write.
	sje__job_row row = { .task_id = "x", .function = "f", .state = 3 };
	int64_t      id  = 0;
	assert_int_not_equal(sje__store_next_event_seq(r, &seq), SJE_OK);
	assert_int_not_equal(sje__store_insert_job(r, &row, &id), SJE_OK);
	sje__store_close(r);
}

// plant_sql runs sql on the closed store's file, as another program would.
static void
plant_sql(fixture *f, const char *sql)
{
	sqlite3 *db;
	char     path[700];

	path_join(path, sizeof(path), f->data, "sje.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void
test_the_event_seq_of_an_earlier_version_goes_on(void **state)
{
	fixture *f   = *state;
	uint64_t seq = 0;

	// Before the store assigned seqs, the scheduler kept its counter
	// in the meta row "event_seq" (and, earlier, "lease_seq").
	sje__store_close(f->store);
	f->store = NULL;
	plant_sql(f,
	    "INSERT INTO meta (key, value) VALUES ('event_seq', 41), "
	    "('lease_seq', 7)");
	assert_int_equal(open_at(f->data, SJE_SYNC_NORMAL, &f->store), SJE_OK);
	assert_int_equal(sje__store_last_event_seq(f->store, &seq), SJE_OK);
	assert_true(seq == 41);
	assert_int_equal(sje__store_next_event_seq(f->store, &seq), SJE_OK);
	assert_true(seq == 42);

	// A kept event above the row (which no version writes) still wins.
	sje__store_close(f->store);
	f->store = NULL;
	plant_sql(f,
	    "INSERT INTO events (seq, task_id, data) "
	    "VALUES (50, 't', x'00')");
	assert_int_equal(open_at(f->data, SJE_SYNC_NORMAL, &f->store), SJE_OK);
	assert_int_equal(sje__store_next_event_seq(f->store, &seq), SJE_OK);
	assert_true(seq == 51);
}

static void
test_reader_refuses_a_missing_database(void **state)
{
	fixture    *f = *state;
	sje__store *r = NULL;
	char        dir[700];

	path_join(dir, sizeof(dir), f->dir, "nothing-here");
	assert_int_not_equal(sje__store_open_sqlite_reader(dir, &r), SJE_OK);
	assert_null(r);
}

// file_size is the size of dir/name in bytes (0 when it is missing).
static long long
file_size(const char *dir, const char *name)
{
	char        path[700];
	struct stat sb;

	path_join(path, sizeof(path), dir, name);
	return stat(path, &sb) == 0 ? (long long) sb.st_size : 0;
}

static void
test_the_store_checkpoints_the_wal_by_itself_while_the_writer_commits(
    void **state)
{
	fixture *f = *state;
	char     blob[4000];
	uint64_t seq;

	memset(blob, 'x', sizeof(blob));
	long long db0 = file_size(f->data, "sje.db");
	// 3,000 commits of a page or more each: past the checkpoint mark
	// (1,000 pages) three times over.
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(sje__store_begin(f->store), SJE_OK);
		assert_int_equal(
		    sje__store_next_event_seq(f->store, &seq), SJE_OK);
		assert_int_equal(sje__store_add_event(f->store, seq, "t",
		                     (const uint8_t *) blob, sizeof(blob)),
		    SJE_OK);
		assert_int_equal(sje__store_commit(f->store), SJE_OK);
	}
	// The writer never checkpoints (its automatic checkpoint is off):
	// the pages reach the database file only through the store's own
	// checkpointer. Poll for them, within a bound.
	long long want = db0 + 4LL * 1024 * 1024;
	for (int i = 0; i < 500 && file_size(f->data, "sje.db") < want; i++) {
		usleep(10 * 1000);
	}
	assert_true(file_size(f->data, "sje.db") >= want);
}

static void
test_the_store_copies_the_whole_wal_back_once_the_writer_is_quiet(void **state)
{
	fixture *f = *state;
	char     blob[4000];
	uint64_t seq;

	memset(blob, 'y', sizeof(blob));
	long long db0 = file_size(f->data, "sje.db");
	// 1,500 commits of a page or more each wake the checkpointer once
	// (at 1,000 frames not yet copied back); the frames after that pass
	// are copied back only by the pass it runs once the writer has been
	// quiet for a while. All of them reach the database file.
	for (int i = 0; i < 1500; i++) {
		assert_int_equal(sje__store_begin(f->store), SJE_OK);
		assert_int_equal(
		    sje__store_next_event_seq(f->store, &seq), SJE_OK);
		assert_int_equal(sje__store_add_event(f->store, seq, "t",
		                     (const uint8_t *) blob, sizeof(blob)),
		    SJE_OK);
		assert_int_equal(sje__store_commit(f->store), SJE_OK);
	}
	long long want = db0 + 1500LL * (long long) sizeof(blob);
	for (int i = 0; i < 500 && file_size(f->data, "sje.db") < want; i++) {
		usleep(10 * 1000);
	}
	assert_true(file_size(f->data, "sje.db") >= want);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_creates_the_data_dir_and_the_database_file),
		T(test_open_fails_with_eio_when_data_dir_is_a_file),
		T(test_open_refuses_a_schema_newer_than_ours_with_eproto),
		T(test_reader_sees_what_the_writer_committed_and_nothing_else),
		T(test_reader_refuses_a_missing_database),
		T(test_the_event_seq_of_an_earlier_version_goes_on),
		T(test_the_store_checkpoints_the_wal_by_itself_while_the_writer_commits),
		T(test_the_store_copies_the_whole_wal_back_once_the_writer_is_quiet),
		cmocka_unit_test(test_close_accepts_null),
		T(test_version_7_marks_the_first_step_of_each_run_stored_before),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
