// Accounts: registration and password checks (Argon2id on a worker pool), with the
// failed-login lockout of PROTOCOL.md section 5.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/config/config.hpp>
#include <chat/services/link.hpp>
#include <chat/storage/repository.hpp>

#include <boost/asio/thread_pool.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chat::services {

// Argon2id hashing (libsodium crypto_pwhash_str) on its own threads: a login storm keeps
// these busy while io threads go on serving chat traffic.
class password_hasher {
 public:
  explicit password_hasher(const config::security_section& cfg);
  ~password_hasher();

  // Both complete on the caller's executor. hash() throws std::bad_alloc if libsodium
  // cannot get the memory it needs.
  awaitable<std::string> hash(std::string password);
  awaitable<bool> verify(std::string hash, std::string password);

  // A valid hash of no real password: verifying against it costs what a real check costs.
  const std::string& dummy_hash() const noexcept { return dummy_hash_; }

 private:
  asio::thread_pool pool_;
  unsigned long long opslimit_;
  std::size_t memlimit_bytes_;
  std::string dummy_hash_;
};

// Failed logins per key (an account, a client address). `limit` failures lock the key for
// `lockout`. With `window`, failures older than `lockout` are forgotten; without, they count
// until forget(). The table stays bounded: once it grows large, keys that are not locked
// are dropped. Thread-safe.
template <class Key>
class failure_table {
 public:
  using clock = std::chrono::steady_clock;

  failure_table(std::uint32_t limit, std::chrono::milliseconds lockout, bool window)
      : limit_(limit), lockout_(lockout), window_(window) {}

  bool locked(const Key& key, clock::time_point now) const {
    if (limit_ == 0) {
      return false;
    }
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    return it != entries_.end() && it->second.locked_until > now;
  }

  void failed(const Key& key, clock::time_point now) {
    if (limit_ == 0) {
      return;
    }
    std::lock_guard lock(mutex_);
    auto& e = entries_[key];
    if (e.count == 0 || (window_ && now - e.first > lockout_)) {
      e.count = 0;
      e.first = now;
    }
    if (++e.count >= limit_) {
      e.count = 0;
      e.locked_until = now + lockout_;
    }
    if (entries_.size() > max_entries) {
      std::erase_if(entries_, [now](const auto& kv) { return kv.second.locked_until <= now; });
    }
  }

  void forget(const Key& key) {
    if (limit_ == 0) {
      return;
    }
    std::lock_guard lock(mutex_);
    entries_.erase(key);
  }

 private:
  static constexpr std::size_t max_entries = 100000;
  struct entry {
    std::uint32_t count = 0;
    clock::time_point first{};         // of the failures counted
    clock::time_point locked_until{};
  };
  std::uint32_t limit_;
  std::chrono::milliseconds lockout_;
  bool window_;
  mutable std::mutex mutex_;
  std::unordered_map<Key, entry> entries_;
};

class accounts {
 public:
  accounts(storage::repository& repo, password_hasher& hasher, const config::limits_section& limits);

  // errc::reg_error when the name is taken, errc::unavailable on storage failure.
  awaitable<boost::system::result<storage::user_ref>> register_user(std::string name, std::string password);

  // Exactly one of id and name is set. errc::info_error for an unknown account, a wrong
  // password, a locked account or a locked-out client address (one answer for all);
  // errc::unavailable on storage failure. `address` may be empty (unknown).
  awaitable<boost::system::result<storage::user_ref>> authenticate(std::optional<user_id> id,
                                                                   std::optional<std::string> name,
                                                                   std::string password, std::string address = {});

 private:
  storage::repository& repo_;
  password_hasher& hasher_;
  // Per account: failures in a row (a success forgets them), PROTOCOL.md section 5.
  failure_table<user_id> account_failures_;
  // Per address: every failure counts, successes do not reset it (an attacker with one valid
  // account could otherwise interleave logins to it with guesses at others).
  failure_table<std::string> address_failures_;
};

}  // namespace chat::services
