// The admin listener on a real 127.0.0.1 port, driven by a Beast client with deadlines.
#include <chat/admin/http_server.hpp>
#include <chat/metrics/registry.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using chat::awaitable;
using chat::admin::http_handlers;
using chat::admin::http_options;
using chat::admin::http_server;
using chat::admin::readiness_report;
using namespace std::chrono_literals;

using response = http::response<http::string_body>;

constexpr auto client_deadline = 5s;

// A blocking client whose every operation has a deadline (async on its own io_context).
class client {
 public:
  explicit client(std::uint16_t port) : stream_(ioc_) {
    stream_.expires_after(client_deadline);
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    error_code result;
    stream_.async_connect(endpoint, [&](error_code ec) { result = ec; });
    run();
    if (result) {
      throw boost::system::system_error(result);
    }
  }

  response request(http::verb verb, const std::string& target, bool keep_alive = true) {
    http::request<http::string_body> req(verb, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    req.prepare_payload();
    error_code result;
    stream_.expires_after(client_deadline);
    http::async_write(stream_, req, [&](error_code ec, std::size_t) { result = ec; });
    run();
    if (result) {
      throw boost::system::system_error(result);
    }
    return read_response(verb == http::verb::head);
  }

  void send_raw(const std::string& bytes) {
    error_code result;
    stream_.expires_after(client_deadline);
    asio::async_write(stream_, asio::buffer(bytes), [&](error_code ec, std::size_t) { result = ec; });
    run();
    if (result) {
      throw boost::system::system_error(result);
    }
  }

  response read_response(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    error_code result;
    stream_.expires_after(client_deadline);
    http::async_read(stream_, buffer_, parser, [&](error_code ec, std::size_t) { result = ec; });
    run();
    if (result) {
      throw boost::system::system_error(result);
    }
    return parser.release();
  }

  // The server closed the connection (end of stream or reset) before the deadline.
  bool closed_by_server() {
    char byte;
    error_code result;
    stream_.expires_after(client_deadline);
    stream_.async_read_some(asio::buffer(&byte, 1), [&](error_code ec, std::size_t) { result = ec; });
    run();
    return result == asio::error::eof || result == asio::error::connection_reset;
  }

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

awaitable<readiness_report> fixed_report(bool ready) {
  if (ready) {
    co_return readiness_report{true, ""};
  }
  co_return readiness_report{false, "not ready: database unreachable"};
}

awaitable<readiness_report> throwing_report() {
  throw std::runtime_error("boom");
  co_return readiness_report{};
}

// Answers after `delay` unless cancelled first.
awaitable<readiness_report> slow_report(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(chat::use_nothrow);
  co_return readiness_report{true, ""};
}

class admin_http : public ::testing::Test {
 protected:
  void start(http_handlers handlers, http_options options = {}) {
    server_ = std::make_unique<http_server>(ioc_.get_executor(), "127.0.0.1", 0, std::move(handlers), options);
    server_->start();
    ASSERT_NE(server_->port(), 0);
    runner_ = std::async(std::launch::async, [this] { ioc_.run(); });
  }

  // stop() from this (a foreign) thread must let run() return: nothing may be left pending.
  bool stop_and_wait(std::chrono::milliseconds bound = 3000ms) {
    server_->stop();
    return runner_.wait_for(bound) == std::future_status::ready;
  }

  void TearDown() override {
    if (runner_.valid()) {
      EXPECT_TRUE(stop_and_wait()) << "io_context::run() did not return after stop()";
      if (runner_.wait_for(0s) != std::future_status::ready) {
        ioc_.stop();
        runner_.wait();
      }
    }
  }

  std::uint16_t port() const { return server_->port(); }

  asio::io_context ioc_;
  std::unique_ptr<http_server> server_;
  std::future<void> runner_;
};

TEST_F(admin_http, healthz) {
  start({});
  client c(port());
  const auto res = c.request(http::verb::get, "/healthz");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "ok\n");
  EXPECT_EQ(res[http::field::server], "chatd");
  EXPECT_EQ(res[http::field::content_type], "text/plain; charset=utf-8");
  EXPECT_TRUE(res.keep_alive());
}

TEST_F(admin_http, readyz_follows_the_callback) {
  std::atomic<bool> ready{true};
  http_handlers handlers;
  handlers.readiness = [&ready] { return fixed_report(ready.load()); };
  start(std::move(handlers));
  client c(port());
  auto res = c.request(http::verb::get, "/readyz");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "ready\n");
  ready = false;
  res = c.request(http::verb::get, "/readyz");
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(res.body(), "not ready: database unreachable\n");
  ready = true;
  res = c.request(http::verb::get, "/readyz?verbose=1");
  EXPECT_EQ(res.result(), http::status::ok);
}

TEST_F(admin_http, readyz_without_a_callback_is_ready) {
  start({});
  client c(port());
  EXPECT_EQ(c.request(http::verb::get, "/readyz").body(), "ready\n");
}

TEST_F(admin_http, readyz_failing_or_slow_check_is_503) {
  std::atomic<int> mode{0};
  http_handlers handlers;
  handlers.readiness = [&mode]() -> awaitable<readiness_report> {
    if (mode == 0) {
      return throwing_report();
    }
    if (mode == 1) {
      throw std::runtime_error("cannot even start");
    }
    return slow_report(10s);
  };
  http_options options;
  options.readiness_timeout = 200ms;
  start(std::move(handlers), options);
  client c(port());
  auto res = c.request(http::verb::get, "/readyz");
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(res.body(), "not ready: readiness check failed\n");
  mode = 1;
  res = c.request(http::verb::get, "/readyz");
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(res.body(), "not ready: readiness check failed\n");
  mode = 2;
  const auto t0 = std::chrono::steady_clock::now();
  res = c.request(http::verb::get, "/readyz");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(res.body(), "not ready: readiness check timed out\n");
  // The abandoned check was cancelled: stopping leaves nothing running (TearDown checks).
}

TEST_F(admin_http, stop_during_a_readiness_check_cancels_it) {
  http_handlers handlers;
  handlers.readiness = [] { return slow_report(30s); };
  start(std::move(handlers));
  client c(port());
  c.send_raw("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(stop_and_wait(2000ms));
}

TEST_F(admin_http, metrics_body_and_content_type) {
  chat::metrics::registry registry;
  registry.add_counter("chat_test_total", "A test counter.").inc(3);
  http_handlers handlers;
  handlers.metrics = [&registry] { return registry.render(); };
  start(std::move(handlers));
  client c(port());
  const auto res = c.request(http::verb::get, "/metrics");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res.body(), "# HELP chat_test_total A test counter.\n# TYPE chat_test_total counter\nchat_test_total 3\n");
}

TEST_F(admin_http, unknown_paths_are_404) {
  start({});  // no metrics handler either
  client c(port());
  for (const char* target : {"/", "/nope", "/healthz/", "/metrics"}) {
    const auto res = c.request(http::verb::get, target);
    EXPECT_EQ(res.result(), http::status::not_found) << target;
    EXPECT_EQ(res.body(), "not found\n");
  }
  EXPECT_EQ(c.request(http::verb::post, "/nope").result(), http::status::not_found);
}

TEST_F(admin_http, other_methods_are_405_with_allow) {
  start({});
  client c(port());
  for (const auto verb : {http::verb::post, http::verb::put, http::verb::delete_, http::verb::options}) {
    const auto res = c.request(verb, "/healthz");
    EXPECT_EQ(res.result(), http::status::method_not_allowed);
    EXPECT_EQ(res[http::field::allow], "GET, HEAD");
  }
  EXPECT_EQ(c.request(http::verb::get, "/healthz").result(), http::status::ok);  // still open
}

TEST_F(admin_http, head_is_get_without_a_body) {
  start({});
  client c(port());
  const auto res = c.request(http::verb::head, "/healthz");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_length], "3");
  EXPECT_EQ(res.body(), "");
  // Nothing but the headers came: the next response parses cleanly.
  EXPECT_EQ(c.request(http::verb::get, "/healthz").body(), "ok\n");
}

TEST_F(admin_http, keep_alive_then_connection_close) {
  start({});
  client c(port());
  EXPECT_EQ(c.request(http::verb::get, "/healthz").body(), "ok\n");
  EXPECT_EQ(c.request(http::verb::get, "/readyz").body(), "ready\n");
  const auto res = c.request(http::verb::get, "/healthz", false);
  EXPECT_EQ(res.body(), "ok\n");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(admin_http, pipelined_requests_are_answered_in_order) {
  start({});
  client c(port());
  c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_response().result(), http::status::ok);
  EXPECT_EQ(c.read_response().result(), http::status::not_found);
}

TEST_F(admin_http, malformed_request_is_400_and_closed) {
  start({});
  client c(port());
  c.send_raw("NOT AN HTTP REQUEST\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(admin_http, oversized_header_is_431_and_closed) {
  start({});
  client c(port());
  c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(32 * 1024, 'a') + "\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(admin_http, oversized_body_is_413_and_closed) {
  start({});
  client c(port());
  c.send_raw("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + std::string(4096, 'b'));
  const auto res = c.read_response();
  EXPECT_EQ(res.result(), http::status::payload_too_large);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(admin_http, idle_connection_times_out) {
  http_options options;
  options.read_timeout = 200ms;
  start({}, options);
  client c(port());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(admin_http, connections_over_the_cap_are_closed_at_once) {
  http_options options;
  options.max_connections = 2;
  start({}, options);
  auto first = std::make_unique<client>(port());
  client second(port());
  EXPECT_EQ(first->request(http::verb::get, "/healthz").result(), http::status::ok);
  EXPECT_EQ(second.request(http::verb::get, "/healthz").result(), http::status::ok);
  client third(port());  // the kernel accepts it; the server closes it
  EXPECT_TRUE(third.closed_by_server());
  first.reset();
  // Once the server has seen the first one go, there is room again.
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    try {
      client again(port());
      served = again.request(http::verb::get, "/healthz").result() == http::status::ok;
    } catch (const boost::system::system_error&) {
      std::this_thread::sleep_for(50ms);
    }
  }
  EXPECT_TRUE(served);
}

TEST_F(admin_http, stop_closes_open_connections_and_ends_run) {
  start({});
  client idle(port());
  EXPECT_EQ(idle.request(http::verb::get, "/healthz").result(), http::status::ok);
  EXPECT_TRUE(stop_and_wait(2000ms));
  EXPECT_TRUE(idle.closed_by_server());
  server_->stop();  // idempotent
}

TEST(admin_http_bind, a_taken_port_throws_from_start) {
  asio::io_context ioc;
  http_server first(ioc.get_executor(), "127.0.0.1", 0, {});
  first.start();
  http_server second(ioc.get_executor(), "127.0.0.1", first.port(), {});
  EXPECT_THROW(second.start(), boost::system::system_error);
  http_server bad_address(ioc.get_executor(), "not-an-address", 0, {});
  EXPECT_THROW(bad_address.start(), boost::system::system_error);
  first.stop();
  second.stop();
  ioc.run_for(2s);
  EXPECT_TRUE(ioc.stopped()) << "work left after stop()";
}

}  // namespace
