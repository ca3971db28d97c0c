// Named loggers ("net", "db", "chat", "redis") that the application registers with spdlog;
// libraries fall back to spdlog's default logger when the application did not.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace chat {

// Thread-safe; never null. Not for per-message hot paths (a registry lookup under a lock).
inline std::shared_ptr<spdlog::logger> named_logger(const char* name) {
  auto logger = spdlog::get(name);
  return logger ? logger : spdlog::default_logger();
}

}  // namespace chat
