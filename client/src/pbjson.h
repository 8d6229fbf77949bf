// pbjson.h — protobuf messages to and from JSON, driven by the protobuf-c
// descriptors (internal for now; the REST gateway builds on it).
//
// Mapping (protobuf -> JSON):
//   - field names as in the .proto (snake_case);
//   - enums by name, with the enum's prefix dropped for JobState
//     ("JOB_STATE_QUEUED" -> "QUEUED") and StatusCode as is;
//   - 64-bit integers as JSON integers (jansson keeps them exact);
//   - sje.v1.Timestamp as RFC 3339 UTC text with milliseconds
//     ("2026-11-27T22:00:00.123Z"), absent as null;
//   - sje.v1.Json as the JSON value it carries, absent as null;
//   - map<...> (repeated *Entry messages) as a JSON object;
//   - repeated fields as arrays; nested messages as objects (absent: null).
// Every field is written, with its default when unset, so that readers
// always find the same keys.
#ifndef SJE_PBJSON_H
#define SJE_PBJSON_H

#include <sje/sje.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

// sje__pb_to_json converts msg to a new JSON object (caller owns it:
// json_decref). Returns NULL when out of memory or when a Json field holds
// text that is not JSON (which the server never stores).
json_t *sje__pb_to_json(const ProtobufCMessage *msg);

// sje__json_valid is true when text (len bytes) is exactly one JSON value
// of any type, valid UTF-8, nested at most SJE_MAX_JSON_DEPTH deep, with no
// duplicate object keys.
bool sje__json_valid(const char *text, size_t len);

// sje__rfc3339 writes t as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (>= 32 bytes).
void sje__rfc3339(sje_time_ms t, char *buf, size_t len);

#endif // SJE_PBJSON_H
