// plugin_rt.c — the plugins' view of the one job-state table
// (plugin_rt.h): exact names, and the list for messages. The table itself
// is client/core/jobstate.c, compiled into the same library.
#include "plugin_rt.h"

#include <sje/client.h>

#include "util.h"

#include <string.h>

// The states run from PENDING to UPSTREAM_FAILED, the last (jobstate.c
// checks that the table ends there).
#define RT_FIRST SJE__V1__JOB_STATE__JOB_STATE_PENDING
#define RT_LAST SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED

_Static_assert(RT_LAST < SJE_PLUGIN_STATE_BITS, "a state mask has a bit each");

int
sje__plugin_state_find(const char *name)
{
	for (int s = RT_FIRST; name != NULL && s <= RT_LAST; s++) {
		if (strcmp(name, sje_job_state_name(s)) == 0) {
			return s;
		}
	}
	return 0;
}

void
sje__plugin_state_list(char *buf, size_t len)
{
	size_t o = 0;
	if (len == 0) {
		return;
	}
	buf[0] = '\0';
	for (int s = RT_FIRST; s <= RT_LAST && o < len; s++) {
		(void) sje__snprintf(buf + o, len - o, "%s%s",
		    s > RT_FIRST ? ", " : "", sje_job_state_name(s));
		o += strlen(buf + o);
	}
}
