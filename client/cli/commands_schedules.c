// commands_schedules.c — `sje-client schedules`: the coordinator's
// schedules (config's schedules:) and where each stands, one call
// (ListSchedules). --json prints what GET /schedules answers (shapes.h).
#include "commands.h"

#include "print.h"

#include "shapes.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int
sje__cmd_schedules(sje__cli *c, const sje__args *a)
{
	(void) a;
	int rc = sje__cli_client(c);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__ListSchedulesReply *rep = NULL;
	sje_status                   st  = { 0 };
	sje_err rv = sje_client_list_schedules(c->client, &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = sje__print_doc(c->tty, sje__shape_schedules(rep));
	} else if (rep->n_schedules == 0) {
		puts("no schedules");
	} else {
		sje__table t = { .ncols = 6 };
		sje__table_row(
		    &t, "NAME", "WHEN", "STARTS", "NEXT", "LAST", "LAST_ID");
		for (size_t i = 0; i < rep->n_schedules; i++) {
			const Sje__V1__ScheduleInfo *si = rep->schedules[i];
			char when[96], starts[160], next[40], last[40];
			if (si->cron[0] != '\0') {
				sje__snprintf(
				    when, sizeof(when), "cron %s", si->cron);
			} else {
				sje__snprintf(when, sizeof(when),
				    "every %" PRIu32 " s", si->every_s);
			}
			if (si->function[0] != '\0') {
				sje__snprintf(starts, sizeof(starts), "job %s",
				    si->function);
			} else {
				sje__snprintf(starts, sizeof(starts),
				    "workflow %s", si->workflow);
			}
			sje__table_row(&t, si->name, when, starts,
			    sje__print_time(si->next_at, next, sizeof(next)),
			    sje__print_time(si->last_at, last, sizeof(last)),
			    si->last_task_id[0] != '\0' ? si->last_task_id
			                                : "-");
		}
		rc = sje__table_print(&t);
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}
