#!/usr/bin/env bash
# Starts or stops a private nginx (stream load balancer) whose config, PID and logs live in DIR.
#   nginx.sh start DIR PORT   runs DIR/nginx.conf with prefix DIR/, waits until PORT listens
#   nginx.sh stop DIR         graceful stop (SIGQUIT), waits for the exit; SIGKILL after 10 s
set -euo pipefail

cmd=${1:?usage: nginx.sh start DIR PORT | stop DIR}
dir=$(cd "${2:?directory}" && pwd)
pidfile=$dir/logs/nginx.pid

source "$(dirname "$0")/lib.sh"

case "$cmd" in
  start)
    port=${3:?port}
    [ -n "$(pid_of "$pidfile" '^nginx')" ] && exit 0
    mkdir -p "$dir/logs"
    setsid nginx -p "$dir/" -c nginx.conf -e logs/error.log -g 'daemon off;' </dev/null >"$dir/logs/out.log" 2>&1 &
    for _ in $(seq 1 200); do
      listening "$port" && exit 0
      sleep 0.05
    done
    log_tail "$dir/logs/error.log" "$dir/logs/out.log"
    die "nginx did not listen on port $port within 10 s"
    ;;
  stop)
    pid=$(pid_of "$pidfile" '^nginx')
    [ -n "$pid" ] && stop_pid "$pid" nginx QUIT 10  # QUIT: graceful, lets connections finish
    rm -f "$pidfile"
    ;;
  *)
    echo "usage: nginx.sh start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
