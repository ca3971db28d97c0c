// The "db" logger lookup with its fallback.
#include <chat/storage/detail/log.hpp>

#include <chat/asio/logging.hpp>

namespace chat::storage::detail {

std::shared_ptr<spdlog::logger> db_log() {
  // Looked up on every call (a registry lookup, cheap next to a database round trip), so that a
  // "db" logger registered after the pool was created is used too.
  return named_logger("db");
}

}  // namespace chat::storage::detail
