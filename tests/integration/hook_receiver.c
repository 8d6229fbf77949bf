// hook_receiver.c — a small HTTP(S) server on loopback that records the
// POSTs it gets, for the webhook plugin's tests.
//
//   hook_receiver --listen HOST:PORT --url-file FILE --out FILE
//                 [--log FILE] [--fail-first N] [--status CODE]
//                 [--tls-cert PEM --tls-key PEM] [--exit-with-parent]
//
// It serves POST on every path. Each request is answered 200 {"ok":true},
// except that the first N are answered 503 (--fail-first) and that
// --status makes every other answer that code. The body of each request
// answered 2xx is written to --out as one line (what was delivered, in
// order); with --log every request is written there as one line:
//
//   STATUS PATH|User-Agent: v|Content-Type: v|X-SJE-Kind: v|X-SJE-Seq: v|
//   Authorization: v|X-Test: v|BODY
//
// (headers it did not get are left out). PORT 0 takes any free port. Once
// it listens it writes its URL, http(s)://HOST:PORT/hook, to --url-file
// (atomically: a temporary file, then rename). It runs until SIGTERM or
// SIGINT (with --exit-with-parent, also when the process that started it
// dies: a test that crashes leaves no receiver behind), then stops the
// server and exits 0.
//
// Each response is written as one buffer (status line, headers and body),
// which keeps nng from splitting it into two TLS records. Handlers run on
// nng's threads: rx.mtx guards the files and the counter.
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

// rx is the receiver: its files and counters.
static struct {
	pthread_mutex_t mtx;
	FILE           *out;        // bodies answered 2xx (mtx)
	FILE           *log;        // every request, or NULL (mtx)
	unsigned long   fail_first; // 503s still to give (mtx)
	int             status;     // every other answer; 0: 200
} rx = { .mtx = PTHREAD_MUTEX_INITIALIZER };

// rx_call is one response being written.
typedef struct rx_call {
	nng_aio *haio; // the handler's: finished when the write ends
	nng_aio *wio;
	char     buf[256];
} rx_call;

// rx_die prints what failed and exits 1.
static void rx_die(const char *what, int rv) __attribute__((noreturn));

static void
rx_die(const char *what, int rv)
{
	fprintf(stderr, "hook_receiver: %s: %s\n", what,
	    rv != 0 ? nng_strerror(rv) : "failed");
	exit(1);
}

// rx_reason is a reason phrase for code.
static const char *
rx_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

// rx_written ends the handler's call once the response is written.
static void
rx_written(void *arg)
{
	rx_call *c    = arg;
	nng_aio *haio = c->haio;
	int      rv   = nng_aio_result(c->wio);

	nng_aio_reap(c->wio); // not nng_aio_free: this is its callback
	free(c);
	nng_aio_set_output(haio, 0, NULL); // we answered ourselves
	nng_aio_finish(haio, rv);
}

// rx_log_header appends "|Name: value" for a header req has.
static void
rx_log_header(nng_http_req *req, const char *name)
{
	const char *v = nng_http_req_get_header(req, name);

	if (v != NULL) {
		fprintf(rx.log, "|%s: %s", name, v);
	}
}

// rx_handle records one request and answers it.
static void
rx_handle(nng_aio *haio)
{
	nng_http_req  *req  = nng_aio_get_input(haio, 0);
	nng_http_conn *conn = nng_aio_get_input(haio, 2);
	void          *body;
	size_t         len;
	int            code;
	int            n;
	rx_call       *c;
	nng_iov        iov;
	int            rv;
	const char    *reply;

	nng_http_req_get_data(req, &body, &len);
	pthread_mutex_lock(&rx.mtx);
	code = rx.status != 0 ? rx.status : 200;
	if (rx.fail_first > 0) {
		rx.fail_first--;
		code = 503;
	}
	if (code >= 200 && code < 300) {
		fwrite(body, 1, len, rx.out);
		fputc('\n', rx.out);
		fflush(rx.out);
	}
	if (rx.log != NULL) {
		fprintf(rx.log, "%d %s", code, nng_http_req_get_uri(req));
		rx_log_header(req, "User-Agent");
		rx_log_header(req, "Content-Type");
		rx_log_header(req, "X-SJE-Kind");
		rx_log_header(req, "X-SJE-Seq");
		rx_log_header(req, "Authorization");
		rx_log_header(req, "X-Test");
		fputc('|', rx.log);
		fwrite(body, 1, len, rx.log);
		fputc('\n', rx.log);
		fflush(rx.log);
	}
	pthread_mutex_unlock(&rx.mtx);

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (rv = nng_aio_alloc(&c->wio, rx_written, c)) != 0) {
		free(c);
		nng_aio_finish(haio, NNG_ENOMEM);
		return;
	}
	reply = code >= 200 && code < 300 ? "{\"ok\":true}" : "{\"ok\":false}";
	n     = snprintf(c->buf, sizeof(c->buf),
	        "HTTP/1.1 %d %s\r\n"
	            "Content-Type: application/json\r\n"
	            "Content-Length: %zu\r\n"
	            "\r\n"
	            "%s",
	        code, rx_reason(code), strlen(reply), reply);
	c->haio     = haio;
	iov.iov_buf = c->buf;
	iov.iov_len = (size_t) n;
	nng_aio_set_iov(c->wio, 1, &iov);
	nng_aio_set_timeout(c->wio, 10000);
	nng_http_conn_write_all(conn, c->wio);
}

// rx_read_file returns the whole file at path, NUL-terminated; exits on
// failure.
static char *
rx_read_file(const char *path)
{
	FILE  *f = fopen(path, "rb");
	char  *buf;
	long   n;
	size_t got;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t) n + 1)) == NULL) {
		rx_die(path, 0);
	}
	got      = fread(buf, 1, (size_t) n, f);
	buf[got] = '\0';
	fclose(f);
	return buf;
}

// rx_usage prints the usage and exits 2.
static void rx_usage(void) __attribute__((noreturn));

static void
rx_usage(void)
{
	fprintf(stderr,
	    "usage: hook_receiver --listen HOST:PORT --url-file FILE --out "
	    "FILE [--log FILE]\n"
	    "       [--fail-first N] [--status CODE] [--tls-cert PEM "
	    "--tls-key PEM]\n"
	    "       [--exit-with-parent]\n");
	exit(2);
}

// main parses the arguments, starts the server, writes the URL file and
// serves until SIGTERM or SIGINT.
int
main(int argc, char **argv)
{
	const char       *listen = NULL, *url_file = NULL, *out = NULL;
	const char       *log = NULL, *cert = NULL, *key = NULL;
	char              url[300], host[256], tmp[4096];
	const char       *colon;
	nng_url          *u;
	nng_http_server  *srv;
	nng_http_handler *h;
	nng_sockaddr      sa;
	sigset_t          sigs;
	FILE             *f;
	int               rv, sig, i;
	bool              with_parent = false;
	pid_t             parent      = getppid();

	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--exit-with-parent") == 0) {
			with_parent = true;
			i--; // takes no value
		} else if (v == NULL) {
			rx_usage();
		} else if (strcmp(a, "--listen") == 0) {
			listen = v;
		} else if (strcmp(a, "--url-file") == 0) {
			url_file = v;
		} else if (strcmp(a, "--out") == 0) {
			out = v;
		} else if (strcmp(a, "--log") == 0) {
			log = v;
		} else if (strcmp(a, "--fail-first") == 0) {
			rx.fail_first = strtoul(v, NULL, 10);
		} else if (strcmp(a, "--status") == 0) {
			rx.status = atoi(v);
		} else if (strcmp(a, "--tls-cert") == 0) {
			cert = v;
		} else if (strcmp(a, "--tls-key") == 0) {
			key = v;
		} else {
			rx_usage();
		}
	}
	if (i != argc || listen == NULL || url_file == NULL || out == NULL ||
	    (cert == NULL) != (key == NULL) ||
	    (colon = strrchr(listen, ':')) == NULL ||
	    (size_t) (colon - listen) >= sizeof(host) ||
	    (rx.status != 0 && (rx.status < 100 || rx.status > 599))) {
		rx_usage();
	}
	memcpy(host, listen, (size_t) (colon - listen));
	host[colon - listen] = '\0';

	// Before nng starts its threads, so that they inherit the mask.
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (with_parent &&
	    (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)) {
		return 1; // the parent is gone already
	}

	if ((rx.out = fopen(out, "a")) == NULL ||
	    (log != NULL && (rx.log = fopen(log, "a")) == NULL)) {
		rx_die("cannot open --out or --log", 0);
	}
	(void) snprintf(
	    url, sizeof(url), "%s://%s", cert ? "https" : "http", listen);
	if ((rv = nng_url_parse(&u, url)) != 0) {
		rx_die("--listen", rv);
	}
	if ((rv = nng_http_server_hold(&srv, u)) != 0) {
		rx_die("nng_http_server_hold", rv);
	}
	nng_url_free(u);
	if (cert != NULL) {
		nng_tls_config *tls;
		char           *cert_pem = rx_read_file(cert);
		char           *key_pem  = rx_read_file(key);
		if ((rv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_SERVER)) !=
		        0 ||
		    (rv = nng_tls_config_own_cert(
		         tls, cert_pem, key_pem, NULL)) != 0 ||
		    (rv = nng_http_server_set_tls(srv, tls)) != 0) {
			rx_die("tls", rv);
		}
		nng_tls_config_free(tls); // the server holds it
		free(cert_pem);
		free(key_pem);
	}
	if ((rv = nng_http_handler_alloc(&h, "/", rx_handle)) != 0 ||
	    (rv = nng_http_handler_set_method(h, "POST")) != 0 ||
	    (rv = nng_http_handler_set_tree(h)) != 0 ||
	    (rv = nng_http_handler_collect_body(h, true, 16u << 20)) != 0 ||
	    (rv = nng_http_server_add_handler(srv, h)) != 0) {
		rx_die("handler", rv);
	}
	if ((rv = nng_http_server_start(srv)) != 0) {
		rx_die("listen", rv);
	}
	// 1.5.2 reports the bound address (the listener's NNG_OPT_LOCADDR).
	if ((rv = nng_http_server_get_addr(srv, &sa)) != 0 ||
	    sa.s_family != NNG_AF_INET) {
		rx_die("nng_http_server_get_addr", rv);
	}
	(void) snprintf(url, sizeof(url), "%s://%s:%u/hook",
	    cert ? "https" : "http", host, (unsigned) ntohs(sa.s_in.sa_port));
	(void) snprintf(tmp, sizeof(tmp), "%s.tmp", url_file);
	if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%s\n", url) < 0 ||
	    fclose(f) != 0 || rename(tmp, url_file) != 0) {
		rx_die("cannot write --url-file", 0);
	}

	while (sigwait(&sigs, &sig) != 0) { }
	nng_http_server_stop(srv);
	nng_http_server_release(srv);
	fclose(rx.out);
	if (rx.log != NULL) {
		fclose(rx.log);
	}
	return 0;
}
