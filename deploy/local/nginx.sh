#!/usr/bin/env bash
# Starts or stops a private nginx (stream load balancer) whose config, PID and logs live in DIR.
#   nginx.sh start DIR PORT   runs DIR/nginx.conf with prefix DIR/, waits until PORT listens
#   nginx.sh stop DIR         graceful stop (SIGQUIT), waits for the exit; SIGKILL after 10 s
set -euo pipefail

cmd=${1:?usage: nginx.sh start DIR PORT | stop DIR}
dir=$(cd "${2:?directory}" && pwd)
pidfile=$dir/logs/nginx.pid

# Listening, checked without connecting: a probe would reach a backend through the balancer.
listening() { grep -qE "^ *[0-9]+: 0100007F:$(printf '%04X' "$1") 00000000:0000 0A " /proc/net/tcp; }

case "$cmd" in
  start)
    port=${3:?port}
    if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      exit 0
    fi
    mkdir -p "$dir/logs"
    setsid nginx -p "$dir/" -c nginx.conf -e logs/error.log -g 'daemon off;' </dev/null >"$dir/logs/out.log" 2>&1 &
    for _ in $(seq 1 200); do
      listening "$port" && exit 0
      sleep 0.05
    done
    echo "nginx did not listen on port $port within 10 s:" >&2
    tail -n 20 "$dir/logs/error.log" "$dir/logs/out.log" >&2 || true
    exit 1
    ;;
  stop)
    [ -s "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    if kill -QUIT "$pid" 2>/dev/null; then
      for _ in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
      done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    ;;
  *)
    echo "usage: nginx.sh start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
