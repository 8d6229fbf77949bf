#!/usr/bin/env bash
# ui_open.sh — does an open dashboard slow job processing? One coordinator
# and two workers of 8 slots on loopback; then, in alternating order,
# BENCH_OPEN_PAIRS pairs of runs (3 by default) of sje-bench throughput
# (BENCH_OPEN_JOBS noop jobs in batches of 500, 20,000 by default), W2
# (latency, BENCH_OPEN_LAT_JOBS, 2,000) and W1 (BENCH_OPEN_W1_JOBS,
# 2,000), each once with no browser and once with headless Chromium
# showing a dashboard page (BENCH_OPEN_PAGE, "#/overview" by default:
# the page that re-reads the most on every event) for the whole run. It
# prints every run's figures (with the server's CPU time per job) and
# the medians of each mode. On a machine of few cores the browser's own
# CPU competes with the server's: the server's CPU per job tells the
# server's extra work from the machine's.
#
# Needs chromium, chromium-driver and python3-selenium (as the browser
# test does).
#
#   tests/bench/ui_open.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
case "$BUILD" in /*) BIN="$BUILD/bin" ;; *) BIN="$(pwd)/$BUILD/bin" ;; esac
PAIRS=${BENCH_OPEN_PAIRS:-3}
JOBS=${BENCH_OPEN_JOBS:-20000}
LAT_JOBS=${BENCH_OPEN_LAT_JOBS:-2000}
W1_JOBS=${BENCH_OPEN_W1_JOBS:-2000}
PAGE=${BENCH_OPEN_PAGE:-#/overview}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sje-bench-open.XXXXXX")
PIDS=()
BROWSER_PID=""
cleanup() {
	if [ -n "$BROWSER_PID" ]; then kill -TERM "$BROWSER_PID" 2>/dev/null || true; fi
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$DIR"
}
trap cleanup EXIT

until_ok() {
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

env SJE_SERVER_DATA_DIR="$DIR/data" SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
    SJE_LOGGING_LEVEL=warn "$BIN/sje-server" 2>>"$DIR/server.log" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
until_ok 20 test -s "$DIR/data/endpoints"
RPC=$(sed -n 's/^rpc_url=//p' "$DIR/data/endpoints")
URL=$(sed -n 's/^http_url=//p' "$DIR/data/endpoints")
for w in a b; do
	env SJE_WORKER_SERVER_URL="$RPC" SJE_LOGGING_LEVEL=warn \
	    "$BIN/sje-worker" --name "open-$w" --slots 8 2>>"$DIR/worker.log" &
	PIDS+=("$!")
done
until_ok 20 bash -c "curl -sf '$URL/workers' | grep -q open-b"

# The browser: a page held open until SIGTERM; it writes "ready" once the
# page has drawn, then counts the page's requests to the server.
cat >"$DIR/browser.py" <<'PY'
import shutil, signal, sys, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
url, ready = sys.argv[1], sys.argv[2]
o = webdriver.ChromeOptions()
o.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
          "--disable-gpu", "--window-size=1280,900"):
    o.add_argument(a)
d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=o)
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
d.get(url)
while not d.execute_script("return document.querySelector('#main h1') !== null"):
    time.sleep(0.05)
open(ready, "w").write("ready\n")
while not stop:
    time.sleep(0.1)
n = d.execute_script("return performance.getEntriesByType('resource').length")
print("browser: %d requests by the page" % n, file=sys.stderr)
d.quit()
PY

browser_on() {
	rm -f "$DIR/ready"
	"$PY" "$DIR/browser.py" "$URL/ui/$PAGE" "$DIR/ready" 2>>"$DIR/browser.log" &
	BROWSER_PID=$!
	until_ok 60 test -s "$DIR/ready"
	sleep 2 # Chromium's start-up is over before the runs begin
}
browser_off() {
	kill -TERM "$BROWSER_PID" 2>/dev/null || true
	wait "$BROWSER_PID" 2>/dev/null || true
	BROWSER_PID=""
}

# one MODE: the three runs, their RESULT lines tagged with MODE.
one() {
	local mode=$1
	[ "$mode" = open ] && browser_on
	{
		"$BIN/sje-bench" throughput --server "$RPC" --jobs "$JOBS" \
		    --batch 500 --server-pid "$SERVER_PID"
		"$BIN/sje-bench" latency --server "$RPC" --jobs "$LAT_JOBS"
		"$BIN/sje-bench" w1 --server "$RPC" --jobs "$W1_JOBS" \
		    --server-pid "$SERVER_PID"
	} | sed -n "s/^RESULT /$mode /p" | tee -a "$DIR/results"
	[ "$mode" = open ] && browser_off
	return 0
}

echo "== $PAIRS pairs, alternating: closed = no browser, open = $PAGE shown"
for p in $(seq "$PAIRS"); do
	if [ $((p % 2)) = 1 ]; then one closed; one open; else one open; one closed; fi
done

echo "== medians"
for mode in closed open; do
	for key in "throughput jobs_per_s" "throughput cpu_us_per_job" \
	    "w2 p50_us" "w2 p99_us" "w1 jobs_per_s" "w1 cpu_us_per_job"; do
		set -- $key
		v=$(awk -v m="$mode" -v t="$1" -v k="$2" '$1 == m && $2 == t {
			for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' \
		    "$DIR/results" | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }')
		printf '%-7s %-11s %-13s %s\n' "$mode" "$1" "$2" "$v"
	done
done
grep -h "browser:" "$DIR/browser.log" || true
