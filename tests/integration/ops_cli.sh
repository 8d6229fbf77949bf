#!/usr/bin/env bash
# ops_cli: the operator's commands of sje-client against a real server:
# retry (with --descendants), delete, explain, functions, pause and resume,
# their output, JSON and exit codes. (The usage errors and an unreachable
# server, which need no server's answer, are in end_to_end.sh.)
. "$(dirname "$0")/lib.sh"

# sje_rc ARGS...: runs the CLI, its stdout in $T_DIR/out and stderr in
# $T_DIR/err, and sets RC to its exit code.
sje_rc() {
	RC=0
	sje "$@" >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
}

# t_jq FILTER: true when FILTER holds of the JSON on stdin.
t_jq() { jq -e "$1" >/dev/null; }

# No worker yet: what is submitted stays where it is.
t_server_start server
sje submit echo --id rc-1 --params '{"v":1}' >/dev/null
sje submit echo --id p-1 >/dev/null
sje submit echo --id c-1 --after p-1 >/dev/null

# explain: why a job waits.
sje_rc explain rc-1
t_eq "explain exits 0" 0 "$RC"
t_eq "explain starts with the id and the state" "rc-1  QUEUED" \
    "$(head -n 1 "$T_DIR/out")"
t_check "explain of a job no worker serves says NO_WORKER" \
    grep -q '^  NO_WORKER: ' "$T_DIR/out"
sje_rc explain c-1
t_check "explain of a child says WAITING_ON_PARENTS" \
    grep -q '^  WAITING_ON_PARENTS: ' "$T_DIR/out"
t_check "and names each unfinished parent with its state" \
    grep -qx '    p-1  QUEUED' "$T_DIR/out"
out=$(sje --json explain c-1)
t_eq "explain --json names the job" "c-1 PENDING" \
    "$(jq -r '"\(.task_id) \(.state)"' <<<"$out")"
t_eq "explain --json lists the parents of WAITING_ON_PARENTS" \
    '[{"task_id":"p-1","state":"QUEUED"}]' \
    "$(jq -c '.reasons[] | select(.code == "WAITING_ON_PARENTS") | .parents' <<<"$out")"
t_check "every reason has a code and a message" \
    t_jq 'all(.reasons[]; has("code") and has("message"))' <<<"$out"
t_check "a reason carries no unset figure (null, 0, \"\", false, [])" \
    t_jq '[.reasons[] | to_entries[] | select(.key != "code" and
        .key != "message") | .value |
        select(. == null or . == 0 or . == "" or . == false or . == [])] |
        length == 0' <<<"$out"
sje_rc explain no-such-job
t_eq "explain of an unknown id exits 4" 4 "$RC"
t_check "and says NOT_FOUND" grep -q '^error: NOT_FOUND: ' "$T_DIR/err"

# Refusals: a job that has not finished is neither re-run nor deleted,
# as cancel refuses a finished one.
sje_rc retry rc-1
t_eq "retry of a queued job exits 1" 1 "$RC"
t_check "and says FAILED_PRECONDITION" \
    grep -q '^error: FAILED_PRECONDITION: ' "$T_DIR/err"
sje_rc delete rc-1
t_eq "delete of a queued job exits 1" 1 "$RC"
t_check "and says FAILED_PRECONDITION" \
    grep -q '^error: FAILED_PRECONDITION: ' "$T_DIR/err"
t_eq "the refused job is still QUEUED" QUEUED "$(t_state rc-1)"
sje_rc retry no-such-job
t_eq "retry of an unknown id exits 4" 4 "$RC"
sje_rc delete no-such-job
t_eq "delete of an unknown id exits 4" 4 "$RC"

# retry: a cancelled job runs again under its id; with --descendants,
# the children that failed with it too.
sje cancel rc-1 >/dev/null
sje cancel p-1 >/dev/null
t_check "the child of a cancelled parent ends UPSTREAM_FAILED" \
    t_until 20 t_state_is c-1 UPSTREAM_FAILED
sje_rc retry rc-1
t_eq "retry of a cancelled job exits 0" 0 "$RC"
t_eq "retry prints the job re-run" "rc-1  QUEUED  (re-run)" \
    "$(cat "$T_DIR/out")"
t_eq "the re-run job is QUEUED" QUEUED "$(t_state rc-1)"
out=$(sje --json retry p-1 --descendants)
t_eq "retry --json answers the job and its state" "p-1 QUEUED" \
    "$(jq -r '"\(.task_id) \(.state)"' <<<"$out")"
t_eq "retry --descendants re-runs the UPSTREAM_FAILED child" \
    '[{"task_id":"c-1","state":"PENDING"}]' \
    "$(jq -c .descendants <<<"$out")"
t_eq "the child waits for its parent again" PENDING "$(t_state c-1)"
t_worker_start wa 2
t_check "the re-run job succeeds" t_until 20 t_state_is rc-1 SUCCEEDED
t_check "the re-run parent succeeds" t_until 20 t_state_is p-1 SUCCEEDED
t_check "and then its re-run child" t_until 20 t_state_is c-1 SUCCEEDED
t_eq "the re-run job runs with its params" '{"v":1}' \
    "$(sje --json status rc-1 | jq -c .result)"
sje_rc retry rc-1
t_eq "retry of a succeeded job exits 1" 1 "$RC"
t_check "and says FAILED_PRECONDITION" \
    grep -q '^error: FAILED_PRECONDITION: ' "$T_DIR/err"

# retry in text, with descendants: one line per job re-run, parents
# first. (A failing parent, so that the line of the child shows.)
sje submit fail --id fp-1 --params '{"message":"boom"}' --retries 0 \
    >/dev/null
sje submit echo --id fc-1 --after fp-1 >/dev/null
t_check "the child of a failed parent ends UPSTREAM_FAILED" \
    t_until 20 t_state_is fc-1 UPSTREAM_FAILED
sje_rc retry fp-1 --descendants
t_eq "retry --descendants exits 0" 0 "$RC"
t_check "retry --descendants prints the job first" \
    grep -Eqx 'fp-1  (QUEUED|RUNNING|FAILED)  \(re-run\)' \
    <<<"$(head -n 1 "$T_DIR/out")"
t_eq "then one line per descendant" "fc-1  PENDING  (re-run)" \
    "$(sed -n 2p "$T_DIR/out")"
t_eq "and nothing else" 2 "$(wc -l <"$T_DIR/out")"
t_check "the failing parent fails again" t_until 20 t_state_is fp-1 FAILED
t_check "and its child with it" t_until 20 t_state_is fc-1 UPSTREAM_FAILED

# delete: a finished job is gone.
sje_rc delete rc-1
t_eq "delete of a finished job exits 0" 0 "$RC"
t_eq "delete says what it deleted" "deleted rc-1" "$(cat "$T_DIR/out")"
sje_rc status rc-1
t_eq "a deleted job is not found" 4 "$RC"
sje_rc delete rc-1
t_eq "delete of a deleted job exits 4" 4 "$RC"
t_eq "delete --json answers {\"deleted\": 1}" '{"deleted":1}' \
    "$(sje --json delete fc-1)"

# functions: what the server knows of each function.
sje_rc functions
t_eq "functions exits 0" 0 "$RC"
t_check "functions prints a table with its header" \
    grep -Eqx 'NAME +QUEUED +RUNNING +PAUSED +CONCURRENCY +RATE +WORKERS' \
    <<<"$(head -n 1 "$T_DIR/out")"
t_check "echo's row: nothing queued or running, not paused, no limits, served by wa" \
    grep -Eqx 'echo +0 +0 +no +- +- +wa' "$T_DIR/out"
out=$(sje --json functions)
t_eq "functions --json: echo without limits, served by wa" \
    '{"paused":false,"concurrency":null,"rate":null,"workers":["wa"]}' \
    "$(jq -c '.functions[] | select(.name == "echo") |
        {paused, concurrency, rate, workers}' <<<"$out")"
t_check "functions --json lists by name" \
    t_jq '[.functions[].name] == ([.functions[].name] | sort)' <<<"$out"

# pause: nothing new starts, submits are still accepted, and it lasts
# over a restart of the server; resume starts the jobs again.
sje_rc pause echo
t_eq "pause exits 0" 0 "$RC"
t_eq "pause says what it paused" "paused echo" "$(head -n 1 "$T_DIR/out")"
t_check "then the function's row, paused" \
    grep -Eqx 'echo +0 +0 +yes +- +- +wa' "$T_DIR/out"
t_eq "pause --json answers the function" \
    '{"name":"echo","paused":true,"concurrency":null,"rate":null}' \
    "$(sje --json pause echo | jq -c '{name, paused, concurrency, rate}')"
sje submit echo --id paused-1 >/dev/null
t_eq "a job of a paused function is accepted" QUEUED "$(t_state paused-1)"
# A job submitted after it, to a function the same worker serves, runs:
# the worker is fetching, and passes the paused one by.
t_eq "another function's later job runs meanwhile" SUCCEEDED \
    "$(sje --json submit calculate_data --id after-pause \
        --params '{"input_data":[1]}' --wait | jq -r .state)"
t_eq "and the paused one does not start" QUEUED "$(t_state paused-1)"
sje_rc explain paused-1
t_check "explain says FUNCTION_PAUSED" \
    grep -q '^  FUNCTION_PAUSED: ' "$T_DIR/out"
t_eq "functions --json shows it paused, one queued" "true 1" \
    "$(sje --json functions |
        jq -r '.functions[] | select(.name == "echo") | "\(.paused) \(.queued)"')"
t_stop "$SERVER_PID"
t_server_start server
t_check "the worker comes back" t_until 20 t_worker_listed wa
t_eq "echo is still paused after a restart" true \
    "$(sje --json functions | jq '.functions[] | select(.name == "echo") | .paused')"
t_eq "its job still waits" QUEUED "$(t_state paused-1)"
sje_rc resume echo
t_eq "resume exits 0" 0 "$RC"
t_eq "resume says what it resumed" "resumed echo" "$(head -n 1 "$T_DIR/out")"
t_check "then the function's row, not paused" \
    grep -Eq '^echo +[0-9]+ +[0-9]+ +no +' "$T_DIR/out"
t_check "the waiting job runs" t_until 20 t_state_is paused-1 SUCCEEDED
t_eq "resume --json answers the function" '{"name":"echo","paused":false}' \
    "$(sje --json resume echo | jq -c '{name, paused}')"

t_done
