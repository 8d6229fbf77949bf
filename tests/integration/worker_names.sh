#!/usr/bin/env bash
# worker_names: with executor.worker_nodes, only workers that prove one of
# those names register: each signs a fresh challenge with the key of a
# certificate (from the cluster's CA) whose CN is its name. Mutual TLS is
# off here so that the proof alone is under test (tls.sh shows mutual TLS
# refusing foreign certificates at the handshake).
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C="$T_DIR/certs" O="$T_DIR/other"
bash "$ROOT/deploy/certs.sh" --out "$C" --server localhost --worker wa \
    --worker wb --worker wc >/dev/null
bash "$ROOT/deploy/certs.sh" --out "$O" --server localhost --worker wa >/dev/null

# yaml_tls FILE CERT KEY: security.tls with our CA and the given pair.
yaml_tls() {
	printf 'security:\n  tls:\n    ca: %s\n    cert: %s\n    key: %s\n' \
	    "$C/ca.pem" "$2" "$3" >"$1"
}

RPC_URL=tls+tcp://localhost:0
EVENTS_URL=tls+tcp://localhost:0
t_server_start server SJE_SECURITY_TLS_CA="$C/ca.pem" \
    SJE_SECURITY_TLS_CERT="$C/server.pem" SJE_SECURITY_TLS_KEY="$C/server.key" \
    SJE_EXECUTOR_WORKER_NODES=wa,wb SJE_SECURITY_TLS_REQUIRE_CLIENT_CERT=false
yaml_tls "$T_DIR/client.yaml" "$C/client.pem" "$C/client.key"
export SJE_CONFIG="$T_DIR/client.yaml"

## A worker named in worker_nodes, with its certificate, registers.
yaml_tls "$T_DIR/wa.yaml" "$C/worker-wa.pem" "$C/worker-wa.key"
t_worker_start wa 2 "$T_DIR/wa.yaml"
out=$(sje --json submit echo --params '{"n":1}' --wait)
t_eq "a job runs on the named worker" wa "$(jq -r .worker <<<"$out")"

# refused NAME CONFIG: the worker exits non-zero at its first registration.
refused() {
	set +e
	SJE_WORKER_SERVER_URL="$RPC_URL" timeout 30 "$SJE_BIN/sje-worker" \
	    --name "$1" --slots 1 --config "$2" >"$T_DIR/worker-$1.log" 2>&1
	local rc=$?
	set -e
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
}

## A valid certificate for a name that is not allowed.
yaml_tls "$T_DIR/wc.yaml" "$C/worker-wc.pem" "$C/worker-wc.key"
t_check "a worker whose name is not in worker_nodes is refused" refused wc "$T_DIR/wc.yaml"
t_check "and told why" grep -q "not in executor.worker_nodes" "$T_DIR/worker-wc.log"

## An allowed name, claimed with another worker's certificate.
t_check "a worker claiming a name its certificate does not carry is refused" \
    refused wb "$T_DIR/wa.yaml"
t_check "and told why" grep -q "names another worker than 'wb'" "$T_DIR/worker-wb.log"

## A certificate for an allowed name, from another CA.
printf 'security:\n  tls:\n    ca: %s\n    cert: %s\n    key: %s\n' \
    "$C/ca.pem" "$O/worker-wa.pem" "$O/worker-wa.key" >"$T_DIR/forged.yaml"
t_check "a worker with a foreign certificate is refused" refused wa "$T_DIR/forged.yaml"
t_check "and told why" grep -q "does not chain to the cluster's CA" "$T_DIR/worker-wa.log"

t_eq "only the proven worker is listed" '["wa"]' \
    "$(sje --json workers | jq -c '[.workers[].name] | sort')"
t_check "the coordinator logged the refusals" grep -q "refused:" "$T_DIR/server.log"

## worker_nodes without a CA to check against: the server does not start.
set +e
SJE_SERVER_DATA_DIR="$T_DIR/noca" SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
    SJE_EXECUTOR_WORKER_NODES=wa SJE_CONFIG= \
    timeout 20 "$SJE_BIN/sje-server" 2>"$T_DIR/noca.err"; rc=$?
set -e
t_check "worker_nodes without security.tls.ca stops the server" test "$rc" -ne 0 -a "$rc" -ne 124
t_check "with one clear line" grep -q "worker_nodes needs security.tls.ca" "$T_DIR/noca.err"

t_done
