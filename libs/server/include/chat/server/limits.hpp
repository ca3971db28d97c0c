// The per-connection and per-node abuse limits of docs/security.md: a request rate (token
// bucket) and connection counts per node and per client address.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace chat::server {

// `rate` requests per second on average, up to `burst` at once. Not thread-safe (one
// connection's reader). A zero rate lets everything through.
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  token_bucket(std::uint32_t rate_per_s, std::uint32_t burst) noexcept
      : rate_(rate_per_s), burst_(burst == 0 ? rate_per_s : burst), tokens_(static_cast<double>(burst_)) {}

  // Takes one token if there is one.
  bool take(clock::time_point now) noexcept {
    if (rate_ == 0) {
      return true;
    }
    if (now > last_) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * rate_);
      last_ = now;
    }
    if (tokens_ < 1.0) {
      return false;
    }
    tokens_ -= 1.0;
    return true;
  }

 private:
  std::uint32_t rate_;
  std::uint32_t burst_;
  double tokens_;
  clock::time_point last_{};
};

// Counts open connections per node and per client address. Thread-safe.
class admission {
 public:
  enum class verdict { admitted, node_full, address_full };

  // Zero = no limit.
  admission(std::size_t max_connections, std::size_t max_per_address) noexcept
      : max_total_(max_connections), max_per_address_(max_per_address) {}

  // On `admitted` the caller must release(address) when the connection ends.
  verdict admit(const std::string& address) {
    std::lock_guard lock(mutex_);
    if (max_total_ != 0 && total_ >= max_total_) {
      return verdict::node_full;
    }
    if (max_per_address_ != 0) {
      auto& n = per_address_[address];
      if (n >= max_per_address_) {
        return verdict::address_full;
      }
      ++n;
    }
    ++total_;
    return verdict::admitted;
  }

  void release(const std::string& address) {
    std::lock_guard lock(mutex_);
    --total_;
    if (max_per_address_ != 0) {
      // Only addresses with open connections stay in the map.
      if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) {
        per_address_.erase(it);
      }
    }
  }

  std::size_t connections() const {
    std::lock_guard lock(mutex_);
    return total_;
  }

 private:
  std::size_t max_total_;
  std::size_t max_per_address_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace chat::server
