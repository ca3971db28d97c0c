// Request envelope parsing and typed field checks.
#include <chat/protocol/fields.hpp>
#include <chat/protocol/message.hpp>

#include <boost/json/parse.hpp>

#include <limits>

namespace chat::protocol {

namespace {

// An integer JSON value that fits int64 (a uint64 above INT64_MAX does not).
std::optional<std::int64_t> as_int64(const boost::json::value& v) noexcept {
  if (v.is_int64()) {
    return v.get_int64();
  }
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  return std::nullopt;
}

std::string quoted(std::string_view key) { return "'" + std::string(key) + "'"; }

}  // namespace

envelope parse_envelope(std::string_view frame_body) {
  envelope env;
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(frame_body, ec);  // rejects invalid UTF-8, depth > 32
  if (ec || !parsed.is_object()) {
    env.error = "frame is not a JSON object";
    return env;
  }
  env.body = std::move(parsed.get_object());

  // Read first: even a request without a usable msgid gets its cid echoed.
  if (const auto* cid = env.body.if_contains("cid")) {
    if ((cid->is_string() && cid->get_string().size() <= max_cid_bytes) || cid->is_int64() || cid->is_uint64()) {
      env.cid = *cid;
    } else {
      env.cid_invalid = true;
    }
  }

  const auto* id = env.body.if_contains("msgid");
  if (id == nullptr || !(env.msgid = as_int64(*id))) {
    env.error = "'msgid' missing or not an integer";
    return env;
  }

  if (!is_client_request(*env.msgid)) {
    env.error = "unknown msgid " + std::to_string(*env.msgid);
  }
  return env;
}

bool has_control_character(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      return true;
    }
    // U+0080-U+009F are encoded as C2 80 .. C2 9F.
    if (c == 0xC2 && i + 1 < s.size()) {
      const auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9F) {
        return true;
      }
    }
  }
  return false;
}

void field_reader::fail(std::string message) {
  if (error_.empty()) {
    error_ = std::move(message);
  }
}

std::int64_t field_reader::id(std::string_view key) {
  const auto* v = obj_.if_contains(key);
  if (v == nullptr) {
    fail(quoted(key) + " is missing");
    return 0;
  }
  const auto n = as_int64(*v);
  if (!n || *n <= 0) {
    fail(quoted(key) + " must be a positive integer");
    return 0;
  }
  return *n;
}

std::string_view field_reader::text(std::string_view key, const text_rule& rule) {
  if (!obj_.contains(key)) {
    fail(quoted(key) + " is missing");
    return {};
  }
  return optional_text(key, rule);
}

std::string_view field_reader::optional_text(std::string_view key, const text_rule& rule, std::string_view fallback) {
  const auto* v = obj_.if_contains(key);
  if (v == nullptr) {
    return fallback;
  }
  if (!v->is_string()) {
    fail(quoted(key) + " must be a string");
    return {};
  }
  const std::string_view s = v->get_string();
  if (s.size() < rule.min_bytes || s.size() > rule.max_bytes) {
    fail(quoted(key) + " must be " + std::to_string(rule.min_bytes) + "-" + std::to_string(rule.max_bytes) +
         " bytes");
    return {};
  }
  if (rule.forbid_control && has_control_character(s)) {
    fail(quoted(key) + " must not contain control characters");
    return {};
  }
  return s;
}

}  // namespace chat::protocol
