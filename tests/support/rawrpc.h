// rawrpc.h — a raw RPC peer for tests: it builds request frames by hand
// (the envelope of rpc.proto around a packed body), so a test can send
// what libsje never would: strings holding NUL bytes, forged sessions and
// leases, no credentials. Used by tests/integration/text_client.c and
// forge_client.c, and by tests/unit/text_test.c (frames only).
//
// Not thread-safe per socket; no state of its own.
#ifndef SJE_TEST_RAWRPC_H
#define SJE_TEST_RAWRPC_H

#include <sje/v1/rpc.pb-c.h>

#include <nng/nng.h>

#include <stddef.h>
#include <stdint.h>

// sje_test_rawrpc_frame packs a request for method ("/sje.v1.X/Method")
// around body, then turns every "<\x01>" marker of the frame into "<\0>"
// (protobuf-c cannot pack a string holding NUL; a raw peer can). Returns
// the frame (caller frees) with its length in *len, or NULL when out of
// memory.
uint8_t *sje_test_rawrpc_frame(
    const char *method, const ProtobufCMessage *body, size_t *len);

// sje_test_rawrpc_open opens a req socket with send and receive timeouts
// of timeout_ms and dials url (at once: a server that is not up is an
// error). Returns 0, with the socket in *out, or the nng error.
int sje_test_rawrpc_open(const char *url, int timeout_ms, nng_socket *out);

// sje_test_rawrpc_call sends body as method on s (framed as
// sje_test_rawrpc_frame does) and returns the reply envelope (caller
// frees it with sje__v1__reply__free_unpacked), or NULL on a transport
// error or an undecodable reply, said on stderr after who.
Sje__V1__Reply *sje_test_rawrpc_call(nng_socket s, const char *method,
    const ProtobufCMessage *body, const char *who);

// sje_test_rawrpc_code_name returns the name of a status code
// ("FAILED_PRECONDITION"), or "?" (static strings).
const char *sje_test_rawrpc_code_name(int code);

#endif // SJE_TEST_RAWRPC_H
