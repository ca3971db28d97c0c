// Log-linear histogram.
#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace chat::bench {

histogram::histogram() : buckets_(bucket_count) {}

std::size_t histogram::index_of(std::uint64_t value) noexcept {
  value = std::min(value, (std::uint64_t{1} << top_bits) - 1);
  if (value < (std::uint64_t{1} << sub_bits)) {
    return value;
  }
  const unsigned shift = std::bit_width(value) - 1 - sub_bits;
  const std::uint64_t mantissa = (value >> shift) & ((std::uint64_t{1} << sub_bits) - 1);
  return (std::size_t{shift + 1} << sub_bits) | mantissa;
}

std::uint64_t histogram::middle_of(std::size_t index) noexcept {
  if (index < (std::size_t{1} << sub_bits)) {
    return index;
  }
  const unsigned shift = static_cast<unsigned>(index >> sub_bits) - 1;
  const std::uint64_t mantissa = (index & ((std::size_t{1} << sub_bits) - 1)) | (std::size_t{1} << sub_bits);
  const std::uint64_t width = std::uint64_t{1} << shift;
  return (mantissa << shift) + width / 2;
}

void histogram::record(std::uint64_t value) noexcept {
  ++buckets_[index_of(value)];
  ++count_;
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value);
}

void histogram::merge(const histogram& other) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) {
    buckets_[i] += other.buckets_[i];
  }
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double histogram::mean() const noexcept {
  return count_ == 0 ? 0 : sum_ / static_cast<double>(count_);
}

std::uint64_t histogram::quantile(double q) const noexcept {
  if (count_ == 0) {
    return 0;
  }
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return std::min(middle_of(i), max_);
    }
  }
  return max_;
}

}  // namespace chat::bench
