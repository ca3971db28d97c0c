// Who is logged in on this node, and the hand-over rule between live delivery and storage.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/services/link.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace chat::services {

// Thread-safe; sharded by user id so unrelated users do not contend.
//
// Ordering rule: a message is either handed to the recipient's link or, atomically with
// finding it offline, a "store reservation" is taken. A login waits until the user has no
// reservations left before it reads the offline table, so no stored message can slip in
// behind the offline replay.
class presence {
 public:
  class reservation;

  // Registers `link` as the user's connection; false if the user is online already.
  bool try_register(user_id user, std::shared_ptr<client_link> link);
  // Removes the user's registration if it is `link`.
  void unregister(user_id user, const client_link* link);

  bool is_online(user_id user) const;
  std::size_t online_count() const;
  // A snapshot of the users logged in here.
  std::vector<user_id> online_users() const;

  // Hands `msg` to the user's link when it is online and accepting; otherwise returns a
  // reservation the caller holds until the message is stored.
  std::optional<reservation> deliver_or_reserve(user_id user, const outbound& msg);

  // Waits until no store reservation is held for `user` (polls, bounded by `limit`).
  // Returns false if reservations were still held when `limit` passed.
  awaitable<bool> wait_for_stores(user_id user, std::chrono::milliseconds limit);

  class reservation {
   public:
    reservation(reservation&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), user_(other.user_) {}
    reservation& operator=(reservation&&) = delete;
    ~reservation();
    user_id user() const noexcept { return user_; }

   private:
    friend class presence;
    reservation(presence* owner, user_id user) noexcept : owner_(owner), user_(user) {}
    presence* owner_;
    user_id user_;
  };

 private:
  struct entry {
    std::shared_ptr<client_link> link;
    int pending_stores = 0;
  };
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<user_id, entry> users;
  };
  static constexpr std::size_t shard_count = 64;

  shard& shard_of(user_id user) const noexcept { return shards_[static_cast<std::size_t>(user) % shard_count]; }
  void release(user_id user) noexcept;
  std::size_t pending_stores(user_id user) const;

  mutable std::array<shard, shard_count> shards_;
};

}  // namespace chat::services
