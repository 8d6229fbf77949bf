// netsec_test.c — which addresses count as loopback (client/core/tls.c),
// the secure-by-default rule of the coordinator (server/door/netsec.c), and
// the bound URLs the listeners report (client/core/util.c).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <nng/nng.h>
#include <stdlib.h>
#include <string.h>

#include "door/netsec.h"
#include "tls.h"
#include "util.h"

static void
test_loopback_hosts_are_localhost_127_8_and_ipv6_one(void **state)
{
	(void) state;
	assert_true(sje__host_is_loopback("localhost"));
	assert_true(sje__host_is_loopback("LOCALHOST"));
	assert_true(sje__host_is_loopback("127.0.0.1"));
	assert_true(sje__host_is_loopback("127.255.0.9"));
	assert_true(sje__host_is_loopback("::1"));
	assert_true(sje__host_is_loopback("[::1]"));
	assert_true(sje__host_is_loopback("::ffff:127.0.0.1"));
	assert_false(sje__host_is_loopback(""));
	assert_false(sje__host_is_loopback("*"));
	assert_false(sje__host_is_loopback("0.0.0.0"));
	assert_false(sje__host_is_loopback("::"));
	assert_false(sje__host_is_loopback("10.0.0.5"));
	assert_false(sje__host_is_loopback("128.0.0.1"));
	assert_false(sje__host_is_loopback("localhost.example.com"));
	assert_false(sje__host_is_loopback("::ffff:10.0.0.1"));
}

// bound_of writes url as sje__bound_url does for port 4242 of family.
static const char *
bound_of(const char *url, uint16_t family, char *buf, size_t len)
{
	nng_sockaddr sa;
	memset(&sa, 0, sizeof(sa));
	sa.s_family  = family;
	uint16_t net = htons(4242);
	if (family == NNG_AF_INET) {
		sa.s_in.sa_port = net;
	} else if (family == NNG_AF_INET6) {
		sa.s_in6.sa_port = net;
	}
	sje__bound_url(url, &sa, buf, len);
	return buf;
}

static void
test_bound_url_takes_the_bound_port_of_either_family(void **state)
{
	(void) state;
	char b[128];
	assert_string_equal("tcp://127.0.0.1:4242",
	    bound_of("tcp://127.0.0.1:0", NNG_AF_INET, b, sizeof(b)));
	// localhost that resolved to ::1: the host stays as configured.
	assert_string_equal("tls+tcp://localhost:4242",
	    bound_of("tls+tcp://localhost:0", NNG_AF_INET6, b, sizeof(b)));
	assert_string_equal("tcp://[::1]:4242",
	    bound_of("tcp://[::1]:0", NNG_AF_INET6, b, sizeof(b)));
	assert_string_equal("http://[::1]:4242",
	    bound_of("http://[::1]:0", NNG_AF_INET6, b, sizeof(b)));
	// No port to replace, or no IP address: unchanged.
	assert_string_equal("tcp://[::1]",
	    bound_of("tcp://[::1]", NNG_AF_INET6, b, sizeof(b)));
	assert_string_equal("ipc:///tmp/sje.sock",
	    bound_of("ipc:///tmp/sje.sock", NNG_AF_IPC, b, sizeof(b)));
	assert_string_equal("tcp://127.0.0.1:0",
	    bound_of("tcp://127.0.0.1:0", NNG_AF_UNSPEC, b, sizeof(b)));
}

static void
test_advertised_url_names_this_host_for_a_wildcard_only(void **state)
{
	(void) state;
	char u[128];
	sje__url_advertised("tcp://0.0.0.0:7100", "coord-a", u, sizeof(u));
	assert_string_equal(u, "tcp://coord-a:7100");
	sje__url_advertised("tls+tcp://[::]:7100", "coord-a", u, sizeof(u));
	assert_string_equal(u, "tls+tcp://coord-a:7100");
	sje__url_advertised("tcp://:7101", "coord-a", u, sizeof(u));
	assert_string_equal(u, "tcp://coord-a:7101");
	sje__url_advertised("tcp://0.0.0.0:7100", "fe80::1", u, sizeof(u));
	assert_string_equal(u, "tcp://[fe80::1]:7100");
	// A host of its own is kept, a loopback one too.
	sje__url_advertised(
	    "tls+tcp://sje.example:7100", "coord-a", u, sizeof(u));
	assert_string_equal(u, "tls+tcp://sje.example:7100");
	sje__url_advertised("tcp://127.0.0.1:7100", "coord-a", u, sizeof(u));
	assert_string_equal(u, "tcp://127.0.0.1:7100");
	sje__url_advertised("tcp://[::1]:7100", "coord-a", u, sizeof(u));
	assert_string_equal(u, "tcp://[::1]:7100");
	sje__url_advertised("ipc:///tmp/sje.sock", "coord-a", u, sizeof(u));
	assert_string_equal(u, "ipc:///tmp/sje.sock");
}

static void
test_url_host_takes_the_host_of_every_form(void **state)
{
	(void) state;
	char h[64];
	assert_true(sje__url_host("tcp://127.0.0.1:7100", h, sizeof(h)));
	assert_string_equal(h, "127.0.0.1");
	assert_true(sje__url_host("tls+tcp://sje.example:7100", h, sizeof(h)));
	assert_string_equal(h, "sje.example");
	assert_true(sje__url_host("tls+tcp://[::1]:7100", h, sizeof(h)));
	assert_string_equal(h, "::1");
	assert_true(sje__url_host("tcp://:7100", h, sizeof(h)));
	assert_string_equal(h, "");
	assert_true(sje__url_host("0.0.0.0:8080", h, sizeof(h)));
	assert_string_equal(h, "0.0.0.0");
	assert_false(sje__url_host("ipc:///tmp/sje.sock", h, sizeof(h)));
	assert_false(sje__url_host("inproc://x", h, sizeof(h)));
	assert_false(sje__url_host("tcp://a-very-long-host-name-that-does-not-"
	                           "fit-in-the-buffer.example:1",
	    h, 16));
	assert_true(sje__tls_url("tls+tcp://h:1"));
	assert_true(sje__tls_url("tls+tcp6://h:1"));
	assert_false(sje__tls_url("tcp://h:1"));
	assert_false(sje__tls_url(NULL));
}

// base_config is a loopback config with no TLS and no authentication.
static void
base_config(sje_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->server.rpc_url                       = "tcp://127.0.0.1:7100";
	cfg->server.events_url                    = "tcp://127.0.0.1:7101";
	cfg->http.listen                          = "127.0.0.1:8080";
	cfg->security.tls.ca                      = "";
	cfg->security.tls.cert                    = "";
	cfg->security.tls.key                     = "";
	cfg->security.auth.oauth.hs256_secret_env = "";
	cfg->security.auth.oauth.rs256_public_key = "";
}

// refused asserts that cfg is refused with a line holding want.
static void
refused(const sje_config *cfg, const char *want)
{
	char err[512] = "";
	assert_int_equal(
	    sje__netsec_check(cfg, err, sizeof(err)), SJE_ECONFIG);
	if (strstr(err, want) == NULL) {
		print_error("'%s' not in '%s'\n", want, err);
		fail();
	}
	assert_null(strchr(err, '\n'));
}

static void
test_loopback_needs_neither_tls_nor_auth(void **state)
{
	(void) state;
	sje_config cfg;
	char       err[256];
	base_config(&cfg);
	assert_int_equal(sje__netsec_check(&cfg, err, sizeof(err)), SJE_OK);
	cfg.server.rpc_url = "ipc:///tmp/sje.sock";
	cfg.http.listen    = "localhost:0";
	assert_int_equal(sje__netsec_check(&cfg, err, sizeof(err)), SJE_OK);
}

static void
test_beyond_loopback_without_tls_or_auth_is_refused(void **state)
{
	(void) state;
	sje_config cfg;
	base_config(&cfg);
	cfg.server.rpc_url = "tcp://0.0.0.0:7100";
	refused(&cfg,
	    "server.rpc_url 'tcp://0.0.0.0:7100' listens beyond "
	    "loopback without TLS");
	base_config(&cfg);
	cfg.server.events_url = "tcp://*:7101";
	refused(&cfg, "server.events_url");
	base_config(&cfg);
	cfg.http.listen = ":8080";
	refused(
	    &cfg, "http.listen ':8080' listens beyond loopback without TLS");

	// TLS without authentication is refused too.
	base_config(&cfg);
	cfg.security.tls.cert = "server.pem";
	cfg.server.rpc_url    = "tls+tcp://10.0.0.5:7100";
	refused(&cfg, "without authentication");
	cfg.server.rpc_url = "tcp://127.0.0.1:7100";
	cfg.http.listen    = "10.0.0.5:8443";
	refused(&cfg,
	    "http.listen '10.0.0.5:8443' listens beyond loopback "
	    "without authentication");

	// A tls+tcp:// URL without a certificate, even on loopback.
	base_config(&cfg);
	cfg.server.rpc_url = "tls+tcp://127.0.0.1:7100";
	refused(&cfg, "security.tls.cert is not set");
}

static void
test_beyond_loopback_with_tls_and_auth_is_allowed(void **state)
{
	(void) state;
	sje_config      cfg;
	sje_api_key_cfg key;
	char            err[256];
	memset(&key, 0, sizeof(key));
	base_config(&cfg);
	cfg.security.tls.cert        = "server.pem";
	cfg.server.rpc_url           = "tls+tcp://0.0.0.0:7100";
	cfg.server.events_url        = "tls+tcp://sje.example:7101";
	cfg.http.listen              = "0.0.0.0:8443";
	cfg.security.auth.api_keys   = &key;
	cfg.security.auth.n_api_keys = 1;
	assert_int_equal(sje__netsec_check(&cfg, err, sizeof(err)), SJE_OK);
	// An OAuth key is authentication as well.
	cfg.security.auth.n_api_keys             = 0;
	cfg.security.auth.oauth.rs256_public_key = "issuer.pem";
	assert_int_equal(sje__netsec_check(&cfg, err, sizeof(err)), SJE_OK);
	// But plain tcp:// beyond loopback never is.
	cfg.server.events_url = "tcp://0.0.0.0:7101";
	refused(&cfg, "server.events_url");
}

// The event stream cannot ask its readers for credentials: with
// authentication on it opens only behind mutual TLS.
static void
test_events_with_auth_open_only_behind_mutual_tls(void **state)
{
	(void) state;
	sje_config      cfg;
	sje_api_key_cfg key;
	char            why[512] = "";
	memset(&key, 0, sizeof(key));
	base_config(&cfg);
	assert_true(sje__netsec_events_ok(&cfg, why, sizeof(why)));
	cfg.security.auth.api_keys   = &key;
	cfg.security.auth.n_api_keys = 1;
	assert_false(sje__netsec_events_ok(&cfg, why, sizeof(why)));
	assert_non_null(strstr(why, "event stream off"));
	assert_non_null(strstr(why, "tcp://127.0.0.1:7101"));
	// tls+tcp:// alone proves nothing of the reader.
	cfg.security.tls.cert                = "server.pem";
	cfg.security.tls.ca                  = "ca.pem";
	cfg.server.events_url                = "tls+tcp://127.0.0.1:7101";
	cfg.security.tls.require_client_cert = false;
	assert_false(sje__netsec_events_ok(&cfg, why, sizeof(why)));
	cfg.security.tls.require_client_cert = true;
	assert_true(sje__netsec_events_ok(&cfg, why, sizeof(why)));
	// Without a CA there is nothing to check a client certificate with.
	cfg.security.tls.ca = "";
	assert_false(sje__netsec_events_ok(&cfg, why, sizeof(why)));
	// A token key is authentication as well.
	cfg.security.tls.ca                      = "ca.pem";
	cfg.server.events_url                    = "tcp://127.0.0.1:7101";
	cfg.security.auth.n_api_keys             = 0;
	cfg.security.auth.oauth.hs256_secret_env = "SJE_SECRET";
	assert_false(sje__netsec_events_ok(&cfg, why, sizeof(why)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_loopback_hosts_are_localhost_127_8_and_ipv6_one),
		cmocka_unit_test(test_url_host_takes_the_host_of_every_form),
		cmocka_unit_test(
		    test_advertised_url_names_this_host_for_a_wildcard_only),
		cmocka_unit_test(
		    test_bound_url_takes_the_bound_port_of_either_family),
		cmocka_unit_test(test_loopback_needs_neither_tls_nor_auth),
		cmocka_unit_test(
		    test_beyond_loopback_without_tls_or_auth_is_refused),
		cmocka_unit_test(
		    test_beyond_loopback_with_tls_and_auth_is_allowed),
		cmocka_unit_test(
		    test_events_with_auth_open_only_behind_mutual_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
