#!/usr/bin/env bash
# text: bad text never poisons the server. A raw RPC peer's strings of
# ill-formed UTF-8 or with NUL are refused INVALID_ARGUMENT naming the
# field, and nothing is stored; a job's error text cannot forge log lines
# or reach a terminal raw; rows with bad bytes written into the store (as
# older versions may have stored them) still render, with U+FFFD, in
# /status, /jobs, /events and `sje-client watch --json`.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || t_fail "sqlite3 is needed (deploy/deps.sh)"
FFFD=$(printf '\xef\xbf\xbd')
ESC=$(printf '\033')

t_server_start server
t_worker_start wa 2

## The RPC door refuses bad strings of submitters and workers alike.
t_check "every bad string is refused INVALID_ARGUMENT naming its field" \
    "$SJE_BIN/text_client" "$RPC_URL"
t_eq "nothing was stored" 0 "$(sje --json list | jq '.jobs | length')"
t_eq "no worker registered" '["wa"]' \
    "$(sje --json workers | jq -c '[.workers[].name]')"

## The REST door refuses them too (jansson: no ill-formed UTF-8, no \u0000).
rest() { curl -s -o "$T_DIR/rest" -w '%{http_code}' -X POST --data-binary @- "$HTTP_URL/submit"; }
t_eq "REST: a label of ill-formed UTF-8 is 400" 400 "$(printf \
    '{"task_id":"rest-1","function":"echo","labels":{"team":"a\xffb"}}' | rest)"
t_eq "with INVALID_ARGUMENT naming the label" INVALID_ARGUMENT/labels.team \
    "$(jq -r '.error.code + "/" + .error.field' "$T_DIR/rest")"
t_eq "REST: an escaped NUL is 400" 400 "$(printf '%s' \
    '{"task_id":"rest-2","function":"echo","labels":{"team":"a\u0000b"}}' | rest)"
t_eq "naming the label" labels.team "$(jq -r .error.field "$T_DIR/rest")"
t_eq "REST: a task_id with a raw NUL is 400" 400 "$(printf \
    '{"task_id":"rest\0-3","function":"echo"}' | rest)"
t_eq "naming the task_id" task_id "$(jq -r .error.field "$T_DIR/rest")"
t_eq "nothing was stored over REST either" 0 "$(sje --json list | jq '.jobs | length')"

## A job's text cannot forge log lines or drive a terminal.
forge=$'oops\n2026-01-01T00:00:00.000Z error sje-server: forged line \e[31mred\e[0m'
params=$(jq -cn --arg m "$forge" '{message: $m}')
sje submit fail --params "$params" --id forge-1 --wait >/dev/null 2>&1 || true
t_until 20 t_state_is forge-1 FAILED || t_fail "forge-1 did not fail"
t_until 10 grep -q 'attempt 1 failed' "$T_DIR/server.log" ||
    t_fail "the failure was not logged"
t_check "the server log has no forged line" \
    bash -c "! grep -q '^2026-01-01T00:00:00.000Z' '$T_DIR/server.log'"
t_check "the error's newline is logged escaped" \
    grep -qF 'oops\n2026-01-01T00:00:00.000Z error sje-server: forged line' \
    "$T_DIR/server.log"
t_check "no ESC byte reaches the server log" \
    bash -c "! grep -q \$'\\e' '$T_DIR/server.log'"
t_check "nor the worker's" bash -c "! grep -q \$'\\e' '$T_DIR/worker-wa.log'"
human=$(sje status forge-1)
t_check "sje-client status shows no ESC byte" \
    bash -c "! grep -q \$'\\e' <<<\"\$1\"" _ "$human"
t_check "sje-client status shows the text escaped" \
    grep -qF 'oops\n2026-01-01T00:00:00.000Z error sje-server: forged line \x1b[31mred' \
    <<<"$human"
t_check "and params as the same JSON (escaped once, not twice)" \
    grep -qF 'params:      {"message":"oops\n2026-01-01T00:00:00.000Z error sje-server: forged line \u001b[31mred' \
    <<<"$human"
t_eq "sje-client status prints the error on one line" 1 \
    "$(grep -c '^error:' <<<"$human")"
t_eq "--json keeps the exact text" "$forge" \
    "$(sje --json status forge-1 | jq -r .error.message)"

## Rows with bad bytes in the store still render.
post() { curl -s -o /dev/null -w '%{http_code}' -X POST --data "$1" "$HTTP_URL/submit"; }
t_eq "store-1 is submitted" 201 "$(post '{"task_id":"store-1","function":"fail",
  "params":{"message":"MARK in error"},"labels":{"team":"MARK"}}')"
t_until 20 t_state_is store-1 FAILED || t_fail "store-1 did not fail"
t_eq "store-2 is submitted" 201 "$(post '{"task_id":"store-2",
  "function":"nobody","labels":{"team":"MARK"}}')"
kill -TERM "$SERVER_PID"
t_wait_exit "$SERVER_PID" 20 || t_fail "the server did not stop"
# "MARK" becomes M, 0xFF, R, K (same length: the packed spec and events
# stay well-formed protobuf); the function "nobody" becomes "nob", 0xFF,
# "dy".
db="$T_DIR/server/sje.db"
bad="CAST(X'4dff524b' AS TEXT)"
sqlite3 "$db" "
UPDATE jobs SET error_message = replace(error_message, 'MARK', $bad),
  spec = CAST(replace(CAST(spec AS TEXT), 'MARK', $bad) AS BLOB);
UPDATE attempts SET error_message = replace(error_message, 'MARK', $bad);
UPDATE events SET data = CAST(replace(CAST(data AS TEXT), 'MARK', $bad) AS BLOB);
UPDATE jobs SET function = 'nob' || CAST(X'ff' AS TEXT) || 'dy',
  spec = CAST(replace(CAST(spec AS TEXT), 'nobody',
    'nob' || CAST(X'ff' AS TEXT) || 'dy') AS BLOB)
  WHERE task_id = 'store-2';
UPDATE events SET data = CAST(replace(CAST(data AS TEXT), 'nobody',
    'nob' || CAST(X'ff' AS TEXT) || 'dy') AS BLOB)
  WHERE task_id = 'store-2';"
t_eq "the store holds the bad bytes" 1 "$(sqlite3 "$db" \
    "SELECT count(*) FROM jobs WHERE instr(error_message, $bad) > 0")"
# The restarted server logs JSON: every line must stay one JSON document.
t_server_start server SJE_LOGGING_FORMAT=json

code() { curl -s -o "$T_DIR/body" -w '%{http_code}' "$HTTP_URL$1"; }
t_eq "GET /status answers 200" 200 "$(code /status/store-1)"
t_eq "with U+FFFD in the error" "M${FFFD}RK in error" \
    "$(jq -r .error.message "$T_DIR/body")"
t_eq "and in the label" "M${FFFD}RK" "$(jq -r .labels.team "$T_DIR/body")"
t_eq "GET /jobs answers 200" 200 "$(code /jobs)"
t_eq "listing the bad function with U+FFFD" "nob${FFFD}dy" \
    "$(jq -r '.jobs[] | select(.task_id == "store-2") | .function' "$T_DIR/body")"
t_eq "GET /events answers 200" 200 "$(code '/events?after=0&limit=1000')"
t_check "with U+FFFD in the stored events" \
    grep -qF "M${FFFD}RK in error" "$T_DIR/body"
t_eq "sje-client status answers too" "M${FFFD}RK in error" \
    "$(sje --json status store-1 | jq -r .error.message)"
t_check "sje-client status in text too" grep -qF 'M\xffRK in error' \
    <<<"$(sje status store-1)"

## watch --json prints an event with bad text instead of dropping it.
# (The program itself, not the sje function: $! must be its PID, or the
# kill below would end only a subshell and leave watch running.)
"$SJE_BIN/sje-client" --json watch >"$T_DIR/watch.out" 2>"$T_DIR/watch.log" &
WATCH_PID=$!
T_PIDS+=("$WATCH_PID")
# pub/sub may lose the first messages of a new subscriber: cancel, then
# check the event is printed, re-submitting a marker until watch is live.
watch_has() { grep -q "\"task_id\":\"$1\"" "$T_DIR/watch.out"; }
for i in $(seq 1 20); do
	sje submit echo --id "marker-$i" >/dev/null
	if t_until 1 watch_has "marker-$i"; then break; fi
done
watch_has "marker-$i" || t_fail "watch never saw a marker"
sje cancel store-2 >/dev/null
t_until 20 watch_has store-2 || t_fail "watch dropped the store-2 event"
t_eq "the event's function carries U+FFFD" "nob${FFFD}dy" \
    "$(grep '"task_id":"store-2"' "$T_DIR/watch.out" | tail -n 1 | jq -r .function)"
t_check "watch did not warn about the event" \
    bash -c "! grep -q skipped '$T_DIR/watch.log'"
t_check "every JSON log line stays valid JSON" \
    bash -c "grep -v '^#' '$T_DIR/server.log' | sed -n '/^{/,\$p' | jq -e . >/dev/null"
kill -TERM "$WATCH_PID" "$SERVER_PID" "$WORKER_PID"
t_wait_exit "$WATCH_PID" 20 || t_fail "watch did not stop"
t_wait_exit "$SERVER_PID" 20 || t_fail "the server did not stop"
t_wait_exit "$WORKER_PID" 20 || t_fail "the worker did not stop"
t_check "no sanitizer report in the server's log" \
    t_no_sanitizer_report "$T_DIR/server.log"
t_check "nor in the worker's" t_no_sanitizer_report "$T_DIR/worker-wa.log"
t_check "nor in watch's" t_no_sanitizer_report "$T_DIR/watch.log"
t_done
