// call.c — the front-door-neutral helpers of sje__call.
#include "sched/call.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void
sje__call_reply(sje__call *call, const ProtobufCMessage *out)
{
	size_t   n    = protobuf_c_message_get_packed_size(out);
	uint8_t *body = malloc(n > 0 ? n : 1);
	if (body == NULL) {
		sje__call_send(call, sje_err_to_status(SJE_ENOMEM),
		    "out of memory", NULL, NULL, 0);
		return;
	}
	protobuf_c_message_pack(out, body);
	sje__call_send(call, 0, NULL, NULL, body, n);
	free(body);
}

void
sje__call_error(
    sje__call *call, sje_err err, const char *field, const char *fmt, ...)
{
	char    msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sje__call_send(call, sje_err_to_status(err), msg, field, NULL, 0);
}
