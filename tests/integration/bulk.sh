#!/usr/bin/env bash
# bulk: the operator's bulk and workflow-run features against a real
# server and worker: the filters of GET /jobs and `sje-client list`
# (label, worker, after/before); POST /jobs/retry, /jobs/delete and
# /jobs/cancel by filter (and the CLI's retry --all, purge, cancel --all):
# a bulk retry of failed jobs by function, a purge that leaves running
# and queued jobs alone, a bulk cancel by label, a filter that matches
# nothing and changes nothing, a body with no key and bad times refused,
# the bound of 10,000 jobs a call;
# workflow runs: GET /workflows/runs/{id}, its cancel, and `wait` and
# `cancel` on a run id; the list of runs (GET /workflows/runs); search by
# task_id prefix and a job's children (GET /jobs?task_id_prefix=, parent=).
. "$(dirname "$0")/lib.sh"

cat >"$T_DIR/sje.yaml" <<'YAML'
workflows:
  pipeline:
    - {name: first, function: echo}
    - {name: second, function: echo, after: [first]}
  slow:
    - {name: nap, function: sleep, params: {seconds: 60}}
    - {name: after_nap, function: echo, after: [nap]}
YAML
export SJE_CONFIG="$T_DIR/sje.yaml"
t_server_start server
t_worker_start wa 2

# req METHOD PATH [curl args...]: one request; sets CODE and BODY.
req() {
	local m=$1 p=$2; shift 2
	CODE=$(curl -sS -X "$m" -o "$T_DIR/body" -w '%{http_code}' "$@" \
	    "$HTTP_URL$p" 2>"$T_DIR/curl.err") || CODE=000
	BODY=$(cat "$T_DIR/body" 2>/dev/null || true)
}
jqb() { jq -r "$1" <<<"$BODY"; }
# is_error STATUS CODE FIELD: the last answer is that JSON error.
is_error() {
	if [ "$CODE" = "$1" ] && [ "$(jqb .error.code)" = "$2" ] &&
	    [ "$(jqb .error.field)" = "$3" ] && [ -n "$(jqb .error.message)" ]; then
		return 0
	fi
	echo "# got $CODE $(head -c 400 <<<"$BODY")"
	return 1
}
submit() { curl -sS --data "$1" "$HTTP_URL/submit" >/dev/null; }
state_of() { curl -s "$HTTP_URL/status/$1" | jq -r .state; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }
gone() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/status/$1")" = 404 ]; }
# ids QUERY: the task_ids GET /jobs?QUERY lists, space-separated.
ids() { curl -s "$HTTP_URL/jobs?$1" | jq -r '[.jobs[].task_id] | join(" ")'; }
total() { curl -s "$HTTP_URL/jobs?limit=1000" | jq '.jobs | length'; }

## Filters on the list: label, worker, after and before.
T0=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
submit '{"task_id":"etl-1","function":"echo","labels":{"team":"etl"}}'
submit '{"task_id":"etl-2","function":"noop","labels":{"team":"etl","tier":"1"}}'
submit '{"task_id":"web-1","function":"noop","labels":{"team":"web"}}'
t_until 20 state_is web-1 SUCCEEDED || t_fail "web-1 did not succeed"
t_until 20 state_is etl-2 SUCCEEDED || t_fail "etl-2 did not succeed"
t_until 20 state_is etl-1 SUCCEEDED || t_fail "etl-1 did not succeed"
submit '{"task_id":"lone","function":"gate","labels":{"team":"etl"}}'
T1=$(curl -s "$HTTP_URL/status/lone" | jq -r .created_at)
t_eq "a label filter lists the jobs with that label, newest first" \
    "lone etl-2 etl-1" "$(ids 'label=team=etl')"
t_eq "a label's = may be percent-encoded" "etl-2" "$(ids 'label=tier%3D1')"
t_eq "a label filter combines with state" "etl-2 etl-1" "$(ids 'label=team=etl&state=SUCCEEDED')"
t_eq "the worker filter lists what that worker ran last" \
    "web-1 etl-2 etl-1" "$(ids 'worker=wa')"
t_eq "a worker that ran nothing lists nothing" "" "$(ids 'worker=nobody')"
t_eq "after is inclusive: the jobs created at or after a job's own time" \
    "lone" "$(ids "after=$T1")"
t_eq "before is exclusive: the jobs created before it" \
    "web-1 etl-2 etl-1" "$(ids "before=$T1&after=$T0")"
t_eq "sje-client list takes --label, --worker, --after and --before" \
    "etl-2" "$(sje --json list --label team=etl --worker wa --after "$T0" --before "$T1" --function noop | jq -r '[.jobs[].task_id] | join(" ")')"
req GET '/jobs?after=yesterday'
t_check "a list with bad time text is 400 naming after" is_error 400 INVALID_ARGUMENT after
req GET '/jobs?before=2026-13-45T00:00:00Z'
t_check "a list with a bad before is 400 naming before" is_error 400 INVALID_ARGUMENT before
req GET '/jobs?label=team'
t_check "a label that is not k=v is 400 naming label" is_error 400 INVALID_ARGUMENT label
set +e
sje list --after yesterday >/dev/null 2>&1
rc=$?
set -e
t_eq "sje-client list --after with bad time text is a usage error" 2 "$rc"

## A bulk retry of failed jobs, by function.
for i in 1 2 3; do
	submit "{\"task_id\":\"f-$i\",\"function\":\"fail\",\"retry\":{\"max_attempts\":1}}"
done
for i in 1 2 3; do
	t_until 20 state_is "f-$i" FAILED || t_fail "f-$i did not fail"
done
req POST /jobs/retry --data '{"function":"fail"}'
t_eq "a bulk retry by function is 200" 200 "$CODE"
t_eq "it re-ran the three failed jobs" '{"matched":3,"more":false}' "$(jq -c . <<<"$BODY")"
attempts2() { [ "$(curl -s "$HTTP_URL/status/$1" | jq '.attempts | length')" = 2 ] && state_is "$1" FAILED; }
for i in 1 2 3; do
	t_until 20 attempts2 "f-$i" || t_fail "f-$i did not run a second attempt"
done
t_eq "each ran again, its first attempt kept" 2 "$(curl -s "$HTTP_URL/status/f-2" | jq '.attempts | length')"
t_eq "sje-client retry --all re-runs by filter and prints matched N" \
    "matched 3" "$(sje retry --all --function fail --state FAILED)"
for i in 1 2 3; do
	t_until 20 state_is "f-$i" FAILED || t_fail "f-$i did not fail a third time"
done
t_eq "a bulk retry does not touch jobs that succeeded" \
    '{"matched":0,"more":false}' "$(curl -s --data '{"function":"noop"}' "$HTTP_URL/jobs/retry" | jq -c .)"

## A purge leaves running and queued jobs alone.
submit '{"task_id":"p-ok","function":"noop","labels":{"batch":"p"}}'
submit '{"task_id":"p-run","function":"sleep","params":{"seconds":60},"labels":{"batch":"p"}}'
submit '{"task_id":"p-q","function":"gate","labels":{"batch":"p"}}'
t_until 20 state_is p-ok SUCCEEDED || t_fail "p-ok did not succeed"
t_until 20 state_is p-run RUNNING || t_fail "p-run did not start"
req POST /jobs/delete --data '{"label":"batch=p"}'
t_eq "a purge by label deletes only the finished job" '{"matched":1,"more":false}' "$(jq -c . <<<"$BODY")"
t_check "the finished job is gone" gone p-ok
t_check "the running job is kept, still running" state_is p-run RUNNING
t_check "the queued job is kept, still queued" state_is p-q QUEUED
t_eq "sje-client purge prints matched N (nothing left to purge)" \
    "matched 0" "$(sje purge --label batch=p)"
t_eq "sje-client purge --json prints the reply" '{"matched":1,"more":false}' \
    "$(sje --json purge --label team=web | jq -c .)"
t_check "and the job it purged is gone" gone web-1

## A filter that matches nothing changes nothing.
before=$(total)
req POST /jobs/delete --data '{"function":"nothing"}'
t_eq "a purge that matches nothing answers matched 0" '{"matched":0,"more":false}' "$(jq -c . <<<"$BODY")"
req POST /jobs/delete --data '{"state":"QUEUED"}'
t_eq "a purge of an unfinished state matches nothing" 0 "$(jqb .matched)"
t_eq "and deleted nothing" "$before" "$(total)"

## A bulk body with no key, or bad times, is refused.
for op in cancel retry delete; do
	req POST "/jobs/$op" --data '{}'
	t_check "POST /jobs/$op with {} is 400" is_error 400 INVALID_ARGUMENT ""
done
req POST /jobs/cancel
t_check "POST /jobs/cancel with no body is 400" is_error 400 INVALID_ARGUMENT ""
req POST /jobs/delete --data '{"state":null}'
t_check "a body whose only key is null is 400" is_error 400 INVALID_ARGUMENT ""
req POST /jobs/cancel --data '{"before":"yesterday"}'
t_check "bad time text is 400 naming before" is_error 400 INVALID_ARGUMENT before
req POST /jobs/retry --data '{"after":"2026-11-27 22:00"}'
t_check "bad time text is 400 naming after" is_error 400 INVALID_ARGUMENT after
req POST /jobs/delete --data '{"owner":"me"}'
t_check "an unknown key is 400 naming it" is_error 400 INVALID_ARGUMENT owner
t_eq "and nothing was deleted" "$before" "$(total)"
set +e
sje purge >/dev/null 2>&1
rc=$?
set -e
t_eq "sje-client purge without a filter is a usage error" 2 "$rc"

## A bulk cancel by label.
req POST /jobs/cancel --data '{"label":"batch=p"}'
t_eq "a bulk cancel by label is 200" 200 "$CODE"
t_eq "it cancelled the running and the queued job" 2 "$(jqb .matched)"
t_check "the queued job is cancelled at once" state_is p-q CANCELLED
t_until 20 state_is p-run CANCELLED || t_fail "p-run did not end CANCELLED"
t_check "the running one ends CANCELLED" state_is p-run CANCELLED
submit '{"task_id":"c-1","function":"gate","labels":{"batch":"c"}}'
submit '{"task_id":"c-2","function":"gate","labels":{"batch":"c"}}'
t_eq "sje-client cancel --all cancels by filter" "matched 2" "$(sje cancel --all --label batch=c)"
t_check "every job it selected is cancelled" state_is c-2 CANCELLED
t_eq "sje-client cancel --all --json prints the reply" '{"matched":0,"more":false}' \
    "$(sje --json cancel --all --label batch=c | jq -c .)"
set +e
sje cancel c-1 --label batch=c >/dev/null 2>&1
rc=$?
set -e
t_eq "cancel ID with a filter (no --all) is a usage error" 2 "$rc"

## One call acts on at most 10,000 jobs, and says when more may match.
jq -nc '{tasks: [range(10000) | {task_id: "m-\(.)", function: "gate", labels: {batch: "m"}}]}' >"$T_DIR/big.json"
curl -sS --data @"$T_DIR/big.json" "$HTTP_URL/submit" >/dev/null
submit '{"task_id":"m-last","function":"gate","labels":{"batch":"m"}}'
req POST /jobs/cancel --data '{"label":"batch=m"}'
t_eq "a bulk cancel of 10,001 jobs stops at 10,000 and says more" \
    '{"matched":10000,"more":true}' "$(jq -c . <<<"$BODY")"
req POST /jobs/cancel --data '{"label":"batch=m"}'
t_eq "the same call again does the rest" '{"matched":1,"more":false}' "$(jq -c . <<<"$BODY")"
set +e
sje purge --label batch=m >"$T_DIR/purge.out" 2>"$T_DIR/purge.err"
rc=$?
set -e
t_eq "sje-client purge stops at 10,000 too, and exits 0" "0 matched 10000" "$rc $(cat "$T_DIR/purge.out")"
t_check "saying on stderr to run it again" grep -qF "run it again for the rest" "$T_DIR/purge.err"
req POST /jobs/delete --data '{"label":"batch=m"}'
t_eq "POST /jobs/delete again deletes the rest" '{"matched":1,"more":false}' "$(jq -c . <<<"$BODY")"

## Workflow runs: status, wait and cancel of a whole run.
req POST /workflows/pipeline --data '{"workflow_id":"run-ok"}'
t_eq "a run of pipeline starts" 201 "$CODE"
set +e
out=$(sje wait run-ok --timeout 30)
rc=$?
set -e
t_eq "wait on a workflow run id exits 0 when every step succeeded" 0 "$rc"
t_check "and shows the run" grep -qF "workflow run run-ok: 2 steps, 2 finished, 2 succeeded (pipeline: SUCCEEDED)" <<<"$out"
req GET /workflows/runs/run-ok
t_eq "GET /workflows/runs/{id} is 200" 200 "$CODE"
t_eq "with workflow_id, workflow, state, steps, created_at and step counts" \
    "workflow_id,workflow,state,steps,created_at,step_count,steps_finished" "$(jqb 'keys_unsorted | join(",")')"
t_eq "both steps finished" "2/2" "$(jqb '"\(.steps_finished)/\(.step_count)"')"
t_eq "naming its workflow, its state derived from the steps'" "pipeline SUCCEEDED" "$(jqb '"\(.workflow) \(.state)"')"
t_eq "its steps in order, each a job as GET /status shows it" \
    '["run-ok.first","run-ok.second"]' "$(jqb '[.steps[].task_id]' | jq -c .)"
t_eq "a step carries its attempts" 1 "$(jqb '.steps[1].attempts | length')"
t_eq "sje-client --json wait prints the run" SUCCEEDED "$(sje --json wait run-ok | jq -r .state)"
req GET /workflows/runs/nosuch
t_check "an unknown run is 404 naming workflow_id" is_error 404 NOT_FOUND workflow_id
req POST /workflows/runs --data '{}'
t_check "POST /workflows/runs is still a run of a workflow called runs" is_error 404 NOT_FOUND name
req POST /workflows/runs/run-ok
t_eq "POST /workflows/runs/{id} (no /cancel) is 405" 405 "$CODE"

req POST /workflows/slow --data '{"workflow_id":"run-slow"}'
t_until 20 state_is run-slow.nap RUNNING || t_fail "run-slow.nap did not start"
run_state() { curl -s "$HTTP_URL/workflows/runs/$1" | jq -r .state; }
run_is() { [ "$(run_state "$1")" = "$2" ]; }
t_eq "a run with an unfinished step is RUNNING" RUNNING "$(run_state run-slow)"
set +e
sje wait run-slow --timeout 1 >/dev/null 2>"$T_DIR/wait.err"
rc=$?
set -e
t_eq "wait on a run that goes on past --timeout exits 1" 1 "$rc"
t_check "saying it is still RUNNING" grep -qF "workflow run run-slow is still RUNNING after 1 s" "$T_DIR/wait.err"
req POST /workflows/runs/run-slow/cancel
t_eq "POST /workflows/runs/{id}/cancel is 200" 200 "$CODE"
t_eq "it cancelled both unfinished steps" '{"matched":2,"more":false}' "$(jq -c . <<<"$BODY")"
t_check "the waiting step is cancelled at once" state_is run-slow.after_nap CANCELLED
t_until 20 run_is run-slow CANCELLED || t_fail "run-slow did not end CANCELLED"
t_check "the running step ends CANCELLED" state_is run-slow.nap CANCELLED
set +e
sje wait run-slow >/dev/null 2>&1
rc=$?
set -e
t_eq "wait on a cancelled run exits 1" 1 "$rc"
req POST /workflows/runs/nosuch/cancel
t_check "cancelling an unknown run is 404" is_error 404 NOT_FOUND workflow_id

req POST /workflows/slow --data '{"workflow_id":"run-slow2"}'
t_until 20 state_is run-slow2.nap RUNNING || t_fail "run-slow2.nap did not start"
t_eq "sje-client cancel on a run id cancels the run's unfinished steps" \
    "workflow run run-slow2: matched 2 (its unfinished steps are cancelled)" "$(sje cancel run-slow2)"
t_until 20 run_is run-slow2 CANCELLED || t_fail "run-slow2 did not end CANCELLED"
t_check "and the run ends CANCELLED" run_is run-slow2 CANCELLED
set +e
sje cancel nosuch >/dev/null 2>&1
rc=$?
set -e
t_eq "cancel of an id that is neither a job nor a run exits 4" 4 "$rc"
set +e
sje wait nosuch --timeout 2 >/dev/null 2>&1
rc=$?
set -e
t_eq "wait on such an id exits 4" 4 "$rc"
t_eq "the list filters by a run's id and state together" "run-slow2.after_nap run-slow2.nap" \
    "$(ids 'workflow_id=run-slow2&state=CANCELLED')"

## The list of runs, newest first, paged.
runs() { curl -s "$HTTP_URL/workflows/runs?$1" | jq -r '[.runs[].workflow_id] | join(" ")'; }
t_eq "GET /workflows/runs lists the runs newest first" \
    "run-slow2 run-slow run-ok" "$(runs '')"
req GET '/workflows/runs?limit=2'
t_eq "a page of runs carries their name, state and step counts" \
    "slow CANCELLED 2/2" "$(jqb '.runs[0] | "\(.workflow) \(.state) \(.steps_finished)/\(.step_count)"')"
t_eq "and a cursor to the next page" "run-ok" "$(runs "limit=2&cursor=$(jqb .next_cursor)")"
req GET '/workflows/runs?limit=201'
t_check "a runs limit past 200 is 400" is_error 400 INVALID_ARGUMENT limit

## Search by task_id prefix, and a job's children.
submit '{"task_id":"pre_1","function":"echo"}'
submit '{"task_id":"preX1","function":"echo"}'
submit '{"task_id":"pre_1.kid","function":"echo","depends_on":["pre_1"]}'
t_eq "task_id_prefix lists the ids that start with it, newest first" \
    "pre_1.kid pre_1" "$(ids 'task_id_prefix=pre_')"
t_eq "a prefix may be a whole id" "pre_1.kid" "$(ids 'task_id_prefix=pre_1.kid')"
t_eq "a prefix combines with the other filters" "preX1" \
    "$(ids 'task_id_prefix=pre&function=echo&limit=1&cursor='"$(curl -s "$HTTP_URL/jobs?task_id_prefix=pre&limit=1" | jq -r .next_cursor)")"
t_eq "parent lists a job's children" "pre_1.kid" "$(ids 'parent=pre_1')"
t_eq "sje-client list takes --task-id-prefix and --parent" "pre_1.kid" \
    "$(sje --json list --task-id-prefix pre --parent pre_1 | jq -r '[.jobs[].task_id] | join(" ")')"
req GET '/jobs?task_id_prefix=%C3'
t_check "a prefix that is not UTF-8 is 400 naming task_id_prefix" is_error 400 INVALID_ARGUMENT task_id_prefix
req GET "/jobs?task_id_prefix=$(printf 'a%.0s' $(seq 129))"
t_check "a prefix longer than a task_id is 400" is_error 400 INVALID_ARGUMENT task_id_prefix
req GET '/jobs?parent=no%20such'
t_check "a parent that is no task_id is 400" is_error 400 INVALID_ARGUMENT parent

t_done
