// Process metrics read from /proc/self (Linux): resident memory and open file descriptors.
#pragma once

#include <cstdint>
#include <optional>

namespace chat::metrics {

class registry;

// VmRSS from /proc/self/status, in bytes; nullopt when it cannot be read.
std::optional<std::uint64_t> resident_memory_bytes();

// Entries of /proc/self/fd, not counting the descriptor used to list them; nullopt when the
// directory cannot be read (for instance because every descriptor is in use).
std::optional<std::uint64_t> open_fds();

// Adds the callback gauges process_resident_memory_bytes and process_open_fds (the standard
// Prometheus names); a value that cannot be read is rendered as NaN.
void register_process_metrics(registry& r);

}  // namespace chat::metrics
