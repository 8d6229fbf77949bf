// hooks.h — the coordinator's plugins: their hooks, fed without ever
// holding up the scheduler.
//
// sje__hooks loads the plugins of config.yaml whose roles include
// "coordinator" and runs what they hook:
//
//   - validate_submit and decide_retry are called by the scheduler thread
//     itself, inline (they are answers it needs; the ABI asks them to be
//     quick);
//   - on_event runs on one hook thread of its own. The scheduler only says
//     "events up to seq N are committed" (sje__hooks_committed); the hook
//     thread reads them back from the store through a read-only
//     connection, in seq order, and calls every plugin's on_event. A slow
//     plugin therefore delays other plugins, never a job, and a burst is
//     never dropped: the store is the queue. The last seq delivered is
//     kept in <data_dir>/hooks.seq, or in the store where the store keeps
//     it (PostgreSQL, shared by several coordinators: whichever leads
//     goes on from there; sje__store_put_cursor). It is rewritten at most
//     every 250 ms while events flow, and within 250 ms once caught up,
//     so after a restart delivery resumes where it stopped (after a
//     crash, the events of the last quarter second may come twice; seq
//     tells);
//   - alerts (alerts.h) that change are queued to the same thread, which
//     logs each one and passes it to its notifier's on_alert.
//
// Thread-safety: sje__hooks_committed and sje__hooks_alert may be called
// from any thread; validate and decide_retry from any thread (the plugins'
// hooks are thread-safe by contract). Open and close on the main thread.
#ifndef SJE_SERVER_HOOKS_H
#define SJE_SERVER_HOOKS_H

#include "config.h"
#include <sje/sje.h>

#include <sje_plugin.h>

#include "store/store.h"

typedef struct sje__hooks sje__hooks;

// sje__hooks_host_api is the sje_host_api the coordinator gives its
// plugins: log and log_job write through the server's logger; the task
// functions, which only a worker can serve, answer as for no task (NULL,
// 0, false) and do nothing.
const sje_host_api *sje__hooks_host_api(void);

// sje__hooks_open loads the coordinator's plugins and checks that every
// alert rule's notifier is "" or "log" or a loaded plugin with on_alert.
// store is the scheduler's, open already (borrowed for the call): the hook
// thread, started here when some plugin has on_event or there are alerts,
// reads it through a reader of its own (sje__store_open_reader). Event
// delivery starts after the cursor (the store's, else <data_dir>/hooks.seq)
// when there is one, else after the newest event committed so far. On
// failure errbuf
// holds one line naming the plugin or the key.
sje_err sje__hooks_open(const sje_config *cfg, sje__store *store,
    sje__hooks **out, char *errbuf, size_t errlen);

// sje__hooks_close stops the hook thread after it delivered every event
// committed so far (bounded: 5 s), then finis and unloads the plugins.
// Accepts NULL.
void sje__hooks_close(sje__hooks *h);

// sje__hooks_committed tells the hook thread that events up to seq are
// committed. Never blocks beyond a mutex. Accepts NULL.
void sje__hooks_committed(sje__hooks *h, uint64_t seq);

// sje__hooks_alert queues an alert change (copied) for the hook thread,
// which logs it and, when notify names a plugin, passes it to that
// plugin's on_alert. Never blocks beyond a mutex. Accepts NULL.
void sje__hooks_alert(
    sje__hooks *h, const sje_alert *alert, const char *notify);

// sje__hooks_delivered returns the seq up to which every event was given
// to the plugins' on_event, or UINT64_MAX when no plugin has one: the
// scheduler keeps the events after it (within a bound) so that none is
// pruned before the hooks saw it. Thread-safe. Accepts NULL (UINT64_MAX).
uint64_t sje__hooks_delivered(const sje__hooks *h);

// sje__hooks_validating is true when some plugin has validate_submit (so
// the caller can skip rendering specs). Accepts NULL (false).
bool sje__hooks_validating(const sje__hooks *h);

// sje__hooks_validate asks the plugins about one job spec, rendered as
// JSON; 0 when all accept, else non-zero with reason holding one line.
int sje__hooks_validate(const sje__hooks *h, const char *spec_json,
    char *reason, size_t reason_len);

// sje__hooks_deciding_retry is true when some plugin has decide_retry.
// Accepts NULL (false).
bool sje__hooks_deciding_retry(const sje__hooks *h);

// sje__hooks_decide_retry asks the plugins (see
// sje__plugins_decide_retry).
sje_retry_verdict sje__hooks_decide_retry(const sje__hooks *h,
    const sje_job_event *failure, uint32_t max_attempts, uint32_t *delay_ms,
    const char **who);

#endif // SJE_SERVER_HOOKS_H
