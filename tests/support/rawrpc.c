// rawrpc.c — a raw RPC peer for tests (rawrpc.h): frames packed by hand,
// one req socket, no libsje.
#include "rawrpc.h"

#include <nng/protocol/reqrep0/req.h>

#include <stdio.h>
#include <stdlib.h>

uint8_t *
sje_test_rawrpc_frame(
    const char *method, const ProtobufCMessage *body, size_t *len)
{
	size_t   bn = protobuf_c_message_get_packed_size(body);
	uint8_t *bb = malloc(bn + 1);
	if (bb == NULL) {
		return NULL;
	}
	protobuf_c_message_pack(body, bb);
	Sje__V1__Request req = SJE__V1__REQUEST__INIT;
	req.method           = (char *) method;
	req.body.data        = bb;
	req.body.len         = bn;
	size_t   n           = sje__v1__request__get_packed_size(&req);
	uint8_t *buf         = malloc(n + 1);
	if (buf == NULL) {
		free(bb);
		return NULL;
	}
	sje__v1__request__pack(&req, buf);
	free(bb);
	for (size_t i = 0; i + 2 < n; i++) {
		if (buf[i] == '<' && buf[i + 1] == 1 && buf[i + 2] == '>') {
			buf[i + 1] = 0;
		}
	}
	*len = n;
	return buf;
}

int
sje_test_rawrpc_open(const char *url, int timeout_ms, nng_socket *out)
{
	nng_socket s;
	int        rv;

	if ((rv = nng_req0_open(&s)) != 0) {
		return rv;
	}
	if ((rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms)) != 0 ||
	    (rv = nng_dial(s, url, NULL, 0)) != 0) {
		nng_close(s);
		return rv;
	}
	*out = s;
	return 0;
}

Sje__V1__Reply *
sje_test_rawrpc_call(nng_socket s, const char *method,
    const ProtobufCMessage *body, const char *who)
{
	size_t   n;
	uint8_t *buf = sje_test_rawrpc_frame(method, body, &n);
	if (buf == NULL) {
		fprintf(stderr, "%s: out of memory\n", who);
		return NULL;
	}
	int rv = nng_send(s, buf, n, 0);
	free(buf);
	if (rv != 0) {
		fprintf(stderr, "%s: send: %s\n", who, nng_strerror(rv));
		return NULL;
	}
	void  *rbuf;
	size_t rn;
	if ((rv = nng_recv(s, &rbuf, &rn, NNG_FLAG_ALLOC)) != 0) {
		fprintf(stderr, "%s: recv: %s\n", who, nng_strerror(rv));
		return NULL;
	}
	Sje__V1__Reply *r = sje__v1__reply__unpack(NULL, rn, rbuf);
	nng_free(rbuf, rn);
	if (r == NULL) {
		fprintf(stderr, "%s: the reply does not decode\n", who);
	}
	return r;
}

const char *
sje_test_rawrpc_code_name(int code)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &sje__v1__status_code__descriptor, code);
	return v != NULL ? v->name : "?";
}
