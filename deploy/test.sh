#!/usr/bin/env bash
# test.sh — THE test command: installs what is missing, builds, and runs
# the whole suite twice: a plain build, then one under AddressSanitizer and
# UndefinedBehaviorSanitizer; then fuzzes the JSON mapping for 60 s (clang,
# libFuzzer). Also checks that gen/ matches proto/ and that the libsje
# example builds. Exits non-zero on the first failure.
#
#   deploy/test.sh            everything (what CI runs)
#   deploy/test.sh --quick    the plain build only (no sanitizers, no fuzzing)
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

	# --- fuzzing --------------------------------------------------------
	# The JSON -> protobuf mapping (what the REST gateway does with every
	# body) under libFuzzer with ASan and UBSan, for a bounded time, from
	# the committed seed corpus. New inputs go to a scratch directory,
	# never into the repository; a crash leaves its input in build-fuzz/.
	echo "== fuzz: json_to_pb_fuzz (60 s)"
	cmake -S "$ROOT" -B build-fuzz -DCMAKE_C_COMPILER=clang \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSJE_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j "$JOBS" --target json_to_pb_fuzz
	fuzz_work=$(mktemp -d)
	build-fuzz/bin/json_to_pb_fuzz -max_total_time=60 -print_final_stats=1 \
	    -dict=tests/fuzz/json.dict -artifact_prefix=build-fuzz/ \
	    "$fuzz_work" tests/fuzz/corpus/json_to_pb 2>build-fuzz/fuzz.log ||
	    { tail -n 60 build-fuzz/fuzz.log; rm -rf "$fuzz_work"; exit 1; }
	grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units' build-fuzz/fuzz.log
	rm -rf "$fuzz_work"
fi
echo "== all tests passed"
