// Command-line options of chat_client (CLI11) and the exit codes it documents.
#pragma once

#include <optional>
#include <string>

namespace chat::client {

// Exit codes (docs/client.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_command_failed = 1;  // --strict: a command failed
inline constexpr int exit_usage = 2;           // bad arguments, unreadable password file
inline constexpr int exit_connection = 3;      // could not connect (scripted), or lost with --no-reconnect

struct options {
  std::string host = "127.0.0.1";
  int port = 8000;
  bool tls = false;           // --tls: TLS to the server (e.g. nginx terminating TLS), certificate verified
  std::string ca_file;        // --ca FILE: verify against these CAs only, not the system's
  std::string exec;           // --exec "cmd; cmd": scripted mode with these commands
  std::string password_file;  // --password-file FILE: the password is its first line
  std::string password_env = "CHAT_PASSWORD";
  bool json = false;
  bool strict = false;
  bool echo = false;  // scripted: print each command ("> cmd") before running it
  bool no_time = false;
  std::string time_format;  // empty: %H:%M:%S (with the date for other days)
  bool no_reconnect = false;
  int ping_interval_ms = 20000;
  int timeout_ms = 30000;
  int connect_timeout_ms = 5000;
  int reconnect_min_ms = 500;
  int reconnect_max_ms = 30000;
};

// Parses argv into `out`. Returns an exit code when the program should end now (--help,
// --version: 0; bad arguments: exit_usage, after printing why).
std::optional<int> parse_options(int argc, char** argv, options& out);

}  // namespace chat::client
