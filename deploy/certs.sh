#!/usr/bin/env bash
# certs.sh — certificates for a first SJE deployment, with openssl: a CA,
# the coordinator's certificate, one certificate per worker and one for
# clients (sje-client, services on libsje). Keys are EC P-256.
#
#   deploy/certs.sh --out DIR --server NAME[,NAME...] \
#       [--worker NAME]... [--client NAME] [--days N]
#
#   --server   every host name AND address that workers and clients dial
#              (comma-separated or repeated): sje.example.com,10.0.0.5
#   --worker   a worker's name (its certificate's CN, matched against
#              executor.worker_nodes); repeat for each worker
#   --client   the client certificate's CN (default: sje-client)
#   --days     validity (default: 825)
#
# Files in DIR: ca.pem ca.key (keep ca.key offline once done), server.pem
# server.key, worker-NAME.pem worker-NAME.key, client.pem client.key. An
# existing ca.pem/ca.key in DIR is reused, so running it again adds
# workers under the same CA; existing leaf files are replaced.
#
# Names: SJE's TLS (nng 1.5.2 on mbedTLS 2.28) matches the name a client
# dials against the certificate's DNS: entries only, never IP: entries. So
# every --server value becomes a DNS: entry, addresses included (and an
# IP: entry as well, for other TLS clients such as curl). Prefer dialing
# by name: tls+tcp://sje.example.com:7100.
#
# Cost: a handshake with P-256 takes about 43 ms of CPU on mbedTLS; nng
# keeps connections open, so it is paid once per connection, not per call.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit "${1:-2}"
}

OUT= DAYS=825 CLIENT=sje-client
SERVER_NAMES=() WORKERS=()
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT=${2:?--out needs a directory}; shift 2 ;;
	--server)
		IFS=, read -r -a names <<<"${2:?--server needs names}"
		SERVER_NAMES+=("${names[@]}"); shift 2 ;;
	--worker) WORKERS+=("${2:?--worker needs a name}"); shift 2 ;;
	--client) CLIENT=${2:?--client needs a name}; shift 2 ;;
	--days) DAYS=${2:?--days needs a number}; shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "certs.sh: unknown argument '$1'" >&2; usage 2 ;;
	esac
done
[ -n "$OUT" ] || { echo "certs.sh: --out DIR is required" >&2; usage 2; }
[ "${#SERVER_NAMES[@]}" -gt 0 ] ||
    { echo "certs.sh: --server NAME is required" >&2; usage 2; }
command -v openssl >/dev/null ||
    { echo "certs.sh: openssl is not installed (deploy/deps.sh)" >&2; exit 1; }
# A name must be safe inside a subject and a file name.
for n in "${SERVER_NAMES[@]}" "${WORKERS[@]}" "$CLIENT"; do
	if ! [[ "$n" =~ ^[A-Za-z0-9._:-]+$ ]]; then
		echo "certs.sh: bad name '$n' (letters, digits, . _ : - only)" >&2
		exit 2
	fi
done

mkdir -p "$OUT"
umask 077
cd "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

is_ip() { [[ "$1" =~ ^[0-9.]+$ || "$1" == *:* ]]; }

if [ -s ca.pem ] && [ -s ca.key ]; then
	echo "certs.sh: reusing the CA in $OUT/ca.pem" >&2
else
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca.key -out ca.pem -days "$DAYS" -subj "/CN=SJE CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# leaf NAME FILE USAGE SAN: a key and a certificate signed by the CA.
leaf() {
	local cn=$1 file=$2 eku=$3 san=$4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$file.key" -out "$TMP/$file.csr" -subj "/CN=$cn" 2>/dev/null
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature"
		echo "extendedKeyUsage=$eku"
		echo "subjectAltName=$san"
	} >"$TMP/$file.ext"
	openssl x509 -req -in "$TMP/$file.csr" -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days "$DAYS" -extfile "$TMP/$file.ext" \
	    -out "$file.pem" 2>/dev/null
	chmod 644 "$file.pem"
}

san=
for n in "${SERVER_NAMES[@]}"; do
	san+="${san:+,}DNS:$n"
	if is_ip "$n"; then san+=",IP:$n"; fi
done
# A coordinator also dials the others (a follower hands its calls on to
# the leader), showing this certificate as a client.
leaf "${SERVER_NAMES[0]}" server serverAuth,clientAuth "$san"
for w in "${WORKERS[@]}"; do
	leaf "$w" "worker-$w" clientAuth "DNS:$w"
done
leaf "$CLIENT" client clientAuth "DNS:$CLIENT"
chmod 644 ca.pem
rm -f ca.srl

dir=$(pwd)
name=${SERVER_NAMES[0]}
cat <<EOF
# Certificates in $dir (CA: ca.pem; keep ca.key safe and offline).
# Server certificate names: ${SERVER_NAMES[*]}
# Dial the coordinator by one of these NAMES (mbedTLS matches DNS: entries).

# coordinator (config.yaml):
server:
  rpc_url: tls+tcp://0.0.0.0:7100
  events_url: tls+tcp://0.0.0.0:7101
http:
  listen: 0.0.0.0:8443            # HTTPS with the same certificate
security:
  tls:
    ca: $dir/ca.pem
    cert: $dir/server.pem
    key: $dir/server.key
    require_client_cert: true
  # auth: api_keys or oauth are required as well beyond loopback

EOF
for w in "${WORKERS[@]}"; do
	cat <<EOF
# worker $w (config.yaml on its host; copy ca.pem and its two files there):
worker:
  server_url: tls+tcp://$name:7100
  events_url: tls+tcp://$name:7101
  name: $w
security:
  tls:
    ca: $dir/ca.pem
    cert: $dir/worker-$w.pem
    key: $dir/worker-$w.key

EOF
done
cat <<EOF
# clients (sje-client, libsje via sje_client_opts_from_config):
client:
  server_url: tls+tcp://$name:7100
  events_url: tls+tcp://$name:7101
security:
  tls:
    ca: $dir/ca.pem
    cert: $dir/client.pem
    key: $dir/client.key
EOF
