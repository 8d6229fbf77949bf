// shapes.h — the JSON shapes of the operator's answers, as the REST API
// documents them, in one place for the REST gateway and sje-client
// --json, so that both print the same document:
//
//   retry      {"task_id", "state", "descendants": [{"task_id", "state"}]}
//              (a SubmitResult's "created" is not shown)
//   explain    {"task_id", "state", "reasons": [...]}, each reason with
//              code, message and only the other keys that are set (not
//              null, 0, "", false, [] or {})
//   function   FunctionInfo with concurrency null for no limit (0) and
//              rate null for none ("")
//   functions  {"functions": [function, ...]}
//   schedules  {"schedules": [...]}, each without the keys its kind
//              lacks: "cron" or "every_s", "function" or "workflow"
//
// Each returns a new JSON value (caller owns it), NULL only when out of
// memory. Pure; thread-safe.
#ifndef SJE_CORE_SHAPES_H
#define SJE_CORE_SHAPES_H

#include <sje/v1/coordinator.pb-c.h>

#include <jansson.h>

json_t *sje__shape_retry(const Sje__V1__RetryReply *r);
json_t *sje__shape_explain(const Sje__V1__ExplainReply *r);
json_t *sje__shape_function(const Sje__V1__FunctionInfo *f);
json_t *sje__shape_functions(const Sje__V1__ListFunctionsReply *r);
json_t *sje__shape_schedules(const Sje__V1__ListSchedulesReply *r);

#endif // SJE_CORE_SHAPES_H
