#!/usr/bin/env bash
# Starts or stops one chat_server process in the background, tracked by a PID file.
#   node.sh start DIR BINARY CONFIG PORT   (log DIR/server.log, pid DIR/server.pid; waits for PORT)
#   node.sh stop DIR                       (SIGTERM, waits for the exit; SIGKILL after 20 s)
#   node.sh kill DIR                       (SIGKILL: a crash, for trying failover)
set -euo pipefail

cmd=${1:?usage: node.sh start DIR BINARY CONFIG PORT | stop DIR}
dir=${2:?directory}

source "$(dirname "$0")/lib.sh"

case "$cmd" in
  start)
    binary=${3:?binary} config=${4:?config} port=${5:?port}
    mkdir -p "$dir"
    [ -n "$(pid_of "$dir/server.pid" '^chat_server')" ] && exit 0
    setsid "$binary" --config "$config" </dev/null >"$dir/server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/server.pid"
    for _ in $(seq 1 200); do
      port_open "$port" && exit 0
      if ! alive "$pid"; then
        log_tail "$dir/server.log"
        die "chat_server exited during start-up"
      fi
      sleep 0.05
    done
    log_tail "$dir/server.log"
    die "chat_server did not listen on port $port within 10 s"
    ;;
  stop)
    pid=$(pid_of "$dir/server.pid" '^chat_server')
    # SIGTERM: drain (GOING_AWAY over drain_period_ms, 10 s), undeliverable chat stored, exit 0.
    [ -n "$pid" ] && stop_pid "$pid" chat_server TERM 20
    rm -f "$dir/server.pid"
    ;;
  kill)
    pid=$(pid_of "$dir/server.pid" '^chat_server')
    [ -n "$pid" ] && stop_pid "$pid" chat_server KILL 10
    rm -f "$dir/server.pid"
    ;;
  *)
    echo "usage: node.sh start DIR BINARY CONFIG PORT | stop DIR" >&2
    exit 2
    ;;
esac
