#!/usr/bin/env bash
# Private Redis instance for local runs and tests: start / stop / kill one redis-server bound
# to 127.0.0.1 whose pid file, log and working directory all live in one directory. No
# persistence (--save '' --appendonly no). Quiet on success.
#
#   redis.sh start DIR PORT   start (unless already running), wait until our server answers
#                             PING on PORT; idempotent
#   redis.sh stop DIR         SIGTERM, wait until the process is gone, SIGKILL if it hangs
#   redis.sh kill DIR         SIGKILL (outage tests), wait until the process is gone
#
# Environment:
#   REDIS_SERVER          the server binary (default: redis-server on PATH)
#   REDIS_CLI             the client binary (default: redis-cli on PATH)
#   REDIS_START_TIMEOUT   seconds to wait for the server to answer (default 10)
#   REDIS_STOP_TIMEOUT    seconds to wait for it to exit after SIGTERM (default 10)
set -euo pipefail

server_bin=${REDIS_SERVER:-redis-server}
cli_bin=${REDIS_CLI:-redis-cli}

source "$(dirname "$0")/lib.sh"

usage() {
  echo "usage: $prog start DIR PORT | stop DIR | kill DIR" >&2
  exit 2
}

running_pid() { pid_of "$1/redis.pid" '^redis-server'; }

# The process id reported by the server answering on the port ("" if none answers; never
# fails, so that set -e/pipefail do not end the script while the server is still starting).
answering_pid() {
  local port=$1 info
  info=$("$cli_bin" -h 127.0.0.1 -p "$port" --no-auth-warning INFO server 2>/dev/null) || return 0
  printf '%s\n' "$info" | tr -d '\r' | sed -n 's/^process_id://p'
}

cmd_start() {
  [ $# -eq 2 ] || usage
  local dir=$1 port=$2
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad port '$port'"
  command -v "$server_bin" >/dev/null || die "$server_bin not found (apt-get install redis-server)"
  command -v "$cli_bin" >/dev/null || die "$cli_bin not found (apt-get install redis-tools)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)

  local pid
  pid=$(running_pid "$dir")
  if [ -z "$pid" ]; then
    rm -f "$dir/redis.pid"
    : >"$dir/redis.log"
    # setsid + all three streams redirected: a test runner waiting on its output pipe must
    # not wait for this daemon too.
    setsid "$server_bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize no --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
      </dev/null >"$dir/stdout.log" 2>&1 &
    pid=$!
    # The server writes the pid file itself a moment later; write it now so that stop/kill
    # work even if start-up fails half-way.
    echo "$pid" >"$dir/redis.pid"
  fi

  local limit=${REDIS_START_TIMEOUT:-10} i answering
  for ((i = 0; i < limit * 20; i++)); do
    answering=$(answering_pid "$port")
    if [ -n "$answering" ]; then
      # By the time it answers, our server has written its own pid into the pid file.
      pid=$(tr -dc 0-9 <"$dir/redis.pid")
      [ "$answering" = "$pid" ] ||
        die "port $port is answered by another redis-server (pid $answering), not ours (pid $pid)"
      return 0
    fi
    if ! alive "$pid"; then
      log_tail "$dir/redis.log" "$dir/stdout.log"
      die "redis-server exited during start-up (dir $dir, port $port)"
    fi
    sleep 0.05
  done
  log_tail "$dir/redis.log" "$dir/stdout.log"
  die "redis-server did not answer within ${limit}s (dir $dir, port $port)"
}

cmd_stop_or_kill() {
  local signal=$1
  shift
  [ $# -eq 1 ] || usage
  local dir=$1 pid
  [ -d "$dir" ] || return 0  # never started: nothing to do
  pid=$(running_pid "$dir")
  [ -n "$pid" ] || return 0  # not running: nothing to do
  if [ "$signal" = TERM ]; then
    stop_pid "$pid" redis-server TERM "${REDIS_STOP_TIMEOUT:-10}"
  else
    stop_pid "$pid" redis-server KILL 10
  fi
  rm -f "$dir/redis.pid"
}

[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in
  start) cmd_start "$@" ;;
  stop) cmd_stop_or_kill TERM "$@" ;;
  kill) cmd_stop_or_kill KILL "$@" ;;
  *) usage ;;
esac
