// One libmysqlclient connection with its prepared-statement cache. Errors are classified here:
// a duplicate key is errc::duplicate and leaves the connection usable; anything else is
// errc::unavailable, is logged, and marks the connection broken (the pool then drops it).
#pragma once

#include "statement.hpp"

#include <chat/storage/pool_params.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <mysql.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace chat::storage::detail {

// Calls mysql_library_init once (thread-safe); mysql_library_end runs at program exit. Called
// by mysql_repository's constructor, i.e. before the pool's threads start.
void ensure_mysql_library();

// Blocking; used by one thread at a time (the pool guarantees it).
class mysql_connection {
 public:
  // Connects and authenticates, with the pool's timeouts and charset utf8mb4. Null on failure,
  // which is logged (never the password).
  static std::unique_ptr<mysql_connection> open(const pool_params& params);

  ~mysql_connection();
  mysql_connection(const mysql_connection&) = delete;
  mysql_connection& operator=(const mysql_connection&) = delete;

  // A round trip; false (and broken) when the connection is dead.
  bool ping();
  bool broken() const noexcept { return broken_; }

  struct exec_info {
    std::uint64_t affected_rows = 0;
    std::int64_t insert_id = 0;
  };

  // Runs a prepared statement (cached per connection, keyed by its text) without a result set.
  boost::system::result<exec_info> execute(std::string_view sql, std::initializer_list<sql_param> params);

  // Runs a prepared query and calls on_row for each row; read the columns there.
  boost::system::error_code query(std::string_view sql, std::initializer_list<sql_param> params,
                                  const std::function<void(const statement&)>& on_row);

  // Text protocol, for transaction control and DDL; a result set is discarded.
  boost::system::error_code run(std::string_view sql);

  // Runs body() between START TRANSACTION and COMMIT; rolls back when body or COMMIT fails.
  boost::system::error_code transaction(const std::function<boost::system::error_code()>& body);

 private:
  explicit mysql_connection(MYSQL* mysql) noexcept : mysql_(mysql) {}

  statement* prepared(std::string_view sql, boost::system::error_code& ec);
  boost::system::error_code fail(std::string_view sql, const sql_error& e);
  sql_error connection_error() const;

  MYSQL* mysql_;
  bool broken_ = false;
  std::map<std::string, std::unique_ptr<statement>, std::less<>> statements_;
};

}  // namespace chat::storage::detail
