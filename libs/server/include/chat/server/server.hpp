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

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace chat::server {

class server {
 public:
  server(asio::io_context& ioc, router::router& router, services::chat_service& chat,
         const config::server_config& config);

  // Binds and listens (throws boost::system::system_error on failure), then accepts in the
  // background. Call once, before the io_context runs or from one of its threads.
  void start();

  // The bound port (useful when configured as 0).
  std::uint16_t port() const;

  // Stops accepting, sends GOING_AWAY to every connection and waits until they have all
  // finished (queued frames written, undelivered chat stored) or `grace` has passed.
  awaitable<void> shutdown(std::chrono::milliseconds grace);

  std::size_t connection_count() const;

 private:
  awaitable<void> accept_loop();
  // One timer for every connection's heartbeat, login and drain deadline.
  awaitable<void> sweep_loop();

  asio::io_context& ioc_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer sweep_timer_;
  router::router& router_;
  services::chat_service& chat_;
  const config::server_config& config_;
  session_options options_;
  admission admission_;

  mutable std::mutex mutex_;
  std::unordered_map<session*, std::weak_ptr<session>> sessions_;
};

}  // namespace chat::server
