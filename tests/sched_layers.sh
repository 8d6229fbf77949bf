#!/usr/bin/env bash
# sched_layers: the scheduler's files (server/sched/*.c) are layers, and
# each calls only into the layers below it (server/sched/base.h lists
# them). Checked from the built objects: what each one leaves undefined
# (nm -u) and what another one defines (nm --defined-only) is a call (or a
# read of data) from the first file into the second. Every such edge must
# go to a strictly lower rank, so the graph has no cycle; tsort checks
# that too, rank table or not. The calls found are printed as a table.
#
#   tests/sched_layers.sh OBJECT...   the objects of sje_server_core
#                                     (ctest passes them); those not
#                                     under sched/ are ignored
#   tests/sched_layers.sh             build/'s objects
set -euo pipefail
cd "$(dirname "$0")/.."

# rank FILE: the file's height. A file may call only into lower ranks;
# files of one rank (siblings) do not call each other.
rank() {
	case $1 in
	hmap.c | call.c | workerid.c | workflow.c | minutes.c) echo 0 ;;
	base.c) echo 1 ;;
	heap.c) echo 2 ;;
	table.c) echo 3 ;;
	txn.c) echo 4 ;;
	reply.c) echo 5 ;;
	check.c) echo 6 ;;
	jobs.c) echo 7 ;;
	submit.c | clients.c | manage.c | bulk.c | workers.c | timers.c | recover.c) echo 8 ;;
	schedules.c) echo 9 ;;
	round.c) echo 10 ;;
	*) echo "" ;;
	esac
}

fail=0
bad() {
	echo "not ok - $*"
	fail=1
}

if [ $# -eq 0 ]; then
	set -- build/server/CMakeFiles/sje_server_core.dir/sched/*.o
fi
# The object of each source that exists now (a build dir may keep the
# objects of files since removed).
declare -A obj=()
for o in "$@"; do
	case $o in */sched/*.c.o) ;; *) continue ;; esac
	b=$(basename "$o" .o)
	[ -f "server/sched/$b" ] && obj[$b]=$o
done
for src in server/sched/*.c; do
	f=$(basename "$src")
	if [ -z "${obj[$f]:-}" ]; then
		bad "no object for $src (build sje_server_core first)"
	elif [ -z "$(rank "$f")" ]; then
		bad "$src has no rank: add it to tests/sched_layers.sh and base.h"
	fi
done
[ "$fail" = 0 ] || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sched_layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for f in "${!obj[@]}"; do
	nm --defined-only -g "${obj[$f]}" | awk -v f="$f" 'NF == 3 { print $3, f }'
done | sort >"$tmp/defs"
for f in "${!obj[@]}"; do
	nm -u "${obj[$f]}" | awk -v f="$f" '{ print $NF, f }'
done | sort >"$tmp/uses"
# edges: FROM TO SYMBOL, one line per symbol used.
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3, $1 }' |
    sort -u >"$tmp/edges"

echo "# calls between the scheduler's files (from -> to: symbols)"
awk '{ k = $1 " -> " $2; s[k] = s[k] " " $3 } END { for (k in s) print "#   " k ":" s[k] }' \
    "$tmp/edges" | sort

n=0
while read -r from to sym; do
	n=$((n + 1))
	if [ "$(rank "$from")" -le "$(rank "$to")" ]; then
		bad "$from calls $sym in $to: $from (rank $(rank "$from")) may call only into lower ranks, and $to is rank $(rank "$to")"
	fi
done <"$tmp/edges"
[ "$fail" = 1 ] || echo "ok - $n calls between the scheduler's files go only down"

if awk '{ print $1, $2 }' "$tmp/edges" | sort -u | tsort >/dev/null 2>"$tmp/tsort"; then
	echo "ok - no cycle of calls among the scheduler's files"
else
	bad "a cycle of calls among the scheduler's files:"
	sed 's/^/#   /' "$tmp/tsort"
fi
exit "$fail"
