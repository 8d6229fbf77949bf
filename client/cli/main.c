// main.c — sje-client, SJE's command-line client.
//
//   sje-client [--config FILE] [--server URL] [--api-key KEY] [--json]
//              COMMAND ...
//
// Design: parse_args turns argv into an `args` (the command, its
// positional arguments, one value per option); global options are taken
// before or after the command, a command's own options only after it.
// main() then loads the config (for client.server_url and events_url, with
// the SJE_* environment overrides sje_config_load applies) and runs one
// function per command, each of which returns the process's exit code:
//
//   0  success
//   1  the job did not succeed (wait, submit --wait), or the server refused
//      the request (INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION..)
//   2  usage error: unknown command or option, bad number, bad JSON, bad
//      config
//   3  cannot reach or authenticate to the server
//   4  not found
//
// Results go to stdout, errors to stderr as "error: ...". With --json a
// command prints one JSON document: the server's messages through
// sje__pb_to_json, so `status --json` prints exactly what GET /status
// returns (watch prints one document per event, one per line).
//
// `wait` polls with Wait calls of about one second each rather than one
// long call, so that it survives a restart of the server in between (an
// unreachable server is retried until the overall deadline) and can
// refresh its progress line. It calls sje_client_call with its own, short
// per-call timeout instead of sje_client_wait, whose timeout adds the
// client's 10 s default on top: an unreachable server would otherwise hold
// each round, and a `wait --timeout 2`, for ten seconds.
//
// `watch` follows the kept events with held ListEvents calls, over the
// same authenticated connection as every other command; `watch --stream`
// subscribes to the server's pub socket instead (nng pub/sub, no
// credentials, lossy: PLATFORM.md). --function is filtered here. A gap in
// the sequence numbers is reported on stderr.
//
// Single-threaded; no state outside main's stack but the signal flag of
// watch.
#include <sje/client.h>

#include "config.h"
#include "methods.h"
#include "pbjson.h"
#include "tls.h"
#include "util.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	CLI_OK          = 0,
	CLI_FAILED      = 1,
	CLI_USAGE       = 2,
	CLI_UNREACHABLE = 3,
	CLI_NOTFOUND    = 4,
};

// --- arguments ----------------------------------------------------------

typedef enum opt_id {
	// Global options.
	OPT_CONFIG,
	OPT_SERVER,
	OPT_EVENTS,
	OPT_API_KEY,
	OPT_TOKEN,
	OPT_JSON,
	OPT_HELP,
	OPT_VERSION,
	// Options of commands.
	OPT_PARAMS,
	OPT_ID,
	OPT_AFTER,
	OPT_PRIORITY,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_DELAY,
	OPT_WAIT,
	OPT_STATE,
	OPT_FUNCTION,
	OPT_LIMIT,
	OPT_CURSOR,
	OPT_STREAM,
	OPT__COUNT
} opt_id;

#define BIT(o) (1u << (o))
#define GLOBAL_OPTS                                             \
	(BIT(OPT_CONFIG) | BIT(OPT_SERVER) | BIT(OPT_EVENTS) |  \
	    BIT(OPT_API_KEY) | BIT(OPT_TOKEN) | BIT(OPT_JSON) | \
	    BIT(OPT_HELP) | BIT(OPT_VERSION))

static const struct opt_def {
	const char *name;
	bool        takes_value;
} opt_defs[OPT__COUNT] = {
	[OPT_CONFIG]   = { "config", true },
	[OPT_SERVER]   = { "server", true },
	[OPT_EVENTS]   = { "events", true },
	[OPT_API_KEY]  = { "api-key", true },
	[OPT_TOKEN]    = { "token", true },
	[OPT_JSON]     = { "json", false },
	[OPT_HELP]     = { "help", false },
	[OPT_VERSION]  = { "version", false },
	[OPT_PARAMS]   = { "params", true },
	[OPT_ID]       = { "id", true },
	[OPT_AFTER]    = { "after", true },
	[OPT_PRIORITY] = { "priority", true },
	[OPT_TIMEOUT]  = { "timeout", true },
	[OPT_RETRIES]  = { "retries", true },
	[OPT_DELAY]    = { "delay", true },
	[OPT_WAIT]     = { "wait", false },
	[OPT_STATE]    = { "state", true },
	[OPT_FUNCTION] = { "function", true },
	[OPT_LIMIT]    = { "limit", true },
	[OPT_CURSOR]   = { "cursor", true },
	[OPT_STREAM]   = { "stream", false },
};

#define MAX_POS 4

typedef struct command command;

// args is the parsed command line; every string is borrowed from argv.
typedef struct args {
	const command *cmd;          // NULL: none given
	const char    *pos[MAX_POS]; // positional arguments of the command
	size_t         n_pos;
	const char    *val[OPT__COUNT]; // value; "" for a flag; NULL: absent
} args;

// cli is what every command runs with.
typedef struct cli {
	const args *a;
	bool        json;       // --json
	bool        tty;        // stdout is a terminal
	sje_config *cfg;        // owned
	const char *server_url; // borrowed from argv or cfg
	const char *events_url; // borrowed from argv or cfg
	const char *api_key;    // borrowed from argv or the environment
	const char *token;      // an OAuth 2 JWT; borrowed likewise
	sje_client *client;     // owned; opened by cli_client
} cli;

typedef int (*command_fn)(cli *c, const args *a);

struct command {
	const char *name;
	command_fn  run;
	size_t      min_pos, max_pos; // positional arguments allowed
	uint32_t    opts;             // BIT(opt) of its own options
	const char *usage;            // after "sje-client "
	const char *help;             // one line
};

static int cmd_submit(cli *c, const args *a);
static int cmd_status(cli *c, const args *a);
static int cmd_cancel(cli *c, const args *a);
static int cmd_list(cli *c, const args *a);
static int cmd_wait(cli *c, const args *a);
static int cmd_watch(cli *c, const args *a);
static int cmd_workers(cli *c, const args *a);
static int cmd_workflow(cli *c, const args *a);
static int cmd_help(cli *c, const args *a);

static const command commands[] = {
	{ "submit", cmd_submit, 1, 1,
	    BIT(OPT_PARAMS) | BIT(OPT_ID) | BIT(OPT_AFTER) |
	        BIT(OPT_PRIORITY) | BIT(OPT_TIMEOUT) | BIT(OPT_RETRIES) |
	        BIT(OPT_DELAY) | BIT(OPT_WAIT),
	    "submit FUNCTION [--params JSON|@FILE] [--id ID] "
	    "[--after ID[,ID...]]\n"
	    "                  [--priority N] [--timeout S] [--retries N] "
	    "[--delay S] [--wait]",
	    "submit a job; with --wait, then wait for it as `wait` does" },
	{ "status", cmd_status, 1, 1, 0, "status ID",
	    "show a job, or every step of a workflow run" },
	{ "cancel", cmd_cancel, 1, 1, 0, "cancel ID", "cancel a job" },
	{ "list", cmd_list, 0, 0,
	    BIT(OPT_STATE) | BIT(OPT_FUNCTION) | BIT(OPT_LIMIT) |
	        BIT(OPT_CURSOR),
	    "list [--state STATE] [--function NAME] [--limit N] [--cursor C]",
	    "list jobs, newest first" },
	{ "wait", cmd_wait, 1, 1, BIT(OPT_TIMEOUT), "wait ID [--timeout S]",
	    "wait until a job ends, showing progress; exit 0 on SUCCEEDED, "
	    "1 otherwise" },
	{ "watch", cmd_watch, 0, 0,
	    BIT(OPT_FUNCTION) | BIT(OPT_AFTER) | BIT(OPT_STREAM),
	    "watch [--function NAME] [--after SEQ | --stream]",
	    "print job events as they happen, until interrupted" },
	{ "workers", cmd_workers, 0, 0, 0, "workers",
	    "list the connected workers" },
	{ "workflow", cmd_workflow, 1, 1,
	    BIT(OPT_PARAMS) | BIT(OPT_ID) | BIT(OPT_WAIT),
	    "workflow NAME [--params JSON|@FILE] [--id RUN_ID] [--wait]",
	    "run a workflow defined in the server's config; `status RUN_ID` "
	    "shows its steps" },
	{ "help", cmd_help, 0, 1, 0, "help [COMMAND]", "show this help" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

// usage_error prints "error: ..." and a hint, and returns CLI_USAGE.
static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'sje-client --help'.\n", stderr);
	return CLI_USAGE;
}

static const command *
find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			return &commands[i];
		}
	}
	return NULL;
}

// parse_option handles argv[*i], an argument starting with "--"; it may
// consume the next argument as the value.
static int
parse_option(int argc, char **argv, int *i, args *a)
{
	const char *arg  = argv[*i] + 2;
	const char *eq   = strchr(arg, '=');
	size_t      nlen = eq != NULL ? (size_t) (eq - arg) : strlen(arg);
	int         id   = -1;
	for (int k = 0; k < OPT__COUNT; k++) {
		if (strlen(opt_defs[k].name) == nlen &&
		    strncmp(opt_defs[k].name, arg, nlen) == 0) {
			id = k;
			break;
		}
	}
	if (id < 0) {
		return usage_error("unknown option '--%.*s'", (int) nlen, arg);
	}
	if ((GLOBAL_OPTS & BIT(id)) == 0) {
		if (a->cmd == NULL) {
			return usage_error(
			    "option '--%s' goes after a command",
			    opt_defs[id].name);
		}
		if ((a->cmd->opts & BIT(id)) == 0) {
			return usage_error("'%s' has no option '--%s'",
			    a->cmd->name, opt_defs[id].name);
		}
	}
	if (!opt_defs[id].takes_value) {
		if (eq != NULL) {
			return usage_error(
			    "option '--%s' takes no value", opt_defs[id].name);
		}
		a->val[id] = "";
		return CLI_OK;
	}
	if (eq != NULL) {
		a->val[id] = eq + 1;
	} else if (*i + 1 < argc) {
		a->val[id] = argv[++*i];
	} else {
		return usage_error(
		    "option '--%s' needs a value", opt_defs[id].name);
	}
	return CLI_OK;
}

// parse_args fills a from argv; CLI_USAGE (already reported) on error.
static int
parse_args(int argc, char **argv, args *a)
{
	memset(a, 0, sizeof(*a));
	bool only_pos = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int         rc;
		if (!only_pos && strcmp(arg, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (!only_pos && strncmp(arg, "--", 2) == 0) {
			if ((rc = parse_option(argc, argv, &i, a)) != CLI_OK) {
				return rc;
			}
			continue;
		}
		if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
			if (strcmp(arg, "-h") == 0) {
				a->val[OPT_HELP] = "";
				continue;
			}
			return usage_error("unknown option '%s'", arg);
		}
		if (a->cmd == NULL) {
			if ((a->cmd = find_command(arg)) == NULL) {
				return usage_error(
				    "unknown command '%s'", arg);
			}
			continue;
		}
		if (a->n_pos >= a->cmd->max_pos) {
			return usage_error("unexpected argument '%s' (usage: "
			                   "sje-client %s)",
			    arg, a->cmd->usage);
		}
		a->pos[a->n_pos++] = arg;
	}
	if (a->cmd != NULL && a->val[OPT_HELP] == NULL &&
	    a->n_pos < a->cmd->min_pos) {
		return usage_error(
		    "missing argument (usage: sje-client %s)", a->cmd->usage);
	}
	return CLI_OK;
}

// parse_u32 reads a decimal number in [min, max] from text.
static int
parse_u32(const char *opt, const char *text, uint32_t min, uint32_t max,
    uint32_t *out)
{
	char *end;
	errno                = 0;
	unsigned long long v = strtoull(text, &end, 10);
	bool bad = text[0] < '0' || text[0] > '9' || *end != '\0' ||
	    errno != 0 || v < min || v > max;
	if (bad) {
		return usage_error(
		    "--%s: expected a whole number from %" PRIu32
		    " to %" PRIu32 ", got '%s'",
		    opt, min, max, text);
	}
	*out = (uint32_t) v;
	return CLI_OK;
}

// parse_i32 reads a signed decimal number from text.
static int
parse_i32(const char *opt, const char *text, int32_t *out)
{
	char *end;
	errno           = 0;
	long long   v   = strtoll(text, &end, 10);
	const char *d   = text[0] == '-' || text[0] == '+' ? text + 1 : text;
	bool        bad = *d < '0' || *d > '9' || *end != '\0' || errno != 0 ||
	    v < INT32_MIN || v > INT32_MAX;
	if (bad) {
		return usage_error(
		    "--%s: expected a whole number, got '%s'", opt, text);
	}
	*out = (int32_t) v;
	return CLI_OK;
}

// read_file reads path ("-": stdin) into a new NUL-terminated buffer of
// at most max bytes.
static int
read_file(const char *path, size_t max, char **out, size_t *out_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		return usage_error(
		    "cannot read '%s': %s", path, strerror(errno));
	}
	char  *buf = malloc(max + 2);
	size_t len = 0;
	if (buf == NULL) {
		if (f != stdin) {
			fclose(f);
		}
		fputs("error: out of memory\n", stderr);
		return CLI_FAILED;
	}
	size_t n;
	while (len <= max && (n = fread(buf + len, 1, max + 1 - len, f)) > 0) {
		len += n;
	}
	bool failed = ferror(f) != 0;
	int  e      = errno;
	if (f != stdin) {
		fclose(f);
	}
	if (failed) {
		free(buf);
		return usage_error("cannot read '%s': %s", path, strerror(e));
	}
	if (len > max) {
		free(buf);
		return usage_error("'%s' is larger than %zu bytes", path, max);
	}
	buf[len] = '\0';
	*out     = buf;
	*out_len = len;
	return CLI_OK;
}

// load_params reads --params (JSON text, or @FILE) and checks that it is
// one JSON value. *out is NULL when the option is absent; else the caller
// frees it.
static int
load_params(const char *val, char **out)
{
	*out = NULL;
	if (val == NULL) {
		return CLI_OK;
	}
	char  *text = NULL;
	size_t len  = 0;
	int    rc;
	if (val[0] == '@') {
		if ((rc = read_file(val + 1, SJE_MAX_PARAMS_BYTES, &text,
		         &len)) != CLI_OK) {
			return rc;
		}
	} else {
		len = strlen(val);
		if (len > SJE_MAX_PARAMS_BYTES) {
			return usage_error("--params is larger than %u bytes",
			    SJE_MAX_PARAMS_BYTES);
		}
		if ((text = sje__strdup(val)) == NULL) {
			fputs("error: out of memory\n", stderr);
			return CLI_FAILED;
		}
	}
	if (sje__json_valid(text, len)) {
		*out = text;
		return CLI_OK;
	}
	// Say why: jansson knows the place of a syntax error; what it
	// accepts, sje__json_valid refused for nesting or a NUL byte.
	json_error_t jerr;
	json_t      *j = json_loadb(
	         text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		rc = usage_error("--params is not valid JSON: line %d, column "
		                 "%d: %s",
		    jerr.line, jerr.column, jerr.text);
	} else {
		json_decref(j);
		rc = usage_error("--params is not valid JSON: nested deeper "
		                 "than %u levels, or holds a NUL byte",
		    SJE_MAX_JSON_DEPTH);
	}
	free(text);
	return rc;
}

// --- output -------------------------------------------------------------

// dump_json renders j (any value) as text; caller frees. NULL: no memory.
// Reals get the fewest digits that read back exactly (0.1, 100.0).
static char *
dump_json(const json_t *j, size_t flags)
{
	return sje__json_dumps(j, flags);
}

// print_doc prints j as the one JSON document of --json (indented on a
// terminal) and releases it.
static int
print_doc(const cli *c, json_t *j)
{
	char *text = j != NULL
	    ? dump_json(j, c->tty ? JSON_INDENT(2) : JSON_COMPACT)
	    : NULL;
	json_decref(j);
	if (text == NULL) {
		fputs("error: cannot render the reply as JSON\n", stderr);
		return CLI_FAILED;
	}
	puts(text);
	free(text);
	return CLI_OK;
}

// print_msg prints a protobuf message as the one JSON document.
static int
print_msg(const cli *c, const ProtobufCMessage *m)
{
	return print_doc(c, sje__pb_to_json(m));
}

#define CLI_TEXT_RING 16 // cli_text results alive at once

// cli_text returns s (NULL: "") made safe for a terminal: control
// characters and ill-formed UTF-8 escaped (sje__text_escape: "\\n",
// "\\x1b"), so text from jobs and workers can neither move the cursor
// nor forge lines. The result is borrowed until CLI_TEXT_RING further
// calls (enough for one printf); "(out of memory)" when out of memory.
// Not thread-safe (the CLI has one thread).
static const char *cli_text_hold(char *t);

static const char *
cli_text(const char *s)
{
	sje__buf b = { 0 };

	if (s == NULL) {
		return "";
	}
	sje__text_escape(&b, s, strlen(s));
	char *t = sje__buf_take(&b, NULL);
	if (t == NULL) {
		return "(out of memory)";
	}
	return cli_text_hold(t);
}

// cli_text_hold keeps t (taken) in the ring of cli_text's results, freeing
// the oldest, and returns it.
static const char *
cli_text_hold(char *t)
{
	static char    *ring[CLI_TEXT_RING];
	static unsigned next;

	free(ring[next]);
	ring[next] = t;
	next       = (next + 1) % CLI_TEXT_RING;
	return t;
}

// cli_json_text returns JSON text as jansson wrote it (no raw C0
// controls: those are escaped already) with DEL and the C1 controls, which
// JSON allows raw but a terminal may obey, written as JSON escapes
// ("\\u009b"), so it stays the same JSON. Borrowed like cli_text's.
static const char *
cli_json_text(const char *s)
{
	sje__buf b     = { 0 };
	size_t   start = 0, i = 0, len = strlen(s);

	for (; i < len; i++) {
		unsigned char c = (unsigned char) s[i];
		unsigned      cp;
		if (c == 0x7f) {
			cp = c;
		} else if (c == 0xc2 && i + 1 < len &&
		    (unsigned char) s[i + 1] < 0xa0 &&
		    (unsigned char) s[i + 1] >= 0x80) {
			cp = (unsigned char) s[i + 1];
		} else {
			continue;
		}
		sje__buf_put(&b, s + start, i - start);
		sje__buf_printf(&b, "\\u%04x", cp);
		i += cp == 0x7f ? 0 : 1;
		start = i + 1;
	}
	sje__buf_put(&b, s + start, len - start);
	char *t = sje__buf_take(&b, NULL);
	if (t == NULL) {
		return "(out of memory)";
	}
	return cli_text_hold(t);
}

// fmt_time writes a Timestamp as RFC 3339, or "-" when unset.
static const char *
fmt_time(const Sje__V1__Timestamp *t, char *buf, size_t len)
{
	if (t == NULL || t->unix_ms == 0) {
		return "-";
	}
	sje__rfc3339(t->unix_ms, buf, len);
	return buf;
}

// fmt_duration writes ms as "850 ms", "12.3 s", "4m 05s" or "2h 03m 04s".
static const char *
fmt_duration(sje_dur_ms ms, char *buf, size_t len)
{
	if (ms < 0) {
		ms = 0;
	}
	if (ms < 1000) {
		sje__snprintf(buf, len, "%" PRId64 " ms", ms);
	} else if (ms < 60000) {
		sje__snprintf(buf, len, "%.3g s", (double) ms / 1000.0);
	} else if (ms < 3600000) {
		sje__snprintf(buf, len, "%" PRId64 "m %02" PRId64 "s",
		    ms / 60000, ms / 1000 % 60);
	} else {
		sje__snprintf(buf, len,
		    "%" PRId64 "h %02" PRId64 "m %02" PRId64 "s", ms / 3600000,
		    ms / 60000 % 60, ms / 1000 % 60);
	}
	return buf;
}

// fmt_age writes how long ago t was: "3s ago", "5m ago", "2h ago".
static const char *
fmt_age(const Sje__V1__Timestamp *t, char *buf, size_t len)
{
	if (t == NULL || t->unix_ms == 0) {
		return "-";
	}
	int64_t s = (sje_now_ms() - t->unix_ms) / 1000;
	if (s < 1) {
		return "just now";
	}
	if (s < 120) {
		sje__snprintf(buf, len, "%" PRId64 "s ago", s);
	} else if (s < 7200) {
		sje__snprintf(buf, len, "%" PRId64 "m ago", s / 60);
	} else if (s < 172800) {
		sje__snprintf(buf, len, "%" PRId64 "h ago", s / 3600);
	} else {
		sje__snprintf(buf, len, "%" PRId64 "d ago", s / 86400);
	}
	return buf;
}

#define KEY_WIDTH 13 // "depends_on:" and two spaces
#define LINE_WIDTH 100

// print_key prints the label of a status line.
static void
print_key(const char *key)
{
	printf("%s:%*s", key, (int) (KEY_WIDTH - strlen(key) - 1), "");
}

static void print_line(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
print_line(const char *key, const char *fmt, ...)
{
	va_list ap;
	print_key(key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

// print_value prints a JSON value after its key: on one line when it
// fits (compact with spaces when pretty), else indented under the key.
static void
print_value(const char *key, const json_t *v, bool pretty)
{
	char *text = dump_json(v, pretty ? 0 : JSON_COMPACT);
	if (text == NULL) {
		return;
	}
	if (!pretty || strlen(text) + KEY_WIDTH <= LINE_WIDTH) {
		print_line(key, "%s", cli_json_text(text));
		free(text);
		return;
	}
	free(text);
	if ((text = dump_json(v, JSON_INDENT(2))) == NULL) {
		return;
	}
	print_key(key);
	for (char *line = text, *nl; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL) {
			*nl++ = '\0';
		}
		printf("%*s%s\n", line == text ? 0 : KEY_WIDTH, "",
		    cli_json_text(line));
	}
	free(text);
}

// print_job prints a job for people: an aligned block of key: value.
static int
print_job(const Sje__V1__Job *job)
{
	json_t *j = sje__pb_to_json(&job->base);
	if (j == NULL) {
		fputs("error: the server sent a job that cannot be shown\n",
		    stderr);
		return CLI_FAILED;
	}
	char buf[64];
	print_line("task_id", "%s", cli_text(job->task_id));
	print_line("function", "%s", cli_text(job->function));
	print_line("state", "%s%s", sje_job_state_name(job->state),
	    job->cancel_requested && !sje_job_state_is_terminal(job->state)
	        ? " (cancel requested)"
	        : "");
	if (job->max_attempts > 0) {
		print_line("attempt", "%" PRIu32 "/%" PRIu32, job->attempt,
		    job->max_attempts);
	} else {
		print_line("attempt", "%" PRIu32, job->attempt);
	}
	if (job->worker[0] != '\0') {
		print_line("worker", "%s", cli_text(job->worker));
	}
	if (job->priority != 0) {
		print_line("priority", "%" PRId32, job->priority);
	}
	if (job->n_depends_on > 0) {
		print_key("depends_on");
		for (size_t i = 0; i < job->n_depends_on; i++) {
			printf("%s%s", i > 0 ? ", " : "",
			    cli_text(job->depends_on[i]));
		}
		putchar('\n');
	}
	if (job->n_labels > 0) {
		print_key("labels");
		for (size_t i = 0; i < job->n_labels; i++) {
			printf("%s%s=%s", i > 0 ? ", " : "",
			    cli_text(job->labels[i]->key),
			    cli_text(job->labels[i]->value));
		}
		putchar('\n');
	}
	print_line(
	    "created", "%s", fmt_time(job->created_at, buf, sizeof(buf)));
	if (job->started_at != NULL && job->started_at->unix_ms != 0) {
		print_line("started", "%s",
		    fmt_time(job->started_at, buf, sizeof(buf)));
	}
	if (job->finished_at != NULL && job->finished_at->unix_ms != 0) {
		print_line("finished", "%s",
		    fmt_time(job->finished_at, buf, sizeof(buf)));
		if (job->started_at != NULL && job->started_at->unix_ms != 0) {
			print_line("duration", "%s",
			    fmt_duration(job->finished_at->unix_ms -
			            job->started_at->unix_ms,
			        buf, sizeof(buf)));
		}
	} else if (job->started_at != NULL && job->started_at->unix_ms != 0 &&
	    !sje_job_state_is_terminal(job->state)) {
		print_line("duration", "%s so far",
		    fmt_duration(sje_now_ms() - job->started_at->unix_ms, buf,
		        sizeof(buf)));
	}
	if (job->timeout_s != 0) {
		print_line("timeout", "%" PRIu32 " s", job->timeout_s);
	}
	print_value("params", json_object_get(j, "params"), false);
	if (!json_is_null(json_object_get(j, "result"))) {
		print_value("result", json_object_get(j, "result"), true);
	}
	if (job->error != NULL) {
		print_line("error", "%s: %s", cli_text(job->error->type),
		    cli_text(job->error->message));
	}
	if (job->progress != NULL) {
		print_line("progress", "%.0f%%%s%s", job->progress->percent,
		    job->progress->message[0] != '\0' ? " " : "",
		    cli_text(job->progress->message));
	}
	json_decref(j);
	return CLI_OK;
}

// table is a grid of owned cells printed with aligned columns.
typedef struct table {
	size_t ncols;
	size_t nrows;
	size_t cap;   // rows allocated
	char **cells; // nrows * ncols
	bool   oom;
} table;

// table_row appends a row of t->ncols cells (copied).
static void
table_row(table *t, ...)
{
	if (t->oom) {
		return;
	}
	if (t->nrows == t->cap) {
		size_t cap = t->cap > 0 ? 2 * t->cap : 16;
		char **cells =
		    realloc(t->cells, cap * t->ncols * sizeof(char *));
		if (cells == NULL) {
			t->oom = true;
			return;
		}
		t->cells = cells;
		t->cap   = cap;
	}
	va_list ap;
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		char *s = sje__strdup(cli_text(va_arg(ap, const char *)));
		t->cells[t->nrows * t->ncols + i] = s;
		t->oom |= s == NULL;
	}
	va_end(ap);
	t->nrows++;
}

// table_print prints and frees t.
static int
table_print(table *t)
{
	int rc = CLI_OK;
	if (t->oom) {
		fputs("error: out of memory\n", stderr);
		rc = CLI_FAILED;
	} else {
		size_t width[16] = { 0 };
		for (size_t r = 0; r < t->nrows; r++) {
			for (size_t i = 0; i < t->ncols && i < 16; i++) {
				size_t l = strlen(t->cells[r * t->ncols + i]);
				width[i] = l > width[i] ? l : width[i];
			}
		}
		for (size_t r = 0; r < t->nrows; r++) {
			for (size_t i = 0; i < t->ncols; i++) {
				const char *s = t->cells[r * t->ncols + i];
				if (i + 1 == t->ncols) {
					puts(s);
				} else {
					printf("%-*s  ", (int) width[i], s);
				}
			}
		}
	}
	for (size_t k = 0; k < t->nrows * t->ncols; k++) {
		free(t->cells[k]);
	}
	free(t->cells);
	return rc;
}

// --- talking to the server ------------------------------------------------

// call_failed reports a failed call on stderr and returns the exit code.
static int
call_failed(const cli *c, sje_err rv, const sje_status *st)
{
	const char *code = st->code != 0
	    ? sje_status_name(st->code)
	    : sje_status_name(sje_err_to_status(rv));
	const char *msg =
	    st->message[0] != '\0' ? cli_text(st->message) : sje_strerror(rv);
	switch (rv) {
	case SJE_EUNAVAIL:
	case SJE_ETIMEDOUT:
		fprintf(stderr, "error: cannot reach the server at %s: %s\n",
		    c->server_url, msg);
		return CLI_UNREACHABLE;
	case SJE_EUNAUTH:
	case SJE_EPERM:
		fprintf(stderr, "error: %s: %s%s\n", code, msg,
		    c->api_key == NULL && c->token == NULL
		        ? " (no credentials given: --api-key or $SJE_API_KEY, "
		          "--token or $SJE_TOKEN)"
		        : "");
		return CLI_UNREACHABLE;
	case SJE_ENOTFOUND:
		fprintf(stderr, "error: %s: %s\n", code, msg);
		return CLI_NOTFOUND;
	default:
		if (st->field[0] != '\0') {
			fprintf(stderr, "error: %s: %s (field: %s)\n", code,
			    msg, cli_text(st->field));
		} else {
			fprintf(stderr, "error: %s: %s\n", code, msg);
		}
		return CLI_FAILED;
	}
}

// cli_client opens the connection on first use.
static int
cli_client(cli *c)
{
	if (c->client != NULL) {
		return CLI_OK;
	}
	sje_client_opts opts = {
		.server_url   = c->server_url,
		.api_key      = c->api_key,
		.bearer_token = c->token,
	};
	// TLS files from security.tls, used for a tls+tcp:// server URL.
	sje_client_opts tls;
	char            why[512];
	sje_client_opts_from_config(c->cfg, SJE_CLIENT_ROLE_CLIENT, &tls);
	opts.ca_file     = tls.ca_file;
	opts.cert_file   = tls.cert_file;
	opts.key_file    = tls.key_file;
	opts.server_name = tls.server_name;
	if (sje_client_opts_check(&opts, why, sizeof(why)) != SJE_OK) {
		fprintf(stderr, "error: %s\n", why);
		return CLI_USAGE;
	}
	sje_err rv = sje_client_open(&opts, &c->client);
	if (rv == SJE_EINVAL) {
		return usage_error("invalid server URL '%s'", c->server_url);
	}
	if (rv != SJE_OK) {
		fprintf(stderr, "error: cannot connect to %s: %s\n",
		    c->server_url, sje_strerror(rv));
		return rv == SJE_ENOMEM ? CLI_FAILED : CLI_UNREACHABLE;
	}
	return CLI_OK;
}

#define WAIT_ROUND_MS 1000u  // each Wait call holds this long at most
#define WAIT_MARGIN_MS 3000u // ... and may take this much longer
#define WAIT_RETRY_MS 250u   // pause after a failed round
#define WAIT_LATE_MS 500u    // a call may end this long after --timeout

// progress_line shows where the job is, on one refreshed terminal line.
static void
progress_line(const Sje__V1__Job *job, const char *id, bool unreachable)
{
	printf("\r\033[K%s  %s", cli_text(id),
	    job != NULL ? sje_job_state_name(job->state) : "...");
	if (job != NULL && job->progress != NULL) {
		// A bar of 20 cells, then the percentage.
		double pct = job->progress->percent;
		pct        = pct < 0 ? 0 : pct > 100 ? 100 : pct;
		int  full  = (int) (pct / 5.0);
		char bar[21];
		for (int i = 0; i < 20; i++) {
			bar[i] = i < full ? '#' : '.';
		}
		bar[20] = '\0';
		printf("  [%s] %3.0f%%", bar, pct);
		const char *m = job->progress->message;
		if (m[0] != '\0') {
			// At most 60 bytes, cut on a UTF-8 boundary.
			size_t n = strlen(m);
			if (n > 60) {
				n = 60;
				while (n > 0 &&
				    ((unsigned char) m[n] & 0xc0) == 0x80) {
					n--;
				}
			}
			char cut[64];
			sje__snprintf(cut, sizeof(cut), "%.*s", (int) n, m);
			printf("  %s", cli_text(cut));
		}
	}
	if (unreachable) {
		fputs("  (server unreachable, retrying)", stdout);
	}
	fflush(stdout);
}

// wait_job waits for task id until it is terminal or timeout_ms pass (0:
// no limit), then prints it as `status` does. Exit code: 0 when it
// succeeded, 1 when it did not (or the time ran out), 3/4 as calls.
static int
wait_job(cli *c, const char *id, uint32_t timeout_ms)
{
	int rc = cli_client(c);
	if (rc != CLI_OK) {
		return rc;
	}
	sje_dur_ms          deadline = sje_mono_ms() + timeout_ms;
	Sje__V1__WaitReply *last     = NULL;  // the latest answer, owned
	bool                shown    = false; // a progress line is on screen
	bool                done     = false;
	sje_status          st       = { 0 };
	sje_err             rv       = SJE_OK;
	char               *ids[]    = { (char *) id };

	for (;;) {
		uint32_t round = WAIT_ROUND_MS;
		uint32_t limit = WAIT_ROUND_MS + WAIT_MARGIN_MS; // of the call
		if (timeout_ms != 0) {
			sje_dur_ms left = deadline - sje_mono_ms();
			if (left <= 0) {
				break;
			}
			round = left < round ? (uint32_t) left : round;
			// Overshoot the deadline by a moment at most.
			if (left + WAIT_LATE_MS < limit) {
				limit = (uint32_t) left + WAIT_LATE_MS;
			}
		}
		Sje__V1__WaitRequest req = SJE__V1__WAIT_REQUEST__INIT;
		req.n_task_ids           = 1;
		req.task_ids             = ids;
		req.timeout_ms           = round;
		ProtobufCMessage *out    = NULL;
		rv                       = sje_client_call(c->client,
		                          &sje__v1__coordinator__descriptor, SJE__COORD_WAIT,
		                          &req.base, &out, limit, &st);
		if (rv == SJE_OK) {
			Sje__V1__WaitReply *rep = (Sje__V1__WaitReply *) out;
			if (rep->n_jobs != 1 || rep->jobs[0] == NULL) {
				protobuf_c_message_free_unpacked(out, NULL);
				rv = SJE_EPROTO;
				sje__snprintf(st.message, sizeof(st.message),
				    "the server answered Wait without the job");
				st.code = SJE__V1__STATUS_CODE__INTERNAL;
				break;
			}
			if (last != NULL) {
				protobuf_c_message_free_unpacked(
				    &last->base, NULL);
			}
			last = rep;
			if ((done = rep->done ||
			            sje_job_state_is_terminal(
			                rep->jobs[0]->state))) {
				break;
			}
		} else if (rv != SJE_EUNAVAIL && rv != SJE_ETIMEDOUT) {
			break; // NOT_FOUND, UNAUTHENTICATED, ...: final
		}
		if (c->tty && !c->json) {
			progress_line(last != NULL ? last->jobs[0] : NULL, id,
			    rv != SJE_OK);
			shown = true;
		}
		if (rv != SJE_OK) {
			// Unreachable: the server may be restarting.
			uint32_t pause = WAIT_RETRY_MS;
			if (timeout_ms != 0) {
				sje_dur_ms left = deadline - sje_mono_ms();
				pause           = left < pause
				              ? (uint32_t) (left > 0 ? left : 0)
				              : pause;
			}
			sje__sleep_ms(pause);
		}
	}
	if (shown) {
		fputs("\r\033[K", stdout);
		fflush(stdout);
	}

	if (rv != SJE_OK && rv != SJE_EUNAVAIL && rv != SJE_ETIMEDOUT) {
		rc = call_failed(c, rv, &st);
	} else if (last == NULL) {
		rc = call_failed(c, rv != SJE_OK ? rv : SJE_ETIMEDOUT, &st);
	} else {
		const Sje__V1__Job *job = last->jobs[0];
		if (!done) {
			fprintf(stderr,
			    "error: %s is still %s after %" PRIu32 " s\n", id,
			    sje_job_state_name(job->state), timeout_ms / 1000);
		}
		rc = c->json ? print_msg(c, &job->base) : print_job(job);
		if (rc == CLI_OK) {
			rc = done &&
			        job->state ==
			            SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED
			    ? CLI_OK
			    : CLI_FAILED;
		}
	}
	if (last != NULL) {
		protobuf_c_message_free_unpacked(&last->base, NULL);
	}
	return rc;
}

// --- commands -------------------------------------------------------------

// split_ids splits "a,b,c" (a copy of it) into ids; no empty items.
static int
split_ids(const char *list, char **copy, char ***ids, size_t *n)
{
	size_t count = 1;
	for (const char *p = list; *p != '\0'; p++) {
		count += *p == ',';
	}
	char  *s   = sje__strdup(list);
	char **arr = calloc(count, sizeof(char *));
	if (s == NULL || arr == NULL) {
		free(s);
		free(arr);
		fputs("error: out of memory\n", stderr);
		return CLI_FAILED;
	}
	size_t k = 0;
	for (char *p = s, *comma; p != NULL; p = comma) {
		if ((comma = strchr(p, ',')) != NULL) {
			*comma++ = '\0';
		}
		if (*p == '\0') {
			free(s);
			free(arr);
			return usage_error(
			    "--after: empty task id in '%s'", list);
		}
		arr[k++] = p;
	}
	*copy = s;
	*ids  = arr;
	*n    = k;
	return CLI_OK;
}

// print_workflow_run shows every step of workflow run id: a table, or
// {"workflow_id", "steps": [job, ...]} with --json, and returns CLI_OK
// whatever the steps' states; CLI_NOTFOUND (printing nothing) when the run
// has no steps.
static int
print_workflow_run(cli *c, const char *id)
{
	Sje__V1__ListJobsRequest req = SJE__V1__LIST_JOBS_REQUEST__INIT;
	req.workflow_id              = (char *) id;
	req.limit                    = 1000;
	Sje__V1__ListJobsReply *rep  = NULL;
	sje_status              st   = { 0 };
	sje_err rv = sje_client_list_jobs(c->client, &req, &rep, &st);
	if (rv == SJE_EINVAL) {
		return CLI_NOTFOUND; // not even an id: let status say so
	}
	if (rv != SJE_OK) {
		return call_failed(c, rv, &st);
	}
	if (rep->n_jobs == 0) {
		protobuf_c_message_free_unpacked(&rep->base, NULL);
		return CLI_NOTFOUND;
	}
	int rc = CLI_OK;
	// The server lists newest first; steps read best in their order.
	if (c->json) {
		json_t *doc   = json_object();
		json_t *steps = json_array();
		for (size_t i = rep->n_jobs; i-- > 0;) {
			json_array_append_new(
			    steps, sje__pb_to_json(&rep->jobs[i]->base));
		}
		json_object_set_new(doc, "workflow_id", json_string(id));
		json_object_set_new(doc, "steps", steps);
		rc = print_doc(c, doc);
	} else {
		size_t done = 0, ok = 0;
		table  t = { .ncols = 6 };
		table_row(&t, "STEP", "FUNCTION", "STATE", "ATTEMPT",
		    "STARTED", "ERROR");
		size_t plen = strlen(id) + 1;
		for (size_t i = rep->n_jobs; i-- > 0;) {
			const Sje__V1__Job *job = rep->jobs[i];
			char                attempt[32], started[64];
			sje__snprintf(attempt, sizeof(attempt), "%" PRIu32,
			    job->attempt);
			const char *step = strlen(job->task_id) > plen
			    ? job->task_id + plen
			    : job->task_id;
			table_row(&t, step, job->function,
			    sje_job_state_name(job->state), attempt,
			    fmt_time(
			        job->started_at, started, sizeof(started)),
			    job->error != NULL && job->error->message != NULL
			        ? job->error->message
			        : "");
			done += sje_job_state_is_terminal(job->state);
			ok += job->state ==
			    SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
		}
		printf("workflow run %s: %zu steps, %zu finished, %zu "
		       "succeeded\n",
		    cli_text(id), rep->n_jobs, done, ok);
		rc = table_print(&t);
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

// wait_quiet waits until job id finishes, printing nothing; CLI_OK when
// it SUCCEEDED, CLI_FAILED when it ended otherwise, or the error of the
// call.
static int
wait_quiet(cli *c, const char *id)
{
	for (;;) {
		char                *ids[] = { (char *) id };
		Sje__V1__WaitRequest req   = SJE__V1__WAIT_REQUEST__INIT;
		req.task_ids               = ids;
		req.n_task_ids             = 1;
		req.timeout_ms             = 1000;
		Sje__V1__WaitReply *rep    = NULL;
		sje_status          st     = { 0 };
		sje_err rv = sje_client_wait(c->client, &req, &rep, &st);
		if (rv == SJE_EUNAVAIL || rv == SJE_ETIMEDOUT) {
			continue; // the server restarts: keep waiting
		}
		if (rv != SJE_OK) {
			return call_failed(c, rv, &st);
		}
		bool done = rep->done;
		bool ok   = done && rep->n_jobs == 1 &&
		    rep->jobs[0]->state ==
		        SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
		protobuf_c_message_free_unpacked(&rep->base, NULL);
		if (done) {
			return ok ? CLI_OK : CLI_FAILED;
		}
	}
}

static int
cmd_submit(cli *c, const args *a)
{
	Sje__V1__JobSpec     spec    = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__Json        params  = SJE__V1__JSON__INIT;
	Sje__V1__RetryPolicy retry   = SJE__V1__RETRY_POLICY__INIT;
	char                *text    = NULL;
	char                *after   = NULL;
	char               **deps    = NULL;
	uint32_t             retries = 0; // written by parse_u32 on CLI_OK
	int                  rc;

	spec.function = (char *) a->pos[0];
	if (spec.function[0] == '\0') {
		return usage_error("FUNCTION must not be empty");
	}
	if (a->val[OPT_ID] != NULL) {
		if (a->val[OPT_ID][0] == '\0') {
			return usage_error("--id must not be empty");
		}
		spec.task_id = (char *) a->val[OPT_ID];
	}
	if (a->val[OPT_PRIORITY] != NULL &&
	    (rc = parse_i32("priority", a->val[OPT_PRIORITY],
	         &spec.priority)) != CLI_OK) {
		return rc;
	}
	if (a->val[OPT_TIMEOUT] != NULL &&
	    (rc = parse_u32("timeout", a->val[OPT_TIMEOUT], 1, UINT32_MAX,
	         &spec.timeout_s)) != CLI_OK) {
		return rc;
	}
	if (a->val[OPT_DELAY] != NULL &&
	    (rc = parse_u32("delay", a->val[OPT_DELAY], 0, UINT32_MAX,
	         &spec.delay_s)) != CLI_OK) {
		return rc;
	}
	if (a->val[OPT_RETRIES] != NULL) {
		if ((rc = parse_u32("retries", a->val[OPT_RETRIES], 0,
		         UINT32_MAX - 1, &retries)) != CLI_OK) {
			return rc;
		}
		// N retries after the first attempt.
		retry.max_attempts = retries + 1;
		spec.retry         = &retry;
	}
	if ((rc = load_params(a->val[OPT_PARAMS], &text)) != CLI_OK) {
		return rc;
	}
	if (text != NULL) {
		params.text = text;
		spec.params = &params;
	}
	if (a->val[OPT_AFTER] != NULL &&
	    (rc = split_ids(a->val[OPT_AFTER], &after, &deps,
	         &spec.n_depends_on)) != CLI_OK) {
		goto out;
	}
	spec.depends_on = deps;
	if ((rc = cli_client(c)) != CLI_OK) {
		goto out;
	}

	Sje__V1__JobSpec      *specs[] = { &spec };
	Sje__V1__SubmitRequest req     = SJE__V1__SUBMIT_REQUEST__INIT;
	Sje__V1__SubmitReply  *rep     = NULL;
	sje_status             st      = { 0 };
	req.n_jobs                     = 1;
	req.jobs                       = specs;
	sje_err rv = sje_client_submit(c->client, &req, &rep, &st);
	if (rv != SJE_OK) {
		rc = call_failed(c, rv, &st);
		goto out;
	}
	if (rep->n_results != 1) {
		fputs("error: the server answered without the job\n", stderr);
		rc = CLI_FAILED;
	} else if (a->val[OPT_WAIT] != NULL) {
		rc = wait_job(c, rep->results[0]->task_id, 0);
	} else if (c->json) {
		rc = print_doc(c,
		    json_pack("{s:s, s:s}", "task_id",
		        rep->results[0]->task_id, "state",
		        sje_job_state_name(rep->results[0]->state)));
	} else {
		printf("%s  %s%s\n", cli_text(rep->results[0]->task_id),
		    sje_job_state_name(rep->results[0]->state),
		    rep->results[0]->created ? "" : "  (submitted before)");
		rc = CLI_OK;
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
out:
	free(text);
	free(after);
	free(deps);
	return rc;
}

static int
cmd_status(cli *c, const args *a)
{
	int rc = cli_client(c);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__Job *job = NULL;
	sje_status    st  = { 0 };
	sje_err rv = sje_client_get_status(c->client, a->pos[0], &job, &st);
	if (rv == SJE_ENOTFOUND) {
		// Not a job: perhaps a workflow run.
		rc = print_workflow_run(c, a->pos[0]);
		if (rc != CLI_NOTFOUND) {
			return rc;
		}
	}
	if (rv != SJE_OK) {
		return call_failed(c, rv, &st);
	}
	rc = c->json ? print_msg(c, &job->base) : print_job(job);
	protobuf_c_message_free_unpacked(&job->base, NULL);
	return rc;
}

static int
cmd_cancel(cli *c, const args *a)
{
	int rc = cli_client(c);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__CancelReply *rep = NULL;
	sje_status            st  = { 0 };
	sje_err rv = sje_client_cancel(c->client, a->pos[0], &rep, &st);
	if (rv != SJE_OK) {
		return call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = print_msg(c, &rep->base);
	} else {
		printf("%s  %s%s\n", a->pos[0], sje_job_state_name(rep->state),
		    rep->cancel_requested ? "  (cancel requested: it stops "
		                            "shortly)"
		                          : "");
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

static int
cmd_list(cli *c, const args *a)
{
	Sje__V1__ListJobsRequest req = SJE__V1__LIST_JOBS_REQUEST__INIT;
	int                      rc;
	if (a->val[OPT_STATE] != NULL) {
		int state;
		if (!sje_job_state_parse(a->val[OPT_STATE], &state)) {
			return usage_error(
			    "--state: unknown state '%s' (PENDING, "
			    "SCHEDULED, QUEUED, RUNNING, "
			    "SUCCEEDED, FAILED, CANCELLED, "
			    "UPSTREAM_FAILED)",
			    a->val[OPT_STATE]);
		}
		req.state = (Sje__V1__JobState) state;
	}
	if (a->val[OPT_FUNCTION] != NULL) {
		req.function = (char *) a->val[OPT_FUNCTION];
	}
	if (a->val[OPT_LIMIT] != NULL &&
	    (rc = parse_u32(
	         "limit", a->val[OPT_LIMIT], 1, 1000, &req.limit)) != CLI_OK) {
		return rc;
	}
	if (a->val[OPT_CURSOR] != NULL) {
		req.cursor = (char *) a->val[OPT_CURSOR];
	}
	if ((rc = cli_client(c)) != CLI_OK) {
		return rc;
	}
	Sje__V1__ListJobsReply *rep = NULL;
	sje_status              st  = { 0 };
	sje_err rv = sje_client_list_jobs(c->client, &req, &rep, &st);
	if (rv != SJE_OK) {
		return call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = print_msg(c, &rep->base);
	} else if (rep->n_jobs == 0) {
		puts("no jobs");
	} else {
		table t = { .ncols = 5 };
		table_row(
		    &t, "TASK_ID", "FUNCTION", "STATE", "ATTEMPT", "CREATED");
		for (size_t i = 0; i < rep->n_jobs; i++) {
			const Sje__V1__Job *job = rep->jobs[i];
			char                attempt[32], created[64];
			if (job->max_attempts > 0) {
				sje__snprintf(attempt, sizeof(attempt),
				    "%" PRIu32 "/%" PRIu32, job->attempt,
				    job->max_attempts);
			} else {
				sje__snprintf(attempt, sizeof(attempt),
				    "%" PRIu32, job->attempt);
			}
			table_row(&t, job->task_id, job->function,
			    sje_job_state_name(job->state), attempt,
			    fmt_time(
			        job->created_at, created, sizeof(created)));
		}
		rc = table_print(&t);
		if (rep->next_cursor[0] != '\0') {
			fprintf(stderr, "more: add --cursor %s\n",
			    cli_text(rep->next_cursor));
		}
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

static int
cmd_wait(cli *c, const args *a)
{
	uint32_t timeout_s = 0;
	int      rc;
	if (a->val[OPT_TIMEOUT] != NULL &&
	    (rc = parse_u32("timeout", a->val[OPT_TIMEOUT], 1,
	         UINT32_MAX / 1000, &timeout_s)) != CLI_OK) {
		return rc;
	}
	return wait_job(c, a->pos[0], timeout_s * 1000);
}

static int
cmd_workers(cli *c, const args *a)
{
	(void) a;
	int rc = cli_client(c);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__ListWorkersReply *rep = NULL;
	sje_status                 st  = { 0 };
	sje_err rv = sje_client_list_workers(c->client, &rep, &st);
	if (rv != SJE_OK) {
		return call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = print_msg(c, &rep->base);
	} else if (rep->n_workers == 0) {
		puts("no workers");
	} else {
		table t = { .ncols = 5 };
		table_row(
		    &t, "NAME", "SLOTS", "BUSY", "FUNCTIONS", "LAST_SEEN");
		for (size_t i = 0; i < rep->n_workers; i++) {
			const Sje__V1__WorkerInfo *w = rep->workers[i];
			char slots[16], busy[16], age[32];
			sje__snprintf(
			    slots, sizeof(slots), "%" PRIu32, w->slots);
			sje__snprintf(busy, sizeof(busy), "%" PRIu32, w->busy);
			// The functions, comma-separated.
			size_t len = 1;
			for (size_t k = 0; k < w->n_functions; k++) {
				len += strlen(w->functions[k]) + 1;
			}
			char *fns = malloc(len);
			if (fns == NULL) {
				t.oom = true;
				break;
			}
			fns[0] = '\0';
			for (size_t k = 0; k < w->n_functions; k++) {
				if (k > 0) {
					strcat(fns, ",");
				}
				strcat(fns, w->functions[k]);
			}
			table_row(&t, w->name, slots, busy, fns,
			    fmt_age(w->last_seen, age, sizeof(age)));
			free(fns);
		}
		rc = table_print(&t);
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

static volatile sig_atomic_t watch_stop;

static void
watch_on_signal(int sig)
{
	(void) sig;
	watch_stop = 1;
}

// watch_print prints one event. Sequence numbers count every event,
// whatever the filter: a jump past *last_seq + 1 means some were lost
// (dropped by the pub stream, or purged past server.event_retention
// before a slow reader got to them).
static void
watch_print(cli *c, const Sje__V1__JobEvent *ev, const char *function,
    uint64_t *last_seq)
{
	if (*last_seq != 0 && ev->seq > *last_seq + 1) {
		fprintf(stderr,
		    "warning: missed %" PRIu64 " event(s) "
		    "(sje-client list shows the current state)\n",
		    ev->seq - *last_seq - 1);
	}
	if (ev->seq > *last_seq) {
		*last_seq = ev->seq;
	}
	if (function != NULL && strcmp(ev->function, function) != 0) {
		return;
	}
	if (c->json) {
		json_t *j    = sje__pb_to_json(&ev->base);
		char   *text = j != NULL ? dump_json(j, JSON_COMPACT) : NULL;
		if (text != NULL) {
			puts(text);
		} else {
			fputs("warning: skipped an event: out of memory\n",
			    stderr);
		}
		free(text);
		json_decref(j);
	} else {
		char at[64];
		printf("%s  #%" PRIu64 "  %s  %s  %s",
		    fmt_time(ev->at, at, sizeof(at)), ev->seq,
		    cli_text(ev->task_id), cli_text(ev->function),
		    sje_job_state_name(ev->state));
		if (ev->attempt > 0) {
			printf("  attempt %" PRIu32, ev->attempt);
		}
		if (ev->worker[0] != '\0') {
			printf("  worker %s", cli_text(ev->worker));
		}
		if (ev->progress != NULL) {
			printf("  %.0f%%%s%s", ev->progress->percent,
			    ev->progress->message[0] != '\0' ? " " : "",
			    cli_text(ev->progress->message));
		}
		if (ev->cancel_requested) {
			fputs("  cancel requested", stdout);
		}
		if (ev->error != NULL) {
			printf("  %s: %s", cli_text(ev->error->type),
			    cli_text(ev->error->message));
		}
		putchar('\n');
	}
	fflush(stdout);
}

// watch_message prints one message of the pub stream: a topic
// "<STATE>/<function>/", a NUL byte, then a packed sje.v1.JobEvent.
static void
watch_message(cli *c, nng_msg *m, const char *function, uint64_t *last_seq)
{
	const uint8_t *body = nng_msg_body(m);
	size_t         len  = nng_msg_len(m);
	const uint8_t *nul  = memchr(body, '\0', len);
	if (nul == NULL) {
		fputs("warning: skipped an event without a topic\n", stderr);
		return;
	}
	size_t             off = (size_t) (nul - body) + 1;
	Sje__V1__JobEvent *ev =
	    sje__v1__job_event__unpack(NULL, len - off, body + off);
	if (ev == NULL) {
		fputs("warning: skipped an event that does not decode\n",
		    stderr);
		return;
	}
	watch_print(c, ev, function, last_seq);
	sje__v1__job_event__free_unpacked(ev, NULL);
}

// watch_stream follows the pub socket at the events URL (--stream).
static int
watch_stream(cli *c, const args *a)
{
	if (c->events_url == NULL || c->events_url[0] == '\0') {
		return usage_error("--stream needs an events URL (--events or "
		                   "client.events_url)");
	}
	nng_socket s;
	int        rv;
	if ((rv = nng_sub0_open(&s)) != 0) {
		fprintf(stderr, "error: cannot watch: %s\n", nng_strerror(rv));
		return CLI_FAILED;
	}
	// A large receive buffer absorbs bursts (pub/sub drops when full);
	// the receive timeout lets the loop notice SIGINT.
	if ((rv = nng_socket_set_int(s, NNG_OPT_RECVBUF, 4096)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 200)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 100)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 1000)) != 0 ||
	    (rv = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0) {
		fprintf(stderr, "error: cannot watch: %s\n", nng_strerror(rv));
		nng_close(s);
		return CLI_FAILED;
	}
	// Non-blocking: keep trying in the background while the server is
	// down; events flow once it is up. TLS for tls+tcp://, from
	// security.tls, as for RPC.
	sje_client_opts opts;
	char            why[512];
	sje_client_opts_from_config(c->cfg, SJE_CLIENT_ROLE_CLIENT, &opts);
	sje_err err =
	    sje__tls_dial(s, c->events_url, &opts, NULL, why, sizeof(why));
	if (err != SJE_OK) {
		nng_close(s);
		if (err == SJE_EINVAL) {
			return usage_error(
			    "invalid events URL '%s'", c->events_url);
		}
		if (err == SJE_ECONFIG) {
			fprintf(stderr, "error: %s\n", why);
			return CLI_USAGE;
		}
		fprintf(stderr,
		    "error: cannot reach the event stream at %s: "
		    "%s\n",
		    c->events_url, why);
		return CLI_UNREACHABLE;
	}
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr,
		    "watching the event stream at %s (Ctrl-C to stop)\n",
		    c->events_url);
	}

	uint64_t last_seq = 0;
	int      rc       = CLI_OK;
	while (!watch_stop) {
		nng_msg *m;
		rv = nng_recvmsg(s, &m, 0);
		if (rv == NNG_ETIMEDOUT) {
			continue;
		}
		if (rv != 0) {
			fprintf(stderr, "error: event stream: %s\n",
			    nng_strerror(rv));
			rc = CLI_UNREACHABLE;
			break;
		}
		watch_message(c, m, a->val[OPT_FUNCTION], &last_seq);
		nng_msg_free(m);
	}
	nng_close(s);
	return rc;
}

#define WATCH_HOLD_MS 500u // each ListEvents call holds this long at most

// watch_poll follows the kept events over RPC: ListEvents calls held
// until an event arrives, with the client's credentials. Nothing is lost
// while the reader keeps within server.event_retention; an unreachable
// server is retried until it is back.
static int
watch_poll(cli *c, const args *a)
{
	Sje__V1__ListEventsRequest req = SJE__V1__LIST_EVENTS_REQUEST__INIT;
	uint64_t                   last_seq = 0;
	int                        rc;
	if (a->val[OPT_AFTER] != NULL) {
		char *end;
		errno         = 0;
		const char *t = a->val[OPT_AFTER];
		req.after     = strtoull(t, &end, 10);
		if (t[0] < '0' || t[0] > '9' || *end != '\0' || errno != 0) {
			return usage_error(
			    "--after: expected an event sequence "
			    "number, got '%s'",
			    t);
		}
		last_seq = req.after;
	} else {
		req.from_now = true;
	}
	if ((rc = cli_client(c)) != CLI_OK) {
		return rc;
	}
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr, "watching events at %s (Ctrl-C to stop)\n",
		    c->server_url);
	}
	req.wait_ms      = WATCH_HOLD_MS;
	bool unreachable = false;
	while (!watch_stop) {
		Sje__V1__ListEventsReply *rep = NULL;
		sje_status                st  = { 0 };
		sje_err                   rv =
		    sje_client_list_events(c->client, &req, &rep, &st);
		if (rv == SJE_EUNAVAIL || rv == SJE_ETIMEDOUT) {
			if (!unreachable) {
				fprintf(stderr,
				    "warning: cannot reach the server at %s: "
				    "%s; retrying\n",
				    c->server_url,
				    st.message[0] != '\0'
				        ? cli_text(st.message)
				        : sje_strerror(rv));
				unreachable = true;
			}
			sje__sleep_ms(WAIT_RETRY_MS);
			continue;
		}
		if (rv != SJE_OK) {
			return call_failed(c, rv, &st);
		}
		if (unreachable) {
			fprintf(stderr, "watch: the server at %s is back\n",
			    c->server_url);
			unreachable = false;
		}
		for (size_t i = 0; i < rep->n_events; i++) {
			watch_print(c, rep->events[i], a->val[OPT_FUNCTION],
			    &last_seq);
		}
		// With from_now, next is the newest event at the first call.
		if (rep->next > last_seq) {
			last_seq = rep->next;
		}
		req.from_now = false;
		req.after    = rep->next;
		protobuf_c_message_free_unpacked(&rep->base, NULL);
	}
	return CLI_OK;
}

static int
cmd_watch(cli *c, const args *a)
{
	if (a->val[OPT_STREAM] != NULL && a->val[OPT_AFTER] != NULL) {
		return usage_error("--after reads kept events: it does not go "
		                   "with --stream");
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return a->val[OPT_STREAM] != NULL ? watch_stream(c, a)
	                                  : watch_poll(c, a);
}

// cmd_workflow runs a workflow of the server's config (RunWorkflow) and
// prints its run id and steps; with --wait, waits for every step.
static int
cmd_workflow(cli *c, const args *a)
{
	char *text;
	int   rc = load_params(a->val[OPT_PARAMS], &text);
	if (rc != CLI_OK) {
		return rc;
	}
	if ((rc = cli_client(c)) != CLI_OK) {
		free(text);
		return rc;
	}
	Sje__V1__RunWorkflowRequest req = SJE__V1__RUN_WORKFLOW_REQUEST__INIT;
	Sje__V1__Json               params = SJE__V1__JSON__INIT;
	req.name                           = (char *) a->pos[0];
	req.workflow_id                    = (char *) a->val[OPT_ID];
	if (text != NULL) {
		params.text = text;
		req.params  = &params;
	}
	Sje__V1__RunWorkflowReply *rep = NULL;
	sje_status                 st  = { 0 };
	sje_err                    rv  = sje_client_call(c->client,
	                        &sje__v1__coordinator__descriptor, SJE__COORD_RUN_WORKFLOW,
	                        &req.base, (ProtobufCMessage **) &rep, 0, &st);
	free(text);
	if (rv != SJE_OK) {
		return call_failed(c, rv, &st);
	}
	if (a->val[OPT_WAIT] != NULL) {
		// Wait for every step (a failure ends the rest too), then show
		// the run as status does; exit 1 unless every step SUCCEEDED.
		for (size_t i = 0; i < rep->n_tasks; i++) {
			int wrc = wait_quiet(c, rep->tasks[i]->task_id);
			if (wrc != CLI_OK && wrc != CLI_FAILED) {
				rc = wrc;
				break;
			}
			rc = rc == CLI_OK ? wrc : rc;
		}
		if (rc == CLI_OK || rc == CLI_FAILED) {
			int prc = print_workflow_run(c, rep->workflow_id);
			rc      = prc != CLI_OK ? prc : rc;
		}
	} else if (c->json) {
		rc = print_msg(c, &rep->base);
	} else {
		printf("workflow %s: run %s, %zu steps\n", cli_text(a->pos[0]),
		    cli_text(rep->workflow_id), rep->n_tasks);
		table t = { .ncols = 2 };
		table_row(&t, "TASK_ID", "STATE");
		for (size_t i = 0; i < rep->n_tasks; i++) {
			table_row(&t, rep->tasks[i]->task_id,
			    sje_job_state_name(rep->tasks[i]->state));
		}
		rc = table_print(&t);
		printf("follow it with: sje-client status %s\n",
		    cli_text(rep->workflow_id));
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

// print_help prints the whole help, or one command's.
static void
print_help(FILE *f, const command *cmd)
{
	if (cmd != NULL && cmd->run != cmd_help) {
		fprintf(f, "Usage: sje-client [global options] %s\n\n%s.\n",
		    cmd->usage, cmd->help);
		return;
	}
	fputs("Usage: sje-client [--config FILE] [--server URL] "
	      "[--api-key KEY] [--token JWT] [--json] COMMAND ...\n\n"
	      "Commands:\n",
	    f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		fprintf(f, "  %s\n      %s\n", commands[i].usage,
		    commands[i].help);
	}
	fputs(
	    "\nGlobal options (before or after the command):\n"
	    "  --config FILE   config.yaml to read (default: $SJE_CONFIG, "
	    "else none)\n"
	    "  --server URL    the coordinator (default: client.server_url, "
	    "tcp://127.0.0.1:7100)\n"
	    "  --events URL    the event stream, for watch --stream (default: "
	    "client.events_url)\n"
	    "  --api-key KEY   API key (default: $SJE_API_KEY)\n"
	    "  --token JWT     OAuth 2 bearer token (default: $SJE_TOKEN)\n"
	    "  --json          print one JSON document (watch: one per "
	    "event and line)\n"
	    "  --help, --version\n"
	    "\nsubmit: --params JSON or @FILE (@- reads stdin); --timeout S "
	    "is the job's\ntimeout; --retries N allows N retries after a "
	    "failed attempt; --after lists\nparent task ids; --delay S "
	    "keeps the job SCHEDULED S seconds first.\n"
	    "\nExit status: 0 success; 1 the job did not succeed, or the "
	    "server refused the\nrequest; 2 usage error; 3 cannot reach or "
	    "authenticate to the server;\n4 not found.\n",
	    f);
}

static int
cmd_help(cli *c, const args *a)
{
	(void) c;
	const command *cmd = NULL;
	if (a->n_pos > 0 && (cmd = find_command(a->pos[0])) == NULL) {
		return usage_error("unknown command '%s'", a->pos[0]);
	}
	print_help(stdout, cmd);
	return CLI_OK;
}

// cli_init loads the config and settles the URLs and credentials.
static int
cli_init(cli *c, const args *a)
{
	memset(c, 0, sizeof(*c));
	c->a    = a;
	c->json = a->val[OPT_JSON] != NULL;
	c->tty  = isatty(STDOUT_FILENO) != 0;
	char    err[512];
	sje_err rv =
	    sje_config_load(a->val[OPT_CONFIG], &c->cfg, err, sizeof(err));
	if (rv != SJE_OK) {
		fprintf(stderr, "error: %s\n",
		    rv == SJE_ECONFIG && err[0] != '\0' ? err
		                                        : sje_strerror(rv));
		return rv == SJE_ENOMEM ? CLI_FAILED : CLI_USAGE;
	}
	c->server_url = a->val[OPT_SERVER] != NULL ? a->val[OPT_SERVER]
	                                           : c->cfg->client.server_url;
	c->events_url = a->val[OPT_EVENTS] != NULL ? a->val[OPT_EVENTS]
	                                           : c->cfg->client.events_url;
	c->api_key    = a->val[OPT_API_KEY];
	if (c->api_key == NULL) {
		const char *env = getenv("SJE_API_KEY");
		c->api_key      = env != NULL && env[0] != '\0' ? env : NULL;
	}
	c->token = a->val[OPT_TOKEN];
	if (c->token == NULL) {
		const char *env = getenv("SJE_TOKEN");
		c->token        = env != NULL && env[0] != '\0' ? env : NULL;
	}
	// The server uses the API key when both come; a flag on the command
	// line beats what the environment holds for the other one.
	if (a->val[OPT_TOKEN] != NULL && a->val[OPT_API_KEY] == NULL) {
		c->api_key = NULL;
	} else if (a->val[OPT_API_KEY] != NULL && a->val[OPT_TOKEN] == NULL) {
		c->token = NULL;
	}
	return CLI_OK;
}

static void
cli_fini(cli *c)
{
	sje_client_close(c->client);
	sje_config_free(c->cfg);
}

int
main(int argc, char **argv)
{
	args a;
	cli  c;
	int  rc = parse_args(argc, argv, &a);
	if (rc != CLI_OK) {
		return rc;
	}
	if (a.val[OPT_VERSION] != NULL) {
		printf("sje-client %s\n", SJE_VERSION_STRING);
		return CLI_OK;
	}
	if (a.val[OPT_HELP] != NULL || a.cmd == NULL) {
		print_help(
		    a.cmd == NULL && a.val[OPT_HELP] == NULL ? stderr : stdout,
		    a.cmd);
		return a.cmd == NULL && a.val[OPT_HELP] == NULL ? CLI_USAGE
		                                                : CLI_OK;
	}
	if (a.cmd->run == cmd_help) {
		return cmd_help(NULL, &a);
	}
	if ((rc = cli_init(&c, &a)) == CLI_OK) {
		rc = a.cmd->run(&c, &a);
	}
	cli_fini(&c);
	return rc;
}
