// args.c — sje-client's command line: the option and command tables,
// parsing, numbers, --params, and the help.
//
// Design: sje__args_parse turns argv into an sje__args (the command, its
// positional arguments, one value per option); global options are taken
// before or after the command, a command's own options only after it.
#include "args.h"

#include "commands.h"

#include "pbjson.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define BIT(o) (UINT64_C(1) << (o))
_Static_assert(OPT__COUNT <= 64, "sje__command.opts has a bit per option");
// The filter of list and the bulk commands (commands_bulk.c), but for
// --state and --function, which list had first.
#define FILTER_OPTS                                             \
	(BIT(OPT_LABEL) | BIT(OPT_WORKER) | BIT(OPT_WORKFLOW) | \
	    BIT(OPT_AFTER) | BIT(OPT_BEFORE))
// A command that also acts by filter, with --all (commands_bulk.c).
#define BULK_OPTS \
	(BIT(OPT_ALL) | BIT(OPT_STATE) | BIT(OPT_FUNCTION) | FILTER_OPTS)
#define GLOBAL_OPTS                                             \
	(BIT(OPT_CONFIG) | BIT(OPT_SERVER) | BIT(OPT_EVENTS) |  \
	    BIT(OPT_API_KEY) | BIT(OPT_TOKEN) | BIT(OPT_JSON) | \
	    BIT(OPT_HELP) | BIT(OPT_VERSION))

static const struct opt_def {
	const char *name;
	bool        takes_value;
	bool        repeatable; // each value is kept (sje__args.rep_val)
} opt_defs[OPT__COUNT] = {
	[OPT_CONFIG]         = { "config", true },
	[OPT_SERVER]         = { "server", true },
	[OPT_EVENTS]         = { "events", true },
	[OPT_API_KEY]        = { "api-key", true },
	[OPT_TOKEN]          = { "token", true },
	[OPT_JSON]           = { "json", false },
	[OPT_HELP]           = { "help", false },
	[OPT_VERSION]        = { "version", false },
	[OPT_PARAMS]         = { "params", true },
	[OPT_ID]             = { "id", true },
	[OPT_AFTER]          = { "after", true },
	[OPT_PRIORITY]       = { "priority", true },
	[OPT_TIMEOUT]        = { "timeout", true },
	[OPT_RETRIES]        = { "retries", true },
	[OPT_DELAY]          = { "delay", true },
	[OPT_WAIT]           = { "wait", false },
	[OPT_STATE]          = { "state", true },
	[OPT_FUNCTION]       = { "function", true },
	[OPT_LIMIT]          = { "limit", true },
	[OPT_CURSOR]         = { "cursor", true },
	[OPT_LABEL]          = { "label", true },
	[OPT_WORKER]         = { "worker", true },
	[OPT_WORKFLOW]       = { "workflow", true },
	[OPT_BEFORE]         = { "before", true },
	[OPT_ALL]            = { "all", false },
	[OPT_STREAM]         = { "stream", false },
	[OPT_DESCENDANTS]    = { "descendants", false },
	[OPT_CONCURRENCY]    = { "concurrency", true },
	[OPT_RATE]           = { "rate", true },
	[OPT_REQUIRES]       = { "requires", true, true },
	[OPT_TASK_ID_PREFIX] = { "task-id-prefix", true },
	[OPT_PARENT]         = { "parent", true },
};

static const sje__command commands[] = {
	{ "submit", sje__cmd_submit, 1, 1,
	    BIT(OPT_PARAMS) | BIT(OPT_ID) | BIT(OPT_AFTER) |
	        BIT(OPT_PRIORITY) | BIT(OPT_TIMEOUT) | BIT(OPT_RETRIES) |
	        BIT(OPT_DELAY) | BIT(OPT_WAIT) | BIT(OPT_REQUIRES),
	    "submit FUNCTION [--params JSON|@FILE] [--id ID] "
	    "[--after ID[,ID...]]\n"
	    "                  [--priority N] [--timeout S] [--retries N] "
	    "[--delay S]\n"
	    "                  [--requires K=V]... [--wait]",
	    "submit a job; with --wait, then wait for it as `wait` does" },
	{ "status", sje__cmd_status, 1, 1, 0, "status ID",
	    "show a job, or every step of a workflow run" },
	{ "cancel", sje__cmd_cancel, 0, 1, BULK_OPTS,
	    "cancel ID\n"
	    "  cancel --all FILTER...",
	    "cancel a job, or every unfinished step of a workflow run; with "
	    "--all, every unfinished job FILTER selects" },
	{ "list", sje__cmd_list, 0, 0,
	    BIT(OPT_STATE) | BIT(OPT_FUNCTION) | BIT(OPT_LIMIT) |
	        BIT(OPT_CURSOR) | BIT(OPT_TASK_ID_PREFIX) | BIT(OPT_PARENT) |
	        FILTER_OPTS,
	    "list [--state STATE] [--function NAME] [--label K=V] "
	    "[--worker NAME]\n"
	    "       [--workflow ID] [--after TIME] [--before TIME] "
	    "[--task-id-prefix P]\n"
	    "       [--parent ID] [--limit N] [--cursor C]",
	    "list jobs, newest first (--parent: the children of a job)" },
	{ "wait", sje__cmd_wait, 1, 1, BIT(OPT_TIMEOUT),
	    "wait ID [--timeout S]",
	    "wait until a job (or a workflow run) ends, showing progress; "
	    "exit 0 on SUCCEEDED, 1 otherwise" },
	{ "watch", sje__cmd_watch, 0, 0,
	    BIT(OPT_FUNCTION) | BIT(OPT_AFTER) | BIT(OPT_STREAM),
	    "watch [--function NAME] [--after SEQ | --stream]",
	    "print job events as they happen, until interrupted" },
	{ "workers", sje__cmd_workers, 0, 0, 0, "workers",
	    "list the connected workers" },
	{ "workflow", sje__cmd_workflow, 1, 1,
	    BIT(OPT_PARAMS) | BIT(OPT_ID) | BIT(OPT_WAIT),
	    "workflow NAME [--params JSON|@FILE] [--id RUN_ID] [--wait]",
	    "run a workflow defined in the server's config; `status RUN_ID` "
	    "shows its steps" },
	{ "retry", sje__cmd_retry, 0, 1, BIT(OPT_DESCENDANTS) | BULK_OPTS,
	    "retry ID [--descendants]\n"
	    "  retry --all FILTER...",
	    "re-run a job that did not succeed (--descendants: its "
	    "UPSTREAM_FAILED ones too); with --all, those FILTER selects" },
	{ "delete", sje__cmd_delete, 1, 1, 0, "delete ID",
	    "delete a finished job" },
	{ "purge", sje__cmd_purge, 0, 0,
	    BIT(OPT_STATE) | BIT(OPT_FUNCTION) | FILTER_OPTS,
	    "purge FILTER...",
	    "delete every finished job FILTER selects (unfinished ones are "
	    "kept)" },
	{ "explain", sje__cmd_explain, 1, 1, 0, "explain ID",
	    "say why a job is where it is" },
	{ "functions", sje__cmd_functions, 0, 0, 0, "functions",
	    "list the functions: jobs queued and running, paused, limits, "
	    "workers" },
	{ "pause", sje__cmd_pause, 1, 1, 0, "pause FUNCTION",
	    "start no new job of a function (submits are still accepted)" },
	{ "resume", sje__cmd_resume, 1, 1, 0, "resume FUNCTION",
	    "start the jobs of a paused function again" },
	{ "limit", sje__cmd_limit, 1, 1, BIT(OPT_CONCURRENCY) | BIT(OPT_RATE),
	    "limit FUNCTION [--concurrency N|none] [--rate R/s|none]",
	    "limit a function: jobs running at once, starts per s, m or h; "
	    "none removes one" },
	{ "schedules", sje__cmd_schedules, 0, 0, 0, "schedules",
	    "list config's schedules: when each runs next, what it started "
	    "last" },
	{ "help", sje__cmd_help, 0, 1, 0, "help [COMMAND]", "show this help" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int
sje__args_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'sje-client --help'.\n", stderr);
	return CLI_USAGE;
}

const sje__command *
sje__args_find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			return &commands[i];
		}
	}
	return NULL;
}

// args_parse_option handles argv[*i], an argument starting with "--"; it may
// consume the next argument as the value.
static int
args_parse_option(int argc, char **argv, int *i, sje__args *a)
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
		return sje__args_usage_error(
		    "unknown option '--%.*s'", (int) nlen, arg);
	}
	if ((GLOBAL_OPTS & BIT(id)) == 0) {
		if (a->cmd == NULL) {
			return sje__args_usage_error(
			    "option '--%s' goes after a command",
			    opt_defs[id].name);
		}
		if ((a->cmd->opts & BIT(id)) == 0) {
			return sje__args_usage_error(
			    "'%s' has no option '--%s'", a->cmd->name,
			    opt_defs[id].name);
		}
	}
	if (!opt_defs[id].takes_value) {
		if (eq != NULL) {
			return sje__args_usage_error(
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
		return sje__args_usage_error(
		    "option '--%s' needs a value", opt_defs[id].name);
	}
	if (opt_defs[id].repeatable) {
		if (a->n_rep >= MAX_REPEATED) {
			return sje__args_usage_error(
			    "too many options that repeat (at most %d)",
			    MAX_REPEATED);
		}
		a->rep_val[a->n_rep]   = a->val[id];
		a->rep_opt[a->n_rep++] = (opt_id) id;
	}
	return CLI_OK;
}

int
sje__args_parse(int argc, char **argv, sje__args *a)
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
			if ((rc = args_parse_option(argc, argv, &i, a)) !=
			    CLI_OK) {
				return rc;
			}
			continue;
		}
		if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
			if (strcmp(arg, "-h") == 0) {
				a->val[OPT_HELP] = "";
				continue;
			}
			return sje__args_usage_error(
			    "unknown option '%s'", arg);
		}
		if (a->cmd == NULL) {
			if ((a->cmd = sje__args_find_command(arg)) == NULL) {
				return sje__args_usage_error(
				    "unknown command '%s'", arg);
			}
			continue;
		}
		if (a->n_pos >= a->cmd->max_pos) {
			return sje__args_usage_error(
			    "unexpected argument '%s' (usage: "
			    "sje-client %s)",
			    arg, a->cmd->usage);
		}
		a->pos[a->n_pos++] = arg;
	}
	if (a->cmd != NULL && a->val[OPT_HELP] == NULL &&
	    a->n_pos < a->cmd->min_pos) {
		return sje__args_usage_error(
		    "missing argument (usage: sje-client %s)", a->cmd->usage);
	}
	return CLI_OK;
}

bool
sje__args_whole(const char *text, unsigned long long *out)
{
	char *end;
	errno                = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0) {
		return false;
	}
	*out = v;
	return true;
}

int
sje__args_u32(const char *opt, const char *text, uint32_t min, uint32_t max,
    uint32_t *out)
{
	unsigned long long v;
	if (!sje__args_whole(text, &v) || v < min || v > max) {
		return sje__args_usage_error(
		    "--%s: expected a whole number from %" PRIu32
		    " to %" PRIu32 ", got '%s'",
		    opt, min, max, text);
	}
	*out = (uint32_t) v;
	return CLI_OK;
}

int
sje__args_i32(const char *opt, const char *text, int32_t *out)
{
	char *end;
	errno           = 0;
	long long   v   = strtoll(text, &end, 10);
	const char *d   = text[0] == '-' || text[0] == '+' ? text + 1 : text;
	bool        bad = *d < '0' || *d > '9' || *end != '\0' || errno != 0 ||
	    v < INT32_MIN || v > INT32_MAX;
	if (bad) {
		return sje__args_usage_error(
		    "--%s: expected a whole number, got '%s'", opt, text);
	}
	*out = (int32_t) v;
	return CLI_OK;
}

// args_read_file reads path ("-": stdin) into a new NUL-terminated buffer of
// at most max bytes.
static int
args_read_file(const char *path, size_t max, char **out, size_t *out_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		return sje__args_usage_error(
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
		return sje__args_usage_error(
		    "cannot read '%s': %s", path, strerror(e));
	}
	if (len > max) {
		free(buf);
		return sje__args_usage_error(
		    "'%s' is larger than %zu bytes", path, max);
	}
	buf[len] = '\0';
	*out     = buf;
	*out_len = len;
	return CLI_OK;
}

int
sje__args_params(const char *val, char **out)
{
	*out = NULL;
	if (val == NULL) {
		return CLI_OK;
	}
	char  *text = NULL;
	size_t len  = 0;
	int    rc;
	if (val[0] == '@') {
		if ((rc = args_read_file(val + 1, SJE_MAX_PARAMS_BYTES, &text,
		         &len)) != CLI_OK) {
			return rc;
		}
	} else {
		len = strlen(val);
		if (len > SJE_MAX_PARAMS_BYTES) {
			return sje__args_usage_error(
			    "--params is larger than %u bytes",
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
		rc = sje__args_usage_error(
		    "--params is not valid JSON: line %d, column "
		    "%d: %s",
		    jerr.line, jerr.column, jerr.text);
	} else {
		json_decref(j);
		rc = sje__args_usage_error(
		    "--params is not valid JSON: nested deeper "
		    "than %u levels, or holds a NUL byte",
		    SJE_MAX_JSON_DEPTH);
	}
	free(text);
	return rc;
}

void
sje__args_help(FILE *f, const sje__command *cmd)
{
	if (cmd != NULL && cmd->run != sje__cmd_help) {
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
	    "tcp://127.0.0.1:7100);\n"
	    "                  several, comma-separated, are tried in order\n"
	    "  --events URL    the event stream, for watch --stream (default: "
	    "client.events_url)\n"
	    "  --api-key KEY   API key (default: $SJE_API_KEY)\n"
	    "  --token JWT     OAuth 2 bearer token (default: $SJE_TOKEN)\n"
	    "  --json          print one JSON document (watch: one per "
	    "event and line)\n"
	    "  --help, --version\n"
	    "\nFILTER (list, cancel --all, retry --all, purge): --state S, "
	    "--function F,\n--label K=V, --workflow ID (a workflow run), "
	    "--worker NAME (of the last\nattempt), --after TIME and --before "
	    "TIME (RFC 3339 creation times, [after,\nbefore)); a job must "
	    "match every one given. The bulk commands need one at\nleast, "
	    "print \"matched N\" and act on at most 10,000 jobs a run: when "
	    "they say\nmore may match, run them again.\n"
	    "\nsubmit: --params JSON or @FILE (@- reads stdin); --timeout S "
	    "is the job's\ntimeout; --retries N allows N retries after a "
	    "failed attempt; --after lists\nparent task ids; --delay S "
	    "keeps the job SCHEDULED S seconds first;\n--requires K=V "
	    "(repeatable) runs it only on workers whose labels include\n"
	    "every pair.\n"
	    "\nretry takes a FAILED, CANCELLED or UPSTREAM_FAILED job, "
	    "delete a finished one;\nthe server refuses others (exit 1). "
	    "pause, resume and limit last across\nrestarts of the server, "
	    "and limit wins over the server's config.\n"
	    "\nExit status: 0 success; 1 the job did not succeed, or the "
	    "server refused the\nrequest; 2 usage error; 3 cannot reach or "
	    "authenticate to the server;\n4 not found.\n",
	    f);
}

int
sje__cmd_help(sje__cli *c, const sje__args *a)
{
	(void) c;
	const sje__command *cmd = NULL;
	if (a->n_pos > 0 &&
	    (cmd = sje__args_find_command(a->pos[0])) == NULL) {
		return sje__args_usage_error(
		    "unknown command '%s'", a->pos[0]);
	}
	sje__args_help(stdout, cmd);
	return CLI_OK;
}
