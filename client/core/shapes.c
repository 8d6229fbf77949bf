// shapes.c — the JSON shapes of the operator's answers (shapes.h): the
// generic protobuf mapping (pbjson.c), then the few keys each shape drops
// or writes as null.
#include "shapes.h"

#include "pbjson.h"

#include <string.h>

// shape_unset tells whether v is null, 0, "", false, [] or {}.
static bool
shape_unset(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE:
		return true;
	case JSON_INTEGER:
		return json_integer_value(v) == 0;
	case JSON_REAL:
		return json_real_value(v) == 0.0;
	case JSON_STRING:
		return json_string_length(v) == 0;
	case JSON_ARRAY:
		return json_array_size(v) == 0;
	case JSON_OBJECT:
		return json_object_size(v) == 0; // an empty map
	default:
		return false;
	}
}

// shape_list wraps the n elements that each(msgs[i]) renders as
// {"key": [...]}.
static json_t *
shape_list(const char *key, void *const *msgs, size_t n,
    json_t *(*each)(const void *) )
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(a, each(msgs[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	json_t *j = a != NULL ? json_object() : NULL;
	if (j == NULL) {
		json_decref(a);
		return NULL;
	}
	if (json_object_set_new(j, key, a) != 0) {
		json_decref(j); // set_new took a, even as it failed
		return NULL;
	}
	return j;
}

json_t *
sje__shape_retry(const Sje__V1__RetryReply *r)
{
	json_t *j = sje__pb_to_json(&r->base);
	json_t *d = j != NULL ? json_object_get(j, "descendants") : NULL;
	if (d == NULL) {
		json_decref(j);
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(d); i++) {
		json_object_del(json_array_get(d, i), "created");
	}
	return j;
}

json_t *
sje__shape_explain(const Sje__V1__ExplainReply *r)
{
	json_t *j = sje__pb_to_json(&r->base);
	json_t *a = j != NULL ? json_object_get(j, "reasons") : NULL;
	if (a == NULL) {
		json_decref(j);
		return NULL;
	}
	size_t  i;
	json_t *reason;
	json_array_foreach (a, i, reason) {
		const char *k;
		json_t     *v;
		void       *tmp;
		json_object_foreach_safe(reason, tmp, k, v)
		{
			if (strcmp(k, "code") != 0 &&
			    strcmp(k, "message") != 0 && shape_unset(v)) {
				json_object_del(reason, k);
			}
		}
	}
	return j;
}

json_t *
sje__shape_function(const Sje__V1__FunctionInfo *f)
{
	json_t *j = sje__pb_to_json(&f->base);
	if (j == NULL) {
		return NULL;
	}
	// No limit is null, not 0 or "" that read as limits.
	if ((f->concurrency == 0 &&
	        json_object_set_new(j, "concurrency", json_null()) != 0) ||
	    ((f->rate == NULL || f->rate[0] == '\0') &&
	        json_object_set_new(j, "rate", json_null()) != 0)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *
shape_function_any(const void *m)
{
	return sje__shape_function(m);
}

json_t *
sje__shape_functions(const Sje__V1__ListFunctionsReply *r)
{
	return shape_list("functions", (void *const *) r->functions,
	    r->n_functions, shape_function_any);
}

// shape_schedule renders one schedule without the keys its kind lacks.
static json_t *
shape_schedule(const void *m)
{
	const Sje__V1__ScheduleInfo *si = m;
	json_t                      *o  = sje__pb_to_json(&si->base);
	if (o == NULL) {
		return NULL;
	}
	json_object_del(o, si->cron[0] != '\0' ? "every_s" : "cron");
	json_object_del(o, si->function[0] != '\0' ? "workflow" : "function");
	return o;
}

json_t *
sje__shape_schedules(const Sje__V1__ListSchedulesReply *r)
{
	return shape_list("schedules", (void *const *) r->schedules,
	    r->n_schedules, shape_schedule);
}
