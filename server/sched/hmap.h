// hmap.h — a string-keyed hash map of pointers (internal).
//
// Keys are borrowed: each key must stay valid and unchanged while its entry
// is in the map (the scheduler keys jobs by their own task_id string).
// Chained buckets, doubled at load factor 1. Not thread-safe.
#ifndef SJE_SERVER_HMAP_H
#define SJE_SERVER_HMAP_H

#include <sje/sje.h>

// sje__map_table is the chained table both maps are made of: one code for
// both key kinds (hmap.c). Its fields are the maps' own.
typedef struct sje__map_entry sje__map_entry;

typedef struct sje__map_table {
	sje__map_entry **buckets;
	size_t           n_buckets; // a power of two, or 0 before first put
	size_t           n;         // entries
} sje__map_table;

typedef struct sje__hmap {
	sje__map_table t;
} sje__hmap;

// sje__hmap_init makes m empty; sje__hmap_fini frees its entries (not the
// values). Both accept an empty map.
void sje__hmap_init(sje__hmap *m);
void sje__hmap_fini(sje__hmap *m);

// sje__hmap_count returns the number of entries.
static inline size_t
sje__hmap_count(const sje__hmap *m)
{
	return m->t.n;
}

// sje__hmap_get returns the value under key, or NULL.
void *sje__hmap_get(const sje__hmap *m, const char *key);

// sje__hmap_put sets key to value (replacing any). SJE_ENOMEM on failure,
// leaving m as it was.
sje_err sje__hmap_put(sje__hmap *m, const char *key, void *value);

// sje__hmap_del removes key; returns its value or NULL.
void *sje__hmap_del(sje__hmap *m, const char *key);

// sje__hmap_each calls fn for every entry until fn returns false. fn must
// not change m.
void sje__hmap_each(const sje__hmap *m,
    bool (*fn)(void *arg, const char *key, void *value), void *arg);

// sje__umap is the same for 64-bit keys (sessions, lease ids), hashed
// with a mixer so that counters spread as well as random ids. Not
// thread-safe.
typedef struct sje__umap {
	sje__map_table t;
} sje__umap;

// sje__umap_init makes m empty; sje__umap_fini frees its entries (not the
// values). Both accept an empty map.
void sje__umap_init(sje__umap *m);
void sje__umap_fini(sje__umap *m);

// sje__umap_get returns the value under key, or NULL.
void *sje__umap_get(const sje__umap *m, uint64_t key);

// sje__umap_put sets key to value (replacing any). SJE_ENOMEM on failure,
// leaving m as it was.
sje_err sje__umap_put(sje__umap *m, uint64_t key, void *value);

// sje__umap_del removes key; returns its value or NULL.
void *sje__umap_del(sje__umap *m, uint64_t key);

#endif // SJE_SERVER_HMAP_H
