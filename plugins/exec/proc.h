// proc.h — the exec plugin's child process: spawn a command in a process
// group of its own, feed its stdin, capture its stdout and stderr, stop
// the whole group on request, reap it.
#ifndef SJE_EXEC_PROC_H
#define SJE_EXEC_PROC_H

#include "output.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// exec_proc_spec says what to run and how. Everything is borrowed for the
// duration of exec_proc_run.
typedef struct exec_proc_spec {
	const char  *path; // the program to execute (no PATH search)
	char *const *argv; // NULL-terminated; argv[0] is the name as given
	char *const *envp; // NULL-terminated: the child's whole environment
	const char  *cwd;  // the child's working directory
	const char  *stdin_data; // written to the child's stdin, then closed
	size_t       stdin_len;
	size_t       max_stdout_bytes;  // more stops the run (stdout_overflow)
	size_t       stderr_tail_bytes; // how much of stderr's end is kept
	uint32_t     kill_grace_ms;     // between SIGTERM and SIGKILL
	// should_stop is polled every few tens of milliseconds; once it is
	// true the run stops (stopped). Called on the caller's thread.
	bool (*should_stop)(void *arg);
	void *stop_arg;
} exec_proc_spec;

// exec_proc_result is what happened. Zeroed and then filled by
// exec_proc_run; free with exec_proc_result_fini.
typedef struct exec_proc_result {
	int       spawn_errno; // != 0: the command could not be started
	pid_t     pid;         // the child, also its process group id
	int       wstatus;     // its waitpid status (when spawn_errno == 0)
	exec_buf  out;         // stdout, up to max_stdout_bytes
	exec_tail err;         // the end of stderr
	bool      stopped;     // should_stop turned true
	bool      stdout_overflow; // stdout passed max_stdout_bytes
	// leftovers: processes of the group outlived the command and were
	// stopped; killed: SIGKILL was needed (SIGTERM was not enough within
	// the grace).
	bool leftovers;
	bool killed;
	// pipes_abandoned: after the group was gone its output pipes stayed
	// open (a process that left the group holds them): output after that
	// point was not read.
	bool    pipes_abandoned;
	int64_t run_ms; // from spawn to the end of the group
} exec_proc_result;

// exec_proc_run runs spec to its end: it spawns the command with
// posix_spawn in a new process group (the child gets the default signal
// dispositions and an empty signal mask, and no file descriptor but 0, 1
// and 2), writes stdin_data to it, reads stdout and stderr without
// blocking (one poll loop on non-blocking pipes), and when the command
// exits, when should_stop turns true or when stdout overflows, makes sure
// that no process of its group is left: SIGTERM to the group, SIGKILL
// after kill_grace_ms. The child is always reaped. Returns 0 with *res
// filled (the command ran, whatever its outcome) or an errno value when
// the run could not be set up; res->spawn_errno != 0 when posix_spawn
// failed (ENOENT, EACCES, ...). Thread-safe: many runs may go on at once,
// on different threads. Does not change the caller's signal handling.
int exec_proc_run(const exec_proc_spec *spec, exec_proc_result *res);

// exec_proc_result_fini frees res's buffers. Accepts a zeroed res.
void exec_proc_result_fini(exec_proc_result *res);

// exec_group_alive is true while a process of group pgid, other than
// zombies, exists.
bool exec_group_alive(pid_t pgid);

#endif // SJE_EXEC_PROC_H
