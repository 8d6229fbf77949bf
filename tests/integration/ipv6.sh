#!/usr/bin/env bash
# ipv6: every listener reports the port it really bound, IPv6 as well as
# IPv4. A coordinator listening on [::1] (and one on "localhost", which a
# standard Debian /etc/hosts also maps to ::1) writes real ports to its
# endpoints file and its ready line; a worker, the CLI, watch and curl all
# reach it there.
. "$(dirname "$0")/lib.sh"

# port_of URL: the port after the host (IPv6 literals in brackets).
port_of() { local u=${1%/}; echo "${u##*:}"; }

# serves NAME: the server in data dir NAME answers over RPC, events and
# HTTP at the URLs it reported.
serves() {
	local name=$1
	t_check "$name: the rpc port is real" \
	    test "$(port_of "$RPC_URL")" -gt 0
	t_check "$name: the events port is real" \
	    test "$(port_of "$EVENTS_URL")" -gt 0
	t_check "$name: the http port is real" \
	    test "$(port_of "$HTTP_URL")" -gt 0
	t_check "$name: the ready line names the same ports" grep -qF \
	    "ready: rpc $RPC_URL, events $EVENTS_URL, http $HTTP_URL" \
	    "$T_DIR/$name.log"
	t_eq "$name: /healthz answers over HTTP" ok \
	    "$(curl -sg --max-time 10 "$HTTP_URL/healthz" | jq -r .status)"

	"$SJE_BIN/sje-client" --json watch --stream >"$T_DIR/$name.watch" \
	    2>"$T_DIR/$name.watch.err" &
	local watch=$!
	T_PIDS+=("$watch")
	t_worker_start "w-$name" 1
	local id="" saw=0 i
	watch_saw() { grep -q "\"task_id\":\"$1\"" "$T_DIR/$name.watch"; }
	# pub/sub may miss the first messages of a new subscriber: a few
	# jobs, each waited for, until watch has seen one.
	for i in $(seq 1 20); do
		id=$(sje --json submit noop --wait | jq -r .task_id)
		if t_until 1 watch_saw "$id"; then saw=1; break; fi
	done
	t_eq "$name: a job runs on a worker that dialed the rpc URL" \
	    SUCCEEDED "$(t_state "$id")"
	t_eq "$name: watch hears of it over the events URL" 1 "$saw"
	t_stop "$watch"
	t_stop "$WORKER_PID"
}

RPC_URL='tcp://[::1]:0' EVENTS_URL='tcp://[::1]:0' HTTP_URL='http://[::1]:0'
t_server_start v6
t_check "v6: the rpc URL keeps the IPv6 host" grep -q '^tcp://\[::1\]:' <<<"$RPC_URL"
t_check "v6: the http URL keeps the IPv6 host" grep -q '^http://\[::1\]:' <<<"$HTTP_URL"
serves v6
t_stop "$SERVER_PID"

# "localhost" binds whichever family the resolver gives first.
RPC_URL='tcp://localhost:0' EVENTS_URL='tcp://localhost:0' HTTP_URL='http://localhost:0'
t_server_start named
t_check "named: the rpc URL keeps the host name" grep -q '^tcp://localhost:' <<<"$RPC_URL"
serves named
t_stop "$SERVER_PID"

t_done
