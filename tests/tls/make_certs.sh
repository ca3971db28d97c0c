#!/usr/bin/env bash
# Writes throw-away certificates for the TLS tests into DIR (replacing earlier ones), with the
# openssl command-line tool:
#   ca.pem, ca.key              a CA ("chatd throw-away test CA"), valid for 2 days
#   server.pem, server.key      a server certificate from that CA for the IP address 127.0.0.1
#                               (IP SAN only: the common name is not an address, so a client
#                               that matched the CN instead of the SAN would fail)
#   other-ca.pem                a second CA that signed nothing: trusting only it must fail
#
#   make_certs.sh DIR
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
command -v openssl >/dev/null || { echo "$0: openssl not found (apt-get install openssl)" >&2; exit 1; }
dir=$1
mkdir -p "$dir"
cd "$dir"
rm -f ca.pem ca.key server.pem server.key server.csr server.ext other-ca.pem other-ca.key
umask 077  # the keys

# new_ca NAME SUBJECT: a self-signed P-256 CA in NAME.pem / NAME.key.
new_ca() {
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$1.key" -out "$1.pem" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

new_ca ca "chatd throw-away test CA"
new_ca other-ca "chatd other throw-away CA"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server.key -out server.csr -subj "/CN=chatd test server" 2>/dev/null
cat >server.ext <<'EXT'
subjectAltName = IP:127.0.0.1
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
  -days 2 -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext other-ca.key
chmod 644 ca.pem other-ca.pem server.pem

openssl verify -CAfile ca.pem server.pem >/dev/null
echo "certificates in $(pwd): ca.pem, server.pem (IP:127.0.0.1), server.key, other-ca.pem"
