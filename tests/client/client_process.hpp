// A chat_client process driven by a test: commands written to its stdin, its stdout read line by
// line with timeouts (a transcript), stderr kept in a file; plus tmux helpers for the pty test.
#pragma once

#include <chat_test/client.hpp>

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace chat_client_test {

using chat_test::millis;
using chat_test::steady;
using chat_test::test_error;
using namespace std::chrono_literals;

// CHAT_CLIENT_BIN, set by ctest (tests/CMakeLists.txt).
std::string client_bin();

// Output lines of a process, as read so far, for failure messages.
std::string dump(const std::vector<std::string>& lines);

class client_process {
 public:
  // Starts chat_client with `args` (after the binary). `env` is added to the test's
  // environment (a value of nullopt removes the variable). Its pipes are close-on-exec in the
  // test, so servers started later do not hold them.
  client_process(std::string label, const std::vector<std::string>& args,
                 const std::map<std::string, std::optional<std::string>>& env = {});
  ~client_process();
  client_process(const client_process&) = delete;
  client_process& operator=(const client_process&) = delete;

  // Writes `line` and a newline to its stdin.
  void send(std::string_view line);
  void close_stdin();

  // The next stdout line; throws test_error on timeout or end of output.
  std::string next_line(millis timeout = 20s);
  // Reads lines until one starts with `prefix`; returns it. Throws test_error on timeout.
  std::string read_until(std::string_view prefix, millis timeout = 20s);
  // Waits for the exit; returns the exit status (-1 when killed by a signal). Reads the rest of
  // stdout into the transcript. Kills it after `timeout` and throws test_error.
  int wait_exit(millis timeout = 20s);

  // Every stdout line read so far.
  const std::vector<std::string>& transcript() const noexcept { return lines_; }
  std::string stderr_text() const;
  const std::string& label() const noexcept { return label_; }
  pid_t pid() const noexcept { return pid_; }

 private:
  // Reads what stdout holds (waiting until `deadline` for something); false at end of output.
  bool fill(steady::time_point deadline);

  std::string label_;
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::filesystem::path err_file_;
  std::string buffer_;
  std::vector<std::string> lines_;
  bool eof_ = false;
  std::optional<int> status_;
};

// Runs chat_client to completion with stdin from /dev/null; returns {exit status, stdout lines}.
struct run_result {
  int status = -1;
  std::vector<std::string> lines;
  std::string err;
};
run_result run_client(const std::vector<std::string>& args,
                      const std::map<std::string, std::optional<std::string>>& env = {}, millis timeout = 30s);

// A private tmux server (own socket) with one session running a command in a pseudo-terminal.
class tmux_session {
 public:
  static bool available();
  tmux_session(const std::string& command, int width, int height);
  ~tmux_session();
  tmux_session(const tmux_session&) = delete;
  tmux_session& operator=(const tmux_session&) = delete;

  void send_keys(const std::vector<std::string>& keys);  // key names (Enter, C-c) or text
  void type(const std::string& literal);                 // literal text (send-keys -l)
  std::vector<std::string> screen();                     // the pane, one string per row
  // Polls the screen until `pred` holds; returns the screen. Throws test_error on timeout.
  template <class Pred>
  std::vector<std::string> wait_screen(Pred pred, millis timeout = 20s);
  bool alive();  // the session (and its command) still runs

 private:
  std::string socket_;
};

std::string join_screen(const std::vector<std::string>& rows);

template <class Pred>
std::vector<std::string> tmux_session::wait_screen(Pred pred, millis timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    auto rows = screen();
    if (pred(rows)) {
      return rows;
    }
    if (steady::now() >= deadline) {
      throw test_error("timed out waiting for the screen; it shows:\n" + join_screen(rows));
    }
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace chat_client_test
