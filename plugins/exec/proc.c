// proc.c — one command run by the exec plugin, from spawn to reap.
//
// Spawning: posix_spawn, never fork (the worker uses nng, which is not
// fork-safe, and glibc's posix_spawn runs nothing of ours in the child).
// The child gets its own process group (POSIX_SPAWN_SETPGROUP, pgid = its
// pid), so that it and everything it starts can be signalled together;
// an empty signal mask and default dispositions (the worker blocks
// SIGINT/SIGTERM and ignores SIGPIPE, and both would be inherited); the
// three pipes as fds 0, 1 and 2 and no other descriptor (closefrom); its
// working directory.
//
// Supervising: one loop on the calling thread polls the non-blocking
// parent ends of the pipes, writing stdin as the child takes it and
// reading stdout and stderr as they come, so that no side can block the
// other whatever the child does; it wakes at least every PROC_POLL_MS to
// ask should_stop and to reap. The phases:
//
//   RUN    until the command exits, should_stop turns true or stdout
//          overflows. An exit with other processes of the group still
//          around (a background child) counts as leftovers: they get
//          stopped like a timed-out command.
//   TERM   SIGTERM went to the group; wait for it to empty, up to
//          kill_grace_ms.
//   KILL   SIGKILL went to the group; wait for it to empty (briefly: a
//          process stuck in the kernel cannot be helped).
//   DRAIN  the command is reaped and its group is gone: read what is left
//          in the pipes until EOF, or give up after PROC_DRAIN_MS when a
//          process outside the group (it called setsid) still holds them.
//
// Only the child itself is ours to reap: the processes it started are
// reparented to init when it dies. A group that holds only zombies counts
// as gone (exec_group_alive reads /proc).
#define _GNU_SOURCE // posix_spawn_file_actions_addchdir_np, closefrom_np
#include "proc.h"

#include "clock.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

// Longest wait in poll between two looks at should_stop and the child (ms).
#define PROC_POLL_MS 50
// After SIGKILL, how long the group may take to disappear (ms).
#define PROC_KILL_WAIT_MS 2000
// Once the group is gone, how long pipes may stay open (ms).
#define PROC_DRAIN_MS 1000
// Bytes read or written per call, and reads per pipe per loop turn (so
// that a fast writer cannot keep the loop from its other duties).
#define PROC_IO_BYTES 65536
#define PROC_READS_PER_TURN 16

typedef enum proc_phase {
	PROC_RUN,
	PROC_TERM,
	PROC_KILL,
	PROC_DRAIN,
	PROC_DONE,
} proc_phase;

static void
proc_close(int *fd)
{
	if (*fd >= 0) {
		(void) close(*fd);
		*fd = -1;
	}
}

// proc_fd_high moves *fd to a number >= 3 (close-on-exec), so that the
// child's dup2 onto 0, 1 and 2 never meets a pipe end already there (a
// worker started with a closed stdin gets fd 0 from pipe2).
static int
proc_fd_high(int *fd)
{
	int nfd;

	if (*fd >= 3) {
		return 0;
	}
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		return errno;
	}
	(void) close(*fd);
	*fd = nfd;
	return 0;
}

static int
proc_pipe(int p[2])
{
	int rv;

	if (pipe2(p, O_CLOEXEC) != 0) {
		p[0] = p[1] = -1;
		return errno;
	}
	if ((rv = proc_fd_high(&p[0])) != 0 ||
	    (rv = proc_fd_high(&p[1])) != 0) {
		proc_close(&p[0]);
		proc_close(&p[1]);
		return rv;
	}
	return 0;
}

static int
proc_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		return errno;
	}
	return 0;
}

bool
exec_group_alive(pid_t pgid)
{
	DIR           *d;
	struct dirent *e;
	bool           alive = false;

	if (kill(-pgid, 0) != 0) {
		return errno == EPERM;
	}
	// kill() counts zombies; /proc tells them apart. Without /proc, take
	// kill()'s word.
	if ((d = opendir("/proc")) == NULL) {
		return true;
	}
	while (!alive && (e = readdir(d)) != NULL) {
		char    path[64];
		char    stat[512];
		char   *rp;
		char    state;
		int     ppid;
		int     pgrp;
		int     fd;
		ssize_t n;

		if (!isdigit((unsigned char) e->d_name[0]) ||
		    snprintf(path, sizeof(path), "/proc/%.20s/stat",
		        e->d_name) >= (int) sizeof(path) ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			continue;
		}
		n = read(fd, stat, sizeof(stat) - 1);
		(void) close(fd);
		if (n <= 0) {
			continue;
		}
		stat[n] = '\0';
		// "pid (comm) state ppid pgrp ...": comm may hold anything,
		// so parse after its last ')'.
		if ((rp = strrchr(stat, ')')) == NULL ||
		    sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) {
			continue;
		}
		if (pgrp == (int) pgid && state != 'Z' && state != 'X') {
			alive = true;
		}
	}
	(void) closedir(d);
	return alive;
}

// proc_signal sends sig to the group pgid (a group already gone is fine).
static void
proc_signal(pid_t pgid, int sig)
{
	(void) kill(-pgid, sig);
}

// proc_read reads what *fd has into the result (stdout into res->out,
// stderr into res->err); closes *fd at EOF or on an error.
static void
proc_read(int *fd, bool is_stdout, exec_proc_result *res, char *buf)
{
	int turns;

	for (turns = 0; turns < PROC_READS_PER_TURN; turns++) {
		ssize_t n = read(*fd, buf, PROC_IO_BYTES);
		if (n > 0) {
			if (!is_stdout) {
				exec_tail_append(&res->err, buf, (size_t) n);
			} else if (!res->stdout_overflow &&
			    !exec_buf_append(&res->out, buf, (size_t) n)) {
				res->stdout_overflow = true;
			} // else: over the limit, drained and dropped
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		proc_close(fd); // EOF, or an error that will not go away
		return;
	}
}

// proc_write writes more of stdin; closes *fd when all is written or the
// child closed its end (EPIPE: the worker ignores SIGPIPE).
static void
proc_write(int *fd, const exec_proc_spec *spec, size_t *off)
{
	while (*off < spec->stdin_len) {
		size_t  want = spec->stdin_len - *off;
		ssize_t n    = write(*fd, spec->stdin_data + *off,
                    want < PROC_IO_BYTES ? want : PROC_IO_BYTES);
		if (n > 0) {
			*off += (size_t) n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		break; // EPIPE: the child does not read its stdin
	}
	proc_close(fd);
}

// proc_spawn starts the child with the pipes' child ends as 0, 1 and 2.
static int
proc_spawn(
    const exec_proc_spec *spec, int in_r, int out_w, int err_w, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t          at;
	sigset_t                   none;
	sigset_t                   all;
	int                        rv;

	if ((rv = posix_spawn_file_actions_init(&fa)) != 0) {
		return rv;
	}
	if ((rv = posix_spawnattr_init(&at)) != 0) {
		(void) posix_spawn_file_actions_destroy(&fa);
		return rv;
	}
	(void) sigemptyset(&none);
	(void) sigfillset(&all);
	(void) sigdelset(&all, SIGKILL);
	(void) sigdelset(&all, SIGSTOP);
	if ((rv = posix_spawn_file_actions_adddup2(&fa, in_r, 0)) != 0 ||
	    (rv = posix_spawn_file_actions_adddup2(&fa, out_w, 1)) != 0 ||
	    (rv = posix_spawn_file_actions_adddup2(&fa, err_w, 2)) != 0 ||
	    (rv = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0 ||
	    (rv = posix_spawn_file_actions_addchdir_np(&fa, spec->cwd)) != 0 ||
	    (rv = posix_spawnattr_setflags(&at,
	         POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	             POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (rv = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
	    (rv = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (rv = posix_spawnattr_setsigdefault(&at, &all)) != 0) {
		goto out;
	}
	rv = posix_spawn(pid, spec->path, &fa, &at, spec->argv, spec->envp);
out:
	(void) posix_spawnattr_destroy(&at);
	(void) posix_spawn_file_actions_destroy(&fa);
	return rv;
}

int
exec_proc_run(const exec_proc_spec *spec, exec_proc_result *res)
{
	int        in[2]  = { -1, -1 };
	int        out[2] = { -1, -1 };
	int        err[2] = { -1, -1 };
	char      *buf    = NULL;
	size_t     in_off = 0;
	proc_phase phase  = PROC_RUN;
	bool       reaped = false;
	int64_t    start_ms;
	int64_t    term_ms  = 0;
	int64_t    kill_ms  = 0;
	int64_t    drain_ms = 0;
	int        idle_ms  = 1; // poll timeout when no pipe is open
	int        rv;

	memset(res, 0, sizeof(*res));
	exec_buf_init(&res->out, spec->max_stdout_bytes);
	if (!exec_tail_init(&res->err, spec->stderr_tail_bytes) ||
	    (buf = malloc(PROC_IO_BYTES)) == NULL) {
		rv = ENOMEM;
		goto fail;
	}
	if ((rv = proc_pipe(in)) != 0 || (rv = proc_pipe(out)) != 0 ||
	    (rv = proc_pipe(err)) != 0) {
		goto fail;
	}
	start_ms = sje_mono_ms();
	if ((res->spawn_errno =
	            proc_spawn(spec, in[0], out[1], err[1], &res->pid)) != 0) {
		rv = 0; // the run is over: it did not start
		goto fail;
	}
	proc_close(&in[0]);
	proc_close(&out[1]);
	proc_close(&err[1]);
	// Failing to go non-blocking would risk a hang: stop the child.
	if ((rv = proc_nonblock(in[1])) != 0 ||
	    (rv = proc_nonblock(out[0])) != 0 ||
	    (rv = proc_nonblock(err[0])) != 0) {
		res->stopped = true;
		phase        = PROC_TERM;
		term_ms      = start_ms;
		proc_close(&in[1]);
		proc_signal(res->pid, SIGKILL);
	}
	if (spec->stdin_len == 0) {
		proc_close(&in[1]);
	}

	for (;;) {
		struct pollfd pfd[3];
		nfds_t        nfd = 0;
		int64_t       now_ms;
		int           timeout_ms;
		int           i;

		if (!reaped) {
			int   st;
			pid_t r = waitpid(res->pid, &st, WNOHANG);
			if (r == res->pid) {
				reaped       = true;
				res->wstatus = st;
			} else if (r < 0 && errno != EINTR) {
				// ECHILD: reaped by someone else (a SIGCHLD
				// set to SIG_IGN); its status is lost.
				reaped       = true;
				res->wstatus = 0xff00; // "exited with 255"
			}
		}

		now_ms = sje_mono_ms();
		switch (phase) {
		case PROC_RUN:
			if (res->stdout_overflow ||
			    (spec->should_stop != NULL &&
			        spec->should_stop(spec->stop_arg))) {
				res->stopped = !res->stdout_overflow;
				proc_signal(res->pid, SIGTERM);
				phase   = PROC_TERM;
				term_ms = now_ms;
			} else if (reaped) {
				if (exec_group_alive(res->pid)) {
					res->leftovers = true;
					proc_signal(res->pid, SIGTERM);
					phase   = PROC_TERM;
					term_ms = now_ms;
				} else {
					phase    = PROC_DRAIN;
					drain_ms = now_ms + PROC_DRAIN_MS;
				}
			}
			break;
		case PROC_TERM:
			if (reaped && !exec_group_alive(res->pid)) {
				phase    = PROC_DRAIN;
				drain_ms = now_ms + PROC_DRAIN_MS;
			} else if (now_ms >= term_ms + spec->kill_grace_ms) {
				proc_signal(res->pid, SIGKILL);
				res->killed = true;
				phase       = PROC_KILL;
				kill_ms     = now_ms;
			}
			break;
		case PROC_KILL:
			if (reaped &&
			    (now_ms >= kill_ms + PROC_KILL_WAIT_MS ||
			        !exec_group_alive(res->pid))) {
				phase    = PROC_DRAIN;
				drain_ms = now_ms + PROC_DRAIN_MS;
			}
			break;
		case PROC_DRAIN:
		case PROC_DONE:
			break;
		}
		if (phase == PROC_DRAIN && out[0] < 0 && err[0] < 0) {
			phase = PROC_DONE;
		} else if (phase == PROC_DRAIN && now_ms >= drain_ms) {
			res->pipes_abandoned = true;
			phase                = PROC_DONE;
		}
		if (phase == PROC_DONE) {
			res->run_ms = now_ms - start_ms;
			break;
		}
		if (phase != PROC_RUN) {
			proc_close(&in[1]); // nobody will read it now
		}

		// Wait for I/O, at most PROC_POLL_MS, less before a deadline.
		timeout_ms = PROC_POLL_MS;
		if (phase == PROC_TERM &&
		    term_ms + spec->kill_grace_ms - now_ms < timeout_ms) {
			timeout_ms =
			    (int) (term_ms + spec->kill_grace_ms - now_ms);
		}
		if (in[1] >= 0) {
			pfd[nfd++] = (struct pollfd) { in[1], POLLOUT, 0 };
		}
		if (out[0] >= 0) {
			pfd[nfd++] = (struct pollfd) { out[0], POLLIN, 0 };
		}
		if (err[0] >= 0) {
			pfd[nfd++] = (struct pollfd) { err[0], POLLIN, 0 };
		}
		if (nfd == 0) {
			// Only the exit is awaited: look soon, then less
			// often, so that a quick command ends quickly and a
			// slow one costs nothing.
			if (idle_ms < timeout_ms) {
				timeout_ms = idle_ms;
			}
			idle_ms = idle_ms * 2 < PROC_POLL_MS ? idle_ms * 2
			                                     : PROC_POLL_MS;
		}
		if (timeout_ms < 0) {
			timeout_ms = 0;
		}
		if (poll(nfd > 0 ? pfd : NULL, nfd, timeout_ms) <= 0) {
			continue; // timeout or EINTR
		}
		for (i = 0; i < (int) nfd; i++) {
			if (pfd[i].revents == 0) {
				continue;
			}
			if (pfd[i].fd == in[1]) {
				proc_write(&in[1], spec, &in_off);
			} else if (pfd[i].fd == out[0]) {
				proc_read(&out[0], true, res, buf);
			} else if (pfd[i].fd == err[0]) {
				proc_read(&err[0], false, res, buf);
			}
		}
	}
	rv = 0;

fail:
	proc_close(&in[0]);
	proc_close(&in[1]);
	proc_close(&out[0]);
	proc_close(&out[1]);
	proc_close(&err[0]);
	proc_close(&err[1]);
	free(buf);
	return rv;
}

void
exec_proc_result_fini(exec_proc_result *res)
{
	exec_buf_fini(&res->out);
	exec_tail_fini(&res->err);
}
