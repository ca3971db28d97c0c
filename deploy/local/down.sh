#!/usr/bin/env bash
# Stops what deploy/local/up.sh started, by PID: the chat_server node(s), then MariaDB.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
state=$root/.local

for node in "$state"/node*; do
  [ -d "$node" ] && "$root/deploy/local/node.sh" stop "$node"
done
[ -d "$state/mariadb" ] && "$root/deploy/local/mariadb.sh" stop "$state/mariadb"
echo "chatd is down"
