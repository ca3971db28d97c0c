// Fault injection on processes the test started (by their recorded PID only) and /proc figures.
#include <chat_test/env.hpp>
#include <chat_test/fault.hpp>

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#ifndef CHAT_TEST_BUILD_NGINX_SCRIPT
#define CHAT_TEST_BUILD_NGINX_SCRIPT "tests/fixtures/nginx.sh"
#endif

namespace chat_test {

std::optional<long> rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long v = 0;
      if (in >> v) {
        return v;
      }
      return std::nullopt;
    }
    in.ignore(4096, '\n');
  }
  return std::nullopt;
}

namespace {

// The targets of /proc/PID/fd's entries, or nullopt when the process is gone.
std::optional<std::vector<std::filesystem::path>> fd_targets(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) {
    return std::nullopt;
  }
  std::vector<std::filesystem::path> targets;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) {
      return std::nullopt;
    }
    std::error_code link_ec;
    targets.push_back(std::filesystem::read_symlink(it->path(), link_ec));  // empty if it just closed
  }
  return targets;
}

}  // namespace

std::optional<int> fd_count(pid_t pid) {
  const auto targets = fd_targets(pid);
  return targets ? std::optional<int>(static_cast<int>(targets->size())) : std::nullopt;
}

namespace {

// Open fds of `pid` that are IPv4 TCP sockets (not listening) whose local (or, with
// `remote`, peer) address ends with `port`.
std::optional<int> connections_on(pid_t pid, int port, bool remote) {
  std::set<std::string> inodes;
  std::ifstream tcp("/proc/" + std::to_string(pid) + "/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  char port_suffix[8];
  std::snprintf(port_suffix, sizeof port_suffix, ":%04X", static_cast<unsigned>(port));
  while (std::getline(tcp, line)) {
    std::istringstream in(line);
    std::string sl, local, peer, st, queues, timer, retr, uid, timeout, inode;
    if (!(in >> sl >> local >> peer >> st >> queues >> timer >> retr >> uid >> timeout >> inode)) {
      continue;
    }
    if ((remote ? peer : local).ends_with(port_suffix) && st != "0A") {
      inodes.insert("socket:[" + inode + "]");
    }
  }
  const auto targets = fd_targets(pid);
  if (!targets) {
    return std::nullopt;
  }
  int n = 0;
  for (const auto& t : *targets) {
    n += inodes.contains(t.string()) ? 1 : 0;
  }
  return n;
}

}  // namespace

std::optional<int> client_connections(pid_t pid, int port) { return connections_on(pid, port, false); }

std::optional<int> connections_to(pid_t pid, int port) { return connections_on(pid, port, true); }

std::string nginx_script() {
  return env_string("CHAT_NGINX_SCRIPT", CHAT_TEST_BUILD_NGINX_SCRIPT);
}

// --- node_process ---

node_process::node_process(std::filesystem::path dir, int port, int db_port, std::string extra_toml)
    : dir_(std::move(dir)), port_(port), db_port_(db_port), extra_toml_(std::move(extra_toml)) {
  start();
}

node_process::~node_process() {
  if (frozen_) {
    thaw();  // a stopped process ignores SIGTERM until it runs again
  }
}

void node_process::start() {
  server_.reset();  // a killed one: its stop() only reports the recorded exit
  server_.emplace(dir_, port_, db_port_, extra_toml_);
  pid_ = server_->pid();
  frozen_ = false;
}

void node_process::kill() {
  if (pid_ <= 0 || !server_) {
    throw test_error("node on port " + std::to_string(port_) + " is not running");
  }
  if (frozen_) {
    ::kill(pid_, SIGCONT);
    frozen_ = false;
  }
  ::kill(pid_, SIGKILL);
  if (!server_->wait_exit(10s)) {
    throw test_error("node on port " + std::to_string(port_) + " (pid " + std::to_string(pid_) +
                     ") still running 10 s after SIGKILL");
  }
}

void node_process::freeze() {
  ::kill(pid_, SIGSTOP);
  frozen_ = true;
}

void node_process::thaw() {
  ::kill(pid_, SIGCONT);
  frozen_ = false;
}

command_result node_process::stop() {
  if (frozen_) {
    thaw();
  }
  if (!server_) {
    return {0, ""};
  }
  auto r = server_->stop();
  server_.reset();
  return r;
}

bool node_process::running() const {
  return server_ && server_->running();
}

std::string node_process::log_tail(std::size_t lines) const {
  return server_ ? server_->log_tail(lines) : std::string("(not started)");
}

// --- nginx_instance ---

nginx_instance::nginx_instance(std::filesystem::path dir, int port, int backend1, int backend2)
    : dir_(std::move(dir)), port_(port) {
  run_command({nginx_script(), "stop", dir_.string()});  // leftovers of an interrupted run
  std::filesystem::create_directories(dir_);
  auto r = run_command(
      {nginx_script(), "start", dir_.string(), std::to_string(port), std::to_string(backend1), std::to_string(backend2)});
  if (r.status != 0) {
    throw test_error("nginx.sh start failed (status " + std::to_string(r.status) + ")\n" + r.output);
  }
}

nginx_instance::~nginx_instance() {
  run_command({nginx_script(), "stop", dir_.string()});
}

pid_t nginx_instance::pid() const {
  return static_cast<pid_t>(read_number(dir_ / "master.pid").value_or(-1));
}

}  // namespace chat_test
