#!/usr/bin/env bash
# deps.sh — installs what SJE needs to build and test on Debian 12, only
# what is missing. Run as root (or with sudo available).
set -euo pipefail

PKGS=(
	build-essential cmake pkg-config
	libnng-dev libmbedtls-dev
	protobuf-c-compiler libprotobuf-c-dev
	libyaml-dev libsqlite3-dev libjansson-dev libcmocka-dev
	libpq-dev postgresql postgresql-client
	jq curl sqlite3 clang clang-format openssl iproute2
	wrk libclang-rt-14-dev
	chromium chromium-driver python3-selenium
	# deploy/package-test.sh: cpack's Depends (dpkg-shlibdeps), a fresh
	# Debian root, the units' check, the man pages' check, lintian
	dpkg-dev mmdebstrap systemd man-db lintian
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
