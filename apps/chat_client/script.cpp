// Scripted mode: script input and the runner that executes one command at a time.
#include "script.hpp"

#include "options.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>

namespace chat::client {

namespace {

void split_lines(std::string& buffer, std::deque<std::string>& lines) {
  std::size_t start = 0;
  for (std::size_t nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n', start)) {
    lines.emplace_back(buffer, start, nl - start);
    start = nl + 1;
  }
  buffer.erase(0, start);
}

}  // namespace

script_input script_input::from_lines(std::vector<std::string> lines) {
  script_input s;
  for (auto& l : lines) {
    s.lines_.push_back(std::move(l));
  }
  s.eof_ = true;
  return s;
}

script_input script_input::from_stdin(asio::any_io_executor ex) {
  script_input s;
  const int fd = ::dup(STDIN_FILENO);
  if (fd < 0) {
    s.eof_ = true;
    return s;
  }
  asio::posix::stream_descriptor d(ex);
  boost::system::error_code ec;
  d.assign(fd, ec);
  if (!ec) {
    s.stdin_.emplace(std::move(d));
    return s;
  }
  // epoll cannot watch regular files or /dev/null: they are finite, read them now.
  ::close(fd);
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    s.partial_.append(buf, static_cast<std::size_t>(n));
  }
  split_lines(s.partial_, s.lines_);
  s.eof_ = true;
  return s;
}

awaitable<std::optional<std::string>> script_input::next_line() {
  char buf[4096];
  for (;;) {
    if (!lines_.empty()) {
      std::string line = std::move(lines_.front());
      lines_.pop_front();
      co_return line;
    }
    if (eof_ || !stdin_ || !stdin_->is_open()) {
      if (!partial_.empty()) {
        std::string last = std::move(partial_);
        partial_.clear();
        co_return last;
      }
      co_return std::nullopt;
    }
    auto [ec, n] = co_await stdin_->async_read_some(asio::buffer(buf), use_nothrow);
    if (ec) {
      eof_ = true;
      continue;
    }
    partial_.append(buf, n);
    split_lines(partial_, lines_);
  }
}

void script_input::close() {
  eof_ = true;
  lines_.clear();
  partial_.clear();
  if (stdin_) {
    boost::system::error_code ignored;
    stdin_->close(ignored);
  }
}

awaitable<int> run_script(controller& ctl, script_input& in, console& out, script_options opts) {
  bool failed_any = false;
  for (;;) {
    auto line = co_await in.next_line();
    if (!line || ctl.stopped()) {
      break;
    }
    auto parsed = parse_command(*line);
    if (parsed.blank) {
      continue;
    }
    if (opts.echo) {
      out.line("> " + *line);
    }
    auto oc = controller::outcome::failed;
    if (!parsed.cmd) {
      out.line("error: " + parsed.error);
    } else if (needs_password(parsed.cmd->kind) && !opts.password) {
      out.line("error: no password for '" + std::string(info(parsed.cmd->kind).name) +
               "': give --password-file FILE or set CHAT_PASSWORD (or the variable named by --password-env)");
    } else {
      command cmd = std::move(*parsed.cmd);
      if (needs_password(cmd.kind)) {
        cmd.password = *opts.password;
      }
      oc = co_await ctl.execute(std::move(cmd));
    }
    if (oc == controller::outcome::quit) {
      break;
    }
    if (oc == controller::outcome::failed) {
      failed_any = true;
      if (opts.strict) {
        break;
      }
    }
  }
  co_return opts.strict&& failed_any ? exit_command_failed : exit_ok;
}

int run_scripted(asio::io_context& ioc, controller& ctl, console& out, script_input in, script_options opts) {
  int code = exit_ok;
  bool ended = false;  // the exit code is decided (signal, fatal error)
  auto finish = [&] {
    ctl.stop();
    in.close();
  };
  ctl.on_fatal = [&](const std::string& reason) {
    out.line("error: " + reason);
    if (!ended) {
      code = exit_connection;
      ended = true;
    }
    finish();
  };
  asio::signal_set signals(ioc, SIGINT, SIGTERM, SIGHUP);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) {
      return;
    }
    if (!ended) {
      code = 128 + signo;
      ended = true;
    }
    finish();
  });
  ctl.start();
  asio::co_spawn(ioc, run_script(ctl, in, out, std::move(opts)), [&](std::exception_ptr e, int result) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "chat_client: script failed: %s\n", ex.what());
      }
      result = exit_command_failed;
    }
    if (!ended) {
      code = result;
      ended = true;
    }
    finish();
    signals.cancel();
  });
  ioc.run();
  return code;
}

}  // namespace chat::client
