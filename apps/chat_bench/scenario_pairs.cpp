// pingpong and stream (closed loop): chat_pair units over users 2i and 2i+1.
#include "chat_pair.hpp"
#include "measured_run.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "state_file.hpp"

namespace chat::bench {

boost::json::object run_pairs(const common_options& opt, const pairs_options& p, scenario which) {
  if (which == scenario::stream && p.rate > 0) {
    return run_paced(opt, p);
  }
  const auto count = static_cast<std::size_t>(p.pairs);
  const bench_state state = opt.raw ? bench_state{} : load_state(opt.state_file);
  auto plans = plan_pairs(opt, state, count);

  shard_pool pool(opt.threads, std::chrono::milliseconds(opt.timeout_ms), opt.payload);
  readiness ready(count);
  std::vector<std::shared_ptr<chat_pair>> pairs;
  for (std::size_t i = 0; i < count; ++i) {
    plans[i].window = p.window;
    plans[i].both_start = which == scenario::stream;
    pairs.push_back(std::make_shared<chat_pair>(pool[i], ready, std::move(plans[i])));
    pool[i].spawn(pairs.back()->run());
  }
  const measured_run run = run_measured(pool, ready, opt);

  auto report = report_header(name_of(which), opt);
  report["pairs"] = p.pairs;
  report["window"] = p.window;
  add_measured(report, run);
  return report;
}

}  // namespace chat::bench
