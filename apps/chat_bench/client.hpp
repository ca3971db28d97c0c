// One bench connection: length-prefixed JSON frames (PROTOCOL.md §1) over TCP with
// TCP_NODELAY, a reader that parses each frame and dispatches it on its msgid, and a writer
// that sends everything queued since its last write in one async_write.
#pragma once

#include "shard.hpp"

#include <chat/protocol/frame.hpp>
#include <chat/protocol/message.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chat::bench {

class client;

// Receives what a client's reader does not handle itself. Called on the client's shard.
class frame_sink {
 public:
  // Any frame but ERROR_MSG (counted by the client), stored messages of earlier runs
  // ("offline": true; counted and dropped) and the answer a request() is waiting for.
  // `frame` is valid during the call only.
  virtual void on_frame(client& from, std::int64_t msgid, const boost::json::object& frame) = 0;
  // The connection was lost without close() (already counted as a disconnect).
  virtual void on_lost(client& from) = 0;

 protected:
  ~frame_sink() = default;
};

// Owned by a shared_ptr (its coroutines hold one); single-threaded: every call on its shard's
// thread. The sink must outlive the client's I/O (units close their clients before ending).
class client : public std::enable_shared_from_this<client> {
 public:
  // `tag`: the owner's number for this connection (which member, which side).
  client(shard& home, frame_sink& sink, std::size_t tag = 0);

  shard& home() noexcept { return home_; }
  std::size_t tag() const noexcept { return tag_; }
  bool is_open() const noexcept { return started_ && !closed_; }

  // Connects within the shard's timeout, then starts the reader and the writer. False (and
  // a connect failure counted) when that fails.
  awaitable<bool> connect(const asio::ip::tcp::endpoint& endpoint);

  // Queues one frame with this body. Ignored once closed.
  void send(std::string_view body);

  // Sends `body` and waits for the next frame of type `answer`, or an ERROR_MSG; nullopt when
  // none comes within the shard's timeout (counted) or the connection closes. One at a time.
  awaitable<std::optional<boost::json::object>> request(std::string body, protocol::msgid answer);

  // Idempotent; no sink call follows.
  void close();

 private:
  struct pending_answer {
    std::int64_t msgid = 0;
    std::optional<boost::json::object> frame;
  };

  awaitable<void> reader();
  awaitable<void> writer();
  void dispatch(std::string_view body);
  void lost(std::string_view why);

  shard& home_;
  frame_sink& sink_;
  std::size_t tag_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer wake_writer_;
  asio::steady_timer answer_timer_;  // connect and request() timeouts
  protocol::frame_decoder decoder_;
  std::size_t read_size_;
  std::string queued_;   // frames waiting for the writer
  std::string writing_;  // frames being written
  std::optional<pending_answer> pending_;
  bool writer_idle_ = false;
  bool started_ = false;
  bool closed_ = false;
};

}  // namespace chat::bench
