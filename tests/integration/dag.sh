#!/usr/bin/env bash
# dag: dependency DAGs through the CLI with a real server and workers:
# chain, fan-out, fan-in with collect, diamond, a failure in the middle of
# a chain, cancel of a parent, an unknown parent refused, and a restart of
# the server in the middle of a DAG.
. "$(dirname "$0")/lib.sh"

t_server_start server
t_worker_start wa 4

started() { sje --json status "$1" | jq -r .started_at; }

## Chain: a -> b -> c, each waits for the one before.
sje submit sleep --id ch-a --params '{"seconds":1}' >/dev/null
sje submit echo --id ch-b --after ch-a --params '{"b":1}' >/dev/null
sje submit echo --id ch-c --after ch-b --params '{"c":1}' >/dev/null
t_eq "a child waits PENDING while its parent runs" PENDING "$(t_state ch-b)"
t_eq "a grandchild waits PENDING too" PENDING "$(t_state ch-c)"
t_check "the chain finishes" t_until 30 t_state_is ch-c SUCCEEDED
# not_before A B: RFC 3339 time A is not before B (a child may start in
# the very round, and millisecond, its parent finished).
not_before() { [ "$1" = "$2" ] || [[ "$1" > "$2" ]]; }
t_check "b started once a finished" not_before "$(started ch-b)" \
    "$(sje --json status ch-a | jq -r .finished_at)"
t_check "c started once b finished" not_before "$(started ch-c)" \
    "$(sje --json status ch-b | jq -r .finished_at)"

## Fan-out and fan-in: root -> l1, l2, l3 -> sink (collect).
sje submit echo --id fo-root --params '{"root":true}' >/dev/null
for i in 1 2 3; do
	sje submit echo --id fo-l$i --after fo-root --params "{\"leaf\":$i}" >/dev/null
done
sje submit collect --id fo-sink --after fo-l1,fo-l2,fo-l3 >/dev/null
t_check "the fan-in sink runs" t_until 30 t_state_is fo-sink SUCCEEDED
t_eq "collect sees every parent's result, keyed by task_id" \
    '{"fo-l1":{"leaf":1},"fo-l2":{"leaf":2},"fo-l3":{"leaf":3}}' \
    "$(sje --json status fo-sink | jq -cS .result)"
t_eq "the sink lists its parents" '["fo-l1","fo-l2","fo-l3"]' \
    "$(sje --json status fo-sink | jq -c .depends_on)"

## Diamond: a -> b, a -> c, (b, c) -> d.
sje submit echo --id di-a --params '{"a":1}' >/dev/null
sje submit echo --id di-b --after di-a --params '{"b":2}' >/dev/null
sje submit echo --id di-c --after di-a --params '{"c":3}' >/dev/null
sje submit collect --id di-d --after di-b,di-c >/dev/null
t_check "the diamond's last job runs" t_until 30 t_state_is di-d SUCCEEDED
t_eq "it sees both middle results" '{"di-b":{"b":2},"di-c":{"c":3}}' \
    "$(sje --json status di-d | jq -cS .result)"

## A failure in the middle of a chain fails everything after it.
sje submit echo --id mf-a --params '{}' >/dev/null
sje submit fail --id mf-b --after mf-a --retries 0 --params '{"message":"broke"}' >/dev/null
sje submit echo --id mf-c --after mf-b >/dev/null
sje submit echo --id mf-d --after mf-c >/dev/null
t_check "the failing job fails" t_until 30 t_state_is mf-b FAILED
t_check "its child ends UPSTREAM_FAILED" t_until 10 t_state_is mf-c UPSTREAM_FAILED
t_eq "and so does its grandchild" UPSTREAM_FAILED "$(t_state mf-d)"
t_eq "the error names the parent" "parent 'mf-b' ended FAILED" \
    "$(sje --json status mf-c | jq -r .error.message)"
t_eq "the grandchild's names its own parent" "parent 'mf-c' ended UPSTREAM_FAILED" \
    "$(sje --json status mf-d | jq -r .error.message)"
t_eq "the job before the failure is untouched" SUCCEEDED "$(t_state mf-a)"
sje submit echo --id mf-late --after mf-b >/dev/null
t_eq "a new child of a failed job starts UPSTREAM_FAILED" UPSTREAM_FAILED "$(t_state mf-late)"

## Cancel of a parent fails its descendants.
sje submit nobody_serves_this --id cp-a >/dev/null
sje submit echo --id cp-b --after cp-a >/dev/null
sje submit echo --id cp-c --after cp-b >/dev/null
sje cancel cp-a >/dev/null
t_eq "the cancelled parent is CANCELLED" CANCELLED "$(t_state cp-a)"
t_eq "its child is UPSTREAM_FAILED" UPSTREAM_FAILED "$(t_state cp-b)"
t_eq "its grandchild too" UPSTREAM_FAILED "$(t_state cp-c)"

## An unknown parent is refused and nothing is stored.
set +e
sje submit echo --id up-1 --after no-such-parent 2>"$T_DIR/err"; rc=$?
set -e
t_eq "a submit naming an unknown parent exits 1" 1 "$rc"
t_check "and says which parent" grep -q "unknown parent 'no-such-parent'" "$T_DIR/err"
set +e
sje status up-1 2>/dev/null; rc=$?
set -e
t_eq "the refused job was not stored" 4 "$rc"

## A restart in the middle of a DAG: it finishes, in order.
sje submit sleep --id rs-a --params '{"seconds":2}' >/dev/null
sje submit echo --id rs-b --after rs-a --params '{"b":1}' >/dev/null
sje submit collect --id rs-c --after rs-a,rs-b >/dev/null
t_check "the first job is running" t_until 20 t_state_is rs-a RUNNING
t_kill9 "$SERVER_PID"
t_server_start server
t_eq "after the restart the children still wait" PENDING "$(t_state rs-b)"
t_check "the DAG finishes after the restart" t_until 40 t_state_is rs-c SUCCEEDED
t_eq "the last job saw both parents" '["rs-a","rs-b"]' \
    "$(sje --json status rs-c | jq -c '.result | keys')"

t_done
