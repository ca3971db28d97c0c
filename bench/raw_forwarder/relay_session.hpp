// One raw_forwarder connection. Its first frame is a pairing key; once the partner is there,
// every later frame is relayed to the partner unchanged (length header + body, no JSON, no
// routing), many frames per write, as chat_server writes. The least a chat server must do.
#pragma once

#include "pair_registry.hpp"

#include <chat/asio/awaitable.hpp>
#include <chat/protocol/frame.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace chat::bench {

// Owned by a shared_ptr (its coroutines hold one). The socket's executor must be a strand:
// the reader, the writer and stopping run on it; other threads only call deliver() and stop().
class relay_session : public std::enable_shared_from_this<relay_session> {
 public:
  relay_session(asio::ip::tcp::socket socket, pair_registry& registry, std::size_t max_frame_bytes);

  void start();

  // Any thread: queues complete frames. A session whose queue would pass max_queued_bytes (it
  // does not read) is closed, as chat_server closes slow consumers.
  void deliver(std::string_view frames);

  // Any thread; idempotent. The partner is closed too.
  void stop();

 private:
  // Any thread: `partner` arrived while this session was waiting for it.
  void paired_with(std::shared_ptr<relay_session> partner);

  awaitable<void> reader();
  awaitable<void> writer();
  awaitable<bool> read_more();
  void stop_here();

  asio::ip::tcp::socket socket_;
  pair_registry& registry_;
  protocol::frame_decoder decoder_;
  asio::steady_timer partner_signal_;
  asio::steady_timer wake_writer_;
  std::string pair_;                      // strand only
  std::weak_ptr<relay_session> partner_;  // strand only
  bool stopped_ = false;                  // strand only

  std::mutex mutex_;
  std::string queued_;        // guarded by mutex_
  bool writer_idle_ = false;  // guarded by mutex_: the writer waits for wake_writer_
  bool closing_ = false;      // guarded by mutex_
};

}  // namespace chat::bench
