// Lets at most `slots` coroutines of one shard through at a time (bounded concurrency for
// connecting and logging in thousands of connections). Single-threaded: one per shard.
#pragma once

#include "messages.hpp"

#include <chat/asio/awaitable.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>

namespace chat::bench {

class limiter {
 public:
  limiter(asio::io_context& io, std::size_t slots) : wake_(io), free_(slots) {
    wake_.expires_at(clock::time_point::max());  // woken by cancel_one() only
  }

  awaitable<void> acquire() {
    while (free_ == 0) {
      co_await wake_.async_wait(use_nothrow);
    }
    --free_;
  }

  void release() {
    ++free_;
    wake_.cancel_one();
  }

 private:
  asio::steady_timer wake_;
  std::size_t free_;
};

}  // namespace chat::bench
