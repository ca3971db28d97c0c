#!/usr/bin/env bash
# Brings up a local chatd on 127.0.0.1, installing packages and building first if needed:
#   up.sh            a private MariaDB and Redis, two chat_server nodes (6000, 6001) and an
#                    nginx stream load balancer in front of them (8000): connect to 8000
#   up.sh --single   a private MariaDB and one chat_server (6000), no Redis, no nginx
# Each node has an admin listener (/healthz, /readyz, /metrics) on 9611, 9612.
# Data, logs and PIDs live under .local/ in the checkout. Ports can be overridden with
# CHAT_PORT (first node), CHAT_LB_PORT, CHAT_DB_PORT, CHAT_REDIS_PORT and CHAT_ADMIN_PORT
# (first node's admin listener).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mode=cluster
[ "${1:-}" = "--single" ] && mode=single
port=${CHAT_PORT:-6000}
lb_port=${CHAT_LB_PORT:-8000}
db_port=${CHAT_DB_PORT:-23306}
redis_port=${CHAT_REDIS_PORT:-26379}
admin_port=${CHAT_ADMIN_PORT:-9611}
state=$root/.local
mkdir -p "$state"

deploy/local/install-deps.sh
if [ ! -f build/release/build.ninja ]; then
  cmake --preset release >/dev/null
fi
cmake --build --preset release --target chat_server
binary=$root/build/release/apps/chat_server/chat_server

deploy/local/mariadb.sh start "$state/mariadb" "$db_port"

# node_config N PORT: the config of node N (see deploy/config/ for the documented keys).
node_config() {
  # Cluster nodes sit behind nginx, whose deploy/nginx/chat_stream.conf sends a PROXY header:
  # clients connect through it (8000) only.
  local proxy=false
  [ "$mode" = single ] || proxy=true
  cat <<TOML
# Written by deploy/local/up.sh; see deploy/config/chat_server.toml for every key.
[server]
listen_address = "127.0.0.1"
port = $2
node_id = "node$1"
proxy_protocol = $proxy

[mysql]
host = "127.0.0.1"
port = $db_port
user = "chat"
password = "chatpw"
database = "chat"

[admin]
listen_address = "127.0.0.1"
port = $((admin_port + $1 - 1))
TOML
  if [ "$mode" = cluster ]; then
    printf '\n[redis]\nhost = "127.0.0.1"\nport = %s\n' "$redis_port"
  fi
}

if [ "$mode" = single ]; then
  node_config 1 "$port" >"$state/node1.toml"
  deploy/local/node.sh start "$state/node1" "$binary" "$state/node1.toml" "$port"
  echo "chatd is up (single node): chat_server on 127.0.0.1:$port, MariaDB on 127.0.0.1:$db_port"
  echo "health and metrics: http://127.0.0.1:$admin_port/readyz and /metrics"
  echo "logs: .local/node1/server.log; stop with deploy/local/down.sh"
  exit 0
fi

deploy/local/redis.sh start "$state/redis" "$redis_port"
port2=$((port + 1))
node_config 1 "$port" >"$state/node1.toml"
node_config 2 "$port2" >"$state/node2.toml"
deploy/local/node.sh start "$state/node1" "$binary" "$state/node1.toml" "$port"
deploy/local/node.sh start "$state/node2" "$binary" "$state/node2.toml" "$port2"

# nginx with the documented stream config, its ports rewritten, under a private prefix.
mkdir -p "$state/nginx/logs"
sed -e "s/127\.0\.0\.1:6000/127.0.0.1:$port/" -e "s/127\.0\.0\.1:6001/127.0.0.1:$port2/" \
    -e "s/listen 127\.0\.0\.1:8000/listen 127.0.0.1:$lb_port/" \
    deploy/nginx/chat_stream.conf >"$state/nginx/nginx.conf"
deploy/local/nginx.sh start "$state/nginx" "$lb_port"

echo "chatd is up: nginx on 127.0.0.1:$lb_port -> chat_server nodes on 127.0.0.1:$port and :$port2"
echo "MariaDB on 127.0.0.1:$db_port, Redis on 127.0.0.1:$redis_port; logs under .local/"
echo "health and metrics: http://127.0.0.1:$admin_port/ and :$((admin_port + 1))/ (/healthz, /readyz, /metrics)"
echo "stop with deploy/local/down.sh"
