// Driving chat_client processes (pipes, posix_spawn) and tmux sessions from tests.
#include "client_process.hpp"

#include <chat_test/env.hpp>
#include <chat_test/process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace chat_client_test {

namespace {

std::vector<std::string> make_env(const std::map<std::string, std::optional<std::string>>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    const auto name = kv.substr(0, kv.find('='));
    if (extra.find(name) == extra.end()) {
      out.push_back(kv);
    }
  }
  for (const auto& [k, v] : extra) {
    if (v) {
      out.push_back(k + "=" + *v);
    }
  }
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string client_bin() {
  return chat_test::env_string("CHAT_CLIENT_BIN", "chat_client");
}

std::string dump(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += "  | " + l + "\n";
  }
  return out;
}

client_process::client_process(std::string label, const std::vector<std::string>& args,
                               const std::map<std::string, std::optional<std::string>>& env)
    : label_(std::move(label)) {
  static int seq = 0;
  err_file_ = std::filesystem::temp_directory_path() /
              ("chat-client-test-" + std::to_string(::getpid()) + "-" + std::to_string(seq++) + ".err");
  int in_pipe[2];
  int out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    throw test_error("pipe2: " + std::string(std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, err_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);

  std::vector<std::string> argv{client_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto envs = make_env(env);
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(envs);
  const int rc = ::posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  in_ = in_pipe[1];
  out_ = out_pipe[0];
  if (rc != 0) {
    pid_ = -1;
    throw test_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  }
  ::fcntl(out_, F_SETFL, ::fcntl(out_, F_GETFL) | O_NONBLOCK);
}

client_process::~client_process() {
  close_stdin();
  if (pid_ > 0 && !status_) {
    // Give it a moment to end by itself (end of input), then kill it.
    const auto deadline = steady::now() + 5s;
    int st = 0;
    while (::waitpid(pid_, &st, WNOHANG) == 0) {
      if (steady::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  if (out_ >= 0) {
    ::close(out_);
  }
  std::error_code ec;
  std::filesystem::remove(err_file_, ec);
}

void client_process::send(std::string_view line) {
  std::string data(line);
  data += '\n';
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(in_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      throw test_error(label_ + ": cannot write to stdin: " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

void client_process::close_stdin() {
  if (in_ >= 0) {
    ::close(in_);
    in_ = -1;
  }
}

bool client_process::fill(steady::time_point deadline) {
  for (;;) {
    char buf[4096];
    const ssize_t n = ::read(out_, buf, sizeof buf);
    if (n > 0) {
      buffer_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN) {
      eof_ = true;
      return false;
    }
    const auto left = std::chrono::duration_cast<millis>(deadline - steady::now()).count();
    if (left <= 0) {
      return true;  // nothing yet: the caller checks its deadline
    }
    pollfd p{out_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
  }
}

std::string client_process::next_line(millis timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      lines_.push_back(line);
      return line;
    }
    if (eof_) {
      throw test_error(label_ + ": output ended; transcript:\n" + dump(lines_) + "stderr:\n" + stderr_text());
    }
    if (steady::now() >= deadline) {
      throw test_error(label_ + ": no complete line within " + std::to_string(timeout.count()) + " ms; transcript:\n" +
                       dump(lines_) + "partial: " + buffer_ + "\nstderr:\n" + stderr_text());
    }
    fill(deadline);
  }
}

std::string client_process::read_until(std::string_view prefix, millis timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<millis>(deadline - steady::now());
    if (left.count() <= 0) {
      throw test_error(label_ + ": no line starting with '" + std::string(prefix) + "'; transcript:\n" + dump(lines_));
    }
    auto line = next_line(left);
    if (line.compare(0, prefix.size(), prefix) == 0) {
      return line;
    }
  }
}

int client_process::wait_exit(millis timeout) {
  const auto deadline = steady::now() + timeout;
  while (!eof_ && steady::now() < deadline) {
    fill(deadline);
    while (true) {
      auto nl = buffer_.find('\n');
      if (nl == std::string::npos) {
        break;
      }
      lines_.push_back(buffer_.substr(0, nl));
      buffer_.erase(0, nl + 1);
    }
  }
  if (!buffer_.empty() && eof_) {
    lines_.push_back(buffer_);
    buffer_.clear();
  }
  for (;;) {
    int st = 0;
    const pid_t w = ::waitpid(pid_, &st, WNOHANG);
    if (w == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      return *status_;
    }
    if (steady::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &st, 0);
      status_ = -1;
      throw test_error(label_ + ": did not exit within " + std::to_string(timeout.count()) + " ms; transcript:\n" +
                       dump(lines_));
    }
    std::this_thread::sleep_for(10ms);
  }
}

std::string client_process::stderr_text() const {
  return read_file(err_file_);
}

run_result run_client(const std::vector<std::string>& args,
                      const std::map<std::string, std::optional<std::string>>& env, millis timeout) {
  client_process p("chat_client", args, env);
  p.close_stdin();
  run_result r;
  r.status = p.wait_exit(timeout);
  r.lines = p.transcript();
  r.err = p.stderr_text();
  return r;
}

// --- tmux -------------------------------------------------------------------------------

bool tmux_available() {
  return chat_test::run_command({"tmux", "-V"}, 10s).status == 0;
}

bool tmux_session::available() {
  return tmux_available();
}

tmux_session::tmux_session(const std::string& command, int width, int height)
    : socket_("chat-client-test-" + std::to_string(::getpid())) {
  chat_test::run_command({"tmux", "-L", socket_, "kill-server"}, 10s);  // a leftover
  const auto r = chat_test::run_command({"tmux", "-L", socket_, "-f", "/dev/null", "new-session", "-d", "-x",
                                         std::to_string(width), "-y", std::to_string(height), "-s", "chat", command},
                                        20s);
  if (r.status != 0) {
    throw test_error("tmux new-session failed: " + r.output);
  }
}

tmux_session::~tmux_session() {
  chat_test::run_command({"tmux", "-L", socket_, "kill-server"}, 10s);
}

void tmux_session::send_keys(const std::vector<std::string>& keys) {
  std::vector<std::string> argv{"tmux", "-L", socket_, "send-keys", "-t", "chat"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  const auto r = chat_test::run_command(argv, 10s);
  if (r.status != 0) {
    throw test_error("tmux send-keys failed: " + r.output);
  }
}

void tmux_session::type(const std::string& literal) {
  const auto r = chat_test::run_command({"tmux", "-L", socket_, "send-keys", "-t", "chat", "-l", literal}, 10s);
  if (r.status != 0) {
    throw test_error("tmux send-keys -l failed: " + r.output);
  }
}

std::vector<std::string> tmux_session::screen() {
  const auto r = chat_test::run_command({"tmux", "-L", socket_, "capture-pane", "-p", "-t", "chat"}, 10s);
  std::vector<std::string> rows;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    rows.push_back(line);
  }
  return rows;
}

bool tmux_session::alive() {
  return chat_test::run_command({"tmux", "-L", socket_, "has-session", "-t", "chat"}, 10s).status == 0;
}

std::string join_screen(const std::vector<std::string>& rows) {
  std::string out;
  for (const auto& r : rows) {
    out += "  |" + r + "\n";
  }
  return out;
}

}  // namespace chat_client_test
