// alerts.h — monitoring.alerts: rules over the coordinator's own metrics,
// checked periodically, each firing once when its condition starts to hold
// and resolving once when it stops.
//
// A rule's condition is "METRIC OP NUMBER": OP is one of > >= < <= == !=
// and METRIC one of
//
//   queue_depth     jobs QUEUED now (ready, waiting for a slot)
//   running         jobs RUNNING now
//   scheduled       jobs SCHEDULED now (waiting for a delay or a retry)
//   pending         jobs PENDING now (waiting for parents)
//   workers_online  workers registered and heard from
//   slots           their slots in all
//   slots_busy      their slots running a job
//   slots_free      slots - slots_busy
//   succeeded       jobs that ended SUCCEEDED within the window
//   failed          jobs that ended FAILED within the window
//   failure_rate    failed / (succeeded + failed) within the window, 0..1
//                   (0 when nothing finished)
//
// The window is monitoring.window_s, counted back from each check. A rule
// with for_s > 0 fires only once its condition has held at every check for
// that long. The module is pure: the scheduler thread feeds it the numbers
// at each check and is told of each change; nothing here blocks or locks.
#ifndef SJE_SERVER_ALERTS_H
#define SJE_SERVER_ALERTS_H

#include "config.h"
#include <sje/sje.h>

#include <sje_plugin.h>

typedef struct sje__alerts sje__alerts;

// sje__alert_input is what the scheduler counts at a check.
typedef struct sje__alert_input {
	uint64_t queued;
	uint64_t running;
	uint64_t scheduled;
	uint64_t pending;
	uint64_t workers;
	uint64_t slots;
	uint64_t slots_busy;
	uint64_t succeeded_total; // since the server started
	uint64_t failed_total;
	// Functions with jobs queued that no live worker has served for
	// tasks.unserved_warn_s.
	uint64_t unserved_waiting;
} sje__alert_input;

// sje__alerts_fn is told of one change and the rule's notifier (config's
// notify); both are borrowed for the call.
typedef void (*sje__alerts_fn)(
    void *arg, const sje_alert *alert, const char *notify);

// sje__alerts_open parses cfg->monitoring.alerts. On SJE_OK *out holds the
// rules (NULL when there are none: every function accepts NULL). On
// SJE_ECONFIG errbuf holds one line naming the file, line and key
// ("config.yaml:40: monitoring.alerts[0].when: unknown metric 'queue'
// (known: ...)").
sje_err sje__alerts_open(
    const sje_config *cfg, sje__alerts **out, char *errbuf, size_t errlen);

// sje__alerts_free frees the rules. Accepts NULL.
void sje__alerts_free(sje__alerts *a);

// sje__alerts_count returns the number of rules.
size_t sje__alerts_count(const sje__alerts *a);

// sje__alerts_firing is the name of rule i (0 <= i < sje__alerts_count)
// when it is firing now, else NULL; *when (may be NULL) gets its
// condition. Both are borrowed from the config. Accepts NULL a.
const char *sje__alerts_firing(
    const sje__alerts *a, size_t i, const char **when);

// sje__alerts_check evaluates every rule against in at now_ms and calls fn
// for each rule that fires or resolves. Checks must come in time order.
void sje__alerts_check(sje__alerts *a, const sje__alert_input *in,
    sje_time_ms now_ms, sje__alerts_fn fn, void *arg);

#endif // SJE_SERVER_ALERTS_H
