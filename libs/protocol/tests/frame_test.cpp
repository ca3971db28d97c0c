// Frame codec: every split point, many frames per read, the length limits.
#include <chat/protocol/frame.hpp>
#include <chat/protocol/message.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chat::protocol {
namespace {

std::vector<std::string> drain(frame_decoder& d, frame_decoder::status* last = nullptr) {
  std::vector<std::string> out;
  frame_decoder::status s;
  while ((s = d.next()) == frame_decoder::status::frame) {
    out.emplace_back(d.body());
  }
  if (last != nullptr) {
    *last = s;
  }
  return out;
}

TEST(FrameCodec, EncodesBigEndianLength) {
  const std::string frame = encode_frame(std::string(0x01020304 & 0xFFFF, 'x'));
  EXPECT_EQ(frame.size(), 4u + 0x0304);
  EXPECT_EQ(frame[0], '\0');
  EXPECT_EQ(frame[1], '\0');
  EXPECT_EQ(static_cast<unsigned char>(frame[2]), 0x03);
  EXPECT_EQ(static_cast<unsigned char>(frame[3]), 0x04);
  EXPECT_EQ(decode_frame_length(std::span<const char, 4>(frame.data(), 4)), 0x0304u);
}

TEST(FrameCodec, DecodesAtEverySplitPoint) {
  const std::string a = R"({"msgid":15})";
  const std::string b = R"({"msgid":5,"to":3,"msg":"héllo"})";
  const std::string stream = encode_frame(a) + encode_frame(b);
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    frame_decoder d(1024);
    d.feed(std::string_view(stream).substr(0, split));
    auto got = drain(d);
    d.feed(std::string_view(stream).substr(split));
    auto rest = drain(d);
    got.insert(got.end(), rest.begin(), rest.end());
    ASSERT_EQ(got.size(), 2u) << "split at " << split;
    EXPECT_EQ(got[0], a);
    EXPECT_EQ(got[1], b);
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(FrameCodec, DecodesOneByteAtATime) {
  const std::string body = R"({"msgid":1,"id":17,"pwd":"secret"})";
  const std::string stream = encode_frame(body);
  frame_decoder d(1024);
  std::vector<std::string> got;
  for (char c : stream) {
    d.feed(std::string_view(&c, 1));
    auto part = drain(d);
    got.insert(got.end(), part.begin(), part.end());
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], body);
}

TEST(FrameCodec, DecodesManyFramesFromOneRead) {
  std::string stream;
  for (int i = 0; i < 1000; ++i) {
    stream += encode_frame("{\"n\":" + std::to_string(i) + "}");
  }
  frame_decoder d(64);
  d.feed(stream);
  const auto got = drain(d);
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(got[i], "{\"n\":" + std::to_string(i) + "}");
  }
}

TEST(FrameCodec, ZeroLengthIsRejected) {
  frame_decoder d(1024);
  d.feed(std::string("\0\0\0\0", 4));
  EXPECT_EQ(d.next(), frame_decoder::status::bad_length);
}

TEST(FrameCodec, LengthAtLimitIsAcceptedAndOverLimitRejected) {
  frame_decoder ok(8);
  ok.feed(encode_frame("12345678"));
  ASSERT_EQ(ok.next(), frame_decoder::status::frame);
  EXPECT_EQ(ok.body(), "12345678");

  frame_decoder over(8);
  over.feed(encode_frame("123456789").substr(0, 4));  // the header alone is enough to refuse
  EXPECT_EQ(over.next(), frame_decoder::status::bad_length);

  frame_decoder huge(65536);
  huge.feed(std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(huge.next(), frame_decoder::status::bad_length);
}

TEST(FrameCodec, FramesBeforeABadLengthAreStillDelivered) {
  frame_decoder d(16);
  d.feed(encode_frame("{}") + std::string("\0\0\0\0", 4));
  frame_decoder::status last{};
  const auto got = drain(d, &last);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "{}");
  EXPECT_EQ(last, frame_decoder::status::bad_length);
}

TEST(FrameCodec, BufferStaysBoundedAndShrinksWhenIdle) {
  frame_decoder d(1024);
  const std::string frame = encode_frame(std::string(1000, 'x'));
  for (int i = 0; i < 100; ++i) {
    for (std::size_t off = 0; off < frame.size(); off += 100) {
      auto space = d.prepare(100);
      ASSERT_GE(space.size(), 100u);
      ASSERT_LE(space.size(), 2048u) << "buffer grew past one frame plus one read";
      const auto n = std::min<std::size_t>(100, frame.size() - off);
      std::copy_n(frame.data() + off, n, space.data());
      d.commit(n);
    }
    ASSERT_EQ(drain(d).size(), 1u);
  }
  d.shrink();
  EXPECT_EQ(d.buffered(), 0u);
}

}  // namespace
}  // namespace chat::protocol

// Metrics label written frames by the msgid our builders put first.
TEST(PeekMsgid, ReadsTheLeadingMsgidOfBuiltFramesOnly) {
  using chat::protocol::peek_msgid;
  const auto ack = chat::protocol::to_frame(
      chat::protocol::make_ack(chat::protocol::msgid::chat_ack, chat::protocol::errc::ok, boost::json::value(7)));
  EXPECT_EQ(peek_msgid(std::string_view(ack).substr(chat::protocol::frame_header_bytes)), 18);
  EXPECT_EQ(peek_msgid(R"({"msgid":5,"id":1})"), 5);
  EXPECT_EQ(peek_msgid(R"({"msgid":16})"), 16);
  EXPECT_EQ(peek_msgid(R"({"id":1,"msgid":5})"), 0);
  EXPECT_EQ(peek_msgid(R"({"msgid":})"), 0);
  EXPECT_EQ(peek_msgid(R"({"msgid":123,"x":1})"), 0);
  EXPECT_EQ(peek_msgid(R"({"msgid":5)"), 0);
  EXPECT_EQ(peek_msgid(""), 0);
}
