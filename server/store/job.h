// job.h — the job module: the checks on a submitted sje.v1.JobSpec, and the
// conversion of a stored row to an sje.v1.Job. The job states, their names
// and the transitions allowed are the one table of jobstate.h (included
// here for the scheduler, which checks every transition against it).
// Every function here is pure and thread-safe.
#ifndef SJE_SERVER_JOB_H
#define SJE_SERVER_JOB_H

#include <sje/sje.h>

#include "jobstate.h"
#include "sje/v1/job.pb-c.h"
#include "store/store.h"

// Limits on a JobSpec beyond those of util.h.
#define SJE_JOB_MAX_ATTEMPTS 100u           // retry.max_attempts
#define SJE_JOB_MAX_TIMEOUT_S (7u * 86400u) // timeout_s: 7 days
#define SJE_JOB_MAX_DELAY_S (365u * 86400u) // delay_s: 1 year
#define SJE_JOB_MAX_LABEL_KEY_BYTES 128u
#define SJE_JOB_MAX_LABEL_VALUE_BYTES 1024u

// sje__job_row_to_pb builds a new sje.v1.Job from row: task_id, function,
// state, attempt, max_attempts, priority, worker, cancel_requested and the
// times from the row's columns; params, depends_on and labels from the
// packed spec; result (when result_json is set), error (when error_type or
// error_message is non-empty), progress (when either part is set); times
// of 0 are absent. timeout_s is the row's (the effective timeout) when not
// 0, else the spec's. Every member is malloc'd: the caller frees *out
// with protobuf_c_message_free_unpacked(&(*out)->base, NULL).
// *out is written only on SJE_OK. Errors: SJE_ENOMEM; SJE_EIO (logged) when
// the stored spec does not unpack.
sje_err sje__job_row_to_pb(const sje__job_row *row, Sje__V1__Job **out);

// sje__job_spec_check validates a submitted spec against the limits:
//   - function: required, at most SJE_MAX_FUNCTION_BYTES, only
//     [A-Za-z0-9_.:-];
//   - task_id: empty (to be generated) or at most SJE_MAX_ID_BYTES of
//     [A-Za-z0-9_.:-];
//   - params: when present, one JSON value (sje__json_valid) of at most
//     SJE_MAX_PARAMS_BYTES;
//   - depends_on: at most SJE_MAX_DEPENDS entries, each a valid task_id,
//     not the job's own, no duplicates;
//   - timeout_s <= SJE_JOB_MAX_TIMEOUT_S, delay_s <= SJE_JOB_MAX_DELAY_S;
//   - retry: backoff "", "exponential" or "fixed"; max_attempts <=
//     SJE_JOB_MAX_ATTEMPTS; initial_delay_ms <= max_delay_ms when both
//     are set;
//   - labels: at most SJE_MAX_LABELS, keys of 1..SJE_JOB_MAX_LABEL_KEY_BYTES
//     of [A-Za-z0-9_.:/-], values of at most SJE_JOB_MAX_LABEL_VALUE_BYTES
//     with no control characters, no key twice;
//   - requires: as labels.
// Returns SJE_OK, or SJE_EINVAL with the offending field written to field
// ("function", "params", "depends_on[2]", "labels[0]", "retry.backoff")
// and a one-line message for people to msg; both are always terminated
// and truncated to fit, and untouched on SJE_OK. field or msg may be NULL
// when its length is 0. The message never quotes the submitted values.
sje_err sje__job_spec_check(const Sje__V1__JobSpec *spec, char *field,
    size_t fieldlen, char *msg, size_t msglen);

// sje__job_field writes into buf (len bytes, cut to fit) the name of
// field of the i-th job of a request, as every refusal names it: plainly
// for a request of one job (prefix NULL: "task_id"), "prefix[i].field"
// in a batch ("jobs[2].function"), "prefix[i]" when field is NULL. Pure.
void sje__job_field(
    char *buf, size_t len, const char *prefix, size_t i, const char *field);

// sje__job_id_valid is true when id is 1..SJE_MAX_ID_BYTES bytes of
// [A-Za-z0-9_.:-] (a task_id, as submitted or generated).
bool sje__job_id_valid(const char *id);

// sje__job_id_prefix_valid is true when prefix is 1..SJE_MAX_ID_BYTES
// bytes of well-formed UTF-8 without NUL: a task_id prefix to search by
// (any characters: one that no task_id holds simply finds nothing).
bool sje__job_id_prefix_valid(const char *prefix);

// sje__job_function_valid is true when name is a valid function name (as
// sje__job_spec_check judges a spec's function).
bool sje__job_function_valid(const char *name);

#endif // SJE_SERVER_JOB_H
