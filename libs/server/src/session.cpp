// Client connection: reader, writer and heartbeat coroutines around a bounded outbound queue.
#include <chat/asio/logging.hpp>
#include <chat/protocol/message.hpp>
#include <chat/server/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace chat::server {

using clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> logger() { return named_logger("net"); }

std::string endpoint_text(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

// A coroutine that throws ends only its own session; log it and move on.
void log_exception(std::exception_ptr ep) {
  if (!ep) {
    return;
  }
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    logger()->error("session task failed: {}", e.what());
  }
}

constexpr std::size_t read_chunk = 16 * 1024;
constexpr std::size_t max_batch_frames = 256;
constexpr std::size_t max_batch_bytes = 256 * 1024;
constexpr std::chrono::seconds drain_limit{5};

}  // namespace

session::session(asio::ip::tcp::socket socket, router::router& router, services::chat_service& chat,
                 const session_options& options, finished_handler on_finished)
    : socket_(std::move(socket)),
      wake_(socket_.get_executor()),
      watchdog_(socket_.get_executor()),
      writer_done_signal_(socket_.get_executor()),
      decoder_(options.max_frame_bytes),
      router_(router),
      chat_(chat),
      options_(options),
      on_finished_(std::move(on_finished)),
      peer_(endpoint_text(socket_)),
      last_frame_(clock::now()),
      unauthenticated_since_(last_frame_) {}

void session::start(const std::shared_ptr<session>& self) {
  logger()->info("connection open peer={}", self->peer_);
  const auto ex = self->socket_.get_executor();
  asio::co_spawn(ex, writer(self), log_exception);
  asio::co_spawn(ex, watchdog(self), log_exception);
  asio::co_spawn(ex, reader(self), log_exception);
}

// ---- reader -------------------------------------------------------------------------------

awaitable<void> session::reader(std::shared_ptr<session> self) {
  std::string close_reason = "closed by peer";
  // Once draining (bad length, going away) the writer flushes and closes the socket; until
  // then input is read and dropped, so the peer sees our last frame instead of a reset.
  bool discarding = false;
  for (;;) {
    auto space = self->decoder_.prepare(read_chunk);
    auto [ec, n] = co_await self->socket_.async_read_some(asio::buffer(space.data(), space.size()), use_nothrow);
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted && ec != asio::error::connection_reset) {
        close_reason = ec.message();
      }
      break;
    }
    if (discarding) {
      continue;
    }
    self->decoder_.commit(n);
    for (;;) {
      const auto status = self->decoder_.next();
      if (status == protocol::frame_decoder::status::need_more) {
        break;
      }
      if (status == protocol::frame_decoder::status::bad_length) {
        // The stream cannot be trusted any more: answer, flush and close.
        self->drain(protocol::to_frame(protocol::make_error(protocol::errc::frame_too_large, {}, std::nullopt, nullptr)));
        close_reason = "bad frame length";
        discarding = true;
        break;
      }
      if (!self->accepting_requests()) {
        discarding = true;  // going away or closed: requests still buffered are not served
        break;
      }
      self->last_frame_ = clock::now();
      const bool was_logged_in = self->user.has_value();
      co_await self->router_.dispatch(*self, self->decoder_.body());
      if (was_logged_in && !self->user) {
        self->unauthenticated_since_ = clock::now();
      }
    }
  }
  co_await self->finish(close_reason);
}

// ---- writer -------------------------------------------------------------------------------

awaitable<void> session::writer(std::shared_ptr<session> self) {
  std::vector<services::outbound> batch;
  std::vector<asio::const_buffer> buffers;
  for (;;) {
    {
      std::unique_lock lock(self->mutex_);
      if (self->queue_.empty() && self->replay_.empty()) {
        if (self->state_ != state::open) {
          break;  // draining is done, or the socket is gone
        }
        self->writer_waiting_ = true;
        lock.unlock();
        self->wake_.expires_at(clock::time_point::max());
        co_await self->wake_.async_wait(use_nothrow);
        continue;
      }
      // Coalesce: one write for many queued frames.
      std::size_t bytes = 0;
      while (!self->queue_.empty() && batch.size() < max_batch_frames && bytes < max_batch_bytes) {
        bytes += self->queue_.front().frame->size();
        batch.push_back(std::move(self->queue_.front()));
        self->queue_.pop_front();
      }
      self->queued_bytes_ -= bytes;
      // Stored messages fill the rest of the batch: they flow only as fast as the peer reads.
      while (!self->replay_.empty() && batch.size() < max_batch_frames && bytes < max_batch_bytes) {
        bytes += self->replay_.front().frame->size();
        batch.push_back(std::move(self->replay_.front()));
        self->replay_.pop_front();
      }
      if (self->replay_.empty()) {
        self->release_held_locked();
      }
    }
    buffers.clear();
    for (const auto& m : batch) {
      buffers.push_back(asio::buffer(*m.frame));
    }
    auto [ec, n] = co_await asio::async_write(self->socket_, buffers, use_nothrow);
    if (ec) {
      // Frames written whole count as delivered; chat frames cut short or never started are
      // stored, ahead of everything still queued.
      std::vector<services::outbound> unwritten;
      std::size_t offset = 0;
      for (auto& m : batch) {
        offset += m.frame->size();
        if (offset > n && m.store_for != 0) {
          unwritten.push_back(std::move(m));
        }
      }
      std::lock_guard lock(self->mutex_);
      self->close_locked();
      self->spill_.insert(self->spill_.begin(), std::make_move_iterator(unwritten.begin()),
                          std::make_move_iterator(unwritten.end()));
      break;
    }
    batch.clear();
  }
  self->close_socket();
  // finish() stores the spill only after this point, so nothing can be stored out of order.
  self->writer_done_ = true;
  self->writer_done_signal_.cancel();
}

bool session::accepting_requests() {
  std::lock_guard lock(mutex_);
  return state_ == state::open;
}

void session::wake_writer_locked() {
  if (writer_waiting_) {
    writer_waiting_ = false;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->wake_.cancel(); });
  }
}

// ---- watchdog -----------------------------------------------------------------------------

awaitable<void> session::watchdog(std::shared_ptr<session> self) {
  for (;;) {
    auto deadline = self->last_frame_ + self->options_.idle_timeout;
    if (!self->user) {
      deadline = std::min(deadline, self->unauthenticated_since_ + self->options_.login_timeout);
    }
    self->watchdog_.expires_at(deadline);
    co_await self->watchdog_.async_wait(use_nothrow);
    state current;
    {
      std::lock_guard lock(self->mutex_);
      current = self->state_;
    }
    if (current == state::draining) {
      // A peer that does not read cannot hold a draining connection open.
      self->watchdog_.expires_after(drain_limit);
      co_await self->watchdog_.async_wait(use_nothrow);
      self->close_socket();
      co_return;
    }
    if (current != state::open) {
      co_return;
    }
    const auto now = clock::now();
    if (now >= self->last_frame_ + self->options_.idle_timeout) {
      self->go_away("no frame within the heartbeat timeout");
    } else if (!self->user && now >= self->unauthenticated_since_ + self->options_.login_timeout) {
      self->go_away("not logged in within the login timeout");
    }
  }
}

// ---- outbound queue -----------------------------------------------------------------------

bool session::enqueue(services::outbound msg, kind k) {
  std::lock_guard lock(mutex_);
  const bool chat = msg.store_for != 0;
  switch (state_) {
    case state::finished:
      return false;
    case state::draining:
    case state::closed:
      if (chat) {
        spill_.push_back(std::move(msg));
      }
      return true;
    case state::open:
      break;
  }
  queued_bytes_ += msg.frame->size();
  if (k == kind::live && (holding_ || !replay_.empty())) {
    held_.push_back(std::move(msg));
  } else {
    queue_.push_back(std::move(msg));
  }
  if (queued_bytes_ > options_.max_outbound_bytes) {
    // Slow consumer: stop writing; what is queued gets stored for the next login.
    logger()->warn("slow consumer peer={} queued={} bytes: closing", peer_, queued_bytes_);
    close_locked();
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_socket(); });
    return true;
  }
  wake_writer_locked();
  return true;
}

void session::send(std::string frame) {
  enqueue({std::make_shared<const std::string>(std::move(frame)), 0}, kind::direct);
}

std::vector<std::shared_ptr<const std::string>> session::replay_stored(
    std::vector<std::shared_ptr<const std::string>> frames, services::user_id recipient) {
  std::lock_guard lock(mutex_);
  if (state_ == state::finished) {
    return frames;
  }
  for (auto& f : frames) {
    if (state_ == state::open) {
      replay_.push_back({std::move(f), recipient});
    } else {
      spill_.push_back({std::move(f), recipient});
    }
  }
  wake_writer_locked();
  return {};
}

bool session::deliver(const services::outbound& msg) { return enqueue(msg, kind::live); }

void session::hold_live() {
  std::lock_guard lock(mutex_);
  holding_ = true;
}

void session::release_live() {
  std::lock_guard lock(mutex_);
  holding_ = false;
  if (replay_.empty()) {
    release_held_locked();
  }
}

// Live chat held during a login goes out once the login's stored messages are written.
void session::release_held_locked() {
  if (holding_ || held_.empty() || state_ != state::open) {
    return;
  }
  for (auto& m : held_) {
    queue_.push_back(std::move(m));
  }
  held_.clear();
  wake_writer_locked();
}

void session::go_away(std::string reason) {
  logger()->info("going away peer={}: {}", peer_, reason);
  drain(protocol::to_frame(protocol::make_error(protocol::errc::going_away, reason, std::nullopt, nullptr)));
}

void session::drain(std::string last_frame) {
  std::lock_guard lock(mutex_);
  if (state_ != state::open) {
    return;
  }
  auto frame = std::move(last_frame);
  queued_bytes_ += frame.size();
  queue_.push_back({std::make_shared<const std::string>(std::move(frame)), 0});
  state_ = state::draining;
  // Stored messages not yet written and live chat held behind them: store them again.
  std::vector<services::outbound> unwritten;
  for (auto& m : replay_) {
    unwritten.push_back(std::move(m));
  }
  for (auto& m : held_) {
    queued_bytes_ -= m.frame->size();
    unwritten.push_back(std::move(m));
  }
  for (auto& m : spill_) {
    unwritten.push_back(std::move(m));
  }
  replay_.clear();
  held_.clear();
  spill_ = std::move(unwritten);
  wake_writer_locked();
  // Let the watchdog start the drain limit now.
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->watchdog_.cancel(); });
}

// Moves every unwritten chat frame to the spill list, oldest first.
void session::close_locked() {
  if (state_ == state::closed || state_ == state::finished) {
    return;
  }
  state_ = state::closed;
  std::vector<services::outbound> unwritten;
  for (auto& m : queue_) {
    if (m.store_for != 0) {
      unwritten.push_back(std::move(m));
    }
  }
  for (auto& m : replay_) {
    unwritten.push_back(std::move(m));
  }
  for (auto& m : held_) {
    unwritten.push_back(std::move(m));
  }
  for (auto& m : spill_) {
    unwritten.push_back(std::move(m));
  }
  queue_.clear();
  replay_.clear();
  held_.clear();
  queued_bytes_ = 0;
  spill_ = std::move(unwritten);
}

void session::close_socket() {
  {
    std::lock_guard lock(mutex_);
    close_locked();
  }
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  wake_.cancel();
  watchdog_.cancel();
}

// Runs once, when the reader ends: store what could not be written, then go offline.
awaitable<void> session::finish(std::string reason) {
  close_socket();
  while (!writer_done_) {
    writer_done_signal_.expires_at(clock::time_point::max());
    co_await writer_done_signal_.async_wait(use_nothrow);
  }
  for (int attempt = 0;;) {
    std::vector<services::outbound> batch;
    {
      std::lock_guard lock(mutex_);
      if (spill_.empty()) {
        state_ = state::finished;  // from now on senders store messages themselves
        break;
      }
      batch.swap(spill_);
    }
    auto stored = co_await chat_.store_undelivered(batch);
    if (!stored) {
      // Keep the order: put the batch back in front and retry a few times before giving up.
      if (++attempt == 5) {
        logger()->error("lost {} undelivered messages of peer={}: storage unavailable", batch.size(), peer_);
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        batch.insert(batch.end(), std::make_move_iterator(spill_.begin()), std::make_move_iterator(spill_.end()));
        spill_.swap(batch);
      }
      asio::steady_timer pause(socket_.get_executor(), std::chrono::milliseconds(200 << attempt));
      co_await pause.async_wait(use_nothrow);
    }
  }
  co_await router_.disconnected(*this);
  logger()->info("connection closed peer={}: {}", peer_, reason);
  if (on_finished_) {
    on_finished_(*this);
  }
}

}  // namespace chat::server
