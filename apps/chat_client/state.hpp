// What the client knows about its user: identity, friends and groups as the last
// LOGIN_MSG_ACK listed them, updated by what it learns since (acks, received messages).
// Sans-I/O and single-threaded.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::client {

struct friend_entry {
  std::int64_t id = 0;
  std::string name;   // empty: not known yet (added by id since the login)
  std::string state;  // "online", "offline", or empty: not known
};

struct member_entry {
  std::int64_t id = 0;
  std::string name;
  std::string role;   // "creator", "normal", or empty: not known
  std::string state;  // "online", "offline", or empty: not known
};

struct group_entry {
  std::int64_t id = 0;
  std::string name;  // empty: not known (joined by id since the login)
  std::string desc;
  std::vector<member_entry> members;
};

class client_state {
 public:
  bool logged_in() const noexcept { return self_id_ > 0; }
  std::int64_t self_id() const noexcept { return self_id_; }
  const std::string& self_name() const noexcept { return self_name_; }
  const std::vector<friend_entry>& friends() const noexcept { return friends_; }
  const std::vector<group_entry>& groups() const noexcept { return groups_; }

  // Replaces everything with a successful LOGIN_MSG_ACK (PROTOCOL.md §6). Malformed entries
  // are skipped.
  void apply_login(const boost::json::object& ack);
  // Logged out: forgets the user, friends and groups (names learned stay, they do not change).
  void clear();

  // ADD_FRIEND_ACK success: the friend is listed (name and state unknown unless learned).
  void add_friend(std::int64_t id);
  // CREATE_GROUP_ACK success: a group with this user as its creator.
  void add_created_group(std::int64_t id, std::string_view name, std::string_view desc);
  // ADD_GROUP_ACK success: this user joined as a normal member.
  void add_joined_group(std::int64_t id);
  // A received chat message (5 or 12): its sender's name; a live message means the sender is
  // online; a group message means the sender is a member.
  void learn_from_message(const boost::json::object& msg);

  // A user id for `name`: this user, a friend, a group member or a sender seen since the
  // login. Names are unique (PROTOCOL.md: REG_ERROR), so the answer is unambiguous.
  std::optional<std::int64_t> find_user(std::string_view name) const;
  // The name of a user, if known.
  std::optional<std::string> user_name(std::int64_t id) const;
  const group_entry* find_group(std::int64_t id) const;
  // Names for completion: friends and other known users (not this user).
  std::vector<std::string> known_names() const;

 private:
  void remember(std::int64_t id, std::string_view name);

  std::int64_t self_id_ = 0;
  std::string self_name_;
  std::vector<friend_entry> friends_;
  std::vector<group_entry> groups_;
  std::map<std::int64_t, std::string> names_;  // every id -> name pair seen
};

}  // namespace chat::client
