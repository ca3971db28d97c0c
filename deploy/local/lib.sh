# Helpers shared by the deploy/local scripts (sourced, not run): messages, and processes
# tracked by PID files. Orphans are reaped late on some machines, so "alive" means running
# and not a zombie (a zombie has already released its files and ports).

prog=$(basename "$0")

die() {
  echo "$prog: $*" >&2
  exit 1
}

alive() {
  local pid=$1 state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# read_pid FILE: the number in FILE, or nothing.
read_pid() {
  [ -s "$1" ] && tr -dc 0-9 <"$1" || true
}

# pid_of FILE NAME_REGEX: the PID in FILE when that process is alive and its name matches
# (a stale file whose PID was reused by something else prints nothing).
pid_of() {
  local file=$1 pattern=$2 pid
  [ -s "$file" ] || return 0
  pid=$(tr -dc 0-9 <"$file")
  if alive "$pid" && grep -qE "$pattern" "/proc/$pid/comm" 2>/dev/null; then
    echo "$pid"
  fi
}

# wait_gone PID SECONDS: true once the process is gone, false if it is still there.
wait_gone() {
  local pid=$1 limit=$2 i
  for ((i = 0; i < limit * 20; i++)); do
    alive "$pid" || return 0
    sleep 0.05
  done
  return 1
}

# stop_pid PID NAME [SIGNAL [SECONDS]]: signal (default TERM), wait, SIGKILL if it hangs.
stop_pid() {
  local pid=$1 name=$2 signal=${3:-TERM} limit=${4:-15}
  kill "-$signal" "$pid" 2>/dev/null || return 0
  wait_gone "$pid" "$limit" && return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || die "$name (pid $pid) survived SIGKILL"
  die "$name (pid $pid) did not exit within ${limit}s of SIG$signal; killed it"
}

# log_tail FILE...: the last lines of each non-empty file, on stderr.
log_tail() {
  local f
  for f in "$@"; do
    if [ -s "$f" ]; then
      echo "--- last lines of $f ---" >&2
      tail -n 25 "$f" >&2
    fi
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Listening on 127.0.0.1:PORT, checked without connecting (a probe through a load balancer
# would reach a backend).
listening() { grep -qE "^ *[0-9]+: 0100007F:$(printf '%04X' "$1") 00000000:0000 0A " /proc/net/tcp; }
