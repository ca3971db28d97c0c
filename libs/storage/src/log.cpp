// The "db" logger lookup with its fallback.
#include <chat/storage/detail/log.hpp>

#include <spdlog/spdlog.h>

namespace chat::storage::detail {

std::shared_ptr<spdlog::logger> db_log() {
  // Looked up on every call (a registry lookup, cheap next to a database round trip), so that a
  // "db" logger registered after the pool was created is used too.
  if (auto logger = spdlog::get("db")) return logger;
  return spdlog::default_logger();
}

}  // namespace chat::storage::detail
