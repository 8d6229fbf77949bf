// store.c — what every store backend shares: freeing and copying the rows
// the verbs of store.h hand out, and the label filter of
// sje__store_list_jobs. The verbs themselves are the backends' (sqlite.c,
// postgres.c; tests/support/memstore.c), reached through sje__store_ops.
//
// Labels. A job's labels live only inside its packed spec (the bytes of
// an sje.v1.JobSpec), which neither SQLite nor PostgreSQL can look into:
// there is no column and no index for them, and matching the packed
// bytes of a map entry in SQL would tie the schema to protobuf's wire
// encoding (and still need a check here: the bytes could sit inside
// params). So the label is matched here, in C, once for every backend:
// sje__store_list_by_label asks the backend for pages of the jobs that
// match the rest of the filter (state, function, run, worker, times: its
// indexes and its WHERE do that part), newest first, unpacks each spec
// and keeps those with the label. The work of one call is bounded by the
// rows it reads (max_scan, SJE_STORE_LABEL_SCAN by default), not by how
// rare the label is: a call that reads its bound before it has found
// limit jobs returns what it found and the id to go on below
// (resume_id), which the scheduler turns into the next page's cursor. A
// label filter costs most when it is the only one; combined with a
// state, function or run, the backend narrows the rows first.
#include <sje/sje.h>

#include "store/store.h"

#include "sje/v1/job.pb-c.h"
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

// store_has_label is true when row's spec maps key to value. A spec that
// does not unpack has no labels.
static bool
store_has_label(const sje__job_row *row, const char *key, const char *value)
{
	Sje__V1__JobSpec *spec =
	    sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
	bool found = false;
	for (size_t i = 0; spec != NULL && i < spec->n_labels && !found; i++) {
		found = strcmp(spec->labels[i]->key, key) == 0 &&
		    strcmp(spec->labels[i]->value, value) == 0;
	}
	if (spec != NULL) {
		sje__v1__job_spec__free_unpacked(spec, NULL);
	}
	return found;
}

sje_err
sje__store_list_by_label(
    sje__store *s, const sje__job_filter *f, sje__job_row ***rows, size_t *n)
{
	sje__job_filter page = *f;
	uint32_t        budget =
            f->max_scan != 0 ? f->max_scan : SJE_STORE_LABEL_SCAN;
	const char    *value  = f->label_value != NULL ? f->label_value : "";
	sje__job_row **out    = NULL;
	size_t         count  = 0;
	uint32_t       read   = 0;
	int64_t        resume = 0;
	sje_err        rv     = SJE_OK;

	page.label_key   = NULL;
	page.label_value = NULL;
	page.resume_id   = NULL;
	if (f->limit > 0 && (out = calloc(f->limit, sizeof(*out))) == NULL) {
		return SJE_ENOMEM;
	}
	while (count < f->limit) {
		if (read >= budget) {
			resume = page.before_id; // the lowest id read
			break;
		}
		sje__job_row **got = NULL;
		size_t         k   = 0;
		page.limit         = budget - read < SJE_STORE_LABEL_PAGE
		            ? budget - read
		            : SJE_STORE_LABEL_PAGE;
		if ((rv = s->ops->list_jobs(s, &page, &got, &k)) != SJE_OK) {
			break;
		}
		size_t i = 0;
		for (; i < k && count < f->limit; i++) {
			read++;
			page.before_id = got[i]->id;
			if (store_has_label(got[i], f->label_key, value)) {
				out[count++] = got[i];
			} else {
				sje__job_row_free(got[i]);
			}
		}
		for (; i < k; i++) {
			sje__job_row_free(got[i]); // past limit: not read
		}
		free(got);
		if (k < page.limit) {
			break; // the backend has no more
		}
	}
	if (rv != SJE_OK) {
		for (size_t i = 0; i < count; i++) {
			sje__job_row_free(out[i]);
		}
		free(out);
		return rv;
	}
	if (count == 0) {
		free(out);
		out = NULL;
	}
	if (f->resume_id != NULL) {
		*f->resume_id = count < f->limit ? resume : 0;
	}
	*rows = out;
	*n    = count;
	return SJE_OK;
}

// store_utf8_put writes code point c as UTF-8 at p; returns its length.
static size_t
store_utf8_put(char *p, uint32_t c)
{
	if (c < 0x80) {
		p[0] = (char) c;
		return 1;
	}
	if (c < 0x800) {
		p[0] = (char) (0xC0 | (c >> 6));
		p[1] = (char) (0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		p[0] = (char) (0xE0 | (c >> 12));
		p[1] = (char) (0x80 | ((c >> 6) & 0x3F));
		p[2] = (char) (0x80 | (c & 0x3F));
		return 3;
	}
	p[0] = (char) (0xF0 | (c >> 18));
	p[1] = (char) (0x80 | ((c >> 12) & 0x3F));
	p[2] = (char) (0x80 | ((c >> 6) & 0x3F));
	p[3] = (char) (0x80 | (c & 0x3F));
	return 4;
}

// store_utf8_get reads the code point of the well-formed sequence of n
// bytes at p.
static uint32_t
store_utf8_get(const char *p, size_t n)
{
	const unsigned char       *u            = (const unsigned char *) p;
	static const unsigned char lead_mask[5] = { 0, 0x7F, 0x1F, 0x0F,
		0x07 };
	uint32_t                   c            = u[0] & lead_mask[n];
	for (size_t i = 1; i < n; i++) {
		c = (c << 6) | (u[i] & 0x3F);
	}
	return c;
}

// The most U+10FFFF a task_id can end with, plus one: what follows a
// prefix of U+10FFFF alone in its upper bound.
#define STORE_MAX_CP_PAD (SJE_MAX_ID_BYTES / 4 + 1)

sje_err
sje__store_prefix_upper(const char *prefix, char **upper)
{
	size_t len = strlen(prefix);
	if (!sje__utf8_check(prefix, len, NULL)) {
		return SJE_EINVAL;
	}
	char *out = malloc(len + 4 * STORE_MAX_CP_PAD + 1);
	if (out == NULL) {
		return SJE_ENOMEM;
	}
	// The start of each code point, to step back over the last ones.
	size_t   keep = len; // bytes of prefix kept before the raised one
	size_t   last = 0;   // its length
	uint32_t c    = 0;
	for (size_t i = 0; i < len;) {
		size_t   k = sje__utf8_seq(prefix + i, len - i);
		uint32_t v = store_utf8_get(prefix + i, k);
		if (v != 0x10FFFF) {
			keep = i;
			last = k;
			c    = v;
		}
		i += k;
	}
	size_t o = 0;
	if (last == 0) {
		// Only U+10FFFF (or nothing): no code point to raise.
		memcpy(out, prefix, len);
		o = len;
		for (size_t i = 0; i < STORE_MAX_CP_PAD; i++) {
			o += store_utf8_put(out + o, 0x10FFFF);
		}
	} else {
		memcpy(out, prefix, keep);
		o = keep;
		c = c == 0xD7FF ? 0xE000 : c + 1; // no surrogates in UTF-8
		o += store_utf8_put(out + o, c);
	}
	out[o] = '\0';
	*upper = out;
	return SJE_OK;
}

sje_err
sje__store_get_jobs_each(
    sje__store *s, const char *const *task_ids, size_t n, sje__job_row **rows)
{
	for (size_t i = 0; i < n; i++) {
		rows[i] = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		sje_err rv = s->ops->get_job(s, task_ids[i], &rows[i]);
		if (rv == SJE_ENOTFOUND) {
			rows[i] = NULL;
		} else if (rv != SJE_OK) {
			for (size_t k = 0; k < i; k++) {
				sje__job_row_free(rows[k]);
				rows[k] = NULL;
			}
			rows[i] = NULL;
			return rv;
		}
	}
	return SJE_OK;
}

sje_err
sje__store_list_attempts_of_each(sje__store *s, const int64_t *job_ids,
    size_t n, sje__attempt_row **rows, size_t *counts)
{
	sje__attempt_row *all   = NULL;
	size_t            total = 0;
	*rows                   = NULL;
	for (size_t i = 0; i < n; i++) {
		sje__attempt_row *one;
		size_t            k;
		sje_err rv = s->ops->list_attempts(s, job_ids[i], &one, &k);
		if (rv != SJE_OK) {
			sje__attempt_rows_free(all, total);
			return rv;
		}
		counts[i] = k;
		if (k == 0) {
			sje__attempt_rows_free(one, 0);
			continue;
		}
		sje__attempt_row *grown =
		    realloc(all, sizeof(*all) * (total + k));
		if (grown == NULL) {
			sje__attempt_rows_free(one, k);
			sje__attempt_rows_free(all, total);
			return SJE_ENOMEM;
		}
		all = grown;
		memcpy(all + total, one, sizeof(*one) * k);
		total += k;
		free(one); // its strings are all's now
	}
	*rows = all;
	return SJE_OK;
}
