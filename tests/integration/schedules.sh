#!/usr/bin/env bash
# schedules: config's schedules with a real server, worker and store. An
# interval schedule fires every tick with the tick's id, runs each job
# once, and across a SIGKILL of the coordinator neither fires a tick twice
# nor loses the ones it acknowledged; a workflow schedule starts whole
# runs; a config with a bad cron expression stops the server naming the
# line. (Cron ticks themselves, and missed ticks, are tested on a fake
# clock in tests/unit/sched_test.c.)
. "$(dirname "$0")/lib.sh"

cat >"$T_DIR/sje.yaml" <<'YAML'
schedules:
  - {name: beat, every_s: 1, function: echo, params: {from: beat}, overlap: allow}
  - {name: flow, every_s: 2, workflow: pair}
workflows:
  pair:
    - {name: first, function: echo}
    - {name: second, function: echo, after: [first]}
YAML
export SJE_CONFIG="$T_DIR/sje.yaml"
t_server_start server
t_worker_start wa 4

# beat_ids: the ids of beat's jobs, sorted.
beat_ids() {
	sje --json list --function echo --limit 1000 |
	    jq -r '.jobs[] | select(.labels.schedule == "beat") | .task_id' | sort
}
beats() { beat_ids | wc -l; }
beats_at_least() { [ "$(beats)" -ge "$1" ]; }

t_check "an interval schedule starts jobs" t_until 20 beats_at_least 3
first=$(beat_ids | head -n 1)
t_check "named by the schedule and the tick" \
    grep -Eq '^beat:[0-9]{8}T[0-9]{6}Z$' <<<"$first"
t_check "and they run" t_until 20 t_state_is "$first" SUCCEEDED
t_eq "with the schedule's params" beat \
    "$(sje --json status "$first" | jq -r .result.from)"

t_check "GET /schedules lists both" \
    bash -c "curl -sf '$HTTP_URL/schedules' | jq -e '[.schedules[].name] == [\"beat\",\"flow\"]'"
t_check "with the last job it started" \
    bash -c "curl -sf '$HTTP_URL/schedules' | jq -e '.schedules[0].last_task_id | startswith(\"beat:\")'"

t_check "sje-client schedules lists both, when each runs and what it starts" \
    bash -c "sje() { \"$SJE_BIN/sje-client\" \"\$@\"; }; out=\$(sje schedules);
        grep -Eq '^beat +every 1 s +job echo ' <<<\"\$out\" &&
        grep -Eq '^flow +every 2 s +workflow pair ' <<<\"\$out\""
t_eq "schedules --json is what GET /schedules answers" \
    "$(curl -sf "$HTTP_URL/schedules" | jq -c '[.schedules[] | {name, every_s, function, workflow}]')" \
    "$(sje --json schedules | jq -c '[.schedules[] | {name, every_s, function, workflow}]')"

# A workflow schedule starts runs: both steps of one run.
flow_first() {
	sje --json list --limit 1000 |
	    jq -r '.jobs[] | select(.task_id | test("^flow:.*\\.second$")) | .task_id' | head -n 1
}
t_check "a workflow schedule starts whole runs" t_until 20 test -n "$(flow_first)"
t_check "whose steps run in order" t_until 20 t_state_is "$(flow_first)" SUCCEEDED

# SIGKILL, then restart: every tick fired before is there once, and
# firing goes on without a second job for any tick.
before=$(beat_ids)
kill -KILL "$SERVER_PID"
t_wait_exit "$SERVER_PID" 10

t_server_start server
t_check "after a SIGKILL the schedule fires again" \
    t_until 20 beats_at_least $(( $(wc -l <<<"$before") + 3 ))
after=$(beat_ids)
t_eq "no tick acknowledged before the kill is lost" "" \
    "$(comm -23 <(echo "$before") <(echo "$after"))"
t_eq "no tick was started twice, before or after the kill" "" \
    "$(sed -n 's/.*schedule beat: started //p' "$T_DIR/server.log" | sort | uniq -d)"
t_check "the worker comes back" t_until 20 t_worker_listed wa
last=$(beat_ids | tail -n 1)
t_check "the newest runs" t_until 20 t_state_is "$last" SUCCEEDED
for id in $(beat_ids); do
	t_until 20 t_state_is "$id" SUCCEEDED || true
done
t_eq "every tick's job ran exactly once" "" \
    "$(for id in $(beat_ids); do
        sje --json status "$id" | jq -r 'select(.state != "SUCCEEDED" or .attempt != 1) | .task_id'
    done)"
t_stop "$WORKER_PID"
t_stop_status "$SERVER_PID"
t_eq "the server stops cleanly" 0 "$T_STATUS"

# A bad cron expression: one line naming the file, line and key.
cat >"$T_DIR/bad.yaml" <<'YAML'
schedules:
  - {name: bad, cron: "0 25 * * *", function: echo}
YAML
set +e
SJE_CONFIG="$T_DIR/bad.yaml" SJE_SERVER_DATA_DIR="$T_DIR/bad" timeout 20 \
    "$SJE_BIN/sje-server" 2>"$T_DIR/bad.log"
rc=$?
set -e
t_check "a bad cron expression stops the server" test "$rc" -ne 0 -a "$rc" -ne 124
t_check "naming the line, the key and the field" \
    grep -q "bad.yaml:2: schedules\[0\].cron: hour: '25' is out of range 0-23" "$T_DIR/bad.log"

t_done
