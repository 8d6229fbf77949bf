// metrics.h — the server's statistics as Prometheus text exposition.
//
// A pure rendering of an sje.v1.StatsReply (what the scheduler's Stats
// call answers) into the text format 0.0.4 that GET /metrics serves. No
// state, no I/O: thread-safe, and unit-tested on its own.
#ifndef SJE_SERVER_METRICS_H
#define SJE_SERVER_METRICS_H

#include <sje/sje.h>
#include <sje/v1/coordinator.pb-c.h>

// SJE_METRICS_CONTENT_TYPE is the Content-Type of the rendering.
#define SJE_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

// sje__metrics_render writes st as these families, each with HELP and
// TYPE lines:
//   sje_jobs{state,function}            gauge: QUEUED, RUNNING and
//                                       SCHEDULED jobs per function, and
//                                       PENDING ones (no function label)
//   sje_jobs_{submitted,succeeded,failed,cancelled,retried,
//             upstream_failed}_total{function}   counters since the start
//   sje_workers, sje_worker_slots, sje_worker_slots_busy   gauges
//   sje_events_total                    counter: the last event's seq
//   sje_start_time_seconds              gauge: when the server started
//   sje_job_wait_seconds{function}      histogram: ready to started
//   sje_job_run_seconds{function}       histogram: one attempt's run
//   sje_worker_reports_refused_total{reason}   counter
//   sje_worker_sessions_replaced_total  counter
//   sje_functions_unserved              gauge
//   sje_submits_refused_unserved_total  counter
// Per-function series are given only to functions marked served; all the
// others are summed into function="(other)", so that the size of the text
// does not depend on what submitters send.
// Histograms have cumulative _bucket{le} lines ending at le="+Inf",
// _sum and _count; a histogram whose counts do not match its bounds
// (counts must be one longer) is skipped. Label values are escaped.
// On SJE_OK *out is a new NUL-terminated text of *len bytes (caller
// frees). SJE_ENOMEM when out of memory; SJE_EINVAL when st is NULL.
sje_err sje__metrics_render(
    const Sje__V1__StatsReply *st, char **out, size_t *len);

#endif // SJE_SERVER_METRICS_H
