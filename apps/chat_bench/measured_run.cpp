// The phases of a timed run.
#include "measured_run.hpp"

#include <cstdio>
#include <optional>
#include <thread>

namespace chat::bench {

namespace {

double seconds_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

run_window make_window(clock::time_point open, const common_options& opt) {
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s));
  };
  run_window w;
  w.open = open;
  w.begin = open + seconds(opt.warmup_s);
  w.end = w.begin + seconds(opt.duration_s);
  w.drain_end = w.end + drain_time;
  return w;
}

usage_sample sample_usage(const std::vector<int>& server_pids) {
  usage_sample out{clock::now(), own_cpu_seconds(), {}};
  for (int pid : server_pids) {
    out.servers.push_back(sample_process(pid));
  }
  return out;
}

void set_usage(measured_run& run, const std::vector<int>& server_pids, const usage_sample& first,
               const usage_sample& last) {
  const double sampled_s = seconds_between(first.at, last.at);
  run.bench_cpu_percent = 100 * (last.own_cpu_seconds - first.own_cpu_seconds) / sampled_s;
  run.servers.clear();
  for (std::size_t i = 0; i < server_pids.size(); ++i) {
    server_usage s{.pid = server_pids[i]};
    if (first.servers[i] && last.servers[i]) {
      s.sampled = true;
      s.cpu_percent = 100 * (last.servers[i]->cpu_seconds - first.servers[i]->cpu_seconds) / sampled_s;
      s.rss_begin_bytes = first.servers[i]->rss_bytes;
      s.rss_end_bytes = last.servers[i]->rss_bytes;
    } else {
      ++run.stats.errors.internal;
      std::fprintf(stderr, "chat_bench: cannot read /proc/%d (--server-pid)\n", s.pid);
    }
    run.servers.push_back(s);
  }
}

measured_run run_measured(shard_pool& pool, readiness& ready, const common_options& opt) {
  measured_run out;
  const auto started = clock::now();
  pool.start();
  ready.wait();

  const run_window w = make_window(clock::now(), opt);
  out.setup_s = seconds_between(started, w.open);
  pool.open(w);

  std::this_thread::sleep_until(w.begin);
  const usage_sample first = sample_usage(opt.server_pids);
  std::this_thread::sleep_until(w.end);
  const usage_sample last = sample_usage(opt.server_pids);
  pool.join();

  out.stats = pool.merged_stats();
  out.duration_s = seconds_between(w.begin, w.end);  // what the counters cover
  set_usage(out, opt.server_pids, first, last);
  return out;
}

}  // namespace chat::bench
