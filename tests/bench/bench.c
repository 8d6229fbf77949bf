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
//       runs N jobs one after another (submit, wait for the result, next)
//       and prints p50, p90, p99 and max of submit-to-result latency.
//
// It measures whatever server and workers it is pointed at; run.sh beside
// it starts a coordinator and two workers on loopback for a baseline.
#include <sje/client.h>
#include <sje/config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
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

static int
bench_throughput(sje_client *c, size_t n, size_t batch, const char *fn)
{
	char             **ids   = bench_ids('b', n);
	Sje__V1__JobSpec  *specs = calloc(batch, sizeof(*specs));
	Sje__V1__JobSpec **sp    = calloc(batch, sizeof(*sp));
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
	long   ok    = bench_wait_all(c, ids, n);
	double t1    = now_s();
	printf("throughput: %zu %s jobs in batches of %zu: submitted in "
	       "%.3f s (%.0f jobs/s), all finished in %.3f s: %.0f jobs/s "
	       "end to end (%ld succeeded)\n",
	    n, fn, batch, t_sub - t0, (double) n / (t_sub - t0), t1 - t0,
	    (double) n / (t1 - t0), ok);
	bench_ids_free(ids, n);
	free(specs);
	free(sp);
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
		Sje__V1__JobSpec spec      = SJE__V1__JOB_SPEC__INIT;
		spec.task_id               = id;
		spec.function              = (char *) fn;
		Sje__V1__JobSpec      *sp  = &spec;
		Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
		req.jobs                   = &sp;
		req.n_jobs                 = 1;
		double                t0   = now_s();
		Sje__V1__SubmitReply *rep;
		sje_status            st;
		if (sje_client_submit(c, &req, &rep, &st) != SJE_OK) {
			fprintf(stderr, "submit: %s\n", st.message);
			return 1;
		}
		sje__v1__submit_reply__free_unpacked(rep, NULL);
		char *idp = id;
		if (bench_wait_all(c, &idp, 1) != 1) {
			fprintf(stderr, "job %s did not succeed\n", id);
			return 1;
		}
		lat[i] = now_s() - t0;
	}
	double total = now_s() - total0;
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("latency: %zu sequential %s jobs (submit, wait, next) in "
	       "%.3f s: p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.0f us\n",
	    n, fn, total, lat[n / 2] * 1e6, lat[n * 9 / 10] * 1e6,
	    lat[n * 99 / 100] * 1e6, lat[n - 1] * 1e6);
	free(lat);
	return 0;
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
		    "usage: sje-bench throughput|latency|dag [--server URL] "
		    "[--jobs N] [--batch B] [--function F]\n");
		return 2;
	}
	const char *mode   = argv[1];
	const char *server = getenv("SJE_CLIENT_SERVER_URL");
	const char *fn     = "noop";
	size_t      n      = strcmp(mode, "latency") == 0 ? 2000
	              : strcmp(mode, "dag") == 0          ? 10000
	                                                  : 20000;
	size_t      batch  = 500;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--server") == 0) {
			server = argv[i + 1];
		} else if (strcmp(argv[i], "--jobs") == 0) {
			n = strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--batch") == 0) {
			batch = strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--function") == 0) {
			fn = argv[i + 1];
		} else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (n == 0 || batch == 0) {
		fprintf(stderr, "--jobs and --batch must be positive\n");
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
	                               : bench_throughput(c, n, batch, fn);
	sje_client_close(c);
	sje_config_free(cfg);
	return rc;
}
