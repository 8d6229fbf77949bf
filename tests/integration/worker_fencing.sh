#!/usr/bin/env bash
# worker_fencing: a job's result comes only from the worker that holds its
# lease. A forging client (forge_client, raw WorkerHub calls) guesses lease
# ids, uses the right lease from another session, session 0 and sessions
# never issued: every report is refused, changes nothing, and is counted in
# /metrics; the job runs on its real worker and ends with its real result.
# Registrations with slots out of range or too many functions are refused;
# one under a live name replaces the old session (its held Fetch answered,
# its reports refused) and the new session claims the old one's leases. A
# RUNNING job keeps its lease over a coordinator restart: the worker's new
# session claims it, a forger's does not.
. "$(dirname "$0")/lib.sh"

forge() { "$SJE_BIN/forge_client" "$@"; }
metric() { curl -s "$HTTP_URL/metrics" | sed -n "s/^$1 //p"; }
# lease_of TASK: the job's current lease id, read from the store (what a
# leak of it would give an attacker).
lease_of() {
	sqlite3 "$T_DIR/server/sje.db" \
	    "SELECT lease_id FROM jobs WHERE task_id = '$1'"
}

# (debug: the server logs each Fetch it holds)
t_server_start server SJE_EXECUTOR_LEASE_S=5 SJE_LOGGING_LEVEL=debug
t_worker_start w1 2

sje submit sleep --id real-1 --params '{"seconds":6}' >/dev/null
t_check "the job starts on w1" t_until 30 t_state_is real-1 RUNNING
lease=$(lease_of real-1)
t_check "the lease id is not a small counter" \
    test "${lease#-}" != "$lease" -o "$lease" -gt 10000

out=$(forge register forger 1 1)
t_check "a forger registers under another name" \
    test "${out%% *}" = ok
forger=${out#ok }

# Guessed leases, 10,000 in one call of each kind.
t_eq "Complete with leases 1..10000 is refused per outcome" \
    "ok accepted=0 precondition=10000 denied=0" \
    "$(forge complete "$forger" real-1 1 10000)"
t_eq "Fail with leases 1..10000 is refused per outcome" \
    "ok accepted=0 precondition=10000 denied=0" \
    "$(forge fail "$forger" real-1 1 10000)"
t_eq "Release with leases 1..10000 is refused per outcome" \
    "ok accepted=0 precondition=10000 denied=0" \
    "$(forge release "$forger" real-1 1 10000)"
t_eq "Heartbeat with leases 1..10000 says each is lost" \
    "ok lost=10000" "$(forge heartbeat "$forger" real-1 1 10000)"

# The right lease from another live session.
for kind in complete fail release; do
	t_eq "$kind with the right lease from another session is denied" \
	    "ok accepted=0 precondition=0 denied=1" \
	    "$(forge "$kind" "$forger" real-1 "$lease" "$lease")"
done
t_eq "Heartbeat with the right lease from another session is lost" \
    "ok lost=1" "$(forge heartbeat "$forger" real-1 "$lease" "$lease")"

# Session 0 and a session never issued: the whole call is refused.
for session in 0 12345; do
	for kind in complete fail release heartbeat; do
		t_eq "$kind on session $session is refused" \
		    "refused FAILED_PRECONDITION session" \
		    "$(forge "$kind" "$session" real-1 "$lease" "$lease")"
	done
	t_eq "fetch on session $session is refused" \
	    "refused FAILED_PRECONDITION session" \
	    "$(forge fetch "$session" 0)"
done

job=$(sje --json status real-1)
t_eq "the job is still RUNNING" RUNNING "$(jq -r .state <<<"$job")"
t_eq "on its real worker" w1 "$(jq -r .worker <<<"$job")"
t_eq "in its first attempt" 1 "$(jq -r .attempt <<<"$job")"
t_eq "under the same lease" "$lease" "$(lease_of real-1)"
t_check "the job ends SUCCEEDED" t_until 60 t_state_is real-1 SUCCEEDED
job=$(sje --json status real-1)
t_eq "with the real result" null "$(jq -c .result.forged <<<"$job")"
t_check "which its worker gave" \
    jq -e '.result != null and .attempt == 1' <<<"$job" >/dev/null

t_eq "lease refusals are counted (reports and heartbeats)" 40000 \
    "$(metric 'sje_worker_reports_refused_total{reason="lease"}')"
t_eq "holder refusals are counted" 4 \
    "$(metric 'sje_worker_reports_refused_total{reason="holder"}')"
t_eq "session refusals are counted" 10 \
    "$(metric 'sje_worker_reports_refused_total{reason="session"}')"

# Registrations out of bounds.
t_eq "0 slots are refused" "refused INVALID_ARGUMENT slots" \
    "$(forge register bad 0 1)"
t_eq "2^32-1 slots are refused" "refused INVALID_ARGUMENT slots" \
    "$(forge register bad 4294967295 1)"
t_eq "1025 slots are refused" "refused INVALID_ARGUMENT slots" \
    "$(forge register bad 1025 1)"
t_eq "1025 functions are refused" "refused RESOURCE_EXHAUSTED functions" \
    "$(forge register bad 1 1025)"
t_check "1024 slots and 1024 functions are fine" \
    test "$(forge register big 1024 1024 | cut -d' ' -f1)" = ok
t_eq "registration refusals are counted" 4 \
    "$(metric 'sje_worker_reports_refused_total{reason="register"}')"
t_check "the refused ones are not listed" bash -c \
    "! \"$SJE_BIN/sje-client\" --json workers | jq -e '.workers[] | select(.name == \"bad\")' >/dev/null"

# A registration under a live name replaces the old session.
out=$(forge register dup 1 1 dup_fn)
old=${out#ok }
sje submit dup_fn --id dup-1 >/dev/null
out=$(forge fetch "$old" 10000)
t_eq "the first session leases the job" "ok 1" "$(head -1 <<<"$out")"
dup_lease=$(sed -n 's/^job dup-1 //p' <<<"$out")
forge fetch "$old" 30000 >"$T_DIR/held.out" 2>&1 &
held=$!
held_fetches() {
	[ "$(grep -c 'worker dup: fetch held' "$T_DIR/server.log")" -ge 2 ]
}
t_check "its next fetch is held" t_until 20 held_fetches
out=$(forge register dup 1 1 dup_fn)
new=${out#ok }
t_check "the same name registers again at once" test "${out%% *}" = ok
t_check "the old session's held fetch is answered" t_wait_exit "$held" 20
t_eq "with FAILED_PRECONDITION on session" \
    "refused FAILED_PRECONDITION session" "$(cat "$T_DIR/held.out")"
t_eq "one worker is listed under the name" 1 \
    "$(sje --json workers | jq '[.workers[] | select(.name == "dup")] | length')"
t_eq "the old session's report is refused" \
    "refused FAILED_PRECONDITION session" \
    "$(forge complete "$old" dup-1 "$dup_lease" "$dup_lease")"
t_eq "the new session claims the lease" "ok lost=0" \
    "$(forge heartbeat "$new" dup-1 "$dup_lease" "$dup_lease")"
t_eq "and completes the job" "ok accepted=1 precondition=0 denied=0" \
    "$(forge complete "$new" dup-1 "$dup_lease" "$dup_lease" '{"by":"new"}')"
t_eq "which ends with its result" '{"by":"new"}' \
    "$(sje --json status dup-1 | jq -c .result)"
t_eq "the replacement is counted" 1 \
    "$(metric sje_worker_sessions_replaced_total)"

# A worker that restarts under its name is not locked out.
t_kill9 "$WORKER_PID"
t_worker_start w1 2
out=$(sje --json submit echo --params '{"x":1}' --wait)
t_eq "a job runs on the restarted worker" SUCCEEDED \
    "$(jq -r .state <<<"$out")"

# A result that is not JSON, or is over 1 MiB, fails its attempt
# (invalid_result) whichever door checked it; one that is JSON is taken.
out=$(forge register judge 1 1 judged_fn)
judge=${out#ok }
sje submit judged_fn --id bad-res --retries 0 >/dev/null
out=$(forge fetch "$judge" 10000)
bad_lease=$(sed -n 's/^job bad-res //p' <<<"$out")
t_eq "a Complete with a result that is not JSON is accepted" \
    "ok accepted=1 precondition=0 denied=0" \
    "$(forge complete "$judge" bad-res "$bad_lease" "$bad_lease" '{not json')"
job=$(sje --json status bad-res)
t_eq "and fails the attempt as invalid_result" "FAILED invalid_result" \
    "$(jq -r '"\(.state) \(.error.type)"' <<<"$job")"
sje submit judged_fn --id good-res >/dev/null
out=$(forge fetch "$judge" 10000)
good_lease=$(sed -n 's/^job good-res //p' <<<"$out")
forge complete "$judge" good-res "$good_lease" "$good_lease" '{"ok": 1}' \
    >/dev/null
t_eq "a JSON result is stored" 1 \
    "$(sje --json status good-res | jq -r .result.ok)"

# Over a coordinator restart the lease holds: the worker's new session
# claims it; the forger's (another name) is denied.
sje submit sleep --id across-1 --params '{"seconds":6}' >/dev/null
t_check "the job starts" t_until 30 t_state_is across-1 RUNNING
lease=$(lease_of across-1)
t_stop "$SERVER_PID"
t_server_start server SJE_EXECUTOR_LEASE_S=5
out=$(forge register forger 1 1)
forger=${out#ok }
t_eq "a forger's session cannot claim it" \
    "ok accepted=0 precondition=0 denied=1" \
    "$(forge complete "$forger" across-1 "$lease" "$lease")"
t_check "the job ends SUCCEEDED" t_until 60 t_state_is across-1 SUCCEEDED
job=$(sje --json status across-1)
t_eq "in one attempt, on w1" "1 w1" \
    "$(jq -r '"\(.attempt) \(.worker)"' <<<"$job")"
t_eq "with the real result" null "$(jq -c .result.forged <<<"$job")"

t_done
