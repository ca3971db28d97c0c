// A prepared statement (MYSQL_STMT) with int64 / string / NULL parameters and int64 / string /
// nullable columns; result sets are buffered client-side. Used by one thread at a time.
#pragma once

#include <mysql.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace chat::storage::detail {

// A parameter: an integer, a string (not copied: it must outlive execute()), or NULL.
using sql_param = std::variant<std::int64_t, std::string_view, std::nullptr_t>;

// The last error of a statement or connection (CR_* client errors are >= 2000).
struct sql_error {
  unsigned number = 0;
  std::string sqlstate;
  std::string message;  // server messages may quote values: log above debug only for client errors
};

class statement {
 public:
  // A statement handle on `mysql`; call prepare() before anything else.
  explicit statement(MYSQL* mysql);
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  bool prepare(std::string_view sql);
  // Binds `params` (as many as the statement has placeholders, else std::logic_error) and runs
  // the statement. A result set must be read with store() / fetch() / free_result().
  bool execute(std::span<const sql_param> params);
  bool has_result_set() const;
  // Buffers the whole result set and binds the columns.
  bool store();
  enum class fetch_result { row, done, error };
  fetch_result fetch();
  // Releases the buffered result set; the statement can be executed again.
  void free_result();

  std::uint64_t affected_rows() const;
  std::int64_t insert_id() const;
  sql_error error() const;

  // Columns of the current row. Integer columns must be read as int64, others as strings.
  std::size_t column_count() const noexcept { return columns_.size(); }
  bool is_null(std::size_t col) const;
  std::int64_t get_int64(std::size_t col) const;  // 0 when NULL
  std::string get_string(std::size_t col) const;  // empty when NULL
  std::optional<std::int64_t> get_optional_int64(std::size_t col) const;
  std::optional<std::string> get_optional_string(std::size_t col) const;

 private:
  struct column {
    bool integer = false;
    std::int64_t int_value = 0;
    std::vector<char> buffer;
    unsigned long length = 0;
    my_bool null = 0;
    my_bool truncated = 0;
  };

  bool bind_columns();
  bool refetch_truncated();

  MYSQL_STMT* stmt_;
  std::vector<column> columns_;
  std::vector<MYSQL_BIND> column_binds_;
  std::string local_error_;  // an error detected here rather than by libmysqlclient
};

}  // namespace chat::storage::detail
