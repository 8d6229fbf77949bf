// forge_client — raw WorkerHub calls, to play a worker that is not one:
// it registers under any name, slots and function count, fetches, and
// sends Heartbeat, Complete, Fail and Release on any session, task and
// range of lease ids. worker_fencing.sh drives it against a real server.
//
//   forge_client register NAME SLOTS N_FUNCTIONS [FUNCTION]
//       prints "ok SESSION" or "refused CODE FIELD"
//   forge_client fetch SESSION WAIT_MS
//       prints "ok N" then "job TASK_ID LEASE_ID" per job, or "refused ..."
//   forge_client heartbeat SESSION TASK_ID LEASE_FROM LEASE_TO
//       prints "ok lost=L" (entries reported lost), or "refused ..."
//   forge_client complete|fail|release SESSION TASK_ID LEASE_FROM LEASE_TO
//       [RESULT_JSON]
//       one call with one outcome per lease id in [FROM, TO]; prints
//       "ok accepted=A precondition=P denied=D", or "refused CODE FIELD"
//
// Numbers are decimal; a lease id may be negative (how SQLite shows ids
// of 2^63 and more): it is taken bit for bit. The server is
// $SJE_CLIENT_SERVER_URL (default tcp://127.0.0.1:7100). Exits 0 when the
// call got an answer, 2 on bad usage, 1 when the server could not be
// reached. The frames are built by tests/support/rawrpc.c, with no
// credentials.
#include <sje/v1/worker_hub.pb-c.h>

#include "rawrpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { H_REGISTER, H_FETCH, H_HEARTBEAT, H_COMPLETE, H_FAIL, H_RELEASE };

#define FORGE_MAX_IDS 10000u // outcomes in one call (the server's bound)

static int
usage(void)
{
	fprintf(stderr,
	    "usage: forge_client register NAME SLOTS N_FUNCTIONS [FUNCTION]\n"
	    "       forge_client fetch SESSION WAIT_MS\n"
	    "       forge_client heartbeat SESSION TASK LEASE_FROM LEASE_TO\n"
	    "       forge_client complete|fail|release SESSION TASK "
	    "LEASE_FROM LEASE_TO [RESULT]\n");
	return 2;
}

// parse_u64 reads a decimal number, negative ones bit for bit.
static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (s[0] == '-') {
		long long v = strtoll(s, &end, 10);
		*out        = (uint64_t) v;
	} else {
		*out = strtoull(s, &end, 10);
	}
	return errno == 0 && end != s && *end == '\0' ? 0 : -1;
}

// call makes one WorkerHub call (m: its index in the service); on an
// answer of OK, *out is the reply (caller frees it). Prints the refusal
// and returns 1 when the server answered with an error, -1 when it could
// not be reached (or said it is unavailable).
static int
call(nng_socket s, unsigned m, const ProtobufCMessage *in,
    ProtobufCMessage **out)
{
	const ProtobufCMethodDescriptor *md =
	    &sje__v1__worker_hub__descriptor.methods[m];
	char method[160];
	snprintf(method, sizeof(method), "/%s/%s",
	    sje__v1__worker_hub__descriptor.name, md->name);
	Sje__V1__Reply *r =
	    sje_test_rawrpc_call(s, method, in, "forge_client");
	if (r == NULL) {
		return -1;
	}
	int rv = 0;
	if (r->code == SJE__V1__STATUS_CODE__UNAVAILABLE ||
	    r->code == SJE__V1__STATUS_CODE__DEADLINE_EXCEEDED) {
		fprintf(stderr, "forge_client: %s\n",
		    sje_test_rawrpc_code_name(r->code));
		rv = -1;
	} else if (r->code != SJE__V1__STATUS_CODE__OK) {
		printf("refused %s %s\n", sje_test_rawrpc_code_name(r->code),
		    r->field != NULL && r->field[0] != '\0' ? r->field : "-");
		rv = 1;
	} else if ((*out = protobuf_c_message_unpack(md->output, NULL,
	                r->body.len, r->body.data)) == NULL) {
		fprintf(stderr, "forge_client: the reply does not decode\n");
		rv = -1;
	}
	sje__v1__reply__free_unpacked(r, NULL);
	return rv;
}

static int
do_register(nng_socket c, int argc, char **argv)
{
	uint64_t slots, n;
	if (argc < 5 || parse_u64(argv[3], &slots) != 0 ||
	    parse_u64(argv[4], &n) != 0 || slots > UINT32_MAX || n > 100000) {
		return usage();
	}
	char **fns   = calloc(n + 1, sizeof(*fns));
	char  *names = calloc(n + 1, 32);
	if (fns == NULL || names == NULL) {
		free(fns);
		free(names);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (i == 0 && argc > 5) {
			fns[i] = argv[5];
			continue;
		}
		fns[i] = names + 32 * i;
		snprintf(fns[i], 32, "forge_fn_%zu", i);
	}
	Sje__V1__RegisterRequest rr = SJE__V1__REGISTER_REQUEST__INIT;
	rr.name                     = argv[2];
	rr.slots                    = (uint32_t) slots;
	rr.functions                = fns;
	rr.n_functions              = n;
	Sje__V1__RegisterReply *rep = NULL;
	int rv = call(c, H_REGISTER, &rr.base, (ProtobufCMessage **) &rep);
	if (rv == 0) {
		printf("ok %llu\n", (unsigned long long) rep->session);
		sje__v1__register_reply__free_unpacked(rep, NULL);
	}
	free(names);
	free(fns);
	return rv < 0 ? 1 : 0;
}

static int
do_fetch(nng_socket c, int argc, char **argv)
{
	uint64_t session, wait_ms;
	if (argc != 4 || parse_u64(argv[2], &session) != 0 ||
	    parse_u64(argv[3], &wait_ms) != 0 || wait_ms > 600000) {
		return usage();
	}
	Sje__V1__FetchRequest fr = SJE__V1__FETCH_REQUEST__INIT;
	fr.session               = session;
	fr.max_jobs              = 1;
	fr.wait_ms               = (uint32_t) wait_ms;
	Sje__V1__FetchReply *rep = NULL;
	int rv = call(c, H_FETCH, &fr.base, (ProtobufCMessage **) &rep);
	if (rv == 0) {
		printf("ok %zu\n", rep->n_jobs);
		for (size_t i = 0; i < rep->n_jobs; i++) {
			printf("job %s %llu\n", rep->jobs[i]->task_id,
			    (unsigned long long) rep->jobs[i]->lease_id);
		}
		sje__v1__fetch_reply__free_unpacked(rep, NULL);
	}
	fflush(stdout);
	return rv < 0 ? 1 : 0;
}

static int
do_heartbeat(
    nng_socket c, uint64_t session, char *task, uint64_t from, size_t n)
{
	Sje__V1__RunningJob  *v = calloc(n, sizeof(*v));
	Sje__V1__RunningJob **p = calloc(n, sizeof(*p));
	if (v == NULL || p == NULL) {
		free(v);
		free(p);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		sje__v1__running_job__init(&v[i]);
		v[i].task_id  = task;
		v[i].lease_id = from + i;
		p[i]          = &v[i];
	}
	Sje__V1__HeartbeatRequest hb = SJE__V1__HEARTBEAT_REQUEST__INIT;
	hb.session                   = session;
	hb.running                   = p;
	hb.n_running                 = n;
	Sje__V1__HeartbeatReply *rep = NULL;
	int rv = call(c, H_HEARTBEAT, &hb.base, (ProtobufCMessage **) &rep);
	if (rv == 0) {
		printf("ok lost=%zu\n", rep->n_lost);
		sje__v1__heartbeat_reply__free_unpacked(rep, NULL);
	}
	free(p);
	free(v);
	return rv < 0 ? 1 : 0;
}

static int
do_report(nng_socket c, unsigned m, uint64_t session, char *task,
    uint64_t from, size_t n, char *result)
{
	Sje__V1__JobOutcome  *v = calloc(n, sizeof(*v));
	Sje__V1__JobOutcome **p = calloc(n, sizeof(*p));
	if (v == NULL || p == NULL) {
		free(v);
		free(p);
		return 1;
	}
	Sje__V1__Json     res = SJE__V1__JSON__INIT;
	Sje__V1__JobError err = SJE__V1__JOB_ERROR__INIT;
	res.text              = result;
	err.type              = "forged";
	err.message           = "a forged failure";
	for (size_t i = 0; i < n; i++) {
		sje__v1__job_outcome__init(&v[i]);
		v[i].task_id  = task;
		v[i].lease_id = from + i;
		if (m == H_COMPLETE) {
			v[i].result = &res;
		} else if (m == H_FAIL) {
			v[i].error = &err;
		}
		p[i] = &v[i];
	}
	Sje__V1__ReportRequest rq = SJE__V1__REPORT_REQUEST__INIT;
	rq.session                = session;
	rq.outcomes               = p;
	rq.n_outcomes             = n;
	Sje__V1__ReportReply *rep = NULL;
	int rv = call(c, m, &rq.base, (ProtobufCMessage **) &rep);
	if (rv == 0) {
		size_t ok = 0, pre = 0, denied = 0;
		for (size_t i = 0; i < rep->n_accepted; i++) {
			ok += rep->accepted[i] == SJE__V1__STATUS_CODE__OK;
			pre += rep->accepted[i] ==
			    SJE__V1__STATUS_CODE__FAILED_PRECONDITION;
			denied += rep->accepted[i] ==
			    SJE__V1__STATUS_CODE__PERMISSION_DENIED;
		}
		printf("ok accepted=%zu precondition=%zu denied=%zu\n", ok,
		    pre, denied);
		sje__v1__report_reply__free_unpacked(rep, NULL);
	}
	free(p);
	free(v);
	return rv < 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		return usage();
	}
	const char *url = getenv("SJE_CLIENT_SERVER_URL");
	nng_socket  c;
	int         nrv;
	if (url == NULL || url[0] == '\0') {
		url = "tcp://127.0.0.1:7100";
	}
	if ((nrv = sje_test_rawrpc_open(url, 60000, &c)) != 0) {
		fprintf(stderr, "forge_client: cannot open %s: %s\n", url,
		    nng_strerror(nrv));
		return 1;
	}
	int         rv  = 2;
	const char *cmd = argv[1];
	if (strcmp(cmd, "register") == 0) {
		rv = do_register(c, argc, argv);
	} else if (strcmp(cmd, "fetch") == 0) {
		rv = do_fetch(c, argc, argv);
	} else {
		unsigned m = strcmp(cmd, "heartbeat") == 0 ? H_HEARTBEAT
		    : strcmp(cmd, "complete") == 0         ? H_COMPLETE
		    : strcmp(cmd, "fail") == 0             ? H_FAIL
		    : strcmp(cmd, "release") == 0          ? H_RELEASE
		                                           : 99u;
		uint64_t session, from, to;
		if (m == 99u || argc < 6 ||
		    parse_u64(argv[2], &session) != 0 ||
		    parse_u64(argv[4], &from) != 0 ||
		    parse_u64(argv[5], &to) != 0 || to < from ||
		    to - from >= FORGE_MAX_IDS) {
			rv = usage();
		} else if (m == H_HEARTBEAT) {
			rv = do_heartbeat(c, session, argv[3], from,
			    (size_t) (to - from + 1));
		} else {
			rv = do_report(c, m, session, argv[3], from,
			    (size_t) (to - from + 1),
			    argc > 6 ? argv[6] : "{\"forged\":true}");
		}
	}
	nng_close(c);
	return rv;
}
