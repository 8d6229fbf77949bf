// jsonkind.h — the name of a JSON value's type, for error messages
// (internal): the one vocabulary of SJE's messages about JSON, used by
// the JSON<->protobuf mapping and by the shipped plugins alike.
#ifndef SJE_CORE_JSONKIND_H
#define SJE_CORE_JSONKIND_H

#include <jansson.h>

// sje__json_kind names the JSON type of v as a message says it: "an
// object", "an array", "a string", "an integer", "a real number", "true",
// "false", "null". Pure, thread-safe.
const char *sje__json_kind(const json_t *v);

#endif // SJE_CORE_JSONKIND_H
