// plugin_host.c — finding, loading, checking and unloading plugins, for
// both hosts (sje-worker and sje-server).
//
// At start a host loads each enabled plugin of config.yaml's plugins list
// with dlopen, asks its sje_plugin_entry for its description, refuses it
// unless it speaks our ABI version and its description is complete, skips
// it when its roles do not name this host, runs its init (with its options
// and config's tasks.functions as JSON, and, in a worker, a register_task
// callback for functions named at run time), gathers the task functions of
// every plugin into one table sorted by name (looked up with bsearch) and
// notes each plugin's hooks. Every problem stops the start with one line
// that names the plugin: a worker that silently lacks a function would
// take no jobs for it and nobody would know why.
//
// Locking: none. The table is built before any thread starts and only read
// afterwards; register_task is accepted only while its plugin's init runs
// on the main thread.
#include "plugin_host.h"

#include "log.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The plugin directory of an installation (CMake defines both from
// GNUInstallDirs): absolute, and relative to the programs' bindir.
#ifndef SJE_PLUGIN_DIR
#define SJE_PLUGIN_DIR "/usr/local/lib/sje/plugins"
#endif
#ifndef SJE_PLUGIN_RELDIR
#define SJE_PLUGIN_RELDIR "../lib/sje/plugins"
#endif

// plugin_reg is a task function a plugin registered during its init.
typedef struct plugin_reg {
	char       *name; // owned
	sje_task_fn run;
	void       *arg; // the plugin's fn_arg
} plugin_reg;

// plugin_lib is one loaded shared object.
typedef struct plugin_lib {
	char             *name;    // its name in config (owned)
	char             *path;    // the file loaded (owned)
	void             *dl;      // dlopen handle; NULL until loaded
	const sje_plugin *desc;    // from sje_plugin_entry; lives in dl
	void             *state;   // what init stored
	bool              in_init; // init runs: register_task is allowed
	bool              inited;  // init succeeded: fini is due
	plugin_reg       *regs;    // registered functions (owned)
	size_t            n_regs;
	size_t            cap_regs;
	// Hooks, each NULL when the plugin has none (or its sje_hooks is too
	// short to hold it).
	void (*on_event)(void *state, const sje_job_event *ev);
	int (*validate_submit)(
	    void *state, const char *spec_json, char *reason, size_t len);
	sje_retry_verdict (*decide_retry)(void *state,
	    const sje_job_event *failure, uint32_t max_attempts,
	    uint32_t *delay_ms);
	void (*on_alert)(void *state, const sje_alert *alert);
} plugin_lib;

struct sje__plugins {
	const char *host; // "worker" or "coordinator"
	uint32_t    role; // SJE_PLUGIN_ROLE_* of the host
	plugin_lib *libs; // in load order
	size_t      n_libs;
	sje__fn    *fns; // sorted by name; names live in the libs
	size_t      n_fns;
	bool        event_hooks;    // some lib has on_event
	bool        validate_hooks; // some lib has validate_submit
	bool        retry_hooks;    // some lib has decide_retry
};

// PLUGINS_HOOK is member m of hooks h when the plugin's sje_hooks is long
// enough to hold it, else NULL.
#define PLUGINS_HOOK(h, m) \
	((h)->size >= offsetof(sje_hooks, m) + sizeof((h)->m) ? (h)->m : NULL)

// plugins_name_ok is true when name is 1 to max characters of A-Z a-z
// 0-9 _ - . and of the characters in also.
static bool
plugins_name_ok(const char *name, size_t max, const char *also)
{
	const char *c;

	if (name == NULL || name[0] == '\0' || strlen(name) > max) {
		return false;
	}
	for (c = name; *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		        (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' ||
		        *c == '.' || strchr(also, *c) != NULL)) {
			return false;
		}
	}
	return true;
}

// plugins_valid_name accepts names that can be part of a file name:
// letters, digits, '_', '-' and '.', not starting with '.'.
static bool
plugins_valid_name(const char *name)
{
	return name != NULL && name[0] != '.' &&
	    plugins_name_ok(name, SIZE_MAX, "");
}

// plugins_valid_fn_name accepts what the coordinator accepts as a function
// name: 1 to SJE_MAX_FUNCTION_BYTES characters of A-Z a-z 0-9 _ . : -.
static bool
plugins_valid_fn_name(const char *name)
{
	return plugins_name_ok(name, SJE_MAX_FUNCTION_BYTES, ":");
}

#define PLUGINS_FN_NAME_RULE \
	"function names are 1 to 128 characters of A-Z a-z 0-9 _ . : -"

// plugins_register_task is the register_task callback given to init;
// host_ctx is the plugin_lib whose init runs.
static int
plugins_register_task(void *host_ctx, const char *name, sje_task_fn run,
    void *fn_arg, const char *summary)
{
	plugin_lib *lib = host_ctx;
	size_t      i;

	if (lib == NULL || !lib->in_init) {
		SJE_WARN("a plugin called register_task outside its init: "
		         "refused");
		return EINVAL;
	}
	if (run == NULL || !plugins_valid_fn_name(name)) {
		SJE_WARN("plugin %s: register_task('%.*s'): refused: %s%s",
		    lib->name, 160, name != NULL ? name : "(null)",
		    run == NULL ? "no function given; " : "",
		    PLUGINS_FN_NAME_RULE);
		return EINVAL;
	}
	for (i = 0; i < lib->n_regs; i++) {
		if (strcmp(lib->regs[i].name, name) == 0) {
			return EEXIST;
		}
	}
	for (i = 0; i < lib->desc->n_tasks; i++) {
		if (strcmp(lib->desc->tasks[i].name, name) == 0) {
			return EEXIST;
		}
	}
	if (lib->n_regs == lib->cap_regs) {
		size_t      cap  = lib->cap_regs != 0 ? lib->cap_regs * 2 : 8;
		plugin_reg *regs = realloc(lib->regs, cap * sizeof(*regs));
		if (regs == NULL) {
			return ENOMEM;
		}
		lib->regs     = regs;
		lib->cap_regs = cap;
	}
	if ((lib->regs[lib->n_regs].name = sje__strdup(name)) == NULL) {
		return ENOMEM;
	}
	lib->regs[lib->n_regs].run = run;
	lib->regs[lib->n_regs].arg = fn_arg;
	lib->n_regs++;
	SJE_DEBUG("plugin %s: function %s%s%s", lib->name, name,
	    summary != NULL && summary[0] != '\0' ? ": " : "",
	    summary != NULL ? summary : "");
	return 0;
}

// plugins_functions_json renders cfg's tasks.functions for
// sje_plugin_init.functions_json: {"name": {"timeout_s": N,
// "command": [...]}} with the effective timeout and the command only when
// one is given. NULL when memory is short.
static char *
plugins_functions_json(const sje_config *cfg)
{
	json_t *all = json_object();
	char   *text;
	size_t  i;
	size_t  j;

	if (all == NULL) {
		return NULL;
	}
	for (i = 0; i < cfg->tasks.n_functions; i++) {
		const sje_function_cfg *fc = &cfg->tasks.functions[i];
		json_t                 *f  = json_object();
		json_t                 *argv;

		if (f == NULL || fc->name == NULL ||
		    json_object_set_new(all, fc->name, f) != 0 ||
		    json_object_set_new(f, "timeout_s",
		        json_integer(fc->timeout_s != 0
		                ? fc->timeout_s
		                : cfg->tasks.timeout_s)) != 0) {
			goto fail;
		}
		if (fc->command.n == 0) {
			continue;
		}
		if ((argv = json_array()) == NULL ||
		    json_object_set_new(f, "command", argv) != 0) {
			goto fail;
		}
		for (j = 0; j < fc->command.n; j++) {
			if (json_array_append_new(argv,
			        json_string(fc->command.items[j])) != 0) {
				goto fail;
			}
		}
	}
	text = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	return text;

fail:
	json_decref(all);
	return NULL;
}

// plugins_exe_dir writes the directory of the running executable into buf;
// false when /proc/self/exe cannot be read.
static bool
plugins_exe_dir(char *buf, size_t len)
{
	ssize_t n;
	char   *slash;

	n = readlink("/proc/self/exe", buf, len - 1);
	if (n <= 0 || (size_t) n >= len - 1) {
		buf[0] = '\0';
		return false;
	}
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL) {
		buf[0] = '\0';
		return false;
	}
	*slash = '\0';
	return true;
}

// plugins_find_file finds the shared object of plugin pc. On SJE_OK *out
// is a new string (caller owns it).
static sje_err
plugins_find_file(
    const sje_plugin_cfg *pc, char **out, char *errbuf, size_t errlen)
{
	char        file[256];
	char        cand[PATH_MAX];
	char        exe_dir[PATH_MAX] = "";
	const char *env;
	const char *dir;

	if (pc->path != NULL && pc->path[0] != '\0') {
		*out = sje__strdup(pc->path);
		return *out != NULL ? SJE_OK : SJE_ENOMEM;
	}
	if (!plugins_valid_name(pc->name)) {
		sje__snprintf(errbuf, errlen,
		    "plugin '%s': not a valid plugin name (letters, digits, "
		    "'_', '-' and '.'), and no path is given",
		    pc->name != NULL ? pc->name : "");
		return SJE_ECONFIG;
	}
	if (!sje__snprintf(file, sizeof(file), "sje_%s.so", pc->name)) {
		sje__snprintf(
		    errbuf, errlen, "plugin %s: name too long", pc->name);
		return SJE_ECONFIG;
	}

	// $SJE_PLUGIN_PATH: colon-separated directories; empty parts are
	// skipped.
	if ((env = getenv("SJE_PLUGIN_PATH")) != NULL) {
		for (dir = env; *dir != '\0';) {
			size_t dlen = strcspn(dir, ":");
			if (dlen > 0 && dlen < sizeof(cand) &&
			    sje__snprintf(cand, sizeof(cand), "%.*s/%s",
			        (int) dlen, dir, file) &&
			    access(cand, F_OK) == 0) {
				*out = sje__strdup(cand);
				return *out != NULL ? SJE_OK : SJE_ENOMEM;
			}
			dir += dlen;
			if (*dir == ':') {
				dir++;
			}
		}
	}

	// Next to the executable, as the build tree is laid out:
	// build/bin/sje-worker, build/lib/sje/sje_x.so.
	if (plugins_exe_dir(exe_dir, sizeof(exe_dir)) &&
	    sje__snprintf(
	        cand, sizeof(cand), "%s/../lib/sje/%s", exe_dir, file) &&
	    access(cand, F_OK) == 0) {
		*out = sje__strdup(cand);
		return *out != NULL ? SJE_OK : SJE_ENOMEM;
	}

	// Where the install puts them: relative to the executable (an
	// installation under another prefix, cmake --install --prefix DIR),
	// then the absolute directory that the build was configured for.
	if (exe_dir[0] != '\0' &&
	    sje__snprintf(cand, sizeof(cand), "%s/%s/%s", exe_dir,
	        SJE_PLUGIN_RELDIR, file) &&
	    access(cand, F_OK) == 0) {
		*out = sje__strdup(cand);
		return *out != NULL ? SJE_OK : SJE_ENOMEM;
	}
	if (sje__snprintf(cand, sizeof(cand), "%s/%s", SJE_PLUGIN_DIR, file) &&
	    access(cand, F_OK) == 0) {
		*out = sje__strdup(cand);
		return *out != NULL ? SJE_OK : SJE_ENOMEM;
	}

	sje__snprintf(errbuf, errlen,
	    "plugin %s: %s not found (looked in $SJE_PLUGIN_PATH%s%s%s, "
	    "in %s/../lib/sje and in %s); set its path in config or "
	    "SJE_PLUGIN_PATH",
	    pc->name, file, env != NULL ? " = '" : " (unset)",
	    env != NULL ? env : "", env != NULL ? "'" : "",
	    exe_dir[0] != '\0' ? exe_dir : "the executable's directory",
	    SJE_PLUGIN_DIR);
	return SJE_ENOTFOUND;
}

// plugins_roles returns the roles a plugin's description declares.
static uint32_t
plugins_roles(const sje_plugin *d)
{
	uint32_t roles = 0;

	if (d->size >= offsetof(sje_plugin, roles) + sizeof(d->roles)) {
		roles = d->roles;
	}
	return roles != 0 ? roles : SJE_PLUGIN_ROLE_WORKER;
}

// plugins_open loads lib->path, checks the plugin and runs its init.
// Leaves whatever it loaded in lib for plugins_close_lib to undo. Sets
// *skipped (and loads nothing more) when the plugin is not for p's host.
static sje_err
plugins_open(const sje__plugins *p, plugin_lib *lib, const sje_plugin_cfg *pc,
    const sje_host_api *host, const char *functions_json, bool *skipped,
    char *errbuf, size_t errlen)
{
	sje_plugin_entry_fn entry;
	const sje_plugin   *d;
	char                reason[1024] = "";
	size_t              i;
	const char         *err;

	if ((lib->dl = dlopen(lib->path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		sje__snprintf(errbuf, errlen, "plugin %s: cannot load: %s",
		    lib->name, err != NULL ? err : lib->path);
		return SJE_EIO;
	}
	// POSIX's way to turn dlsym's object pointer into a function pointer.
	*(void **) (&entry) = dlsym(lib->dl, SJE_PLUGIN_ENTRY_SYMBOL);
	if (entry == NULL) {
		sje__snprintf(errbuf, errlen,
		    "plugin %s: %s is not an SJE plugin (no %s symbol)",
		    lib->name, lib->path, SJE_PLUGIN_ENTRY_SYMBOL);
		return SJE_EINVAL;
	}
	if ((d = entry()) == NULL) {
		sje__snprintf(errbuf, errlen,
		    "plugin %s: %s returned no description", lib->name,
		    SJE_PLUGIN_ENTRY_SYMBOL);
		return SJE_EINVAL;
	}
	if (d->abi_version != SJE_PLUGIN_ABI_VERSION) {
		sje__snprintf(errbuf, errlen,
		    "plugin %s: ABI version %u, this %s speaks %u", lib->name,
		    (unsigned) d->abi_version, p->host,
		    (unsigned) SJE_PLUGIN_ABI_VERSION);
		return SJE_EINVAL;
	}
	if (d->size < SJE_PLUGIN_MIN_SIZE) {
		sje__snprintf(errbuf, errlen,
		    "plugin %s: its description is %u bytes, ABI version %u "
		    "needs %zu (rebuild it against this sje_plugin.h)",
		    lib->name, (unsigned) d->size,
		    (unsigned) SJE_PLUGIN_ABI_VERSION,
		    (size_t) SJE_PLUGIN_MIN_SIZE);
		return SJE_EINVAL;
	}
	lib->desc = d;
	if ((plugins_roles(d) & p->role) == 0) {
		SJE_DEBUG(
		    "plugin %s: not for the %s; skipped", lib->name, p->host);
		*skipped = true;
		return SJE_OK;
	}
	if (d->name == NULL || strcmp(d->name, lib->name) != 0) {
		SJE_WARN("plugin %s: %s calls itself '%s'", lib->name,
		    lib->path, d->name != NULL ? d->name : "");
	}
	if (d->n_tasks > 0 && d->tasks == NULL) {
		sje__snprintf(errbuf, errlen,
		    "plugin %s: declares %zu tasks but gives none", lib->name,
		    d->n_tasks);
		return SJE_EINVAL;
	}
	for (i = 0; i < d->n_tasks; i++) {
		const sje_task_def *t = &d->tasks[i];
		if (!plugins_valid_fn_name(t->name) || t->run == NULL) {
			sje__snprintf(errbuf, errlen,
			    "plugin %s: task %zu ('%.*s') has a bad name or no "
			    "function; " PLUGINS_FN_NAME_RULE,
			    lib->name, i, 160,
			    t->name != NULL ? t->name : "(null)");
			return SJE_EINVAL;
		}
	}
	if (d->hooks != NULL) {
		lib->on_event        = PLUGINS_HOOK(d->hooks, on_event);
		lib->validate_submit = PLUGINS_HOOK(d->hooks, validate_submit);
		lib->decide_retry    = PLUGINS_HOOK(d->hooks, decide_retry);
		lib->on_alert        = PLUGINS_HOOK(d->hooks, on_alert);
	}
	if (d->init != NULL) {
		sje_plugin_init in;
		int             irv;

		memset(&in, 0, sizeof(in));
		in.size = sizeof(in);
		in.host = host;
		in.role = p->host;
		in.options_json =
		    pc->options_json != NULL ? pc->options_json : "{}";
		in.functions_json = functions_json;
		if (p->role == SJE_PLUGIN_ROLE_WORKER) {
			in.register_task = plugins_register_task;
			in.host_ctx      = lib;
		}
		lib->in_init = true;
		irv = d->init(&in, &lib->state, reason, sizeof(reason));
		lib->in_init = false;
		if (irv != 0) {
			reason[sizeof(reason) - 1] = '\0';
			sje__snprintf(errbuf, errlen,
			    "plugin %s: init failed: %s", lib->name,
			    reason[0] != '\0' ? reason : "no reason given");
			return SJE_ECONFIG;
		}
	}
	lib->inited = true;
	SJE_DEBUG("plugin %s %s loaded from %s: %zu functions%s%s%s%s",
	    lib->name, d->version != NULL ? d->version : "(no version)",
	    lib->path,
	    p->role == SJE_PLUGIN_ROLE_WORKER ? d->n_tasks + lib->n_regs : 0,
	    lib->on_event != NULL ? ", on_event" : "",
	    lib->validate_submit != NULL ? ", validate_submit" : "",
	    lib->decide_retry != NULL ? ", decide_retry" : "",
	    lib->on_alert != NULL ? ", on_alert" : "");
	return SJE_OK;
}

// plugins_close_lib undoes plugins_open and frees lib's strings; copes with
// a partly opened lib.
static void
plugins_close_lib(plugin_lib *lib)
{
	if (lib->inited && lib->desc->fini != NULL) {
		lib->desc->fini(lib->state);
	}
	if (lib->dl != NULL) {
		(void) dlclose(lib->dl);
	}
	for (size_t i = 0; i < lib->n_regs; i++) {
		free(lib->regs[i].name);
	}
	free(lib->regs);
	free(lib->path);
	free(lib->name);
	memset(lib, 0, sizeof(*lib));
}

static int
plugins_fn_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const sje__fn *) a)->name, ((const sje__fn *) b)->name);
}

// plugins_collect gathers the functions of every lib into p->fns, sorted,
// and refuses a name given twice.
static sje_err
plugins_collect(sje__plugins *p, char *errbuf, size_t errlen)
{
	size_t i;
	size_t j;
	size_t n = 0;

	for (i = 0; i < p->n_libs; i++) {
		const plugin_lib *lib = &p->libs[i];
		n += lib->desc->n_tasks + lib->n_regs;
		p->event_hooks = p->event_hooks || lib->on_event != NULL;
		p->validate_hooks =
		    p->validate_hooks || lib->validate_submit != NULL;
		p->retry_hooks = p->retry_hooks || lib->decide_retry != NULL;
	}
	if (n == 0 || p->role != SJE_PLUGIN_ROLE_WORKER) {
		return SJE_OK;
	}
	if ((p->fns = calloc(n, sizeof(*p->fns))) == NULL) {
		sje__snprintf(errbuf, errlen, "out of memory loading plugins");
		return SJE_ENOMEM;
	}
	for (i = 0; i < p->n_libs; i++) {
		const plugin_lib *lib = &p->libs[i];
		for (j = 0; j < lib->desc->n_tasks; j++) {
			sje__fn *f = &p->fns[p->n_fns++];
			f->name    = lib->desc->tasks[j].name;
			f->run     = lib->desc->tasks[j].run;
			f->arg     = lib->state;
			f->plugin  = lib->name;
		}
		for (j = 0; j < lib->n_regs; j++) {
			sje__fn *f = &p->fns[p->n_fns++];
			f->name    = lib->regs[j].name;
			f->run     = lib->regs[j].run;
			f->arg     = lib->regs[j].arg;
			f->plugin  = lib->name;
		}
	}
	qsort(p->fns, p->n_fns, sizeof(*p->fns), plugins_fn_cmp);
	for (i = 1; i < p->n_fns; i++) {
		if (strcmp(p->fns[i - 1].name, p->fns[i].name) == 0) {
			sje__snprintf(errbuf, errlen,
			    "function %s is given by two plugins: %s and %s",
			    p->fns[i].name, p->fns[i - 1].plugin,
			    p->fns[i].plugin);
			return SJE_ECONFIG;
		}
	}
	return SJE_OK;
}

sje_err
sje__plugins_load(const sje_config *cfg, uint32_t role,
    const sje_host_api *host, sje__plugins **out, char *errbuf, size_t errlen)
{
	sje__plugins *p;
	char         *functions_json;
	size_t        i;
	sje_err       rv;

	if ((functions_json = plugins_functions_json(cfg)) == NULL) {
		sje__snprintf(errbuf, errlen, "out of memory loading plugins");
		return SJE_ENOMEM;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (cfg->n_plugins > 0 &&
	        (p->libs = calloc(cfg->n_plugins, sizeof(*p->libs))) ==
	            NULL)) {
		free(p);
		free(functions_json);
		sje__snprintf(errbuf, errlen, "out of memory loading plugins");
		return SJE_ENOMEM;
	}
	p->role = role;
	p->host = role == SJE_PLUGIN_ROLE_WORKER ? "worker" : "coordinator";
	for (i = 0; i < cfg->n_plugins; i++) {
		const sje_plugin_cfg *pc      = &cfg->plugins[i];
		plugin_lib           *lib     = &p->libs[p->n_libs];
		bool                  skipped = false;

		if (!pc->enabled) {
			continue;
		}
		p->n_libs++; // from here on lib is ours to close
		if ((lib->name = sje__strdup(
		         pc->name != NULL ? pc->name : "")) == NULL) {
			rv = SJE_ENOMEM;
			sje__snprintf(
			    errbuf, errlen, "out of memory loading plugins");
			goto fail;
		}
		if ((rv = plugins_find_file(pc, &lib->path, errbuf, errlen)) !=
		    SJE_OK) {
			goto fail;
		}
		if ((rv = plugins_open(p, lib, pc, host, functions_json,
		         &skipped, errbuf, errlen)) != SJE_OK) {
			goto fail;
		}
		if (skipped) {
			plugins_close_lib(lib);
			p->n_libs--;
		}
	}
	if ((rv = plugins_collect(p, errbuf, errlen)) != SJE_OK) {
		goto fail;
	}
	free(functions_json);
	*out = p;
	return SJE_OK;

fail:
	free(functions_json);
	sje__plugins_free(p);
	return rv;
}

void
sje__plugins_free(sje__plugins *p)
{
	size_t i;

	if (p == NULL) {
		return;
	}
	free(p->fns); // names point into the libs: free before unloading
	for (i = p->n_libs; i > 0; i--) {
		plugins_close_lib(&p->libs[i - 1]);
	}
	free(p->libs);
	free(p);
}

const sje__fn *
sje__plugins_find(const sje__plugins *p, const char *name)
{
	sje__fn key;

	if (p->n_fns == 0 || name == NULL) {
		return NULL;
	}
	memset(&key, 0, sizeof(key));
	key.name = name;
	return bsearch(
	    &key, p->fns, p->n_fns, sizeof(*p->fns), plugins_fn_cmp);
}

void
sje__plugins_event(const sje__plugins *p, const sje_job_event *ev)
{
	size_t i;

	if (!p->event_hooks) {
		return;
	}
	for (i = 0; i < p->n_libs; i++) {
		if (p->libs[i].on_event != NULL) {
			p->libs[i].on_event(p->libs[i].state, ev);
		}
	}
}

bool
sje__plugins_has_event_hooks(const sje__plugins *p)
{
	return p->event_hooks;
}

bool
sje__plugins_has_validate_hooks(const sje__plugins *p)
{
	return p->validate_hooks;
}

bool
sje__plugins_has_retry_hooks(const sje__plugins *p)
{
	return p->retry_hooks;
}

int
sje__plugins_validate_submit(const sje__plugins *p, const char *spec_json,
    char *reason, size_t reason_len)
{
	size_t i;

	for (i = 0; i < p->n_libs; i++) {
		const plugin_lib *lib = &p->libs[i];
		char              why[512];
		int               rv;

		if (lib->validate_submit == NULL) {
			continue;
		}
		why[0] = '\0';
		rv     = lib->validate_submit(
		        lib->state, spec_json, why, sizeof(why));
		if (rv != 0) {
			why[sizeof(why) - 1] = '\0';
			// One line: a reason is shown to the submitter as is.
			why[strcspn(why, "\r\n")] = '\0';
			sje__snprintf(reason, reason_len,
			    "refused by plugin %s: %s", lib->name,
			    why[0] != '\0' ? why : "no reason given");
			return rv;
		}
	}
	return 0;
}

sje_retry_verdict
sje__plugins_decide_retry(const sje__plugins *p, const sje_job_event *failure,
    uint32_t max_attempts, uint32_t *delay_ms, const char **who)
{
	size_t i;

	for (i = 0; i < p->n_libs; i++) {
		const plugin_lib *lib = &p->libs[i];
		uint32_t          d   = *delay_ms;
		sje_retry_verdict v;

		if (lib->decide_retry == NULL) {
			continue;
		}
		v = lib->decide_retry(lib->state, failure, max_attempts, &d);
		if (v == SJE_RETRY_AFTER || v == SJE_RETRY_STOP) {
			if (v == SJE_RETRY_AFTER) {
				*delay_ms = d;
			}
			if (who != NULL) {
				*who = lib->name;
			}
			return v;
		}
	}
	return SJE_RETRY_DEFAULT;
}

// plugins_lib_named returns the loaded lib called name, or NULL.
static const plugin_lib *
plugins_lib_named(const sje__plugins *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_libs; i++) {
		if (strcmp(p->libs[i].name, name) == 0) {
			return &p->libs[i];
		}
	}
	return NULL;
}

bool
sje__plugins_has_alert_hook(const sje__plugins *p, const char *name)
{
	const plugin_lib *lib = plugins_lib_named(p, name);

	return lib != NULL && lib->on_alert != NULL;
}

bool
sje__plugins_is_loaded(const sje__plugins *p, const char *name)
{
	return plugins_lib_named(p, name) != NULL;
}

void
sje__plugins_alert(
    const sje__plugins *p, const char *name, const sje_alert *alert)
{
	const plugin_lib *lib = plugins_lib_named(p, name);

	if (lib != NULL && lib->on_alert != NULL) {
		lib->on_alert(lib->state, alert);
	}
}

size_t
sje__plugins_count(const sje__plugins *p)
{
	return p->n_fns;
}

const sje__fn *
sje__plugins_at(const sje__plugins *p, size_t i)
{
	return i < p->n_fns ? &p->fns[i] : NULL;
}
