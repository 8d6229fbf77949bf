// plugins.h — sje-worker's plugin loader.
//
// sje__plugins is the set of plugins a worker loaded at start, the task
// functions they contribute (from their static tables and from
// register_task during init) and their hooks. It is built once, before any
// slot runs, and is read-only afterwards: any thread may look functions up
// and call hooks without a lock.
#ifndef SJE_WORKER_PLUGINS_H
#define SJE_WORKER_PLUGINS_H

#include <sje/config.h>
#include <sje/sje.h>

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

// sje__plugins_load loads every enabled plugin of cfg->plugins: it finds
// the shared object (the entry's path; else sje_<name>.so in the
// colon-separated directories of $SJE_PLUGIN_PATH; else
// <dir of the executable>/../lib/sje/sje_<name>.so), dlopens it, checks
// its ABI version and description, calls its init with the entry's
// options and config's tasks.functions (as JSON), and collects its task
// functions, static and registered, and its hooks. host is passed to each
// init and must outlive the set. On SJE_OK *out is the set (caller owns it: sje__plugins_free). On
// failure nothing stays loaded and errbuf holds one line naming the
// plugin and the reason ("plugin core: ABI version 2, this worker speaks
// 1"). Call before starting threads (it reads the environment).
sje_err sje__plugins_load(const sje_config *cfg, const sje_host_api *host,
    sje__plugins **out, char *errbuf, size_t errlen);

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
// hook (so callers can skip building events). Thread-safe.
bool sje__plugins_has_event_hooks(const sje__plugins *p);

// sje__plugins_count returns the number of task functions, and
// sje__plugins_at the i-th of them in name order (i < count). Borrowed
// from p. Thread-safe.
size_t         sje__plugins_count(const sje__plugins *p);
const sje__fn *sje__plugins_at(const sje__plugins *p, size_t i);

#endif // SJE_WORKER_PLUGINS_H
