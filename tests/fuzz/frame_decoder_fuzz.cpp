// libFuzzer target: protocol::frame_decoder fed the input's stream in pieces whose sizes (and
// the frame limit) come from the input, checked against a simple reference decoder.
#include <chat/protocol/frame.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using chat::protocol::frame_decoder;

// Aborts with a message: libFuzzer keeps the input as a crash artifact.
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "frame_decoder_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

struct reference_result {
  std::vector<std::string> frames;
  bool bad_length = false;
  std::size_t consumed = 0;  // bytes of complete frames
};

// The obvious decoder over the whole stream at once.
reference_result reference_decode(const std::string& stream, std::size_t limit) {
  reference_result r;
  std::size_t pos = 0;
  while (stream.size() - pos >= 4) {
    const auto* p = reinterpret_cast<const unsigned char*>(stream.data() + pos);
    const std::size_t length = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
    if (length == 0 || length > limit) {
      r.bad_length = true;
      break;
    }
    if (stream.size() - pos - 4 < length) {
      break;
    }
    r.frames.emplace_back(stream, pos + 4, length);
    pos += 4 + length;
  }
  r.consumed = pos;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  // Mostly small limits, so that both sides of the limit are reached; sometimes the default.
  const std::size_t limit = in.ConsumeBool() ? 65536 : in.ConsumeIntegralInRange<std::size_t>(1, 300);
  frame_decoder decoder(limit);

  std::string stream;  // everything fed so far
  std::vector<std::string> frames;
  bool bad = false;
  while (in.remaining_bytes() > 0) {
    const auto piece_size = in.ConsumeIntegralInRange<std::size_t>(0, 512);
    const std::string piece = in.ConsumeBytesAsString(piece_size);
    const auto how = in.ConsumeIntegralInRange<int>(0, 3);
    if (how == 0) {
      decoder.feed(piece);
    } else {
      // As a socket read: room for more than arrives, then commit what did.
      const std::size_t room = piece.size() + (how == 1 ? 0 : in.ConsumeIntegralInRange<std::size_t>(0, 64));
      auto space = decoder.prepare(room);
      check(space.size() >= room, "prepare() gave less room than asked");
      if (!piece.empty()) {
        std::memcpy(space.data(), piece.data(), piece.size());
      }
      decoder.commit(piece.size());
    }
    stream += piece;

    for (;;) {
      const auto s = decoder.next();
      if (s == frame_decoder::status::need_more) {
        check(!bad, "need_more after bad_length");
        break;
      }
      if (s == frame_decoder::status::bad_length) {
        bad = true;  // the stream cannot be trusted: nothing may come out of it any more
        break;
      }
      check(!bad, "a frame after bad_length");
      const auto body = decoder.body();
      check(!body.empty(), "an empty frame body");
      check(body.size() <= limit, "a frame body over the limit");
      frames.emplace_back(body);
    }
    if (in.ConsumeBool()) {
      decoder.shrink();  // only gives memory back when nothing is buffered
    }
  }

  const auto expected = reference_decode(stream, limit);
  check(frames == expected.frames, "frames differ from the reference decoder");
  check(bad == expected.bad_length, "bad_length differs from the reference decoder");
  if (!bad) {
    check(decoder.buffered() == stream.size() - expected.consumed, "buffered() is not the partial frame");
  }
  return 0;
}
