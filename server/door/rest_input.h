// rest_input.h — the REST gateway's requests -> inputs (internal to
// server/door/).
//
// A route's prepare builds the Coordinator method's input message from
// the request with the generic JSON mapping of pbjson.h: GET routes from
// their query string, POST routes from their JSON body and the path
// parameter. None of them answers: a refusal is recorded in the call
// (sje__rest_fail) and answered by the caller (sje__rest_refuse), so
// every function here runs on the thread that holds the call at START
// (rest.h) and leaves the call to it.
#ifndef SJE_SERVER_REST_INPUT_H
#define SJE_SERVER_REST_INPUT_H

#include "door/rest.h"

#include <jansson.h>

// SJE__REST_MAX_WAIT_S bounds /events?wait_s= (seconds).
#define SJE__REST_MAX_WAIT_S 600u

// sje__rest_pct_decode percent-decodes n bytes of s into a new string
// (caller owns it); '+' is a space when plus is set (query strings).
// NULL for a bad escape, %00, or out of memory. Pure.
char *sje__rest_pct_decode(const char *s, size_t n, bool plus);

// sje__rest_fail records a refusal (status, code, field and msg, copied)
// in c for the caller to answer with sje__rest_refuse. Returns false, so
// that a prepare can `return sje__rest_fail(...)`.
bool sje__rest_fail(sje__rest_call *c, int status, const char *code,
    const char *field, const char *msg);

// sje__rest_method resolves c->route's Coordinator method into c->base
// (service and method). False, recorded as 501 UNIMPLEMENTED, for a
// method the service does not have.
bool sje__rest_method(sje__rest_call *c);

// sje__rest_query fills obj (borrowed) from the query string c->query
// (NULL: none) with the fields of d that are scalars, by their names: an
// empty value is absent (null), integers and bools as such when they
// read as one, else strings for the mapping to judge; wait_s becomes
// wait_ms (x 1000, 0..SJE__REST_MAX_WAIT_S) when d has wait_ms. False,
// with a 400 recorded in c that names the raw parameter, for bad
// percent-encoding, an unknown or repeated parameter, or a bad wait_s.
// Reads c->query only.
bool sje__rest_query(
    sje__rest_call *c, const ProtobufCMessageDescriptor *d, json_t *obj);

// sje__rest_no_query is true when the request has no query parameter;
// else false, with a 400 "unknown query parameter" recorded.
bool sje__rest_no_query(sje__rest_call *c);

// The routes' prepares (sje__rest_prepare_fn), after sje__rest_method:
// sje__rest_prep_query: a GET route's input from its query string.
bool sje__rest_prep_query(sje__rest_call *c);
// sje__rest_prep_id: {"task_id": <path parameter>} (GetStatus, Cancel).
bool sje__rest_prep_id(sje__rest_call *c);
// sje__rest_prep_submit: a SubmitRequest from one job spec or
// {"tasks": [spec, ...]} (sets c->batch).
bool sje__rest_prep_submit(sje__rest_call *c);
// sje__rest_prep_workflow: a RunWorkflowRequest, its name from the path,
// the rest (params, workflow_id) from the optional body.
bool sje__rest_prep_workflow(sje__rest_call *c);

#endif // SJE_SERVER_REST_INPUT_H
