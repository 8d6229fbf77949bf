#!/usr/bin/env bash
# dag: dependency DAGs through the CLI with a real server and workers:
# chain, fan-out, fan-in with collect, diamond, a failure in the middle of
# a chain, cancel of a parent, an unknown parent refused, and a restart of
# the server in the middle of a DAG; workflows from config, run and
# followed with the CLI.
. "$(dirname "$0")/lib.sh"

cat >"$T_DIR/sje.yaml" <<'YAML'
workflows:
  etl:
    - {name: extract, function: echo, params: {step: extract}}
    - {name: transform, function: echo, after: [extract], params: {step: transform}}
    - {name: load, function: collect, after: [transform]}
  broken:
    - {name: first, function: echo}
    - {name: boom, function: fail, after: [first], params: {message: kaput}}
    - {name: never, function: echo, after: [boom]}
YAML
export SJE_CONFIG="$T_DIR/sje.yaml"
t_server_start server
t_worker_start wa 4

started() { sje --json status "$1" | jq -r .started_at; }

## Chain: a -> b -> c, each waits for the one before.
sje submit sleep --id ch-a --params '{"seconds":4}' >/dev/null
sje submit echo --id ch-b --after ch-a --params '{"b":1}' >/dev/null
sje submit echo --id ch-c --after ch-b --params '{"c":1}' >/dev/null
t_eq "a child waits PENDING while its parent runs" PENDING "$(t_state ch-b)"
t_eq "a grandchild waits PENDING too" PENDING "$(t_state ch-c)"
t_check "the chain finishes" t_until 30 t_state_is ch-c SUCCEEDED
# not_before A B: RFC 3339 time A is not before B (a child may start in
# the very round, and millisecond, its parent finished).
not_before() { [ "$1" = "$2" ] || [[ "$1" > "$2" ]]; }
t_check "b started once a finished" not_before "$(started ch-b)" \
    "$(sje --json status ch-a | jq -r .finished_at)"
t_check "c started once b finished" not_before "$(started ch-c)" \
    "$(sje --json status ch-b | jq -r .finished_at)"

## Fan-out and fan-in: root -> l1, l2, l3 -> sink (collect).
sje submit echo --id fo-root --params '{"root":true}' >/dev/null
for i in 1 2 3; do
	sje submit echo --id fo-l$i --after fo-root --params "{\"leaf\":$i}" >/dev/null
done
sje submit collect --id fo-sink --after fo-l1,fo-l2,fo-l3 >/dev/null
t_check "the fan-in sink runs" t_until 30 t_state_is fo-sink SUCCEEDED
t_eq "collect sees every parent's result, keyed by task_id" \
    '{"fo-l1":{"leaf":1},"fo-l2":{"leaf":2},"fo-l3":{"leaf":3}}' \
    "$(sje --json status fo-sink | jq -cS .result)"
t_eq "the sink lists its parents" '["fo-l1","fo-l2","fo-l3"]' \
    "$(sje --json status fo-sink | jq -c .depends_on)"

## Diamond: a -> b, a -> c, (b, c) -> d.
sje submit echo --id di-a --params '{"a":1}' >/dev/null
sje submit echo --id di-b --after di-a --params '{"b":2}' >/dev/null
sje submit echo --id di-c --after di-a --params '{"c":3}' >/dev/null
sje submit collect --id di-d --after di-b,di-c >/dev/null
t_check "the diamond's last job runs" t_until 30 t_state_is di-d SUCCEEDED
t_eq "it sees both middle results" '{"di-b":{"b":2},"di-c":{"c":3}}' \
    "$(sje --json status di-d | jq -cS .result)"

## A failure in the middle of a chain fails everything after it.
sje submit echo --id mf-a --params '{}' >/dev/null
sje submit fail --id mf-b --after mf-a --retries 0 --params '{"message":"broke"}' >/dev/null
sje submit echo --id mf-c --after mf-b >/dev/null
sje submit echo --id mf-d --after mf-c >/dev/null
t_check "the failing job fails" t_until 30 t_state_is mf-b FAILED
t_check "its child ends UPSTREAM_FAILED" t_until 10 t_state_is mf-c UPSTREAM_FAILED
t_eq "and so does its grandchild" UPSTREAM_FAILED "$(t_state mf-d)"
t_eq "the error names the parent" "parent 'mf-b' ended FAILED" \
    "$(sje --json status mf-c | jq -r .error.message)"
t_eq "the grandchild's names its own parent" "parent 'mf-c' ended UPSTREAM_FAILED" \
    "$(sje --json status mf-d | jq -r .error.message)"
t_eq "the job before the failure is untouched" SUCCEEDED "$(t_state mf-a)"
sje submit echo --id mf-late --after mf-b >/dev/null
t_eq "a new child of a failed job starts UPSTREAM_FAILED" UPSTREAM_FAILED "$(t_state mf-late)"

## Cancel of a parent fails its descendants.
sje submit nobody_serves_this --id cp-a >/dev/null
sje submit echo --id cp-b --after cp-a >/dev/null
sje submit echo --id cp-c --after cp-b >/dev/null
sje cancel cp-a >/dev/null
t_eq "the cancelled parent is CANCELLED" CANCELLED "$(t_state cp-a)"
t_eq "its child is UPSTREAM_FAILED" UPSTREAM_FAILED "$(t_state cp-b)"
t_eq "its grandchild too" UPSTREAM_FAILED "$(t_state cp-c)"

## An unknown parent is refused and nothing is stored.
set +e
sje submit echo --id up-1 --after no-such-parent 2>"$T_DIR/err"; rc=$?
set -e
t_eq "a submit naming an unknown parent exits 1" 1 "$rc"
t_check "and says which parent" grep -q "unknown parent 'no-such-parent'" "$T_DIR/err"
set +e
sje status up-1 2>/dev/null; rc=$?
set -e
t_eq "the refused job was not stored" 4 "$rc"

## A restart in the middle of a DAG: it finishes, in order.
sje submit sleep --id rs-a --params '{"seconds":2}' >/dev/null
sje submit echo --id rs-b --after rs-a --params '{"b":1}' >/dev/null
sje submit collect --id rs-c --after rs-a,rs-b >/dev/null
t_check "the first job is running" t_until 20 t_state_is rs-a RUNNING
t_kill9 "$SERVER_PID"
t_server_start server
t_eq "after the restart the children still wait" PENDING "$(t_state rs-b)"
t_check "the DAG finishes after the restart" t_until 40 t_state_is rs-c SUCCEEDED
t_eq "the last job saw both parents" '["rs-a","rs-b"]' \
    "$(sje --json status rs-c | jq -c '.result | keys')"

## Workflows from config, through the CLI.
out=$(sje workflow etl --params '{"run":1}' --id run-1)
t_check "a workflow run names its id" grep -q "run run-1, 3 steps" <<<"$out"
t_check "the run's steps finish" t_until 30 t_state_is run-1.load SUCCEEDED
out=$(sje status run-1)
t_check "status of a run id shows the run" grep -q "workflow run run-1: 3 steps, 3 finished, 3 succeeded" <<<"$out"
t_check "and each step" grep -Eq "^transform +echo +SUCCEEDED" <<<"$out"
t_eq "run params reach the steps" '{"run":1,"step":"transform"}' \
    "$(sje --json status run-1.transform | jq -cS .result)"
out=$(sje --json workflow etl --id run-2 --wait)
t_eq "workflow --wait shows every step" '["SUCCEEDED","SUCCEEDED","SUCCEEDED"]' \
    "$(jq -c '[.steps[].state]' <<<"$out")"
t_eq "in order" '["run-2.extract","run-2.transform","run-2.load"]' \
    "$(jq -c '[.steps[].task_id]' <<<"$out")"
set +e
out=$(sje --json workflow broken --id run-3 --wait); rc=$?
set -e
t_eq "a run with a failing step exits 1" 1 "$rc"
t_eq "the steps after it end UPSTREAM_FAILED" '["SUCCEEDED","FAILED","UPSTREAM_FAILED"]' \
    "$(jq -c '[.steps[].state]' <<<"$out")"
set +e
sje workflow no_such_flow 2>/dev/null; rc=$?
sje status no-such-run 2>/dev/null; rc2=$?
set -e
t_eq "an unknown workflow exits 4" 4 "$rc"
t_eq "status of an unknown run exits 4" 4 "$rc2"

## Runs are found by the run id each step carries, never by a task_id
## prefix: plain jobs report.daily and report.weekly are not steps of
## run "report".
sje submit noop --id report.daily --wait >/dev/null
sje submit noop --id report.weekly --wait >/dev/null
sje --json workflow etl --id report --wait >"$T_DIR/report.json"
t_eq "a run lists its own steps only" \
    '["report.extract","report.transform","report.load"]' \
    "$(jq -c '[.steps[].task_id]' "$T_DIR/report.json")"
t_check "status of the run counts 3 steps" \
    grep -q "workflow run report: 3 steps, 3 finished" <<<"$(sje status report)"
t_eq "each step names its run" '["report","report","report"]' \
    "$(jq -c '[.steps[].workflow_id]' "$T_DIR/report.json")"
t_eq "a plain job names none" '' \
    "$(sje --json status report.daily | jq -r '.workflow_id // ""')"
t_eq "the same run id again answers with the same steps" \
    '["report.extract","report.transform","report.load"]' \
    "$(sje --json workflow etl --id report | jq -c '[.tasks[].task_id]')"
t_eq "and makes no new job" 3 "$(sje --json status report | jq '.steps | length')"

# A run id whose step ids are taken by other jobs is refused, and so is a
# run id that is a job's task_id; neither stores anything.
sje submit noop --id clash.transform --wait >/dev/null
set +e
sje workflow etl --id clash 2>"$T_DIR/clash.err"; rc=$?
sje workflow etl --id report.daily 2>"$T_DIR/clash2.err"; rc2=$?
set -e
t_check "a run id colliding with a job's task_id is refused" test "$rc" -ne 0
t_check "the refusal names the run id and the job" \
    grep -q "workflow run id 'clash' collides with job 'clash.transform'" "$T_DIR/clash.err"
t_check "no step of the refused run was stored" \
    sh -c "! '$SJE_BIN/sje-client' status clash.extract >/dev/null 2>&1"
t_check "a run id that is a task_id is refused" test "$rc2" -ne 0
t_check "and says so" grep -q "is the task_id of a job" "$T_DIR/clash2.err"

t_done
