// commands_watch.c — the watch command: job events as they happen.
//
// `watch` follows the kept events with held ListEvents calls, over the
// same authenticated connection as every other command; `watch --stream`
// subscribes to the server's pub socket instead (nng pub/sub, no
// credentials, lossy: PLATFORM.md). --function is filtered here. A gap in
// the sequence numbers is reported on stderr.
//
// The only state outside the stack is the signal flag that ends it.
#include "commands.h"

#include "print.h"

#include "jobstate.h"
#include "pbjson.h"
#include "tls.h"
#include "util.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Pause after a failed ListEvents call (ms).
#define WATCH_RETRY_MS 250u

static volatile sig_atomic_t watch_stop;

static void
watch_on_signal(int sig)
{
	(void) sig;
	watch_stop = 1;
}

// watch_print prints one event. Sequence numbers count every event,
// whatever the filter: a jump past *last_seq + 1 means some were lost
// (dropped by the pub stream, or purged past server.event_retention
// before a slow reader got to them).
static void
watch_print(sje__cli *c, const Sje__V1__JobEvent *ev, const char *function,
    uint64_t *last_seq)
{
	if (*last_seq != 0 && ev->seq > *last_seq + 1) {
		fprintf(stderr,
		    "warning: missed %" PRIu64 " event(s) "
		    "(sje-client list shows the current state)\n",
		    ev->seq - *last_seq - 1);
	}
	if (ev->seq > *last_seq) {
		*last_seq = ev->seq;
	}
	if (function != NULL && strcmp(ev->function, function) != 0) {
		return;
	}
	if (c->json) {
		json_t *j = sje__pb_to_json(&ev->base);
		char   *text =
                    j != NULL ? sje__json_dumps(j, JSON_COMPACT) : NULL;
		if (text != NULL) {
			puts(text);
		} else {
			fputs("warning: skipped an event: out of memory\n",
			    stderr);
		}
		free(text);
		json_decref(j);
	} else {
		char at[64];
		printf("%s  #%" PRIu64 "  %s  %s  %s",
		    sje__print_time(ev->at, at, sizeof(at)), ev->seq,
		    sje__print_text(ev->task_id),
		    sje__print_text(ev->function),
		    sje_job_state_name(ev->state));
		if (ev->attempt > 0) {
			printf("  attempt %" PRIu32, ev->attempt);
		}
		if (ev->worker[0] != '\0') {
			printf("  worker %s", sje__print_text(ev->worker));
		}
		if (ev->progress != NULL) {
			printf("  %.0f%%%s%s", ev->progress->percent,
			    ev->progress->message[0] != '\0' ? " " : "",
			    sje__print_text(ev->progress->message));
		}
		if (ev->cancel_requested) {
			fputs("  cancel requested", stdout);
		}
		if (ev->error != NULL) {
			printf("  %s: %s", sje__print_text(ev->error->type),
			    sje__print_text(ev->error->message));
		}
		putchar('\n');
	}
	fflush(stdout);
}

// watch_message prints one message of the pub stream: a topic
// "<STATE>/<function>/", a NUL byte, then a packed sje.v1.JobEvent.
static void
watch_message(
    sje__cli *c, nng_msg *m, const char *function, uint64_t *last_seq)
{
	const uint8_t *body = nng_msg_body(m);
	size_t         len  = nng_msg_len(m);
	const uint8_t *nul  = memchr(body, '\0', len);
	if (nul == NULL) {
		fputs("warning: skipped an event without a topic\n", stderr);
		return;
	}
	size_t             off = (size_t) (nul - body) + 1;
	Sje__V1__JobEvent *ev =
	    sje__v1__job_event__unpack(NULL, len - off, body + off);
	if (ev == NULL) {
		fputs("warning: skipped an event that does not decode\n",
		    stderr);
		return;
	}
	watch_print(c, ev, function, last_seq);
	sje__v1__job_event__free_unpacked(ev, NULL);
}

// watch_stream follows the pub socket at the events URL (--stream).
static int
watch_stream(sje__cli *c, const sje__args *a)
{
	if (c->events_url == NULL || c->events_url[0] == '\0') {
		return sje__args_usage_error(
		    "--stream needs an events URL (--events or "
		    "client.events_url)");
	}
	nng_socket s;
	int        rv;
	if ((rv = nng_sub0_open(&s)) != 0) {
		fprintf(stderr, "error: cannot watch: %s\n", nng_strerror(rv));
		return CLI_FAILED;
	}
	// A large receive buffer absorbs bursts (pub/sub drops when full);
	// the receive timeout lets the loop notice SIGINT.
	if ((rv = nng_socket_set_int(s, NNG_OPT_RECVBUF, 4096)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 200)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 100)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 1000)) != 0 ||
	    (rv = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0) {
		fprintf(stderr, "error: cannot watch: %s\n", nng_strerror(rv));
		nng_close(s);
		return CLI_FAILED;
	}
	// Non-blocking: keep trying in the background while the server is
	// down; events flow once it is up. TLS for tls+tcp://, from
	// security.tls, as for RPC.
	sje_client_opts opts;
	char            why[512];
	sje_client_opts_from_config(c->cfg, SJE_CLIENT_ROLE_CLIENT, &opts);
	sje_err err =
	    sje__tls_dial(s, c->events_url, &opts, NULL, why, sizeof(why));
	if (err != SJE_OK) {
		nng_close(s);
		if (err == SJE_EINVAL) {
			return sje__args_usage_error(
			    "invalid events URL '%s'", c->events_url);
		}
		if (err == SJE_ECONFIG) {
			fprintf(stderr, "error: %s\n", why);
			return CLI_USAGE;
		}
		fprintf(stderr,
		    "error: cannot reach the event stream at %s: "
		    "%s\n",
		    c->events_url, why);
		return CLI_UNREACHABLE;
	}
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr,
		    "watching the event stream at %s (Ctrl-C to stop)\n",
		    c->events_url);
	}

	uint64_t last_seq = 0;
	int      rc       = CLI_OK;
	while (!watch_stop) {
		nng_msg *m;
		rv = nng_recvmsg(s, &m, 0);
		if (rv == NNG_ETIMEDOUT) {
			continue;
		}
		if (rv != 0) {
			fprintf(stderr, "error: event stream: %s\n",
			    nng_strerror(rv));
			rc = CLI_UNREACHABLE;
			break;
		}
		watch_message(c, m, a->val[OPT_FUNCTION], &last_seq);
		nng_msg_free(m);
	}
	nng_close(s);
	return rc;
}

#define WATCH_HOLD_MS 500u // each ListEvents call holds this long at most

// watch_poll follows the kept events over RPC: ListEvents calls held
// until an event arrives, with the client's credentials. Nothing is lost
// while the reader keeps within server.event_retention; an unreachable
// server is retried until it is back.
static int
watch_poll(sje__cli *c, const sje__args *a)
{
	Sje__V1__ListEventsRequest req = SJE__V1__LIST_EVENTS_REQUEST__INIT;
	uint64_t                   last_seq = 0;
	int                        rc;
	if (a->val[OPT_AFTER] != NULL) {
		unsigned long long after;
		if (!sje__args_whole(a->val[OPT_AFTER], &after)) {
			return sje__args_usage_error(
			    "--after: expected an event sequence "
			    "number, got '%s'",
			    a->val[OPT_AFTER]);
		}
		req.after = after;
		last_seq  = req.after;
	} else {
		req.from_now = true;
	}
	if ((rc = sje__cli_client(c)) != CLI_OK) {
		return rc;
	}
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr, "watching events at %s (Ctrl-C to stop)\n",
		    c->server_url);
	}
	req.wait_ms      = WATCH_HOLD_MS;
	bool unreachable = false;
	while (!watch_stop) {
		Sje__V1__ListEventsReply *rep = NULL;
		sje_status                st  = { 0 };
		sje_err                   rv =
		    sje_client_list_events(c->client, &req, &rep, &st);
		if (rv == SJE_EUNAVAIL || rv == SJE_ETIMEDOUT) {
			if (!unreachable) {
				fprintf(stderr,
				    "warning: cannot reach the server at %s: "
				    "%s; retrying\n",
				    c->server_url,
				    st.message[0] != '\0'
				        ? sje__print_text(st.message)
				        : sje_strerror(rv));
				unreachable = true;
			}
			sje__sleep_ms(WATCH_RETRY_MS);
			continue;
		}
		if (rv != SJE_OK) {
			return sje__cli_call_failed(c, rv, &st);
		}
		if (unreachable) {
			fprintf(stderr, "watch: the server at %s is back\n",
			    c->server_url);
			unreachable = false;
		}
		for (size_t i = 0; i < rep->n_events; i++) {
			watch_print(c, rep->events[i], a->val[OPT_FUNCTION],
			    &last_seq);
		}
		// With from_now, next is the newest event at the first call.
		if (rep->next > last_seq) {
			last_seq = rep->next;
		}
		req.from_now = false;
		req.after    = rep->next;
		protobuf_c_message_free_unpacked(&rep->base, NULL);
	}
	return CLI_OK;
}

int
sje__cmd_watch(sje__cli *c, const sje__args *a)
{
	if (a->val[OPT_STREAM] != NULL && a->val[OPT_AFTER] != NULL) {
		return sje__args_usage_error(
		    "--after reads kept events: it does not go "
		    "with --stream");
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return a->val[OPT_STREAM] != NULL ? watch_stream(c, a)
	                                  : watch_poll(c, a);
}
