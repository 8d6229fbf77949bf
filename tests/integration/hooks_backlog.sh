#!/usr/bin/env bash
# hooks_backlog.sh — the store keeps what the hooks have not seen: a
# coordinator plugin held at its first event (until the test opens its
# gate file) falls 120,000 events behind (40,000 noop jobs, run by
# sje-bench), more than the 100,000 the store keeps for catch-up readers;
# once it goes on, it still hears of every event, in order, with no gap.
source "$(dirname "$0")/lib.sh"

cat >"$T_DIR/config.yaml" <<YAML
plugins:
  - {name: core}
  - {name: hooktest, options: {events_file: "$T_DIR/events.txt", gate_file: "$T_DIR/gate"}}
YAML
t_server_start s1 SJE_CONFIG="$T_DIR/config.yaml"
t_worker_start a 8 "$T_DIR/config.yaml"
t_worker_start b 8 "$T_DIR/config.yaml"

"$SJE_BIN/sje-bench" throughput --server "$RPC_URL" --jobs 40000 >"$T_DIR/bench.out"
t_check "40,000 jobs ran" grep -q '(40000 succeeded)' "$T_DIR/bench.out"
heard() { grep -c . "$T_DIR/events.txt" 2>/dev/null || echo 0; }
t_eq "the held hook had heard of none of their 120,000 events" 0 "$(heard)"
touch "$T_DIR/gate"
heard_all() { [ "$(heard)" -ge 120000 ]; }
t_until 120 heard_all || t_fail "the hook heard of $(heard) events, not 120000"
t_eq "it then heard of every event once, in order, from 1 to 120000" \
    "120000 1 120000 0" \
    "$(awk 'NR == 1 { first = $1 } { if (NR > 1 && $1 != prev + 1) bad++; prev = $1 } END { print NR, first, prev, bad + 0 }' "$T_DIR/events.txt")"
t_check "and no gap was logged" bash -c "! grep -q 'forgotten by the store' '$T_DIR/s1.log'"
t_stop_status "$SERVER_PID"
t_eq "the server stops cleanly" 0 "$T_STATUS"
t_check "no sanitizer report in its log" t_no_sanitizer_report "$T_DIR/s1.log"
t_done
