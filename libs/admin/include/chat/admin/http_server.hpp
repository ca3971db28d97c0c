// The admin HTTP listener: GET /healthz, /readyz and /metrics for load balancers and
// Prometheus, hardened (timeouts, size limits, a connection cap) but not meant for the internet.
#pragma once

#include <chat/asio/awaitable.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace chat::admin {

namespace detail {
struct http_server_state;
}

struct readiness_report {
  bool ready = true;
  std::string detail;  // the 503 body when not ready, e.g. "not ready: database unreachable"
};

struct http_handlers {
  // GET /readyz: 200 "ready\n", or 503 with the detail (a newline is added when missing).
  // Runs on the server's strand; an exception, or no answer within the readiness timeout,
  // is a 503. Empty: always ready.
  std::function<awaitable<readiness_report>()> readiness;
  // GET /metrics: the Prometheus text (chat::metrics::registry::render). Called on the
  // server's strand, so it should be quick. Empty: /metrics is 404.
  std::function<std::string()> metrics;
};

struct http_options {
  std::chrono::milliseconds read_timeout{10'000};      // a whole request, headers and body
  std::chrono::milliseconds write_timeout{10'000};     // a whole response
  std::chrono::milliseconds readiness_timeout{5'000};  // then 503, and the check is cancelled
  std::size_t header_limit = 8 * 1024;                 // more: 431 and close
  std::size_t body_limit = 1024;                       // more: 413 and close (bodies are unused)
  std::size_t max_connections = 64;                    // more: closed at once
};

// GET and HEAD on /healthz (200 "ok\n" while the process runs), /readyz and /metrics; other
// methods 405 with Allow, other paths 404, malformed requests 400 and close. Keep-alive per
// HTTP/1.1 (and "Connection: close"). Every connection and the acceptor run on one strand.
class http_server {
 public:
  http_server(asio::any_io_executor executor, std::string address, std::uint16_t port, http_handlers handlers,
              http_options options = {});
  // Calls stop(). Handlers may still run until the executor's pending work is done: keep
  // what they use alive until then (typically: until io_context::run() has returned).
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds and listens (throws boost::system::system_error on failure, e.g. the port is
  // taken), then accepts in the background. Call once, before the executor runs or from
  // its thread, and not concurrently with stop().
  void start();

  // The bound port (the chosen one when constructed with 0); valid after start().
  std::uint16_t port() const;

  // Closes the acceptor and every open connection and cancels pending readiness checks,
  // leaving no work behind (a readiness check that ignores cancellation is waited for).
  // Safe from any thread, idempotent; returns at once, the closing happens on the strand.
  void stop();

 private:
  // Shared with the server's coroutines, which may outlive this object until they finish.
  std::shared_ptr<detail::http_server_state> state_;
};

}  // namespace chat::admin
