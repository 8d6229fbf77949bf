#!/usr/bin/env bash
# coordinators.sh — several coordinators on one PostgreSQL database, against
# one coordinator on SQLite, on this machine in one run (ratios hold where
# absolute figures drift). On loopback, in a fresh temp dir, with a
# PostgreSQL of the script's own (tests/support/pg.sh):
#
#   for SQLite (one coordinator), then PostgreSQL with 1, 2 and 3
#   coordinators (one leads, the others follow and hand their calls on),
#   two workers x BENCH_SLOTS (8) slots, worker i served by coordinator
#   i mod N:
#     many        32 client threads in all, split evenly over the
#                 coordinators (one sje-bench per coordinator, at once),
#                 each submitting one job at a time: jobs/s (summed) and
#                 the p50/p99 submit latency of the first coordinator's
#     w2          W2 through the leader, and through a follower (N >= 2)
#     throughput  batches of 500 through the leader
#
#   tests/bench/coordinators.sh [BUILD_DIR]     (default: build)
# Sizes: BENCH_MANY_JOBS (per thread, 100), BENCH_LAT_JOBS (500),
# BENCH_JOBS (10000), BENCH_SLOTS (8).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
case "$BUILD" in /*) BIN="$BUILD/bin" ;; *) BIN="$(pwd)/$BUILD/bin" ;; esac
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sje-bench.XXXXXX")
PIDS=()
PG_STARTED=0
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "$PG_STARTED" = 1 ]; then
		bash tests/support/pg.sh stop "$DIR/pg.dsn" || true
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT
RESULTS="$DIR/results"
: >"$RESULTS"
SLOTS=${BENCH_SLOTS:-8}
MANY=${BENCH_MANY_JOBS:-100}
LAT=${BENCH_LAT_JOBS:-500}
JOBS=${BENCH_JOBS:-10000}
THREADS=32

stop() {
	for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# start_coord NAME [env...]: a coordinator on loopback port 0, ready
# (leading or following); appends its PID and RPC URL to CPIDS, CURLS.
start_coord() {
	local name=$1
	shift
	mkdir -p "$DIR/$name"
	env "$@" SJE_SERVER_DATA_DIR="$DIR/$name" \
	    SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 \
	    SJE_HTTP_LISTEN=127.0.0.1:0 SJE_LOGGING_LEVEL=warn \
	    "$BIN/sje-server" 2>>"$DIR/$name.log" &
	CPIDS+=($!)
	PIDS+=($!)
	for _ in $(seq 1 400); do [ -s "$DIR/$name/endpoints" ] && break; sleep 0.05; done
	CURLS+=("$(sed -n 's/^rpc_url=//p' "$DIR/$name/endpoints")")
}

# start_workers: two workers, worker i on coordinator i mod N; waits
# until both are registered.
start_workers() {
	WPIDS=()
	local i=0 w n
	for w in bench-a bench-b; do
		SJE_WORKER_SERVER_URL="${CURLS[$((i % ${#CURLS[@]}))]}" SJE_LOGGING_LEVEL=warn \
		    "$BIN/sje-worker" --name "$w" --slots "$SLOTS" 2>>"$DIR/$w.log" &
		WPIDS+=($!)
		PIDS+=($!)
		i=$((i + 1))
	done
	for _ in $(seq 1 200); do
		n=$("$BIN/sje-client" --server "${CURLS[0]}" --json workers 2>/dev/null |
		    jq '.workers | length' || echo 0)
		[ "$n" -ge 2 ] && break
		sleep 0.05
	done
}

# get MODE KEY: a figure from the RESULT lines (the last for MODE).
get() {
	awk -v m="$1" -v k="$2" '$1 == "RESULT" && $2 == m {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) v = kv[2] }
	} END { print v }' "$RESULTS"
}

# run_set TAG: the workloads against CURLS, their RESULT lines tagged.
run_set() {
	local tag=$1 n=${#CURLS[@]} per i total=0 out p50 p99
	per=$((THREADS / n))
	for i in $(seq 0 $((n - 1))); do
		"$BIN/sje-bench" many --server "${CURLS[$i]}" --threads "$per" \
		    --jobs "$MANY" >"$DIR/many-$i.out" &
		BPIDS[$i]=$!
	done
	for i in $(seq 0 $((n - 1))); do wait "${BPIDS[$i]}"; done
	for i in $(seq 0 $((n - 1))); do
		out=$(sed -n 's/^RESULT many[0-9]* jobs_per_s=\([0-9]*\).*/\1/p' "$DIR/many-$i.out")
		total=$((total + out))
	done
	p50=$(sed -n 's/^RESULT many[0-9]* .*p50_us=\([0-9]*\).*/\1/p' "$DIR/many-0.out")
	p99=$(sed -n 's/^RESULT many[0-9]* .*p99_us=\([0-9]*\).*/\1/p' "$DIR/many-0.out")
	echo "RESULT $tag-many jobs_per_s=$total p50_us=$p50 p99_us=$p99" >>"$RESULTS"
	echo "$tag: many ($THREADS threads over $n coordinators): $total jobs/s, p50 $p50 us, p99 $p99 us"
	"$BIN/sje-bench" latency --server "${CURLS[0]}" --jobs "$LAT" |
	    sed "s/^RESULT w2 /RESULT $tag-w2 /" | tee -a "$RESULTS" |
	    grep -v '^RESULT ' | sed "s/^/$tag (leader): /"
	if [ "$n" -ge 2 ]; then
		"$BIN/sje-bench" latency --server "${CURLS[1]}" --jobs "$LAT" |
		    sed "s/^RESULT w2 /RESULT $tag-w2f /" | tee -a "$RESULTS" |
		    grep -v '^RESULT ' | sed "s/^/$tag (follower): /"
	fi
	"$BIN/sje-bench" throughput --server "${CURLS[0]}" --jobs "$JOBS" --batch 500 |
	    sed "s/^RESULT throughput /RESULT $tag-throughput /" | tee -a "$RESULTS" |
	    grep -v '^RESULT ' | sed "s/^/$tag: /"
}

echo "== one coordinator on SQLite, 2 workers x $SLOTS slots"
CPIDS=() CURLS=()
start_coord sqlite
start_workers
run_set sqlite
stop "${WPIDS[@]}" "${CPIDS[@]}"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "== PostgreSQL is not installed (apt-get install postgresql): nothing more to measure"
	exit 0
fi
bash tests/support/pg.sh start "$DIR/pg.dsn"
PG_STARTED=1
base=$(cat "$DIR/pg.dsn")
for k in 1 2 3; do
	db=sje_bench_$k
	psql -q -X "$base" -c "CREATE DATABASE $db" >/dev/null
	dsn="${base% dbname=*} dbname=$db"
	echo "== $k coordinator(s) on one PostgreSQL database, 2 workers x $SLOTS slots"
	CPIDS=() CURLS=()
	for i in $(seq 1 "$k"); do
		start_coord "pg$k-$i" SJE_SERVER_STORE=postgres "SJE_POSTGRES_DSN=$dsn"
	done
	start_workers
	run_set "pg$k"
	stop "${WPIDS[@]}" "${CPIDS[@]}"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
echo "== ratios (this run)"
for k in 1 2 3; do
	echo "pg, $k coordinator(s) / sqlite, many jobs/s:  $(ratio "$(get "pg$k-many" jobs_per_s)" "$(get sqlite-many jobs_per_s)")"
done
echo "pg 2 / pg 1 coordinators, many jobs/s:     $(ratio "$(get pg2-many jobs_per_s)" "$(get pg1-many jobs_per_s)")"
echo "pg 3 / pg 1 coordinators, many jobs/s:     $(ratio "$(get pg3-many jobs_per_s)" "$(get pg1-many jobs_per_s)")"
echo "W2 p50 through a follower / the leader:    $(ratio "$(get pg2-w2f p50_us)" "$(get pg2-w2 p50_us)")"
echo "pg 1 / sqlite W2 p50:                      $(ratio "$(get pg1-w2 p50_us)" "$(get sqlite-w2 p50_us)")"
echo "pg 1 / sqlite throughput (batches of 500): $(ratio "$(get pg1-throughput jobs_per_s)" "$(get sqlite-throughput jobs_per_s)")"
