// chat_bench's command line.
#include "options.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#ifndef CHAT_VERSION
#define CHAT_VERSION "unknown"
#endif

namespace chat::bench {

namespace {

constexpr const char* description =
    "chat_bench: load generator for chat_server (PROTOCOL.md), one scenario per run.\n"
    "\n"
    "  chat_bench setup ...     register users and groups, write the state file the others read\n"
    "  chat_bench pingpong ...  pairs bounce one ONE_CHAT_MSG each (one in flight per pair)\n"
    "  chat_bench stream ...    pairs keep --window messages in flight per direction;\n"
    "                           with --rate: open loop, A sends to B at a fixed total rate\n"
    "  chat_bench group ...     one sender per group, --window GROUP_CHAT_MSGs awaiting CHAT_ACK\n"
    "  chat_bench idle ...      many logged-in connections that only PING; server RSS per connection\n"
    "  chat_bench login ...     LOGIN/LOGINOUT storm, plus a pingpong measured alongside\n"
    "  chat_bench hashrate ...  Argon2id verifications/s on this machine (no network)\n"
    "\n"
    "Common options go before or after the scenario. Every message body is \"<CLOCK_MONOTONIC ns>:\"\n"
    "padded with 'x' to --payload bytes; receivers compute one-way latency from it. With two --connect\n"
    "addresses, side A of a pair (group senders, even members, even connections) uses the first and\n"
    "side B (odd members and connections) the second. --raw drives bench/raw_forwarder instead of\n"
    "chat_server (pingpong and stream only; no state file).";

constexpr const char* footer =
    "Report (text, or one JSON object with --json): scenario, mode, duration_s, delivered, msgs_per_s,\n"
    "latency_us {p50, p99, p99_9, max} (one-way chat latency; idle: PING round trip), errors {total and\n"
    "per kind}, bench_cpu_percent, servers [{pid, cpu_percent, rss_bytes}], plus each scenario's own\n"
    "fields. Counts cover the measured window only (after --warmup).\n"
    "Exit: 0 ok; 1 errors counted (unless --allow-errors) or the run failed; 2 usage; 3 hard deadline.";

bool parse_address(const std::string& text, host_port& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return false;
  }
  out.host = text.substr(0, colon);
  out.port = text.substr(colon + 1);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);  // [::1]:6000
  }
  return out.port.find_first_not_of("0123456789") == std::string::npos;
}

bool parse_addresses(const std::string& list, std::vector<host_port>& out) {
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    const auto item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    host_port hp;
    if (!parse_address(item, hp)) {
      return false;
    }
    out.push_back(std::move(hp));
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return !out.empty() && out.size() <= 2;
}

void add_common(CLI::App& app, common_options& c, std::string& connect) {
  app.add_option("--connect", connect,
                 "HOST:PORT[,HOST:PORT]: the server(s) to drive; nothing else is contacted (default 127.0.0.1:6000)");
  app.add_option("--duration", c.duration_s, "seconds measured after the warm-up (default 10)")
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--warmup", c.warmup_s, "seconds of traffic before measuring (default 1)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--deadline", c.deadline_s,
                 "hard limit on the whole run in seconds, exit 3 when it passes (default warmup + duration + 30;\n"
                 "raise it for set-ups and logins of thousands of users at the default Argon2id cost)")
      ->check(CLI::Range(0.0, 604800.0));
  app.add_option("--state", c.state_file, "state file written by setup, read by the others (default bench-state.json)");
  app.add_option("--server-pid", c.server_pids, "PID of a server process: report its CPU % and RSS (repeatable)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", c.json, "print one JSON object on stdout instead of the text report");
  app.add_flag("--raw", c.raw, "drive bench/raw_forwarder (pairing frames instead of LOGIN; pingpong and stream)");
  app.add_option("--payload", c.payload, "chat message body size in bytes (default 64; at least the time stamp)")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--threads", c.threads, "I/O threads of the bench (default 1, leaving the other cores to the server)")
      ->check(CLI::Range(1, 256));
  app.add_option("--timeout-ms", c.timeout_ms, "ms to wait for a connection or for any one answer (default 30000)")
      ->check(CLI::Range(1, 3600000));
  app.add_flag("--allow-errors", c.allow_errors, "exit 0 even when errors were counted");
}

void add_pairs(CLI::App& sub, pairs_options& p, bool with_window) {
  sub.add_option("--pairs", p.pairs, "pairs of users 2i and 2i+1 of the state file (default 50)")
      ->check(CLI::Range(1, 100000));
  if (with_window) {
    sub.add_option("--window", p.window, "messages in flight per direction (default 64)")->check(CLI::Range(1, 100000));
    sub.add_option("--rate", p.rate,
                   "open loop: A sends to B at this many msgs/s in total over all pairs; latency counts from each\n"
                   "message's scheduled send time (default 0: closed loop with --window)")
        ->check(CLI::Range(0.0, 1e8));
  }
}

}  // namespace

const char* name_of(scenario s) noexcept {
  switch (s) {
    case scenario::setup:
      return "setup";
    case scenario::pingpong:
      return "pingpong";
    case scenario::stream:
      return "stream";
    case scenario::group:
      return "group";
    case scenario::idle:
      return "idle";
    case scenario::login:
      return "login";
    case scenario::hashrate:
      return "hashrate";
  }
  return "unknown";
}

std::optional<int> parse_options(int argc, char** argv, options& out) {
  CLI::App app{description, "chat_bench"};
  app.footer(footer);
  app.fallthrough();  // common options may follow the scenario's name
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", std::string("chat_bench ") + CHAT_VERSION);
  std::string connect;
  add_common(app, out.common, connect);

  auto* setup = app.add_subcommand("setup", "register users and create groups, then write the state file");
  setup->add_option("--users", out.setup.users, "users to register, named <prefix><i> (default 250)")
      ->check(CLI::Range(1, 10000000));
  setup->add_option("--prefix", out.setup.prefix, "user and group name prefix (default b<unix time>_)");
  setup->add_option("--password", out.setup.password, "every user's password (default bench-pass)");
  setup->add_option("--groups", out.setup.groups, "groups to create (default 1; 0: none)")
      ->check(CLI::Range(0, 100000));
  setup
      ->add_option("--members", out.setup.members,
                   "members per group, disjoint users, the first creates it (default 100)")
      ->check(CLI::Range(1, 100000));
  setup->add_option("--concurrency", out.setup.concurrency, "connections working at once (default 64)")
      ->check(CLI::Range(1, 10000));

  auto* pingpong = app.add_subcommand("pingpong", "pairs bounce one message: exactly one in flight per pair");
  add_pairs(*pingpong, out.pingpong, false);
  auto* stream = app.add_subcommand("stream", "pairs keep --window messages in flight per direction, or --rate");
  add_pairs(*stream, out.stream, true);

  auto* group = app.add_subcommand("group", "one sender per group with --window messages awaiting CHAT_ACK");
  group->add_option("--groups", out.group.groups, "groups of the state file to drive (default 1)")
      ->check(CLI::Range(1, 100000));
  group
      ->add_option("--members", out.group.members,
                   "members of each group that log in; the others get every message stored (default 0: all)")
      ->check(CLI::Range(0, 100000));
  group->add_option("--window", out.group.window, "messages awaiting their CHAT_ACK per sender (default 8)")
      ->check(CLI::Range(1, 100000));

  auto* idle = app.add_subcommand("idle", "logged-in connections that only PING; RSS growth per connection");
  idle->add_option("--connections", out.idle.connections,
                   "connections, one user each (default 100); needs --server-pid for the RSS")
      ->check(CLI::Range(1, 1000000));
  idle->add_option("--ping-interval-ms", out.idle.ping_interval_ms, "ms between PINGs of a connection (default 1000)")
      ->check(CLI::Range(10, 3600000));
  idle->add_option("--concurrency", out.idle.concurrency, "connections logging in at once (default 200)")
      ->check(CLI::Range(1, 100000));

  auto* login = app.add_subcommand("login", "clients loop LOGIN/LOGINOUT; a pingpong runs alongside");
  login->add_option("--concurrency", out.login.concurrency, "clients, one connection and user each (default 200)")
      ->check(CLI::Range(1, 100000));
  login->add_option("--pairs", out.login.pairs, "pairs chatting alongside (default 10; 0: none)")
      ->check(CLI::Range(0, 100000));
  login
      ->add_option("--rate", out.login.rate,
                   "pace the chat alongside at this many msgs/s in total, open loop (default 0: closed-loop pingpong)")
      ->check(CLI::NonNegativeNumber);

  auto* hashrate = app.add_subcommand("hashrate", "Argon2id (crypto_pwhash_str_verify) verifications/s, no network");
  hashrate->add_option("--hash-threads", out.hashrate.threads, "threads (default 0: one per hardware thread)")
      ->check(CLI::Range(0, 1024));
  hashrate->add_option("--argon2-opslimit", out.hashrate.opslimit, "passes, as the server's [security] (default 2)")
      ->check(CLI::Range(1, 100));
  hashrate
      ->add_option("--argon2-memlimit-kib", out.hashrate.memlimit_kib,
                   "memory per hash in KiB, as the server's [security] (default 19456)")
      ->check(CLI::Range(8, 4194304));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }

  const std::pair<CLI::App*, scenario> subs[] = {
      {setup, scenario::setup}, {pingpong, scenario::pingpong}, {stream, scenario::stream},    {group, scenario::group},
      {idle, scenario::idle},   {login, scenario::login},       {hashrate, scenario::hashrate}};
  for (const auto& [sub, which] : subs) {
    if (sub->parsed()) {
      out.which = which;
    }
  }
  if (connect.empty()) {
    connect = "127.0.0.1:6000";
  }
  if (!parse_addresses(connect, out.common.connect)) {
    std::fprintf(stderr, "chat_bench: --connect wants HOST:PORT or HOST:PORT,HOST:PORT, not '%s'\n", connect.c_str());
    return exit_usage;
  }
  if (out.common.raw && out.which != scenario::pingpong && out.which != scenario::stream) {
    std::fprintf(stderr, "chat_bench: --raw drives raw_forwarder, which only relays pairs: use pingpong or stream\n");
    return exit_usage;
  }
  if (out.setup.prefix.empty()) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    out.setup.prefix = "b" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count()) + "_";
  }
  if (out.common.deadline_s == 0) {
    out.common.deadline_s = out.common.warmup_s + out.common.duration_s + 30;
  }
  return std::nullopt;
}

}  // namespace chat::bench
