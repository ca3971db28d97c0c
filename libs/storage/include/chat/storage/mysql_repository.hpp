// The repository on MySQL/MariaDB: prepared statements over a pool of libmysqlclient
// connections whose blocking calls run on the pool's own threads.
#pragma once

#include <chat/metrics/metric.hpp>

#include <chat/storage/pool_params.hpp>
#include <chat/storage/repository.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace chat::config {
struct mysql_section;
}

namespace chat::storage {

// Every function may be called from any thread or coroutine concurrently, and completes on the
// caller's executor (repository's contract). Requests are not cancellable; each is bounded by
// query_timeout (waiting for a connection) + connect_timeout (opening one, when needed) + the
// read/write timeouts of its statements. Infrastructure failures return errc::unavailable and
// are logged on the "db" logger (or spdlog's default logger).
//
// The first instance calls mysql_library_init (once, thread-safe); mysql_library_end runs at
// program exit, so destroy every mysql_repository before main returns.
class mysql_repository final : public repository {
 public:
  // Opens no connection yet: the pool grows on demand, up to pool_size.
  explicit mysql_repository(const config::mysql_section& cfg);
  explicit mysql_repository(const pool_params& params);
  // stop(), then waits for requests in flight (bounded by the timeouts). Must not run on a pool
  // thread.
  ~mysql_repository() override;

  mysql_repository(const mysql_repository&) = delete;
  mysql_repository& operator=(const mysql_repository&) = delete;

  // Runs the statements of a schema script (split by split_sql_statements) in order on one
  // connection; stops at the first failure (errc::unavailable, logged). Idempotent for
  // sql/schema.sql.
  awaitable<result<void>> apply_schema(std::string sql_text);
  // The same, blocking the calling thread: for start-up, before the io threads run. Must not be
  // called on an io thread or a pool thread.
  result<void> apply_schema_blocking(std::string_view sql_text);

  // Idempotent, any thread: fails waiting and later requests with errc::unavailable.
  void stop();

  // Any thread: a snapshot for metrics.
  pool_stats stats() const;
  // Instruments of the pool (basic_pool::set_metrics); before the first request.
  void set_metrics(metrics::histogram* wait_seconds, metrics::counter* errors);
  // A round trip to the database on a pool connection (readiness checks); errc::unavailable
  // when none answers within the query timeout.
  awaitable<result<void>> ping();

  awaitable<result<user_id>> create_user(std::string name, std::string password_hash) override;
  awaitable<result<std::optional<user_record>>> find_user(user_id id) override;
  awaitable<result<std::optional<user_record>>> find_user_by_name(std::string name) override;

  awaitable<result<void>> add_friend(user_id a, user_id b) override;
  awaitable<result<std::vector<user_ref>>> friends_of(user_id id) override;

  awaitable<result<group_id>> create_group(user_id creator, std::string name, std::string description) override;
  awaitable<result<std::optional<group_record>>> find_group(group_id id) override;
  awaitable<result<void>> join_group(group_id gid, user_id uid) override;
  awaitable<result<std::vector<group_member>>> group_members(group_id gid) override;
  awaitable<result<std::vector<group_record>>> groups_of(user_id uid) override;

  awaitable<result<void>> store_offline(std::vector<offline_append> messages) override;
  awaitable<result<std::vector<offline_message>>> offline_messages(user_id uid) override;
  awaitable<result<void>> remove_offline(user_id uid, std::int64_t last_id) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::storage
