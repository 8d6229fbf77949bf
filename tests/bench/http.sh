#!/usr/bin/env bash
# http.sh — the REST gateway's benchmark: a coordinator and one worker on
# loopback (a fresh store in a temp dir), then wrk (Debian's package) on
#   1. POST /submit: a new job per request (a noop with small params),
#      each answered 201 after its group commit;
#   2. GET /status/{id}: random reads among 1,000 finished jobs;
# printing requests/s and p50/p99 latency for each. Not run by CI.
#
#   tests/bench/http.sh [BUILD_DIR]     (default: build)
# Extra environment: BENCH_DURATION (s, 10), BENCH_CONNS (16),
# BENCH_THREADS (2), BENCH_SYNC (normal), BENCH_LOG_LEVEL (info: the
# access log is written, to a file, as in production).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
case "$BUILD" in /*) BIN="$BUILD/bin" ;; *) BIN="$(pwd)/$BUILD/bin" ;; esac
command -v wrk >/dev/null || { echo "http.sh needs wrk (apt-get install wrk)"; exit 2; }
DUR=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-16}
THREADS=${BENCH_THREADS:-2}

DIR=$(mktemp -d "${TMPDIR:-/tmp}/sje-http-bench.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$DIR"
}
trap cleanup EXIT

SJE_SERVER_DATA_DIR="$DIR/data" SJE_SERVER_SYNC="${BENCH_SYNC:-normal}" \
    SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 \
    SJE_HTTP_LISTEN=127.0.0.1:0 SJE_LOGGING_LEVEL="${BENCH_LOG_LEVEL:-info}" \
    "$BIN/sje-server" 2>"$DIR/server.log" &
PIDS+=($!)
for _ in $(seq 1 200); do [ -s "$DIR/data/endpoints" ] && break; sleep 0.05; done
RPC=$(sed -n 's/^rpc_url=//p' "$DIR/data/endpoints")
HTTP=$(sed -n 's/^http_url=//p' "$DIR/data/endpoints")
SJE_WORKER_SERVER_URL="$RPC" SJE_LOGGING_LEVEL=warn \
    "$BIN/sje-worker" --name bench-w --slots 8 2>"$DIR/worker.log" &
PIDS+=($!)
for _ in $(seq 1 200); do
	curl -sf "$HTTP/workers" | jq -e '.workers | length > 0' >/dev/null && break
	sleep 0.05
done

# The jobs GET /status reads: one batch of 1,000, run to the end.
seq 1 1000 | jq -R '{task_id: "st-\(.)", function: "noop", params: {n: tonumber}}' |
    jq -s -c '{tasks: .}' >"$DIR/batch.json"
curl -sf --data-binary "@$DIR/batch.json" "$HTTP/submit" >/dev/null
for _ in $(seq 1 400); do
	n=$(curl -sf "$HTTP/jobs?state=SUCCEEDED&limit=1000" | jq '.jobs | length')
	[ "$n" -ge 1000 ] && break
	sleep 0.05
done

# Each thread counts answers that are not the expected status; done()
# prints one line: requests/s, p50 and p99, and those errors.
cat >"$DIR/common.lua" <<'LUA'
local threads = {}
local next_id = 0
function setup(thread)
	thread:set("id", next_id)
	next_id = next_id + 1
	table.insert(threads, thread)
end
function response(status, headers, body)
	if status ~= expected then bad = bad + 1 end
end
function done(summary, latency, requests)
	local wrong = 0
	for _, t in ipairs(threads) do wrong = wrong + t:get("bad") end
	local errs = summary.errors.connect + summary.errors.read +
	    summary.errors.write + summary.errors.timeout
	io.write(string.format(
	    "RESULT %.0f req/s  p50 %.2f ms  p99 %.2f ms  (%d requests, %d not %d, %d socket errors)\n",
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    summary.requests, wrong, expected, errs))
end
LUA
cat "$DIR/common.lua" - >"$DIR/submit.lua" <<'LUA'
expected = 201
function init(args)
	bad = 0
	n = 0
	prefix = "w" .. id .. "-"
end
function request()
	n = n + 1
	local body = '{"task_id":"' .. prefix .. n ..
	    '","function":"noop","params":{"input_data":[1,2,3],"n":' .. n .. '}}'
	return wrk.format("POST", "/submit",
	    {["Content-Type"] = "application/json"}, body)
end
LUA
cat "$DIR/common.lua" - >"$DIR/status.lua" <<'LUA'
expected = 200
function init(args)
	bad = 0
	math.randomseed(id + 1)
end
function request()
	return wrk.format("GET", "/status/st-" .. math.random(1, 1000))
end
LUA

echo "machine: $(nproc) cores, $(uname -m); wrk -t$THREADS -c$CONNS -d${DUR}s; sync=${BENCH_SYNC:-normal}, log level ${BENCH_LOG_LEVEL:-info}, 1 worker x 8 slots"
printf 'POST /submit        '
wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" -s "$DIR/submit.lua" "$HTTP" | sed -n 's/^RESULT //p'
printf 'GET /status/{id}    '
wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" -s "$DIR/status.lua" "$HTTP" | sed -n 's/^RESULT //p'
