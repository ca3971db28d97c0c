// Cached view of users and groups, so the chat hot path needs no database round trip.
// The database stays the truth; the cache is filled on first use and kept right on change.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/services/cluster.hpp>
#include <chat/services/link.hpp>
#include <chat/storage/repository.hpp>

#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace chat::services {

template <class T>
using result = boost::system::result<T>;

// An immutable snapshot of a group; a change publishes a new snapshot (copy on write), so
// readers keep a consistent member list without holding a lock.
struct group_info {
  group_id id = 0;
  std::string name;
  std::string description;
  std::vector<storage::group_member> members;  // ordered by user id
  std::int64_t version = 0;                    // cluster::group_version it was loaded at

  bool has_member(user_id user) const noexcept;
};

// Thread-safe. Errors: protocol::errc::unavailable when the database cannot answer.
class directory {
 public:
  directory(storage::repository& repo, cluster& cluster) : repo_(repo), cluster_(cluster) {}

  // Whether the user exists. Users are never deleted, so a positive answer is cached forever.
  awaitable<result<bool>> user_exists(user_id user);
  void remember_user(user_id user);

  // The group, or nullptr when there is no such group. In a cluster this costs one version
  // check; the member list is reloaded only when another node changed it.
  awaitable<result<std::shared_ptr<const group_info>>> group(group_id id);

  // Creates a group with its creator as the first member.
  // errc::create_group_error when the name is taken.
  awaitable<result<group_id>> create_group(const storage::user_ref& creator, std::string name,
                                           std::string description);

  // Adds the user to the group (idempotent). errc::add_group_error when there is no such group.
  awaitable<result<void>> join_group(group_id id, const storage::user_ref& user);

 private:
  void publish(std::shared_ptr<const group_info> info, std::uint64_t seen_generation);

  storage::repository& repo_;
  cluster& cluster_;
  std::mutex mutex_;
  std::unordered_map<user_id, bool> users_;
  std::unordered_map<group_id, std::shared_ptr<const group_info>> groups_;
  // Bumped on every membership change, so a load that raced with a change is not cached.
  std::uint64_t generation_ = 0;
};

}  // namespace chat::services
