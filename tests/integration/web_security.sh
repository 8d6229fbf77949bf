#!/usr/bin/env bash
# web_security: what the gateway does for browsers. Every response (API,
# dashboard, errors of the route table and of the HTTP layer) carries the
# security headers; a state-changing request with a foreign Origin or
# "Sec-Fetch-Site: cross-site" is refused 403 JSON and changes nothing,
# while one without those headers (curl --data) works as ever; the
# dashboard's files are served with their types and ETags (304 on a
# match), GET / redirects to /ui/, and with http.dashboard false both are
# 404 JSON; GET /whoami tells a key's scopes, and refuses no key.
. "$(dirname "$0")/lib.sh"

sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
ADMIN_KEY=adm-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
READ_KEY=rd-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

# headers_ok FILE: FILE (curl -D) holds the four security headers.
headers_ok() {
	grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';.*frame-ancestors 'none'" "$1" &&
	    grep -qi '^X-Frame-Options: DENY' "$1" &&
	    grep -qi '^X-Content-Type-Options: nosniff' "$1" &&
	    grep -qi '^Referrer-Policy: no-referrer' "$1"
}

# status METHOD PATH [CURL ARGS...]: the status; headers in $T_DIR/h,
# body in $T_DIR/b.
status() {
	local m=$1 p=$2; shift 2
	curl -s -o "$T_DIR/b" -D "$T_DIR/h" -w '%{http_code}' -X "$m" "$@" \
	    "$HTTP_URL$p"
}

t_server_start plain
HOST=${HTTP_URL#http://}

t_eq "GET /healthz is 200" 200 "$(status GET /healthz)"
t_check "an API answer carries the security headers" headers_ok "$T_DIR/h"
t_eq "an unknown path is 404" 404 "$(status GET /nope)"
t_check "a 404 carries them" headers_ok "$T_DIR/h"
t_eq "a chunked body is 411 (the HTTP layer answers)" 411 \
    "$(status POST /submit -H 'Transfer-Encoding: chunked' --data-binary '{}')"
t_check "an answer of the HTTP layer carries them" headers_ok "$T_DIR/h"

# Cross-site state changes.
t_eq "a submit with a foreign Origin is 403" 403 \
    "$(status POST /submit -H 'Origin: http://evil.example' --data '{"task_id":"x1","function":"noop"}')"
t_eq "its error is JSON, PERMISSION_DENIED" PERMISSION_DENIED \
    "$(jq -r .error.code "$T_DIR/b")"
t_check "it carries the security headers" headers_ok "$T_DIR/h"
t_eq "and nothing was stored" 404 "$(status GET /status/x1)"
t_eq "Origin on another port of the same host is foreign" 403 \
    "$(status POST /submit -H "Origin: http://127.0.0.1:1" --data '{"task_id":"x2","function":"noop"}')"
t_eq "Origin null is foreign" 403 \
    "$(status POST /submit -H 'Origin: null' --data '{"task_id":"x3","function":"noop"}')"
t_eq "Sec-Fetch-Site: cross-site is refused" 403 \
    "$(status POST /submit -H 'Sec-Fetch-Site: cross-site' --data '{"task_id":"x4","function":"noop"}')"
t_eq "a DELETE with a foreign Origin is 403" 403 \
    "$(status DELETE /jobs/x1 -H 'Origin: https://evil.example')"
t_eq "a PUT with a foreign Origin is 403" 403 \
    "$(status PUT /functions/noop/limits -H 'Origin: https://evil.example' --data '{"concurrency":1}')"
t_eq "the server's own Origin may submit" 201 \
    "$(status POST /submit -H "Origin: http://$HOST" -H 'Sec-Fetch-Site: same-origin' --data '{"task_id":"x5","function":"noop"}')"
t_eq "a submit with no Origin works as before (curl --data)" 201 \
    "$(status POST /submit --data '{"task_id":"x6","function":"noop"}')"
t_eq "a GET with a foreign Origin is still answered" 200 \
    "$(status GET /status/x6 -H 'Origin: http://evil.example')"

# The dashboard.
t_eq "GET / redirects" 302 "$(status GET /)"
t_check "to /ui/" grep -qi '^Location: /ui/' "$T_DIR/h"
t_eq "GET /ui/ is 200" 200 "$(status GET /ui/)"
t_check "as HTML" grep -qi '^Content-Type: text/html; charset=utf-8' "$T_DIR/h"
t_check "with the security headers" headers_ok "$T_DIR/h"
t_check "and its script" grep -q 'src="/ui/app.js"' "$T_DIR/b"
t_check "no inline script or style" bash -c "! grep -Eqi '<script>|<style|style=' '$T_DIR/b'"
t_check "no address of elsewhere" bash -c "! grep -Eqi 'https?://' '$T_DIR/b'"
t_eq "GET /ui/app.js is 200" 200 "$(status GET /ui/app.js)"
t_check "as JavaScript" grep -qi '^Content-Type: text/javascript' "$T_DIR/h"
ETAG=$(sed -n 's/^ETag: //Ip' "$T_DIR/h" | tr -d '\r')
t_check "with an ETag" test -n "$ETAG"
t_eq "If-None-Match with it is 304" 304 \
    "$(status GET /ui/app.js -H "If-None-Match: $ETAG")"
t_eq "GET /ui/app.css is CSS" "text/css; charset=utf-8" \
    "$(curl -s -o /dev/null -w '%{content_type}' "$HTTP_URL/ui/app.css")"
t_eq "an unknown file is 404" 404 "$(status GET /ui/nope.js)"
t_eq "a POST to the dashboard is 405" 405 "$(status POST /ui/ --data x)"
t_eq "GET /whoami without authentication configured" \
    '{"name":"anonymous","auth":false,"cancel":true}' \
    "$(curl -s "$HTTP_URL/whoami" | jq -c '{name, auth, cancel: .can.Cancel}')"
t_eq "GET /stats gives the last hour, minute by minute" 60 \
    "$(curl -s "$HTTP_URL/stats" | jq '.last_hour | length')"
t_eq "the last minute is now's" true \
    "$(curl -s "$HTTP_URL/stats" | jq '(.last_hour[-1].at | sub("\\.000Z$"; "Z") | fromdate) > (now - 120)')"
t_stop "$SERVER_PID"

# The dashboard off.
HTTP_URL=http://127.0.0.1:0 RPC_URL= EVENTS_URL=
t_server_start off SJE_HTTP_DASHBOARD=false
t_eq "with http.dashboard false, /ui/ is 404" 404 "$(status GET /ui/)"
t_eq "as JSON" NOT_FOUND "$(jq -r .error.code "$T_DIR/b")"
t_eq "and / too" 404 "$(status GET /)"
t_eq "the API still serves" 200 "$(status GET /healthz)"
t_stop "$SERVER_PID"

# /whoami with keys.
cat >"$T_DIR/auth.yaml" <<YAML
security:
  auth:
    api_keys:
      - {name: ops, sha256: "$(sha "$ADMIN_KEY")", scopes: [admin]}
      - {name: viewer, sha256: "$(sha "$READ_KEY")", scopes: [read]}
YAML
HTTP_URL=http://127.0.0.1:0 RPC_URL= EVENTS_URL=
t_server_start auth SJE_CONFIG="$T_DIR/auth.yaml"
t_eq "GET /whoami with no key is 401" 401 "$(status GET /whoami)"
t_eq "GET /whoami with a wrong key is 401" 401 \
    "$(status GET /whoami -H 'Authorization: Bearer nope')"
t_eq "a read key is told its scope, and what it may not do" \
    '{"name":"API key '"'"'viewer'"'"'","scopes":["read"],"ListJobs":true,"Cancel":false,"Retry":false,"SetFunction":false}' \
    "$(curl -s -H "Authorization: Bearer $READ_KEY" "$HTTP_URL/whoami" |
        jq -c '{name, scopes, ListJobs: .can.ListJobs, Cancel: .can.Cancel, Retry: .can.Retry, SetFunction: .can.SetFunction}')"
t_eq "an admin key may do everything" true \
    "$(curl -s -H "X-API-Key: $ADMIN_KEY" "$HTTP_URL/whoami" | jq '[.can[]] | all')"
t_eq "GET /stats needs the admin scope" 403 \
    "$(status GET /stats -H "Authorization: Bearer $READ_KEY")"
t_eq "the dashboard's files need no key" 200 "$(status GET /ui/)"
t_eq "a foreign Origin is refused before the key is looked at" 403 \
    "$(status POST /cancel/x -H 'Origin: http://evil.example' -H "Authorization: Bearer $ADMIN_KEY")"
t_check "no key in the log" bash -c "! grep -q -e '$ADMIN_KEY' -e '$READ_KEY' '$T_DIR/auth.log'"
t_done
