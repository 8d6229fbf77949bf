#!/usr/bin/env bash
# hooks.sh — the coordinator's plugins on a real server: validate_submit
# refuses a job with the plugin's reason and stores nothing; decide_retry
# stops or hurries retries; log_jsonl holds every transition of a job,
# also across a clean stop and a SIGKILL; webhook delivers FAILED events
# to a receiver that was down at first, each once; alerts fire and resolve
# once each through a webhook, a plugin and the log; bad alert rules and
# notifiers stop the start with one line naming the key; a hook that takes
# 50 ms an event delays no job and still hears of every event.
source "$(dirname "$0")/lib.sh"

# A free loopback port for the receiver, which must not listen at first:
# a receiver started on port 0 tells us one, and stops.
t_receiver_start() { # OUT_FILE [LISTEN]: sets RECV_PID and RECV_URL
	rm -f "$T_DIR/recv.url"
	"$SJE_BIN/hook_receiver" --listen "${2:-127.0.0.1:0}" \
	    --url-file "$T_DIR/recv.url" --out "$1" \
	    >>"$T_DIR/receiver.log" 2>&1 &
	RECV_PID=$!
	T_PIDS+=("$RECV_PID")
	t_until 10 test -s "$T_DIR/recv.url" || t_fail "receiver did not start"
	RECV_URL=$(cat "$T_DIR/recv.url")
}
t_receiver_start "$T_DIR/probe.out"
kill -TERM "$RECV_PID"
t_wait_exit "$RECV_PID" 10 || t_fail "receiver did not stop"
RECV_HOSTPORT=${RECV_URL#http://}
RECV_HOSTPORT=${RECV_HOSTPORT%%/*}

CONFIG="$T_DIR/config.yaml"
cat >"$CONFIG" <<EOF
plugins:
  - {name: core}
  - {name: hooktest, options: {alerts_file: "$T_DIR/alerts.jsonl"}}
  - {name: log_jsonl, options: {path: "$T_DIR/events.jsonl"}}
  - name: webhook
    options: {url: "$RECV_URL", on: [FAILED], initial_backoff_ms: 100,
              max_backoff_ms: 400, max_attempts: 1000}
monitoring:
  check_interval_s: 1
  window_s: 60
  alerts:
    - {name: backlog, when: "queue_depth >= 5", notify: webhook}
    - {name: backlog_plugin, when: "queue_depth >= 5", notify: hooktest}
    - {name: backlog_log, when: "queue_depth >= 5", notify: log}
EOF

t_server_start s1 SJE_CONFIG="$CONFIG"
t_worker_start w1 4 "$CONFIG"
t_check "the worker starts with coordinator-only plugins in its config" \
    kill -0 "$WORKER_PID"

post() { # PATH BODY: sets CODE and BODY
	local out
	out=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
	    --data "$2" "$HTTP_URL$1")
	CODE=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# --- validate_submit ----------------------------------------------------
msg=$(sje submit noop --id refused1 --params '{"forbidden": true}' 2>&1) &&
    t_fail "a refused submit exited 0"
t_check "the CLI shows the plugin's reason" \
    grep -q 'refused by plugin hooktest: params.forbidden is not allowed' <<<"$msg"
post /submit '{"task_id": "refused2", "function": "noop", "params": {"forbidden": 1}}'
t_eq "REST answers 400 to a refused job" 400 "$CODE"
t_check "REST names the plugin and its reason" \
    jq -e '.error.message | test("refused by plugin hooktest: params.forbidden is not allowed")' <<<"$BODY"
post /submit '{"tasks": [{"task_id": "batch_ok", "function": "noop"}, {"task_id": "batch_bad", "function": "noop", "params": {"forbidden": 1}}]}'
t_eq "a batch with one refused job is refused whole" 400 "$CODE"
for id in refused1 refused2 batch_ok batch_bad; do
	t_eq "refused job $id was not stored" 404 \
	    "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/status/$id")"
done
sje submit noop --id accepted --wait >/dev/null
t_eq "a job the plugin accepts runs" SUCCEEDED "$(t_state accepted)"

# --- decide_retry --------------------------------------------------------
post /submit '{"task_id": "permanent", "function": "fail", "params": {"message": "permanent"}, "retry": {"max_attempts": 5, "initial_delay_ms": 10}}'
t_eq "submit permanent" 201 "$CODE"
post /submit '{"task_id": "quick", "function": "fail", "params": {"message": "quick"}, "retry": {"max_attempts": 3, "initial_delay_ms": 600000, "backoff": "fixed"}}'
t_eq "submit quick" 201 "$CODE"
post /submit '{"task_id": "plain", "function": "fail", "params": {"message": "plain"}, "retry": {"max_attempts": 2, "initial_delay_ms": 50, "backoff": "fixed"}}'
t_eq "submit plain" 201 "$CODE"
for id in permanent quick plain; do
	t_until 30 t_state_is "$id" FAILED || t_fail "$id did not end FAILED"
done
attempts() { sje --json status "$1" | jq -r .attempt; }
t_eq "STOP ends the job after its first attempt" 1 "$(attempts permanent)"
t_eq "AFTER 0 ms retries at once, bounded by max_attempts" 3 "$(attempts quick)"
t_eq "DEFAULT leaves it to the policy" 2 "$(attempts plain)"

# --- log_jsonl: every transition, in order --------------------------------
file_seqs() { # TASK: the seqs of TASK's lines in the log, in file order
	jq -r --arg t "$1" 'select(.task_id == $t) | .seq' "$T_DIR"/events.jsonl* 2>/dev/null |
	    sort -n | tr '\n' ' '
}
rest_seqs() {
	curl -s "$HTTP_URL/events?after=0&task_id=$1&limit=1000" |
	    jq -r '.events[].seq' | tr '\n' ' '
}
logged_all() { [ -n "$(rest_seqs "$1")" ] && [ "$(file_seqs "$1")" = "$(rest_seqs "$1")" ]; }
for id in accepted plain quick; do
	t_until 10 logged_all "$id" ||
	    t_fail "log_jsonl: $id: file has '$(file_seqs "$id")', events '$(rest_seqs "$id")'"
	t_check "log_jsonl holds every event of $id" true
done
t_eq "log_jsonl has plain's transitions in order" \
    "QUEUED RUNNING SCHEDULED QUEUED RUNNING FAILED" \
    "$(jq -r 'select(.task_id == "plain") | .state' "$T_DIR/events.jsonl" | tr '\n' ' ' | sed 's/ $//')"
t_check "every line of the log is one JSON object" \
    jq -e -s 'all(.[]; type == "object" and has("seq") and has("task_id"))' "$T_DIR/events.jsonl"

# --- webhook: the receiver comes up late ------------------------------------
t_receiver_start "$T_DIR/hook.out" "$RECV_HOSTPORT"
hook_failed() { jq -r 'select(.state == "FAILED") | .task_id' "$T_DIR/hook.out" 2>/dev/null | sort | tr '\n' ' '; }
hook_got_all() { [ "$(hook_failed)" = "permanent plain quick " ]; }
t_until 20 hook_got_all || t_fail "webhook: receiver got '$(hook_failed)'"
t_check "the webhook delivered each FAILED event once, after the receiver came up" true
t_eq "the webhook posted FAILED events only" "" \
    "$(jq -r 'select(.state != null and .state != "FAILED") | .state' "$T_DIR/hook.out")"

# --- alerts: fire once, resolve once ----------------------------------------
for i in 1 2 3 4 5; do sje submit parked --id "parked$i" >/dev/null; done
alert_count() { # FILE NAME STATUS
	jq -r --arg n "$2" --arg s "$3" 'select(.alert == $n and .status == $s) | .alert' "$1" 2>/dev/null | wc -l
}
log_count() { grep -c "alert $1 $2" "$T_DIR/s1.log" || true; }
fired() {
	[ "$(alert_count "$T_DIR/hook.out" backlog firing)" -ge 1 ] &&
	    [ "$(alert_count "$T_DIR/alerts.jsonl" backlog_plugin firing)" -ge 1 ] &&
	    [ "$(log_count backlog_log firing)" -ge 1 ]
}
t_until 20 fired || t_fail "the backlog alerts did not fire"
t_check "a firing alert reached the webhook, the plugin and the log" true
for i in 1 2 3 4 5; do sje cancel "parked$i" >/dev/null; done
resolved() {
	[ "$(alert_count "$T_DIR/hook.out" backlog resolved)" -ge 1 ] &&
	    [ "$(alert_count "$T_DIR/alerts.jsonl" backlog_plugin resolved)" -ge 1 ] &&
	    [ "$(log_count backlog_log resolved)" -ge 1 ]
}
t_until 20 resolved || t_fail "the backlog alerts did not resolve"
# Three more checks (one a second) must change nothing: a bounded wait
# for something that must not happen.
sleep 3.5
t_eq "webhook: backlog fired once" 1 "$(alert_count "$T_DIR/hook.out" backlog firing)"
t_eq "webhook: backlog resolved once" 1 "$(alert_count "$T_DIR/hook.out" backlog resolved)"
t_eq "plugin: backlog_plugin fired once" 1 "$(alert_count "$T_DIR/alerts.jsonl" backlog_plugin firing)"
t_eq "plugin: backlog_plugin resolved once" 1 "$(alert_count "$T_DIR/alerts.jsonl" backlog_plugin resolved)"
t_eq "log: backlog_log fired once" 1 "$(log_count backlog_log firing)"
t_eq "log: backlog_log resolved once" 1 "$(log_count backlog_log resolved)"
t_check "the alert's JSON names its metric, value and threshold" \
    jq -e -s 'map(select(.alert == "backlog" and .status == "firing"))[0] | .metric == "queue_depth" and .value >= 5 and .threshold == 5 and .when == "queue_depth >= 5"' "$T_DIR/hook.out"

# --- log_jsonl across a clean stop and a SIGKILL ---------------------------
contiguous() { # the log's seqs, duplicates aside, run from its first to its last
	jq -s -e 'map(.seq | tonumber) | unique | (.[-1] - .[0] + 1) == length' "$T_DIR"/events.jsonl >/dev/null
}
t_stop_status "$SERVER_PID"
t_eq "the server stops cleanly" 0 "$T_STATUS"
t_server_start s1 SJE_CONFIG="$CONFIG"
sje submit noop --id after_stop --wait >/dev/null
t_until 10 logged_all after_stop || t_fail "log_jsonl missed after_stop"
t_check "log_jsonl has no gap across a clean stop" contiguous
t_eq "log_jsonl has no duplicate across a clean stop" 0 \
    "$(jq -s 'map(.seq) | length - (unique | length)' "$T_DIR/events.jsonl")"
t_kill9 "$SERVER_PID"
t_server_start s1 SJE_CONFIG="$CONFIG"
for i in 1 2 3 4 5; do sje submit noop --id "after_kill$i" >/dev/null; done
sje submit noop --id after_kill --wait >/dev/null
t_until 10 logged_all after_kill || t_fail "log_jsonl missed after_kill"
t_check "log_jsonl has no gap across a SIGKILL" contiguous

# --- bad rules and notifiers stop the start ----------------------------------
bad_start() { # CONFIG_TEXT EXPECTED_PATTERN
	printf '%s\n' "$1" >"$T_DIR/bad.yaml"
	local out
	if out=$(SJE_SERVER_DATA_DIR="$T_DIR/bad" SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
	    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
	    timeout 20 "$SJE_BIN/sje-server" --config "$T_DIR/bad.yaml" 2>&1); then
		echo "started: $out"
		return 1
	fi
	grep -q -- "$2" <<<"$out" || { echo "got: $out"; return 1; }
}
t_check "an unknown metric is refused naming file, line and key" bad_start \
    "$(printf 'monitoring:\n  alerts:\n    - {name: a, when: "queue > 1"}')" \
    "bad.yaml:3: monitoring.alerts\[0\].when: unknown metric 'queue'"
t_check "a missing operator is refused" bad_start \
    "$(printf 'monitoring:\n  alerts:\n    - {name: a, when: "queue_depth 1"}')" \
    "monitoring.alerts\[0\].when: expected one of"
t_check "a notifier that is not loaded is refused" bad_start \
    "$(printf 'monitoring:\n  alerts:\n    - {name: a, when: "queue_depth > 1", notify: webhook}')" \
    "monitoring.alerts\[0\].notify: 'webhook' is not an enabled plugin"
t_check "a notifier plugin without on_alert is refused" bad_start \
    "$(printf 'plugins:\n  - {name: log_jsonl, options: {path: %s}}\nmonitoring:\n  alerts:\n    - {name: a, when: "running > 1", notify: log_jsonl}' "$T_DIR/x.jsonl")" \
    "'log_jsonl' is a plugin without an on_alert hook"
t_check "a coordinator plugin whose init fails stops the start" bad_start \
    "$(printf 'plugins:\n  - {name: log_jsonl, options: {path: %s/missing/dir/x.jsonl}}' "$T_DIR")" \
    "plugin log_jsonl: init failed"

t_stop_status "$SERVER_PID"
t_eq "the server stops cleanly" 0 "$T_STATUS"
t_check "no sanitizer report in the server's log" t_no_sanitizer_report "$T_DIR/s1.log"

# --- a slow hook delays no job ------------------------------------------------
# hooktest sleeps 50 ms in each on_event: 30 jobs make 90 events, 4.5 s of
# hook work; the jobs themselves take a fraction of a second.
cat >"$T_DIR/slow.yaml" <<EOF
plugins:
  - {name: core}
  - {name: hooktest, options: {events_file: "$T_DIR/slow-events.txt", slow_ms: 50}}
EOF
unset RPC_URL EVENTS_URL HTTP_URL # a fresh server
t_server_start slow SJE_CONFIG="$T_DIR/slow.yaml"
t_worker_start w2 4 "$T_DIR/slow.yaml"
tasks=$(jq -c -n '{tasks: [range(1; 31) | {task_id: "slow\(.)", function: "noop"}]}')
post /submit "$tasks"
t_eq "30 jobs submitted at once" 201 "$CODE"
succeeded() { curl -s "$HTTP_URL/jobs?state=SUCCEEDED&limit=100" | jq '.jobs | length'; }
all_done() { [ "$(succeeded)" = 30 ]; }
t_until 30 all_done || t_fail "the jobs did not finish: $(succeeded) of 30"
heard=$(grep -c . "$T_DIR/slow-events.txt" 2>/dev/null || true)
t_check "the jobs finished while the slow hook had heard of only ${heard:-0} of their 90 events" \
    test "${heard:-0}" -lt 90
heard_all() { [ "$(grep -c . "$T_DIR/slow-events.txt" 2>/dev/null)" -ge 90 ]; }
t_until 30 heard_all || t_fail "the slow hook did not catch up"
t_eq "and then heard of each of them once, in order" \
    "$(seq "$(head -n 1 "$T_DIR/slow-events.txt")" "$(tail -n 1 "$T_DIR/slow-events.txt")" | tr '\n' ' ')" \
    "$(tr '\n' ' ' <"$T_DIR/slow-events.txt")"
t_stop_status "$SERVER_PID"
t_eq "the slow server stops cleanly" 0 "$T_STATUS"
t_check "no sanitizer report in its log" t_no_sanitizer_report "$T_DIR/slow.log"
t_done
