#!/usr/bin/env bash
# rest_ops: the operator endpoints of the REST gateway answered by the
# scheduler, with a real server and worker: POST /retry/{id} (alone and
# with its UPSTREAM_FAILED descendants, parents first, its history kept),
# DELETE /jobs/{id}, GET /jobs/{id}/explain (only the keys that fit each
# reason), GET /functions, POST /functions/{name}/pause and /resume (a
# paused function starts nothing, and stays paused across a restart), and
# their 404 and 409 answers. rest_routes.sh has what the gateway refuses
# by itself.
. "$(dirname "$0")/lib.sh"

t_server_start server
t_worker_start wa 2

# req METHOD PATH [curl args...]: one request; sets CODE, BODY and HDRS.
req() {
	local m=$1 p=$2; shift 2
	CODE=$(curl -sS -X "$m" -D "$T_DIR/hdrs" -o "$T_DIR/body" \
	    -w '%{http_code}' "$@" "$HTTP_URL$p" 2>"$T_DIR/curl.err") || CODE=000
	BODY=$(cat "$T_DIR/body" 2>/dev/null || true)
	HDRS=$(tr -d '\r' <"$T_DIR/hdrs" 2>/dev/null || true)
}
jqb() { jq -r "$1" <<<"$BODY"; }
# is_error STATUS CODE [FIELD]: the last answer is that JSON error (its
# field as given, or any string).
is_error() {
	if [ "$CODE" = "$1" ] && [ "$(jqb .error.code)" = "$2" ] &&
	    { [ $# -lt 3 ] || [ "$(jqb .error.field)" = "$3" ]; } &&
	    [ "$(jqb '.error.field | type')" = string ] &&
	    [ -n "$(jqb .error.message)" ] &&
	    [ "$(jqb '.error | keys_unsorted | join(",")')" = code,message,field ]; then
		return 0
	fi
	echo "# got $CODE $(head -c 400 <<<"$BODY")"
	return 1
}
keys_are() { [ "$(jqb 'keys_unsorted | join(",")')" = "$1" ] || { echo "# keys: $(jqb 'keys_unsorted | join(",")')"; return 1; }; }
state_of() { curl -s "$HTTP_URL/status/$1" | jq -r .state; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }
submit() { curl -s --data "$1" "$HTTP_URL/submit" >/dev/null; }
fn_of() { curl -s "$HTTP_URL/functions" | jq -c --arg n "$1" '.functions[] | select(.name == $n)'; }
# settings: a function's JSON (stdin) without its job counts, which move.
settings() { jq -S -c 'del(.queued, .running, .scheduled, .pending)'; }

## POST /retry/{task_id}: a failed job runs again, its history kept.
submit '{"task_id":"f-1","function":"fail","retry":{"max_attempts":1}}'
t_until 20 state_is f-1 FAILED || t_fail "f-1 did not fail"
req POST /retry/f-1
t_eq "retrying a failed job is 200" 200 "$CODE"
t_check "with task_id, state and descendants" keys_are task_id,state,descendants
t_eq "naming the job" f-1 "$(jqb .task_id)"
t_check "which is ready again" grep -qxE 'QUEUED|RUNNING' <<<"$(jqb .state)"
t_eq "and no descendants" 0 "$(jqb '.descendants | length')"
t_until 20 state_is f-1 FAILED || t_fail "f-1 did not fail again"
t_eq "the job kept its first attempt" 2 "$(curl -s "$HTTP_URL/status/f-1" | jq '.attempts | length')"
req POST /retry/f-1 --data '{}'
t_eq "a body of {} is the same" 200 "$CODE"
t_until 20 state_is f-1 FAILED || t_fail "f-1 did not fail a third time"

## With its descendants: a cancelled parent that no worker serves, two
## generations of UPSTREAM_FAILED children.
submit '{"tasks":[{"task_id":"g-p","function":"gate"},{"task_id":"g-c1","function":"noop","depends_on":["g-p"]},{"task_id":"g-c2","function":"noop","depends_on":["g-c1"]}]}'
curl -s -X POST "$HTTP_URL/cancel/g-p" >/dev/null
t_until 20 state_is g-c2 UPSTREAM_FAILED || t_fail "g-c2 did not become UPSTREAM_FAILED"
req POST /retry/g-p --data '{"descendants": true}'
t_eq "retrying the parent with its descendants is 200" 200 "$CODE"
t_eq "the parent is queued" "g-p QUEUED" "$(jqb '"\(.task_id) \(.state)"')"
t_eq "its descendants run again, parents first" \
    '[{"task_id":"g-c1","state":"PENDING"},{"task_id":"g-c2","state":"PENDING"}]' \
    "$(jqb .descendants | jq -c .)"
t_check "without a \"created\" key" jq -e 'all(.descendants[]; has("created") | not)' <<<"$BODY"
t_eq "g-c2 is PENDING again" PENDING "$(state_of g-c2)"

## What retry refuses.
submit '{"task_id":"ok-1","function":"noop"}'
t_until 20 state_is ok-1 SUCCEEDED || t_fail "ok-1 did not succeed"
req POST /retry/ok-1
t_check "retrying a job that succeeded is 409" is_error 409 FAILED_PRECONDITION
req POST /retry/g-p
t_check "retrying a job that is queued is 409" is_error 409 FAILED_PRECONDITION
req POST /retry/nobody
t_check "retrying an unknown job is 404" is_error 404 NOT_FOUND task_id

## DELETE /jobs/{task_id}.
req DELETE /jobs/ok-1
t_eq "deleting a finished job is 200" 200 "$CODE"
t_eq "with {\"deleted\": 1}" '{"deleted":1}' "$(jqb . | jq -c .)"
req GET /status/ok-1
t_check "the job is gone" is_error 404 NOT_FOUND task_id
req DELETE /jobs/ok-1
t_check "deleting it again is 404" is_error 404 NOT_FOUND task_id
req DELETE /jobs/g-p
t_check "deleting an unfinished job is 409" is_error 409 FAILED_PRECONDITION
t_eq "and keeps it" QUEUED "$(state_of g-p)"

## GET /jobs/{task_id}/explain.
# reasons_clean: every reason has a code and a message, and no other key
# whose value is unset.
reasons_clean() {
	jq -e 'all(.reasons[];
	    (.code | type) == "string" and (.code | length) > 0 and
	    (.message | type) == "string" and
	    ([to_entries[] | select(.key != "code" and .key != "message") |
	      .value | select(. == null or . == 0 or . == "" or . == false or . == [] or . == {})] | length) == 0)' \
	    <<<"$BODY" >/dev/null
}
has_reason() { jq -e --arg c "$1" 'any(.reasons[]; .code == $c)' <<<"$BODY" >/dev/null; }
reason() { jq -c --arg c "$1" 'first(.reasons[] | select(.code == $c))' <<<"$BODY"; }
req GET /jobs/g-c1/explain
t_eq "explain is 200" 200 "$CODE"
t_check "with task_id, state and reasons" keys_are task_id,state,reasons
t_eq "of the job" "g-c1 PENDING" "$(jqb '"\(.task_id) \(.state)"')"
t_check "a child waits on its parents" has_reason WAITING_ON_PARENTS
t_eq "and names the unfinished one" '[{"task_id":"g-p","state":"QUEUED"}]' \
    "$(reason WAITING_ON_PARENTS | jq -c .parents)"
t_check "every reason shows only the keys that fit it" reasons_clean
req GET /jobs/g-p/explain
t_check "a job of a function no worker serves says so" has_reason NO_WORKER
t_check "with only the keys that fit" reasons_clean
submit '{"task_id":"later","function":"noop","delay_s":3600}'
req GET /jobs/later/explain
t_check "a delayed job is SCHEDULED" has_reason SCHEDULED
t_check "until its time" grep -qE '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"$' <<<"$(reason SCHEDULED | jq -c .until)"
t_check "with only the keys that fit" reasons_clean
submit '{"task_id":"run-1","function":"sleep","params":{"seconds":30}}'
t_until 20 state_is run-1 RUNNING || t_fail "run-1 did not start"
req GET /jobs/run-1/explain
t_check "a running job is LEASED" has_reason LEASED
t_eq "to its worker, in its first attempt" "wa 1" "$(reason LEASED | jq -r '"\(.worker) \(.attempt)"')"
t_check "with only the keys that fit" reasons_clean
curl -s -X POST "$HTTP_URL/cancel/run-1" >/dev/null
req GET /jobs/nobody/explain
t_check "explaining an unknown job is 404" is_error 404 NOT_FOUND task_id
req HEAD /jobs/g-p/explain -I
t_eq "HEAD works on explain" 200 "$CODE"

## GET /functions.
req GET /functions
t_eq "GET /functions is 200" 200 "$CODE"
t_check "with {\"functions\": [...]}" keys_are functions
t_check "by name" jq -e '[.functions[].name] == ([.functions[].name] | sort)' <<<"$BODY"
t_check "each with its jobs, settings and workers" jq -e 'all(.functions[]; . as $f |
    all(("name","queued","running","scheduled","pending","paused","concurrency","rate","workers"); . as $k | $f | has($k)))' <<<"$BODY"
t_eq "no limit is null" "null null" "$(jq -r '.functions[] | select(.name == "sleep") | "\(.concurrency) \(.rate)"' <<<"$BODY")"
t_check "the worker serving a function is listed" \
    jq -e '.functions[] | select(.name == "echo") | .workers | index("wa")' <<<"$BODY"
t_eq "queued jobs are counted" 1 "$(jq '.functions[] | select(.name == "gate") | .queued' <<<"$BODY")"

## POST /functions/{name}/pause and /resume.
req POST /functions/echo/pause
t_eq "pausing is 200" 200 "$CODE"
t_eq "and says paused" true "$(jqb .paused)"
t_eq "as GET /functions shows it" "$(fn_of echo | settings)" "$(jqb . | settings)"
submit '{"task_id":"e-1","function":"echo","params":1}'
t_eq "a paused function still takes submits" QUEUED "$(state_of e-1)"
sleep 1 # proves only that it did not start
t_eq "and starts nothing" QUEUED "$(state_of e-1)"
req GET /jobs/e-1/explain
t_check "explain says the function is paused" has_reason FUNCTION_PAUSED
req POST /functions/echo/pause --data '{}'
t_eq "pausing again (body {}) is 200" "200 true" "$CODE $(jqb .paused)"

## The pause survives a restart.
t_stop "$WORKER_PID"
t_stop "$SERVER_PID"
t_server_start server
t_worker_start wa 2
t_eq "after a restart the function is still paused" true "$(fn_of echo | jq -r .paused)"
t_eq "and its job still waits" QUEUED "$(state_of e-1)"
req POST /functions/echo/resume
t_eq "resuming is 200" "200 false" "$CODE $(jqb .paused)"
t_eq "as GET /functions shows it" "$(fn_of echo | settings)" "$(jqb . | settings)"
t_until 20 state_is e-1 SUCCEEDED || t_fail "e-1 did not run after resume"

t_stop "$WORKER_PID"
t_stop "$SERVER_PID"
t_check "the server stopped cleanly" grep -q 'stopped cleanly' "$T_DIR/server.log"
t_check "with no sanitizer report" t_no_sanitizer_report "$T_DIR/server.log"
t_done
