// workflow.h — workflows defined in config, expanded into jobs.
//
// A run of workflow NAME with run id W makes one job per step, with
// task_id "W.<step>", the step's function, depends_on the jobs of the steps
// in its `after`, labels {workflow: NAME, workflow_id: W}, and params: the
// step's params with the run's params laid over them (when both are JSON
// objects, a shallow merge in which the run's keys win; otherwise the
// run's params when given, else the step's).
#ifndef SJE_SERVER_WORKFLOW_H
#define SJE_SERVER_WORKFLOW_H

#include "config.h"
#include <sje/v1/job.pb-c.h>

// sje__workflow_run holds the specs of one run; every string is owned.
typedef struct sje__workflow_run {
	Sje__V1__JobSpec **specs;
	size_t             n;
} sje__workflow_run;

// sje__workflow_expand builds the specs of a run of wf with run id
// workflow_id and run params params_json (may be NULL). On SJE_OK *out is
// filled (free with sje__workflow_run_fini). SJE_EINVAL when params_json
// is not JSON (msg says why); SJE_ENOMEM.
sje_err sje__workflow_expand(const sje_workflow *wf, const char *workflow_id,
    const char *params_json, sje__workflow_run *out, char *msg, size_t len);

// sje__workflow_run_fini frees what expand made. Accepts a zeroed run.
void sje__workflow_run_fini(sje__workflow_run *run);

// sje__workflow_find returns cfg's workflow called name, or NULL.
const sje_workflow *sje__workflow_find(
    const sje_config *cfg, const char *name);

#endif // SJE_SERVER_WORKFLOW_H
