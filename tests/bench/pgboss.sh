#!/usr/bin/env bash
# pgboss.sh — pg-boss (a PostgreSQL job queue for Node.js, from npm; the
# version is pinned in tests/bench/pgqueue/package.json) and SJE with
# server.store=postgres, on one PostgreSQL of the script's own
# (tests/support/pg.sh: Unix socket only), in the same run, in the same
# shapes:
#
#   throughput  PGQ_JOBS (5000) noop jobs sent in batches of 500, end to end
#   w1          PGQ_W1_JOBS (1000) jobs, one synchronous submit after
#               another: submits/s and jobs/s end to end
#   w2          PGQ_LAT_JOBS (100) jobs one after another: submit, wait
#               until it is done, next: p50/p99
#
# pg-boss: tests/bench/pgqueue/pgboss.mjs, two worker processes, each one
# work() handler (PGBOSS_BATCH jobs per fetch, default 500; polling every
# PGBOSS_POLL_S, default 0.5 s, the least pg-boss allows). SJE: a
# coordinator and two workers of PGQ_SLOTS (8) slots each, sje-bench.
# Then the ratios SJE / pg-boss.
#
#   tests/bench/pgboss.sh [BUILD_DIR]     (default: build)
#
# It skips (exit 0) with a message when node/npm or PostgreSQL's server
# are missing. npm ci runs in tests/bench/pgqueue when node_modules is not
# there yet (it needs npm's registry once).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
case "$BUILD" in /*) BIN="$BUILD/bin" ;; *) BIN="$(pwd)/$BUILD/bin" ;; esac
QDIR=tests/bench/pgqueue

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "pgboss.sh: node and npm are not installed: skipped"
	exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "pgboss.sh: PostgreSQL is not installed (apt-get install postgresql): skipped"
	exit 0
fi
for b in sje-server sje-worker sje-client sje-bench; do
	if [ ! -x "$BIN/$b" ]; then
		echo "pgboss.sh: $BIN/$b is missing: build SJE first" >&2
		exit 1
	fi
done

if [ ! -d "$QDIR/node_modules/pg-boss" ]; then
	echo "== npm ci in $QDIR"
	(cd "$QDIR" && npm ci --no-audit --no-fund)
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/sje-pgboss.XXXXXX")
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

# show CMD...: runs CMD, shows its lines, keeps them all (RESULT lines too).
show() {
	"$@" | tee -a "$RESULTS" | grep -v '^RESULT '
}

# get MODE KEY: a figure from the RESULT lines (the last for MODE).
get() {
	awk -v m="$1" -v k="$2" '$1 == "RESULT" && $2 == m {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) v = kv[2] }
	} END { print v }' "$RESULTS"
}

JOBS=${PGQ_JOBS:-5000}
W1_JOBS=${PGQ_W1_JOBS:-1000}
LAT_JOBS=${PGQ_LAT_JOBS:-100}
SLOTS=${PGQ_SLOTS:-8}

bash tests/support/pg.sh start "$DIR/pg.dsn"
PG_STARTED=1
DSN=$(cat "$DIR/pg.dsn")
# shellcheck disable=SC2012 # as tests/support/pg.sh finds it
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
echo "machine: $(nproc) cores, $(uname -m); PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')" \
    "(tests/support/pg.sh: Unix socket, fsync=on, shared_buffers=32MB); node $(node --version);" \
    "pg-boss $(node -p "require('./$QDIR/node_modules/pg-boss/package.json').version")"

echo "== pg-boss, 2 worker processes"
export PGBOSS_DSN="$DSN"
show node "$QDIR/pgboss.mjs" throughput --jobs "$JOBS"
show node "$QDIR/pgboss.mjs" w1 --jobs "$W1_JOBS"
show node "$QDIR/pgboss.mjs" w2 --jobs "$LAT_JOBS"
unset PGBOSS_DSN

echo "== SJE with server.store=postgres, 2 workers x $SLOTS slots"
export SJE_CONFIG=""
SJE_POSTGRES_DSN="$DSN" SJE_SERVER_STORE=postgres \
    SJE_SERVER_DATA_DIR="$DIR/data" SJE_SERVER_SYNC=normal \
    SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 \
    SJE_HTTP_LISTEN=127.0.0.1:0 \
    SJE_LOGGING_LEVEL=warn "$BIN/sje-server" 2>>"$DIR/server.log" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
for _ in $(seq 1 200); do [ -s "$DIR/data/endpoints" ] && break; sleep 0.05; done
URL=$(sed -n 's/^rpc_url=//p' "$DIR/data/endpoints" 2>/dev/null || true)
if [ -z "$URL" ]; then
	echo "pgboss.sh: sje-server did not start:" >&2
	cat "$DIR/server.log" >&2
	exit 1
fi
WORKER_PIDS=()
for w in bench-a bench-b; do
	SJE_WORKER_SERVER_URL="$URL" SJE_LOGGING_LEVEL=warn \
	    "$BIN/sje-worker" --name "$w" --slots "$SLOTS" 2>>"$DIR/$w.log" &
	WORKER_PIDS+=($!)
	PIDS+=($!)
done
for _ in $(seq 1 200); do
	n=$("$BIN/sje-client" --server "$URL" --json workers 2>/dev/null |
	    jq "[.workers[] | select(.slots == $SLOTS)] | length" || echo 0)
	[ "$n" -ge 2 ] && break
	sleep 0.05
done
show "$BIN/sje-bench" throughput --server "$URL" --jobs "$JOBS" --server-pid "$SERVER_PID"
show "$BIN/sje-bench" w1 --server "$URL" --jobs "$W1_JOBS" --server-pid "$SERVER_PID"
show "$BIN/sje-bench" latency --server "$URL" --jobs "$LAT_JOBS"
stop "${WORKER_PIDS[@]}" "$SERVER_PID"

# ratio A B: A / B to two places, or "n/a".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
# SJE's w1 line has its submits/s in the text, not in RESULT.
sje_submits=$(sed -n 's/^w1: .*(\([0-9]*\) submits\/s).*/\1/p' "$RESULTS" | tail -1)
echo "== ratios (one run; above 1 means SJE is ahead)"
echo "throughput jobs/s, SJE / pg-boss:   $(ratio "$(get throughput jobs_per_s)" "$(get pgboss-throughput jobs_per_s)")"
echo "W1 submits/s, SJE / pg-boss:        $(ratio "$sje_submits" "$(get pgboss-w1 submits_per_s)")"
echo "W1 jobs/s, SJE / pg-boss:           $(ratio "$(get w1 jobs_per_s)" "$(get pgboss-w1 jobs_per_s)")"
echo "W2 p50, pg-boss / SJE:              $(ratio "$(get pgboss-w2 p50_us)" "$(get w2 p50_us)")"
echo "W2 p99, pg-boss / SJE:              $(ratio "$(get pgboss-w2 p99_us)" "$(get w2 p99_us)")"
