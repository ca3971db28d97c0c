// Side A of a pair sends to side B on a fixed schedule, B only receives: the open-loop load of
// stream --rate, and the chat that runs alongside a login storm (login --rate). Messages carry
// their scheduled send time and late ones are sent at once, so a stall shows in the latency
// instead of slowing the offered load (no coordinated omission).
#pragma once

#include "chat_pair.hpp"
#include "handshake.hpp"
#include "measured_run.hpp"

#include <algorithm>

namespace chat::bench {

class paced_pair final : public frame_sink {
 public:
  paced_pair(shard& home, readiness& ready, pair_settings settings, clock::duration interval, clock::duration phase)
      : home_(home),
        ready_(ready),
        settings_(std::move(settings)),
        interval_(interval),
        phase_(phase),
        a_(std::make_shared<client>(home, *this)),
        b_(std::make_shared<client>(home, *this)),
        timer_(home.io()) {}

  awaitable<void> run() {
    arrival arrived(ready_);
    bool ok = co_await open_pair_side(*a_, settings_, false);
    if (ok) {
      ok = co_await open_pair_side(*b_, settings_, true);
    }
    arrived.arrive();
    if (ok) {
      co_await home_.wait_open();
      co_await pace();
      const run_window& w = home_.window();
      draining_ = true;
      timer_.expires_at(w.drain_end);
      while (sent_ != received_ && both_open() && clock::now() < w.drain_end) {
        co_await timer_.async_wait(use_nothrow);
      }
      home_.stats().errors.count_arrivals(sent_, received_);
    }
    if (ok && !settings_.raw) {
      co_await logout_and_close(*a_);
      co_await logout_and_close(*b_);
    }
    a_->close();
    b_->close();
  }

  void on_frame(client& from, std::int64_t msgid, const boost::json::object& frame) override {
    auto& stats = home_.stats();
    if (&from != b_.get() || msgid != protocol::to_int(protocol::msgid::one_chat)) {
      ++stats.errors.unexpected;
      home_.note("paced pair: unexpected msgid " + std::to_string(msgid));
      return;
    }
    const auto now = clock::now();
    ++received_;
    const auto* msg = frame.if_contains("msg");
    const auto stamp = msg != nullptr && msg->is_string() ? parse_stamp(msg->get_string()) : std::nullopt;
    if (!stamp) {
      ++stats.errors.protocol;
      home_.note("paced pair: a ONE_CHAT_MSG without our time stamp");
    } else {
      if (*stamp < last_stamp_) {
        ++stats.errors.out_of_order;
      }
      last_stamp_ = *stamp;
      if (home_.window().measuring(now)) {
        ++stats.delivered;
        stats.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, to_ns(now) - to_ns(*stamp))));
      }
    }
    if (draining_ && sent_ == received_) {
      timer_.cancel();
    }
  }

  void on_lost(client&) override { timer_.cancel(); }

 private:
  awaitable<void> pace() {
    const run_window& w = home_.window();
    const clock::time_point first = w.open + phase_;
    std::uint64_t k = 0;
    clock::time_point due = first;
    while (due < w.end && both_open()) {
      timer_.expires_at(due);
      co_await timer_.async_wait(use_nothrow);
      const auto now = clock::now();
      while (due <= now && due < w.end) {
        send(due);
        due = first + static_cast<clock::rep>(++k) * interval_;
      }
    }
  }

  void send(clock::time_point scheduled) {
    std::string& body = home_.scratch();
    append_one_chat(body, settings_.user_b, scheduled, home_.payload());
    a_->send(body);
    ++sent_;
    if (home_.window().measuring(scheduled)) {
      ++home_.stats().sent;
    }
  }

  bool both_open() const noexcept { return a_->is_open() && b_->is_open(); }

  shard& home_;
  readiness& ready_;
  pair_settings settings_;
  clock::duration interval_;
  clock::duration phase_;
  std::shared_ptr<client> a_;
  std::shared_ptr<client> b_;
  asio::steady_timer timer_;  // the schedule, then the drain
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  bool draining_ = false;  // the schedule is done: wake run() once everything arrived
  clock::time_point last_stamp_{};
};

// Pair i of `count` sends every `interval`, its phase staggered by i / count of it.
inline clock::duration paced_phase(clock::duration interval, std::size_t i, std::size_t count) {
  return interval * static_cast<clock::rep>(i) / static_cast<clock::rep>(count);
}

}  // namespace chat::bench
