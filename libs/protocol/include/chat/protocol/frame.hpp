// Length-prefixed framing: a 4-byte big-endian length, then that many bytes of JSON text.
// The decoder is sans-I/O: bytes in, complete frame bodies out, for any split of the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace chat::protocol {

inline constexpr std::size_t frame_header_bytes = 4;

// Incremental decoder for one connection's inbound stream. Not thread-safe (one reader).
// Its buffer holds at most one partial frame plus one read, so memory is bounded by the limit.
class frame_decoder {
 public:
  enum class status {
    frame,       // body() holds a complete frame
    need_more,   // feed more bytes
    bad_length,  // length 0 or over the limit: the stream cannot be trusted any more
  };

  explicit frame_decoder(std::size_t max_frame_bytes) noexcept : max_frame_bytes_(max_frame_bytes) {}

  // Writable space for at least `min_bytes`; follow with commit(n) for the bytes actually read.
  std::span<char> prepare(std::size_t min_bytes);
  void commit(std::size_t n) noexcept;

  // Copies bytes in (prepare + commit); convenient for tests and non-socket sources.
  void feed(std::string_view bytes);

  // Decodes the next frame. After status::frame, body() stays valid until the next
  // prepare() or feed().
  status next() noexcept;
  std::string_view body() const noexcept { return body_; }

  // Bytes received but not yet returned as frames (a partial frame).
  std::size_t buffered() const noexcept { return end_ - begin_; }

  // Gives the buffer's memory back while nothing is buffered (idle connections stay small).
  void shrink() noexcept;

 private:
  std::size_t max_frame_bytes_;
  std::string buffer_;
  std::size_t begin_ = 0;  // first unread byte
  std::size_t end_ = 0;    // one past the last received byte
  std::string_view body_;
};

// Appends the 4-byte big-endian header for a body of `body_size` bytes.
void append_frame_header(std::string& out, std::size_t body_size);

// A complete frame (header + body) for `body`.
std::string encode_frame(std::string_view body);

// Reads the 4-byte big-endian length at the start of `header`.
std::uint32_t decode_frame_length(std::span<const char, frame_header_bytes> header) noexcept;

}  // namespace chat::protocol
