// libmysqlclient set-up (library and per-thread init), connecting with timeouts, the statement
// cache, error classification and logging.
#include "mysql_connection.hpp"

#include <chat/storage/detail/log.hpp>
#include <chat/storage/error.hpp>

#include <spdlog/fmt/fmt.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace chat::storage::detail {
namespace {

struct mysql_library {
  mysql_library() {
    if (mysql_library_init(0, nullptr, nullptr) != 0) throw std::runtime_error("mysql_library_init failed");
  }
  ~mysql_library() { mysql_library_end(); }
  mysql_library(const mysql_library&) = delete;
  mysql_library& operator=(const mysql_library&) = delete;
};

// libmysqlclient wants mysql_thread_init / mysql_thread_end around its use on each thread
// (no-ops in Connector/C 3, required by Oracle's library). Entered before each use, ended when
// the thread exits.
struct mysql_thread {
  mysql_thread() { mysql_thread_init(); }
  ~mysql_thread() { mysql_thread_end(); }
  mysql_thread(const mysql_thread&) = delete;
  mysql_thread& operator=(const mysql_thread&) = delete;
};

void enter_mysql_thread() {
  thread_local mysql_thread guard;
}

unsigned whole_seconds(std::chrono::milliseconds ms) {
  const auto s = (std::max<std::int64_t>(ms.count(), 1) + 999) / 1000;
  return static_cast<unsigned>(std::min<std::int64_t>(s, 1000000));
}

// For logs: the start of a statement on one line (statement texts are constants, no user data).
std::string brief(std::string_view sql) {
  std::string s(sql.substr(0, 60));
  std::replace_if(s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (sql.size() > 60) s += "...";
  return s;
}

bool is_client_error(unsigned number) { return number >= CR_MIN_ERROR && number <= CR_MAX_ERROR; }

std::string where(const pool_params& p) {
  if (!p.unix_socket.empty()) return p.unix_socket;
  return p.host + ':' + std::to_string(p.port);
}

// While the server is down every request fails to connect: log one failure per second at error
// level (with the number left out), the others at debug, and the recovery once.
class connect_failures {
 public:
  // Returns whether to log this failure at error level, and how many were not since the last.
  bool failed(std::size_t& not_logged) {
    std::lock_guard lock(mutex_);
    ++since_success_;
    const auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_logged_ < std::chrono::seconds(1)) {
      ++not_logged_;
      return false;
    }
    logged_once_ = true;
    last_logged_ = now;
    not_logged = std::exchange(not_logged_, 0);
    return true;
  }
  // Returns how many attempts failed in a row before this success.
  std::size_t succeeded() {
    std::lock_guard lock(mutex_);
    not_logged_ = 0;
    logged_once_ = false;
    return std::exchange(since_success_, 0);
  }

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_logged_;
  bool logged_once_ = false;
  std::size_t not_logged_ = 0;
  std::size_t since_success_ = 0;
};

connect_failures& failures() {
  static connect_failures instance;
  return instance;
}

}  // namespace

void ensure_mysql_library() { static const mysql_library library; }

std::unique_ptr<mysql_connection> mysql_connection::open(const pool_params& p) {
  ensure_mysql_library();
  enter_mysql_thread();
  MYSQL* m = mysql_init(nullptr);
  if (m == nullptr) {
    db_log()->error("connect to {}: mysql_init failed (out of memory)", where(p));
    return nullptr;
  }
  std::unique_ptr<mysql_connection> conn(new mysql_connection(m));

  const unsigned connect_timeout = whole_seconds(p.connect_timeout);
  const unsigned io_timeout = whole_seconds(p.query_timeout);
  const unsigned protocol = p.unix_socket.empty() ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
  mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
  mysql_options(m, MYSQL_OPT_PROTOCOL, &protocol);
  mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // No MYSQL_OPT_RECONNECT: a silent reconnect would lose transactions and prepared
  // statements; the pool replaces broken connections instead.

  const bool socket = !p.unix_socket.empty();
  if (mysql_real_connect(m, socket ? nullptr : p.host.c_str(), p.user.c_str(), p.password.c_str(),
                         p.database.c_str(), socket ? 0 : p.port, socket ? p.unix_socket.c_str() : nullptr,
                         0) == nullptr) {
    // Connect and authentication messages name host and user, never the password.
    std::size_t not_logged = 0;
    if (failures().failed(not_logged)) {
      db_log()->error("connect to {} as {} failed: {} {}{}", where(p), p.user, mysql_errno(m), mysql_error(m),
                      not_logged > 0 ? fmt::format(" ({} more since the last report)", not_logged) : "");
    } else {
      db_log()->debug("connect to {} as {} failed: {} {}", where(p), p.user, mysql_errno(m), mysql_error(m));
    }
    return nullptr;
  }
  if (const auto failed = failures().succeeded(); failed > 0) {
    db_log()->info("connected to {} as {} after {} failed attempts", where(p), p.user, failed);
  } else {
    db_log()->debug("connected to {} as {} (thread id {})", where(p), p.user, mysql_thread_id(m));
  }
  return conn;
}

mysql_connection::~mysql_connection() {
  enter_mysql_thread();
  statements_.clear();  // statements before their connection
  mysql_close(mysql_);
}

bool mysql_connection::ping() {
  enter_mysql_thread();
  if (!broken_ && mysql_ping(mysql_) == 0) return true;
  if (!broken_) db_log()->warn("ping failed: {} {}", mysql_errno(mysql_), mysql_error(mysql_));
  broken_ = true;
  return false;
}

statement* mysql_connection::prepared(std::string_view sql, boost::system::error_code& ec) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second.get();
  auto st = std::make_unique<statement>(mysql_);
  if (!st->prepare(sql)) {
    ec = fail(sql, st->error());
    return nullptr;
  }
  return statements_.emplace(std::string(sql), std::move(st)).first->second.get();
}

boost::system::result<mysql_connection::exec_info> mysql_connection::execute(
    std::string_view sql, std::initializer_list<sql_param> params) {
  enter_mysql_thread();
  boost::system::error_code ec;
  statement* st = prepared(sql, ec);
  if (st == nullptr) return ec;
  if (!st->execute(params)) return fail(sql, st->error());
  exec_info info{st->affected_rows(), st->insert_id()};
  if (st->has_result_set()) st->free_result();
  return info;
}

boost::system::error_code mysql_connection::query(std::string_view sql, std::initializer_list<sql_param> params,
                                                  const std::function<void(const statement&)>& on_row) {
  enter_mysql_thread();
  boost::system::error_code ec;
  statement* st = prepared(sql, ec);
  if (st == nullptr) return ec;
  if (!st->execute(params) || !st->store()) return fail(sql, st->error());
  for (;;) {
    switch (st->fetch()) {
      case statement::fetch_result::row:
        on_row(*st);
        continue;
      case statement::fetch_result::done:
        st->free_result();
        return {};
      case statement::fetch_result::error:
        ec = fail(sql, st->error());
        st->free_result();
        return ec;
    }
  }
}

boost::system::error_code mysql_connection::run(std::string_view sql) {
  enter_mysql_thread();
  if (mysql_real_query(mysql_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    return fail(sql, connection_error());
  }
  if (MYSQL_RES* res = mysql_store_result(mysql_)) {
    mysql_free_result(res);
  } else if (mysql_field_count(mysql_) != 0) {
    return fail(sql, connection_error());
  }
  return {};
}

boost::system::error_code mysql_connection::transaction(const std::function<boost::system::error_code()>& body) {
  if (auto ec = run("START TRANSACTION")) return ec;
  auto ec = body();
  if (!ec) ec = run("COMMIT");
  // A broken connection is dropped by the pool; the server rolls back when it goes away.
  if (ec && !broken_) {
    if (mysql_rollback(mysql_) != 0) fail("ROLLBACK", connection_error());
  }
  return ec;
}

sql_error mysql_connection::connection_error() const {
  return {mysql_errno(mysql_), mysql_sqlstate(mysql_), mysql_error(mysql_)};
}

boost::system::error_code mysql_connection::fail(std::string_view sql, const sql_error& e) {
  if (e.number == ER_DUP_ENTRY) {
    db_log()->debug("duplicate key in \"{}\": {}", brief(sql), e.message);
    return make_error_code(errc::duplicate);
  }
  broken_ = true;
  if (is_client_error(e.number)) {
    db_log()->error("\"{}\" failed: {} {}", brief(sql), e.number, e.message);
  } else {
    // Server messages may quote the values (names, payloads): their text only at debug level.
    db_log()->error("\"{}\" failed: server error {} (SQLSTATE {})", brief(sql), e.number, e.sqlstate);
    db_log()->debug("\"{}\": server error {}: {}", brief(sql), e.number, e.message);
  }
  return make_error_code(errc::unavailable);
}

}  // namespace chat::storage::detail
