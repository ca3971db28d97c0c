// The storage library's logger: spdlog's "db" logger when the application registered one,
// otherwise spdlog's default logger.
#pragma once

#include <spdlog/logger.h>

#include <memory>

namespace chat::storage::detail {

// Thread-safe; never null. Never log passwords, hashes or message payloads above debug level.
std::shared_ptr<spdlog::logger> db_log();

}  // namespace chat::storage::detail
