// Typed, non-throwing reads of fields in server frames (a missing or mistyped field is "absent").
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace chat::client {

inline std::optional<std::int64_t> int_field(const boost::json::object& f, std::string_view key) {
  const auto* v = f.if_contains(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (v->is_int64()) {
    return v->get_int64();
  }
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

// The string, or `fallback` when absent or not a string.
inline std::string_view string_field(const boost::json::object& f, std::string_view key,
                                     std::string_view fallback = {}) {
  const auto* v = f.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : fallback;
}

inline bool bool_field(const boost::json::object& f, std::string_view key) {
  const auto* v = f.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// The errno of an ack or error frame; a frame without one counts as success.
inline int errno_of(const boost::json::object& f) {
  return static_cast<int>(int_field(f, "errno").value_or(0));
}

}  // namespace chat::client
