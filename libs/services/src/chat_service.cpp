// Sessions, social graph and message delivery.
#include <chat/protocol/frame.hpp>
#include <chat/protocol/message.hpp>
#include <chat/services/chat_service.hpp>

#include <chat/asio/logging.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <utility>

namespace chat::services {

using protocol::errc;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The object a recipient receives, e.g. {"msgid":5,"id":17,"name":"alice","to":3,"msg":"hi","time":...}.
std::shared_ptr<const std::string> chat_frame(protocol::msgid type, const storage::user_ref& from,
                                              std::string_view target_key, std::int64_t target, std::string_view text,
                                              std::int64_t time) {
  boost::json::object msg;
  msg["msgid"] = protocol::to_int(type);
  msg["id"] = from.id;
  msg["name"] = from.name;
  msg[target_key] = target;
  msg["msg"] = text;
  msg["time"] = time;
  return std::make_shared<const std::string>(protocol::to_frame(msg));
}

std::string_view body_of(const std::string& frame) { return std::string_view(frame).substr(protocol::frame_header_bytes); }

}  // namespace

std::string offline_frame(std::string_view stored_payload) {
  // A stored payload is a serialised JSON object, so it ends with '}'.
  std::string body(stored_payload.substr(0, stored_payload.rfind('}')));
  body += ",\"offline\":true}";
  return protocol::encode_frame(body);
}

chat_service::chat_service(asio::any_io_executor background, storage::repository& repo, accounts& accounts,
                           directory& directory, presence& presence, cluster& cluster,
                           std::chrono::milliseconds store_wait_limit)
    : repo_(repo),
      accounts_(accounts),
      directory_(directory),
      presence_(presence),
      cluster_(cluster),
      store_wait_limit_(store_wait_limit),
      background_(std::move(background)) {}

awaitable<result<storage::user_ref>> chat_service::register_user(std::string name, std::string password) {
  auto user = co_await accounts_.register_user(std::move(name), std::move(password));
  if (user) {
    directory_.remember_user(user->id);
  }
  co_return user;
}

awaitable<result<login_view>> chat_service::login(std::optional<user_id> id, std::optional<std::string> name,
                                                  std::string password, std::shared_ptr<client_link> link) {
  auto address = link->client_address();
  auto user = co_await accounts_.authenticate(id, std::move(name), std::move(password), std::move(address));
  if (!user) {
    co_return user.error();
  }
  directory_.remember_user(user->id);
  const client_link* raw = link.get();
  if (!presence_.try_register(user->id, std::move(link))) {
    co_return errc::online_error;
  }
  auto claimed = co_await cluster_.claim(user->id);
  if (!claimed || !*claimed) {
    presence_.unregister(user->id, raw);
    co_return claimed ? result<login_view>(errc::online_error) : result<login_view>(errc::unavailable);
  }
  auto view = co_await load_login_view(*user);
  if (!view) {
    co_await logout(user->id, raw);
  }
  co_return view;
}

awaitable<result<login_view>> chat_service::load_login_view(storage::user_ref user) {
  // Messages being stored for this user right now must land before the offline table is read.
  // Named results rather than co_await in a condition: g++ 12 has miscompiled the latter.
  const bool stores_done = co_await presence_.wait_for_stores(user.id, store_wait_limit_);
  if (!stores_done) {
    co_return errc::unavailable;
  }
  login_view view;
  auto friends = co_await repo_.friends_of(user.id);
  if (!friends) {
    co_return errc::unavailable;
  }
  std::vector<user_id> ids;
  for (const auto& f : *friends) {
    ids.push_back(f.id);
  }
  auto states = co_await online(std::move(ids));
  if (!states) {
    co_return states.error();
  }
  for (std::size_t i = 0; i < friends->size(); ++i) {
    view.friends.push_back({std::move((*friends)[i]), (*states)[i]});
  }
  auto groups = co_await repo_.groups_of(user.id);
  if (!groups) {
    co_return errc::unavailable;
  }
  for (const auto& g : *groups) {
    auto info = co_await directory_.group(g.id);
    if (!info) {
      co_return errc::unavailable;
    }
    if (!*info) {
      continue;
    }
    std::vector<user_id> members;
    for (const auto& m : (*info)->members) {
      members.push_back(m.id);
    }
    auto member_states = co_await online(std::move(members));
    if (!member_states) {
      co_return member_states.error();
    }
    view.groups.push_back(group_state{*info, std::move(*member_states)});
  }
  auto stored = co_await repo_.offline_messages(user.id);
  if (!stored) {
    co_return errc::unavailable;
  }
  if (!stored->empty()) {
    const auto removed = co_await repo_.remove_offline(user.id, stored->back().id);
    if (!removed) {
      co_return errc::unavailable;
    }
    for (const auto& m : *stored) {
      view.offline.push_back(std::make_shared<const std::string>(offline_frame(m.payload)));
    }
  }
  view.user = std::move(user);
  co_return view;
}

awaitable<void> chat_service::logout(user_id user, const client_link* link) {
  presence_.unregister(user, link);
  co_await cluster_.release(user);
}

// Online anywhere: here (presence) or on another node (cluster).
awaitable<result<std::vector<bool>>> chat_service::online(std::vector<user_id> users) {
  std::vector<bool> states(users.size());
  std::vector<user_id> not_here;
  for (std::size_t i = 0; i < users.size(); ++i) {
    states[i] = presence_.is_online(users[i]);
    if (!states[i]) {
      not_here.push_back(users[i]);
    }
  }
  if (not_here.empty()) {
    co_return states;
  }
  auto elsewhere = co_await cluster_.online_elsewhere(std::move(not_here));
  if (!elsewhere) {
    co_return errc::unavailable;
  }
  for (std::size_t i = 0, j = 0; i < users.size(); ++i) {
    if (!states[i]) {
      states[i] = (*elsewhere)[j++];
    }
  }
  co_return states;
}

awaitable<result<void>> chat_service::add_friend(const storage::user_ref& self, user_id friend_id) {
  if (friend_id == self.id) {
    co_return errc::add_friend_error;
  }
  auto exists = co_await directory_.user_exists(friend_id);
  if (!exists) {
    co_return exists.error();
  }
  if (!*exists) {
    co_return errc::no_account;
  }
  const auto added = co_await repo_.add_friend(self.id, friend_id);
  if (!added) {
    co_return errc::unavailable;
  }
  co_return result<void>{};
}

awaitable<result<group_id>> chat_service::create_group(const storage::user_ref& self, std::string name,
                                                       std::string description) {
  co_return co_await directory_.create_group(self, std::move(name), std::move(description));
}

awaitable<result<void>> chat_service::join_group(const storage::user_ref& self, group_id group) {
  co_return co_await directory_.join_group(group, self);
}

awaitable<result<std::int64_t>> chat_service::send_one(const storage::user_ref& from, user_id to,
                                                       std::string_view text) {
  auto exists = co_await directory_.user_exists(to);
  if (!exists) {
    co_return exists.error();
  }
  if (!*exists) {
    co_return errc::no_account;
  }
  const std::int64_t time = now_ms();
  const std::vector<user_id> recipients{to};
  auto frame = chat_frame(protocol::msgid::one_chat, from, "to", to, text, time);
  auto delivered = co_await deliver(recipients, std::move(frame), true);
  if (!delivered) {
    co_return delivered.error();
  }
  co_return time;
}

awaitable<result<std::int64_t>> chat_service::send_group(const storage::user_ref& from, group_id group,
                                                         std::string_view text) {
  auto info = co_await directory_.group(group);
  if (!info) {
    co_return info.error();
  }
  if (!*info) {
    co_return errc::add_group_error;
  }
  if (!(*info)->has_member(from.id)) {
    co_return errc::not_member;
  }
  std::vector<user_id> recipients;
  recipients.reserve((*info)->members.size());
  for (const auto& m : (*info)->members) {
    if (m.id != from.id) {
      recipients.push_back(m.id);
    }
  }
  const std::int64_t time = now_ms();
  // Serialised once; every member's queue shares the same buffer.
  auto frame = chat_frame(protocol::msgid::group_chat, from, "groupid", group, text, time);
  auto delivered = co_await deliver(recipients, std::move(frame), true);
  if (!delivered) {
    co_return delivered.error();
  }
  co_return time;
}

// Live to connections here; then to other nodes (unless the frame came from one); the rest is
// stored. Store reservations are held until the store is done (see presence).
awaitable<result<void>> chat_service::deliver(const std::vector<user_id>& recipients,
                                              std::shared_ptr<const std::string> frame, bool may_forward) {
  std::vector<presence::reservation> reservations;
  std::vector<user_id> not_here;
  const bool fan_out = recipients.size() > 1;
  for (user_id r : recipients) {
    if (auto reserved = presence_.deliver_or_reserve(r, outbound{frame, r, fan_out})) {
      reservations.push_back(std::move(*reserved));
      not_here.push_back(r);
    }
  }
  if (not_here.empty()) {
    co_return result<void>{};
  }
  if (may_forward) {
    // A cluster that cannot be reached: store for everyone not here (never lose a message).
    auto left = co_await cluster_.forward(not_here, frame);
    if (left) {
      not_here = std::move(*left);
    }
  }
  std::vector<storage::offline_append> to_store;
  for (user_id r : not_here) {
    to_store.push_back({r, std::string(body_of(*frame))});
  }
  if (!to_store.empty()) {
    const auto rows = to_store.size();
    const auto stored = co_await repo_.store_offline(std::move(to_store));
    if (!stored) {
      co_return errc::unavailable;
    }
    metrics::inc(offline_stored_, rows);
  }
  co_return result<void>{};
}

void chat_service::accept_forwarded(std::vector<user_id> recipients, std::shared_ptr<const std::string> frame) {
  pending_store p;
  const bool fan_out = recipients.size() > 1;
  for (user_id r : recipients) {
    if (auto reserved = presence_.deliver_or_reserve(r, outbound{frame, r, fan_out})) {
      p.reservations.push_back(std::move(*reserved));
      p.rows.push_back({r, std::string(body_of(*frame))});
    }
  }
  if (p.rows.empty()) {
    return;
  }
  bool start_worker = false;
  {
    std::lock_guard lock(forwarded_mutex_);
    forwarded_.push_back(std::move(p));
    start_worker = !std::exchange(forwarded_worker_, true);
  }
  // Outside the lock: co_spawn may run the worker inline on this thread, and it takes the lock.
  if (start_worker) {
    asio::co_spawn(background_, store_forwarded(), asio::detached);
  }
}

// One worker at a time, so stores happen in arrival order (per-sender order for offline users).
awaitable<void> chat_service::store_forwarded() {
  for (;;) {
    std::vector<pending_store> batch;
    {
      std::lock_guard lock(forwarded_mutex_);
      if (forwarded_.empty()) {
        forwarded_worker_ = false;
        co_return;
      }
      batch.swap(forwarded_);
    }
    std::vector<storage::offline_append> rows;
    for (auto& p : batch) {
      std::move(p.rows.begin(), p.rows.end(), std::back_inserter(rows));
    }
    const auto count = rows.size();
    const auto stored_rows = co_await repo_.store_offline(std::move(rows));
    if (!stored_rows) {
      named_logger("chat")->error("lost {} forwarded messages for users who left: storage unavailable", count);
    } else {
      metrics::inc(offline_stored_, count);
    }
  }  // reservations are released here, after the store
}

awaitable<result<void>> chat_service::store_undelivered(std::vector<outbound> frames) {
  std::vector<storage::offline_append> to_store;
  to_store.reserve(frames.size());
  for (const auto& f : frames) {
    to_store.push_back({f.store_for, std::string(body_of(*f.frame))});
  }
  if (!to_store.empty()) {
    const auto rows = to_store.size();
    const auto stored = co_await repo_.store_offline(std::move(to_store));
    if (!stored) {
      co_return errc::unavailable;
    }
    metrics::inc(offline_stored_, rows);
  }
  co_return result<void>{};
}

}  // namespace chat::services
