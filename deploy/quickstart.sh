#!/usr/bin/env bash
# quickstart.sh — from a fresh Debian 12 machine to a job run end to end:
# installs what is missing, builds, starts a coordinator and two workers on
# loopback with no config (the embedded default), runs calculate_data, prints
# the result, and leaves the processes running for you to try more.
#
#   deploy/quickstart.sh          run it; stop with deploy/quickstart.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN="$ROOT/sje-data/quickstart"

stop() {
	for f in "$RUN"/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null && echo "stopped $(basename "$f" .pid) ($pid)"
		rm -f "$f"
	done
}
if [ "${1:-}" = stop ]; then
	stop
	exit 0
fi

bash deploy/deps.sh
echo "== building"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
BIN="$ROOT/build/bin"

stop # a previous quickstart's processes, if any
mkdir -p "$RUN"
cd "$ROOT" # the default store is ./sje-data

echo "== starting sje-server (rpc tcp://127.0.0.1:7100, events :7101)"
rm -f sje-data/endpoints
"$BIN/sje-server" >"$RUN/server.log" 2>&1 &
echo $! >"$RUN/server.pid"
for _ in $(seq 1 100); do
	[ -s sje-data/endpoints ] && break
	if ! kill -0 "$(cat "$RUN/server.pid")" 2>/dev/null; then
		echo "sje-server did not start:"; cat "$RUN/server.log"; exit 1
	fi
	sleep 0.1
done
for w in worker-1 worker-2; do
	echo "== starting sje-worker $w"
	"$BIN/sje-worker" --name "$w" --slots 2 >"$RUN/$w.log" 2>&1 &
	echo $! >"$RUN/$w.pid"
done
for _ in $(seq 1 100); do
	n=$("$BIN/sje-client" --json workers 2>/dev/null | jq '.workers | length' || echo 0)
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
"$BIN/sje-client" workers

echo
echo "== sje-client submit calculate_data --params '{\"input_data\":[1,2,3,4]}' --wait"
"$BIN/sje-client" submit calculate_data --params '{"input_data":[1,2,3,4]}' --wait
echo
cat <<MSG
SJE is running: a coordinator and two workers on loopback (logs in
$RUN). Try:
  $BIN/sje-client submit echo --params '{"hello":"world"}' --wait
  $BIN/sje-client submit sleep --params '{"seconds":5}'
  $BIN/sje-client list
  $BIN/sje-client watch            # live events (Ctrl-C to stop)
Stop everything with: deploy/quickstart.sh stop
Run the test suite with: deploy/test.sh
MSG
