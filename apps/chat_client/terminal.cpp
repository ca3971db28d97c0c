// The readline terminal UI: callback-driven input, output above the prompt, hidden passwords,
// completion, and Ctrl-C / window-size / termination signals.
#include "terminal.hpp"

#include "format.hpp"
#include "options.hpp"

#include <boost/asio/co_spawn.hpp>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>

// readline's headers need <cstdio> first.
#include <readline/history.h>
#include <readline/readline.h>

namespace chat::client {

terminal* terminal::instance_ = nullptr;

namespace {

void report(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "chat_client: command failed: %s\n", ex.what());
  }
}

// Frees a line readline returned, wiping it first (it may be a password).
struct line_guard {
  char* p;
  ~line_guard() {
    if (p != nullptr) {
      std::memset(p, 0, std::strlen(p));
      std::free(p);
    }
  }
};

bool stdin_readable() {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

}  // namespace

terminal::terminal(asio::io_context& ioc, controller& ctl, console& out, std::optional<std::string> password)
    : ioc_(ioc),
      ctl_(ctl),
      out_(out),
      password_(std::move(password)),
      stdin_(ioc),
      signals_(ioc, SIGINT, SIGTERM, SIGHUP) {
  signals_.add(SIGWINCH);
  instance_ = this;
}

terminal::~terminal() {
  if (installed_) {
    rl_redisplay_function = rl_redisplay;
    rl_callback_handler_remove();
  }
  out_.set_writer(nullptr);
  instance_ = nullptr;
}

int terminal::run(const std::string& banner) {
  rl_readline_name = "chat_client";
  rl_catch_signals = 0;  // Asio's signal_set handles them, on this thread
  rl_catch_sigwinch = 0;
  rl_attempted_completion_function = &terminal::complete_cb;
  // UTF-8 text whatever the locale says about 8-bit input.
  rl_variable_bind("input-meta", "on");
  rl_variable_bind("output-meta", "on");
  rl_variable_bind("convert-meta", "off");
  if (out_.json_mode()) {
    rl_outstream = stderr;  // stdout carries only JSON lines
  }
  using_history();

  write_line(out_.json_mode() ? stderr : stdout, banner);
  out_.set_writer([this](std::FILE* f, std::string_view t) { print(f, t); });
  ctl_.on_identity = [this](const std::string& user) { set_prompt(user.empty() ? "> " : sanitize(user) + "> "); };
  ctl_.on_fatal = [this](const std::string& reason) {
    out_.line("error: " + reason);
    exit_code_ = exit_connection;
    quit();
  };

  const int fd = ::dup(STDIN_FILENO);
  boost::system::error_code ec;
  stdin_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    write_line(stderr, "chat_client: cannot watch stdin: " + ec.message());
    return exit_usage;
  }
  running_ = true;
  install_normal();
  wait_signal();
  asio::co_spawn(ioc_, input_loop(), report);
  ctl_.start();
  ioc_.run();
  return exit_code_;
}

void terminal::install_normal() {
  hidden_ = false;
  rl_redisplay_function = rl_redisplay;
  rl_callback_handler_install(prompt_.c_str(), &terminal::on_line_cb);
  installed_ = true;
}

awaitable<void> terminal::input_loop() {
  while (running_) {
    auto [ec] = co_await stdin_.async_wait(asio::posix::descriptor_base::wait_read, use_nothrow);
    if (ec || !running_) {
      co_return;
    }
    // One key at a time; drain whatever is already there (a paste) before waiting again.
    do {
      rl_callback_read_char();
    } while (running_ && stdin_readable());
  }
}

void terminal::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec || !running_) {
      return;
    }
    on_signal(signo);
    if (running_) {
      wait_signal();
    }
  });
}

void terminal::on_signal(int signo) {
  switch (signo) {
    case SIGWINCH:
      rl_resize_terminal();
      return;
    case SIGINT:
      if (hidden_) {
        std::fputs("^C\n", rl_outstream);
        cancel_password("cancelled");
        return;
      }
      // Like a shell: drop the line being typed, start a fresh prompt.
      rl_callback_sigcleanup();
      rl_point = rl_end;
      rl_redisplay();
      std::fputs("^C\n", rl_outstream);
      std::fflush(rl_outstream);
      rl_replace_line("", 0);
      rl_on_new_line();
      rl_redisplay();
      return;
    default:  // SIGTERM, SIGHUP
      quit();
      return;
  }
}

void terminal::on_line_cb(char* line) {
  if (instance_ != nullptr) {
    instance_->handle_line(line);
  } else {
    std::free(line);
  }
}

void terminal::on_password_cb(char* line) {
  if (instance_ != nullptr) {
    instance_->handle_password(line);
  } else {
    std::free(line);
  }
}

void terminal::handle_line(char* raw) {
  line_guard guard{raw};
  if (raw == nullptr) {  // Ctrl-D on an empty line, or stdin closed
    std::fputc('\n', rl_outstream);
    quit();
    return;
  }
  in_handler_ = true;
  const std::string line(raw);
  auto parsed = parse_command(line);
  if (!parsed.blank) {
    const HIST_ENTRY* last = history_length > 0 ? history_get(history_base + history_length - 1) : nullptr;
    if (last == nullptr || line != last->line) {
      add_history(line.c_str());
    }
  }
  if (parsed.blank) {
  } else if (!parsed.cmd) {
    out_.line("error: " + parsed.error);
  } else if (parsed.cmd->kind == command_kind::quit) {
    in_handler_ = false;
    quit();
    return;
  } else if (needs_password(parsed.cmd->kind) && !password_) {
    begin_password(std::move(*parsed.cmd));
  } else {
    command cmd = std::move(*parsed.cmd);
    if (needs_password(cmd.kind)) {
      cmd.password = *password_;
    }
    dispatch(std::move(cmd));
  }
  in_handler_ = false;
}

void terminal::dispatch(command cmd) {
  asio::co_spawn(ioc_, run_command(std::move(cmd)), report);
}

awaitable<void> terminal::run_command(command cmd) {
  const auto oc = co_await ctl_.execute(std::move(cmd));
  if (oc == controller::outcome::quit) {
    quit();
  }
}

void terminal::begin_password(command cmd) {
  pending_ = std::move(cmd);
  password_stage_ = 1;
  first_password_.clear();
  enter_hidden("password: ");
}

void terminal::enter_hidden(const char* prompt) {
  hidden_ = true;
  rl_redisplay_function = &terminal::hidden_redisplay;
  rl_callback_handler_install(prompt, &terminal::on_password_cb);
  installed_ = true;
}

// Shows the prompt only, never the characters typed.
void terminal::hidden_redisplay() {
  std::fprintf(rl_outstream, "\r%s\033[K", rl_display_prompt != nullptr ? rl_display_prompt : "");
  std::fflush(rl_outstream);
}

void terminal::cancel_password(const char* why) {
  pending_.reset();
  std::fill(first_password_.begin(), first_password_.end(), '\0');
  first_password_.clear();
  password_stage_ = 0;
  rl_callback_sigcleanup();
  rl_replace_line("", 0);
  // Leave the hidden prompt completely, print plainly, then show the normal prompt.
  rl_redisplay_function = rl_redisplay;
  hidden_ = false;
  rl_callback_handler_remove();
  installed_ = false;
  out_.line(std::string(why));
  install_normal();
}

void terminal::handle_password(char* raw) {
  line_guard guard{raw};
  // readline ends a line with a newline only when it displayed something; it displayed nothing.
  std::fputc('\n', rl_outstream);
  if (rl_line_buffer != nullptr && rl_end > 0) {
    std::memset(rl_line_buffer, 0, static_cast<std::size_t>(rl_end));
  }
  in_handler_ = true;
  if (raw == nullptr || !pending_) {
    in_handler_ = false;
    cancel_password("cancelled");
    return;
  }
  std::string pw(raw);
  if (pw.empty()) {
    in_handler_ = false;
    cancel_password("error: the password must not be empty");
    return;
  }
  if (password_stage_ == 1 && pending_->kind == command_kind::reg) {
    first_password_ = std::move(pw);
    password_stage_ = 2;
    in_handler_ = false;
    enter_hidden("repeat password: ");
    return;
  }
  if (password_stage_ == 2 && pw != first_password_) {
    std::fill(pw.begin(), pw.end(), '\0');
    in_handler_ = false;
    cancel_password("error: the passwords do not match");
    return;
  }
  command cmd = std::move(*pending_);
  pending_.reset();
  std::fill(first_password_.begin(), first_password_.end(), '\0');
  first_password_.clear();
  password_stage_ = 0;
  cmd.password = std::move(pw);
  install_normal();
  in_handler_ = false;
  dispatch(std::move(cmd));
}

void terminal::print(std::FILE* stream, std::string_view text) {
  if (!installed_ || in_handler_) {
    write_line(stream, text);
    return;
  }
  if (hidden_) {
    std::fputs("\r\033[K", rl_outstream);
    std::fflush(rl_outstream);
    write_line(stream, text);
    hidden_redisplay();
    return;
  }
  // Erase the prompt and the half-typed line, print, then draw them again below.
  rl_clear_visible_line();
  std::fflush(rl_outstream);
  write_line(stream, text);
  rl_on_new_line();
  rl_redisplay();
}

void terminal::set_prompt(std::string prompt) {
  prompt_ = std::move(prompt);
  if (!installed_ || hidden_) {
    return;  // install_normal() uses prompt_
  }
  rl_set_prompt(prompt_.c_str());
  if (!in_handler_) {
    rl_clear_visible_line();
    rl_on_new_line();
    rl_redisplay();
  }
}

void terminal::quit() {
  if (!running_) {
    return;
  }
  running_ = false;
  if (installed_) {
    rl_redisplay_function = rl_redisplay;
    rl_callback_handler_remove();
    installed_ = false;
    hidden_ = false;
  }
  boost::system::error_code ignored;
  stdin_.cancel(ignored);
  stdin_.close(ignored);
  signals_.cancel(ignored);
  ctl_.stop();
}

std::vector<std::string> terminal::completions(std::string_view before, std::string_view text) const {
  std::vector<std::string> all;
  // The words before the one being completed.
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < before.size()) {
    while (i < before.size() && (before[i] == ' ' || before[i] == '\t')) {
      ++i;
    }
    std::size_t j = i;
    while (j < before.size() && before[j] != ' ' && before[j] != '\t') {
      ++j;
    }
    if (j > i) {
      words.push_back(before.substr(i, j - i));
    }
    i = j;
  }
  if (words.empty()) {
    for (const auto& c : command_table()) {
      all.emplace_back(c.name);
    }
  } else if (words.size() == 1) {
    const auto* c = find_command(words[0]);
    if (c == nullptr) {
      return {};
    }
    switch (c->kind) {
      case command_kind::chat:
      case command_kind::login:
        all = ctl_.state().known_names();
        break;
      case command_kind::group_chat:
      case command_kind::add_group:
        for (const auto& g : ctl_.state().groups()) {
          all.push_back(std::to_string(g.id));
        }
        break;
      case command_kind::add_friend:
        for (const auto& g : ctl_.state().groups()) {
          for (const auto& m : g.members) {
            if (m.id != ctl_.state().self_id()) {
              all.push_back(std::to_string(m.id));
            }
          }
        }
        break;
      case command_kind::help:
        for (const auto& cmd : command_table()) {
          all.emplace_back(cmd.name);
        }
        break;
      default:
        break;
    }
  }
  std::vector<std::string> out;
  for (auto& s : all) {
    if (s.compare(0, text.size(), text) == 0 && std::find(out.begin(), out.end(), s) == out.end()) {
      out.push_back(std::move(s));
    }
  }
  return out;
}

char** terminal::complete_cb(const char* text, int start, int /*end*/) {
  rl_attempted_completion_over = 1;  // never fall back to file names
  if (instance_ == nullptr || instance_->hidden_) {
    return nullptr;
  }
  instance_->candidates_ =
      instance_->completions(std::string_view(rl_line_buffer, static_cast<std::size_t>(start)), text);
  instance_->candidate_index_ = 0;
  if (instance_->candidates_.empty()) {
    return nullptr;
  }
  return rl_completion_matches(text, &terminal::candidate_cb);
}

char* terminal::candidate_cb(const char* /*text*/, int state) {
  if (instance_ == nullptr) {
    return nullptr;
  }
  if (state == 0) {
    instance_->candidate_index_ = 0;
  }
  auto& c = instance_->candidates_;
  if (instance_->candidate_index_ >= c.size()) {
    return nullptr;
  }
  return ::strdup(c[instance_->candidate_index_++].c_str());
}

}  // namespace chat::client
