// report.h — the worker's reporter: the queue of outcomes, how a batch is
// taken from it and sorted by call, how the coordinator's answer is read,
// and the reporter thread that sends Complete, Fail and Release.
#ifndef SJE_WORKER_REPORT_H
#define SJE_WORKER_REPORT_H

#include "task.h"

#include <sje/v1/worker_hub.pb-c.h>

#include <stdbool.h>
#include <stddef.h>

// Most outcomes in one report, and most result bytes (well under the
// 16 MiB frame limit).
#define SJE__REPORT_BATCH_MAX 1000u
#define SJE__REPORT_BATCH_MAX_BYTES (8u * 1024u * 1024u)

// sje__outq is the queue of outcomes waiting for the reporter, oldest
// first, linked by their next. Not thread-safe: the runtime guards it with
// its lock. Zero-initialised, it is empty.
typedef struct sje__outq {
	sje__outcome *head;
	sje__outcome *tail;
} sje__outq;

// sje__outq_push appends o (the queue owns it until it is taken).
void sje__outq_push(sje__outq *q, sje__outcome *o);

// sje__outq_take takes the oldest outcomes as one batch, a list linked by
// next that the caller owns: at least one, and then more while there are
// fewer than max_n and their result and error bytes stay within
// max_bytes (the first outcome counts its result only). Writes their
// number into *n. Returns NULL, with *n untouched, when q is empty.
sje__outcome *sje__outq_take(
    sje__outq *q, size_t max_n, size_t max_bytes, size_t *n);

// sje__outq_take_carried takes, as sje__outq_take does, the oldest
// successes and failures (those a Fetch may carry), skipping the jobs
// handed back, which stay queued in order for Release.
sje__outcome *sje__outq_take_carried(
    sje__outq *q, size_t max_n, size_t max_bytes, size_t *n);

// sje__outq_requeue puts the list batch (linked by next) back at the head
// of q, in its order: outcomes a call did not get answered.
void sje__outq_requeue(sje__outq *q, sje__outcome *batch);

// sje__outq_has_release is true when a job handed back is queued.
bool sje__outq_has_release(const sje__outq *q);

// sje__outcomes_pb is the request form of n outcomes: JobOutcome messages
// borrowing the outcomes' strings (never freed by protobuf-c).
typedef struct sje__outcomes_pb {
	Sje__V1__JobOutcome  *jo;
	Sje__V1__JobOutcome **p; // the request's repeated field
	Sje__V1__Json        *json;
	Sje__V1__JobError    *errs;
} sje__outcomes_pb;

// sje__outcomes_pb_make fills pb for outs[0..n): each with its result
// (a success) or its error (a failure), or with task id and lease only
// when ids_only (Release). SJE_ENOMEM leaves pb empty.
sje_err sje__outcomes_pb_make(
    sje__outcomes_pb *pb, sje__outcome *const *outs, size_t n, bool ids_only);

void sje__outcomes_pb_free(sje__outcomes_pb *pb);

// sje__report_sort sorts the batch (n outcomes linked by next) by the call
// that reports them, keeping their order: successes into oks, jobs handed
// back into rels (into fails when no_release: the coordinator has no
// Release), failures into fails. Each array holds n; the counts are
// written. The outcomes stay in the batch: the arrays borrow them.
void sje__report_sort(sje__outcome *batch, bool no_release, sje__outcome **oks,
    size_t *n_ok, sje__outcome **fails, size_t *n_fail, sje__outcome **rels,
    size_t *n_rel);

// sje__report_answered reads the coordinator's answer to a report of
// outs[0..n), per outcome: accepted; refused because the result broke its
// rules (INVALID_ARGUMENT, RESOURCE_EXHAUSTED: when refused is not NULL,
// the success is turned into a failure and appended to refused, whose
// count is *n_refused); or refused for good (a lease that expired or
// moved, a job cancelled or unknown: the coordinator decided, nothing to
// retry). A missing answer counts as UNKNOWN. Logs each outcome's fate.
void sje__report_answered(sje__outcome **outs, size_t n,
    const Sje__V1__ReportReply *reply, sje__outcome **refused,
    size_t *n_refused);

// sje__report_main is the reporter thread's body; arg is the
// sje__runtime. It ends once report_stop is set and the queue is empty.
void *sje__report_main(void *arg);

#endif // SJE_WORKER_REPORT_H
