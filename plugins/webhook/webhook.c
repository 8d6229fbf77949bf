// webhook.c — the `webhook` plugin: POSTs chosen job events and alerts, as
// JSON, to an HTTP(S) receiver.
//
// sje-server only (roles: coordinator). For every committed job event whose
// state is listed in `on`, and for every alert whose notifier is this
// plugin (unless `alerts` is false), the hook copies the JSON body (the
// host's event_json or alert_json; rendered here for a host too old to
// give it) into a bounded FIFO and returns: a hook never waits for the
// network. One delivery thread, started by init and joined by fini, POSTs
// the bodies in order with nng's HTTP client, one connection per request:
//
//   2xx                          delivered
//   408, 429, 5xx, no answer     retried after a back-off drawn uniformly
//   (refused, timed out, TLS)    from [initial_backoff_ms,
//                                min(max_backoff_ms, initial_backoff_ms *
//                                2^attempts)], up to max_attempts, then
//                                dropped with a line naming the item
//   anything else (4xx, 3xx)     dropped at once: retrying cannot help
//
// Head of line: while the oldest item is retried, later ones wait. When
// the queue holds queue_max items, a new one pushes out the oldest (even
// the one being retried); an overflow episode is logged once, with its
// count, when the queue has room again. fini stops taking items, goes on
// delivering (and retrying) for up to drain_ms, cancels what is in flight
// at that deadline and drops the rest with one line.
//
// Logs never show header values, the URL's path or query (they may hold a
// token): only scheme, host and port.
//
// Locking: options, the URL and the nng client are read-only after init.
// mtx guards the queue, the stop flag and deadline and aio_done; the
// delivery thread waits on cv for items, for fini, for the end of its
// request and for its head item being pushed out. No lock is held while
// logging or doing I/O.
#include <sje_plugin.h>

#include "clock.h"
#include "plugin_rt.h"
#include "util.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define WH_VERSION "1.0.0"
#define WH_USER_AGENT "sje-webhook/1.0"
#define WH_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#define WH_MSG_BYTES 1024 // longest log line we format

#define WH_STATE_LIST_BYTES 160 // every state's name, for messages

// Headers the plugin owns: nng or the request itself depends on them.
static const char *const wh_reserved[] = { "Host", "Content-Length",
	"Connection", "Transfer-Encoding" };

// wh_header is one extra header of the options (both strings owned).
typedef struct wh_header {
	char *name;
	char *value; // a secret, perhaps: never logged
} wh_header;

// wh_item is one body to POST, in one allocation with its strings.
typedef struct wh_item {
	struct wh_item *next;
	bool            busy;     // the delivery thread works on it (mtx)
	bool            dropped;  // pushed out while busy: the thread frees it
	uint32_t        attempts; // made so far (delivery thread)
	bool            alert;    // X-SJE-Kind: alert, else event
	uint64_t        seq;      // X-SJE-Seq, for an event
	const char     *task_id;  // an event's job, for log_job; else NULL
	char            what[128]; // "event seq 42 (FAILED)", for logs
	size_t          len;       // of body, in bytes
	char            body[];    // then task_id
} wh_item;

// wh_outcome is what one POST came to.
typedef enum wh_outcome {
	WH_DELIVERED, // 2xx
	WH_REFUSED,   // an answer that retrying would not change
	WH_RETRY,     // no answer, or 408, 429 or 5xx
} wh_outcome;

typedef struct wh_state {
	const sje_host_api *host;

	// Options: read-only after init.
	nng_url   *url;
	char      *uri;        // the request-URI: path and query
	char       where[160]; // "https://host:port", for logs
	uint32_t   on;         // bit s: events of state s (plugin_rt.h)
	bool       alerts;
	uint32_t   timeout_ms;
	uint32_t   max_attempts;
	uint32_t   initial_backoff_ms;
	uint32_t   max_backoff_ms;
	uint32_t   queue_max; // items
	uint32_t   drain_ms;
	wh_header *headers;
	size_t     n_headers;

	// The delivery thread's, after init.
	nng_http_client *client;
	nng_tls_config  *tls;     // https only
	nng_aio         *aio;     // the request in flight
	uint64_t         rng;     // xorshift64* state for the jitter
	bool             failing; // the last attempt got no usable answer

	pthread_mutex_t mtx;
	pthread_cond_t  cv;
	wh_item        *head; // oldest first (mtx)
	wh_item        *tail;
	size_t          n;           // items queued (mtx)
	uint64_t        overflow;    // pushed out in this episode (mtx)
	bool            aio_done;    // the request in flight ended (mtx)
	bool            stopping;    // fini was called (mtx)
	int64_t         deadline_ms; // with stopping: end of the drain (mtx)
	pthread_t       thread;
	bool            started; // thread runs: fini joins it
} wh_state;

// wh_log writes a line through the host, tagged with task_id when it is
// not NULL.
static void wh_log(const wh_state *st, const char *task_id,
    sje_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
wh_log(const wh_state *st, const char *task_id, sje_log_level level,
    const char *fmt, ...)
{
	char    msg[WH_MSG_BYTES];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (task_id != NULL &&
	    st->host->size >=
	        offsetof(sje_host_api, log_job) + sizeof(st->host->log_job) &&
	    st->host->log_job != NULL) {
		st->host->log_job(task_id, level, msg);
	} else {
		st->host->log(NULL, level, msg);
	}
}

// wh_wait waits on cv (mtx held) until signalled, or until the monotonic
// time until_ms when it is not negative.
static void
wh_wait(wh_state *st, int64_t until_ms)
{
	if (until_ms < 0) {
		(void) pthread_cond_wait(&st->cv, &st->mtx);
		return;
	}
	(void) sje__cond_wait_until(&st->cv, &st->mtx, until_ms);
}

// wh_past_deadline is true once fini's drain time is over (mtx held).
static bool
wh_past_deadline(const wh_state *st)
{
	return st->stopping && sje_mono_ms() >= st->deadline_ms;
}

// ---- bodies and the queue -----------------------------------------------

// wh_rfc3339 writes ms (Unix milliseconds) as "2026-11-27T22:00:00.131Z".
static void
wh_rfc3339(int64_t ms, char *buf, size_t len)
{
	time_t    s = (time_t) (ms / 1000);
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		(void) snprintf(buf, len, "1970-01-01T00:00:00");
	}
	(void) snprintf(buf + strlen(buf), len - strlen(buf), ".%03dZ",
	    (int) (ms % 1000 + 1000) % 1000);
}

// WH_S is s, or "" for NULL.
#define WH_S(s) ((s) != NULL ? (s) : "")

// wh_dump renders j (taken) as compact JSON text; NULL when out of memory.
static char *
wh_dump(json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return text;
}

// wh_number is v as a JSON number, or null when it is not finite.
static json_t *
wh_number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

// wh_render_event renders ev as GET /events does, for a host that gives
// no event_json. Caller frees; NULL when out of memory.
static char *
wh_render_event(const sje_job_event *ev)
{
	char    at[40];
	json_t *error = json_null();

	wh_rfc3339(ev->at_ms, at, sizeof(at));
	if (ev->error_type != NULL) {
		error = json_pack("{s:s,s:s}", "type", ev->error_type,
		    "message", WH_S(ev->error_message));
	}
	return wh_dump(json_pack("{s:I,s:s,s:s,s:s,s:I,s:s,s:s,s:o}", "seq",
	    (json_int_t) ev->seq, "task_id", WH_S(ev->task_id), "function",
	    WH_S(ev->function), "state", WH_S(ev->state), "attempt",
	    (json_int_t) ev->attempt, "worker", WH_S(ev->worker), "at", at,
	    "error", error));
}

// wh_render_alert renders a as the host's alert_json does, for a host
// that gives none. Caller frees; NULL when out of memory.
static char *
wh_render_alert(const sje_alert *a)
{
	return wh_dump(json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:s}", "alert",
	    WH_S(a->name), "status", WH_S(a->status), "when", WH_S(a->when),
	    "metric", WH_S(a->metric), "value", wh_number(a->value),
	    "threshold", wh_number(a->threshold), "at_ms",
	    (json_int_t) a->at_ms, "notify", "webhook"));
}

// wh_item_new copies body and task_id (may be NULL) into a new item.
// NULL when out of memory.
static wh_item *
wh_item_new(const char *body, const char *task_id)
{
	size_t   len  = strlen(body);
	size_t   tlen = task_id != NULL ? strlen(task_id) + 1 : 0;
	wh_item *it   = malloc(sizeof(*it) + len + 1 + tlen);

	if (it == NULL) {
		return NULL;
	}
	memset(it, 0, sizeof(*it));
	it->len = len;
	memcpy(it->body, body, len + 1);
	if (task_id != NULL) {
		memcpy(it->body + len + 1, task_id, tlen);
		it->task_id = it->body + len + 1;
	}
	return it;
}

// wh_enqueue appends it (taken) to the queue, pushing out the oldest item
// when the queue is full, and wakes the delivery thread.
static void
wh_enqueue(wh_state *st, wh_item *it)
{
	wh_item *old;

	pthread_mutex_lock(&st->mtx);
	if (st->stopping) { // no hook runs during fini; just in case
		pthread_mutex_unlock(&st->mtx);
		free(it);
		return;
	}
	if (st->tail != NULL) {
		st->tail->next = it;
	} else {
		st->head = it;
	}
	st->tail = it;
	if (++st->n > st->queue_max) {
		old      = st->head;
		st->head = old->next;
		st->n--;
		st->overflow++;
		if (old->busy) {
			old->dropped = true; // the delivery thread frees it
		} else {
			free(old);
		}
	}
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mtx);
}

// wh_on_event queues the event when its state is one of `on`.
static void
wh_on_event(void *state, const sje_job_event *ev)
{
	wh_state   *st   = state;
	char       *made = NULL;
	const char *body = NULL;
	wh_item    *it;
	int         s;

	if (ev == NULL || ev->state == NULL) {
		return;
	}
	s = sje__plugin_state_find(ev->state);
	if (s == 0 || (st->on & (1u << s)) == 0) {
		return;
	}
	if (ev->size >=
	    offsetof(sje_job_event, event_json) + sizeof(ev->event_json)) {
		body = ev->event_json;
	}
	if (body == NULL) {
		body = made = wh_render_event(ev);
	}
	if (body == NULL || (it = wh_item_new(body, ev->task_id)) == NULL) {
		free(made);
		wh_log(st, ev->task_id, SJE_LOG_WARN,
		    "webhook: out of memory: event seq %llu not posted",
		    (unsigned long long) ev->seq);
		return;
	}
	free(made);
	it->seq = ev->seq;
	(void) snprintf(it->what, sizeof(it->what), "event seq %llu (%s)",
	    (unsigned long long) ev->seq, ev->state);
	wh_enqueue(st, it);
}

// wh_on_alert queues the alert, unless the alerts option is false.
static void
wh_on_alert(void *state, const sje_alert *a)
{
	wh_state   *st   = state;
	char       *made = NULL;
	const char *body = NULL;
	wh_item    *it;

	if (a == NULL || !st->alerts) {
		return;
	}
	if (a->size >=
	    offsetof(sje_alert, alert_json) + sizeof(a->alert_json)) {
		body = a->alert_json;
	}
	if (body == NULL) {
		body = made = wh_render_alert(a);
	}
	if (body == NULL || (it = wh_item_new(body, NULL)) == NULL) {
		free(made);
		wh_log(st, NULL, SJE_LOG_WARN,
		    "webhook: out of memory: alert %s not posted",
		    WH_S(a->name));
		return;
	}
	free(made);
	it->alert = true;
	(void) snprintf(it->what, sizeof(it->what), "alert %s (%s)",
	    WH_S(a->name), WH_S(a->status));
	wh_enqueue(st, it);
}

// ---- delivery -----------------------------------------------------------

// wh_aio_cb runs on an nng thread when the request in flight ends.
static void
wh_aio_cb(void *arg)
{
	wh_state *st = arg;

	pthread_mutex_lock(&st->mtx);
	st->aio_done = true;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mtx);
}

// wh_backoff_ms draws the wait before the next attempt, after attempts
// attempts: uniform in [initial, min(max, initial * 2^attempts)].
static uint32_t
wh_backoff_ms(wh_state *st, uint32_t attempts)
{
	uint64_t cap = st->initial_backoff_ms;
	uint64_t span;
	uint32_t i;

	for (i = 0; i < attempts && cap < st->max_backoff_ms; i++) {
		cap *= 2;
	}
	if (cap > st->max_backoff_ms) {
		cap = st->max_backoff_ms;
	}
	st->rng ^= st->rng >> 12; // xorshift64*
	st->rng ^= st->rng << 25;
	st->rng ^= st->rng >> 27;
	span = cap - st->initial_backoff_ms + 1;
	return st->initial_backoff_ms +
	    (uint32_t) ((st->rng * 2685821657736338717ull) % span);
}

// wh_request builds the POST of it into *reqp (caller frees). The body is
// borrowed from it, which outlives the request.
static int
wh_request(const wh_state *st, const wh_item *it, nng_http_req **reqp)
{
	nng_http_req *req;
	char          seq[24];
	size_t        i;
	int           rv;

	if ((rv = nng_http_req_alloc(&req, st->url)) != 0) {
		return rv;
	}
	(void) snprintf(
	    seq, sizeof(seq), "%llu", (unsigned long long) it->seq);
	if ((rv = nng_http_req_set_method(req, "POST")) != 0 ||
	    (rv = nng_http_req_set_uri(req, st->uri)) != 0 ||
	    (rv = nng_http_req_set_header(
	         req, "Content-Type", "application/json")) != 0 ||
	    (rv = nng_http_req_set_header(req, "User-Agent", WH_USER_AGENT)) !=
	        0 ||
	    (rv = nng_http_req_set_header(
	         req, "X-SJE-Kind", it->alert ? "alert" : "event")) != 0 ||
	    (!it->alert &&
	        (rv = nng_http_req_set_header(req, "X-SJE-Seq", seq)) != 0)) {
		nng_http_req_free(req);
		return rv;
	}
	for (i = 0; i < st->n_headers; i++) {
		if ((rv = nng_http_req_set_header(req, st->headers[i].name,
		         st->headers[i].value)) != 0) {
			nng_http_req_free(req);
			return rv;
		}
	}
	// Sets Content-Length too.
	if ((rv = nng_http_req_set_data(req, it->body, it->len)) != 0) {
		nng_http_req_free(req);
		return rv;
	}
	*reqp = req;
	return 0;
}

// wh_post makes one attempt to POST it and says what came of it; why gets
// "HTTP 503" or nng's reason. Called without mtx; waits for the answer,
// and cancels the request once fini's drain time is over.
static wh_outcome
wh_post(wh_state *st, const wh_item *it, char *why, size_t whylen)
{
	nng_http_req *req       = NULL;
	nng_http_res *res       = NULL;
	bool          cancelled = false;
	uint16_t      code;
	int           rv;

	if ((rv = wh_request(st, it, &req)) != 0 ||
	    (rv = nng_http_res_alloc(&res)) != 0) {
		nng_http_req_free(req);
		(void) sje__snprintf(why, whylen, "%s", nng_strerror(rv));
		return WH_RETRY;
	}
	pthread_mutex_lock(&st->mtx);
	st->aio_done = false;
	pthread_mutex_unlock(&st->mtx);
	nng_aio_set_timeout(st->aio, (nng_duration) st->timeout_ms);
	nng_http_client_transact(st->client, req, res, st->aio);

	pthread_mutex_lock(&st->mtx);
	while (!st->aio_done) {
		if (!cancelled && wh_past_deadline(st)) {
			cancelled = true;
			pthread_mutex_unlock(&st->mtx);
			nng_aio_cancel(st->aio); // wh_aio_cb takes mtx
			pthread_mutex_lock(&st->mtx);
			continue;
		}
		wh_wait(st, st->stopping && !cancelled ? st->deadline_ms : -1);
	}
	pthread_mutex_unlock(&st->mtx);
	nng_aio_wait(st->aio); // until wh_aio_cb has returned

	if ((rv = nng_aio_result(st->aio)) == NNG_ECRYPTO ||
	    rv == NNG_EPEERAUTH) {
		// What a certificate of another CA or name gives.
		(void) sje__snprintf(why, whylen,
		    "TLS handshake failed: %s; check ca_file and server_name",
		    nng_strerror(rv));
		code = 0;
	} else if (rv != 0) {
		(void) sje__snprintf(why, whylen, "%s", nng_strerror(rv));
		code = 0;
	} else {
		code = nng_http_res_get_status(res);
		(void) sje__snprintf(why, whylen, "HTTP %u", (unsigned) code);
	}
	nng_http_req_free(req);
	nng_http_res_free(res);
	if (rv != 0 || code == 408 || code == 429 || code >= 500) {
		return WH_RETRY;
	}
	return code >= 200 && code < 300 ? WH_DELIVERED : WH_REFUSED;
}

// wh_log_overflow logs the end of an overflow episode in which n items
// (if any) were pushed out of a full queue.
static void
wh_log_overflow(const wh_state *st, uint64_t n)
{
	if (n > 0) {
		wh_log(st, NULL, SJE_LOG_WARN,
		    "webhook: queue full (queue_max %u): dropped the %llu "
		    "oldest item%s",
		    (unsigned) st->queue_max, (unsigned long long) n,
		    n == 1 ? "" : "s");
	}
}

// wh_report logs how the head item ended (out, why), and an overflow
// episode that ended with it (overflow items pushed out).
static void
wh_report(wh_state *st, const wh_item *it, wh_outcome out, const char *why,
    uint64_t overflow)
{
	if (out != WH_RETRY && st->failing) {
		st->failing = false;
		wh_log(st, NULL, SJE_LOG_INFO,
		    "webhook: %s answers again (%s)", st->where, why);
	}
	switch (out) {
	case WH_DELIVERED:
		wh_log(st, it->task_id, SJE_LOG_DEBUG,
		    "webhook: %s delivered (%s)", it->what, why);
		break;
	case WH_REFUSED:
		wh_log(st, it->task_id, SJE_LOG_WARN,
		    "webhook: %s refused by %s with %s; dropped without "
		    "retrying",
		    it->what, st->where, why);
		break;
	case WH_RETRY:
		wh_log(st, it->task_id, SJE_LOG_WARN,
		    "webhook: %s dropped after %u attempts (last: %s)",
		    it->what, (unsigned) it->attempts, why);
		break;
	}
	wh_log_overflow(st, overflow);
}

// wh_run is the delivery thread: it POSTs the head of the queue until it
// is delivered, refused or out of attempts, then the next one; after fini
// it drains until the deadline and drops what is left.
static void *
wh_run(void *arg)
{
	wh_state *st = arg;
	wh_item  *it;
	uint64_t  overflow;
	size_t    left = 0;

	pthread_mutex_lock(&st->mtx);
	for (;;) {
		wh_outcome out;
		char       why[160];
		int64_t    until;
		bool       was_stopping;

		while (st->head == NULL && !st->stopping) {
			wh_wait(st, -1);
		}
		if (st->head == NULL || wh_past_deadline(st)) {
			break;
		}
		it       = st->head;
		it->busy = true; // now only we free it
		pthread_mutex_unlock(&st->mtx);
		out = wh_post(st, it, why, sizeof(why));
		pthread_mutex_lock(&st->mtx);
		if (it->dropped) { // pushed out meanwhile, and counted
			free(it);
			continue;
		}
		it->attempts++;
		if (out == WH_RETRY && wh_past_deadline(st)) {
			continue; // cancelled at the end of the drain: dropped
		}
		if (out != WH_RETRY || it->attempts >= st->max_attempts) {
			st->head = it->next;
			if (st->head == NULL) {
				st->tail = NULL;
			}
			st->n--;
			overflow     = st->overflow; // there is room again
			st->overflow = 0;
			pthread_mutex_unlock(&st->mtx);
			wh_report(st, it, out, why, overflow);
			free(it);
			pthread_mutex_lock(&st->mtx);
			continue;
		}

		pthread_mutex_unlock(&st->mtx);
		if (!st->failing) {
			st->failing = true;
			wh_log(st, it->task_id, SJE_LOG_WARN,
			    "webhook: cannot deliver %s to %s (%s); retrying "
			    "with back-off",
			    it->what, st->where, why);
		} else {
			wh_log(st, it->task_id, SJE_LOG_DEBUG,
			    "webhook: %s: attempt %u failed (%s)", it->what,
			    (unsigned) it->attempts, why);
		}
		until = sje_mono_ms() + wh_backoff_ms(st, it->attempts);
		pthread_mutex_lock(&st->mtx);
		// Wait, but wake at once when fini comes or it is pushed out;
		// while draining, not past the deadline.
		if (st->stopping && st->deadline_ms < until) {
			until = st->deadline_ms;
		}
		was_stopping = st->stopping;
		while (!it->dropped && st->stopping == was_stopping &&
		    sje_mono_ms() < until) {
			wh_wait(st, until);
		}
		if (it->dropped) {
			free(it);
		}
	}
	while ((it = st->head) != NULL) {
		st->head = it->next;
		free(it);
		left++;
	}
	st->tail     = NULL;
	st->n        = 0;
	overflow     = st->overflow;
	st->overflow = 0;
	pthread_mutex_unlock(&st->mtx);
	wh_log_overflow(st, overflow);
	if (left > 0) {
		wh_log(st, NULL, SJE_LOG_WARN,
		    "webhook: stopping: dropped %zu item%s not delivered "
		    "to %s within drain_ms (%u ms)",
		    left, left == 1 ? "" : "s", st->where,
		    (unsigned) st->drain_ms);
	}
	return NULL;
}

// ---- options ------------------------------------------------------------

// wh_opt_u32 reads an integer option in [min, max] into *out.
static int
wh_opt_u32(const json_t *v, const char *key, uint32_t min, uint32_t max,
    uint32_t *out, char *err, size_t errlen)
{
	json_int_t i;

	if (!json_is_integer(v) || (i = json_integer_value(v)) < min ||
	    i > max) {
		(void) sje__snprintf(err, errlen,
		    "options.%s: expected an integer from %u to %u", key,
		    (unsigned) min, (unsigned) max);
		return -1;
	}
	*out = (uint32_t) i;
	return 0;
}

// wh_opt_on reads the `on` option: a list of state names.
static int
wh_opt_on(wh_state *st, const json_t *v, char *err, size_t errlen)
{
	size_t  i;
	int     s;
	json_t *e;
	char    list[WH_STATE_LIST_BYTES];

	sje__plugin_state_list(list, sizeof(list));
	if (!json_is_array(v)) {
		(void) sje__snprintf(err, errlen,
		    "options.on: expected a list of states (%s)", list);
		return -1;
	}
	st->on = 0;
	json_array_foreach (v, i, e) {
		s = sje__plugin_state_find(json_string_value(e));
		if (s == 0) {
			(void) sje__snprintf(err, errlen,
			    "options.on[%zu]: '%.64s' is not a state (one "
			    "of %s)",
			    i, json_is_string(e) ? json_string_value(e) : "?",
			    list);
			return -1;
		}
		st->on |= 1u << s;
	}
	return 0;
}

// wh_token_ok is true for an HTTP header name (an RFC 9110 token).
static bool
wh_token_ok(const char *s)
{
	const char *c;

	for (c = s; *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		        (*c >= '0' && *c <= '9') ||
		        strchr("!#$%&'*+-.^_`|~", *c) != NULL)) {
			return false;
		}
	}
	return c != s;
}

// wh_opt_headers reads `headers` (from_env false: name -> value) or
// `headers_env` (from_env true: name -> environment variable) into
// st->headers. Values are checked, never shown.
static int
wh_opt_headers(wh_state *st, const char *key, const json_t *map, bool from_env,
    char *err, size_t errlen)
{
	const char *name;
	json_t     *v;
	wh_header  *h;
	size_t      i;

	if (!json_is_object(map)) {
		(void) sje__snprintf(err, errlen,
		    "options.%s: expected a mapping of header "
		    "names to %s",
		    key, from_env ? "environment variable names" : "strings");
		return -1;
	}
	if (json_object_size(map) == 0) {
		return 0;
	}
	h = realloc(
	    st->headers, (st->n_headers + json_object_size(map)) * sizeof(*h));
	if (h == NULL) {
		(void) sje__snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->headers = h;
	json_object_foreach ((json_t *) map, name, v) {
		const char *value = json_string_value(v);

		if (!wh_token_ok(name)) {
			(void) sje__snprintf(err, errlen,
			    "options.%s: '%.64s' is not a valid header name",
			    key, name);
			return -1;
		}
		for (i = 0; i < sizeof(wh_reserved) / sizeof(wh_reserved[0]);
		     i++) {
			if (strcasecmp(name, wh_reserved[i]) == 0) {
				(void) sje__snprintf(err, errlen,
				    "options.%s.%s: set by the plugin itself",
				    key, name);
				return -1;
			}
		}
		for (i = 0; i < st->n_headers; i++) {
			if (strcasecmp(name, st->headers[i].name) == 0) {
				(void) sje__snprintf(err, errlen,
				    "options.%s.%s: given twice (headers and "
				    "headers_env)",
				    key, name);
				return -1;
			}
		}
		if (!json_is_string(v) ||
		    strlen(value) != json_string_length(v)) {
			(void) sje__snprintf(err, errlen,
			    "options.%s.%s: expected %s", key, name,
			    from_env ? "the name of an environment variable"
			             : "a string");
			return -1;
		}
		if (from_env && (value = getenv(value)) == NULL) {
			// init runs before the host starts threads
			(void) sje__snprintf(err, errlen,
			    "options.%s.%s: environment variable %.64s is not "
			    "set",
			    key, name, json_string_value(v));
			return -1;
		}
		if (strpbrk(value, "\r\n") != NULL) {
			(void) sje__snprintf(err, errlen,
			    "options.%s.%s: the value holds a line break", key,
			    name);
			return -1;
		}
		h = &st->headers[st->n_headers];
		if ((h->name = strdup(name)) == NULL ||
		    (h->value = strdup(value)) == NULL) {
			free(h->name);
			(void) sje__snprintf(err, errlen, "out of memory");
			return -1;
		}
		st->n_headers++;
	}
	return 0;
}

// wh_opt_url parses and checks the url option.
static int
wh_opt_url(wh_state *st, const json_t *v, char *err, size_t errlen)
{
	const nng_url *u;
	size_t         n;

	if (!json_is_string(v)) {
		(void) sje__snprintf(
		    err, errlen, "options.url: expected a string");
		return -1;
	}
	if (nng_url_parse(&st->url, json_string_value(v)) != 0) {
		st->url = NULL;
		(void) sje__snprintf(
		    err, errlen, "options.url: not a valid URL");
		return -1;
	}
	u = st->url;
	if (strcmp(u->u_scheme, "http") != 0 &&
	    strcmp(u->u_scheme, "https") != 0) {
		(void) sje__snprintf(err, errlen,
		    "options.url: the scheme must be http or https, not "
		    "'%.32s'",
		    u->u_scheme);
		return -1;
	}
	if (u->u_hostname[0] == '\0') {
		(void) sje__snprintf(err, errlen, "options.url: no host");
		return -1;
	}
	if (u->u_userinfo != NULL) {
		(void) sje__snprintf(err, errlen,
		    "options.url: user:password@ is not supported; give an "
		    "Authorization header with headers_env");
		return -1;
	}
	// The request-URI: path and query, never the fragment, and "/" when
	// the URL has no path.
	n = strcspn(u->u_requri, "#");
	if ((st->uri = malloc(n + 2)) == NULL) {
		(void) sje__snprintf(err, errlen, "out of memory");
		return -1;
	}
	(void) snprintf(st->uri, n + 2, "%s%.*s",
	    u->u_requri[0] == '/' ? "" : "/", (int) n, u->u_requri);
	(void) snprintf(
	    st->where, sizeof(st->where), "%s://%s", u->u_scheme, u->u_host);
	return 0;
}

// wh_parse reads the options; on failure err names the key.
static int
wh_parse(wh_state *st, const char *options_json, const char **ca_file,
    const char **server_name, json_t **keep, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t      *opts;
	json_t      *v;
	const char  *key;
	int          rv = 0;

	opts = json_loads(options_json != NULL ? options_json : "{}",
	    JSON_REJECT_DUPLICATES, &jerr);
	*keep = opts; // ca_file and server_name point into it
	if (!json_is_object(opts)) {
		(void) sje__snprintf(
		    err, errlen, "options: expected a mapping");
		return -1;
	}
	json_object_foreach (opts, key, v) {
		if (strcmp(key, "url") == 0) {
			rv = wh_opt_url(st, v, err, errlen);
		} else if (strcmp(key, "on") == 0) {
			rv = wh_opt_on(st, v, err, errlen);
		} else if (strcmp(key, "alerts") == 0) {
			if ((rv = json_is_boolean(v) ? 0 : -1) != 0) {
				(void) sje__snprintf(err, errlen,
				    "options.alerts: expected true or false");
			}
			st->alerts = json_is_true(v);
		} else if (strcmp(key, "timeout_ms") == 0) {
			rv = wh_opt_u32(
			    v, key, 1, 600000, &st->timeout_ms, err, errlen);
		} else if (strcmp(key, "max_attempts") == 0) {
			rv = wh_opt_u32(v, key, 1, 1000000, &st->max_attempts,
			    err, errlen);
		} else if (strcmp(key, "initial_backoff_ms") == 0) {
			rv = wh_opt_u32(v, key, 1, 3600000,
			    &st->initial_backoff_ms, err, errlen);
		} else if (strcmp(key, "max_backoff_ms") == 0) {
			rv = wh_opt_u32(v, key, 1, 3600000,
			    &st->max_backoff_ms, err, errlen);
		} else if (strcmp(key, "queue_max") == 0) {
			rv = wh_opt_u32(
			    v, key, 1, 1000000, &st->queue_max, err, errlen);
		} else if (strcmp(key, "drain_ms") == 0) {
			rv = wh_opt_u32(
			    v, key, 0, 60000, &st->drain_ms, err, errlen);
		} else if (strcmp(key, "ca_file") == 0 ||
		    strcmp(key, "server_name") == 0) {
			if (!json_is_string(v) ||
			    json_string_value(v)[0] == 0) {
				(void) sje__snprintf(err, errlen,
				    "options.%s: expected a non-empty string",
				    key);
				rv = -1;
			} else if (strcmp(key, "ca_file") == 0) {
				*ca_file = json_string_value(v);
			} else {
				*server_name = json_string_value(v);
			}
		} else if (strcmp(key, "headers") == 0 ||
		    strcmp(key, "headers_env") == 0) {
			rv = wh_opt_headers(st, key, v,
			    strcmp(key, "headers_env") == 0, err, errlen);
		} else {
			(void) sje__snprintf(err, errlen,
			    "options.%s: unknown key (known: url, on, alerts, "
			    "timeout_ms, max_attempts, initial_backoff_ms, "
			    "max_backoff_ms, queue_max, drain_ms, ca_file, "
			    "server_name, headers, headers_env)",
			    key);
			rv = -1;
		}
		if (rv != 0) {
			return -1;
		}
	}
	if (st->url == NULL) {
		(void) sje__snprintf(err, errlen,
		    "options.url: required (the receiver's http:// or "
		    "https:// URL)");
		return -1;
	}
	if (st->initial_backoff_ms > st->max_backoff_ms) {
		(void) sje__snprintf(err, errlen,
		    "options.max_backoff_ms: %u is less than "
		    "initial_backoff_ms (%u)",
		    (unsigned) st->max_backoff_ms,
		    (unsigned) st->initial_backoff_ms);
		return -1;
	}
	return 0;
}

// ---- life ---------------------------------------------------------------

// wh_free frees st and all it holds; copes with a half-built state. The
// thread must not run.
static void
wh_free(wh_state *st)
{
	wh_item *it;
	size_t   i;

	while ((it = st->head) != NULL) {
		st->head = it->next;
		free(it);
	}
	// Of these four, only nng_aio_free and nng_url_free accept NULL.
	nng_aio_free(st->aio);
	if (st->client != NULL) {
		nng_http_client_free(st->client);
	}
	if (st->tls != NULL) {
		nng_tls_config_free(st->tls);
	}
	nng_url_free(st->url);
	for (i = 0; i < st->n_headers; i++) {
		free(st->headers[i].name);
		free(st->headers[i].value);
	}
	free(st->headers);
	free(st->uri);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mtx);
	free(st);
}

// wh_client makes the HTTP client, with TLS for an https URL.
static int
wh_client(wh_state *st, const char *ca_file, const char *server_name,
    char *err, size_t errlen)
{
	int rv;

	if ((rv = nng_http_client_alloc(&st->client, st->url)) != 0) {
		st->client = NULL;
		(void) sje__snprintf(
		    err, errlen, "options.url: %s", nng_strerror(rv));
		return -1;
	}
	if (strcmp(st->url->u_scheme, "https") != 0) {
		return 0;
	}
	if ((rv = nng_tls_config_alloc(&st->tls, NNG_TLS_MODE_CLIENT)) != 0) {
		st->tls = NULL;
		(void) sje__snprintf(err, errlen, "tls: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_tls_config_ca_file(st->tls, ca_file)) != 0) {
		(void) sje__snprintf(err, errlen,
		    "options.ca_file: cannot load %.200s: %s", ca_file,
		    nng_strerror(rv));
		return -1;
	}
	// Without a server name mbedTLS checks no name at all.
	if ((rv = nng_tls_config_server_name(st->tls,
	         server_name != NULL ? server_name : st->url->u_hostname)) !=
	        0 ||
	    (rv = nng_tls_config_auth_mode(
	         st->tls, NNG_TLS_AUTH_MODE_REQUIRED)) != 0 ||
	    (rv = nng_http_client_set_tls(st->client, st->tls)) != 0) {
		(void) sje__snprintf(
		    err, errlen, "options.server_name: %s", nng_strerror(rv));
		return -1;
	}
	return 0;
}

// wh_init reads the options, makes the client and starts the thread.
static int
wh_init(const sje_plugin_init *in, void **state, char *err, size_t errlen)
{
	wh_state   *st;
	json_t     *opts        = NULL;
	const char *ca_file     = WH_CA_FILE;
	const char *server_name = NULL;
	int         rv;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		(void) sje__snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (pthread_mutex_init(&st->mtx, NULL) != 0) {
		free(st);
		(void) sje__snprintf(err, errlen, "cannot make a mutex");
		return -1;
	}
	// Timed waits read the one monotonic clock, as sje_mono_ms does.
	if (sje__cond_init_mono(&st->cv) != SJE_OK) {
		pthread_mutex_destroy(&st->mtx);
		free(st);
		(void) sje__snprintf(
		    err, errlen, "cannot make a condition variable");
		return -1;
	}
	st->host               = in->host;
	st->on                 = 1u << sje__plugin_state_find("FAILED");
	st->alerts             = true;
	st->timeout_ms         = 5000;
	st->max_attempts       = 10;
	st->initial_backoff_ms = 500;
	st->max_backoff_ms     = 30000;
	st->queue_max          = 10000;
	st->drain_ms           = 2000;
	st->rng = (uint64_t) sje_mono_ms() * 0x9e3779b97f4a7c15ull ^
	    (uint64_t) (uintptr_t) st;
	st->rng |= 1; // never 0

	if (wh_parse(st, in->options_json, &ca_file, &server_name, &opts, err,
	        errlen) != 0 ||
	    wh_client(st, ca_file, server_name, err, errlen) != 0) {
		goto fail;
	}
	if ((rv = nng_aio_alloc(&st->aio, wh_aio_cb, st)) != 0) {
		st->aio = NULL;
		(void) sje__snprintf(
		    err, errlen, "cannot make an aio: %s", nng_strerror(rv));
		goto fail;
	}
	if (pthread_create(&st->thread, NULL, wh_run, st) != 0) {
		(void) sje__snprintf(
		    err, errlen, "cannot start the delivery thread");
		goto fail;
	}
	st->started = true;
	json_decref(opts);
	*state = st;
	return 0;

fail:
	json_decref(opts);
	wh_free(st);
	return -1;
}

// wh_fini drains the queue for up to drain_ms, stops the thread and frees
// everything.
static void
wh_fini(void *state)
{
	wh_state *st = state;

	if (st == NULL) {
		return;
	}
	if (st->started) {
		pthread_mutex_lock(&st->mtx);
		st->stopping    = true;
		st->deadline_ms = sje_mono_ms() + st->drain_ms;
		pthread_cond_signal(&st->cv);
		pthread_mutex_unlock(&st->mtx);
		pthread_join(st->thread, NULL);
	}
	wh_free(st);
}

static const sje_hooks wh_hooks = {
	.size     = sizeof(sje_hooks),
	.on_event = wh_on_event,
	.on_alert = wh_on_alert,
};

static const sje_plugin wh_plugin = {
	.abi_version = SJE_PLUGIN_ABI_VERSION,
	.size        = sizeof(sje_plugin),
	.name        = "webhook",
	.version     = WH_VERSION,
	.init        = wh_init,
	.fini        = wh_fini,
	.hooks       = &wh_hooks,
	.roles       = SJE_PLUGIN_ROLE_COORDINATOR,
};

// sje_plugin_entry is the one symbol the host looks up.
SJE_PLUGIN_EXPORT const sje_plugin *sje_plugin_entry(void);

const sje_plugin *
sje_plugin_entry(void)
{
	return &wh_plugin;
}
