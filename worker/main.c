// main.c — sje-worker: parse the command line, load config and plugins,
// start the runtime, wait for SIGINT or SIGTERM, stop.
//
//   sje-worker [--config FILE] [--server URL] [--name NAME] [--slots N]
//
// Signals are handled without handlers: SIGINT and SIGTERM are blocked in
// every thread (the runtime's threads inherit the mask) and the main
// thread takes them with sigtimedwait, so nothing runs in signal context.
#include "plugin_host.h"
#include "runtime.h"
#include "task.h"

#include "config.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// How long running jobs may go on after a stop signal (ms).
#define WORKER_GRACE_MS 10000u
// How often the main thread looks at the runtime while waiting (ms).
#define WORKER_POLL_MS 250
// Most slots accepted.
#define WORKER_MAX_SLOTS 1024u

static const char worker_usage[] =
    "usage: sje-worker [--config FILE] [--server URL] [--name NAME] "
    "[--slots N]\n"
    "\n"
    "Runs jobs for an SJE coordinator.\n"
    "\n"
    "  -c, --config FILE   config.yaml to read (default: $SJE_CONFIG, "
    "else none)\n"
    "  -s, --server URL    the coordinator's RPC URL (worker.server_url); several,\n"
    "                      comma-separated, are tried in order\n"
    "  -n, --name NAME     this worker's name (worker.name; default: the "
    "host name)\n"
    "  -j, --slots N       jobs run at once (worker.slots; default: "
    "executor.max_concurrency)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Plugins are found through config (plugins:), $SJE_PLUGIN_PATH, "
    "../lib/sje\n"
    "next to this program and the installed plugin directory. SIGINT or "
    "SIGTERM\n"
    "stop it gracefully.\n";

typedef struct worker_args {
	const char *config;
	const char *server;
	const char *name;
	uint32_t    slots; // 0: from config
	bool        help;
} worker_args;

// worker_parse_args fills a from argv; on a usage error writes one line
// into err and returns false.
static bool
worker_parse_args(
    int argc, char **argv, worker_args *a, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "server", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "slots", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	opterr = 0; // we report errors ourselves, as one line
	while ((c = getopt_long(argc, argv, ":c:s:n:j:h", opts, NULL)) != -1) {
		char         *end;
		unsigned long v;

		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 's':
			a->server = optarg;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'j':
			errno = 0;
			v     = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    optarg[0] == '-' || v < 1 ||
			    v > WORKER_MAX_SLOTS) {
				sje__snprintf(err, errlen,
				    "--slots: expected a number from 1 to %u, "
				    "got '%s'",
				    WORKER_MAX_SLOTS, optarg);
				return false;
			}
			a->slots = (uint32_t) v;
			break;
		case 'h':
			a->help = true;
			break;
		case ':':
			sje__snprintf(
			    err, errlen, "%s needs a value", argv[optind - 1]);
			return false;
		default:
			sje__snprintf(err, errlen, "unknown option '%s'",
			    argv[optind - 1]);
			return false;
		}
	}
	if (optind < argc) {
		sje__snprintf(
		    err, errlen, "unexpected argument '%s'", argv[optind]);
		return false;
	}
	return true;
}

// worker_wait blocks until SIGINT or SIGTERM arrives (returns 0) or the
// runtime cannot go on (logs why and returns 1).
static int
worker_wait(sje__runtime *rt, const sigset_t *sigs)
{
	struct timespec poll = { 0, WORKER_POLL_MS * 1000000L };
	char            why[512];
	int             sig;

	for (;;) {
		sig = sigtimedwait(sigs, NULL, &poll);
		if (sig == SIGINT || sig == SIGTERM) {
			SJE_INFO("received %s: stopping",
			    sig == SIGINT ? "SIGINT" : "SIGTERM");
			return 0;
		}
		if (sje__runtime_failed(rt, why, sizeof(why))) {
			SJE_ERROR("%s", why);
			return 1;
		}
	}
}

int
main(int argc, char **argv)
{
	worker_args       args;
	sje_config       *cfg     = NULL;
	sje__plugins     *plugins = NULL;
	sje__runtime     *rt      = NULL;
	sje__runtime_opts ropts;
	sje_client_opts   conn;
	sigset_t          sigs;
	char              err[1024];
	char              host[256];
	sje_err           rv;
	int               rc = 1;

	// Until config says otherwise: info and above, to stderr, named.
	(void) sje__log_open("sje-worker", NULL, NULL, NULL);
	if (!worker_parse_args(argc, argv, &args, err, sizeof(err))) {
		SJE_ERROR("%s (see sje-worker --help)", err);
		return 2;
	}
	if (args.help) {
		fputs(worker_usage, stdout);
		return 0;
	}

	// Block the stop signals before any thread exists, so that every
	// thread inherits the mask and only sigtimedwait sees them. SIGPIPE
	// must not kill a worker whose coordinator went away.
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	(void) pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	(void) signal(SIGPIPE, SIG_IGN);

	err[0] = '\0';
	if ((rv = sje_config_load(args.config, &cfg, err, sizeof(err))) !=
	    SJE_OK) {
		SJE_ERROR("%s", err[0] != '\0' ? err : sje_strerror(rv));
		return 1;
	}
	if ((rv = sje__log_open("sje-worker", cfg->logging.level,
	         cfg->logging.format, cfg->logging.destination)) != SJE_OK) {
		SJE_ERROR("cannot open the log (%s, %s, %s): %s",
		    cfg->logging.level, cfg->logging.format,
		    cfg->logging.destination, sje_strerror(rv));
		goto out;
	}

	memset(&ropts, 0, sizeof(ropts));
	ropts.server_url =
	    args.server != NULL ? args.server : cfg->worker.server_url;
	ropts.name = args.name != NULL ? args.name : cfg->worker.name;
	if (ropts.name == NULL || ropts.name[0] == '\0') {
		if (gethostname(host, sizeof(host)) != 0) {
			sje__snprintf(host, sizeof(host), "sje-worker");
		}
		host[sizeof(host) - 1] = '\0';
		ropts.name             = host;
	}
	if (strlen(ropts.name) > SJE_MAX_ID_BYTES) {
		SJE_ERROR("worker name '%s' is longer than %u bytes",
		    ropts.name, SJE_MAX_ID_BYTES);
		goto out;
	}
	ropts.slots = args.slots != 0 ? args.slots
	    : cfg->worker.slots != 0  ? cfg->worker.slots
	                              : cfg->executor.max_concurrency;
	if (ropts.slots == 0 || ropts.slots > WORKER_MAX_SLOTS) {
		SJE_ERROR("worker.slots: expected 1 to %u, got %u",
		    WORKER_MAX_SLOTS, (unsigned) ropts.slots);
		goto out;
	}
	ropts.labels   = cfg->worker.labels;
	ropts.n_labels = cfg->worker.n_labels;

	// TLS (for a tls+tcp:// server URL) from security.tls: the worker's
	// own certificate, its key and the CA of the coordinator's.
	sje_client_opts_from_config(cfg, SJE_CLIENT_ROLE_WORKER, &conn);
	conn.server_url = ropts.server_url;
	// The API key (scope worker) when the coordinator checks credentials.
	conn.api_key = getenv("SJE_WORKER_API_KEY");
	if ((rv = sje_client_opts_check(&conn, err, sizeof(err))) != SJE_OK) {
		SJE_ERROR("%s", err);
		goto out;
	}
	ropts.conn = &conn;

	if ((rv = sje__plugins_load(cfg, SJE_PLUGIN_ROLE_WORKER,
	         sje__task_host_api(), &plugins, err, sizeof(err))) !=
	    SJE_OK) {
		SJE_ERROR("%s", err);
		goto out;
	}
	if (sje__plugins_count(plugins) == 0) {
		SJE_ERROR("no task functions: enable at least one plugin "
		          "(plugins: in config)");
		goto out;
	}
	if ((rv = sje__runtime_start(
	         &ropts, plugins, &rt, err, sizeof(err))) != SJE_OK) {
		SJE_ERROR("%s", err);
		goto out;
	}

	rc = worker_wait(rt, &sigs);
	sje__runtime_stop(rt, WORKER_GRACE_MS);

out:
	sje__plugins_free(plugins);
	sje_config_free(cfg);
	sje__log_close();
	return rc;
}
