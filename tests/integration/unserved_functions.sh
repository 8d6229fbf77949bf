#!/usr/bin/env bash
# unserved_functions: a submitter cannot make functions without bound.
# Functions no worker serves and config does not name are capped by
# tasks.max_unserved_functions (here 20): one more is refused
# RESOURCE_EXHAUSTED naming the field, over RPC and REST (429); served and
# configured functions are not counted; functions nothing uses any more
# are forgotten, so the cap follows live state; /metrics stays small,
# with one "(other)" series for the unserved functions.
. "$(dirname "$0")/lib.sh"

cat >"$T_DIR/config.yaml" <<'EOF'
tasks:
  max_unserved_functions: 20
  functions:
    configured_fn: {timeout_s: 60}
EOF
t_server_start server SJE_CONFIG="$T_DIR/config.yaml"
t_worker_start w1 2

metric() { curl -s "$HTTP_URL/metrics" | sed -n "s/^$1 //p"; }

for i in $(seq 1 20); do
	sje submit "unserved-$i" --id "u-$i" --delay 3600 >/dev/null
done
t_eq "20 unserved functions are in use" 20 "$(metric sje_functions_unserved)"

set +e
err=$(sje submit unserved-21 --id u-21 --delay 3600 2>&1 >/dev/null)
rc=$?
set -e
t_check "a 21st unserved function is refused over RPC" test "$rc" -ne 0
t_check "as RESOURCE_EXHAUSTED" grep -q RESOURCE_EXHAUSTED <<<"$err"
t_check "naming the field as the spec does (one job)" grep -q '(field: function)' <<<"$err"
t_check "and the limit" grep -q 'tasks.max_unserved_functions' <<<"$err"
t_eq "nothing was stored" NOT_FOUND \
    "$(sje --json status u-21 2>&1 | grep -o NOT_FOUND | head -1)"

code=$(curl -s -o "$T_DIR/rest.out" -w '%{http_code}' \
    --data '{"task_id":"u-22","function":"unserved-22","delay_s":3600}' \
    "$HTTP_URL/submit")
t_eq "over REST it is 429" 429 "$code"
t_eq "with the code in JSON" RESOURCE_EXHAUSTED \
    "$(jq -r .error.code "$T_DIR/rest.out")"
t_check "naming the field" \
    jq -e '.error.field | test("function")' "$T_DIR/rest.out"

t_check "a served function is still accepted" \
    sje submit echo --id served-1 --wait
t_check "a configured function is still accepted" \
    sje submit configured_fn --id conf-1 --delay 3600
t_check "a function already in use is still accepted" \
    sje submit unserved-1 --id u-1b --delay 3600
t_eq "refusals are counted" 2 "$(metric sje_submits_refused_unserved_total)"

# /metrics: no series of their own for the unserved functions.
curl -s "$HTTP_URL/metrics" >"$T_DIR/metrics.txt"
t_check "no series names an unserved function" \
    bash -c "! grep -q 'function=\"unserved-' '$T_DIR/metrics.txt'"
t_eq "their jobs are summed in (other)" 21 \
    "$(sed -n 's/^sje_jobs{state="SCHEDULED",function="(other)"} //p' \
        "$T_DIR/metrics.txt")"
t_check "served functions keep their own series" \
    grep -q 'sje_jobs_succeeded_total{function="echo"} 1' "$T_DIR/metrics.txt"
size=$(wc -c <"$T_DIR/metrics.txt")
t_check "/metrics stays small ($size bytes)" test "$size" -lt 40000

# Cancelled, the jobs leave their functions unused: forgotten, the cap
# frees up.
for i in $(seq 1 20); do
	sje cancel "u-$i" >/dev/null
done
sje cancel u-1b >/dev/null
t_check "a new unserved function is accepted again" \
    sje submit unserved-21 --id u-21 --delay 3600
t_eq "the gauge follows live state" 1 "$(metric sje_functions_unserved)"
t_eq "forgotten functions' counts stay in (other)" 22 \
    "$(metric 'sje_jobs_submitted_total{function="(other)"}')"

t_done
