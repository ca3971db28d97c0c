// mysql_repository: each request is one piece of blocking work (prepared statements, in a
// transaction where several rows change together) run on the pool; the coroutine waits for it.
#include <chat/storage/mysql_repository.hpp>

#include "mysql_pool.hpp"

#include <chat/storage/detail/log.hpp>
#include <chat/storage/schema.hpp>

#include <algorithm>
#include <future>
#include <utility>

namespace chat::storage {

using boost::system::error_code;
using detail::mysql_connection;
using detail::statement;

struct mysql_repository::impl {
  explicit impl(const pool_params& p)
      : params((detail::ensure_mysql_library(), p)), pool(params, [this] { return mysql_connection::open(params); }) {}

  const pool_params params;  // outlives pool, whose threads read it when connecting
  detail::mysql_pool pool;
};

namespace {

// Statement texts are constants: user data only ever travels as bound parameters.
constexpr std::string_view insert_user = "INSERT INTO `user` (name, password) VALUES (?, ?)";
constexpr std::string_view select_user_by_id = "SELECT id, name, password FROM `user` WHERE id = ?";
constexpr std::string_view select_user_by_name = "SELECT id, name, password FROM `user` WHERE name = ?";
constexpr std::string_view insert_friend = "INSERT IGNORE INTO friend (userid, friendid) VALUES (?, ?)";
constexpr std::string_view select_friends =
    "SELECT u.id, u.name FROM friend f JOIN `user` u ON u.id = f.friendid WHERE f.userid = ? ORDER BY u.id";
constexpr std::string_view insert_group = "INSERT INTO allgroup (groupname, groupdesc) VALUES (?, ?)";
constexpr std::string_view insert_creator =
    "INSERT INTO groupuser (groupid, userid, grouprole) VALUES (?, ?, 'creator')";
constexpr std::string_view select_group = "SELECT id, groupname, groupdesc FROM allgroup WHERE id = ?";
constexpr std::string_view insert_member =
    "INSERT IGNORE INTO groupuser (groupid, userid, grouprole) VALUES (?, ?, 'normal')";
constexpr std::string_view select_members =
    "SELECT u.id, u.name, g.grouprole FROM groupuser g JOIN `user` u ON u.id = g.userid "
    "WHERE g.groupid = ? ORDER BY u.id";
constexpr std::string_view select_groups_of =
    "SELECT a.id, a.groupname, a.groupdesc FROM groupuser g JOIN allgroup a ON a.id = g.groupid "
    "WHERE g.userid = ? ORDER BY a.id";
constexpr std::string_view insert_offline = "INSERT INTO offlinemessage (userid, message) VALUES (?, ?)";
constexpr std::string_view select_offline = "SELECT id, message FROM offlinemessage WHERE userid = ? ORDER BY id";
constexpr std::string_view delete_offline = "DELETE FROM offlinemessage WHERE userid = ? AND id <= ?";

user_record read_user(const statement& row) { return {row.get_int64(0), row.get_string(1), row.get_string(2)}; }

group_record read_group(const statement& row) { return {row.get_int64(0), row.get_string(1), row.get_string(2)}; }

error_code run_schema(mysql_connection& c, const std::vector<std::string>& statements) {
  for (const auto& s : statements) {
    if (auto ec = c.run(s)) return ec;
  }
  return {};
}

}  // namespace

mysql_repository::mysql_repository(const config::mysql_section& cfg) : mysql_repository(make_pool_params(cfg)) {}

mysql_repository::mysql_repository(const pool_params& params) : impl_(std::make_unique<impl>(params)) {}

mysql_repository::~mysql_repository() = default;

void mysql_repository::stop() { impl_->pool.stop(); }

pool_stats mysql_repository::stats() const { return impl_->pool.stats(); }

void mysql_repository::set_metrics(metrics::histogram* wait_seconds, metrics::counter* errors) {
  impl_->pool.set_metrics(wait_seconds, errors);
}

awaitable<result<void>> mysql_repository::ping() {
  auto [ec] = co_await impl_->pool.async_run(
      [](mysql_connection& c) -> boost::system::error_code {
        if (c.ping()) return {};
        return make_error_code(errc::unavailable);
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return result<void>{};
}

awaitable<result<void>> mysql_repository::apply_schema(std::string sql_text) {
  const auto statements = split_sql_statements(sql_text);
  auto [ec] = co_await impl_->pool.async_run([&](mysql_connection& c) { return run_schema(c, statements); },
                                             use_nothrow);
  if (ec) co_return ec;
  detail::db_log()->info("schema applied ({} statements)", statements.size());
  co_return result<void>{};
}

result<void> mysql_repository::apply_schema_blocking(std::string_view sql_text) {
  const auto statements = split_sql_statements(sql_text);
  std::promise<error_code> done;
  auto outcome = done.get_future();
  // The handler has no executor of its own: it completes on a pool thread.
  impl_->pool.async_run([&](mysql_connection& c) { return run_schema(c, statements); },
                        [&done](error_code ec) { done.set_value(ec); });
  if (auto ec = outcome.get()) return ec;
  detail::db_log()->info("schema applied ({} statements)", statements.size());
  return {};
}

awaitable<result<user_id>> mysql_repository::create_user(std::string name, std::string password_hash) {
  user_id id = 0;
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) -> error_code {
        auto r = c.execute(insert_user, {std::string_view(name), std::string_view(password_hash)});
        if (!r) return r.error();
        id = r->insert_id;
        return {};
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return id;
}

awaitable<result<std::optional<user_record>>> mysql_repository::find_user(user_id id) {
  std::optional<user_record> found;
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        return c.query(select_user_by_id, {id}, [&](const statement& row) { found = read_user(row); });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return found;
}

awaitable<result<std::optional<user_record>>> mysql_repository::find_user_by_name(std::string name) {
  std::optional<user_record> found;
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        return c.query(select_user_by_name, {std::string_view(name)},
                       [&](const statement& row) { found = read_user(row); });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return found;
}

awaitable<result<void>> mysql_repository::add_friend(user_id a, user_id b) {
  // Rows in a fixed order (smaller id first), so that add_friend(a, b) and add_friend(b, a)
  // running together cannot deadlock.
  const user_id lo = std::min(a, b);
  const user_id hi = std::max(a, b);
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        return c.transaction([&]() -> error_code {
          if (auto r = c.execute(insert_friend, {lo, hi}); !r) return r.error();
          if (auto r = c.execute(insert_friend, {hi, lo}); !r) return r.error();
          return {};
        });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return result<void>{};
}

awaitable<result<std::vector<user_ref>>> mysql_repository::friends_of(user_id id) {
  std::vector<user_ref> friends;
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        friends.clear();
        return c.query(select_friends, {id}, [&](const statement& row) {
          friends.push_back({row.get_int64(0), row.get_string(1)});
        });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return friends;
}

awaitable<result<group_id>> mysql_repository::create_group(user_id creator, std::string name,
                                                           std::string description) {
  group_id gid = 0;
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        return c.transaction([&]() -> error_code {
          auto g = c.execute(insert_group, {std::string_view(name), std::string_view(description)});
          if (!g) return g.error();
          gid = g->insert_id;
          if (auto m = c.execute(insert_creator, {gid, creator}); !m) return m.error();
          return {};
        });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return gid;
}

awaitable<result<std::optional<group_record>>> mysql_repository::find_group(group_id id) {
  std::optional<group_record> found;
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        return c.query(select_group, {id}, [&](const statement& row) { found = read_group(row); });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return found;
}

awaitable<result<void>> mysql_repository::join_group(group_id gid, user_id uid) {
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) -> error_code {
        if (auto r = c.execute(insert_member, {gid, uid}); !r) return r.error();
        return {};
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return result<void>{};
}

awaitable<result<std::vector<group_member>>> mysql_repository::group_members(group_id gid) {
  std::vector<group_member> members;
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        members.clear();
        return c.query(select_members, {gid}, [&](const statement& row) {
          const auto role = row.get_string(2) == "creator" ? group_role::creator : group_role::normal;
          members.push_back({row.get_int64(0), row.get_string(1), role});
        });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return members;
}

awaitable<result<std::vector<group_record>>> mysql_repository::groups_of(user_id uid) {
  std::vector<group_record> groups;
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        groups.clear();
        return c.query(select_groups_of, {uid}, [&](const statement& row) { groups.push_back(read_group(row)); });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return groups;
}

awaitable<result<void>> mysql_repository::store_offline(std::vector<offline_append> messages) {
  if (messages.empty()) co_return result<void>{};
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        return c.transaction([&]() -> error_code {
          for (const auto& m : messages) {
            if (auto r = c.execute(insert_offline, {m.recipient, std::string_view(m.payload)}); !r) return r.error();
          }
          return {};
        });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return result<void>{};
}

awaitable<result<std::vector<offline_message>>> mysql_repository::offline_messages(user_id uid) {
  std::vector<offline_message> out;
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) {
        out.clear();
        return c.query(select_offline, {uid}, [&](const statement& row) {
          out.push_back({row.get_int64(0), row.get_string(1)});
        });
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return out;
}

awaitable<result<void>> mysql_repository::remove_offline(user_id uid, std::int64_t last_id) {
  auto [ec] = co_await impl_->pool.async_run(
      [&](mysql_connection& c) -> error_code {
        if (auto r = c.execute(delete_offline, {uid, last_id}); !r) return r.error();
        return {};
      },
      use_nothrow);
  if (ec) co_return ec;
  co_return result<void>{};
}

}  // namespace chat::storage
