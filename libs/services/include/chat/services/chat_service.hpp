// The business rules of PROTOCOL.md: sessions, friends, groups and message delivery
// (live to the recipient's connection, or stored for its next login).
#pragma once

#include <chat/metrics/metric.hpp>

#include <chat/asio/awaitable.hpp>
#include <chat/config/config.hpp>
#include <chat/services/accounts.hpp>
#include <chat/services/cluster.hpp>
#include <chat/services/directory.hpp>
#include <chat/services/link.hpp>
#include <chat/services/presence.hpp>
#include <chat/storage/repository.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::services {

struct friend_state {
  storage::user_ref user;
  bool online = false;
};

struct group_state {
  std::shared_ptr<const group_info> group;
  std::vector<bool> online;  // parallel to group->members
};

// What a successful login hands to the connection.
struct login_view {
  storage::user_ref user;
  std::vector<friend_state> friends;
  std::vector<group_state> groups;
  // Stored messages, oldest first, as frames carrying "offline":true. They are already removed
  // from storage: the connection owns them now (and stores them again if it cannot write them).
  std::vector<std::shared_ptr<const std::string>> offline;
};

// Thread-safe; every awaitable completes on the caller's executor. Errors are
// protocol::errc values (as error_code); errc::unavailable means nothing was changed.
class chat_service {
 public:
  // `background` runs the store of forwarded messages for users who have left.
  chat_service(asio::any_io_executor background, storage::repository& repo, accounts& accounts, directory& directory,
               presence& presence, cluster& cluster, std::chrono::milliseconds store_wait_limit);

  awaitable<result<storage::user_ref>> register_user(std::string name, std::string password);

  // Authenticates and registers `link` as the user's connection. The caller holds back live
  // chat frames on `link` until it has written the ack and login_view::offline.
  awaitable<result<login_view>> login(std::optional<user_id> id, std::optional<std::string> name,
                                      std::string password, std::shared_ptr<client_link> link);
  // The user is offline from now on: later messages to it are stored.
  awaitable<void> logout(user_id user, const client_link* link);

  awaitable<result<void>> add_friend(const storage::user_ref& self, user_id friend_id);
  awaitable<result<group_id>> create_group(const storage::user_ref& self, std::string name, std::string description);
  awaitable<result<void>> join_group(const storage::user_ref& self, group_id group);

  // Deliver or store; the result is the message's server time (ms since the epoch).
  awaitable<result<std::int64_t>> send_one(const storage::user_ref& from, user_id to, std::string_view text);
  awaitable<result<std::int64_t>> send_group(const storage::user_ref& from, group_id group, std::string_view text);

  // Stores chat frames a closing connection could not write, in their order.
  awaitable<result<void>> store_undelivered(std::vector<outbound> frames);

  // Counts every message stored for a recipient (null: not measured). Before any traffic.
  void set_metrics(metrics::counter* offline_stored) { offline_stored_ = offline_stored; }

  // A chat frame another node forwarded to users it believes are here: delivered to their
  // connections now, or stored for those who have left (in arrival order, in the background).
  // Any thread; never blocks.
  void accept_forwarded(std::vector<user_id> recipients, std::shared_ptr<const std::string> frame);

  presence& online() noexcept { return presence_; }

 private:
  awaitable<result<void>> deliver(const std::vector<user_id>& recipients, std::shared_ptr<const std::string> frame,
                                  bool may_forward);
  awaitable<result<std::vector<bool>>> online(std::vector<user_id> users);
  awaitable<result<login_view>> load_login_view(storage::user_ref user);
  awaitable<void> store_forwarded();

  struct pending_store {
    std::vector<presence::reservation> reservations;
    std::vector<storage::offline_append> rows;
  };

  storage::repository& repo_;
  accounts& accounts_;
  directory& directory_;
  presence& presence_;
  cluster& cluster_;
  std::chrono::milliseconds store_wait_limit_;
  asio::any_io_executor background_;
  metrics::counter* offline_stored_ = nullptr;
  std::mutex forwarded_mutex_;
  std::vector<pending_store> forwarded_;  // guarded by forwarded_mutex_
  bool forwarded_worker_ = false;         // guarded by forwarded_mutex_
};

// The body of a stored frame with "offline":true added (PROTOCOL.md: the live object plus that flag).
std::string offline_frame(std::string_view stored_payload);

}  // namespace chat::services
