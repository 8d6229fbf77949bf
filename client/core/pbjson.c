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
// infinities, which JSON cannot hold, as null. Rendering never fails on
// text: ill-formed UTF-8 (which only rows stored by older versions can
// hold) becomes U+FFFD (pbjson_text), and a Json text that is not JSON is
// rendered as a string, so one bad row never turns a page into an error.
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
// JSON -> protobuf (sje__json_parse, sje__json_value_to_pb): jansson
// parses the whole text first (duplicate keys refused), then one generic
// walk (in_object, in_field, in_value) builds the message with malloc,
// keeping it consistent at every step (a repeated field's count only
// grows as its elements are filled, a oneof case is set after its
// member), so that a failure anywhere is undone with one
// protobuf_c_message_free_unpacked. The walk keeps the dotted path of the
// value it reads, which is the `field` of every error. When jansson itself
// fails (syntax, UTF-8, a duplicate key, a truncated text), it tells the
// byte where; pbjson_path_at rescans the text up to there to name the
// field anyway, cut at the first field of the schema that is not a
// message (a problem deep inside params is "params").
//
// sje__json_dumps is jansson's json_dumps without its one weakness here:
// a real is written with a precision per document (or 17 digits), so 0.1
// would come back as 0.10000000000000001 or 100.0 as 1e2. Ours writes
// each real with the fewest digits that read back to the same double.
//
// Thread-safety: no state; every function may be called from any thread.
#include "pbjson.h"

#include "jsonkind.h"

#include "jobstate.h"
#include "util.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

// pbjson_enum names value of enum desc; a JobState by its name in the one
// state table (jobstate.c: without "JOB_STATE_"). A value the descriptor does
// not know (from a newer peer) is written as its number.
static json_t *
pbjson_enum(const ProtobufCEnumDescriptor *desc, int value)
{
	const ProtobufCEnumValue *ev =
	    protobuf_c_enum_descriptor_get_value(desc, value);
	if (ev == NULL) {
		return json_integer(value);
	}
	if (desc == &sje__v1__job_state__descriptor) {
		return json_string(sje_job_state_name(value));
	}
	return json_string(ev->name);
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

// pbjson_text renders the string s (NULL: ""). The RPC door refuses
// ill-formed UTF-8, but rows stored before it did may hold some, and
// json_string would refuse them (a NULL: a 500 for a whole page): such
// text is rendered with U+FFFD in place of each ill-formed sequence.
static json_t *
pbjson_text(const char *s)
{
	if (s == NULL) {
		return json_string("");
	}
	size_t len = strlen(s);
	if (sje__utf8_check(s, len, NULL)) {
		return json_stringn_nocheck(s, len);
	}
	sje__buf b = { 0 };
	sje__utf8_repair(&b, s, len);
	char *t = sje__buf_take(&b, &len);
	if (t == NULL) {
		return NULL;
	}
	json_t *j = json_stringn_nocheck(t, len);
	free(t);
	return j;
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
	json_t      *j = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (j != NULL) {
		return j;
	}
	// Not JSON: only text stored before the server checked it (ill-formed
	// UTF-8 inside a string, say). Repaired, it may parse; else it is
	// rendered as a string, so that the page around it still renders.
	json_t *t = pbjson_text(text);
	if (t == NULL) {
		return NULL;
	}
	j = json_loads(json_string_value(t), JSON_DECODE_ANY, &jerr);
	if (j != NULL) {
		json_decref(t);
		return j;
	}
	return t;
}

// pbjson_message renders a message-typed value (NULL: null), special
// types first.
static json_t *
pbjson_message(
    const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc)
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
		return pbjson_text(v);
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

// pbjson_map_key renders a map key as object key text: *out points into
// buf or into *hold (a JSON string the caller json_decrefs after use).
static bool
pbjson_map_key(const ProtobufCFieldDescriptor *k, const void *p, char *buf,
    size_t len, const char **out, json_t **hold)
{
	json_t *j = value_to_json(k, p);
	if (j == NULL) {
		return false;
	}
	bool ok = true;
	switch (json_typeof(j)) {
	case JSON_STRING:
		*out  = json_string_value(j); // repaired if it had to be
		*hold = j;
		return true;
	case JSON_INTEGER:
		snprintf(
		    buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
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
		json_t     *hold = NULL;
		if (!pbjson_map_key(
		        kf, e + kf->offset, buf, sizeof(buf), &key, &hold)) {
			goto fail;
		}
		json_t *v  = value_to_json(vf, e + vf->offset);
		int     rv = v == NULL ? -1 : json_object_set_new(obj, key, v);
		json_decref(hold);
		if (rv != 0) {
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
			memcpy(&which,
			    (const char *) msg + f->quantifier_offset,
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

// ---- JSON text out -------------------------------------------------------

// buf_string writes s (n bytes of UTF-8) as a JSON string, escaped as
// jansson escapes: quote, backslash and control characters.
static void
buf_string(sje__buf *b, const char *s, size_t n)
{
	sje__buf_put(b, "\"", 1);
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		const char   *esc;
		char          u[8];
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			if (c >= 0x20) {
				continue;
			}
			snprintf(u, sizeof(u), "\\u%04x", c);
			esc = u;
			break;
		}
		sje__buf_put(b, s + start, i - start);
		sje__buf_puts(b, esc);
		start = i + 1;
	}
	sje__buf_put(b, s + start, n - start);
	sje__buf_put(b, "\"", 1);
}

void
sje__json_fmt_real(double d, char *buf, size_t len)
{
	if (buf == NULL || len == 0) {
		return;
	}
	if (!isfinite(d)) {
		snprintf(buf, len, "null");
		return;
	}
	if (d == 0) {
		snprintf(buf, len, "%s", signbit(d) ? "-0.0" : "0.0");
		return;
	}
	// The shortest %e form that reads back exactly: at most 17 digits.
	char e[48];
	for (int p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, d);
		if (strtod(e, NULL) == d) {
			break;
		}
	}
	// e is "[-]D[.DDD]e[+-]XX": take its digits and exponent apart.
	bool        neg = e[0] == '-';
	const char *s   = e + (neg ? 1 : 0);
	char        digits[24];
	int         nd = 0;
	for (; *s != '\0' && *s != 'e' && nd < 20; s++) {
		if (*s >= '0' && *s <= '9') {
			digits[nd++] = *s;
		}
	}
	int exp = *s == 'e' ? atoi(s + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0') {
		nd--;
	}
	char out[64];
	int  o = 0;
	if (neg) {
		out[o++] = '-';
	}
	if (exp >= -5 && exp < 17) {
		// Plain decimal, always with a fraction so that it stays a
		// real: 100.0, 0.001, 123.456.
		if (exp >= 0) {
			for (int i = 0; i <= exp; i++) {
				out[o++] = i < nd ? digits[i] : '0';
			}
			out[o++] = '.';
			if (nd > exp + 1) {
				for (int i = exp + 1; i < nd; i++) {
					out[o++] = digits[i];
				}
			} else {
				out[o++] = '0';
			}
		} else {
			out[o++] = '0';
			out[o++] = '.';
			for (int i = 0; i < -exp - 1; i++) {
				out[o++] = '0';
			}
			for (int i = 0; i < nd; i++) {
				out[o++] = digits[i];
			}
		}
		out[o] = '\0';
	} else {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			for (int i = 1; i < nd; i++) {
				out[o++] = digits[i];
			}
		}
		snprintf(out + o, sizeof(out) - (size_t) o, "e%d", exp);
	}
	snprintf(buf, len, "%s", out);
}

// buf_indent starts a new line indented for depth when indenting.
static void
buf_indent(sje__buf *b, size_t indent, size_t depth)
{
	if (indent == 0) {
		return;
	}
	sje__buf_put(b, "\n", 1);
	for (size_t i = 0; i < indent * depth; i++) {
		sje__buf_put(b, " ", 1);
	}
}

static void
buf_value(sje__buf *b, const json_t *j, size_t flags, size_t depth)
{
	size_t      indent  = flags & JSON_MAX_INDENT;
	bool        compact = (flags & JSON_COMPACT) != 0;
	const char *comma   = compact || indent > 0 ? "," : ", ";
	const char *colon   = compact ? ":" : ": ";
	char        num[64];

	switch (json_typeof(j)) {
	case JSON_NULL:
		sje__buf_puts(b, "null");
		return;
	case JSON_TRUE:
		sje__buf_puts(b, "true");
		return;
	case JSON_FALSE:
		sje__buf_puts(b, "false");
		return;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(j));
		sje__buf_puts(b, num);
		return;
	case JSON_REAL:
		sje__json_fmt_real(json_real_value(j), num, sizeof(num));
		sje__buf_puts(b, num);
		return;
	case JSON_STRING:
		buf_string(b, json_string_value(j), json_string_length(j));
		return;
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		if (n == 0) {
			sje__buf_puts(b, "[]");
			return;
		}
		sje__buf_put(b, "[", 1);
		for (size_t i = 0; i < n; i++) {
			if (i > 0) {
				sje__buf_puts(b, comma);
			}
			buf_indent(b, indent, depth + 1);
			buf_value(b, json_array_get(j, i), flags, depth + 1);
		}
		buf_indent(b, indent, depth);
		sje__buf_put(b, "]", 1);
		return;
	}
	case JSON_OBJECT: {
		if (json_object_size(j) == 0) {
			sje__buf_puts(b, "{}");
			return;
		}
		sje__buf_put(b, "{", 1);
		const char *key;
		json_t     *v;
		bool        first = true;
		json_object_foreach ((json_t *) j, key, v) {
			if (!first) {
				sje__buf_puts(b, comma);
			}
			first = false;
			buf_indent(b, indent, depth + 1);
			buf_string(b, key, strlen(key));
			sje__buf_puts(b, colon);
			buf_value(b, v, flags, depth + 1);
		}
		buf_indent(b, indent, depth);
		sje__buf_put(b, "}", 1);
		return;
	}
	}
}

char *
sje__json_dumps(const json_t *j, size_t flags)
{
	if (j == NULL) {
		return NULL;
	}
	sje__buf b = { 0 };
	buf_value(&b, j, flags, 0);
	return sje__buf_take(&b, NULL);
}

// ---- JSON -> protobuf ----------------------------------------------------

#define PBJSON_PATH_BYTES 256
#define PBJSON_SCAN_FRAMES 32

// pbjson_in is the state of one conversion: where we are (the dotted
// path of the value being read) and where the error goes.
typedef struct pbjson_in {
	char     path[PBJSON_PATH_BYTES];
	size_t   plen;
	unsigned depth; // messages open
	char    *field;
	size_t   fieldlen;
	char    *msg;
	size_t   msglen;
} pbjson_in;

// pbjson_path_append adds raw text to a path, printable ASCII only (a key
// may hold anything; the path goes into JSON replies and logs), cut at
// the buffer's end.
static void
pbjson_path_append(
    char *path, size_t *plen, size_t cap, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *plen + 1 < cap; i++) {
		unsigned char c = (unsigned char) s[i];
		path[(*plen)++] = c >= 0x20 && c < 0x7f ? (char) c : '?';
	}
	path[*plen] = '\0';
}

// in_push_key enters object member key; returns the length to restore.
static size_t
in_push_key(pbjson_in *in, const char *key)
{
	size_t old = in->plen;
	if (in->plen > 0) {
		pbjson_path_append(
		    in->path, &in->plen, sizeof(in->path), ".", 1);
	}
	pbjson_path_append(
	    in->path, &in->plen, sizeof(in->path), key, strlen(key));
	return old;
}

// in_push_index enters array element i; returns the length to restore.
static size_t
in_push_index(pbjson_in *in, size_t i)
{
	size_t old = in->plen;
	char   b[32];
	snprintf(b, sizeof(b), "[%zu]", i);
	pbjson_path_append(
	    in->path, &in->plen, sizeof(in->path), b, strlen(b));
	return old;
}

static void
in_pop(pbjson_in *in, size_t old)
{
	in->plen           = old;
	in->path[in->plen] = '\0';
}

// in_fail reports an error at the current path; returns SJE_EINVAL.
static sje_err in_fail(pbjson_in *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static sje_err
in_fail(pbjson_in *in, const char *fmt, ...)
{
	char    text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (in->fieldlen > 0) {
		sje__snprintf(in->field, in->fieldlen, "%s", in->path);
	}
	if (in->msglen > 0) {
		if (in->plen > 0) {
			sje__snprintf(
			    in->msg, in->msglen, "%s: %s", in->path, text);
		} else {
			sje__snprintf(in->msg, in->msglen, "%s", text);
		}
	}
	return SJE_EINVAL;
}

// pbjson_string_limit is the longest text a string field may hold: the
// limits of util.h for ids and function names, by field name, else
// SJE_PBJSON_MAX_STRING_BYTES.
static size_t
pbjson_string_limit(const char *name)
{
	static const struct {
		const char *name;
		size_t      max;
	} limits[] = {
		{ "task_id", SJE_MAX_ID_BYTES },
		{ "task_ids", SJE_MAX_ID_BYTES },
		{ "depends_on", SJE_MAX_ID_BYTES },
		{ "workflow_id", SJE_MAX_ID_BYTES },
		{ "worker", SJE_MAX_ID_BYTES },
		{ "function", SJE_MAX_FUNCTION_BYTES },
		{ "functions", SJE_MAX_FUNCTION_BYTES },
	};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (strcmp(name, limits[i].name) == 0) {
			return limits[i].max;
		}
	}
	return SJE_PBJSON_MAX_STRING_BYTES;
}

// pbjson_decimal parses s as a whole decimal integer: an optional '-'
// (when neg_ok), then 1 to 20 digits, nothing else.
static bool
pbjson_decimal(const char *s, bool neg_ok, bool *neg, uint64_t *mag)
{
	*neg = false;
	if (*s == '-' && neg_ok) {
		*neg = true;
		s++;
	}
	size_t n = strlen(s);
	if (n == 0 || n > 20) {
		return false;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
		unsigned dgt = (unsigned) (s[i] - '0');
		if (v > (UINT64_MAX - dgt) / 10) {
			return false;
		}
		v = v * 10 + dgt;
	}
	*mag = v;
	return true;
}

// in_int reads an integer in [lo, hi] from a JSON integer or, when
// strings_ok, a decimal string.
static sje_err
in_int(pbjson_in *in, const json_t *v, int64_t lo, int64_t hi, bool strings_ok,
    int64_t *out)
{
	int64_t x;
	if (json_is_integer(v)) {
		x = (int64_t) json_integer_value(v);
	} else if (strings_ok && json_is_string(v)) {
		bool     neg;
		uint64_t mag;
		if (!pbjson_decimal(json_string_value(v), true, &neg, &mag) ||
		    (!neg && mag > (uint64_t) INT64_MAX) ||
		    (neg && mag > (uint64_t) INT64_MAX + 1)) {
			return in_fail(in,
			    "expected an integer from %" PRId64 " to %" PRId64
			    ", got a string that is not one",
			    lo, hi);
		}
		x = neg ? (int64_t) (0 - mag) : (int64_t) mag;
	} else {
		return in_fail(in,
		    "expected an integer from %" PRId64 " to %" PRId64
		    ", got %s",
		    lo, hi, sje__json_kind(v));
	}
	if (x < lo || x > hi) {
		return in_fail(in,
		    "expected an integer from %" PRId64 " to %" PRId64
		    ", got one out of range",
		    lo, hi);
	}
	*out = x;
	return SJE_OK;
}

// in_uint64 reads an unsigned 64-bit integer from a JSON integer or a
// decimal string.
static sje_err
in_uint64(pbjson_in *in, const json_t *v, uint64_t *out)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t) json_integer_value(v);
		return SJE_OK;
	}
	bool     neg;
	uint64_t mag;
	if (json_is_string(v) &&
	    pbjson_decimal(json_string_value(v), false, &neg, &mag)) {
		*out = mag;
		return SJE_OK;
	}
	return in_fail(in,
	    "expected an integer from 0 to 18446744073709551615, got %s",
	    json_is_integer(v) ? "a negative one" : sje__json_kind(v));
}

// in_real reads a number, or one of the strings "NaN", "Infinity" and
// "-Infinity".
static sje_err
in_real(pbjson_in *in, const json_t *v, bool is_float, double *out)
{
	double d;
	if (json_is_number(v)) {
		d = json_number_value(v);
	} else if (json_is_string(v) &&
	    strcmp(json_string_value(v), "NaN") == 0) {
		d = NAN;
	} else if (json_is_string(v) &&
	    strcmp(json_string_value(v), "Infinity") == 0) {
		d = INFINITY;
	} else if (json_is_string(v) &&
	    strcmp(json_string_value(v), "-Infinity") == 0) {
		d = -INFINITY;
	} else {
		return in_fail(
		    in, "expected a number, got %s", sje__json_kind(v));
	}
	if (is_float && isfinite(d) && fabs(d) > FLT_MAX) {
		return in_fail(in, "the number is out of range for a float");
	}
	*out = d;
	return SJE_OK;
}

// pbjson_enum_prefix writes the UPPER_SNAKE prefix proto style gives the
// values of enum desc ("JobState" -> "JOB_STATE_").
static void
pbjson_enum_prefix(const ProtobufCEnumDescriptor *desc, char *buf, size_t len)
{
	const char *s = desc->short_name != NULL ? desc->short_name : "";
	size_t      o = 0;
	for (size_t i = 0; s[i] != '\0' && o + 3 < len; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z' && i > 0 &&
		    ((s[i - 1] >= 'a' && s[i - 1] <= 'z') ||
		        (s[i - 1] >= '0' && s[i - 1] <= '9'))) {
			buf[o++] = '_';
		}
		buf[o++] = (char) (c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	buf[o++] = '_';
	buf[o]   = '\0';
}

static sje_err
in_enum(pbjson_in *in, const ProtobufCEnumDescriptor *desc, const json_t *v,
    int *out)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n >= INT32_MIN && n <= INT32_MAX &&
		    protobuf_c_enum_descriptor_get_value(desc, (int) n) !=
		        NULL) {
			*out = (int) n;
			return SJE_OK;
		}
		return in_fail(
		    in, "not a known value of %s", desc->short_name);
	}
	if (!json_is_string(v)) {
		return in_fail(in,
		    "expected the name of a value of %s, got %s",
		    desc->short_name, sje__json_kind(v));
	}
	const char *name = json_string_value(v);
	char        prefix[128];
	pbjson_enum_prefix(desc, prefix, sizeof(prefix));
	size_t plen = strlen(prefix);
	for (unsigned i = 0; i < desc->n_values; i++) {
		const char *vn = desc->values[i].name;
		if (strcasecmp(vn, name) == 0 ||
		    (strncmp(vn, prefix, plen) == 0 &&
		        strcasecmp(vn + plen, name) == 0)) {
			*out = desc->values[i].value;
			return SJE_OK;
		}
	}
	// Say what is allowed (without quoting what was sent).
	char   list[160] = "";
	size_t ll        = 0;
	for (unsigned i = 0; i < desc->n_values && ll + 2 < sizeof(list);
	     i++) {
		const char *vn = desc->values[i].name;
		if (strncmp(vn, prefix, plen) == 0) {
			vn += plen;
		}
		int n = snprintf(list + ll, sizeof(list) - ll, "%s%s",
		    i > 0 ? " " : "", vn);
		if (n < 0 || (size_t) n >= sizeof(list) - ll) {
			list[ll] = '\0';
			break;
		}
		ll += (size_t) n;
	}
	return in_fail(in, "unknown value; expected one of: %s", list);
}

// pbjson_base64_decode decodes standard or URL-safe base64, padded or
// not. *out is malloc'd (at least 1 byte).
static bool
pbjson_base64_decode(const char *s, size_t n, uint8_t **out, size_t *outlen)
{
	while (n > 0 && s[n - 1] == '=') {
		n--;
	}
	if (n % 4 == 1) {
		return false;
	}
	uint8_t *d = malloc(n * 3 / 4 + 1);
	if (d == NULL) {
		return false;
	}
	size_t   o    = 0;
	uint32_t acc  = 0;
	int      bits = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int  v;
		if (c >= 'A' && c <= 'Z') {
			v = c - 'A';
		} else if (c >= 'a' && c <= 'z') {
			v = c - 'a' + 26;
		} else if (c >= '0' && c <= '9') {
			v = c - '0' + 52;
		} else if (c == '+' || c == '-') {
			v = 62;
		} else if (c == '/' || c == '_') {
			v = 63;
		} else {
			free(d);
			return false;
		}
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (uint8_t) (acc >> bits);
		}
	}
	*out    = d;
	*outlen = o;
	return true;
}

// pbjson_digits reads exactly n decimal digits at *s.
static bool
pbjson_digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*s)[i];
		if (c < '0' || c > '9') {
			return false;
		}
		v = v * 10 + (c - '0');
	}
	*s += n;
	*out = v;
	return true;
}

// pbjson_days_from_civil counts days from 1970-01-01 to y-m-d (proleptic
// Gregorian; H. Hinnant's algorithm).
static int64_t
pbjson_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t  era = (y >= 0 ? y : y - 399) / 400;
	int64_t  yoe = y - era * 400;
	unsigned doy =
	    (unsigned) ((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

// sje_parse_rfc3339 reads "YYYY-MM-DDTHH:MM:SS[.f+](Z|+HH:MM|-HH:MM)".
static bool
pbjson_parse_rfc3339(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	if (!pbjson_digits(&s, 4, &y) || *s++ != '-' ||
	    !pbjson_digits(&s, 2, &mo) || *s++ != '-' ||
	    !pbjson_digits(&s, 2, &d) || (*s != 'T' && *s != 't')) {
		return false;
	}
	s++;
	if (!pbjson_digits(&s, 2, &h) || *s++ != ':' ||
	    !pbjson_digits(&s, 2, &mi) || *s++ != ':' ||
	    !pbjson_digits(&s, 2, &sec)) {
		return false;
	}
	int frac_ms = 0;
	if (*s == '.') {
		s++;
		int nd = 0;
		while (*s >= '0' && *s <= '9') {
			if (nd < 3) {
				frac_ms = frac_ms * 10 + (*s - '0');
			}
			nd++;
			s++;
		}
		if (nd == 0 || nd > 9) {
			return false;
		}
		for (int i = nd; i < 3; i++) {
			frac_ms *= 10;
		}
	}
	int sign = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		s++;
		if (!pbjson_digits(&s, 2, &oh) || *s++ != ':' ||
		    !pbjson_digits(&s, 2, &om) || oh > 23 || om > 59) {
			return false;
		}
	} else {
		return false;
	}
	if (*s != '\0') {
		return false;
	}
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	bool             leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60) {
		return false;
	}
	int64_t days = pbjson_days_from_civil(y, mo, d);
	int64_t secs = ((days * 24 + h) * 60 + mi) * 60 + sec -
	    (int64_t) sign * (oh * 3600 + om * 60);
	*ms = secs * 1000 + frac_ms;
	return true;
}

// pbjson_depth is the nesting of arrays and objects in v (a scalar: 0),
// counted up to max + 1.
static unsigned
pbjson_depth(const json_t *v, unsigned max)
{
	unsigned    most = 0;
	size_t      i;
	const char *k;
	json_t     *e;
	if (max == 0 && (json_is_array(v) || json_is_object(v))) {
		return 1;
	}
	if (json_is_array(v)) {
		json_array_foreach (v, i, e) {
			unsigned d = pbjson_depth(e, max - 1);
			most       = d > most ? d : most;
			if (most >= max) {
				break;
			}
		}
		return most + 1;
	}
	if (json_is_object(v)) {
		json_object_foreach ((json_t *) v, k, e) {
			unsigned d = pbjson_depth(e, max - 1);
			most       = d > most ? d : most;
			if (most >= max) {
				break;
			}
		}
		return most + 1;
	}
	return 0;
}

// pbjson_new allocates an initialised message of type d.
static ProtobufCMessage *
pbjson_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);
	if (m == NULL) {
		return NULL;
	}
	if (d->message_init != NULL) {
		protobuf_c_message_init(d, m);
		return m;
	}
	// A descriptor written by hand may have no init function: zeroes,
	// and the string defaults (which free_unpacked knows not to free).
	memset(m, 0, d->sizeof_message);
	m->descriptor = d;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->label != PROTOBUF_C_LABEL_REPEATED &&
		    f->type == PROTOBUF_C_TYPE_STRING &&
		    f->default_value != NULL &&
		    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0) {
			// The default is the string itself, as with
			// &protobuf_c_empty_string.
			const char *dv = f->default_value;
			memcpy((char *) m + f->offset, &dv, sizeof(dv));
		}
	}
	return m;
}

// pbjson_special_field finds the one field of Timestamp (unix_ms) or
// Json (text) with the expected type, or NULL.
static const ProtobufCFieldDescriptor *
pbjson_special_field(
    const ProtobufCMessageDescriptor *d, const char *name, ProtobufCType type)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(d, name);
	return f != NULL && f->type == type &&
	        f->label != PROTOBUF_C_LABEL_REPEATED
	    ? f
	    : NULL;
}

// pbjson_is_special is true for the messages with a JSON form of their
// own.
static bool
pbjson_is_special(const ProtobufCMessageDescriptor *d)
{
	return strcmp(d->name, "sje.v1.Timestamp") == 0 ||
	    strcmp(d->name, "sje.v1.Json") == 0;
}

static sje_err in_object(pbjson_in *in, const ProtobufCMessageDescriptor *d,
    const json_t *obj, ProtobufCMessage **out);

// in_message reads a message-typed value (not null) into *out.
static sje_err
in_message(pbjson_in *in, const ProtobufCMessageDescriptor *d, const json_t *v,
    ProtobufCMessage **out)
{
	const ProtobufCFieldDescriptor *f;
	if (strcmp(d->name, "sje.v1.Timestamp") == 0 &&
	    (f = pbjson_special_field(d, "unix_ms", PROTOBUF_C_TYPE_INT64)) !=
	        NULL) {
		int64_t ms;
		if (!json_is_string(v)) {
			return in_fail(in,
			    "expected an RFC 3339 time "
			    "(\"2026-11-27T22:00:00.123Z\"), got %s",
			    sje__json_kind(v));
		}
		if (!pbjson_parse_rfc3339(json_string_value(v), &ms)) {
			return in_fail(in,
			    "expected an RFC 3339 time "
			    "(\"2026-11-27T22:00:00.123Z\")");
		}
		ProtobufCMessage *m = pbjson_new(d);
		if (m == NULL) {
			return SJE_ENOMEM;
		}
		memcpy((char *) m + f->offset, &ms, sizeof(ms));
		*out = m;
		return SJE_OK;
	}
	if (strcmp(d->name, "sje.v1.Json") == 0 &&
	    (f = pbjson_special_field(d, "text", PROTOBUF_C_TYPE_STRING)) !=
	        NULL) {
		if (pbjson_depth(v, SJE_MAX_JSON_DEPTH) > SJE_MAX_JSON_DEPTH) {
			return in_fail(in, "nested deeper than %u levels",
			    SJE_MAX_JSON_DEPTH);
		}
		char *text = sje__json_dumps(v, JSON_COMPACT);
		if (text == NULL) {
			return SJE_ENOMEM;
		}
		size_t n = strlen(text);
		if (n > SJE_MAX_PARAMS_BYTES) {
			free(text);
			return in_fail(in,
			    "is %zu bytes of JSON; the limit is %u", n,
			    SJE_MAX_PARAMS_BYTES);
		}
		ProtobufCMessage *m = pbjson_new(d);
		if (m == NULL) {
			free(text);
			return SJE_ENOMEM;
		}
		memcpy((char *) m + f->offset, &text, sizeof(text));
		*out = m;
		return SJE_OK;
	}
	return in_object(in, d, v, out);
}

// in_value reads one value of field f's type from v (not null) into p,
// the field's storage (or an element of its array). key is true for map
// keys, which are JSON object keys and so always strings.
static sje_err
in_value(pbjson_in *in, const ProtobufCFieldDescriptor *f, const json_t *v,
    void *p, bool key)
{
	sje_err rv;
	int64_t i = 0; // initialised for -O2's flow analysis
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if ((rv = in_int(in, v, INT32_MIN, INT32_MAX, key, &i)) ==
		    SJE_OK) {
			int32_t x = (int32_t) i;
			memcpy(p, &x, sizeof(x));
		}
		return rv;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if ((rv = in_int(in, v, 0, UINT32_MAX, key, &i)) == SJE_OK) {
			uint32_t x = (uint32_t) i;
			memcpy(p, &x, sizeof(x));
		}
		return rv;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if ((rv = in_int(in, v, INT64_MIN, INT64_MAX, true, &i)) ==
		    SJE_OK) {
			memcpy(p, &i, sizeof(i));
		}
		return rv;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t u = 0;
		if ((rv = in_uint64(in, v, &u)) == SJE_OK) {
			memcpy(p, &u, sizeof(u));
		}
		return rv;
	}
	case PROTOBUF_C_TYPE_FLOAT: {
		double d = 0;
		if ((rv = in_real(in, v, true, &d)) == SJE_OK) {
			float x = (float) d;
			memcpy(p, &x, sizeof(x));
		}
		return rv;
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		double d = 0;
		if ((rv = in_real(in, v, false, &d)) == SJE_OK) {
			memcpy(p, &d, sizeof(d));
		}
		return rv;
	}
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b;
		if (json_is_boolean(v)) {
			b = json_is_true(v);
		} else if (key && strcmp(json_string_value(v), "true") == 0) {
			b = 1;
		} else if (key && strcmp(json_string_value(v), "false") == 0) {
			b = 0;
		} else {
			return in_fail(in, "expected true or false, got %s",
			    sje__json_kind(v));
		}
		memcpy(p, &b, sizeof(b));
		return SJE_OK;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		int e = 0;
		if ((rv = in_enum(in, f->descriptor, v, &e)) == SJE_OK) {
			memcpy(p, &e, sizeof(e));
		}
		return rv;
	}
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_is_string(v)) {
			return in_fail(in, "expected a string, got %s",
			    sje__json_kind(v));
		}
		size_t n   = json_string_length(v);
		size_t max = pbjson_string_limit(f->name);
		if (n > max) {
			return in_fail(
			    in, "is %zu bytes long; the limit is %zu", n, max);
		}
		const char *s = json_string_value(v);
		if (memchr(s, '\0', n) != NULL) {
			return in_fail(in, "holds a NUL character");
		}
		char *c = malloc(n + 1);
		if (c == NULL) {
			return SJE_ENOMEM;
		}
		memcpy(c, s, n + 1);
		memcpy(p, &c, sizeof(c));
		return SJE_OK;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData b;
		if (!json_is_string(v)) {
			return in_fail(in, "expected base64 text, got %s",
			    sje__json_kind(v));
		}
		if (!pbjson_base64_decode(json_string_value(v),
		        json_string_length(v), &b.data, &b.len)) {
			return in_fail(in, "expected base64 text");
		}
		memcpy(p, &b, sizeof(b));
		return SJE_OK;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *m = NULL;
		if ((rv = in_message(in, f->descriptor, v, &m)) == SJE_OK) {
			memcpy(p, &m, sizeof(m));
		}
		return rv;
	}
	}
	return in_fail(in, "has a type this mapping does not know");
}

// in_repeated reads array v into repeated field f of m. Elements are
// counted as they are filled, so that m stays consistent (and freeable)
// whatever fails.
static sje_err
in_repeated(pbjson_in *in, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, const json_t *v)
{
	if (!json_is_array(v)) {
		return in_fail(
		    in, "expected an array, got %s", sje__json_kind(v));
	}
	size_t n = json_array_size(v);
	if (n == 0) {
		return SJE_OK;
	}
	size_t sz  = pbjson_type_size(f->type);
	char  *arr = calloc(n, sz);
	if (arr == NULL) {
		return SJE_ENOMEM;
	}
	char  *base  = (char *) m;
	size_t count = 0;
	memcpy(base + f->offset, &arr, sizeof(arr));
	memcpy(base + f->quantifier_offset, &count, sizeof(count));
	for (size_t i = 0; i < n; i++) {
		const json_t *e   = json_array_get(v, i);
		size_t        old = in_push_index(in, i);
		sje_err       rv  = json_is_null(e)
		           ? in_fail(in, "null is not allowed in an array")
		           : in_value(in, f, e, arr + i * sz, false);
		in_pop(in, old);
		if (rv != SJE_OK) {
			return rv;
		}
		count = i + 1;
		memcpy(base + f->quantifier_offset, &count, sizeof(count));
	}
	return SJE_OK;
}

// in_map reads object v into map field f of m (repeated entries).
static sje_err
in_map(pbjson_in *in, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const ProtobufCFieldDescriptor *kf, const ProtobufCFieldDescriptor *vf,
    const json_t *v)
{
	if (!json_is_object(v)) {
		return in_fail(
		    in, "expected an object, got %s", sje__json_kind(v));
	}
	size_t n = json_object_size(v);
	if (n == 0) {
		return SJE_OK;
	}
	ProtobufCMessage **arr = calloc(n, sizeof(*arr));
	if (arr == NULL) {
		return SJE_ENOMEM;
	}
	char  *base  = (char *) m;
	size_t count = 0;
	memcpy(base + f->offset, &arr, sizeof(arr));
	memcpy(base + f->quantifier_offset, &count, sizeof(count));
	const char *k;
	json_t     *e;
	json_object_foreach ((json_t *) v, k, e) {
		if (count == n) {
			break; // cannot happen: the object did not change
		}
		ProtobufCMessage *entry = pbjson_new(f->descriptor);
		if (entry == NULL) {
			return SJE_ENOMEM;
		}
		arr[count++] = entry;
		memcpy(base + f->quantifier_offset, &count, sizeof(count));
		size_t  old = in_push_key(in, k);
		json_t *kj  = json_string(k);
		sje_err rv  = kj == NULL ? SJE_ENOMEM
		     : json_is_null(e)
		     ? in_fail(in, "null is not allowed as a map value")
		     : in_value(in, kf, kj, (char *) entry + kf->offset, true);
		json_decref(kj);
		if (rv == SJE_OK) {
			rv = in_value(
			    in, vf, e, (char *) entry + vf->offset, false);
		}
		in_pop(in, old);
		if (rv != SJE_OK) {
			return rv;
		}
	}
	return SJE_OK;
}

// in_field reads v (not null) into field f of m.
static sje_err
in_field(pbjson_in *in, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const json_t *v)
{
	char *base = (char *) m;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		const ProtobufCFieldDescriptor *kf;
		const ProtobufCFieldDescriptor *vf;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    pbjson_map_fields(f->descriptor, &kf, &vf)) {
			return in_map(in, m, f, kf, vf, v);
		}
		return in_repeated(in, m, f, v);
	}
	uint32_t which = 0;
	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
		memcpy(&which, base + f->quantifier_offset, sizeof(which));
		if (which != 0 && which != f->id) {
			return in_fail(in,
			    "another member of the same oneof is set already");
		}
	}
	sje_err rv = in_value(in, f, v, base + f->offset, false);
	if (rv != SJE_OK) {
		return rv;
	}
	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
		which = f->id;
		memcpy(base + f->quantifier_offset, &which, sizeof(which));
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
	    f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE) {
		protobuf_c_boolean has = 1; // proto2 optional scalar
		memcpy(base + f->quantifier_offset, &has, sizeof(has));
	}
	return SJE_OK;
}

// in_object reads object obj into a new message of type d.
static sje_err
in_object(pbjson_in *in, const ProtobufCMessageDescriptor *d,
    const json_t *obj, ProtobufCMessage **out)
{
	if (!json_is_object(obj)) {
		return in_fail(
		    in, "expected an object, got %s", sje__json_kind(obj));
	}
	if (in->depth >= SJE_MAX_JSON_DEPTH) {
		return in_fail(in, "messages nested deeper than %u levels",
		    SJE_MAX_JSON_DEPTH);
	}
	ProtobufCMessage *m = pbjson_new(d);
	if (m == NULL) {
		return SJE_ENOMEM;
	}
	in->depth++;
	sje_err     rv = SJE_OK;
	const char *k;
	json_t     *v;
	json_object_foreach ((json_t *) obj, k, v) {
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(d, k);
		size_t old = in_push_key(in, k);
		if (f == NULL) {
			rv = in_fail(in, "unknown field");
		} else if (!json_is_null(v)) {
			rv = in_field(in, m, f, v);
		}
		in_pop(in, old);
		if (rv != SJE_OK) {
			break;
		}
	}
	// proto2 required fields (sje.v1 has none) must be there.
	for (unsigned i = 0; rv == SJE_OK && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const json_t                   *fv;
		if (f->label == PROTOBUF_C_LABEL_REQUIRED &&
		    ((fv = json_object_get(obj, f->name)) == NULL ||
		        json_is_null(fv))) {
			size_t old = in_push_key(in, f->name);
			rv         = in_fail(in, "is required");
			in_pop(in, old);
		}
	}
	in->depth--;
	if (rv != SJE_OK) {
		protobuf_c_message_free_unpacked(m, NULL);
		return rv;
	}
	*out = m;
	return SJE_OK;
}

// pbjson_out_init prepares error outputs: always terminated.
static void
pbjson_out_init(char *field, size_t fieldlen, char *msg, size_t msglen)
{
	if (field != NULL && fieldlen > 0) {
		field[0] = '\0';
	}
	if (msg != NULL && msglen > 0) {
		msg[0] = '\0';
	}
}

sje_err
sje__json_value_to_pb(const ProtobufCMessageDescriptor *d, const json_t *v,
    const char *path, ProtobufCMessage **out, char *field, size_t fieldlen,
    char *msg, size_t msglen)
{
	pbjson_out_init(field, fieldlen, msg, msglen);
	pbjson_in in = { .field = field,
		.fieldlen       = field != NULL ? fieldlen : 0,
		.msg            = msg,
		.msglen         = msg != NULL ? msglen : 0 };
	if (path != NULL) {
		pbjson_path_append(
		    in.path, &in.plen, sizeof(in.path), path, strlen(path));
	}
	if (d == NULL || v == NULL || out == NULL) {
		return in_fail(&in, "nothing to convert");
	}
	ProtobufCMessage *m;
	sje_err           rv = in_object(&in, d, v, &m);
	if (rv == SJE_ENOMEM) {
		in_fail(&in, "out of memory");
		return SJE_ENOMEM;
	}
	if (rv == SJE_OK) {
		*out = m;
	}
	return rv;
}

// scan_frame is one open array or object while pbjson_path_at scans.
typedef struct scan_frame {
	bool        obj;
	bool        expect_key; // objects: the next string is a key
	bool        has_key;    // objects: key names the current member
	bool        done;       // the current member's value is complete
	size_t      idx;        // arrays: the current element
	const char *key;        // raw (still escaped) key text
	size_t      klen;
} scan_frame;

// pbjson_path_at writes the dotted path of the value that text (JSON that
// is well formed up to pos, where jansson found an error) is in at byte
// pos, cut as sje__json_parse says.
static void
pbjson_path_at(const ProtobufCMessageDescriptor *d, const char *t, size_t len,
    size_t pos, char *out, size_t outlen)
{
	scan_frame fr[PBJSON_SCAN_FRAMES];
	size_t     depth = 0; // frames open; only the first ones are kept
	// jansson's position is just past the token it choked on: leave that
	// token out (a stray '}' must not close a frame), except at the end
	// of the text, where the last value may well be whole.
	size_t end    = pos < len ? (pos > 0 ? pos - 1 : 0) : len;
	bool   scalar = false; // inside a number or literal
	for (size_t i = 0; i < end; i++) {
		scan_frame *top = depth > 0 && depth <= PBJSON_SCAN_FRAMES
		    ? &fr[depth - 1]
		    : NULL;
		char        c   = t[i];
		if (scalar &&
		    (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		        c == ',' || c == ']' || c == '}')) {
			scalar = false; // a scalar ends at a delimiter
			if (top != NULL) {
				top->done = true;
			}
		}
		switch (c) {
		case '"': {
			size_t j = i + 1;
			while (j < end && t[j] != '"') {
				j += t[j] == '\\' ? 2 : 1;
			}
			if (top != NULL && top->obj && top->expect_key) {
				top->key     = t + i + 1;
				top->klen    = (j < end ? j : end) - (i + 1);
				top->has_key = true;
			} else if (top != NULL && j < end) {
				top->done = true; // a whole string value
			}
			i = j;
			break;
		}
		case '{':
		case '[':
			if (depth < PBJSON_SCAN_FRAMES) {
				fr[depth] = (scan_frame) { .obj = c == '{',
					.expect_key             = c == '{' };
			}
			depth++;
			break;
		case '}':
		case ']':
			if (depth > 0) {
				depth--;
			}
			if (depth > 0 && depth <= PBJSON_SCAN_FRAMES) {
				fr[depth - 1].done = true;
			}
			break;
		case ':':
			if (top != NULL && top->obj) {
				top->expect_key = false;
			}
			break;
		case ',':
			if (top != NULL && top->obj) {
				top->expect_key = true;
				top->has_key    = false;
			} else if (top != NULL) {
				top->idx++;
			}
			if (top != NULL) {
				top->done = false;
			}
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			scalar = true;
			break;
		}
	}

	// Walk the frames, and d alongside, to cut the path where the schema
	// stops being messages.
	enum { AT_MSG, AT_INDEX, AT_MAP_KEY } mode = AT_MSG;
	const ProtobufCMessageDescriptor *cur      = d;
	const ProtobufCFieldDescriptor   *fd       = NULL;
	size_t                            plen     = 0;
	out[0]                                     = '\0';
	if (depth > PBJSON_SCAN_FRAMES) {
		depth = PBJSON_SCAN_FRAMES;
	}
	for (size_t k = 0; k < depth; k++) {
		bool stop = false;
		if (k + 1 == depth && fr[k].done) {
			break; // broke after a whole member: the container's
			       // fault
		}
		if (fr[k].obj) {
			if (!fr[k].has_key) {
				break;
			}
			if (plen > 0) {
				pbjson_path_append(out, &plen, outlen, ".", 1);
			}
			pbjson_path_append(
			    out, &plen, outlen, fr[k].key, fr[k].klen);
		} else {
			char b[32];
			snprintf(b, sizeof(b), "[%zu]", fr[k].idx);
			pbjson_path_append(out, &plen, outlen, b, strlen(b));
		}
		if (d == NULL) {
			continue;
		}
		if (mode == AT_MSG) {
			char name[128];
			if (!fr[k].obj || cur == NULL ||
			    fr[k].klen >= sizeof(name)) {
				break;
			}
			memcpy(name, fr[k].key, fr[k].klen);
			name[fr[k].klen] = '\0';
			fd = protobuf_c_message_descriptor_get_field_by_name(
			    cur, name);
			const ProtobufCFieldDescriptor *kf, *vf;
			if (fd == NULL) {
				stop = true;
			} else if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
				mode = fd->type == PROTOBUF_C_TYPE_MESSAGE &&
				        pbjson_map_fields(
				            fd->descriptor, &kf, &vf)
				    ? AT_MAP_KEY
				    : AT_INDEX;
			} else if (fd->type == PROTOBUF_C_TYPE_MESSAGE &&
			    !pbjson_is_special(fd->descriptor)) {
				cur = fd->descriptor;
			} else {
				stop = true;
			}
		} else if (mode == AT_INDEX) {
			if (fd->type == PROTOBUF_C_TYPE_MESSAGE &&
			    !pbjson_is_special(fd->descriptor) && !fr[k].obj) {
				cur  = fd->descriptor;
				mode = AT_MSG;
			} else {
				stop = true;
			}
		} else { // AT_MAP_KEY: the value of this entry
			const ProtobufCFieldDescriptor *kf, *vf;
			pbjson_map_fields(fd->descriptor, &kf, &vf);
			if (vf->type == PROTOBUF_C_TYPE_MESSAGE &&
			    !pbjson_is_special(vf->descriptor) && fr[k].obj) {
				cur  = vf->descriptor;
				mode = AT_MSG;
			} else {
				stop = true;
			}
		}
		if (stop) {
			break;
		}
	}
}

// pbjson_error_text copies jansson's message without the " near '...'"
// part, which quotes the input (maybe not even UTF-8).
static void
pbjson_error_text(const char *text, char *buf, size_t len)
{
	size_t      n    = strlen(text);
	const char *near = strstr(text, " near ");
	if (near != NULL) {
		n = (size_t) (near - text);
	}
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		unsigned char c = (unsigned char) text[i];
		buf[o++]        = c >= 0x20 && c < 0x7f ? (char) c : '?';
	}
	if (len > 0) {
		buf[o] = '\0';
	}
}

sje_err
sje__json_parse(const ProtobufCMessageDescriptor *d, const char *text,
    size_t len, json_t **out, char *field, size_t fieldlen, char *msg,
    size_t msglen)
{
	pbjson_out_init(field, fieldlen, msg, msglen);
	if (text == NULL || out == NULL) {
		return SJE_EINVAL;
	}
	char        why[160];
	size_t      pos;
	int         line = 0, col = 0;
	const char *nul = memchr(text, '\0', len);
	json_t     *j   = NULL;
	if (nul != NULL) {
		// jansson would take it for the end of the text.
		pos = (size_t) (nul - text);
		sje__snprintf(why, sizeof(why), "a NUL byte");
	} else {
		json_error_t jerr;
		j = json_loadb(text, len,
		    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
		if (j != NULL) {
			*out = j;
			return SJE_OK;
		}
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			if (msg != NULL && msglen > 0) {
				sje__snprintf(msg, msglen, "out of memory");
			}
			return SJE_ENOMEM;
		}
		pos  = jerr.position > 0 ? (size_t) jerr.position : 0;
		line = jerr.line;
		col  = jerr.column;
		pbjson_error_text(jerr.text, why, sizeof(why));
	}
	if (field != NULL && fieldlen > 0) {
		pbjson_path_at(d, text, len, pos, field, fieldlen);
	}
	if (msg != NULL && msglen > 0) {
		if (line > 0) {
			sje__snprintf(msg, msglen,
			    "malformed JSON at line %d, column %d: %s", line,
			    col, why);
		} else {
			sje__snprintf(msg, msglen,
			    "malformed JSON at byte %zu: %s", pos, why);
		}
	}
	return SJE_EINVAL;
}

sje_err
sje__json_to_pb(const ProtobufCMessageDescriptor *d, const char *text,
    size_t len, ProtobufCMessage **out, char *field, size_t fieldlen,
    char *msg, size_t msglen)
{
	json_t *j;
	sje_err rv =
	    sje__json_parse(d, text, len, &j, field, fieldlen, msg, msglen);
	if (rv != SJE_OK) {
		return rv;
	}
	rv = sje__json_value_to_pb(
	    d, j, NULL, out, field, fieldlen, msg, msglen);
	json_decref(j);
	return rv;
}

bool
sje__rfc3339_parse(const char *text, sje_time_ms *t)
{
	int64_t ms;
	if (text == NULL || !pbjson_parse_rfc3339(text, &ms)) {
		return false;
	}
	*t = ms;
	return true;
}
