#!/usr/bin/env bash
# Smoke test of chat_bench and raw_forwarder (tests/bench/CMakeLists.txt): runs every scenario
# briefly with --json and checks each report: exit status 0, no error of any kind, traffic,
# and counts that agree with each other (what was sent arrived, a paced rate was kept, every
# PING got its PONG).
#
# Environment: CHAT_BENCH_BIN, RAW_FORWARDER_BIN, CHAT_TEST_PORT (the default fixture server),
# CHAT_SERVER_PID_FILE (its pid), CHAT_BENCH_RAW_PORT, CHAT_BENCH_DIR (reports and logs).
set -euo pipefail

for var in CHAT_BENCH_BIN RAW_FORWARDER_BIN CHAT_TEST_PORT CHAT_SERVER_PID_FILE CHAT_BENCH_RAW_PORT CHAT_BENCH_DIR; do
  [ -n "${!var:-}" ] || { echo "smoke.sh: $var is not set" >&2; exit 2; }
done

dir=$CHAT_BENCH_DIR
rm -rf "$dir"
mkdir -p "$dir"
server_pid=$(tr -dc 0-9 <"$CHAT_SERVER_PID_FILE")
state=$dir/state.json
short=(--warmup 0.3 --duration 1 --json)
chat=(--connect "127.0.0.1:$CHAT_TEST_PORT" --state "$state" --server-pid "$server_pid" "${short[@]}")
raw=(--raw --connect "127.0.0.1:$CHAT_BENCH_RAW_PORT" "${short[@]}")

# bench NAME CHECK ARGS...: runs chat_bench ARGS with its report in $dir/NAME.json, then
# evaluates the Python expression CHECK with `r` bound to the report; fails unless the exit
# status is 0, errors.total is 0 and CHECK holds.
bench() {
  local name=$1 check=$2
  shift 2
  echo "== chat_bench $*"
  local status=0 started
  started=$(date +%s%N)
  "$CHAT_BENCH_BIN" "$@" >"$dir/$name.json" 2>"$dir/$name.log" || status=$?
  echo "   $(((($(date +%s%N) - started) / 1000000))) ms"
  if [ "$status" -ne 0 ]; then
    cat "$dir/$name.log" "$dir/$name.json" >&2
    echo "smoke.sh: chat_bench $name exited with status $status" >&2
    return 1
  fi
  python3 - "$dir/$name.json" "$check" <<'PY'
import json
import sys

r = json.load(open(sys.argv[1]))
print(f"   delivered={r['delivered']} msgs_per_s={r['msgs_per_s']:.0f} "
      f"p99_us={r['latency_us']['p99']:.0f} errors={r['errors']['total']}")
if r["errors"]["total"] != 0:
    sys.exit(f"smoke.sh: errors counted: {r['errors']}")
if not eval("(" + sys.argv[2] + ")", {"r": r}):
    sys.exit(f"smoke.sh: check failed: {sys.argv[2]}\n{json.dumps(r, indent=1)}")
PY
}

bench setup 'r["users"] == 40 and r["groups"] == 1 and r["users_per_s"] > 0' \
  setup --users 40 --groups 1 --members 10 --concurrency 8 --prefix "smoke$(date +%s%N)_" "${chat[@]}"

# In a closed loop at most pairs * window messages are in flight at either edge of the window.
bench pingpong 'r["delivered"] > 100 and abs(r["delivered"] - r["sent"]) <= 4' \
  pingpong --pairs 4 "${chat[@]}"
bench stream 'r["delivered"] > 100 and abs(r["delivered"] - r["sent"]) <= 2 * 4 * 8' \
  stream --pairs 4 --window 8 "${chat[@]}"
bench paced '450 <= r["delivered"] <= 550 and abs(r["delivered"] - r["sent"]) <= 20' \
  stream --pairs 4 --rate 500 "${chat[@]}"
# A CHAT_ACK means queued for every member, not yet written, so the sender runs ahead of the
# deliveries by a few windows at each edge of the measurement; losses show in errors.lost.
bench group 'r["members_online"] == 10 and r["delivered"] > 100 and
             abs(r["delivered"] - 9 * r["messages_sent"]) <= max(9 * 4 * 4, 0.01 * r["delivered"])' \
  group --window 4 "${chat[@]}"
# 20 connections, a PING every 200 ms each: about 100 in the window.
bench idle 'r["missing_pongs"] == 0 and 70 <= r["pongs"] <= 130 and r["rss_baseline_bytes"] > 0' \
  idle --connections 20 --ping-interval-ms 200 "${chat[@]}"
# The fixture server hashes at the default Argon2id cost: few clients.
bench login 'r["logins"] > 0 and r["delivered"] > 0 and r["login_latency_us"]["count"] == r["logins"]' \
  login --concurrency 8 --pairs 2 "${chat[@]}"
bench hashrate 'r["verifications"] > 0 and r["verifications_per_s"] > 0' \
  hashrate --hash-threads 1 --argon2-memlimit-kib 1024 --argon2-opslimit 1 "${short[@]}"

"$RAW_FORWARDER_BIN" --port "$CHAT_BENCH_RAW_PORT" --max-seconds 60 >"$dir/raw_forwarder.log" 2>&1 &
forwarder=$!
trap 'kill "$forwarder" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$CHAT_BENCH_RAW_PORT") 2>/dev/null && break
  sleep 0.05
done
bench raw_pingpong 'r["mode"] == "raw" and r["delivered"] > 100 and abs(r["delivered"] - r["sent"]) <= 4' \
  pingpong --pairs 4 "${raw[@]}"
bench raw_stream 'r["mode"] == "raw" and r["delivered"] > 100 and abs(r["delivered"] - r["sent"]) <= 2 * 4 * 8' \
  stream --pairs 4 --window 8 "${raw[@]}"
kill -TERM "$forwarder"
wait "$forwarder"
trap - EXIT
echo "smoke.sh: all scenarios passed"
