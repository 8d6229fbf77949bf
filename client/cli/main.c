// main.c — sje-client, SJE's command-line client.
//
//   sje-client [--config FILE] [--server URL] [--api-key KEY] [--json]
//              COMMAND ...
//
// main() parses the command line (args.c), loads the config (cli.c) and
// runs one function per command (commands_*.c), each of which returns the
// process's exit code:
//
//   0  success
//   1  the job did not succeed (wait, submit --wait), or the server refused
//      the request (INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION..)
//   2  usage error: unknown command or option, bad number, bad JSON, bad
//      config
//   3  cannot reach or authenticate to the server
//   4  not found
//
// Results go to stdout (print.c), errors to stderr as "error: ...".
//
// Single-threaded; no state outside main's stack but the signal flag of
// watch.
#include "args.h"
#include "cli.h"

#include <sje/client.h>

#include <stdio.h>

int
main(int argc, char **argv)
{
	sje__args a;
	sje__cli  c;
	int       rc = sje__args_parse(argc, argv, &a);
	if (rc != CLI_OK) {
		return rc;
	}
	if (a.val[OPT_VERSION] != NULL) {
		printf("sje-client %s\n", SJE_VERSION_STRING);
		return CLI_OK;
	}
	if (a.val[OPT_HELP] != NULL || a.cmd == NULL) {
		sje__args_help(
		    a.cmd == NULL && a.val[OPT_HELP] == NULL ? stderr : stdout,
		    a.cmd);
		return a.cmd == NULL && a.val[OPT_HELP] == NULL ? CLI_USAGE
		                                                : CLI_OK;
	}
	if (a.cmd->run == sje__cmd_help) {
		return sje__cmd_help(NULL, &a);
	}
	if ((rc = sje__cli_init(&c, &a)) == CLI_OK) {
		rc = a.cmd->run(&c, &a);
	}
	sje__cli_fini(&c);
	return rc;
}
