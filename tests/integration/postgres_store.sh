#!/usr/bin/env bash
# postgres_store: server.store: postgres, around the store itself: where
# the connection string comes from, what a server does when its database
# does not answer (waits, says so, no password in it) or refuses it (one
# line, at once), a start in a database outage, a schema from a newer
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

# A database that does not answer yet: the server waits for it, says so
# with libpq's reason and never the password, and stops on SIGTERM.
NOWHERE="host=$T_DIR/no-such-socket port=5432 user=sje password=hunter2-secret dbname=x"
env SJE_SERVER_DATA_DIR="$T_DIR/nowhere-data" SJE_SERVER_STORE=postgres \
    "SJE_POSTGRES_DSN=$NOWHERE" SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 \
    SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 SJE_HTTP_LISTEN=127.0.0.1:0 \
    "$SJE_BIN/sje-server" 2>"$T_DIR/nowhere" &
NOWHERE_PID=$!
T_PIDS+=("$NOWHERE_PID")
t_check "a server whose database does not answer waits for it" \
    t_until 20 grep -q 'cannot connect to PostgreSQL: .*trying again until it answers' "$T_DIR/nowhere"
t_check "and does not say it is ready meanwhile (no endpoints)" test ! -s "$T_DIR/nowhere-data/endpoints"
t_check "the password is not in its log" \
    bash -c "! grep -q hunter2 '$T_DIR/nowhere'"
t_stop_status "$NOWHERE_PID"
t_eq "SIGTERM stops it while it waits" 0 "$T_STATUS"

# A database that answers and refuses us: one line at once, no waiting.
t_check "a database that refuses the user stops the server at once" \
    start_fails "$T_DIR/refused" SJE_SERVER_STORE=postgres \
    "SJE_POSTGRES_DSN=${DSN% user=*} user=no_such_role dbname=postgres"
t_check "and says why" grep -q 'cannot connect to PostgreSQL: .*no_such_role' "$T_DIR/refused"

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
    grep -q 'schema created at version [0-9]' "$T_DIR/store.log"
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

# A coordinator started while its database is down serves once it is up.
bash "$T_LIB_DIR/../support/pg.sh" down "$T_DIR/pg.dsn"
rm -f "$T_DIR/store/endpoints"
SJE_TEST_OUR_DSN=$DSN SJE_CONFIG="$T_DIR/pg.yaml" SJE_SERVER_DATA_DIR="$T_DIR/store" \
    SJE_SERVER_RPC_URL=tcp://127.0.0.1:0 SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0 \
    SJE_HTTP_LISTEN=127.0.0.1:0 "$SJE_BIN/sje-server" >>"$T_DIR/outage.log" 2>&1 &
SERVER_PID=$!
T_PIDS+=("$SERVER_PID")
t_check "started in a database outage, it waits" \
    t_until 20 grep -q 'trying again until it answers' "$T_DIR/outage.log"
bash "$T_LIB_DIR/../support/pg.sh" up "$T_DIR/pg.dsn"
t_check "it serves once the database is back" \
    t_until 20 test -s "$T_DIR/store/endpoints"
t_check "and says how long it waited" grep -q 'the database answers after' "$T_DIR/outage.log"
export SJE_CLIENT_SERVER_URL=$(sed -n 's/^rpc_url=//p' "$T_DIR/store/endpoints")
t_check "the job of before the outage is there" t_state_is "$ID" SUCCEEDED
t_stop_status "$SERVER_PID"
t_eq "it stops cleanly" 0 "$T_STATUS"

# A schema written by a newer program is refused, untouched.
psql -q -X "$DSN" -c "UPDATE sje_meta SET value = 99 WHERE key = 'schema_version'" >/dev/null
t_check "a newer schema stops the server" \
    start_fails "$T_DIR/newer" SJE_SERVER_STORE=postgres "SJE_POSTGRES_DSN=$DSN"
t_check "and says to upgrade" grep -q 'newer than this program' "$T_DIR/newer"
t_eq "the schema version is left as it was" 99 \
    "$(psql -X -At "$DSN" -c "SELECT value FROM sje_meta WHERE key = 'schema_version'")"

t_done
