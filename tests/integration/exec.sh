#!/usr/bin/env bash
# exec: the exec plugin runs tasks.functions.<name>.command on a real
# worker. A command that succeeds with JSON (params on stdin, parents in
# SJE_PARENTS_FILE, a clean environment, a fresh working directory), text
# output, failures with stderr, a signal, too much output, a timeout and a
# cancel that leave no process of the command's group behind, arguments
# and params that would mean something to a shell reaching the command
# unchanged, and a worker stop that hands its running job back.
. "$(dirname "$0")/lib.sh"

FIX=$(cd "$(dirname "$0")/fixtures" && pwd)
OUT="$T_DIR/out"
mkdir -p "$OUT"

# Config for the worker; YAML double-quoted strings keep $(...) and
# backquotes as they are.
cat >"$T_DIR/worker.yaml" <<EOF
tasks:
  functions:
    x_ok:
      command: ["$FIX/exec_ok.sh", "$OUT"]
    x_args:
      command: ["/bin/sh", "$FIX/exec_args.sh", "$OUT/args",
                "\$(touch $T_DIR/pwned-args)", "a b", "'single' \\"double\\"",
                "*", "\`touch $T_DIR/pwned-tick\`", ""]
    x_text:
      command: ["/bin/sh", "$FIX/exec_text.sh"]
    x_fail:
      command: ["/bin/sh", "$FIX/exec_fail.sh"]
    x_signal:
      command: ["/bin/sh", "$FIX/exec_signal.sh"]
    x_big:
      command: ["/bin/sh", "$FIX/exec_big.sh"]
    x_spawn:
      command: ["/bin/sh", "$FIX/exec_spawn.sh", "$OUT/spawn.pids"]
    x_leftover:
      command: ["/bin/sh", "$FIX/exec_leftover.sh", "$OUT/leftover.pid"]
    x_missing:
      command: ["no-such-program-sje-test"]
    not_a_command:
      timeout_s: 5
plugins:
  - {name: core}
  - {name: exec}
EOF

t_server_start server
t_worker_start wx 4 "$T_DIR/worker.yaml"
WX_PID=$WORKER_PID

# pids_ready FILE N: FILE lists N pids.
pids_ready() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# all_gone FILE: every pid of FILE is gone, and so is the group of the
# last one (the command itself).
all_gone() {
	local pid last=
	while read -r pid; do
		t_pid_gone "$pid" || return 1
		last=$pid
	done <"$1"
	t_group_gone "$last"
}

# ---- success: JSON on stdout; stdin, parents, environment, cwd ----
sje submit echo --id parent-1 --params '{"from": "the parent"}' --wait >/dev/null
params='{"q": "it'"'"'s \"quoted\"", "nl": "line 1\nline 2", "sh": "$(touch '"$T_DIR"'/pwned-params) `touch '"$T_DIR"'/pwned-params2`; rm -rf /", "u": "h\u00e9llo"}'
out=$(sje --json submit x_ok --id ok-1 --after parent-1 --params "$params" --wait)
t_eq "an exec function succeeds" SUCCEEDED "$(jq -r .state <<<"$out")"
t_eq "its result is the JSON it printed" \
    '{"attempt":1,"function":"x_ok","ok":true,"task_id":"ok-1"}' \
    "$(jq -cS .result <<<"$out")"
printf '%s' "$params" >"$T_DIR/params.expected"
t_check "params reach stdin byte for byte" cmp "$T_DIR/params.expected" "$OUT/stdin"
t_check "no shell ran the params" test ! -e "$T_DIR/pwned-params" -a ! -e "$T_DIR/pwned-params2"
t_eq "the parents file holds the parents' results" '{"parent-1":{"from":"the parent"}}' \
    "$(jq -cS . "$OUT/parents")"
t_eq "the environment is the clean one" \
    "HOME=/nonexistent LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin SJE_ATTEMPT=1 SJE_FUNCTION=x_ok SJE_PARENTS_FILE SJE_TASK_ID=ok-1" \
    "$(grep -v '^PWD=' "$OUT/env" | sed 's/^SJE_PARENTS_FILE=.*/SJE_PARENTS_FILE/' | tr '\n' ' ' | sed 's/ $//')"
t_eq "the working directory starts empty" "" "$(cat "$OUT/ls")"
job_dir=$(dirname "$(cat "$OUT/cwd")")
t_check "the job's directory is removed afterwards" test ! -e "$job_dir"
t_eq "the parents file was in the job's directory" "$job_dir/parents.json" \
    "$(sed -n 's/^SJE_PARENTS_FILE=//p' "$OUT/env")"

# ---- argv reaches the command unchanged, through no shell ----
out=$(sje --json submit x_args --wait)
t_eq "a command with shell-like arguments succeeds" SUCCEEDED "$(jq -r .state <<<"$out")"
printf '%s\0' "\$(touch $T_DIR/pwned-args)" "a b" "'single' \"double\"" "*" \
    "\`touch $T_DIR/pwned-tick\`" "" >"$T_DIR/args.expected"
t_check "the arguments arrive byte for byte" cmp "$T_DIR/args.expected" "$OUT/args"
t_check "and nothing in them ran" test ! -e "$T_DIR/pwned-args" -a ! -e "$T_DIR/pwned-tick"

# ---- text output becomes a JSON string ----
out=$(sje --json submit x_text --wait)
t_eq "text output is the result as a string" '"plain \"text\", not JSON"' "$(jq -c .result <<<"$out")"

# ---- failures ----
out=$(sje --json submit x_fail --retries 0 --wait || true)
t_eq "a non-zero exit fails the job" FAILED "$(jq -r .state <<<"$out")"
t_eq "with error type exit" exit "$(jq -r .error.type <<<"$out")"
msg=$(jq -r .error.message <<<"$out")
t_check "the error gives the status" grep -q '^exited with status 3; stderr (last ' <<<"$msg"
t_check "and ends with the end of stderr" grep -q 'the last line: it broke$' <<<"$msg"
t_check "the error is bounded (4 KiB)" test "$(printf '%s' "$msg" | wc -c)" -le 4096

out=$(sje --json submit x_signal --retries 0 --wait || true)
t_eq "a command killed by a signal fails" exit "$(jq -r .error.type <<<"$out")"
t_check "and the error names the signal" grep -q 'killed by signal 9 (SIGKILL)' \
    <<<"$(jq -r .error.message <<<"$out")"

out=$(sje --json submit x_big --retries 0 --wait || true)
t_eq "too much output fails the job" output_too_large "$(jq -r .error.type <<<"$out")"

out=$(sje --json submit x_missing --retries 0 --wait || true)
t_eq "a program that is not there fails to spawn" spawn "$(jq -r .error.type <<<"$out")"
t_check "the worker said so at start" grep -q 'no-such-program-sje-test is not an executable file' \
    "$T_DIR/worker-wx.log"
t_check "a function without a command is not exec's" bash -c \
    "'$SJE_BIN/sje-client' --json workers | jq -e '[.workers[].functions[]] | index(\"not_a_command\") == null' >/dev/null"

# ---- leftovers: a command that exits leaving a child behind ----
out=$(sje --json submit x_leftover --wait)
t_eq "a command that leaves a child behind succeeds" '{"left":"a child"}' "$(jq -c .result <<<"$out")"
t_check "and its child is stopped" t_until 10 t_pid_gone "$(cat "$OUT/leftover.pid")"

# ---- timeout: the whole group goes, SIGTERM then SIGKILL ----
rm -f "$OUT/spawn.pids"
out=$(sje --json submit x_spawn --id to-1 --timeout 2 --retries 0 --wait || true)
t_eq "a command past its timeout fails" FAILED "$(jq -r .state <<<"$out")"
t_eq "with error type timeout" timeout "$(jq -r .error.type <<<"$out")"
t_check "the error says the group got SIGTERM then SIGKILL" \
    grep -q '^process group [0-9]* stopped with SIGTERM, then SIGKILL; stderr: started children' \
    <<<"$(jq -r .error.message <<<"$out")"
t_check "its children wrote their pids" pids_ready "$OUT/spawn.pids" 3
t_check "no process of its group is left" t_until 10 all_gone "$OUT/spawn.pids"

# ---- cancel ----
rm -f "$OUT/spawn.pids"
sje submit x_spawn --id cancel-1 --retries 0 >/dev/null
t_check "the command to cancel starts its children" t_until 20 pids_ready "$OUT/spawn.pids" 3
t_eq "cancel is requested" true "$(sje --json cancel cancel-1 | jq -r .cancel_requested)"
t_check "the job ends CANCELLED" t_until 20 t_state_is cancel-1 CANCELLED
t_check "no process of the cancelled command's group is left" t_until 10 all_gone "$OUT/spawn.pids"
out=$(sje --json status cancel-1)
t_eq "the cancelled job's error type is cancelled" cancelled "$(jq -r .error.type <<<"$out")"
t_check "its message says what was stopped" \
    grep -Eq '^process group [0-9]+ stopped with SIGTERM' \
    <<<"$(jq -r .error.message <<<"$out")"
t_check "and status says cancelled once" \
    grep -Eq '^error: +cancelled: process group [0-9]+ stopped' \
    <<<"$(sje status cancel-1)"

# ---- a worker that stops hands its running job back ----
rm -f "$OUT/spawn.pids"
sje submit x_spawn --id stop-1 --retries 0 >/dev/null
t_check "the job to interrupt runs" t_until 20 pids_ready "$OUT/spawn.pids" 3
t_stop_status "$WX_PID"
t_eq "the worker stops cleanly" 0 "$T_STATUS"
t_check "it said it handed the job back" grep -q '\[stop-1\] x_spawn handed back' "$T_DIR/worker-wx.log"
t_check "no process of the interrupted command's group is left" all_gone "$OUT/spawn.pids"
# Release (the job is queued again, the attempt not counted) or, from a
# coordinator without Release, a failure "interrupted".
st=$(sje --json status stop-1)
t_check "the job is handed back: QUEUED, or FAILED as interrupted" \
    jq -e '.state == "QUEUED" or (.state == "FAILED" and .error.type == "interrupted")' <<<"$st"
t_check "the worker's log has no sanitizer report" t_no_sanitizer_report "$T_DIR/worker-wx.log"

t_done
