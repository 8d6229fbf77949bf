// rest_input.h — the REST gateway's requests -> inputs (internal to
// server/door/).
//
// sje__rest_route_match finds a request's route in a route table. A
// route's prepare builds the Coordinator method's input message from the
// request with the generic JSON mapping of pbjson.h: GET /jobs and the
// like from their query string, the others from the path parameter and,
// where they take one, their JSON body. None of them answers: a refusal
// is recorded in the call (sje__rest_fail) and answered by the caller
// (sje__rest_refuse), so every function here runs on the thread that
// holds the call at START (rest.h) and leaves the call to it.
#ifndef SJE_SERVER_REST_INPUT_H
#define SJE_SERVER_REST_INPUT_H

#include "door/rest.h"

#include <jansson.h>

// SJE__REST_MAX_WAIT_S bounds /events?wait_s= (seconds).
#define SJE__REST_MAX_WAIT_S 600u

// SJE__REST_ALLOW_BYTES holds an Allow header's value: every method a
// route may have, once each ("GET, HEAD, POST, PUT, DELETE").
#define SJE__REST_ALLOW_BYTES 64u

// sje__rest_match is what sje__rest_route_match found for a request.
typedef struct sje__rest_match {
	const sje__rest_route *route; // path and method match; NULL: none
	const sje__rest_route *first; // the first route of the path, any
	                              // method; NULL: no route has the path
	const char *param;            // route's raw parameter, in the path
	size_t      param_len;        // given; NULL: none
	char        allow[SJE__REST_ALLOW_BYTES]; // every method of the path
} sje__rest_match;

// sje__rest_route_match matches a request (method, and n bytes of path:
// raw, no query) against the n_routes routes: exact paths first, then in
// table order, the first route whose pattern and method both fit is
// m->route (a GET route takes HEAD too); m->allow lists, in table order,
// every method of a route whose pattern fits the path (HEAD after GET),
// for a 405. A parameter is one whole non-empty segment, still
// percent-encoded. Pure; m is always written.
void sje__rest_route_match(const sje__rest_route *routes, size_t n_routes,
    const char *method, const char *path, size_t n, sje__rest_match *m);

// sje__rest_param decodes the raw path parameter (n bytes of raw) of c's
// route into c->param (owned by c). False, with a 400 recorded that names
// the route's param field, for a bad percent-escape, %00, or a decoded
// '/' ("%2F": a parameter is one path segment, whatever its encoding).
bool sje__rest_param(sje__rest_call *c, const char *raw, size_t n);

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

// The routes' prepares (sje__rest_prepare_fn), after sje__rest_method;
// none takes a query parameter but prep_query's:
// sje__rest_prep_query: a GET route's input from its query string.
bool sje__rest_prep_query(sje__rest_call *c);
// sje__rest_prep_id: {<route's param>: <path parameter>}, any body
// ignored (GetStatus, Cancel, DeleteJob, Explain).
bool sje__rest_prep_id(sje__rest_call *c);
// sje__rest_prep_submit: a SubmitRequest from one job spec or
// {"tasks": [spec, ...]} (sets c->batch).
bool sje__rest_prep_submit(sje__rest_call *c);
// sje__rest_prep_body: the input from the optional JSON body (empty: {})
// with the route's param field set from the path; a body that names that
// field is refused (RunWorkflow's name, Retry's task_id).
bool sje__rest_prep_body(sje__rest_call *c);
// sje__rest_prep_json: the input from the JSON body alone (empty: {}),
// for a route without a path parameter (the bulk calls' filter, which
// the scheduler judges: {} selects nothing and is refused there).
bool sje__rest_prep_json(sje__rest_call *c);
// sje__rest_prep_pause, sje__rest_prep_resume: a SetFunctionRequest,
// {"name": <path parameter>, "pause": PAUSE or RESUME}; the body must be
// empty or {} (a key in it is refused, named).
bool sje__rest_prep_pause(sje__rest_call *c);
bool sje__rest_prep_resume(sje__rest_call *c);
// sje__rest_prep_limits: a SetFunctionRequest from {"concurrency": N,
// "rate": "R/s"} (either or both; null removes that limit: set_X with 0
// or ""; a key left out leaves its limit as it is) and the name from the
// path. Refused, named: an empty body or {}, another key, a concurrency
// that is not a whole number from 1 to 2^32-1, a rate that is not a
// non-empty string (whose text the scheduler judges).
bool sje__rest_prep_limits(sje__rest_call *c);

#endif // SJE_SERVER_REST_INPUT_H
