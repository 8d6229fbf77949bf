#!/usr/bin/env bash
# layers: the folders of the tree are layers, and each includes only from
# itself and the layers below it (STYLE.md). Checked from the sources'
# own #include lines, so a wrong include fails the suite, not a review.
#
#   server/main.c  > server/door > server/sched > server/events
#                  > server/store > client/core
#
# and each third-party library is included from one place:
#   <sqlite3.h>   server/store/ only
#   <libpq-fe.h>  server/store/postgres.c only (and tests)
#   <yaml.h>      client/core/config.c only
#   <mbedtls/...> client/core/tls.c, server/door/auth.c, server/sched/workerid.c
#                 (the worker's name proof), tests
#   <nng/supplemental/http/...>  the webhook plugin's client only (the
#                 REST door has its own HTTP layer)
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
bad() {
	echo "not ok - $*"
	fail=1
}

# rank FOLDER: the layer's height; an include may go to the same or lower.
rank() {
	case $1 in
	door) echo 4 ;;
	sched) echo 3 ;;
	events) echo 2 ;;
	store) echo 1 ;;
	*) echo 99 ;;
	esac
}

n=0
for f in server/*/*.[ch]; do
	from=${f#server/}
	from=${from%%/*}
	while IFS= read -r inc; do
		to=${inc%%/*}
		n=$((n + 1))
		if [ "$(rank "$to")" -gt "$(rank "$from")" ]; then
			bad "$f includes \"$inc\": $from may not reach up to $to"
		fi
	done < <(sed -n 's/^#include "\([a-z]*\/[a-z_]*\.h\)".*/\1/p' "$f")
done
[ "$fail" = 1 ] || echo "ok - $n includes between server layers go down or sideways"

# The common runtime includes nothing of the programs above it.
if grep -n '^#include "\(door\|sched\|store\|events\)/' client/core/*.[ch] \
    client/src/*.c client/cli/*.c worker/*.[ch] 2>/dev/null; then
	bad "client/ or worker/ includes a server layer"
else
	echo "ok - client/ and worker/ include no server layer"
fi

# only PATTERN ALLOWED...: PATTERN is included only from the ALLOWED files.
only() {
	local pat=$1 hits f ok a clean=1
	shift
	hits=$(grep -rl --include='*.[ch]' "^#include <$pat" client server worker plugins || true)
	for f in $hits; do
		ok=0
		for a in "$@"; do
			case $f in $a) ok=1 ;; esac
		done
		if [ "$ok" = 0 ]; then
			bad "$f includes <$pat...>: only $* may"
			clean=0
		fi
	done
	[ "$clean" = 0 ] || echo "ok - <$pat...> only from $*"
}
only 'sqlite3.h' 'server/store/*'
only 'libpq-fe.h' 'server/store/postgres.c'
only 'yaml.h' 'client/core/config.c'
only 'mbedtls/' 'client/core/tls.c' 'server/door/auth.c' 'server/sched/workerid.c'
only 'nng/supplemental/http/' 'plugins/webhook/webhook.c'

exit "$fail"
