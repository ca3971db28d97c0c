// libFuzzer target: broker::resp_parser fed the input's bytes in pieces whose sizes (and the
// parser's limits) come from the input. Every value must respect the limits, the result must
// not depend on how the bytes were split, and each value must survive re-encoding.
#include <chat/broker/resp.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using chat::broker::resp_limits;
using chat::broker::resp_parser;
using chat::broker::resp_type;
using chat::broker::resp_value;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "resp_parser_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

// `depth` is the nesting of `v`: 1 for a top-level array.
bool within_limits(const resp_value& v, const resp_limits& limits, std::size_t depth) {
  switch (v.type) {
    case resp_type::simple_string:
    case resp_type::error:
      return v.string.size() <= limits.max_line_length && v.string.find_first_of("\r\n") == std::string::npos;
    case resp_type::bulk_string:
      return v.string.size() <= limits.max_bulk_length;
    case resp_type::array:
      if (depth > limits.max_depth || v.elements.size() > limits.max_array_length) {
        return false;
      }
      for (const auto& e : v.elements) {
        if (!within_limits(e, limits, depth + 1)) {
          return false;
        }
      }
      return true;
    default:
      return v.string.empty() && v.elements.empty();
  }
}

// RESP2 with the shortest headers; null comes back as the null bulk string.
void encode(std::string& out, const resp_value& v) {
  switch (v.type) {
    case resp_type::null:
      out += "$-1\r\n";
      return;
    case resp_type::simple_string:
      out += '+' + v.string + "\r\n";
      return;
    case resp_type::error:
      out += '-' + v.string + "\r\n";
      return;
    case resp_type::integer:
      out += ':' + std::to_string(v.integer) + "\r\n";
      return;
    case resp_type::bulk_string:
      out += '$' + std::to_string(v.string.size()) + "\r\n" + v.string + "\r\n";
      return;
    case resp_type::array:
      out += '*' + std::to_string(v.elements.size()) + "\r\n";
      for (const auto& e : v.elements) {
        encode(out, e);
      }
      return;
  }
}

struct outcome {
  std::vector<resp_value> values;
  bool failed = false;
};

// Takes every complete value; after a failure the parser must keep failing.
void drain(resp_parser& parser, outcome& out, const resp_limits& limits) {
  if (out.failed) {
    check(!parser.next(), "a value after a protocol error");
    return;
  }
  for (;;) {
    auto r = parser.next();
    if (!r) {
      out.failed = true;
      check(!parser.next(), "the parser recovered from a protocol error without reset()");
      return;
    }
    if (!*r) {
      return;
    }
    check(within_limits(**r, limits, 1), "a value beyond the parser's limits");
    out.values.push_back(std::move(**r));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  resp_limits limits;
  if (in.ConsumeBool()) {
    // Tight limits, so that the fuzzer reaches both sides of each.
    limits.max_bulk_length = in.ConsumeIntegralInRange<std::size_t>(0, 64);
    limits.max_array_length = in.ConsumeIntegralInRange<std::size_t>(0, 16);
    limits.max_depth = in.ConsumeIntegralInRange<std::size_t>(0, 4);
    limits.max_line_length = in.ConsumeIntegralInRange<std::size_t>(0, 64);
  }

  resp_parser parser(limits);
  std::string stream;
  outcome pieces;
  while (in.remaining_bytes() > 0) {
    const auto piece_size = in.ConsumeIntegralInRange<std::size_t>(0, 512);
    const std::string piece = in.ConsumeBytesAsString(piece_size);
    if (in.ConsumeBool()) {
      parser.feed(piece);
    } else {
      auto space = parser.prepare(piece.size() + 1);
      check(space.size() >= piece.size() + 1, "prepare() gave less room than asked");
      if (!piece.empty()) {
        std::memcpy(space.data(), piece.data(), piece.size());
      }
      parser.commit(piece.size());
    }
    stream += piece;
    drain(parser, pieces, limits);
  }

  // The same bytes in one piece give the same values.
  resp_parser whole(limits);
  whole.feed(stream);
  outcome at_once;
  drain(whole, at_once, limits);
  check(at_once.failed == pieces.failed, "a failure depends on how the bytes were split");
  check(at_once.values == pieces.values, "the values depend on how the bytes were split");

  // Each value, encoded again, parses back to itself within the same limits.
  for (const auto& v : pieces.values) {
    std::string encoded;
    encode(encoded, v);
    resp_parser again(limits);
    again.feed(encoded);
    auto r = again.next();
    check(r && *r && **r == v, "a value does not survive re-encoding");
    check(again.buffered() == 0, "re-encoding left bytes over");
  }

  // reset() makes a failed parser usable again (an empty simple string fits any limits).
  if (pieces.failed) {
    parser.reset();
    parser.feed("+\r\n");
    auto r = parser.next();
    check(r && *r && **r == resp_value::simple(""), "reset() did not recover the parser");
  }
  return 0;
}
