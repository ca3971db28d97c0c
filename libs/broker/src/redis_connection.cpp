// The self-healing Redis connection shared by the command and subscriber connections.
#include "redis_connection.hpp"

#include <chat/asio/logging.hpp>
#include <chat/broker/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <exception>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::broker::detail {

namespace {

using namespace asio::experimental::awaitable_operators;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// Bytes asked of the socket per read; the parser's buffer grows beyond it for large replies.
constexpr std::size_t read_size = 32u << 10;

// True for the errors that mean "we closed it ourselves" (stop, drop).
bool self_inflicted(const error_code& ec) {
  return ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor;
}

}  // namespace

redis_connection::redis_connection(const asio::any_io_executor& ex, redis_config cfg, const char* role)
    : cfg_(std::move(cfg)),
      name_("redis " + cfg_.host + ":" + std::to_string(cfg_.port) + " (" + role + ")"),
      log_(named_logger("redis")),
      strand_(asio::make_strand(ex)),
      socket_(strand_),
      resolver_(strand_),
      connect_timer_(strand_),
      backoff_timer_(strand_),
      watchdog_timer_(strand_),
      wake_(strand_),
      parser_(cfg_.limits) {}

redis_connection::~redis_connection() = default;

void redis_connection::start() {
  asio::post(strand_, [self = shared_from_this()] { self->do_start(); });
}

void redis_connection::stop() {
  asio::post(strand_, [self = shared_from_this()] { self->do_stop(); });
}

void redis_connection::do_start() {
  if (started_ || stopped_)
    return;
  started_ = true;
  auto log = log_;
  auto on_exit = [log](std::exception_ptr ep) {
    if (!ep)
      return;
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      log->critical("redis connection task ended by an exception: {}", e.what());
    }
  };
  asio::co_spawn(strand_, run(shared_from_this()), on_exit);
  asio::co_spawn(strand_, watchdog(shared_from_this()), on_exit);
}

void redis_connection::do_stop() {
  if (stopped_)
    return;
  stopped_ = true;
  state_ = link::stopped;
  session_over_ = true;
  error_code ignored;
  socket_.close(ignored);
  resolver_.cancel();
  connect_timer_.cancel();
  backoff_timer_.cancel();
  watchdog_timer_.cancel();
  wake_.cancel();
  out_.clear();
  on_stopped();
}

void redis_connection::flush() {
  if (state_ == link::connecting || state_ == link::up) {
    wake_.cancel();
  } else {
    out_.clear();
  }
}

void redis_connection::drop(error_code reason) {
  if (state_ != link::up || session_over_)
    return;
  session_over_ = true;
  drop_reason_ = reason;
  error_code ignored;
  // Ends both the reader and the writer: their pending operations complete with errors.
  socket_.close(ignored);
  wake_.cancel();
}

void redis_connection::reschedule() {
  watchdog_timer_.cancel();
}

bool redis_connection::unread_bytes() {
  error_code ec;
  return state_ == link::up && socket_.available(ec) > 0 && !ec;
}

awaitable<void> redis_connection::watchdog([[maybe_unused]] std::shared_ptr<redis_connection> self) {
  while (!stopped_) {
    watchdog_timer_.expires_at(on_timer(clock::now()));
    co_await watchdog_timer_.async_wait(use_nothrow);
  }
}

awaitable<void> redis_connection::run([[maybe_unused]] std::shared_ptr<redis_connection> self) {
  auto backoff = cfg_.reconnect_backoff_initial;
  while (!stopped_) {
    state_ = link::connecting;
    on_connecting();
    error_code ec = co_await connect(self);
    if (stopped_)
      break;
    if (!ec) {
      log_->info("{}: {}", name_, ever_up_ ? "reconnected" : "connected");
      ever_up_ = true;
      failed_attempts_ = 0;
      backoff = cfg_.reconnect_backoff_initial;
      begin_session();
      on_connected();
      auto read = reader(self);
      auto write = writer(self);
      co_await (std::move(read) || std::move(write));
      error_code ignored;
      socket_.close(ignored);
      if (stopped_)
        break;
      ec = drop_reason_ ? drop_reason_ : make_error_code(errc::unavailable);
      log_->warn("{}: connection lost: {}", name_, ec.message());
    } else if (failed_attempts_++ == 0) {
      log_->warn("{}: cannot connect: {}; retrying with back-off (at most {} ms)", name_, ec.message(),
                 cfg_.reconnect_backoff_max.count());
    } else {
      log_->debug("{}: cannot connect: {}", name_, ec.message());
    }
    state_ = link::down;
    out_.clear();
    writing_.clear();
    on_down(ec);
    backoff_timer_.expires_after(backoff);
    co_await backoff_timer_.async_wait(use_nothrow);
    backoff = std::min(backoff * 2, cfg_.reconnect_backoff_max);
  }
}

awaitable<error_code> redis_connection::connect([[maybe_unused]] std::shared_ptr<redis_connection> self) {
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  const auto address = asio::ip::make_address(cfg_.host, ec);
  if (!ec) {
    endpoints.emplace_back(address, cfg_.port);
  } else {
    // Not cancellable by a timer (the system resolver runs on a thread of its own); its own
    // timeouts bound it, and stop() makes it complete with operation_aborted.
    const std::string service = std::to_string(cfg_.port);
    auto [rec, results] = co_await resolver_.async_resolve(cfg_.host, service, use_nothrow);
    if (rec)
      co_return rec;
    if (stopped_)
      co_return asio::error::operation_aborted;
    for (const auto& entry : results)
      endpoints.push_back(entry.endpoint());
  }

  connect_timer_.expires_after(cfg_.connect_timeout);
  auto connecting = asio::async_connect(socket_, endpoints, use_nothrow);
  auto timeout = connect_timer_.async_wait(use_nothrow);
  auto result = co_await (std::move(connecting) || std::move(timeout));
  if (result.index() == 1) {
    error_code ignored;
    socket_.close(ignored);
    co_return asio::error::timed_out;
  }
  auto [cec, endpoint] = std::get<0>(result);
  (void)endpoint;
  if (cec)
    co_return cec;
  error_code ignored;
  // Small pipelined commands must leave at once, not wait for the ACK of the previous write.
  socket_.set_option(tcp::no_delay(true), ignored);
  co_return error_code{};
}

void redis_connection::begin_session() {
  state_ = link::up;
  session_over_ = false;
  drop_reason_ = {};
  parser_.reset();
  last_read_ = clock::now();
  auth_pending_ = !cfg_.password.empty();
  if (auth_pending_) {
    // In front of whatever was queued while connecting: AUTH must be the first command.
    std::string auth;
    if (cfg_.username.empty()) {
      append_command(auth, {"AUTH", cfg_.password});
    } else {
      append_command(auth, {"AUTH", cfg_.username, cfg_.password});
    }
    out_.insert(0, auth);
  }
}

awaitable<void> redis_connection::reader([[maybe_unused]] std::shared_ptr<redis_connection> self) {
  while (!session_over_) {
    auto space = parser_.prepare(read_size);
    auto buffer = asio::buffer(space.data(), space.size());
    auto [ec, n] = co_await socket_.async_read_some(buffer, use_nothrow);
    if (ec) {
      drop(ec);
      co_return;
    }
    parser_.commit(n);
    last_read_ = clock::now();
    while (!session_over_) {
      auto parsed = parser_.next();
      if (!parsed) {
        log_->error("{}: invalid data from the server ({} bytes buffered); dropping the connection", name_,
                    parser_.buffered());
        drop(parsed.error());
        co_return;
      }
      if (!*parsed)
        break;
      handle(std::move(**parsed));
    }
  }
}

awaitable<void> redis_connection::writer([[maybe_unused]] std::shared_ptr<redis_connection> self) {
  while (!session_over_) {
    if (out_.empty()) {
      wake_.expires_at(clock::time_point::max());
      co_await wake_.async_wait(use_nothrow);
      continue;
    }
    // Everything queued so far leaves in one write; what is queued meanwhile goes next.
    writing_.swap(out_);
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(writing_), use_nothrow);
    (void)n;
    writing_.clear();
    if (ec) {
      if (!self_inflicted(ec))
        drop(ec);
      co_return;
    }
  }
}

void redis_connection::handle(resp_value&& v) {
  if (auth_pending_) {
    auth_pending_ = false;
    if (v.is_error()) {
      log_->error("{}: AUTH refused: {}", name_, v.string);
      drop(make_error_code(errc::auth_failed));
    }
    return;
  }
  on_value(std::move(v));
}

}  // namespace chat::broker::detail
