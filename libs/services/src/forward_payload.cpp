// Parser of the records one node forwards to another.
#include "forward_payload.hpp"

#include <charconv>

namespace chat::services::detail {

namespace {

// Reads up to the next '\n' from `in`; false when there is none.
bool take_line(std::string_view& in, std::string_view& line) {
  const auto nl = in.find('\n');
  if (nl == std::string_view::npos) {
    return false;
  }
  line = in.substr(0, nl);
  in.remove_prefix(nl + 1);
  return true;
}

template <typename Int>
bool parse_int(std::string_view text, Int& value) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

bool parse_ids(std::string_view ids, std::vector<user_id>& out) {
  for (;;) {
    const auto comma = ids.find(',');
    user_id id = 0;
    if (!parse_int(ids.substr(0, comma), id) || id <= 0) {
      return false;
    }
    out.push_back(id);
    if (comma == std::string_view::npos) {
      return true;
    }
    ids.remove_prefix(comma + 1);
  }
}

}  // namespace

bool parse_forward_payload(std::string_view payload, std::vector<forwarded_record>& out) {
  while (!payload.empty()) {
    forwarded_record record;
    std::string_view ids;
    std::string_view length_text;
    std::size_t length = 0;
    if (!take_line(payload, ids) || !parse_ids(ids, record.recipients) || !take_line(payload, length_text) ||
        !parse_int(length_text, length) || length == 0 || length > payload.size()) {
      return false;
    }
    record.body = payload.substr(0, length);
    payload.remove_prefix(length);
    out.push_back(std::move(record));
  }
  return !out.empty();
}

}  // namespace chat::services::detail
