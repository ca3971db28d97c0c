// chat_client's command line.
#include "options.hpp"

#include <CLI/CLI.hpp>

#ifndef CHAT_VERSION
#define CHAT_VERSION "unknown"
#endif

namespace chat::client {

std::optional<int> parse_options(int argc, char** argv, options& out) {
  CLI::App app{
      "chat_client: the terminal client of chatd.\n"
      "Interactive when stdin is a terminal (line editing, history, tab completion); otherwise, or with\n"
      "--exec, it runs commands one by one, each waiting for its answer. Type 'help' for the commands.",
      "chat_client"};
  app.add_option("host", out.host, "server address (default 127.0.0.1)");
  app.add_option("port", out.port, "server port (default 8000)")->check(CLI::Range(1, 65535));
  auto* tls = app.add_flag("--tls", out.tls,
                           "connect with TLS; the server's certificate must be valid for HOST (verification "
                           "cannot be turned off)");
  app.add_option("--ca", out.ca_file, "trust only the CA certificates in FILE (PEM), not the system's")
      ->check(CLI::ExistingFile)
      ->needs(tls);
  app.add_option("-e,--exec", out.exec, "run these commands (separated by ';', a literal ';' is \\;) and exit");
  app.add_option("--password-file", out.password_file, "read the password for register/login from FILE's first line")
      ->check(CLI::ExistingFile);
  app.add_option("--password-env", out.password_env,
                 "environment variable holding the password when no --password-file (default CHAT_PASSWORD)");
  app.add_flag("--json", out.json, "print every received frame as one JSON line on stdout (other output: stderr)");
  app.add_flag("--strict", out.strict, "scripted mode: stop at the first failed command and exit 1");
  app.add_flag("--echo", out.echo, "scripted mode: print each command as '> command' before running it");
  app.add_flag("--no-time", out.no_time, "print messages without their time (stable transcripts)");
  app.add_option("--time-format", out.time_format, "strftime format of message times (default %H:%M:%S)");
  app.add_option("--ping-interval", out.ping_interval_ms,
                 "ms without sending before a PING (default 20000 = the server's default idle timeout / 3; 0: never)")
      ->check(CLI::Range(0, 86400000));
  app.add_option("--timeout", out.timeout_ms, "ms a command waits for its answer (default 30000)")
      ->check(CLI::Range(1, 86400000));
  app.add_option("--connect-timeout", out.connect_timeout_ms, "ms for one connection attempt (default 5000)")
      ->check(CLI::Range(1, 86400000));
  app.add_option("--reconnect-delay", out.reconnect_min_ms,
                 "ms before the first reconnection attempt; doubles per failure (default 500)")
      ->check(CLI::Range(1, 86400000));
  app.add_option("--reconnect-max", out.reconnect_max_ms,
                 "longest delay between reconnection attempts, ms (default 30000)")
      ->check(CLI::Range(1, 86400000));
  app.add_flag("--no-reconnect", out.no_reconnect,
               "exit (status 3) when the connection is lost instead of reconnecting");
  app.set_version_flag("-V,--version", std::string("chat_client ") + CHAT_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }
  if (out.reconnect_max_ms < out.reconnect_min_ms) {
    out.reconnect_max_ms = out.reconnect_min_ms;
  }
  return std::nullopt;
}

}  // namespace chat::client
