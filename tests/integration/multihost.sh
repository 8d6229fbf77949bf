#!/usr/bin/env bash
# multihost: SJE across hosts, in network namespaces joined by veth links
# to a bridge. Five namespaces, named with a per-run random tag so that
# parallel runs never clash: a bridge of its own (br), the coordinator
# (coord), two worker hosts (wa, wb) and a client host (cli), on the
# benchmarking range 198.18.0.0/15 and with no route anywhere else. The
# root namespace's interfaces and routes are never touched.
#
# The coordinator listens on tls+tcp://198.18.42.1 (RPC and events) and
# HTTPS, with mutual TLS, API keys and executor.worker_nodes [wa, wb].
# Certificates come from deploy/certs.sh and name the coordinator
# coord.sje.test only: peers dial the address and check the name with
# security.tls.server_name (mbedTLS 2.28 cannot match IP addresses).
#
# Shown: jobs submitted from the client host run on both worker hosts; the
# event stream and HTTPS work across hosts. Refused, while the others keep
# working: a worker without a certificate (it never registers), a worker
# named wc with a valid certificate but not in worker_nodes (never listed,
# its log says it was refused), a plaintext client on the TLS port (exit 3),
# a client with a wrong API key (exit 3, UNAUTHENTICATED), a client dialing
# the address without server_name (exit 3).
#
# Needs root and iproute2 (CI runs it as root). Where namespaces cannot be
# made, it says why and FAILS: it never passes without having run.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
NS_BR=sje-$TAG-br NS_COORD=sje-$TAG-coord NS_WA=sje-$TAG-wa
NS_WB=sje-$TAG-wb NS_CLI=sje-$TAG-cli
NET=198.18.42
COORD_IP=$NET.1
COORD_NAME=coord.sje.test
MH_NS=() # the namespaces this run made, deleted at exit

mh_cleanup() {
	local rc=$? ns
	t_cleanup # stops our processes (by PID) first
	for ns in "${MH_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null ||
		    echo "# could not delete namespace $ns" >&2
	done
	exit "$rc"
}
trap mh_cleanup EXIT
trap 'T_FAILED=1; exit 1' INT TERM HUP

## Preflight: no namespaces, no test (and a failure, not a skip).
# no_netns WHY: fails the test, saying what could not be done and why.
no_netns() {
	t_fail "cannot build the test's network of namespaces: $*"
}
[ "$(id -u)" = 0 ] ||
    no_netns "making network namespaces needs root; this runs as uid $(id -u)"
command -v ip >/dev/null ||
    no_netns "there is no 'ip' command: install iproute2"
# ip_failed CMD: the ip command CMD failed; root and iproute2 are there,
# so the kernel or a sandbox refused it: say which command, and its words.
ip_failed() {
	no_netns "'ip $*' failed: $(tr '\n' ' ' <"$T_DIR/ip.err")(root and iproute2 are present: the kernel or the sandbox refused this)"
}

## The network: a bridge in a namespace of its own, one veth per host.
# netns_add NAME: makes namespace NAME, with its loopback up.
netns_add() {
	ip netns add "$1" 2>"$T_DIR/ip.err" || ip_failed netns add "$1"
	MH_NS+=("$1")
	ip -n "$1" link set lo up 2>"$T_DIR/ip.err" ||
	    ip_failed -n "$1" link set lo up
}
# nip ARGS...: an ip command that must work.
nip() {
	ip "$@" 2>"$T_DIR/ip.err" || ip_failed "$@"
}
netns_add "$NS_BR"
nip -n "$NS_BR" link add br0 type bridge
nip -n "$NS_BR" link set br0 up
# host NS PORT ADDR: namespace NS, linked to the bridge by a veth pair
# made inside the bridge's namespace (its far end moved straight into NS,
# as eth0), with address ADDR/24.
host() {
	netns_add "$1"
	nip -n "$NS_BR" link add "$2" type veth peer name eth0 netns "$1"
	nip -n "$NS_BR" link set "$2" master br0 up
	nip -n "$1" addr add "$3/24" dev eth0
	nip -n "$1" link set eth0 up
}
host "$NS_COORD" p-coord "$COORD_IP"
host "$NS_WA" p-wa "$NET.11"
host "$NS_WB" p-wb "$NET.12"
host "$NS_CLI" p-cli "$NET.21"
t_log "namespaces ${MH_NS[*]}: coordinator $COORD_IP, workers $NET.11 $NET.12, client $NET.21"
only_local_route() { ! ip -n "$1" route show | grep -qv "^$NET\.0/24 "; }
for ns in "$NS_COORD" "$NS_WA" "$NS_WB" "$NS_CLI"; do
	t_check "$ns has no route beyond its own /24" only_local_route "$ns"
done

## Certificates, keys, configs.
C="$T_DIR/certs"
bash "$ROOT/deploy/certs.sh" --out "$C" --server "$COORD_NAME" \
    --worker wa --worker wb --worker wc --client ops >"$T_DIR/certs.out"
rand_key() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
OPS_KEY=ops-$(rand_key)
WORKER_KEY=wrk-$(rand_key)
BAD_KEY=bad-$(rand_key)

mkdir -p "$T_DIR/coord"
cat >"$T_DIR/coord.yaml" <<YAML
server:
  rpc_url: tls+tcp://$COORD_IP:7100
  events_url: tls+tcp://$COORD_IP:7101
  data_dir: $T_DIR/coord
http:
  listen: $COORD_IP:8443
executor:
  worker_nodes: [wa, wb]
security:
  tls:
    ca: $C/ca.pem
    cert: $C/server.pem
    key: $C/server.key
    require_client_cert: true
  auth:
    api_keys:
      - {name: ops, sha256: "$(sha "$OPS_KEY")", scopes: [admin]}
      - {name: workers, sha256: "$(sha "$WORKER_KEY")", scopes: [worker]}
YAML
# peer_yaml FILE ROLE CERT [SERVER_NAME]: a worker's or a client's config.
peer_yaml() {
	{
		echo "$2:"
		echo "  server_url: tls+tcp://$COORD_IP:7100"
		[ "$2" = worker ] || echo "  events_url: tls+tcp://$COORD_IP:7101"
		echo "security:"
		echo "  tls:"
		echo "    ca: $C/ca.pem"
		[ -z "$3" ] || echo "    cert: $C/$3.pem"
		[ -z "$3" ] || echo "    key: $C/$3.key"
		[ -z "${4:-}" ] || echo "    server_name: $4"
	} >"$1"
}
for w in wa wb wc; do
	peer_yaml "$T_DIR/$w.yaml" worker "worker-$w" "$COORD_NAME"
done
peer_yaml "$T_DIR/nocert.yaml" worker "" "$COORD_NAME"
peer_yaml "$T_DIR/client.yaml" client client "$COORD_NAME"
peer_yaml "$T_DIR/noname.yaml" client client ""

## Processes, each started in its host's namespace (ip netns exec execs
## the program: $! is its PID) and stopped by that PID.
LOG_LEVEL=${SJE_TEST_LOG_LEVEL:-info}
ip netns exec "$NS_COORD" env SJE_CONFIG="$T_DIR/coord.yaml" \
    SJE_LOGGING_LEVEL="$LOG_LEVEL" "$SJE_BIN/sje-server" \
    >>"$T_DIR/coord.log" 2>&1 &
COORD_PID=$!
T_PIDS+=("$COORD_PID")
t_until 20 test -s "$T_DIR/coord/endpoints" ||
    t_fail "the coordinator did not start (see $T_DIR/coord.log)"
t_eq "the coordinator serves RPC on tls+tcp beyond loopback" \
    "tls+tcp://$COORD_IP:7100" \
    "$(sed -n 's/^rpc_url=//p' "$T_DIR/coord/endpoints")"
t_check "it serves HTTPS" grep -q "^https_url=https://$COORD_IP:8443" \
    "$T_DIR/coord/endpoints"

# worker_start NS NAME CONFIG: sets WPID.
worker_start() {
	ip netns exec "$1" env SJE_CONFIG= SJE_WORKER_API_KEY="$WORKER_KEY" \
	    SJE_LOGGING_LEVEL="$LOG_LEVEL" "$SJE_BIN/sje-worker" --name "$2" \
	    --slots 2 --config "$3" >>"$T_DIR/worker-$2.log" 2>&1 &
	WPID=$!
	T_PIDS+=("$WPID")
}
# cli ARGS...: sje-client on the client host, with the client certificate
# and the admin key.
cli() {
	ip netns exec "$NS_CLI" env SJE_CONFIG="$T_DIR/client.yaml" \
	    SJE_API_KEY="$OPS_KEY" "$SJE_BIN/sje-client" "$@"
}
listed() {
	cli --json workers 2>/dev/null |
	    jq -e --arg n "$1" '.workers[] | select(.name == $n)' >/dev/null
}
not_listed() { ! listed "$1"; }

worker_start "$NS_WA" wa "$T_DIR/wa.yaml"
WA_PID=$WPID
worker_start "$NS_WB" wb "$T_DIR/wb.yaml"
WB_PID=$WPID
t_check "worker wa (host $NET.11) registers over mutual TLS" \
    t_until 20 listed wa
t_check "worker wb (host $NET.12) registers over mutual TLS" \
    t_until 20 listed wb

## Jobs across hosts, submitted from the client host.
out=$(cli --json submit echo --params '{"across":"hosts"}' --wait)
t_eq "a job from the client host succeeds" SUCCEEDED "$(jq -r .state <<<"$out")"
t_eq "its result came back" hosts "$(jq -r .result.across <<<"$out")"
t_check "it ran on a worker host" grep -Eqx 'wa|wb' <<<"$(jq -r .worker <<<"$out")"

# 8 jobs of 0.3 s on 2 x 2 slots: each worker fetches at most 2 at a time,
# so both hosts get work.
ids=()
for i in $(seq 1 8); do
	ids+=("$(cli --json submit sleep --params '{"seconds":0.3}' | jq -r .task_id)")
done
ran_on=()
for id in "${ids[@]}"; do
	out=$(cli --json wait "$id") || t_fail "job $id did not succeed: $out"
	ran_on+=("$(jq -r .worker <<<"$out")")
done
t_log "the 8 sleep jobs ran on: ${ran_on[*]}"
t_check "worker host wa ran some of them" grep -qw wa <<<"${ran_on[*]}"
t_check "worker host wb ran some of them" grep -qw wb <<<"${ran_on[*]}"

## Events across hosts (tls+tcp, client certificate).
ip netns exec "$NS_CLI" env SJE_CONFIG="$T_DIR/client.yaml" \
    SJE_API_KEY="$OPS_KEY" "$SJE_BIN/sje-client" --json watch \
    >"$T_DIR/watch.out" 2>"$T_DIR/watch.log" &
WATCH_PID=$!
T_PIDS+=("$WATCH_PID")
watch_saw() { grep -q "\"task_id\":\"$1\"" "$T_DIR/watch.out"; }
saw=0
for i in $(seq 1 20); do
	id=$(cli --json submit noop | jq -r .task_id)
	if t_until 1 watch_saw "$id"; then saw=1; break; fi
done
t_eq "the client host receives events over TLS" 1 "$saw"
t_stop "$WATCH_PID"

## HTTPS across hosts (curl dials the address, checks the name).
https() {
	ip netns exec "$NS_CLI" curl -sS -m 10 --cacert "$C/ca.pem" \
	    --resolve "$COORD_NAME:8443:$COORD_IP" -o "$T_DIR/body" \
	    -w '%{http_code}' "$@"
}
t_eq "HTTPS /healthz from the client host" 200 \
    "$(https "https://$COORD_NAME:8443/healthz")"
t_eq "HTTPS /workers with the admin key" 200 \
    "$(https -H "X-API-Key: $OPS_KEY" "https://$COORD_NAME:8443/workers")"
t_eq "HTTPS /workers with a wrong key is 401" 401 \
    "$(https -H "X-API-Key: $BAD_KEY" "https://$COORD_NAME:8443/workers")"

## Refusals, all at once, while the others keep working.
# A worker without a certificate (host wb): the handshake fails, forever.
worker_start "$NS_WB" nocert "$T_DIR/nocert.yaml"
NOCERT_PID=$WPID
# A worker with a valid certificate whose name is not in worker_nodes
# (host wa).
worker_start "$NS_WA" wc "$T_DIR/wc.yaml"
WC_PID=$WPID
# A plaintext client on the TLS port; a client dialing the address
# without server_name (the certificate names coord.sje.test only). Both
# fail only at the call timeout: in the background.
ip netns exec "$NS_CLI" env SJE_CONFIG="$T_DIR/client.yaml" \
    SJE_API_KEY="$OPS_KEY" "$SJE_BIN/sje-client" \
    --server "tcp://$COORD_IP:7100" workers \
    >/dev/null 2>"$T_DIR/plain.err" &
PLAIN_PID=$!
T_PIDS+=("$PLAIN_PID")
ip netns exec "$NS_CLI" env SJE_CONFIG="$T_DIR/noname.yaml" \
    SJE_API_KEY="$OPS_KEY" "$SJE_BIN/sje-client" workers \
    >/dev/null 2>"$T_DIR/noname.err" &
NONAME_PID=$!
T_PIDS+=("$NONAME_PID")

rc=0
cli --api-key "$BAD_KEY" workers >/dev/null 2>"$T_DIR/badkey.err" || rc=$?
t_eq "a client with a wrong API key exits 3" 3 "$rc"
t_check "... and says UNAUTHENTICATED" grep -q UNAUTHENTICATED "$T_DIR/badkey.err"
t_check "... without echoing the key" \
    bash -c '! grep -qF -- "$1" "$2"' _ "$BAD_KEY" "$T_DIR/badkey.err"

# Meanwhile, jobs from the client host still run on both worker hosts.
ids=()
for i in $(seq 1 6); do
	ids+=("$(cli --json submit sleep --params '{"seconds":0.2}' | jq -r .task_id)")
done
ran_on=()
for id in "${ids[@]}"; do
	out=$(cli --json wait "$id") ||
	    t_fail "job $id did not succeed during the refusals: $out"
	ran_on+=("$(jq -r .worker <<<"$out")")
done
t_log "during the refusals, jobs ran on: ${ran_on[*]}"
t_check "jobs run during the refusals, on the allowed workers only" \
    bash -c '[ -z "$(tr " " "\n" <<<"$1" | grep -vx -e wa -e wb)" ]' _ "${ran_on[*]}"

T_STATUS=0
wait "$PLAIN_PID" || T_STATUS=$?
t_eq "a plaintext client on the TLS port exits 3" 3 "$T_STATUS"
T_STATUS=0
wait "$NONAME_PID" || T_STATUS=$?
t_eq "a client dialing the address without server_name exits 3" 3 "$T_STATUS"

# The plaintext and no-name clients spent their 10 s timeout: the worker
# without a certificate has had as long to try.
t_check "the worker without a certificate never registered" not_listed nocert
t_check "... and is still trying (refused at the handshake, not crashed)" \
    kill -0 "$NOCERT_PID"
t_check "worker wa is still listed" listed wa
t_check "worker wb is still listed" listed wb

# A name not in executor.worker_nodes: wc must never be listed, and its
# log must say it was refused. (Needs the coordinator's worker_nodes
# enforcement: a signed challenge at registration.)
# Polled until its log says so, checking each time that it is not listed.
WC_SEEN=0
wc_settled() {
	if listed wc; then WC_SEEN=1; fi
	grep -q "refused to register worker wc" "$T_DIR/worker-wc.log"
}
t_until 15 wc_settled || true
t_eq "a worker whose name is not in worker_nodes is never listed" 0 \
    "$WC_SEEN"
t_check "... (nor now)" not_listed wc
t_check "... and its log says it was refused" \
    grep -q "refused to register worker wc" "$T_DIR/worker-wc.log"

out=$(cli --json submit echo --params '{"still":"working"}' --wait)
t_eq "after all the refusals, jobs still run" working \
    "$(jq -r .result.still <<<"$out")"

## Stop by PID; no sanitizer report anywhere.
for pid in "$NOCERT_PID" "$WC_PID" "$WA_PID" "$WB_PID" "$COORD_PID"; do
	t_stop "$pid"
done
for f in coord worker-wa worker-wb worker-wc worker-nocert; do
	t_check "$f left no sanitizer report" \
	    t_no_sanitizer_report "$T_DIR/$f.log"
done
t_done
