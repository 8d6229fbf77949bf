#!/usr/bin/env bash
# plugins: the plugin ABI from the outside. The sample out-of-tree plugin
# (plugins/examples/hello) is built on its own with cmake and loaded by a
# worker from its path; its task runs and its on_event hook is called with
# each job's task_id; the worker logs JSON lines when logging.format says
# json. The same plugin, loaded by sje-server too (it declares both
# roles), refuses a bad submit there through validate_submit and hears the
# coordinator's events. A plugin described as ABI 1.0 (no roles) still
# loads in a worker, and the server skips it. Plugins that are not for
# this worker are refused at start with a clear line: the wrong ABI
# version (sje_badabi, built by the main build for this test), a shared
# object without the entry symbol, and a plugin's bad options.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)

# ---- the sample plugin, built standalone ----
t_check "the sample plugin configures on its own" \
    cmake -S "$SRC/plugins/examples/hello" -B "$T_DIR/hello-build" \
    -DSJE_PLUGIN_INCLUDE_DIR="$SRC/plugins" >"$T_DIR/hello-cmake.log" 2>&1
t_check "and builds" cmake --build "$T_DIR/hello-build" >>"$T_DIR/hello-cmake.log" 2>&1
HELLO_SO="$T_DIR/hello-build/sje_hello.so"
t_check "into sje_hello.so" test -f "$HELLO_SO"

cat >"$T_DIR/hello.yaml" <<EOF
plugins:
  - {name: core}
  - {name: hello, path: "$HELLO_SO", options: {greeting: hello}}
  - {name: abi10}
logging:
  format: json
EOF

t_server_start server
SJE_TEST_LOG_LEVEL=debug t_worker_start wh 2 "$T_DIR/hello.yaml"
WH_PID=$WORKER_PID
t_check "the worker registers hello" bash -c \
    "'$SJE_BIN/sje-client' --json workers | jq -e '.workers[] | select(.name == \"wh\") | .functions | index(\"hello\") != null' >/dev/null"

out=$(sje --json submit hello --id hello-1 --params '{"name": "Ada"}' --wait)
t_eq "the sample plugin's task runs" SUCCEEDED "$(jq -r .state <<<"$out")"
t_eq "and greets" '{"greeting":"hello, Ada"}' "$(jq -c .result <<<"$out")"
out=$(sje --json submit hello --id hello-2 --params '{}' --retries 0 --wait || true)
t_eq "bad params fail with its error" invalid_params "$(jq -r .error.type <<<"$out")"
sje submit echo --id echo-1 --params '{"a": 1}' --wait >/dev/null
out=$(sje --json submit abi10 --id abi10-1 --wait)
t_eq "a plugin described as ABI 1.0 runs in a 1.1 worker" '{"abi":"1.0"}' "$(jq -c .result <<<"$out")"

t_stop_status "$WH_PID"
t_eq "the worker stops cleanly" 0 "$T_STATUS"
LOG="$T_DIR/worker-wh.log"
t_check "the worker's log has no sanitizer report" t_no_sanitizer_report "$LOG"

# logging.format: json: every line is one JSON object.
t_check "every worker log line is JSON" jq -e -s 'length > 0 and all(type == "object")' "$LOG"
# Every line about a job carries its task_id: no line mentions a job's id
# without naming it in task_id, and each job has its lines.
for id in hello-1 hello-2 echo-1; do
	t_eq "lines that mention $id carry its task_id" 0 \
	    "$(jq -r --arg id "$id" 'select((.msg | contains($id)) and .task_id != $id) | .msg' "$LOG" | wc -l)"
	t_check "$id has its own log lines" test \
	    "$(jq -r --arg id "$id" 'select(.task_id == $id) | .msg' "$LOG" | wc -l)" -ge 3
done
t_check "the hook saw hello-1 start, with its task_id" \
    jq -e -s 'any(.task_id == "hello-1" and .msg == "hello: event hello RUNNING (attempt 1)")' "$LOG"
t_check "and end" \
    jq -e -s 'any(.task_id == "hello-1" and .msg == "hello: event hello SUCCEEDED (attempt 1)")' "$LOG"
t_check "and the failure of hello-2" \
    jq -e -s 'any(.task_id == "hello-2" and .msg == "hello: event hello FAILED (attempt 1)")' "$LOG"
t_check "the plugin's fini ran" \
    jq -e -s 'any(.msg == "hello: saw 8 job events")' "$LOG"

# ---- the same plugin in sje-server: its coordinator hooks ----
t_stop_status "$SERVER_PID"
unset RPC_URL EVENTS_URL HTTP_URL # a second server, on fresh ports
SJE_TEST_LOG_LEVEL=debug t_server_start coord SJE_CONFIG="$T_DIR/hello.yaml"
out=$(sje submit hello --id hello-3 --params '{}' 2>&1 || true)
t_check "sje-server's validate_submit refuses a hello job without a name" \
    grep -q 'refused by plugin hello: hello needs params.name, a string' <<<"$out"
t_check "and stores nothing" bash -c "! '$SJE_BIN/sje-client' status hello-3 2>/dev/null"
sje submit noop --id coord-1 >/dev/null
t_check "sje-server's on_event hears the coordinator's events, with task_id" \
    t_until 10 jq -e -s 'any(.task_id == "coord-1" and .msg == "hello: event noop QUEUED (attempt 0)")' "$T_DIR/coord.log"
t_check "sje-server skips the worker-only plugins (and the 1.0 one)" \
    jq -e -s 'any(.msg | test("plugin abi10: not for the coordinator; skipped"))' "$T_DIR/coord.log"
t_stop_status "$SERVER_PID"
t_eq "the server stops cleanly" 0 "$T_STATUS"
t_check "the server ran hello's fini" \
    jq -e -s 'any(.msg | test("^hello: saw [0-9]+ job events"))' "$T_DIR/coord.log"
unset RPC_URL EVENTS_URL HTTP_URL
t_server_start server

# ---- plugins a worker refuses ----
# refused NAME CONFIG-TEXT: a worker with that config exits 1 at once;
# its one error line is left in $T_DIR/NAME.err.
refused() {
	local rc=0
	printf '%s\n' "$2" >"$T_DIR/$1.yaml"
	SJE_WORKER_SERVER_URL="$RPC_URL" timeout 30 "$SJE_BIN/sje-worker" \
	    --config "$T_DIR/$1.yaml" --name "$1" >"$T_DIR/$1.err" 2>&1 || rc=$?
	[ "$rc" -eq 1 ]
}

t_check "a plugin of another ABI version is refused" \
    refused badabi 'plugins: [{name: core}, {name: badabi}]'
t_check "with a clear error" \
    grep -q 'plugin badabi: ABI version 2, this worker speaks 1' "$T_DIR/badabi.err"

t_check "a shared object that is no plugin is refused" refused notplugin \
    "plugins: [{name: core}, {name: notplugin, path: \"$SJE_BIN/../lib/libsje.so\"}]"
t_check "with a clear error" \
    grep -q 'plugin notplugin: .* is not an SJE plugin (no sje_plugin_entry symbol)' "$T_DIR/notplugin.err"

t_check "a plugin's init can refuse its options" refused badopts \
    'plugins: [{name: core}, {name: exec, options: {kill_grace: 5}}]'
t_check "with its reason" \
    grep -q "plugin exec: init failed: options: unknown key 'kill_grace'" "$T_DIR/badopts.err"

t_check "two plugins giving one function are refused" refused twice \
    "$(printf '%s\n' 'tasks: {functions: {echo: {command: [/bin/echo]}}}' \
        'plugins: [{name: core}, {name: exec}]')"
t_check "naming both" \
    grep -q 'function echo is given by two plugins: core and exec' "$T_DIR/twice.err"

t_done
