// rest_output.h — the REST gateway's answers (internal to server/door/).
//
// Every response the gateway writes goes through sje__rest_respond: one
// buffer (status line, headers, body) handed to the HTTP layer, after
// which the call is logged and freed. Errors are JSON,
// {"error": {"code", "message", "field"}}, with the HTTP status of the
// one table (sje__gw_http_status, gateway.h). OK answers are rendered per
// route by the sje__rest_render_* functions.
//
// Every function taking a call answers it (and frees it) unless it says
// otherwise; it runs on whichever thread holds the call (rest.h).
#ifndef SJE_SERVER_REST_OUTPUT_H
#define SJE_SERVER_REST_OUTPUT_H

#include "door/rest.h"

#include <jansson.h>

// sje__rest_sanitize copies n bytes of s into buf (len bytes) as
// printable ASCII, every other byte as '?', cut to fit and
// NUL-terminated when len > 0 (for logs, and for JSON of what is not
// UTF-8). Pure.
void sje__rest_sanitize(char *buf, size_t len, const char *s, size_t n);

// sje__rest_error_json builds {"error": {"code": code, "message": msg,
// "field": field}}; msg and field may be NULL (""), and text that is not
// UTF-8 is sanitized. Caller owns the result; NULL when out of memory.
// Pure.
json_t *sje__rest_error_json(
    const char *code, const char *field, const char *msg);

// sje__rest_submit_field writes into buf (len bytes) a Submit error's
// field as the body named it: the scheduler says "jobs[3].function" for
// a batch and plain "function" for one spec; a batch body (batch) said
// "tasks[3]..." (also when it held one), a single spec just "function".
// Pure.
void sje__rest_submit_field(
    bool batch, const char *field, char *buf, size_t len);

// sje__rest_respond answers: status, content type, body (len bytes,
// copied), an Allow header when allow is not NULL, all in one buffer that
// the layer writes (no body for HEAD). Takes over the call: it is logged
// and freed here.
void sje__rest_respond(sje__rest_call *c, int status, const char *ctype,
    const char *body, size_t len, const char *allow);

// sje__rest_respond_with is sje__rest_respond with Cache-Control cache
// instead of no-store, and extra header lines (each ending in CRLF; NULL:
// none). Every response carries the security headers of webguard.h.
// Takes over the call.
void sje__rest_respond_with(sje__rest_call *c, int status, const char *ctype,
    const char *body, size_t len, const char *cache, const char *extra);

// sje__rest_respond_json answers with j (taken; NULL or unprintable: a
// 500 for out of memory) as the body.
void sje__rest_respond_json(
    sje__rest_call *c, int status, json_t *j, const char *allow);

// sje__rest_error_allow answers status with sje__rest_error_json(code,
// field, the formatted message), and an Allow header when allow is not
// NULL.
void sje__rest_error_allow(sje__rest_call *c, int status, const char *code,
    const char *field, const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

// sje__rest_error is sje__rest_error_allow with no Allow header.
#define sje__rest_error(c, status, code, field, ...) \
	sje__rest_error_allow(                       \
	    (c), (status), (code), (field), NULL, __VA_ARGS__)

// sje__rest_bad answers 400 INVALID_ARGUMENT for field with msg.
void sje__rest_bad(sje__rest_call *c, const char *field, const char *msg);

// sje__rest_refuse answers the refusal sje__rest_fail recorded in c (a
// 500 when none was).
void sje__rest_refuse(sje__rest_call *c);

// sje__rest_render answers from the handler's answer copied into c
// (code, a_message, a_field, a_body): an error through the status table
// (details of a 500 go to the log only), else the route's render. On the
// nng thread of RENDER.
void sje__rest_render(sje__rest_call *c);

// The routes' renderers (sje__rest_render_fn):
// sje__rest_render_plain: 200 with the answer as JSON.
void sje__rest_render_plain(sje__rest_call *c, const ProtobufCMessage *out);
// sje__rest_render_submit: 201 when any job was created, else 200 (all
// existed with the same spec); one spec in, one {"task_id", "state"} out,
// a batch in, {"tasks": [...]} out.
void sje__rest_render_submit(sje__rest_call *c, const ProtobufCMessage *out);
// sje__rest_render_workflow: {"workflow_id", "tasks": [...]}, 201 when any
// step was created, else 200.
void sje__rest_render_workflow(sje__rest_call *c, const ProtobufCMessage *out);
// sje__rest_render_cancel: 200 {"state": "CANCELLED"} when it ended at
// once, 202 {"state": "RUNNING", "cancel_requested": true} when it is
// stopping.
void sje__rest_render_cancel(sje__rest_call *c, const ProtobufCMessage *out);
// sje__rest_render_metrics: the StatsReply as Prometheus text.
void sje__rest_render_metrics(sje__rest_call *c, const ProtobufCMessage *out);
// The operator's answers, in the shapes of client/core/shapes.h (the same
// as sje-client --json prints): each 200.
void sje__rest_render_retry(sje__rest_call *c, const ProtobufCMessage *out);
void sje__rest_render_explain(sje__rest_call *c, const ProtobufCMessage *out);
void sje__rest_render_schedules(
    sje__rest_call *c, const ProtobufCMessage *out);
void sje__rest_render_functions(
    sje__rest_call *c, const ProtobufCMessage *out);
// sje__rest_render_function: the FunctionInfo SetFunction answers.
void sje__rest_render_function(sje__rest_call *c, const ProtobufCMessage *out);

#endif // SJE_SERVER_REST_OUTPUT_H
