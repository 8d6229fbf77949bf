// client.h — libsje's RPC client: the Coordinator's calls over nng req/rep.
//
// One sje_client is one connection (an nng req socket with a dialer that
// reconnects by itself). It is thread-safe: any number of threads may call
// at once; each call uses its own nng context. Requests are never re-sent by
// nng (resend is off), so a call that fails with SJE_EUNAVAIL or
// SJE_ETIMEDOUT may or may not have reached the server: every Coordinator
// and WorkerHub call is idempotent, and the caller retries.
//
// Reply messages are allocated by protobuf-c: free them with
// protobuf_c_message_free_unpacked(&reply->base, NULL).
#ifndef SJE_CLIENT_H
#define SJE_CLIENT_H

#include <sje/config.h>
#include <sje/sje.h>
#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/job.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sje_client sje_client;

// sje_client_opts says how to connect. Every string is borrowed for the
// sje_client_open call only. Zero-initialize it (new fields are only ever
// added at the end, and zero always means the default).
typedef struct sje_client_opts {
	const char *server_url;   // NULL: tcp://127.0.0.1:7100. Several
	                          // coordinators, comma-separated, are
	                          // tried in that order (sje_client_open)
	uint32_t    timeout_ms;   // per call; 0: 10000
	const char *api_key;      // sent with every call; NULL: none
	const char *bearer_token; // an OAuth 2 JWT; NULL: none

	// TLS, used only when server_url is tls+tcp:// (PEM files).
	const char *ca_file;     // CA that signed the server's certificate:
	                         // required for tls+tcp://
	const char *cert_file;   // our certificate, for servers that require
	                         // one (workers; require_client_cert); NULL:
	                         // none. May also hold the key.
	const char *key_file;    // our private key; NULL: in cert_file
	const char *server_name; // the name the server's certificate must
	                         // carry; NULL: the host of server_url. It is
	                         // always checked. Certificates need a DNS:
	                         // entry for it, even for an address
	                         // (mbedTLS 2.28 does not match IP entries).
} sje_client_opts;

// sje_client_role says which part of config.yaml a program reads.
typedef enum sje_client_role {
	SJE_CLIENT_ROLE_CLIENT = 0, // client.server_url (sje-client, services)
	SJE_CLIENT_ROLE_WORKER,     // worker.server_url (sje-worker)
} sje_client_role;

// sje_client_opts_from_config fills *out from cfg for role: server_url
// (client.server_url or worker.server_url) and the TLS settings of
// security.tls (ca, cert, key, and server_name when set). Every other
// field is zeroed: set timeout_ms, credentials and overrides afterwards.
// The strings are borrowed from cfg, which must outlive the use of *out.
// Thread-safe.
SJE_API void sje_client_opts_from_config(
    const sje_config *cfg, sje_client_role role, sje_client_opts *out);

// sje_client_opts_check checks what sje_client_open would need from opts
// to connect: for a tls+tcp:// server_url, that the CA, certificate and
// key files can be read and parsed and that there is a server name. On
// failure, returns SJE_ECONFIG (or SJE_ENOMEM) and writes one line naming
// the file at fault to errbuf (errlen bytes). Thread-safe.
SJE_API sje_err sje_client_opts_check(
    const sje_client_opts *opts, char *errbuf, size_t errlen);

// sje_status is the outcome of a call as the server stated it. Calls that
// fail before reaching the server set code UNAVAILABLE or DEADLINE_EXCEEDED.
typedef struct sje_status {
	int  code;         // sje.v1.StatusCode; 0 = OK
	char message[256]; // for people
	char field[64];    // the offending field, or ""
} sje_status;

// sje_client_open connects to opts->server_url (in the background: the
// first call waits for the connection within its timeout), over TLS for
// tls+tcp:// (a failed handshake, as with a wrong CA or server name, makes
// calls fail with SJE_EUNAVAIL or SJE_ETIMEDOUT). When server_url lists
// several coordinators, the client uses one at a time: the first that
// connects, trying each in list order for a second, and it stays with it
// until the connection is lost; a call made then moves to the next one
// that connects (a call in flight when the connection drops fails with
// SJE_EUNAVAIL: retry it, every call is idempotent). *out is written only
// on SJE_OK; the caller owns it and frees it with sje_client_close.
// Errors: SJE_EINVAL for a bad URL (any of a list), SJE_ECONFIG for
// unusable TLS files (sje_client_opts_check says which).
SJE_API sje_err sje_client_open(const sje_client_opts *opts, sje_client **out);

// sje_client_close closes c and frees it. Accepts NULL. No call on c may
// be in progress.
SJE_API void sje_client_close(sje_client *c);

// sje_client_call calls method method_index of service with the message
// in, waiting up to timeout_ms (0: the client's default). On SJE_OK,
// *out holds the reply (caller owns it). On any failure *out is untouched
// and st (may be NULL) says what the server or the transport said.
// Thread-safe.
SJE_API sje_err sje_client_call(sje_client *c,
    const ProtobufCServiceDescriptor *service, unsigned method_index,
    const ProtobufCMessage *in, ProtobufCMessage **out, uint32_t timeout_ms,
    sje_status *st);

// sje_client_service returns a ProtobufCService through which protoc-c's
// generated stubs (sje__v1__coordinator__submit, ...) call over c. The
// closure gets NULL when the call failed. Caller owns the result: free it
// with its destroy function. Thread-safe.
SJE_API ProtobufCService *sje_client_service(
    sje_client *c, const ProtobufCServiceDescriptor *service);

// Typed helpers for the Coordinator's calls. Each is sje_client_call with
// the default timeout, except sje_client_wait and sje_client_list_events,
// which allow the time the server may hold the call (timeout_ms, wait_ms)
// on top of it. Results and ownership as sje_client_call.
SJE_API sje_err sje_client_submit(sje_client *c,
    const Sje__V1__SubmitRequest *req, Sje__V1__SubmitReply **out,
    sje_status *st);
SJE_API sje_err sje_client_get_status(
    sje_client *c, const char *task_id, Sje__V1__Job **out, sje_status *st);
SJE_API sje_err sje_client_wait(sje_client *c, const Sje__V1__WaitRequest *req,
    Sje__V1__WaitReply **out, sje_status *st);
SJE_API sje_err sje_client_cancel(sje_client *c, const char *task_id,
    Sje__V1__CancelReply **out, sje_status *st);
SJE_API sje_err sje_client_list_jobs(sje_client *c,
    const Sje__V1__ListJobsRequest *req, Sje__V1__ListJobsReply **out,
    sje_status *st);
// sje_client_list_events reads kept events after req->after (or, with
// req->from_now, only those to come), held up to req->wait_ms until one
// arrives: the authenticated, lossless way to follow events.
SJE_API sje_err sje_client_list_events(sje_client *c,
    const Sje__V1__ListEventsRequest *req, Sje__V1__ListEventsReply **out,
    sje_status *st);
SJE_API sje_err sje_client_list_workers(
    sje_client *c, Sje__V1__ListWorkersReply **out, sje_status *st);

// sje_client_retry re-runs task_id, a job that ended FAILED, CANCELLED or
// UPSTREAM_FAILED, under the same id: a new attempt, its history kept.
// With descendants, its UPSTREAM_FAILED descendants are re-run too and
// listed in (*out)->descendants, parents first. Errors: SJE_ENOTFOUND
// for an unknown id, SJE_EPRECOND when the job is in another state.
// Results and ownership as sje_client_call. Thread-safe.
SJE_API sje_err sje_client_retry(sje_client *c, const char *task_id,
    bool descendants, Sje__V1__RetryReply **out, sje_status *st);

// sje_client_delete_job deletes task_id, a finished job, from the
// coordinator's store; (*out)->deleted counts the jobs deleted. Errors:
// SJE_ENOTFOUND for an unknown id, SJE_EPRECOND when it has not finished.
// Results and ownership as sje_client_call. Thread-safe.
SJE_API sje_err sje_client_delete_job(sje_client *c, const char *task_id,
    Sje__V1__DeleteJobReply **out, sje_status *st);

// sje_client_explain says why task_id is where it is: its state and one
// Reason per cause (WAITING_ON_PARENTS with the unfinished parents,
// SCHEDULED, FUNCTION_PAUSED, NO_WORKER, LEASED, FINISHED, ...). Errors:
// SJE_ENOTFOUND for an unknown id. Results and ownership as
// sje_client_call. Thread-safe.
SJE_API sje_err sje_client_explain(sje_client *c, const char *task_id,
    Sje__V1__ExplainReply **out, sje_status *st);

// sje_client_list_functions lists the functions the coordinator knows, by
// name: their jobs queued, running, scheduled and pending now, whether
// they are paused, their limits and the live workers that serve them.
// Results and ownership as sje_client_call. Thread-safe.
SJE_API sje_err sje_client_list_functions(
    sje_client *c, Sje__V1__ListFunctionsReply **out, sje_status *st);

// sje_client_list_schedules lists the schedules of the coordinator's
// config (schedules:), in config order, each with its next tick, the last
// tick it fired and what that started. Results and ownership as
// sje_client_call. Thread-safe.
SJE_API sje_err sje_client_list_schedules(
    sje_client *c, Sje__V1__ListSchedulesReply **out, sje_status *st);

// sje_client_set_function changes what req sets on function req->name
// (req->pause: pause it, so that none of its jobs starts, or resume it);
// the coordinator keeps the change across restarts. *out is the function
// as sje_client_list_functions shows it afterwards. req is borrowed for
// the call. Results and ownership as sje_client_call. Thread-safe.
SJE_API sje_err sje_client_set_function(sje_client *c,
    const Sje__V1__SetFunctionRequest *req, Sje__V1__FunctionInfo **out,
    sje_status *st);

// sje_client_bulk_cancel, sje_client_bulk_retry and sje_client_bulk_delete
// apply Cancel, Retry or DeleteJob to every job that req selects (each
// field set must match; at least one must be set, else SJE_EINVAL):
// cancel the unfinished ones (a RUNNING one gets cancel_requested), re-run
// those FAILED, CANCELLED or UPSTREAM_FAILED (parents before children),
// delete the finished ones that no unstarted job still needs. A job the
// one-job call would refuse is left alone. (*out)->matched counts the jobs
// the operation was applied to; one call does at most 10,000, and
// (*out)->more says that more may match: call again until it is false.
// req is borrowed for the call. Results and ownership as sje_client_call.
// Thread-safe.
SJE_API sje_err sje_client_bulk_cancel(sje_client *c,
    const Sje__V1__BulkRequest *req, Sje__V1__BulkReply **out, sje_status *st);
SJE_API sje_err sje_client_bulk_retry(sje_client *c,
    const Sje__V1__BulkRequest *req, Sje__V1__BulkReply **out, sje_status *st);
SJE_API sje_err sje_client_bulk_delete(sje_client *c,
    const Sje__V1__BulkRequest *req, Sje__V1__BulkReply **out, sje_status *st);

// sje_client_get_workflow_run reads workflow run workflow_id (RunWorkflow's
// workflow_id): its workflow's name, its state (RUNNING while a step is
// unfinished; then SUCCEEDED, FAILED or CANCELLED) and every step, oldest
// first, each as sje_client_get_status gives a job. Errors: SJE_ENOTFOUND
// when no job is a step of such a run. Results and ownership as
// sje_client_call. Thread-safe.
SJE_API sje_err sje_client_get_workflow_run(sje_client *c,
    const char *workflow_id, Sje__V1__WorkflowRun **out, sje_status *st);

// sje_client_cancel_workflow_run cancels every unfinished step of workflow
// run workflow_id, as sje_client_bulk_cancel would; (*out)->matched counts
// them. Errors: SJE_ENOTFOUND for an unknown run. Results and ownership as
// sje_client_call. Thread-safe.
SJE_API sje_err sje_client_cancel_workflow_run(sje_client *c,
    const char *workflow_id, Sje__V1__BulkReply **out, sje_status *st);

// sje_job_state_name returns "QUEUED" for SJE__V1__JOB_STATE__QUEUED, etc.
SJE_API const char *sje_job_state_name(int state);

// sje_job_state_parse maps "queued" or "QUEUED" to the enum value; returns
// false when the name is unknown.
SJE_API bool sje_job_state_parse(const char *name, int *state);

// sje_job_state_is_terminal is true for SUCCEEDED, FAILED, CANCELLED and
// UPSTREAM_FAILED.
SJE_API bool sje_job_state_is_terminal(int state);

#ifdef __cplusplus
}
#endif
#endif // SJE_CLIENT_H
