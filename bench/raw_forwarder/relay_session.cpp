// raw_forwarder's connection: pairing, relaying, coalesced writes.
#include "relay_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <utility>

namespace chat::bench {

namespace {

// chat_server's default limits.max_outbound_bytes.
constexpr std::size_t max_queued_bytes = 4u * 1024 * 1024;
constexpr std::size_t read_size = 16 * 1024;

}  // namespace

relay_session::relay_session(asio::ip::tcp::socket socket, pair_registry& registry, std::size_t max_frame_bytes)
    : socket_(std::move(socket)),
      registry_(registry),
      decoder_(max_frame_bytes),
      partner_signal_(socket_.get_executor()),
      wake_writer_(socket_.get_executor()) {
  // Both are woken by cancel() only.
  partner_signal_.expires_at(std::chrono::steady_clock::time_point::max());
  wake_writer_.expires_at(std::chrono::steady_clock::time_point::max());
}

void relay_session::start() {
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  auto self = shared_from_this();
  // Neither coroutine throws: I/O errors are error codes and end the session.
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->reader(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->writer(); }, asio::detached);
}

void relay_session::deliver(std::string_view frames) {
  bool wake = false;
  bool overflow = false;
  {
    std::lock_guard lock(mutex_);
    if (closing_) {
      return;
    }
    overflow = queued_.size() + frames.size() > max_queued_bytes;
    if (!overflow) {
      queued_.append(frames);
      wake = std::exchange(writer_idle_, false);
    }
  }
  if (overflow) {
    stop();
  } else if (wake) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->wake_writer_.cancel(); });
  }
}

void relay_session::stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->stop_here(); });
}

void relay_session::stop_here() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
  partner_signal_.cancel();
  wake_writer_.cancel();
  if (auto partner = partner_.lock()) {
    partner->stop();
  } else if (!pair_.empty()) {
    registry_.leave(pair_, this);
  }
}

void relay_session::paired_with(std::shared_ptr<relay_session> partner) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), partner = std::move(partner)] {
    if (self->stopped_) {
      partner->stop();  // this side left before the partner came
      return;
    }
    self->partner_ = partner;
    self->partner_signal_.cancel();
  });
}

awaitable<bool> relay_session::read_more() {
  const auto space = decoder_.prepare(read_size);
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(space.data(), space.size()), use_nothrow);
  if (ec || stopped_) {
    co_return false;
  }
  decoder_.commit(n);
  co_return true;
}

awaitable<void> relay_session::reader() {
  auto status = decoder_.next();
  while (status == protocol::frame_decoder::status::need_more) {
    const bool more = co_await read_more();
    if (!more) {
      break;
    }
    status = decoder_.next();
  }
  if (status != protocol::frame_decoder::status::frame) {
    stop_here();
    co_return;
  }
  pair_ = pair_registry::pair_of(decoder_.body());
  if (auto partner = registry_.join(pair_, shared_from_this())) {
    partner_ = partner;
    partner->paired_with(shared_from_this());
  } else {
    // Frames that follow the pairing frame wait in the socket (and the decoder) meanwhile.
    while (!stopped_ && partner_.expired()) {
      co_await partner_signal_.async_wait(use_nothrow);
    }
  }

  std::string batch;
  while (!stopped_) {
    batch.clear();
    while ((status = decoder_.next()) == protocol::frame_decoder::status::frame) {
      protocol::append_frame_header(batch, decoder_.body().size());
      batch.append(decoder_.body());
    }
    if (status == protocol::frame_decoder::status::bad_length) {
      break;
    }
    if (!batch.empty()) {
      const auto partner = partner_.lock();
      if (!partner) {
        break;
      }
      partner->deliver(batch);
    }
    const bool more = co_await read_more();
    if (!more) {
      break;
    }
  }
  stop_here();
}

awaitable<void> relay_session::writer() {
  std::string batch;
  while (!stopped_) {
    {
      std::lock_guard lock(mutex_);
      batch.swap(queued_);
      writer_idle_ = batch.empty();
    }
    if (batch.empty()) {
      co_await wake_writer_.async_wait(use_nothrow);
      continue;
    }
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(batch), use_nothrow);
    (void)n;
    if (ec) {
      break;
    }
    batch.clear();
  }
  stop_here();
}

}  // namespace chat::bench
