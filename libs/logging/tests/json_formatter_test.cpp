// json_formatter: one parseable object per line with the four fields, and escaping that keeps
// any message valid JSON.
#include <chat/logging/json_formatter.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <chrono>
#include <string>

namespace {

namespace json = boost::json;
using namespace std::chrono;
using namespace std::string_view_literals;

std::string format(std::string_view logger, spdlog::level::level_enum level, std::string_view text,
                   spdlog::log_clock::time_point time) {
  chat::logging::json_formatter f;
  spdlog::details::log_msg msg(time, spdlog::source_loc{}, spdlog::string_view_t(logger.data(), logger.size()),
                               level, spdlog::string_view_t(text.data(), text.size()));
  spdlog::memory_buf_t out;
  f.format(msg, out);
  return std::string(out.data(), out.size());
}

std::string format(std::string_view text) {
  return format("net", spdlog::level::info, text, spdlog::log_clock::now());
}

// The line parsed (it must be exactly one line); "msg" as a std::string.
std::string parsed_msg(const std::string& line) {
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  const auto v = json::parse(line);  // throws on invalid JSON, invalid UTF-8 included
  return std::string(v.as_object().at("msg").as_string());
}

TEST(JsonFormatter, OneObjectPerLineWithTheFourFields) {
  const auto time = sys_days{year{2026} / 11 / 23} + hours{17} + minutes{33} + seconds{23} + milliseconds{735};
  const auto line = format("net", spdlog::level::info, "connection open peer=127.0.0.1:5000",
                           time_point_cast<spdlog::log_clock::duration>(time));
  EXPECT_EQ(line, R"({"time":"2026-11-23T17:33:23.735Z","level":"info","logger":"net",)"
                  R"("msg":"connection open peer=127.0.0.1:5000"})"
                  "\n");
  const auto obj = json::parse(line).as_object();
  EXPECT_EQ(obj.size(), 4u);
  EXPECT_EQ(obj.at("logger").as_string(), "net");
}

TEST(JsonFormatter, LevelNamesAreThoseOfTheConfig) {
  const auto t = spdlog::log_clock::now();
  for (auto [level, name] : {std::pair{spdlog::level::trace, "trace"}, std::pair{spdlog::level::debug, "debug"},
                             std::pair{spdlog::level::warn, "warn"}, std::pair{spdlog::level::err, "error"},
                             std::pair{spdlog::level::critical, "critical"}}) {
    EXPECT_EQ(json::parse(format("db", level, "x", t)).as_object().at("level").as_string(), name);
  }
}

TEST(JsonFormatter, MillisecondsAndSecondsRollOver) {
  const auto base = sys_days{year{2026} / 12 / 31} + hours{23} + minutes{59} + seconds{59};
  chat::logging::json_formatter f;  // one formatter: its cached second must follow the clock
  std::vector<std::string> times;
  for (auto t : {base + milliseconds{5}, base + milliseconds{999}, base + milliseconds{1000}}) {
    spdlog::details::log_msg msg(time_point_cast<spdlog::log_clock::duration>(t), spdlog::source_loc{}, "main",
                                 spdlog::level::info, "x");
    spdlog::memory_buf_t out;
    f.format(msg, out);
    times.emplace_back(json::parse(std::string_view(out.data(), out.size())).as_object().at("time").as_string());
  }
  EXPECT_EQ(times[0], "2026-12-31T23:59:59.005Z");
  EXPECT_EQ(times[1], "2026-12-31T23:59:59.999Z");
  EXPECT_EQ(times[2], "2027-01-01T00:00:00.000Z");
}

TEST(JsonFormatter, EscapesQuotesBackslashesAndControlCharacters) {
  const auto text = "say \"hi\"\\ now\nline2\r\t\b\f\x01\x1f end"sv;
  const auto line = format(text);
  EXPECT_NE(line.find(R"(say \"hi\"\\ now\nline2\r\t\b\f\u0001\u001f end)"), std::string::npos) << line;
  EXPECT_EQ(parsed_msg(line), text);
}

TEST(JsonFormatter, EscapesNulBytes) {
  const auto text = "a\0b"sv;
  const auto line = format(text);
  EXPECT_NE(line.find(R"(a\u0000b)"), std::string::npos) << line;
  EXPECT_EQ(parsed_msg(line), text);
}

TEST(JsonFormatter, KeepsValidUtf8) {
  const auto text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF \x7F"sv;
  const auto line = format(text);
  EXPECT_NE(line.find(text), std::string::npos);
  EXPECT_EQ(parsed_msg(line), text);
}

TEST(JsonFormatter, TheParserOfTheseTestsRejectsInvalidUtf8) {
  // Otherwise the test below would prove nothing.
  boost::system::error_code ec;
  json::parse("{\"msg\":\"\xFF\"}", ec);
  EXPECT_TRUE(ec.failed());
}

TEST(JsonFormatter, ReplacesEveryInvalidUtf8ByteWithFffd) {
  const std::string r = "\xEF\xBF\xBD";
  const struct {
    std::string_view in;
    std::string out;
  } cases[] = {
      {"\xFF", r},                              // never valid
      {"a\x80z", "a" + r + "z"},                // lone continuation byte
      {"\xC3", r},                              // truncated at the end
      {"\xC3z", r + "z"},                       // truncated before ASCII
      {"\xE2\x82", r + r},                      // truncated three-byte sequence
      {"\xC0\xAF", r + r},                      // overlong '/'
      {"\xE0\x80\xAF", r + r + r},              // overlong three-byte
      {"\xF0\x80\x80\xAF", r + r + r + r},      // overlong four-byte
      {"\xED\xA0\x80", r + r + r},              // UTF-16 surrogate D800
      {"\xF4\x90\x80\x80", r + r + r + r},      // above U+10FFFF
      {"\xF5\x80\x80\x80", r + r + r + r},      // never valid lead byte
      {"\"\xFF\"", "\"" + r + "\""},            // next to escapes
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.in));
    const auto line = format(c.in);
    EXPECT_EQ(parsed_msg(line), c.out) << line;
  }
}

TEST(JsonFormatter, EscapesTheLoggerNameToo) {
  const auto line = format("we\"ird\n", spdlog::level::info, "x", spdlog::log_clock::now());
  EXPECT_EQ(json::parse(line).as_object().at("logger").as_string(), "we\"ird\n");
}

TEST(JsonFormatter, CloneFormatsTheSame) {
  chat::logging::json_formatter f;
  const auto copy = f.clone();
  spdlog::details::log_msg msg(spdlog::log_clock::time_point{}, spdlog::source_loc{}, "main", spdlog::level::err, "x");
  spdlog::memory_buf_t a;
  spdlog::memory_buf_t b;
  f.format(msg, a);
  copy->format(msg, b);
  EXPECT_EQ(std::string_view(a.data(), a.size()), std::string_view(b.data(), b.size()));
  EXPECT_EQ(std::string_view(a.data(), a.size()),
            R"({"time":"1970-01-01T00:00:00.000Z","level":"error","logger":"main","msg":"x"})"
            "\n");
}

}  // namespace
