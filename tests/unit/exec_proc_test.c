// exec_proc_test.c — unit tests of the exec plugin's child processes
// (plugins/exec/proc.c), with /bin/sh as the command.
//
// The test process sets itself up as the worker does (SIGPIPE ignored,
// SIGINT and SIGTERM blocked), so that the tests also show that a child
// does not inherit that. Kill grace periods are short to keep it quick.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

static char *const test_env[] = { "PATH=/usr/bin:/bin", "LANG=C", NULL };

// run_argv runs argv (argv[0] a full path) with stdin in, into *res (the
// caller frees it with exec_proc_result_fini).
static void
run_argv(char *const *argv, const char *in, size_t max_out,
    bool (*stop)(void *), void *stop_arg, exec_proc_result *res)
{
	exec_proc_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.path              = argv[0];
	spec.argv              = argv;
	spec.envp              = test_env;
	spec.cwd               = "/";
	spec.stdin_data        = in;
	spec.stdin_len         = in != NULL ? strlen(in) : 0;
	spec.max_stdout_bytes  = max_out;
	spec.stderr_tail_bytes = 64;
	spec.kill_grace_ms     = 300;
	spec.should_stop       = stop;
	spec.stop_arg          = stop_arg;
	assert_int_equal(exec_proc_run(&spec, res), 0);
	assert_int_equal(res->spawn_errno, 0);
}

// run_sh runs /bin/sh -c script (see run_argv).
static void
run_sh(const char *script, const char *in, size_t max_out,
    bool (*stop)(void *), void *stop_arg, exec_proc_result *res)
{
	char *const argv[] = { "/bin/sh", "-c", (char *) script, NULL };

	run_argv(argv, in, max_out, stop, stop_arg, res);
}

static void
test_proc_gives_stdin_and_keeps_stdout_stderr_and_status(void **state)
{
	exec_proc_result res;
	const char      *tail;

	(void) state;
	run_sh(
	    "cat; echo err >&2; exit 7", "{\"a\": 1}", 1024, NULL, NULL, &res);
	assert_true(WIFEXITED(res.wstatus));
	assert_int_equal(WEXITSTATUS(res.wstatus), 7);
	assert_string_equal(res.out.data, "{\"a\": 1}");
	assert_int_equal(exec_tail_get(&res.err, &tail), 4);
	assert_memory_equal(tail, "err\n", 4);
	assert_false(res.stopped || res.stdout_overflow || res.leftovers);
	exec_proc_result_fini(&res);
}

static void
test_proc_moves_megabytes_both_ways_without_deadlock(void **state)
{
	exec_proc_result res;
	size_t           n = 3u * 1024u * 1024u;
	char            *in;

	(void) state;
	// cat writes as it reads: if stdin were written before stdout is
	// read (or the other way round), both pipes would fill and hang.
	assert_non_null(in = malloc(n + 1));
	memset(in, 'z', n);
	in[n] = '\0';
	run_sh("cat; head -c 100000 /dev/zero >&2", in, 4u * 1024u * 1024u,
	    NULL, NULL, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 0);
	assert_int_equal(res.out.len, n);
	assert_memory_equal(res.out.data, in, n);
	assert_int_equal(res.err.total, 100000);
	exec_proc_result_fini(&res);
	free(in);
}

static void
test_proc_child_has_only_fds_0_1_2_and_no_blocked_or_ignored_signals(
    void **state)
{
	// The programs look at themselves, as spawned: a shell in between
	// would change its own mask while it forks.
	char *const      ls[]   = { "/bin/ls", "/proc/self/fd", NULL };
	char *const      sigs[] = { "/bin/grep", "-E", "^Sig(Blk|Ign)",
		     "/proc/self/status", NULL };
	char *const      pst[]  = { "/bin/cat", "/proc/self/stat", NULL };
	exec_proc_result res;

	(void) state;
	// ls lists its own fds: 0, 1, 2 and the one of the directory it
	// reads (3). A descriptor leaked from the parent would show too.
	run_argv(ls, NULL, 4096, NULL, NULL, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 0);
	assert_string_equal(res.out.data, "0\n1\n2\n3\n");
	exec_proc_result_fini(&res);

	run_argv(sigs, NULL, 4096, NULL, NULL, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 0);
	{
		unsigned long long blk = 1;
		unsigned long long ign = 1;
		assert_int_equal(sscanf(res.out.data,
		                     "SigBlk: %llx SigIgn: %llx", &blk, &ign),
		    2);
		// No signal blocked; none of the classic ones (1 to 31)
		// ignored. (Real-time signals that the test's own parent
		// ignores stay so: glibc keeps its internal ones out of
		// posix_spawn's reach, and programs do not rely on them.)
		assert_int_equal(blk, 0);
		assert_int_equal(ign & 0x7fffffffull, 0);
	}
	exec_proc_result_fini(&res);

	// Its own process group: "pid (comm) state ppid pgrp ...".
	run_argv(pst, NULL, 4096, NULL, NULL, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 0);
	{
		long pid  = -1;
		long pgrp = -2;
		char st;
		long ppid;
		assert_int_equal(sscanf(res.out.data, "%ld", &pid), 1);
		assert_int_equal(sscanf(strrchr(res.out.data, ')') + 1,
		                     " %c %ld %ld", &st, &ppid, &pgrp),
		    3);
		assert_int_equal(pid, (long) res.pid);
		assert_int_equal(pgrp, pid);
	}
	exec_proc_result_fini(&res);
}

// file_exists is a should_stop: true once the file arg names exists.
static bool
file_exists(void *arg)
{
	return access(arg, F_OK) == 0;
}

static void
test_proc_stops_the_whole_group_on_request(void **state)
{
	exec_proc_result res;
	char             mark[] = "/tmp/exec_proc_test.XXXXXX";
	char             script[256];
	int              fd;

	(void) state;
	// One child ignores SIGTERM (SIGKILL must follow after the grace);
	// the stop is asked for once it does (it touches mark).
	assert_true((fd = mkstemp(mark)) >= 0);
	(void) close(fd);
	assert_int_equal(unlink(mark), 0);
	(void) snprintf(script, sizeof(script),
	    "sleep 300 & sh -c 'trap \"\" TERM; : >%s; exec sleep 300' & "
	    "echo started >&2; sleep 300",
	    mark);
	run_sh(script, NULL, 1024, file_exists, mark, &res);
	assert_int_equal(unlink(mark), 0);
	assert_true(res.stopped);
	assert_true(res.killed);
	assert_true(WIFSIGNALED(res.wstatus));
	assert_int_equal(WTERMSIG(res.wstatus), SIGTERM);
	assert_false(exec_group_alive(res.pid));
	assert_true(res.run_ms < 10000);
	exec_proc_result_fini(&res);
}

static void
test_proc_stops_leftovers_of_a_command_that_exited(void **state)
{
	exec_proc_result res;

	(void) state;
	run_sh("sleep 300 & echo done", NULL, 1024, NULL, NULL, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 0);
	assert_string_equal(res.out.data, "done\n");
	assert_true(res.leftovers);
	assert_false(res.killed); // sleep dies of SIGTERM
	assert_false(exec_group_alive(res.pid));
	exec_proc_result_fini(&res);
}

static void
test_proc_stops_a_command_whose_stdout_overflows(void **state)
{
	exec_proc_result res;

	(void) state;
	run_sh("yes", NULL, 100000, NULL, NULL, &res);
	assert_true(res.stdout_overflow);
	assert_false(res.stopped);
	assert_int_equal(res.out.len, 100000);
	assert_false(exec_group_alive(res.pid));
	exec_proc_result_fini(&res);
}

static void
test_proc_survives_a_child_that_does_not_read_stdin(void **state)
{
	exec_proc_result res;
	size_t           n = 1024u * 1024u;
	char            *in;

	(void) state;
	assert_non_null(in = malloc(n + 1));
	memset(in, 'q', n);
	in[n] = '\0';
	run_sh("exec 0<&-; echo ignored", in, 1024, NULL, NULL, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 0);
	assert_string_equal(res.out.data, "ignored\n");
	exec_proc_result_fini(&res);
	free(in);
}

static void
test_proc_reports_a_program_that_cannot_run(void **state)
{
	char *const      argv[] = { "nope", NULL };
	exec_proc_spec   spec;
	exec_proc_result res;

	(void) state;
	memset(&spec, 0, sizeof(spec));
	spec.path              = "/nonexistent/nope";
	spec.argv              = argv;
	spec.envp              = test_env;
	spec.cwd               = "/";
	spec.max_stdout_bytes  = 16;
	spec.stderr_tail_bytes = 16;
	assert_int_equal(exec_proc_run(&spec, &res), 0);
	assert_int_equal(res.spawn_errno, ENOENT);
	exec_proc_result_fini(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_proc_gives_stdin_and_keeps_stdout_stderr_and_status),
		cmocka_unit_test(
		    test_proc_moves_megabytes_both_ways_without_deadlock),
		cmocka_unit_test(
		    test_proc_child_has_only_fds_0_1_2_and_no_blocked_or_ignored_signals),
		cmocka_unit_test(test_proc_stops_the_whole_group_on_request),
		cmocka_unit_test(
		    test_proc_stops_leftovers_of_a_command_that_exited),
		cmocka_unit_test(
		    test_proc_stops_a_command_whose_stdout_overflows),
		cmocka_unit_test(
		    test_proc_survives_a_child_that_does_not_read_stdin),
		cmocka_unit_test(test_proc_reports_a_program_that_cannot_run),
	};
	sigset_t block;

	// As the worker: SIGPIPE ignored, SIGINT and SIGTERM blocked.
	(void) signal(SIGPIPE, SIG_IGN);
	(void) sigemptyset(&block);
	(void) sigaddset(&block, SIGINT);
	(void) sigaddset(&block, SIGTERM);
	(void) pthread_sigmask(SIG_BLOCK, &block, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
