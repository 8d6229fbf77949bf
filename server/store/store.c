// store.c — what every store backend shares: freeing and copying the rows
// the verbs of store.h hand out. The verbs themselves are the backends'
// (sqlite.c; tests/support/memstore.c), reached through sje__store_ops.
#include <sje/sje.h>

#include "store/store.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

void
sje__job_row_fini(sje__job_row *row)
{
	if (row == NULL) {
		return;
	}
	free(row->task_id);
	free(row->function);
	free(row->spec);
	free(row->worker);
	free(row->result_json);
	free(row->error_type);
	free(row->error_message);
	free(row->progress_msg);
	free(row->workflow_id);
	memset(row, 0, sizeof(*row));
}

void
sje__job_row_free(sje__job_row *row)
{
	if (row == NULL) {
		return;
	}
	sje__job_row_fini(row);
	free(row);
}

// row_dup_str copies src into *dst (NULL stays NULL); false when out of
// memory.
static bool
row_dup_str(char **dst, const char *src)
{
	if (src == NULL) {
		*dst = NULL;
		return true;
	}
	return (*dst = sje__strdup(src)) != NULL;
}

sje_err
sje__job_row_copy(sje__job_row *dst, const sje__job_row *src)
{
	*dst          = *src;
	dst->spec     = NULL;
	dst->spec_len = 0;
	if (src->spec_len > 0) {
		if ((dst->spec = malloc(src->spec_len)) == NULL) {
			goto fail_spec;
		}
		memcpy(dst->spec, src->spec, src->spec_len);
		dst->spec_len = src->spec_len;
	}
	// Each string starts NULL, so that a failure frees only copies.
	dst->task_id = dst->function = dst->worker = dst->result_json = NULL;
	dst->error_type = dst->error_message = dst->progress_msg = NULL;
	dst->workflow_id                                         = NULL;
	if (!row_dup_str(&dst->task_id, src->task_id) ||
	    !row_dup_str(&dst->function, src->function) ||
	    !row_dup_str(&dst->worker, src->worker) ||
	    !row_dup_str(&dst->result_json, src->result_json) ||
	    !row_dup_str(&dst->error_type, src->error_type) ||
	    !row_dup_str(&dst->error_message, src->error_message) ||
	    !row_dup_str(&dst->progress_msg, src->progress_msg) ||
	    !row_dup_str(&dst->workflow_id, src->workflow_id)) {
		sje__job_row_fini(dst);
		return SJE_ENOMEM;
	}
	return SJE_OK;

fail_spec:
	memset(dst, 0, sizeof(*dst));
	return SJE_ENOMEM;
}

void
sje__attempt_rows_free(sje__attempt_row *rows, size_t n)
{
	for (size_t i = 0; rows != NULL && i < n; i++) {
		free(rows[i].worker);
		free(rows[i].error_type);
		free(rows[i].error_message);
	}
	free(rows);
}

void
sje__fn_rows_free(sje__fn_row *rows, size_t n)
{
	for (size_t i = 0; rows != NULL && i < n; i++) {
		free(rows[i].name);
		free(rows[i].rate);
	}
	free(rows);
}

void
sje__schedule_rows_free(sje__schedule_row *rows, size_t n)
{
	for (size_t i = 0; rows != NULL && i < n; i++) {
		free(rows[i].name);
		free(rows[i].last_task_id);
	}
	free(rows);
}
