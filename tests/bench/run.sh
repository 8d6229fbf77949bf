#!/usr/bin/env bash
# run.sh — SJE's benchmark, with its peers in the same run (ratios hold on
# a drifting machine where absolute figures do not). On loopback, in a
# fresh temp dir:
#
#   SJE: a coordinator and two workers (8 slots each, then 1 slot each)
#     throughput  20,000 noop jobs in batches of 500, end to end
#     latency     W2: submit and wait for the result in one call, next
#     dag         one batch of 10,000 (a root, leaves, a sink)
#     w1          W1: one synchronous submit of one job after another
#     many        1 and 32 client threads, each submitting one job at a
#                 time (the web-server case): group commit at work
#     w1p         W1P: 100 jobs per submit, 2 workers x 1 slot, with the
#                 server's CPU per job
#     store       bytes of store per finished job
#   nng floor     a bare nng req/rep round trip between two processes
#   beanstalkd    (Debian's package, binlog on) with two workers of ours:
#                 W1, W2, W1P in the same shapes
#   sync full     W1 and W2 again with server.sync=full, against
#                 beanstalkd -f0 (fsync every write)
#   postgres      throughput, W2 and W1 again with server.store=postgres,
#                 on a PostgreSQL of the script's own (BENCH_POSTGRES=0
#                 skips it; BENCH_PG_JOBS, BENCH_PG_LAT_JOBS, BENCH_PG_W1_JOBS)
#   memory        (BENCH_MEMORY=1) coordinator RSS per queued job, with
#                 1,000,000 jobs queued and no worker
# and prints the ratios the speed targets are stated in.
#
#   tests/bench/run.sh [BUILD_DIR]     (default: build)
# Sizes: BENCH_JOBS, BENCH_LAT_JOBS, BENCH_DAG_JOBS, BENCH_W1_JOBS,
# BENCH_W1P_JOBS, BENCH_MANY_JOBS (per thread), BENCH_FLOOR_N,
# BENCH_FULL_JOBS (sync full), BENCH_MEMORY_JOBS. BENCH_SLOTS (8),
# BENCH_SYNC (normal), BENCH_SYNC_FULL=0 skips the sync-full part.
# BENCH_CONFIG names a config.yaml for the server and the workers;
# BENCH_TLS=1 runs SJE over tls+tcp:// with mutual TLS (certificates
# from deploy/certs.sh).
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

# stop PID...: ends processes this script started.
stop() {
	for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# free_port: a loopback TCP port no socket uses now, outside the ephemeral
# range.
free_port() {
	local p low span
	# Below the kernel's ephemeral range, so that no socket bound to port
	# 0 or connecting out (another server's, a client's) takes it between
	# this check and our bind.
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	span=$((low - 10000))
	[ "$span" -ge 1000 ] || span=20000
	for _ in $(seq 1 100); do
		p=$((10000 + RANDOM % span))
		ss -tanH "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
	done
	echo "no free port found" >&2
	return 1
}

# bench ARGS...: runs sje-bench, shows its lines, keeps its RESULT line.
bench() {
	"$BIN/sje-bench" "$@" | tee -a "$RESULTS" | grep -v '^RESULT '
}

# get MODE KEY: a figure from the RESULT lines (the last for MODE).
get() {
	awk -v m="$1" -v k="$2" '$1 == "RESULT" && $2 == m {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) v = kv[2] }
	} END { print v }' "$RESULTS"
}

SCHEME=tcp HOST=127.0.0.1
SERVER_TLS=() CLIENT_TLS=()
worker_tls() { WORKER_TLS=(); }
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

# start_server SYNC DATA: a coordinator; sets SERVER_PID and URL.
start_server() {
	env "${SERVER_TLS[@]}" \
	    SJE_SERVER_DATA_DIR="$2" SJE_SERVER_SYNC="$1" \
	    SJE_SERVER_RPC_URL=$SCHEME://$HOST:0 SJE_SERVER_EVENTS_URL=$SCHEME://$HOST:0 \
	    SJE_HTTP_LISTEN=127.0.0.1:0 \
	    SJE_LOGGING_LEVEL=warn "$BIN/sje-server" 2>>"$DIR/server.log" &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	for _ in $(seq 1 200); do [ -s "$2/endpoints" ] && break; sleep 0.05; done
	URL=$(sed -n 's/^rpc_url=//p' "$2/endpoints")
}

# start_workers SLOTS: two workers; sets WORKER_PIDS, waits until both
# are registered.
start_workers() {
	WORKER_PIDS=()
	for w in bench-a bench-b; do
		worker_tls "$w"
		env "${WORKER_TLS[@]}" SJE_WORKER_SERVER_URL="$URL" SJE_LOGGING_LEVEL=warn \
		    "$BIN/sje-worker" --name "$w" --slots "$1" 2>>"$DIR/$w.log" &
		WORKER_PIDS+=($!)
		PIDS+=($!)
	done
	for _ in $(seq 1 200); do
		n=$(env "${CLIENT_TLS[@]}" "$BIN/sje-client" --server "$URL" --json workers 2>/dev/null |
		    jq "[.workers[] | select(.slots == $1)] | length" || echo 0)
		[ "$n" -ge 2 ] && break
		sleep 0.05
	done
}

# start_beanstalkd [FLAGS...]: beanstalkd with a binlog and two workers of
# ours; sets BS_PORT and BS_PIDS.
start_beanstalkd() {
	BS_PORT=$(free_port)
	mkdir -p "$DIR/binlog-$BS_PORT"
	beanstalkd -l 127.0.0.1 -p "$BS_PORT" -b "$DIR/binlog-$BS_PORT" "$@" &
	BS_PIDS=($!)
	PIDS+=($!)
	for _ in $(seq 1 100); do
		ss -ltnH "sport = :$BS_PORT" | grep -q . && break
		sleep 0.05
	done
	for _ in 1 2; do
		"$BIN/sje-bench" bs-worker --port "$BS_PORT" &
		BS_PIDS+=($!)
		PIDS+=($!)
	done
}

for kv in "${CLIENT_TLS[@]}"; do export "${kv?}"; done
SLOTS=${BENCH_SLOTS:-8}
echo "machine: $(nproc) cores, $(uname -m); sync=${BENCH_SYNC:-normal}; transport $SCHEME"

echo "== SJE, 2 workers x $SLOTS slots"
start_server "${BENCH_SYNC:-normal}" "$DIR/data"
start_workers "$SLOTS"
bench throughput --server "$URL" --jobs "${BENCH_JOBS:-20000}" --server-pid "$SERVER_PID"
bench latency --server "$URL" --jobs "${BENCH_LAT_JOBS:-2000}"
bench dag --server "$URL" --jobs "${BENCH_DAG_JOBS:-10000}"
bench w1 --server "$URL" --jobs "${BENCH_W1_JOBS:-5000}" --server-pid "$SERVER_PID"
bench many --server "$URL" --threads 1 --jobs "$((32 * ${BENCH_MANY_JOBS:-100}))"
bench many --server "$URL" --threads 32 --jobs "${BENCH_MANY_JOBS:-100}"
# Store bytes per finished job, over every job stored so far.
stored=$(("${BENCH_JOBS:-20000}" + "${BENCH_LAT_JOBS:-2000}" + "${BENCH_DAG_JOBS:-10000}" +
    "${BENCH_W1_JOBS:-5000}" + 64 * "${BENCH_MANY_JOBS:-100}"))
db=$(stat -c %s "$DIR/data/sje.db")
wal=$(stat -c %s "$DIR/data/sje.db-wal" 2>/dev/null || echo 0)
echo "store: database file $db bytes for $stored finished jobs: $((db / stored)) bytes per job (WAL beside it: $wal bytes)"
stop "${WORKER_PIDS[@]}"

echo "== SJE, 2 workers x 1 slot"
start_workers 1
bench throughput --server "$URL" --jobs "${BENCH_W1P_JOBS:-20000}" --batch 100 \
    --server-pid "$SERVER_PID" --name w1p
stop "${WORKER_PIDS[@]}" "$SERVER_PID"

echo "== nng floor"
NNG_PORT=$(free_port)
"$BIN/sje-bench" nng-echo --url "tcp://127.0.0.1:$NNG_PORT" &
ECHO_PID=$!
PIDS+=("$ECHO_PID")
for _ in $(seq 1 100); do ss -ltnH "sport = :$NNG_PORT" | grep -q . && break; sleep 0.05; done
bench nng-floor --url "tcp://127.0.0.1:$NNG_PORT" --jobs "${BENCH_FLOOR_N:-5000}"

HAVE_BS=0
if command -v beanstalkd >/dev/null; then
	HAVE_BS=1
	echo "== beanstalkd (binlog), 2 workers"
	start_beanstalkd
	bench bs-w1 --port "$BS_PORT" --jobs "${BENCH_W1_JOBS:-5000}"
	bench bs-w2 --port "$BS_PORT" --jobs "${BENCH_LAT_JOBS:-2000}"
	bench bs-w1p --port "$BS_PORT" --jobs "${BENCH_W1P_JOBS:-20000}" --batch 100
	stop "${BS_PIDS[@]}"
else
	echo "== beanstalkd is not installed (apt-get install beanstalkd): its lines are skipped"
fi

FULL=${BENCH_SYNC_FULL:-1}
if [ "$FULL" = 1 ]; then
	echo "== sync full: SJE with server.sync=full, beanstalkd -f0"
	start_server full "$DIR/data-full"
	start_workers "$SLOTS"
	bench w1 --server "$URL" --jobs "${BENCH_FULL_JOBS:-1000}" | sed 's/^w1:/w1 (sync full):/'
	sed -i '$ s/^RESULT w1 /RESULT w1-full /' "$RESULTS"
	bench latency --server "$URL" --jobs "${BENCH_FULL_JOBS:-1000}" | sed 's/^latency:/latency (sync full):/'
	sed -i '$ s/^RESULT w2 /RESULT w2-full /' "$RESULTS"
	stop "${WORKER_PIDS[@]}" "$SERVER_PID"
	if [ "$HAVE_BS" = 1 ]; then
		start_beanstalkd -f0
		bench bs-w1 --port "$BS_PORT" --jobs "${BENCH_FULL_JOBS:-1000}" | sed 's/^beanstalkd w1:/beanstalkd -f0 w1:/'
		sed -i '$ s/^RESULT bs-w1 /RESULT bs-w1-full /' "$RESULTS"
		bench bs-w2 --port "$BS_PORT" --jobs "${BENCH_FULL_JOBS:-1000}" | sed 's/^beanstalkd w2:/beanstalkd -f0 w2:/'
		sed -i '$ s/^RESULT bs-w2 /RESULT bs-w2-full /' "$RESULTS"
		stop "${BS_PIDS[@]}"
	fi
fi

# The store in PostgreSQL (a server of our own, tests/support/pg.sh), the
# same workloads, smaller: against the SQLite figures above.
HAVE_PG=0
if [ "${BENCH_POSTGRES:-1}" = 1 ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	HAVE_PG=1
	echo "== SJE with server.store=postgres (a local PostgreSQL, Unix socket), 2 workers x $SLOTS slots"
	bash tests/support/pg.sh start "$DIR/pg.dsn"
	PG_STARTED=1
	export SJE_POSTGRES_DSN
	SJE_POSTGRES_DSN=$(cat "$DIR/pg.dsn")
	SJE_SERVER_STORE=postgres start_server normal "$DIR/data-pg"
	start_workers "$SLOTS"
	for w in "throughput --jobs ${BENCH_PG_JOBS:-5000}:throughput" \
	    "latency --jobs ${BENCH_PG_LAT_JOBS:-500}:w2" "w1 --jobs ${BENCH_PG_W1_JOBS:-1000}:w1"; do
		args=${w%:*} name=${w##*:}
		# shellcheck disable=SC2086 # args are words
		bench $args --server "$URL" --server-pid "$SERVER_PID" | sed "s/^\([a-z0-9]*\):/\1 (postgres):/"
		sed -i "\$ s/^RESULT $name /RESULT pg-$name /" "$RESULTS"
	done
	stop "${WORKER_PIDS[@]}" "$SERVER_PID"
	unset SJE_POSTGRES_DSN
elif [ "${BENCH_POSTGRES:-1}" != 1 ]; then
	echo "== PostgreSQL skipped (BENCH_POSTGRES=${BENCH_POSTGRES})"
else
	echo "== PostgreSQL is not installed (apt-get install postgresql): its lines are skipped"
fi

if [ "${BENCH_MEMORY:-0}" = 1 ]; then
	echo "== memory: ${BENCH_MEMORY_JOBS:-1000000} jobs queued, no worker"
	start_server normal "$DIR/data-mem"
	rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
	bench throughput --server "$URL" --jobs "${BENCH_MEMORY_JOBS:-1000000}" --batch 1000 \
	    --function nobody-serves-this --name queued --wait 0
	rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
	echo "memory: coordinator RSS $((rss0 / 1024)) MiB -> $((rss1 / 1024)) MiB:" \
	    "$(((rss1 - rss0) * 1024 / ${BENCH_MEMORY_JOBS:-1000000})) bytes per queued job"
	stop "$SERVER_PID"
fi

# ratio A B: A / B to two places, or "n/a".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
echo "== ratios (one run)"
nng=$(get nng p50_us)
echo "W2 p50 / nng round trip:            $(ratio "$(get w2 p50_us)" "$nng")  (target <= 2.2)"
echo "W2 p99 / W2 p50:                    $(ratio "$(get w2 p99_us)" "$(get w2 p50_us)")  (target <= 3)"
echo "W1 jobs per nng round trip:         $(awk -v j="$(get w1 jobs_per_s)" -v r="$nng" 'BEGIN { if (j == "" || r == "") print "n/a"; else printf "%.2f", j * r / 1e6 }')  (target >= 0.8)"
echo "W1P server CPU per job:             $(get w1p cpu_us_per_job) us  (target <= 20)"
echo "many 32 / many 1 (jobs/s):          $(ratio "$(get many32 jobs_per_s)" "$(get many1 jobs_per_s)")"
if [ "$HAVE_BS" = 1 ]; then
	echo "W1P / beanstalkd W1P:               $(ratio "$(get w1p jobs_per_s)" "$(get bs-w1p jobs_per_s)")  (target >= 4)"
	echo "W1 / beanstalkd W1:                 $(ratio "$(get w1 jobs_per_s)" "$(get bs-w1 jobs_per_s)")"
	echo "beanstalkd W2 p50 / SJE W2 p50:     $(ratio "$(get bs-w2 p50_us)" "$(get w2 p50_us)")"
	if [ "$FULL" = 1 ]; then
		echo "sync full: W1 / beanstalkd -f0 W1:  $(ratio "$(get w1-full jobs_per_s)" "$(get bs-w1-full jobs_per_s)")"
		echo "sync full: beanstalkd -f0 W2 p50 / SJE W2 p50: $(ratio "$(get bs-w2-full p50_us)" "$(get w2-full p50_us)")"
	fi
fi
if [ "$HAVE_PG" = 1 ]; then
	echo "postgres / sqlite throughput:       $(ratio "$(get pg-throughput jobs_per_s)" "$(get throughput jobs_per_s)")"
	echo "postgres / sqlite W2 p50:           $(ratio "$(get pg-w2 p50_us)" "$(get w2 p50_us)")"
	echo "postgres / sqlite W1:               $(ratio "$(get pg-w1 jobs_per_s)" "$(get w1 jobs_per_s)")"
fi
