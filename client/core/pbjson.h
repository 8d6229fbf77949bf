// pbjson.h — protobuf messages to and from JSON, driven by the protobuf-c
// descriptors: a library of its own (no server code), which the REST
// gateway and the CLI build on.
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

// Mapping (JSON -> protobuf), the reverse of the above, for what people
// send (the REST gateway's bodies and queries):
//   - an object per message; keys are field names as in the .proto; an
//     unknown key is an error; null means absent (unset, or empty when
//     repeated);
//   - integers from JSON integers in the field's range; 64-bit ones also
//     from decimal strings ("18446744073709551615"); floats and doubles
//     from numbers (and "NaN", "Infinity", "-Infinity"); bools from
//     true/false only;
//   - enums by value name, case-insensitively, with or without the
//     enum's own prefix ("QUEUED" or "JOB_STATE_QUEUED"), or by number
//     when the number is a known value;
//   - strings from strings, at most SJE_PBJSON_MAX_STRING_BYTES, and less for
//     ids and function names (the limits of util.h, by field name: see
//     pbjson.c); bytes from base64 (standard or URL-safe, padded or not);
//   - sje.v1.Timestamp from RFC 3339 text ("2026-11-27T22:00:00.123Z",
//     any offset; fractions beyond milliseconds are truncated);
//   - sje.v1.Json from ANY JSON value (null: absent), stored as its
//     compact text (sje__json_dumps: exact integers, reals that read back
//     to the same double), at most SJE_MAX_PARAMS_BYTES, nested at most
//     SJE_MAX_JSON_DEPTH deep;
//   - map<...> from an object; repeated from an array (null elements are
//     refused); a oneof takes one member only;
//   - text is parsed with jansson, refusing duplicate keys, invalid UTF-8
//     and NUL bytes.
// Errors are SJE_EINVAL with the offending field as a dotted path:
// "retry.max_attempts", "tasks[3].function", "labels.team", "params"
// (a problem inside a Json value names the Json field); "" when the
// whole document is to blame.
#define SJE_PBJSON_MAX_STRING_BYTES (64u * 1024u)

// sje__pb_to_json converts msg to a new JSON object (caller owns it:
// json_decref). It never fails on the text it finds: a string (or map key)
// holding ill-formed UTF-8 is rendered with U+FFFD for each ill-formed
// sequence, and a Json field whose text is not JSON even once so repaired
// is rendered as that text, a JSON string (the server stores neither; rows
// of older versions may). Returns NULL only when out of memory.
json_t *sje__pb_to_json(const ProtobufCMessage *msg);

// sje__json_parse parses text (len bytes) as one JSON value of any type
// with the rules above (duplicate keys, invalid UTF-8 and NUL bytes are
// errors). On SJE_OK *out is a new value (caller owns it: json_decref).
// On SJE_EINVAL, field is the dotted path where the text broke, cut at
// the first field of d (may be NULL: not cut) that is a scalar, a Json or
// a Timestamp, and msg says what broke (line and column, never the text
// itself). SJE_ENOMEM when out of memory. field and msg are always
// terminated (lengths may be 0); out is untouched on error. Thread-safe.
sje_err sje__json_parse(const ProtobufCMessageDescriptor *d, const char *text,
    size_t len, json_t **out, char *field, size_t fieldlen, char *msg,
    size_t msglen);

// sje__json_value_to_pb builds a new message of type d from v (a JSON
// object) with the mapping above. path (may be NULL or "") prefixes the
// fields named in errors ("tasks[3]"). On SJE_OK *out is the caller's:
// protobuf_c_message_free_unpacked(*out, NULL). Errors: SJE_EINVAL with
// field and msg as for sje__json_parse; SJE_ENOMEM. Nothing is left
// allocated on error. Thread-safe.
sje_err sje__json_value_to_pb(const ProtobufCMessageDescriptor *d,
    const json_t *v, const char *path, ProtobufCMessage **out, char *field,
    size_t fieldlen, char *msg, size_t msglen);

// sje__json_to_pb is sje__json_parse then sje__json_value_to_pb: text
// must be one JSON object.
sje_err sje__json_to_pb(const ProtobufCMessageDescriptor *d, const char *text,
    size_t len, ProtobufCMessage **out, char *field, size_t fieldlen,
    char *msg, size_t msglen);

// sje__json_dumps renders j (any value) as text; the caller frees it with
// free(). Like json_dumps with JSON_ENCODE_ANY, honouring JSON_COMPACT and
// JSON_INDENT(n) (other flags are ignored; keys keep their order), except
// for reals: each is written with the fewest digits that read back to the
// same double, with a fraction or an exponent so that it stays a real
// ("0.1", "100.0", "1.5e-7", "1e17"), and without an exponent for
// magnitudes in [1e-5, 1e17). NULL when out of memory. Thread-safe.
char *sje__json_dumps(const json_t *j, size_t flags);

// sje__json_fmt_real writes d as sje__json_dumps writes a real into buf
// (at least 32 bytes); "null" for NaN and infinities.
void sje__json_fmt_real(double d, char *buf, size_t len);

// sje__json_valid is true when text (len bytes) is exactly one JSON value
// of any type, valid UTF-8, nested at most SJE_MAX_JSON_DEPTH deep, with no
// duplicate object keys.
bool sje__json_valid(const char *text, size_t len);

// sje__rfc3339 writes t as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (>= 32 bytes).
void sje__rfc3339(sje_time_ms t, char *buf, size_t len);

// sje__rfc3339_parse reads text as an RFC 3339 time (any offset;
// fractions beyond milliseconds truncated), as a Timestamp in JSON is
// read, into *t (written only on true). Pure.
bool sje__rfc3339_parse(const char *text, sje_time_ms *t);

#endif // SJE_PBJSON_H
