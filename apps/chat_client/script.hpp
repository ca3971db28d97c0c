// Scripted mode: commands from --exec or from a non-terminal stdin, run one at a time (each
// waits for its answer), so that transcripts are deterministic.
#pragma once

#include "console.hpp"
#include "controller.hpp"

#include <chat/asio/awaitable.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>

#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace chat::client {

// Lines of a script: a fixed list (--exec), or stdin read asynchronously (a pipe, a socket)
// or, when stdin cannot be watched (a regular file, /dev/null), read whole at the start.
class script_input {
 public:
  static script_input from_lines(std::vector<std::string> lines);
  static script_input from_stdin(asio::any_io_executor ex);

  // The next line, or nullopt at the end of the input.
  awaitable<std::optional<std::string>> next_line();
  void close();

 private:
  std::deque<std::string> lines_;
  std::optional<asio::posix::stream_descriptor> stdin_;
  std::string partial_;
  bool eof_ = false;
};

struct script_options {
  bool strict = false;                  // stop at the first failed command; exit code 1
  bool echo = false;                    // print "> command" before each
  std::optional<std::string> password;  // for register/login
};

// Runs every line through `ctl`. Returns the exit code (options.hpp): exit_command_failed when
// strict and a command failed, else exit_ok.
awaitable<int> run_script(controller& ctl, script_input& in, console& out, script_options opts);

// Scripted mode, wired: runs the script and the controller on `ioc` until the script ends (or
// the connection is given up), then stops everything. Returns the exit code.
int run_scripted(asio::io_context& ioc, controller& ctl, console& out, script_input in, script_options opts);

}  // namespace chat::client
