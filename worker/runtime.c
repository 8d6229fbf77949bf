// runtime.c — sje-worker's runtime: it starts the threads, and stops
// them in order.
//
// Threads, each with one job and one module:
//
//   fetch      (fetch.c) registers (session.c), then long-polls Fetch for
//              as many jobs as there are free slots and queues what it
//              gets for the slots.
//   slot x N   (slots.c) takes a queued task, runs its function
//              (sje__task_run), turns it into an outcome and queues that
//              for the reporter.
//   heartbeat  (heartbeat.c) every heartbeat_ms sends the leased jobs and
//              their progress; the reply's `cancel` and `lost` set those
//              jobs' cancel flags.
//   reporter   (report.c) sends the queued outcomes in batches:
//              successes with Complete, failures with Fail, and jobs the
//              worker hands back with Release.
//
// Stopping (sje__runtime_stop): fetching stops, the jobs get a grace period
// to finish, then their cancel flags are set; the slots, heartbeat and
// reporter are stopped in that order so that leases stay alive while jobs
// run and every outcome is flushed. Jobs that did not start, or stopped
// because of the shutdown, are released: they run again at once elsewhere
// without the attempt counting.
//
// Locking: see runtime_int.h (rt->mtx guards the shared state; a task's
// own mutex may be taken under it, never the other way round; no lock is
// held while a task function runs or an RPC is in flight).
#include "runtime.h"

#include "fetch.h"
#include "heartbeat.h"
#include "report.h"
#include "runtime_int.h"
#include "slots.h"

#include "log.h"
#include "methods.h"
#include "task.h"
#include "util.h"

#include <sje/client.h>

#include <stdlib.h>
#include <string.h>

// While stopping, how long unanswered reports are retried (ms).
#define RT_FLUSH_MS 15000u

void
sje__rt_sleep(sje__runtime *rt, uint32_t ms, const bool *flag)
{
	int64_t deadline = sje_mono_ms() + ms;

	(void) pthread_mutex_lock(&rt->mtx);
	while ((flag == NULL || !*flag) && sje_mono_ms() < deadline) {
		sje__cond_wait_until(&rt->cv, &rt->mtx, deadline);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
}

bool
sje__rt_flag(sje__runtime *rt, const bool *flag)
{
	bool v;

	(void) pthread_mutex_lock(&rt->mtx);
	v = *flag;
	(void) pthread_mutex_unlock(&rt->mtx);
	return v;
}

// runtime_free frees what start built. The threads must have ended.
static void
runtime_free(sje__runtime *rt)
{
	size_t        i;
	sje_task     *t;
	sje__outcome *o;

	while ((t = rt->ledger.jobs) != NULL) { // only after a failed start
		rt->ledger.jobs = t->next;
		sje__task_free(t);
	}
	while ((o = rt->outq.head) != NULL) {
		rt->outq.head = o->next;
		sje__outcome_free(o);
	}
	sje_client_close(rt->client);
	if (rt->mtx_ok) {
		(void) pthread_cond_destroy(&rt->report_cv);
		(void) pthread_cond_destroy(&rt->slot_cv);
		(void) pthread_cond_destroy(&rt->cv);
		(void) pthread_mutex_destroy(&rt->mtx);
	}
	for (i = 0; i < rt->n_labels; i++) {
		free(rt->labels[i].key);
		free(rt->labels[i].value);
	}
	free(rt->labels);
	free(rt->label_ptrs);
	free(rt->functions);
	free(rt->functions_text);
	free(rt->slot_thrs);
	free(rt->name);
	free(rt->server_url);
	free(rt->cert_file);
	free(rt->key_file);
	free(rt);
}

// runtime_init_sync initialises the lock and the condition variables.
static sje_err
runtime_init_sync(sje__runtime *rt)
{
	if (pthread_mutex_init(&rt->mtx, NULL) != 0) {
		return SJE_ENOMEM;
	}
	if (sje__cond_init_mono(&rt->cv) != SJE_OK) {
		goto fail_cv;
	}
	if (sje__cond_init_mono(&rt->slot_cv) != SJE_OK) {
		goto fail_slot;
	}
	if (sje__cond_init_mono(&rt->report_cv) != SJE_OK) {
		goto fail_report;
	}
	rt->mtx_ok = true;
	return SJE_OK;

fail_report:
	(void) pthread_cond_destroy(&rt->slot_cv);
fail_slot:
	(void) pthread_cond_destroy(&rt->cv);
fail_cv:
	(void) pthread_mutex_destroy(&rt->mtx);
	return SJE_ENOMEM;
}

// runtime_init_lists copies the function names and labels for Register.
static sje_err
runtime_init_lists(sje__runtime *rt, const sje__runtime_opts *opts)
{
	size_t i;
	size_t len = 1;

	rt->n_functions = sje__plugins_count(rt->plugins);
	if (rt->n_functions > 0 &&
	    (rt->functions = calloc(rt->n_functions, sizeof(char *))) ==
	        NULL) {
		return SJE_ENOMEM;
	}
	for (i = 0; i < rt->n_functions; i++) {
		// protobuf-c wants char *; Register only reads it.
		rt->functions[i] =
		    (char *) sje__plugins_at(rt->plugins, i)->name;
		len += strlen(rt->functions[i]) + 2;
	}
	if ((rt->functions_text = calloc(1, len)) == NULL) {
		return SJE_ENOMEM;
	}
	for (i = 0; i < rt->n_functions; i++) {
		if (i > 0) {
			strcat(rt->functions_text, ", ");
		}
		strcat(rt->functions_text, rt->functions[i]);
	}

	if (opts->n_labels == 0) {
		return SJE_OK;
	}
	rt->labels     = calloc(opts->n_labels, sizeof(*rt->labels));
	rt->label_ptrs = calloc(opts->n_labels, sizeof(*rt->label_ptrs));
	if (rt->labels == NULL || rt->label_ptrs == NULL) {
		return SJE_ENOMEM;
	}
	for (i = 0; i < opts->n_labels; i++) {
		Sje__V1__RegisterRequest__LabelsEntry e =
		    SJE__V1__REGISTER_REQUEST__LABELS_ENTRY__INIT;
		rt->labels[i]       = e;
		rt->labels[i].key   = NULL;
		rt->labels[i].value = NULL;
		rt->n_labels        = i + 1;
		if ((rt->labels[i].key = sje__strdup(opts->labels[i].key)) ==
		        NULL ||
		    (rt->labels[i].value =
		            sje__strdup(opts->labels[i].value)) == NULL) {
			return SJE_ENOMEM;
		}
		rt->label_ptrs[i] = &rt->labels[i];
	}
	return SJE_OK;
}

sje_err
sje__runtime_start(const sje__runtime_opts *opts, const sje__plugins *plugins,
    sje__runtime **out, char *errbuf, size_t errlen)
{
	sje__runtime   *rt;
	sje_client_opts copts;
	sje_err         rv;
	uint32_t        i;
	int             prv;

	if (!sje__methods_check()) {
		sje__snprintf(errbuf, errlen,
		    "internal error: the services' methods are not in "
		    "the order this worker was written for");
		return SJE_EINTERNAL;
	}
	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		sje__snprintf(errbuf, errlen, "out of memory");
		return SJE_ENOMEM;
	}
	rt->plugins = plugins;
	rt->slots   = opts->slots;
	if ((rv = runtime_init_sync(rt)) != SJE_OK ||
	    (rt->name = sje__strdup(opts->name)) == NULL ||
	    (rt->server_url = sje__strdup(opts->server_url)) == NULL ||
	    (rt->slot_thrs = calloc(opts->slots, sizeof(pthread_t))) == NULL ||
	    (rv = runtime_init_lists(rt, opts)) != SJE_OK) {
		sje__snprintf(errbuf, errlen, "out of memory");
		runtime_free(rt);
		return SJE_ENOMEM;
	}

	memset(&copts, 0, sizeof(copts));
	if (opts->conn != NULL) {
		copts            = *opts->conn; // TLS files and credentials
		const char *cert = opts->conn->cert_file;
		const char *key  = opts->conn->key_file;
		if (cert != NULL && cert[0] != '\0' &&
		    ((rt->cert_file = sje__strdup(cert)) == NULL ||
		        (key != NULL && key[0] != '\0' &&
		            (rt->key_file = sje__strdup(key)) == NULL))) {
			sje__snprintf(errbuf, errlen, "out of memory");
			runtime_free(rt);
			return SJE_ENOMEM;
		}
	}
	copts.server_url = opts->server_url;
	copts.timeout_ms = RT_REPORT_TIMEOUT_MS; // every call names its own
	if ((rv = sje_client_open(&copts, &rt->client)) != SJE_OK) {
		sje__snprintf(errbuf, errlen, "cannot use server URL %s: %s",
		    opts->server_url, sje_strerror(rv));
		runtime_free(rt);
		return rv;
	}

	// Start consumers before producers: reporter, slots, heartbeat, fetch.
	if ((prv = pthread_create(
	         &rt->report_thr, NULL, sje__report_main, rt)) != 0) {
		goto fail_thread;
	}
	rt->report_started = true;
	for (i = 0; i < rt->slots; i++) {
		if ((prv = pthread_create(
		         &rt->slot_thrs[i], NULL, sje__slot_main, rt)) != 0) {
			goto fail_thread;
		}
		rt->n_slot_thrs++;
	}
	if ((prv = pthread_create(
	         &rt->hb_thr, NULL, sje__heartbeat_main, rt)) != 0) {
		goto fail_thread;
	}
	rt->hb_started = true;
	if ((prv = pthread_create(
	         &rt->fetch_thr, NULL, sje__fetch_main, rt)) != 0) {
		goto fail_thread;
	}
	rt->fetch_started = true;
	*out              = rt;
	return SJE_OK;

fail_thread:
	sje__snprintf(errbuf, errlen, "cannot start a thread: %s",
	    sje_strerror(sje__errno_err(prv)));
	// No fetch thread: no job was taken. Mark fetching as done so that
	// the slots end.
	(void) pthread_mutex_lock(&rt->mtx);
	rt->fetch_done = true;
	(void) pthread_mutex_unlock(&rt->mtx);
	sje__runtime_stop(rt, 0);
	return SJE_EIO;
}

bool
sje__runtime_failed(sje__runtime *rt, char *buf, size_t len)
{
	bool failed;

	(void) pthread_mutex_lock(&rt->mtx);
	failed = rt->failed;
	if (failed) {
		sje__snprintf(buf, len, "%s", rt->fail_msg);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
	return failed;
}

void
sje__runtime_stop(sje__runtime *rt, uint32_t grace_ms)
{
	int64_t   deadline;
	sje_task *t;
	uint32_t  i;

	if (rt == NULL) {
		return;
	}

	// 1. Fetch no more and start nothing more (the slots hand queued
	//    jobs back); give the running jobs the grace period, then
	//    cancel what still runs.
	(void) pthread_mutex_lock(&rt->mtx);
	rt->stopping = true;
	(void) pthread_cond_broadcast(&rt->cv);
	(void) pthread_cond_broadcast(
	    &rt->report_cv); // nothing is carried now
	if (rt->ledger.busy > 0) {
		SJE_INFO("stopping: waiting up to %u ms for %u running jobs",
		    (unsigned) grace_ms, (unsigned) rt->ledger.busy);
	}
	deadline = sje_mono_ms() + grace_ms;
	while (rt->ledger.busy > 0 && sje_mono_ms() < deadline) {
		sje__cond_wait_until(&rt->cv, &rt->mtx, deadline);
	}
	// The reports get RT_FLUSH_MS from the last job's end (or the grace
	// period's), however long the fetch and the heartbeat then take to
	// end their calls.
	rt->flush_deadline_ms = sje_mono_ms() + RT_FLUSH_MS;
	while ((rt->ledger.busy > 0 || !rt->fetch_done) &&
	    sje_mono_ms() < deadline) {
		sje__cond_wait_until(&rt->cv, &rt->mtx, deadline);
	}
	for (t = rt->ledger.jobs; t != NULL; t = t->next) {
		if (sje__task_cancel(t, SJE__CANCEL_SHUTDOWN) && t->started) {
			SJE_LOG_JOB(SJE_LOG_WARN, t->task_id,
			    "grace period over: cancelling %s", t->function);
		}
	}
	(void) pthread_mutex_unlock(&rt->mtx);

	// 2. Wait for the fetch (at most its long poll) and the slots (their
	//    tasks were told to stop).
	if (rt->fetch_started) {
		(void) pthread_join(rt->fetch_thr, NULL);
	}
	for (i = 0; i < rt->n_slot_thrs; i++) {
		(void) pthread_join(rt->slot_thrs[i], NULL);
	}

	// 3. No job runs any more: stop the heartbeat, then flush the
	//    reports.
	(void) pthread_mutex_lock(&rt->mtx);
	rt->hb_stop = true;
	(void) pthread_cond_broadcast(&rt->cv);
	(void) pthread_mutex_unlock(&rt->mtx);
	if (rt->hb_started) {
		(void) pthread_join(rt->hb_thr, NULL);
	}
	(void) pthread_mutex_lock(&rt->mtx);
	rt->report_stop = true;
	(void) pthread_cond_broadcast(&rt->report_cv);
	(void) pthread_cond_broadcast(&rt->cv);
	(void) pthread_mutex_unlock(&rt->mtx);
	if (rt->report_started) {
		(void) pthread_join(rt->report_thr, NULL);
	}

	SJE_INFO("worker %s stopped", rt->name);
	runtime_free(rt);
}
