#!/usr/bin/env bash
# end_to_end: one coordinator, two workers, jobs of every core function
# driven through the CLI; the CLI's exit codes and bad input.
. "$(dirname "$0")/lib.sh"

t_server_start server
t_worker_start wa 2
t_worker_start wb 2

# The seed's example: statistics over input_data.
out=$(sje --json submit calculate_data --params '{"input_data":[1,2,3,4]}' --wait)
t_eq "calculate_data succeeds" SUCCEEDED "$(jq -r .state <<<"$out")"
t_eq "calculate_data sums" 10 "$(jq -r .result.sum <<<"$out")"
t_eq "calculate_data averages" 2.5 "$(jq -r .result.mean <<<"$out")"
t_eq "calculate_data counts" 4 "$(jq -r .result.count <<<"$out")"

# echo returns its params exactly, nested values and unicode included.
params='{"s":"héllo \"q\" $(x)","n":[1,2.5,-3,12345678901234567],"o":{"t":true,"z":null}}'
out=$(sje --json submit echo --params "$params" --id echo-1 --wait)
t_eq "echo succeeds" SUCCEEDED "$(jq -r .state <<<"$out")"
t_eq "echo result equals params" "$(jq -cS . <<<"$params")" "$(jq -cS .result <<<"$out")"
t_eq "status shows the same params" "$(jq -cS . <<<"$params")" \
    "$(sje --json status echo-1 | jq -cS .params)"

# noop: result null; the job names the worker that ran it.
out=$(sje --json submit noop --wait)
t_eq "noop succeeds" SUCCEEDED "$(jq -r .state <<<"$out")"
t_eq "noop result is null" null "$(jq -c .result <<<"$out")"
t_check "the job names its worker" grep -Eq '^(wa|wb)$' <<<"$(jq -r .worker <<<"$out")"

# A failing function ends FAILED with its message after its attempts.
set +e
out=$(sje --json submit fail --params '{"message":"boom"}' --retries 0 --wait)
rc=$?
set -e
t_eq "submit --wait of a failing job exits 1" 1 "$rc"
t_eq "the failed job is FAILED" FAILED "$(jq -r .state <<<"$out")"
t_eq "its error carries the message" boom "$(jq -r .error.message <<<"$out")"
t_eq "one attempt was made" 1 "$(jq -r .attempt <<<"$out")"

# Retries: a failing job with --retries 1 makes two attempts.
out=$(sje --json submit fail --params '{"message":"again"}' --retries 1 \
    --id retry-1 --wait || true)
t_eq "a job with one retry makes two attempts" 2 "$(jq -r .attempt <<<"$out")"

# calculate_data refuses bad input with a clear error.
out=$(sje --json submit calculate_data --params '{"input_data":[1,"x"]}' \
    --retries 0 --wait || true)
t_eq "bad input_data fails" FAILED "$(jq -r .state <<<"$out")"
t_check "the error names the bad element" \
    grep -q 'input_data\[1\]' <<<"$(jq -r .error.message <<<"$out")"

# Idempotent submit: the same id and spec answers with the job; another
# spec under the same id is refused.
sje submit echo --id same-1 --params '{"v":1}' >/dev/null
out=$(sje --json submit echo --id same-1 --params '{"v":1}')
t_eq "resubmitting the same spec answers with the job" same-1 "$(jq -r .task_id <<<"$out")"
set +e
sje submit echo --id same-1 --params '{"v":2}' 2>"$T_DIR/err"
rc=$?
set -e
t_eq "another spec under the same id exits 1" 1 "$rc"
t_check "and says ALREADY_EXISTS" grep -q ALREADY_EXISTS "$T_DIR/err"
t_check "naming the field as REST does for one spec" \
    grep -q '(field: task_id)' "$T_DIR/err"

# Cancel of a queued job: no worker serves 'nobody_serves_this'.
sje submit nobody_serves_this --id cq-1 >/dev/null
t_eq "the unserved job waits QUEUED" QUEUED "$(t_state cq-1)"
t_eq "cancel of a queued job answers CANCELLED" CANCELLED \
    "$(sje --json cancel cq-1 | jq -r .state)"
t_eq "the job is CANCELLED" CANCELLED "$(t_state cq-1)"
set +e
sje cancel cq-1 2>/dev/null; rc=$?
set -e
t_eq "cancel of a finished job exits 1" 1 "$rc"

# Cancel of a running job: sleep stops early.
sje submit sleep --id cr-1 --params '{"seconds":30}' >/dev/null
t_check "the sleep job starts" t_until 20 t_state_is cr-1 RUNNING
t_eq "cancel of a running job is requested" true \
    "$(sje --json cancel cr-1 | jq -r .cancel_requested)"
t_check "the running job ends CANCELLED" t_until 20 t_state_is cr-1 CANCELLED

# Delayed start: stays SCHEDULED, then runs.
sje submit noop --id delayed-1 --delay 3 >/dev/null
t_eq "a delayed job is SCHEDULED" SCHEDULED "$(t_state delayed-1)"
t_check "then it runs" t_until 20 t_state_is delayed-1 SUCCEEDED

# Listing and workers.
t_check "list shows jobs" bash -c "'$SJE_BIN/sje-client' --json list --limit 5 | jq -e '.jobs | length == 5' >/dev/null"
t_check "list filters by state" bash -c "'$SJE_BIN/sje-client' --json list --state CANCELLED | jq -e '[.jobs[].state] | unique == [\"CANCELLED\"]' >/dev/null"
t_eq "two workers are listed" 2 "$(sje --json workers | jq '.workers | length')"

# Exit codes: not found, usage, unreachable.
set +e
sje status no-such-job 2>/dev/null; rc=$?
t_eq "status of an unknown id exits 4" 4 "$rc"
sje submit echo --params '{"broken":' 2>/dev/null; rc=$?
t_eq "malformed --params exits 2" 2 "$rc"
sje frobnicate 2>/dev/null; rc=$?
t_eq "an unknown command exits 2" 2 "$rc"
"$SJE_BIN/sje-client" --server tcp://127.0.0.1:1 status x 2>/dev/null; rc=$?
t_eq "an unreachable server exits 3" 3 "$rc"
set -e

# The operator's commands (retry, delete, explain, functions, pause,
# resume): a bad command line is refused before anything is sent.
# (ops_cli.sh tries them against the server.)
t_usage() { # DESCRIPTION MESSAGE ARGS...: exit 2, MESSAGE on stderr
	local what=$1 msg=$2 rc=0
	shift 2
	sje "$@" >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
	t_eq "$what exits 2" 2 "$rc"
	t_check "$what says: $msg" grep -qF -- "$msg" "$T_DIR/err"
	t_check "$what prints nothing on stdout" test ! -s "$T_DIR/out"
}
t_usage "retry without an ID" \
    "missing argument (usage: sje-client retry ID [--descendants])" retry
t_usage "retry with two IDs" "unexpected argument 'b'" retry a b
t_usage "retry with an unknown flag" "unknown option '--force'" \
    retry a --force
t_usage "retry --descendants with a value" \
    "option '--descendants' takes no value" retry a --descendants=yes
t_usage "--descendants before the command" \
    "option '--descendants' goes after a command" --descendants retry a
t_usage "retry of an empty ID" "ID must not be empty" retry ''
t_usage "delete without an ID" \
    "missing argument (usage: sje-client delete ID)" delete
t_usage "delete with --descendants" \
    "'delete' has no option '--descendants'" delete a --descendants
t_usage "delete with two IDs" "unexpected argument 'b'" delete a b
t_usage "explain without an ID" \
    "missing argument (usage: sje-client explain ID)" explain
t_usage "explain with an unknown flag" "unknown option '--why'" \
    explain a --why
t_usage "functions with an argument" "unexpected argument 'echo'" \
    functions echo
t_usage "pause without a FUNCTION" \
    "missing argument (usage: sje-client pause FUNCTION)" pause
t_usage "pause of an empty FUNCTION" "FUNCTION must not be empty" pause ''
t_usage "resume with two functions" "unexpected argument 'b'" resume a b
t_eq "help retry names --descendants" \
    "Usage: sje-client [global options] retry ID [--descendants]" \
    "$(sje help retry | head -n 1)"

# ... and a server that cannot be reached exits 3 (each waits for the
# call's 10 s timeout: all at once).
unreach=("retry x" "retry x --descendants" "delete x" "explain x" \
    functions "pause echo" "resume echo")
pids=()
for i in "${!unreach[@]}"; do
	# shellcheck disable=SC2086 # the words of the command line
	"$SJE_BIN/sje-client" --server tcp://127.0.0.1:1 ${unreach[$i]} \
	    >/dev/null 2>"$T_DIR/unreach.$i" &
	pids+=($!)
done
for i in "${!unreach[@]}"; do
	rc=0
	wait "${pids[$i]}" || rc=$?
	t_eq "${unreach[$i]} of an unreachable server exits 3" 3 "$rc"
	t_check "${unreach[$i]} of an unreachable server says so" \
	    grep -q '^error: cannot reach the server at tcp://127.0.0.1:1' \
	    "$T_DIR/unreach.$i"
done

t_done
