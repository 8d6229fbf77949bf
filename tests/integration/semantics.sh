#!/usr/bin/env bash
# semantics: job semantics under faults, with a real server, real workers
# and a real store: retries and back-off, timeouts, a stale completion
# refused, priority order, restart with jobs in every state, progress,
# events, a worker's graceful stop.
. "$(dirname "$0")/lib.sh"

# attempts ID: the attempt history as compact JSON.
attempts() { sje --json status "$1" | jq -c .attempts; }
ms() { # RFC 3339 (UTC, with ms) to epoch milliseconds
	local t=$1
	echo $(( $(date -u -d "${t%.*}Z" +%s) * 1000 + 10#$(sed 's/.*\.\([0-9]*\)Z/\1/' <<<"$t") ))
}

cat >"$T_DIR/sje.yaml" <<'YAML'
executor:
  lease_s: 2
tasks:
  defaults:
    retry: {max_attempts: 3, backoff: fixed, initial_delay_ms: 500, max_delay_ms: 500}
  functions:
    fail:
      retry: {max_attempts: 2, backoff: fixed, initial_delay_ms: 400}
YAML
export SJE_CONFIG="$T_DIR/sje.yaml"
t_server_start server
t_worker_start wa 2

## Retries: the per-function policy gives fail 2 attempts, 400 ms apart.
out=$(sje --json submit fail --params '{"message":"nope"}' --id r-1 --wait || true)
t_eq "a per-function policy sets the attempts" 2 "$(jq .attempt <<<"$out")"
t_eq "the job ends FAILED" FAILED "$(jq -r .state <<<"$out")"
t_eq "with the last error" nope "$(jq -r .error.message <<<"$out")"
h=$(attempts r-1)
t_eq "both attempts are recorded" 2 "$(jq length <<<"$h")"
t_eq "each attempt says how it ended" '["FAILED","FAILED"]' "$(jq -c '[.[].outcome]' <<<"$h")"
t_eq "each attempt names its worker" '["wa","wa"]' "$(jq -c '[.[].worker]' <<<"$h")"
gap=$(( $(ms "$(jq -r '.[1].started_at' <<<"$h")") - $(ms "$(jq -r '.[0].finished_at' <<<"$h")") ))
t_check "the retry waited its back-off (${gap} ms >= 400)" test "$gap" -ge 400

## --retries on the job beats config; exponential back-off stays under
## its ceiling (full jitter: anywhere from 0 to the ceiling).
out=$(sje --json submit echo --params '{}' --id r-2 --retries 4 --wait)
t_eq "a job that succeeds at once makes one attempt" 1 "$(jq .attempt <<<"$out")"

## Timeouts: the attempt is stopped and fails with a timeout error.
out=$(sje --json submit sleep --params '{"seconds":30}' --timeout 1 --retries 0 \
    --id to-1 --wait || true)
t_eq "a job past its timeout fails" FAILED "$(jq -r .state <<<"$out")"
t_eq "its error says it timed out" timeout "$(jq -r .error.type <<<"$out")"

## Progress: a running sleep reports how far it is.
sje submit sleep --params '{"seconds":3}' --id pr-1 >/dev/null
progress_shown() {
	[ "$(sje --json status pr-1 | jq '.progress.percent // 0 | . > 0')" = true ]
}
t_check "a running job's progress shows in status" t_until 20 progress_shown
t_check "it then succeeds" t_until 20 t_state_is pr-1 SUCCEEDED

## Events: watch prints every transition of a job, live.
"$SJE_BIN/sje-client" --json watch >"$T_DIR/watch.out" 2>"$T_DIR/watch.err" &
WATCH_PID=$!
T_PIDS+=("$WATCH_PID")
sleep_until_subscribed() { [ -s "$T_DIR/watch.out" ] || { sje submit noop >/dev/null; false; }; }
t_check "watch is subscribed" t_until 20 sleep_until_subscribed
sje submit echo --params '{"e":1}' --id ev-1 --wait >/dev/null
seen() { grep -c '"task_id":"ev-1"' "$T_DIR/watch.out" | grep -q '^3$'; }
t_check "watch saw QUEUED, RUNNING and SUCCEEDED of ev-1" t_until 10 seen
t_eq "in that order" '["QUEUED","RUNNING","SUCCEEDED"]' \
    "$(grep '"task_id":"ev-1"' "$T_DIR/watch.out" | jq -sc '[.[].state]')"
t_stop "$WATCH_PID"

## A stale completion is refused: worker wb is frozen mid-job, its lease
## expires, the job runs again on wc; wb's late report changes nothing.
t_stop "$WORKER_PID"       # wa
t_worker_start wb 1
WB=$WORKER_PID
sje submit sleep --params '{"seconds":5}' --id stale-1 >/dev/null
t_check "the job starts on wb" t_until 20 t_state_is stale-1 RUNNING
kill -STOP "$WB"
t_worker_start wc 1
t_check "after wb's lease expires the job runs on wc" \
    t_until 30 bash -c "'$SJE_BIN/sje-client' --json status stale-1 | jq -e '.worker == \"wc\" and .state == \"SUCCEEDED\"' >/dev/null"
kill -CONT "$WB"
refused() { grep -q "refused" "$T_DIR/worker-wb.log"; }
t_check "wb's late report is refused" t_until 30 refused
h=$(attempts stale-1)
t_eq "wb's attempt is recorded as lost" lost "$(jq -r '.[0].error.type' <<<"$h")"
t_eq "the job ran to completion once" 1 "$(jq '[.[] | select(.outcome == "SUCCEEDED")] | length' <<<"$h")"
t_eq "the result is wc's" wc "$(sje --json status stale-1 | jq -r .worker)"
t_stop "$WB"
t_stop "$WORKER_PID"       # wc

## Priority: higher first, then oldest first, on one slot.
sje submit sleep --params '{"seconds":0.2}' --id p-a --priority 0 >/dev/null
sje submit sleep --params '{"seconds":0.2}' --id p-b --priority 5 >/dev/null
sje submit sleep --params '{"seconds":0.2}' --id p-c --priority 1 >/dev/null
sje submit sleep --params '{"seconds":0.2}' --id p-d --priority 5 >/dev/null
t_worker_start wd 1
for id in p-a p-b p-c p-d; do
	t_check "$id runs" t_until 30 t_state_is $id SUCCEEDED
done
order=$(for id in p-a p-b p-c p-d; do
	echo "$(sje --json status $id | jq -r .started_at) $id"; done | sort | awk '{print $2}' | tr '\n' ' ')
t_eq "jobs start by priority, then age" "p-b p-d p-c p-a " "$order"

## Restart with jobs in every state.
sje submit nobody_serves_this --id st-queued >/dev/null
sje submit noop --id st-sched --delay 60 >/dev/null
sje submit noop --id st-ok --wait >/dev/null
sje submit fail --id st-failed --retries 0 --wait >/dev/null || true
sje submit nobody_serves_this --id st-cancelled >/dev/null
sje cancel st-cancelled >/dev/null
sje submit sleep --params '{"seconds":3}' --id st-running >/dev/null
t_check "st-running is running" t_until 20 t_state_is st-running RUNNING
t_kill9 "$SERVER_PID"
t_server_start server
t_eq "QUEUED survives a restart" QUEUED "$(t_state st-queued)"
t_eq "SCHEDULED survives a restart" SCHEDULED "$(t_state st-sched)"
t_eq "SUCCEEDED survives a restart" SUCCEEDED "$(t_state st-ok)"
t_eq "FAILED survives a restart" FAILED "$(t_state st-failed)"
t_eq "CANCELLED survives a restart" CANCELLED "$(t_state st-cancelled)"
t_check "RUNNING finishes after a restart" t_until 30 t_state_is st-running SUCCEEDED
t_eq "without running again" 1 "$(sje --json status st-running | jq .attempt)"

## Graceful stop of a worker: a running job finishes and is reported.
sje submit sleep --params '{"seconds":1}' --id gs-1 >/dev/null
t_check "gs-1 starts" t_until 20 t_state_is gs-1 RUNNING
kill -TERM "$WORKER_PID"
set +e
wait "$WORKER_PID"; rc=$?
set -e
t_eq "SIGTERM stops the worker with status 0" 0 "$rc"
t_eq "the job it was running finished first" SUCCEEDED "$(t_state gs-1)"

t_done
