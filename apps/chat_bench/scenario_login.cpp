// login: C clients, each with its own connection and user, loop LOGIN / LOGINOUT; a pingpong
// on other users runs alongside, so the report shows what a login storm (Argon2id on the
// server's hash threads) does to chat latency.
#include "address.hpp"
#include "chat_pair.hpp"
#include "handshake.hpp"
#include "measured_run.hpp"
#include "paced_pair.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "state_file.hpp"

namespace chat::bench {

namespace {

class login_client final : public frame_sink {
 public:
  login_client(shard& home, readiness& ready, std::int64_t user)
      : home_(home), ready_(ready), user_(user), conn_(std::make_shared<client>(home, *this)) {}

  // `endpoint` and `password` outlive the run (the scenario's).
  awaitable<void> run(const asio::ip::tcp::endpoint& endpoint, std::string_view password) {
    arrival arrived(ready_);
    const bool ok = co_await conn_->connect(endpoint);
    arrived.arrive();
    if (ok) {
      co_await home_.wait_open();
      const run_window& w = home_.window();
      auto& stats = home_.stats();
      while (clock::now() < w.end) {
        const auto sent = clock::now();
        const bool logged_in = co_await login(*conn_, user_, password);
        if (!logged_in) {
          break;
        }
        const auto acked = clock::now();
        if (w.measuring(acked)) {
          ++stats.logins;
          stats.login_latency.record(static_cast<std::uint64_t>(to_ns(acked) - to_ns(sent)));
        }
        const bool logged_out = co_await logout(*conn_);
        if (!logged_out) {
          break;
        }
      }
    }
    conn_->close();
  }

  void on_frame(client&, std::int64_t msgid, const boost::json::object&) override {
    ++home_.stats().errors.unexpected;
    home_.note("login client: unexpected msgid " + std::to_string(msgid));
  }

  void on_lost(client&) override {}

 private:
  shard& home_;
  readiness& ready_;
  std::int64_t user_;
  std::shared_ptr<client> conn_;
};

}  // namespace

boost::json::object run_login(const common_options& opt, const login_options& l) {
  const auto endpoints = resolve_all(opt.connect);
  const bench_state state = load_state(opt.state_file);
  const auto pairs = static_cast<std::size_t>(l.pairs);
  const auto clients = static_cast<std::size_t>(l.concurrency);
  if (state.users.size() < 2 * pairs + clients) {
    throw usage_error(std::to_string(clients) + " login clients and " + std::to_string(pairs) + " pairs need " +
                      std::to_string(2 * pairs + clients) + " users; " + opt.state_file + " has " +
                      std::to_string(state.users.size()));
  }
  auto plans = plan_pairs(opt, state, pairs);

  shard_pool pool(opt.threads, std::chrono::milliseconds(opt.timeout_ms), opt.payload);
  readiness ready(pairs + clients);
  // The chat alongside: a closed-loop pingpong, or with --rate an open-loop paced load, which
  // leaves the CPU to the logins and measures what they do to chat latency.
  std::vector<std::shared_ptr<chat_pair>> pingpong;
  std::vector<std::shared_ptr<paced_pair>> paced;
  const auto interval = l.rate > 0 ? std::chrono::duration_cast<clock::duration>(
                                         std::chrono::duration<double>(static_cast<double>(pairs) / l.rate))
                                   : clock::duration{};
  for (std::size_t i = 0; i < pairs; ++i) {
    if (l.rate > 0) {
      paced.push_back(
          std::make_shared<paced_pair>(pool[i], ready, std::move(plans[i]), interval, paced_phase(interval, i, pairs)));
      pool[i].spawn(paced.back()->run());
    } else {
      pingpong.push_back(std::make_shared<chat_pair>(pool[i], ready, std::move(plans[i])));
      pool[i].spawn(pingpong.back()->run());
    }
  }
  std::vector<std::unique_ptr<login_client>> storm;
  for (std::size_t i = 0; i < clients; ++i) {
    storm.push_back(std::make_unique<login_client>(pool[i], ready, state.users[2 * pairs + i].id));
    pool[i].spawn(storm.back()->run(endpoint_for(endpoints, i), state.password));
  }
  const measured_run run = run_measured(pool, ready, opt);

  auto report = report_header("login", opt);
  report["concurrency"] = clients;
  report["pairs"] = pairs;
  report["chat_rate"] = l.rate;
  add_measured(report, run);
  report["logins"] = run.stats.logins;
  report["logins_per_s"] = static_cast<double>(run.stats.logins) / run.duration_s;
  report["login_latency_us"] = latency_json(run.stats.login_latency);
  return report;
}

}  // namespace chat::bench
