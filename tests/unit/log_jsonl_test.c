// log_jsonl_test.c — unit tests of the log_jsonl plugin
// (plugins/log_jsonl), loaded through the real loader (plugins/host) with
// the coordinator's host API, from a config.yaml as an operator writes it,
// and fed events as sje-server's hook thread feeds them: one JSON line per
// event, rotation, the states filter, refused options, the rendering for
// an older host, concurrent events, appending, and an error episode.
//
// Needs $SJE_PLUGIN_PATH to name the directory of sje_log_jsonl.so (ctest
// sets it).
// Not _GNU_SOURCE: server/sched.h, on the include path, hides <sched.h>,
// and glibc's pthread.h then lacks cpu_set_t.
#define _POSIX_C_SOURCE 200809L // mkdtemp, lstat
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "events/hooks.h"
#include "log.h"
#include "plugin_host.h"

#define T_THREADS 4
#define T_EVENTS_PER_THREAD 2000

// t_dir is one test's directory, made by setup and removed by teardown.
typedef struct t_dir {
	char path[64];
	char file[128]; // path/ev.jsonl, the plugin's file
} t_dir;

// t_setup makes the test's directory.
static int
t_setup(void **state)
{
	t_dir *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		return -1;
	}
	(void) snprintf(d->path, sizeof(d->path), "/tmp/sje-ljtest-XXXXXX");
	if (mkdtemp(d->path) == NULL) {
		free(d);
		return -1;
	}
	(void) snprintf(d->file, sizeof(d->file), "%s/ev.jsonl", d->path);
	*state = d;
	return 0;
}

// t_rmtree removes path and what is under it (one level of directories
// is all the tests make, plus that).
static void
t_rmtree(const char *path)
{
	DIR           *dir;
	struct dirent *e;
	char           sub[512];
	struct stat    sb;

	if ((dir = opendir(path)) != NULL) {
		while ((e = readdir(dir)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0) {
				continue;
			}
			(void) snprintf(
			    sub, sizeof(sub), "%s/%s", path, e->d_name);
			if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
				t_rmtree(sub);
			} else {
				(void) unlink(sub);
			}
		}
		(void) closedir(dir);
	}
	(void) rmdir(path);
}

// t_teardown removes the test's directory.
static int
t_teardown(void **state)
{
	t_dir *d = *state;

	t_rmtree(d->path);
	free(d);
	return 0;
}

// t_load writes d/config.yaml with the plugin's options (YAML flow mapping
// content; "@" stands for d's path) and loads it through the real loader.
// Returns what sje__plugins_load returned; *out is set on SJE_OK.
static sje_err
t_load(const t_dir *d, const char *options, sje__plugins **out, char *err,
    size_t errlen)
{
	char        cfgpath[128];
	char        opts[1024];
	size_t      o = 0;
	const char *c;
	FILE       *f;
	sje_config *cfg = NULL;
	sje_err     rv;

	for (c = options; *c != '\0' && o + 64 < sizeof(opts); c++) {
		if (*c == '@') {
			o += (size_t) snprintf(
			    opts + o, sizeof(opts) - o, "%s", d->path);
		} else {
			opts[o++] = *c;
		}
	}
	opts[o] = '\0';
	(void) snprintf(cfgpath, sizeof(cfgpath), "%s/config.yaml", d->path);
	assert_non_null(f = fopen(cfgpath, "w"));
	(void) fprintf(f,
	    "plugins:\n"
	    "  - {name: log_jsonl, options: {%s}}\n",
	    opts);
	assert_int_equal(fclose(f), 0);
	err[0] = '\0';
	rv     = sje_config_load(cfgpath, &cfg, err, errlen);
	assert_int_equal(rv, SJE_OK);
	rv = sje__plugins_load(cfg, SJE_PLUGIN_ROLE_COORDINATOR,
	    sje__hooks_host_api(), out, err, errlen);
	sje_config_free(cfg);
	return rv;
}

// t_open loads the plugin with options, which must succeed.
static sje__plugins *
t_open(const t_dir *d, const char *options)
{
	sje__plugins *p = NULL;
	char          err[512];

	if (t_load(d, options, &p, err, sizeof(err)) != SJE_OK) {
		fail_msg("load failed: %s", err);
	}
	assert_non_null(p);
	return p;
}

// t_refused loads the plugin with options, which must fail with an error
// holding want.
static void
t_refused(const t_dir *d, const char *options, const char *want)
{
	sje__plugins *p = NULL;
	char          err[512];

	assert_int_not_equal(t_load(d, options, &p, err, sizeof(err)), SJE_OK);
	assert_null(p);
	if (strstr(err, want) == NULL) {
		fail_msg("error '%s' does not say '%s'", err, want);
	}
}

// t_event feeds one event as sje-server does, its event_json holding pad
// (a filler of pad_bytes 'x') as the error message when pad_bytes > 0.
static void
t_event(sje__plugins *p, uint64_t seq, const char *state, size_t pad_bytes)
{
	sje_job_event ev;
	char          task_id[32];
	char         *pad;
	char         *json;

	assert_non_null(pad = malloc(pad_bytes + 1));
	assert_non_null(json = malloc(pad_bytes + 256));
	memset(pad, 'x', pad_bytes);
	pad[pad_bytes] = '\0';
	(void) snprintf(
	    task_id, sizeof(task_id), "t%llu", (unsigned long long) seq);
	(void) snprintf(json, pad_bytes + 256,
	    "{\"seq\":%llu,\"task_id\":\"%s\",\"function\":\"noop\","
	    "\"state\":\"%s\",\"attempt\":1,\"worker\":\"w1\","
	    "\"at\":\"2026-11-28T01:27:17.670Z\"%s%s%s}",
	    (unsigned long long) seq, task_id, state,
	    pad_bytes > 0 ? ",\"error\":{\"type\":\"x\",\"message\":\"" : "",
	    pad, pad_bytes > 0 ? "\"}" : "");
	memset(&ev, 0, sizeof(ev));
	ev.size       = sizeof(ev);
	ev.source     = "coordinator";
	ev.task_id    = task_id;
	ev.function   = "noop";
	ev.state      = state;
	ev.attempt    = 1;
	ev.seq        = seq;
	ev.at_ms      = 1700000000000;
	ev.worker     = "w1";
	ev.event_json = json;
	sje__plugins_event(p, &ev);
	free(json);
	free(pad);
}

// t_read returns the whole of path (caller frees), or NULL when it does
// not exist.
static char *
t_read(const char *path)
{
	FILE  *f;
	char  *buf;
	long   len;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		return NULL;
	}
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((len = ftell(f)) >= 0);
	rewind(f);
	assert_non_null(buf = malloc((size_t) len + 1));
	n      = fread(buf, 1, (size_t) len, f);
	buf[n] = '\0';
	(void) fclose(f);
	assert_int_equal(n, (size_t) len);
	return buf;
}

// t_lines checks that path holds whole lines, each a JSON object, and
// returns them parsed (a JSON array; caller decrefs), or NULL when path
// does not exist. *bytes, if not NULL, gets the file's size.
static json_t *
t_lines(const char *path, size_t *bytes)
{
	char        *text = t_read(path);
	char        *line;
	char        *nl;
	json_t      *all;
	json_t      *j;
	json_error_t jerr;

	if (text == NULL) {
		return NULL;
	}
	if (bytes != NULL) {
		*bytes = strlen(text);
	}
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n') {
		fail_msg("%s: the last line has no newline", path);
	}
	assert_non_null(all = json_array());
	for (line = text; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		j   = json_loads(line, 0, &jerr); // json_is_object reads twice
		if (!json_is_object(j)) {
			fail_msg("%s: not a JSON object: '%s' (%s)", path,
			    line, jerr.text);
		}
		assert_int_equal(json_array_append_new(all, j), 0);
	}
	free(text);
	return all;
}

// t_seq returns line i's seq (a number, as GET /events renders it).
static uint64_t
t_seq(const json_t *lines, size_t i)
{
	const json_t *s = json_object_get(json_array_get(lines, i), "seq");

	assert_true(json_is_integer(s));
	return (uint64_t) json_integer_value(s);
}

// t_rotated writes the name of d's rotated file k into buf.
static void
t_rotated(const t_dir *d, unsigned k, char *buf, size_t len)
{
	(void) snprintf(buf, len, "%s.%u", d->file, k);
}

static void
test_every_event_is_appended_as_one_json_line_in_order(void **state)
{
	t_dir        *d = *state;
	sje__plugins *p = t_open(d, "path: @/ev.jsonl");
	json_t       *lines;
	uint64_t      seq;

	for (seq = 1; seq <= 100; seq++) {
		t_event(p, seq, seq % 2 ? "RUNNING" : "SUCCEEDED", seq % 7);
	}
	assert_non_null(lines = t_lines(d->file, NULL));
	assert_int_equal(json_array_size(lines), 100);
	for (seq = 1; seq <= 100; seq++) {
		assert_int_equal(t_seq(lines, seq - 1), seq);
	}
	json_decref(lines);
	sje__plugins_free(p);
}

static void
test_rotation_keeps_max_files_and_splits_or_loses_no_line(void **state)
{
	t_dir        *d = *state;
	sje__plugins *p =
	    t_open(d, "path: @/ev.jsonl, max_bytes: 300, max_files: 2");
	const char *names[3];
	char        one[160];
	char        two[160];
	char        three[160];
	json_t     *lines;
	size_t      bytes;
	size_t      i;
	size_t      k;
	uint64_t    next = 0;
	uint64_t    seq;

	for (seq = 1; seq <= 40; seq++) {
		t_event(p, seq, "QUEUED", seq % 30);
	}
	sje__plugins_free(p);

	t_rotated(d, 2, two, sizeof(two));
	t_rotated(d, 1, one, sizeof(one));
	t_rotated(d, 3, three, sizeof(three));
	assert_int_not_equal(access(three, F_OK), 0); // max_files: 2
	names[0] = two;                               // oldest first
	names[1] = one;
	names[2] = d->file;
	for (k = 0; k < 3; k++) {
		assert_non_null(lines = t_lines(names[k], &bytes));
		assert_true(bytes <= 300);
		assert_true(json_array_size(lines) > 0);
		for (i = 0; i < json_array_size(lines); i++) {
			seq = t_seq(lines, i);
			if (next != 0) {
				assert_int_equal(seq, next); // none lost
			}
			next = seq + 1;
		}
		if (k == 0) {
			// The oldest file kept does not start at 1: older
			// ones were removed.
			assert_true(t_seq(lines, 0) > 1);
		}
		json_decref(lines);
	}
	assert_int_equal(next, 41); // the newest file ends with the last
}

static void
test_a_line_longer_than_max_bytes_goes_alone_into_a_fresh_file(void **state)
{
	t_dir        *d = *state;
	sje__plugins *p =
	    t_open(d, "path: @/ev.jsonl, max_bytes: 300, max_files: 3");
	char    one[160];
	char    two[160];
	char    three[160];
	json_t *lines;
	size_t  bytes;

	t_rotated(d, 1, one, sizeof(one));
	t_rotated(d, 2, two, sizeof(two));
	t_rotated(d, 3, three, sizeof(three));
	t_event(p, 1, "FAILED", 500); // longer than max_bytes
	// An empty file takes it without rotating.
	assert_int_not_equal(access(one, F_OK), 0);
	t_event(p, 2, "FAILED", 0);
	t_event(p, 3, "FAILED", 600);
	t_event(p, 4, "FAILED", 0);
	sje__plugins_free(p);

	// .3: {1} alone, .2: {2}, .1: {3} alone, file: {4}.
	assert_non_null(lines = t_lines(three, &bytes));
	assert_int_equal(json_array_size(lines), 1);
	assert_int_equal(t_seq(lines, 0), 1);
	assert_true(bytes > 500);
	json_decref(lines);
	assert_non_null(lines = t_lines(two, NULL));
	assert_int_equal(json_array_size(lines), 1);
	assert_int_equal(t_seq(lines, 0), 2);
	json_decref(lines);
	assert_non_null(lines = t_lines(one, &bytes));
	assert_int_equal(json_array_size(lines), 1);
	assert_int_equal(t_seq(lines, 0), 3);
	assert_true(bytes > 600);
	json_decref(lines);
	assert_non_null(lines = t_lines(d->file, NULL));
	assert_int_equal(json_array_size(lines), 1);
	assert_int_equal(t_seq(lines, 0), 4);
	json_decref(lines);
}

static void
test_states_filter_writes_only_the_listed_states(void **state)
{
	static const char *all[] = { "PENDING", "SCHEDULED", "QUEUED",
		"RUNNING", "SUCCEEDED", "FAILED", "CANCELLED",
		"UPSTREAM_FAILED", "SOMETHING_NEW" };
	t_dir             *d     = *state;
	sje__plugins      *p =
	    t_open(d, "path: @/ev.jsonl, states: [FAILED, SUCCEEDED]");
	json_t *lines;
	size_t  i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		t_event(p, i + 1, all[i], 0);
	}
	sje__plugins_free(p);

	assert_non_null(lines = t_lines(d->file, NULL));
	assert_int_equal(json_array_size(lines), 2);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(lines, 0), "state")),
	    "SUCCEEDED");
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(lines, 1), "state")),
	    "FAILED");
	json_decref(lines);
}

static void
test_default_states_write_every_state_even_an_unknown_one(void **state)
{
	t_dir        *d = *state;
	sje__plugins *p = t_open(d, "path: @/ev.jsonl");
	json_t       *lines;

	t_event(p, 1, "PENDING", 0);
	t_event(p, 2, "UPSTREAM_FAILED", 0);
	t_event(p, 3, "SOMETHING_NEW", 0);
	sje__plugins_free(p);
	assert_non_null(lines = t_lines(d->file, NULL));
	assert_int_equal(json_array_size(lines), 3);
	json_decref(lines);
}

static void
test_unknown_option_is_refused_naming_it(void **state)
{
	t_dir *d = *state;

	t_refused(d, "path: @/ev.jsonl, max_byte: 10", "max_byte");
	assert_int_not_equal(access(d->file, F_OK), 0);
}

static void
test_options_of_the_wrong_type_or_range_are_refused_naming_the_key(
    void **state)
{
	t_dir *d = *state;

	t_refused(d, "path: 42", "options.path");
	t_refused(d, "path: ''", "options.path");
	t_refused(d, "path: @/ev.jsonl, max_bytes: -1", "options.max_bytes");
	t_refused(d, "path: @/ev.jsonl, max_bytes: big", "options.max_bytes");
	t_refused(d, "path: @/ev.jsonl, max_files: 0", "options.max_files");
	t_refused(d, "path: @/ev.jsonl, max_files: 1001", "options.max_files");
	t_refused(d, "path: @/ev.jsonl, fsync: 1", "options.fsync");
	t_refused(d, "path: @/ev.jsonl, states: FAILED", "options.states");
	t_refused(d, "path: @/ev.jsonl, states: []", "options.states");
	t_refused(d, "path: @/ev.jsonl, states: [FAILED, DONE]",
	    "options.states[1]: 'DONE' is not a state (PENDING, SCHEDULED, "
	    "QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, "
	    "UPSTREAM_FAILED)");
	t_refused(d, "path: @/ev.jsonl, states: [queued]",
	    "options.states[0]: 'queued' is not a state");
}

static void
test_missing_path_is_refused(void **state)
{
	t_dir *d = *state;

	t_refused(d, "max_bytes: 10", "options.path is required");
}

static void
test_path_in_a_missing_directory_is_refused_as_such(void **state)
{
	t_dir *d = *state;

	t_refused(d, "path: @/nowhere/ev.jsonl", "does not exist");
	t_refused(d, "path: @/nowhere/ev.jsonl", "/nowhere");
}

static void
test_event_without_event_json_is_rendered_from_its_fields(void **state)
{
	t_dir        *d = *state;
	sje__plugins *p = t_open(d, "path: @/ev.jsonl");
	sje_job_event ev;
	json_t       *lines;
	json_t       *o;

	memset(&ev, 0, sizeof(ev));
	ev.size          = sizeof(ev);
	ev.source        = "coordinator";
	ev.task_id       = "job-7";
	ev.function      = "calc";
	ev.state         = "FAILED";
	ev.attempt       = 2;
	ev.seq           = 7;
	ev.at_ms         = 1700000000123;
	ev.worker        = "w9";
	ev.error_type    = "exit";
	ev.error_message = "exited with status 3";
	sje__plugins_event(p, &ev); // event_json NULL

	// A 1.0 host's event ends before event_json: it must not be read.
	ev.seq        = 8;
	ev.state      = "SUCCEEDED";
	ev.size       = (uint32_t) offsetof(sje_job_event, event_json);
	ev.event_json = "{\"not\":\"this\"}";
	ev.error_type = ev.error_message = NULL;
	sje__plugins_event(p, &ev);
	sje__plugins_free(p);

	assert_non_null(lines = t_lines(d->file, NULL));
	assert_int_equal(json_array_size(lines), 2);
	o = json_array_get(lines, 0);
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 7);
	assert_string_equal(
	    json_string_value(json_object_get(o, "task_id")), "job-7");
	assert_string_equal(
	    json_string_value(json_object_get(o, "function")), "calc");
	assert_string_equal(
	    json_string_value(json_object_get(o, "state")), "FAILED");
	assert_int_equal(json_integer_value(json_object_get(o, "attempt")), 2);
	assert_string_equal(
	    json_string_value(json_object_get(o, "worker")), "w9");
	assert_int_equal(
	    json_integer_value(json_object_get(o, "at_ms")), 1700000000123);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(o, "error"), "type")),
	    "exit");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(o, "error"), "message")),
	    "exited with status 3");
	o = json_array_get(lines, 1);
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 8);
	assert_null(json_object_get(o, "not"));
	assert_null(json_object_get(o, "error"));
	json_decref(lines);
}

// t_thread_arg is what one feeding thread needs.
typedef struct t_thread_arg {
	sje__plugins *p;
	unsigned      id; // 0 .. T_THREADS-1
} t_thread_arg;

// t_feeder sends T_EVENTS_PER_THREAD events with seqs id+1, id+1+T, ...
static void *
t_feeder(void *arg)
{
	t_thread_arg *a = arg;
	unsigned      i;

	for (i = 0; i < T_EVENTS_PER_THREAD; i++) {
		t_event(a->p, (uint64_t) i * T_THREADS + a->id + 1, "RUNNING",
		    (i * 13 + a->id) % 40);
	}
	return NULL;
}

static void
test_concurrent_events_from_four_threads_make_whole_lines(void **state)
{
	enum { N = T_THREADS * T_EVENTS_PER_THREAD };
	t_dir        *d = *state;
	sje__plugins *p =
	    t_open(d, "path: @/ev.jsonl, max_bytes: 65536, max_files: 1000");
	pthread_t      th[T_THREADS];
	t_thread_arg   args[T_THREADS];
	char           name[160];
	unsigned char *seen;
	json_t        *lines;
	size_t         total = 0;
	size_t         bytes;
	size_t         i;
	unsigned       k;

	for (k = 0; k < T_THREADS; k++) {
		args[k].p  = p;
		args[k].id = k;
		assert_int_equal(
		    pthread_create(&th[k], NULL, t_feeder, &args[k]), 0);
	}
	for (k = 0; k < T_THREADS; k++) {
		assert_int_equal(pthread_join(th[k], NULL), 0);
	}
	sje__plugins_free(p);

	assert_non_null(seen = calloc(N + 1, 1));
	for (k = 0; k <= 1000; k++) {
		if (k == 0) {
			(void) snprintf(name, sizeof(name), "%s", d->file);
		} else {
			t_rotated(d, k, name, sizeof(name));
		}
		if ((lines = t_lines(name, &bytes)) == NULL) {
			break;
		}
		assert_true(bytes <= 65536);
		for (i = 0; i < json_array_size(lines); i++) {
			uint64_t seq = t_seq(lines, i);
			assert_true(seq >= 1 && seq <= N);
			assert_int_equal(seen[seq], 0);
			seen[seq] = 1;
		}
		total += json_array_size(lines);
		json_decref(lines);
	}
	assert_true(k > 2); // it did rotate
	assert_int_equal(total, N);
	free(seen);
}

static void
test_an_existing_file_is_appended_to_and_its_size_counted(void **state)
{
	t_dir        *d = *state;
	sje__plugins *p;
	FILE         *f;
	json_t       *lines;
	char          one[160];

	assert_non_null(f = fopen(d->file, "w"));
	(void) fprintf(f, "{\"seq\":0,\"kept\":true}\n");
	assert_int_equal(fclose(f), 0);

	p = t_open(d, "path: @/ev.jsonl, fsync: true");
	t_event(p, 1, "QUEUED", 0);
	t_event(p, 2, "RUNNING", 0);
	sje__plugins_free(p);
	p = t_open(d, "path: @/ev.jsonl, fsync: true");
	t_event(p, 3, "SUCCEEDED", 0);
	sje__plugins_free(p);

	assert_non_null(lines = t_lines(d->file, NULL));
	assert_int_equal(json_array_size(lines), 4);
	assert_true(
	    json_is_true(json_object_get(json_array_get(lines, 0), "kept")));
	assert_int_equal(t_seq(lines, 3), 3);
	json_decref(lines);

	// The file's size is taken at open: its ~390 bytes and a line of
	// ~120 exceed 450, so the next line rotates it.
	p = t_open(d, "path: @/ev.jsonl, max_bytes: 450");
	t_event(p, 4, "SUCCEEDED", 0);
	sje__plugins_free(p);
	t_rotated(d, 1, one, sizeof(one));
	assert_non_null(lines = t_lines(one, NULL));
	assert_int_equal(json_array_size(lines), 4);
	json_decref(lines);
	assert_non_null(lines = t_lines(d->file, NULL));
	assert_int_equal(json_array_size(lines), 1);
	assert_int_equal(t_seq(lines, 0), 4);
	json_decref(lines);
}

// t_count returns how many times needle occurs in hay.
static size_t
t_count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
test_a_write_error_is_logged_once_and_the_recovery_with_its_count(void **state)
{
	t_dir        *d = *state;
	sje__plugins *p;
	char          sub[96];
	char          file[160];
	char          logpath[128];
	char         *log;
	json_t       *lines;
	uint64_t      seq;

	(void) snprintf(sub, sizeof(sub), "%s/sub", d->path);
	(void) snprintf(file, sizeof(file), "%s/ev.jsonl", sub);
	(void) snprintf(logpath, sizeof(logpath), "%s/server.log", d->path);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(
	    sje__log_open("sje-server", "info", "text", logpath), SJE_OK);
	p = t_open(d, "path: @/sub/ev.jsonl, max_bytes: 300, max_files: 1");
	t_event(p, 1, "QUEUED", 0);

	// The directory goes away: the open file takes lines until it is
	// full, then rotating it and opening a new one fail.
	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(sub), 0);
	for (seq = 2; seq <= 10; seq++) {
		t_event(p, seq, "QUEUED", 0);
	}
	assert_int_equal(mkdir(sub, 0700), 0);
	t_event(p, 11, "RUNNING", 0);
	t_event(p, 12, "SUCCEEDED", 0);
	sje__plugins_free(p);
	sje__log_close();

	assert_non_null(lines = t_lines(file, NULL));
	assert_int_equal(json_array_size(lines), 2);
	assert_int_equal(t_seq(lines, 0), 11);
	json_decref(lines);
	assert_non_null(log = t_read(logpath));
	assert_int_equal(t_count(log, "log_jsonl: cannot"), 1);
	assert_int_equal(t_count(log, "log_jsonl: writing"), 1);
	// Lines 1 and 2 filled the old file: 3 .. 10 were dropped.
	if (strstr(log, "8 events were dropped") == NULL) {
		fail_msg("log: %s", log);
	}
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_every_event_is_appended_as_one_json_line_in_order,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_rotation_keeps_max_files_and_splits_or_loses_no_line,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_line_longer_than_max_bytes_goes_alone_into_a_fresh_file,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_states_filter_writes_only_the_listed_states, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_default_states_write_every_state_even_an_unknown_one,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_unknown_option_is_refused_naming_it, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_options_of_the_wrong_type_or_range_are_refused_naming_the_key,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_missing_path_is_refused, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_path_in_a_missing_directory_is_refused_as_such,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_event_without_event_json_is_rendered_from_its_fields,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_concurrent_events_from_four_threads_make_whole_lines,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_existing_file_is_appended_to_and_its_size_counted,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_write_error_is_logged_once_and_the_recovery_with_its_count,
		    t_setup, t_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
