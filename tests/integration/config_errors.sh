#!/usr/bin/env bash
# config_errors: a bad config file is refused with the line that is wrong,
# and a server that cannot start says why in one line.
. "$(dirname "$0")/lib.sh"

cat >"$T_DIR/bad.yaml" <<'YAML'
server:
  data_dir: ./x
  sync: sometimes
YAML
set +e
"$SJE_BIN/sje-server" --config "$T_DIR/bad.yaml" 2>"$T_DIR/err"; rc=$?
set -e
t_check "a bad value stops the server" test "$rc" -ne 0
t_check "the error names file, line and key" \
    grep -q 'bad.yaml:3: server.sync' "$T_DIR/err"

cat >"$T_DIR/unknown.yaml" <<'YAML'
executor:
  lease_s: 10
  max_concurency: 4
YAML
set +e
"$SJE_BIN/sje-worker" --config "$T_DIR/unknown.yaml" 2>"$T_DIR/err"; rc=$?
set -e
t_check "an unknown key stops the worker" test "$rc" -ne 0
t_check "the error names line and key" \
    grep -q 'unknown.yaml:3: executor.max_concurency' "$T_DIR/err"

set +e
"$SJE_BIN/sje-client" --config "$T_DIR/nope.yaml" status x 2>"$T_DIR/err"; rc=$?
set -e
t_eq "a missing config file is a usage error for the client" 2 "$rc"

# Port in use: a second server on the same address refuses to start.
t_server_start server
set +e
SJE_SERVER_DATA_DIR="$T_DIR/second" SJE_SERVER_RPC_URL="$RPC_URL" \
    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 \
    "$SJE_BIN/sje-server" 2>"$T_DIR/err"; rc=$?
set -e
t_check "a second server on a used port exits non-zero" test "$rc" -ne 0
t_check "and says the address is in use" grep -q 'address in use' "$T_DIR/err"

# The shipped sample, etc/config.yaml, starts a server as it stands (its
# plugins load or are skipped by role, its alert rules parse).
SAMPLE="$(dirname "$0")/../../etc/config.yaml"
unset RPC_URL EVENTS_URL HTTP_URL # fresh ports
t_server_start sample SJE_CONFIG="$SAMPLE"
t_check "the sample config starts the server" kill -0 "$SERVER_PID"
t_stop_status "$SERVER_PID"
t_eq "which stops cleanly" 0 "$T_STATUS"

t_done
