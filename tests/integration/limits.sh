#!/usr/bin/env bash
# limits: a function's concurrency and rate limits and the routing of jobs
# by worker labels, with a real server and real workers, measured from
# the events the server keeps (GET /events, in seq order):
#   - a concurrency limit from config holds across three workers with
#     slots to spare: never more running at once, and that many at times;
#   - a rate limit set at run time (PUT /functions/{name}/limits) spreads
#     the starts of a batch over seconds, and removing it (`sje-client
#     limit --rate none`) lets the next batch start at once;
#   - jobs that require labels (the job's `requires`, `submit --requires`,
#     or the function's in config) run only on workers that have them;
#     one no worker can take stays QUEUED and explain says why;
#   - bad limits are refused, naming the field, and change nothing; a bad
#     rate in config stops the server naming file, line and key;
#   - limits set at run time survive a restart of the server.
. "$(dirname "$0")/lib.sh"

# req METHOD PATH [curl args...]: one request; sets CODE, BODY and HDRS.
req() {
	local m=$1 p=$2; shift 2
	CODE=$(curl -sS -X "$m" -D "$T_DIR/hdrs" -o "$T_DIR/body" \
	    -w '%{http_code}' "$@" "$HTTP_URL$p" 2>"$T_DIR/curl.err") || CODE=000
	BODY=$(cat "$T_DIR/body" 2>/dev/null || true)
	HDRS=$(tr -d '\r' <"$T_DIR/hdrs" 2>/dev/null || true)
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
allow_is() { grep -qx "Allow: $1" <<<"$HDRS" || { echo "# headers: $HDRS"; return 1; }; }
# sje_rc ARGS...: the CLI, its stdout in $T_DIR/out and stderr in
# $T_DIR/err; RC is its exit code.
sje_rc() {
	RC=0
	sje "$@" >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
}
fn_of() { curl -s "$HTTP_URL/functions" | jq -c --arg n "$1" '.functions[] | select(.name == $n)'; }
# limits_of NAME: what an operator sets of a function (no counts, no
# workers, which come and go).
limits_of() { fn_of "$1" | jq -c '{name, paused, concurrency, rate}'; }
# all_in STATE ID...: every job named is in STATE.
all_in() {
	local st=$1 id; shift
	for id in "$@"; do
		t_state_is "$id" "$st" || return 1
	done
}
# explains ID CODE: explain of job ID gives a reason CODE.
explains() {
	curl -s "$HTTP_URL/jobs/$1/explain" |
	    jq -e --arg c "$2" 'any(.reasons[]; .code == $c)' >/dev/null
}
# event_mark: the seq of the newest event now.
event_mark() { curl -s "$HTTP_URL/events?from_now=true&wait_s=0" | jq -r .next; }
# events_since SEQ FUNCTION: the events after SEQ of FUNCTION, in seq
# order, as one JSON array.
events_since() {
	curl -s "$HTTP_URL/events?after=$1&limit=10000" |
	    jq -c --arg f "$2" '[.events[] | select(.function == $f)] | sort_by(.seq)'
}
# batch PREFIX N FUNCTION PARAMS [SPEC]: the body of a submit of N jobs
# PREFIX-0 .. PREFIX-(N-1), each with PARAMS and the fields of SPEC.
batch() {
	local spec='{}'
	[ $# -lt 5 ] || spec=$5
	jq -nc --arg p "$1" --argjson n "$2" --arg f "$3" --argjson params "$4" \
	    --argjson spec "$spec" \
	    '{tasks: [range($n) | {task_id: "\($p)-\(.)", function: $f,
	        params: $params} + $spec]}'
}
# ids PREFIX N: PREFIX-0 .. PREFIX-(N-1).
ids() { local i; for ((i = 0; i < $2; i++)); do echo "$1-$i"; done; }
# The jq that reads an event's `at` (RFC 3339, ms, UTC) as epoch ms.
AT_MS='(.at[0:19] + "Z" | fromdate) * 1000 + (.at[20:23] | tonumber)'

cat >"$T_DIR/server.yaml" <<'YAML'
tasks:
  functions:
    sleep:
      concurrency: 2
    calculate_data:
      requires: {gpu: "true"}
YAML
t_server_start server SJE_CONFIG="$T_DIR/server.yaml"
t_worker_start w1 3
W1=$WORKER_PID
t_worker_start w2 3
W2=$WORKER_PID
t_worker_start w3 3
W3=$WORKER_PID

## A concurrency limit of 2 from config, across three workers of 3 slots.
t_eq "GET /functions shows the concurrency config sets" \
    '{"name":"sleep","paused":false,"concurrency":2,"rate":null}' \
    "$(limits_of sleep)"
mark=$(event_mark)
req POST /submit --data "$(batch c 10 sleep '{"seconds":0.8}')"
t_eq "ten sleep jobs are submitted" 201 "$CODE"
t_check "a job held back by the limit explains CONCURRENCY_LIMIT" \
    t_until 10 explains c-9 CONCURRENCY_LIMIT
mapfile -t C_IDS < <(ids c 10)
t_check "every job of the batch succeeds" t_until 60 all_in SUCCEEDED "${C_IDS[@]}"
ev=$(events_since "$mark" sleep)
# The most jobs running at once, replaying RUNNING (a start, or a
# progress report) and every other state (an end) in seq order.
most=$(jq 'reduce .[] as $e ({run: {}, most: 0};
    (if $e.state == "RUNNING" then .run[$e.task_id] = true
     else .run |= del(.[$e.task_id]) end) |
    .most = ([.most, (.run | length)] | max)) | .most' <<<"$ev")
t_check "the events show each job start and end" \
    jq -e '[.[] | select(.state == "SUCCEEDED")] | length == 10' <<<"$ev"
t_check "never more than 2 sleep jobs ran at once (most: $most)" test "$most" -le 2
t_eq "and 2 did run at once: the limit held them, not a lack of slots" 2 "$most"
t_check "the jobs ran on more than one worker" \
    test "$(for id in "${C_IDS[@]}"; do sje --json status "$id" | jq -r .worker; done |
        sort -u | wc -l)" -ge 2

## A rate limit of 4/s set at run time: starts are spread.
req PUT /functions/noop/limits --data '{"rate":"4/s"}'
t_eq "PUT /functions/noop/limits is 200" 200 "$CODE"
t_eq "answering the function with the rate set" '"4/s" null' \
    "$(jqb '.rate | tojson') $(jqb .concurrency)"
t_eq "as GET /functions shows it" "$(limits_of noop)" \
    "$(jqb '{name, paused, concurrency, rate}' | jq -c .)"
t_check "with every key GET /functions has" \
    test "$(fn_of noop | jq -c 'keys')" = "$(jqb 'keys' | jq -c .)"
mark=$(event_mark)
req POST /submit --data "$(batch r 16 noop null)"
t_eq "sixteen quick jobs are submitted at once" 201 "$CODE"
t_check "a job held back by the rate explains RATE_LIMIT" \
    t_until 10 explains r-15 RATE_LIMIT
mapfile -t R_IDS < <(ids r 16)
t_check "every rate-limited job succeeds" t_until 60 all_in SUCCEEDED "${R_IDS[@]}"
# Each job's first RUNNING event is its start, in epoch ms, sorted.
starts=$(events_since "$mark" noop | jq -c "[.[] | select(.state == \"RUNNING\")] |
    group_by(.task_id) | map(min_by(.seq) | $AT_MS) | sort")
t_eq "each job started once" 16 "$(jq length <<<"$starts")"
span=$(jq '.[-1] - .[0]' <<<"$starts")
# 4/s with a burst of 1 (what 100 ms brings, at least one): the first
# starts at once, the other 15 one every 250 ms, so 16 - 1 - 1 intervals
# at the very least.
t_check "the starts are spread over at least (16 - 1 - 1) / 4 s ($span ms)" \
    test "$span" -ge 3500
most=$(jq '. as $s | [range(length) as $i |
    [$s[] | select(. >= $s[$i] and . < $s[$i] + 1000)] | length] | max' <<<"$starts")
t_check "no 1 s window holds more than 4 starts and the burst of 1 (most: $most)" \
    test "$most" -le 5

## sje-client limit: --rate none lifts the limit; the next batch starts
## at once.
sje_rc limit noop --rate none
t_eq "limit --rate none exits 0" 0 "$RC"
t_eq "limit says what is in force" "noop: rate none" "$(head -n 1 "$T_DIR/out")"
t_check "then the function's row, without a rate" \
    grep -Eqx 'NAME +QUEUED +RUNNING +PAUSED +CONCURRENCY +RATE +WORKERS' \
    <<<"$(sed -n 2p "$T_DIR/out")"
t_check "... noop with no limits" grep -Eqx 'noop +0 +0 +no +- +- +w[123],w[123],w[123]' \
    <<<"$(sed -n 3p "$T_DIR/out")"
t_eq "GET /functions has no rate for noop" null "$(fn_of noop | jq .rate)"
mark=$(event_mark)
req POST /submit --data "$(batch u 16 noop null)"
mapfile -t U_IDS < <(ids u 16)
t_check "every job of the next batch succeeds" t_until 60 all_in SUCCEEDED "${U_IDS[@]}"
span=$(events_since "$mark" noop | jq "[.[] | select(.state == \"RUNNING\") | $AT_MS] |
    max - min")
t_check "without the limit they all start within 1 s ($span ms)" test "$span" -lt 1000

sje_rc limit sleep --concurrency 3 --rate 120/m
t_eq "limit with both options exits 0" 0 "$RC"
t_eq "and says both" "sleep: concurrency 3, rate 120/m" "$(head -n 1 "$T_DIR/out")"
t_check "the row shows both" grep -Eq '^sleep +0 +0 +no +3 +120/m +' "$T_DIR/out"
t_eq "limit --json answers the function as GET /functions does" \
    "$(sje --json limit sleep --concurrency 2 --rate none | jq -c 'del(.queued, .running, .scheduled, .pending, .rate_wait_ms)')" \
    "$(fn_of sleep | jq -c 'del(.queued, .running, .scheduled, .pending, .rate_wait_ms)')"
t_eq "limit --json shows a removed limit as null" \
    '{"concurrency":null,"rate":null}' \
    "$(sje --json limit sleep --concurrency none --rate none | jq -c '{concurrency, rate}')"
req PUT /functions/sleep/limits --data '{"concurrency": 2}'
t_eq "PUT with concurrency alone sets it back" '2 null' "$(jqb .concurrency) $(jqb .rate)"

## Bad limits: refused, naming the field, and nothing changes.
before=$(limits_of noop)
req PUT /functions/noop/limits --data '{"rate":"fast"}'
t_check "a rate of \"fast\" is 400 naming rate" is_error 400 INVALID_ARGUMENT rate
t_check "the scheduler says what a rate looks like" grep -q '100/s' <<<"$(jqb .error.message)"
req PUT /functions/noop/limits --data '{"concurrency": 3, "rate": "fast"}'
t_check "with a good concurrency beside it, still 400 naming rate" \
    is_error 400 INVALID_ARGUMENT rate
req PUT /functions/noop/limits --data '{"concurrency": -1}'
t_check "a concurrency of -1 is 400 naming concurrency" \
    is_error 400 INVALID_ARGUMENT concurrency
req PUT /functions/noop/limits --data '{"concurrency": "2"}'
t_check "a concurrency that is a string is 400 naming concurrency" \
    is_error 400 INVALID_ARGUMENT concurrency
req PUT /functions/noop/limits --data '{"concurrency": 0}'
t_check "a concurrency of 0 is 400 (null removes a limit)" \
    is_error 400 INVALID_ARGUMENT concurrency
req PUT /functions/noop/limits --data '{"rate": 4}'
t_check "a rate that is a number is 400 naming rate" is_error 400 INVALID_ARGUMENT rate
req PUT /functions/noop/limits --data '{"rate": "4/s", "colour": "red"}'
t_check "an unknown key is 400 naming it" is_error 400 INVALID_ARGUMENT colour
req PUT /functions/noop/limits --data '{"pause": true}'
t_check "a key of SetFunction that this body does not take is 400 naming it" \
    is_error 400 INVALID_ARGUMENT pause
req PUT /functions/noop/limits --data '{}'
t_check "{} is 400" is_error 400 INVALID_ARGUMENT ""
t_eq "saying what to give" "give concurrency, rate or both" "$(jqb .error.message)"
req PUT /functions/noop/limits
t_check "an empty body is 400 too" is_error 400 INVALID_ARGUMENT ""
t_eq "saying the same" "give concurrency, rate or both" "$(jqb .error.message)"
req PUT /functions/noop/limits --data 'rate=4/s'
t_check "a body that is not JSON is 400" is_error 400 INVALID_ARGUMENT ""
req PUT '/functions/noop/limits?rate=4/s' --data '{"rate":"4/s"}'
t_check "a query parameter is 400 naming it" is_error 400 INVALID_ARGUMENT rate
req PUT '/functions/a%2Fb/limits' --data '{"rate":"4/s"}'
t_check "a name that holds / is 400 naming name" is_error 400 INVALID_ARGUMENT name
req PUT '/functions/a%20b/limits' --data '{"rate":"4/s"}'
t_check "a name that is no function name is 400 naming name" \
    is_error 400 INVALID_ARGUMENT name
t_eq "none of them changed noop" "$before" "$(limits_of noop)"
for m in GET POST DELETE; do
	req "$m" /functions/noop/limits
	t_check "$m /functions/noop/limits is 405" is_error 405 METHOD_NOT_ALLOWED ""
	t_check "with Allow: PUT" allow_is PUT
done
req PUT /functions/noop/pause
t_check "PUT /functions/noop/pause is 405 with Allow: POST" allow_is POST

sje_rc limit noop
t_eq "limit without an option is a usage error" 2 "$RC"
t_check "that names the options" grep -q -- '--concurrency, --rate or both' "$T_DIR/err"
sje_rc limit noop --concurrency -1
t_eq "limit --concurrency -1 is a usage error" 2 "$RC"
sje_rc limit noop --concurrency 0
t_eq "limit --concurrency 0 is a usage error (none removes it)" 2 "$RC"
sje_rc limit noop --concurrency many
t_eq "limit --concurrency many is a usage error" 2 "$RC"
sje_rc limit noop --rate fast
t_eq "limit --rate fast is refused by the server: exit 1" 1 "$RC"
t_check "naming rate" grep -q '^error: INVALID_ARGUMENT: .*(field: rate)$' "$T_DIR/err"
t_eq "and noop is unchanged" "$before" "$(limits_of noop)"

cat >"$T_DIR/bad_rate.yaml" <<'YAML'
tasks:
  functions:
    noop:
      rate: fast
YAML
RC=0
env SJE_SERVER_DATA_DIR="$T_DIR/bad" SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
    timeout 20 "$SJE_BIN/sje-server" --config "$T_DIR/bad_rate.yaml" \
    2>"$T_DIR/bad_rate.err" || RC=$?
t_check "a config with rate: fast stops the server" test "$RC" -ne 0 -a "$RC" -ne 124
t_check "with an error naming the file, line and key" \
    grep -q 'bad_rate.yaml:4: tasks.functions.noop.rate' "$T_DIR/bad_rate.err"

## Limits set at run time survive a restart of the server; a limit
## removed at run time stays removed over config's.
req PUT /functions/sleep/limits --data '{"concurrency": null, "rate": "30/m"}'
t_eq "a run-time change removes config's concurrency" 'null "30/m"' \
    "$(jqb .concurrency) $(jqb '.rate | tojson')"
req PUT /functions/noop/limits --data '{"concurrency": 7, "rate": "5/s"}'
t_eq "and sets noop's limits" '7 "5/s"' "$(jqb .concurrency) $(jqb '.rate | tojson')"
before_sleep=$(limits_of sleep)
before_noop=$(limits_of noop)
t_stop "$SERVER_PID"
t_server_start server SJE_CONFIG="$T_DIR/server.yaml"
t_eq "sleep's limits are as set after a restart" "$before_sleep" "$(limits_of sleep)"
t_eq "noop's limits are as set after a restart" "$before_noop" "$(limits_of noop)"

## Routing by labels: a server of its own (the one above still lists
## its workers for a while after they stop), a gpu worker and a cpu
## worker.
t_stop "$W1"
t_stop "$W2"
t_stop "$W3"
t_stop "$SERVER_PID"
unset RPC_URL EVENTS_URL HTTP_URL # fresh ports
t_server_start route SJE_CONFIG="$T_DIR/server.yaml"
printf 'worker:\n  labels: {gpu: "true"}\n' >"$T_DIR/gpu.yaml"
printf 'worker:\n  labels: {gpu: "false"}\n' >"$T_DIR/cpu.yaml"
t_worker_start gpu 4 "$T_DIR/gpu.yaml"
t_worker_start cpu 4 "$T_DIR/cpu.yaml"
t_eq "GET /workers shows each worker's labels" \
    '[{"name":"cpu","labels":{"gpu":"false"}},{"name":"gpu","labels":{"gpu":"true"}}]' \
    "$(curl -s "$HTTP_URL/workers" | jq -c '[.workers[] | {name, labels}] | sort_by(.name)')"

req POST /submit --data "$(batch g 8 echo '{"x":1}' '{"requires":{"gpu":"true"}}')"
t_eq "eight jobs requiring gpu=true are submitted" 201 "$CODE"
req POST /submit --data "$(batch n 8 echo '{"x":2}')"
t_eq "eight jobs without requires are submitted" 201 "$CODE"
sje_rc submit echo --id g-cli --requires gpu=true
t_eq "submit --requires exits 0" 0 "$RC"
sje_rc submit echo --id c-cli --requires gpu=false --requires zone=
t_eq "submit --requires twice exits 0" 0 "$RC"
req POST /submit --data "$(batch d 4 calculate_data '{"input_data":[1,2]}')"
t_eq "four jobs of a function that requires gpu=true in config" 201 "$CODE"
sje_rc submit calculate_data --id d-cpu --params '{"input_data":[3]}' \
    --requires gpu=false
mapfile -t G_IDS < <(ids g 8)
mapfile -t N_IDS < <(ids n 8)
mapfile -t D_IDS < <(ids d 4)
ALL=("${G_IDS[@]}" "${N_IDS[@]}" "${D_IDS[@]}" g-cli d-cpu)
t_check "they all succeed" t_until 60 all_in SUCCEEDED "${ALL[@]}"
workers_of() { for id in "$@"; do sje --json status "$id" | jq -r .worker; done | sort -u | paste -sd, -; }
t_eq "every job requiring gpu=true ran on the gpu worker" gpu "$(workers_of "${G_IDS[@]}" g-cli)"
t_check "the jobs without requires ran on either worker" \
    grep -Eqx '(cpu|gpu)(,gpu)?' <<<"$(workers_of "${N_IDS[@]}")"
t_eq "the function's requires in config route its jobs to the gpu worker" \
    gpu "$(workers_of "${D_IDS[@]}")"
t_eq "a job's own requires wins over its function's for the same key" \
    cpu "$(workers_of d-cpu)"
t_eq "submit --requires sets the job's requires" '{"gpu":"true"}' \
    "$(sje --json status g-cli | jq -c .requires)"
t_eq "... every pair of it, an empty value too" '{"gpu":"false","zone":""}' \
    "$(sje --json status c-cli | jq -c .requires)"
t_check "a job requiring a label value no worker has (zone=\"\") waits" \
    t_until 10 explains c-cli NO_MATCHING_WORKER

sje submit echo --id mars-1 --requires zone=mars >/dev/null
# A job submitted after it runs: the workers fetched past mars-1.
sje submit echo --id after-mars --wait >/dev/null
t_eq "a job requiring a label no worker has stays QUEUED" QUEUED "$(t_state mars-1)"
req GET /jobs/mars-1/explain
t_eq "explain says NO_MATCHING_WORKER" NO_MATCHING_WORKER "$(jqb '.reasons[0].code')"
t_eq "with the labels it requires" '{"zone":"mars"}' "$(jqb '.reasons[0].requires' | jq -c .)"
sje_rc submit echo --requires zone
t_eq "submit --requires without = is a usage error" 2 "$RC"
sje_rc submit echo --requires a=1 --requires a=2
t_eq "submit --requires with a key twice is a usage error" 2 "$RC"

t_done
