#!/usr/bin/env bash
# test.sh — THE test command: installs what is missing, builds, and runs
# the whole suite twice: a plain build, then one under AddressSanitizer and
# UndefinedBehaviorSanitizer. Also checks that gen/ matches proto/ and that
# the libsje example builds. Exits non-zero on the first failure.
#
#   deploy/test.sh            everything (what CI runs)
#   deploy/test.sh --quick    the plain build only
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

bash deploy/deps.sh

run_suite() {
	local dir=$1; shift
	echo "== build: $dir ($*)"
	cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j "$JOBS"
	echo "== test: $dir"
	ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 300
}

echo "== gen/ is up to date with proto/"
cmake -S "$ROOT" -B build >/dev/null
cmake --build build --target check-gen

run_suite build
if [ "${1:-}" != "--quick" ]; then
	# Leaks at exit are errors; nng keeps a few process-wide allocations
	# that it frees only at exit via atexit, which LSan sees as freed.
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	run_suite build-asan -DSJE_SANITIZE=ON
fi
echo "== all tests passed"
