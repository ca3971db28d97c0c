// Frame codec implementation.
#include <chat/protocol/frame.hpp>

#include <cstring>

namespace chat::protocol {

std::span<char> frame_decoder::prepare(std::size_t min_bytes) {
  body_ = {};
  // Move the partial frame to the front before growing: keeps the buffer at one frame's size.
  if (begin_ != 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < min_bytes) {
    buffer_.resize(end_ + min_bytes);
  }
  return {buffer_.data() + end_, buffer_.size() - end_};
}

void frame_decoder::commit(std::size_t n) noexcept { end_ += n; }

void frame_decoder::feed(std::string_view bytes) {
  auto space = prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

frame_decoder::status frame_decoder::next() noexcept {
  body_ = {};
  const std::size_t available = end_ - begin_;
  if (available < frame_header_bytes) {
    return status::need_more;
  }
  const std::uint32_t length =
      decode_frame_length(std::span<const char, frame_header_bytes>(buffer_.data() + begin_, frame_header_bytes));
  if (length == 0 || length > max_frame_bytes_) {
    return status::bad_length;
  }
  if (available - frame_header_bytes < length) {
    return status::need_more;
  }
  body_ = std::string_view(buffer_.data() + begin_ + frame_header_bytes, length);
  begin_ += frame_header_bytes + length;
  if (begin_ == end_) {
    begin_ = end_ = 0;  // the body view stays valid: nothing is moved until prepare()
  }
  return status::frame;
}

void frame_decoder::shrink() noexcept {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    body_ = {};
    std::string().swap(buffer_);
  }
}

void append_frame_header(std::string& out, std::size_t body_size) {
  const auto n = static_cast<std::uint32_t>(body_size);
  const char header[frame_header_bytes] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                                           static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(header, frame_header_bytes);
}

std::string encode_frame(std::string_view body) {
  std::string out;
  out.reserve(frame_header_bytes + body.size());
  append_frame_header(out, body.size());
  out.append(body);
  return out;
}

std::uint32_t decode_frame_length(std::span<const char, frame_header_bytes> header) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(header[i])); };
  return (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
}

}  // namespace chat::protocol
