#!/usr/bin/env bash
# Private MariaDB instance for local runs and tests: start / stop / kill one server whose
# datadir, socket, pid file and logs all live in one directory. Quiet on success.
#
#   mariadb.sh start DIR PORT   start (initialising DIR/data from a template on first use),
#                               wait until it answers, create database `chat` and user
#                               chat/chatpw for 127.0.0.1 and localhost (idempotent)
#   mariadb.sh stop DIR         SIGTERM, wait until the process is gone, SIGKILL if it hangs
#   mariadb.sh kill DIR         SIGKILL (outage tests), wait until the process is gone
#
# Environment:
#   MARIADB_TEMPLATE     initialised datadir copied with `cp -a` instead of running
#                        mariadb-install-db each time (default DIR/../mariadb-template;
#                        created on first use)
#   MARIADB_START_TIMEOUT  seconds to wait for the server to answer (default 30)
#   MARIADB_STOP_TIMEOUT   seconds to wait for it to exit after SIGTERM (default 30)
set -euo pipefail

source "$(dirname "$0")/lib.sh"

usage() {
  echo "usage: $prog start DIR PORT | stop DIR | kill DIR" >&2
  exit 2
}

running_pid() { pid_of "$1/mysqld.pid" '^(mariadbd|mysqld)$'; }

client() {
  local dir=$1
  shift
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot --connect-timeout=5 "$@"
}

root_args=()
[ "$(id -u)" -eq 0 ] && root_args=(--user=root)

# Creates the template datadir once (under a lock, so concurrent starts do not race).
ensure_template() {
  local template=$1
  mkdir -p "$(dirname "$template")"
  (
    flock -w 120 9 || die "timed out waiting for the lock on $template"
    if [ ! -f "$template/.chat-template-ready" ]; then
      rm -rf "$template.tmp"
      mkdir -p "$template.tmp"
      if ! mariadb-install-db --no-defaults "${root_args[@]}" --datadir="$template.tmp" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$template.install.log" 2>&1; then
        tail -n 25 "$template.install.log" >&2
        die "mariadb-install-db failed for $template (log: $template.install.log)"
      fi
      rm -rf "$template"
      mv "$template.tmp" "$template"
      touch "$template/.chat-template-ready"
    fi
  ) 9>"$template.lock"
}

cmd_start() {
  [ $# -eq 2 ] || usage
  local dir=$1 port=$2
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad port '$port'"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local sock="$dir/mysqld.sock"
  [ ${#sock} -lt 108 ] || die "socket path too long for a unix socket: $sock"

  local pid
  pid=$(running_pid "$dir")
  if [ -z "$pid" ]; then
    if [ ! -d "$dir/data/mysql" ]; then
      local template=${MARIADB_TEMPLATE:-$(dirname "$dir")/mariadb-template}
      ensure_template "$template"
      rm -rf "$dir/data"
      cp -a "$template" "$dir/data"
      rm -f "$dir/data/.chat-template-ready"
    fi
    rm -f "$dir/mysqld.pid"
    : >"$dir/error.log"
    setsid mariadbd --no-defaults "${root_args[@]}" --datadir="$dir/data" --socket="$sock" \
      --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mysqld.pid" \
      --log-error="$dir/error.log" --skip-log-bin --skip-name-resolve \
      --performance-schema=OFF --innodb-buffer-pool-size=64M \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      </dev/null >"$dir/stdout.log" 2>&1 &
    pid=$!
  fi

  local limit=${MARIADB_START_TIMEOUT:-30} i ok=0
  for ((i = 0; i < limit * 10; i++)); do
    if mariadb-admin --no-defaults --socket="$sock" -uroot --connect-timeout=2 ping >/dev/null 2>&1; then
      ok=1
      break
    fi
    if ! alive "$pid"; then
      log_tail "$dir/error.log" "$dir/stdout.log"
      die "mariadbd exited during start-up (dir $dir, port $port)"
    fi
    sleep 0.1
  done
  if [ $ok -ne 1 ]; then
    log_tail "$dir/error.log" "$dir/stdout.log"
    die "mariadbd did not answer within ${limit}s (dir $dir, port $port)"
  fi

  # The socket answers; make sure it is ours and also listening on the TCP port.
  local actual
  actual=$(client "$dir" -N -B -e "SELECT @@port" 2>/dev/null) || actual=""
  [ "$actual" = "$port" ] || die "the server on $sock listens on port '${actual}', not $port"

  if ! client "$dir" >/dev/null 2>"$dir/setup.err" <<'SQL'; then
CREATE DATABASE IF NOT EXISTS chat CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'chat'@'127.0.0.1' IDENTIFIED BY 'chatpw';
CREATE USER IF NOT EXISTS 'chat'@'localhost' IDENTIFIED BY 'chatpw';
GRANT ALL PRIVILEGES ON chat.* TO 'chat'@'127.0.0.1';
GRANT ALL PRIVILEGES ON chat.* TO 'chat'@'localhost';
FLUSH PRIVILEGES;
SQL
    cat "$dir/setup.err" >&2
    die "creating database chat / user chat failed (dir $dir)"
  fi
  rm -f "$dir/setup.err"
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
    stop_pid "$pid" mariadbd TERM "${MARIADB_STOP_TIMEOUT:-30}"
    rm -f "$dir/mysqld.pid"
  else
    stop_pid "$pid" mariadbd KILL 10
  fi
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
