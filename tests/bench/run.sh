#!/usr/bin/env bash
# run.sh — the skeleton's benchmark: a coordinator and two workers on
# loopback (a fresh store in a temp dir), then
#   1. throughput: 20,000 noop jobs submitted through libsje, jobs/s from
#      first submit to last completion;
#   2. latency: 2,000 noop jobs one after another, p50/p99;
#   3. dag: one batch of 10,000 noop jobs (a root, 9,998 leaves, a sink
#      after all leaves): submit time and time to the sink's completion.
#
#   tests/bench/run.sh [BUILD_DIR]     (default: build)
# Extra environment: BENCH_JOBS, BENCH_LAT_JOBS, BENCH_SLOTS, BENCH_SYNC.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
case "$BUILD" in /*) BIN="$BUILD/bin" ;; *) BIN="$(pwd)/$BUILD/bin" ;; esac
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sje-bench.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$DIR"
}
trap cleanup EXIT

SJE_SERVER_DATA_DIR="$DIR/data" SJE_SERVER_SYNC="${BENCH_SYNC:-normal}" \
    SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 \
    SJE_HTTP_LISTEN=127.0.0.1:0 \
    SJE_LOGGING_LEVEL=warn "$BIN/sje-server" 2>"$DIR/server.log" &
PIDS+=($!)
for _ in $(seq 1 200); do [ -s "$DIR/data/endpoints" ] && break; sleep 0.05; done
URL=$(sed -n 's/^rpc_url=//p' "$DIR/data/endpoints")
for w in bench-a bench-b; do
	SJE_WORKER_SERVER_URL="$URL" SJE_LOGGING_LEVEL=warn \
	    "$BIN/sje-worker" --name "$w" --slots "${BENCH_SLOTS:-8}" \
	    2>"$DIR/$w.log" &
	PIDS+=($!)
done
for _ in $(seq 1 200); do
	n=$("$BIN/sje-client" --server "$URL" --json workers 2>/dev/null |
	    jq '.workers | length' || echo 0)
	[ "$n" -ge 2 ] && break
	sleep 0.05
done
echo "machine: $(nproc) cores, $(uname -m); sync=${BENCH_SYNC:-normal}, 2 workers x ${BENCH_SLOTS:-8} slots"
"$BIN/sje-bench" throughput --server "$URL" --jobs "${BENCH_JOBS:-20000}"
"$BIN/sje-bench" latency --server "$URL" --jobs "${BENCH_LAT_JOBS:-2000}"
"$BIN/sje-bench" dag --server "$URL" --jobs "${BENCH_DAG_JOBS:-10000}"
