// args.h — sje-client's command line: the exit codes, the option and
// command tables, parsing argv into an sje__args, reading numbers and
// --params, and the help.
//
// Global options are taken before or after the command, a command's own
// options only after it. Every function that finds a usage error reports
// it on stderr itself ("error: ..." and a hint) and returns CLI_USAGE.
// Single-threaded, like the whole CLI.
#ifndef SJE_CLI_ARGS_H
#define SJE_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// The process's exit codes; every command returns one.
enum {
	CLI_OK          = 0,
	CLI_FAILED      = 1, // the job did not succeed, or the server refused
	CLI_USAGE       = 2, // unknown command or option, bad number or JSON
	CLI_UNREACHABLE = 3, // cannot reach or authenticate to the server
	CLI_NOTFOUND    = 4,
};

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
	OPT_LABEL,
	OPT_WORKER,
	OPT_WORKFLOW,
	OPT_BEFORE,
	OPT_ALL,
	OPT_STREAM,
	OPT_DESCENDANTS,
	OPT_CONCURRENCY,
	OPT_RATE,
	OPT_REQUIRES,
	OPT_TASK_ID_PREFIX,
	OPT_PARENT,
	OPT__COUNT
} opt_id;

#define MAX_POS 4
// MAX_REPEATED bounds the values of repeatable options on one command
// line (as many as a job may have labels it requires).
#define MAX_REPEATED 64

typedef struct sje__cli     sje__cli; // cli.h
typedef struct sje__command sje__command;

// sje__args is the parsed command line; every string is borrowed from
// argv.
typedef struct sje__args {
	const sje__command *cmd;  // NULL: none given
	const char *pos[MAX_POS]; // positional arguments of the command
	size_t      n_pos;
	const char *val[OPT__COUNT]; // value; "" for a flag; NULL: absent
	// Every value of the repeatable options (--requires), in order, each
	// with its option; val[] has the last of each.
	const char *rep_val[MAX_REPEATED];
	opt_id      rep_opt[MAX_REPEATED];
	size_t      n_rep;
} sje__args;

// sje__command_fn runs one command and returns the exit code.
typedef int (*sje__command_fn)(sje__cli *c, const sje__args *a);

struct sje__command {
	const char     *name;
	sje__command_fn run;
	size_t          min_pos, max_pos; // positional arguments allowed
	uint64_t        opts;  // bit (UINT64_C(1) << opt) of its own options
	const char     *usage; // after "sje-client "
	const char     *help;  // one line
};

// sje__args_parse fills a from argv; CLI_OK, or CLI_USAGE (already
// reported). A missing positional argument is an error unless --help is
// given.
int sje__args_parse(int argc, char **argv, sje__args *a);

// sje__args_find_command returns the command called name (static data),
// or NULL.
const sje__command *sje__args_find_command(const char *name);

// sje__args_usage_error prints "error: ..." and a hint on stderr, and
// returns CLI_USAGE.
int sje__args_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

// sje__args_whole reads text as a whole decimal number (digits only, no
// sign, no overflow) into *out; false when it is not one. Pure.
bool sje__args_whole(const char *text, unsigned long long *out);

// sje__args_u32 reads a decimal number in [min, max] from text, the value
// of option --opt, into *out (written only on CLI_OK).
int sje__args_u32(const char *opt, const char *text, uint32_t min,
    uint32_t max, uint32_t *out);

// sje__args_i32 reads a signed decimal number from text, the value of
// option --opt, into *out (written only on CLI_OK).
int sje__args_i32(const char *opt, const char *text, int32_t *out);

// sje__args_params reads --params (val: JSON text, or @FILE with "@-" for
// stdin) and checks that it is one JSON value. *out is NULL when val is
// NULL; else the caller frees it.
int sje__args_params(const char *val, char **out);

// sje__args_help prints the whole help to f, or cmd's when cmd is not
// NULL (nor help itself).
void sje__args_help(FILE *f, const sje__command *cmd);

// sje__cmd_help is the help command: the whole help, or the named
// command's. c may be NULL.
int sje__cmd_help(sje__cli *c, const sje__args *a);

#endif // SJE_CLI_ARGS_H
