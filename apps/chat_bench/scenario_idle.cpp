// idle: N connections log in (at most --concurrency at a time), then only PING every interval
// with a random phase. Measures the server's RSS before connecting and once all are logged in
// and settled (the warm-up), and counts PINGs without their PONG.
#include "address.hpp"
#include "handshake.hpp"
#include "limiter.hpp"
#include "measured_run.hpp"
#include "proc.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "state_file.hpp"

#include <algorithm>
#include <random>

namespace chat::bench {

namespace {

class idle_connection final : public frame_sink {
 public:
  idle_connection(shard& home, readiness& ready, limiter& logins, std::int64_t user, clock::duration interval,
                  clock::duration phase)
      : home_(home),
        ready_(ready),
        logins_(logins),
        user_(user),
        interval_(interval),
        phase_(phase),
        conn_(std::make_shared<client>(home, *this)),
        timer_(home.io()) {}

  // `endpoint` and `password` outlive the run (the scenario's).
  awaitable<void> run(const asio::ip::tcp::endpoint& endpoint, std::string_view password) {
    arrival arrived(ready_);
    co_await logins_.acquire();
    const bool ok = co_await connect_and_login(*conn_, endpoint, user_, password);
    logins_.release();
    arrived.arrive();
    if (!ok) {
      conn_->close();
      co_return;
    }
    // PINGs start now, not at the gate: a long login phase must not trip the server's heartbeat.
    const run_window& w = home_.window();  // every point is in the far future until the gate opens
    for (auto due = clock::now() + phase_; due < w.end && conn_->is_open(); due += interval_) {
      timer_.expires_at(due);
      co_await timer_.async_wait(use_nothrow);
      const auto now = clock::now();
      if (now >= w.end || !conn_->is_open()) {
        break;
      }
      std::string& body = home_.scratch();
      append_ping(body, now);
      conn_->send(body);
      ++pings_;
      if (w.measuring(now)) {
        ++home_.stats().sent;
      }
    }
    draining_ = true;
    timer_.expires_at(w.drain_end);
    while (pongs_ < pings_ && conn_->is_open() && clock::now() < w.drain_end) {
      co_await timer_.async_wait(use_nothrow);
    }
    home_.stats().errors.count_arrivals(pings_, pongs_);
    co_await logout_and_close(*conn_);
  }

  void on_frame(client&, std::int64_t msgid, const boost::json::object& frame) override {
    auto& stats = home_.stats();
    const auto* cid = frame.if_contains("cid");
    if (msgid != protocol::to_int(protocol::msgid::pong) || cid == nullptr || !cid->is_int64()) {
      ++stats.errors.unexpected;
      home_.note("idle: unexpected frame (msgid " + std::to_string(msgid) + ")");
      return;
    }
    const auto now = clock::now();
    ++pongs_;
    if (home_.window().measuring(now)) {
      ++stats.delivered;
      stats.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, to_ns(now) - cid->get_int64())));
    }
    if (draining_ && pongs_ == pings_) {
      timer_.cancel();
    }
  }

  void on_lost(client&) override { timer_.cancel(); }

 private:
  shard& home_;
  readiness& ready_;
  limiter& logins_;
  std::int64_t user_;
  clock::duration interval_;
  clock::duration phase_;
  std::shared_ptr<client> conn_;
  asio::steady_timer timer_;  // the next PING, then the drain
  std::uint64_t pings_ = 0;
  std::uint64_t pongs_ = 0;
  bool draining_ = false;  // no more PINGs: wake run() once every PONG is in
};

std::uint64_t total_rss(const std::vector<int>& pids) {
  std::uint64_t sum = 0;
  for (int pid : pids) {
    const auto sample = sample_process(pid);
    if (!sample) {
      throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + " (--server-pid)");
    }
    sum += sample->rss_bytes;
  }
  return sum;
}

}  // namespace

boost::json::object run_idle(const common_options& opt, const idle_options& idle) {
  if (opt.server_pids.empty()) {
    throw usage_error("idle measures the server's memory: give its --server-pid");
  }
  const auto endpoints = resolve_all(opt.connect);
  const bench_state state = load_state(opt.state_file);
  const auto count = static_cast<std::size_t>(idle.connections);
  if (state.users.size() < count) {
    throw usage_error(std::to_string(count) + " connections need as many users; " + opt.state_file + " has " +
                      std::to_string(state.users.size()));
  }

  shard_pool pool(opt.threads, std::chrono::milliseconds(opt.timeout_ms), opt.payload);
  std::vector<std::unique_ptr<limiter>> logins;
  const auto slots = std::max<std::size_t>(1, static_cast<std::size_t>(idle.concurrency) / pool.size());
  for (std::size_t s = 0; s < pool.size(); ++s) {
    logins.push_back(std::make_unique<limiter>(pool[s].io(), slots));
  }
  const clock::duration interval = std::chrono::milliseconds(idle.ping_interval_ms);
  std::mt19937_64 random(std::random_device{}());
  std::uniform_int_distribution<clock::rep> phase(0, interval.count() - 1);

  const std::uint64_t rss_baseline = total_rss(opt.server_pids);
  readiness ready(count);
  std::vector<std::unique_ptr<idle_connection>> connections;
  for (std::size_t i = 0; i < count; ++i) {
    connections.push_back(std::make_unique<idle_connection>(pool[i], ready, *logins[i % pool.size()], state.users[i].id,
                                                            interval, clock::duration(phase(random))));
    pool[i].spawn(connections.back()->run(endpoint_for(endpoints, i), state.password));
  }
  const measured_run run = run_measured(pool, ready, opt);

  std::uint64_t rss_logged_in = 0;
  for (const auto& s : run.servers) {
    rss_logged_in += s.rss_begin_bytes;
  }
  auto report = report_header("idle", opt);
  report["connections"] = count;
  report["ping_interval_ms"] = idle.ping_interval_ms;
  add_measured(report, run);
  report["connect_login_s"] = run.setup_s;
  report["rss_baseline_bytes"] = rss_baseline;
  report["rss_logged_in_bytes"] = rss_logged_in;
  report["rss_growth_per_connection_bytes"] =
      (static_cast<double>(rss_logged_in) - static_cast<double>(rss_baseline)) / static_cast<double>(count);
  report["pings"] = run.stats.sent;
  report["pongs"] = run.stats.delivered;
  report["missing_pongs"] = run.stats.errors.lost;
  return report;
}

}  // namespace chat::bench
