// log_setup: the named loggers write to stderr or a file in text or JSON; reload() reopens the
// file after a rename, applies level and format, and keeps the old file when the new one fails.
#include <chat/logging/log_setup.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using chat::config::log_section;
using chat::logging::log_setup;

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const fs::path& file, std::string_view text) {
  return read_all(file).find(text) != std::string::npos;
}

log_section section(const fs::path& file, std::string format = "text", std::string level = "info") {
  log_section cfg;
  cfg.file = file.string();
  cfg.format = std::move(format);
  cfg.level = std::move(level);
  return cfg;
}

std::shared_ptr<spdlog::logger> get(const char* name) {
  auto logger = spdlog::get(name);
  EXPECT_NE(logger, nullptr) << name;
  return logger;
}

class LogSetup : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("chat_logging_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    // Back to stderr, so that no logger of a later test writes into a removed directory.
    log_setup restore(log_section{});
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(LogSetup, RegistersTheNamedLoggersAndMainIsTheDefault) {
  log_setup logs(section(dir_ / "node.log"));
  for (const char* name : chat::logging::logger_names) {
    const auto logger = get(name);
    ASSERT_NE(logger, nullptr);
    EXPECT_EQ(logger->level(), spdlog::level::info);
  }
  EXPECT_EQ(spdlog::default_logger()->name(), "main");
  EXPECT_EQ(spdlog::get("main"), spdlog::default_logger());
}

TEST_F(LogSetup, TextLinesGoToTheFile) {
  const auto file = dir_ / "node.log";
  log_setup logs(section(file));
  get("net")->info("connection open peer={}", "127.0.0.1:4000");
  spdlog::warn("from the default");
  get("db")->debug("not at info");
  const auto lines = read_lines(file);
  ASSERT_EQ(lines.size(), 2u) << read_all(file);
  // "2026-11-23T17:33:23.735 info  [net] connection open peer=127.0.0.1:4000", no colour codes.
  EXPECT_EQ(lines[0].substr(23), " info  [net] connection open peer=127.0.0.1:4000");
  EXPECT_EQ(lines[0][10], 'T');
  EXPECT_EQ(lines[1].substr(23), " warning [main] from the default");
  EXPECT_EQ(read_all(file).find('\x1b'), std::string::npos);
}

TEST_F(LogSetup, JsonLinesGoToTheFileAndParse) {
  const auto file = dir_ / "node.log";
  log_setup logs(section(file, "json"));
  get("net")->info("connection open peer={}", "127.0.0.1:4000");
  get("chat")->error("quote \" backslash \\ newline \n bad \xFF end");
  spdlog::info("main line");
  const auto lines = read_lines(file);
  ASSERT_EQ(lines.size(), 3u) << read_all(file);
  std::vector<json::object> objs;
  for (const auto& line : lines) {
    objs.push_back(json::parse(line).as_object());
    EXPECT_EQ(objs.back().size(), 4u) << line;
    const auto time = std::string(objs.back().at("time").as_string());
    EXPECT_EQ(time.size(), 24u) << time;  // 2026-11-23T17:33:23.735Z
    EXPECT_EQ(time.back(), 'Z');
  }
  EXPECT_EQ(objs[0].at("level").as_string(), "info");
  EXPECT_EQ(objs[0].at("logger").as_string(), "net");
  EXPECT_EQ(objs[0].at("msg").as_string(), "connection open peer=127.0.0.1:4000");
  EXPECT_EQ(objs[1].at("level").as_string(), "error");
  EXPECT_EQ(objs[1].at("msg").as_string(), "quote \" backslash \\ newline \n bad \xEF\xBF\xBD end");
  EXPECT_EQ(objs[2].at("logger").as_string(), "main");
}

TEST_F(LogSetup, AppendsToAnExistingFile) {
  const auto file = dir_ / "node.log";
  std::ofstream(file) << "earlier line\n";
  {
    log_setup logs(section(file));
    spdlog::info("later line");
  }
  const auto lines = read_lines(file);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "earlier line");
  EXPECT_TRUE(lines[1].ends_with("later line"));
}

TEST_F(LogSetup, UnwritablePathThrowsNamingIt) {
  std::ofstream(dir_ / "not-a-dir") << "x";  // ENOTDIR even for root, unlike a read-only mode
  const auto file = dir_ / "not-a-dir" / "node.log";
  try {
    log_setup logs(section(file));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
}

TEST_F(LogSetup, UnknownLevelOrFormatThrows) {
  EXPECT_THROW(log_setup(section(dir_ / "a.log", "text", "verbose")), std::invalid_argument);
  EXPECT_THROW(log_setup(section(dir_ / "a.log", "xml")), std::invalid_argument);
}

TEST_F(LogSetup, ReloadAfterRenameWritesANewFileAndTheRenamedOneKeepsTheOldLines) {
  const auto file = dir_ / "node.log";
  const auto rotated = dir_ / "node.log.1";
  const auto cfg = section(file, "json");
  log_setup logs(cfg);
  const auto net = get("net");  // kept across the reload, as libraries do
  net->info("before rotation");
  fs::rename(file, rotated);
  net->info("after rename, before reload");  // still the old file: it is open
  EXPECT_EQ(logs.reload(cfg), "");
  EXPECT_TRUE(fs::exists(file));
  net->info("after reload");
  spdlog::info("default after reload");

  EXPECT_TRUE(contains(rotated, "before rotation"));
  EXPECT_TRUE(contains(rotated, "after rename, before reload"));
  EXPECT_FALSE(contains(rotated, "after reload"));
  const auto lines = read_lines(file);
  ASSERT_EQ(lines.size(), 2u) << read_all(file);
  EXPECT_EQ(json::parse(lines[0]).as_object().at("msg").as_string(), "after reload");
  EXPECT_EQ(json::parse(lines[1]).as_object().at("logger").as_string(), "main");
}

TEST_F(LogSetup, ReloadWithoutRenameAppendsToTheSameFile) {
  const auto file = dir_ / "node.log";
  log_setup logs(section(file));
  spdlog::info("one");
  EXPECT_EQ(logs.reload(section(file)), "");
  spdlog::info("two");
  EXPECT_EQ(read_lines(file).size(), 2u);
}

TEST_F(LogSetup, ReloadChangesTheLevel) {
  const auto file = dir_ / "node.log";
  log_setup logs(section(file, "json", "info"));
  const auto net = get("net");
  net->info("info at info");
  EXPECT_EQ(logs.reload(section(file, "json", "warn")), "");
  for (const char* name : chat::logging::logger_names) {
    EXPECT_EQ(get(name)->level(), spdlog::level::warn) << name;
  }
  net->info("info at warn");
  net->warn("warn at warn");
  EXPECT_EQ(logs.reload(section(file, "json", "debug")), "");
  net->debug("debug at debug");
  EXPECT_TRUE(contains(file, "info at info"));
  EXPECT_FALSE(contains(file, "info at warn"));
  EXPECT_TRUE(contains(file, "warn at warn"));
  EXPECT_TRUE(contains(file, "debug at debug"));
}

TEST_F(LogSetup, ReloadChangesFormatAndFile) {
  const auto first = dir_ / "first.log";
  const auto second = dir_ / "second.log";
  log_setup logs(section(first, "text"));
  spdlog::info("text line");
  EXPECT_EQ(logs.reload(section(second, "json")), "");
  spdlog::info("json line");
  EXPECT_FALSE(contains(first, "json line"));
  const auto lines = read_lines(second);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(json::parse(lines[0]).as_object().at("msg").as_string(), "json line");
}

TEST_F(LogSetup, ReloadToAnUnwritablePathKeepsTheOldFileAndSaysWhy) {
  const auto file = dir_ / "node.log";
  std::ofstream(dir_ / "not-a-dir") << "x";
  const auto bad = dir_ / "not-a-dir" / "node.log";
  log_setup logs(section(file, "text", "info"));
  const auto warning = logs.reload(section(bad, "json", "warn"));
  EXPECT_NE(warning.find(bad.string()), std::string::npos) << warning;
  EXPECT_NE(warning.find("still logging to " + file.string()), std::string::npos) << warning;
  spdlog::info("info after a failed reload");
  spdlog::warn("warn after a failed reload");
  // The level was applied; the file and the format were kept.
  EXPECT_FALSE(contains(file, "info after a failed reload"));
  const auto lines = read_lines(file);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].ends_with("[main] warn after a failed reload")) << lines[0];
}

TEST_F(LogSetup, ReloadWithUnknownLevelOrFormatKeepsThemAndSaysWhy) {
  const auto file = dir_ / "node.log";
  log_setup logs(section(file, "json", "warn"));
  const auto warning = logs.reload(section(file, "xml", "loud"));
  EXPECT_NE(warning.find("'loud', kept 'warn'"), std::string::npos) << warning;
  EXPECT_NE(warning.find("'xml', kept 'json'"), std::string::npos) << warning;
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::warn);
  spdlog::warn("still json");
  const auto lines = read_lines(file);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(json::parse(lines[0]).as_object().at("msg").as_string(), "still json");
}

TEST_F(LogSetup, StderrTextWithoutColoursWhenNotATerminal) {
  log_setup logs(log_section{});
  ::testing::internal::CaptureStderr();
  get("redis")->info("to stderr");
  const auto out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find(" info  [redis] to stderr\n"), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
}

TEST_F(LogSetup, ReloadFromAFileToStderr) {
  const auto file = dir_ / "node.log";
  log_setup logs(section(file, "json"));
  EXPECT_EQ(logs.reload(log_section{}), "");
  ::testing::internal::CaptureStderr();
  spdlog::info("now on stderr");
  const auto out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("[main] now on stderr"), std::string::npos) << out;
  EXPECT_FALSE(contains(file, "now on stderr"));
}

TEST_F(LogSetup, MovedSetupStillReloads) {
  const auto file = dir_ / "node.log";
  log_setup first(section(file));
  log_setup logs(std::move(first));
  EXPECT_EQ(logs.reload(section(file, "text", "error")), "");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::err);
}

// Loggers on other threads while the file is renamed and reloaded: every line whole, in one
// of the files, none lost.
TEST_F(LogSetup, ReloadWhileOtherThreadsLog) {
  const auto file = dir_ / "node.log";
  const auto cfg = section(file, "json");
  log_setup logs(cfg);
  constexpr int threads = 4;
  constexpr int per_thread = 2000;
  constexpr int rotations = 20;
  std::atomic<int> started{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([t, &started] {
      const auto logger = spdlog::get(chat::logging::logger_names[t]);
      started.fetch_add(1);
      for (int i = 0; i < per_thread; ++i) {
        logger->info("thread {} line {} {}", t, i, std::string(static_cast<std::size_t>(i % 50), 'x'));
      }
    });
  }
  while (started.load() < threads) {
    std::this_thread::yield();
  }
  for (int r = 0; r < rotations; ++r) {
    fs::rename(file, dir_ / ("node.log." + std::to_string(r)));
    EXPECT_EQ(logs.reload(cfg), "");
  }
  for (auto& w : writers) {
    w.join();
  }
  std::size_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    for (const auto& line : read_lines(entry.path())) {
      EXPECT_NO_THROW(json::parse(line)) << entry.path() << ": " << line;
      ++total;
    }
  }
  EXPECT_EQ(total, static_cast<std::size_t>(threads * per_thread));
}

}  // namespace
