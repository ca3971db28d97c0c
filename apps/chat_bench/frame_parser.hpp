// Parses frame bodies into JSON objects without allocating in the steady state: one parser
// and one monotonic arena per shard, reused for every frame.
#pragma once

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string_view>

namespace chat::bench {

// Not thread-safe: one per shard.
class frame_parser {
 public:
  frame_parser() = default;
  frame_parser(const frame_parser&) = delete;
  frame_parser& operator=(const frame_parser&) = delete;

  // The body as a JSON object, valid until the next parse(); nullptr when it is not one.
  // Copy what must live longer with a storage of its own (json::object(obj, {})).
  const boost::json::object* parse(std::string_view body);

 private:
  unsigned char arena_[16 * 1024];
  std::optional<boost::json::monotonic_resource> resource_;
  boost::json::parser parser_;
  std::optional<boost::json::value> value_;
};

}  // namespace chat::bench
