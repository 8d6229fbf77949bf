#!/usr/bin/env bash
# events_auth: with authentication on, no event reaches a reader that has
# not proved it may read. A pub socket cannot ask for credentials, so:
# - on plain tcp:// (even loopback) the server opens no event stream at
#   all, says so in its log, its ready line and its endpoints file, and
#   listens on its RPC and HTTP ports only; `watch` reads the events over
#   RPC with the client's key (a read key works; no key, a wrong key or a
#   key without read scope exit 3), and GET /events asks for a key too;
# - on tls+tcp:// with client certificates required, the stream opens: a
#   bare nng subscriber (sub_client) with a certificate of the cluster's CA
#   receives events, while in the same seconds a subscriber without a
#   certificate, one with another CA's certificate, one that checks
#   nothing and a plaintext one receive none.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
rand_key() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

APP_KEY=app-$(rand_key)
READ_KEY=rd-$(rand_key)
WORKER_KEY=wrk-$(rand_key)
cat >"$T_DIR/config.yaml" <<YAML
security:
  auth:
    api_keys:
      - {name: app, sha256: "$(sha "$APP_KEY")", scopes: [submit, read, cancel, admin]}
      - {name: dash, sha256: "$(sha "$READ_KEY")", scopes: [read]}
      - {name: workers, sha256: "$(sha "$WORKER_KEY")", scopes: [worker]}
YAML

## Plain tcp:// with authentication on: no stream.
t_server_start plain SJE_CONFIG="$T_DIR/config.yaml"
t_eq "the endpoints file has no events URL" "" "$EVENTS_URL"
t_check "the ready line says events are off" \
    grep -q "ready: rpc $RPC_URL, events off, http $HTTP_URL" "$T_DIR/plain.log"
t_check "the log says why, and where events are read instead" \
    grep -q "event stream off: authentication is on.*sje-client watch" \
    "$T_DIR/plain.log"
listening() { ss -Hltnp | grep -c "pid=$SERVER_PID," || true; }
t_eq "the server listens on its RPC and HTTP ports only" 2 "$(listening)"
t_check "... the RPC port among them" \
    bash -c "ss -Hltnp | grep 'pid=$SERVER_PID,' | grep -q ':${RPC_URL##*:} '"

# watch with a read key: every transition of a job, over RPC.
SJE_API_KEY=$READ_KEY "$SJE_BIN/sje-client" --json watch \
    >"$T_DIR/watch.out" 2>"$T_DIR/watch.err" &
WATCH_PID=$!
T_PIDS+=("$WATCH_PID")
export SJE_API_KEY=$APP_KEY # the helpers' calls
SJE_WORKER_API_KEY=$WORKER_KEY t_worker_start w1 1
# watch starts after the newest event: submit markers until it is live.
watch_has() { grep -q "\"task_id\":\"$1\"" "$T_DIR/watch.out"; }
for i in $(seq 1 20); do
	sje submit noop --id "marker-$i" >/dev/null
	if t_until 1 watch_has "marker-$i"; then break; fi
done
t_check "watch with a read key is live" watch_has "marker-$i"
sje submit echo --id ev-1 --wait >/dev/null
seen() { [ "$(grep -c '"task_id":"ev-1"' "$T_DIR/watch.out")" = 3 ]; }
t_check "watch with a read key sees QUEUED, RUNNING, SUCCEEDED" \
    t_until 10 seen
t_eq "in that order" '["QUEUED","RUNNING","SUCCEEDED"]' \
    "$(grep '"task_id":"ev-1"' "$T_DIR/watch.out" | jq -sc '[.[].state]')"
t_stop "$WATCH_PID"

# watch_refused WHAT CODE [KEY]: watch exits 3 at once, naming CODE.
watch_refused() {
	local what=$1 code=$2 rc=0
	if [ -n "${3:-}" ]; then
		timeout 20 env SJE_API_KEY="$3" "$SJE_BIN/sje-client" watch \
		    >"$T_DIR/refused.out" 2>"$T_DIR/refused.err" || rc=$?
	else
		timeout 20 env -u SJE_API_KEY "$SJE_BIN/sje-client" watch \
		    >"$T_DIR/refused.out" 2>"$T_DIR/refused.err" || rc=$?
	fi
	t_eq "watch $what exits 3" 3 "$rc"
	t_check "... saying $code" grep -q "$code" "$T_DIR/refused.err"
	t_check "... and printing no event" test ! -s "$T_DIR/refused.out"
}
watch_refused "without a key" UNAUTHENTICATED
watch_refused "with a wrong key" UNAUTHENTICATED "wrong-$(rand_key)"
watch_refused "with a key without read scope" PERMISSION_DENIED "$WORKER_KEY"

# GET /events likewise.
t_eq "GET /events without a key is 401" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/events")"
t_eq "GET /events with a read key is 200" 200 \
    "$(curl -s -o "$T_DIR/events.json" -w '%{http_code}' \
        -H "X-API-Key: $READ_KEY" "$HTTP_URL/events")"
t_check "... with the events" \
    jq -e '[.events[] | select(.task_id == "ev-1")] | length == 3' \
    "$T_DIR/events.json"
last=$(jq -r .next "$T_DIR/events.json")
t_eq "GET /events?from_now=true gives no event and the newest seq" \
    "[] $last" \
    "$(curl -s -H "X-API-Key: $READ_KEY" "$HTTP_URL/events?from_now=true" |
        jq -rc '"\(.events // []) \(.next)"')"
t_stop "$WORKER_PID"
t_stop "$SERVER_PID"

## tls+tcp:// with client certificates required: the stream opens, for
## holders of the cluster CA's certificates only.
C="$T_DIR/certs" O="$T_DIR/other"
bash "$ROOT/deploy/certs.sh" --out "$C" --server localhost --worker wa \
    >/dev/null
bash "$ROOT/deploy/certs.sh" --out "$O" --server localhost --worker wa \
    >/dev/null
unset RPC_URL HTTP_URL
EVENTS_URL=tls+tcp://localhost:0
t_server_start mtls SJE_CONFIG="$T_DIR/config.yaml" \
    SJE_SECURITY_TLS_CA="$C/ca.pem" SJE_SECURITY_TLS_CERT="$C/server.pem" \
    SJE_SECURITY_TLS_KEY="$C/server.key"
t_check "the stream listens on tls+tcp" \
    grep -q '^tls+tcp://localhost:[1-9]' <<<"$EVENTS_URL"

# Five subscribers for the same 6 seconds, while jobs are submitted.
sub() { # NAME URL [CA [CERT KEY]]
	local name=$1; shift
	"$SJE_BIN/sub_client" "$1" 6 "${@:2}" >"$T_DIR/sub-$name.out" \
	    2>"$T_DIR/sub-$name.err" &
	SUBS+=($!)
	T_PIDS+=($!)
}
SUBS=()
sub member "$EVENTS_URL" "$C/ca.pem" "$C/client.pem" "$C/client.key"
sub nocert "$EVENTS_URL" "$C/ca.pem"
sub otherca "$EVENTS_URL" "$C/ca.pem" "$O/client.pem" "$O/client.key"
sub nocheck "$EVENTS_URL"
sub plain "tcp://localhost:${EVENTS_URL##*:}"
member_got() { grep -q '^msg ' "$T_DIR/sub-member.out"; }
for i in $(seq 1 25); do
	sje submit noop --id "m-$i" --delay 3600 >/dev/null
	if member_got; then break; fi
	sleep 0.2
done
# Keep events flowing for the rest of the window.
for i in $(seq 1 10); do
	sje submit noop --id "n-$i" --delay 3600 >/dev/null
	sleep 0.1
done
for p in "${SUBS[@]}"; do
	t_wait_exit "$p" 20 || t_fail "sub_client $p did not finish"
done
total() { sed -n 's/^total //p' "$T_DIR/sub-$1.out"; }
t_check "a subscriber with a cluster certificate receives events" \
    test "$(total member)" -gt 0
t_check "... with the state and function in the topic" \
    grep -q '^msg SCHEDULED/noop/' "$T_DIR/sub-member.out"
for s in nocert otherca nocheck plain; do
	t_eq "the subscriber '$s' receives nothing" 0 "$(total "$s")"
done

# The member's CLI reads the stream too; the API key plays no part there.
yaml="$T_DIR/member.yaml"
{
	echo "security:"
	echo "  tls: {ca: $C/ca.pem, cert: $C/client.pem, key: $C/client.key}"
} >"$yaml"
env -u SJE_API_KEY "$SJE_BIN/sje-client" --config "$yaml" --json watch \
    --stream >"$T_DIR/stream.out" 2>"$T_DIR/stream.err" &
WATCH_PID=$!
T_PIDS+=("$WATCH_PID")
stream_has() { grep -q "\"task_id\":\"$1\"" "$T_DIR/stream.out"; }
saw=0
for i in $(seq 1 20); do
	sje submit noop --id "s-$i" --delay 3600 >/dev/null
	if t_until 1 stream_has "s-$i"; then saw=1; break; fi
done
if [ "$saw" = 0 ]; then
	# For the record: the watcher's and the server's sockets then.
	echo "# the watcher's sockets:" >&2
	ss -Htanp | grep "pid=$WATCH_PID," >&2 || true
	echo "# the server's sockets:" >&2
	ss -Htanp | grep "pid=$SERVER_PID," >&2 || true
fi
t_eq "watch --stream with the cluster certificate receives events" 1 "$saw"
t_stop "$WATCH_PID"
t_stop "$SERVER_PID"
t_no_sanitizer_report "$T_DIR/mtls.log" || t_fail "sanitizer report"
t_done
