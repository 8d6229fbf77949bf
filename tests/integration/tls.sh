#!/usr/bin/env bash
# tls: transport security. Certificates from deploy/certs.sh (names:
# localhost); a coordinator with RPC and events on tls+tcp:// requiring
# client certificates, and HTTPS; a worker with its certificate runs a job
# submitted by the CLI over TLS, and `watch` sees it over TLS. Refused: a
# worker without a certificate, a worker with a certificate from another
# CA, a plaintext client on the TLS port, a client dialing a name the
# certificate does not carry, plain HTTP on the HTTPS port. Secure by
# default: a server asked to listen beyond loopback without TLS and
# authentication does not start, and says why in one line.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C="$T_DIR/certs" O="$T_DIR/other"
bash "$ROOT/deploy/certs.sh" --out "$C" --server localhost --worker wa \
    >"$T_DIR/certs.out"
bash "$ROOT/deploy/certs.sh" --out "$O" --server localhost --worker wa \
    >/dev/null
t_check "certs.sh made the CA, server, worker and client files" \
    test -s "$C/ca.pem" -a -s "$C/server.key" -a -s "$C/worker-wa.pem" \
    -a -s "$C/client.key"
t_check "certs.sh printed a config snippet" \
    grep -q "cert: $C/server.pem" "$T_DIR/certs.out"

# yaml_tls FILE CA [CERT KEY]: a config whose security.tls names them.
yaml_tls() {
	{
		echo "security:"
		echo "  tls:"
		echo "    ca: $2"
		[ -z "${3:-}" ] || echo "    cert: $3"
		[ -z "${4:-}" ] || echo "    key: $4"
	} >"$1"
}

## The coordinator: RPC and events on tls+tcp://, HTTPS.
RPC_URL=tls+tcp://localhost:0
EVENTS_URL=tls+tcp://localhost:0
t_server_start server SJE_SECURITY_TLS_CA="$C/ca.pem" \
    SJE_SECURITY_TLS_CERT="$C/server.pem" SJE_SECURITY_TLS_KEY="$C/server.key"
t_check "RPC listens on tls+tcp" grep -q '^tls+tcp://localhost:' <<<"$RPC_URL"
t_check "events listen on tls+tcp" grep -q '^tls+tcp://localhost:' <<<"$EVENTS_URL"
HTTPS_URL=$(sed -n 's/^https_url=//p' "$T_DIR/server/endpoints")
t_check "the endpoints file has https_url" grep -q '^https://' <<<"$HTTPS_URL"
PORT_HTTPS=${HTTPS_URL##*:}

# The CLI's config: the client certificate.
yaml_tls "$T_DIR/client.yaml" "$C/ca.pem" "$C/client.pem" "$C/client.key"
export SJE_CONFIG="$T_DIR/client.yaml"

## A worker with its certificate registers and runs a job end to end.
yaml_tls "$T_DIR/wa.yaml" "$C/ca.pem" "$C/worker-wa.pem" "$C/worker-wa.key"
t_worker_start wa 2 "$T_DIR/wa.yaml"
# The binary itself, not the sje function: $! must be its PID.
"$SJE_BIN/sje-client" --json watch --stream >"$T_DIR/watch.out" \
    2>"$T_DIR/watch.err" &
WATCH_PID=$!
T_PIDS+=("$WATCH_PID")
# The subscriber connects in the background: submit until one event of
# ours arrives (pub/sub may drop what comes before the connection).
watch_saw() { grep -q "\"task_id\":\"$1\"" "$T_DIR/watch.out"; }
out=$(sje --json submit echo --params '{"over":"tls"}' --wait)
t_eq "a job runs end to end over TLS" SUCCEEDED "$(jq -r .state <<<"$out")"
t_eq "its result came back" tls "$(jq -r .result.over <<<"$out")"
t_eq "it ran on the worker with the certificate" wa "$(jq -r .worker <<<"$out")"
saw=0
for i in $(seq 1 40); do
	id=$(sje --json submit noop | jq -r .task_id)
	if t_until 1 watch_saw "$id"; then saw=1; break; fi
done
t_eq "watch --stream receives events over TLS" 1 "$saw"
t_stop "$WATCH_PID"
# watch without --stream reads the kept events over the RPC connection
# (TLS too); --after 0 starts from the oldest kept, so nothing races.
id=$(sje --json submit noop --wait | jq -r .task_id)
"$SJE_BIN/sje-client" --json watch --after 0 >"$T_DIR/watch-rpc.out" \
    2>"$T_DIR/watch-rpc.err" &
WATCH_PID=$!
T_PIDS+=("$WATCH_PID")
t_check "watch receives events over the TLS RPC connection" \
    t_until 10 grep -q "\"task_id\":\"$id\".*SUCCEEDED" "$T_DIR/watch-rpc.out"
t_stop "$WATCH_PID"

## Refused workers: no certificate; a certificate from another CA. A bare
## wait proves that something did not happen.
yaml_tls "$T_DIR/nocert.yaml" "$C/ca.pem"
yaml_tls "$T_DIR/othca.yaml" "$C/ca.pem" "$O/worker-wa.pem" "$O/worker-wa.key"
for w in nocert othca; do
	SJE_WORKER_SERVER_URL="$RPC_URL" SJE_LOGGING_LEVEL=info \
	    "$SJE_BIN/sje-worker" --name "$w" --slots 1 --config "$T_DIR/$w.yaml" \
	    >>"$T_DIR/worker-$w.log" 2>&1 &
	T_PIDS+=($!)
done
sleep 3
not_listed() { ! t_worker_listed "$1"; }
t_check "a worker without a certificate is not registered" \
    not_listed nocert
t_check "a worker with another CA's certificate is not registered" \
    not_listed othca
t_check "the server still serves the good worker" t_worker_listed wa

## Refused clients: each fails as unreachable (exit 3).
set +e
sje --server "tcp://localhost:${RPC_URL##*:}" workers >/dev/null 2>"$T_DIR/err"
rc=$?
set -e
t_eq "a plaintext client on the TLS port fails with exit 3" 3 "$rc"
set +e
sje --server "tls+tcp://127.0.0.1:${RPC_URL##*:}" workers >/dev/null \
    2>"$T_DIR/err"
rc=$?
set -e
t_eq "a client dialing a name not in the certificate fails with exit 3" \
    3 "$rc"
yaml_tls "$T_DIR/nocert-client.yaml" "$C/ca.pem"
set +e
sje --config "$T_DIR/nocert-client.yaml" workers >/dev/null 2>"$T_DIR/err"
rc=$?
set -e
t_eq "a client without a certificate fails with exit 3" 3 "$rc"
yaml_tls "$T_DIR/missing.yaml" "$T_DIR/nope.pem" "$C/client.pem" \
    "$C/client.key"
set +e
sje --config "$T_DIR/missing.yaml" workers >/dev/null 2>"$T_DIR/err"
rc=$?
set -e
t_eq "an unreadable CA file is a usage error" 2 "$rc"
t_check "... that names the file" grep -q "nope.pem" "$T_DIR/err"

## HTTPS.
code=$(curl -sS --cacert "$C/ca.pem" -o "$T_DIR/body" -w '%{http_code}' \
    "https://localhost:$PORT_HTTPS/healthz")
t_eq "HTTPS /healthz with curl --cacert" 200 "$code"
t_eq "... answers ok" ok "$(jq -r .status "$T_DIR/body")"
out=$(curl -sS --cacert "$C/ca.pem" --data '{"function":"echo","params":{"x":7}}' \
    "https://localhost:$PORT_HTTPS/submit")
id=$(jq -r .task_id <<<"$out")
t_check "HTTPS /submit accepts a job" test -n "$id" -a "$id" != null
t_until 20 t_state_is "$id" SUCCEEDED ||
    t_fail "the job submitted over HTTPS did not succeed"
curl_fails() { ! curl -sS -m 5 -o /dev/null "$@" 2>/dev/null; }
t_check "curl without the CA refuses the server" \
    curl_fails "https://localhost:$PORT_HTTPS/healthz"
t_check "plain HTTP on the HTTPS port gets no answer" \
    curl_fails "http://localhost:$PORT_HTTPS/healthz"

## Secure by default: beyond loopback needs TLS and authentication.
# refused NAME SETTING ENV...: the server does not start, and its one line
# names SETTING.
refused() {
	local name=$1 setting=$2 rc=0; shift 2
	env SJE_CONFIG= SJE_SERVER_DATA_DIR="$T_DIR/$name" \
	    SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
	    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
	    "$@" "$SJE_BIN/sje-server" >"$T_DIR/$name.err" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] && [ "$(grep -c . "$T_DIR/$name.err")" -eq 1 ] &&
	    grep -q "$setting" "$T_DIR/$name.err" &&
	    [ ! -e "$T_DIR/$name/endpoints" ] && return 0
	echo "# rc=$rc: $(cat "$T_DIR/$name.err")"
	return 1
}
t_check "rpc_url tcp://0.0.0.0:0 without TLS is refused in one line" \
    refused open-rpc server.rpc_url SJE_SERVER_RPC_URL=tcp://0.0.0.0:0
t_check "events_url on all interfaces without TLS is refused" \
    refused open-ev server.events_url SJE_SERVER_EVENTS_URL=tcp://:0
t_check "http.listen beyond loopback without TLS is refused" \
    refused open-http http.listen SJE_HTTP_LISTEN=0.0.0.0:0
t_check "tls+tcp beyond loopback without authentication is refused" \
    refused open-noauth 'server.rpc_url.*authentication' \
    SJE_SERVER_RPC_URL=tls+tcp://0.0.0.0:0 SJE_SECURITY_TLS_CA="$C/ca.pem" \
    SJE_SECURITY_TLS_CERT="$C/server.pem" SJE_SECURITY_TLS_KEY="$C/server.key"
t_check "tls+tcp without a certificate is refused" \
    refused tls-nocert security.tls.cert \
    SJE_SERVER_RPC_URL=tls+tcp://127.0.0.1:0
t_check "an unreadable server key is refused, naming the file" \
    refused tls-nokey "$T_DIR/nokey.pem" \
    SJE_SERVER_RPC_URL=tls+tcp://127.0.0.1:0 SJE_SECURITY_TLS_CA="$C/ca.pem" \
    SJE_SECURITY_TLS_CERT="$C/server.pem" SJE_SECURITY_TLS_KEY="$T_DIR/nokey.pem"
t_check "a key that does not match the certificate is refused" \
    refused tls-badpair "$C/client.key" \
    SJE_SERVER_RPC_URL=tls+tcp://127.0.0.1:0 SJE_SECURITY_TLS_CA="$C/ca.pem" \
    SJE_SECURITY_TLS_CERT="$C/server.pem" SJE_SECURITY_TLS_KEY="$C/client.key"

t_stop "$SERVER_PID"
t_check "the server left no sanitizer report" \
    t_no_sanitizer_report "$T_DIR/server.log"
t_check "the worker left no sanitizer report" \
    t_no_sanitizer_report "$T_DIR/worker-wa.log"
t_done
