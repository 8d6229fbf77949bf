// exec.c — the `exec` plugin: task functions that run commands.
//
// Every entry of config's tasks.functions that has a `command` becomes a
// task function of that name (registered from init). A job of it runs the
// command — its argv as given, never through a shell — and:
//
//   stdin             the job's params, as JSON text, then EOF
//   SJE_PARENTS_FILE  names a file holding the parents' results (a JSON
//                     object keyed by parent task_id; {} without parents)
//   environment       only PATH=/usr/local/bin:/usr/bin:/bin,
//                     HOME=/nonexistent, LANG=C.UTF-8, SJE_TASK_ID,
//                     SJE_ATTEMPT, SJE_FUNCTION, SJE_PARENTS_FILE, and what
//                     the plugin's `env` option adds; nothing of the
//                     worker's own environment
//   working dir       a fresh, empty directory, removed afterwards with
//                     everything in it
//   stdout            the result: one JSON value, or else the text as a
//                     JSON string (empty: null); more than
//                     max_stdout_bytes fails the job ("output_too_large")
//   stderr            the last 4 KiB go into the job's error
//   exit status       0 succeeds; anything else fails the job (type
//                     "exit": "exited with status 3; stderr: ...", or
//                     "killed by signal 9 (SIGKILL); ...")
//   timeout, cancel   the command's whole process group gets SIGTERM,
//                     then SIGKILL after kill_grace_ms (2 s)
//
// Processes the command leaves behind in its group (`sleep 300 &`) are
// stopped the same way when it exits. proc.c runs the child, output.c
// makes the result and the messages.
//
// Options (plugins: - {name: exec, options: {...}}):
//   kill_grace_ms     SIGTERM to SIGKILL, ms (default 2000)
//   max_stdout_bytes  1 .. 1048576 (default 1048576)
//   tmp_dir           where job directories are made (default $TMPDIR, or
//                     /tmp)
//   env               {NAME: value}: added to (or replacing PATH, HOME or
//                     LANG in) every command's environment; SJE_* names
//                     are reserved
//
// Thread-safety: the function table and options are built by init and
// only read afterwards; each job has its own directory, pipes and child.
#define _GNU_SOURCE // strerror_r returning char *
#include <sje_plugin.h>

#include "util.h"

#include "output.h"
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXEC_VERSION "0.1.0"

// Defaults and limits of the options.
#define EXEC_KILL_GRACE_MS 2000u
#define EXEC_MAX_KILL_GRACE_MS 600000u
#define EXEC_MAX_STDOUT_BYTES (1024u * 1024u) // also the result limit
#define EXEC_STDERR_TAIL_BYTES 4096u
// The job's error message, like the worker's own limit.
#define EXEC_MESSAGE_BYTES 4096u
#define EXEC_PATH "/usr/local/bin:/usr/bin:/bin"
// Longest job directory path, and so tmp_dir (bytes, with the NUL).
#define EXEC_DIR_BYTES (PATH_MAX - 64)
// Deepest directory tree removed after a job.
#define EXEC_RMTREE_DEPTH 64

// exec_fn is one function: a command.
typedef struct exec_fn {
	char  *name;
	char **argv; // NULL-terminated; argv[0] absolute when it has a '/'
	size_t argc;
	const struct exec_state *st;
} exec_fn;

typedef struct exec_state {
	const sje_host_api *host;
	uint32_t            kill_grace_ms;
	size_t              max_stdout_bytes;
	char               *tmp_dir;
	char              **env; // "NAME=value" from the env option
	size_t              n_env;
	exec_fn            *fns;
	size_t              n_fns;
} exec_state;

// exec_fail sets the job's error, formatted, and returns SJE_TASK_FAILED.
static sje_task_rc exec_fail(const sje_host_api *host, sje_task *task,
    const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sje_task_rc
exec_fail(const sje_host_api *host, sje_task *task, const char *type,
    const char *fmt, ...)
{
	char    msg[EXEC_MESSAGE_BYTES];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	host->set_error(task, type, msg);
	return SJE_TASK_FAILED;
}

static void exec_log(const sje_host_api *host, sje_task *task,
    sje_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
exec_log(const sje_host_api *host, sje_task *task, sje_log_level level,
    const char *fmt, ...)
{
	char    msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	host->log(task, level, msg);
}

// ---- init: options and functions ----

static void
exec_state_free(exec_state *st)
{
	size_t i;
	size_t j;

	if (st == NULL) {
		return;
	}
	for (i = 0; i < st->n_fns; i++) {
		for (j = 0; j < st->fns[i].argc; j++) {
			free(st->fns[i].argv[j]);
		}
		free(st->fns[i].argv);
		free(st->fns[i].name);
	}
	free(st->fns);
	for (i = 0; i < st->n_env; i++) {
		free(st->env[i]);
	}
	free(st->env);
	free(st->tmp_dir);
	free(st);
}

// exec_opt_uint reads an integer option in [min, max] into *out.
static int
exec_opt_uint(const json_t *v, const char *key, uint64_t min, uint64_t max,
    uint64_t *out, char *err, size_t errlen)
{
	json_int_t i;

	if (!json_is_integer(v) || (i = json_integer_value(v)) < 0 ||
	    (uint64_t) i < min || (uint64_t) i > max) {
		(void) sje__snprintf(err, errlen,
		    "options.%s: expected an integer from %llu to %llu", key,
		    (unsigned long long) min, (unsigned long long) max);
		return -1;
	}
	*out = (uint64_t) i;
	return 0;
}

// exec_opt_env reads the env option: {NAME: "value", ...}.
static int
exec_opt_env(exec_state *st, const json_t *env, char *err, size_t errlen)
{
	const char *key;
	json_t     *v;

	if (!json_is_object(env)) {
		(void) sje__snprintf(err, errlen,
		    "options.env: expected a mapping of names to values");
		return -1;
	}
	if ((st->env = calloc(json_object_size(env) + 1, sizeof(char *))) ==
	    NULL) {
		(void) sje__snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_object_foreach ((json_t *) env, key, v) {
		const char *c;

		if (key[0] == '\0' || strncmp(key, "SJE_", 4) == 0) {
			(void) sje__snprintf(err, errlen, "options.env.%s: %s",
			    key,
			    key[0] == '\0' ? "empty name"
			                   : "SJE_* names are set by exec");
			return -1;
		}
		for (c = key; *c != '\0'; c++) {
			if (!(*c == '_' || (*c >= 'A' && *c <= 'Z') ||
			        (*c >= 'a' && *c <= 'z') ||
			        (c != key && *c >= '0' && *c <= '9'))) {
				(void) sje__snprintf(err, errlen,
				    "options.env: '%s' is not a valid variable "
				    "name",
				    key);
				return -1;
			}
		}
		if (!json_is_string(v)) {
			(void) sje__snprintf(err, errlen,
			    "options.env.%s: expected a string", key);
			return -1;
		}
		if (asprintf(&st->env[st->n_env], "%s=%s", key,
		        json_string_value(v)) < 0) {
			st->env[st->n_env] = NULL;
			(void) sje__snprintf(err, errlen, "out of memory");
			return -1;
		}
		st->n_env++;
	}
	return 0;
}

// exec_parse_options reads the plugin's options into st.
static int
exec_parse_options(
    exec_state *st, const char *options_json, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t      *opts;
	const char  *key;
	json_t      *v;
	uint64_t     u   = 0;
	const char  *tmp = getenv("TMPDIR"); // init runs before any thread
	int          rv  = 0;

	opts = json_loads(options_json != NULL ? options_json : "{}",
	    JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(opts)) {
		(void) sje__snprintf(
		    err, errlen, "options: expected a mapping");
		json_decref(opts);
		return -1;
	}
	json_object_foreach (opts, key, v) {
		if (strcmp(key, "kill_grace_ms") == 0) {
			rv = exec_opt_uint(v, key, 0, EXEC_MAX_KILL_GRACE_MS,
			    &u, err, errlen);
			st->kill_grace_ms = (uint32_t) u;
		} else if (strcmp(key, "max_stdout_bytes") == 0) {
			rv = exec_opt_uint(
			    v, key, 1, EXEC_MAX_STDOUT_BYTES, &u, err, errlen);
			st->max_stdout_bytes = (size_t) u;
		} else if (strcmp(key, "tmp_dir") == 0) {
			if (!json_is_string(v) ||
			    json_string_value(v)[0] != '/' ||
			    strlen(json_string_value(v)) + 20 >=
			        EXEC_DIR_BYTES) {
				(void) sje__snprintf(err, errlen,
				    "options.tmp_dir: expected an absolute "
				    "path shorter than %d bytes",
				    EXEC_DIR_BYTES - 20);
				rv = -1;
			} else {
				tmp = json_string_value(v);
			}
		} else if (strcmp(key, "env") == 0) {
			rv = exec_opt_env(st, v, err, errlen);
		} else {
			(void) sje__snprintf(err, errlen,
			    "options: unknown key '%s' (known: kill_grace_ms, "
			    "max_stdout_bytes, tmp_dir, env)",
			    key);
			rv = -1;
		}
		if (rv != 0) {
			break;
		}
	}
	if (tmp == NULL || tmp[0] != '/' ||
	    strlen(tmp) + 20 >= EXEC_DIR_BYTES) {
		tmp = "/tmp"; // $TMPDIR unset or unusable
	}
	if (rv == 0 && (st->tmp_dir = strdup(tmp)) == NULL) {
		(void) sje__snprintf(err, errlen, "out of memory");
		rv = -1;
	}
	json_decref(opts);
	return rv;
}

// exec_find_program resolves a program name without '/' in PATH into buf;
// false when no executable file of that name is there.
static bool
exec_find_program(const char *name, char *buf, size_t len)
{
	const char *dir = EXEC_PATH;

	while (*dir != '\0') {
		size_t dlen = strcspn(dir, ":");
		if (snprintf(buf, len, "%.*s/%s", (int) dlen, dir, name) <
		        (int) len &&
		    access(buf, X_OK) == 0) {
			return true;
		}
		dir += dlen;
		if (*dir == ':') {
			dir++;
		}
	}
	return false;
}

// exec_add_fn makes function name run command (a JSON array of strings).
static int
exec_add_fn(exec_state *st, const char *name, const json_t *command, char *err,
    size_t errlen)
{
	exec_fn *f = &st->fns[st->n_fns];
	size_t   n = json_array_size(command);
	size_t   i;
	char     where[PATH_MAX];

	if (!json_is_array(command) || n == 0) {
		(void) sje__snprintf(err, errlen,
		    "tasks.functions.%s.command: expected a non-empty list",
		    name);
		return -1;
	}
	memset(f, 0, sizeof(*f));
	f->st = st;
	if ((f->name = strdup(name)) == NULL ||
	    (f->argv = calloc(n + 1, sizeof(char *))) == NULL) {
		free(f->name);
		(void) sje__snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->n_fns++; // from here on exec_state_free frees it
	for (i = 0; i < n; i++) {
		const json_t *a = json_array_get(command, i);
		if (!json_is_string(a) ||
		    (i == 0 && json_string_value(a)[0] == '\0')) {
			(void) sje__snprintf(err, errlen,
			    "tasks.functions.%s.command[%zu]: expected a "
			    "%sstring",
			    name, i, i == 0 ? "non-empty " : "");
			return -1;
		}
		if (i == 0 && strchr(json_string_value(a), '/') != NULL &&
		    json_string_value(a)[0] != '/') {
			// Relative to the worker's directory, not to the
			// job's (the child's cwd).
			char cwd[PATH_MAX];
			if (getcwd(cwd, sizeof(cwd)) == NULL ||
			    asprintf(&f->argv[0], "%s/%s", cwd,
			        json_string_value(a)) < 0) {
				f->argv[0] = NULL;
				(void) sje__snprintf(err, errlen,
				    "tasks.functions.%s.command[0]: cannot "
				    "make '%s' absolute",
				    name, json_string_value(a));
				return -1;
			}
		} else if ((f->argv[i] = strdup(json_string_value(a))) ==
		    NULL) {
			(void) sje__snprintf(err, errlen, "out of memory");
			return -1;
		}
		f->argc = i + 1;
	}

	// A missing program is not an error yet (it may be installed
	// later), but worth a line at start.
	if (strchr(f->argv[0], '/') != NULL
	        ? access(f->argv[0], X_OK) != 0
	        : !exec_find_program(f->argv[0], where, sizeof(where))) {
		exec_log(st->host, NULL, SJE_LOG_WARN,
		    "exec: function %s: %s is not an executable file%s "
		    "(yet?): its jobs will fail until it is",
		    name, f->argv[0],
		    strchr(f->argv[0], '/') != NULL ? "" : " in " EXEC_PATH);
	}
	return 0;
}

static sje_task_rc exec_run(
    const sje_host_api *host, sje_task *task, void *arg);

// exec_init reads the options, then registers one function per
// tasks.functions entry with a command.
static int
exec_init(const sje_plugin_init *in, void **state, char *err, size_t errlen)
{
	exec_state  *st;
	json_t      *fns;
	json_error_t jerr;
	const char  *name;
	json_t      *fc;
	size_t       i;
	int          rv;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		(void) sje__snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->host             = in->host;
	st->kill_grace_ms    = EXEC_KILL_GRACE_MS;
	st->max_stdout_bytes = EXEC_MAX_STDOUT_BYTES;
	if (exec_parse_options(st, in->options_json, err, errlen) != 0) {
		exec_state_free(st);
		return -1;
	}
	if (in->register_task == NULL) {
		*state = st; // a host that runs no tasks
		return 0;
	}

	fns = json_loads(
	    in->functions_json != NULL ? in->functions_json : "{}", 0, &jerr);
	if (!json_is_object(fns) ||
	    (json_object_size(fns) > 0 &&
	        (st->fns = calloc(json_object_size(fns), sizeof(*st->fns))) ==
	            NULL)) {
		(void) sje__snprintf(
		    err, errlen, "cannot read tasks.functions");
		json_decref(fns);
		exec_state_free(st);
		return -1;
	}
	json_object_foreach (fns, name, fc) {
		json_t *command = json_object_get(fc, "command");
		if (command == NULL) {
			continue;
		}
		if (exec_add_fn(st, name, command, err, errlen) != 0) {
			json_decref(fns);
			exec_state_free(st);
			return -1;
		}
	}
	json_decref(fns);

	for (i = 0; i < st->n_fns; i++) {
		char summary[160];
		(void) snprintf(summary, sizeof(summary), "runs %.120s%s",
		    st->fns[i].argv[0], st->fns[i].argc > 1 ? " ..." : "");
		rv = in->register_task(in->host_ctx, st->fns[i].name, exec_run,
		    &st->fns[i], summary);
		if (rv != 0) {
			(void) sje__snprintf(err, errlen,
			    "cannot register function '%s': %s",
			    st->fns[i].name,
			    rv == EINVAL ? "not a valid function name "
			                   "(1 to 128 of A-Z a-z 0-9 _ . : -)"
			                 : strerror(rv));
			exec_state_free(st);
			return -1;
		}
	}
	if (st->n_fns == 0) {
		exec_log(st->host, NULL, SJE_LOG_INFO,
		    "exec: no tasks.functions entry has a command: no "
		    "functions");
	}
	*state = st;
	return 0;
}

static void
exec_fini(void *state)
{
	exec_state_free(state);
}

// ---- one job ----

// exec_write_file creates path (mode 0600) holding text.
static int
exec_write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	size_t off = 0;
	int    fd;
	int    rv = 0;

	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		return errno;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			rv = n < 0 ? errno : EIO;
			break;
		}
		off += (size_t) n;
	}
	if (close(fd) != 0 && rv == 0) {
		rv = errno;
	}
	return rv;
}

// exec_rmtree_at removes name (in directory dfd) and everything under it,
// never following symbolic links. Returns 0 or the first errno met.
static int
exec_rmtree_at(int dfd, const char *name, int depth)
{
	struct dirent *e;
	DIR           *d;
	int            fd;
	int            rv = 0;

	if (unlinkat(dfd, name, 0) == 0) {
		return 0;
	}
	if (errno == ENOENT) {
		return 0;
	}
	if (errno != EISDIR && errno != EPERM) {
		return errno;
	}
	if (depth >= EXEC_RMTREE_DEPTH) {
		return ELOOP;
	}
	fd =
	    openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		// The command took its own rights away; give them back.
		(void) fchmodat(dfd, name, 0700, 0);
		fd = openat(dfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		return errno;
	}
	(void) fchmod(fd, 0700); // so that its entries can be removed
	if ((d = fdopendir(fd)) == NULL) {
		rv = errno;
		(void) close(fd);
		return rv;
	}
	while ((e = readdir(d)) != NULL) {
		int r;
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		if ((r = exec_rmtree_at(dirfd(d), e->d_name, depth + 1)) !=
		        0 &&
		    rv == 0) {
			rv = r;
		}
	}
	(void) closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && rv == 0) {
		rv = errno;
	}
	return rv;
}

// exec_job is what one job needs, in one place for cleanup.
typedef struct exec_job {
	// The job's directory (made by mkdtemp), short enough for the names
	// under it to fit in PATH_MAX.
	char   dir[EXEC_DIR_BYTES];
	char   work[PATH_MAX];    // dir/work: the child's cwd
	char   parents[PATH_MAX]; // dir/parents.json
	char   program[PATH_MAX]; // what is executed
	char  *envp[32];          // the fixed part; env option appended
	char **envv;              // envp, or a bigger array with the option's
	char   v_task[200];
	char   v_attempt[32];
	char   v_function[200];
	char   v_parents[PATH_MAX + 32];
	bool   made_dir;
} exec_job;

// exec_env builds the child's environment into j (pointing into j and
// st).
static int
exec_env(exec_job *j, const exec_state *st, const sje_host_api *host,
    sje_task *task)
{
	static const char *const fixed[] = {
		("PATH=" EXEC_PATH),
		"HOME=/nonexistent",
		"LANG=C.UTF-8",
	};
	size_t n = 0;
	size_t i;
	size_t k;

	(void) snprintf(j->v_task, sizeof(j->v_task), "SJE_TASK_ID=%s",
	    host->task_id(task));
	(void) snprintf(j->v_attempt, sizeof(j->v_attempt), "SJE_ATTEMPT=%u",
	    (unsigned) host->attempt(task));
	(void) snprintf(j->v_function, sizeof(j->v_function),
	    "SJE_FUNCTION=%s", host->function(task));
	(void) snprintf(j->v_parents, sizeof(j->v_parents),
	    "SJE_PARENTS_FILE=%s", j->parents);

	j->envv = j->envp;
	if (sizeof(fixed) / sizeof(fixed[0]) + 4 + st->n_env + 1 >
	    sizeof(j->envp) / sizeof(j->envp[0])) {
		j->envv = calloc(
		    sizeof(fixed) / sizeof(fixed[0]) + 4 + st->n_env + 1,
		    sizeof(char *));
		if (j->envv == NULL) {
			return ENOMEM;
		}
	}
	// The fixed variables, unless the env option replaces them.
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		size_t klen     = strcspn(fixed[i], "=") + 1;
		bool   replaced = false;
		for (k = 0; k < st->n_env; k++) {
			replaced = replaced ||
			    strncmp(st->env[k], fixed[i], klen) == 0;
		}
		if (!replaced) {
			j->envv[n++] = (char *) fixed[i];
		}
	}
	for (k = 0; k < st->n_env; k++) {
		j->envv[n++] = st->env[k];
	}
	j->envv[n++] = j->v_task;
	j->envv[n++] = j->v_attempt;
	j->envv[n++] = j->v_function;
	j->envv[n++] = j->v_parents;
	j->envv[n]   = NULL;
	return 0;
}

static bool
exec_should_stop(void *arg)
{
	void              **a    = arg;
	const sje_host_api *host = a[0];

	return host->cancelled(a[1]);
}

// exec_stopped_error sets the error of a run stopped by the host: timeout,
// cancel, lease lost or shutdown.
static sje_task_rc
exec_stopped_error(const sje_host_api *host, sje_task *task,
    const exec_state *st, const exec_proc_result *res)
{
	const char *why  = host->cancel_reason(task);
	const char *type = "cancelled";
	char        head[256];
	char        msg[EXEC_MESSAGE_BYTES];
	const char *tail;
	size_t      tail_len = exec_tail_get(&res->err, &tail);

	const char *cause = ""; // what the type leaves unsaid
	if (why != NULL && strcmp(why, "timeout") == 0) {
		type = "timeout";
	} else if (why != NULL && strcmp(why, "shutdown") == 0) {
		type  = "interrupted";
		cause = "the worker stops: ";
	} else if (why != NULL && strcmp(why, "lost") == 0) {
		type  = "lost";
		cause = "the lease was lost: ";
	}
	// The type says why (the CLI shows "type: message"): the message
	// says what was stopped, and why only where the type does not.
	(void) snprintf(head, sizeof(head),
	    "%sprocess group %ld stopped with SIGTERM%s", cause,
	    (long) res->pid,
	    res->killed
	        ? (st->kill_grace_ms == 0 ? " and SIGKILL" : ", then SIGKILL")
	        : "");
	host->set_error(task, type,
	    exec_error_message(
	        msg, sizeof(msg), head, tail, tail_len, res->err.total));
	return SJE_TASK_FAILED;
}

// exec_outcome turns a finished run into the job's result or error.
static sje_task_rc
exec_outcome(const sje_host_api *host, sje_task *task, const exec_fn *f,
    const exec_proc_result *res)
{
	char        head[256];
	char        status[96];
	char        msg[EXEC_MESSAGE_BYTES];
	const char *tail;
	size_t      tail_len = exec_tail_get(&res->err, &tail);
	char       *result;

	if (res->leftovers) {
		exec_log(host, task, SJE_LOG_INFO,
		    "exec: %s left processes behind in its group; stopped "
		    "them%s",
		    f->argv[0], res->killed ? " (SIGKILL)" : "");
	}
	if (res->pipes_abandoned) {
		exec_log(host, task, SJE_LOG_WARN,
		    "exec: %s: a process outside its group still holds its "
		    "output; not waiting for it",
		    f->argv[0]);
	}
	if (res->stopped) {
		return exec_stopped_error(host, task, f->st, res);
	}
	if (res->stdout_overflow) {
		return exec_fail(host, task, "output_too_large",
		    "%s wrote more than %zu bytes to stdout; process group "
		    "stopped",
		    f->argv[0], f->st->max_stdout_bytes);
	}
	if (!WIFEXITED(res->wstatus) || WEXITSTATUS(res->wstatus) != 0) {
		(void) snprintf(head, sizeof(head), "%s",
		    exec_describe_status(
		        res->wstatus, status, sizeof(status)));
		host->set_error(task, "exit",
		    exec_error_message(msg, sizeof(msg), head, tail, tail_len,
		        res->err.total));
		return SJE_TASK_FAILED;
	}
	if ((result = exec_result_json(
	         res->out.data != NULL ? res->out.data : "", res->out.len)) ==
	    NULL) {
		return exec_fail(
		    host, task, "error", "out of memory making the result");
	}
	host->set_result(task, result);
	free(result);
	if (res->err.total > 0) {
		exec_log(host, task, SJE_LOG_DEBUG,
		    "exec: %s succeeded, writing %llu bytes to stderr",
		    f->argv[0], (unsigned long long) res->err.total);
	}
	return SJE_TASK_OK;
}

static sje_task_rc
exec_run(const sje_host_api *host, sje_task *task, void *arg)
{
	const exec_fn    *f  = arg;
	const exec_state *st = f->st;
	exec_job         *j;
	exec_proc_spec    spec;
	exec_proc_result  res;
	void             *stop_arg[2] = { (void *) host, task };
	const char       *params;
	char              ebuf[128];
	sje_task_rc       rc;
	int               rv;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		return exec_fail(host, task, "error", "out of memory");
	}
	memset(&res, 0, sizeof(res));

	// The job's directory: parents.json and the child's cwd.
	if (snprintf(j->dir, sizeof(j->dir), "%s/sje-exec-XXXXXX",
	        st->tmp_dir) >= (int) sizeof(j->dir) ||
	    mkdtemp(j->dir) == NULL) {
		rc = exec_fail(host, task, "error",
		    "cannot make a job directory in %s: %s", st->tmp_dir,
		    strerror_r(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	j->made_dir = true;
	(void) snprintf(j->work, sizeof(j->work), "%s/work", j->dir);
	(void) snprintf(
	    j->parents, sizeof(j->parents), "%s/parents.json", j->dir);
	if (mkdir(j->work, 0700) != 0) {
		rv = errno;
		rc = exec_fail(host, task, "error",
		    "cannot make the job's working directory: %s",
		    strerror_r(rv, ebuf, sizeof(ebuf)));
		goto out;
	}
	if ((rv = exec_write_file(j->parents, host->parents_json(task))) !=
	    0) {
		rc = exec_fail(host, task, "error",
		    "cannot write the parents' results: %s",
		    strerror_r(rv, ebuf, sizeof(ebuf)));
		goto out;
	}

	// The program: as configured when it has a '/', else from PATH.
	if (strchr(f->argv[0], '/') != NULL) {
		(void) snprintf(
		    j->program, sizeof(j->program), "%s", f->argv[0]);
	} else if (!exec_find_program(
	               f->argv[0], j->program, sizeof(j->program))) {
		rc = exec_fail(host, task, "spawn",
		    "cannot run %s: not found in " EXEC_PATH, f->argv[0]);
		goto out;
	}
	if (exec_env(j, st, host, task) != 0) {
		rc = exec_fail(host, task, "error", "out of memory");
		goto out;
	}

	params = host->params_json(task);
	memset(&spec, 0, sizeof(spec));
	spec.path              = j->program;
	spec.argv              = f->argv;
	spec.envp              = j->envv;
	spec.cwd               = j->work;
	spec.stdin_data        = params;
	spec.stdin_len         = strlen(params);
	spec.max_stdout_bytes  = st->max_stdout_bytes;
	spec.stderr_tail_bytes = EXEC_STDERR_TAIL_BYTES;
	spec.kill_grace_ms     = st->kill_grace_ms;
	spec.should_stop       = exec_should_stop;
	spec.stop_arg          = stop_arg;

	if ((rv = exec_proc_run(&spec, &res)) != 0) {
		rc = exec_fail(host, task, "error",
		    "cannot set up a run of %s: %s", f->argv[0],
		    strerror_r(rv, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (res.spawn_errno != 0) {
		rc = exec_fail(host, task, "spawn", "cannot run %s: %s",
		    j->program,
		    strerror_r(res.spawn_errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	exec_log(host, task, SJE_LOG_DEBUG,
	    "exec: %s (pid %ld) %s after %.3f s", f->argv[0], (long) res.pid,
	    exec_describe_status(res.wstatus, ebuf, sizeof(ebuf)),
	    (double) res.run_ms / 1000.0);
	rc = exec_outcome(host, task, f, &res);

out:
	exec_proc_result_fini(&res);
	if (j->made_dir && (rv = exec_rmtree_at(AT_FDCWD, j->dir, 0)) != 0) {
		exec_log(host, task, SJE_LOG_WARN,
		    "exec: cannot remove the job directory %s: %s", j->dir,
		    strerror_r(rv, ebuf, sizeof(ebuf)));
	}
	if (j->envv != j->envp) {
		free(j->envv);
	}
	free(j);
	return rc;
}

// ---- the entry point ----

static const sje_plugin exec_plugin = {
	.abi_version = SJE_PLUGIN_ABI_VERSION,
	.size        = sizeof(sje_plugin),
	.name        = "exec",
	.version     = EXEC_VERSION,
	.init        = exec_init,
	.fini        = exec_fini,
	.tasks       = NULL,
	.n_tasks     = 0,
	.hooks       = NULL,
	.roles       = SJE_PLUGIN_ROLE_WORKER,
};

// sje_plugin_entry returns the exec plugin's description (static data).
SJE_PLUGIN_EXPORT const sje_plugin *sje_plugin_entry(void);

const sje_plugin *
sje_plugin_entry(void)
{
	return &exec_plugin;
}
