#!/usr/bin/env bash
# durability: a job acknowledged to the client survives kill -9 of the
# server; so does a job that was running; the store rebuilds the queues.
. "$(dirname "$0")/lib.sh"

t_server_start server

# Acknowledged with no worker anywhere: only the store holds them.
for i in $(seq 1 20); do
	sje submit calculate_data --id d-$i --params "{\"input_data\":[$i,1]}" >/dev/null
done
sje submit noop --id d-late --delay 5 >/dev/null
t_kill9 "$SERVER_PID"

t_server_start server
t_eq "an acknowledged job survives kill -9" QUEUED "$(t_state d-1)"
t_eq "the last acknowledged job survives kill -9" QUEUED "$(t_state d-20)"
t_eq "a delayed job survives kill -9" SCHEDULED "$(t_state d-late)"

t_worker_start w1 4
for i in 1 20; do
	t_check "job d-$i runs after the restart" t_until 30 t_state_is d-$i SUCCEEDED
done
t_eq "its result is right" $((20 + 1)) "$(sje --json status d-20 | jq .result.sum)"
t_check "the delayed job runs too" t_until 30 t_state_is d-late SUCCEEDED

# A running job whose coordinator dies: the worker keeps running it, and
# reports to the restarted coordinator, which still knows its lease.
sje submit sleep --id run-1 --params '{"seconds":2}' >/dev/null
t_check "the sleep job starts" t_until 20 t_state_is run-1 RUNNING
t_kill9 "$SERVER_PID"
t_server_start server
t_check "a job running during kill -9 finishes" t_until 40 t_state_is run-1 SUCCEEDED
t_eq "it ran once" 1 "$(sje --json status run-1 | jq .attempt)"

# A clean stop (SIGTERM) exits 0 and keeps everything.
kill -TERM "$SERVER_PID"
set +e
wait "$SERVER_PID"; rc=$?
set -e
t_eq "SIGTERM stops the server with status 0" 0 "$rc"
t_server_start server
t_eq "after a clean stop the jobs are there" SUCCEEDED "$(t_state d-1)"
t_stop "$SERVER_PID"

# server.result_ttl_s: finished jobs are forgotten after it, others kept.
RPC_URL=
EVENTS_URL=
t_server_start ttl SJE_SERVER_RESULT_TTL_S=1
t_worker_start w2 2
sje submit noop --id ttl-done --wait >/dev/null
sje submit nobody_serves_this --id ttl-queued >/dev/null
gone() { ! sje status ttl-done >/dev/null 2>&1; }
t_check "a finished job is purged after result_ttl_s" t_until 30 gone
t_eq "an unfinished one is kept" QUEUED "$(t_state ttl-queued)"

t_done
