#!/usr/bin/env bash
# postgres_store: server.store: postgres, around the store itself: where
# the connection string comes from, what a server that cannot use the
# database says (one line, no password in it), a schema from a newer
# program refused, and jobs kept across a restart in the database, not
# in data_dir.
. "$(dirname "$0")/lib.sh"

T_STORE=postgres
DSN=$(t_pg_dsn store)

# start_fails OUT ENV...: runs sje-server with ENV, which must exit
# non-zero by itself; its stderr goes to OUT.
start_fails() {
	local out=$1; shift
	set +e
	env SJE_SERVER_DATA_DIR="$T_DIR/failing" \
	    SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
	    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
	    "$@" timeout 30 "$SJE_BIN/sje-server" 2>"$out"
	local rc=$?
	set -e
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
}

t_check "postgres with no connection string does not start" \
    start_fails "$T_DIR/nodsn" SJE_SERVER_STORE=postgres SJE_POSTGRES_DSN=
t_check "and says where a connection string comes from" \
    grep -q 'neither \$SJE_POSTGRES_DSN nor server.postgres.dsn' "$T_DIR/nodsn"

cat >"$T_DIR/mysql.yaml" <<'YAML'
server:
  store: mysql
YAML
t_check "an unknown store does not start" \
    start_fails "$T_DIR/mysql" SJE_CONFIG="$T_DIR/mysql.yaml"
t_check "and the error names the line and key" \
    grep -q 'mysql.yaml:2: server.store' "$T_DIR/mysql"

# A database that is not there: one line with libpq's reason, and never
# the password of the connection string.
NOWHERE="host=$T_DIR/no-such-socket port=5432 user=sje password=hunter2-secret dbname=x"
t_check "an unreachable database stops the server" \
    start_fails "$T_DIR/nowhere" SJE_SERVER_STORE=postgres "SJE_POSTGRES_DSN=$NOWHERE"
t_check "it says it cannot connect" \
    grep -q 'cannot connect to PostgreSQL' "$T_DIR/nowhere"
t_check "the password is not in its log" \
    bash -c "! grep -q hunter2 '$T_DIR/nowhere'"

# The variable named by server.postgres.dsn_env wins over
# server.postgres.dsn: the file may then hold a placeholder.
cat >"$T_DIR/pg.yaml" <<YAML
server:
  store: postgres
  postgres:
    dsn_env: SJE_TEST_OUR_DSN
    dsn: "host=$T_DIR/no-such-socket dbname=x"
YAML
t_server_start store SJE_CONFIG="$T_DIR/pg.yaml" "SJE_TEST_OUR_DSN=$DSN"
t_check "the variable named by dsn_env gives the database" \
    grep -q 'schema created at version 1' "$T_DIR/store.log"
t_check "the ready line names the store" \
    grep -q 'ready: .* store postgres$' "$T_DIR/store.log"
t_worker_start w 2

out=$(sje submit calculate_data --params '{"input_data":[1,2,3,4]}' --wait --json)
t_eq "a job runs with the store in PostgreSQL" SUCCEEDED "$(jq -r .state <<<"$out")"
ID=$(jq -r .task_id <<<"$out")
t_eq "its result is read back from the database" 10 "$(jq -r .result.sum <<<"$out")"

# Restart with kill -9 and an empty data_dir: the job is still there, so
# it was in the database.
kill -KILL "$SERVER_PID"
t_wait_exit "$SERVER_PID" 10
rm -rf "$T_DIR/store"
t_server_start store SJE_CONFIG="$T_DIR/pg.yaml" "SJE_TEST_OUR_DSN=$DSN"
t_check "after kill -9, with data_dir gone, the job is there" \
    t_state_is "$ID" SUCCEEDED
t_eq "its attempts too" 1 "$(sje --json status "$ID" | jq '.attempts | length')"
t_eq "the schema is not created twice" 1 \
    "$(grep -c 'schema created' "$T_DIR/store.log")"
t_stop "$WORKER_PID"
t_stop_status "$SERVER_PID"
t_eq "the server stops cleanly" 0 "$T_STATUS"

# A schema written by a newer program is refused, untouched.
psql -q -X "$DSN" -c "UPDATE sje_meta SET value = 99 WHERE key = 'schema_version'" >/dev/null
t_check "a newer schema stops the server" \
    start_fails "$T_DIR/newer" SJE_SERVER_STORE=postgres "SJE_POSTGRES_DSN=$DSN"
t_check "and says to upgrade" grep -q 'newer than this program' "$T_DIR/newer"
t_eq "the schema version is left as it was" 99 \
    "$(psql -X -At "$DSN" -c "SELECT value FROM sje_meta WHERE key = 'schema_version'")"

t_done
