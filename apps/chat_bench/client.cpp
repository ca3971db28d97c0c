// The bench's connection: reader, writer, request/answer.
#include "client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>

namespace chat::bench {

namespace json = boost::json;
using asio::ip::tcp;

namespace {

// Server frames may be up to 16 MiB (PROTOCOL.md §1).
constexpr std::size_t max_server_frame_bytes = 16u * 1024 * 1024;
// Reads start small so that idle connections stay small, and double while they fill up.
constexpr std::size_t first_read_size = 512;
constexpr std::size_t largest_read_size = 64 * 1024;

std::string excerpt(std::string_view text) {
  constexpr std::size_t shown = 200;
  return text.size() <= shown ? std::string(text) : std::string(text.substr(0, shown)) + "...";
}

}  // namespace

client::client(shard& home, frame_sink& sink, std::size_t tag)
    : home_(home),
      sink_(sink),
      tag_(tag),
      socket_(home.io()),
      wake_writer_(home.io()),
      answer_timer_(home.io()),
      decoder_(max_server_frame_bytes),
      read_size_(first_read_size) {
  wake_writer_.expires_at(clock::time_point::max());  // woken by cancel() only
}

awaitable<bool> client::connect(const tcp::endpoint& endpoint) {
  using namespace asio::experimental::awaitable_operators;
  answer_timer_.expires_after(home_.timeout());
  auto result = co_await (socket_.async_connect(endpoint, use_nothrow) || answer_timer_.async_wait(use_nothrow));
  boost::system::error_code ec = asio::error::timed_out;
  if (result.index() == 0) {
    ec = std::get<0>(std::get<0>(result));
  }
  if (closed_) {
    co_return false;
  }
  if (ec) {
    ++home_.stats().errors.connect_failures;
    home_.note("cannot connect to " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()) + ": " +
               ec.message());
    close();
    co_return false;
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  started_ = true;
  auto self = shared_from_this();
  const auto on_failure = [&home = home_](std::exception_ptr e) { home.count_failure(e); };
  asio::co_spawn(
      home_.io(), [self] { return self->reader(); }, on_failure);
  asio::co_spawn(
      home_.io(), [self] { return self->writer(); }, on_failure);
  co_return true;
}

void client::send(std::string_view body) {
  if (closed_) {
    return;
  }
  protocol::append_frame_header(queued_, body.size());
  queued_.append(body);
  if (writer_idle_) {
    writer_idle_ = false;
    wake_writer_.cancel();
  }
}

awaitable<std::optional<json::object>> client::request(std::string body, protocol::msgid answer) {
  if (!is_open()) {
    co_return std::nullopt;
  }
  pending_.emplace();
  pending_->msgid = protocol::to_int(answer);
  send(body);
  answer_timer_.expires_after(home_.timeout());
  co_await answer_timer_.async_wait(use_nothrow);
  std::optional<json::object> frame = std::move(pending_->frame);
  pending_.reset();
  if (!frame && !closed_) {
    ++home_.stats().errors.timeouts;
    home_.note("no answer (msgid " + std::to_string(protocol::to_int(answer)) + ") within --timeout-ms");
  }
  co_return frame;
}

void client::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  wake_writer_.cancel();
  answer_timer_.cancel();
}

void client::lost(std::string_view why) {
  if (closed_) {
    return;
  }
  ++home_.stats().errors.disconnects;
  home_.note("connection lost: " + std::string(why));
  close();
  sink_.on_lost(*this);
}

awaitable<void> client::reader() {
  for (;;) {
    const auto space = decoder_.prepare(read_size_);
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(space.data(), space.size()), use_nothrow);
    if (closed_) {
      co_return;
    }
    if (ec) {
      lost(ec == asio::error::eof ? "closed by the server" : ec.message());
      co_return;
    }
    decoder_.commit(n);
    if (n == space.size() && read_size_ < largest_read_size) {
      read_size_ *= 2;
    }
    for (;;) {
      const auto status = decoder_.next();
      if (status == protocol::frame_decoder::status::need_more) {
        break;
      }
      if (status == protocol::frame_decoder::status::bad_length) {
        ++home_.stats().errors.protocol;
        lost("a frame of length 0 or over 16 MiB");
        co_return;
      }
      dispatch(decoder_.body());
      if (closed_) {
        co_return;
      }
    }
  }
}

awaitable<void> client::writer() {
  while (!closed_) {
    if (queued_.empty()) {
      writer_idle_ = true;
      co_await wake_writer_.async_wait(use_nothrow);
      continue;
    }
    writing_.clear();
    writing_.swap(queued_);
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(writing_), use_nothrow);
    (void)n;
    if (closed_) {
      co_return;
    }
    if (ec) {
      lost(ec.message());
      co_return;
    }
  }
}

void client::dispatch(std::string_view body) {
  auto& stats = home_.stats();
  const json::object* frame = home_.parser().parse(body);
  const json::value* id = frame != nullptr ? frame->if_contains("msgid") : nullptr;
  if (id == nullptr || !id->is_int64()) {
    ++stats.errors.protocol;
    home_.note("a frame that is not a JSON object with an integer msgid: " + excerpt(body));
    return;
  }
  const std::int64_t msgid = id->get_int64();
  if (const json::value* offline = frame->if_contains("offline");
      offline != nullptr && offline->is_bool() && offline->get_bool()) {
    ++stats.offline_frames;
    return;
  }
  const bool is_error = msgid == protocol::to_int(protocol::msgid::error);
  if (is_error) {
    ++stats.errors.error_msgs;
    home_.note("ERROR_MSG " + excerpt(body));
  }
  if (pending_ && !pending_->frame && (msgid == pending_->msgid || is_error)) {
    pending_->frame.emplace(*frame, json::storage_ptr());  // out of the parser's arena
    answer_timer_.cancel();
    return;
  }
  if (!is_error) {
    sink_.on_frame(*this, msgid, *frame);
  }
}

}  // namespace chat::bench
