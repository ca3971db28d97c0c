// Acceptor loop, session registry and graceful shutdown.
#include <chat/asio/logging.hpp>
#include <chat/server/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>

namespace chat::server {

namespace {

std::shared_ptr<spdlog::logger> logger() { return named_logger("net"); }

// Deadlines are enforced at most this late (PROTOCOL.md allows 1 s for the heartbeat).
constexpr std::chrono::milliseconds sweep_period{250};

}  // namespace

server::server(asio::io_context& ioc, router::router& router, services::chat_service& chat,
               const config::server_config& config, const router::traffic_metrics* metrics)
    : ioc_(ioc),
      acceptor_(asio::make_strand(ioc)),
      sweep_timer_(ioc),
      router_(router),
      chat_(chat),
      config_(config),
      options_{config.limits.max_frame_bytes, config.limits.max_outbound_bytes, config.heartbeat.idle_timeout,
               config.limits.login_timeout,   config.limits.rate_limit_per_s,   config.limits.rate_limit_burst,
               config.server.proxy_protocol,  metrics},
      admission_(config.limits.max_connections, config.limits.max_connections_per_address) {}

void server::start() {
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(config_.server.listen_address), config_.server.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  logger()->info("listening on {}:{}", endpoint.address().to_string(), acceptor_.local_endpoint().port());
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
  asio::co_spawn(ioc_, sweep_loop(), asio::detached);
}

std::uint16_t server::port() const { return acceptor_.local_endpoint().port(); }

std::size_t server::connection_count() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

awaitable<void> server::accept_loop() {
  asio::steady_timer backoff(ioc_);
  while (acceptor_.is_open()) {
    // Each connection gets its own strand: its coroutines never run concurrently.
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), use_nothrow);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      break;
    }
    if (ec) {
      // Out of file descriptors and the like: pause instead of spinning.
      logger()->warn("accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    auto s = std::make_shared<session>(std::move(socket), router_, chat_, options_, admission_, [this](session& done) {
      std::lock_guard lock(mutex_);
      sessions_.erase(&done);
    });
    {
      std::lock_guard lock(mutex_);
      sessions_.emplace(s.get(), s);
    }
    session::start(s);
  }
}

awaitable<void> server::sweep_loop() {
  for (;;) {
    sweep_timer_.expires_after(sweep_period);
    if (auto [ec] = co_await sweep_timer_.async_wait(use_nothrow); ec) {
      co_return;
    }
    const auto now = session::clock::now();
    std::lock_guard lock(mutex_);
    for (const auto& [raw, weak] : sessions_) {
      if (auto s = weak.lock()) {
        s->check_deadline(now);
      }
    }
  }
}

awaitable<void> server::drain(std::chrono::milliseconds period, std::chrono::milliseconds grace) {
  draining_ = true;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<session>> live;
  {
    std::lock_guard lock(mutex_);
    for (auto& [raw, weak] : sessions_) {
      if (auto s = weak.lock()) {
        live.push_back(std::move(s));
      }
    }
  }
  logger()->info("draining: listener closed, GOING_AWAY to {} connections over {} ms", live.size(), period.count());
  // Client i goes at start + period * i / n, in steps of 10 to 100 ms (hurry() is seen within one).
  const auto start = std::chrono::steady_clock::now();
  const auto n = live.size();
  const auto step = std::clamp(n == 0 ? period : period / static_cast<std::int64_t>(n), std::chrono::milliseconds(10),
                               std::chrono::milliseconds(100));
  asio::steady_timer pace(ioc_);
  for (std::size_t sent = 0; sent < n;) {
    const auto elapsed = std::chrono::steady_clock::now() - start;
    std::size_t due = n;
    if (!hurry_ && elapsed < period) {
      const double done = std::chrono::duration<double>(elapsed) / std::chrono::duration<double>(period);
      due = std::min(n, static_cast<std::size_t>(static_cast<double>(n) * done) + 1);
    }
    for (; sent < due; ++sent) {
      live[sent]->go_away("server shutting down");
      live[sent].reset();
    }
    if (sent < n) {
      pace.expires_after(step);
      co_await pace.async_wait(use_nothrow);
    }
  }
  live.clear();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  asio::steady_timer poll(ioc_);
  while (connection_count() != 0 && std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(20));
    co_await poll.async_wait(use_nothrow);
  }
  if (const auto left = connection_count(); left != 0) {
    logger()->warn("shutdown grace period over with {} connections left", left);
  }
}

void server::hurry() { hurry_ = true; }

}  // namespace chat::server
