// dag.c — topological order of a graph given by parent lists, and the
// naming of a cycle when there is one (dag.h).
//
// Kahn's algorithm: count each node's parents, place the nodes that have
// none, and place a child when its last parent is placed. What is left
// unplaced is a cycle or lies downstream of one; every such node has a
// parent left unplaced, so a walk through those parents must come back to
// a node it met, and from that node on the walk is a cycle.
#include "dag.h"

#include <stdlib.h>
#include <string.h>

sje_err
sje__dag_order(size_t n, sje__dag_parents_fn parents, void *ctx, size_t *order,
    size_t *cycle, size_t *n_cycle)
{
	size_t *left  = calloc(n + 1, sizeof(*left));  // parents unplaced
	size_t *first = calloc(n + 2, sizeof(*first)); // children of i are
	size_t *child = NULL; // child[first[i] .. first[i+1]-1]
	size_t *mark  = NULL; // 1 + the walk's step at a node; 0: not met
	size_t  head = 0, tail = 0, edges = 0;
	sje_err rv = SJE_OK;

	if (left == NULL || first == NULL) {
		rv = SJE_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t        np;
		const size_t *ps = parents(ctx, i, &np);
		left[i]          = np;
		for (size_t k = 0; k < np; k++) {
			first[ps[k] + 1]++;
		}
		edges += np;
	}
	for (size_t i = 0; i < n; i++) {
		first[i + 1] += first[i];
	}
	if ((child = malloc(sizeof(*child) * (edges + 1))) == NULL ||
	    (mark = calloc(n + 1, sizeof(*mark))) == NULL) {
		rv = SJE_ENOMEM;
		goto out;
	}
	// Fill the children, using mark as each node's count so far.
	for (size_t i = 0; i < n; i++) {
		size_t        np;
		const size_t *ps = parents(ctx, i, &np);
		for (size_t k = 0; k < np; k++) {
			child[first[ps[k]] + mark[ps[k]]++] = i;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (left[i] == 0) {
			order[tail++] = i;
		}
	}
	while (head < tail) {
		size_t v = order[head++];
		for (size_t e = first[v]; e < first[v + 1]; e++) {
			if (--left[child[e]] == 0) {
				order[tail++] = child[e];
			}
		}
	}
	if (tail == n) {
		goto out;
	}

	// A cycle: walk parents left unplaced, from the least such node,
	// until a node comes again. The walk is kept in cycle[].
	memset(mark, 0, sizeof(*mark) * n);
	size_t v = 0, len = 0;
	while (left[v] == 0) {
		v++;
	}
	while (mark[v] == 0) {
		size_t        np;
		const size_t *ps = parents(ctx, v, &np);
		cycle[len++]     = v;
		mark[v]          = len;
		for (size_t k = 0; k < np; k++) {
			if (left[ps[k]] > 0) {
				v = ps[k];
				break;
			}
		}
	}
	size_t from = mark[v] - 1;
	memmove(cycle, cycle + from, sizeof(*cycle) * (len - from));
	*n_cycle = len - from;
	rv       = SJE_EINVAL;
out:
	free(mark);
	free(child);
	free(first);
	free(left);
	return rv;
}
