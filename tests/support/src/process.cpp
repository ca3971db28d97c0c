// Running the fixture scripts from inside a test, and RAII handles for what they start.
#include <chat_test/env.hpp>
#include <chat_test/process.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace chat_test {

namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    out += (out.empty() ? "" : " ") + a;
  }
  return out;
}

void require_ok(const std::vector<std::string>& argv, millis timeout = 120s) {
  auto r = run_command(argv, timeout);
  if (r.status != 0) {
    throw test_error("command failed (status " + std::to_string(r.status) + "): " + joined(argv) + "\n" + r.output);
  }
}

}  // namespace

command_result run_command(const std::vector<std::string>& argv, millis timeout) {
  static int seq = 0;
  const auto out_file = std::filesystem::temp_directory_path() /
                        ("chat-test-cmd-" + std::to_string(::getpid()) + "-" + std::to_string(seq++) + ".log");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);

  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);

  command_result r;
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    r.output = "posix_spawnp " + argv[0] + ": " + std::strerror(rc);
    return r;
  }
  const auto deadline = steady::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      break;
    }
    if (w < 0 && errno != EINTR) {
      break;
    }
    if (steady::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.output = read_all(out_file) + "\n(killed after " + std::to_string(timeout.count()) + " ms)";
      std::filesystem::remove(out_file);
      return r;
    }
    std::this_thread::sleep_for(5ms);
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = read_all(out_file);
  std::error_code ec;
  std::filesystem::remove(out_file, ec);
  return r;
}

bool process_alive(pid_t pid) {
  if (pid <= 0) {
    return false;
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) {
    return false;
  }
  const auto paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) {
    return false;
  }
  const char state = line[paren + 2];
  return state != 'Z' && state != 'X';
}

std::optional<long long> read_number(const std::filesystem::path& file) {
  std::ifstream in(file);
  long long v = 0;
  if (in >> v) {
    return v;
  }
  return std::nullopt;
}

// --- mariadb_instance ---

mariadb_instance::mariadb_instance(std::filesystem::path dir, int port) : dir_(std::move(dir)), port_(port) {
  // Share the fixture's template datadir when run by hand (ctest sets it already).
  ::setenv("MARIADB_TEMPLATE", (test_data_dir() / "mariadb-template").c_str(), 0);
  run_command({mariadb_script(), "kill", dir_.string()});  // leftovers of an interrupted run
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  std::filesystem::create_directories(dir_);
  start();
}

mariadb_instance::~mariadb_instance() {
  run_command({mariadb_script(), "kill", dir_.string()});
}

void mariadb_instance::start() {
  require_ok({mariadb_script(), "start", dir_.string(), std::to_string(port_)});
}
void mariadb_instance::kill() {
  require_ok({mariadb_script(), "kill", dir_.string()});
}
void mariadb_instance::stop() {
  require_ok({mariadb_script(), "stop", dir_.string()});
}

// --- server_instance ---

server_instance::server_instance(std::filesystem::path dir, int port, int db_port, const std::string& extra_toml)
    : dir_(std::move(dir)), port_(port) {
  ::setenv("CHAT_SERVER_BIN", server_bin().c_str(), 0);  // for the script when run by hand
  std::filesystem::create_directories(dir_);
  std::vector<std::string> argv{server_script(), "start", dir_.string(), std::to_string(port), std::to_string(db_port)};
  if (!extra_toml.empty()) {
    const auto extra = dir_ / "extra.toml";
    std::ofstream(extra) << extra_toml;
    argv.push_back(extra.string());
  }
  require_ok(argv);
}

server_instance::~server_instance() {
  if (!stopped_) {
    stop();
  }
}

pid_t server_instance::pid() const {
  return static_cast<pid_t>(read_number(dir_ / "server.pid").value_or(-1));
}

bool server_instance::running() const {
  return !std::filesystem::exists(dir_ / "server.exit") && process_alive(pid());
}

std::optional<int> server_instance::wait_exit(millis timeout) const {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (auto v = read_number(dir_ / "server.exit")) {
      return static_cast<int>(*v);
    }
    if (steady::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(5ms);  // polling a file the wrapper writes; bounded
  }
}

command_result server_instance::stop() {
  stopped_ = true;
  return run_command({server_script(), "stop", dir_.string()});
}

std::string server_instance::log_tail(std::size_t lines) const {
  std::ifstream in(dir_ / "server.log");
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) {
      tail.pop_front();
    }
  }
  std::string out;
  for (const auto& l : tail) {
    out += l + "\n";
  }
  return out;
}

}  // namespace chat_test
