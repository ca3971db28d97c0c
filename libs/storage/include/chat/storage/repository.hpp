// The durable state of the chat service (users, friends, groups, offline messages) as an
// abstract, coroutine-based repository. mysql_repository implements it; tests may fake it.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/storage/error.hpp>

#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::storage {

template <class T>
using result = boost::system::result<T>;

using user_id = std::int64_t;
using group_id = std::int64_t;

struct user_record {
  user_id id = 0;
  std::string name;
  std::string password_hash;  // Argon2id string (crypto_pwhash_str format)
};

struct user_ref {
  user_id id = 0;
  std::string name;
};

enum class group_role { creator, normal };

struct group_member {
  user_id id = 0;
  std::string name;
  group_role role = group_role::normal;
};

struct group_record {
  group_id id = 0;
  std::string name;
  std::string description;
};

struct offline_message {
  std::int64_t id = 0;    // increasing: the delivery order
  std::string payload;    // JSON object text, as the live recipient would have received it
};

struct offline_append {
  user_id recipient = 0;
  std::string payload;
};

// All functions may be called from any thread or coroutine concurrently. Each completes on the
// caller's executor. Infrastructure failures (database down, timeout, pool exhausted for longer
// than the query timeout) return errc::unavailable, having changed nothing.
class repository {
 public:
  virtual ~repository() = default;

  // errc::duplicate when the name is taken.
  virtual awaitable<result<user_id>> create_user(std::string name, std::string password_hash) = 0;
  virtual awaitable<result<std::optional<user_record>>> find_user(user_id id) = 0;
  virtual awaitable<result<std::optional<user_record>>> find_user_by_name(std::string name) = 0;

  // Mutual and idempotent: stores both directions in one transaction.
  virtual awaitable<result<void>> add_friend(user_id a, user_id b) = 0;
  // Ordered by id.
  virtual awaitable<result<std::vector<user_ref>>> friends_of(user_id id) = 0;

  // Creates the group and makes `creator` its member with role creator, in one transaction.
  // errc::duplicate when the name is taken.
  virtual awaitable<result<group_id>> create_group(user_id creator, std::string name,
                                                   std::string description) = 0;
  virtual awaitable<result<std::optional<group_record>>> find_group(group_id id) = 0;
  // Idempotent: joining again keeps the existing role.
  virtual awaitable<result<void>> join_group(group_id gid, user_id uid) = 0;
  // Members ordered by user id.
  virtual awaitable<result<std::vector<group_member>>> group_members(group_id gid) = 0;
  // Groups the user belongs to, ordered by group id.
  virtual awaitable<result<std::vector<group_record>>> groups_of(user_id uid) = 0;

  // Appends messages in the given order, all in one transaction (all or nothing).
  virtual awaitable<result<void>> store_offline(std::vector<offline_append> messages) = 0;
  // The user's stored messages, oldest first.
  virtual awaitable<result<std::vector<offline_message>>> offline_messages(user_id uid) = 0;
  // Removes the user's stored messages with id <= last_id (those already handed over).
  virtual awaitable<result<void>> remove_offline(user_id uid, std::int64_t last_id) = 0;
};

}  // namespace chat::storage
