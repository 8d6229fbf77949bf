#!/usr/bin/env bash
# package-test.sh — proves the Debian packages on a fresh machine: builds
# the Release packages (cpack), makes a minimal Debian 12 root with
# mmdebstrap from the mirror this host's apt uses, installs the .debs there
# with apt-get (so their Depends resolve from the mirror), checks what they
# put where (the user sje, /var/lib/sje, the conffile, libsje's soname,
# sje.pc, the plugins, the man pages; lintian finds no error), verifies
# the systemd units against the installed programs (systemd-analyze
# verify --root), starts the
# installed sje-server and an sje-worker as the units would run them (user
# sje, /etc/sje/config.yaml, no new privileges) in a network namespace of
# their own with only loopback, runs calculate_data end to end with the
# installed sje-client and with curl on the REST gateway (the README's
# call), stops them by PID and checks that they stopped gracefully; then
# runs the containers' setup (deploy/docker's configs, certs.sh's
# certificates, API keys) the same way: a coordinator and two workers over
# mutual TLS, a job, HTTPS, the images' health checks. Last it purges the
# packages, checks that nothing of ours is left but what policy keeps (the
# system user), and tears the root down.
#
#   deploy/package-test.sh      as root (CI is root); about 1 minute on 2
#                               cores (the build ~15-30 s, mmdebstrap ~20 s,
#                               apt-get ~10 s), most of it downloading
#
# SJE_PKG_BUILD (default build-pkg) is the build directory it packages from;
# SJE_PKG_KEEP=1 keeps the root (and its logs) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_SRC=$(pwd)
SUITE=bookworm

# --- inside the network namespace: run the installed programs ----------
# Called as `package-test.sh --run-inside ROOT` under unshare --net, so the
# config's fixed loopback ports (7100, 7101, 8080) are ours alone.
if [ "${1:-}" = --run-inside ]; then
	R=$2
	ip link set lo up
	pids=()
	# stop_all sends SIGTERM to what we started, by PID, worker first,
	# and fails unless each stopped gracefully (status 0) within 20 s,
	# the units' TimeoutStopSec.
	stop_all() {
		local i p rc=0 n
		for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
			p=${pids[i]}
			kill -TERM "$p" 2>/dev/null || continue
			for ((n = 0; n < 200; n++)); do
				kill -0 "$p" 2>/dev/null || break
				sleep 0.1
			done
			if kill -0 "$p" 2>/dev/null; then
				echo "pid $p did not stop within 20 s"
				kill -KILL "$p" 2>/dev/null || true
				rc=1
			fi
			wait "$p" || { echo "pid $p exited with $?"; rc=1; }
		done
		pids=()
		return $rc
	}
	trap 'stop_all || true' EXIT
	# As the units run them: user sje, WorkingDirectory /var/lib/sje,
	# NoNewPrivileges, the packaged config.
	# An array, not a function: `"${AS_SJE[@]}" prog &` forks once and
	# execs chroot, sh and setpriv in turn, so $! is the program's PID.
	AS_SJE=(chroot "$R" /bin/sh -c 'cd /var/lib/sje && exec setpriv \
	    --reuid=sje --regid=sje --init-groups --no-new-privs "$@"' sh)
	rm -f "$R/var/lib/sje/endpoints"
	"${AS_SJE[@]}" /usr/bin/sje-server --config /etc/sje/config.yaml \
	    >"$R/tmp/server.log" 2>&1 &
	pids+=($!)
	# The PID is the installed program's, running as sje.
	for _ in $(seq 1 50); do
		[ "$(readlink "/proc/${pids[0]}/exe" || true)" = "$R/usr/bin/sje-server" ] &&
		    break
		sleep 0.1
	done
	[ "$(stat -c %u "/proc/${pids[0]}")" = "$(chroot "$R" id -u sje)" ] ||
	    { echo "sje-server does not run as sje"; exit 1; }
	for _ in $(seq 1 100); do
		[ -s "$R/var/lib/sje/endpoints" ] && break
		kill -0 "${pids[0]}" 2>/dev/null ||
		    { echo "sje-server did not start:"; cat "$R/tmp/server.log"; exit 1; }
		sleep 0.1
	done
	[ -s "$R/var/lib/sje/endpoints" ] ||
	    { echo "sje-server wrote no endpoints in 10 s"; cat "$R/tmp/server.log"; exit 1; }
	"${AS_SJE[@]}" /usr/bin/sje-worker --config /etc/sje/config.yaml --name pkg-w1 \
	    >"$R/tmp/worker.log" 2>&1 &
	pids+=($!)
	client() { chroot "$R" /usr/bin/sje-client --config /etc/sje/config.yaml "$@"; }
	for _ in $(seq 1 100); do
		client workers 2>/dev/null | grep -q pkg-w1 && break
		kill -0 "${pids[1]}" 2>/dev/null ||
		    { echo "sje-worker did not start:"; cat "$R/tmp/worker.log"; exit 1; }
		sleep 0.1
	done
	client workers

	echo "== sje-client submit calculate_data --wait (installed client)"
	out=$(client submit calculate_data --params '{"input_data":[1,2,3,4]}' \
	    --timeout 30 --wait) || { echo "submit failed: $out"; exit 1; }
	echo "$out"
	echo "$out" | grep -q 'state: *SUCCEEDED' ||
	    { echo "calculate_data did not succeed"; exit 1; }
	echo "$out" | grep -q '"sum": 10' || { echo "wrong result"; exit 1; }

	echo "== curl the REST gateway (the README's call)"
	chroot "$R" curl -sS --fail-with-body --max-time 10 \
	    --data '{"task_id":"task_1", "function": "calculate_data", "params":{"input_data":[1,2,3]}}' \
	    http://127.0.0.1:8080/submit
	echo
	st=
	for _ in $(seq 1 100); do
		st=$(chroot "$R" curl -sS --max-time 10 http://127.0.0.1:8080/status/task_1)
		echo "$st" | grep -q '"state": *"SUCCEEDED"' && break
		sleep 0.1
	done
	echo "$st"
	echo "$st" | grep -q '"state": *"SUCCEEDED"' ||
	    { echo "task_1 did not succeed over REST"; exit 1; }
	echo "$st" | grep -q '"sum": *6' || { echo "wrong REST result"; exit 1; }
	# The store is where the package said, owned by sje.
	[ "$(chroot "$R" stat -c %U /var/lib/sje/sje.db)" = sje ] ||
	    { echo "the store is not sje's"; exit 1; }

	echo "== stopping the worker and the server (SIGTERM, by PID)"
	stop_all || exit 1
	echo "both stopped gracefully"

	# The containers' setup (deploy/docker: coordinator.yaml, worker.yaml,
	# certs.sh's certificates, compose.yaml's environment), here with the
	# same installed packages: a coordinator and two workers over mutual
	# TLS, clients with an API key, the images' health checks.
	echo "== mutual TLS as deploy/docker/compose.yaml sets it up"
	tls_env=(SJE_SECURITY_TLS_CERT=/etc/sje/pki/client.pem
	    SJE_SECURITY_TLS_KEY=/etc/sje/pki/client.key SJE_API_KEY="$3")
	env "${AS_SJE[@]}" /usr/bin/sje-server --config /etc/sje/coordinator.yaml \
	    >"$R/tmp/tls-server.log" 2>&1 &
	pids+=($!)
	for w in worker-1 worker-2; do
		env SJE_WORKER_NAME=$w SJE_WORKER_API_KEY="$4" \
		    SJE_SECURITY_TLS_CERT=/etc/sje/pki/worker-$w.pem \
		    SJE_SECURITY_TLS_KEY=/etc/sje/pki/worker-$w.key \
		    "${AS_SJE[@]}" /usr/bin/sje-worker --config /etc/sje/worker.yaml \
		    >"$R/tmp/tls-$w.log" 2>&1 &
		pids+=($!)
	done
	tls_client() {
		env "${tls_env[@]}" chroot "$R" /usr/bin/sje-client \
		    --config /etc/sje/worker.yaml "$@"
	}
	for _ in $(seq 1 150); do
		n=$(tls_client workers 2>/dev/null | grep -c '^worker-[12] ' || true)
		[ "$n" -eq 2 ] && break
		kill -0 "${pids[0]}" 2>/dev/null ||
		    { echo "the TLS coordinator did not start"; exit 1; }
		sleep 0.1
	done
	tls_client workers
	[ "$n" -eq 2 ] || { echo "the TLS workers did not register"; exit 1; }
	out=$(tls_client submit calculate_data --params '{"input_data":[2,4]}' \
	    --timeout 30 --wait) || { echo "TLS submit failed: $out"; exit 1; }
	echo "$out" | grep -q '"sum": 6' || { echo "wrong TLS result: $out"; exit 1; }
	echo "calculate_data over mutual TLS: SUCCEEDED"
	pki=(--cacert /etc/sje/pki/ca.pem --cert /etc/sje/pki/client.pem
	    --key /etc/sje/pki/client.key)
	# Dockerfile.server's HEALTHCHECK, with compose.yaml's settings.
	chroot "$R" curl -fsS --max-time 4 "${pki[@]}" https://localhost:8443/healthz
	echo
	chroot "$R" curl -fsS --max-time 10 "${pki[@]}" -H "X-API-Key: $3" \
	    --data '{"task_id":"tls_1","function":"calculate_data","params":{"input_data":[5]}}' \
	    https://localhost:8443/submit
	echo
	# Without the API key the gateway refuses.
	code=$(chroot "$R" curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	    "${pki[@]}" https://localhost:8443/status/tls_1)
	[ "$code" = 401 ] || { echo "no API key: HTTP $code, not 401"; exit 1; }
	# Dockerfile.worker's HEALTHCHECK, with compose.yaml's settings for
	# worker-2 (its PID for the container's 1).
	chroot "$R" /bin/sh -c "kill -0 ${pids[2]} && curl -fsS -o /dev/null \
	    --max-time 4 --cacert /etc/sje/pki/ca.pem \
	    --cert /etc/sje/pki/worker-worker-2.pem \
	    --key /etc/sje/pki/worker-worker-2.key https://coordinator:8443/healthz" ||
	    { echo "the worker's health check failed"; exit 1; }
	echo "health checks: ok"
	echo "== stopping the TLS coordinator and workers (SIGTERM, by PID)"
	trap - EXIT
	stop_all || exit 1
	echo "all stopped gracefully"
	exit 0
fi

# --- outside: build, make the root, install, run, purge ---------------
if [ "$(id -u)" -ne 0 ]; then
	echo "package-test.sh: run as root (mmdebstrap, chroot, mounts)" >&2
	exit 1
fi
for tool in mmdebstrap cpack dpkg-shlibdeps systemd-analyze unshare setpriv \
    openssl pkg-config objdump man lintian; do
	command -v "$tool" >/dev/null ||
	    { echo "package-test.sh: $tool missing (deploy/deps.sh)" >&2; exit 1; }
done
START=$(date +%s)
BUILD=${SJE_PKG_BUILD:-build-pkg}

echo "== build: $BUILD (Release, prefix /usr)"
cmake -S "$ROOT_SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
# Only what gets packaged (the tests are the Release suite's business).
cmake --build "$BUILD" -j 2 --target sje-server sje-worker sje-client sje \
    sje_core sje_exec sje_log_jsonl sje_webhook man changelog >/dev/null
rm -rf "$BUILD/packages"
(cd "$BUILD" && cpack -G DEB >/dev/null 2>&1) ||
    (cd "$BUILD" && cpack -G DEB)
DEBS=("$BUILD"/packages/*.deb)
[ "${#DEBS[@]}" -eq 5 ] ||
    { echo "expected 5 packages, got: ${DEBS[*]}"; exit 1; }
for d in "${DEBS[@]}"; do
	dpkg-deb -f "$d" Package Version Depends | paste -sd' '
done

# Lintian: errors fail the test; the warnings we accept are known
# (ldconfig and systemctl called from maintainer scripts, libsje.so.0 in
# sje-client rather than a libsje0 package).
echo "== lintian"
lintian --tag-display-limit 0 "${DEBS[@]}" 2>/dev/null | tee "$BUILD/lintian.log" ||
    true
if grep -q '^E: ' "$BUILD/lintian.log"; then
	echo "lintian found errors"
	exit 1
fi

R=$(mktemp -d /tmp/sje-pkgroot.XXXXXX)
cleanup() {
	local rc=$?
	if mountpoint -q "$R/proc"; then
		umount "$R/proc" || umount -l "$R/proc"
	fi
	if [ $rc -ne 0 ]; then
		for f in "$R"/tmp/*.log; do
			[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
		done
	fi
	# Never remove a root that still has something mounted in it.
	if [ "${SJE_PKG_KEEP:-0}" = 1 ]; then
		echo "kept $R"
	elif ! grep -q " $R/" /proc/mounts; then
		rm -rf "$R"
	else
		echo "package-test.sh: $R still has mounts; left in place" >&2
	fi
	exit $rc
}
trap cleanup EXIT

# The mirror: this host's apt sources for $SUITE (deb822 or one-line).
MIRRORS=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && grep -Eq "^[^#]*\\b$SUITE\\b" "$f" && MIRRORS+=("$f")
done
[ "${#MIRRORS[@]}" -gt 0 ] || MIRRORS=(http://deb.debian.org/debian)
echo "== mmdebstrap $SUITE (variant apt) into $R from ${MIRRORS[*]}"
mmdebstrap --variant=apt --quiet --skip=cleanup/apt/lists \
    --include=curl,ca-certificates,systemd "$SUITE" "$R" "${MIRRORS[@]}"
cp /etc/resolv.conf "$R/etc/resolv.conf"
mount -t proc proc "$R/proc"
in_root() { chroot "$R" "$@"; }

echo "== apt-get install the packages (Depends from the mirror)"
mkdir -p "$R/tmp/debs"
cp "${DEBS[@]}" "$R/tmp/debs/"
IN_DEBS=()
for d in "${DEBS[@]}"; do
	IN_DEBS+=("/tmp/debs/$(basename "$d")")
done
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${IN_DEBS[@]}" >"$R/tmp/apt-install.log" 2>&1 ||
    { cat "$R/tmp/apt-install.log"; exit 1; }

echo "== what the packages installed"
fail() { echo "FAIL: $*"; exit 1; }
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
in_root getent passwd sje >/dev/null || fail "no user sje"
[ "$(in_root stat -c '%U:%G' /var/lib/sje)" = sje:sje ] || fail "/var/lib/sje not sje's"
in_root dpkg-query -W -f='${Conffiles}\n' sje-common | grep -q /etc/sje/config.yaml ||
    fail "/etc/sje/config.yaml is not a conffile"
for p in sje-server sje-worker sje-client; do
	[ -x "$R/usr/bin/$p" ] || fail "/usr/bin/$p"
	[ -f "$R/usr/share/man/man1/$p.1.gz" ] || fail "man page of $p"
done
for p in core exec log_jsonl webhook; do
	[ -f "$R/usr/lib/$MA/sje/plugins/sje_$p.so" ] || fail "plugin $p"
done
objdump -p "$R/usr/lib/$MA/libsje.so.0" | grep -q 'SONAME *libsje.so.0' ||
    fail "libsje's soname"
[ "$(readlink "$R/usr/lib/$MA/libsje.so")" = libsje.so.0 ] || fail "libsje.so link"
PKG_CONFIG_PATH="$R/usr/lib/$MA/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$R" \
    pkg-config --cflags --libs sje | grep -q -- -lsje || fail "sje.pc"
[ "$(PKG_CONFIG_PATH="$R/usr/lib/$MA/pkgconfig" pkg-config --modversion sje)" = \
    "$(dpkg-deb -f "${DEBS[0]}" Version)" ] || fail "sje.pc's version"
echo "user sje, /var/lib/sje, conffile, programs, man pages, plugins, soname, sje.pc: ok"

echo "== systemd-analyze verify (the installed units and programs)"
cp "$R/usr/lib/systemd/system/sje-worker@.service" \
    "$R/usr/lib/systemd/system/sje-worker@pkg-w1.service"
# systemd is in the root for its targets; the man pages are checked
# below with man itself (verify would look for them on this host).
SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no --root="$R" \
    "$R/usr/lib/systemd/system/sje-server.service" \
    "$R/usr/lib/systemd/system/sje-worker@pkg-w1.service" 2>&1 |
    tee "$R/tmp/verify.log"
rm "$R/usr/lib/systemd/system/sje-worker@pkg-w1.service"
if grep -q . "$R/tmp/verify.log"; then
	fail "systemd-analyze verify complained"
fi
echo "units: ok"
for p in sje-server sje-worker sje-client; do
	w=$(MANWIDTH=80 man --warnings -l "$R/usr/share/man/man1/$p.1.gz" 2>&1 >/dev/null)
	[ -z "$w" ] || fail "man page of $p: $w"
done
echo "man pages: ok"

# For the TLS run: certs.sh's certificates, readable by sje; the compose
# configs with a fresh API key's hash; "coordinator" on loopback.
bash deploy/certs.sh --out "$R/etc/sje/pki" --server coordinator,localhost \
    --worker worker-1 --worker worker-2 --client ops >/dev/null
in_root /bin/sh -c 'chgrp sje /etc/sje/pki/*.key && chmod 0640 /etc/sje/pki/*.key'
API_KEY=$(openssl rand -hex 32)
WORKER_KEY=$(openssl rand -hex 32)
API_HASH=$(printf %s "$API_KEY" | sha256sum | cut -d' ' -f1)
WORKER_HASH=$(printf %s "$WORKER_KEY" | sha256sum | cut -d' ' -f1)
sed -e "s/sha256: 0\{64\}/sha256: $API_HASH/" \
    -e "s/sha256: 1\{64\}/sha256: $WORKER_HASH/" \
    deploy/docker/coordinator.yaml >"$R/etc/sje/coordinator.yaml"
grep -q "$API_HASH" "$R/etc/sje/coordinator.yaml" &&
    grep -q "$WORKER_HASH" "$R/etc/sje/coordinator.yaml" || fail "API key hashes"
cp deploy/docker/worker.yaml "$R/etc/sje/worker.yaml"
echo "127.0.0.1 coordinator" >>"$R/etc/hosts"

echo "== run the installed programs (own network namespace, loopback only)"
unshare --net -- bash "$ROOT_SRC/deploy/package-test.sh" --run-inside "$R" \
    "$API_KEY" "$WORKER_KEY"
# What the operator added, not the packages: it goes before the purge.
rm -rf "$R/etc/sje/pki" "$R/etc/sje/coordinator.yaml" "$R/etc/sje/worker.yaml"

echo "== apt-get purge"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q \
    sje-common sje-server sje-worker sje-client libsje-dev \
    >"$R/tmp/apt-purge.log" 2>&1 || { cat "$R/tmp/apt-purge.log"; exit 1; }
left=$(in_root dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' \
    'sje-*' 'libsje*' 2>/dev/null | grep -v ' un *$' || true)
[ -z "$left" ] || fail "packages left: $left"
for f in /etc/sje /var/lib/sje /usr/bin/sje-server /usr/bin/sje-worker \
    /usr/bin/sje-client "/usr/lib/$MA/sje" "/usr/lib/$MA/libsje.so.0" \
    /usr/include/sje /usr/share/doc/sje-common /usr/lib/systemd/system/sje-server.service; do
	[ ! -e "$R$f" ] || fail "$f is left after purge"
done
stray=$(find "$R/etc" "$R/usr" "$R/var/lib" -name '*sje*' \
    ! -path "$R/var/lib/dpkg/*" 2>/dev/null | sed "s|^$R||" || true)
[ -z "$stray" ] || fail "left after purge: $stray"
# Policy keeps the system user (it may still own files elsewhere).
in_root getent passwd sje >/dev/null && echo "purge: clean (the system user sje stays)"

echo "== package test passed in $(($(date +%s) - START)) s"
