// JSON lines for log shippers: an spdlog formatter writing one object per line,
// {"time":"2026-11-23T17:33:23.735Z","level":"info","logger":"net","msg":"..."}.
#pragma once

#include <spdlog/formatter.h>

#include <cstdint>
#include <string_view>

namespace chat::logging {

// Appends `text` as a JSON string, quotes included: `"` and `\` escaped, control characters as
// \n, \t... or \u00XX, valid UTF-8 copied, every byte that is not part of a valid UTF-8 sequence
// (overlong forms, surrogates and code points above U+10FFFF included) replaced by U+FFFD, so
// that any message gives valid JSON.
void append_json_string(std::string_view text, spdlog::memory_buf_t& out);

// "time": UTC, ISO 8601 with milliseconds; "level": trace, debug, info, warn, error, critical
// (the names of [log] level); "logger": the logger's name; "msg": the formatted message.
// Not thread-safe (it caches the last second's text): spdlog sinks call it under their lock,
// and clone() gives each sink its own.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::int64_t cached_second_ = INT64_MIN;
  char cached_text_[20] = {};  // "YYYY-MM-DDTHH:MM:SS" of cached_second_
};

}  // namespace chat::logging
