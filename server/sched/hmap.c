// hmap.c — a string-keyed hash map with chained buckets (FNV-1a hashes),
// and its twin for 64-bit keys (splitmix64's finaliser mixes the key, so
// that counters spread as well as random ids).
#include "sched/hmap.h"

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

// ---- 64-bit keys ---------------------------------------------------------

struct sje__umap_entry {
	uint64_t         key;
	void            *value;
	sje__umap_entry *next;
};

static size_t
umap_slot(const sje__umap *m, uint64_t k)
{
	k ^= k >> 30;
	k *= 0xbf58476d1ce4e5b9ull;
	k ^= k >> 27;
	k *= 0x94d049bb133111ebull;
	k ^= k >> 31;
	return (size_t) (k & (m->n_buckets - 1));
}

void
sje__umap_init(sje__umap *m)
{
	m->buckets   = NULL;
	m->n_buckets = 0;
	m->n         = 0;
}

void
sje__umap_fini(sje__umap *m)
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		sje__umap_entry *e = m->buckets[i];
		while (e != NULL) {
			sje__umap_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(m->buckets);
	sje__umap_init(m);
}

void *
sje__umap_get(const sje__umap *m, uint64_t key)
{
	if (m->n_buckets == 0) {
		return NULL;
	}
	for (sje__umap_entry *e = m->buckets[umap_slot(m, key)]; e != NULL;
	     e                  = e->next) {
		if (e->key == key) {
			return e->value;
		}
	}
	return NULL;
}

// umap_grow doubles the bucket array.
static sje_err
umap_grow(sje__umap *m)
{
	sje__umap         old = *m;
	sje__umap_entry **nb;
	size_t            n = m->n_buckets != 0 ? m->n_buckets * 2 : 64;
	if ((nb = calloc(n, sizeof(*nb))) == NULL) {
		return SJE_ENOMEM;
	}
	m->buckets   = nb;
	m->n_buckets = n;
	for (size_t i = 0; i < old.n_buckets; i++) {
		sje__umap_entry *e = old.buckets[i];
		while (e != NULL) {
			sje__umap_entry *next = e->next;
			size_t           b    = umap_slot(m, e->key);
			e->next               = nb[b];
			nb[b]                 = e;
			e                     = next;
		}
	}
	free(old.buckets);
	return SJE_OK;
}

sje_err
sje__umap_put(sje__umap *m, uint64_t key, void *value)
{
	if (m->n >= m->n_buckets) {
		sje_err err = umap_grow(m);
		if (err != SJE_OK) {
			return err;
		}
	}
	sje__umap_entry **head = &m->buckets[umap_slot(m, key)];
	for (sje__umap_entry *e = *head; e != NULL; e = e->next) {
		if (e->key == key) {
			e->value = value;
			return SJE_OK;
		}
	}
	sje__umap_entry *e = malloc(sizeof(*e));
	if (e == NULL) {
		return SJE_ENOMEM;
	}
	e->key   = key;
	e->value = value;
	e->next  = *head;
	*head    = e;
	m->n++;
	return SJE_OK;
}

void *
sje__umap_del(sje__umap *m, uint64_t key)
{
	if (m->n_buckets == 0) {
		return NULL;
	}
	for (sje__umap_entry **pp = &m->buckets[umap_slot(m, key)];
	     *pp != NULL; pp      = &(*pp)->next) {
		sje__umap_entry *e = *pp;
		if (e->key == key) {
			void *v = e->value;
			*pp     = e->next;
			free(e);
			m->n--;
			return v;
		}
	}
	return NULL;
}
