#!/usr/bin/env bash
# coordinator_failover: three coordinators on one PostgreSQL database, all
# serving at once over mutual TLS with API keys: one leads (runs the
# scheduler), the others follow it, handing their calls on over TLS. A
# worker served by one follower runs the jobs a client submits to the
# other; Wait, REST and the event stream work on a follower; credentials
# are checked on the follower and again on the leader. When the leader is
# killed with SIGKILL a follower leads within a bound, the other follows
# the new leader, every acknowledged job SUCCEEDS once, the one that was
# running at the kill included, and the hooks (run by the leader, from the
# cursor the database keeps) hear of every event the killed leader had
# committed and not delivered. A
# stopped leader hands over at once; a stopped follower stops cleanly.
. "$(dirname "$0")/lib.sh"

T_STORE=postgres
DSN=$(t_pg_dsn shared)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C="$T_DIR/certs"
bash "$ROOT/deploy/certs.sh" --out "$C" --server localhost --worker w1 >/dev/null

rand_key() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
APP_KEY=app-$(rand_key)
OPS_KEY=ops-$(rand_key)
READ_KEY=rd-$(rand_key)
WORKER_KEY=wrk-$(rand_key)
cat >"$T_DIR/config.yaml" <<YAML
security:
  tls:
    ca: $C/ca.pem
    cert: $C/server.pem
    key: $C/server.key
  auth:
    api_keys:
      - {name: app, sha256: "$(sha "$APP_KEY")", scopes: [submit, read, cancel]}
      - {name: ops, sha256: "$(sha "$OPS_KEY")", scopes: [admin]}
      - {name: dash, sha256: "$(sha "$READ_KEY")", scopes: [read]}
      - {name: workers, sha256: "$(sha "$WORKER_KEY")", scopes: [worker]}
plugins:
  - {name: core}
  # a hook that hears nothing until the gate file is there: the first
  # leader is killed before it may deliver a single event
  - {name: hooktest, options: {events_file: "$T_DIR/hooked.txt", gate_file: "$T_DIR/gate"}}
YAML
tls_yaml() { # FILE CERT KEY
	printf 'security:\n  tls:\n    ca: %s\n    cert: %s\n    key: %s\n' \
	    "$C/ca.pem" "$2" "$3" >"$1"
}
tls_yaml "$T_DIR/client.yaml" "$C/client.pem" "$C/client.key"
tls_yaml "$T_DIR/worker.yaml" "$C/worker-w1.pem" "$C/worker-w1.key"

listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

# coord NAME: starts coordinator NAME on its port; sets PID[NAME].
declare -A PORT PID
coord() {
	t_coord_start "$1" "${PORT[$1]}" "$DSN" SJE_EXECUTOR_LEASE_S=5 \
	    SJE_CONFIG="$T_DIR/config.yaml" \
	    SJE_SERVER_RPC_URL="tls+tcp://localhost:${PORT[$1]}" \
	    SJE_SERVER_EVENTS_URL=tls+tcp://localhost:0
	PID[$1]=$COORD_PID
}
for n in a b c; do
	PORT[$n]=$(t_free_port)
	while [ "$n" != a ] && [ "${PORT[$n]}" = "${PORT[a]}" ]; do PORT[$n]=$(t_free_port); done
done
while [ "${PORT[c]}" = "${PORT[b]}" ]; do PORT[c]=$(t_free_port); done
url() { echo "tls+tcp://localhost:${PORT[$1]}"; }
endpoint() { sed -n "s/^$2=//p" "$T_DIR/$1/endpoints"; }

coord a
t_check "the first coordinator leads" t_until 20 test -s "$T_DIR/a/endpoints"
coord b
coord c
t_check "the second one follows it" \
    t_until 20 grep -q 'ready, following the active coordinator' "$T_DIR/b.log"
t_check "and says whom it follows" \
    grep -q "following the active coordinator (.* pid ${PID[a]})" "$T_DIR/b.log"
t_check "the third one follows it too" \
    t_until 20 grep -q 'ready, following the active coordinator' "$T_DIR/c.log"
t_check "a follower listens on its port" listening "${PORT[b]}"
t_eq "the database names the leader" "$(url a)" \
    "$(psql -X -At "$DSN" -c 'SELECT rpc_url FROM sje_leader')"

# The worker is served by b (then c, then a); the client talks to c
# (then b, then a): every job goes through two followers.
export SJE_API_KEY=$APP_KEY SJE_CONFIG="$T_DIR/client.yaml"
export SJE_CLIENT_SERVER_URL="$(url c),$(url b),$(url a)"
SJE_CONFIG="$T_DIR/worker.yaml" SJE_WORKER_SERVER_URL="$(url b),$(url c),$(url a)" \
    SJE_WORKER_API_KEY=$WORKER_KEY SJE_LOGGING_LEVEL=info \
    "$SJE_BIN/sje-worker" --name w1 --slots 4 >>"$T_DIR/worker-w1.log" 2>&1 &
WORKER_PID=$!
T_PIDS+=("$WORKER_PID")
one_worker() { SJE_API_KEY=$OPS_KEY sje --json workers 2>/dev/null | jq -e '.workers | length == 1' >/dev/null; }
t_check "a worker on one follower is listed through the other" t_until 20 one_worker

out=$(sje submit calculate_data --params '{"input_data":[1,2,3]}' --wait --json)
t_eq "a job submitted to a follower runs on a worker of another, and Wait answers" \
    SUCCEEDED "$(jq -r .state <<<"$out")"
t_eq "with its result" 6 "$(jq -r .result.sum <<<"$out")"
ID=$(jq -r .task_id <<<"$out")

# Credentials: checked by the follower, then by the leader.
C_HTTP=$(endpoint c http_url)
C_HTTP=${C_HTTP/127.0.0.1/localhost} # the name its certificate carries
curl() { command curl --cacert "$C/ca.pem" "$@"; }
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $READ_KEY" "$C_HTTP/status/$ID")
t_eq "REST on a follower reads a job with a read key" 200 "$code"
code=$(curl -s -o "$T_DIR/denied.json" -w '%{http_code}' -H "Authorization: Bearer $READ_KEY" \
    -H 'Content-Type: application/json' -d '{"function":"noop"}' "$C_HTTP/submit")
t_eq "a read key may not submit through a follower" 403 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong-$(rand_key)" "$C_HTTP/status/$ID")
t_eq "a wrong key is refused by a follower" 401 "$code"
set +e
SJE_API_KEY="" sje submit noop >/dev/null 2>"$T_DIR/nokey.err"
rc=$?
set -e
t_check "a call without credentials is refused through a follower" test "$rc" -ne 0
t_check "and says why" grep -qi 'unauthenticated\|credentials' "$T_DIR/nokey.err"

# The leader's event stream is relayed by the followers.
C_EVENTS=$(endpoint c events_url)
t_check "a follower's event stream listens on tls+tcp" grep -q '^tls+tcp://localhost:[1-9]' <<<"$C_EVENTS"
"$SJE_BIN/sje-client" --json watch --stream --events "$C_EVENTS" \
    >"$T_DIR/stream.out" 2>"$T_DIR/stream.err" &
WATCH_PID=$!
T_PIDS+=("$WATCH_PID")
saw=0
for i in $(seq 1 40); do
	sje submit noop --id "relayed-$i" >/dev/null
	if t_until 1 grep -q "\"task_id\":\"relayed-$i\"" "$T_DIR/stream.out"; then saw=1; break; fi
done
t_eq "a follower relays the leader's events" 1 "$saw"
t_stop "$WATCH_PID"

# submit_until_acked ID FUNCTION PARAMS: submits until a coordinator
# acknowledges it (an unreachable one is retried, bounded).
submit_until_acked() {
	local deadline=$((SECONDS + 60))
	until sje submit "$2" --id "$1" --params "$3" >/dev/null 2>>"$T_DIR/submit.err"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

ids=()
for i in $(seq 1 10); do
	submit_until_acked "before-$i" noop '{}' || t_fail "before-$i not acknowledged"
	ids+=("before-$i")
done
submit_until_acked running sleep '{"seconds": 3}' || t_fail "running not acknowledged"
ids+=(running)
t_check "a job is running at the kill" t_until 20 t_state_is running RUNNING

stored_seqs() {
	curl -s -H "Authorization: Bearer $READ_KEY" "$C_HTTP/events?after=0&limit=10000" |
	    jq -r '.events[].seq' | sort -n | tr '\n' ' '
}
committed_before=$(stored_seqs | wc -w)
heard_before=$(grep -c . "$T_DIR/hooked.txt" || true)
kill -KILL "${PID[a]}"
killed_at=$SECONDS
t_wait_exit "${PID[a]}" 10
: >"$T_DIR/gate" # the next leader's hook may deliver
# new_leader: b or c leads now (the database names it).
new_leader() {
	local u
	u=$(psql -X -At "$DSN" -c 'SELECT rpc_url FROM sje_leader' 2>/dev/null)
	[ "$u" = "$(url b)" ] || [ "$u" = "$(url c)" ]
}
t_check "a follower leads after the kill" t_until 30 new_leader
took=$((SECONDS - killed_at))
t_check "within 10 s (took ${took} s)" test "$took" -le 10
t_check "its log says it is active" \
    t_until 10 grep -q 'this coordinator is active now' "$T_DIR/b.log" "$T_DIR/c.log"
if [ "$(psql -X -At "$DSN" -c 'SELECT rpc_url FROM sje_leader')" = "$(url b)" ]; then
	LEAD=b OTHER=c
else
	LEAD=c OTHER=b
fi
t_check "the other follows the new leader" \
    t_until 20 grep -q "following the active coordinator (.* pid ${PID[$LEAD]})" "$T_DIR/$OTHER.log"

for i in $(seq 1 10); do
	submit_until_acked "after-$i" noop '{}' || t_fail "after-$i not acknowledged"
	ids+=("after-$i")
done
t_eq "the client goes on through the survivors: all acknowledged" 21 "${#ids[@]}"
t_check "the worker goes on too" t_until 30 one_worker

all_succeeded() {
	local id
	for id in "${ids[@]}"; do
		t_state_is "$id" SUCCEEDED || return 1
	done
}
t_check "every acknowledged job SUCCEEDED" t_until 60 all_succeeded
once=0
for id in "${ids[@]}"; do
	n=$(sje --json status "$id" | jq '[.attempts[] | select(.outcome == "SUCCEEDED")] | length')
	[ "$n" = 1 ] && once=$((once + 1))
done
t_eq "each succeeded once" "${#ids[@]}" "$once"

# The hooks run on the leader, from the cursor the database keeps: the
# new leader delivered what the killed one had not (none: its hook was
# held at the gate), so the log holds every event committed.
logged_seqs() { sort -nu "$T_DIR/hooked.txt" 2>/dev/null | tr '\n' ' '; }
all_logged() { [ -n "$(stored_seqs)" ] && [ "$(logged_seqs)" = "$(stored_seqs)" ]; }
t_check "the hooks heard of every event across the takeover" t_until 30 all_logged
t_check "the killed leader's hooks were behind (${heard_before:-0} of $committed_before events)" \
    test "${heard_before:-0}" -lt "$committed_before"

# The killed one comes back as a follower; the leader stopped by SIGTERM
# hands over at once.
coord a
t_check "the old leader comes back as a follower" \
    t_until 20 grep -q 'ready, following the active coordinator' "$T_DIR/a.log"
t_stop_status "${PID[$LEAD]}"
t_eq "the leader stops cleanly" 0 "$T_STATUS"
other_leads() {
	local u
	u=$(psql -X -At "$DSN" -c 'SELECT rpc_url FROM sje_leader' 2>/dev/null)
	[ "$u" = "$(url a)" ] || [ "$u" = "$(url $OTHER)" ]
}
t_check "and a follower leads at once" t_until 10 other_leads
t_check "the jobs are there" t_until 20 t_state_is after-10 SUCCEEDED

# A follower stopped stops cleanly.
if [ "$(psql -X -At "$DSN" -c 'SELECT rpc_url FROM sje_leader')" = "$(url a)" ]; then
	FOLLOWER=$OTHER
else
	FOLLOWER=a
fi
t_stop_status "${PID[$FOLLOWER]}"
t_eq "a follower stops cleanly on SIGTERM" 0 "$T_STATUS"
t_stop "$WORKER_PID"

t_done
