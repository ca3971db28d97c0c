// Blocking test client for chat_server: one TCP connection that sends length-prefixed JSON
// frames and reads the server's frames with timeouts (PROTOCOL.md §1).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chat_test {

namespace json = boost::json;
using namespace std::chrono_literals;
using millis = std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

// Generous enough for Argon2id on a loaded 2-core machine, still bounded.
inline constexpr millis default_timeout = 15s;

// Largest frame a server may send (PROTOCOL.md §1: clients must accept 16 MiB).
inline constexpr std::size_t max_server_frame = 16u * 1024 * 1024;

// Thrown when a wait times out, the connection ends unexpectedly or the server sends bytes
// that are not a frame holding a JSON object. GoogleTest reports it as a test failure.
struct test_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "4-byte big-endian length" + body, written independently of the server's codec.
std::string frame(std::string_view body);
std::string frame_header(std::uint32_t length);

enum class recv_status { frame, timeout, closed };

// One connection. Not thread-safe; movable. The socket is non-blocking and close-on-exec
// (servers started by a test must not inherit it).
class client {
 public:
  // Connects to 127.0.0.1:port within `timeout`. `rcvbuf` > 0 sets SO_RCVBUF before the
  // connect (a small window for slow-consumer tests). `label` names it in error messages.
  explicit client(int port, std::string label = "client", int rcvbuf = 0, millis timeout = 5s);
  // The same from a chosen local address, e.g. "127.0.0.2" (all of 127/8 is loopback), so that
  // a test can be several clients for per-address limits.
  client(const std::string& source_address, int port, std::string label = "client");
  ~client();
  client(client&& other) noexcept;
  client& operator=(client&& other) noexcept;
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Writes all bytes (waiting for buffer space up to `timeout`); throws test_error on failure.
  void send_raw(std::string_view bytes, millis timeout = default_timeout);
  // Same, but reports failure (peer closed or reset, timeout) as false instead of throwing.
  bool try_send_raw(std::string_view bytes, millis timeout = default_timeout);
  // Sends `body` as one frame.
  void send_text(std::string_view body) { send_raw(frame(body)); }
  void send(const json::object& obj);

  // The next frame; throws test_error on timeout, end of stream or a malformed frame.
  json::object recv(millis timeout = default_timeout);
  // The next frame into `out`, or timeout, or closed (EOF or reset).
  recv_status try_recv(json::object& out, millis timeout);
  // `n` frames in a row (one deadline for all).
  std::vector<json::object> recv_n(std::size_t n, millis timeout = default_timeout);
  // Sends `req` and returns the next frame.
  json::object request(const json::object& req, millis timeout = default_timeout);

  // Reads until the peer closes (EOF or reset). True when it did within `timeout`; frames
  // read meanwhile are appended to `frames` (when given).
  bool wait_closed(millis timeout, std::vector<json::object>* frames = nullptr);
  // Throws test_error if a frame arrives or the connection closes within `quiet`.
  void expect_silence(millis quiet);

  // Non-blocking: reads what the socket holds and appends every complete frame to `out`.
  // Returns false once the peer has closed (frames before the close are still appended).
  bool read_available(std::vector<json::object>& out);

  int fd() const noexcept { return fd_; }
  bool is_closed() const noexcept { return eof_; }
  bool was_reset() const noexcept { return reset_; }
  const std::string& label() const noexcept { return label_; }
  // Bytes received but not yet returned as frames.
  std::size_t buffered() const noexcept { return buffer_.size() - pos_; }
  void close() noexcept;

 private:
  client(int port, std::string label, int rcvbuf, millis timeout, const std::string& source_address);
  // Decodes one buffered frame into `out`; false when none is complete.
  bool take_frame(json::object& out);
  // One read of whatever is available; false on EOF/reset (sets eof_).
  bool read_some();
  // Waits until readable; false on timeout.
  bool wait_readable(steady::time_point deadline);
  [[noreturn]] void fail(const std::string& what) const;

  int fd_ = -1;
  std::string label_;
  std::string buffer_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  bool reset_ = false;
};

}  // namespace chat_test
