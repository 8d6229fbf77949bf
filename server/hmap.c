// hmap.c — a string-keyed hash map with chained buckets (FNV-1a hashes).
#include "hmap.h"

#include <stdlib.h>
#include <string.h>

struct sje__hmap_entry {
	const char      *key;
	void            *value;
	uint32_t         hash;
	sje__hmap_entry *next;
};

static uint32_t
hmap_hash(const char *key)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *) key; *p; p++) {
		h = (h ^ *p) * 16777619u;
	}
	return h;
}

void
sje__hmap_init(sje__hmap *m)
{
	m->buckets   = NULL;
	m->n_buckets = 0;
	m->n         = 0;
}

void
sje__hmap_fini(sje__hmap *m)
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		sje__hmap_entry *e = m->buckets[i];
		while (e != NULL) {
			sje__hmap_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(m->buckets);
	sje__hmap_init(m);
}

void *
sje__hmap_get(const sje__hmap *m, const char *key)
{
	if (m->n_buckets == 0) {
		return NULL;
	}
	uint32_t h = hmap_hash(key);
	for (sje__hmap_entry *e = m->buckets[h & (m->n_buckets - 1)];
	     e != NULL; e       = e->next) {
		if (e->hash == h && strcmp(e->key, key) == 0) {
			return e->value;
		}
	}
	return NULL;
}

// hmap_grow doubles the bucket array.
static sje_err
hmap_grow(sje__hmap *m)
{
	size_t            n  = m->n_buckets != 0 ? m->n_buckets * 2 : 64;
	sje__hmap_entry **nb = calloc(n, sizeof(*nb));
	if (nb == NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < m->n_buckets; i++) {
		sje__hmap_entry *e = m->buckets[i];
		while (e != NULL) {
			sje__hmap_entry *next = e->next;
			e->next               = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
			e                     = next;
		}
	}
	free(m->buckets);
	m->buckets   = nb;
	m->n_buckets = n;
	return SJE_OK;
}

sje_err
sje__hmap_put(sje__hmap *m, const char *key, void *value)
{
	if (m->n >= m->n_buckets) {
		sje_err err = hmap_grow(m);
		if (err != SJE_OK) {
			return err;
		}
	}
	uint32_t          h    = hmap_hash(key);
	sje__hmap_entry **head = &m->buckets[h & (m->n_buckets - 1)];
	for (sje__hmap_entry *e = *head; e != NULL; e = e->next) {
		if (e->hash == h && strcmp(e->key, key) == 0) {
			e->key   = key;
			e->value = value;
			return SJE_OK;
		}
	}
	sje__hmap_entry *e = malloc(sizeof(*e));
	if (e == NULL) {
		return SJE_ENOMEM;
	}
	e->key   = key;
	e->value = value;
	e->hash  = h;
	e->next  = *head;
	*head    = e;
	m->n++;
	return SJE_OK;
}

void *
sje__hmap_del(sje__hmap *m, const char *key)
{
	if (m->n_buckets == 0) {
		return NULL;
	}
	uint32_t h = hmap_hash(key);
	for (sje__hmap_entry **pp = &m->buckets[h & (m->n_buckets - 1)];
	     *pp != NULL; pp      = &(*pp)->next) {
		sje__hmap_entry *e = *pp;
		if (e->hash == h && strcmp(e->key, key) == 0) {
			void *v = e->value;
			*pp     = e->next;
			free(e);
			m->n--;
			return v;
		}
	}
	return NULL;
}

void
sje__hmap_each(const sje__hmap *m,
    bool (*fn)(void *arg, const char *key, void *value), void *arg)
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		for (sje__hmap_entry *e = m->buckets[i]; e != NULL;
		     e                  = e->next) {
			if (!fn(arg, e->key, e->value)) {
				return;
			}
		}
	}
}
