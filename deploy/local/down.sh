#!/usr/bin/env bash
# Stops what deploy/local/up.sh started, by PID: nginx, the chat_server nodes, Redis, MariaDB.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
state=$root/.local

[ -d "$state/nginx" ] && "$root/deploy/local/nginx.sh" stop "$state/nginx"
for node in "$state"/node*/; do
  [ -d "$node" ] && "$root/deploy/local/node.sh" stop "$node"
done
[ -d "$state/redis" ] && "$root/deploy/local/redis.sh" stop "$state/redis"
[ -d "$state/mariadb" ] && "$root/deploy/local/mariadb.sh" stop "$state/mariadb"
echo "chatd is down"
