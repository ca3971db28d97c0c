// /proc/self readers behind the process_* gauges.
#include <chat/metrics/process.hpp>
#include <chat/metrics/registry.hpp>

#include <dirent.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace chat::metrics {

std::optional<std::uint64_t> resident_memory_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    // "VmRSS:	    5328 kB"
    if (line.starts_with("VmRSS:")) {
      std::istringstream fields(line.substr(6));
      std::uint64_t kib = 0;
      std::string unit;
      if (fields >> kib >> unit && unit == "kB") {
        return kib * 1024;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return std::nullopt;
  }
  std::uint64_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') {
      ++count;
    }
  }
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;  // the listing includes the directory's own descriptor
}

void register_process_metrics(registry& r) {
  r.add_callback_gauge("process_resident_memory_bytes", "Resident memory size in bytes.", [] {
    const auto v = resident_memory_bytes();
    return v ? static_cast<double>(*v) : std::numeric_limits<double>::quiet_NaN();
  });
  r.add_callback_gauge("process_open_fds", "Number of open file descriptors.", [] {
    const auto v = open_fds();
    return v ? static_cast<double>(*v) : std::numeric_limits<double>::quiet_NaN();
  });
}

}  // namespace chat::metrics
