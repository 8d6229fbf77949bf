// reply.h — what a round sends out after its commit: replies and errors
// (the out queue) and events (numbered and kept in the store within the
// round's transaction, published after the commit); and the replies more
// than one file makes: a Wait's job records, a ListEvents' kept events, a
// job's attempt history. Scheduler thread only.
#ifndef SJE_SERVER_SCHED_REPLY_H
#define SJE_SERVER_SCHED_REPLY_H

#include "sched/state.h"

// sje__sched_reply_ok packs msg now (it may borrow anything) and sends it
// after the round's commit.
void sje__sched_reply_ok(
    sje__sched *s, sje__call *call, const ProtobufCMessage *msg);

// sje__sched_reply_err queues an error reply: err's status, field, message.
void sje__sched_reply_err(sje__sched *s, sje__call *call, sje_err err,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

// sje__sched_event_full makes the event of j entering (or, for progress and
// cancel, being in) its current state: numbered, packed, kept in the store
// within the round's transaction, and queued for publishing after commit.
void sje__sched_event_full(sje__sched *s, const sched_job *j,
    const char *worker, const char *error_type, const char *error_message,
    const Sje__V1__Progress *progress, bool cancel_requested);

// sje__sched_event_push queues the event of j entering its current state.
void sje__sched_event_push(sje__sched *s, const sched_job *j,
    const char *worker, const char *error_type, const char *error_message);

// sje__sched_attach_attempts adds job's attempt history (malloc'd, freed with
// the job by protobuf_c_message_free_unpacked).
void sje__sched_attach_attempts(sje__sched *s, Sje__V1__Job *job, int64_t id);

// sje__sched_attach_attempts_all is sje__sched_attach_attempts for each of
// jobs[0..n), ids[i] being jobs[i]'s: one read of the store for them all.
void sje__sched_attach_attempts_all(
    sje__sched *s, Sje__V1__Job **jobs, const int64_t *ids, size_t n);

// sje__sched_wait_reply answers a Wait call with the current record of
// each of ids[0..n). With field, an id the store has no job for is
// answered NOT_FOUND naming field instead.
void sje__sched_wait_reply(sje__sched *s, sje__call *call,
    const char *const *ids, size_t n, bool done, const char *field);

// sje__sched_submit_reply answers a Submit with its results[0..n); with
// with_jobs (a Submit with wait_ms), also each job's current record and
// done.
void sje__sched_submit_reply(sje__sched *s, sje__call *call,
    Sje__V1__SubmitResult **results, size_t n, bool with_jobs, bool done);

// sje__sched_wait_answer answers a WAIT hold: a Wait with its records, a
// Submit that waited with its results and records. The caller removes h.
void sje__sched_wait_answer(sje__sched *s, sched_hold *h, bool done);

// sje__sched_fetch_reply answers a Fetch hold with jobs[0..n) and the
// answers to the outcomes it carried. The caller removes h.
void sje__sched_fetch_reply(
    sje__sched *s, sched_hold *h, Sje__V1__Assignment **jobs, size_t n);

// sje__sched_events_reply answers a ListEvents call with the kept events it
// asks for; with none to give it answers only when force is set. Returns
// whether it answered.
bool sje__sched_events_reply(sje__sched *s, sje__call *call, bool force);

#endif // SJE_SERVER_SCHED_REPLY_H
