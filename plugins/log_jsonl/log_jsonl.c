// log_jsonl.c — the `log_jsonl` plugin: every job event the coordinator
// commits, appended to a file as one line of JSON, the file rotated by
// size.
//
// sje-server calls on_event from its hook thread, in seq order, off the
// scheduler's path; the line written is the event's event_json (the
// object GET /events gives), or, from a host too old to give it, an
// equivalent object rendered here from the event's fields.
//
// Options (plugins: - {name: log_jsonl, options: {...}}):
//   path       the file, appended to (required); opened by init, so that
//              a bad path stops the server at start
//   max_bytes  rotate before a line would make the file larger (default
//              100 MiB; 0: never)
//   max_files  rotated files kept, path.1 (newest) .. path.N (default 5)
//   fsync      fdatasync after each line (default false)
//   states     the states whose events are written (default all)
//
// Design: each line goes to the kernel with one writev(2) of the text and
// its newline, so nothing stays buffered in the process. A line never
// straddles two files: when it would push the file past max_bytes, the
// file is rotated first, and a line longer than max_bytes goes alone into
// a fresh file. A file that is not a regular file (/dev/stdout) is never
// rotated. On an error (open, rotate, write, sync) the line is dropped
// and counted, the file is closed, one line is logged for the whole
// episode, and the next event opens the file again; the first line
// written after that logs the recovery with the count.
//
// Thread-safety: the options are read-only after init; the file and its
// bookkeeping are guarded by lj_state.mu (the ABI lets hooks run
// concurrently). Lines are logged after the mutex is released.
#define _POSIX_C_SOURCE 200809L // fdatasync, strdup, XSI strerror_r
#include <sje_plugin.h>

#include "plugin_rt.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define LJ_VERSION "1.0.0"

#define LJ_MAX_BYTES (100u * 1024u * 1024u) // max_bytes' default
#define LJ_MAX_FILES 5u                     // max_files' default
#define LJ_MAX_MAX_FILES 1000u
#define LJ_SUFFIX_BYTES 6 // ".1000" and the NUL, for rotated names
#define LJ_MSG_BYTES 512  // one logged line

// The states an event may carry: bit s of lj_state.states stands for the
// state of value s, and bit 0 for any other (a newer host's), as
// plugin_rt.h lays out a state mask.
#define LJ_ALL_STATES UINT32_MAX
#define LJ_OTHER_STATE 1u
#define LJ_STATE_LIST_BYTES 160 // every state's name, for messages

// lj_state is made by init and freed by fini.
typedef struct lj_state {
	const sje_host_api *host;
	char               *path;      // read-only after init
	uint64_t            max_bytes; // 0: never rotate
	unsigned            max_files; // 1 .. LJ_MAX_MAX_FILES
	bool                fsync;
	uint32_t            states; // mask of the states written

	pthread_mutex_t mu;         // guards the fields below
	int             fd;         // -1 after an error, until reopened
	bool            regular;    // fd is a regular file (rotated)
	uint64_t        size_bytes; // fd's size, as far as we wrote it
	bool            failing;    // in an error episode (logged)
	uint64_t        dropped;    // lines lost in this episode
} lj_state;

// lj_strerror returns the text of errno value e, in buf (len bytes).
static const char *
lj_strerror(int e, char *buf, size_t len)
{
	if (strerror_r(e, buf, len) != 0) {
		(void) snprintf(buf, len, "error %d", e);
	}
	return buf;
}

// lj_state_bit returns the bit of states that stands for state.
static uint32_t
lj_state_bit(const char *state)
{
	int s = sje__plugin_state_find(state);

	return s != 0 ? 1u << s : LJ_OTHER_STATE;
}

// ---- the file, all under st->mu ----

// lj_open opens st->path for appending and takes its size. Returns 0 or
// an errno.
static int
lj_open(lj_state *st)
{
	struct stat sb;
	int         e;

	st->fd =
	    open(st->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (st->fd < 0) {
		return errno;
	}
	if (fstat(st->fd, &sb) != 0) {
		e = errno;
		(void) close(st->fd);
		st->fd = -1;
		return e;
	}
	st->regular    = S_ISREG(sb.st_mode);
	st->size_bytes = (uint64_t) sb.st_size;
	return 0;
}

// lj_close closes the file, if open.
static void
lj_close(lj_state *st)
{
	if (st->fd >= 0) {
		(void) close(st->fd);
		st->fd = -1;
	}
}

// lj_name writes the name of rotated file k (0: the file itself) into buf,
// PATH_MAX bytes; init checked that every name fits.
static void
lj_name(const lj_state *st, unsigned k, char *buf)
{
	if (k == 0) {
		(void) snprintf(buf, PATH_MAX, "%s", st->path);
	} else {
		(void) snprintf(buf, PATH_MAX, "%s.%u", st->path, k);
	}
}

// lj_rotate renames path.(N-1) to path.N, ..., path to path.1 (replacing
// path.N, the oldest kept), skipping the names that do not exist, then
// opens a fresh path. Returns 0 or an errno.
static int
lj_rotate(lj_state *st)
{
	char     from[PATH_MAX];
	char     to[PATH_MAX];
	unsigned k;

	for (k = st->max_files; k >= 1; k--) {
		lj_name(st, k - 1, from);
		lj_name(st, k, to);
		if (rename(from, to) != 0 && errno != ENOENT) {
			return errno;
		}
	}
	lj_close(st);
	return lj_open(st);
}

// lj_write_line writes text (len bytes) and a newline with writev,
// finishing partial writes; *written counts the bytes that went out.
// Returns 0 or an errno.
static int
lj_write_line(int fd, const char *text, size_t len, size_t *written)
{
	struct iovec  iov[2];
	struct iovec *v     = iov;
	int           n_iov = 2;
	ssize_t       n;

	iov[0].iov_base = (void *) text;
	iov[0].iov_len  = len;
	iov[1].iov_base = "\n";
	iov[1].iov_len  = 1;
	*written        = 0;
	while (n_iov > 0) {
		if ((n = writev(fd, v, n_iov)) < 0) {
			if (errno == EINTR) {
				continue;
			}
			return errno;
		}
		if (n == 0) {
			return EIO;
		}
		*written += (size_t) n;
		while (n_iov > 0 && (size_t) n >= v->iov_len) {
			n -= (ssize_t) v->iov_len;
			v++;
			n_iov--;
		}
		if (n_iov > 0) {
			v->iov_base = (char *) v->iov_base + n;
			v->iov_len -= (size_t) n;
		}
	}
	return 0;
}

// lj_append writes one line (text, len bytes, without its newline),
// opening the file again after an error and rotating it first when the
// line would make it larger than max_bytes. On failure it returns an
// errno with *what naming the step, and leaves the file closed.
static int
lj_append(lj_state *st, const char *text, size_t len, const char **what)
{
	uint64_t need = (uint64_t) len + 1;
	size_t   written;
	int      e;

	*what = "open";
	if (st->fd < 0 && (e = lj_open(st)) != 0) {
		return e;
	}
	// A line longer than max_bytes rotates a non-empty file and then
	// goes alone into the fresh one.
	if (st->regular && st->max_bytes > 0 && st->size_bytes > 0 &&
	    st->size_bytes + need > st->max_bytes) {
		*what = "rotate";
		if ((e = lj_rotate(st)) != 0) {
			lj_close(st);
			return e;
		}
	}
	*what = "write";
	if ((e = lj_write_line(st->fd, text, len, &written)) != 0) {
		// Take back a part line, so that the file stays whole lines.
		if (written > 0 && st->regular &&
		    ftruncate(st->fd, (off_t) st->size_bytes) != 0) {
			// Nothing more to try: the next line starts after it.
		}
		lj_close(st);
		return e;
	}
	st->size_bytes += need;
	*what = "sync";
	if (st->fsync && fdatasync(st->fd) != 0) {
		e = errno;
		lj_close(st);
		return e;
	}
	return 0;
}

// ---- the hook ----

// lj_set_str sets o[key] to s when s is not NULL.
static void
lj_set_str(json_t *o, const char *key, const char *s)
{
	if (s != NULL) {
		(void) json_object_set_new(o, key, json_string(s));
	}
}

// lj_render renders ev as a JSON object, for a host that gives no
// event_json. Returns text the caller frees, or NULL (out of memory).
static char *
lj_render(const sje_job_event *ev)
{
	json_t *o;
	json_t *e;
	char   *text;

	if ((o = json_object()) == NULL) {
		return NULL;
	}
	// As GET /events renders it: a number.
	(void) json_object_set_new(
	    o, "seq", json_integer((json_int_t) ev->seq));
	lj_set_str(o, "task_id", ev->task_id);
	lj_set_str(o, "function", ev->function);
	lj_set_str(o, "state", ev->state);
	(void) json_object_set_new(o, "attempt", json_integer(ev->attempt));
	lj_set_str(o, "worker", ev->worker);
	(void) json_object_set_new(o, "at_ms", json_integer(ev->at_ms));
	if (ev->error_type != NULL || ev->error_message != NULL) {
		if ((e = json_object()) != NULL) {
			lj_set_str(e, "type", ev->error_type);
			lj_set_str(e, "message", ev->error_message);
			(void) json_object_set_new(o, "error", e);
		}
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

// lj_on_event appends ev as one line, if its state is one of those kept.
static void
lj_on_event(void *state, const sje_job_event *ev)
{
	lj_state     *st                = state;
	char         *rendered          = NULL;
	const char   *text              = NULL;
	const char   *what              = "render";
	char          msg[LJ_MSG_BYTES] = "";
	char          ebuf[128];
	sje_log_level level = SJE_LOG_ERROR;
	int           e     = ENOMEM;

	if (st == NULL || ev == NULL ||
	    (st->states & lj_state_bit(ev->state)) == 0) {
		return;
	}
	// event_json came with ABI 1.1: read it only if the host's event
	// is that long.
	if (ev->size >=
	        offsetof(sje_job_event, event_json) + sizeof(ev->event_json) &&
	    ev->event_json != NULL && ev->event_json[0] != '\0') {
		text = ev->event_json;
	} else {
		text = rendered = lj_render(ev);
	}

	(void) pthread_mutex_lock(&st->mu);
	if (text != NULL) {
		e = lj_append(st, text, strlen(text), &what);
	}
	if (e != 0) {
		st->dropped++;
		if (!st->failing) {
			st->failing = true;
			(void) snprintf(msg, sizeof(msg),
			    "log_jsonl: cannot %s %s: %s; dropping events "
			    "until it works again (from seq %llu)",
			    what, st->path, lj_strerror(e, ebuf, sizeof(ebuf)),
			    (unsigned long long) ev->seq);
		}
	} else if (st->failing) {
		(void) snprintf(msg, sizeof(msg),
		    "log_jsonl: writing %s again from seq %llu; %llu events "
		    "were dropped",
		    st->path, (unsigned long long) ev->seq,
		    (unsigned long long) st->dropped);
		level       = SJE_LOG_WARN;
		st->failing = false;
		st->dropped = 0;
	}
	(void) pthread_mutex_unlock(&st->mu);

	if (msg[0] != '\0') {
		st->host->log(NULL, level, msg);
	}
	free(rendered);
}

// ---- init and fini ----

// lj_opt_states reads the states option, a list of state names, into
// st->states.
static int
lj_opt_states(lj_state *st, const json_t *v, char *err, size_t errlen)
{
	size_t   i;
	json_t  *s;
	uint32_t bit;
	char     list[LJ_STATE_LIST_BYTES];

	if (!json_is_array(v) || json_array_size(v) == 0) {
		(void) sje__snprintf(err, errlen,
		    "options.states: expected a non-empty list of states");
		return -1;
	}
	st->states = 0;
	json_array_foreach (v, i, s) {
		bit = lj_state_bit(json_string_value(s));
		if (bit == LJ_OTHER_STATE) {
			sje__plugin_state_list(list, sizeof(list));
			(void) sje__snprintf(err, errlen,
			    "options.states[%zu]: '%.40s' is not a state (%s)",
			    i, json_is_string(s) ? json_string_value(s) : "",
			    list);
			return -1;
		}
		st->states |= bit;
	}
	return 0;
}

// lj_parse_options reads the plugin's options into st.
static int
lj_parse_options(
    lj_state *st, const char *options_json, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t      *opts;
	const char  *key;
	json_t      *v;
	json_int_t   i;
	int          rv = 0;

	opts = json_loads(options_json != NULL ? options_json : "{}",
	    JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(opts)) {
		(void) sje__snprintf(
		    err, errlen, "options: expected a mapping");
		json_decref(opts);
		return -1;
	}
	json_object_foreach (opts, key, v) {
		i = json_integer_value(v); // 0 unless an integer
		if (strcmp(key, "path") == 0) {
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) + LJ_SUFFIX_BYTES >
			        PATH_MAX) {
				(void) sje__snprintf(err, errlen,
				    "options.path: expected a file name, a "
				    "non-empty string shorter than %d bytes",
				    PATH_MAX - LJ_SUFFIX_BYTES);
				rv = -1;
			} else if ((st->path = strdup(json_string_value(v))) ==
			    NULL) {
				(void) sje__snprintf(
				    err, errlen, "out of memory");
				rv = -1;
			}
		} else if (strcmp(key, "max_bytes") == 0) {
			if (!json_is_integer(v) || i < 0) {
				(void) sje__snprintf(err, errlen,
				    "options.max_bytes: expected an integer "
				    ">= 0 (0: never rotate)");
				rv = -1;
			}
			st->max_bytes = (uint64_t) i;
		} else if (strcmp(key, "max_files") == 0) {
			if (!json_is_integer(v) || i < 1 ||
			    i > (json_int_t) LJ_MAX_MAX_FILES) {
				(void) sje__snprintf(err, errlen,
				    "options.max_files: expected an integer "
				    "from 1 to %u",
				    LJ_MAX_MAX_FILES);
				rv = -1;
			}
			st->max_files = (unsigned) i;
		} else if (strcmp(key, "fsync") == 0) {
			if (!json_is_boolean(v)) {
				(void) sje__snprintf(err, errlen,
				    "options.fsync: expected true or false");
				rv = -1;
			}
			st->fsync = json_is_true(v);
		} else if (strcmp(key, "states") == 0) {
			rv = lj_opt_states(st, v, err, errlen);
		} else {
			(void) sje__snprintf(err, errlen,
			    "options: unknown key '%s' (known: path, "
			    "max_bytes, max_files, fsync, states)",
			    key);
			rv = -1;
		}
		if (rv != 0) {
			break;
		}
	}
	json_decref(opts);
	if (rv == 0 && st->path == NULL) {
		(void) sje__snprintf(err, errlen,
		    "options.path is required: the file to append events to");
		rv = -1;
	}
	return rv;
}

// lj_open_err explains why init could not open st->path (errno e) in
// err, naming a missing directory as such.
static void
lj_open_err(const lj_state *st, int e, char *err, size_t errlen)
{
	char        dir[PATH_MAX];
	char        ebuf[128];
	char       *slash;
	struct stat sb;

	(void) snprintf(dir, sizeof(dir), "%s", st->path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		(void) snprintf(dir, sizeof(dir), ".");
	} else {
		slash[slash == dir ? 1 : 0] = '\0';
	}
	if ((e == ENOENT || e == ENOTDIR) &&
	    (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
		(void) sje__snprintf(err, errlen,
		    "options.path: the directory %s does not exist", dir);
	} else {
		(void) sje__snprintf(err, errlen,
		    "options.path: cannot open %s: %s", st->path,
		    lj_strerror(e, ebuf, sizeof(ebuf)));
	}
}

// lj_free frees st; copes with a half-built one.
static void
lj_free(lj_state *st)
{
	if (st == NULL) {
		return;
	}
	lj_close(st);
	free(st->path);
	free(st);
}

// lj_init reads the options and opens the file.
static int
lj_init(const sje_plugin_init *in, void **state, char *err, size_t errlen)
{
	lj_state *st;
	int       e;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		(void) sje__snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->host      = in->host;
	st->fd        = -1;
	st->max_bytes = LJ_MAX_BYTES;
	st->max_files = LJ_MAX_FILES;
	st->states    = LJ_ALL_STATES;
	if (lj_parse_options(st, in->options_json, err, errlen) != 0) {
		lj_free(st);
		return -1;
	}
	if ((e = lj_open(st)) != 0) {
		lj_open_err(st, e, err, errlen);
		lj_free(st);
		return -1;
	}
	if ((e = pthread_mutex_init(&st->mu, NULL)) != 0) {
		(void) sje__snprintf(
		    err, errlen, "cannot make a mutex: error %d", e);
		lj_free(st);
		return -1;
	}
	*state = st;
	return 0;
}

// lj_fini closes the file, saying how many lines an unfinished error
// episode lost.
static void
lj_fini(void *state)
{
	lj_state *st = state;
	char      msg[LJ_MSG_BYTES];

	if (st == NULL) {
		return;
	}
	if (st->dropped > 0) {
		(void) snprintf(msg, sizeof(msg),
		    "log_jsonl: %llu events were not written to %s",
		    (unsigned long long) st->dropped, st->path);
		st->host->log(NULL, SJE_LOG_ERROR, msg);
	}
	(void) pthread_mutex_destroy(&st->mu);
	lj_free(st);
}

static const sje_hooks lj_hooks = {
	.size     = sizeof(sje_hooks),
	.on_event = lj_on_event,
};

static const sje_plugin lj_plugin = {
	.abi_version = SJE_PLUGIN_ABI_VERSION,
	.size        = sizeof(sje_plugin),
	.name        = "log_jsonl",
	.version     = LJ_VERSION,
	.init        = lj_init,
	.fini        = lj_fini,
	.hooks       = &lj_hooks,
	.roles       = SJE_PLUGIN_ROLE_COORDINATOR,
};

// sje_plugin_entry is the one symbol the host looks up.
SJE_PLUGIN_EXPORT const sje_plugin *sje_plugin_entry(void);

const sje_plugin *
sje_plugin_entry(void)
{
	return &lj_plugin;
}
