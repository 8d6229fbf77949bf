// sje-bench — throughput and latency of a running SJE, through libsje.
//
//   sje-bench throughput [--server URL] [--jobs N] [--batch B] [--function F]
//       submits N jobs in batches of B (one Submit each), then waits for
//       all of them; prints jobs/s from the first submit to the moment the
//       last completion was seen.
//   sje-bench dag [--server URL] [--jobs N] [--function F]
//       one batch of N jobs: a root, N - 2 leaves after it, and a sink
//       after every leaf; prints the submit time and the time until the
//       sink finished.
//   sje-bench latency [--server URL] [--jobs N] [--function F]
//       W2: runs N jobs one after another (submit, wait for the result,
//       next), each with one Submit that waits (wait_ms), and prints p50,
//       p90, p99 and max of submit-to-result latency.
//   sje-bench w1 [--server URL] [--jobs N]
//       W1: one synchronous Submit of one job after another; jobs/s from
//       the first submit to the last completion.
//   sje-bench many [--server URL] [--threads T] [--jobs N]
//       T threads, each with its own connection, each submitting N jobs
//       one at a time: jobs/s submitted and p50/p99 submit latency.
//   throughput --wait 0 only submits (the jobs stay queued: memory).
//   throughput and w1 take --server-pid PID: the server's CPU per job
//   (user + system, from /proc) is printed too.
//
// Every mode ends with one "RESULT <mode> key=value ..." line, for
// run.sh to compute ratios from. peer.c adds the peers' modes: nng-echo,
// nng-floor, bs-worker, bs-w1, bs-w2, bs-w1p.
//
// It measures whatever server and workers it is pointed at; run.sh beside
// it starts a coordinator and two workers on loopback for a baseline.
#include "peer.h"

#include <sje/client.h>
#include <sje/config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

double
bench_now_s(void)
{
	return now_s();
}

// server_cpu_s is the CPU time (user + system, seconds) the process pid
// has used, or 0 when pid is 0 or unreadable.
static double
server_cpu_s(long pid)
{
	char  path[64], buf[1024];
	FILE *f;
	if (pid <= 0) {
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL) {
		return 0;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	// Fields 14 and 15 (utime, stime), counted after the ")" that ends
	// the command name.
	char         *p  = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (p == NULL ||
	    sscanf(p + 2,
	        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
	        &st) != 2) {
		return 0;
	}
	return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

// bench_wait_all waits until every id in ids[0..n) is terminal; returns
// the number that SUCCEEDED, or -1 on error.
static long
bench_wait_all(sje_client *c, char **ids, size_t n)
{
	long   ok    = 0;
	size_t chunk = 1000;
	for (size_t off = 0; off < n;) {
		size_t               k   = n - off < chunk ? n - off : chunk;
		Sje__V1__WaitRequest req = SJE__V1__WAIT_REQUEST__INIT;
		req.task_ids             = ids + off;
		req.n_task_ids           = k;
		req.timeout_ms           = 30000;
		Sje__V1__WaitReply *rep;
		sje_status          st;
		if (sje_client_wait(c, &req, &rep, &st) != SJE_OK) {
			fprintf(stderr, "wait: %s\n", st.message);
			return -1;
		}
		if (!rep->done) {
			sje__v1__wait_reply__free_unpacked(rep, NULL);
			continue; // still running: wait on the same chunk
		}
		for (size_t i = 0; i < rep->n_jobs; i++) {
			ok += rep->jobs[i]->state ==
			    SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
		}
		sje__v1__wait_reply__free_unpacked(rep, NULL);
		off += k;
	}
	return ok;
}

// bench_ids makes n task ids "<tag><time>-<i>", unique to this run.
static char **
bench_ids(char tag, size_t n)
{
	char **ids = calloc(n, sizeof(*ids));
	char   prefix[32];
	snprintf(
	    prefix, sizeof(prefix), "%c%lx", tag, (unsigned long) time(NULL));
	for (size_t i = 0; i < n; i++) {
		char id[64];
		snprintf(id, sizeof(id), "%s-%zu", prefix, i);
		ids[i] = strdup(id);
	}
	return ids;
}

static void
bench_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ids[i]);
	}
	free(ids);
}

// submit_one submits the job id of function fn, waiting up to wait_ms for
// it to end (0: not at all); with wait_ms, true only when it SUCCEEDED.
static bool
submit_one(sje_client *c, const char *id, const char *fn, uint32_t wait_ms)
{
	Sje__V1__JobSpec spec      = SJE__V1__JOB_SPEC__INIT;
	spec.task_id               = (char *) id;
	spec.function              = (char *) fn;
	Sje__V1__JobSpec      *sp  = &spec;
	Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
	req.jobs                   = &sp;
	req.n_jobs                 = 1;
	req.wait_ms                = wait_ms;
	Sje__V1__SubmitReply *rep;
	sje_status            st;
	if (sje_client_submit(c, &req, &rep, &st) != SJE_OK) {
		fprintf(stderr, "submit: %s\n", st.message);
		return false;
	}
	bool ok = wait_ms == 0 ||
	    (rep->done && rep->n_jobs == 1 &&
	        rep->jobs[0]->state ==
	            SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	sje__v1__submit_reply__free_unpacked(rep, NULL);
	return ok;
}

static int
bench_throughput(sje_client *c, size_t n, size_t batch, const char *fn,
    long server_pid, const char *name, bool wait)
{
	char             **ids   = bench_ids('b', n);
	Sje__V1__JobSpec  *specs = calloc(batch, sizeof(*specs));
	Sje__V1__JobSpec **sp    = calloc(batch, sizeof(*sp));
	double             cpu0  = server_cpu_s(server_pid);
	double             t0    = now_s();
	for (size_t off = 0; off < n; off += batch) {
		size_t k = n - off < batch ? n - off : batch;
		for (size_t i = 0; i < k; i++) {
			sje__v1__job_spec__init(&specs[i]);
			specs[i].task_id  = ids[off + i];
			specs[i].function = (char *) fn;
			sp[i]             = &specs[i];
		}
		Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
		req.jobs                   = sp;
		req.n_jobs                 = k;
		Sje__V1__SubmitReply *rep;
		sje_status            st;
		if (sje_client_submit(c, &req, &rep, &st) != SJE_OK) {
			fprintf(stderr, "submit: %s\n", st.message);
			return 1;
		}
		sje__v1__submit_reply__free_unpacked(rep, NULL);
	}
	double t_sub = now_s();
	if (!wait) { // the jobs stay queued: submitting was the point
		printf("%s: %zu %s jobs submitted in batches of %zu in %.3f s "
		       "(%.0f jobs/s)\nRESULT %s submitted_per_s=%.0f\n",
		    name, n, fn, batch, t_sub - t0, (double) n / (t_sub - t0),
		    name, (double) n / (t_sub - t0));
		bench_ids_free(ids, n);
		free(specs);
		free(sp);
		return 0;
	}
	long   ok  = bench_wait_all(c, ids, n);
	double t1  = now_s();
	double cpu = server_cpu_s(server_pid) - cpu0;
	printf("%s: %zu %s jobs in batches of %zu: submitted in "
	       "%.3f s (%.0f jobs/s), all finished in %.3f s: %.0f jobs/s "
	       "end to end (%ld succeeded)",
	    name, n, fn, batch, t_sub - t0, (double) n / (t_sub - t0), t1 - t0,
	    (double) n / (t1 - t0), ok);
	if (server_pid > 0) {
		printf("; server CPU %.1f us per job", cpu * 1e6 / (double) n);
	}
	printf("\nRESULT %s jobs_per_s=%.0f cpu_us_per_job=%.1f\n", name,
	    (double) n / (t1 - t0), cpu * 1e6 / (double) n);
	bench_ids_free(ids, n);
	free(specs);
	free(sp);
	return ok == (long) n ? 0 : 1;
}

// bench_w1 submits n jobs one synchronous Submit after another, then
// waits for all of them.
static int
bench_w1(sje_client *c, size_t n, const char *fn, long server_pid)
{
	char **ids  = bench_ids('w', n);
	double cpu0 = server_cpu_s(server_pid);
	double t0   = now_s();
	for (size_t i = 0; i < n; i++) {
		if (!submit_one(c, ids[i], fn, 0)) {
			return 1;
		}
	}
	double t_sub = now_s();
	long   ok    = bench_wait_all(c, ids, n);
	double t1    = now_s();
	double cpu   = server_cpu_s(server_pid) - cpu0;
	printf("w1: %zu %s jobs, one synchronous submit after another: "
	       "submitted in %.3f s (%.0f submits/s), all finished in %.3f "
	       "s: %.0f jobs/s (%ld succeeded)",
	    n, fn, t_sub - t0, (double) n / (t_sub - t0), t1 - t0,
	    (double) n / (t1 - t0), ok);
	if (server_pid > 0) {
		printf("; server CPU %.1f us per job", cpu * 1e6 / (double) n);
	}
	printf("\nRESULT w1 jobs_per_s=%.0f cpu_us_per_job=%.1f\n",
	    (double) n / (t1 - t0), cpu * 1e6 / (double) n);
	bench_ids_free(ids, n);
	return ok == (long) n ? 0 : 1;
}

static int
bench_latency(sje_client *c, size_t n, const char *fn)
{
	double *lat = calloc(n, sizeof(*lat));
	char    prefix[32];
	snprintf(prefix, sizeof(prefix), "l%lx", (unsigned long) time(NULL));
	double total0 = now_s();
	for (size_t i = 0; i < n; i++) {
		char id[64];
		snprintf(id, sizeof(id), "%s-%zu", prefix, i);
		double t0 = now_s();
		if (!submit_one(c, id, fn, 30000)) {
			fprintf(stderr, "job %s did not succeed\n", id);
			return 1;
		}
		lat[i] = now_s() - t0;
	}
	double total = now_s() - total0;
	qsort(lat, n, sizeof(*lat), bench_cmp_double);
	printf("latency: %zu sequential %s jobs (submit and wait in one "
	       "call, next) in %.3f s: p50 %.0f us, p90 %.0f us, p99 %.0f us, "
	       "max %.0f us\n",
	    n, fn, total, lat[n / 2] * 1e6, lat[n * 9 / 10] * 1e6,
	    lat[n * 99 / 100] * 1e6, lat[n - 1] * 1e6);
	printf("RESULT w2 p50_us=%.0f p99_us=%.0f\n", lat[n / 2] * 1e6,
	    lat[n * 99 / 100] * 1e6);
	free(lat);
	return 0;
}

// many_arg is one submitting thread of bench_many.
typedef struct many_arg {
	const sje_client_opts *opts;
	const char            *fn;
	size_t                 n, index;
	double                *lat; // n of them
	int                    rc;
} many_arg;

static void *
many_main(void *p)
{
	many_arg   *a = p;
	sje_client *c;
	if (sje_client_open(a->opts, &c) != SJE_OK) {
		a->rc = 3;
		return NULL;
	}
	for (size_t i = 0; i < a->n; i++) {
		char id[80];
		snprintf(id, sizeof(id), "m%lx-%zu-%zu",
		    (unsigned long) time(NULL), a->index, i);
		double t0 = now_s();
		if (!submit_one(c, id, a->fn, 0)) {
			a->rc = 1;
			break;
		}
		a->lat[i] = now_s() - t0;
	}
	sje_client_close(c);
	return NULL;
}

// bench_many: threads submitters, each its own connection, each
// submitting n jobs one at a time.
static int
bench_many(
    const sje_client_opts *opts, size_t threads, size_t n, const char *fn)
{
	many_arg  *args = calloc(threads, sizeof(*args));
	pthread_t *thr  = calloc(threads, sizeof(*thr));
	double    *lat  = calloc(threads * n, sizeof(*lat));
	int        rc   = 0;
	double     t0   = now_s();
	for (size_t i = 0; i < threads; i++) {
		args[i] = (many_arg) { .opts = opts,
			.fn                  = fn,
			.n                   = n,
			.index               = i,
			.lat                 = lat + i * n };
		if (pthread_create(&thr[i], NULL, many_main, &args[i]) != 0) {
			fprintf(stderr, "cannot start a thread\n");
			return 1;
		}
	}
	for (size_t i = 0; i < threads; i++) {
		pthread_join(thr[i], NULL);
		rc = rc != 0 ? rc : args[i].rc;
	}
	double t     = now_s() - t0;
	size_t total = threads * n;
	qsort(lat, total, sizeof(*lat), bench_cmp_double);
	printf("many: %zu threads x %zu synchronous submits of one job: "
	       "%.0f jobs/s submitted; submit latency p50 %.0f us, p99 %.0f "
	       "us\n",
	    threads, n, (double) total / t, lat[total / 2] * 1e6,
	    lat[total * 99 / 100] * 1e6);
	printf("RESULT many%zu jobs_per_s=%.0f p50_us=%.0f p99_us=%.0f\n",
	    threads, (double) total / t, lat[total / 2] * 1e6,
	    lat[total * 99 / 100] * 1e6);
	free(args);
	free(thr);
	free(lat);
	return rc;
}

static int
bench_dag(sje_client *c, size_t n, const char *fn)
{
	if (n < 3) {
		fprintf(stderr, "dag: --jobs must be at least 3\n");
		return 2;
	}
	size_t             leaves = n - 2;
	char             **ids    = bench_ids('d', n);
	Sje__V1__JobSpec  *specs  = calloc(n, sizeof(*specs));
	Sje__V1__JobSpec **sp     = calloc(n, sizeof(*sp));
	for (size_t i = 0; i < n; i++) {
		sje__v1__job_spec__init(&specs[i]);
		specs[i].task_id  = ids[i];
		specs[i].function = (char *) fn;
		sp[i]             = &specs[i];
	}
	// ids[0] the root, ids[1..leaves] the leaves, ids[n-1] the sink.
	for (size_t i = 1; i <= leaves; i++) {
		specs[i].depends_on   = &ids[0];
		specs[i].n_depends_on = 1;
	}
	specs[n - 1].depends_on    = &ids[1];
	specs[n - 1].n_depends_on  = leaves;
	Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
	req.jobs                   = sp;
	req.n_jobs                 = n;
	double                t0   = now_s();
	Sje__V1__SubmitReply *rep;
	sje_status            st;
	if (sje_client_submit(c, &req, &rep, &st) != SJE_OK) {
		fprintf(stderr, "submit: %s\n", st.message);
		return 1;
	}
	sje__v1__submit_reply__free_unpacked(rep, NULL);
	double t_sub = now_s();
	long   ok    = bench_wait_all(c, &ids[n - 1], 1);
	double t1    = now_s();
	printf("dag: one batch of %zu %s jobs (1 root, %zu leaves, 1 sink "
	       "after all leaves): submitted in %.3f s, sink finished after "
	       "%.3f s (%.0f jobs/s)\n",
	    n, fn, leaves, t_sub - t0, t1 - t0, (double) n / (t1 - t0));
	bench_ids_free(ids, n);
	free(specs);
	free(sp);
	return ok == 1 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
		    "usage: sje-bench throughput|latency|dag|w1|many "
		    "[--server URL] [--jobs N] [--batch B] [--function F] "
		    "[--threads T] [--server-pid PID] [--name NAME] [--wait 0]\n"
		    "       sje-bench nng-echo|nng-floor|bs-worker|bs-w1|bs-w2|"
		    "bs-w1p ... (peer.c)\n");
		return 2;
	}
	const char *mode = argv[1];
	if (strncmp(mode, "nng-", 4) == 0 || strncmp(mode, "bs-", 3) == 0) {
		return bench_peer_main(argc, argv);
	}
	const char *server = getenv("SJE_CLIENT_SERVER_URL");
	const char *fn     = "noop";
	const char *name   = "throughput";
	size_t      n      = strcmp(mode, "latency") == 0 ? 2000
	              : strcmp(mode, "dag") == 0          ? 10000
	                                                  : 20000;
	size_t      batch = 500, threads = 32;
	long        pid  = 0;
	bool        wait = true;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--server") == 0) {
			server = argv[i + 1];
		} else if (strcmp(argv[i], "--jobs") == 0) {
			n = strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--batch") == 0) {
			batch = strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--threads") == 0) {
			threads = strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--server-pid") == 0) {
			pid = strtol(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--wait") == 0) {
			wait = strcmp(argv[i + 1], "0") != 0;
		} else if (strcmp(argv[i], "--name") == 0) {
			name = argv[i + 1];
		} else if (strcmp(argv[i], "--function") == 0) {
			fn = argv[i + 1];
		} else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (n == 0 || batch == 0 || threads == 0) {
		fprintf(stderr,
		    "--jobs, --batch and --threads must be positive\n");
		return 2;
	}
	// TLS files (for a tls+tcp:// server) from config and the
	// environment: SJE_SECURITY_TLS_CA, _CERT, _KEY.
	sje_config *cfg;
	char        err[512];
	if (sje_config_load(NULL, &cfg, err, sizeof(err)) != SJE_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	err[0] = '\0';
	sje_client_opts opts;
	sje_client_opts_from_config(cfg, SJE_CLIENT_ROLE_CLIENT, &opts);
	opts.server_url = server;
	opts.timeout_ms = 60000;
	sje_client *c;
	if (sje_client_opts_check(&opts, err, sizeof(err)) != SJE_OK ||
	    sje_client_open(&opts, &c) != SJE_OK) {
		fprintf(stderr, "cannot open client: %s\n", err);
		sje_config_free(cfg);
		return 3;
	}
	int rc = strcmp(mode, "latency") == 0 ? bench_latency(c, n, fn)
	    : strcmp(mode, "dag") == 0        ? bench_dag(c, n, fn)
	    : strcmp(mode, "w1") == 0         ? bench_w1(c, n, fn, pid)
	    : strcmp(mode, "many") == 0
	    ? bench_many(&opts, threads, n, fn)
	    : bench_throughput(c, n, batch, fn, pid, name, wait);
	sje_client_close(c);
	sje_config_free(cfg);
	return rc;
}
