#!/usr/bin/env bash
# worker_batching: a worker of quick jobs reports them in its Fetch calls
# and fetches several ahead, so a 1-slot worker makes far fewer calls than
# it runs jobs; and the coordinator counts its calls by method
# (/metrics sje_calls_total).
. "$(dirname "$0")/lib.sh"

t_server_start server
t_worker_start w1 1

calls() {
	curl -s "$HTTP_URL/metrics" | sed -n "s/^sje_calls_total{method=\"$1\"} //p"
}
done_count() {
	curl -s "$HTTP_URL/metrics" |
	    sed -n 's/^sje_jobs_succeeded_total{function="noop"} //p'
}

N=300
body=$(for i in $(seq 1 $N); do printf '{"task_id":"q-%03d","function":"noop"}\n' "$i"; done |
    jq -s -c '{tasks: .}')
t_eq "a batch of $N quick jobs is taken" 201 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data "$body" "$HTTP_URL/submit")"
all_done() { [ "$(done_count)" = "$N" ]; }
t_check "the 1-slot worker runs all of them" t_until 60 all_done

fetches=$(calls Fetch)
completes=$(calls Complete)
t_log "Fetch calls: ${fetches:-0}, Complete calls: ${completes:-0}, jobs: $N"
t_check "the coordinator counts its Fetch calls" test "${fetches:-0}" -gt 0
t_check "the outcomes came with the Fetch calls, not one Complete each" \
    test "${completes:-0}" -lt $((N / 10))
t_check "and the worker fetched many jobs per call" \
    test "$fetches" -lt $((N / 3))
t_check "no report was refused" \
    test "$(curl -s "$HTTP_URL/metrics" | sed -n 's/^sje_worker_reports_refused_total{reason="lease"} //p')" = 0
