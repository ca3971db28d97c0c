// Command-line options of chat_bench (CLI11): one subcommand per scenario, each with its own
// options and defaults, and the common options that every scenario shares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chat::bench {

// Exit codes (`chat_bench --help`).
inline constexpr int exit_ok = 0;
inline constexpr int exit_errors = 1;    // the run counted errors (see the report) or could not run
inline constexpr int exit_usage = 2;     // bad arguments, or a state file that does not fit them
inline constexpr int exit_deadline = 3;  // the hard deadline passed (a server that hangs)

struct host_port {
  std::string host;
  std::string port;
};

struct common_options {
  std::vector<host_port> connect;  // empty after parsing means 127.0.0.1:6000
  double duration_s = 10;
  double warmup_s = 1;
  double deadline_s = 0;  // 0: warmup + duration + 30
  std::string state_file = "bench-state.json";
  std::vector<int> server_pids;
  bool json = false;
  bool raw = false;
  std::size_t payload = 64;
  int threads = 1;
  int timeout_ms = 30000;  // connecting, and waiting for any one answer
  bool allow_errors = false;
};

struct setup_options {
  int users = 250;
  std::string prefix;  // empty: "b<unix time>_"
  std::string password = "bench-pass";
  int groups = 1;
  int members = 100;
  int concurrency = 64;
};

struct pairs_options {
  int pairs = 50;
  int window = 64;  // pingpong: 1, started by side A only
  double rate = 0;  // stream only: > 0 switches to open-loop pacing at this many msgs/s in total
};

struct group_options {
  int groups = 1;
  int members = 0;  // 0: every member of each group logs in
  int window = 8;
};

struct idle_options {
  int connections = 100;
  int ping_interval_ms = 1000;
  int concurrency = 200;
};

struct login_options {
  int concurrency = 200;
  int pairs = 10;
  double rate = 0;  // msgs/s of the chat alongside, in total; 0: closed-loop pingpong
};

struct hashrate_options {
  int threads = 0;  // 0: one per hardware thread
  std::uint64_t opslimit = 2;
  std::uint64_t memlimit_kib = 19456;
};

enum class scenario { setup, pingpong, stream, group, idle, login, hashrate };

struct options {
  scenario which = scenario::pingpong;
  common_options common;
  setup_options setup;
  pairs_options pingpong{.pairs = 50, .window = 1, .rate = 0};
  pairs_options stream;
  group_options group;
  idle_options idle;
  login_options login;
  hashrate_options hashrate;
};

// Arguments that do not fit the state file (too few users, ...): exit_usage.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* name_of(scenario s) noexcept;

// Parses argv into `out`. Returns an exit code when the program should end now (--help: 0;
// bad arguments: exit_usage, after printing why).
std::optional<int> parse_options(int argc, char** argv, options& out);

}  // namespace chat::bench
