#!/usr/bin/env bash
# coordinator_failover: two coordinators on one PostgreSQL database, one
# active and one standby; workers and clients list both. The standby opens
# no port while the other is active; when the active one is killed with
# SIGKILL the standby takes over within a bound, the worker and the
# client move to it by themselves, and every acknowledged job SUCCEEDS
# once, the one that was running at the kill included. A stopped active
# hands over at once; a stopped standby stops cleanly.
. "$(dirname "$0")/lib.sh"

T_STORE=postgres
DSN=$(t_pg_dsn shared)

listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

# standby_start NAME PORT: a coordinator on the shared database (active
# or standby); sets STANDBY_PID.
standby_start() {
	t_coord_start "$1" "$2" "$DSN" SJE_EXECUTOR_LEASE_S=5
	STANDBY_PID=$COORD_PID
}

A_PORT=$(t_free_port)
B_PORT=$(t_free_port)
while [ "$B_PORT" = "$A_PORT" ]; do B_PORT=$(t_free_port); done
A_URL=tcp://127.0.0.1:$A_PORT
B_URL=tcp://127.0.0.1:$B_PORT

standby_start a "$A_PORT"
A_PID=$STANDBY_PID
t_check "the first coordinator becomes active" t_until 20 test -s "$T_DIR/a/endpoints"
standby_start b "$B_PORT"
B_PID=$STANDBY_PID
t_check "the second one waits as a standby" \
    t_until 20 grep -q 'waiting as a standby' "$T_DIR/b.log"
t_check "and says who holds the database" \
    grep -q "holds this database (sje-server .* pid $A_PID" "$T_DIR/b.log"
t_check "a standby opens no port" bash -c "! ss -ltnH 'sport = :$B_PORT' | grep -q ."

export SJE_CLIENT_SERVER_URL="$A_URL,$B_URL"
SJE_WORKER_SERVER_URL="$A_URL,$B_URL" SJE_LOGGING_LEVEL=info \
    "$SJE_BIN/sje-worker" --name w1 --slots 4 >>"$T_DIR/worker-w1.log" 2>&1 &
WORKER_PID=$!
T_PIDS+=("$WORKER_PID")
# one_worker: the coordinator the client reaches lists the worker.
one_worker() { sje --json workers 2>/dev/null | jq -e '.workers | length == 1' >/dev/null; }
t_check "the worker registers with the active one" t_until 20 one_worker

# submit_until_acked ID FUNCTION PARAMS: submits until a coordinator
# acknowledges it (an unreachable one is retried, bounded).
submit_until_acked() {
	local deadline=$((SECONDS + 60))
	until sje submit "$2" --id "$1" --params "$3" >/dev/null 2>>"$T_DIR/submit.err"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

ids=()
for i in $(seq 1 10); do
	submit_until_acked "before-$i" noop '{}' || t_fail "before-$i not acknowledged"
	ids+=("before-$i")
done
submit_until_acked running sleep '{"seconds": 3}' || t_fail "running not acknowledged"
ids+=(running)
t_check "a job is running at the kill" t_until 20 t_state_is running RUNNING

kill -KILL "$A_PID"
killed_at=$SECONDS
t_wait_exit "$A_PID" 10
t_check "the standby takes over after the kill" \
    t_until 30 test -s "$T_DIR/b/endpoints"
took=$((SECONDS - killed_at))
t_check "within 10 s (took ${took} s)" test "$took" -le 10
t_check "its log says it is active" grep -q 'this coordinator is active now' "$T_DIR/b.log"
t_check "it listens on its port" listening "$B_PORT"

for i in $(seq 1 10); do
	submit_until_acked "after-$i" noop '{}' || t_fail "after-$i not acknowledged"
	ids+=("after-$i")
done
t_eq "the client moved to the new active one: all acknowledged" 21 "${#ids[@]}"
t_check "the worker moved to it too" t_until 30 one_worker

all_succeeded() {
	local id
	for id in "${ids[@]}"; do
		t_state_is "$id" SUCCEEDED || return 1
	done
}
t_check "every acknowledged job SUCCEEDED" t_until 60 all_succeeded
once=0
for id in "${ids[@]}"; do
	n=$(sje --json status "$id" | jq '[.attempts[] | select(.outcome == "SUCCEEDED")] | length')
	[ "$n" = 1 ] && once=$((once + 1))
done
t_eq "each succeeded once" "${#ids[@]}" "$once"

# The killed one comes back as a standby; the active one stopped by
# SIGTERM hands over at once.
standby_start a "$A_PORT"
A_PID=$STANDBY_PID
t_check "the old active one comes back as a standby" \
    t_until 20 bash -c "[ \$(grep -c 'waiting as a standby' '$T_DIR/a.log') -ge 1 ]"
t_stop_status "$B_PID"
t_eq "the active one stops cleanly" 0 "$T_STATUS"
t_check "and the standby takes over" t_until 20 test -s "$T_DIR/a/endpoints"
t_check "the jobs are there" t_until 20 t_state_is after-10 SUCCEEDED

# A standby stopped while it waits stops cleanly.
standby_start c "$(t_free_port)"
C_PID=$STANDBY_PID
t_check "a third waits as a standby" \
    t_until 20 grep -q 'waiting as a standby' "$T_DIR/c.log"
t_stop_status "$C_PID"
t_eq "a standby stops cleanly on SIGTERM" 0 "$T_STATUS"
t_stop "$WORKER_PID"

t_done
