// sje-server — the coordinator: parse arguments, load config, open the
// store, the event stream, the RPC endpoint and the REST gateway, wait for
// a signal, stop.
//
// On start it writes <data_dir>/endpoints with the URLs it actually bound
// (useful with port 0, as the tests do) and logs one line saying where it
// listens. It exits non-zero with one clear line when it cannot start.
#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include "clock.h"
#include "config.h"
#include "door/auth.h"
#include "door/gateway.h"
#include "door/leader.h"
#include "door/netsec.h"
#include "door/rpc.h"
#include "door/validate.h"
#include "events/alerts.h"
#include "events/events.h"
#include "events/hooks.h"
#include "log.h"
#include "sched/scheduler.h"
#include "store/store.h"
#include "tls.h"
#include "util.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

// Descriptors kept for everything but HTTP connections (the RPC and
// event doors and their connections, the store, logs, hooks, plugins):
// the HTTP connection cap stays this far below the descriptor limit, so
// that a flood of HTTP connections leaves RPC and workers working.
#define SERVER_FD_RESERVE 128u
// The HTTP layer answers up to this many connections over its cap (503)
// at once; they count against the limit too.
#define SERVER_FD_REFUSING 16u
// Once the store is closed, closing the network doors may take this long
// (s); then the process exits without waiting for them (see closing_*).
#define SERVER_CLOSE_NET_S 5

// The last steps of a stop are nng's closes, after everything is stored.
// nng 1.5.2 can leave a connection that its peer closed at that moment
// never reaped (a receive posted on the closing pipe is never failed),
// and nng_close then waits for it for ever. So a watchdog gives them
// SERVER_CLOSE_NET_S and then ends the process: nothing is lost, the
// store being closed already.
typedef struct closing {
	pthread_mutex_t mtx;
	pthread_cond_t  cv;
	bool            done;
	int             rc; // the exit status, should the watchdog end it
} closing;

static void *
closing_watch(void *arg)
{
	closing *c        = arg;
	int64_t  deadline = sje_mono_ms() + SERVER_CLOSE_NET_S * 1000;
	sje__thread_name("sje:close-watch");
	pthread_mutex_lock(&c->mtx);
	while (!c->done && sje_mono_ms() < deadline) {
		sje__cond_wait_until(&c->cv, &c->mtx, deadline);
	}
	bool done = c->done;
	pthread_mutex_unlock(&c->mtx);
	if (!done) {
		SJE_WARN(
		    "the network doors did not close within %d s (nng "
		    "holds a connection closed under it); exiting without "
		    "them, everything is stored",
		    SERVER_CLOSE_NET_S);
		sje__log_close();
		_exit(c->rc);
	}
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sje-server [--config FILE]\n"
	    "  The SJE coordinator. With no config it listens on loopback:\n"
	    "  RPC tcp://127.0.0.1:7100, events tcp://127.0.0.1:7101,\n"
	    "  REST http://127.0.0.1:8080, store in ./sje-data.\n"
	    "  See docs/config.md for every key.\n");
}

// write_endpoints records the bound URLs for scripts and tests. http_url
// is the gateway's URL whatever its scheme; https_url repeats it when the
// gateway serves HTTPS (and is empty otherwise); events_url is empty when
// the event stream is off (sje__netsec_events_ok).
static void
write_endpoints(const char *data_dir, const char *rpc, const char *events,
    const char *http)
{
	char path[4096];
	char tmp[4200];
	sje__snprintf(path, sizeof(path), "%s/endpoints", data_dir);
	sje__snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		SJE_WARN("cannot write %s", path);
		return;
	}
	fprintf(f, "rpc_url=%s\nevents_url=%s\nhttp_url=%s\nhttps_url=%s\n",
	    rpc, events, http, strncmp(http, "https:", 6) == 0 ? http : "");
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		SJE_WARN("cannot write %s", path);
	}
}

// raise_fd_limit raises the soft RLIMIT_NOFILE to the hard one and
// returns the soft limit in force (UINT32_MAX when unlimited or unknown).
static uint32_t
raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		SJE_WARN("cannot read the descriptor limit");
		return UINT32_MAX;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was  = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			rl.rlim_cur = was;
			SJE_WARN(
			    "cannot raise the descriptor limit above %llu",
			    (unsigned long long) was);
		}
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= UINT32_MAX
	    ? UINT32_MAX
	    : (uint32_t) rl.rlim_cur;
}

// http_cap is the HTTP connection cap: http.max_connections, within what
// the descriptor limit leaves after the reserve (at least 1).
static uint32_t
http_cap(uint32_t configured, uint32_t fd_limit)
{
	uint32_t spare = SERVER_FD_RESERVE + SERVER_FD_REFUSING;
	uint32_t room  = fd_limit > spare ? fd_limit - spare : 1;
	return configured < room ? configured : room;
}

// advertised writes into buf the URL that other coordinators reach url
// (bound) at: given, when not ""; else url, its host replaced by this
// machine's name when it is a wildcard (sje__url_advertised).
static void
advertised(const char *given, const char *url, char *buf, size_t len)
{
	if (given != NULL && given[0] != '\0') {
		sje__snprintf(buf, len, "%s", given);
		return;
	}
	char name[256] = "";
	if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
		sje__snprintf(name, sizeof(name), "localhost");
	}
	name[sizeof(name) - 1] = '\0';
	sje__url_advertised(url, name, buf, len);
}

// follower is what the PostgreSQL store's standby callback needs: while
// another coordinator leads, this one hands its calls on to it.
typedef struct follower {
	const sigset_t   *sigs;
	sje__leader      *leader;
	const char       *self_rpc; // our own advertised RPC URL
	const sje_config *cfg;
	const char       *rpc_url, *events_url, *http_url; // as bound
	bool              announced; // the ready line and endpoints are out
} follower;

// standby_wait is the PostgreSQL store's standby callback: it follows
// the leader the database names (its calls go on to it), says it is
// ready once connected, then waits STORE_PG_STANDBY_MS for SIGINT or
// SIGTERM (blocked in every thread) and says to go on waiting unless one
// came.
static bool
standby_wait(void *arg, const sje__store_leader *leader)
{
	follower *f = arg;
	if (leader != NULL && leader->rpc_url != NULL &&
	    strcmp(leader->rpc_url, f->self_rpc) != 0) {
		sje__leader_follow(f->leader, leader->name, leader->rpc_url,
		    leader->events_url);
	} else if (leader != NULL) {
		// None recorded yet, or our own (an earlier run of ours,
		// dead): nobody to follow until the new leader says so.
		sje__leader_follow(f->leader, NULL, NULL, NULL);
	}
	if (!f->announced && sje__leader_connected(f->leader)) {
		write_endpoints(f->cfg->server.data_dir, f->rpc_url,
		    f->events_url, f->http_url);
		SJE_INFO("sje-server %s ready, following the active "
		         "coordinator (%s): rpc %s, events %s, http %s, store "
		         "postgres",
		    SJE_VERSION_STRING,
		    leader != NULL && leader->name != NULL ? leader->name
		                                           : "?",
		    f->rpc_url,
		    f->events_url[0] != '\0' ? f->events_url : "off",
		    f->http_url);
		f->announced = true;
	}
	struct timespec ts  = { 0, STORE_PG_STANDBY_MS * 1000000L };
	int             sig = sigtimedwait(f->sigs, NULL, &ts);
	if (sig > 0) {
		SJE_INFO("stopping on signal %d, a follower", sig);
		return false;
	}
	return true;
}

// open_store opens the store that server.store names: SQLite in data_dir,
// or PostgreSQL at the connection string of $<server.postgres.dsn_env>
// (the variable wins, so that a password stays out of files) or of
// server.postgres.dsn, following its leader meanwhile (f; NULL for
// SQLite). Logs why not.
static sje_err
open_store(const sje_config *cfg, follower *f, sje__store **store)
{
	sje_err e;

	if (strcmp(cfg->server.store, "postgres") == 0) {
		const char *dsn = getenv(cfg->server.postgres.dsn_env);
		if (dsn == NULL || dsn[0] == '\0') {
			dsn = cfg->server.postgres.dsn;
		}
		if (dsn == NULL || dsn[0] == '\0') {
			SJE_ERROR("server.store is postgres, but neither $%s "
			          "nor server.postgres.dsn gives a connection "
			          "string",
			    cfg->server.postgres.dsn_env);
			return SJE_ECONFIG;
		}
		// The coordinator's own files (endpoints, the hooks'
		// cursor) stay in data_dir.
		char why[256];
		if ((e = sje__mkdirs(
		         cfg->server.data_dir, why, sizeof(why))) != SJE_OK) {
			SJE_ERROR("%s", why);
			return e;
		}
		// Another coordinator active on the database: this one
		// follows it, its calls going on to it, until it is gone.
		char name[300], host[256] = "?";
		(void) gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		sje__snprintf(
		    name, sizeof(name), "%s pid %ld", host, (long) getpid());
		char events[512];
		advertised(cfg->server.advertise_events_url, f->events_url,
		    events, sizeof(events));
		sje__store_postgres_opts po = {
			.dsn         = dsn,
			.standby     = standby_wait,
			.standby_arg = f,
			.name        = name,
			.rpc_url     = f->self_rpc,
			.events_url  = f->events_url[0] != '\0' ? events : "",
		};
		e = sje__store_open_postgres(&po, store);
		if (e != SJE_OK && e != SJE_ECANCELED) {
			SJE_ERROR("cannot open the store in PostgreSQL: %s",
			    sje_strerror(e));
		}
		return e;
	}
	sje__store_sqlite_opts so = { .directory = cfg->server.data_dir,
		.sync                            = cfg->server.sync };
	if ((e = sje__store_open_sqlite(&so, store)) != SJE_OK) {
		SJE_ERROR("cannot open the store in '%s': %s",
		    cfg->server.data_dir, sje_strerror(e));
	}
	return e;
}

// open_sched opens the coordinator's plugins, alert rules and scheduler
// on store. Logs why not.
static sje_err
open_sched(const sje_config *cfg, sje__store *store, sje__events *events,
    sje__hooks **hooks, sje__sched **sched)
{
	char         err[1024] = "";
	sje__alerts *alerts    = NULL;
	sje_err      e;
	// Alert rules and the coordinator's plugins: a bad rule, a notifier
	// that is not there or a plugin that does not load stops the start.
	if ((e = sje__alerts_open(cfg, &alerts, err, sizeof(err))) != SJE_OK ||
	    (e = sje__hooks_open(cfg, store, hooks, err, sizeof(err))) !=
	        SJE_OK) {
		SJE_ERROR("%s", e == SJE_ENOMEM ? sje_strerror(e) : err);
		sje__alerts_free(alerts);
		return e;
	}
	// The scheduler owns the alert rules from here, even on failure.
	e = sje__sched_open(cfg, store, events, *hooks, alerts, NULL, sched);
	if (e != SJE_OK) {
		SJE_ERROR("cannot start the scheduler: %s", sje_strerror(e));
	}
	return e;
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config_path = argv[i] + 9;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("sje-server %s\n", SJE_VERSION_STRING);
			return 0;
		} else {
			fprintf(stderr, "sje-server: unknown argument '%s'\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}

	char        err[1024] = "";
	sje_config *cfg;
	if (sje_config_load(config_path, &cfg, err, sizeof(err)) != SJE_OK) {
		fprintf(stderr, "sje-server: %s\n", err);
		return 1;
	}
	if (sje__log_open("sje-server", cfg->logging.level,
	        cfg->logging.format, cfg->logging.destination) != SJE_OK) {
		fprintf(stderr,
		    "sje-server: cannot open log destination '%s'\n",
		    cfg->logging.destination);
		sje_config_free(cfg);
		return 1;
	}

	// Signals are taken by sigwait below; every thread inherits the mask.
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	int          rc     = 1;
	sje__store  *store  = NULL;
	sje__events *events = NULL;
	sje__sched  *sched  = NULL;
	sje__leader *leader = NULL;
	sje__rpc    *rpc    = NULL;
	sje__gw     *gw     = NULL;
	sje__auth   *auth   = NULL;
	sje__hooks  *hooks  = NULL;
	sje__netsec  ns     = { 0 };
	uint32_t     fd_limit, max_http;
	char         rpc_url[512], events_url[512], http_url[512];
	char         self_rpc[512];
	bool         pg = strcmp(cfg->server.store, "postgres") == 0;
	sje_err      e;

	// Secure by default: nothing leaves loopback without TLS and
	// authentication (netsec.h). Checked before anything is opened.
	if (sje__netsec_check(cfg, err, sizeof(err)) != SJE_OK ||
	    sje__netsec_open(cfg, &ns, err, sizeof(err)) != SJE_OK) {
		SJE_ERROR("%s", err);
		goto out;
	}

	// Keys are read before anything listens: a bad one stops the start.
	if (sje__auth_open(cfg, &auth, err, sizeof(err)) != SJE_OK) {
		SJE_ERROR("%s", err);
		goto out;
	}
	if (sje__auth_enabled(auth)) {
		SJE_INFO("authentication on: %zu API keys%s%s",
		    cfg->security.auth.n_api_keys,
		    cfg->security.auth.oauth.hs256_secret_env[0] != '\0'
		        ? ", HS256 tokens"
		        : "",
		    cfg->security.auth.oauth.rs256_public_key[0] != '\0'
		        ? ", RS256 tokens"
		        : "");
	} else {
		SJE_INFO("authentication off: no API key or OAuth key is "
		         "configured");
	}

	// Before the store and the doors open their descriptors; logged
	// only once the configuration passed its checks.
	fd_limit = raise_fd_limit();
	max_http = http_cap(cfg->http.max_connections, fd_limit);
	if (fd_limit == UINT32_MAX) {
		SJE_INFO("descriptor limit: unlimited; up to %u HTTP "
		         "connections",
		    max_http);
	} else {
		SJE_INFO("descriptor limit: %u; up to %u HTTP connections "
		         "(http.max_connections %u, %u descriptors kept for "
		         "the rest)",
		    fd_limit, max_http, cfg->http.max_connections,
		    SERVER_FD_RESERVE + SERVER_FD_REFUSING);
	}

	// The pub socket cannot check credentials: with authentication on,
	// it opens only where mutual TLS keeps strangers out (netsec.h).
	// Without it, events are read over the doors, with credentials.
	events_url[0] = '\0';
	if (!sje__netsec_events_ok(cfg, err, sizeof(err))) {
		SJE_INFO("%s", err);
	} else if ((e = sje__events_open(cfg->server.events_url,
	                sje__tls_url(cfg->server.events_url) ? ns.events
	                                                     : NULL,
	                &events, events_url, sizeof(events_url))) != SJE_OK) {
		SJE_ERROR("cannot listen for events on '%s': %s",
		    cfg->server.events_url,
		    e == SJE_EEXIST ? "address in use" : sje_strerror(e));
		goto out;
	}
	// SQLite: the store and the scheduler first, so that a coordinator
	// listens only once it can serve. PostgreSQL: the doors first,
	// since a coordinator that does not lead yet serves by handing its
	// calls on to the one that does (door/leader.h).
	if (!pg &&
	    ((e = open_store(cfg, NULL, &store)) != SJE_OK ||
	        open_sched(cfg, store, events, &hooks, &sched) != SJE_OK)) {
		goto out;
	}
	if ((e = sje__leader_open(cfg, events, &leader)) != SJE_OK) {
		SJE_ERROR("cannot start: %s", sje_strerror(e));
		goto out;
	}
	if (sched != NULL) {
		sje__leader_become(leader, sched);
	}
	static const ProtobufCServiceDescriptor *const services[] = {
		&sje__v1__coordinator__descriptor,
		&sje__v1__worker_hub__descriptor,
	};
	if ((e = sje__rpc_open(cfg->server.rpc_url,
	         sje__tls_url(cfg->server.rpc_url) ? ns.rpc : NULL, auth,
	         services, 2, sje__leader_post, leader, &rpc, rpc_url,
	         sizeof(rpc_url))) != SJE_OK) {
		SJE_ERROR("cannot listen for RPC on '%s': %s",
		    cfg->server.rpc_url,
		    e == SJE_EEXIST ? "address in use" : sje_strerror(e));
		goto out;
	}
	sje__gw_options gwo = {
		.listen            = cfg->http.listen,
		.max_body_bytes    = cfg->http.max_body_bytes,
		.header_timeout_ms = cfg->http.header_timeout_ms,
		.body_timeout_ms   = cfg->http.body_timeout_ms,
		.idle_timeout_ms   = cfg->http.idle_timeout_ms,
		.max_connections   = max_http,
		.metrics           = cfg->monitoring.metrics,
		.dashboard         = cfg->http.dashboard,
		.tls               = ns.https,
		.auth              = auth,
	};
	if ((e = sje__gw_open(&gwo, sje__leader_post, leader, &gw, http_url,
	         sizeof(http_url))) != SJE_OK) {
		SJE_ERROR("cannot listen for HTTP on '%s': %s",
		    cfg->http.listen,
		    e == SJE_EEXIST ? "address in use" : sje_strerror(e));
		goto out;
	}
	advertised(cfg->server.advertise_rpc_url, rpc_url, self_rpc,
	    sizeof(self_rpc));
	follower fol = { .sigs = &sigs,
		.leader        = leader,
		.self_rpc      = self_rpc,
		.cfg           = cfg,
		.rpc_url       = rpc_url,
		.events_url    = events_url,
		.http_url      = http_url };
	if (pg) {
		if ((e = open_store(cfg, &fol, &store)) != SJE_OK) {
			// A follower told to stop has stopped cleanly.
			rc = e == SJE_ECANCELED ? 0 : rc;
			goto out;
		}
		if (open_sched(cfg, store, events, &hooks, &sched) != SJE_OK) {
			goto out;
		}
		sje__leader_become(leader, sched);
	}
	write_endpoints(cfg->server.data_dir, rpc_url, events_url, http_url);
	SJE_INFO("sje-server %s ready: rpc %s, events %s, http %s, store "
	         "%s%s",
	    SJE_VERSION_STRING, rpc_url,
	    events_url[0] != '\0' ? events_url : "off", http_url,
	    pg ? "postgres" : cfg->server.data_dir, pg ? "" : "/sje.db");

	int sig = 0;
	sigwait(&sigs, &sig);
	SJE_INFO("stopping on signal %d", sig);
	rc = 0;

out:
	// Stop in reverse: no new calls reach the scheduler from either front
	// door; it answers the held ones and commits; the store closes (no
	// one else uses it); then the front doors close, their answers out,
	// under a watchdog (closing_watch).
	sje__gw_quiesce(gw);
	sje__rpc_quiesce(rpc);
	sje__sched_close(sched);
	sje__hooks_close(hooks); // after the last event, before the store
	sje__store_close(store); // nothing uses it now
	closing   cl = { .rc = rc };
	pthread_t watch;
	bool      watching = false;
	pthread_mutex_init(&cl.mtx, NULL);
	if (sje__cond_init_mono(&cl.cv) == SJE_OK) {
		watching =
		    pthread_create(&watch, NULL, closing_watch, &cl) == 0;
		if (!watching) {
			pthread_cond_destroy(&cl.cv);
		}
	}
	sje__leader_close(leader); // its calls out answered, before the doors
	sje__gw_close(gw);
	sje__rpc_close(rpc);
	sje__events_close(events);
	if (watching) {
		pthread_mutex_lock(&cl.mtx);
		cl.done = true;
		pthread_cond_signal(&cl.cv);
		pthread_mutex_unlock(&cl.mtx);
		pthread_join(watch, NULL);
		pthread_cond_destroy(&cl.cv);
	}
	pthread_mutex_destroy(&cl.mtx);
	sje__auth_close(auth); // after both front doors, which borrow it
	sje__netsec_close(&ns);
	if (rc == 0) {
		SJE_INFO("stopped cleanly");
	}
	sje__log_close();
	sje_config_free(cfg);
	return rc;
}
