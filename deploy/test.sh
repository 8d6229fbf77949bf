#!/usr/bin/env bash
# test.sh — THE test command: installs what is missing, builds, and runs
# the whole suite twice: a Release build (-O3, as packagers build it), then
# one under AddressSanitizer and UndefinedBehaviorSanitizer (-O2, asserts
# on); builds a Debug one (-O0) too, since warnings are errors at every
# optimisation level; runs the unit tests and the main integration tests
# under ThreadSanitizer; then fuzzes the JSON mapping, the RPC frame decoding
# and the HTTP request parser for 60 s each (clang, libFuzzer;
# SJE_FUZZ_SECONDS to change); after the Release suite, builds the Debian
# packages and proves them on a fresh Debian 12 root
# (deploy/package-test.sh, as root).
# Also checks that gen/ matches proto/, that every C file is laid out as
# .clang-format says, and that the libsje example builds. Exits non-zero on
# the first failure.
#
#   deploy/test.sh            everything (what CI runs)
#   deploy/test.sh --quick    the Release suite only (no packages, no
#                             sanitizers, no Debug build, no fuzzing)
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

# Our C, not protoc-c's: gen/ stays as generated. Fix with
#   clang-format -i FILE...
echo "== the C sources are formatted as .clang-format says"
find client server worker plugins tests -name '*.[ch]' -print0 |
    xargs -0 clang-format --dry-run --Werror

run_suite build -DCMAKE_BUILD_TYPE=Release
if [ "${1:-}" != "--quick" ]; then
	# The packages of a Release build, installed, run and purged on a
	# fresh Debian 12 root (mmdebstrap; needs root, as CI is).
	echo "== packages: deploy/package-test.sh"
	bash deploy/package-test.sh

	echo "== build: build-debug (-O0)"
	cmake -S "$ROOT" -B build-debug -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-debug -j "$JOBS"

	# Leaks at exit are errors; nng keeps a few process-wide allocations
	# that it frees only at exit via atexit, which LSan sees as freed.
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	run_suite build-asan -DSJE_SANITIZE=ON

	# ThreadSanitizer: the unit tests and the integration tests that do
	# not measure time against a lease or a delay (TSan runs 5-15 times
	# slower). A report fails the test: the servers' logs are checked.
	echo "== build: build-tsan (-DSJE_TSAN=ON)"
	cmake -S "$ROOT" -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DSJE_TSAN=ON >/dev/null
	cmake --build build-tsan -j "$JOBS"
	echo "== test: build-tsan"
	TSAN_OPTIONS="halt_on_error=1 suppressions=$ROOT/tests/tsan.supp" \
	    ctest --test-dir build-tsan \
	    --output-on-failure -j "$JOBS" --timeout 300 \
	    -R '^unit\.|^integration\.(end_to_end|libsje|durability|rest|text|events_auth|hooks)$'

	# --- fuzzing --------------------------------------------------------
	# The network-facing parsers under libFuzzer with ASan and UBSan, for
	# a bounded time each, from the committed seed corpora: the JSON ->
	# protobuf mapping (every REST body), the RPC frame decoding (every
	# RPC request) and the HTTP request head parser (every REST request).
	# New inputs go to a scratch directory, never into the
	# repository; a crash leaves its input in build-fuzz/.
	cmake -S "$ROOT" -B build-fuzz -DCMAKE_C_COMPILER=clang \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSJE_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j "$JOBS" --target json_to_pb_fuzz rpc_frame_fuzz http_parse_fuzz
	for target in json_to_pb rpc_frame http_parse; do
		echo "== fuzz: ${target}_fuzz (${SJE_FUZZ_SECONDS:-60} s)"
		dict=()
		[ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
		[ "$target" = json_to_pb ] && dict=(-dict=tests/fuzz/json.dict)
		fuzz_work=$(mktemp -d)
		build-fuzz/bin/${target}_fuzz -max_total_time="${SJE_FUZZ_SECONDS:-60}" \
		    -print_final_stats=1 "${dict[@]}" -artifact_prefix=build-fuzz/ \
		    "$fuzz_work" "tests/fuzz/corpus/$target" 2>"build-fuzz/$target.log" ||
		    { tail -n 60 "build-fuzz/$target.log"; rm -rf "$fuzz_work"; exit 1; }
		grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units' \
		    "build-fuzz/$target.log"
		rm -rf "$fuzz_work"
	done
fi
echo "== all tests passed"
