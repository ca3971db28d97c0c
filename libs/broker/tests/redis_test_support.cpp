// Helpers of the Redis integration tests (see redis_test_support.hpp).
#include "redis_test_support.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <list>
#include <mutex>
#include <vector>

namespace chat::broker::test {

std::optional<std::uint16_t> env_port(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0')
    return std::nullopt;
  unsigned port = 0;
  const std::string_view s(v);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc{} || ptr != s.data() + s.size() || port == 0 || port > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

std::string env_string(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

redis_config fast_config(std::uint16_t port) {
  redis_config cfg;
  cfg.port = port;
  cfg.connect_timeout = 500ms;
  cfg.command_timeout = 500ms;
  cfg.reconnect_backoff_initial = 20ms;
  cfg.reconnect_backoff_max = 200ms;
  cfg.health_check_interval = 200ms;
  return cfg;
}

std::string unique_name(const std::string& what) {
  static std::atomic<int> counter{0};
  return "chat_test:" + std::to_string(::getpid()) + ":" + std::to_string(counter++) + ":" + what;
}

void run_bounded(asio::io_context& ioc, std::function<awaitable<void>()> body, std::function<void()> finish,
                 std::chrono::milliseconds bound, int threads) {
  std::atomic<bool> done{false};
  std::exception_ptr failure;
  asio::co_spawn(ioc, body(), [&](std::exception_ptr ep) {
    failure = ep;
    done = true;
    finish();
  });
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i)
    extra.emplace_back([&] { ioc.run_for(bound); });
  ioc.run_for(bound);
  for (auto& t : extra)
    t.join();
  EXPECT_TRUE(done.load()) << "the test body did not finish within " << bound.count() << " ms";
  EXPECT_TRUE(ioc.stopped()) << "work was left pending after stop()";
  if (failure)
    std::rethrow_exception(failure);
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(use_nothrow);
}

awaitable<bool> wait_until(std::function<bool()> condition, std::chrono::milliseconds bound) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline)
      co_return false;
    timer.expires_after(5ms);
    co_await timer.async_wait(use_nothrow);
  }
  co_return true;
}

struct silent_listener::impl {
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor{ioc};
  std::list<asio::ip::tcp::socket> sockets;
  std::thread thread;

  void accept(std::atomic<int>& count) {
    acceptor.async_accept([this, &count](boost::system::error_code ec, asio::ip::tcp::socket s) {
      if (ec)
        return;
      sockets.push_back(std::move(s));
      ++count;
      accept(count);
    });
  }
};

silent_listener::silent_listener() : impl_(std::make_unique<impl>()) {
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept(accepted_);
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

silent_listener::~silent_listener() {
  impl_->ioc.stop();
  impl_->thread.join();
}

int run_script(const std::string& script, const std::string& args) {
  const std::string cmd = "'" + script + "' " + args;
  const int status = std::system(cmd.c_str());
  return status == -1 ? -1 : WEXITSTATUS(status);
}

}  // namespace chat::broker::test
