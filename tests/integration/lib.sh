# lib.sh — helpers for SJE's integration tests (sourced, bash).
#
# Each test starts its own sje-server and sje-worker processes on loopback
# with port 0 (the server writes the ports it bound to <data_dir>/endpoints),
# in a temporary directory of its own, and stops them by PID at exit. Waits
# poll for the expected state with a deadline; nothing sleeps and hopes.
#
# Needs: SJE_BIN (the build's bin/ directory), jq.
#
# SJE_TEST_STORE=postgres runs the test's coordinators on PostgreSQL: a
# real server of the test's own (tests/support/pg.sh), started here and
# stopped at exit, with one database per coordinator name, as SQLite has
# one file per data directory.
set -euo pipefail

: "${SJE_BIN:?SJE_BIN must name the bin directory of the build}"
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sje-test.XXXXXX")
T_PIDS=()
T_NAME=$(basename "$0" .sh)
T_FAILED=0
T_CHECKS=0

T_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T_STORE=${SJE_TEST_STORE:-sqlite}

t_cleanup() {
	local pid
	for pid in "${T_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${T_PIDS[@]}"; do
		t_wait_exit "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
	done
	if [ -f "$T_DIR/pg.dsn.dir" ]; then
		bash "$T_LIB_DIR/../support/pg.sh" stop "$T_DIR/pg.dsn" || true
	fi
	if [ "$T_FAILED" -ne 0 ] || [ "${SJE_TEST_KEEP:-0}" = 1 ]; then
		echo "# logs kept in $T_DIR"
		for f in "$T_DIR"/*.log; do
			[ -f "$f" ] || continue
			echo "## $f"; tail -n 40 "$f"
		done
	else
		rm -rf "$T_DIR"
	fi
}
trap t_cleanup EXIT

t_log() { echo "# $*"; }

t_fail() {
	echo "FAIL: $T_NAME: $*" >&2
	T_FAILED=1
	exit 1
}

# t_check DESCRIPTION COMMAND... runs the command and fails the test
# when it fails.
t_check() {
	local what=$1; shift
	T_CHECKS=$((T_CHECKS + 1))
	if "$@"; then
		echo "ok $T_CHECKS - $what"
	else
		echo "not ok $T_CHECKS - $what"
		t_fail "$what"
	fi
}

# t_eq DESCRIPTION EXPECTED ACTUAL
t_eq() {
	T_CHECKS=$((T_CHECKS + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $T_CHECKS - $1"
	else
		echo "not ok $T_CHECKS - $1: expected '$2', got '$3'"
		t_fail "$1"
	fi
}

t_done() {
	echo "# $T_NAME: all $T_CHECKS checks passed"
}

# t_wait_exit PID SECONDS: waits for a process (ours) to exit.
t_wait_exit() {
	local pid=$1 deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || true
	return 0
}

# t_until SECONDS COMMAND...: polls COMMAND until it succeeds.
t_until() {
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# t_pg_dsn NAME: the connection string of coordinator NAME's database
# (SJE_TEST_STORE=postgres), made on first use; the test's PostgreSQL is
# started with the first.
t_pg_dsn() {
	local name=$1 db
	db="sje_$(echo "$name" | tr -c 'a-zA-Z0-9_\n' _)"
	if [ ! -f "$T_DIR/pg.dsn" ]; then
		bash "$T_LIB_DIR/../support/pg.sh" start "$T_DIR/pg.dsn" >&2 ||
		    t_fail "cannot start PostgreSQL"
	fi
	local base
	base=$(cat "$T_DIR/pg.dsn")
	if [ ! -f "$T_DIR/pg.$db" ]; then
		psql -q -X "$base" -c "CREATE DATABASE $db" >/dev/null ||
		    t_fail "cannot create database $db"
		: >"$T_DIR/pg.$db"
	fi
	echo "${base% dbname=*} dbname=$db"
}

# t_free_port: a loopback TCP port no socket uses now, outside the ephemeral
# range.
t_free_port() {
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
	t_fail "no free port"
}

# t_coord_start NAME PORT DSN [extra env assignments...]: starts a
# coordinator NAME on the PostgreSQL database DSN, its RPC on loopback
# PORT chosen beforehand, since it binds only once it is the active one
# (a standby waits, its doors shut); sets COORD_PID. Does not wait.
t_coord_start() {
	local name=$1 port=$2 dsn=$3
	shift 3
	mkdir -p "$T_DIR/$name"
	rm -f "$T_DIR/$name/endpoints"
	env SJE_SERVER_STORE=postgres SJE_POSTGRES_DSN="$dsn" \
	    SJE_SERVER_DATA_DIR="$T_DIR/$name" \
	    SJE_SERVER_RPC_URL="tcp://127.0.0.1:$port" \
	    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
	    SJE_LOGGING_LEVEL=info "$@" \
	    "$SJE_BIN/sje-server" >>"$T_DIR/$name.log" 2>&1 &
	COORD_PID=$!
	T_PIDS+=("$COORD_PID")
}

# t_server_start NAME [extra env assignments...]: starts sje-server with
# data dir $T_DIR/NAME on loopback port 0; sets SERVER_PID, RPC_URL,
# EVENTS_URL (empty when the stream is off) and HTTP_URL (the REST
# gateway, http://127.0.0.1:PORT).
# Keeps the data dir (and the ports, after a first start) so that a
# restart finds the same store and the workers the same address.
t_server_start() {
	local name=$1; shift
	: "${HTTP_URL:=http://127.0.0.1:0}"
	local dir="$T_DIR/$name"
	mkdir -p "$dir"
	rm -f "$dir/endpoints"
	local store=()
	if [ "$T_STORE" = postgres ]; then
		store=(SJE_SERVER_STORE=postgres "SJE_POSTGRES_DSN=$(t_pg_dsn "$name")")
	fi
	env "${store[@]}" SJE_SERVER_DATA_DIR="$dir" \
	    SJE_SERVER_RPC_URL="${RPC_URL:-tcp://127.0.0.1:0}" \
	    SJE_SERVER_EVENTS_URL="${EVENTS_URL:-tcp://127.0.0.1:0}" \
	    SJE_HTTP_LISTEN="${HTTP_URL#http://}" \
	    SJE_LOGGING_LEVEL="${SJE_TEST_LOG_LEVEL:-info}" "$@" \
	    "$SJE_BIN/sje-server" >>"$T_DIR/$name.log" 2>&1 &
	SERVER_PID=$!
	T_PIDS+=("$SERVER_PID")
	t_until 20 test -s "$dir/endpoints" ||
	    t_fail "server $name did not start (see $T_DIR/$name.log)"
	RPC_URL=$(sed -n 's/^rpc_url=//p' "$dir/endpoints")
	EVENTS_URL=$(sed -n 's/^events_url=//p' "$dir/endpoints")
	HTTP_URL=$(sed -n 's/^http_url=//p' "$dir/endpoints")
	export SJE_CLIENT_SERVER_URL="$RPC_URL"
	# Empty when the server keeps its event stream off (authentication
	# on without mutual TLS): the clients' default stays.
	if [ -n "$EVENTS_URL" ]; then
		export SJE_CLIENT_EVENTS_URL="$EVENTS_URL"
	else
		unset SJE_CLIENT_EVENTS_URL
	fi
}

# t_worker_start NAME [SLOTS [CONFIG]]: starts sje-worker NAME against
# RPC_URL (reading CONFIG when given); sets WORKER_PID. Waits until the
# server lists it.
t_worker_start() {
	local name=$1 slots=${2:-2} config=${3:-}
	local args=(--name "$name" --slots "$slots")
	[ -z "$config" ] || args+=(--config "$config")
	local envs=(SJE_WORKER_SERVER_URL="$RPC_URL"
	    SJE_LOGGING_LEVEL="${SJE_TEST_LOG_LEVEL:-info}")
	[ -z "$EVENTS_URL" ] || envs+=(SJE_WORKER_EVENTS_URL="$EVENTS_URL")
	env "${envs[@]}" "$SJE_BIN/sje-worker" "${args[@]}" \
	    >>"$T_DIR/worker-$name.log" 2>&1 &
	WORKER_PID=$!
	T_PIDS+=("$WORKER_PID")
	t_until 20 t_worker_listed "$name" ||
	    t_fail "worker $name did not register (see $T_DIR/worker-$name.log)"
}

t_worker_listed() {
	"$SJE_BIN/sje-client" --json workers 2>/dev/null |
	    jq -e --arg n "$1" '.workers[] | select(.name == $n)' >/dev/null
}

# t_stop PID: SIGTERM, then wait for the exit (SIGKILL after 10 s).
t_stop() {
	kill -TERM "$1" 2>/dev/null || true
	t_wait_exit "$1" 10 || { kill -KILL "$1" 2>/dev/null; t_wait_exit "$1" 5; }
}

# t_stop_status PID: SIGTERM to a process this shell started, then sets
# T_STATUS to its exit status once it has exited. (Not in a $(...): a
# subshell cannot wait for its parent's children.)
t_stop_status() {
	T_STATUS=0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || T_STATUS=$?
}

# t_no_sanitizer_report FILE: true when FILE holds no report of
# AddressSanitizer, LeakSanitizer or UBSan (a daemon's log, after it
# exited).
t_no_sanitizer_report() {
	! grep -Eq 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$1"
}

# t_proc_state PID: prints the state letter of process PID (R, S, Z, ...),
# nothing when it does not exist.
t_proc_state() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 0
	line=${line##*) } # after the command name, which may hold anything
	echo "${line%% *}"
}

# t_pid_gone PID: true when process PID is gone or a zombie.
t_pid_gone() {
	local st
	st=$(t_proc_state "$1")
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

# t_group_gone PGID: true when no process of group PGID is left but
# zombies (dead, waiting for init to reap them).
t_group_gone() {
	local f line state pgrp
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		line=${line##*) }
		read -r state _ pgrp _ <<<"$line"
		if [ "$pgrp" = "$1" ] && [ "$state" != Z ] &&
		    [ "$state" != X ]; then
			return 1
		fi
	done
	return 0
}

# t_kill9 PID: the process dies at once, with no chance to clean up.
t_kill9() {
	kill -KILL "$1" 2>/dev/null || true
	t_wait_exit "$1" 10
}

# sje ARGS...: the CLI against the test's server.
sje() { "$SJE_BIN/sje-client" "$@"; }

# t_state ID: prints a job's state.
t_state() { sje --json status "$1" | jq -r .state; }

t_state_is() { [ "$(t_state "$1" 2>/dev/null)" = "$2" ]; }
