// Parameters of the MySQL connection pool (Boost.MySQL's pool_params, on libmysqlclient) and the
// statistics it reports for metrics.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace chat::config {
struct mysql_section;
}

namespace chat::storage {

struct pool_params {
  // Where and as whom. A non-empty unix_socket wins over host/port; otherwise TCP is used even
  // for "localhost" (libmysqlclient would silently switch to its default socket).
  std::string host = "127.0.0.1";
  std::uint16_t port = 3306;
  std::string unix_socket;
  std::string user = "chat";
  std::string password;  // never logged
  std::string database = "chat";

  // At most this many connections, and as many blocking threads. Must be > 0.
  std::size_t max_size = 8;
  // MYSQL_OPT_CONNECT_TIMEOUT (rounded up to whole seconds, at least 1).
  std::chrono::milliseconds connect_timeout{2000};
  // MYSQL_OPT_READ_TIMEOUT / MYSQL_OPT_WRITE_TIMEOUT (rounded up to whole seconds, at least 1),
  // and the bound on the wait for a free connection when all max_size are in use.
  std::chrono::milliseconds query_timeout{5000};
  // Idle connections unused for about this long are pinged in the background and dropped when
  // dead. Zero disables the health check.
  std::chrono::milliseconds ping_interval{30000};
  // A connection that sat idle at least this long is pinged before it is handed out, and
  // replaced by a fresh one when the ping fails: after a server restart the first requests
  // succeed instead of failing on stale connections. Zero pings on every checkout.
  std::chrono::milliseconds ping_on_checkout_after{1000};
};

// The [mysql] section of the server configuration as pool parameters.
pool_params make_pool_params(const config::mysql_section& cfg);

// A snapshot of the pool's bookkeeping; total = idle + in_use + pending <= max_size.
struct pool_stats {
  std::size_t idle = 0;     // open connections ready to be handed out
  std::size_t in_use = 0;   // connections handed out (running a request or a health check)
  std::size_t pending = 0;  // connections being opened
  std::size_t total = 0;
  std::size_t waiting = 0;  // requests waiting for a connection
};

}  // namespace chat::storage
