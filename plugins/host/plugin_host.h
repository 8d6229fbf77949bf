// plugin_host.h — the plugin loader of sje-worker and sje-server.
//
// sje__plugins is the set of plugins a host loaded at start, the task
// functions they contribute (from their static tables and from
// register_task during init; a worker's only) and their hooks. It is built
// once, before any thread that uses it starts, and is read-only
// afterwards: any thread may look functions up and call hooks without a
// lock.
#ifndef SJE_PLUGIN_HOST_H
#define SJE_PLUGIN_HOST_H

#include <sje/sje.h>

#include "config.h"

#include <sje_plugin.h>

// sje__fn is one loaded task function. Borrowed from its sje__plugins.
typedef struct sje__fn {
	const char *name; // the function name; borrowed from the plugin or
	                  // from the set (registered functions)
	sje_task_fn run;
	void       *arg;    // run's third argument: the plugin's state for a
	                    // static function, its fn_arg for a registered one
	const char *plugin; // the name of the plugin that gave it
} sje__fn;

typedef struct sje__plugins sje__plugins;

// sje__plugins_load loads every enabled plugin of cfg->plugins whose
// roles include role (SJE_PLUGIN_ROLE_WORKER or _COORDINATOR): it finds
// the shared object (the entry's path; else sje_<name>.so in the
// colon-separated directories of $SJE_PLUGIN_PATH; else
// <dir of the executable>/../lib/sje/sje_<name>.so, as in the build tree;
// else the installed plugin directory, first relative to the executable,
// then as configured, e.g. /usr/lib/<multiarch>/sje/plugins), dlopens it,
// checks its ABI version and description, calls its init with the entry's
// options and config's tasks.functions (as JSON), and collects its task
// functions, static and registered (a worker only), and its hooks. A
// plugin for other hosts is opened to read its roles, then closed again
// without init. host is passed to each init and must outlive the set. On
// SJE_OK *out is the set (caller owns it: sje__plugins_free). On failure
// nothing stays loaded and errbuf holds one line naming the plugin and the
// reason ("plugin core: ABI version 2, this worker speaks 1"). Call before
// starting threads (it reads the environment).
sje_err sje__plugins_load(const sje_config *cfg, uint32_t role,
    const sje_host_api *host, sje__plugins **out, char *errbuf, size_t errlen);

// sje__plugins_free calls each plugin's fini, in reverse load order, then
// unloads it. Accepts NULL. No task function may be running.
void sje__plugins_free(sje__plugins *p);

// sje__plugins_find returns the function called name, or NULL. The result
// is borrowed from p. Thread-safe.
const sje__fn *sje__plugins_find(const sje__plugins *p, const char *name);

// sje__plugins_event calls the on_event hook of every loaded plugin that
// has one, in load order, with ev (borrowed). Thread-safe; call with no
// lock held.
void sje__plugins_event(const sje__plugins *p, const sje_job_event *ev);

// sje__plugins_has_event_hooks is true when some plugin has an on_event
// hook (so callers can skip building events); _validate_hooks and
// _retry_hooks likewise for validate_submit and decide_retry.
// Thread-safe.
bool sje__plugins_has_event_hooks(const sje__plugins *p);
bool sje__plugins_has_validate_hooks(const sje__plugins *p);
bool sje__plugins_has_retry_hooks(const sje__plugins *p);

// sje__plugins_validate_submit asks each plugin's validate_submit, in load
// order, about spec_json; returns 0 when all accept, else the first
// refusal's value with reason (reason_len bytes) holding one line: "refused
// by plugin NAME: WHY".
int sje__plugins_validate_submit(const sje__plugins *p, const char *spec_json,
    char *reason, size_t reason_len);

// sje__plugins_decide_retry asks each plugin's decide_retry, in load order,
// until one answers other than SJE_RETRY_DEFAULT, and returns that answer
// (*delay_ms updated for SJE_RETRY_AFTER; *who, when who is not NULL, the
// deciding plugin's name, borrowed from p). SJE_RETRY_DEFAULT when none
// decides.
sje_retry_verdict sje__plugins_decide_retry(const sje__plugins *p,
    const sje_job_event *failure, uint32_t max_attempts, uint32_t *delay_ms,
    const char **who);

// sje__plugins_is_loaded is true when the plugin called name is loaded
// here; sje__plugins_has_alert_hook when it also has on_alert.
bool sje__plugins_is_loaded(const sje__plugins *p, const char *name);
bool sje__plugins_has_alert_hook(const sje__plugins *p, const char *name);

// sje__plugins_alert calls the on_alert hook of the plugin called name (if
// loaded, with one). Thread-safe; call with no lock held.
void sje__plugins_alert(
    const sje__plugins *p, const char *name, const sje_alert *alert);

// sje__plugins_count returns the number of task functions, and
// sje__plugins_at the i-th of them in name order (i < count). Borrowed
// from p. Thread-safe.
size_t         sje__plugins_count(const sje__plugins *p);
const sje__fn *sje__plugins_at(const sje__plugins *p, size_t i);

#endif // SJE_PLUGIN_HOST_H
