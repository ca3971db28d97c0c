// The timed part that every traffic scenario shares, run by the main thread while the shards
// do the I/O: wait until every unit has connected and logged in, open the gates (warm-up,
// then the measured window), sample CPU and RSS at the window's edges, then wait until the
// units have drained and ended.
#pragma once

#include "options.hpp"
#include "proc.hpp"
#include "shard.hpp"
#include "stats.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace chat::bench {

// How long after the window messages still in flight may take to arrive before they count as lost.
inline constexpr std::chrono::seconds drain_time{5};

struct server_usage {
  int pid = 0;
  bool sampled = false;  // false: the process could not be read at both edges of the window
  double cpu_percent = 0;
  std::uint64_t rss_begin_bytes = 0;
  std::uint64_t rss_end_bytes = 0;
};

struct measured_run {
  double setup_s = 0;     // from start until every unit was ready
  double duration_s = 0;  // the measured window, as it happened
  double bench_cpu_percent = 0;
  std::vector<server_usage> servers;
  run_stats stats;  // every shard's, merged
};

// Opens at `open`: warm-up, then --duration measured, then drain_time.
run_window make_window(clock::time_point open, const common_options& opt);

// CPU time of this process and CPU time and RSS of the --server-pid processes, at one moment.
struct usage_sample {
  clock::time_point at;
  double own_cpu_seconds = 0;
  std::vector<std::optional<process_sample>> servers;  // nullopt: unreadable
};

usage_sample sample_usage(const std::vector<int>& server_pids);

// Sets bench_cpu_percent and servers from two samples (an unreadable server counts as an
// internal error); call after `run.stats` is final.
void set_usage(measured_run& run, const std::vector<int>& server_pids, const usage_sample& first,
               const usage_sample& last);

// The units are spawned on `pool` and arrive at `ready`. Blocks until the shards are done.
measured_run run_measured(shard_pool& pool, readiness& ready, const common_options& opt);

}  // namespace chat::bench
