// err.c — SJE's error vocabulary and its gRPC status mapping, shared by
// every program.
//
// The one table below maps sje_err to gRPC status codes; the reverse map
// picks, for each status code, the error that best describes it.
#include <sje/client.h>
#include <sje/sje.h>

static const struct {
	sje_err     err;
	int         status;
	const char *text;
} err_table[] = {
	{ SJE_OK, SJE__V1__STATUS_CODE__OK, "success" },
	{ SJE_ENOMEM, SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED,
	    "out of memory" },
	{ SJE_EINVAL, SJE__V1__STATUS_CODE__INVALID_ARGUMENT,
	    "invalid argument" },
	{ SJE_ENOTFOUND, SJE__V1__STATUS_CODE__NOT_FOUND, "not found" },
	{ SJE_EEXIST, SJE__V1__STATUS_CODE__ALREADY_EXISTS, "already exists" },
	{ SJE_EPRECOND, SJE__V1__STATUS_CODE__FAILED_PRECONDITION,
	    "not allowed in the current state" },
	{ SJE_EUNAUTH, SJE__V1__STATUS_CODE__UNAUTHENTICATED,
	    "not authenticated" },
	{ SJE_EPERM, SJE__V1__STATUS_CODE__PERMISSION_DENIED,
	    "permission denied" },
	{ SJE_ELIMIT, SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED,
	    "limit exceeded" },
	{ SJE_EUNAVAIL, SJE__V1__STATUS_CODE__UNAVAILABLE,
	    "server unavailable" },
	{ SJE_ETIMEDOUT, SJE__V1__STATUS_CODE__DEADLINE_EXCEEDED,
	    "timed out" },
	{ SJE_ECANCELED, SJE__V1__STATUS_CODE__CANCELLED, "cancelled" },
	{ SJE_EPROTO, SJE__V1__STATUS_CODE__DATA_LOSS, "malformed message" },
	{ SJE_EIO, SJE__V1__STATUS_CODE__INTERNAL, "storage error" },
	{ SJE_ECONFIG, SJE__V1__STATUS_CODE__INVALID_ARGUMENT,
	    "bad configuration" },
	{ SJE_EUNIMPL, SJE__V1__STATUS_CODE__UNIMPLEMENTED,
	    "not implemented" },
	{ SJE_EINTERNAL, SJE__V1__STATUS_CODE__INTERNAL, "internal error" },
};

#define N_ERRS (sizeof(err_table) / sizeof(err_table[0]))

const char *
sje_strerror(sje_err err)
{
	for (size_t i = 0; i < N_ERRS; i++) {
		if (err_table[i].err == err) {
			return err_table[i].text;
		}
	}
	return "unknown error";
}

int
sje_err_to_status(sje_err err)
{
	for (size_t i = 0; i < N_ERRS; i++) {
		if (err_table[i].err == err) {
			return err_table[i].status;
		}
	}
	return SJE__V1__STATUS_CODE__UNKNOWN;
}

sje_err
sje_status_to_err(int code)
{
	switch (code) {
	case SJE__V1__STATUS_CODE__OK:
		return SJE_OK;
	case SJE__V1__STATUS_CODE__CANCELLED:
		return SJE_ECANCELED;
	case SJE__V1__STATUS_CODE__INVALID_ARGUMENT:
	case SJE__V1__STATUS_CODE__OUT_OF_RANGE:
		return SJE_EINVAL;
	case SJE__V1__STATUS_CODE__DEADLINE_EXCEEDED:
		return SJE_ETIMEDOUT;
	case SJE__V1__STATUS_CODE__NOT_FOUND:
		return SJE_ENOTFOUND;
	case SJE__V1__STATUS_CODE__ALREADY_EXISTS:
		return SJE_EEXIST;
	case SJE__V1__STATUS_CODE__PERMISSION_DENIED:
		return SJE_EPERM;
	case SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED:
		return SJE_ELIMIT;
	case SJE__V1__STATUS_CODE__FAILED_PRECONDITION:
	case SJE__V1__STATUS_CODE__ABORTED:
		return SJE_EPRECOND;
	case SJE__V1__STATUS_CODE__UNIMPLEMENTED:
		return SJE_EUNIMPL;
	case SJE__V1__STATUS_CODE__UNAVAILABLE:
		return SJE_EUNAVAIL;
	case SJE__V1__STATUS_CODE__DATA_LOSS:
		return SJE_EPROTO;
	case SJE__V1__STATUS_CODE__UNAUTHENTICATED:
		return SJE_EUNAUTH;
	default:
		return SJE_EINTERNAL;
	}
}

const char *
sje_status_name(int code)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &sje__v1__status_code__descriptor, code);
	return v != NULL ? v->name : "UNKNOWN";
}
