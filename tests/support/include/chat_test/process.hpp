// Tests that start their own MariaDB or chat_server: the fixture scripts run as commands, and
// RAII handles that always stop what they started.
#pragma once

#include <chat_test/client.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace chat_test {

struct command_result {
  int status = -1;     // exit status, or -1 if it did not exit normally / timed out
  std::string output;  // stdout and stderr together
};

// Runs argv (PATH lookup) with stdin </dev/null and its output captured in a file (so no
// daemon it starts holds a pipe of ours); waits at most `timeout`, then kills it.
command_result run_command(const std::vector<std::string>& argv, millis timeout = 120s);

// True while `pid` exists and is not a zombie.
bool process_alive(pid_t pid);

// First integer in a file, or nullopt.
std::optional<long long> read_number(const std::filesystem::path& file);

// A private MariaDB started with deploy/local/mariadb.sh; stopped by the destructor.
class mariadb_instance {
 public:
  // Starts on a fresh datadir (any earlier one in `dir` is removed).
  mariadb_instance(std::filesystem::path dir, int port);
  ~mariadb_instance();
  mariadb_instance(const mariadb_instance&) = delete;
  mariadb_instance& operator=(const mariadb_instance&) = delete;

  void start();  // (re)start on the existing datadir; throws test_error on failure
  void kill();   // SIGKILL
  void stop();   // SIGTERM
  int port() const noexcept { return port_; }

 private:
  std::filesystem::path dir_;
  int port_;
};

// A chat_server started with tests/fixtures/chat_server.sh; stopped by the destructor.
class server_instance {
 public:
  // Writes `extra_toml` (TOML sections merged over the defaults) and starts the server.
  server_instance(std::filesystem::path dir, int port, int db_port, const std::string& extra_toml = "");
  ~server_instance();
  server_instance(const server_instance&) = delete;
  server_instance& operator=(const server_instance&) = delete;

  pid_t pid() const;
  int port() const noexcept { return port_; }
  // True while the process has not exited.
  bool running() const;
  // Exit status once it has exited within `timeout`, else nullopt.
  std::optional<int> wait_exit(millis timeout) const;
  // chat_server.sh stop: returns its result (status 0 = exited 0 in time).
  command_result stop();
  std::string log_tail(std::size_t lines = 30) const;

 private:
  std::filesystem::path dir_;
  int port_;
  bool stopped_ = false;
};

}  // namespace chat_test
