// rest_output.c — the REST gateway's answers (rest_output.h).
//
// Design. Every response is written as ONE buffer (status line, headers
// and body: one write, hence one TLS record, PLATFORM.md) that the HTTP
// layer (http.c) sends in order on the connection. Every response, errors
// included, is JSON with the HTTP status of the one table below, but
// /metrics (Prometheus text). An OK answer from the handler is unpacked
// here, on an nng thread (RENDER, rest.h), never on the scheduler's, and
// rendered by the route's renderer; an error keeps internals out of the
// response (a 500 says "internal error"; the log has the details).
//
// Answering ends the call: sje__rest_respond logs the request and frees
// the call, and counts it down in the gateway (gw->mtx) so that
// sje__gw_close knows when every call has ended.
#include "door/rest_output.h"
#include "door/webguard.h"

#include "events/metrics.h"
#include "log.h"
#include "pbjson.h"
#include "shapes.h"
#include "util.h"

#include <nng/nng.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- status codes -------------------------------------------------------

// The one table from gRPC status codes to HTTP statuses.
static const struct {
	int code;
	int http;
} out_status_table[] = {
	{ SJE__V1__STATUS_CODE__OK, 200 },
	{ SJE__V1__STATUS_CODE__INVALID_ARGUMENT, 400 },
	{ SJE__V1__STATUS_CODE__OUT_OF_RANGE, 400 },
	{ SJE__V1__STATUS_CODE__UNAUTHENTICATED, 401 },
	{ SJE__V1__STATUS_CODE__PERMISSION_DENIED, 403 },
	{ SJE__V1__STATUS_CODE__NOT_FOUND, 404 },
	{ SJE__V1__STATUS_CODE__ALREADY_EXISTS, 409 },
	{ SJE__V1__STATUS_CODE__FAILED_PRECONDITION, 409 },
	{ SJE__V1__STATUS_CODE__ABORTED, 409 },
	{ SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED, 429 },
	{ SJE__V1__STATUS_CODE__UNIMPLEMENTED, 501 },
	{ SJE__V1__STATUS_CODE__UNAVAILABLE, 503 },
};

int
sje__gw_http_status(int code)
{
	for (size_t i = 0;
	     i < sizeof(out_status_table) / sizeof(out_status_table[0]); i++) {
		if (out_status_table[i].code == code) {
			return out_status_table[i].http;
		}
	}
	return 500;
}

// ---- answering -----------------------------------------------------------

void
sje__rest_sanitize(char *buf, size_t len, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		unsigned char ch = (unsigned char) s[i];
		buf[o++]         = ch > 0x20 && ch < 0x7f ? (char) ch : '?';
	}
	if (len > 0) {
		buf[o] = '\0';
	}
}

// out_call_free frees c and counts it down in its gateway.
static void
out_call_free(sje__rest_call *c)
{
	if (c->base.input != NULL) {
		protobuf_c_message_free_unpacked(c->base.input, NULL);
	}
	free(c->param);
	free(c->uri);
	free(c->query);
	free(c->a_message);
	free(c->a_field);
	free(c->a_body);
	// Maybe from the io aio's own callback: nng_aio_reap, never free.
	if (c->io != NULL) {
		nng_aio_reap(c->io);
	}
	sje__gw *gw = c->gw;
	free(c);
	pthread_mutex_lock(&gw->mtx);
	if (--gw->n_calls == 0) {
		pthread_cond_broadcast(&gw->cv);
	}
	pthread_mutex_unlock(&gw->mtx);
}

// out_done logs the request and frees the call.
static void
out_done(sje__rest_call *c)
{
	double ms = (double) (sje_mono_ms() - c->start_ms);
	SJE_INFO("http %s %s %d %.0f ms", c->method, c->path, c->status, ms);
	out_call_free(c);
}

void
sje__rest_respond_with(sje__rest_call *c, int status, const char *ctype,
    const char *body, size_t len, const char *cache, const char *extra)
{
	char head[1536];
	int  n    = snprintf(head, sizeof(head),
	        "HTTP/1.1 %d %s\r\n"
	            "Content-Type: %s\r\n"
	            "Content-Length: %zu\r\n"
	            "Cache-Control: %s\r\n" SJE__WEB_SECURITY_HEADERS "%s"
	            "%s"
	            "%s"
	            "\r\n",
	        status, sje__http_reason(status), ctype, len, cache,
            extra != NULL ? extra : "",
            c->challenge ? "WWW-Authenticate: Bearer realm=\"sje\"\r\n" : "",
            c->close ? "Connection: close\r\n" : "");
	c->status = status;
	// A 304 has no body, whatever its length says.
	size_t blen = c->head || status == 304 ? 0 : len;
	char  *resp = NULL;
	if (n >= 0 && (size_t) n < sizeof(head) &&
	    (resp = malloc((size_t) n + blen)) != NULL) {
		memcpy(resp, head, (size_t) n);
		if (blen > 0) {
			memcpy(resp + n, body, blen);
		}
	}
	// NULL (out of memory): the layer closes the connection.
	sje__http_respond(
	    c->conn, resp, resp != NULL ? (size_t) n + blen : 0, c->close);
	out_done(c);
}

void
sje__rest_respond(sje__rest_call *c, int status, const char *ctype,
    const char *body, size_t len, const char *allow)
{
	char extra[256] = "";
	if (allow != NULL) {
		sje__snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
	}
	sje__rest_respond_with(c, status, ctype, body, len, "no-store", extra);
}

// out_json_text makes a JSON string of s, which may not be UTF-8 (a
// message or a field naming what a client sent).
static json_t *
out_json_text(const char *s)
{
	json_t *j = json_string(s != NULL ? s : "");
	if (j == NULL && s != NULL) {
		char buf[SJE__REST_MSG_BYTES];
		sje__rest_sanitize(buf, sizeof(buf), s, strlen(s));
		j = json_string(buf);
	}
	return j;
}

void
sje__rest_respond_json(
    sje__rest_call *c, int status, json_t *j, const char *allow)
{
	char *text = j != NULL ? sje__json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (text == NULL) {
		static const char oom[] = "{\"error\":{\"code\":\"INTERNAL\","
		                          "\"message\":\"out of memory\","
		                          "\"field\":\"\"}}";
		sje__rest_respond(
		    c, 500, SJE__REST_JSON, oom, sizeof(oom) - 1, NULL);
		return;
	}
	sje__rest_respond(
	    c, status, SJE__REST_JSON, text, strlen(text), allow);
	free(text);
}

json_t *
sje__rest_error_json(const char *code, const char *field, const char *msg)
{
	json_t *e = json_object();
	json_t *j = json_object();
	if (e == NULL || j == NULL ||
	    json_object_set_new(e, "code", json_string(code)) != 0 ||
	    json_object_set_new(e, "message", out_json_text(msg)) != 0 ||
	    json_object_set_new(e, "field", out_json_text(field)) != 0 ||
	    json_object_set_new(j, "error", e) != 0) {
		json_decref(e);
		json_decref(j);
		return NULL;
	}
	return j;
}

void
sje__rest_error_allow(sje__rest_call *c, int status, const char *code,
    const char *field, const char *allow, const char *fmt, ...)
{
	char    msg[SJE__REST_MSG_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sje__rest_respond_json(
	    c, status, sje__rest_error_json(code, field, msg), allow);
}

void
sje__rest_bad(sje__rest_call *c, const char *field, const char *msg)
{
	sje__rest_error(c, 400, "INVALID_ARGUMENT", field, "%s", msg);
}

void
sje__rest_refuse(sje__rest_call *c)
{
	if (c->e_code == NULL) {
		sje__rest_error(c, 500, "INTERNAL", "", "internal error");
		return;
	}
	sje__rest_error(c, c->e_status, c->e_code, c->e_field, "%s", c->e_msg);
}

// ---- answers ---------------------------------------------------------------

void
sje__rest_render_plain(sje__rest_call *c, const ProtobufCMessage *out)
{
	sje__rest_respond_json(c, 200, sje__pb_to_json(out), NULL);
}

// out_results renders SubmitResults as [{"task_id", "state"}, ...] and
// tells whether any job was created.
static json_t *
out_results(Sje__V1__SubmitResult *const *res, size_t n, bool *created)
{
	json_t *a = json_array();
	*created  = false;
	for (size_t i = 0; a != NULL && i < n; i++) {
		json_t *o = sje__pb_to_json(&res[i]->base);
		if (o == NULL) {
			json_decref(a);
			return NULL;
		}
		json_object_del(o, "created");
		*created = *created || res[i]->created;
		json_array_append_new(a, o);
	}
	return a;
}

void
sje__rest_render_submit(sje__rest_call *c, const ProtobufCMessage *out)
{
	const Sje__V1__SubmitReply *r = (const Sje__V1__SubmitReply *) out;
	bool                        created;
	json_t *a = out_results(r->results, r->n_results, &created);
	json_t *j = NULL;
	if (a != NULL && !c->batch && json_array_size(a) == 1) {
		j = json_incref(json_array_get(a, 0));
		json_decref(a);
	} else if (a != NULL && (j = json_object()) != NULL) {
		json_object_set_new(j, "tasks", a);
	} else {
		json_decref(a);
	}
	sje__rest_respond_json(c, created ? 201 : 200, j, NULL);
}

void
sje__rest_render_workflow(sje__rest_call *c, const ProtobufCMessage *out)
{
	const Sje__V1__RunWorkflowReply *r =
	    (const Sje__V1__RunWorkflowReply *) out;
	bool    created;
	json_t *a = out_results(r->tasks, r->n_tasks, &created);
	json_t *j = json_object();
	if (a == NULL || j == NULL ||
	    json_object_set_new(
	        j, "workflow_id", out_json_text(r->workflow_id)) != 0 ||
	    json_object_set_new(j, "tasks", a) != 0) {
		json_decref(j);
		j = NULL;
	}
	sje__rest_respond_json(c, created ? 201 : 200, j, NULL);
}

void
sje__rest_render_cancel(sje__rest_call *c, const ProtobufCMessage *out)
{
	const Sje__V1__CancelReply *r = (const Sje__V1__CancelReply *) out;
	json_t                     *j = sje__pb_to_json(out);
	if (j != NULL && !r->cancel_requested) {
		json_object_del(j, "cancel_requested");
	}
	sje__rest_respond_json(c, r->cancel_requested ? 202 : 200, j, NULL);
}

void
sje__rest_render_metrics(sje__rest_call *c, const ProtobufCMessage *out)
{
	char  *text;
	size_t len;
	if (sje__metrics_render(
	        (const Sje__V1__StatsReply *) out, &text, &len) != SJE_OK) {
		sje__rest_error(c, 500, "INTERNAL", "", "out of memory");
		return;
	}
	sje__rest_respond(c, 200, SJE_METRICS_CONTENT_TYPE, text, len, NULL);
	free(text);
}

void
sje__rest_render_retry(sje__rest_call *c, const ProtobufCMessage *out)
{
	sje__rest_respond_json(
	    c, 200, sje__shape_retry((const Sje__V1__RetryReply *) out), NULL);
}

void
sje__rest_render_explain(sje__rest_call *c, const ProtobufCMessage *out)
{
	sje__rest_respond_json(c, 200,
	    sje__shape_explain((const Sje__V1__ExplainReply *) out), NULL);
}

void
sje__rest_render_functions(sje__rest_call *c, const ProtobufCMessage *out)
{
	sje__rest_respond_json(c, 200,
	    sje__shape_functions((const Sje__V1__ListFunctionsReply *) out),
	    NULL);
}

void
sje__rest_render_schedules(sje__rest_call *c, const ProtobufCMessage *out)
{
	sje__rest_respond_json(c, 200,
	    sje__shape_schedules((const Sje__V1__ListSchedulesReply *) out),
	    NULL);
}

void
sje__rest_render_function(sje__rest_call *c, const ProtobufCMessage *out)
{
	sje__rest_respond_json(c, 200,
	    sje__shape_function((const Sje__V1__FunctionInfo *) out), NULL);
}

void
sje__rest_submit_field(bool batch, const char *field, char *buf, size_t len)
{
	bool listed = strncmp(field, "jobs", 4) == 0 &&
	    (field[4] == '\0' || field[4] == '[');
	if (batch) {
		if (listed) {
			sje__snprintf(buf, len, "tasks%s", field + 4);
		} else {
			sje__snprintf(buf, len, "tasks[0]%s%s",
			    field[0] != '\0' ? "." : "", field);
		}
		return;
	}
	if (!listed) {
		sje__snprintf(buf, len, "%s", field);
		return;
	}
	const char *rest = field + 4;
	if (*rest == '[') {
		rest = strchr(rest, ']');
		rest = rest != NULL ? rest + 1 : "";
	}
	if (*rest == '.') {
		rest++;
	}
	sje__snprintf(buf, len, "%s", rest);
}

void
sje__rest_render(sje__rest_call *c)
{
	if (c->code != SJE__V1__STATUS_CODE__OK) {
		int         status = sje__gw_http_status(c->code);
		const char *name   = sje_status_name(c->code);
		const char *msg    = c->a_message != NULL ? c->a_message : "";
		const char *f      = c->a_field != NULL ? c->a_field : "";
		char        field[SJE__REST_FIELD_BYTES];
		if (c->route->render == sje__rest_render_submit) {
			sje__rest_submit_field(
			    c->batch, f, field, sizeof(field));
		} else {
			sje__snprintf(field, sizeof(field), "%s", f);
		}
		if (status == 500) {
			// No internals: the details go to the log only.
			SJE_WARN("http %s %s: %s: %s", c->method, c->path,
			    name, msg);
			sje__rest_error(
			    c, 500, "INTERNAL", "", "internal error");
		} else if (status == 501) {
			sje__rest_error(c, 501, name, "",
			    "%s is not served by this server yet", c->path);
		} else {
			sje__rest_error(c, status, name, field, "%s", msg);
		}
		return;
	}
	const ProtobufCMessageDescriptor *od =
	    c->base.service->methods[c->base.method].output;
	ProtobufCMessage *out = protobuf_c_message_unpack(od, NULL, c->a_len,
	    c->a_body != NULL ? c->a_body : (uint8_t *) "");
	if (out == NULL) {
		SJE_WARN("http %s %s: the answer does not unpack", c->method,
		    c->path);
		sje__rest_error(c, 500, "INTERNAL", "", "internal error");
		return;
	}
	c->route->render(c, out);
	protobuf_c_message_free_unpacked(out, NULL);
}
