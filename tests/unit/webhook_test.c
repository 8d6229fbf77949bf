// webhook_test.c — the webhook plugin, loaded through the real loader with
// the coordinator's host API and fed events and alerts as the hook thread
// feeds them, posting to hook_receiver processes on loopback.
//
// Needs $SJE_PLUGIN_PATH (where sje_webhook.so is) and $SJE_BIN (where
// hook_receiver is); ctest sets both. The https cases make their
// certificates with the openssl command. The plugin logs through the
// server's logger into a file of the temp dir, which some cases read.
// Every wait is a bounded poll of a file.
#include "config.h"
#include "events/hooks.h"
#include "log.h"
#include "plugin_host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>

extern char **environ;

#define WAIT_MS 10000 // the longest any bounded wait lasts
#define MAX_RX 8      // receivers running at once
#define BACKOFF "initial_backoff_ms: 50, max_backoff_ms: 200"

static char          t_dir[1024];     // mkdtemp'd; removed at the end
static char          t_log[PATH_MAX]; // the server log the plugin writes
static char          t_tls[1024];     // certificates, once made
static unsigned      t_n;             // numbers file names
static sje__plugins *t_p;             // the loaded plugin set, or NULL
static pid_t         t_pids[MAX_RX];  // receivers running, 0: free slot

// rx is one running hook_receiver.
typedef struct rx {
	pid_t    pid;
	unsigned port;
	char     url[256]; // http(s)://127.0.0.1:PORT/hook
	char     out[PATH_MAX];
	char     log[PATH_MAX];
} rx;

// now_ms returns the monotonic clock in milliseconds.
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// nap sleeps ms milliseconds: the step of a bounded poll.
static void
nap(unsigned ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long) ms * 1000000 };

	nanosleep(&ts, NULL);
}

// slurp returns the contents of path (caller frees), "" when it is
// missing.
static char *
slurp(const char *path)
{
	FILE  *f = fopen(path, "rb");
	char  *buf;
	size_t n   = 0;
	size_t cap = 4096;

	buf = malloc(cap);
	assert_non_null(buf);
	if (f != NULL) {
		size_t got;
		while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
			n += got;
			if (cap - n - 1 == 0) {
				buf = realloc(buf, cap *= 2);
				assert_non_null(buf);
			}
		}
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

// count_lines counts the newlines of s.
static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		n += *s == '\n';
	}
	return n;
}

// wait_lines waits until path has at least n lines (bounded) and returns
// its contents (caller frees).
static char *
wait_lines(const char *path, size_t n)
{
	int64_t end = now_ms() + WAIT_MS;
	char   *text;

	while (count_lines(text = slurp(path)) < n && now_ms() < end) {
		free(text);
		nap(10);
	}
	return text;
}

// wait_text is true once path holds needle (bounded wait).
static bool
wait_text(const char *path, const char *needle)
{
	int64_t end = now_ms() + WAIT_MS;
	bool    found;

	for (;;) {
		char *text = slurp(path);
		found      = strstr(text, needle) != NULL;
		free(text);
		if (found || now_ms() >= end) {
			return found;
		}
		nap(10);
	}
}

// run runs argv (found in PATH) with its output into t_dir/run.out and
// returns its exit status; -1 when it cannot start.
static int
run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	char                       out[PATH_MAX];
	pid_t                      pid;
	int                        st;
	int                        rv;

	snprintf(out, sizeof(out), "%s/run.out", t_dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(
	    &fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rv = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rv != 0) {
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			return -1;
		}
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// rx_start starts hook_receiver on 127.0.0.1:port (0: any) with the extra
// arguments (a NULL-terminated list) and waits for its URL.
static void
rx_start(rx *r, unsigned port, ...)
{
	const char                *bin_dir = getenv("SJE_BIN");
	char                       bin[PATH_MAX];
	char                       listen[64];
	char                       url_file[PATH_MAX];
	char                       err_file[PATH_MAX];
	char                      *argv[24];
	posix_spawn_file_actions_t fa;
	int                        argc = 0;
	int64_t                    end;
	va_list                    ap;
	const char                *a;
	size_t                     slot;
	int                        st;

	assert_non_null(bin_dir);
	memset(r, 0, sizeof(*r));
	t_n++;
	snprintf(bin, sizeof(bin), "%s/hook_receiver", bin_dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(url_file, sizeof(url_file), "%s/url.%u", t_dir, t_n);
	snprintf(r->out, sizeof(r->out), "%s/out.%u", t_dir, t_n);
	snprintf(r->log, sizeof(r->log), "%s/log.%u", t_dir, t_n);
	snprintf(err_file, sizeof(err_file), "%s/rx.%u.err", t_dir, t_n);
	argv[argc++] = bin;
	argv[argc++] = "--listen";
	argv[argc++] = listen;
	argv[argc++] = "--url-file";
	argv[argc++] = url_file;
	argv[argc++] = "--out";
	argv[argc++] = r->out;
	argv[argc++] = "--log";
	argv[argc++] = r->log;
	argv[argc++] = "--exit-with-parent";
	va_start(ap, port);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 23) {
		argv[argc++] = (char *) a;
	}
	va_end(ap);
	argv[argc] = NULL;

	for (slot = 0; slot < MAX_RX && t_pids[slot] != 0; slot++) { }
	assert_true(slot < MAX_RX);
	// Its output goes to a file: ctest waits for every holder of the
	// test's stdout to close it.
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(
	    &fa, 1, err_file, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	st = posix_spawn(&r->pid, bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(st, 0);
	t_pids[slot] = r->pid;
	for (end = now_ms() + WAIT_MS;; nap(10)) {
		char *text = slurp(url_file);
		if (text[0] != '\0') {
			text[strcspn(text, "\n")] = '\0';
			snprintf(r->url, sizeof(r->url), "%s", text);
			free(text);
			break;
		}
		free(text);
		if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
			t_pids[slot] = 0;
			fail_msg(
			    "hook_receiver on %s exited at start", listen);
		}
		if (now_ms() > end) {
			fail_msg("hook_receiver on %s wrote no URL", listen);
		}
	}
	a = strstr(r->url, "127.0.0.1:");
	assert_non_null(a);
	r->port = (unsigned) strtoul(a + strlen("127.0.0.1:"), NULL, 10);
	assert_true(r->port > 0 && (port == 0 || r->port == port));
}

// rx_stop stops r with SIGTERM and checks that it exited 0.
static void
rx_stop(rx *r)
{
	int64_t end = now_ms() + WAIT_MS;
	int     st  = 0;
	size_t  i;

	assert_int_equal(kill(r->pid, SIGTERM), 0);
	while (waitpid(r->pid, &st, WNOHANG) == 0 && now_ms() < end) {
		nap(10);
	}
	if (now_ms() >= end) {
		fail_msg("hook_receiver %d did not stop on SIGTERM", r->pid);
	}
	for (i = 0; i < MAX_RX; i++) {
		if (t_pids[i] == r->pid) {
			t_pids[i] = 0;
		}
	}
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	r->pid = 0;
}

// dead_url writes into url (len bytes) the URL of a receiver that was
// started and stopped: nothing listens there now. *port gets its port.
static void
dead_url(char *url, size_t len, unsigned *port)
{
	rx r;

	rx_start(&r, 0, NULL);
	snprintf(url, len, "%s", r.url);
	*port = r.port;
	rx_stop(&r);
}

// silent_listener returns a socket listening on 127.0.0.1 that never
// answers (the kernel completes connections it does not accept); *port
// gets its port.
static int
silent_listener(unsigned *port)
{
	struct sockaddr_in sa;
	socklen_t          len = sizeof(sa);
	int                fd  = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family      = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

// load writes a config whose plugins list holds the webhook with options
// (the inside of a YAML flow mapping) and loads it as sje-server does,
// into t_p. On failure err holds the loader's line.
static sje_err
load(const char *options, char *err, size_t errlen)
{
	char        path[PATH_MAX];
	FILE       *f;
	sje_config *cfg = NULL;
	sje_err     rv;

	snprintf(path, sizeof(path), "%s/config.%u.yaml", t_dir, ++t_n);
	assert_non_null(f = fopen(path, "w"));
	fprintf(
	    f, "plugins:\n  - name: webhook\n    options: {%s}\n", options);
	assert_int_equal(fclose(f), 0);
	if ((rv = sje_config_load(path, &cfg, err, errlen)) != SJE_OK) {
		return rv;
	}
	rv = sje__plugins_load(cfg, SJE_PLUGIN_ROLE_COORDINATOR,
	    sje__hooks_host_api(), &t_p, err, errlen);
	sje_config_free(cfg);
	return rv;
}

// load_ok loads the webhook with the options formatted from fmt, and
// fails the test when it is refused.
static void load_ok(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
load_ok(const char *fmt, ...)
{
	char    options[2048];
	char    err[512] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(options, sizeof(options), fmt, ap);
	va_end(ap);
	if (load(options, err, sizeof(err)) != SJE_OK) {
		fail_msg("load {%s}: %s", options, err);
	}
	assert_non_null(t_p);
}

// unload finis the plugin (drains, joins) and returns how long it took.
static int64_t
unload(void)
{
	int64_t t0 = now_ms();

	sje__plugins_free(t_p);
	t_p = NULL;
	return now_ms() - t0;
}

// post_event feeds the plugins an event of task_id entering state, with
// seq; its event_json, and a newline, is appended to expect (len bytes)
// when expect is not NULL.
static void
post_event(const char *task_id, const char *state, uint64_t seq, char *expect,
    size_t len)
{
	sje_job_event ev;
	char          json[256];

	snprintf(json, sizeof(json),
	    "{\"seq\":%llu,\"task_id\":\"%s\",\"function\":\"noop\","
	    "\"state\":\"%s\"}",
	    (unsigned long long) seq, task_id, state);
	memset(&ev, 0, sizeof(ev));
	ev.size       = sizeof(ev);
	ev.source     = "coordinator";
	ev.task_id    = task_id;
	ev.function   = "noop";
	ev.state      = state;
	ev.attempt    = 1;
	ev.seq        = seq;
	ev.at_ms      = 1700000000000;
	ev.event_json = json;
	sje__plugins_event(t_p, &ev);
	if (expect != NULL) {
		size_t n = strlen(expect);
		snprintf(expect + n, len - n, "%s\n", json);
	}
}

// post_alert feeds the webhook the alert "backlog", firing.
static void
post_alert(const char *alert_json)
{
	sje_alert a;

	memset(&a, 0, sizeof(a));
	a.size       = sizeof(a);
	a.name       = "backlog";
	a.status     = "firing";
	a.when       = "queue_depth > 10";
	a.metric     = "queue_depth";
	a.value      = 12;
	a.threshold  = 10;
	a.at_ms      = 1700000000000;
	a.alert_json = alert_json;
	sje__plugins_alert(t_p, "webhook", &a);
}

// assert_file_is checks that path holds exactly want.
static void
assert_file_is(const char *path, const char *want)
{
	char *got = slurp(path);

	assert_string_equal(got, want);
	free(got);
}

// make_certs makes, once, in t_tls: a CA (ca.pem), a server certificate
// it signed for DNS:localhost (srv.pem, srv.key) and another CA
// (other.pem).
static void
make_certs(void)
{
	char ca_key[PATH_MAX], ca[PATH_MAX], other_key[PATH_MAX],
	    other[PATH_MAX], key[PATH_MAX], csr[PATH_MAX], crt[PATH_MAX],
	    ext[PATH_MAX];
	FILE *f;

	if (t_tls[0] != '\0') {
		return;
	}
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", t_dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", t_dir);
	snprintf(other_key, sizeof(other_key), "%s/other.key", t_dir);
	snprintf(other, sizeof(other), "%s/other.pem", t_dir);
	snprintf(key, sizeof(key), "%s/srv.key", t_dir);
	snprintf(csr, sizeof(csr), "%s/srv.csr", t_dir);
	snprintf(crt, sizeof(crt), "%s/srv.pem", t_dir);
	snprintf(ext, sizeof(ext), "%s/srv.ext", t_dir);
	assert_non_null(f = fopen(ext, "w"));
	// mbedTLS 2.28 matches DNS names only, never IP addresses.
	fputs("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
	      "keyUsage=critical,digitalSignature\n"
	      "extendedKeyUsage=serverAuth\n",
	    f);
	assert_int_equal(fclose(f), 0);

	{
		char *mk_ca[] = { "openssl", "req", "-x509", "-newkey", "ec",
			"-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
			"-keyout", ca_key, "-out", ca, "-days", "2", "-subj",
			"/CN=webhook-test-ca", "-addext",
			"basicConstraints=critical,CA:TRUE", "-addext",
			"keyUsage=critical,keyCertSign,cRLSign", NULL };
		char *mk_other[] = { "openssl", "req", "-x509", "-newkey",
			"ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
			"-nodes", "-keyout", other_key, "-out", other, "-days",
			"2", "-subj", "/CN=another-ca", "-addext",
			"basicConstraints=critical,CA:TRUE", "-addext",
			"keyUsage=critical,keyCertSign,cRLSign", NULL };
		char *mk_csr[]   = { "openssl", "req", "-new", "-newkey", "ec",
			  "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
			  "-keyout", key, "-out", csr, "-subj", "/CN=localhost",
			  NULL };
		char *sign[] = { "openssl", "x509", "-req", "-in", csr, "-CA",
			ca, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
			"-days", "2", "-extfile", ext, NULL };
		int   rv     = run(mk_ca);

		if (rv == -1) {
			fail_msg("the https tests need the openssl command "
			         "(a build dependency of SJE); it is not in "
			         "PATH");
		}
		if (rv != 0 || run(mk_other) != 0 || run(mk_csr) != 0 ||
		    run(sign) != 0) {
			fail_msg("openssl failed; see %s/run.out", t_dir);
		}
	}
	snprintf(t_tls, sizeof(t_tls), "%s", t_dir);
}

// ---- the cases ----------------------------------------------------------

// With on: [FAILED], the FAILED events arrive, bodies equal to event_json,
// in order; SUCCEEDED and RUNNING ones are not posted.
static void
test_webhook_posts_failed_events_in_order_and_skips_others(void **state)
{
	rx   r;
	char want[1024] = "";

	(void) state;
	rx_start(&r, 0, NULL);
	load_ok("url: \"%s\", on: [FAILED], " BACKOFF, r.url);
	post_event("order-1", "FAILED", 1, want, sizeof(want));
	post_event("order-2", "SUCCEEDED", 2, NULL, 0);
	post_event("order-3", "RUNNING", 3, NULL, 0);
	post_event("order-4", "FAILED", 4, want, sizeof(want));
	free(wait_lines(r.out, 2));
	unload();
	assert_file_is(r.out, want);
	rx_stop(&r);
}

// Every POST carries the plugin's headers and the configured ones (one
// from the environment), to the URL's path and query; no header value
// reaches the log.
static void
test_webhook_sends_its_headers_and_the_configured_ones(void **state)
{
	rx    r;
	char  want[1024] = "";
	char  line[2048];
	char *log;
	char *ours;

	(void) state;
	setenv("WEBHOOK_TEST_TOKEN", "Bearer s3cret-token", 1);
	rx_start(&r, 0, NULL);
	load_ok("url: \"%s?x=1\", on: [CANCELLED], headers: {X-Test: hello}, "
	        "headers_env: {Authorization: WEBHOOK_TEST_TOKEN}",
	    r.url);
	post_event("hdr-1", "CANCELLED", 7, want, sizeof(want));
	log = wait_lines(r.log, 1);
	unload();
	snprintf(line, sizeof(line),
	    "200 /hook?x=1|User-Agent: sje-webhook/1.0|Content-Type: "
	    "application/json|X-SJE-Kind: event|X-SJE-Seq: 7|Authorization: "
	    "Bearer s3cret-token|X-Test: hello|%s",
	    want);
	assert_string_equal(log, line);
	free(log);
	ours = slurp(t_log);
	assert_null(strstr(ours, "s3cret"));
	free(ours);
	rx_stop(&r);
	unsetenv("WEBHOOK_TEST_TOKEN");
}

// Events posted while nobody listens are retried until a receiver comes
// up on that port, then each arrives exactly once, in order.
static void
test_webhook_delivers_each_event_once_to_a_receiver_that_comes_up_late(
    void **state)
{
	rx       r;
	char     url[256];
	char     want[2048] = "";
	char     task[32];
	unsigned port;
	int      i;

	(void) state;
	dead_url(url, sizeof(url), &port);
	load_ok("url: \"%s\", max_attempts: 1000, " BACKOFF, url);
	for (i = 1; i <= 5; i++) {
		snprintf(task, sizeof(task), "late-%d", i);
		post_event(task, "FAILED", (uint64_t) i, want, sizeof(want));
	}
	assert_true(wait_text(t_log, "[late-1] webhook: cannot deliver"));
	rx_start(&r, port, NULL);
	free(wait_lines(r.out, 5));
	unload();
	assert_file_is(r.out, want);
	rx_stop(&r);
}

// Three 503s, then a 200: four requests, one delivery.
static void
test_webhook_retries_a_503_until_it_is_delivered(void **state)
{
	rx    r;
	char  want[512] = "";
	char *log;
	char *p;
	int   n503 = 0;

	(void) state;
	rx_start(&r, 0, "--fail-first", "3", NULL);
	load_ok("url: \"%s\", " BACKOFF, r.url);
	post_event("busy-1", "FAILED", 1, want, sizeof(want));
	free(wait_lines(r.out, 1));
	unload();
	assert_file_is(r.out, want);
	log = slurp(r.log);
	assert_int_equal(count_lines(log), 4);
	for (p = log; (p = strstr(p, "503 /hook")) != NULL; p++) {
		n503++;
	}
	assert_int_equal(n503, 3);
	assert_non_null(strstr(log, "\n200 /hook"));
	free(log);
	rx_stop(&r);
}

// A 400 is final: the event is sent once and dropped with a line naming
// its job, and the next event still goes.
static void
test_webhook_drops_an_event_refused_with_400_without_retrying(void **state)
{
	rx    r;
	char  first[512]  = "";
	char  second[512] = "";
	char *log;

	(void) state;
	rx_start(&r, 0, "--status", "400", NULL);
	load_ok("url: \"%s\", " BACKOFF, r.url);
	post_event("bad-1", "FAILED", 1, first, sizeof(first));
	post_event("bad-2", "FAILED", 2, second, sizeof(second));
	log = wait_lines(r.log, 2);
	unload();
	free(log);
	log = slurp(r.log); // after fini: nothing more came
	assert_int_equal(count_lines(log), 2);
	assert_non_null(strstr(log, first));
	assert_non_null(strstr(log, second));
	assert_true(strstr(log, first) < strstr(log, second));
	free(log);
	assert_file_is(r.out, "");
	assert_true(wait_text(t_log,
	    "[bad-1] webhook: event seq 1 (FAILED) "
	    "refused"));
	rx_stop(&r);
}

// An alert is posted as its alert_json, marked as an alert, with no seq.
static void
test_webhook_posts_an_alert_with_its_alert_json(void **state)
{
	static const char json[] = "{\"alert\":\"backlog\",\"status\":"
	                           "\"firing\",\"value\":12}";
	rx                r;
	char             *log;

	(void) state;
	rx_start(&r, 0, NULL);
	load_ok("url: \"%s\", " BACKOFF, r.url);
	post_alert(json);
	log = wait_lines(r.log, 1);
	unload();
	assert_non_null(strstr(log, "|X-SJE-Kind: alert|"));
	assert_null(strstr(log, "X-SJE-Seq"));
	free(log);
	assert_file_is(r.out,
	    "{\"alert\":\"backlog\",\"status\":\"firing\","
	    "\"value\":12}\n");
	rx_stop(&r);
}

// alerts: false keeps alerts back but not events.
static void
test_webhook_posts_no_alert_when_alerts_is_false(void **state)
{
	rx   r;
	char want[512] = "";

	(void) state;
	rx_start(&r, 0, NULL);
	load_ok("url: \"%s\", alerts: false, " BACKOFF, r.url);
	post_alert("{\"alert\":\"backlog\"}");
	post_event("quiet-1", "FAILED", 1, want, sizeof(want));
	free(wait_lines(r.out, 1));
	unload();
	assert_file_is(r.out, want); // the alert would have come first
	rx_stop(&r);
}

// The hook only queues: 1000 events take far less than a second with
// nobody listening, and fini drops them after drain_ms.
static void
test_webhook_queues_events_at_once_while_the_receiver_is_down(void **state)
{
	char     url[256];
	char     task[32];
	unsigned port;
	int64_t  t0;
	int64_t  took;
	int      i;

	(void) state;
	dead_url(url, sizeof(url), &port);
	load_ok("url: \"%s\", drain_ms: 100, " BACKOFF, url);
	t0 = now_ms();
	for (i = 1; i <= 1000; i++) {
		snprintf(task, sizeof(task), "fast-%d", i);
		post_event(task, "FAILED", (uint64_t) i, NULL, 0);
	}
	took = now_ms() - t0;
	assert_true(took < 1000); // microseconds each, in fact
	unload();
	assert_true(
	    wait_text(t_log, "stopping: dropped 1000 items not delivered"));
}

// With queue_max 5 and 20 events while the receiver is down, the 5 newest
// arrive, and one line counts the 15 pushed out.
static void
test_webhook_overflow_drops_the_oldest_events(void **state)
{
	rx       r;
	char     url[256];
	char     want[4096] = "";
	char     task[32];
	unsigned port;
	int      i;

	(void) state;
	dead_url(url, sizeof(url), &port);
	load_ok(
	    "url: \"%s\", queue_max: 5, max_attempts: 1000, " BACKOFF, url);
	for (i = 1; i <= 20; i++) {
		snprintf(task, sizeof(task), "over-%d", i);
		post_event(task, "FAILED", (uint64_t) i, i > 15 ? want : NULL,
		    sizeof(want));
	}
	rx_start(&r, port, NULL);
	free(wait_lines(r.out, 5));
	unload();
	assert_file_is(r.out, want);
	assert_true(wait_text(t_log,
	    "queue full (queue_max 5): dropped the "
	    "15 oldest items"));
	rx_stop(&r);
}

// fini wakes the back-off, retries until drain_ms is over, then drops
// what is left with one line.
static void
test_webhook_fini_returns_within_drain_ms_when_the_receiver_is_dead(
    void **state)
{
	char     url[256];
	unsigned port;
	int64_t  took;

	(void) state;
	dead_url(url, sizeof(url), &port);
	load_ok(
	    "url: \"%s\", drain_ms: 500, max_attempts: 1000, " BACKOFF, url);
	post_event("dead-1", "FAILED", 1, NULL, 0);
	post_event("dead-2", "FAILED", 2, NULL, 0);
	post_event("dead-3", "FAILED", 3, NULL, 0);
	assert_true(wait_text(t_log, "[dead-1] webhook: cannot deliver"));
	took = unload();
	assert_true(took < 500 + 1500);
	assert_true(
	    wait_text(t_log, "stopping: dropped 3 items not delivered"));
}

// A receiver that never answers costs timeout_ms per attempt; after
// max_attempts the event is dropped.
static void
test_webhook_retries_a_request_that_times_out(void **state)
{
	unsigned port;
	int      fd;

	(void) state;
	fd = silent_listener(&port);
	load_ok("url: \"http://127.0.0.1:%u/hook\", timeout_ms: 100, "
	        "max_attempts: 2, " BACKOFF,
	    port);
	post_event("slow-1", "FAILED", 1, NULL, 0);
	assert_true(wait_text(t_log,
	    "[slow-1] webhook: cannot deliver event "
	    "seq 1 (FAILED) to http://127.0.0.1"));
	assert_true(wait_text(t_log,
	    "[slow-1] webhook: event seq 1 (FAILED) "
	    "dropped after 2 attempts (last: Timed "
	    "out)"));
	unload();
	close(fd);
}

// A request in flight when drain_ms ends is cancelled: fini does not wait
// for timeout_ms.
static void
test_webhook_fini_cancels_a_request_the_receiver_never_answers(void **state)
{
	struct pollfd pfd;
	unsigned      port;
	int64_t       took;
	int           conn;

	(void) state;
	pfd.fd     = silent_listener(&port);
	pfd.events = POLLIN;
	load_ok("url: \"http://127.0.0.1:%u/hook\", timeout_ms: 60000, "
	        "drain_ms: 300",
	    port);
	post_event("hung-1", "FAILED", 1, NULL, 0);
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1); // the POST is on its way
	assert_true((conn = accept(pfd.fd, NULL, NULL)) >= 0);
	took = unload();
	assert_true(took < 300 + 1500);
	assert_true(
	    wait_text(t_log, "stopping: dropped 1 item not delivered"));
	close(conn);
	close(pfd.fd);
}

// For a host whose structs end before event_json and alert_json, the
// plugin renders the bodies itself, as GET /events does.
static void
test_webhook_renders_bodies_for_a_host_that_gives_no_json(void **state)
{
	rx            r;
	sje_job_event ev;
	sje_alert     a;

	(void) state;
	rx_start(&r, 0, NULL);
	load_ok("url: \"%s\", " BACKOFF, r.url);
	memset(&ev, 0, sizeof(ev));
	ev.size          = offsetof(sje_job_event, event_json);
	ev.source        = "coordinator";
	ev.task_id       = "old-1";
	ev.function      = "resize";
	ev.state         = "FAILED";
	ev.attempt       = 2;
	ev.seq           = 9;
	ev.at_ms         = 1700000000123;
	ev.worker        = "w1";
	ev.error_type    = "exit";
	ev.error_message = "exited with status 3";
	sje__plugins_event(t_p, &ev);
	memset(&a, 0, sizeof(a));
	a.size      = offsetof(sje_alert, alert_json);
	a.name      = "backlog";
	a.status    = "resolved";
	a.when      = "queue_depth > 10";
	a.metric    = "queue_depth";
	a.value     = 2.5;
	a.threshold = 10;
	a.at_ms     = 1700000000000;
	sje__plugins_alert(t_p, "webhook", &a);
	free(wait_lines(r.out, 2));
	unload();
	assert_file_is(r.out,
	    "{\"seq\":9,\"task_id\":\"old-1\",\"function\":\"resize\","
	    "\"state\":\"FAILED\",\"attempt\":2,\"worker\":\"w1\","
	    "\"at\":\"2023-11-14T22:13:20.123Z\",\"error\":{\"type\":"
	    "\"exit\",\"message\":\"exited with status 3\"}}\n"
	    "{\"alert\":\"backlog\",\"status\":\"resolved\",\"when\":"
	    "\"queue_depth > 10\",\"metric\":\"queue_depth\",\"value\":2.5,"
	    "\"threshold\":10.0,\"at_ms\":1700000000000,\"notify\":"
	    "\"webhook\"}\n");
	rx_stop(&r);
}

// Each bad option stops the load with a line naming the key.
static void
test_webhook_refuses_bad_options_naming_the_key(void **state)
{
	static const struct {
		const char *options;
		const char *says;
	} cases[] = {
		{ "url: \"http://127.0.0.1:1/h\", colour: red",
		    "options.colour: unknown key" },
		{ "on: [FAILED]", "options.url: required" },
		{ "url: \"no url at all\"", "options.url: not a valid URL" },
		{ "url: \"ftp://127.0.0.1/x\"",
		    "options.url: the scheme must be http or https" },
		{ "url: \"http://127.0.0.1:1/h\", on: [FAILED, FINISHED]",
		    "options.on[1]: 'FINISHED' is not a state (one of PENDING, "
		    "SCHEDULED, QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, "
		    "UPSTREAM_FAILED)" },
		{ "url: \"http://127.0.0.1:1/h\", on: [failed]",
		    "options.on[0]: 'failed' is not a state" },
		{ "url: \"http://127.0.0.1:1/h\", on: FAILED",
		    "options.on: expected a list of states (PENDING, SCHEDULED, "
		    "QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, "
		    "UPSTREAM_FAILED)" },
		{ "url: \"http://127.0.0.1:1/h\", alerts: 1",
		    "options.alerts: expected true or false" },
		{ "url: \"http://127.0.0.1:1/h\", timeout_ms: 5s",
		    "options.timeout_ms: expected an integer from 1 to "
		    "600000" },
		{ "url: \"http://127.0.0.1:1/h\", queue_max: 0",
		    "options.queue_max: expected an integer" },
		{ "url: \"http://127.0.0.1:1/h\", initial_backoff_ms: 900, "
		  "max_backoff_ms: 800",
		    "options.max_backoff_ms: 800 is less than" },
		{ "url: \"http://127.0.0.1:1/h\", headers: {Host: x}",
		    "options.headers.Host: set by the plugin" },
		{ "url: \"http://127.0.0.1:1/h\", headers_env: "
		  "{Authorization: WEBHOOK_TEST_UNSET}",
		    "options.headers_env.Authorization: environment variable "
		    "WEBHOOK_TEST_UNSET is not set" },
		{ "url: \"https://127.0.0.1:1/h\", ca_file: /nonexistent.pem",
		    "options.ca_file: cannot load /nonexistent.pem" },
	};
	char   err[512];
	char   want[256];
	size_t i;

	(void) state;
	unsetenv("WEBHOOK_TEST_UNSET");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(
		    load(cases[i].options, err, sizeof(err)), SJE_OK);
		assert_null(t_p);
		snprintf(want, sizeof(want), "plugin webhook: init failed: %s",
		    cases[i].says);
		if (strstr(err, want) == NULL) {
			fail_msg("{%s}: got '%s', want '%s...'",
			    cases[i].options, err, want);
		}
	}
}

// Over https, with ca_file and server_name, the event arrives.
static void
test_webhook_delivers_over_https_to_a_server_its_ca_signed(void **state)
{
	rx   r;
	char want[512] = "";
	char crt[PATH_MAX], key[PATH_MAX];

	(void) state;
	make_certs();
	snprintf(crt, sizeof(crt), "%s/srv.pem", t_tls);
	snprintf(key, sizeof(key), "%s/srv.key", t_tls);
	rx_start(&r, 0, "--tls-cert", crt, "--tls-key", key, NULL);
	assert_memory_equal(r.url, "https://", 8);
	load_ok("url: \"%s\", ca_file: \"%s/ca.pem\", server_name: "
	        "localhost, " BACKOFF,
	    r.url, t_tls);
	post_event("tls-1", "FAILED", 1, want, sizeof(want));
	free(wait_lines(r.out, 1));
	unload();
	assert_file_is(r.out, want);
	rx_stop(&r);
}

// A server whose certificate another CA signed gets nothing, the failure
// is logged, and fini still returns in time.
static void
test_webhook_does_not_deliver_to_a_server_of_another_ca(void **state)
{
	rx      r;
	char    crt[PATH_MAX], key[PATH_MAX];
	int64_t took;

	(void) state;
	make_certs();
	snprintf(crt, sizeof(crt), "%s/srv.pem", t_tls);
	snprintf(key, sizeof(key), "%s/srv.key", t_tls);
	rx_start(&r, 0, "--tls-cert", crt, "--tls-key", key, NULL);
	load_ok("url: \"%s\", ca_file: \"%s/other.pem\", server_name: "
	        "localhost, drain_ms: 300, " BACKOFF,
	    r.url, t_tls);
	post_event("tls-bad-1", "FAILED", 1, NULL, 0);
	assert_true(wait_text(t_log, "[tls-bad-1] webhook: cannot deliver"));
	assert_true(wait_text(t_log, "TLS handshake failed"));
	took = unload();
	assert_true(took < 300 + 1500);
	assert_file_is(r.out, "");
	assert_file_is(r.log, "");
	rx_stop(&r);
}

// ---- fixtures -----------------------------------------------------------

// group_setup makes the temp dir and sends the server log to a file in it.
static int
group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void) state;
	snprintf(t_dir, sizeof(t_dir), "%s/webhook_test.XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(t_dir) == NULL) {
		return -1;
	}
	snprintf(t_log, sizeof(t_log), "%s/server.log", t_dir);
	// sje-server links nng itself, so unloading the plugin leaves nng
	// loaded. This program would not: the linker drops a library none of
	// its own code calls, and then each dlclose of the plugin unloaded
	// libnng (running its atexit nng_fini) with nng's threads still
	// about. One call keeps it linked, as in the server.
	if (nng_version()[0] == '\0') {
		return -1;
	}
	if (getenv("SJE_PLUGIN_PATH") == NULL || getenv("SJE_BIN") == NULL) {
		fprintf(stderr,
		    "webhook_test: set SJE_PLUGIN_PATH and SJE_BIN "
		    "(ctest does)\n");
		return -1;
	}
	return sje__log_open("webhook_test", "debug", "text", t_log) == SJE_OK
	    ? 0
	    : -1;
}

// teardown unloads the plugin and kills the receivers a failed case left.
static int
teardown(void **state)
{
	size_t i;
	int    st;

	(void) state;
	sje__plugins_free(t_p);
	t_p = NULL;
	for (i = 0; i < MAX_RX; i++) {
		if (t_pids[i] != 0) {
			kill(t_pids[i], SIGKILL);
			waitpid(t_pids[i], &st, 0);
			t_pids[i] = 0;
		}
	}
	return 0;
}

// group_teardown closes the log and removes the temp dir, unless
// SJE_KEEP_TMP is set.
static int
group_teardown(void **state)
{
	char *rm[] = { "rm", "-rf", t_dir, NULL };

	(void) state;
	sje__log_close();
	if (getenv("SJE_KEEP_TMP") != NULL) {
		fprintf(stderr, "webhook_test: kept %s\n", t_dir);
		return 0;
	}
	return run(rm) == 0 ? 0 : -1;
}

// main runs the cases in order; each leaves no plugin or receiver behind.
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
		    test_webhook_posts_failed_events_in_order_and_skips_others,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_sends_its_headers_and_the_configured_ones,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_delivers_each_event_once_to_a_receiver_that_comes_up_late,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_retries_a_503_until_it_is_delivered,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_drops_an_event_refused_with_400_without_retrying,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_posts_an_alert_with_its_alert_json, teardown),
		cmocka_unit_test_teardown(
		    test_webhook_posts_no_alert_when_alerts_is_false,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_queues_events_at_once_while_the_receiver_is_down,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_overflow_drops_the_oldest_events, teardown),
		cmocka_unit_test_teardown(
		    test_webhook_fini_returns_within_drain_ms_when_the_receiver_is_dead,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_retries_a_request_that_times_out, teardown),
		cmocka_unit_test_teardown(
		    test_webhook_fini_cancels_a_request_the_receiver_never_answers,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_renders_bodies_for_a_host_that_gives_no_json,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_refuses_bad_options_naming_the_key, teardown),
		cmocka_unit_test_teardown(
		    test_webhook_delivers_over_https_to_a_server_its_ca_signed,
		    teardown),
		cmocka_unit_test_teardown(
		    test_webhook_does_not_deliver_to_a_server_of_another_ca,
		    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
