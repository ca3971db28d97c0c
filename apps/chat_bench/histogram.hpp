// Latency histogram with log-linear buckets (HdrHistogram's layout): exact below 128, then
// 128 buckets per power of two, so every recorded value is known to within 1/128 (< 0.8 %).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chat::bench {

// Values are nanoseconds by convention. Not thread-safe: one per shard, merged at the end.
class histogram {
 public:
  histogram();

  void record(std::uint64_t value) noexcept;
  void merge(const histogram& other) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept;

  // The value at quantile q (0..1): the middle of its bucket, never above max(); 0 when empty.
  std::uint64_t quantile(double q) const noexcept;

 private:
  static constexpr unsigned sub_bits = 7;   // 128 buckets per power of two
  static constexpr unsigned top_bits = 40;  // 2^40 ns is 18 minutes; larger values share the top bucket
  static constexpr std::size_t bucket_count = std::size_t{top_bits - sub_bits + 1} << sub_bits;

  static std::size_t index_of(std::uint64_t value) noexcept;
  static std::uint64_t middle_of(std::size_t index) noexcept;

  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace chat::bench
