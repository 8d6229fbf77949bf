// methods_test.c — unit tests of the method indexes (client/core/methods.h):
// they name the generated services' methods, all of them, in order.
#include "methods.h"

#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include <stddef.h>
#include <stdint.h>

// cmocka.h needs these first.
#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

static unsigned
index_of(const ProtobufCServiceDescriptor *svc, const char *name)
{
	const ProtobufCMethodDescriptor *m =
	    protobuf_c_service_descriptor_get_method_by_name(svc, name);
	assert_non_null(m);
	return (unsigned) (m - svc->methods);
}

static void
test_the_indexes_cover_every_method_of_both_services(void **state)
{
	(void) state;
	assert_true(sje__methods_check());
	assert_int_equal(
	    sje__v1__coordinator__descriptor.n_methods, SJE__COORD_N);
	assert_int_equal(
	    sje__v1__worker_hub__descriptor.n_methods, SJE__HUB_N);
}

static void
test_the_indexes_are_those_of_the_named_methods(void **state)
{
	(void) state;
	const ProtobufCServiceDescriptor *c =
	    &sje__v1__coordinator__descriptor;
	const ProtobufCServiceDescriptor *h = &sje__v1__worker_hub__descriptor;
	assert_int_equal(index_of(c, "Submit"), SJE__COORD_SUBMIT);
	assert_int_equal(index_of(c, "Wait"), SJE__COORD_WAIT);
	assert_int_equal(index_of(c, "RunWorkflow"), SJE__COORD_RUN_WORKFLOW);
	assert_int_equal(index_of(h, "RegisterWorker"), SJE__HUB_REGISTER);
	assert_int_equal(index_of(h, "GetChallenge"), SJE__HUB_CHALLENGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_the_indexes_cover_every_method_of_both_services),
		cmocka_unit_test(
		    test_the_indexes_are_those_of_the_named_methods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
