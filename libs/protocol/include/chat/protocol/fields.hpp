// Request parsing and typed field checks: JSON text -> envelope (msgid, cid) -> typed fields.
// Every failure here is errno 8 (BAD_REQUEST) with a message naming the field.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::protocol {

inline constexpr std::size_t max_cid_bytes = 64;

// What every request carries, checked in PROTOCOL.md's order.
struct envelope {
  boost::json::object body;
  std::optional<std::int64_t> msgid;  // set when the frame carried an integer msgid
  boost::json::value cid;             // null when absent or invalid
  std::string error;                  // non-empty: errno 8 with this message
  bool cid_invalid = false;           // reported at the field-check step, after the login check
};

// Parses one frame body. Sets `error` for: not a JSON object (invalid UTF-8 included),
// no integer msgid, or a msgid that is not a client -> server type.
envelope parse_envelope(std::string_view frame_body);

struct text_rule {
  std::size_t min_bytes = 1;
  std::size_t max_bytes = 50;
  bool forbid_control = false;  // U+0000-U+001F, U+007F, U+0080-U+009F
};

// True when `s` holds a control character that text_rule::forbid_control rejects.
// `s` must be valid UTF-8 (Boost.JSON guarantees it for parsed strings).
bool has_control_character(std::string_view s) noexcept;

// Reads typed fields from a request, remembering the first failure so handlers can read
// all fields and check once:
//   field_reader f{req}; auto to = f.id("to"); auto msg = f.text("msg", rule);
//   if (!f.ok()) return bad_request(f.error());
class field_reader {
 public:
  explicit field_reader(const boost::json::object& obj) noexcept : obj_(obj) {}

  // A required positive integer id (not a string, not 15.0, not <= 0).
  std::int64_t id(std::string_view key);
  // A required string within the rule.
  std::string_view text(std::string_view key, const text_rule& rule);
  // An optional string within the rule; `fallback` when absent.
  std::string_view optional_text(std::string_view key, const text_rule& rule, std::string_view fallback = {});

  bool contains(std::string_view key) const noexcept { return obj_.contains(key); }

  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }

  // Records a failure (only the first one is kept).
  void fail(std::string message);

 private:
  const boost::json::object& obj_;
  std::string error_;
};

}  // namespace chat::protocol
