// The listening side of chat_server: accepts connections, one strand per session, and
// shuts down gracefully (stop accepting, GOING_AWAY, flush, close).
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/config/config.hpp>
#include <chat/router/router.hpp>
#include <chat/server/limits.hpp>
#include <chat/server/session.hpp>
#include <chat/services/chat_service.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace chat::server {

class server {
 public:
  // `metrics` (may be null: not measured) must outlive the server.
  server(asio::io_context& ioc, router::router& router, services::chat_service& chat,
         const config::server_config& config, const router::traffic_metrics* metrics = nullptr);

  // Binds and listens (throws boost::system::system_error on failure), then accepts in the
  // background. Call once, before the io_context runs or from one of its threads.
  void start();

  // The bound port (useful when configured as 0).
  std::uint16_t port() const;

  // Graceful stop for rolling restarts: closes the listener at once (new connections are
  // refused, so a balancer sends them elsewhere), then sends GOING_AWAY to the connected
  // clients spread evenly over `period` (so they reconnect to the other nodes gradually),
  // then waits until every connection has finished (queued frames written, undelivered chat
  // stored) or `grace` has passed. Call once.
  awaitable<void> drain(std::chrono::milliseconds period, std::chrono::milliseconds grace);
  // The rest of the GOING_AWAYs of a running drain go out at once (a second stop signal).
  // Any thread.
  void hurry();
  // True from the start of drain(): the node is not ready for new clients.
  bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }

  std::size_t connection_count() const;

 private:
  awaitable<void> accept_loop();
  // One timer for every connection's heartbeat, login and drain deadline.
  awaitable<void> sweep_loop();

  asio::io_context& ioc_;
  asio::ip::tcp::acceptor acceptor_;  // on a strand of its own: closed by drain() from any thread
  asio::steady_timer sweep_timer_;
  router::router& router_;
  services::chat_service& chat_;
  const config::server_config& config_;
  session_options options_;
  admission admission_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> hurry_{false};

  mutable std::mutex mutex_;
  std::unordered_map<session*, std::weak_ptr<session>> sessions_;
};

}  // namespace chat::server
