#!/usr/bin/env bash
# soak: one client submits jobs continuously while the server is killed
# with SIGKILL and restarted several times and workers are killed and
# restarted; at the end every acknowledged job is SUCCEEDED and none ran to
# completion twice.
#
#   soak.sh            the short form CI runs (about 30 s, 3 server kills)
#   soak.sh --long     10 minutes, a server kill every ~10 s (or set
#                      SOAK_SECONDS and SOAK_KILLS)
. "$(dirname "$0")/lib.sh"

SECONDS_TOTAL=${SOAK_SECONDS:-20}
KILLS=${SOAK_KILLS:-3}
if [ "${1:-}" = --long ]; then
	SECONDS_TOTAL=${SOAK_SECONDS:-600}
	KILLS=${SOAK_KILLS:-60}
fi
SJE_TEST_LOG_LEVEL=warn
export SJE_EXECUTOR_LEASE_S=2

t_server_start server
t_worker_start wa 4
WA=$WORKER_PID
t_worker_start wb 4
WB=$WORKER_PID

"$SJE_BIN/soak_client" submit "$RPC_URL" "$T_DIR/acked" "$SECONDS_TOTAL" \
    >"$T_DIR/client.out" 2>&1 &
CLIENT=$!
T_PIDS+=("$CLIENT")

period=$(( SECONDS_TOTAL * 1000 / (KILLS + 1) ))
for k in $(seq 1 "$KILLS"); do
	sleep "$(( period / 1000 )).$(printf %03d $(( period % 1000 )))"
	t_log "kill $k: server (and a worker every other time)"
	t_kill9 "$SERVER_PID"
	if [ $((k % 2)) -eq 1 ]; then
		t_kill9 "$WA"
	fi
	t_server_start server
	if [ $((k % 2)) -eq 1 ]; then
		t_worker_start wa 4
		WA=$WORKER_PID
	fi
done
t_check "the client ran its course" t_wait_exit "$CLIENT" $((SECONDS_TOTAL + 60))
cat "$T_DIR/client.out"
n=$(wc -l <"$T_DIR/acked")
t_check "jobs were acknowledged ($n)" test "$n" -gt 0

set +e
"$SJE_BIN/soak_client" check "$RPC_URL" "$T_DIR/acked" 120 >"$T_DIR/check.out" 2>&1
rc=$?
set -e
cat "$T_DIR/check.out"
t_eq "every acknowledged job SUCCEEDED, none completed twice" 0 "$rc"
t_done
