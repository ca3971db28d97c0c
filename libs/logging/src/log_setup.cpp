// The named loggers on one swappable sink, and its reload: the target sink (stderr or a file,
// with its formatter) is built anew and swapped in under the sink's lock.
#include <chat/logging/file_sink.hpp>
#include <chat/logging/json_formatter.hpp>
#include <chat/logging/log_setup.hpp>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace chat::logging {

namespace {

// What every logger writes to: forwards to the current target; replace() switches targets
// between two lines, never within one.
class swappable_sink final : public spdlog::sinks::sink {
 public:
  explicit swappable_sink(std::shared_ptr<spdlog::sinks::sink> target) : target_(std::move(target)) {}

  void log(const spdlog::details::log_msg& msg) override {
    std::lock_guard lock(mutex_);
    target_->log(msg);
  }
  void flush() override {
    std::lock_guard lock(mutex_);
    target_->flush();
  }
  void set_pattern(const std::string& pattern) override {
    std::lock_guard lock(mutex_);
    target_->set_pattern(pattern);
  }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    std::lock_guard lock(mutex_);
    target_->set_formatter(std::move(formatter));
  }

  // Returns the old target (flushed), so that it is closed outside the lock.
  std::shared_ptr<spdlog::sinks::sink> replace(std::shared_ptr<spdlog::sinks::sink> target) {
    std::lock_guard lock(mutex_);
    target_->flush();
    std::swap(target_, target);
    return target;
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<spdlog::sinks::sink> target_;
};

std::optional<spdlog::level::level_enum> parse_level(const std::string& name) {
  // from_str() maps unknown names to off: only "off" itself may mean off.
  const auto level = spdlog::level::from_str(name);
  if (level == spdlog::level::off && name != "off") {
    return std::nullopt;
  }
  return level;
}

bool known_format(const std::string& format) {
  return format == "text" || format == "json";
}

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& format) {
  if (format == "json") {
    return std::make_unique<json_formatter>();
  }
  return std::make_unique<spdlog::pattern_formatter>(text_pattern);
}

// Throws std::runtime_error when the file cannot be opened.
std::shared_ptr<spdlog::sinks::sink> make_target(const std::string& file, const std::string& format) {
  std::shared_ptr<spdlog::sinks::sink> target;
  if (file.empty()) {
    // Colours only when stderr is a terminal (spdlog's automatic mode).
    target = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    target = std::make_shared<file_sink>(file);
  }
  target->set_formatter(make_formatter(format));
  return target;
}

std::string describe(const std::string& file) {
  return file.empty() ? std::string("stderr") : file;
}

}  // namespace

struct log_setup::impl {
  std::mutex reload_mutex;  // one reload at a time
  std::shared_ptr<swappable_sink> sink;
  std::vector<std::shared_ptr<spdlog::logger>> loggers;
  std::string level;
  std::string format;
  std::string file;
};

log_setup::log_setup(const config::log_section& cfg) : impl_(std::make_unique<impl>()) {
  const auto level = parse_level(cfg.level);
  if (!level) {
    throw std::invalid_argument("[log] level: unknown level '" + cfg.level + "'");
  }
  if (!known_format(cfg.format)) {
    throw std::invalid_argument("[log] format: unknown format '" + cfg.format + "' (text or json)");
  }
  impl_->sink = std::make_shared<swappable_sink>(make_target(cfg.file, cfg.format));
  impl_->level = cfg.level;
  impl_->format = cfg.format;
  impl_->file = cfg.file;
  for (const char* name : logger_names) {
    auto logger = std::make_shared<spdlog::logger>(name, impl_->sink);
    logger->set_level(*level);
    logger->flush_on(spdlog::level::warn);
    impl_->loggers.push_back(logger);
  }
  // "main" through set_default_logger, which replaces the old default in the registry too
  // (dropping it first would leave spdlog::info() without a default logger for a moment).
  spdlog::set_default_logger(impl_->loggers.front());
  for (std::size_t i = 1; i < impl_->loggers.size(); ++i) {
    spdlog::drop(impl_->loggers[i]->name());
    spdlog::register_logger(impl_->loggers[i]);
  }
}

log_setup::~log_setup() {
  if (impl_) {
    impl_->sink->flush();
  }
}

log_setup::log_setup(log_setup&&) noexcept = default;
log_setup& log_setup::operator=(log_setup&&) noexcept = default;

std::string log_setup::reload(const config::log_section& cfg) {
  std::string problems;
  const auto report = [&problems](const std::string& text) {
    if (!problems.empty()) {
      problems += "; ";
    }
    problems += text;
  };
  try {
    std::lock_guard lock(impl_->reload_mutex);
    // The level first: once the new file exists, it gets only lines of the new level.
    if (const auto level = parse_level(cfg.level)) {
      for (const auto& logger : impl_->loggers) {
        logger->set_level(*level);
      }
      impl_->level = cfg.level;
    } else {
      report("[log] level: unknown level '" + cfg.level + "', kept '" + impl_->level + "'");
    }
    std::string format = cfg.format;
    if (!known_format(format)) {
      report("[log] format: unknown format '" + format + "', kept '" + impl_->format + "'");
      format = impl_->format;
    }
    std::shared_ptr<spdlog::sinks::sink> target;
    try {
      target = make_target(cfg.file, format);
    } catch (const std::exception& e) {
      report(std::string(e.what()) + "; still logging to " + describe(impl_->file));
      return problems;
    }
    // The old target (the old file) is closed here, outside the sink's lock.
    impl_->sink->replace(std::move(target));
    impl_->format = format;
    impl_->file = cfg.file;
  } catch (const std::exception& e) {
    report(std::string("log reload failed: ") + e.what());
  } catch (...) {
    report("log reload failed");
  }
  return problems;
}

}  // namespace chat::logging
