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
# Extra environment: BENCH_JOBS, BENCH_LAT_JOBS, BENCH_SLOTS, BENCH_SYNC;
# BENCH_CONFIG names a config.yaml for the server and the workers (say, one
# that enables log_jsonl, to measure the cost of the hooks);
# BENCH_TLS=1 runs everything over tls+tcp:// with mutual TLS, with
# certificates made by deploy/certs.sh (a client certificate each for the
# workers and for the bench client, since the server requires them).
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

SCHEME=tcp HOST=127.0.0.1
SERVER_TLS=() CLIENT_TLS=()
worker_tls() { :; }
if [ "${BENCH_TLS:-0}" = 1 ]; then
	SCHEME=tls+tcp HOST=localhost
	C="$DIR/certs"
	bash deploy/certs.sh --out "$C" --server localhost \
	    --worker bench-a --worker bench-b >/dev/null
	SERVER_TLS=(SJE_SECURITY_TLS_CA="$C/ca.pem"
	    SJE_SECURITY_TLS_CERT="$C/server.pem"
	    SJE_SECURITY_TLS_KEY="$C/server.key")
	CLIENT_TLS=(SJE_SECURITY_TLS_CA="$C/ca.pem"
	    SJE_SECURITY_TLS_CERT="$C/client.pem"
	    SJE_SECURITY_TLS_KEY="$C/client.key")
	worker_tls() {
		WORKER_TLS=(SJE_SECURITY_TLS_CA="$C/ca.pem"
		    SJE_SECURITY_TLS_CERT="$C/worker-$1.pem"
		    SJE_SECURITY_TLS_KEY="$C/worker-$1.key")
	}
fi
WORKER_TLS=()
export SJE_CONFIG="${BENCH_CONFIG:-}"
env "${SERVER_TLS[@]}" \
    SJE_SERVER_DATA_DIR="$DIR/data" SJE_SERVER_SYNC="${BENCH_SYNC:-normal}" \
    SJE_SERVER_RPC_URL=$SCHEME://$HOST:0 SJE_SERVER_EVENTS_URL=$SCHEME://$HOST:0 \
    SJE_HTTP_LISTEN=127.0.0.1:0 \
    SJE_LOGGING_LEVEL=warn "$BIN/sje-server" 2>"$DIR/server.log" &
PIDS+=($!)
for _ in $(seq 1 200); do [ -s "$DIR/data/endpoints" ] && break; sleep 0.05; done
URL=$(sed -n 's/^rpc_url=//p' "$DIR/data/endpoints")
for w in bench-a bench-b; do
	worker_tls "$w"
	env "${WORKER_TLS[@]}" SJE_WORKER_SERVER_URL="$URL" SJE_LOGGING_LEVEL=warn \
	    "$BIN/sje-worker" --name "$w" --slots "${BENCH_SLOTS:-8}" \
	    2>"$DIR/$w.log" &
	PIDS+=($!)
done
# The CLI and the bench client use the client certificate.
for kv in "${CLIENT_TLS[@]}"; do export "${kv?}"; done
for _ in $(seq 1 200); do
	n=$("$BIN/sje-client" --server "$URL" --json workers 2>/dev/null |
	    jq '.workers | length' || echo 0)
	[ "$n" -ge 2 ] && break
	sleep 0.05
done
echo "machine: $(nproc) cores, $(uname -m); sync=${BENCH_SYNC:-normal}, 2 workers x ${BENCH_SLOTS:-8} slots; transport $SCHEME"
"$BIN/sje-bench" throughput --server "$URL" --jobs "${BENCH_JOBS:-20000}"
"$BIN/sje-bench" latency --server "$URL" --jobs "${BENCH_LAT_JOBS:-2000}"
"$BIN/sje-bench" dag --server "$URL" --jobs "${BENCH_DAG_JOBS:-10000}"
