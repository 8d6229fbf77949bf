#!/usr/bin/env bash
# http_limits: the REST door holds against slow and greedy clients, with
# real sockets (bash's /dev/tcp): an idle kept-alive connection is closed
# after http.idle_timeout_ms; a trickled head is cut off (408) after
# http.header_timeout_ms, and logged; a slow body (408) after
# http.body_timeout_ms; 300 pipelined POSTs in one write are all answered,
# in order; a closing answer closes at once; a tab after a header's colon
# is accepted; a 10 KB target is 414 and 100 KB of headers 431, in JSON.
# Then a server under a 256-descriptor limit, flooded with 300 idle
# sockets, refuses the excess with 503 and one log line, while RPC
# submits and worker registration go on, and serves REST again after.
. "$(dirname "$0")/lib.sh"

t_server_start server SJE_HTTP_HEADER_TIMEOUT_MS=1000 \
    SJE_HTTP_BODY_TIMEOUT_MS=1000 SJE_HTTP_IDLE_TIMEOUT_MS=1000
PORT=${HTTP_URL##*:}

# conn_read CMDS...: opens a connection, runs the commands with the
# socket as stdout in the background, and copies what the server sends
# until it closes (at most 15 s) to $T_DIR/out; ELAPSED_MS is how long
# the server took to close after the connection opened.
conn_read() {
	local t0 t1
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	t0=$(date +%s%N)
	("$@" >&3 2>/dev/null) &
	local writer=$!
	timeout 15 cat <&3 >"$T_DIR/out" || true
	t1=$(date +%s%N)
	exec 3<&- 3>&-
	kill "$writer" 2>/dev/null || true
	wait "$writer" 2>/dev/null || true
	ELAPSED_MS=$(((t1 - t0) / 1000000))
}
status_is() { head -n 1 "$T_DIR/out" | grep -q "^HTTP/1.1 $1 "; }
json_error_is() {
	sed -n '/^\r*$/,$p' "$T_DIR/out" | tail -n +2 |
	    jq -e --arg c "$1" '.error.code == $c' >/dev/null
}

## Idle keep-alive: answered, then closed after the idle timeout.
one_get() { printf 'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n'; sleep 20; }
conn_read one_get
t_check "a kept-alive request is answered" status_is 200
t_check "and the idle connection is closed after ~1 s ($ELAPSED_MS ms)" \
    test "$ELAPSED_MS" -ge 900 -a "$ELAPSED_MS" -lt 8000

## A trickled head: cut off at the header timeout with 408, logged.
trickle() {
	printf 'GET /healthz HTTP/1.1\r\n'
	for _ in $(seq 1 40); do sleep 0.3; printf 'X'; done
}
conn_read trickle
t_check "a head trickled byte by byte gets 408" status_is 408
t_check "in JSON" json_error_is DEADLINE_EXCEEDED
t_check "within the header timeout ($ELAPSED_MS ms)" \
    test "$ELAPSED_MS" -ge 900 -a "$ELAPSED_MS" -lt 8000
t_check "and the server logs it" \
    grep -q 'no whole request head within 1000 ms' "$T_DIR/server.log"

## A slow body: cut off at the body timeout.
slow_body() {
	printf 'POST /submit HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"fun'
	sleep 20
}
conn_read slow_body
t_check "a body that stops coming gets 408" status_is 408
t_check "after the body timeout ($ELAPSED_MS ms)" \
    test "$ELAPSED_MS" -ge 900 -a "$ELAPSED_MS" -lt 8000
t_check "and the server logs it" \
    grep -q '5 of 100 body bytes within 1000 ms' "$T_DIR/server.log"

## 300 pipelined POSTs in one write: every one answered, in order.
for i in $(seq 1 300); do
	body="{\"task_id\":\"pl-$i\",\"function\":\"noop\"}"
	conn=""
	[ "$i" = 300 ] && conn=$'Connection: close\r\n'
	printf 'POST /submit HTTP/1.1\r\nHost: t\r\n%sContent-Length: %d\r\n\r\n%s' \
	    "$conn" "${#body}" "$body"
done >"$T_DIR/pipeline"
t_check "the 300 requests are more than 8 KiB" \
    test "$(stat -c %s "$T_DIR/pipeline")" -gt 8192
conn_read cat "$T_DIR/pipeline"
t_eq "300 pipelined requests get 300 answers" 300 \
    "$(grep -o 'HTTP/1.1 201 ' "$T_DIR/out" | wc -l)"
grep -o '"task_id":"pl-[0-9]*"' "$T_DIR/out" | sed 's/.*pl-//; s/"//' >"$T_DIR/order"
t_eq "in the order they were sent" "$(seq 1 300 | tr '\n' ' ')" \
    "$(tr '\n' ' ' <"$T_DIR/order")"

## Closing answers close at once (no fixed linger).
close_get() { printf 'GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'; sleep 20; }
conn_read close_get
t_check "Connection: close is answered" status_is 200
t_check "and closed at once ($ELAPSED_MS ms)" test "$ELAPSED_MS" -lt 1000
http10() { printf 'GET /healthz HTTP/1.0\r\n\r\n'; sleep 20; }
conn_read http10
t_check "an HTTP/1.0 request is answered" grep -q '^HTTP/1.1 200 ' "$T_DIR/out"
t_check "and closed at once ($ELAPSED_MS ms)" test "$ELAPSED_MS" -lt 1000
notfound() { printf 'PUT /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc'; sleep 20; }
conn_read notfound
t_check "a refused request with a body is answered 404" status_is 404
t_check "and closed at once ($ELAPSED_MS ms)" test "$ELAPSED_MS" -lt 1000

## A tab after a header's colon is OWS.
tabbed() { printf 'GET /healthz HTTP/1.1\r\nHost:\tt\r\nConnection:\tclose\r\n\r\n'; sleep 20; }
conn_read tabbed
t_check "a tab after the colon is accepted" status_is 200
t_check "and its Connection: close honoured ($ELAPSED_MS ms)" test "$ELAPSED_MS" -lt 1000

## Over-long target and over-large headers: 414 and 431 in JSON.
code=$(curl -sS -o "$T_DIR/body" -w '%{http_code}' \
    "$HTTP_URL/status/$(head -c 10240 /dev/zero | tr '\0' a)")
t_eq "a 10 KB target is 414" 414 "$code"
t_eq "in JSON" INVALID_ARGUMENT "$(jq -r .error.code "$T_DIR/body")"
head -c 102400 /dev/zero | tr '\0' b | sed 's/^/X-Big: /' >"$T_DIR/bighdr"
code=$(curl -sS -o "$T_DIR/body" -w '%{http_code}' -H "@$T_DIR/bighdr" \
    "$HTTP_URL/healthz")
t_eq "100 KB of headers is 431" 431 "$code"
t_eq "in JSON" RESOURCE_EXHAUSTED "$(jq -r .error.code "$T_DIR/body")"
t_eq "the server still serves" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/healthz")"
t_stop "$SERVER_PID"

## The connection cap under a 256-descriptor limit.
unset HTTP_URL RPC_URL EVENTS_URL
mkdir -p "$T_DIR/capped"
env SJE_SERVER_DATA_DIR="$T_DIR/capped" SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
    SJE_HTTP_HEADER_TIMEOUT_MS=60000 SJE_LOGGING_LEVEL=info \
    prlimit --nofile=256:256 "$SJE_BIN/sje-server" >>"$T_DIR/capped.log" 2>&1 &
SERVER_PID=$!
T_PIDS+=("$SERVER_PID")
t_until 20 test -s "$T_DIR/capped/endpoints" || t_fail "the capped server did not start"
RPC_URL=$(sed -n 's/^rpc_url=//p' "$T_DIR/capped/endpoints")
EVENTS_URL=$(sed -n 's/^events_url=//p' "$T_DIR/capped/endpoints")
HTTP_URL=$(sed -n 's/^http_url=//p' "$T_DIR/capped/endpoints")
export SJE_CLIENT_SERVER_URL="$RPC_URL" SJE_CLIENT_EVENTS_URL="$EVENTS_URL"
PORT=${HTTP_URL##*:}
t_check "the server logs its descriptor limit" \
    grep -q 'descriptor limit: 256; up to 112 HTTP connections' "$T_DIR/capped.log"
FDS=()
for _ in $(seq 1 300); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || break
	FDS+=("$fd")
done
t_eq "300 idle sockets opened" 300 "${#FDS[@]}"
t_until 20 grep -q 'new connections get 503' "$T_DIR/capped.log" ||
    t_fail "the cap was not logged"
t_eq "the cap is logged once" 1 "$(grep -c 'new connections get 503' "$T_DIR/capped.log")"
refused_503() {
	[ "$(curl -s -m 5 -o "$T_DIR/body" -w '%{http_code}' "$HTTP_URL/healthz")" = 503 ] &&
	    jq -e '.error.code == "UNAVAILABLE"' "$T_DIR/body" >/dev/null
}
t_check "REST over the cap is a JSON 503" t_until 20 refused_503
out=$(sje --json submit noop 2>&1) || true
t_check "an RPC submit works while HTTP is flooded" \
    jq -e '.task_id | length > 0' <<<"$out"
# The worker must not inherit the flood's sockets (bash cannot mark them
# close-on-exec): it would hold them open after the test closes them.
(
	for fd in "${FDS[@]}"; do exec {fd}<&-; done
	SJE_WORKER_SERVER_URL="$RPC_URL" SJE_WORKER_EVENTS_URL="$EVENTS_URL" \
	    exec "$SJE_BIN/sje-worker" --name wcap --slots 1 \
	    >>"$T_DIR/worker-wcap.log" 2>&1
) &
T_PIDS+=($!)
t_check "and a worker registers" t_until 20 t_worker_listed wcap
for fd in "${FDS[@]}"; do exec {fd}<&-; done
healthy() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$HTTP_URL/healthz")" = 200 ]; }
t_check "REST works again once the sockets close" t_until 20 healthy
t_check "the episode's end is logged with a count" t_until 20 \
    grep -qE 'below the connection limit again; [0-9]+ connections were refused' "$T_DIR/capped.log"
t_stop "$SERVER_PID"
t_check "the server left no sanitizer report" \
    t_no_sanitizer_report "$T_DIR/capped.log"
t_done
