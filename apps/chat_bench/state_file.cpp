// State file reading and writing with Boost.JSON.
#include "state_file.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace chat::bench {

namespace json = boost::json;

bench_state load_state(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read the state file " + path + " (run `chat_bench setup` first)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    const json::value root = json::parse(text.str());
    const auto& obj = root.as_object();
    bench_state state;
    state.password = json::value_to<std::string>(obj.at("password"));
    for (const auto& u : obj.at("users").as_array()) {
      const auto& o = u.as_object();
      state.users.push_back({o.at("id").to_number<std::int64_t>(), json::value_to<std::string>(o.at("name"))});
    }
    for (const auto& g : obj.at("groups").as_array()) {
      const auto& o = g.as_object();
      state.groups.push_back(
          {o.at("id").to_number<std::int64_t>(), json::value_to<std::vector<std::int64_t>>(o.at("members"))});
    }
    return state;
  } catch (const std::exception& e) {
    throw std::runtime_error("the state file " + path + " is not what `chat_bench setup` writes: " + e.what());
  }
}

void save_state(const std::string& path, const bench_state& state) {
  json::array users;
  for (const auto& u : state.users) {
    users.push_back(json::object{{"id", u.id}, {"name", u.name}});
  }
  json::array groups;
  for (const auto& g : state.groups) {
    json::array members(g.members.begin(), g.members.end());
    groups.push_back(json::object{{"id", g.id}, {"members", std::move(members)}});
  }
  const json::object root{{"password", state.password}, {"users", std::move(users)}, {"groups", std::move(groups)}};

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << json::serialize(root) << '\n';
    if (!out.flush()) {
      throw std::runtime_error("cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
  }
}

}  // namespace chat::bench
