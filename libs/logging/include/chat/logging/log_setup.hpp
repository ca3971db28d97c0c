// chat_server's logging: the named loggers on one sink chosen by [log] (stderr or a file, text
// or JSON lines), with the level; reload() on SIGHUP reopens the file after logrotate.
#pragma once

#include <chat/config/config.hpp>

#include <memory>
#include <string>

namespace chat::logging {

// Text lines, as chat_server has always written them (local time; colours only on a terminal).
inline constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v";

// The loggers that log_setup registers (chat::named_logger looks them up).
inline constexpr const char* logger_names[] = {"main", "net", "db", "chat", "redis", "admin"};

// Registers the named loggers (main, net, db, chat, redis, admin) on one shared sink chosen by
// cfg (stderr or the file, text or JSON), sets the level, makes "main" the default logger.
// Loggers of these names registered earlier are replaced. The file is opened in append mode
// and every line is written at once (one write(2), nothing buffered, so no periodic flush);
// the loggers flush on warn and above. The loggers stay the same objects across reload()
// (libraries may keep them). Construct it on one thread before others log; not to be used
// after being moved from.
// Throws std::runtime_error naming the file when the log file cannot be opened, and
// std::invalid_argument for an unknown level or format (the config loader rejects those first).
class log_setup {
 public:
  explicit log_setup(const config::log_section& cfg);
  ~log_setup();
  log_setup(log_setup&&) noexcept;
  log_setup& operator=(log_setup&&) noexcept;
  log_setup(const log_setup&) = delete;
  log_setup& operator=(const log_setup&) = delete;

  // SIGHUP: applies cfg.level, then opens cfg.file again (a new file when logrotate renamed the
  // old one) or switches to stderr, in cfg.format; the old file is closed once the new one is in
  // place. Anything that fails keeps what was there (the old file, format or level) and is
  // described in the returned text (several failures joined by "; "); returns "" on success.
  // Any thread may call it, while other threads log: a line goes wholly to the old or the new
  // file. Never throws.
  std::string reload(const config::log_section& cfg);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::logging
