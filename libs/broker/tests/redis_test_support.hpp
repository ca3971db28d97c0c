// Helpers of the Redis integration tests: environment, bounded io_context runs, polling waits,
// a TCP listener that never answers, the redis.sh fixture script.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/broker/redis_config.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace chat::broker::test {

using namespace std::chrono_literals;

// A port from the environment, or nullopt when unset or invalid.
std::optional<std::uint16_t> env_port(const char* name);
// A string from the environment, or "" when unset.
std::string env_string(const char* name);

// Base of the tests that need the Redis of the fixture: skipped when CHAT_TEST_REDIS_PORT
// is not set, port_ holds it otherwise.
class with_redis : public ::testing::Test {
 protected:
  void SetUp() override {
    auto port = env_port("CHAT_TEST_REDIS_PORT");
    if (!port) {
      GTEST_SKIP() << "CHAT_TEST_REDIS_PORT is not set (start one with deploy/local/redis.sh)";
    }
    port_ = *port;
  }
  std::uint16_t port_ = 0;
};

// Short timeouts, so that failure paths are quick to test.
redis_config fast_config(std::uint16_t port);

// Keys and channels unique to this process and call, so that concurrent runs sharing one
// Redis do not see each other's data.
std::string unique_name(const std::string& what);

// Spawns `body` on `ioc`; when it has finished (or thrown), calls `finish` (which stops the
// clients), then runs `ioc` on `threads` threads until it runs out of work or `bound` passes.
// Expects the body to have completed and the io_context to have run out of work (nothing
// left pending after stop); rethrows the body's exception.
void run_bounded(asio::io_context& ioc, std::function<awaitable<void>()> body, std::function<void()> finish,
                 std::chrono::milliseconds bound = 30s, int threads = 1);

// Polls `condition` every 5 ms on the current executor; false if it did not hold within `bound`.
awaitable<bool> wait_until(std::function<bool()> condition, std::chrono::milliseconds bound);

// Sleeps on the current executor.
awaitable<void> sleep_for(std::chrono::milliseconds d);

// Accepts TCP connections on 127.0.0.1 (an ephemeral port) and never reads or answers; the
// sockets stay open until it is destroyed. Runs on its own thread.
class silent_listener {
 public:
  silent_listener();
  ~silent_listener();
  std::uint16_t port() const noexcept { return port_; }
  int accepted() const noexcept { return accepted_.load(); }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
};

// Runs `script args...` through the shell (blocking); returns its exit status.
int run_script(const std::string& script, const std::string& args);

}  // namespace chat::broker::test
