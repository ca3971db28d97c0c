// The RESP2 parser and encoder on byte strings: every value kind, every split point of a
// stream, many values per buffer, malformed and oversized input. No I/O.
#include <chat/broker/error.hpp>
#include <chat/broker/resp.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace chat::broker {
namespace {

using namespace std::string_literals;

// Everything next() yields until it needs more bytes; fails the test on a protocol error.
std::vector<resp_value> drain(resp_parser& p) {
  std::vector<resp_value> out;
  for (;;) {
    auto r = p.next();
    EXPECT_TRUE(r.has_value()) << "unexpected protocol error";
    if (!r || !*r)
      return out;
    out.push_back(std::move(**r));
  }
}

std::vector<resp_value> parse_all(std::string_view bytes, resp_limits limits = {}) {
  resp_parser p(limits);
  p.feed(bytes);
  auto out = drain(p);
  EXPECT_EQ(p.buffered(), 0u) << "bytes left over";
  return out;
}

resp_value parse_one(std::string_view bytes) {
  auto all = parse_all(bytes);
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? resp_value{} : all.front();
}

// True when `bytes` make the parser fail (and it keeps failing).
bool rejects(std::string_view bytes, resp_limits limits = {}) {
  resp_parser p(limits);
  p.feed(bytes);
  for (int i = 0; i < 100; ++i) {
    auto r = p.next();
    if (!r) {
      EXPECT_EQ(r.error(), make_error_code(errc::protocol_error));
      auto again = p.next();
      EXPECT_FALSE(again.has_value()) << "the error must be sticky";
      return true;
    }
    if (!*r)
      return false;
  }
  return false;
}

using V = resp_value;

TEST(RespParser, SimpleString) {
  EXPECT_EQ(parse_one("+OK\r\n"), V::simple("OK"));
}

TEST(RespParser, EmptySimpleString) {
  EXPECT_EQ(parse_one("+\r\n"), V::simple(""));
}

TEST(RespParser, Error) {
  auto v = parse_one("-ERR unknown command 'FOO'\r\n");
  EXPECT_TRUE(v.is_error());
  EXPECT_EQ(v.string, "ERR unknown command 'FOO'");
}

TEST(RespParser, Integers) {
  EXPECT_EQ(parse_one(":0\r\n"), V::number(0));
  EXPECT_EQ(parse_one(":1000\r\n"), V::number(1000));
  EXPECT_EQ(parse_one(":-42\r\n"), V::number(-42));
  EXPECT_EQ(parse_one(":9223372036854775807\r\n"), V::number(INT64_MAX));
  EXPECT_EQ(parse_one(":-9223372036854775808\r\n"), V::number(INT64_MIN));
}

TEST(RespParser, BulkStrings) {
  EXPECT_EQ(parse_one("$5\r\nhello\r\n"), V::bulk("hello"));
  EXPECT_EQ(parse_one("$0\r\n\r\n"), V::bulk(""));
  // Binary-safe: CR, LF and NUL inside the payload.
  EXPECT_EQ(parse_one("$7\r\na\r\nb\0c\n\r\n"s), V::bulk("a\r\nb\0c\n"s));
}

TEST(RespParser, NullBulkAndNullArray) {
  EXPECT_TRUE(parse_one("$-1\r\n").is_null());
  EXPECT_TRUE(parse_one("*-1\r\n").is_null());
}

TEST(RespParser, Arrays) {
  EXPECT_EQ(parse_one("*0\r\n"), V::array({}));
  EXPECT_EQ(parse_one("*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n"), V::array({V::number(1), V::bulk("foo"), V::simple("bar")}));
  EXPECT_EQ(parse_one("*2\r\n$-1\r\n*-1\r\n"), V::array({V::null(), V::null()}));
}

TEST(RespParser, NestedArrays) {
  auto v = parse_one("*2\r\n*2\r\n:1\r\n*0\r\n*1\r\n*1\r\n$1\r\nx\r\n");
  EXPECT_EQ(v, V::array({V::array({V::number(1), V::array({})}), V::array({V::array({V::bulk("x")})})}));
}

TEST(RespParser, PubSubPushes) {
  auto values = parse_all(
      "*3\r\n$9\r\nsubscribe\r\n$4\r\nnode\r\n:1\r\n"
      "*3\r\n$7\r\nmessage\r\n$4\r\nnode\r\n$5\r\nhello\r\n"
      "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0], V::array({V::bulk("subscribe"), V::bulk("node"), V::number(1)}));
  EXPECT_EQ(values[1], V::array({V::bulk("message"), V::bulk("node"), V::bulk("hello")}));
  EXPECT_EQ(values[2], V::array({V::bulk("pong"), V::bulk("")}));
}

// A stream of every kind, in one string, with the values it must yield.
const std::string stream =
    "+OK\r\n"
    "-ERR wrong\r\n"
    ":-7\r\n"
    "$6\r\nfoo\r\nx\r\n"
    "$-1\r\n"
    "*-1\r\n"
    "*0\r\n"
    "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n"
    "*2\r\n*1\r\n:5\r\n$1\r\nz\r\n"
    "$0\r\n\r\n";

std::vector<resp_value> stream_values() {
  return {V::simple("OK"),
          V::error("ERR wrong"),
          V::number(-7),
          V::bulk("foo\r\nx"),
          V::null(),
          V::null(),
          V::array({}),
          V::array({V::bulk("message"), V::bulk("ch"), V::bulk("")}),
          V::array({V::array({V::number(5)}), V::bulk("z")}),
          V::bulk("")};
}

TEST(RespParser, EverySplitPoint) {
  const auto expected = stream_values();
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    resp_parser p;
    p.feed(std::string_view(stream).substr(0, split));
    auto got = drain(p);
    p.feed(std::string_view(stream).substr(split));
    auto rest = drain(p);
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_EQ(got, expected) << "split at byte " << split;
    EXPECT_EQ(p.buffered(), 0u);
  }
}

TEST(RespParser, EveryPairOfSplitPoints) {
  const auto expected = stream_values();
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      resp_parser p;
      std::vector<resp_value> got;
      for (auto part : {std::string_view(stream).substr(0, a), std::string_view(stream).substr(a, b - a),
                        std::string_view(stream).substr(b)}) {
        p.feed(part);
        auto more = drain(p);
        got.insert(got.end(), more.begin(), more.end());
      }
      ASSERT_EQ(got, expected) << "splits at " << a << " and " << b;
    }
  }
}

TEST(RespParser, OneByteAtATime) {
  resp_parser p;
  std::vector<resp_value> got;
  for (char c : stream) {
    p.feed(std::string_view(&c, 1));
    auto more = drain(p);
    got.insert(got.end(), more.begin(), more.end());
  }
  EXPECT_EQ(got, stream_values());
}

TEST(RespParser, ManyRepliesInOneBuffer) {
  std::string bytes;
  for (int i = 0; i < 10000; ++i)
    bytes += ":" + std::to_string(i) + "\r\n";
  auto values = parse_all(bytes);
  ASSERT_EQ(values.size(), 10000u);
  for (int i = 0; i < 10000; ++i)
    EXPECT_EQ(values[static_cast<std::size_t>(i)], V::number(i));
}

TEST(RespParser, PrepareCommitReadsInPlace) {
  resp_parser p;
  const std::string bytes = "$3\r\nabc\r\n:1\r\n";
  for (char c : bytes) {
    auto space = p.prepare(1);
    ASSERT_GE(space.size(), 1u);
    space[0] = c;
    p.commit(1);
  }
  EXPECT_EQ(drain(p), (std::vector<resp_value>{V::bulk("abc"), V::number(1)}));
}

TEST(RespParser, LargeBulkInChunks) {
  const std::string payload(3u << 20, 'x');
  const std::string bytes = "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n+after\r\n";
  resp_parser p;
  std::vector<resp_value> got;
  for (std::size_t at = 0; at < bytes.size(); at += 16384) {
    p.feed(std::string_view(bytes).substr(at, 16384));
    auto more = drain(p);
    got.insert(got.end(), more.begin(), more.end());
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].string.size(), payload.size());
  EXPECT_EQ(got[0], V::bulk(payload));
  EXPECT_EQ(got[1], V::simple("after"));
}

TEST(RespParser, ResetForgetsPartialInput) {
  resp_parser p;
  p.feed("*2\r\n:1\r\n$5\r\nhe");
  EXPECT_TRUE(drain(p).empty());
  p.reset();
  EXPECT_EQ(p.buffered(), 0u);
  p.feed("+OK\r\n");
  EXPECT_EQ(drain(p), std::vector<resp_value>{V::simple("OK")});
}

TEST(RespParser, RejectsMalformedInput) {
  EXPECT_TRUE(rejects("?what\r\n"));                 // unknown type byte
  EXPECT_TRUE(rejects("+OK\n"));                     // LF without CR
  EXPECT_TRUE(rejects("\r\n"));                      // no type byte
  EXPECT_TRUE(rejects("+O\rK\r\n"));                 // CR inside a line
  EXPECT_TRUE(rejects(":\r\n"));                     // empty integer
  EXPECT_TRUE(rejects(":12a\r\n"));                  // not a number
  EXPECT_TRUE(rejects(":+5\r\n"));                   // sign other than '-'
  EXPECT_TRUE(rejects(": 5\r\n"));                   // space
  EXPECT_TRUE(rejects(":9223372036854775808\r\n"));  // overflow
  EXPECT_TRUE(rejects("$-2\r\n"));                   // negative length other than -1
  EXPECT_TRUE(rejects("$x\r\n"));
  EXPECT_TRUE(rejects("$3\r\nabcXY"));  // bulk not followed by CRLF
  EXPECT_TRUE(rejects("$3\r\nabc\n\r"));
  EXPECT_TRUE(rejects("*-2\r\n"));
  EXPECT_TRUE(rejects("*1\r\n!\r\n"));         // bad element inside an array
  EXPECT_TRUE(rejects("+OK\r\n:1\r\n%\r\n"));  // good values first, then garbage
}

TEST(RespParser, IncompleteInputIsNotAnError) {
  for (std::string_view partial : {"+OK", "+OK\r", "$5\r\nhel", "*2\r\n:1\r\n", "$", ":12", "*3\r\n*1\r\n"}) {
    resp_parser p;
    p.feed(partial);
    auto r = p.next();
    ASSERT_TRUE(r.has_value()) << partial;
    EXPECT_FALSE(r->has_value()) << partial;
  }
}

TEST(RespParser, EnforcesLimits) {
  resp_limits small;
  small.max_bulk_length = 10;
  small.max_array_length = 3;
  small.max_depth = 2;
  small.max_line_length = 8;

  EXPECT_FALSE(rejects("$10\r\n0123456789\r\n", small));
  EXPECT_TRUE(rejects("$11\r\n", small));       // rejected from the header, before the bytes come
  EXPECT_TRUE(rejects("$99999999999999\r\n"));  // default limit
  EXPECT_FALSE(rejects("*3\r\n:1\r\n:2\r\n:3\r\n", small));
  EXPECT_TRUE(rejects("*4\r\n", small));
  EXPECT_TRUE(rejects("*9223372036854775807\r\n"));
  EXPECT_FALSE(rejects("*1\r\n*1\r\n:1\r\n", small));
  EXPECT_TRUE(rejects("*1\r\n*1\r\n*1\r\n:1\r\n", small));  // depth 3
  EXPECT_FALSE(rejects("*1\r\n*0\r\n", small));
  EXPECT_TRUE(rejects("*1\r\n*1\r\n*0\r\n", small));  // an empty array at depth 3 (found by fuzzing)
  EXPECT_FALSE(rejects("*1\r\n*1\r\n*-1\r\n", small));  // a null array is a null, not an array
  EXPECT_FALSE(rejects("+12345678\r\n", small));
  EXPECT_TRUE(rejects("+123456789\r\n", small));
  // A line that never ends is rejected once it is too long, without waiting for CRLF.
  EXPECT_TRUE(rejects("+1234567890", small));
  EXPECT_FALSE(rejects("+12345678", small));  // could still end in time
}

TEST(RespParser, DeepNestingWithinLimitIsFine) {
  std::string bytes;
  for (int i = 0; i < 16; ++i)
    bytes += "*1\r\n";
  bytes += ":1\r\n";
  auto v = parse_one(bytes);
  int depth = 0;
  const resp_value* at = &v;
  while (at->is_array()) {
    ++depth;
    at = &at->elements.at(0);
  }
  EXPECT_EQ(depth, 16);
  EXPECT_EQ(*at, V::number(1));
  EXPECT_TRUE(rejects("*1\r\n" + bytes));  // 17 levels
}

TEST(RespEncoder, Commands) {
  std::string out;
  append_command(out, {"SET", "key", "value"});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");

  out.clear();
  const std::vector<std::string> args{"PUBLISH", "", "a\r\nb\0"s};
  append_command(out, args);
  EXPECT_EQ(out, "*3\r\n$7\r\nPUBLISH\r\n$0\r\n\r\n$5\r\na\r\nb\0\r\n"s);

  out.clear();
  const std::vector<std::string_view> views{"PING"};
  append_command(out, views);
  append_command(out, {"GET", "k"});  // appends
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

TEST(RespEncoder, RoundTripsThroughTheParser) {
  const std::vector<std::string> args{"PUBLISH", "user.42", std::string(100000, 'p'), ""};
  std::string out;
  append_command(out, args);
  EXPECT_EQ(parse_one(out), V::array({V::bulk(args[0]), V::bulk(args[1]), V::bulk(args[2]), V::bulk(args[3])}));
}

TEST(RespValue, PrintsReadably) {
  EXPECT_EQ(to_string(V::array({V::bulk("a"), V::number(2), V::null(), V::error("E"), V::simple("s")})),
            "[bulk \"a\", integer 2, null, error \"E\", simple \"s\"]");
}

}  // namespace
}  // namespace chat::broker
