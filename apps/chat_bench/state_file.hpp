// The state file: the users and groups `chat_bench setup` created, read by the other
// scenarios. JSON: {"password":..., "users":[{"id","name"}], "groups":[{"id","members":[ids]}]}.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chat::bench {

struct bench_user {
  std::int64_t id = 0;
  std::string name;
};

struct bench_group {
  std::int64_t id = 0;
  std::vector<std::int64_t> members;  // user ids; the first created the group
};

struct bench_state {
  std::string password;
  std::vector<bench_user> users;
  std::vector<bench_group> groups;
};

// Throws std::runtime_error naming the file and what is wrong with it.
bench_state load_state(const std::string& path);

// Writes a temporary file next to `path` and renames it, so a reader never sees half a file.
// Throws std::runtime_error.
void save_state(const std::string& path, const bench_state& state);

}  // namespace chat::bench
