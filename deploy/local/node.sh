#!/usr/bin/env bash
# Starts or stops one chat_server process in the background, tracked by a PID file.
#   node.sh start DIR BINARY CONFIG PORT   (log DIR/server.log, pid DIR/server.pid; waits for PORT)
#   node.sh stop DIR                       (SIGTERM, waits for the exit; SIGKILL after 15 s)
set -euo pipefail

cmd=${1:?usage: node.sh start DIR BINARY CONFIG PORT | stop DIR}
dir=${2:?directory}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "$cmd" in
  start)
    binary=${3:?binary} config=${4:?config} port=${5:?port}
    mkdir -p "$dir"
    if [ -f "$dir/server.pid" ] && kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then
      echo "chat_server already running (pid $(cat "$dir/server.pid"))"
      exit 0
    fi
    setsid "$binary" --config "$config" </dev/null >"$dir/server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/server.pid"
    for _ in $(seq 1 200); do
      port_open "$port" && exit 0
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "chat_server exited during start-up:" >&2
        tail -n 20 "$dir/server.log" >&2
        exit 1
      fi
      sleep 0.05
    done
    echo "chat_server did not listen on port $port within 10 s:" >&2
    tail -n 20 "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    [ -f "$dir/server.pid" ] || exit 0
    pid=$(cat "$dir/server.pid")
    if kill -TERM "$pid" 2>/dev/null; then
      for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
      done
      if kill -0 "$pid" 2>/dev/null; then
        echo "chat_server (pid $pid) ignored SIGTERM for 15 s: killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    rm -f "$dir/server.pid"
    ;;
  *)
    echo "usage: node.sh start DIR BINARY CONFIG PORT | stop DIR" >&2
    exit 2
    ;;
esac
