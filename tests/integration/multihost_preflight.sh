#!/usr/bin/env bash
# multihost_preflight: when the multi-host test cannot make its network
# namespaces, it fails (never passes or skips) and says which command
# failed and what that command said, rather than blaming root and
# iproute2 when both are there. An 'ip' that refuses stands in for a
# kernel or sandbox that does.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T_DIR/fakebin"
cat >"$T_DIR/fakebin/ip" <<'SH'
#!/bin/sh
echo "mount --make-shared /run/netns failed: Operation not permitted" >&2
exit 1
SH
chmod +x "$T_DIR/fakebin/ip"

set +e
PATH="$T_DIR/fakebin:$PATH" bash "$(dirname "$0")/multihost.sh" \
    >"$T_DIR/mh.out" 2>"$T_DIR/mh.err"
rc=$?
set -e
t_check "the multi-host test fails when namespaces cannot be made" \
    test "$rc" -ne 0
why=$(grep 'FAIL: multihost' "$T_DIR/mh.err" || true)
t_check "it names the command that failed" grep -q "'ip netns add sje-" <<<"$why"
t_check "it quotes what the command said" \
    grep -q 'Operation not permitted' <<<"$why"
if [ "$(id -u)" = 0 ]; then
	t_check "as root, it does not blame a missing root or iproute2" \
	    grep -q 'root and iproute2 are present' <<<"$why"
else
	t_check "not as root, it says root is needed" grep -q 'needs root' <<<"$why"
fi
t_done
