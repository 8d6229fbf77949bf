#!/usr/bin/env bash
# worker_reconnect: workers outlive coordinator restarts (they re-register
# by themselves), and a worker killed mid-job loses its lease: the job runs
# again elsewhere; a worker stopped while its coordinator is gone gives up
# reporting within a bound, and the job runs again.
. "$(dirname "$0")/lib.sh"

t_server_start server SJE_EXECUTOR_LEASE_S=2
t_worker_start w1 2

out=$(sje --json submit echo --params '{"x":1}' --wait)
t_eq "a job runs before the restart" SUCCEEDED "$(jq -r .state <<<"$out")"

t_stop "$SERVER_PID"
t_server_start server SJE_EXECUTOR_LEASE_S=2
t_check "the worker registers again by itself" t_until 30 t_worker_listed w1
out=$(sje --json submit echo --params '{"x":2}' --wait)
t_eq "a job runs after the restart" SUCCEEDED "$(jq -r .state <<<"$out")"

# Kill the only worker in the middle of a job; a new worker gets it once
# the lease (2 s) expires.
sje submit sleep --id lost-1 --params '{"seconds":3}' >/dev/null
t_check "the job starts on w1" t_until 20 t_state_is lost-1 RUNNING
t_kill9 "$WORKER_PID"
t_worker_start w2 2
t_check "the lost job runs again and succeeds" t_until 60 t_state_is lost-1 SUCCEEDED
t_eq "it took two attempts" 2 "$(sje --json status lost-1 | jq .attempt)"
t_eq "the second ran on w2" w2 "$(sje --json status lost-1 | jq -r .worker)"

# A worker stopped while its coordinator is gone tries to report for at
# most 15 s (RT_FLUSH_MS), even with a report call in flight then; the job
# whose outcome it could not report runs again on the next worker.
sje submit sleep --id unreported-1 --params '{"seconds":1}' >/dev/null
t_check "the job starts on w2" t_until 20 t_state_is unreported-1 RUNNING
t_kill9 "$SERVER_PID"
sleep 2 # the job ends; its report waits for a coordinator
kill -TERM "$WORKER_PID"
stopped_at=$SECONDS
t_check "the stopped worker exits within 17 s" t_wait_exit "$WORKER_PID" 17
t_log "it took $((SECONDS - stopped_at)) s"
t_check "... saying the outcome was not reported" \
    grep -q "\[unreported-1\] outcome not reported.*runs again when its lease expires" \
    "$T_DIR/worker-w2.log"
t_server_start server SJE_EXECUTOR_LEASE_S=2
t_worker_start w3 2
t_check "the job runs again and succeeds" t_until 60 t_state_is unreported-1 SUCCEEDED
t_eq "on w3" w3 "$(sje --json status unreported-1 | jq -r .worker)"

t_done
