#!/usr/bin/env bash
# Measures chat_server against the raw forwarder (the machine's ceiling) in one run and prints
# the table of docs/performance.md. Starts its own MariaDB, Redis, chat_server node(s) and
# raw_forwarder on 127.0.0.1 (ports BENCH_PORT_BASE .. +4), stops them all when done.
#
#   bench/run.sh            the full table (about 6 minutes on a 2-core machine)
#   bench/run.sh --quick    every row with short runs and 2,000 idle connections (a smoke run)
#
# Results (one JSON file per run, table.md, *.svg plots) go to BENCH_OUT, default
# .local/bench/<date>. The server runs one io thread and chat_bench one, so each has a core.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source deploy/local/lib.sh

quick=0
[ "${1:-}" = "--quick" ] && quick=1
duration=${BENCH_DURATION:-10}
idle_connections=${BENCH_IDLE_CONNECTIONS:-19000}
curve_rates=(5000 10000 20000 40000 80000)
if [ "$quick" = 1 ]; then
  duration=2
  idle_connections=2000
  curve_rates=(5000 20000)
fi
base=${BENCH_PORT_BASE:-29100}
db_port=$base redis_port=$((base + 1)) node1_port=$((base + 2)) node2_port=$((base + 3)) raw_port=$((base + 4))
out=${BENCH_OUT:-$root/.local/bench/$(date +%Y%m%d-%H%M%S)}
state=$root/.local/bench/state
mkdir -p "$out" "$state"

deploy/local/install-deps.sh
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
cmake --build --preset release --target chat_server chat_bench raw_forwarder
server_bin=$root/build/release/apps/chat_server/chat_server
bench_bin=$root/build/release/apps/chat_bench/chat_bench
raw_bin=$root/build/release/bench/raw_forwarder

raw_pid=""
cleanup() {
  set +e
  [ -n "$raw_pid" ] && stop_pid "$raw_pid" raw_forwarder TERM 5
  deploy/local/node.sh stop "$state/node1"
  deploy/local/node.sh stop "$state/node2"
  deploy/local/redis.sh stop "$state/redis" >/dev/null
  deploy/local/mariadb.sh stop "$state/mariadb"
}
trap cleanup EXIT

# node_config NODE PORT COST [redis]: one io thread, quiet logs; COST cheap = the smallest
# Argon2id cost (so tens of thousands of users register in seconds), default = production.
node_config() {
  local node=$1 port=$2 cost=$3 redis=${4:-}
  cat <<TOML
[server]
port = $port
node_id = "bench$node"
threads = 1

[mysql]
port = $db_port
user = "chat"
password = "chatpw"
database = "chat"

[log]
level = "warn"
TOML
  if [ "$cost" = cheap ]; then
    printf '\n[security]\nargon2_opslimit = 1\nargon2_memlimit_kib = 8\n'
  fi
  if [ -n "$redis" ]; then
    printf '\n[redis]\nport = %s\n' "$redis_port"
  fi
}

start_node() {  # start_node NODE PORT COST [redis]
  node_config "$@" >"$state/node$1.toml"
  deploy/local/node.sh start "$state/node$1" "$server_bin" "$state/node$1.toml" "$2"
}
node_pid() { cat "$state/node$1/server.pid"; }

# run NAME ARGS...: one chat_bench run, its JSON report saved as NAME.json.
run() {
  local name=$1
  shift
  echo "--- $name: chat_bench $*" >&2
  "$bench_bin" --json "$@" >"$out/$name.json"
}

deploy/local/mariadb.sh start "$state/mariadb" "$db_port"
# A fresh database per run: the idle row alone registers ~19,000 users.
mariadb --no-defaults --socket="$state/mariadb/mysqld.sock" -uroot \
  -e "DROP DATABASE IF EXISTS chat; CREATE DATABASE chat"

common=(--duration "$duration" --warmup 1)

# --- the ceiling -------------------------------------------------------------------------
setsid "$raw_bin" --port "$raw_port" --threads 1 </dev/null >"$state/raw_forwarder.log" 2>&1 &
raw_pid=$!
for _ in $(seq 1 100); do listening "$raw_port" && break; sleep 0.05; done
raw=(--raw --connect "127.0.0.1:$raw_port" --server-pid "$raw_pid" "${common[@]}")
run raw_pingpong "${raw[@]}" pingpong --pairs 50
run raw_stream "${raw[@]}" stream --pairs 50 --window 64
for rate in "${curve_rates[@]}"; do
  run "raw_paced_$rate" "${raw[@]}" stream --pairs 50 --rate "$rate"
done
stop_pid "$raw_pid" raw_forwarder TERM 5
raw_pid=""

# --- one node ----------------------------------------------------------------------------
start_node 1 "$node1_port" cheap
pid=$(node_pid 1)
chat=(--connect "127.0.0.1:$node1_port" --server-pid "$pid" --state "$state/users.json")
run setup "${chat[@]}" --deadline 600 setup --users $((idle_connections + 100)) --groups 1 --members 100 \
  --prefix "u$(date +%s)_"
run pingpong "${chat[@]}" "${common[@]}" pingpong --pairs 50
run stream "${chat[@]}" "${common[@]}" stream --pairs 50 --window 64
for rate in "${curve_rates[@]}"; do
  run "paced_$rate" "${chat[@]}" "${common[@]}" stream --pairs 50 --rate "$rate"
done
run group "${chat[@]}" "${common[@]}" group --groups 1 --members 100 --window 8
run idle "${chat[@]}" --duration "$duration" --warmup 0 --deadline 900 idle --connections "$idle_connections" \
  --ping-interval-ms 1000
deploy/local/node.sh stop "$state/node1"

# --- login storm at the production Argon2id cost ------------------------------------------
start_node 1 "$node1_port" default
pid=$(node_pid 1)
login=(--connect "127.0.0.1:$node1_port" --server-pid "$pid" --state "$state/login-users.json")
run login_setup "${login[@]}" --deadline 600 setup --users 220 --groups 0 --prefix "l$(date +%s)_"
run login "${login[@]}" "${common[@]}" login --concurrency 200 --pairs 10 --rate 1000
deploy/local/node.sh stop "$state/node1"
run hashrate --duration "$duration" --warmup 0 hashrate --hash-threads "$(nproc)"

# --- two nodes through Redis ---------------------------------------------------------------
deploy/local/redis.sh start "$state/redis" "$redis_port"
start_node 1 "$node1_port" cheap redis
start_node 2 "$node2_port" cheap redis
cluster=(--connect "127.0.0.1:$node1_port,127.0.0.1:$node2_port" --server-pid "$(node_pid 1)"
         --server-pid "$(node_pid 2)" --state "$state/cluster-users.json")
run cluster_setup "${cluster[@]}" setup --users 100 --groups 0 --prefix "c$(date +%s)_"
run cluster_stream "${cluster[@]}" "${common[@]}" stream --pairs 50 --window 64
echo "--- redis-benchmark -n 200000 PUBLISH ch x" >&2
redis-benchmark -h 127.0.0.1 -p "$redis_port" -n 200000 -q PUBLISH ch x | tr '\r' '\n' | grep -a 'requests per second' \
  | tail -1 >"$out/redis_benchmark.txt"

python3 bench/table.py "$out" | tee "$out/table.md"
echo "results: $out" >&2
