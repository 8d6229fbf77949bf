// dag.h — DAG ordering and cycle naming (internal), for every graph of
// "runs after" edges SJE checks: the steps of a config workflow and the
// jobs of one Submit.
#ifndef SJE_CORE_DAG_H
#define SJE_CORE_DAG_H

#include <sje/sje.h>

// sje__dag_parents_fn gives node i's parents: *n of them at the result
// (indexes below the graph's node count; borrowed until sje__dag_order
// returns). ctx is the caller's.
typedef const size_t *(*sje__dag_parents_fn)(void *ctx, size_t i, size_t *n);

// sje__dag_order orders nodes 0..n-1 so that each comes after all of its
// parents (Kahn's algorithm: the nodes with no parent first, by index,
// then each node as soon as its last parent is placed).
//   SJE_OK: order[0..n) holds every node in that order.
//   SJE_EINVAL: the parents form a cycle, and cycle[0..*n_cycle) names
//   one: walk from the least node left unplaced, each time to its first
//   parent left unplaced, until a node comes again; that node is
//   cycle[0], and the walk from it gives the rest. So cycle[k+1] is a
//   parent of cycle[k], and cycle[0] a parent of cycle[*n_cycle - 1]
//   (*n_cycle is 1 for a node that is its own parent).
//   SJE_ENOMEM.
// order and cycle are the caller's arrays of n entries each; order's
// content is unspecified on failure, cycle's on success. Pure.
sje_err sje__dag_order(size_t n, sje__dag_parents_fn parents, void *ctx,
    size_t *order, size_t *cycle, size_t *n_cycle);

#endif // SJE_CORE_DAG_H
