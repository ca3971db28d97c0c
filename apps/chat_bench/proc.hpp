// Process measurements: CPU time and RSS of other processes from /proc, the bench's own CPU
// time from getrusage, and the open-file limit.
#pragma once

#include <cstdint>
#include <optional>

namespace chat::bench {

struct process_sample {
  double cpu_seconds = 0;       // user + system
  std::uint64_t rss_bytes = 0;  // VmRSS
};

// From /proc/PID/stat and /proc/PID/status; nullopt when the process is gone or unreadable.
std::optional<process_sample> sample_process(int pid);

// User + system CPU seconds of this process (every thread).
double own_cpu_seconds();

// Raises the soft RLIMIT_NOFILE to the hard limit (thousands of connections); returns the
// soft limit in effect afterwards.
std::uint64_t raise_open_files_limit();

}  // namespace chat::bench
