// http.c — the HTTP/1.1 connection layer on nng's byte streams.
//
// Design. One listener with one accept aio. Each connection (http_conn)
// has one aio and at most one operation on it at a time, and moves
// through
//
//   IDLE -> HEAD -> [CONTINUE] -> [BODY] -> BUSY -> WRITE -> IDLE ...
//                                                       \-> [DRAIN] -> end
//
// IDLE waits for the first byte of a request (idle_timeout_ms); HEAD
// reads until the parser has a whole head (header_timeout_ms from the
// first byte: each read is given what is left of that deadline, so a
// client that trickles bytes is cut off all the same); CONTINUE writes the
// interim 100; BODY reads the body (body_timeout_ms); BUSY is the time
// with the handler, when nothing is read (pipelined bytes wait in the
// buffer, unparsed, so answers stay in order); WRITE writes the answer,
// one buffer. Bytes received past the current request stay in the buffer
// and are parsed once the answer is written. A response that closes the
// connection is followed by DRAIN only when the client is known to be
// still sending (a refused body or head): it reads and drops, at most
// HTTP_DRAIN_MAX_BYTES and HTTP_DRAIN_TOTAL_MS, and ends as soon as the
// client has sent what it announced, closed, or paused HTTP_DRAIN_IDLE_MS.
//
// The cap. Connections over max_connections are answered a JSON 503
// with "Connection: close" and closed; at most HTTP_MAX_REFUSING of those
// are being answered at once, the rest are closed at once, so a flood
// cannot take more descriptors than the cap and that margin. The first
// refusal of an episode is logged, and the episode's count when a
// connection is accepted again (or at close).
//
// Lifetime. A connection ends (http_end) from its own aio callback, or
// from the accept callback: it closes the stream, leaves the list and goes
// to the reap list, and a thread of ours frees it (nng_aio_free and
// nng_stream_free wait for nng's own work, which must not happen on nng's
// threads). sje__http_close closes the listener and every stream, which
// fails the pending operations and so ends each connection; one with the
// handler ends when its answer cannot be written. Then it waits for the
// list and the reap list to be empty.
//
// Locking: s->mtx guards the list, the counts, the episode, closing and
// the reap list. A connection's own fields are touched by one thread at a
// time (its aio callbacks and the handler's respond follow each other),
// so they have no lock.
#include "door/http.h"

#include "door/webguard.h"

#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <nng/nng.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_MAX_REFUSING 16u     // over-the-cap connections being answered
#define HTTP_REFUSE_DRAIN_MS 1000 // the most a refused connection drains
#define HTTP_DRAIN_IDLE_MS 250    // a pause that ends a drain
#define HTTP_DRAIN_TOTAL_MS 5000  // the most a drain takes
#define HTTP_DRAIN_MAX_BYTES (64u * 1024u * 1024u)
#define HTTP_ACCEPT_RETRY_MS 100 // after an accept error (EMFILE, ...)
#define HTTP_PEER_BYTES 64u

typedef enum http_state {
	HTTP_IDLE,     // waiting for a request's first byte
	HTTP_HEAD,     // reading a request head
	HTTP_CONTINUE, // writing "100 Continue"
	HTTP_BODY,     // reading a body
	HTTP_BUSY,     // with the handler
	HTTP_WRITE,    // writing a response
	HTTP_DRAIN,    // dropping what the client still sends, then end
} http_state;

struct sje__http_conn {
	sje__http      *s;
	sje__http_conn *prev, *next; // in s->conns, or s->reap (s->mtx)
	nng_stream     *st;
	nng_aio        *aio;
	http_state      state;
	bool            refused; // over the cap: counted in n_refusing
	char            peer[HTTP_PEER_BYTES];
	// Received bytes not consumed yet: buf[0, len) of cap.
	char  *buf;
	size_t cap;
	size_t len;
	size_t scan; // the parser's state for the head being read
	// The current request: its head is buf[0, head_len), and used bytes
	// of buf belong to it (head and body).
	sje__http_request req;
	size_t            head_len;
	size_t            used;
	uint8_t          *body; // body_len bytes (owned), got read so far
	size_t            body_len;
	size_t            got;
	sje_dur_ms        deadline_ms; // of the read in progress
	// The response being written.
	char      *out; // owned unless out_static
	size_t     out_len;
	bool       out_static;
	bool       close;       // end after the write
	uint64_t   drain_left;  // bytes to drain after it; 0: none
	sje_dur_ms drain_until; // the drain's end
};

struct sje__http {
	nng_stream_listener *l;
	nng_aio             *accept;
	bool                 accept_sleeping; // accept is a retry's sleep
	sje__http_fn         fn;
	void                *arg;
	uint32_t             header_timeout_ms;
	uint32_t             body_timeout_ms;
	uint32_t             idle_timeout_ms;
	uint32_t             max_connections;
	size_t               max_body_bytes;
	sje__http_limits     limits;

	pthread_mutex_t mtx;
	pthread_cond_t  cv;          // the reap list grew, or a list emptied
	sje__http_conn *conns;       // open connections (mtx)
	sje__http_conn *reap;        // ended, to be freed by the reaper (mtx)
	uint32_t        n_conns;     // open and not refused (mtx)
	uint32_t        n_refusing;  // refused, being answered (mtx)
	bool            at_cap;      // in a refusing episode (mtx)
	uint64_t        n_refused;   // refused in this episode (mtx)
	bool            closing;     // (mtx)
	bool            reaper_stop; // (mtx)
	pthread_t       reaper;
};

static void http_conn_cb(void *arg);
static void http_next(sje__http_conn *c);

// ---- reasons and errors ------------------------------------------------

const char *
sje__http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 417:
		return "Expectation Failed";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return status >= 500 ? "Internal Server Error" : "Error";
	}
}

// ---- the end of a connection -------------------------------------------

// http_end closes c and hands it to the reaper. c is not ours after it.
static void
http_end(sje__http_conn *c)
{
	sje__http *s = c->s;
	nng_stream_close(c->st);
	pthread_mutex_lock(&s->mtx);
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		s->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	if (c->refused) {
		s->n_refusing--;
	} else {
		s->n_conns--;
	}
	c->prev = NULL;
	c->next = s->reap;
	s->reap = c;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mtx);
}

static void
http_conn_free(sje__http_conn *c)
{
	nng_aio_free(c->aio); // waits for its callback to return
	nng_stream_free(c->st);
	if (!c->out_static) {
		free(c->out);
	}
	free(c->body);
	free(c->buf);
	free(c);
}

static void *
http_reaper(void *arg)
{
	sje__http *s = arg;
	sje__thread_name("sje:http-reaper");
	pthread_mutex_lock(&s->mtx);
	for (;;) {
		while (s->reap == NULL && !s->reaper_stop) {
			pthread_cond_wait(&s->cv, &s->mtx);
		}
		if (s->reap == NULL) {
			break;
		}
		sje__http_conn *c = s->reap;
		s->reap           = c->next;
		pthread_mutex_unlock(&s->mtx);
		http_conn_free(c);
		pthread_mutex_lock(&s->mtx);
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mtx);
	return NULL;
}

// ---- writing -------------------------------------------------------------

// http_write writes out (len bytes; taken unless is_static) and then
// goes on as c->close says.
static void
http_write(sje__http_conn *c, char *out, size_t len, bool is_static)
{
	if (!c->out_static) {
		free(c->out);
	}
	c->out        = out;
	c->out_len    = len;
	c->out_static = is_static;
	nng_iov iov   = { .iov_buf = out, .iov_len = len };
	nng_aio_set_iov(c->aio, 1, &iov);
	nng_aio_set_timeout(c->aio, (nng_duration) c->s->body_timeout_ms);
	nng_stream_send(c->st, c->aio);
}

// http_fail answers status in JSON and closes the connection, draining
// drain bytes first (HTTP_DRAIN_MAX_BYTES when the amount is unknown).
static void
http_fail(sje__http_conn *c, int status, const char *code, const char *msg,
    uint64_t drain)
{
	char body[512];
	int  bl = snprintf(body, sizeof(body),
	     "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"field\":\"\"}}",
	     code, msg);
	if (bl < 0 || (size_t) bl >= sizeof(body)) {
		http_end(c);
		return;
	}
	size_t cap = (size_t) bl + 256 + sizeof(SJE__WEB_SECURITY_HEADERS);
	char  *out = malloc(cap);
	if (out == NULL) {
		http_end(c);
		return;
	}
	int n = snprintf(out, cap,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %d\r\n"
	    "Cache-Control: no-store\r\n" SJE__WEB_SECURITY_HEADERS
	    "Connection: close\r\n"
	    "\r\n"
	    "%s",
	    status, sje__http_reason(status), bl, body);
	if (n < 0 || (size_t) n >= cap) {
		free(out);
		http_end(c);
		return;
	}
	c->close = true;
	c->drain_left =
	    drain > HTTP_DRAIN_MAX_BYTES ? HTTP_DRAIN_MAX_BYTES : drain;
	c->drain_until = sje_mono_ms() +
	    (c->refused ? HTTP_REFUSE_DRAIN_MS : HTTP_DRAIN_TOTAL_MS);
	c->state = HTTP_WRITE;
	http_write(c, out, (size_t) n, false);
}

void
sje__http_respond(sje__http_conn *c, char *resp, size_t len, bool close)
{
	if (resp == NULL || len == 0) {
		free(resp);
		http_end(c); // the handler could not build an answer
		return;
	}
	c->close = close || !c->req.keep_alive;
	c->state = HTTP_WRITE;
	http_write(c, resp, len, false);
}

// ---- reading -------------------------------------------------------------

// http_read reads into iov with what is left until c->deadline_ms; a
// deadline already past fails at once with NNG_ETIMEDOUT.
static void
http_read(sje__http_conn *c, void *buf, size_t len)
{
	sje_dur_ms left = c->deadline_ms - sje_mono_ms();
	nng_iov    iov  = { .iov_buf = buf, .iov_len = len };
	nng_aio_set_iov(c->aio, 1, &iov);
	nng_aio_set_timeout(c->aio, left > 0 ? (nng_duration) left : 1);
	nng_stream_recv(c->st, c->aio);
}

// http_dispatch hands the whole request to the handler. c is not ours
// after it.
static void
http_dispatch(sje__http_conn *c)
{
	c->state = HTTP_BUSY;
	c->s->fn(c->s->arg, c, &c->req, c->body, c->body_len);
}

// http_body reads what is missing of the body, or dispatches.
static void
http_body(sje__http_conn *c)
{
	if (c->got == c->body_len) {
		http_dispatch(c);
		return;
	}
	c->state = HTTP_BODY;
	http_read(c, c->body + c->got, c->body_len - c->got);
}

// http_parse looks for a whole head in the buffer and goes on with it.
static void
http_parse(sje__http_conn *c)
{
	sje__http      *s = c->s;
	sje__http_error err;
	size_t          consumed = 0;
	switch (sje__http_parse(
	    c->buf, c->len, &s->limits, &c->scan, &c->req, &consumed, &err)) {
	case SJE__HTTP_MORE:
		if (c->len >= c->cap) { // cannot happen: the parser refuses
			http_fail(c, 431, "RESOURCE_EXHAUSTED",
			    "the request header fields are too large",
			    HTTP_DRAIN_MAX_BYTES);
			return;
		}
		c->state = HTTP_HEAD;
		http_read(c, c->buf + c->len, c->cap - c->len);
		return;
	case SJE__HTTP_BAD:
		SJE_INFO("http %s: refused a request: %d %s", c->peer,
		    err.status, err.message);
		// The rest of the head, or a body, may still be coming.
		http_fail(c, err.status, err.code, err.message,
		    HTTP_DRAIN_MAX_BYTES);
		return;
	case SJE__HTTP_DONE:
		break;
	}
	c->head_len     = consumed;
	c->used         = consumed;
	uint64_t length = c->req.content_length;
	if (length > s->max_body_bytes) {
		char msg[128];
		sje__snprintf(msg, sizeof(msg),
		    "the body is %llu bytes; the limit is %zu",
		    (unsigned long long) length, s->max_body_bytes);
		size_t have = c->len - consumed;
		// A client that asked for 100-continue sends nothing more.
		http_fail(c, 413, "RESOURCE_EXHAUSTED", msg,
		    c->req.expect_continue || have >= length ? 0
		                                             : length - have);
		return;
	}
	c->body_len = (size_t) length;
	c->got      = 0;
	if (c->body_len == 0) {
		http_dispatch(c);
		return;
	}
	if ((c->body = malloc(c->body_len)) == NULL) {
		http_fail(c, 500, "INTERNAL", "out of memory",
		    c->req.expect_continue ? 0 : length);
		return;
	}
	size_t have = c->len - consumed;
	c->got      = have < c->body_len ? have : c->body_len;
	memcpy(c->body, c->buf + consumed, c->got);
	c->used += c->got;
	c->deadline_ms = sje_mono_ms() + s->body_timeout_ms;
	if (c->req.expect_continue && c->got == 0) {
		static char hundred[] = "HTTP/1.1 100 Continue\r\n\r\n";
		c->state              = HTTP_CONTINUE;
		http_write(c, hundred, sizeof(hundred) - 1, true);
		return;
	}
	http_body(c);
}

// http_next starts on the next request: at once when bytes of it are
// buffered, else when its first byte comes.
static void
http_next(sje__http_conn *c)
{
	// Drop the request just answered; keep what follows it.
	if (c->used > 0) {
		memmove(c->buf, c->buf + c->used, c->len - c->used);
		c->len -= c->used;
		c->used = 0;
	}
	free(c->body);
	c->body     = NULL;
	c->body_len = 0;
	c->got      = 0;
	c->head_len = 0;
	c->scan     = 0;
	c->close    = false;
	if (c->len > 0) {
		c->deadline_ms = sje_mono_ms() + c->s->header_timeout_ms;
		http_parse(c);
		return;
	}
	c->state       = HTTP_IDLE;
	c->deadline_ms = sje_mono_ms() + c->s->idle_timeout_ms;
	http_read(c, c->buf, c->cap);
}

// http_drain drops what comes until the drain is over, then ends.
static void
http_drain(sje__http_conn *c)
{
	sje_dur_ms now = sje_mono_ms();
	if (c->drain_left == 0 || now >= c->drain_until) {
		http_end(c);
		return;
	}
	sje_dur_ms left = c->drain_until - now;
	c->deadline_ms =
	    now + (left < HTTP_DRAIN_IDLE_MS ? left : HTTP_DRAIN_IDLE_MS);
	size_t n = c->drain_left < c->cap ? (size_t) c->drain_left : c->cap;
	c->state = HTTP_DRAIN;
	http_read(c, c->buf, n);
}

// http_conn_cb goes on after the connection's operation ended.
static void
http_conn_cb(void *arg)
{
	sje__http_conn *c  = arg;
	sje__http      *s  = c->s;
	int             rv = nng_aio_result(c->aio);
	size_t          n  = nng_aio_count(c->aio);
	switch (c->state) {
	case HTTP_IDLE:
		if (rv == NNG_ETIMEDOUT) {
			SJE_DEBUG("http %s: idle for %u ms: closed", c->peer,
			    s->idle_timeout_ms);
		}
		if (rv != 0) {
			http_end(c);
			return;
		}
		c->len += n;
		c->deadline_ms = sje_mono_ms() + s->header_timeout_ms;
		http_parse(c);
		return;
	case HTTP_HEAD:
		if (rv == NNG_ETIMEDOUT && c->len == 0) {
			// A new connection that never sent a byte.
			SJE_DEBUG("http %s: nothing sent within %u ms: closed",
			    c->peer, s->header_timeout_ms);
			http_end(c);
			return;
		}
		if (rv == NNG_ETIMEDOUT) {
			SJE_INFO(
			    "http %s: no whole request head within %u ms: "
			    "408, closed",
			    c->peer, s->header_timeout_ms);
			http_fail(c, 408, "DEADLINE_EXCEEDED",
			    "the request head did not arrive in time", 0);
			return;
		}
		if (rv != 0) {
			http_end(c);
			return;
		}
		c->len += n;
		http_parse(c);
		return;
	case HTTP_CONTINUE:
		if (rv != 0) {
			http_end(c);
			return;
		}
		http_body(c);
		return;
	case HTTP_BODY:
		if (rv == NNG_ETIMEDOUT) {
			SJE_INFO(
			    "http %s: %zu of %zu body bytes within %u ms: "
			    "408, closed",
			    c->peer, c->got, c->body_len, s->body_timeout_ms);
			http_fail(c, 408, "DEADLINE_EXCEEDED",
			    "the request body did not arrive in time", 0);
			return;
		}
		if (rv != 0) {
			http_end(c);
			return;
		}
		c->got += n;
		http_body(c);
		return;
	case HTTP_WRITE:
		if (rv != 0) {
			http_end(c);
		} else if (c->close) {
			http_drain(c);
		} else {
			http_next(c);
		}
		return;
	case HTTP_DRAIN:
		if (rv != 0) {
			http_end(c); // closed by the client, a pause, or ours
			return;
		}
		c->drain_left = n >= c->drain_left ? 0 : c->drain_left - n;
		http_drain(c);
		return;
	case HTTP_BUSY:
		break;
	}
	SJE_ERROR(
	    "http %s: an I/O completion in state %d", c->peer, (int) c->state);
	http_end(c);
}

// ---- accepting -----------------------------------------------------------

static void
http_peer(nng_stream *st, char *buf, size_t len)
{
	nng_sockaddr sa;
	sje__snprintf(buf, len, "?");
	if (nng_stream_get_addr(st, NNG_OPT_REMADDR, &sa) != 0) {
		return;
	}
	if (sa.s_family == NNG_AF_INET) {
		const uint8_t *a = (const uint8_t *) &sa.s_in.sa_addr;
		unsigned       p = ntohs(sa.s_in.sa_port);
		sje__snprintf(
		    buf, len, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], p);
	} else if (sa.s_family == NNG_AF_INET6) {
		const uint8_t *a = sa.s_in6.sa_addr;
		unsigned       p = ntohs(sa.s_in6.sa_port);
		char           hex[48];
		size_t         o = 0;
		for (int i = 0; i < 16; i += 2) {
			o += (size_t) snprintf(hex + o, sizeof(hex) - o,
			    "%s%x", i > 0 ? ":" : "",
			    (unsigned) ((a[i] << 8) | a[i + 1]));
		}
		sje__snprintf(buf, len, "[%s]:%u", hex, p);
	}
}

// http_accepted takes a new connection: served, refused 503, or closed
// at once when too many are being refused.
static void
http_accepted(sje__http *s, nng_stream *st)
{
	sje__http_conn *c = calloc(1, sizeof(*c));
	if (c == NULL || nng_aio_alloc(&c->aio, http_conn_cb, c) != 0) {
		free(c);
		nng_stream_free(st); // no I/O started on it yet
		return;
	}
	c->s  = s;
	c->st = st;
	(void) nng_stream_set_bool(st, NNG_OPT_TCP_NODELAY, true);
	http_peer(st, c->peer, sizeof(c->peer));

	uint64_t episode = 0;
	bool     first   = false;
	bool     drop    = false;
	pthread_mutex_lock(&s->mtx);
	if (s->n_conns < s->max_connections) {
		s->n_conns++;
		if (s->at_cap) {
			episode   = s->n_refused;
			s->at_cap = false;
		}
	} else {
		c->refused = true;
		s->n_refusing++;
		drop = s->n_refusing > HTTP_MAX_REFUSING;
		if (!s->at_cap) {
			s->at_cap    = true;
			s->n_refused = 0;
			first        = true;
		}
		s->n_refused++;
	}
	c->next = s->conns;
	if (s->conns != NULL) {
		s->conns->prev = c;
	}
	s->conns = c;
	pthread_mutex_unlock(&s->mtx);

	if (episode > 0) {
		SJE_INFO("http: below the connection limit again; %llu "
		         "connections were refused",
		    (unsigned long long) episode);
	}
	if (first) {
		SJE_WARN("http: %u connections open, the limit "
		         "(http.max_connections within the descriptor limit): "
		         "new connections get 503 until some close",
		    s->max_connections);
	}
	if (drop) {
		http_end(c);
		return;
	}
	c->cap = c->refused ? 4096 : 2 * s->limits.max_head_bytes + 2;
	if ((c->buf = malloc(c->cap)) == NULL) {
		http_end(c);
		return;
	}
	if (c->refused) {
		http_fail(c, 503, "UNAVAILABLE",
		    "too many connections: try again later",
		    HTTP_DRAIN_MAX_BYTES);
		return;
	}
	// A new connection has header_timeout_ms for its first head (the
	// idle timeout is for kept-alive connections between requests).
	c->state       = HTTP_HEAD;
	c->deadline_ms = sje_mono_ms() + s->header_timeout_ms;
	http_read(c, c->buf, c->cap);
}

static void
http_accept_cb(void *arg)
{
	sje__http *s  = arg;
	int        rv = nng_aio_result(s->accept);
	pthread_mutex_lock(&s->mtx);
	bool closing = s->closing;
	pthread_mutex_unlock(&s->mtx);
	if (s->accept_sleeping) {
		s->accept_sleeping = false;
	} else if (rv == 0) {
		nng_stream *st = nng_aio_get_output(s->accept, 0);
		if (closing) {
			nng_stream_free(st);
		} else {
			http_accepted(s, st);
		}
	} else if (rv != NNG_ECLOSED && rv != NNG_ECANCELED && !closing) {
		// Out of descriptors, or a failed TLS handshake: go on
		// after a pause rather than spin.
		SJE_DEBUG("http: accept failed: %s", nng_strerror(rv));
		s->accept_sleeping = true;
		nng_sleep_aio(HTTP_ACCEPT_RETRY_MS, s->accept);
		return;
	}
	if (closing || rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		return;
	}
	nng_stream_listener_accept(s->l, s->accept);
}

// ---- the server ------------------------------------------------------------

sje_err
sje__http_open(const sje__http_options *o, sje__http_fn fn, void *arg,
    sje__http **out, int *port)
{
	sje__http *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return SJE_ENOMEM;
	}
	s->fn                = fn;
	s->arg               = arg;
	s->header_timeout_ms = o->header_timeout_ms;
	s->body_timeout_ms   = o->body_timeout_ms;
	s->idle_timeout_ms   = o->idle_timeout_ms;
	s->max_connections   = o->max_connections > 0 ? o->max_connections : 1;
	s->max_body_bytes    = o->max_body_bytes;
	s->limits            = o->limits;
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->cv, NULL);

	int rv;
	if ((rv = nng_stream_listener_alloc(&s->l, o->url)) != 0) {
		goto fail_alloc;
	}
	if (o->tls != NULL &&
	    (rv = nng_stream_listener_set_ptr(
	         s->l, NNG_OPT_TLS_CONFIG, o->tls)) != 0) {
		goto fail_listen;
	}
	// Every response is one write; no Nagle delay on it (PLATFORM.md).
	(void) nng_stream_listener_set_bool(s->l, NNG_OPT_TCP_NODELAY, true);
	if ((rv = nng_aio_alloc(&s->accept, http_accept_cb, s)) != 0) {
		goto fail_listen;
	}
	if ((rv = nng_stream_listener_listen(s->l)) != 0) {
		goto fail_aio;
	}
	if ((rv = nng_stream_listener_get_int(
	         s->l, NNG_OPT_TCP_BOUND_PORT, port)) != 0) {
		goto fail_aio;
	}
	if ((rv = pthread_create(&s->reaper, NULL, http_reaper, s)) != 0) {
		rv = NNG_ENOMEM;
		goto fail_aio;
	}
	nng_stream_listener_accept(s->l, s->accept);
	*out = s;
	return SJE_OK;

fail_aio:
	nng_aio_free(s->accept);
fail_listen:
	nng_stream_listener_free(s->l);
fail_alloc:
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mtx);
	free(s);
	if (rv == NNG_EADDRINUSE) {
		return SJE_EEXIST;
	}
	if (rv == NNG_EADDRINVAL || rv == NNG_EINVAL || rv == NNG_ENOTSUP ||
	    rv == NNG_ENOENT) {
		return SJE_EINVAL;
	}
	return sje__nng_err(rv);
}

void
sje__http_close(sje__http *s)
{
	if (s == NULL) {
		return;
	}
	pthread_mutex_lock(&s->mtx);
	s->closing = true;
	pthread_mutex_unlock(&s->mtx);
	nng_stream_listener_close(s->l);
	nng_aio_stop(s->accept);

	// Closing a stream fails its pending operation: each connection
	// ends from its callback (one with the handler, once answered).
	pthread_mutex_lock(&s->mtx);
	for (sje__http_conn *c = s->conns; c != NULL; c = c->next) {
		nng_stream_close(c->st);
	}
	while (s->conns != NULL || s->reap != NULL) {
		pthread_cond_wait(&s->cv, &s->mtx);
	}
	uint64_t episode = s->at_cap ? s->n_refused : 0;
	s->reaper_stop   = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mtx);
	pthread_join(s->reaper, NULL);
	if (episode > 0) {
		SJE_INFO("http: %llu connections were refused at the "
		         "connection limit",
		    (unsigned long long) episode);
	}
	nng_aio_free(s->accept);
	nng_stream_listener_free(s->l);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mtx);
	free(s);
}
