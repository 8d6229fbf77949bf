// dag_test.c — unit tests of DAG ordering and cycle naming
// (client/core/dag.c).
#include "dag.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// cmocka.h needs these first.
#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

#define MAX_NODES 8

// graph holds each node's parents.
typedef struct graph {
	size_t parents[MAX_NODES][MAX_NODES];
	size_t n_parents[MAX_NODES];
} graph;

static const size_t *
parents_of(void *ctx, size_t i, size_t *n)
{
	graph *g = ctx;
	*n       = g->n_parents[i];
	return g->parents[i];
}

static void
after(graph *g, size_t child, size_t parent)
{
	g->parents[child][g->n_parents[child]++] = parent;
}

static void
test_parents_come_first_and_ready_nodes_by_index(void **state)
{
	(void) state;
	graph g = { 0 };
	after(&g, 0, 3); // 0 after 3
	after(&g, 1, 0); // 1 after 0
	after(&g, 1, 2); // and after 2
	size_t order[4], cycle[4], n_cycle = 99;
	assert_int_equal(
	    sje__dag_order(4, parents_of, &g, order, cycle, &n_cycle), SJE_OK);
	size_t want[] = { 2, 3, 0, 1 };
	assert_memory_equal(order, want, sizeof(want));
	assert_int_equal(n_cycle, 99); // untouched
}

static void
test_a_cycle_is_named_from_the_node_the_walk_meets_again(void **state)
{
	(void) state;
	// 0 waits on the cycle 1 -> 2 -> 3 -> 1 (each after the next), and
	// 4 stands alone.
	graph g = { 0 };
	after(&g, 0, 1);
	after(&g, 1, 2);
	after(&g, 2, 3);
	after(&g, 3, 1);
	size_t order[5], cycle[5], n_cycle = 0;
	assert_int_equal(
	    sje__dag_order(5, parents_of, &g, order, cycle, &n_cycle),
	    SJE_EINVAL);
	size_t want[] = { 1, 2, 3 };
	assert_int_equal(n_cycle, 3);
	assert_memory_equal(cycle, want, sizeof(want));
}

static void
test_a_node_that_is_its_own_parent_is_a_cycle_of_one(void **state)
{
	(void) state;
	graph g = { 0 };
	after(&g, 1, 0);
	after(&g, 1, 1);
	size_t order[2], cycle[2], n_cycle = 0;
	assert_int_equal(
	    sje__dag_order(2, parents_of, &g, order, cycle, &n_cycle),
	    SJE_EINVAL);
	assert_int_equal(n_cycle, 1);
	assert_int_equal(cycle[0], 1);
}

static void
test_the_walk_takes_the_first_parent_left_unplaced(void **state)
{
	(void) state;
	// 0 after 1 (placeable) and 2; 2 and 3 are after each other.
	graph g = { 0 };
	after(&g, 0, 1);
	after(&g, 0, 2);
	after(&g, 2, 3);
	after(&g, 3, 2);
	size_t order[4], cycle[4], n_cycle = 0;
	assert_int_equal(
	    sje__dag_order(4, parents_of, &g, order, cycle, &n_cycle),
	    SJE_EINVAL);
	size_t want[] = { 2, 3 };
	assert_int_equal(n_cycle, 2);
	assert_memory_equal(cycle, want, sizeof(want));
}

static void
test_an_empty_graph_is_ordered(void **state)
{
	(void) state;
	size_t n_cycle = 0;
	assert_int_equal(
	    sje__dag_order(0, parents_of, NULL, NULL, NULL, &n_cycle), SJE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_parents_come_first_and_ready_nodes_by_index),
		cmocka_unit_test(
		    test_a_cycle_is_named_from_the_node_the_walk_meets_again),
		cmocka_unit_test(
		    test_a_node_that_is_its_own_parent_is_a_cycle_of_one),
		cmocka_unit_test(
		    test_the_walk_takes_the_first_parent_left_unplaced),
		cmocka_unit_test(test_an_empty_graph_is_ordered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
