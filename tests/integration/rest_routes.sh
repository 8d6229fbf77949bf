#!/usr/bin/env bash
# rest_routes: the REST gateway's routing and refusals for the operator
# endpoints (retry, delete, explain, functions, pause and resume), with a
# real server and no worker: what the gateway answers itself, before the
# scheduler sees a call. A wrong method is 405 with an Allow header that
# lists every method of the path, an unknown path (one segment short or
# too many, a suffix the route does not have) is 404, a path parameter
# holding %2F or a bad escape is 400 naming the route's field, and a bad
# body or query is 400 naming the field, all in JSON. The 2xx answers,
# which need the scheduler's handlers, are in rest_ops.sh.
. "$(dirname "$0")/lib.sh"

t_server_start server

PORT=${HTTP_URL##*:}

# req METHOD PATH [curl args...]: one request; sets CODE, BODY and HDRS.
# HEAD goes over a raw socket, so that BODY is whatever followed the head
# (curl would not read a body it was not to get).
req() {
	local m=$1 p=$2; shift 2
	if [ "$m" = HEAD ]; then
		exec 3<>"/dev/tcp/127.0.0.1/$PORT"
		printf 'HEAD %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' "$p" >&3
		timeout 10 cat <&3 >"$T_DIR/raw" || true
		exec 3<&- 3>&-
		HDRS=$(sed '/^\r$/q' "$T_DIR/raw" | tr -d '\r')
		BODY=$(sed '1,/^\r$/d' "$T_DIR/raw")
		CODE=$(head -n 1 <<<"$HDRS" | cut -d ' ' -f 2)
		return
	fi
	CODE=$(curl -sS -X "$m" -D "$T_DIR/hdrs" -o "$T_DIR/body" \
	    -w '%{http_code}' "$@" "$HTTP_URL$p" 2>"$T_DIR/curl.err") || CODE=000
	BODY=$(cat "$T_DIR/body" 2>/dev/null || true)
	HDRS=$(tr -d '\r' <"$T_DIR/hdrs" 2>/dev/null || true)
}
jqb() { jq -r "$1" <<<"$BODY"; }
# is_error STATUS CODE FIELD: the last answer is that JSON error.
is_error() {
	if [ "$CODE" = "$1" ] && [ "$(jqb .error.code)" = "$2" ] &&
	    [ "$(jqb .error.field)" = "$3" ] &&
	    [ -n "$(jqb .error.message)" ] &&
	    [ "$(jqb '.error | keys_unsorted | join(",")')" = code,message,field ] &&
	    grep -qi '^content-type: application/json' <<<"$HDRS"; then
		return 0
	fi
	echo "# got $CODE $(head -c 400 <<<"$BODY")"
	return 1
}
# allow_is VALUE: the last answer's Allow header is VALUE exactly.
allow_is() {
	local got
	got=$(sed -n 's/^[Aa]llow: //p' <<<"$HDRS")
	[ "$got" = "$1" ] || { echo "# Allow: '$got'"; return 1; }
}
# not_allowed METHOD PATH ALLOW: 405 in JSON (HEAD: no body) with that
# Allow header.
not_allowed() {
	req "$1" "$2"
	if [ "$1" = HEAD ]; then
		t_eq "HEAD $2 is 405, without a body" "405 " "$CODE $BODY"
	else
		t_check "$1 $2 is 405 METHOD_NOT_ALLOWED" \
		    is_error 405 METHOD_NOT_ALLOWED ""
	fi
	t_check "with Allow: $3" allow_is "$3"
}

## A wrong method: 405, and Allow lists every method the path takes.
not_allowed PUT /jobs/x/explain "GET, HEAD"
t_check "the message says which methods the path takes" \
    grep -qF '/jobs/x/explain takes GET, HEAD, not PUT' <<<"$BODY"
not_allowed POST /jobs/x/explain "GET, HEAD"
not_allowed DELETE /jobs/x/explain "GET, HEAD"
not_allowed GET /retry/x "POST"
not_allowed HEAD /retry/x "POST"
not_allowed DELETE /retry/x "POST"
not_allowed GET /jobs/x "DELETE"
not_allowed POST /jobs/x "DELETE"
not_allowed HEAD /jobs/x "DELETE"
not_allowed PUT /jobs/x "DELETE"
not_allowed DELETE /jobs "GET, HEAD"
not_allowed POST /jobs "GET, HEAD"
not_allowed POST /functions "GET, HEAD"
not_allowed PUT /functions "GET, HEAD"
not_allowed GET /functions/x/pause "POST"
not_allowed PUT /functions/x/resume "POST"
not_allowed DELETE /status/x "GET, HEAD"
not_allowed DELETE /submit "POST"
req PATCH /jobs/x --data '{}'
t_check "an unknown method is 405 too" is_error 405 METHOD_NOT_ALLOWED ""
t_check "with the path's Allow" allow_is "DELETE"
req delete /jobs/x
t_check "methods are case-sensitive: delete is not DELETE" \
    is_error 405 METHOD_NOT_ALLOWED ""
req GET /retry/x --data 'not json at all'
t_check "GET /retry with a bad body is 405, not 400" is_error 405 METHOD_NOT_ALLOWED ""
t_check "the access log has the 405" \
    grep -q 'http PUT /jobs/x/explain 405 ' "$T_DIR/server.log"

## HEAD is served on the GET routes: answered as GET is (by the handler,
## whether it serves the method yet or not), without the body.
# routed: the last answer came from past the routing (the scheduler's
# 404 names the task_id; the router's names no field).
routed() {
	case "$CODE" in
	200 | 501) return 0 ;;
	404) [ "$(jqb .error.field)" = task_id ] ;;
	*) echo "# got $CODE $BODY"; return 1 ;;
	esac
}
for p in /jobs/x/explain /functions; do
	req GET "$p"
	t_check "GET $p is routed to its method" routed
	get=$CODE
	req HEAD "$p"
	t_eq "HEAD $p answers as GET does" "$get" "$CODE"
	t_eq "without a body" "" "$BODY"
done

## Unknown paths: 404 in JSON.
for p in /jobs/x/nosuch /jobs/x/explain/more /jobs/x/explainx /jobs//explain \
    /jobs/ /functions/x /functions/x/ /functions/x/pause/now /functions/ \
    /functions//pause /retry/ /retry/a/b /retry /jobs/x/retry; do
	req GET "$p"
	t_check "GET $p is 404" is_error 404 NOT_FOUND ""
done
req POST /functions/x
t_check "POST /functions/{name} without /pause or /resume is 404" is_error 404 NOT_FOUND ""
req DELETE /jobs/a/b
t_check "DELETE of a path one segment too deep is 404" is_error 404 NOT_FOUND ""
req POST /functions/x/stop
t_check "a suffix the routes do not have is 404" is_error 404 NOT_FOUND ""

## The path parameter: percent-decoded, one segment, never '/'.
req DELETE /jobs/a%2Fb
t_check "an encoded '/' in a task_id is 400" is_error 400 INVALID_ARGUMENT task_id
req GET /jobs/a%2fb/explain
t_check "in either case" is_error 400 INVALID_ARGUMENT task_id
req POST /retry/a%2Fb
t_check "on every route with a task_id" is_error 400 INVALID_ARGUMENT task_id
req POST /functions/a%2Fb/pause
t_check "an encoded '/' in a function name is 400 naming name" \
    is_error 400 INVALID_ARGUMENT name
req GET /jobs/%zz/explain
t_check "a bad percent-escape is 400" is_error 400 INVALID_ARGUMENT task_id
req POST /functions/a%00/resume
t_check "an encoded NUL is 400" is_error 400 INVALID_ARGUMENT name
req POST /workflows/a%2Fb
t_check "POST /workflows/{name} names its own field too" is_error 400 INVALID_ARGUMENT name

## POST /retry/{task_id}: the body is optional, and checked.
req POST /retry/x --data '{"descendants": "yes"}'
t_check "descendants must be a bool" is_error 400 INVALID_ARGUMENT descendants
req POST /retry/x --data '{"task_id": "y"}'
t_check "the task_id comes from the path only" is_error 400 INVALID_ARGUMENT task_id
req POST /retry/x --data '{"task_id": "x", "descendants": true}'
t_check "even when it is the same" is_error 400 INVALID_ARGUMENT task_id
req POST /retry/x --data 'descendants=true'
t_check "a body that is not JSON is 400" is_error 400 INVALID_ARGUMENT ""
req POST /retry/x --data '[true]'
t_check "a body that is not an object is 400" is_error 400 INVALID_ARGUMENT ""
req POST /retry/x --data '{"descendants": true'
t_check "truncated JSON is 400 naming where it broke" \
    is_error 400 INVALID_ARGUMENT descendants
req POST /retry/x --data '{"colour": "red"}'
t_check "an unknown field is 400 naming it" is_error 400 INVALID_ARGUMENT colour
req POST '/retry/x?descendants=true'
t_check "a query parameter is 400 naming it" is_error 400 INVALID_ARGUMENT descendants

## POST /functions/{name}/pause and /resume: no body but {}.
req POST /functions/x/pause --data '{"paused": true}'
t_check "pause with a non-empty object is 400 naming its key" \
    is_error 400 INVALID_ARGUMENT paused
req POST /functions/x/resume --data '{"name": "y"}'
t_check "resume too" is_error 400 INVALID_ARGUMENT name
req POST /functions/x/pause --data 'pause'
t_check "a body that is not JSON is 400" is_error 400 INVALID_ARGUMENT ""
req POST /functions/x/pause --data '[]'
t_check "an array is 400" is_error 400 INVALID_ARGUMENT ""
req POST '/functions/x/pause?now=1'
t_check "a query parameter is 400 naming it" is_error 400 INVALID_ARGUMENT now

## The other routes refuse a query parameter they do not take.
req GET '/jobs/x/explain?verbose=1'
t_check "explain takes no query" is_error 400 INVALID_ARGUMENT verbose
req DELETE '/jobs/x?force=1'
t_check "delete takes no query" is_error 400 INVALID_ARGUMENT force
req GET '/functions?name=x'
t_check "GET /functions takes no query" is_error 400 INVALID_ARGUMENT name

## Every answer above kept the connection: one curl, two requests.
curl -sS -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
    -X PUT "$HTTP_URL/jobs/x/explain" "$HTTP_URL/jobs/x/explain" >"$T_DIR/two"
t_eq "a 405 keeps the connection" "405 1
405 0" "$(cat "$T_DIR/two")"

t_stop "$SERVER_PID"
t_check "the server stopped cleanly" grep -q 'stopped cleanly' "$T_DIR/server.log"
t_check "with no sanitizer report" t_no_sanitizer_report "$T_DIR/server.log"
t_done
