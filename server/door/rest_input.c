// rest_input.c — the REST gateway's requests -> inputs (rest_input.h).
//
// Design. A request's route is found by its method and path in the
// table gateway.c holds: exact paths before parameter patterns, and a
// 405's Allow header lists every method of every route whose pattern
// fits the path. JSON is mapped to the method's input message
// generically, from the protobuf-c descriptors (pbjson.h), never field by
// field: a GET route's query string becomes a JSON object of the input's
// scalar and time fields (by their names; wait_s in seconds for wait_ms;
// a time as RFC 3339 text), a body
// is parsed as JSON whatever Content-Type said, and the path parameter
// (percent-decoded) fills the field its route names (task_id, name). A
// body that breaks is refused with the field where it broke, named as
// the body named it.
//
// Nothing here answers or logs: a refusal is recorded in the call
// (e_status, e_code, e_field, e_msg) and gateway.c answers it.
#include "door/rest_input.h"

#include "door/rest_output.h"

#include "pbjson.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

bool
sje__rest_fail(sje__rest_call *c, int status, const char *code,
    const char *field, const char *msg)
{
	c->e_status = status;
	c->e_code   = code;
	sje__snprintf(c->e_field, sizeof(c->e_field), "%s", field);
	sje__snprintf(c->e_msg, sizeof(c->e_msg), "%s", msg);
	return false;
}

// in_fail_bad records a 400 INVALID_ARGUMENT for field.
static bool
in_fail_bad(sje__rest_call *c, const char *field, const char *msg)
{
	return sje__rest_fail(c, 400, "INVALID_ARGUMENT", field, msg);
}

// ---- routes --------------------------------------------------------------

// in_pattern_fits tells whether n bytes of path fit r's pattern; *param
// and *param_len get the raw parameter (NULL, 0 for an exact path).
static bool
in_pattern_fits(const sje__rest_route *r, const char *path, size_t n,
    const char **param, size_t *param_len)
{
	size_t pl  = strlen(r->path);
	*param     = NULL;
	*param_len = 0;
	if (r->param == NULL) {
		return n == pl && memcmp(path, r->path, n) == 0;
	}
	if (n <= pl || memcmp(path, r->path, pl) != 0) {
		return false;
	}
	const char *seg = path + pl;
	const char *end = memchr(seg, '/', n - pl);
	size_t      sl  = end != NULL ? (size_t) (end - seg) : n - pl;
	size_t      xl  = strlen(r->suffix);
	if (sl == 0 || n - pl - sl != xl ||
	    memcmp(seg + sl, r->suffix, xl) != 0) {
		return false;
	}
	*param     = seg;
	*param_len = sl;
	return true;
}

// in_allow_has tells whether the Allow list a ("GET, HEAD") has method.
static bool
in_allow_has(const char *a, const char *method)
{
	size_t ml = strlen(method);
	while (*a != '\0') {
		size_t tl = strcspn(a, ",");
		if (tl == ml && memcmp(a, method, ml) == 0) {
			return true;
		}
		a += tl;
		a += strspn(a, ", ");
	}
	return false;
}

// in_allow_add appends method to the Allow list a (SJE__REST_ALLOW_BYTES)
// unless it is there already.
static void
in_allow_add(char *a, const char *method)
{
	if (in_allow_has(a, method)) {
		return;
	}
	size_t al = strlen(a);
	sje__snprintf(a + al, SJE__REST_ALLOW_BYTES - al, "%s%s",
	    al > 0 ? ", " : "", method);
}

void
sje__rest_route_match(const sje__rest_route *routes, size_t n_routes,
    const char *method, const char *path, size_t n, sje__rest_match *m)
{
	memset(m, 0, sizeof(*m));
	bool head = strcmp(method, "HEAD") == 0;
	// Two passes, exact paths first: "/jobs/cancel" is not job "cancel"
	// for a method that both patterns take.
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n_routes; i++) {
			const sje__rest_route *r = &routes[i];
			const char            *param;
			size_t                 param_len;
			if ((r->param == NULL) != (pass == 0) ||
			    !in_pattern_fits(r, path, n, &param, &param_len)) {
				continue;
			}
			bool get = strcmp(r->method, "GET") == 0;
			if (m->first == NULL) {
				m->first = r;
			}
			if (m->route == NULL &&
			    (strcmp(r->method, method) == 0 ||
			        (get && head))) {
				m->route     = r;
				m->param     = param;
				m->param_len = param_len;
			}
		}
	}
	// The Allow list in table order, whichever pass found the route.
	for (size_t i = 0; i < n_routes; i++) {
		const char *param;
		size_t      param_len;
		if (in_pattern_fits(&routes[i], path, n, &param, &param_len)) {
			in_allow_add(m->allow, routes[i].method);
			if (strcmp(routes[i].method, "GET") == 0) {
				in_allow_add(m->allow, "HEAD");
			}
		}
	}
}

// ---- requests ------------------------------------------------------------

char *
sje__rest_pct_decode(const char *s, size_t n, bool plus)
{
	char *out = malloc(n + 1);
	if (out == NULL) {
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '%') {
			unsigned v = 0;
			for (int k = 1; k <= 2; k++) {
				char x = i + (size_t) k < n ? s[i + (size_t) k]
				                            : '\0';
				v <<= 4;
				if (x >= '0' && x <= '9') {
					v |= (unsigned) (x - '0');
				} else if (x >= 'a' && x <= 'f') {
					v |= (unsigned) (x - 'a' + 10);
				} else if (x >= 'A' && x <= 'F') {
					v |= (unsigned) (x - 'A' + 10);
				} else {
					free(out);
					return NULL;
				}
			}
			if (v == 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char) v;
			i += 2;
		} else if (ch == '+' && plus) {
			out[o++] = ' ';
		} else {
			out[o++] = ch;
		}
	}
	out[o] = '\0';
	return out;
}

bool
sje__rest_param(sje__rest_call *c, const char *raw, size_t n)
{
	const char *field = c->route->param;
	char        msg[SJE__REST_MSG_BYTES];
	char       *p = sje__rest_pct_decode(raw, n, false);
	if (p == NULL) {
		// Out of memory is as rare as it is indistinguishable here.
		sje__snprintf(msg, sizeof(msg),
		    "the path's %s holds a bad percent-escape", field);
		return in_fail_bad(c, field, msg);
	}
	if (strchr(p, '/') != NULL) {
		free(p);
		sje__snprintf(msg, sizeof(msg),
		    "a %s cannot hold '/' (the path has %%2F)", field);
		return in_fail_bad(c, field, msg);
	}
	c->param = p;
	return true;
}

// in_input_error records a JSON mapping failure; returns false.
static bool
in_input_error(
    sje__rest_call *c, sje_err rv, const char *field, const char *msg)
{
	if (rv == SJE_ENOMEM) {
		return sje__rest_fail(c, 500, "INTERNAL", "", "out of memory");
	}
	return in_fail_bad(c, field, msg);
}

bool
sje__rest_method(sje__rest_call *c)
{
	const ProtobufCServiceDescriptor *svc =
	    &sje__v1__coordinator__descriptor;
	const ProtobufCMethodDescriptor *m =
	    protobuf_c_service_descriptor_get_method_by_name(
	        svc, c->route->rpc);
	if (m == NULL) {
		return sje__rest_fail(c, 501, "UNIMPLEMENTED", "",
		    "this endpoint is not served by this server yet");
	}
	c->base.service = svc;
	c->base.method  = (unsigned) (m - svc->methods);
	return true;
}

// in_input_desc is the input message of c's method.
static const ProtobufCMessageDescriptor *
in_input_desc(const sje__rest_call *c)
{
	return c->base.service->methods[c->base.method].input;
}

// in_build maps obj (taken) to c's input message, or records why not.
static bool
in_build(sje__rest_call *c, json_t *obj)
{
	char    field[SJE__REST_FIELD_BYTES], msg[SJE__REST_MSG_BYTES];
	sje_err rv = sje__json_value_to_pb(in_input_desc(c), obj, NULL,
	    &c->base.input, field, sizeof(field), msg, sizeof(msg));
	json_decref(obj);
	if (rv != SJE_OK) {
		// A message's wait_ms is the query's wait_s (only ListEvents
		// has one, and only its query gives it).
		return in_input_error(c, rv,
		    strcmp(field, "wait_ms") == 0 ? "wait_s" : field, msg);
	}
	return true;
}

// in_query_value converts a query value for field f to JSON: integers
// and bools as such when they read as one, else a string (which the
// mapping then judges).
static json_t *
in_query_value(const ProtobufCFieldDescriptor *f, const char *v)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		char     *end;
		long long n = strtoll(v, &end, 10);
		if (*v != '\0' && *end == '\0' && n > INT64_MIN &&
		    n < INT64_MAX &&
		    (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))) {
			return json_integer(n);
		}
		return json_string(v);
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
			return json_true();
		}
		if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
			return json_false();
		}
		return json_string(v);
	default:
		return json_string(v); // 64-bit integers read strings too
	}
}

bool
sje__rest_query(
    sje__rest_call *c, const ProtobufCMessageDescriptor *d, json_t *obj)
{
	const char *q = c->query;
	while (q != NULL && *q != '\0') {
		size_t      n   = strcspn(q, "&");
		const char *eq  = memchr(q, '=', n);
		size_t      kn  = eq != NULL ? (size_t) (eq - q) : n;
		char       *key = sje__rest_pct_decode(q, kn, true);
		char       *val = eq != NULL
		          ? sje__rest_pct_decode(eq + 1, n - kn - 1, true)
		          : sje__strdup("");
		char        raw[64];
		sje__rest_sanitize(raw, sizeof(raw), q, kn);
		q += n;
		if (*q == '&') {
			q++;
		}
		if (key == NULL || val == NULL) {
			free(key);
			free(val);
			in_fail_bad(c, raw, "not valid percent-encoding");
			return false;
		}
		if (key[0] == '\0' && val[0] == '\0') {
			free(key);
			free(val);
			continue; // "a=1&&b=2"
		}
		const char *name = key;
		json_t     *v    = NULL;
		bool        ok   = true;
		const char *why  = NULL;
		if (strcmp(key, "wait_s") == 0 &&
		    protobuf_c_message_descriptor_get_field_by_name(
		        d, "wait_ms") != NULL) {
			// Seconds here, milliseconds in the message.
			name = "wait_ms";
			char         *end;
			unsigned long s = strtoul(val, &end, 10);
			if (val[0] == '\0') {
				v = json_null();
			} else if (val[0] < '0' || val[0] > '9' ||
			    *end != '\0' || s > SJE__REST_MAX_WAIT_S) {
				ok  = false;
				why = "expected whole seconds from 0 to 600";
			} else {
				v = json_integer((json_int_t) s * 1000);
			}
		} else {
			const ProtobufCFieldDescriptor *f =
			    protobuf_c_message_descriptor_get_field_by_name(
			        d, key);
			// A time is its RFC 3339 text, as in a body.
			bool time = f != NULL &&
			    f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    f->descriptor == &sje__v1__timestamp__descriptor;
			if (f == NULL ||
			    f->label == PROTOBUF_C_LABEL_REPEATED ||
			    (f->type == PROTOBUF_C_TYPE_MESSAGE && !time) ||
			    f->type == PROTOBUF_C_TYPE_BYTES) {
				ok  = false;
				why = "unknown query parameter";
			} else if (val[0] == '\0') {
				v = json_null(); // "?state=&function=": absent
			} else if ((v = in_query_value(f, val)) == NULL) {
				ok  = false;
				why = "not valid UTF-8";
			}
		}
		if (ok && json_object_get(obj, name) != NULL) {
			ok  = false;
			why = "given twice";
		}
		if (ok && json_object_set_new(obj, name, v) != 0) {
			ok  = false;
			why = "not valid UTF-8";
			v   = NULL; // set_new took it
		} else if (!ok) {
			json_decref(v);
		}
		if (!ok) {
			in_fail_bad(c, raw, why);
			free(key);
			free(val);
			return false;
		}
		free(key);
		free(val);
	}
	return true;
}

bool
sje__rest_prep_query(sje__rest_call *c)
{
	const ProtobufCMessageDescriptor *d   = in_input_desc(c);
	json_t                           *obj = json_object();
	if (obj == NULL) {
		sje__rest_fail(c, 500, "INTERNAL", "", "out of memory");
		return false;
	}
	if (!sje__rest_query(c, d, obj)) {
		json_decref(obj);
		return false;
	}
	return in_build(c, obj);
}

bool
sje__rest_no_query(sje__rest_call *c)
{
	if (c->query != NULL && c->query[0] != '\0') {
		char raw[64];
		sje__rest_sanitize(
		    raw, sizeof(raw), c->query, strcspn(c->query, "=&"));
		in_fail_bad(c, raw, "unknown query parameter");
		return false;
	}
	return true;
}

// in_set_param sets the route's param field of obj to the path
// parameter, or records why not.
static bool
in_set_param(sje__rest_call *c, json_t *obj)
{
	const char *field = c->route->param;
	json_t     *v     = json_string(c->param);
	if (v == NULL || json_object_set_new(obj, field, v) != 0) {
		char msg[SJE__REST_MSG_BYTES];
		sje__snprintf(msg, sizeof(msg),
		    "the path's %s is not valid UTF-8", field);
		return in_fail_bad(c, field, msg);
	}
	return true;
}

bool
sje__rest_prep_id(sje__rest_call *c)
{
	if (!sje__rest_no_query(c)) {
		return false;
	}
	json_t *obj = json_object();
	if (obj == NULL) {
		return sje__rest_fail(c, 500, "INTERNAL", "", "out of memory");
	}
	if (!in_set_param(c, obj)) {
		json_decref(obj);
		return false;
	}
	return in_build(c, obj);
}

// in_parse_body parses the body as JSON (whatever Content-Type said),
// naming the field where it broke with the help of d. Records (sje__rest_fail)
// and returns NULL on error; an empty body is {} when empty_ok.
static json_t *
in_parse_body(
    sje__rest_call *c, const ProtobufCMessageDescriptor *d, bool empty_ok)
{
	if (c->body_len == 0) {
		if (empty_ok) {
			return json_object();
		}
		in_fail_bad(c, "", "a JSON body is required");
		return NULL;
	}
	char    field[SJE__REST_FIELD_BYTES], msg[SJE__REST_MSG_BYTES];
	json_t *j;
	sje_err rv = sje__json_parse(d, (const char *) c->body, c->body_len,
	    &j, field, sizeof(field), msg, sizeof(msg));
	if (rv != SJE_OK) {
		in_input_error(c, rv, field, msg);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		in_fail_bad(c, "", "the body must be a JSON object");
		return NULL;
	}
	return j;
}

bool
sje__rest_prep_submit(sje__rest_call *c)
{
	if (!sje__rest_no_query(c)) {
		return false;
	}
	char    field[SJE__REST_FIELD_BYTES], msg[SJE__REST_MSG_BYTES];
	json_t *j;
	if (c->body_len == 0) {
		in_fail_bad(c, "",
		    "a JSON body is required: a job spec, or "
		    "{\"tasks\": [spec, ...]}");
		return false;
	}
	sje_err rv = sje__json_parse(&sje__v1__job_spec__descriptor,
	    (const char *) c->body, c->body_len, &j, field, sizeof(field), msg,
	    sizeof(msg));
	if (rv == SJE_EINVAL && strncmp(field, "tasks", 5) == 0) {
		// Broken inside a batch: name the field within it.
		rv = sje__json_parse(&sje__v1__submit_batch__descriptor,
		    (const char *) c->body, c->body_len, &j, field,
		    sizeof(field), msg, sizeof(msg));
	}
	if (rv != SJE_OK) {
		return in_input_error(c, rv, field, msg);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		in_fail_bad(c, "",
		    "the body must be a JSON object: a job spec, or "
		    "{\"tasks\": [spec, ...]}");
		return false;
	}
	// Either way the jobs move into a SubmitRequest of our own: the
	// batch's array, or a new one-element array around the one spec.
	ProtobufCMessage  *m    = NULL;
	Sje__V1__JobSpec **jobs = NULL;
	size_t             n    = 0;
	c->batch                = json_object_get(j, "tasks") != NULL;
	if (c->batch) {
		rv = sje__json_value_to_pb(&sje__v1__submit_batch__descriptor,
		    j, NULL, &m, field, sizeof(field), msg, sizeof(msg));
		if (rv == SJE_OK) {
			Sje__V1__SubmitBatch *b = (Sje__V1__SubmitBatch *) m;
			jobs                    = b->tasks;
			n                       = b->n_tasks;
			b->tasks                = NULL;
			b->n_tasks              = 0;
		}
	} else {
		rv = sje__json_value_to_pb(&sje__v1__job_spec__descriptor, j,
		    NULL, &m, field, sizeof(field), msg, sizeof(msg));
		if (rv == SJE_OK) {
			if ((jobs = malloc(sizeof(*jobs))) == NULL) {
				rv = SJE_ENOMEM;
			} else {
				jobs[0] = (Sje__V1__JobSpec *) m;
				n       = 1;
				m       = NULL; // now jobs[0]
			}
		}
	}
	json_decref(j);
	if (m != NULL) {
		protobuf_c_message_free_unpacked(m, NULL); // the emptied batch
	}
	Sje__V1__SubmitRequest *req = NULL;
	if (rv == SJE_OK && (req = malloc(sizeof(*req))) == NULL) {
		rv = SJE_ENOMEM;
	}
	if (rv != SJE_OK) {
		for (size_t i = 0; i < n; i++) {
			sje__v1__job_spec__free_unpacked(jobs[i], NULL);
		}
		free(jobs);
		return in_input_error(c, rv, field, msg);
	}
	sje__v1__submit_request__init(req);
	req->jobs     = jobs;
	req->n_jobs   = n;
	c->base.input = &req->base;
	return true;
}

bool
sje__rest_prep_body(sje__rest_call *c)
{
	if (!sje__rest_no_query(c)) {
		return false;
	}
	const char *field = c->route->param;
	json_t     *j     = in_parse_body(c, in_input_desc(c), true);
	if (j == NULL) {
		return false;
	}
	if (json_object_get(j, field) != NULL) {
		char msg[SJE__REST_MSG_BYTES];
		sje__snprintf(msg, sizeof(msg),
		    "%s is given by the path, not the body", field);
		json_decref(j);
		return in_fail_bad(c, field, msg);
	}
	if (!in_set_param(c, j)) {
		json_decref(j);
		return false;
	}
	return in_build(c, j);
}

bool
sje__rest_prep_json(sje__rest_call *c)
{
	if (!sje__rest_no_query(c)) {
		return false;
	}
	json_t *j = in_parse_body(c, in_input_desc(c), true);
	return j != NULL && in_build(c, j);
}

// in_prep_set_function builds {"name": <path parameter>, "pause":
// change} from an empty body, or {}.
static bool
in_prep_set_function(sje__rest_call *c, Sje__V1__PauseChange change)
{
	if (!sje__rest_no_query(c)) {
		return false;
	}
	json_t *j = in_parse_body(c, in_input_desc(c), true);
	if (j == NULL) {
		return false;
	}
	if (json_object_size(j) > 0) {
		char        key[SJE__REST_FIELD_BYTES];
		const char *k = json_object_iter_key(json_object_iter(j));
		sje__snprintf(key, sizeof(key), "%s", k);
		json_decref(j);
		return in_fail_bad(c, key,
		    "this endpoint takes no body (or {}): the function is "
		    "named by the path");
	}
	if (!in_set_param(c, j)) {
		json_decref(j);
		return false;
	}
	if (json_object_set_new(j, "pause", json_integer(change)) != 0) {
		json_decref(j);
		return sje__rest_fail(c, 500, "INTERNAL", "", "out of memory");
	}
	return in_build(c, j);
}

bool
sje__rest_prep_pause(sje__rest_call *c)
{
	return in_prep_set_function(
	    c, SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_PAUSE);
}

bool
sje__rest_prep_resume(sje__rest_call *c)
{
	return in_prep_set_function(
	    c, SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_RESUME);
}

// in_limit_value checks the body's value v of key (concurrency or rate)
// and sets it in out as SetFunctionRequest has it: set_<key> true, and
// the limit, or 0 / "" for null (no limit). The scheduler judges the
// text of a rate; a concurrency of 0 is refused here, since 0 reads as
// "nothing runs" to people and as "no limit" to the message.
static bool
in_limit_value(sje__rest_call *c, const char *key, json_t *v, json_t *out)
{
	bool    conc = strcmp(key, "concurrency") == 0;
	char    flag[32];
	json_t *limit;
	sje__snprintf(flag, sizeof(flag), "set_%s", key);
	if (json_is_null(v)) {
		limit = conc ? json_integer(0) : json_string("");
	} else if (conc) {
		json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
		if (n < 1 || n > (json_int_t) UINT32_MAX) {
			return in_fail_bad(c, key,
			    "expected a whole number from 1 to 4294967295 (at "
			    "most this many running at once), or null for no "
			    "limit");
		}
		limit = json_integer(n);
	} else {
		if (!json_is_string(v) || json_string_length(v) == 0) {
			return in_fail_bad(c, key,
			    "expected a rate such as \"100/s\", \"20/m\" or "
			    "\"500/h\", or null for no limit");
		}
		limit = json_incref(v);
	}
	// set_new takes limit even when it fails (and refuses NULL).
	if (json_object_set_new(out, key, limit) != 0 ||
	    json_object_set_new(out, flag, json_true()) != 0) {
		return sje__rest_fail(c, 500, "INTERNAL", "", "out of memory");
	}
	return true;
}

bool
sje__rest_prep_limits(sje__rest_call *c)
{
	if (!sje__rest_no_query(c)) {
		return false;
	}
	json_t *body = in_parse_body(c, in_input_desc(c), true);
	if (body == NULL) {
		return false;
	}
	json_t *in = json_object();
	bool    ok = in != NULL ||
	    sje__rest_fail(c, 500, "INTERNAL", "", "out of memory");
	if (ok && json_object_size(body) == 0) {
		ok = in_fail_bad(c, "", "give concurrency, rate or both");
	}
	const char *k;
	json_t     *v;
	json_object_foreach (body, k, v) {
		if (!ok) {
			break;
		}
		if (strcmp(k, "concurrency") == 0 || strcmp(k, "rate") == 0) {
			ok = in_limit_value(c, k, v, in);
		} else {
			char key[SJE__REST_FIELD_BYTES];
			sje__snprintf(key, sizeof(key), "%s", k);
			ok = in_fail_bad(c, key,
			    "unknown field: the body takes concurrency and "
			    "rate (the function is named by the path)");
		}
	}
	json_decref(body);
	if (!ok || !in_set_param(c, in)) {
		json_decref(in);
		return false;
	}
	return in_build(c, in);
}
