// stream --rate: open loop, the total rate spread evenly over paced pairs.
#include "paced_pair.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "state_file.hpp"

namespace chat::bench {

boost::json::object run_paced(const common_options& opt, const pairs_options& p) {
  const auto count = static_cast<std::size_t>(p.pairs);
  const bench_state state = opt.raw ? bench_state{} : load_state(opt.state_file);
  auto plans = plan_pairs(opt, state, count);
  // Each pair sends rate / pairs messages per second.
  const auto interval = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(p.pairs / p.rate));

  shard_pool pool(opt.threads, std::chrono::milliseconds(opt.timeout_ms), opt.payload);
  readiness ready(count);
  std::vector<std::shared_ptr<paced_pair>> pairs;
  for (std::size_t i = 0; i < count; ++i) {
    pairs.push_back(
        std::make_shared<paced_pair>(pool[i], ready, std::move(plans[i]), interval, paced_phase(interval, i, count)));
    pool[i].spawn(pairs.back()->run());
  }
  const measured_run run = run_measured(pool, ready, opt);

  auto report = report_header("stream", opt);
  report["pairs"] = p.pairs;
  report["rate"] = p.rate;
  add_measured(report, run);
  return report;
}

}  // namespace chat::bench
