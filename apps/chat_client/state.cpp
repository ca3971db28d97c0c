// The client's view of its user, friends and groups.
#include "state.hpp"

#include "frame_fields.hpp"

#include <algorithm>

namespace chat::client {

namespace json = boost::json;

namespace {

const json::array* array_field(const json::object& f, std::string_view key) {
  const auto* v = f.if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

}  // namespace

void client_state::remember(std::int64_t id, std::string_view name) {
  if (id > 0 && !name.empty()) {
    names_[id] = std::string(name);
  }
}

void client_state::apply_login(const json::object& ack) {
  self_id_ = int_field(ack, "id").value_or(0);
  self_name_ = std::string(string_field(ack, "name"));
  remember(self_id_, self_name_);
  friends_.clear();
  groups_.clear();
  if (const auto* fs = array_field(ack, "friends")) {
    for (const auto& v : *fs) {
      if (!v.is_object()) {
        continue;
      }
      const auto& o = v.get_object();
      friend_entry f;
      f.id = int_field(o, "id").value_or(0);
      f.name = std::string(string_field(o, "name"));
      f.state = std::string(string_field(o, "state"));
      if (f.id > 0) {
        remember(f.id, f.name);
        friends_.push_back(std::move(f));
      }
    }
  }
  if (const auto* gs = array_field(ack, "groups")) {
    for (const auto& v : *gs) {
      if (!v.is_object()) {
        continue;
      }
      const auto& o = v.get_object();
      group_entry g;
      g.id = int_field(o, "id").value_or(0);
      g.name = std::string(string_field(o, "groupname"));
      g.desc = std::string(string_field(o, "groupdesc"));
      if (const auto* us = array_field(o, "users")) {
        for (const auto& u : *us) {
          if (!u.is_object()) {
            continue;
          }
          const auto& uo = u.get_object();
          member_entry m;
          m.id = int_field(uo, "id").value_or(0);
          m.name = std::string(string_field(uo, "name"));
          m.role = std::string(string_field(uo, "role"));
          m.state = std::string(string_field(uo, "state"));
          if (m.id > 0) {
            remember(m.id, m.name);
            g.members.push_back(std::move(m));
          }
        }
      }
      if (g.id > 0) {
        groups_.push_back(std::move(g));
      }
    }
  }
}

void client_state::clear() {
  self_id_ = 0;
  self_name_.clear();
  friends_.clear();
  groups_.clear();
}

void client_state::add_friend(std::int64_t id) {
  if (id <= 0 || id == self_id_) {
    return;
  }
  auto it = std::find_if(friends_.begin(), friends_.end(), [id](const auto& f) { return f.id == id; });
  if (it != friends_.end()) {
    return;
  }
  friend_entry f;
  f.id = id;
  if (auto n = names_.find(id); n != names_.end()) {
    f.name = n->second;
  }
  friends_.push_back(std::move(f));
}

void client_state::add_created_group(std::int64_t id, std::string_view name, std::string_view desc) {
  if (id <= 0 || find_group(id) != nullptr) {
    return;
  }
  group_entry g;
  g.id = id;
  g.name = std::string(name);
  g.desc = std::string(desc);
  g.members.push_back(member_entry{self_id_, self_name_, "creator", "online"});
  groups_.push_back(std::move(g));
}

void client_state::add_joined_group(std::int64_t id) {
  if (id <= 0 || find_group(id) != nullptr) {
    return;
  }
  group_entry g;
  g.id = id;
  g.members.push_back(member_entry{self_id_, self_name_, "normal", "online"});
  groups_.push_back(std::move(g));
}

void client_state::learn_from_message(const json::object& msg) {
  const auto from = int_field(msg, "id").value_or(0);
  const auto name = string_field(msg, "name");
  if (from <= 0) {
    return;
  }
  remember(from, name);
  const bool live = !bool_field(msg, "offline");
  for (auto& f : friends_) {
    if (f.id == from) {
      if (!name.empty()) {
        f.name = std::string(name);
      }
      if (live) {
        f.state = "online";
      }
    }
  }
  const auto groupid = int_field(msg, "groupid");
  if (!groupid) {
    return;
  }
  for (auto& g : groups_) {
    if (g.id != *groupid) {
      continue;
    }
    auto m = std::find_if(g.members.begin(), g.members.end(), [from](const auto& e) { return e.id == from; });
    if (m == g.members.end()) {
      g.members.push_back(member_entry{from, std::string(name), "", live ? "online" : ""});
    } else {
      if (!name.empty()) {
        m->name = std::string(name);
      }
      if (live) {
        m->state = "online";
      }
    }
  }
}

std::optional<std::int64_t> client_state::find_user(std::string_view name) const {
  if (name.empty()) {
    return std::nullopt;
  }
  if (logged_in() && name == self_name_) {
    return self_id_;
  }
  for (const auto& f : friends_) {
    if (f.name == name) {
      return f.id;
    }
  }
  for (const auto& [id, n] : names_) {
    if (n == name) {
      return id;
    }
  }
  return std::nullopt;
}

std::optional<std::string> client_state::user_name(std::int64_t id) const {
  if (auto it = names_.find(id); it != names_.end()) {
    return it->second;
  }
  return std::nullopt;
}

const group_entry* client_state::find_group(std::int64_t id) const {
  for (const auto& g : groups_) {
    if (g.id == id) {
      return &g;
    }
  }
  return nullptr;
}

std::vector<std::string> client_state::known_names() const {
  std::vector<std::string> out;
  for (const auto& f : friends_) {
    if (!f.name.empty()) {
      out.push_back(f.name);
    }
  }
  for (const auto& [id, n] : names_) {
    if (id != self_id_ && std::find(out.begin(), out.end(), n) == out.end()) {
      out.push_back(n);
    }
  }
  return out;
}

}  // namespace chat::client
