// leader.h — where a coordinator's calls go: to its own scheduler when it
// is the active coordinator (the leader) of its database, else on to the
// one that is.
//
// Several coordinators share one PostgreSQL database. One of them, the
// leader, holds the database's active lock and runs the scheduler; the
// others are followers: their doors take calls from clients and workers
// as the leader's do, check them (authentication, door/validate.h) and
// hand each on to the leader as an RPC carrying the caller's own
// credentials, which the leader checks again, and pass its answer back
// unchanged. Their event streams relay the leader's. A follower that
// takes the lock (the leader stopped or died) starts its own scheduler
// and serves from it (sje__leader_become).
//
// With SQLite a coordinator leads from its start: sje__leader_become
// before its doors open, and every call goes to its scheduler.
//
// Calls handed on while the way to the leader is down (none known yet,
// not connected, or it went away with the call) are answered UNAVAILABLE
// at once: callers try again, as after any coordinator's restart.
#ifndef SJE_DOOR_LEADER_H
#define SJE_DOOR_LEADER_H

#include "config.h"
#include "events/events.h"
#include "sched/call.h"
#include "sched/scheduler.h"

#include <stdbool.h>

typedef struct sje__leader sje__leader;

// sje__leader_open makes the way to the leader, leading nowhere yet.
// The TLS files of cfg->security.tls (copied) are used to dial the
// leader's tls+tcp:// URLs, its certificate checked against
// security.tls.ca for the URL's host name, this coordinator's own
// certificate shown as the client's. events (borrowed; may be NULL)
// relays the leader's event stream while this one follows. *out is
// written on SJE_OK; caller owns it.
sje_err sje__leader_open(
    const sje_config *cfg, sje__events *events, sje__leader **out);

// sje__leader_follow hands calls on to the coordinator name (for logs)
// at rpc_url and relays its events from events_url (may be ""). The
// same rpc_url as before changes nothing; another drops the way to the
// old one (its calls out are answered UNAVAILABLE). rpc_url NULL or ""
// (no leader known) leads nowhere; the caller never names itself. Not
// thread-safe with itself or sje__leader_become (the main thread).
void sje__leader_follow(sje__leader *l, const char *name, const char *rpc_url,
    const char *events_url);

// sje__leader_connected is true when calls handed on now would reach the
// leader followed (its connection is up). Thread-safe.
bool sje__leader_connected(sje__leader *l);

// sje__leader_become makes sched (borrowed: it must outlive every call
// posted) the way of every call from now on; the calls still out to a
// leader followed are answered UNAVAILABLE, and its events no longer
// relayed. Not thread-safe with sje__leader_follow.
void sje__leader_become(sje__leader *l, sje__sched *sched);

// sje__leader_post is the doors' handler (arg is the leader): the call is
// checked (sje__validate_call) and posted to the scheduler, or handed on.
// Thread-safe, never blocks.
void sje__leader_post(void *leader, sje__call *call);

// sje__leader_close answers the calls still out UNAVAILABLE, closes the
// connections and frees l. The doors must have been quiesced first.
// Accepts NULL.
void sje__leader_close(sje__leader *l);

#endif // SJE_DOOR_LEADER_H
