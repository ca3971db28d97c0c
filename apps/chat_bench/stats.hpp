// What a run counts: messages, latencies and errors by kind. One run_stats per shard (no
// locks on the hot path), merged when the shards are done.
#pragma once

#include "histogram.hpp"

#include <boost/json/object.hpp>

#include <cstdint>

namespace chat::bench {

struct error_counts {
  std::uint64_t error_msgs = 0;        // ERROR_MSG frames received
  std::uint64_t unexpected = 0;        // frames or acks the scenario did not ask for
  std::uint64_t protocol = 0;          // frames that break PROTOCOL.md (not JSON, no msgid, no time stamp)
  std::uint64_t out_of_order = 0;      // a sender's messages arriving out of order
  std::uint64_t disconnects = 0;       // connections the bench did not close itself
  std::uint64_t lost = 0;              // messages, acks or PONGs still missing after the drain
  std::uint64_t failed_requests = 0;   // LOGIN, REG, ... answered with errno != 0
  std::uint64_t timeouts = 0;          // answers that did not come within --timeout-ms
  std::uint64_t connect_failures = 0;  // TCP connections refused or timed out
  std::uint64_t internal = 0;          // bench faults, unreadable --server-pid

  std::uint64_t total() const noexcept;
  // After the drain: what did not arrive is lost, what arrived twice is unexpected.
  void count_arrivals(std::uint64_t expected, std::uint64_t arrived) noexcept;
  void merge(const error_counts& other) noexcept;
  boost::json::object to_json() const;
};

struct run_stats {
  histogram latency;                 // one-way chat latency, or PING round trip (idle), in ns
  histogram login_latency;           // LOGIN to its ack (login), in ns
  std::uint64_t delivered = 0;       // chat messages (or PONGs) received in the window
  std::uint64_t sent = 0;            // chat messages (or PINGs) sent in the window
  std::uint64_t logins = 0;          // successful logins acknowledged in the window
  std::uint64_t offline_frames = 0;  // stored messages of earlier runs replayed at login, ignored
  error_counts errors;

  void merge(const run_stats& other) noexcept;
};

}  // namespace chat::bench
