// Plain configuration structs for chat_server, with their defaults, and the TOML loader.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chat::config {

using std::chrono::milliseconds;

// [server]
struct server_section {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 6000;
  std::string node_id = "node1";
  std::size_t threads = 0;                 // 0 = one per hardware thread
  milliseconds shutdown_grace{5000};       // shutdown_grace_ms: final flush after the drain
  // drain_period_ms: on SIGTERM, GOING_AWAY reaches the connected clients spread over this
  // period, so they reconnect to the other nodes gradually (0 = all at once).
  milliseconds drain_period{10000};
  // Every connection starts with a PROXY protocol v1/v2 header (nginx `proxy_protocol on;`),
  // whose client address then counts for per-address limits and logs. Only for a port that
  // nothing but the balancer can reach.
  bool proxy_protocol = false;
};

// [mysql]
struct mysql_section {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3306;
  std::string unix_socket;                 // non-empty: connect through this socket, host/port unused
  std::string user = "chat";
  std::string password;
  std::string database = "chat";
  std::size_t pool_size = 8;               // at most this many connections (and blocking threads)
  milliseconds connect_timeout{2000};      // connect_timeout_ms
  milliseconds query_timeout{5000};        // query_timeout_ms; also bounds the wait for a free connection
  milliseconds ping_interval{30000};       // ping_interval_ms: health check of idle connections
  bool apply_schema = true;                // run sql/schema.sql (idempotent) at start-up
};

// [limits]
struct limits_section {
  std::size_t max_frame_bytes = 65536;
  std::size_t max_message_bytes = 8192;
  std::size_t max_outbound_bytes = 4u << 20;
  milliseconds login_timeout{60000};       // login_timeout_ms
  std::uint32_t max_failed_logins = 10;    // in a row, per account; 0 = no lockout
  milliseconds failed_login_lockout{60000};  // failed_login_lockout_ms

  // Abuse limits, 0 = off (PROTOCOL.md section 5).
  std::uint32_t rate_limit_per_s = 0;        // requests per second per connection (token bucket; errno 13)
  std::uint32_t rate_limit_burst = 0;        // bucket size; 0 = rate_limit_per_s
  std::size_t max_connections = 0;           // per node (errno 14 and close: try another node)
  std::size_t max_connections_per_address = 0;  // per client address (errno 13 and close)
  std::uint32_t max_failed_logins_per_address = 0;  // failures within the lockout period, per address
  milliseconds address_lockout{60000};       // address_lockout_ms: that address is refused (errno 2)
};

// [heartbeat]
struct heartbeat_section {
  milliseconds idle_timeout{60000};        // idle_timeout_ms
};

// [log]; SIGHUP reads the config file again and applies level, format and file (reopened).
struct log_section {
  std::string level = "info";              // trace, debug, info, warn, error, critical, off
  std::string format = "text";             // text, or json: one object per line for log shippers
  std::string file;                        // empty = stderr (journald under systemd)
};

// [admin]: present = an HTTP listener for /healthz, /readyz and /metrics (Prometheus).
struct admin_section {
  bool enabled = false;                    // set when the file has an [admin] section
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 9610;               // 0 = any free port (logged)
};

// [security]
struct security_section {
  std::size_t hash_threads = 0;            // Argon2id worker threads; 0 = one per hardware thread
  std::uint64_t argon2_opslimit = 2;       // OWASP: t=2
  std::size_t argon2_memlimit_kib = 19456; // OWASP: m=19 MiB
};

// [redis]: present = cluster mode (presence and delivery across nodes through Redis);
// absent = a single node with an in-process broker.
struct redis_section {
  bool enabled = false;                    // set when the file has a [redis] section
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string password;                    // AUTH when non-empty
  milliseconds connect_timeout{1000};      // connect_timeout_ms
  milliseconds command_timeout{1000};      // command_timeout_ms
};

struct server_config {
  server_section server;
  mysql_section mysql;
  redis_section redis;
  limits_section limits;
  heartbeat_section heartbeat;
  log_section log;
  security_section security;
  admin_section admin;
};

// Thrown for any invalid configuration; what() names the offending key, e.g.
// "config.toml: [limits] max_frame_bytes: must be between 1 and 16777216".
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses TOML text; unknown sections or keys, wrong types and out-of-range values throw config_error.
// Missing keys keep their defaults. source_name prefixes error messages.
server_config parse(std::string_view toml_text, std::string_view source_name = "config");

// Reads and parses a file; an unreadable file throws config_error.
server_config load_file(const std::filesystem::path& path);

}  // namespace chat::config
