// plugin_rt.h — the common runtime's pure parts, for the shipped plugins.
//
// A plugin is a shared object loaded by a host that offers it only the
// ABI of sje_plugin.h; it links neither libsje nor the programs' internal
// library. What the plugins share with the rest of SJE — the one
// job-state table (client/core/jobstate.c) and the one monotonic clock
// with its timed waits (client/core/clock.c, clock.h) — is compiled from
// those same files into sje_plugin_rt, a static library that each plugin
// links (plugins/CMakeLists.txt) and exports nothing of. So the plugins
// keep no copies, and the ABI stays as it is: these are pure functions a
// plugin computes itself, nothing a host must provide.
//
// For the clock, include "clock.h" (sje_mono_ms, sje__cond_init_mono,
// sje__cond_wait_until). Everything here is pure and thread-safe.
#ifndef SJE_PLUGIN_RT_H
#define SJE_PLUGIN_RT_H

#include <stdbool.h>
#include <stddef.h>

// SJE_PLUGIN_STATE_BITS is how many bits a mask indexed by state needs:
// bit s stands for the state of value s (PENDING is 1, ...), and bit 0,
// which no state has, is free for "any other".
#define SJE_PLUGIN_STATE_BITS 9u

// sje__plugin_state_find returns the value of the job state named
// exactly name (case matters: the names the host sends, "PENDING" ...
// "UPSTREAM_FAILED"), or 0 when name is NULL or names no state.
int sje__plugin_state_find(const char *name);

// sje__plugin_state_list writes every state's name into buf (len bytes,
// cut to fit), in order and comma-separated, for error messages:
// "PENDING, SCHEDULED, QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED,
// UPSTREAM_FAILED".
void sje__plugin_state_list(char *buf, size_t len);

#endif // SJE_PLUGIN_RT_H
