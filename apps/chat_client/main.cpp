// chat_client: parses arguments, picks the interactive (readline) or the scripted mode, wires the
// controller to it and runs the io_context on this one thread until the UI ends.
#include "command.hpp"
#include "connection.hpp"
#include "console.hpp"
#include "controller.hpp"
#include "options.hpp"
#include "password.hpp"
#include "script.hpp"
#include "terminal.hpp"

#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <clocale>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#ifndef CHAT_VERSION
#define CHAT_VERSION "unknown"
#endif

namespace {

using namespace chat::client;

session_options to_session_options(const options& o, bool scripted, std::shared_ptr<chat::asio::ssl::context> tls) {
  session_options s;
  s.host = o.host;
  s.port = std::to_string(o.port);
  s.connect_timeout = std::chrono::milliseconds(o.connect_timeout_ms);
  s.ping_interval = std::chrono::milliseconds(o.ping_interval_ms);
  s.request_timeout = std::chrono::milliseconds(o.timeout_ms);
  s.reconnect_min = std::chrono::milliseconds(o.reconnect_min_ms);
  s.reconnect_max = std::chrono::milliseconds(o.reconnect_max_ms);
  s.reconnect = !o.no_reconnect;
  s.first_connect_fatal = scripted;
  s.tls = std::move(tls);
  return s;
}

controller_options to_controller_options(const options& o, bool interactive) {
  controller_options c;
  c.interactive = interactive;
  c.format.show_time = !o.no_time;
  if (!o.time_format.empty()) {
    c.format.time_format = o.time_format;
    c.format.custom_time_format = true;
  }
  return c;
}

int run(const options& opts) {
  auto pw = configured_password(opts.password_file, opts.password_env);
  if (!pw.error.empty()) {
    std::fprintf(stderr, "chat_client: %s\n", pw.error.c_str());
    return exit_usage;
  }
  std::shared_ptr<chat::asio::ssl::context> tls;
  if (opts.tls) {
    std::string error;
    tls = make_tls_context(opts.ca_file, error);
    if (!tls) {
      std::fprintf(stderr, "chat_client: %s\n", error.c_str());
      return exit_usage;
    }
  }
  const bool interactive = opts.exec.empty() && ::isatty(STDIN_FILENO) == 1;
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout reader must not kill us mid-write

  chat::asio::io_context ioc(1);
  console out(opts.json);
  controller ctl(ioc.get_executor(), to_session_options(opts, !interactive, std::move(tls)),
                 to_controller_options(opts, interactive), out);
  if (interactive) {
    std::setlocale(LC_CTYPE, "");
    terminal ui(ioc, ctl, out, std::move(pw.password));
    return ui.run(std::string("chat_client ") + CHAT_VERSION + ": connecting to " + opts.host + ":" +
                  std::to_string(opts.port) + (opts.tls ? " (TLS)" : "") +
                  "; type 'help' for the commands, 'quit' to leave");
  }
  script_options so;
  so.strict = opts.strict;
  so.echo = opts.echo;
  so.password = std::move(pw.password);
  auto in = opts.exec.empty() ? script_input::from_stdin(ioc.get_executor())
                              : script_input::from_lines(split_exec(opts.exec));
  return run_scripted(ioc, ctl, out, std::move(in), std::move(so));
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  if (auto code = parse_options(argc, argv, opts)) {
    return *code;
  }
  try {
    return run(opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat_client: %s\n", e.what());
    return 1;
  }
}
