// methods.h — the method indexes of SJE's two services (internal): the
// one list every caller and door uses, in the order of the rpc lines of
// coordinator.proto and worker_hub.proto (protoc-c keeps that order in
// the descriptors' methods[]). sje__methods_check compares the list with
// the generated descriptors; a unit test and sje-worker's start call it,
// so a method added to a .proto and not here is caught at once.
#ifndef SJE_CORE_METHODS_H
#define SJE_CORE_METHODS_H

#include <stdbool.h>

// sje__coord_method indexes sje.v1.Coordinator's methods.
typedef enum sje__coord_method {
	SJE__COORD_SUBMIT = 0,
	SJE__COORD_GET_STATUS,
	SJE__COORD_WAIT,
	SJE__COORD_CANCEL,
	SJE__COORD_LIST_JOBS,
	SJE__COORD_LIST_WORKERS,
	SJE__COORD_LIST_EVENTS,
	SJE__COORD_STATS,
	SJE__COORD_RUN_WORKFLOW,
	SJE__COORD_RETRY,
	SJE__COORD_DELETE_JOB,
	SJE__COORD_EXPLAIN,
	SJE__COORD_LIST_FUNCTIONS,
	SJE__COORD_SET_FUNCTION,
	SJE__COORD_LIST_SCHEDULES,
	SJE__COORD_BULK_CANCEL,
	SJE__COORD_BULK_RETRY,
	SJE__COORD_BULK_DELETE,
	SJE__COORD_GET_WORKFLOW_RUN,
	SJE__COORD_CANCEL_WORKFLOW_RUN,
	SJE__COORD_LIST_WORKFLOW_RUNS,
	SJE__COORD_N, // the number of methods
} sje__coord_method;

// sje__hub_method indexes sje.v1.WorkerHub's methods.
typedef enum sje__hub_method {
	SJE__HUB_REGISTER = 0, // RegisterWorker
	SJE__HUB_FETCH,
	SJE__HUB_HEARTBEAT,
	SJE__HUB_COMPLETE,
	SJE__HUB_FAIL,
	SJE__HUB_RELEASE,
	SJE__HUB_CHALLENGE, // GetChallenge
	SJE__HUB_N,         // the number of methods
} sje__hub_method;

// sje__methods_check is true when both enums above name exactly the
// methods of the generated service descriptors, in their order. Pure.
bool sje__methods_check(void);

#endif // SJE_CORE_METHODS_H
