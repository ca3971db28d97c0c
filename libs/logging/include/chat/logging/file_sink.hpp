// An spdlog sink appending to a file with one write(2) per line: nothing is buffered, so a line
// is on disk (in the page cache) as soon as it is logged and there is nothing to flush.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <mutex>
#include <string>

namespace chat::logging {

// Thread-safe (base_sink's mutex). Reopening after logrotate = a new file_sink on the same path
// (log_setup swaps it in), so this class only ever holds one open file.
class file_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Opens `path` for appending (created with mode 0640 minus the umask; close-on-exec).
  // Throws std::runtime_error "cannot open log file PATH: REASON".
  explicit file_sink(std::string path);
  ~file_sink() override;

  const std::string& path() const noexcept { return path_; }

 protected:
  // A failed write (disk full) throws spdlog::spdlog_ex: the logger reports it on stderr, at
  // most once a second, and drops the line.
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace chat::logging
