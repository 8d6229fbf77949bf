// cli.c — what every sje-client command runs with: the config loaded
// (for client.server_url and events_url, with the SJE_* environment
// overrides sje_config_load applies), the credentials settled, the
// connection opened on first use, and a failed call reported once.
#include "cli.h"

#include "print.h"

#include "config.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
sje__cli_call_failed(const sje__cli *c, sje_err rv, const sje_status *st)
{
	const char *code = st->code != 0
	    ? sje_status_name(st->code)
	    : sje_status_name(sje_err_to_status(rv));
	const char *msg = st->message[0] != '\0' ? sje__print_text(st->message)
	                                         : sje_strerror(rv);
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
			    msg, sje__print_text(st->field));
		} else {
			fprintf(stderr, "error: %s: %s\n", code, msg);
		}
		return CLI_FAILED;
	}
}

int
sje__cli_client(sje__cli *c)
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
		return sje__args_usage_error(
		    "invalid server URL '%s'", c->server_url);
	}
	if (rv != SJE_OK) {
		fprintf(stderr, "error: cannot connect to %s: %s\n",
		    c->server_url, sje_strerror(rv));
		return rv == SJE_ENOMEM ? CLI_FAILED : CLI_UNREACHABLE;
	}
	return CLI_OK;
}

int
sje__cli_init(sje__cli *c, const sje__args *a)
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

void
sje__cli_fini(sje__cli *c)
{
	sje_client_close(c->client);
	sje_config_free(c->cfg);
}
