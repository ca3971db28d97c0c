// The metric types a registry hands out: counter, gauge and histogram. Updating one is a
// relaxed atomic operation: no lock, no allocation, safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace chat::metrics {

// A monotonically increasing count (Prometheus type "counter"). Thread-safe.
class alignas(64) counter {
 public:
  counter() = default;
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down (Prometheus type "gauge"). Integer-valued on purpose: the
// things we count (connections, pool slots, queued frames) are whole, and integer add is a
// single atomic instruction. Fractional or computed values use a callback gauge instead
// (registry::add_callback_gauge). Thread-safe.
class alignas(64) gauge {
 public:
  gauge() = default;
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::int64_t n) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Observations counted into buckets with fixed upper bounds (Prometheus type "histogram"),
// e.g. request latencies in seconds. observe() is thread-safe and lock-free; a scrape that
// races with observe() may see a sum that is one observation ahead of or behind the buckets.
class histogram {
 public:
  // `bounds`: strictly increasing finite upper bounds; a trailing +Inf is allowed and
  // dropped (the +Inf bucket is always there). Throws std::invalid_argument otherwise.
  explicit histogram(std::vector<double> bounds);
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  // A value equal to a bound counts in that bound's bucket (Prometheus "le"); NaN counts
  // only in +Inf.
  void observe(double v) noexcept;

  struct snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  snapshot collect() const;

  const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

// For instruments a component may run without (unit tests, tools): null = not measured.
inline void inc(counter* c, std::uint64_t n = 1) noexcept {
  if (c != nullptr) {
    c->inc(n);
  }
}
inline void observe(histogram* h, double v) noexcept {
  if (h != nullptr) {
    h->observe(v);
  }
}

}  // namespace chat::metrics
