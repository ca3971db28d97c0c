// [log] file with format = "json" and SIGHUP (docs/operations.md, logrotate): a server of its own
// on the shared database writes JSON lines to its file; after the file is renamed, SIGHUP makes
// it write a new file at the same path, and a level changed in the config file takes effect.
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

namespace {

using namespace chat_test;
namespace fs = std::filesystem;

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

std::uintmax_t size_of(const fs::path& file) {
  std::error_code ec;
  const auto n = fs::file_size(file, ec);
  return ec ? 0 : n;
}

// Polls `done` every 20 ms for at most `timeout` (the server writes the file on its own threads).
bool eventually(const std::function<bool()>& done, millis timeout = 10s) {
  const auto deadline = steady::now() + timeout;
  while (!done()) {
    if (steady::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Every line one JSON object with the four string fields; returns them.
std::vector<json::object> json_lines(const fs::path& file) {
  std::vector<json::object> out;
  for (const auto& line : read_lines(file)) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    EXPECT_FALSE(ec) << file << ": not JSON: " << line;
    if (ec || !v.is_object()) {
      ADD_FAILURE() << file << ": not an object: " << line;
      continue;
    }
    auto& obj = v.as_object();
    for (const char* key : {"time", "level", "logger", "msg"}) {
      EXPECT_TRUE(obj.contains(key) && obj.at(key).is_string()) << file << ": no string " << key << ": " << line;
    }
    out.push_back(std::move(obj));
  }
  return out;
}

std::string field(const json::object& obj, const char* key) {
  const auto* v = obj.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Lines of `logger` whose message starts with `prefix`.
std::size_t count_lines(const fs::path& file, std::string_view logger, std::string_view prefix) {
  std::size_t n = 0;
  for (const auto& obj : json_lines(file)) {
    if (field(obj, "logger") == logger && field(obj, "msg").starts_with(prefix)) {
      ++n;
    }
  }
  return n;
}

bool has_line(const fs::path& file, std::string_view logger, std::string_view prefix) {
  return count_lines(file, logger, prefix) > 0;
}

// Sets `level = "..."` in the [log] section of the server's config file (written by
// tests/fixtures/chat_server.sh), atomically, as an operator's editor or deploy tool would.
void set_config_level(const fs::path& config, const std::string& level) {
  std::ostringstream out;
  std::string section;
  bool done = false;
  for (const auto& line : read_lines(config)) {
    if (line.starts_with("[")) {
      if (section == "[log]" && !done) {
        out << "level = \"" << level << "\"\n";
        done = true;
      }
      section = line;
    }
    if (section == "[log]" && line.starts_with("level")) {
      if (!done) {
        out << "level = \"" << level << "\"\n";
        done = true;
      }
      continue;
    }
    out << line << "\n";
  }
  if (!done) {
    out << (section == "[log]" ? "" : "\n[log]\n") << "level = \"" << level << "\"\n";
  }
  const auto tmp = config.string() + ".tmp";
  std::ofstream(tmp) << out.str();
  fs::rename(tmp, config);
}

// One connection that is logged at info by "net" ("connection open" before the PONG).
void traffic(int port) {
  client c(port, "traffic");
  ping_barrier(c);
}

TEST(LogReopen, SighupReopensTheRenamedFileAndAppliesTheLevel) {
  const int port = port_base() + 12;
  const fs::path dir = test_data_dir() / "log-reopen";
  fs::create_directories(dir);
  const fs::path log = dir / "node.log";
  const fs::path rotated = dir / "node.log.1";
  const fs::path rotated2 = dir / "node.log.2";
  for (const auto& f : {log, rotated, rotated2}) {
    fs::remove(f);
  }
  server_instance server(dir, port, db_port(),
                         "[log]\nlevel = \"info\"\nformat = \"json\"\nfile = \"" + log.string() + "\"\n");

  // JSON lines in the file from the start.
  traffic(port);
  ASSERT_TRUE(eventually([&] { return has_line(log, "net", "connection open"); }))
      << read_all(log) << "\nstderr:\n" << server.log_tail();
  const auto first = json_lines(log);
  ASSERT_FALSE(first.empty());
  for (const auto& obj : first) {
    const auto time = field(obj, "time");
    EXPECT_TRUE(time.size() == 24 && time[10] == 'T' && time.ends_with("Z")) << time;  // 2026-11-23T17:33:23.735Z
  }

  // logrotate: rename, then SIGHUP; the server opens a new file at the same path.
  fs::rename(log, rotated);
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(eventually([&] { return fs::exists(log); }))
      << "no new " << log << " after SIGHUP; server running: " << server.running() << "\n" << server.log_tail();
  ASSERT_TRUE(server.running()) << server.log_tail();
  traffic(port);
  // Once a line of ours is in the new file, nothing more goes to the old one.
  ASSERT_TRUE(eventually([&] { return has_line(log, "net", "connection open"); })) << read_all(log);
  const auto old_size = size_of(rotated);
  EXPECT_TRUE(has_line(rotated, "net", "connection open"));  // the old lines stay
  for (int i = 0; i < 3; ++i) {
    traffic(port);
  }
  EXPECT_TRUE(eventually([&] { return count_lines(log, "net", "connection closed") >= 4; })) << read_all(log);
  EXPECT_GE(count_lines(log, "net", "connection open"), 4u);
  EXPECT_EQ(size_of(rotated), old_size) << "the renamed file still grows:\n" << read_all(rotated);

  // The level read again from the config file: warn. Renaming again shows when the SIGHUP was
  // handled (the new file appears), and the level is applied by then.
  set_config_level(dir / "chat_server.toml", "warn");
  fs::rename(log, rotated2);
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(eventually([&] { return fs::exists(log); })) << server.log_tail();
  ASSERT_TRUE(server.running()) << server.log_tail();
  traffic(port);
  // A warn line to be sure the file is written at all: a second LOGIN of a user already online.
  const auto a = register_account(port, "logr");
  client first_login = connect_as(port, a);
  client second(port, "second");
  const auto reply = second.request(login_id_req(a.id, a.pwd));
  EXPECT_NE(reply.if_contains("errno"), nullptr);
  EXPECT_TRUE(eventually([&] { return has_line(log, "chat", "login failed"); })) << read_all(log);
  for (const auto& obj : json_lines(log)) {
    const auto level = field(obj, "level");
    EXPECT_TRUE(level == "warn" || level == "error" || level == "critical")
        << "a line below warn after the reload: " << json::serialize(obj);
  }
  EXPECT_FALSE(has_line(log, "net", "connection open"));

  const auto stopped = server.stop();
  EXPECT_EQ(stopped.status, 0) << stopped.output;
}

}  // namespace
