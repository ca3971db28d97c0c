// User and group cache.
#include <chat/protocol/message.hpp>
#include <chat/services/directory.hpp>

#include <algorithm>

namespace chat::services {

using protocol::errc;

bool group_info::has_member(user_id user) const noexcept {
  auto it = std::lower_bound(members.begin(), members.end(), user,
                             [](const storage::group_member& m, user_id u) { return m.id < u; });
  return it != members.end() && it->id == user;
}

awaitable<result<bool>> directory::user_exists(user_id user) {
  {
    std::lock_guard lock(mutex_);
    if (users_.contains(user)) {
      co_return true;
    }
  }
  auto found = co_await repo_.find_user(user);
  if (!found) {
    co_return errc::unavailable;
  }
  if (!found->has_value()) {
    co_return false;
  }
  remember_user(user);
  co_return true;
}

void directory::remember_user(user_id user) {
  std::lock_guard lock(mutex_);
  users_.emplace(user, true);
}

awaitable<result<std::shared_ptr<const group_info>>> directory::group(group_id id) {
  // Without a version (cluster store unreachable) the cached list is the best we have.
  auto version = co_await cluster_.group_version(id);
  std::uint64_t seen;
  {
    std::lock_guard lock(mutex_);
    if (auto it = groups_.find(id); it != groups_.end() && (!version || it->second->version == *version)) {
      co_return it->second;
    }
    seen = generation_;
  }
  auto record = co_await repo_.find_group(id);
  if (!record) {
    co_return errc::unavailable;
  }
  if (!record->has_value()) {
    co_return std::shared_ptr<const group_info>{};
  }
  auto members = co_await repo_.group_members(id);
  if (!members) {
    co_return errc::unavailable;
  }
  auto info = std::make_shared<group_info>();
  info->id = id;
  info->name = std::move((*record)->name);
  info->description = std::move((*record)->description);
  info->members = std::move(*members);
  info->version = version ? *version : 0;
  std::shared_ptr<const group_info> snapshot = std::move(info);
  publish(snapshot, seen);
  co_return snapshot;
}

void directory::publish(std::shared_ptr<const group_info> info, std::uint64_t seen_generation) {
  std::lock_guard lock(mutex_);
  if (generation_ == seen_generation) {
    groups_[info->id] = std::move(info);
  }
}

awaitable<result<group_id>> directory::create_group(const storage::user_ref& creator, std::string name,
                                                    std::string description) {
  auto id = co_await repo_.create_group(creator.id, name, description);
  if (!id) {
    co_return id.error() == storage::errc::duplicate ? errc::create_group_error : errc::unavailable;
  }
  auto version = co_await cluster_.bump_group_version(*id);
  auto info = std::make_shared<group_info>();
  info->id = *id;
  info->name = std::move(name);
  info->description = std::move(description);
  info->members.push_back({creator.id, creator.name, storage::group_role::creator});
  info->version = version ? *version : 0;
  std::lock_guard lock(mutex_);
  ++generation_;
  groups_[*id] = std::move(info);
  co_return *id;
}

awaitable<result<void>> directory::join_group(group_id id, const storage::user_ref& user) {
  auto current = co_await group(id);
  if (!current) {
    co_return current.error();
  }
  if (!*current) {
    co_return errc::add_group_error;
  }
  if ((*current)->has_member(user.id)) {
    co_return result<void>{};
  }
  if (auto joined = co_await repo_.join_group(id, user.id); !joined) {
    co_return errc::unavailable;
  }
  // Other nodes see the new version and reload; here the next reader reloads too (a local
  // in-place update could hide another node's concurrent change).
  co_await cluster_.bump_group_version(id);
  std::lock_guard lock(mutex_);
  ++generation_;
  groups_.erase(id);
  co_return result<void>{};
}

}  // namespace chat::services
