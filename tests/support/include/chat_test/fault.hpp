// Fault injection and process measurement for the fault, churn and soak tests: a chat_server
// that can be SIGKILLed, frozen (SIGSTOP) and restarted in place, a private nginx, and the
// /proc figures (RSS, open fds) of a process we started.
#pragma once

#include <chat_test/client.hpp>
#include <chat_test/process.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace chat_test {

// VmRSS of `pid` in KiB (/proc/PID/status), or nullopt when it is gone.
std::optional<long> rss_kib(pid_t pid);
// Entries of /proc/PID/fd, or nullopt when it is gone.
std::optional<int> fd_count(pid_t pid);
// Of those, TCP connections accepted on local `port` (/proc/net/tcp, IPv4): the clients. A
// node's own fds are fd_count - client_connections, whatever the balancer sent it.
std::optional<int> client_connections(pid_t pid, int port);
// TCP connections of `pid` to remote `port` (IPv4), e.g. its database pool's.
std::optional<int> connections_to(pid_t pid, int port);

// CHAT_NGINX_SCRIPT: tests/fixtures/nginx.sh.
std::string nginx_script();

// A chat_server (tests/fixtures/chat_server.sh) that a test may kill, freeze and start again on
// the same directory, port and configuration. Signals go to the PID the script recorded for
// this instance only. Stopped (SIGTERM, then SIGKILL by the script) by the destructor.
class node_process {
 public:
  node_process(std::filesystem::path dir, int port, int db_port, std::string extra_toml);
  ~node_process();
  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  void start();  // starts again after kill(); throws test_error on failure
  // SIGKILL; waits until the wrapper has recorded the exit (the port is free then).
  void kill();
  void freeze();  // SIGSTOP
  void thaw();    // SIGCONT
  // Graceful stop; the result of chat_server.sh stop (status 0 = exited 0 in time).
  command_result stop();

  // The PID of the current process (stays valid after it died, until start()).
  pid_t pid() const noexcept { return pid_; }
  int port() const noexcept { return port_; }
  bool running() const;  // started, not killed, and the process is alive (not a zombie)
  std::string log_tail(std::size_t lines = 30) const;

 private:
  std::filesystem::path dir_;
  int port_;
  int db_port_;
  std::string extra_toml_;
  std::optional<server_instance> server_;
  pid_t pid_ = -1;
  bool frozen_ = false;
};

// A private stream-only nginx (tests/fixtures/nginx.sh) on `port`, round robin over two
// backends; stopped by the destructor.
class nginx_instance {
 public:
  nginx_instance(std::filesystem::path dir, int port, int backend1, int backend2);
  ~nginx_instance();
  nginx_instance(const nginx_instance&) = delete;
  nginx_instance& operator=(const nginx_instance&) = delete;

  pid_t pid() const;  // the master process
  int port() const noexcept { return port_; }

 private:
  std::filesystem::path dir_;
  int port_;
};

}  // namespace chat_test
