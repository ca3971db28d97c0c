// TOML loader for server_config: maps each [section] key onto its struct member and validates it,
// so that a bad file stops start-up with the offending key's name instead of misbehaving later.
#include <chat/config/config.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <ios>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace chat::config {
namespace {

constexpr std::int64_t no_upper_bound = std::numeric_limits<std::int64_t>::max();

// Durations end up in timer arithmetic (now() + d, in nanoseconds); a day is far beyond any
// sensible setting and keeps that arithmetic well away from overflow.
constexpr std::int64_t max_duration_ms = 86'400'000;

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// A string check returns why the value is rejected, or an empty view when it is fine.
using string_check = std::string_view (*)(std::string_view value);

std::string_view not_empty(std::string_view value) {
  return value.empty() ? "must not be empty" : std::string_view{};
}

// node_id appears in broker channel names and log lines, so it stays short and free of separators.
std::string_view valid_node_id(std::string_view value) {
  if (value.empty() || value.size() > 64) return "must be 1 to 64 characters long";
  auto allowed = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  };
  if (!std::all_of(value.begin(), value.end(), allowed)) return "may contain only A-Z a-z 0-9 _ . -";
  return {};
}

std::string_view valid_log_level(std::string_view value) {
  // The names spdlog::level::from_str accepts, minus its aliases, so a typo is not silently "off".
  constexpr std::array<std::string_view, 7> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(levels.begin(), levels.end(), value) != levels.end()) return {};
  return "must be one of trace, debug, info, warn, error, critical, off";
}

// Reads the keys of one [section] into its struct. Every lookup records the key as known, so that
// after the section's reader has run, finish() can reject whatever the file holds beyond those.
class section_reader {
 public:
  section_reader(const toml::table& table, std::string_view section, std::string_view source)
      : table_(table), section_(section), source_(source) {}

  template <class T>
  void integer(std::string_view key, T& out, std::int64_t lo, std::int64_t hi) {
    assert(lo >= 0 || std::numeric_limits<T>::is_signed);
    assert(static_cast<std::uint64_t>(hi) <= std::numeric_limits<T>::max());
    if (const auto* node = find(key)) out = static_cast<T>(integer_in_range(key, *node, lo, hi));
  }

  // The file spells durations as whole milliseconds under the member's name plus "_ms".
  void duration(std::string_view key, milliseconds& out, std::int64_t lo, std::int64_t hi) {
    if (const auto* node = find(key)) out = milliseconds{integer_in_range(key, *node, lo, hi)};
  }

  void boolean(std::string_view key, bool& out) {
    if (const auto* node = find(key)) out = typed<bool>(key, *node, "a boolean");
  }

  void string(std::string_view key, std::string& out, string_check check = nullptr) {
    const auto* node = find(key);
    if (!node) return;
    const auto& value = typed<std::string>(key, *node, "a string");
    if (check) {
      if (auto why = check(value); !why.empty()) fail(key, why);
    }
    out = value;
  }

  // Called once the section's known keys have all been looked up.
  void finish() const {
    for (auto&& [key, node] : table_) {
      if (std::find(known_.begin(), known_.end(), key.str()) == known_.end()) {
        throw config_error(std::string(source_) + ": unknown key [" + std::string(section_) + "] " +
                           std::string(key.str()));
      }
    }
  }

  [[noreturn]] void fail(std::string_view key, std::string_view why) const {
    throw config_error(std::string(source_) + ": [" + std::string(section_) + "] " + std::string(key) + ": " +
                       std::string(why));
  }

 private:
  const toml::node* find(std::string_view key) {
    known_.push_back(key);
    return table_.get(key);
  }

  template <class T>
  const T& typed(std::string_view key, const toml::node& node, std::string_view expected) const {
    if (const auto* value = node.as<T>()) return value->get();
    fail(key, "expected " + std::string(expected) + ", got " + std::string(type_name(node.type())));
  }

  // Floats are refused even when whole: "port = 6000.0" is more likely a mistake than a choice.
  std::int64_t integer_in_range(std::string_view key, const toml::node& node, std::int64_t lo,
                                std::int64_t hi) const {
    const std::int64_t value = typed<std::int64_t>(key, node, "an integer");
    if (value < lo || value > hi) {
      fail(key, hi == no_upper_bound
                    ? "must be at least " + std::to_string(lo)
                    : "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    return value;
  }

  const toml::table& table_;
  std::string_view section_;
  std::string_view source_;
  std::vector<std::string_view> known_;
};

void read_server(section_reader& r, server_section& s) {
  r.string("listen_address", s.listen_address, not_empty);
  r.integer("port", s.port, 1, 65535);
  r.string("node_id", s.node_id, valid_node_id);
  r.integer("threads", s.threads, 0, 256);
  r.duration("shutdown_grace_ms", s.shutdown_grace, 1, max_duration_ms);
  r.boolean("proxy_protocol", s.proxy_protocol);
  r.duration("drain_period_ms", s.drain_period, 0, max_duration_ms);
}

void read_mysql(section_reader& r, mysql_section& s) {
  r.string("host", s.host);
  r.integer("port", s.port, 1, 65535);
  r.string("unix_socket", s.unix_socket);
  r.string("user", s.user, not_empty);
  r.string("password", s.password);
  r.string("database", s.database, not_empty);
  r.integer("pool_size", s.pool_size, 1, 1024);
  r.duration("connect_timeout_ms", s.connect_timeout, 1, max_duration_ms);
  r.duration("query_timeout_ms", s.query_timeout, 1, max_duration_ms);
  r.duration("ping_interval_ms", s.ping_interval, 1, max_duration_ms);
  r.boolean("apply_schema", s.apply_schema);
}

void read_redis(section_reader& r, redis_section& s) {
  r.string("host", s.host, not_empty);
  r.integer("port", s.port, 1, 65535);
  r.string("password", s.password);
  r.duration("connect_timeout_ms", s.connect_timeout, 1, max_duration_ms);
  r.duration("command_timeout_ms", s.command_timeout, 1, max_duration_ms);
}

void read_limits(section_reader& r, limits_section& s) {
  r.integer("max_frame_bytes", s.max_frame_bytes, 16, 16'777'216);
  r.integer("max_message_bytes", s.max_message_bytes, 1, 1'048'576);
  // Checked after both are read, so the order of the keys in the file does not matter.
  if (s.max_message_bytes > s.max_frame_bytes) {
    r.fail("max_message_bytes", "must not exceed max_frame_bytes (" + std::to_string(s.max_frame_bytes) + ")");
  }
  r.integer("max_outbound_bytes", s.max_outbound_bytes, 1024, no_upper_bound);
  r.duration("login_timeout_ms", s.login_timeout, 100, max_duration_ms);
  r.integer("max_failed_logins", s.max_failed_logins, 0, std::numeric_limits<std::uint32_t>::max());
  r.duration("failed_login_lockout_ms", s.failed_login_lockout, 1, max_duration_ms);
  r.integer("rate_limit_per_s", s.rate_limit_per_s, 0, 1'000'000);
  r.integer("rate_limit_burst", s.rate_limit_burst, 0, 1'000'000);
  r.integer("max_connections", s.max_connections, 0, 10'000'000);
  r.integer("max_connections_per_address", s.max_connections_per_address, 0, 10'000'000);
  r.integer("max_failed_logins_per_address", s.max_failed_logins_per_address, 0, 1'000'000);
  r.duration("address_lockout_ms", s.address_lockout, 1, max_duration_ms);
}

void read_heartbeat(section_reader& r, heartbeat_section& s) {
  r.duration("idle_timeout_ms", s.idle_timeout, 100, max_duration_ms);
}

std::string_view valid_log_format(std::string_view value) {
  return value == "text" || value == "json" ? std::string_view{} : "must be text or json";
}

void read_log(section_reader& r, log_section& s) {
  r.string("level", s.level, valid_log_level);
  r.string("format", s.format, valid_log_format);
  r.string("file", s.file);
}

void read_admin(section_reader& r, admin_section& s) {
  r.string("listen_address", s.listen_address, not_empty);
  r.integer("port", s.port, 0, 65535);
}

void read_security(section_reader& r, security_section& s) {
  r.integer("hash_threads", s.hash_threads, 0, 256);
  r.integer("argon2_opslimit", s.argon2_opslimit, 1, 100);  // libsodium's crypto_pwhash minimum is 1
  r.integer("argon2_memlimit_kib", s.argon2_memlimit_kib, 8, 4'194'304);
}

struct section_entry {
  std::string_view name;
  void (*read)(section_reader&, server_config&);
};

constexpr std::array<section_entry, 8> sections{{
    {"server", [](section_reader& r, server_config& c) { read_server(r, c.server); }},
    {"mysql", [](section_reader& r, server_config& c) { read_mysql(r, c.mysql); }},
    {"redis", [](section_reader& r, server_config& c) { read_redis(r, c.redis); }},
    {"limits", [](section_reader& r, server_config& c) { read_limits(r, c.limits); }},
    {"heartbeat", [](section_reader& r, server_config& c) { read_heartbeat(r, c.heartbeat); }},
    {"log", [](section_reader& r, server_config& c) { read_log(r, c.log); }},
    {"security", [](section_reader& r, server_config& c) { read_security(r, c.security); }},
    {"admin", [](section_reader& r, server_config& c) { read_admin(r, c.admin); }},
}};

toml::table parse_toml(std::string_view text, std::string_view source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw config_error(std::string(source) + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                       ": " + std::string(e.description()));
  }
}

}  // namespace

server_config parse(std::string_view toml_text, std::string_view source_name) {
  const toml::table root = parse_toml(toml_text, source_name);
  const std::string source(source_name);

  for (auto&& [name, node] : root) {
    const std::string_view key = name.str();
    auto known = [key](const section_entry& s) { return s.name == key; };
    if (std::none_of(sections.begin(), sections.end(), known)) {
      const std::string n(key);
      throw config_error(source + (node.is_table() ? ": unknown section [" + n + "]"
                                                   : ": unknown key " + n + " outside any [section]"));
    }
  }

  server_config config;
  const toml::table absent;  // a missing section keeps all its defaults
  for (const auto& section : sections) {
    const toml::node* node = root.get(section.name);
    if (node && !node->is_table()) {
      throw config_error(source + ": [" + std::string(section.name) + "]: expected a table, got " +
                         std::string(type_name(node->type())));
    }
    section_reader reader(node ? *node->as_table() : absent, section.name, source);
    section.read(reader, config);
    reader.finish();
  }
  config.redis.enabled = root.contains("redis");
  config.admin.enabled = root.contains("admin");
  return config;
}

server_config load_file(const std::filesystem::path& path) {
  const std::string source = path.string();
  auto fail = [&](const std::string& why) { return config_error(source + ": " + why); };

  // A directory opens fine as a stream and only fails on the first read, so rule it out first.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw fail("cannot read: is a directory");

  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail("cannot open: " + std::error_code(errno, std::generic_category()).message());
  std::string text;
  try {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure& e) {  // libstdc++'s filebuf throws on read errors
    throw fail(std::string("cannot read: ") + e.what());
  }
  return parse(text, source);
}

}  // namespace chat::config
