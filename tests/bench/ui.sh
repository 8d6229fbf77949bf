#!/usr/bin/env bash
# ui.sh — the dashboard's costs with a big store: a coordinator holding
# BENCH_UI_JOBS finished jobs (1,000,000 by default), then, timed with
# curl on loopback (the median of BENCH_UI_REPEAT runs, 10 by default):
#
#   GET /ui/ (and app.js, app.css)       the page's files
#   GET /whoami, GET /functions           what every page asks first
#   GET /metrics, GET /stats              the overview's counts
#   GET /jobs?limit=50                    the job list's first page
#   GET /jobs?limit=50&cursor=<deep>      a page near the oldest job,
#                                         reached by following next_cursor
#   GET /jobs?state=FAILED&limit=50       a filter that matches nothing
#   GET /jobs?function=noop&limit=50      a filter that matches everything
#   GET /jobs?label=team=x&limit=50       a label (read, not indexed)
#   GET /jobs?task_id_prefix=...          prefixes that 11, 111,111, all
#                                         and none of the jobs share
#   GET /jobs?parent=ID                   a job's children (3)
#   GET /workflows/runs?limit=50          the runs (BENCH_UI_RUNS of a
#                                         two-step workflow, run after the
#                                         fill), first page and deep
#
# With BENCH_UI_BROWSER=1 (chromium, chromium-driver, python3-selenium),
# also the pages as a browser loads them: headless Chromium opens each
# page's address afresh (from about:blank: a whole page load, the key's
# sign-in excepted) and waits until its table is drawn (the median of 5
# loads; the files are cached after the first).
#
# The store is filled through the real path: sje-bench submits noop jobs in
# batches of 1000 to two workers of 8 slots, as tests/bench/run.sh does.
#
#   tests/bench/ui.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
case "$BUILD" in /*) BIN="$BUILD/bin" ;; *) BIN="$(pwd)/$BUILD/bin" ;; esac
JOBS=${BENCH_UI_JOBS:-1000000}
RUNS=${BENCH_UI_RUNS:-500}
REPEAT=${BENCH_UI_REPEAT:-10}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sje-bench-ui.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$DIR"
}
trap cleanup EXIT

# until_ok SECONDS COMMAND...: polls COMMAND until it succeeds.
until_ok() {
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

cat >"$DIR/sje.yaml" <<'YAML'
workflows:
  uiw:
    - {name: a, function: noop}
    - {name: b, function: noop, after: [a]}
YAML
env SJE_CONFIG="$DIR/sje.yaml" \
    SJE_SERVER_DATA_DIR="$DIR/data" SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
    SJE_LOGGING_LEVEL=warn "$BIN/sje-server" 2>>"$DIR/server.log" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
until_ok 20 test -s "$DIR/data/endpoints"
RPC=$(sed -n 's/^rpc_url=//p' "$DIR/data/endpoints")
URL=$(sed -n 's/^http_url=//p' "$DIR/data/endpoints")
for w in a b; do
	env SJE_WORKER_SERVER_URL="$RPC" SJE_LOGGING_LEVEL=warn \
	    "$BIN/sje-worker" --name "ui-$w" --slots 8 2>>"$DIR/worker.log" &
	PIDS+=("$!")
done
until_ok 20 bash -c "curl -sf '$URL/workers' | grep -q ui-b"

echo "== filling the store: $JOBS noop jobs"
"$BIN/sje-bench" throughput --server "$RPC" --jobs "$JOBS" --batch 1000 |
    grep -v '^RESULT '
echo "store: $(du -sh "$DIR/data" | cut -f1) on disk;" \
    "server RSS $(awk '/VmRSS/ {print $2 " " $3}' "/proc/$SERVER_PID/status")"

# median_ms PATH [CURL ARGS...]: the median time_total of REPEAT GETs.
median_ms() {
	local path=$1; shift
	for _ in $(seq "$REPEAT"); do
		curl -s -o /dev/null -w '%{time_total}\n' "$@" "$URL$path"
	done | sort -n | awk '{ a[NR] = $1 } END {
		printf "%.1f", a[int((NR + 1) / 2)] * 1000 }'
}

# report WHAT PATH: one line: the median and the answer's size.
report() {
	local bytes
	bytes=$(curl -s "$URL$2" | wc -c)
	printf '%-44s %8s ms  %9s bytes\n' "$1" "$(median_ms "$2")" "$bytes"
}

echo "== $REPEAT runs each, median"
report "GET /ui/" /ui/
report "GET /ui/app.js" /ui/app.js
report "GET /ui/app.css" /ui/app.css
report "GET /whoami" /whoami
report "GET /functions" /functions
report "GET /metrics" /metrics
report "GET /stats (the overview, JSON)" /stats
report "GET /jobs?limit=50 (first page)" "/jobs?limit=50"

# A deep cursor: follow next_cursor in pages of 1000 to near the end.
start=$(date +%s.%N)
cursor="" pages=0
target=$(( (JOBS - 1000) / 1000 ))
while [ "$pages" -lt "$target" ]; do
	next=$(curl -s "$URL/jobs?limit=1000&cursor=$cursor" | jq -r .next_cursor)
	[ -n "$next" ] || break
	cursor=$next
	pages=$((pages + 1))
done
walk=$(echo "$(date +%s.%N) - $start" | bc)
printf 'walked %d pages of 1000 to the cursor %s in %.1f s (%.1f ms a page)\n' \
    "$pages" "$cursor" "$walk" "$(echo "$walk * 1000 / ($pages + 1)" | bc -l)"
report "GET /jobs?limit=50&cursor=<$((pages * 1000)) deep>" \
    "/jobs?limit=50&cursor=$cursor"
report "GET /jobs?state=FAILED&limit=50 (no match)" "/jobs?state=FAILED&limit=50"
report "GET /jobs?function=noop&limit=50" "/jobs?function=noop&limit=50"
report "GET /jobs?label=team=x&limit=50" "/jobs?label=team=x&limit=50"
report "GET /jobs?state=SUCCEEDED&limit=50&cursor=<deep>" \
    "/jobs?state=SUCCEEDED&limit=50&cursor=$cursor"

# task_id prefixes: sje-bench's ids are "<tag><hex time>-<i>", so
# "<base>-12345" is shared by 11 jobs, "<base>-1" by 111,111 (of
# 1,000,000) and the tag letter by all of them.
newest=$(curl -s "$URL/jobs?limit=1" | jq -r '.jobs[0].task_id')
base=${newest%-*}
report "GET /jobs?task_id_prefix=<11 jobs>&limit=50" \
    "/jobs?task_id_prefix=$base-12345&limit=50"
report "GET /jobs?task_id_prefix=<111,111 jobs>&limit=50" \
    "/jobs?task_id_prefix=$base-1&limit=50"
report "GET /jobs?task_id_prefix=<all>&limit=50" \
    "/jobs?task_id_prefix=${base:0:1}&limit=50"
report "GET /jobs?task_id_prefix=zz (none)&limit=50" \
    "/jobs?task_id_prefix=zz&limit=50"
report "GET /jobs?task_id_prefix=<whole id, deep>" \
    "/jobs?task_id_prefix=$base-999999"

# A job's children, and the runs of a workflow.
curl -sf --data '{"task_id":"ui-parent","function":"noop"}' "$URL/submit" >/dev/null
for k in 1 2 3; do
	curl -sf --data "{\"task_id\":\"ui-kid-$k\",\"function\":\"noop\",\"depends_on\":[\"ui-parent\"]}" \
	    "$URL/submit" >/dev/null
done
report "GET /jobs?parent=ui-parent (3 children)" "/jobs?parent=ui-parent"
for r in $(seq "$RUNS"); do
	curl -sf -X POST "$URL/workflows/uiw" >/dev/null
done
report "GET /workflows/runs?limit=50 (of $RUNS)" "/workflows/runs?limit=50"
rc=""
for _ in $(seq $(( RUNS / 50 - 1 ))); do
	rc=$(curl -s "$URL/workflows/runs?limit=50&cursor=$rc" | jq -r .next_cursor)
done
report "GET /workflows/runs?limit=50&cursor=<last page>" \
    "/workflows/runs?limit=50&cursor=$rc"

if [ "${BENCH_UI_BROWSER:-0}" = 1 ]; then
	cat >"$DIR/pages.py" <<'PY'
import shutil, statistics, sys, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
url, pages = sys.argv[1], sys.argv[2:]
o = webdriver.ChromeOptions()
o.binary_location = shutil.which("chromium")
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
          "--disable-gpu", "--window-size=1280,900"):
    o.add_argument(a)
d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=o)
d.get(url + "/ui/")
for spec in pages:
    path, css = spec.split("|")
    times = []
    for _ in range(5):
        d.get("about:blank")
        t0 = time.monotonic()
        d.get(url + "/ui/" + path)
        while not d.find_elements(By.CSS_SELECTOR, css):
            if time.monotonic() - t0 > 30:
                sys.exit("no %s on %s after 30 s" % (css, path))
            time.sleep(0.005)
        times.append((time.monotonic() - t0) * 1000)
    print("%-44s %8.0f ms" % ("browser: " + path, statistics.median(times)))
d.quit()
PY
	echo "== in the browser: load until the table is drawn, median of 5"
	/usr/bin/python3 "$DIR/pages.py" "$URL" \
	    "#/overview|#counts tbody tr" \
	    "#/jobs|#jobs tbody tr" \
	    "#/jobs?cursor=$cursor|#jobs tbody tr" \
	    "#/jobs?q=$base-12345|#jobs tbody tr, #jobs-empty" \
	    "#/jobs?q=$base-1|#jobs tbody tr, #jobs-empty" \
	    "#/job/ui-parent|#job-children a" \
	    "#/runs|#runs tbody tr"
fi
