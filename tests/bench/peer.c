// peer.c — the peers SJE is measured against, in the same run.
//
//   sje-bench nng-echo --url URL
//       a bare nng rep0 socket listening on URL that sends every message
//       back; runs until killed.
//   sje-bench nng-floor --url URL [--jobs N]
//       N sequential round trips of a 64-byte message to nng-echo over
//       a req0 socket (resend off, one context and aio reused): p50 and
//       p99 of the round trip. The floor under any nng RPC.
//   sje-bench bs-worker --port P
//       a beanstalkd worker: reserve, delete, and when the job's body
//       names a reply tube, put a reply there; until beanstalkd goes
//       away or nothing came for 30 s.
//   sje-bench bs-w1 --port P [--jobs N]
//       W1 on beanstalkd: one synchronous put after another, then wait
//       until the workers deleted every job (stats-tube, polled).
//   sje-bench bs-w2 --port P [--jobs N]
//       W2: put, wait for the worker's reply, next: p50 and p99.
//   sje-bench bs-w1p --port P [--jobs N] [--batch B]
//       W1P: B puts written at once (in flight together), their B
//       replies read, the next B; then wait until every job is deleted.
//
// Each ends with a "RESULT <mode> key=value ..." line, as bench.c's.
// beanstalkd's protocol is text over TCP: "put <pri> <delay> <ttr>
// <bytes>\r\n<body>\r\n" answered "INSERTED <id>\r\n", "reserve-with-
// timeout <s>\r\n" answered "RESERVED <id> <bytes>\r\n<body>\r\n" or
// "TIMED_OUT\r\n", "delete <id>\r\n" answered "DELETED\r\n".
#define _POSIX_C_SOURCE 200809L
#include "peer.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BS_TUBE "sje-bench"

// ---- a line-buffered beanstalkd connection -----------------------------

typedef struct bs_conn {
	int    fd;
	char   buf[65536];
	size_t len; // bytes buffered
} bs_conn;

static bool
bs_open(bs_conn *c, int port)
{
	struct sockaddr_in sa  = { .sin_family = AF_INET,
		 .sin_port                     = htons((uint16_t) port) };
	int                one = 1;
	sa.sin_addr.s_addr     = htonl(INADDR_LOOPBACK);
	c->len                 = 0;
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		return false;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
		close(c->fd);
		return false;
	}
	return true;
}

static bool
bs_write(bs_conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(c->fd, p, n);
		if (k <= 0) {
			return false;
		}
		p += k;
		n -= (size_t) k;
	}
	return true;
}

// bs_fill reads what has arrived into the free end of the buffer; false
// when the buffer is full or the connection ended.
static bool
bs_fill(bs_conn *c)
{
	if (c->len == sizeof(c->buf)) {
		return false;
	}
	ssize_t k = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (k <= 0) {
		return false;
	}
	c->len += (size_t) k;
	return true;
}

// bs_line reads one line (without its CRLF) into out (size outsz).
static bool
bs_line(bs_conn *c, char *out, size_t outsz)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL) {
			size_t n = (size_t) (nl - c->buf) + 1;
			size_t k = n >= 2 ? n - 2 : 0; // less CRLF
			if (k >= outsz) {
				k = outsz - 1;
			}
			memcpy(out, c->buf, k);
			out[k] = '\0';
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			return true;
		}
		if (!bs_fill(c)) {
			return false;
		}
	}
}

// bs_body reads a body of n bytes and its CRLF into out (size outsz).
static bool
bs_body(bs_conn *c, size_t n, char *out, size_t outsz)
{
	if (n + 2 > sizeof(c->buf)) {
		return false;
	}
	while (c->len < n + 2) {
		if (!bs_fill(c)) {
			return false;
		}
	}
	size_t k = n < outsz - 1 ? n : outsz - 1;
	memcpy(out, c->buf, k);
	out[k] = '\0';
	memmove(c->buf, c->buf + n + 2, c->len - n - 2);
	c->len -= n + 2;
	return true;
}

// bs_cmd sends cmd and reads the one-line answer into out; true when it
// begins with want.
static bool
bs_cmd(bs_conn *c, const char *cmd, const char *want, char *out, size_t outsz)
{
	return bs_write(c, cmd, strlen(cmd)) && bs_line(c, out, outsz) &&
	    strncmp(out, want, strlen(want)) == 0;
}

// bs_put formats a put of body into buf; returns its length.
static size_t
bs_put(char *buf, size_t sz, const char *body)
{
	int n = snprintf(
	    buf, sz, "put 1024 0 60 %zu\r\n%s\r\n", strlen(body), body);
	return n > 0 && (size_t) n < sz ? (size_t) n : 0;
}

// bs_open_used opens a connection that puts into the bench's tube.
static bool
bs_open_used(bs_conn *c, int port)
{
	char line[256];
	if (!bs_open(c, port) ||
	    !bs_cmd(c, "use " BS_TUBE "\r\n", "USING", line, sizeof(line))) {
		fprintf(
		    stderr, "beanstalkd on port %d: cannot connect\n", port);
		return false;
	}
	return true;
}

// bs_stat reads one number of "stats-tube" (key: "current-jobs-ready"
// and so on); -1 on error.
static long
bs_stat(bs_conn *c, const char *key)
{
	char line[256], body[8192];
	long bytes;
	if (!bs_cmd(
	        c, "stats-tube " BS_TUBE "\r\n", "OK", line, sizeof(line)) ||
	    sscanf(line, "OK %ld", &bytes) != 1 ||
	    !bs_body(c, (size_t) bytes, body, sizeof(body))) {
		return -1;
	}
	const char *p = strstr(body, key);
	return p != NULL ? strtol(p + strlen(key) + 1, NULL, 10) : -1;
}

// bs_drained waits (bounded: 60 s) until no job of the tube is ready or
// reserved: every job put was deleted.
static bool
bs_drained(bs_conn *c)
{
	double until = bench_now_s() + 60;
	while (bench_now_s() < until) {
		long ready    = bs_stat(c, "current-jobs-ready:");
		long reserved = bs_stat(c, "current-jobs-reserved:");
		if (ready < 0 || reserved < 0) {
			return false;
		}
		if (ready == 0 && reserved == 0) {
			return true;
		}
		struct timespec ts = { 0, 200 * 1000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

static int
bs_worker(int port)
{
	bs_conn c;
	char    line[256], body[256], cmd[512];
	if (!bs_open(&c, port) ||
	    !bs_cmd(
	        &c, "watch " BS_TUBE "\r\n", "WATCHING", line, sizeof(line)) ||
	    !bs_cmd(
	        &c, "ignore default\r\n", "WATCHING", line, sizeof(line))) {
		fprintf(
		    stderr, "bs-worker: cannot connect to port %d\n", port);
		return 3;
	}
	char used[256] = "default";
	int  idle      = 0;
	while (idle < 30) {
		unsigned long long id;
		size_t             bytes;
		if (!bs_cmd(&c, "reserve-with-timeout 1\r\n", "", line,
		        sizeof(line))) {
			return 0; // beanstalkd went away: done
		}
		if (strncmp(line, "TIMED_OUT", 9) == 0) {
			idle++;
			continue;
		}
		if (sscanf(line, "RESERVED %llu %zu", &id, &bytes) != 2 ||
		    !bs_body(&c, bytes, body, sizeof(body))) {
			return 0;
		}
		idle = 0;
		snprintf(cmd, sizeof(cmd), "delete %llu\r\n", id);
		if (!bs_cmd(&c, cmd, "DELETED", line, sizeof(line))) {
			return 1;
		}
		if (body[0] == 'r') { // a reply tube: W2
			if (strcmp(used, body) != 0) {
				snprintf(cmd, sizeof(cmd), "use %s\r\n", body);
				if (!bs_cmd(&c, cmd, "USING", line,
				        sizeof(line))) {
					return 1;
				}
				snprintf(used, sizeof(used), "%s", body);
			}
			(void) bs_put(cmd, sizeof(cmd), "done");
			if (!bs_cmd(&c, cmd, "INSERTED", line, sizeof(line))) {
				return 1;
			}
		}
	}
	return 0;
}

static int
bs_w1(int port, size_t n)
{
	bs_conn c;
	char    put[128], line[256];
	size_t  len = bs_put(put, sizeof(put), "-");
	if (!bs_open_used(&c, port)) {
		return 3;
	}
	double t0 = bench_now_s();
	for (size_t i = 0; i < n; i++) {
		if (!bs_write(&c, put, len) ||
		    !bs_line(&c, line, sizeof(line)) ||
		    strncmp(line, "INSERTED", 8) != 0) {
			fprintf(stderr, "bs-w1: put: %s\n", line);
			return 1;
		}
	}
	double t_put = bench_now_s();
	if (!bs_drained(&c)) {
		fprintf(stderr, "bs-w1: the jobs were not all deleted\n");
		return 1;
	}
	double t1 = bench_now_s();
	printf("beanstalkd w1: %zu jobs, one synchronous put after another: "
	       "put in %.3f s, all deleted in %.3f s: %.0f jobs/s\n",
	    n, t_put - t0, t1 - t0, (double) n / (t1 - t0));
	printf("RESULT bs-w1 jobs_per_s=%.0f\n", (double) n / (t1 - t0));
	close(c.fd);
	return 0;
}

static int
bs_w2(int port, size_t n)
{
	bs_conn c;
	char    tube[64], cmd[256], put[256], line[256], body[64];
	snprintf(tube, sizeof(tube), "r%ld", (long) getpid());
	if (!bs_open_used(&c, port)) {
		return 3;
	}
	snprintf(cmd, sizeof(cmd), "watch %s\r\n", tube);
	if (!bs_cmd(&c, cmd, "WATCHING", line, sizeof(line)) ||
	    !bs_cmd(
	        &c, "ignore default\r\n", "WATCHING", line, sizeof(line))) {
		return 3;
	}
	size_t  len = bs_put(put, sizeof(put), tube);
	double *lat = calloc(n, sizeof(*lat));
	for (size_t i = 0; i < n; i++) {
		unsigned long long id;
		size_t             bytes;
		double             t0 = bench_now_s();
		if (!bs_write(&c, put, len) ||
		    !bs_line(&c, line, sizeof(line)) ||
		    strncmp(line, "INSERTED", 8) != 0 ||
		    !bs_cmd(&c, "reserve-with-timeout 10\r\n", "RESERVED",
		        line, sizeof(line)) ||
		    sscanf(line, "RESERVED %llu %zu", &id, &bytes) != 2 ||
		    !bs_body(&c, bytes, body, sizeof(body))) {
			fprintf(stderr, "bs-w2: %s\n", line);
			return 1;
		}
		lat[i] = bench_now_s() - t0;
		snprintf(cmd, sizeof(cmd), "delete %llu\r\n", id);
		if (!bs_cmd(&c, cmd, "DELETED", line, sizeof(line))) {
			return 1;
		}
	}
	qsort(lat, n, sizeof(*lat), bench_cmp_double);
	printf("beanstalkd w2: %zu sequential jobs (put, wait for the "
	       "worker's reply, next): p50 %.0f us, p99 %.0f us\n",
	    n, lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6);
	printf("RESULT bs-w2 p50_us=%.0f p99_us=%.0f\n", lat[n / 2] * 1e6,
	    lat[n * 99 / 100] * 1e6);
	free(lat);
	close(c.fd);
	return 0;
}

static int
bs_w1p(int port, size_t n, size_t batch)
{
	bs_conn c;
	char    one[64], line[256];
	size_t  len = bs_put(one, sizeof(one), "-");
	char   *buf = malloc(len * batch);
	if (!bs_open_used(&c, port)) {
		return 3;
	}
	for (size_t i = 0; i < batch; i++) {
		memcpy(buf + i * len, one, len);
	}
	double t0 = bench_now_s();
	for (size_t off = 0; off < n; off += batch) {
		size_t k = n - off < batch ? n - off : batch;
		if (!bs_write(&c, buf, k * len)) {
			return 1;
		}
		for (size_t i = 0; i < k; i++) {
			if (!bs_line(&c, line, sizeof(line)) ||
			    strncmp(line, "INSERTED", 8) != 0) {
				fprintf(stderr, "bs-w1p: put: %s\n", line);
				return 1;
			}
		}
	}
	if (!bs_drained(&c)) {
		fprintf(stderr, "bs-w1p: the jobs were not all deleted\n");
		return 1;
	}
	double t1 = bench_now_s();
	printf("beanstalkd w1p: %zu jobs, %zu puts in flight at a time: all "
	       "deleted in %.3f s: %.0f jobs/s\n",
	    n, batch, t1 - t0, (double) n / (t1 - t0));
	printf("RESULT bs-w1p jobs_per_s=%.0f\n", (double) n / (t1 - t0));
	free(buf);
	close(c.fd);
	return 0;
}

// ---- nng ----------------------------------------------------------------

static int
nng_echo(const char *url)
{
	nng_socket s;
	int        rv;
	if ((rv = nng_rep0_open(&s)) != 0 ||
	    (rv = nng_listen(s, url, NULL, 0))) {
		fprintf(stderr, "nng-echo: %s: %s\n", url, nng_strerror(rv));
		return 3;
	}
	for (;;) {
		nng_msg *m;
		if (nng_recvmsg(s, &m, 0) != 0) {
			continue;
		}
		if (nng_sendmsg(s, m, 0) != 0) {
			nng_msg_free(m);
		}
	}
}

static int
nng_floor(const char *url, size_t n)
{
	nng_socket s;
	nng_ctx    ctx;
	nng_aio   *aio;
	int        rv;
	if ((rv = nng_req0_open(&s)) != 0 ||
	    (rv = nng_socket_set_ms(
	         s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_dial(s, url, NULL, 0)) != 0 ||
	    (rv = nng_ctx_open(&ctx, s)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		fprintf(stderr, "nng-floor: %s: %s\n", url, nng_strerror(rv));
		return 3;
	}
	nng_aio_set_timeout(aio, 10000);
	double *lat = calloc(n, sizeof(*lat));
	char    payload[64];
	memset(payload, 'x', sizeof(payload));
	double t_all = bench_now_s();
	for (size_t i = 0; i < n; i++) {
		nng_msg *m;
		double   t0 = bench_now_s();
		if (nng_msg_alloc(&m, 0) != 0 ||
		    nng_msg_append(m, payload, sizeof(payload)) != 0) {
			return 1;
		}
		nng_aio_set_msg(aio, m);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0) {
			nng_msg_free(m);
			fprintf(
			    stderr, "nng-floor: send: %s\n", nng_strerror(rv));
			return 1;
		}
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0) {
			fprintf(
			    stderr, "nng-floor: recv: %s\n", nng_strerror(rv));
			return 1;
		}
		nng_msg_free(nng_aio_get_msg(aio));
		lat[i] = bench_now_s() - t0;
	}
	double t = bench_now_s() - t_all;
	qsort(lat, n, sizeof(*lat), bench_cmp_double);
	printf("nng floor: %zu sequential req/rep round trips of 64 bytes: "
	       "p50 %.0f us, p99 %.0f us (%.0f round trips/s)\n",
	    n, lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6, (double) n / t);
	printf("RESULT nng p50_us=%.0f p99_us=%.0f\n", lat[n / 2] * 1e6,
	    lat[n * 99 / 100] * 1e6);
	free(lat);
	nng_aio_free(aio);
	nng_close(s);
	return 0;
}

int
bench_peer_main(int argc, char **argv)
{
	const char *mode  = argv[1];
	const char *url   = NULL;
	int         port  = 0;
	size_t      n     = 5000;
	size_t      batch = 100;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--url") == 0) {
			url = argv[i + 1];
		} else if (strcmp(argv[i], "--port") == 0) {
			port = atoi(argv[i + 1]);
		} else if (strcmp(argv[i], "--jobs") == 0) {
			n = strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--batch") == 0) {
			batch = strtoul(argv[i + 1], NULL, 10);
		} else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (n == 0 || batch == 0) {
		fprintf(stderr, "--jobs and --batch must be positive\n");
		return 2;
	}
	if (strncmp(mode, "nng-", 4) == 0 && url == NULL) {
		fprintf(stderr, "%s needs --url\n", mode);
		return 2;
	}
	if (strncmp(mode, "bs-", 3) == 0 && port <= 0) {
		fprintf(stderr, "%s needs --port\n", mode);
		return 2;
	}
	if (strcmp(mode, "nng-echo") == 0) {
		return nng_echo(url);
	}
	if (strcmp(mode, "nng-floor") == 0) {
		return nng_floor(url, n);
	}
	if (strcmp(mode, "bs-worker") == 0) {
		return bs_worker(port);
	}
	if (strcmp(mode, "bs-w1") == 0) {
		return bs_w1(port, n);
	}
	if (strcmp(mode, "bs-w2") == 0) {
		return bs_w2(port, n);
	}
	if (strcmp(mode, "bs-w1p") == 0) {
		return bs_w1p(port, n, batch);
	}
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
