#!/usr/bin/env bash
# pg_faults: three coordinators on one PostgreSQL database, all serving
# (one leads, two follow and hand their calls on), two workers and a
# loader that resubmits until acknowledged, each listing the three in
# another order, so that each starts on another coordinator. For a bounded
# time coordinators are killed with SIGKILL and restarted, one fault at a
# time (the leader, a follower, the leader again), and PostgreSQL itself
# is restarted once under load; this script restarts every coordinator
# that exits, as the service manager would. At the end every acknowledged
# job SUCCEEDED, none completed twice, and after each kill of the leader
# a follower led within the stated bound.
#
#   pg_faults.sh     about 30 s: 3 kills and a database restart
. "$(dirname "$0")/lib.sh"

T_STORE=postgres
SJE_TEST_LOG_LEVEL=warn
DSN=$(t_pg_dsn faults)
TAKEOVER_S=10 # the bound: a follower leads this soon after a kill

NAMES=(a b c)
declare -A PORT PID
URLS=""
for n in "${NAMES[@]}"; do
	PORT[$n]=$(t_free_port)
	URLS="$URLS${URLS:+,}tcp://127.0.0.1:${PORT[$n]}"
done

# coord_start NAME: starts coordinator NAME on its port (leader or follower).
coord_start() {
	t_coord_start "$1" "${PORT[$1]}" "$DSN" SJE_EXECUTOR_LEASE_S=2
	PID[$1]=$COORD_PID
}

# supervise: restarts every coordinator that has exited.
supervise() {
	local n
	for n in "${NAMES[@]}"; do
		if ! kill -0 "${PID[$n]}" 2>/dev/null; then
			wait "${PID[$n]}" 2>/dev/null || true
			coord_start "$n"
		fi
	done
}

# active: the name of the coordinator leading now (the database names
# it, and its process is alive and says it is ready), or nothing.
active() {
	local n u
	u=$(psql -X -At "$DSN" -c 'SELECT rpc_url FROM sje_leader' 2>/dev/null) || return 1
	for n in "${NAMES[@]}"; do
		if [ "$u" = "tcp://127.0.0.1:${PORT[$n]}" ] &&
		    kill -0 "${PID[$n]}" 2>/dev/null && [ -s "$T_DIR/$n/endpoints" ]; then
			echo "$n"
			return 0
		fi
	done
	return 1
}

# serving: some coordinator leads now.
serving() { active >/dev/null; }

# a_follower: the name of a live coordinator that follows the leader.
a_follower() {
	local n lead
	lead=$(active) || return 1
	for n in "${NAMES[@]}"; do
		if [ "$n" != "$lead" ] && kill -0 "${PID[$n]}" 2>/dev/null &&
		    [ -s "$T_DIR/$n/endpoints" ]; then
			echo "$n"
			return 0
		fi
	done
	return 1
}

for n in "${NAMES[@]}"; do coord_start "$n"; done
t_check "one coordinator leads" t_until 20 serving
follow2() {
	[ "$(cat "$T_DIR"/{a,b,c}.log | grep -c 'ready, following the active coordinator' || true)" -ge 2 ]
}
t_check "and the other two follow it" t_until 20 follow2

# rotated K: the coordinators' URLs, starting from the K-th.
rotated() {
	local k=$1 i out=""
	for i in 0 1 2; do
		out="$out${out:+,}tcp://127.0.0.1:${PORT[${NAMES[$(((k + i) % 3))]}]}"
	done
	echo "$out"
}
export SJE_CLIENT_SERVER_URL=$URLS
k=1
for w in wa wb; do
	SJE_WORKER_SERVER_URL=$(rotated "$k") SJE_LOGGING_LEVEL=warn \
	    "$SJE_BIN/sje-worker" --name "$w" --slots 4 >>"$T_DIR/worker-$w.log" 2>&1 &
	T_PIDS+=($!)
	k=$((k + 1))
done

SECONDS_TOTAL=24
"$SJE_BIN/soak_client" submit "$(rotated 2)" "$T_DIR/acked" "$SECONDS_TOTAL" \
    >"$T_DIR/client.out" 2>&1 &
CLIENT=$!
T_PIDS+=("$CLIENT")

# Faults, one at a time, a few seconds apart: kill the leader, kill a
# follower, restart the database, kill the leader.
worst=0
for fault in kill follower database kill; do
	sleep 4
	supervise
	t_until 30 serving || t_fail "no coordinator serves before the $fault"
	before=$(active)
	if [ "$fault" = kill ]; then
		t_log "kill -9 of the leader, $before"
		kill -KILL "${PID[$before]}"
		t0=$SECONDS
		t_wait_exit "${PID[$before]}" 10
		rm -f "$T_DIR/$before/endpoints"
		t_check "after the kill of $before, a follower leads" \
		    t_until 30 serving
		took=$((SECONDS - t0))
		[ "$took" -gt "$worst" ] && worst=$took
		supervise # the killed one comes back, as a follower
	elif [ "$fault" = follower ]; then
		f=$(a_follower) || t_fail "no follower before the kill of one"
		t_log "kill -9 of a follower, $f"
		kill -KILL "${PID[$f]}"
		t_wait_exit "${PID[$f]}" 10
		rm -f "$T_DIR/$f/endpoints"
		t_check "after the kill of the follower $f, $before still leads" \
		    test "$(active)" = "$before"
		supervise
	else
		t_log "PostgreSQL restarted under load"
		bash "$T_LIB_DIR/../support/pg.sh" restart "$T_DIR/pg.dsn" ||
		    t_fail "cannot restart PostgreSQL"
		# The coordinators' connections are gone: they exit, and come
		# back (as the service manager would restart them).
		for n in "${NAMES[@]}"; do rm -f "$T_DIR/$n/endpoints"; done
		deadline=$((SECONDS + 30))
		until serving; do
			[ "$SECONDS" -lt "$deadline" ] || t_fail "nothing serves after the database restart"
			supervise
			sleep 0.2
		done
		t_check "after the database restart, a coordinator serves again" serving
	fi
done
t_check "each takeover within $TAKEOVER_S s (the worst took ${worst} s)" \
    test "$worst" -le "$TAKEOVER_S"

# Keep restarting what exits until the loader is done.
deadline=$((SECONDS + SECONDS_TOTAL + 60))
while kill -0 "$CLIENT" 2>/dev/null; do
	[ "$SECONDS" -lt "$deadline" ] || t_fail "the loader did not finish"
	supervise
	sleep 0.2
done
wait "$CLIENT" || true
cat "$T_DIR/client.out"
n=$(wc -l <"$T_DIR/acked")
t_check "jobs were acknowledged ($n)" test "$n" -gt 0
set +e
"$SJE_BIN/soak_client" check "$URLS" "$T_DIR/acked" 120 >"$T_DIR/check.out" 2>&1
rc=$?
set -e
cat "$T_DIR/check.out"
t_eq "every acknowledged job SUCCEEDED, none completed twice" 0 "$rc"
t_done
