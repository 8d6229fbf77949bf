#!/usr/bin/env bash
# pg.sh — a real PostgreSQL of the test's own, in a directory of its own:
#
#   pg.sh start FILE   makes a fresh directory under $TMPDIR (else /tmp),
#                      initdb and starts a server there, listening on a
#                      Unix socket in that directory only (no TCP port),
#                      waits until it answers, and writes its libpq
#                      connection string to FILE (the directory's path
#                      to FILE.dir)
#   pg.sh stop FILE    stops that server (pg_ctl, by its own data
#                      directory: only the server this script started),
#                      removes its directory and FILE
#   pg.sh down FILE    stops that server and keeps everything (a database
#                      outage, for the tests)
#   pg.sh up FILE      starts it again, as it was, and waits until it
#                      answers
#   pg.sh restart FILE both, at once
#
# The directory is not FILE's own, since a build tree may be where the
# database's user cannot reach.
# Debian's server binaries (package postgresql) live outside PATH, in
# /usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root:
# as root, the cluster belongs to the "postgres" user the package made,
# and the tests, as root, connect to it through the socket as the
# database user "sje" (trust, on the private socket only).
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|down|up|restart FILE}
file=${2:?usage: pg.sh start|stop|down|up|restart FILE}

bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
		echo "pg.sh: no PostgreSQL server found (apt-get install postgresql)" >&2
		exit 1
	fi
	echo "$d"
}

# as_owner CMD...: runs CMD as the cluster's owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# our_dir: the directory FILE.dir names, which must be one of ours.
our_dir() {
	local d
	d=$(cat "$file.dir" 2>/dev/null || true)
	case $d in
	*/sje-pg.*) echo "$d" ;;
	*) echo "pg.sh: $file.dir names no server of ours" >&2; exit 1 ;;
	esac
}

# pg_start DIR: starts the cluster in DIR (no TCP at all; the socket in
# DIR; small, since the machines are small) and waits until it answers.
pg_start() {
	as_owner "$bin/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
	    -o "-c listen_addresses= -k $1 -p 5432 -c max_connections=40 \
	    -c shared_buffers=32MB -c fsync=on" start >/dev/null || {
		cat "$1/server.log" >&2
		exit 1
	}
	for _ in $(seq 1 100); do
		"$bin/pg_isready" -q -h "$1" -p 5432 && return 0
		sleep 0.1
	done
	echo "pg.sh: PostgreSQL in $1 does not answer" >&2
	exit 1
}

# pg_stop DIR: stops the cluster in DIR (fast: sessions are cut).
pg_stop() {
	if [ -f "$1/data/postmaster.pid" ]; then
		as_owner "$bin/pg_ctl" -D "$1/data" -m fast -w -t 60 stop \
		    >/dev/null || true
	fi
}

case $cmd in
start)
	bin=$(bindir)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/sje-pg.XXXXXX")
	echo "$dir" >"$file.dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
	fi
	chmod 0700 "$dir"
	as_owner "$bin/initdb" -D "$dir/data" -U sje -A trust -E UTF8 \
	    --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	pg_start "$dir"
	echo "host=$dir port=5432 user=sje dbname=postgres" >"$file"
	;;
stop)
	dir=$(our_dir)
	bin=$(bindir)
	pg_stop "$dir"
	rm -rf "$dir"
	rm -f "$file" "$file.dir"
	;;
down)
	bin=$(bindir)
	pg_stop "$(our_dir)"
	;;
up)
	bin=$(bindir)
	pg_start "$(our_dir)"
	;;
restart)
	bin=$(bindir)
	dir=$(our_dir)
	pg_stop "$dir"
	pg_start "$dir"
	;;
*)
	echo "usage: pg.sh start|stop|down|up|restart FILE" >&2
	exit 2
	;;
esac
