// hmap.c — hash maps of pointers by string (FNV-1a) and by 64-bit key
// (splitmix64's finaliser mixes the key, so that counters spread as well
// as random ids).
//
// Both are one chained table (map_*): an entry keeps its key's 64-bit
// hash and its key, a string or a number; lookups compare the hash first,
// then the key the way its map does (map_key). Buckets double at load
// factor 1.
#include "sched/hmap.h"

#include <stdlib.h>
#include <string.h>

struct sje__map_entry {
	uint64_t hash;
	union {
		const char *s;
		uint64_t    u;
	} key;
	void           *value;
	sje__map_entry *next;
};

// map_key is a key being looked for: its hash, and the key itself in the
// form its map keeps (s for strings, u for numbers).
typedef struct map_key {
	uint64_t    hash;
	const char *s; // NULL: a 64-bit key
	uint64_t    u;
} map_key;

static bool
map_same(const sje__map_entry *e, const map_key *k)
{
	return e->hash == k->hash &&
	    (k->s != NULL ? strcmp(e->key.s, k->s) == 0 : e->key.u == k->u);
}

static void
map_init(sje__map_table *t)
{
	t->buckets   = NULL;
	t->n_buckets = 0;
	t->n         = 0;
}

static void
map_fini(sje__map_table *t)
{
	for (size_t i = 0; i < t->n_buckets; i++) {
		sje__map_entry *e = t->buckets[i];
		while (e != NULL) {
			sje__map_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(t->buckets);
	map_init(t);
}

static sje__map_entry **
map_head(const sje__map_table *t, uint64_t hash)
{
	return &t->buckets[hash & (t->n_buckets - 1)];
}

static void *
map_get(const sje__map_table *t, const map_key *k)
{
	if (t->n_buckets == 0) {
		return NULL;
	}
	for (sje__map_entry *e = *map_head(t, k->hash); e != NULL;
	     e                 = e->next) {
		if (map_same(e, k)) {
			return e->value;
		}
	}
	return NULL;
}

// map_grow doubles the bucket array.
static sje_err
map_grow(sje__map_table *t)
{
	size_t           n  = t->n_buckets != 0 ? t->n_buckets * 2 : 64;
	sje__map_entry **nb = calloc(n, sizeof(*nb));
	if (nb == NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < t->n_buckets; i++) {
		sje__map_entry *e = t->buckets[i];
		while (e != NULL) {
			sje__map_entry *next  = e->next;
			e->next               = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
			e                     = next;
		}
	}
	free(t->buckets);
	t->buckets   = nb;
	t->n_buckets = n;
	return SJE_OK;
}

static sje_err
map_put(sje__map_table *t, const map_key *k, void *value)
{
	if (t->n >= t->n_buckets) {
		sje_err err = map_grow(t);
		if (err != SJE_OK) {
			return err;
		}
	}
	sje__map_entry **head = map_head(t, k->hash);
	for (sje__map_entry *e = *head; e != NULL; e = e->next) {
		if (map_same(e, k)) {
			if (k->s != NULL) {
				e->key.s = k->s; // the caller's, from now on
			}
			e->value = value;
			return SJE_OK;
		}
	}
	sje__map_entry *e = malloc(sizeof(*e));
	if (e == NULL) {
		return SJE_ENOMEM;
	}
	e->hash = k->hash;
	if (k->s != NULL) {
		e->key.s = k->s;
	} else {
		e->key.u = k->u;
	}
	e->value = value;
	e->next  = *head;
	*head    = e;
	t->n++;
	return SJE_OK;
}

static void *
map_del(sje__map_table *t, const map_key *k)
{
	if (t->n_buckets == 0) {
		return NULL;
	}
	for (sje__map_entry **pp = map_head(t, k->hash); *pp != NULL;
	     pp                  = &(*pp)->next) {
		sje__map_entry *e = *pp;
		if (map_same(e, k)) {
			void *v = e->value;
			*pp     = e->next;
			free(e);
			t->n--;
			return v;
		}
	}
	return NULL;
}

// ---- string keys -----------------------------------------------------

static map_key
hmap_key(const char *key)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *) key; *p; p++) {
		h = (h ^ *p) * 16777619u;
	}
	return (map_key) { .hash = h, .s = key };
}

void
sje__hmap_init(sje__hmap *m)
{
	map_init(&m->t);
}

void
sje__hmap_fini(sje__hmap *m)
{
	map_fini(&m->t);
}

void *
sje__hmap_get(const sje__hmap *m, const char *key)
{
	map_key k = hmap_key(key);
	return map_get(&m->t, &k);
}

sje_err
sje__hmap_put(sje__hmap *m, const char *key, void *value)
{
	map_key k = hmap_key(key);
	return map_put(&m->t, &k, value);
}

void *
sje__hmap_del(sje__hmap *m, const char *key)
{
	map_key k = hmap_key(key);
	return map_del(&m->t, &k);
}

void
sje__hmap_each(const sje__hmap *m,
    bool (*fn)(void *arg, const char *key, void *value), void *arg)
{
	for (size_t i = 0; i < m->t.n_buckets; i++) {
		for (sje__map_entry *e = m->t.buckets[i]; e != NULL;
		     e                 = e->next) {
			if (!fn(arg, e->key.s, e->value)) {
				return;
			}
		}
	}
}

// ---- 64-bit keys -----------------------------------------------------

static map_key
umap_key(uint64_t key)
{
	uint64_t k = key;
	k ^= k >> 30;
	k *= 0xbf58476d1ce4e5b9ull;
	k ^= k >> 27;
	k *= 0x94d049bb133111ebull;
	k ^= k >> 31;
	return (map_key) { .hash = k, .u = key };
}

void
sje__umap_init(sje__umap *m)
{
	map_init(&m->t);
}

void
sje__umap_fini(sje__umap *m)
{
	map_fini(&m->t);
}

void *
sje__umap_get(const sje__umap *m, uint64_t key)
{
	map_key k = umap_key(key);
	return map_get(&m->t, &k);
}

sje_err
sje__umap_put(sje__umap *m, uint64_t key, void *value)
{
	map_key k = umap_key(key);
	return map_put(&m->t, &k, value);
}

void *
sje__umap_del(sje__umap *m, uint64_t key)
{
	map_key k = umap_key(key);
	return map_del(&m->t, &k);
}
