// The log file: append-only descriptor, one write(2) per formatted line.
#include <chat/logging/file_sink.hpp>

#include <spdlog/details/log_msg.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace chat::logging {

file_sink::file_sink(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open log file " + path_ + ": " + std::strerror(errno));
  }
}

file_sink::~file_sink() {
  ::close(fd_);
}

void file_sink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw spdlog::spdlog_ex("cannot write to log file " + path_, errno);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace chat::logging
