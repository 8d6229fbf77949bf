// sub_client — a bare nng subscriber, to play a reader of the event stream
// that is not sje-client: it dials URL (with TLS files of its own choosing
// for tls+tcp://), subscribes to every topic, and prints one line per
// message for SECONDS seconds. events_auth.sh drives it against a real
// server to show what a stranger can and cannot read.
//
//   sub_client URL SECONDS [CA [CERT KEY]]
//
// Each line is "msg TOPIC" (the topic up to its NUL byte), then, at the
// end, "total N". Exits 0 after SECONDS whatever was received, 2 on bad
// usage, 1 when the socket or the TLS files could not be set up.
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// sub_read reads a whole PEM file into a new NUL-terminated string.
static char *
sub_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return NULL;
	}
	char  *buf = NULL;
	size_t n = 0, cap = 0, got;
	do {
		if (n + 4096 + 1 > cap) {
			cap      = (cap + 4096) * 2;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

// sub_tls makes the client TLS configuration: the CA to check the server
// with (none: no check) and an optional certificate to present.
static int
sub_tls(const char *url, const char *ca, const char *cert, const char *key,
    nng_tls_config **out)
{
	nng_tls_config *tls;
	int             rv;
	if ((rv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_CLIENT)) != 0) {
		return rv;
	}
	// The host of tls+tcp://HOST:PORT, for the server name check.
	char        host[256] = "";
	const char *h         = strstr(url, "://");
	if (h != NULL) {
		h += 3;
		size_t n = strcspn(h, ":/");
		if (h[0] == '[') {
			n = strcspn(++h, "]");
		}
		if (n < sizeof(host)) {
			memcpy(host, h, n);
			host[n] = '\0';
		}
	}
	if ((rv = nng_tls_config_server_name(tls, host)) != 0 ||
	    (ca != NULL && (rv = nng_tls_config_ca_file(tls, ca)) != 0) ||
	    (rv = nng_tls_config_auth_mode(tls,
	         ca != NULL ? NNG_TLS_AUTH_MODE_REQUIRED
	                    : NNG_TLS_AUTH_MODE_NONE)) != 0) {
		nng_tls_config_free(tls);
		return rv;
	}
	// nng's cert_key_file wants both in one file: pass them as text.
	if (cert != NULL) {
		char *c = sub_read(cert), *k = sub_read(key);
		rv = c != NULL && k != NULL
		    ? nng_tls_config_own_cert(tls, c, k, NULL)
		    : NNG_ENOENT;
		free(c);
		free(k);
		if (rv != 0) {
			nng_tls_config_free(tls);
			return rv;
		}
	}
	*out = tls;
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 3 && argc != 4 && argc != 6) {
		fprintf(
		    stderr, "usage: sub_client URL SECONDS [CA [CERT KEY]]\n");
		return 2;
	}
	const char *url  = argv[1];
	int         secs = atoi(argv[2]);
	if (secs <= 0 || secs > 600) {
		fprintf(stderr, "sub_client: SECONDS must be 1..600\n");
		return 2;
	}
	nng_socket s;
	nng_dialer d;
	int        rv;
	if ((rv = nng_sub0_open(&s)) != 0 ||
	    (rv = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 100)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 50)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 200)) != 0 ||
	    (rv = nng_dialer_create(&d, s, url)) != 0) {
		fprintf(stderr, "sub_client: %s\n", nng_strerror(rv));
		return 1;
	}
	if (strncmp(url, "tls+tcp://", 10) == 0) {
		nng_tls_config *tls = NULL;
		if ((rv = sub_tls(url, argc > 3 ? argv[3] : NULL,
		         argc > 4 ? argv[4] : NULL, argc > 5 ? argv[5] : NULL,
		         &tls)) != 0 ||
		    (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls)) !=
		        0) {
			fprintf(
			    stderr, "sub_client: TLS: %s\n", nng_strerror(rv));
			return 1;
		}
		nng_tls_config_free(tls); // the dialer holds its own
	}
	// Non-blocking: retried in the background, as any subscriber is.
	if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		fprintf(stderr, "sub_client: dial: %s\n", nng_strerror(rv));
		return 1;
	}
	unsigned long total    = 0;
	nng_time      deadline = nng_clock() + (nng_time) secs * 1000;
	while (nng_clock() < deadline) {
		nng_msg *m;
		if ((rv = nng_recvmsg(s, &m, 0)) == NNG_ETIMEDOUT) {
			continue;
		}
		if (rv != 0) {
			fprintf(stderr, "sub_client: %s\n", nng_strerror(rv));
			break;
		}
		const char *body = nng_msg_body(m);
		size_t      len  = nng_msg_len(m);
		size_t      tlen = strnlen(body, len);
		printf("msg %.*s\n", (int) tlen, body);
		fflush(stdout);
		total++;
		nng_msg_free(m);
	}
	printf("total %lu\n", total);
	nng_close(s);
	return 0;
}
