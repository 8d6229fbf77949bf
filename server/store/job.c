// job.c — the job module: spec checks, row -> sje.v1.Job. The states and
// their transitions are client/core/jobstate.c's one table.
//
// sje__job_spec_check is the one place where a submitted JobSpec is
// checked; the RPC and REST front doors both call it before the scheduler
// sees a job. Its messages name the field and the rule, never the
// submitted value (which may be huge or hostile).
//
// sje__job_row_to_pb builds an sje.v1.Job whose every member is malloc'd,
// so protobuf_c_message_free_unpacked frees it. It is built so that the
// message is consistent (counts match filled entries, unset strings keep
// the descriptor's default) at every step: on failure the partial message
// is freed with the same call.
//
// No state, no locks: every function is thread-safe.
#include <sje/sje.h>

#include "store/job.h"

#include "log.h"
#include "pbjson.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// --- row -> sje.v1.Job ---------------------------------------------------

// job_strdup copies s into a new string ("" for NULL).
static char *
job_strdup(const char *s)
{
	return sje__strdup(s != NULL ? s : "");
}

// job_set_str replaces *dst (a default or NULL) with a copy of src.
static sje_err
job_set_str(char **dst, const char *src)
{
	char *copy = job_strdup(src);
	if (copy == NULL) {
		return SJE_ENOMEM;
	}
	*dst = copy;
	return SJE_OK;
}

// job_json_new makes a new Json holding a copy of text.
static sje_err
job_json_new(const char *text, Sje__V1__Json **out)
{
	Sje__V1__Json *j;

	if ((j = malloc(sizeof(*j))) == NULL) {
		return SJE_ENOMEM;
	}
	sje__v1__json__init(j);
	if ((j->text = job_strdup(text)) == NULL) {
		free(j);
		return SJE_ENOMEM;
	}
	*out = j;
	return SJE_OK;
}

// job_time_new makes a new Timestamp of t, or leaves *out NULL when t is 0.
static sje_err
job_time_new(sje_time_ms t, Sje__V1__Timestamp **out)
{
	Sje__V1__Timestamp *ts;

	if (t == 0) {
		return SJE_OK;
	}
	if ((ts = malloc(sizeof(*ts))) == NULL) {
		return SJE_ENOMEM;
	}
	sje__v1__timestamp__init(ts);
	ts->unix_ms = t;
	*out        = ts;
	return SJE_OK;
}

// job_error_new makes the JobError of row, or leaves *out NULL when row has
// none.
static sje_err
job_error_new(const sje__job_row *row, Sje__V1__JobError **out)
{
	Sje__V1__JobError *e;
	bool has_type = row->error_type != NULL && row->error_type[0] != '\0';
	bool has_msg =
	    row->error_message != NULL && row->error_message[0] != '\0';

	if (!has_type && !has_msg) {
		return SJE_OK;
	}
	if ((e = malloc(sizeof(*e))) == NULL) {
		return SJE_ENOMEM;
	}
	sje__v1__job_error__init(e);
	*out = e; // consistent from here on: the caller frees it with the job
	if (job_set_str(&e->type, row->error_type) != SJE_OK ||
	    job_set_str(&e->message, row->error_message) != SJE_OK) {
		return SJE_ENOMEM;
	}
	return SJE_OK;
}

// job_progress_new makes the Progress of row, or leaves *out NULL when
// nothing was reported.
static sje_err
job_progress_new(const sje__job_row *row, Sje__V1__Progress **out)
{
	Sje__V1__Progress *p;

	if (row->progress_pct == 0.0 &&
	    (row->progress_msg == NULL || row->progress_msg[0] == '\0')) {
		return SJE_OK;
	}
	if ((p = malloc(sizeof(*p))) == NULL) {
		return SJE_ENOMEM;
	}
	sje__v1__progress__init(p);
	p->percent = row->progress_pct;
	*out       = p;
	return job_set_str(&p->message, row->progress_msg);
}

// job_copy_depends copies the spec's depends_on into job.
static sje_err
job_copy_depends(const Sje__V1__JobSpec *spec, Sje__V1__Job *job)
{
	if (spec->n_depends_on == 0) {
		return SJE_OK;
	}
	job->depends_on = calloc(spec->n_depends_on, sizeof(char *));
	if (job->depends_on == NULL) {
		return SJE_ENOMEM;
	}
	// n_depends_on counts the entries filled so far.
	for (size_t i = 0; i < spec->n_depends_on; i++) {
		char *copy = job_strdup(spec->depends_on[i]);
		if (copy == NULL) {
			return SJE_ENOMEM;
		}
		job->depends_on[job->n_depends_on++] = copy;
	}
	return SJE_OK;
}

// job_copy_labels copies the spec's labels and requires into job.
static sje_err
job_copy_labels(const Sje__V1__JobSpec *spec, Sje__V1__Job *job)
{
	if (spec->n_labels > 0 &&
	    (job->labels = calloc(spec->n_labels, sizeof(*job->labels))) ==
	        NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < spec->n_labels; i++) {
		Sje__V1__Job__LabelsEntry *e;

		if ((e = malloc(sizeof(*e))) == NULL) {
			return SJE_ENOMEM;
		}
		sje__v1__job__labels_entry__init(e);
		job->labels[job->n_labels++] = e;
		if (job_set_str(&e->key, spec->labels[i]->key) != SJE_OK ||
		    job_set_str(&e->value, spec->labels[i]->value) != SJE_OK) {
			return SJE_ENOMEM;
		}
	}
	if (spec->n_requires > 0 &&
	    (job->requires = calloc(
	         spec->n_requires, sizeof(*job->requires))) == NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < spec->n_requires; i++) {
		Sje__V1__Job__RequiresEntry *e;

		if ((e = malloc(sizeof(*e))) == NULL) {
			return SJE_ENOMEM;
		}
		sje__v1__job__requires_entry__init(e);
		job->requires[job->n_requires++] = e;
		if (job_set_str(&e->key, spec->requires[i] -> key) != SJE_OK ||
		    job_set_str(&e->value, spec->requires[i] -> value) !=
		        SJE_OK) {
			return SJE_ENOMEM;
		}
	}
	return SJE_OK;
}

// job_fill fills job (initialized, empty) from row and its unpacked spec.
// On failure job is consistent and partly filled.
static sje_err
job_fill(
    const sje__job_row *row, const Sje__V1__JobSpec *spec, Sje__V1__Job *job)
{
	sje_err rv;

	job->state            = (Sje__V1__JobState) row->state;
	job->attempt          = row->attempt;
	job->max_attempts     = row->max_attempts;
	job->priority         = row->priority;
	job->cancel_requested = row->cancel_requested;
	job->timeout_s =
	    row->timeout_s != 0 ? row->timeout_s : spec->timeout_s;

	if ((rv = job_set_str(&job->task_id, row->task_id)) != SJE_OK ||
	    (rv = job_set_str(&job->function, row->function)) != SJE_OK ||
	    (rv = job_set_str(&job->worker, row->worker)) != SJE_OK ||
	    (rv = job_set_str(&job->workflow_id, row->workflow_id)) !=
	        SJE_OK) {
		return rv;
	}
	if (spec->params != NULL &&
	    (rv = job_json_new(spec->params->text, &job->params)) != SJE_OK) {
		return rv;
	}
	if (row->result_json != NULL &&
	    (rv = job_json_new(row->result_json, &job->result)) != SJE_OK) {
		return rv;
	}
	if ((rv = job_error_new(row, &job->error)) != SJE_OK ||
	    (rv = job_progress_new(row, &job->progress)) != SJE_OK ||
	    (rv = job_time_new(row->created_ms, &job->created_at)) != SJE_OK ||
	    (rv = job_time_new(row->started_ms, &job->started_at)) != SJE_OK ||
	    (rv = job_time_new(row->finished_ms, &job->finished_at)) !=
	        SJE_OK ||
	    (rv = job_copy_depends(spec, job)) != SJE_OK ||
	    (rv = job_copy_labels(spec, job)) != SJE_OK) {
		return rv;
	}
	return SJE_OK;
}

sje_err
sje__job_row_to_pb(const sje__job_row *row, Sje__V1__Job **out)
{
	Sje__V1__JobSpec *spec;
	Sje__V1__Job     *job;
	sje_err           rv;

	// An empty spec (len 0) unpacks to an empty message.
	spec = sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
	if (spec == NULL) {
		SJE_LOG_JOB(SJE_LOG_ERROR, row->task_id,
		    "stored spec of job %" PRId64
		    " (%zu bytes) does not unpack",
		    row->id, row->spec_len);
		return SJE_EIO;
	}
	if ((job = malloc(sizeof(*job))) == NULL) {
		sje__v1__job_spec__free_unpacked(spec, NULL);
		return SJE_ENOMEM;
	}
	sje__v1__job__init(job);
	rv = job_fill(row, spec, job);
	sje__v1__job_spec__free_unpacked(spec, NULL);
	if (rv != SJE_OK) {
		protobuf_c_message_free_unpacked(&job->base, NULL);
		return rv;
	}
	*out = job;
	return SJE_OK;
}

// --- spec checks ----------------------------------------------------------

// job_bad writes field and the formatted message, and returns SJE_EINVAL.
static sje_err job_bad(char *field, size_t fieldlen, char *msg, size_t msglen,
    const char *fname, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static sje_err
job_bad(char *field, size_t fieldlen, char *msg, size_t msglen,
    const char *fname, const char *fmt, ...)
{
	va_list ap;

	if (fieldlen > 0) {
		sje__snprintf(field, fieldlen, "%s", fname);
	}
	if (msglen > 0) {
		va_start(ap, fmt);
		int n = vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
		if (n < 0) {
			msg[0] = '\0';
		}
	}
	return SJE_EINVAL;
}

static bool
job_id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	    c == '-';
}

// job_name_why checks that s is 1..max bytes of job_id_char (plus '/'
// when slash). Returns NULL when it is, else what is wrong, as words that
// follow the field's name.
static const char *
job_name_why(const char *s, size_t max, bool slash)
{
	if (s == NULL || s[0] == '\0') {
		return "must not be empty";
	}
	for (size_t len = 0; s[len] != '\0'; len++) {
		unsigned char c = (unsigned char) s[len];
		if (len >= max) {
			return "is too long";
		}
		if (!job_id_char(c) && !(slash && c == '/')) {
			return slash ? "may hold only letters, digits and "
			               "_ . : / -"
			             : "may hold only letters, digits and "
			               "_ . : -";
		}
	}
	return NULL;
}

// job_check_name checks s with job_name_why, answering for field fname
// ("task_id", "depends_on[3]", ...) described as what.
static sje_err
job_check_name(const char *s, size_t max, bool slash, const char *fname,
    const char *what, char *field, size_t fieldlen, char *msg, size_t msglen)
{
	const char *why = job_name_why(s, max, slash);

	if (why == NULL) {
		return SJE_OK;
	}
	if (strcmp(why, "is too long") == 0) {
		return job_bad(field, fieldlen, msg, msglen, fname,
		    "%s%s is %zu bytes; the limit is %zu", fname, what,
		    strlen(s), max);
	}
	return job_bad(
	    field, fieldlen, msg, msglen, fname, "%s%s %s", fname, what, why);
}

bool
sje__job_id_valid(const char *id)
{
	return job_name_why(id, SJE_MAX_ID_BYTES, false) == NULL;
}

bool
sje__job_id_prefix_valid(const char *prefix)
{
	size_t len = prefix != NULL ? strlen(prefix) : 0;
	return len > 0 && len <= SJE_MAX_ID_BYTES &&
	    sje__utf8_check(prefix, len, NULL);
}

bool
sje__job_function_valid(const char *name)
{
	return name != NULL &&
	    job_name_why(name, SJE_MAX_FUNCTION_BYTES, false) == NULL;
}

// job_dep is a depends_on entry and its index, for the duplicate check.
typedef struct job_dep {
	const char *id;
	uint32_t    index;
} job_dep;

static int
job_dep_cmp(const void *a, const void *b)
{
	const job_dep *x = a;
	const job_dep *y = b;
	int            c = strcmp(x->id, y->id);

	if (c != 0) {
		return c;
	}
	return x->index < y->index ? -1 : x->index > y->index;
}

// job_check_depends checks spec->depends_on (each id valid; checked
// before the call: count and no NULL).
static sje_err
job_check_depends(const Sje__V1__JobSpec *spec, char *field, size_t fieldlen,
    char *msg, size_t msglen)
{
	size_t n = spec->n_depends_on;
	char   fname[32];

	for (size_t i = 0; i < n; i++) {
		const char *d = spec->depends_on[i];
		sje_err     rv;

		sje__snprintf(fname, sizeof(fname), "depends_on[%zu]", i);
		rv = job_check_name(d, SJE_MAX_ID_BYTES, false, fname,
		    " (a task_id)", field, fieldlen, msg, msglen);
		if (rv != SJE_OK) {
			return rv;
		}
		if (spec->task_id != NULL && strcmp(d, spec->task_id) == 0) {
			return job_bad(field, fieldlen, msg, msglen, fname,
			    "%s: a job cannot depend on itself", fname);
		}
	}
	if (n < 2) {
		return SJE_OK;
	}
	// Sorted copies find duplicates in n log n (a fan-in may have
	// thousands of parents).
	job_dep *deps = malloc(n * sizeof(*deps));
	if (deps == NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		deps[i].id    = spec->depends_on[i];
		deps[i].index = (uint32_t) i;
	}
	qsort(deps, n, sizeof(deps[0]), job_dep_cmp);
	sje_err rv = SJE_OK;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(deps[i - 1].id, deps[i].id) == 0) {
			sje__snprintf(fname, sizeof(fname), "depends_on[%u]",
			    deps[i].index);
			rv = job_bad(field, fieldlen, msg, msglen, fname,
			    "%s: the same parent as depends_on[%u]", fname,
			    deps[i - 1].index);
			break;
		}
	}
	free(deps);
	return rv;
}

// job_check_kv checks the n pairs keys[i] = values[i] of the map field
// what ("labels", "requires"; count checked before the call).
static sje_err
job_check_kv(const char *what, size_t n, const char *const *keys,
    const char *const *values, char *field, size_t fieldlen, char *msg,
    size_t msglen)
{
	char fname[32];

	for (size_t i = 0; i < n; i++) {
		sje_err rv;

		sje__snprintf(fname, sizeof(fname), "%s[%zu]", what, i);
		if (keys[i] == NULL) {
			return job_bad(field, fieldlen, msg, msglen, fname,
			    "%s: missing", fname);
		}
		rv = job_check_name(keys[i], SJE_JOB_MAX_LABEL_KEY_BYTES, true,
		    fname, "'s key", field, fieldlen, msg, msglen);
		if (rv != SJE_OK) {
			return rv;
		}
		if (values[i] != NULL) {
			size_t len = strlen(values[i]);
			if (len > SJE_JOB_MAX_LABEL_VALUE_BYTES) {
				return job_bad(field, fieldlen, msg, msglen,
				    fname,
				    "%s: the value is %zu bytes; the limit is "
				    "%u",
				    fname, len, SJE_JOB_MAX_LABEL_VALUE_BYTES);
			}
			for (size_t k = 0; k < len; k++) {
				unsigned char c = (unsigned char) values[i][k];
				if (c < 0x20 || c == 0x7f) {
					return job_bad(field, fieldlen, msg,
					    msglen, fname,
					    "%s: the value holds a control "
					    "character",
					    fname);
				}
			}
		}
		// At most SJE_MAX_LABELS entries: a quadratic look is cheap.
		for (size_t k = 0; k < i; k++) {
			if (strcmp(keys[k], keys[i]) == 0) {
				return job_bad(field, fieldlen, msg, msglen,
				    fname, "%s: the same key as %s[%zu]",
				    fname, what, k);
			}
		}
	}
	return SJE_OK;
}

// job_check_labels checks spec->labels and spec->requires (counts checked
// before the call).
static sje_err
job_check_labels(const Sje__V1__JobSpec *spec, char *field, size_t fieldlen,
    char *msg, size_t msglen)
{
	const char *keys[SJE_MAX_LABELS], *values[SJE_MAX_LABELS];
	sje_err     rv;

	for (size_t i = 0; i < spec->n_labels; i++) {
		keys[i] =
		    spec->labels[i] != NULL ? spec->labels[i]->key : NULL;
		values[i] =
		    spec->labels[i] != NULL ? spec->labels[i]->value : NULL;
	}
	rv = job_check_kv("labels", spec->n_labels, keys, values, field,
	    fieldlen, msg, msglen);
	if (rv != SJE_OK) {
		return rv;
	}
	for (size_t i = 0; i < spec->n_requires; i++) {
		keys[i] = spec->requires[i] != NULL ? spec->requires[i] -> key
		                                    : NULL;
		values[i] =
		    spec->requires[i] != NULL ? spec->requires[i] -> value
		                              : NULL;
	}
	return job_check_kv("requires", spec->n_requires, keys, values, field,
	    fieldlen, msg, msglen);
}

// job_check_retry checks spec->retry (not NULL).
static sje_err
job_check_retry(const Sje__V1__RetryPolicy *r, char *field, size_t fieldlen,
    char *msg, size_t msglen)
{
	if (r->backoff != NULL && r->backoff[0] != '\0' &&
	    strcmp(r->backoff, "exponential") != 0 &&
	    strcmp(r->backoff, "fixed") != 0) {
		return job_bad(field, fieldlen, msg, msglen, "retry.backoff",
		    "retry.backoff must be \"exponential\" or \"fixed\"");
	}
	if (r->max_attempts > SJE_JOB_MAX_ATTEMPTS) {
		return job_bad(field, fieldlen, msg, msglen,
		    "retry.max_attempts",
		    "retry.max_attempts is %u; the limit is %u",
		    r->max_attempts, SJE_JOB_MAX_ATTEMPTS);
	}
	if (r->initial_delay_ms != 0 && r->max_delay_ms != 0 &&
	    r->initial_delay_ms > r->max_delay_ms) {
		return job_bad(field, fieldlen, msg, msglen,
		    "retry.initial_delay_ms",
		    "retry.initial_delay_ms (%u) is above retry.max_delay_ms "
		    "(%u)",
		    r->initial_delay_ms, r->max_delay_ms);
	}
	return SJE_OK;
}

sje_err
sje__job_spec_check(const Sje__V1__JobSpec *spec, char *field, size_t fieldlen,
    char *msg, size_t msglen)
{
	sje_err rv;

	rv = job_check_name(spec->function, SJE_MAX_FUNCTION_BYTES, false,
	    "function", "", field, fieldlen, msg, msglen);
	if (rv != SJE_OK) {
		return rv;
	}
	// An empty task_id is generated by the server.
	if (spec->task_id != NULL && spec->task_id[0] != '\0' &&
	    (rv = job_check_name(spec->task_id, SJE_MAX_ID_BYTES, false,
	         "task_id", "", field, fieldlen, msg, msglen)) != SJE_OK) {
		return rv;
	}
	if (spec->params != NULL) {
		const char *t =
		    spec->params->text != NULL ? spec->params->text : "";
		size_t len = strlen(t);
		if (len > SJE_MAX_PARAMS_BYTES) {
			return job_bad(field, fieldlen, msg, msglen, "params",
			    "params is %zu bytes; the limit is %u", len,
			    SJE_MAX_PARAMS_BYTES);
		}
		if (!sje__json_valid(t, len)) {
			return job_bad(field, fieldlen, msg, msglen, "params",
			    "params is not one valid JSON value (UTF-8, "
			    "nested at most %u deep, no repeated keys)",
			    SJE_MAX_JSON_DEPTH);
		}
	}
	if (spec->n_depends_on > SJE_MAX_DEPENDS) {
		return job_bad(field, fieldlen, msg, msglen, "depends_on",
		    "depends_on has %zu entries; the limit is %u",
		    spec->n_depends_on, SJE_MAX_DEPENDS);
	}
	if ((rv = job_check_depends(spec, field, fieldlen, msg, msglen)) !=
	    SJE_OK) {
		return rv;
	}
	if (spec->timeout_s > SJE_JOB_MAX_TIMEOUT_S) {
		return job_bad(field, fieldlen, msg, msglen, "timeout_s",
		    "timeout_s is %u; the limit is %u (7 days)",
		    spec->timeout_s, SJE_JOB_MAX_TIMEOUT_S);
	}
	if (spec->delay_s > SJE_JOB_MAX_DELAY_S) {
		return job_bad(field, fieldlen, msg, msglen, "delay_s",
		    "delay_s is %u; the limit is %u (1 year)", spec->delay_s,
		    SJE_JOB_MAX_DELAY_S);
	}
	if (spec->retry != NULL &&
	    (rv = job_check_retry(
	         spec->retry, field, fieldlen, msg, msglen)) != SJE_OK) {
		return rv;
	}
	if (spec->n_labels > SJE_MAX_LABELS) {
		return job_bad(field, fieldlen, msg, msglen, "labels",
		    "labels has %zu entries; the limit is %u", spec->n_labels,
		    SJE_MAX_LABELS);
	}
	if (spec->n_requires > SJE_MAX_LABELS) {
		return job_bad(field, fieldlen, msg, msglen, "requires",
		    "requires has %zu entries; the limit is %u",
		    spec->n_requires, SJE_MAX_LABELS);
	}
	return job_check_labels(spec, field, fieldlen, msg, msglen);
}

void
sje__job_field(
    char *buf, size_t len, const char *prefix, size_t i, const char *field)
{
	if (prefix == NULL) {
		sje__snprintf(buf, len, "%s", field != NULL ? field : "");
	} else if (field != NULL) {
		sje__snprintf(buf, len, "%s[%zu].%s", prefix, i, field);
	} else {
		sje__snprintf(buf, len, "%s[%zu]", prefix, i);
	}
}
