// A broadcast wake-up for coroutines on one thread: wait() sleeps on a timer of its own until
// notify_all() or a deadline; callers then re-check what they wait for.
#pragma once

#include <chat/asio/awaitable.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <vector>

namespace chat::client {

class waiters {
 public:
  using clock = std::chrono::steady_clock;

  // Returns at `deadline` or after the next notify_all(), whichever comes first. Must be
  // called and notified on the same thread (the client runs one).
  awaitable<void> wait(clock::time_point deadline) {
    const auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, deadline);
    timers_.push_back(&timer);
    co_await timer.async_wait(use_nothrow);
    std::erase(timers_, &timer);
  }

  void notify_all() {
    for (auto* t : timers_) {
      t->cancel();
    }
  }

 private:
  std::vector<asio::steady_timer*> timers_;
};

}  // namespace chat::client
