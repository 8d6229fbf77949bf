// cli.h — what every sje-client command runs with: the settled config,
// URLs and credentials, the connection (opened on first use), and the one
// way a failed call is reported.
#ifndef SJE_CLI_CLI_H
#define SJE_CLI_CLI_H

#include "args.h"

#include <sje/client.h>
#include <sje/config.h>

struct sje__cli {
	const sje__args *a;
	bool             json;       // --json
	bool             tty;        // stdout is a terminal
	sje_config      *cfg;        // owned
	const char      *server_url; // borrowed from argv or cfg
	const char      *events_url; // borrowed from argv or cfg
	const char      *api_key;    // borrowed from argv or the environment
	const char      *token;      // an OAuth 2 JWT; borrowed likewise
	sje_client      *client;     // owned; opened by sje__cli_client
};

// sje__cli_init loads the config (--config, or $SJE_CONFIG, with the
// SJE_* overrides) and settles the URLs and credentials from a (borrowed
// for c's life). Returns the exit code: CLI_OK, or the error reported.
// Call sje__cli_fini in either case.
int sje__cli_init(sje__cli *c, const sje__args *a);

// sje__cli_fini closes the connection and frees the config.
void sje__cli_fini(sje__cli *c);

// sje__cli_client opens the connection on first use (TLS files from
// security.tls); returns CLI_OK or the exit code of the error, reported.
int sje__cli_client(sje__cli *c);

// sje__cli_call_failed reports a failed call (rv, and the server's st) on
// stderr as "error: CODE: message" and returns the exit code.
int sje__cli_call_failed(const sje__cli *c, sje_err rv, const sje_status *st);

#endif // SJE_CLI_CLI_H
