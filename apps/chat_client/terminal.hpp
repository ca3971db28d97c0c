// Interactive mode: GNU readline's callback interface driven by an Asio stream_descriptor on
// stdin. Output is printed above the prompt without disturbing the line being typed; passwords
// are read without echo; tab completes commands, known user names and group ids.
#pragma once

#include "command.hpp"
#include "console.hpp"
#include "controller.hpp"

#include <chat/asio/awaitable.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>

#include <optional>
#include <string>
#include <vector>

namespace chat::client {

// Readline has global state: at most one terminal exists at a time. Single-threaded.
class terminal {
 public:
  // `password`: the configured password (--password-file, environment), else prompts.
  terminal(asio::io_context& ioc, controller& ctl, console& out, std::optional<std::string> password);
  ~terminal();
  terminal(const terminal&) = delete;
  terminal& operator=(const terminal&) = delete;

  // Runs the UI and `ioc` until quit, end of input (Ctrl-D), SIGTERM/SIGHUP or a fatal
  // connection error. Returns the exit code (options.hpp).
  int run(const std::string& banner);

 private:
  static void on_line_cb(char* line);
  static void on_password_cb(char* line);
  static char** complete_cb(const char* text, int start, int end);
  static char* candidate_cb(const char* text, int state);
  static void hidden_redisplay();

  void handle_line(char* line);
  void handle_password(char* line);
  void dispatch(command cmd);
  awaitable<void> run_command(command cmd);
  awaitable<void> input_loop();
  void wait_signal();
  void on_signal(int signo);
  void install_normal();
  void begin_password(command cmd);
  void enter_hidden(const char* prompt);
  void cancel_password(const char* why);
  void print(std::FILE* stream, std::string_view text);
  void set_prompt(std::string prompt);
  void quit();
  std::vector<std::string> completions(std::string_view line_before, std::string_view text) const;

  static terminal* instance_;

  asio::io_context& ioc_;
  controller& ctl_;
  console& out_;
  std::optional<std::string> password_;
  asio::posix::stream_descriptor stdin_;
  asio::signal_set signals_;
  std::string prompt_ = "> ";
  std::optional<command> pending_;  // waiting for its password
  int password_stage_ = 0;          // 1: first entry, 2: repetition (register)
  std::string first_password_;
  std::vector<std::string> candidates_;
  std::size_t candidate_index_ = 0;
  bool installed_ = false;   // a readline handler is installed
  bool hidden_ = false;      // reading a password
  bool in_handler_ = false;  // inside a line handler: the prompt is not on screen
  bool running_ = false;
  int exit_code_ = 0;
};

}  // namespace chat::client
