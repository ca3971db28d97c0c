#!/usr/bin/env bash
# Brings up a local chatd on 127.0.0.1: a private MariaDB and one chat_server node
# (data, logs and PIDs under .local/ in the checkout), installing packages and building first
# if needed. Ports: CHAT_PORT (default 6000), CHAT_DB_PORT (default 23306).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
port=${CHAT_PORT:-6000}
db_port=${CHAT_DB_PORT:-23306}
state=$root/.local
mkdir -p "$state"

deploy/local/install-deps.sh
if [ ! -f build/release/build.ninja ]; then
  cmake --preset release >/dev/null
fi
cmake --build --preset release --target chat_server

deploy/local/mariadb.sh start "$state/mariadb" "$db_port"

cat >"$state/chat_server.toml" <<TOML
# Written by deploy/local/up.sh; see deploy/config/chat_server.toml for every key.
[server]
listen_address = "127.0.0.1"
port = $port
node_id = "local1"

[mysql]
host = "127.0.0.1"
port = $db_port
user = "chat"
password = "chatpw"
database = "chat"
TOML

deploy/local/node.sh start "$state/node1" "$root/build/release/apps/chat_server/chat_server" \
  "$state/chat_server.toml" "$port"
echo "chatd is up: chat_server on 127.0.0.1:$port (log: .local/node1/server.log), MariaDB on 127.0.0.1:$db_port"
echo "stop it with deploy/local/down.sh"
