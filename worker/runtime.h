// runtime.h — sje-worker's runtime: registration, fetching, slots,
// heartbeats and reports.
//
// sje__runtime is one worker's connection to its coordinator and the jobs
// it runs. Start it, wait for a signal (polling sje__runtime_failed), then
// stop it. Its own threads do all the work.
#ifndef SJE_WORKER_RUNTIME_H
#define SJE_WORKER_RUNTIME_H

#include <sje/client.h>

#include "config.h"
#include "plugin_host.h"

typedef struct sje__runtime_opts {
	const char   *server_url; // the coordinator's RPC URL
	const char   *name;       // the worker's name
	uint32_t      slots;      // jobs run at once (>= 1)
	const sje_kv *labels;     // borrowed until sje__runtime_start returns
	size_t        n_labels;
	// conn: TLS files (and credentials) for the connection, as from
	// sje_client_opts_from_config; its server_url and timeout_ms are
	// ignored. Borrowed until sje__runtime_start returns; NULL: none.
	const sje_client_opts *conn;
} sje__runtime_opts;

typedef struct sje__runtime sje__runtime;

// sje__runtime_start connects to opts->server_url and starts the worker's
// threads: they register (retrying while the coordinator is unreachable),
// then fetch and run jobs with the functions of plugins. plugins is
// borrowed and must outlive the runtime. On SJE_OK *out is the runtime
// (caller owns it: sje__runtime_stop). On failure errbuf (errlen bytes)
// holds one line. Call with SIGINT and SIGTERM blocked: its threads
// inherit the mask.
sje_err sje__runtime_start(const sje__runtime_opts *opts,
    const sje__plugins *plugins, sje__runtime **out, char *errbuf,
    size_t errlen);

// sje__runtime_failed is true when the runtime cannot go on (the
// coordinator refused the registration); it then writes the reason into
// buf (len bytes). Thread-safe.
bool sje__runtime_failed(sje__runtime *rt, char *buf, size_t len);

// sje__runtime_stop stops rt gracefully and frees it: it fetches and
// starts no more jobs, lets the running ones finish for up to grace_ms,
// then cancels the rest, reports every outcome it can (retrying an
// unreachable coordinator for a while) and closes the connection. Jobs it
// did not start, or interrupted, are handed back with Release (Fail
// "interrupted" when the coordinator does not serve Release). Accepts
// NULL.
void sje__runtime_stop(sje__runtime *rt, uint32_t grace_ms);

#endif // SJE_WORKER_RUNTIME_H
