// The client's TCP connection: reader, writer and pinger coroutines.
#include "connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <exception>
#include <utility>

namespace chat::client {

namespace json = boost::json;
using asio::ip::tcp;

namespace {

std::string describe_io_error(const boost::system::error_code& ec) {
  if (ec == asio::error::eof) {
    return "the server closed the connection";
  }
  if (ec == asio::error::connection_reset) {
    return "the connection was reset";
  }
  return ec.message();
}

// Coroutines of a connection end by themselves; an exception is a bug: report it and go on.
void report(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "chat_client: connection task failed: %s\n", ex.what());
  }
}

}  // namespace

connection::connection(asio::any_io_executor ex, std::chrono::milliseconds ping_interval)
    : socket_(ex),
      resolver_(ex),
      connect_timer_(ex),
      write_signal_(ex),
      ping_timer_(ex),
      ping_interval_(ping_interval) {}

awaitable<boost::system::error_code> connection::connect(std::string host, std::string port,
                                                         std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  connect_timer_.expires_after(timeout);
  auto resolved = co_await (resolver_.async_resolve(host, port, use_nothrow) || connect_timer_.async_wait(use_nothrow));
  if (closed_) {
    co_return asio::error::operation_aborted;
  }
  if (resolved.index() == 1) {
    co_return asio::error::timed_out;
  }
  auto [rec, endpoints] = std::get<0>(std::move(resolved));
  if (rec) {
    co_return rec;
  }
  auto connected =
      co_await (asio::async_connect(socket_, endpoints, use_nothrow) || connect_timer_.async_wait(use_nothrow));
  if (closed_) {
    co_return asio::error::operation_aborted;
  }
  if (connected.index() == 1) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    co_return asio::error::timed_out;
  }
  auto [cec, endpoint] = std::get<0>(connected);
  (void)endpoint;
  if (!cec) {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
  }
  co_return cec;
}

void connection::start(frame_handler on_frame, close_handler on_closed) {
  on_frame_ = std::move(on_frame);
  on_closed_ = std::move(on_closed);
  started_ = true;
  last_sent_ = clock::now();
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->reader(); }, report);
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->writer(); }, report);
  if (ping_interval_.count() > 0) {
    asio::co_spawn(
        socket_.get_executor(), [self] { return self->pinger(); }, report);
  }
}

bool connection::send(const json::object& frame) {
  if (!is_open()) {
    return false;
  }
  const std::string body = json::serialize(frame);
  if (body.size() > max_request_frame_bytes) {
    return false;
  }
  outbox_.push_back(protocol::encode_frame(body));
  last_sent_ = clock::now();
  write_signal_.cancel();
  return true;
}

void connection::close(std::string reason) {
  if (closed_) {
    return;
  }
  closed_ = true;
  boost::system::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  connect_timer_.cancel();
  write_signal_.cancel();
  ping_timer_.cancel();
  if (started_ && on_closed_) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), reason = std::move(reason)] {
      auto handler = std::move(self->on_closed_);
      self->on_frame_ = nullptr;
      handler(reason);
    });
  }
}

awaitable<void> connection::reader() {
  for (;;) {
    auto buf = decoder_.prepare(4096);
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()), use_nothrow);
    if (closed_) {
      co_return;
    }
    if (ec) {
      close(describe_io_error(ec));
      co_return;
    }
    decoder_.commit(n);
    for (;;) {
      const auto st = decoder_.next();
      if (st == protocol::frame_decoder::status::need_more) {
        break;
      }
      if (st == protocol::frame_decoder::status::bad_length) {
        close("the server sent a frame of length 0 or over 16 MiB");
        co_return;
      }
      boost::system::error_code pec;
      json::value v = json::parse(decoder_.body(), pec);
      if (pec || !v.is_object()) {
        close("the server sent a frame that is not a JSON object");
        co_return;
      }
      ping_outstanding_ = false;
      on_frame_(std::move(v.get_object()));
      if (closed_) {
        co_return;
      }
    }
  }
}

awaitable<void> connection::writer() {
  std::string batch;
  while (!closed_) {
    if (outbox_.empty()) {
      write_signal_.expires_at(clock::time_point::max());
      co_await write_signal_.async_wait(use_nothrow);
      continue;
    }
    batch.clear();
    while (!outbox_.empty()) {
      batch += outbox_.front();
      outbox_.pop_front();
    }
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(batch), use_nothrow);
    (void)n;
    if (closed_) {
      co_return;
    }
    if (ec) {
      close(describe_io_error(ec));
      co_return;
    }
  }
}

awaitable<void> connection::pinger() {
  while (!closed_) {
    ping_timer_.expires_at(last_sent_ + ping_interval_);
    co_await ping_timer_.async_wait(use_nothrow);
    if (closed_) {
      co_return;
    }
    const auto now = clock::now();
    if (now < last_sent_ + ping_interval_) {
      continue;  // something was sent meanwhile: the connection is not idle
    }
    // Dead peer: PINGs went unanswered (no frame at all) for two intervals.
    if (ping_outstanding_ && now - ping_sent_ >= 2 * ping_interval_) {
      const auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(now - ping_sent_).count() / 1000.0;
      char buf[96];
      std::snprintf(buf, sizeof buf, "no answer from the server for %.1f s after a PING", secs);
      close(buf);
      co_return;
    }
    json::object ping;
    ping["msgid"] = 15;
    send(ping);
    if (!ping_outstanding_) {
      ping_outstanding_ = true;  // cleared by the next frame received
      ping_sent_ = now;
    }
  }
}

}  // namespace chat::client
