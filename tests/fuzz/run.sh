#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for TIME seconds, one after the other, each on a
# scratch copy of its seed corpus (the repository's corpus/ does not grow). Prints each
# target's executions (libFuzzer's final stats); fails on any crash, leak or timeout and
# prints the path of the input that caused it (kept under the build directory).
#   cmake --preset fuzz && cmake --build --preset fuzz && tests/fuzz/run.sh 60
# FUZZ_BUILD_DIR overrides the build directory (default build/fuzz).
set -euo pipefail

time=${1:?usage: tests/fuzz/run.sh SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath -m "${FUZZ_BUILD_DIR:-$here/../../build/fuzz}")
work=$build/fuzz-run
targets=(frame_decoder requests resp_parser proxy_header)

failed=0
summary=()
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/${t}_fuzz
  if [[ ! -x $exe ]]; then
    echo "run.sh: $exe is missing: build the fuzz preset first" >&2
    exit 2
  fi
  dir=$work/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$here/corpus/$t/"* "$dir/corpus/"
  options=(-max_total_time="$time" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$dir/artifacts/")
  if [[ -f $here/$t.dict ]]; then
    options+=(-dict="$here/$t.dict")
  fi

  echo "=== ${t}_fuzz for ${time}s (log: $dir/fuzz.log)"
  rc=0
  "$exe" "${options[@]}" "$dir/corpus" >"$dir/fuzz.log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -1)
  seeds=$(ls "$here/corpus/$t" | wc -l)
  units=$(ls "$dir/corpus" | wc -l)
  if [[ $rc -ne 0 ]]; then
    failed=1
    tail -n 40 "$dir/fuzz.log"
    for a in "$dir"/artifacts/*; do
      [[ -e $a ]] && echo "run.sh: ${t}_fuzz failed (exit $rc): input kept in $a"
    done
    summary+=("$(printf '%-16s %12s executions  FAILED (exit %d)' "$t" "${execs:-?}" "$rc")")
  else
    summary+=("$(printf '%-16s %12s executions  ok (corpus %d -> %d)' "$t" "${execs:-?}" "$seeds" "$units")")
  fi
done

echo "=== fuzzing summary (${time}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
