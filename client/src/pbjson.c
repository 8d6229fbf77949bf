// pbjson.c — protobuf messages to JSON, driven by protobuf-c's descriptors.
//
// Design: one generic walk over ProtobufCMessageDescriptor; there is no
// per-message code. msg_to_object visits every field of a message and
// field_to_json / value_to_json turn one field (or one element of a
// repeated field) into a json_t, reading the value at the field's offset
// in the C struct. The few message types that have a JSON form of their
// own are recognised by their full descriptor name:
//
//   sje.v1.Timestamp  RFC 3339 UTC text with milliseconds; null when the
//                     message is absent or unix_ms is 0 (the store writes
//                     0 for "never").
//   sje.v1.Json       the JSON value its text holds (any value, including
//                     scalars and null); absent, or present with empty
//                     text (proto3's default), is null.
//
// Other rules (see pbjson.h): enums by value name, with "JOB_STATE_"
// dropped for sje.v1.JobState, and as a number when the value has no name
// (a newer peer); maps, which protoc-c shows as repeated "...Entry"
// messages with fields key and value, as JSON objects (keys as text);
// oneof members only when they are the set case; bytes as base64; NaN and
// infinities, which JSON cannot hold, as null.
//
// 64-bit integers: jansson's json_int_t is a signed 64-bit long long, so
// every int64, sint64, sfixed64 and every uint64/fixed64 up to INT64_MAX is
// an exact JSON integer. A uint64 above INT64_MAX cannot be a json_int_t;
// rather than wrap it to a negative number or round it through a double,
// it is written as a decimal string (as proto3's canonical JSON mapping
// writes every 64-bit integer), which keeps it exact.
//
// sje__json_valid checks the nesting depth with a scan of the text before
// jansson parses it (so that a deep document costs no allocation), then
// lets jansson check the rest: syntax, one value only, UTF-8, duplicate
// keys. jansson refuses "\u0000" inside strings; so do we, so that C
// consumers of params and results never meet a truncated string. It also
// refuses integers beyond the int64 range ("too big integer"); so do we,
// since every reader of the stored text in SJE parses it with jansson.
//
// Thread-safety: no state; every function may be called from any thread.
#include "pbjson.h"

#include "util.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *msg_to_object(const ProtobufCMessage *msg);

// pbjson_has_suffix is true when s ends with suffix.
static bool
pbjson_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s);
	size_t lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

// pbjson_base64 encodes data as standard, padded base64.
static json_t *
pbjson_base64(const ProtobufCBinaryData *b)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n   = b->len;
	size_t out = 4 * ((n + 2) / 3);
	char  *s   = malloc(out + 1);
	if (s == NULL) {
		return NULL;
	}
	size_t j = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t) b->data[i] << 16;
		if (i + 1 < n) {
			v |= (uint32_t) b->data[i + 1] << 8;
		}
		if (i + 2 < n) {
			v |= b->data[i + 2];
		}
		s[j++] = tab[(v >> 18) & 63];
		s[j++] = tab[(v >> 12) & 63];
		s[j++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		s[j++] = i + 2 < n ? tab[v & 63] : '=';
	}
	s[j]       = '\0';
	json_t *js = json_stringn(s, j);
	free(s);
	return js;
}

// pbjson_enum names value of enum desc. JobState loses its "JOB_STATE_"
// prefix; a value the descriptor does not know (from a newer peer) is
// written as its number.
static json_t *
pbjson_enum(const ProtobufCEnumDescriptor *desc, int value)
{
	const ProtobufCEnumValue *ev =
	    protobuf_c_enum_descriptor_get_value(desc, value);
	if (ev == NULL) {
		return json_integer(value);
	}
	const char *name = ev->name;
	if (strcmp(desc->name, "sje.v1.JobState") == 0 &&
	    strncmp(name, "JOB_STATE_", 10) == 0) {
		name += 10;
	}
	return json_string(name);
}

// pbjson_real writes d, or null for NaN and infinities (not JSON).
static json_t *
pbjson_real(double d)
{
	if (!isfinite(d)) {
		return json_null();
	}
	return json_real(d);
}

// pbjson_timestamp renders a sje.v1.Timestamp (msg may be NULL).
static json_t *
pbjson_timestamp(const ProtobufCMessage *msg)
{
	if (msg == NULL) {
		return json_null();
	}
	// Timestamp has one field, int64 unix_ms; read it through the
	// descriptor rather than the generated struct so that this file
	// stays free of per-message code.
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(
	        msg->descriptor, "unix_ms");
	if (f == NULL || f->type != PROTOBUF_C_TYPE_INT64) {
		return msg_to_object(msg);
	}
	int64_t ms;
	memcpy(&ms, (const char *) msg + f->offset, sizeof(ms));
	if (ms == 0) {
		return json_null();
	}
	char buf[64];
	sje__rfc3339(ms, buf, sizeof(buf));
	return json_string(buf);
}

// pbjson_json renders a sje.v1.Json (msg may be NULL): the value its text
// holds. Returns NULL when the text is not JSON.
static json_t *
pbjson_json(const ProtobufCMessage *msg)
{
	if (msg == NULL) {
		return json_null();
	}
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(
	        msg->descriptor, "text");
	if (f == NULL || f->type != PROTOBUF_C_TYPE_STRING) {
		return msg_to_object(msg);
	}
	const char *text;
	memcpy(&text, (const char *) msg + f->offset, sizeof(text));
	if (text == NULL || text[0] == '\0') {
		return json_null(); // proto3 default: no value
	}
	json_error_t jerr;
	return json_loads(text, JSON_DECODE_ANY, &jerr);
}

// pbjson_message renders a message-typed value (NULL: null), special
// types first.
static json_t *
pbjson_message(const ProtobufCMessage *msg,
    const ProtobufCMessageDescriptor *desc)
{
	if (strcmp(desc->name, "sje.v1.Timestamp") == 0) {
		return pbjson_timestamp(msg);
	}
	if (strcmp(desc->name, "sje.v1.Json") == 0) {
		return pbjson_json(msg);
	}
	if (msg == NULL) {
		return json_null();
	}
	return msg_to_object(msg);
}

// value_to_json converts the single value of type f->type stored at p.
static json_t *
value_to_json(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: {
		int32_t v;
		memcpy(&v, p, sizeof(v));
		return json_integer(v);
	}
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		uint32_t v;
		memcpy(&v, p, sizeof(v));
		return json_integer((json_int_t) v);
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		int64_t v;
		memcpy(&v, p, sizeof(v));
		return json_integer((json_int_t) v);
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t v;
		memcpy(&v, p, sizeof(v));
		if (v > (uint64_t) INT64_MAX) {
			// Not a json_int_t: a string keeps it exact.
			char buf[32];
			snprintf(buf, sizeof(buf), "%" PRIu64, v);
			return json_string(buf);
		}
		return json_integer((json_int_t) v);
	}
	case PROTOBUF_C_TYPE_FLOAT: {
		float v;
		memcpy(&v, p, sizeof(v));
		return pbjson_real(v);
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v;
		memcpy(&v, p, sizeof(v));
		return pbjson_real(v);
	}
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean v;
		memcpy(&v, p, sizeof(v));
		return json_boolean(v);
	}
	case PROTOBUF_C_TYPE_ENUM: {
		int v;
		memcpy(&v, p, sizeof(v));
		return pbjson_enum(f->descriptor, v);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *v;
		memcpy(&v, p, sizeof(v));
		// json_string refuses invalid UTF-8, which protobuf-c lets
		// through on unpack: that is a NULL (an error) here.
		return json_string(v != NULL ? v : "");
	}
	case PROTOBUF_C_TYPE_BYTES:
		return pbjson_base64(p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *v;
		memcpy(&v, p, sizeof(v));
		return pbjson_message(v, f->descriptor);
	}
	}
	return NULL;
}

// pbjson_type_size is the size of one element of a repeated field of
// type t in protobuf-c's struct layout.
static size_t
pbjson_type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	}
	return 0;
}

// pbjson_map_fields finds the key and value fields of a map entry
// descriptor ("...Entry" with exactly key = 1 and value = 2); false when
// desc is an ordinary message.
static bool
pbjson_map_fields(const ProtobufCMessageDescriptor *desc,
    const ProtobufCFieldDescriptor **key, const ProtobufCFieldDescriptor **val)
{
	if (desc == NULL || !pbjson_has_suffix(desc->name, "Entry") ||
	    desc->n_fields != 2) {
		return false;
	}
	const ProtobufCFieldDescriptor *k =
	    protobuf_c_message_descriptor_get_field_by_name(desc, "key");
	const ProtobufCFieldDescriptor *v =
	    protobuf_c_message_descriptor_get_field_by_name(desc, "value");
	if (k == NULL || v == NULL || k->id != 1 || v->id != 2) {
		return false;
	}
	*key = k;
	*val = v;
	return true;
}

// pbjson_map_key renders a map key as object key text into buf.
static bool
pbjson_map_key(const ProtobufCFieldDescriptor *k, const void *p, char *buf,
    size_t len, const char **out)
{
	json_t *j = value_to_json(k, p);
	if (j == NULL) {
		return false;
	}
	bool ok = true;
	switch (json_typeof(j)) {
	case JSON_STRING:
		// Borrowed from the entry, which outlives this call.
		memcpy(out, p, sizeof(*out));
		if (*out == NULL) {
			*out = "";
		}
		break;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(j));
		*out = buf;
		break;
	case JSON_TRUE:
		*out = "true";
		break;
	case JSON_FALSE:
		*out = "false";
		break;
	default:
		ok = false; // protobuf allows no other key types
		break;
	}
	json_decref(j);
	return ok;
}

// pbjson_map renders the n entries at arr (ProtobufCMessage *[n]) as an
// object. A key given twice keeps its last value, as protobuf does.
static json_t *
pbjson_map(const ProtobufCFieldDescriptor *kf,
    const ProtobufCFieldDescriptor *vf, ProtobufCMessage *const *arr, size_t n)
{
	json_t *obj = json_object();
	if (obj == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *e = (const char *) arr[i];
		if (e == NULL) {
			continue;
		}
		char        buf[32];
		const char *key;
		if (!pbjson_map_key(kf, e + kf->offset, buf, sizeof(buf),
		        &key)) {
			goto fail;
		}
		json_t *v = value_to_json(vf, e + vf->offset);
		if (v == NULL || json_object_set_new(obj, key, v) != 0) {
			goto fail;
		}
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

// field_to_json converts field f of msg (repeated, map or single).
static json_t *
field_to_json(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *) msg;
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		return value_to_json(f, base + f->offset);
	}

	size_t n;
	memcpy(&n, base + f->quantifier_offset, sizeof(n));
	const char *arr;
	memcpy(&arr, base + f->offset, sizeof(arr));
	if (n > 0 && arr == NULL) {
		return NULL; // inconsistent message: a bug of its builder
	}

	const ProtobufCFieldDescriptor *kf;
	const ProtobufCFieldDescriptor *vf;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
	    pbjson_map_fields(f->descriptor, &kf, &vf)) {
		return pbjson_map(kf, vf, (ProtobufCMessage *const *) arr, n);
	}

	json_t *a = json_array();
	if (a == NULL) {
		return NULL;
	}
	size_t sz = pbjson_type_size(f->type);
	for (size_t i = 0; i < n; i++) {
		json_t *v = value_to_json(f, arr + i * sz);
		if (v == NULL || json_array_append_new(a, v) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

// msg_to_object writes every field of msg into a new object; a oneof
// member only when it is the case that is set.
static json_t *
msg_to_object(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	json_t                           *obj  = json_object();
	if (obj == NULL) {
		return NULL;
	}
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
			uint32_t which;
			memcpy(&which, (const char *) msg + f->quantifier_offset,
			    sizeof(which));
			if (which != f->id) {
				continue;
			}
		}
		json_t *v = field_to_json(msg, f);
		if (v == NULL || json_object_set_new(obj, f->name, v) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

json_t *
sje__pb_to_json(const ProtobufCMessage *msg)
{
	if (msg == NULL || msg->descriptor == NULL) {
		return NULL;
	}
	return msg_to_object(msg);
}

// pbjson_depth_ok scans text for bracket nesting deeper than max, outside
// strings. Malformed text may pass: jansson judges the syntax.
static bool
pbjson_depth_ok(const char *text, size_t len, unsigned max)
{
	unsigned depth     = 0;
	bool     in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\') {
				i++; // skip the escaped character
			} else if (c == '"') {
				in_string = false;
			}
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max) {
				return false;
			}
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return true;
}

bool
sje__json_valid(const char *text, size_t len)
{
	if (text == NULL || !pbjson_depth_ok(text, len, SJE_MAX_JSON_DEPTH)) {
		return false;
	}
	// A raw NUL byte is never valid JSON (in a string it must be
	// escaped), but jansson's lexer takes it for the end of input.
	if (memchr(text, '\0', len) != NULL) {
		return false;
	}
	json_error_t jerr;
	json_t      *j = json_loadb(
            text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		return false;
	}
	json_decref(j);
	return true;
}

void
sje__rfc3339(sje_time_ms t, char *buf, size_t len)
{
	if (buf == NULL || len == 0) {
		return;
	}
	// Floor division, so that instants before 1970 keep 0..999 ms.
	int64_t secs = t / 1000;
	int64_t ms   = t % 1000;
	if (ms < 0) {
		ms += 1000;
		secs -= 1;
	}
	time_t    tt = (time_t) secs;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int) ms);
}
