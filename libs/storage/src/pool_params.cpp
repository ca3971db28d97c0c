// pool_params from the [mysql] configuration section.
#include <chat/storage/pool_params.hpp>

#include <chat/config/config.hpp>

namespace chat::storage {

pool_params make_pool_params(const config::mysql_section& cfg) {
  pool_params p;
  p.host = cfg.host;
  p.port = cfg.port;
  p.unix_socket = cfg.unix_socket;
  p.user = cfg.user;
  p.password = cfg.password;
  p.database = cfg.database;
  p.max_size = cfg.pool_size;
  p.connect_timeout = cfg.connect_timeout;
  p.query_timeout = cfg.query_timeout;
  p.ping_interval = cfg.ping_interval;
  return p;
}

}  // namespace chat::storage
