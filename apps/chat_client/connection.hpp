// One TCP connection to chat_server: length-prefixed JSON frames in both directions
// (PROTOCOL.md §1), a PING whenever nothing was sent for the ping interval (§6), and dead-peer
// detection when no frame at all arrives within two intervals of a PING.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/protocol/frame.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace chat::client {

// Largest frame a client may send by default (limits.max_frame_bytes); a longer one would make
// the server close the connection (errno 11), so send() refuses it.
inline constexpr std::size_t max_request_frame_bytes = 65536;
// Largest frame the server may send (PROTOCOL.md §1).
inline constexpr std::size_t max_server_frame_bytes = 16u * 1024 * 1024;

// Lifetime: owned by a shared_ptr; its coroutines hold one too. Single-threaded: every member
// function runs on the io_context's thread (the client runs one).
class connection : public std::enable_shared_from_this<connection> {
 public:
  using clock = std::chrono::steady_clock;
  // Called for every frame received, in order. May call close().
  using frame_handler = std::function<void(boost::json::object&&)>;
  // Called once, after close() (by anyone, or on an I/O error), posted: never from inside
  // close() itself. `reason` is a short sentence ("the server closed the connection").
  using close_handler = std::function<void(const std::string& reason)>;

  // `ping_interval` zero: no PINGs.
  connection(asio::any_io_executor ex, std::chrono::milliseconds ping_interval);

  // Resolves and connects within `timeout` (asio::error::timed_out after it). Cancelled by
  // close(). Returns the error, or success.
  awaitable<boost::system::error_code> connect(std::string host, std::string port, std::chrono::milliseconds timeout);

  // Starts the reader, writer and pinger coroutines on a connected socket.
  void start(frame_handler on_frame, close_handler on_closed);

  // Queues one frame. False (and nothing sent) when closed or when the frame is over
  // max_request_frame_bytes.
  bool send(const boost::json::object& frame);

  // Idempotent: closes the socket and stops the coroutines.
  void close(std::string reason);

  bool is_open() const noexcept { return started_ && !closed_; }

 private:
  awaitable<void> reader();
  awaitable<void> writer();
  awaitable<void> pinger();

  asio::ip::tcp::socket socket_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  asio::steady_timer write_signal_;
  asio::steady_timer ping_timer_;
  std::chrono::milliseconds ping_interval_;
  protocol::frame_decoder decoder_{max_server_frame_bytes};
  std::deque<std::string> outbox_;
  frame_handler on_frame_;
  close_handler on_closed_;
  clock::time_point last_sent_{};
  clock::time_point ping_sent_{};  // the first PING since the last frame received
  bool ping_outstanding_ = false;
  bool started_ = false;
  bool closed_ = false;
};

}  // namespace chat::client
