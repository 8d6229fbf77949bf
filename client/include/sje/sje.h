// sje.h — libsje's common definitions: errors, time, visibility.
//
// libsje is the C library that services link to talk to SJE. Its public
// headers are the ones under client/include/sje; include <sje/client.h>
// for the RPC client and <sje/config.h> for config.yaml loading.
#ifndef SJE_SJE_H
#define SJE_SJE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SJE_API __attribute__((visibility("default")))

#define SJE_VERSION_STRING "0.1.0"

// sje_err is the one error type of SJE. Every function that can fail
// returns one; SJE_OK is 0. Library errors (nng, SQLite, errno, libyaml,
// mbedTLS) are translated into it once, in the module that owns the library.
typedef enum sje_err {
	SJE_OK = 0,
	SJE_ENOMEM,    // out of memory
	SJE_EINVAL,    // invalid argument or malformed input
	SJE_ENOTFOUND, // no such job, worker, workflow or file
	SJE_EEXIST,    // exists already, with another definition
	SJE_EPRECOND,  // not allowed in the current state
	SJE_EUNAUTH,   // missing or wrong credentials
	SJE_EPERM,     // credentials lack the scope
	SJE_ELIMIT,    // a size, count or rate limit was exceeded
	SJE_EUNAVAIL,  // cannot reach the peer, or it is shutting down
	SJE_ETIMEDOUT, // the deadline passed
	SJE_ECANCELED, // the operation was cancelled
	SJE_EPROTO,    // the peer sent something we cannot decode
	SJE_EIO,       // storage or operating-system failure
	SJE_ECONFIG,   // bad configuration
	SJE_EUNIMPL,   // not implemented by this peer
	SJE_EINTERNAL, // a bug or an unexpected condition
} sje_err;

// sje_strerror returns a static, human-readable text for err.
// Thread-safe.
SJE_API const char *sje_strerror(sje_err err);

// sje_err_to_status maps err to a gRPC status code (sje.v1.StatusCode).
SJE_API int sje_err_to_status(sje_err err);

// sje_status_to_err maps a gRPC status code to the sje_err that fits.
SJE_API sje_err sje_status_to_err(int code);

// sje_status_name returns the gRPC name of a status code ("NOT_FOUND").
SJE_API const char *sje_status_name(int code);

// Absolute times are milliseconds since the Unix epoch (UTC); durations
// are relative milliseconds. Units are in the names: *_ms, *_s.
typedef int64_t sje_time_ms;
typedef int64_t sje_dur_ms;

// sje_now_ms returns the wall-clock time. Thread-safe.
SJE_API sje_time_ms sje_now_ms(void);

// sje_mono_ms returns a monotonic clock for deadlines. Thread-safe.
SJE_API sje_dur_ms sje_mono_ms(void);

#ifdef __cplusplus
}
#endif
#endif // SJE_SJE_H
