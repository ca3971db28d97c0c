// Client connection: reader, writer and heartbeat coroutines around a bounded outbound queue.
#include <chat/asio/logging.hpp>
#include <chat/protocol/fields.hpp>
#include <chat/protocol/message.hpp>
#include <chat/server/proxy_header.hpp>
#include <chat/server/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <span>

namespace chat::server {

using clock = session::clock;

namespace {

std::shared_ptr<spdlog::logger> logger() { return named_logger("net"); }

// "address:port" for logs; IPv6 addresses in brackets.
std::string peer_text(const std::string& address, std::uint16_t port) {
  return (address.find(':') == std::string::npos ? address : "[" + address + "]") + ":" + std::to_string(port);
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
// Wake-ups further apart than this mark a quiet connection (heartbeats, a person typing).
constexpr std::chrono::milliseconds quiet_gap{50};

const router::traffic_metrics unmeasured;

}  // namespace

session::session(asio::ip::tcp::socket socket, router::router& router, services::chat_service& chat,
                 const session_options& options, admission& admission, finished_handler on_finished)
    : socket_(std::move(socket)),
      writer_done_signal_(socket_.get_executor()),
      decoder_(options.max_frame_bytes),
      router_(router),
      chat_(chat),
      options_(options),
      metrics_(options.metrics != nullptr ? *options.metrics : unmeasured),
      admission_(admission),
      on_finished_(std::move(on_finished)),
      address_("?"),
      peer_("?"),
      last_frame_(clock::now()),
      unauthenticated_since_(last_frame_),
      proxy_pending_(options.proxy_protocol),
      requests_(options.rate_limit_per_s, options.rate_limit_burst),
      deadline_((last_frame_ + std::min(options.idle_timeout, options.login_timeout)).time_since_epoch().count()) {
  boost::system::error_code ec;
  if (const auto ep = socket_.remote_endpoint(ec); !ec) {
    address_ = ep.address().to_string();
    peer_ = peer_text(address_, ep.port());
  }
}

void session::start(const std::shared_ptr<session>& self) {
  boost::system::error_code ignored;
  self->socket_.non_blocking(true, ignored);  // the reader's speculative read must not block
  if (!self->proxy_pending_) {
    logger()->info("connection open peer={}", self->peer_);
    self->admit();
  }
  self->wait_readable();
}

bool session::admit() {
  switch (admission_.admit(address_)) {
    case admission::verdict::admitted:
      admitted_ = true;
      metrics::inc(metrics_.connections_opened);
      return true;
    case admission::verdict::node_full:
      metrics::inc(metrics_.refused_node_full);
      logger()->warn("refused peer={}: node connection limit reached", peer_);
      refuse(protocol::errc::going_away, "too many connections on this server");
      return false;
    case admission::verdict::address_full:
      metrics::inc(metrics_.refused_address_full);
      logger()->warn("refused peer={}: connection limit of its address reached", peer_);
      refuse(protocol::errc::rate_limited, "too many connections from your address");
      return false;
  }
  return false;
}

void session::refuse(protocol::errc e, const char* reason) {
  metrics_.error(e);
  drain(protocol::to_frame(protocol::make_error(e, reason, std::nullopt, nullptr)));
  close_reason_ = reason;
  discarding_ = true;
}

bool session::take_proxy_bytes(std::string_view bytes) {
  proxy_buf_.append(bytes);
  const auto header = parse_proxy_header(proxy_buf_);
  if (header.result == proxy_header::status::need_more && proxy_buf_.size() < max_proxy_header_bytes) {
    return false;
  }
  if (header.result != proxy_header::status::done) {
    metrics::inc(metrics_.refused_proxy_header);
    logger()->warn("refused peer={}: no valid PROXY protocol header", peer_);
    refuse(protocol::errc::bad_request, "expected a PROXY protocol header");
    return false;
  }
  const std::string via = peer_;
  if (!header.address.empty()) {
    address_ = header.address;
    peer_ = peer_text(address_, header.port);
  }
  logger()->info("connection open peer={} via={}", peer_, via);
  proxy_pending_ = false;
  decoder_.feed(std::string_view(proxy_buf_).substr(header.size));
  std::string().swap(proxy_buf_);
  return admit();
}

void session::send_rate_limited(std::string_view body) {
  const auto req = protocol::parse_envelope(body);
  metrics_.frame_in(req.msgid.value_or(0));
  metrics_.error(protocol::errc::rate_limited);
  send(protocol::to_frame(
      protocol::make_error(protocol::errc::rate_limited, "too many requests: slow down", req.msgid, req.cid)));
}

// ---- reader -------------------------------------------------------------------------------

// Reads and dispatches while bytes are there. When the socket has nothing more, the reader
// ends and a readiness wait (a small callback: no coroutine, and no buffer unless a partial
// frame is pending) starts it again, so an idle connection costs little memory.
awaitable<void> session::reader(std::shared_ptr<session> self, boost::system::error_code ec) {
  const auto woken = clock::now();
  // A connection woken rarely gives its buffer back while it waits; a busy one keeps it
  // rather than allocating it again for every read.
  const bool quiet = woken - self->last_wake_ > quiet_gap;
  self->last_wake_ = woken;
  while (!ec) {
    // Until the PROXY header is complete, read small pieces: the frame decoder gets only what follows it.
    std::array<char, 256> head;
    const auto space = self->proxy_pending_ ? std::span<char>(head) : self->decoder_.prepare(read_chunk);
    const std::size_t n = self->socket_.read_some(asio::buffer(space.data(), space.size()), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      if (quiet) {
        self->decoder_.shrink();  // frees the buffer only when no partial frame is in it
      }
      self->wait_readable();
      co_return;
    }
    if (ec) {
      break;
    }
    if (self->discarding_) {
      continue;
    }
    if (self->proxy_pending_) {
      if (!self->take_proxy_bytes(std::string_view(head.data(), n))) {
        continue;
      }
    } else {
      self->decoder_.commit(n);
    }
    for (;;) {
      const auto status = self->decoder_.next();
      if (status == protocol::frame_decoder::status::need_more) {
        break;
      }
      if (status == protocol::frame_decoder::status::bad_length) {
        // The stream cannot be trusted any more: answer, flush and close.
        self->refuse(protocol::errc::frame_too_large, "bad frame length");
        break;
      }
      if (!self->accepting_requests()) {
        self->discarding_ = true;  // going away or closed: requests still buffered are not served
        break;
      }
      self->last_frame_ = clock::now();
      if (!self->requests_.take(self->last_frame_)) {
        self->send_rate_limited(self->decoder_.body());
        self->update_deadline();
        continue;
      }
      const bool was_logged_in = self->user.has_value();
      self->dispatching_ = true;
      co_await self->router_.dispatch(*self, self->decoder_.body());
      self->dispatching_ = false;
      if (self->deferred_go_away_) {
        auto reason = std::move(*self->deferred_go_away_);
        self->deferred_go_away_.reset();
        self->go_away_on_strand(std::move(reason));
      }
      // A slow request (a database that hangs) is the server's time, not the client's silence:
      // the frames it sent meanwhile wait unread behind it.
      self->last_frame_ = clock::now();
      if (was_logged_in && !self->user) {
        self->unauthenticated_since_ = clock::now();
      }
      self->update_deadline();
    }
  }
  std::string reason = self->close_reason_;
  if (ec != asio::error::eof && ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
      ec != asio::error::bad_descriptor) {
    reason = ec.message();
  }
  co_await self->finish(std::move(reason));
}

void session::wait_readable() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
    asio::co_spawn(self->socket_.get_executor(), reader(self, ec), log_exception);
  });
}

// ---- writer -------------------------------------------------------------------------------

// Runs while there is something to write; the next frame queued after it ends starts another.
awaitable<void> session::writer(std::shared_ptr<session> self) {
  std::vector<services::outbound> batch;
  std::vector<asio::const_buffer> buffers;
  for (;;) {
    {
      std::lock_guard lock(self->mutex_);
      if (self->queue_.empty() && self->replay_.empty()) {
        if (self->state_ == state::open) {
          self->writer_running_ = false;
          co_return;
        }
        break;  // draining is done, or the socket is gone
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
        (void)self->release_held_locked();  // this writer is running: nothing to start
      }
    }
    buffers.clear();
    for (const auto& m : batch) {
      buffers.push_back(asio::buffer(*m.frame));
    }
    auto [ec, n] = co_await asio::async_write(self->socket_, buffers, use_nothrow);
    if (!ec) {
      self->count_written(batch);
    }
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
  {
    // finish() stores the spill only after this point, so nothing can be stored out of order.
    std::lock_guard lock(self->mutex_);
    self->writer_running_ = false;
  }
  self->writer_done_signal_.cancel();
}

bool session::accepting_requests() {
  std::lock_guard lock(mutex_);
  return state_ == state::open;
}

bool session::claim_writer_locked() {
  if (writer_running_ || state_ == state::closed || state_ == state::finished) {
    return false;
  }
  writer_running_ = true;
  return true;
}

// A writer started inline writes at once (lowest latency for one message); a posted one
// first lets the current handler queue more for this connection (the rest of a group
// fan-out), which then goes out in the same write.
void session::spawn_writer(bool posted) {
  if (!posted) {
    asio::co_spawn(socket_.get_executor(), writer(shared_from_this()), log_exception);
    return;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    asio::co_spawn(self->socket_.get_executor(), writer(self), log_exception);
  });
}

// ---- deadlines ----------------------------------------------------------------------------

void session::check_deadline(clock::time_point now) {
  auto due = deadline_.load(std::memory_order_relaxed);
  if (now.time_since_epoch().count() < due) {
    return;
  }
  // Post once per deadline: the strand sets the next one.
  if (deadline_.compare_exchange_strong(due, clock::time_point::max().time_since_epoch().count(),
                                        std::memory_order_relaxed)) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->expire(); });
  }
}

void session::update_deadline() {
  auto deadline = last_frame_ + options_.idle_timeout;
  if (!user) {
    deadline = std::min(deadline, unauthenticated_since_ + options_.login_timeout);
  }
  std::lock_guard lock(mutex_);
  if (state_ == state::draining) {
    deadline = drain_deadline_;
  } else if (state_ != state::open) {
    return;  // closing: no deadline applies any more
  }
  deadline_.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
}

void session::expire() {
  const auto now = clock::now();
  state current;
  clock::time_point drain_deadline;
  {
    std::lock_guard lock(mutex_);
    current = state_;
    drain_deadline = drain_deadline_;
  }
  if (current == state::draining && now >= drain_deadline) {
    // A peer that does not read cannot hold a draining connection open.
    close_socket();
    return;
  }
  if (current == state::open) {
    if (now >= last_frame_ + options_.idle_timeout && !dispatching_) {
      go_away_on_strand("no frame within the heartbeat timeout");
      return;
    }
    if (!user && now >= unauthenticated_since_ + options_.login_timeout) {
      go_away_on_strand("not logged in within the login timeout");
      return;
    }
  }
  update_deadline();
}

// ---- outbound queue -----------------------------------------------------------------------

bool session::enqueue(services::outbound msg, kind k) {
  std::unique_lock lock(mutex_);
  const bool chat = msg.store_for != 0;
  const bool fan_out = msg.fan_out;
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
    metrics::inc(metrics_.slow_consumers);
    logger()->warn("slow consumer peer={} queued={} bytes: closing", peer_, queued_bytes_);
    close_locked();
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_socket(); });
    return true;
  }
  if (claim_writer_locked()) {
    lock.unlock();
    spawn_writer(fan_out);
  }
  return true;
}

void session::send(std::string frame) {
  enqueue({std::make_shared<const std::string>(std::move(frame)), 0}, kind::direct);
}

std::vector<std::shared_ptr<const std::string>> session::replay_stored(
    std::vector<std::shared_ptr<const std::string>> frames, services::user_id recipient) {
  std::unique_lock lock(mutex_);
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
  if (claim_writer_locked()) {
    lock.unlock();
    spawn_writer(false);
  }
  return {};
}

bool session::deliver(const services::outbound& msg) {
  auto queued = msg;
  queued.queued = clock::now();
  return enqueue(std::move(queued), kind::live);
}

void session::hold_live() {
  std::lock_guard lock(mutex_);
  holding_ = true;
}

void session::release_live() {
  std::unique_lock lock(mutex_);
  holding_ = false;
  if (replay_.empty() && release_held_locked()) {
    lock.unlock();
    spawn_writer(false);
  }
}

// Live chat held during a login goes out once the login's stored messages are written.
bool session::release_held_locked() {
  if (holding_ || held_.empty() || state_ != state::open) {
    return false;
  }
  for (auto& m : held_) {
    queue_.push_back(std::move(m));
  }
  held_.clear();
  return claim_writer_locked();
}

void session::count_written(const std::vector<services::outbound>& batch) const {
  const auto now = clock::now();
  for (const auto& m : batch) {
    metrics_.frame_out(protocol::peek_msgid(std::string_view(*m.frame).substr(protocol::frame_header_bytes)));
    if (m.queued != clock::time_point{}) {
      metrics::observe(metrics_.delivery_seconds, std::chrono::duration<double>(now - m.queued).count());
    }
  }
}

void session::go_away(std::string reason) {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), reason = std::move(reason)]() mutable {
    self->go_away_on_strand(std::move(reason));
  });
}

void session::go_away_on_strand(std::string reason) {
  if (dispatching_) {
    if (!deferred_go_away_) {
      deferred_go_away_ = std::move(reason);
    }
    return;
  }
  metrics_.error(protocol::errc::going_away);
  logger()->info("going away peer={}: {}", peer_, reason);
  drain(protocol::to_frame(protocol::make_error(protocol::errc::going_away, reason, std::nullopt, nullptr)));
}

void session::drain(std::string last_frame) {
  std::unique_lock lock(mutex_);
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
  drain_deadline_ = clock::now() + drain_limit;
  deadline_.store(drain_deadline_.time_since_epoch().count(), std::memory_order_relaxed);
  if (claim_writer_locked()) {
    lock.unlock();
    spawn_writer(false);
  }
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
}

// Runs once, when the reader ends: store what could not be written, then go offline.
awaitable<void> session::finish(std::string reason) {
  close_socket();
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (!writer_running_) {
        break;
      }
    }
    // The writer shares this strand: it cannot end between the check and this wait.
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
        attempt = 0;  // frames spilled since then get their own tries
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
  if (admitted_) {
    admission_.release(address_);
  }
  logger()->info("connection closed peer={}: {}", peer_, reason);
  if (on_finished_) {
    on_finished_(*this);
  }
}

}  // namespace chat::server
