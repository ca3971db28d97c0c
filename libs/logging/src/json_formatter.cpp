// JSON lines formatter and the JSON string escaping with UTF-8 repair.
#include <chat/logging/json_formatter.hpp>

#include <spdlog/details/log_msg.h>

#include <array>
#include <chrono>
#include <ctime>

namespace chat::logging {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

void append(spdlog::memory_buf_t& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629, table 3-7 of Unicode), or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i + k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned char b = byte(0);
  if (b >= 0xC2 && b <= 0xDF) {
    return cont(1) ? 2 : 0;
  }
  if (b >= 0xE0 && b <= 0xEF) {
    const unsigned char lo = b == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    const unsigned char hi = b == 0xED ? 0x9F : 0xBF;  // no surrogates
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const unsigned char lo = b == 0xF0 ? 0x90 : 0x80;  // no overlong forms
    const unsigned char hi = b == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

void append_digits(spdlog::memory_buf_t& out, long value, int width) {
  std::array<char, 12> buf{};
  for (int k = width - 1; k >= 0; --k) {
    buf[static_cast<std::size_t>(k)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf.data(), buf.data() + width);
}

}  // namespace

void append_json_string(std::string_view text, spdlog::memory_buf_t& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t plain = 0;  // start of the run of bytes copied as they are
  const auto flush_plain = [&](std::size_t end) {
    out.append(text.data() + plain, text.data() + end);
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const auto n = utf8_sequence(text, i); n != 0) {
        i += n;
        continue;
      }
    }
    flush_plain(i);
    switch (c) {
      case '"': append(out, "\\\""); break;
      case '\\': append(out, "\\\\"); break;
      case '\n': append(out, "\\n"); break;
      case '\r': append(out, "\\r"); break;
      case '\t': append(out, "\\t"); break;
      case '\b': append(out, "\\b"); break;
      case '\f': append(out, "\\f"); break;
      default:
        if (c < 0x20) {
          const char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
          out.append(esc, esc + sizeof esc);
        } else {
          append(out, replacement);  // a byte that starts no valid UTF-8 sequence
        }
    }
    plain = ++i;
  }
  flush_plain(text.size());
  out.push_back('"');
}

void json_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  const auto since_epoch = msg.time.time_since_epoch();
  const auto secs = floor<seconds>(since_epoch);
  const auto millis = duration_cast<milliseconds>(since_epoch - secs).count();
  if (secs.count() != cached_second_) {
    const std::time_t t = static_cast<std::time_t>(secs.count());
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    if (std::strftime(cached_text_, sizeof cached_text_, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
      cached_text_[0] = '\0';  // a year of five digits: not worth a line of its own
    }
    cached_second_ = secs.count();
  }
  append(dest, R"({"time":")");
  append(dest, cached_text_);
  dest.push_back('.');
  append_digits(dest, static_cast<long>(millis), 3);
  append(dest, R"(Z","level":")");
  append(dest, level_name(msg.level));
  append(dest, R"(","logger":)");
  append_json_string({msg.logger_name.data(), msg.logger_name.size()}, dest);
  append(dest, R"(,"msg":)");
  append_json_string({msg.payload.data(), msg.payload.size()}, dest);
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> json_formatter::clone() const {
  return std::make_unique<json_formatter>();
}

}  // namespace chat::logging
