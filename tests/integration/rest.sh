#!/usr/bin/env bash
# rest: the REST gateway (API.md) with a real server and worker, driven by
# curl: every endpoint and status code, the seed's exact `curl --data`, a
# 500-task batch, refused bodies that leave the store unchanged, nng's HTTP
# traps (oversized and chunked bodies, Expect: 100-continue, unknown
# routes and methods), /healthz, /metrics, /events and a clean stop.
. "$(dirname "$0")/lib.sh"

cat >"$T_DIR/sje.yaml" <<'YAML'
workflows:
  etl:
    - {name: extract, function: echo}
    - {name: load, function: echo, after: [extract]}
YAML
export SJE_CONFIG="$T_DIR/sje.yaml"
t_server_start server
t_worker_start wa 4
t_check "the server wrote its HTTP address" test -n "$HTTP_URL"

# req METHOD PATH [curl args...]: one request; sets CODE, BODY and HDRS.
req() {
	local m=$1 p=$2; shift 2
	CODE=$(curl -sS -X "$m" -D "$T_DIR/hdrs" -o "$T_DIR/body" \
	    -w '%{http_code}' "$@" "$HTTP_URL$p" 2>"$T_DIR/curl.err") || CODE=000
	BODY=$(cat "$T_DIR/body" 2>/dev/null || true)
	HDRS=$(tr -d '\r' <"$T_DIR/hdrs" 2>/dev/null || true)
}
# jqb FILTER: FILTER applied to the last body.
jqb() { jq -r "$1" <<<"$BODY"; }
# is_error STATUS CODE FIELD: the last answer is that JSON error.
is_error() {
	if [ "$CODE" = "$1" ] && [ "$(jqb .error.code)" = "$2" ] &&
	    [ "$(jqb .error.field)" = "$3" ] &&
	    [ -n "$(jqb .error.message)" ] &&
	    grep -qi '^content-type: application/json' <<<"$HDRS"; then
		return 0
	fi
	echo "# got $CODE $(head -c 400 <<<"$BODY")"
	return 1
}
state_of() { curl -s "$HTTP_URL/status/$1" | jq -r .state; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }
# snapshot: every job and the event count: what a refused request must
# leave as it was.
snapshot() {
	curl -s "$HTTP_URL/jobs?limit=1000" | jq -S -c .
	curl -s "$HTTP_URL/metrics" | grep '^sje_events_total '
}

## Health.
req GET /healthz
t_eq "GET /healthz is 200" 200 "$CODE"
t_eq "with {\"status\": \"ok\"}" ok "$(jqb .status)"
curl -sS -I "$HTTP_URL/healthz" | tr -d '\r' >"$T_DIR/head"
t_check "HEAD /healthz has the headers and no body" \
    grep -q '^Content-Length: 15$' "$T_DIR/head"

## The seed's exact call: form-encoded content type, JSON body.
out=$(curl --data '{"task_id":"task_1", "function": "calculate_data", "params":{"input_data":[1,2,3]}}' "$HTTP_URL/submit" 2>/dev/null)
t_eq "the seed's curl --data submits task_1" task_1 "$(jq -r .task_id <<<"$out")"
t_check "and says its state" test -n "$(jq -r .state <<<"$out")"
t_until 20 state_is task_1 SUCCEEDED || t_fail "task_1 did not succeed"
req GET /status/task_1
t_eq "GET /status is 200" 200 "$CODE"
t_eq "the result is the seed's statistics" '{"count":3,"sum":6,"mean":2,"min":1,"max":3}' \
    "$(jqb '.result | {count, sum, mean, min, max}' | jq -c .)"
t_eq "params come back exactly" '{"input_data":[1,2,3]}' "$(jqb .params | jq -c .)"
has_key() { jq -e --arg k "$1" 'has($k)' <<<"$BODY" >/dev/null; }
for k in task_id function state params result error attempt max_attempts \
    priority depends_on worker progress cancel_requested created_at \
    started_at finished_at; do
	t_check "the job has \"$k\"" has_key "$k"
done
t_eq "GET /status is the job exactly as the CLI's --json shows it" \
    "$(sje --json status task_1 | jq -S -c .)" "$(jqb . | jq -S -c .)"
t_check "the access log has the submit" \
    grep -q 'http POST /submit 201 ' "$T_DIR/server.log"

## Idempotency and conflict.
req POST /submit --data '{"task_id":"task_1", "function": "calculate_data", "params":{"input_data":[1,2,3]}}'
t_eq "the same spec again is 200" 200 "$CODE"
t_eq "with the existing job's state" SUCCEEDED "$(jqb .state)"
req POST /submit --data '{"task_id":"task_1","function":"calculate_data","params":{"input_data":[4]}}'
t_check "another spec under the same id is 409" is_error 409 ALREADY_EXISTS task_id

## Params round-trip exactly, whatever the JSON value.
params='{"a":0.1,"b":100.0,"c":"caf\u00e9 \"q\"","d":[1,{"e":null}],"f":-9223372036854775808,"g":1e-7,"h":true}'
req POST /submit -H 'Content-Type: text/plain' --data "{\"task_id\":\"p-1\",\"function\":\"echo\",\"params\":$params}"
t_eq "a text/plain body is JSON all the same" 201 "$CODE"
t_until 20 state_is p-1 SUCCEEDED || t_fail "p-1 did not succeed"
want='"params":{"a":0.1,"b":100.0,"c":"café \"q\"","d":[1,{"e":null}],"f":-9223372036854775808,"g":1e-7,"h":true}'
t_check "params keep every value, reals and 64-bit integers exact" \
    grep -qF "$want" <(curl -s "$HTTP_URL/status/p-1")
t_check "and echo's result is the same value" \
    grep -qF '"result":{"a":0.1,"b":100.0' <(curl -s "$HTTP_URL/status/p-1")

## Expect: 100-continue (curl 7.88 sends it for bodies over 1 MiB, older
## ones over 1 KB; here it is asked for) is answered at once with the
## interim 100, not after curl's 1 s timeout.
big=$(printf 'x%.0s' $(seq 1 5000))
curl -sS -v -H 'Expect: 100-continue' \
    --data "{\"task_id\":\"e-1\",\"function\":\"noop\",\"params\":\"$big\"}" \
    -o "$T_DIR/body" -w '%{http_code} %{time_total}\n' "$HTTP_URL/submit" \
    >"$T_DIR/out" 2>"$T_DIR/trace"
t_check "curl sent Expect: 100-continue" grep -qi '^> Expect: 100-continue' "$T_DIR/trace"
t_check "and got the interim 100" grep -q '^< HTTP/1.1 100 Continue' "$T_DIR/trace"
read -r code secs <"$T_DIR/out"
t_eq "then 201" 201 "$code"
t_check "without waiting a second ($secs s)" awk -v s="$secs" 'BEGIN { exit !(s < 0.9) }'

## A 500-task batch, atomically.
body=$(for i in $(seq 1 500); do printf '{"task_id":"b-%03d","function":"noop"}\n' "$i"; done | jq -s -c '{tasks: .}')
printf '%s' "$body" >"$T_DIR/batch.json"
req POST /submit --data-binary "@$T_DIR/batch.json"
t_eq "a 500-task batch is 201" 201 "$CODE"
t_eq "with 500 results in order" "500 b-001 b-500" \
    "$(jqb '"\(.tasks | length) \(.tasks[0].task_id) \(.tasks[499].task_id)"')"
each_state() { jq -e 'all(.tasks[]; .state != null and (has("created") | not))' <<<"$BODY" >/dev/null; }
t_check "each with a state" each_state
batch_done() {
	[ "$(curl -s "$HTTP_URL/jobs?function=noop&state=SUCCEEDED&limit=1000" |
	    jq '[.jobs[] | select(.task_id | startswith("b-"))] | length')" = 500 ]
}
t_until 60 batch_done || t_fail "the batch did not finish"
req POST /submit --data-binary "@$T_DIR/batch.json"
t_eq "the same batch again is 200" 200 "$CODE"
t_eq "in the {\"tasks\": [...]} shape" 500 "$(jqb '.tasks | length')"

## Paging through /jobs.
seen=0; cursor=""; pages=0
while :; do
	req GET "/jobs?function=noop&limit=200&cursor=$cursor"
	[ "$CODE" = 200 ] || t_fail "GET /jobs page: $CODE"
	seen=$((seen + $(jqb '[.jobs[] | select(.task_id | startswith("b-"))] | length')))
	pages=$((pages + 1))
	cursor=$(jqb .next_cursor)
	[ -n "$cursor" ] || break
	[ "$pages" -lt 10 ] || t_fail "paging does not end"
done
t_eq "paging with limit and cursor sees the batch once" 500 "$seen"
req GET "/jobs?state=SUCCEEDED&function=calculate_data"
t_eq "filters by state and function" task_1 "$(jqb '.jobs[0].task_id')"
req GET "/jobs?state=&function=&limit=&cursor="
t_eq "empty query values mean no filter" 200 "$CODE"
req GET "/jobs?state=queued&limit=2"
t_eq "a state name is case-insensitive" 200 "$CODE"
req GET "/jobs?bogus=1"
t_check "an unknown query parameter is 400 naming it" is_error 400 INVALID_ARGUMENT bogus
req GET "/jobs?state=NOPE"
t_check "an unknown state is 400" is_error 400 INVALID_ARGUMENT state
req GET "/jobs?limit=ten"
t_check "a limit that is not a number is 400" is_error 400 INVALID_ARGUMENT limit
req GET "/jobs?limit=1&limit=2"
t_check "a parameter given twice is 400" is_error 400 INVALID_ARGUMENT limit
req GET "/jobs?limit=1001"
t_check "a limit past 1000 is 400, not clamped" is_error 400 INVALID_ARGUMENT limit
req GET "/events?limit=10001"
t_check "an events limit past 10000 is 400" is_error 400 INVALID_ARGUMENT limit
req GET "/jobs?state=SUCCEEDED&function=calculate_data"
t_eq "/jobs shows the attempts of a job that ran" 1 "$(jqb '.jobs[0].attempts | length')"
t_eq "as /status does" "$(curl -s "$HTTP_URL/status/task_1" | jq -c .attempts)" \
    "$(jq -c '.jobs[0].attempts' <<<"$BODY")"
# The last page carries no cursor: 4 jobs of a function nobody serves,
# two pages of 2.
for i in 1 2 3 4; do
	curl -s --data "{\"task_id\":\"pg-$i\",\"function\":\"page_fn\"}" \
	    "$HTTP_URL/submit" >/dev/null
done
req GET "/jobs?function=page_fn&limit=2"
t_eq "a first page of 2 of 4" "pg-4 pg-3" "$(jqb '[.jobs[].task_id] | join(" ")')"
cursor=$(jqb .next_cursor)
t_check "has a cursor" test -n "$cursor"
req GET "/jobs?function=page_fn&limit=2&cursor=$cursor"
t_eq "the last page holds the rest" "pg-2 pg-1" "$(jqb '[.jobs[].task_id] | join(" ")')"
t_eq "and no cursor" "" "$(jqb .next_cursor)"
sje list --function page_fn --limit 4 >/dev/null 2>"$T_DIR/list.err"
t_check "the CLI's list offers no more after the last page" \
    sh -c "! grep -q 'more:' '$T_DIR/list.err'"
sje list --function page_fn --limit 3 >/dev/null 2>"$T_DIR/list.err"
t_check "and offers more before it" grep -q 'more: add --cursor' "$T_DIR/list.err"

## Bad bodies: 400 with the field, and nothing changes in the store.
before=$(snapshot)
bad() { # bad DESCRIPTION STATUS CODE FIELD BODY
	printf '%s' "$5" >"$T_DIR/bad.json"
	req POST /submit --data-binary "@$T_DIR/bad.json"
	t_check "$1: $2 $4" is_error "$2" "$3" "$4"
}
bad "truncated JSON" 400 INVALID_ARGUMENT params \
    '{"task_id":"x-1","function":"noop","params":{"a":[1,2'
bad "truncated JSON" 400 INVALID_ARGUMENT "" '{"task_id":"x-1"'
bad "not JSON at all" 400 INVALID_ARGUMENT "" 'task_id=x-1&function=noop'
bad "a JSON array" 400 INVALID_ARGUMENT "" '[{"function":"noop"}]'
bad "an empty body" 400 INVALID_ARGUMENT "" ''
bad "a wrong type" 400 INVALID_ARGUMENT priority '{"task_id":"x-1","function":"noop","priority":"high"}'
bad "a wrong nested type" 400 INVALID_ARGUMENT retry.max_attempts \
    '{"task_id":"x-1","function":"noop","retry":{"max_attempts":"3"}}'
bad "a number out of range" 400 INVALID_ARGUMENT timeout_s '{"task_id":"x-1","function":"noop","timeout_s":-5}'
bad "a missing function" 400 INVALID_ARGUMENT function '{"task_id":"x-1","params":{}}'
bad "an unknown field" 400 INVALID_ARGUMENT colour '{"task_id":"x-1","function":"noop","colour":"red"}'
bad "a duplicate key" 400 INVALID_ARGUMENT function '{"task_id":"x-1","function":"noop","function":"echo"}'
bad "invalid UTF-8" 400 INVALID_ARGUMENT task_id "$(printf '{"task_id":"x-\xff","function":"noop"}')"
bad "a bad task_id" 400 INVALID_ARGUMENT task_id '{"task_id":"x 1","function":"noop"}'
bad "params nested too deep" 400 INVALID_ARGUMENT params \
    "{\"function\":\"noop\",\"params\":$(printf '[%.0s' $(seq 70))$(printf ']%.0s' $(seq 70))}"
s200k=$(head -c 204800 /dev/zero | tr '\0' 'a')
bad "a 200 KB task_id" 400 INVALID_ARGUMENT task_id "{\"task_id\":\"$s200k\",\"function\":\"noop\"}"
bad "a 200 KB label" 400 INVALID_ARGUMENT labels.team "{\"function\":\"noop\",\"labels\":{\"team\":\"$s200k\"}}"
bad "a batch with a wrong type" 400 INVALID_ARGUMENT "tasks[1].function" \
    '{"tasks":[{"task_id":"x-1","function":"noop"},{"task_id":"x-2","function":7}]}'
bad "a batch broken inside" 400 INVALID_ARGUMENT "tasks[1].params" \
    '{"tasks":[{"task_id":"x-1","function":"noop"},{"task_id":"x-2","function":"noop","params":[1,}]}'
bad "a batch with a missing function" 400 INVALID_ARGUMENT "tasks[1].function" \
    '{"tasks":[{"task_id":"x-1","function":"noop"},{"task_id":"x-2"}]}'
bad "a batch with one conflicting id" 409 ALREADY_EXISTS "tasks[1].task_id" \
    '{"tasks":[{"task_id":"x-1","function":"noop"},{"task_id":"task_1","function":"noop"}]}'
bad "a batch with an id twice" 400 INVALID_ARGUMENT "tasks[1].task_id" \
    '{"tasks":[{"task_id":"x-1","function":"noop"},{"task_id":"x-1","function":"noop"}]}'
bad "a batch of one with a conflicting id" 409 ALREADY_EXISTS "tasks[0].task_id" \
    '{"tasks":[{"task_id":"task_1","function":"noop"}]}'
bad "a conflicting id in a single spec" 409 ALREADY_EXISTS task_id \
    '{"task_id":"task_1","function":"noop"}'
bad "an empty batch" 400 INVALID_ARGUMENT tasks '{"tasks":[]}'
bad "a batch with more" 400 INVALID_ARGUMENT extra '{"tasks":[{"function":"noop"}],"extra":1}'
# Dependencies: an unknown parent and a cycle are refused (whether or not
# this server runs dependencies yet, the answer is 400 on depends_on).
req POST /submit --data '{"task_id":"x-1","function":"noop","depends_on":["nobody"]}'
t_check "an unknown parent is 400" is_error 400 INVALID_ARGUMENT "$(jqb .error.field)"
t_check "naming depends_on" grep -q 'depends_on' <<<"$(jqb .error.field)"
req POST /submit --data '{"tasks":[{"task_id":"x-1","function":"noop","depends_on":["x-2"]},{"task_id":"x-2","function":"noop","depends_on":["x-1"]}]}'
t_check "a cycle is 400" is_error 400 INVALID_ARGUMENT "$(jqb .error.field)"
t_check "naming a task's depends_on" grep -q '^tasks\[[01]\]\.depends_on' <<<"$(jqb .error.field)"
# Past the limits: too many jobs (429), too large a body (413), with and
# without Expect: 100-continue; the connection closes cleanly after it.
many=$(printf '{"function":"noop"},%.0s' $(seq 1 10000))
printf '{"tasks":[%s{"function":"noop"}]}' "$many" >"$T_DIR/many.json"
req POST /submit --data-binary "@$T_DIR/many.json"
t_check "10001 jobs in one submit is 429" is_error 429 RESOURCE_EXHAUSTED tasks
head -c 1100000 /dev/zero | tr '\0' 'a' | sed 's/^/{"function":"noop","params":"/; s/$/"}/' >"$T_DIR/huge.json"
req POST /submit --data-binary "@$T_DIR/huge.json"
t_check "a body over http.max_body_bytes is 413 in JSON" is_error 413 RESOURCE_EXHAUSTED ""
t_check "and the connection is closed" grep -qi '^connection: close' <<<"$HDRS"
req POST /submit -H 'Expect:' --data-binary "@$T_DIR/huge.json"
t_check "also when the client sends it without waiting" is_error 413 RESOURCE_EXHAUSTED ""
req POST /submit -H 'Transfer-Encoding: chunked' --data '{"task_id":"x-1","function":"noop"}'
t_check "a chunked body is refused (411, JSON)" is_error 411 INVALID_ARGUMENT ""
t_check "and the connection is closed" grep -qi '^connection: close' <<<"$HDRS"
req POST /submit -H 'Expect: something-else' --data '{"task_id":"x-1","function":"noop"}'
t_check "an unknown expectation is 417" is_error 417 INVALID_ARGUMENT ""
after=$(snapshot)
t_eq "no refused request changed the store" "$before" "$after"
req GET /status/x-1
t_check "x-1 does not exist" is_error 404 NOT_FOUND task_id

## Status and paths.
req GET /status/nobody
t_check "GET /status of an unknown id is 404" is_error 404 NOT_FOUND task_id
req POST /submit --data '{"task_id":"a.b:c-d_e","function":"noop"}'
req GET /status/a%2Eb%3Ac-d_e
t_eq "path ids are percent-decoded" "200 a.b:c-d_e" "$CODE $(jqb .task_id)"
req GET /status/b-001?pretty=1
t_check "/status takes no query" is_error 400 INVALID_ARGUMENT pretty
req GET /status/%zz
t_check "a bad percent-escape is 400" is_error 400 INVALID_ARGUMENT task_id
req GET /status/a%2Fb
t_check "an id that is not one is 400" is_error 400 INVALID_ARGUMENT task_id
req GET "/status/$(printf 'a%.0s' $(seq 3000))"
t_eq "an overlong request target is 414" 414 "$CODE"

## Unknown routes and wrong methods: JSON, never nng's HTML.
req GET /nope
t_check "an unknown path is 404 JSON" is_error 404 NOT_FOUND ""
req GET /status/a/b
t_check "a path with one segment too many is 404" is_error 404 NOT_FOUND ""
req DELETE /submit
t_check "a wrong method is 405 JSON" is_error 405 METHOD_NOT_ALLOWED ""
t_check "with Allow: POST" grep -qi '^allow: POST$' <<<"$HDRS"
req POST /status/task_1
t_check "POST on a GET route is 405" is_error 405 METHOD_NOT_ALLOWED ""
t_check "with Allow: GET, HEAD" grep -qi '^allow: GET, HEAD$' <<<"$HDRS"
req GET /submit
t_check "GET /submit is 405" is_error 405 METHOD_NOT_ALLOWED ""
req PUT /nope --data x
t_check "an unknown path with a body is 404 JSON" is_error 404 NOT_FOUND ""

## Cancel: before it starts (200), while it runs (202), after (409), unknown (404).
req POST /submit --data '{"task_id":"c-later","function":"noop","delay_s":3600}'
t_eq "a delayed job is SCHEDULED" SCHEDULED "$(jqb .state)"
req POST /cancel/c-later
t_eq "cancelling a job that has not started is 200" 200 "$CODE"
t_eq "with {\"state\": \"CANCELLED\"}" '{"state":"CANCELLED"}' "$(jqb . | jq -c .)"
req POST /submit --data '{"task_id":"c-run","function":"sleep","params":{"seconds":30}}'
t_until 20 state_is c-run RUNNING || t_fail "c-run did not start"
req POST /cancel/c-run
t_eq "cancelling a running job is 202" 202 "$CODE"
t_eq "with RUNNING and cancel_requested" '{"state":"RUNNING","cancel_requested":true}' "$(jqb . | jq -c .)"
t_until 20 state_is c-run CANCELLED || t_fail "c-run did not end CANCELLED"
req POST /cancel/c-run
t_check "cancelling a finished job is 409" is_error 409 FAILED_PRECONDITION task_id
req POST /cancel/nobody
t_check "cancelling an unknown job is 404" is_error 404 NOT_FOUND task_id

## Workers.
req GET /workers
t_eq "GET /workers lists the worker" 4 "$(jqb '.workers[] | select(.name == "wa") | .slots')"
t_check "with its functions, busy slots, labels and last_seen" jq -e \
    '.workers[] | select(.name == "wa") | (.functions | index("calculate_data")) and has("busy") and has("labels") and (.last_seen | test("Z$"))' <<<"$BODY"

## Workflows.
req POST /workflows/etl --data '{"params":{"day":"2026-11-27"}}'
t_eq "POST /workflows/{name} is 201" 201 "$CODE"
wf=$(jqb .workflow_id)
t_check "with a workflow_id" test -n "$wf"
t_eq "and one task per step, in order" "$wf.extract $wf.load" "$(jqb '[.tasks[].task_id] | join(" ")')"
t_until 30 state_is "$wf.load" SUCCEEDED || t_fail "the workflow did not finish"
req POST /workflows/etl
t_eq "the body is optional" 201 "$CODE"
req POST /workflows/nope
t_check "an unknown workflow is 404" is_error 404 NOT_FOUND name
req POST /workflows/etl --data '{"name":"other"}'
t_check "the name comes from the path only" is_error 400 INVALID_ARGUMENT name
req POST /workflows/etl --data '{"params":{"a":1},"bogus":2}'
t_check "an unknown field is 400" is_error 400 INVALID_ARGUMENT bogus

## Events: after a sequence number, and held until one arrives.
req GET "/events?after=0&limit=5"
t_eq "GET /events is 200" 200 "$CODE"
t_check "events carry seq, task_id, state and at" jq -e \
    '(.events | length) == 5 and all(.events[]; has("seq") and has("task_id") and has("state") and has("at")) and .next == .events[4].seq' <<<"$BODY"
first=$(jqb '.events[0].seq')
req GET "/events?after=$first&limit=1"
t_check "after=SEQ gives the events after it" jq -e --argjson s "$first" '.events[0].seq > $s' <<<"$BODY"
next=$(curl -s "$HTTP_URL/metrics" | sed -n 's/^sje_events_total //p')
curl -s "$HTTP_URL/events?after=$next&wait_s=20" >"$T_DIR/lp.json" &
lp=$!
T_PIDS+=("$lp")
req POST /submit --data '{"task_id":"ev-1","function":"noop"}'
t_check "a held /events returns when an event arrives" t_wait_exit "$lp" 10
t_check "with that event" jq -e --argjson s "$next" \
    '.events[0].task_id == "ev-1" and .events[0].seq == $s + 1 and .next >= $s + 1' "$T_DIR/lp.json"
t0=$SECONDS
req GET "/events?after=$((next + 1000000))&wait_s=1"
t_eq "an /events with nothing to say waits wait_s, then answers" "200 0" "$CODE $(jqb '.events | length')"
req GET "/events?wait_s=9999"
t_check "wait_s is bounded" is_error 400 INVALID_ARGUMENT wait_s
req GET "/events?after=-1"
t_check "after must be a sequence number" is_error 400 INVALID_ARGUMENT after

## Metrics: Prometheus text.
req GET /metrics
t_eq "GET /metrics is 200" 200 "$CODE"
t_check "as text/plain; version=0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' <<<"$HDRS"
for fam in "sje_jobs gauge" "sje_jobs_submitted_total counter" \
    "sje_jobs_succeeded_total counter" "sje_jobs_failed_total counter" \
    "sje_jobs_cancelled_total counter" "sje_jobs_retried_total counter" \
    "sje_workers gauge" "sje_worker_slots gauge" \
    "sje_job_wait_seconds histogram" "sje_job_run_seconds histogram"; do
	t_check "has the family $fam" grep -q "^# TYPE $fam\$" <<<"$BODY"
done
t_check "every sample line parses" awk '
	/^#/ || /^$/ { next }
	!/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? ([-+]?[0-9.eE+-]+|NaN|[-+]Inf)$/ { bad = 1; print "bad: " $0 }
	END { exit bad }' <<<"$BODY"
t_check "counts submits per function" grep -qE '^sje_jobs_submitted_total\{function="noop"\} [0-9]+$' <<<"$BODY"
t_check "counts queued jobs per function" grep -qE '^sje_jobs\{state="QUEUED",function="noop"\} [0-9]+$' <<<"$BODY"
t_eq "counts the worker" "sje_workers 1" "$(grep '^sje_workers ' <<<"$BODY")"
t_eq "and its slots" "sje_worker_slots 4" "$(grep '^sje_worker_slots ' <<<"$BODY")"
t_check "has run-time histograms ending at +Inf" grep -qE '^sje_job_run_seconds_bucket\{function="calculate_data",le="\+Inf"\} [1-9]' <<<"$BODY"
t_check "with _sum and _count" grep -qE '^sje_job_run_seconds_count\{function="calculate_data"\} [1-9]' <<<"$BODY"

## The log: one line per request, never a body or a credential.
req GET /healthz -H 'Authorization: Bearer sekrit-token-123'
t_check "access lines have method, path, status and duration" \
    grep -qE 'http GET /healthz 200 [0-9]+ ms' "$T_DIR/server.log"
t_check "no credential in the log" bash -c "! grep -q sekrit '$T_DIR/server.log'"
t_check "no body in the log" bash -c "! grep -q input_data '$T_DIR/server.log'"

## The HTTP port in use: a second server refuses to start.
set +e
SJE_SERVER_DATA_DIR="$T_DIR/second" SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN="${HTTP_URL#http://}" \
    "$SJE_BIN/sje-server" 2>"$T_DIR/err"; rc=$?
set -e
t_check "a second server on the used HTTP port exits non-zero" test "$rc" -ne 0
t_check "and says the address is in use" grep -q 'HTTP.*address in use' "$T_DIR/err"

## Stopping: a held request is answered 503, and the server stops cleanly.
next=$(curl -s "$HTTP_URL/metrics" | sed -n 's/^sje_events_total //p')
curl -sS --trace-ascii "$T_DIR/lp.trace" -o "$T_DIR/lp.json" -w '%{http_code}' \
    "$HTTP_URL/events?after=$((next + 1000))&wait_s=30" >"$T_DIR/lp.code" 2>/dev/null &
lp=$!
T_PIDS+=("$lp")
t_until 10 grep -q '=> Send header' "$T_DIR/lp.trace" || t_fail "the long poll was not sent"
t_stop "$WORKER_PID"
t_stop "$SERVER_PID"
t_check "the held request was answered" t_wait_exit "$lp" 10
t_eq "with 503 UNAVAILABLE" "503 UNAVAILABLE" "$(cat "$T_DIR/lp.code") $(jq -r .error.code "$T_DIR/lp.json")"
t_check "the server stopped cleanly" grep -q 'stopped cleanly' "$T_DIR/server.log"
t_check "with no sanitizer report (ASan builds)" \
    bash -c "! grep -qE 'Sanitizer|runtime error' '$T_DIR/server.log'"

## monitoring.metrics: false turns GET /metrics off.
unset RPC_URL EVENTS_URL HTTP_URL
t_server_start quiet SJE_MONITORING_METRICS=false
req GET /metrics
t_check "with monitoring.metrics false, GET /metrics is 404" is_error 404 NOT_FOUND ""
req GET /healthz
t_eq "and the rest is served" 200 "$CODE"
t_stop "$SERVER_PID"

t_done
