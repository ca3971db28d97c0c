// Local presence registry and the live-or-store hand-over.
#include <chat/services/presence.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

namespace chat::services {

bool presence::try_register(user_id user, std::shared_ptr<client_link> link) {
  auto& s = shard_of(user);
  std::lock_guard lock(s.mutex);
  auto& e = s.users[user];
  if (e.link) {
    return false;
  }
  e.link = std::move(link);
  return true;
}

void presence::unregister(user_id user, const client_link* link) {
  auto& s = shard_of(user);
  std::lock_guard lock(s.mutex);
  auto it = s.users.find(user);
  if (it == s.users.end() || it->second.link.get() != link) {
    return;
  }
  it->second.link.reset();
  if (it->second.pending_stores == 0) {
    s.users.erase(it);
  }
}

bool presence::is_online(user_id user) const {
  auto& s = shard_of(user);
  std::lock_guard lock(s.mutex);
  auto it = s.users.find(user);
  return it != s.users.end() && it->second.link != nullptr;
}

std::size_t presence::online_count() const {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (const auto& [id, e] : s.users) {
      n += e.link != nullptr;
    }
  }
  return n;
}

std::vector<user_id> presence::online_users() const {
  std::vector<user_id> users;
  for (auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (const auto& [id, e] : s.users) {
      if (e.link) {
        users.push_back(id);
      }
    }
  }
  return users;
}

std::optional<presence::reservation> presence::deliver_or_reserve(user_id user, const outbound& msg) {
  auto& s = shard_of(user);
  std::lock_guard lock(s.mutex);
  auto& e = s.users[user];
  // deliver() only queues (a short lock of its own), so holding the shard lock here is cheap,
  // and it makes "found offline" and "reserved a store" one step.
  if (e.link && e.link->deliver(msg)) {
    return std::nullopt;
  }
  ++e.pending_stores;
  return reservation(this, user);
}

void presence::release(user_id user) noexcept {
  auto& s = shard_of(user);
  std::lock_guard lock(s.mutex);
  auto it = s.users.find(user);
  if (it == s.users.end()) {
    return;
  }
  if (--it->second.pending_stores == 0 && !it->second.link) {
    s.users.erase(it);
  }
}

std::size_t presence::pending_stores(user_id user) const {
  auto& s = shard_of(user);
  std::lock_guard lock(s.mutex);
  auto it = s.users.find(user);
  return it == s.users.end() ? 0 : static_cast<std::size_t>(it->second.pending_stores);
}

presence::reservation::~reservation() {
  if (owner_ != nullptr) {
    owner_->release(user_);
  }
}

awaitable<bool> presence::wait_for_stores(user_id user, std::chrono::milliseconds limit) {
  // Reservations last one database insert, so a short poll is simpler than a wake-up list.
  const auto deadline = std::chrono::steady_clock::now() + limit;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (pending_stores(user) != 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      co_return false;
    }
    timer.expires_after(std::chrono::milliseconds(2));
    co_await timer.async_wait(use_nothrow);
  }
  co_return true;
}

}  // namespace chat::services
