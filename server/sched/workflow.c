// workflow.c — expands a workflow of config.yaml into the job specs of one
// run (see workflow.h). Pure: no store, no scheduler; the scheduler
// submits the specs atomically like any batch.
#include "sched/workflow.h"

#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const sje_workflow *
sje__workflow_find(const sje_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_workflows; i++) {
		if (strcmp(cfg->workflows[i].name, name) == 0) {
			return &cfg->workflows[i];
		}
	}
	return NULL;
}

// workflow_params merges a step's params with the run's into new text.
static char *
workflow_params(const char *step_json, json_t *run)
{
	json_t *step = NULL;
	if (step_json != NULL) {
		step = json_loads(step_json, JSON_DECODE_ANY, NULL);
	}
	json_t *v;
	if (run != NULL && step != NULL && json_is_object(run) &&
	    json_is_object(step)) {
		v = json_deep_copy(step);
		if (v != NULL && json_object_update(v, run) != 0) {
			json_decref(v);
			v = NULL;
		}
	} else if (run != NULL) {
		v = json_incref(run);
	} else if (step != NULL) {
		v = json_incref(step);
	} else {
		json_decref(step);
		return sje__strdup("null");
	}
	json_decref(step);
	if (v == NULL) {
		return NULL;
	}
	char *text = json_dumps(
	    v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	json_decref(v);
	return text;
}

void
sje__workflow_run_fini(sje__workflow_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		if (run->specs[i] != NULL) {
			sje__v1__job_spec__free_unpacked(run->specs[i], NULL);
		}
	}
	free(run->specs);
	run->specs = NULL;
	run->n     = 0;
}

// workflow_label makes one labels entry.
static Sje__V1__JobSpec__LabelsEntry *
workflow_label(const char *key, const char *value)
{
	Sje__V1__JobSpec__LabelsEntry *e = malloc(sizeof(*e));
	if (e == NULL) {
		return NULL;
	}
	sje__v1__job_spec__labels_entry__init(e);
	e->key   = sje__strdup(key);
	e->value = sje__strdup(value);
	if (e->key == NULL || e->value == NULL) {
		free(e->key);
		free(e->value);
		free(e);
		return NULL;
	}
	return e;
}

// workflow_step builds the spec of one step (all members malloc'd, so
// that free_unpacked frees it).
static Sje__V1__JobSpec *
workflow_step(const sje_workflow *wf, const sje_workflow_step *st,
    const char *wid, json_t *run)
{
	Sje__V1__JobSpec *spec = calloc(1, sizeof(*spec));
	if (spec == NULL) {
		return NULL;
	}
	sje__v1__job_spec__init(spec);
	spec->task_id    = sje__asprintf("%s.%s", wid, st->name);
	spec->function   = sje__strdup(st->function);
	spec->params     = calloc(1, sizeof(*spec->params));
	spec->labels     = calloc(2, sizeof(*spec->labels));
	spec->depends_on = calloc(st->after.n + 1, sizeof(char *));
	bool ok          = spec->task_id != NULL && spec->function != NULL &&
	    spec->params != NULL && spec->labels != NULL &&
	    spec->depends_on != NULL;
	if (ok) {
		sje__v1__json__init(spec->params);
		spec->params->text = workflow_params(st->params_json, run);
		ok                 = spec->params->text != NULL;
	}
	for (size_t k = 0; ok && k < st->after.n; k++) {
		char *d = sje__asprintf("%s.%s", wid, st->after.items[k]);
		if (d == NULL) {
			ok = false;
			break;
		}
		spec->depends_on[spec->n_depends_on++] = d;
	}
	if (ok &&
	    (spec->labels[0] = workflow_label("workflow", wf->name)) != NULL) {
		spec->n_labels = 1;
		if ((spec->labels[1] = workflow_label("workflow_id", wid)) !=
		    NULL) {
			spec->n_labels = 2;
		}
	}
	if (!ok || spec->n_labels != 2) {
		sje__v1__job_spec__free_unpacked(spec, NULL);
		return NULL;
	}
	return spec;
}

sje_err
sje__workflow_expand(const sje_workflow *wf, const char *workflow_id,
    const char *params_json, sje__workflow_run *out, char *msg, size_t len)
{
	json_t *run = NULL;
	if (params_json != NULL && params_json[0] != '\0') {
		json_error_t jerr;
		run = json_loads(params_json, JSON_DECODE_ANY, &jerr);
		if (run == NULL) {
			sje__snprintf(
			    msg, len, "params is not JSON: %s", jerr.text);
			return SJE_EINVAL;
		}
		if (json_is_null(run)) {
			json_decref(run);
			run = NULL;
		}
	}
	sje__workflow_run r = { 0 };
	r.specs             = calloc(wf->n_steps + 1, sizeof(*r.specs));
	sje_err err         = r.specs != NULL ? SJE_OK : SJE_ENOMEM;
	for (size_t i = 0; err == SJE_OK && i < wf->n_steps; i++) {
		r.specs[i] =
		    workflow_step(wf, &wf->steps[i], workflow_id, run);
		if (r.specs[i] == NULL) {
			err = SJE_ENOMEM;
		} else {
			r.n++;
		}
	}
	json_decref(run);
	if (err != SJE_OK) {
		sje__workflow_run_fini(&r);
		return err;
	}
	*out = r;
	return SJE_OK;
}
