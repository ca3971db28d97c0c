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

class accounts {
 public:
  accounts(storage::repository& repo, password_hasher& hasher, const config::limits_section& limits);

  // errc::reg_error when the name is taken, errc::unavailable on storage failure.
  awaitable<boost::system::result<storage::user_ref>> register_user(std::string name, std::string password);

  // Exactly one of id and name is set. errc::info_error for an unknown account, a wrong
  // password or a locked account (one answer for all three); errc::unavailable on storage failure.
  awaitable<boost::system::result<storage::user_ref>> authenticate(std::optional<user_id> id,
                                                                   std::optional<std::string> name,
                                                                   std::string password);

 private:
  bool locked(user_id user, std::chrono::steady_clock::time_point now);
  void record_attempt(user_id user, bool success, std::chrono::steady_clock::time_point now);

  struct failures {
    std::uint32_t in_a_row = 0;
    std::chrono::steady_clock::time_point locked_until{};
  };

  storage::repository& repo_;
  password_hasher& hasher_;
  std::uint32_t max_failed_logins_;
  std::chrono::milliseconds lockout_;
  std::mutex mutex_;
  std::unordered_map<user_id, failures> failures_;  // only accounts with recent failures
};

}  // namespace chat::services
