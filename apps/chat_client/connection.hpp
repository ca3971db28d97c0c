// One TCP connection to chat_server, plain or TLS: length-prefixed JSON frames in both
// directions (PROTOCOL.md §1), a PING whenever nothing was sent for the ping interval (§6), and
// dead-peer detection when no frame at all arrives within two intervals of a PING.
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

// Only connection.cpp needs OpenSSL's headers.
namespace boost::asio::ssl {
class context;
template <typename Stream>
class stream;
}  // namespace boost::asio::ssl

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

  // `ping_interval` zero: no PINGs. `tls` null: plain TCP; otherwise the connection speaks TLS
  // with this context (make_tls_context), which must outlive it.
  connection(asio::any_io_executor ex, std::chrono::milliseconds ping_interval, asio::ssl::context* tls = nullptr);
  ~connection();

  // Resolves, connects and, with TLS, completes the handshake (the server's certificate
  // verified for `host`) within `timeout` (asio::error::timed_out after it). Cancelled by
  // close(). Returns the error, or success; failure() then says what failed.
  awaitable<boost::system::error_code> connect(std::string host, std::string port, std::chrono::milliseconds timeout);
  // Why the last connect() failed, as a phrase ("Connection refused", "TLS handshake failed:
  // certificate verify failed: IP address mismatch").
  const std::string& failure() const noexcept { return failure_; }
  // After a successful connect(): "TLSv1.3" and the like, or empty for plain TCP.
  std::string tls_version() const;

  // Starts the reader, writer and pinger coroutines on a connected socket.
  void start(frame_handler on_frame, close_handler on_closed);

  // Queues one frame. False (and nothing sent) when closed or when the frame is over
  // max_request_frame_bytes.
  bool send(const boost::json::object& frame);

  // Idempotent: closes the socket and stops the coroutines.
  void close(std::string reason);

  bool is_open() const noexcept { return started_ && !closed_; }

 private:
  using tls_stream = asio::ssl::stream<asio::ip::tcp::socket&>;

  awaitable<boost::system::error_code> handshake(const std::string& host);
  // Stream: socket_ or *tls_, the only difference between plain and TLS connections.
  template <class Stream>
  awaitable<void> reader(Stream& stream);
  template <class Stream>
  awaitable<void> writer(Stream& stream);
  awaitable<void> pinger();

  asio::ip::tcp::socket socket_;
  asio::ssl::context* tls_context_;
  std::unique_ptr<tls_stream> tls_;  // over socket_, made by connect(): one per connection
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
  std::string failure_;
};

// A client TLS context: TLS 1.2 or later, the peer's certificate always verified, against the
// system's default CA paths or, when `ca_file` is not empty, only against the PEM certificates
// in that file. Null and `error` set when the file cannot be used.
std::shared_ptr<asio::ssl::context> make_tls_context(const std::string& ca_file, std::string& error);

}  // namespace chat::client
