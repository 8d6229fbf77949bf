#!/usr/bin/env bash
# pg_bloat.sh — do SJE's PostgreSQL tables stay small under sustained load?
# On a PostgreSQL of the script's own (tests/support/pg.sh, autovacuum as
# PostgreSQL ships it), one coordinator with server.store=postgres and a
# short server.result_ttl_s, two workers x 8 slots, and batches of noop
# jobs submitted without a pause for BENCH_BLOAT_ROUNDS rounds of
# BENCH_BLOAT_JOBS jobs each. After every round it prints, per table,
# its rows, its dead row versions and its size on disk (heap, indexes
# and TOAST), so that a table that grows without bound shows as a column
# that keeps climbing while the rows stay level.
#
#   tests/bench/pg_bloat.sh [BUILD_DIR]     (default: build)
# Sizes: BENCH_BLOAT_ROUNDS (40), BENCH_BLOAT_JOBS (10000),
# BENCH_BLOAT_TTL_S (5: finished jobs are purged this long after they end).
# BENCH_BLOAT_NAPTIME (say 10s) sets PostgreSQL's autovacuum_naptime,
# how often autovacuum looks at the tables (its default is 1 min).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
case "$BUILD" in /*) BIN="$BUILD/bin" ;; *) BIN="$(pwd)/$BUILD/bin" ;; esac
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "pg_bloat.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
	exit 1
fi
ROUNDS=${BENCH_BLOAT_ROUNDS:-40}
JOBS=${BENCH_BLOAT_JOBS:-10000}
TTL=${BENCH_BLOAT_TTL_S:-5}
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

bash tests/support/pg.sh start "$DIR/pg.dsn"
PG_STARTED=1
DSN=$(cat "$DIR/pg.dsn")
export SJE_POSTGRES_DSN=$DSN
if [ -n "${BENCH_BLOAT_NAPTIME:-}" ]; then
	psql "$DSN" -X -q -c "ALTER SYSTEM SET autovacuum_naptime = '$BENCH_BLOAT_NAPTIME'" \
	    -c "SELECT pg_reload_conf()" >/dev/null
fi
echo "== PostgreSQL $(psql "$DSN" -X -A -t -c "SHOW server_version"):" \
    "autovacuum $(psql "$DSN" -X -A -t -c "SHOW autovacuum")," \
    "autovacuum_naptime $(psql "$DSN" -X -A -t -c "SHOW autovacuum_naptime")"

SJE_SERVER_STORE=postgres SJE_SERVER_DATA_DIR="$DIR/data" \
    SJE_SERVER_RESULT_TTL_S="$TTL" \
    SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 \
    SJE_HTTP_LISTEN=127.0.0.1:0 SJE_LOGGING_LEVEL=warn \
    "$BIN/sje-server" 2>>"$DIR/server.log" &
PIDS+=($!)
for _ in $(seq 1 400); do [ -s "$DIR/data/endpoints" ] && break; sleep 0.05; done
URL=$(sed -n 's/^rpc_url=//p' "$DIR/data/endpoints")
if [ -z "$URL" ]; then
	echo "pg_bloat.sh: the coordinator did not start:" >&2
	cat "$DIR/server.log" >&2
	exit 1
fi
for w in bench-a bench-b; do
	SJE_WORKER_SERVER_URL="$URL" SJE_LOGGING_LEVEL=warn \
	    "$BIN/sje-worker" --name "$w" --slots 8 2>>"$DIR/$w.log" &
	PIDS+=($!)
done
for _ in $(seq 1 200); do
	n=$("$BIN/sje-client" --server "$URL" --json workers 2>/dev/null |
	    jq '.workers | length' || echo 0)
	[ "$n" -ge 2 ] && break
	sleep 0.05
done

echo "== sje_jobs' storage parameters (schema of the server):" \
    "$(psql "$DSN" -X -A -t -c "SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE relname = 'sje_jobs'")"

# sizes LABEL: one line per table of ours.
sizes() {
	psql "$DSN" -X -q -A -t -F ' ' -c "
	    SELECT relname, n_live_tup, n_dead_tup,
	           pg_total_relation_size(relid) / 1024,
	           autovacuum_count
	    FROM pg_stat_user_tables
	    WHERE relname IN ('sje_jobs', 'sje_attempts', 'sje_events', 'sje_parents')
	    ORDER BY relname" |
	    while read -r rel live dead kib vac; do
		printf '%-6s %-13s %9s %9s %9s KiB %4s\n' "$1" "$rel" "$live" "$dead" "$kib" "$vac"
	done
}

echo "== $ROUNDS rounds of $JOBS noop jobs in batches of 500, server.result_ttl_s=$TTL, 2 workers x 8 slots"
printf '%-6s %-13s %9s %9s %13s %4s\n' round table rows dead size vacuums
start=$(date +%s)
for r in $(seq 1 "$ROUNDS"); do
	"$BIN/sje-bench" throughput --server "$URL" --jobs "$JOBS" --batch 500 |
	    grep '^throughput' | sed 's/^/  /'
	psql "$DSN" -X -q -c "ANALYZE" >/dev/null
	sizes "$r"
done
echo "== $((ROUNDS * JOBS)) jobs in $(($(date +%s) - start)) s; then $((TTL + 15)) s without load"
sleep $((TTL + 15))
psql "$DSN" -X -q -c "ANALYZE" >/dev/null
sizes idle
