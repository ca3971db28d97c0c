// The MYSQL_STMT wrapper: parameter binding, client-side buffered results, column access.
#include "statement.hpp"

#include <errmsg.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace chat::storage::detail {
namespace {

bool is_integer(enum_field_types t) {
  switch (t) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
      return true;
    default:
      return false;
  }
}

}  // namespace

statement::statement(MYSQL* mysql) : stmt_(mysql_stmt_init(mysql)) {}

statement::~statement() {
  if (stmt_ != nullptr) mysql_stmt_close(stmt_);
}

bool statement::prepare(std::string_view sql) {
  if (stmt_ == nullptr) return false;
  if (mysql_stmt_prepare(stmt_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) return false;
  // store() then sizes every string buffer from the longest value, so fetch() never truncates.
  const my_bool update_max_length = 1;
  mysql_stmt_attr_set(stmt_, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length);
  return true;
}

bool statement::execute(std::span<const sql_param> params) {
  if (params.size() != mysql_stmt_param_count(stmt_)) {
    throw std::logic_error("statement: wrong number of parameters");
  }
  local_error_.clear();
  std::vector<MYSQL_BIND> binds(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    MYSQL_BIND& b = binds[i];
    std::memset(&b, 0, sizeof b);
    if (const auto* v = std::get_if<std::int64_t>(&params[i])) {
      b.buffer_type = MYSQL_TYPE_LONGLONG;
      b.buffer = const_cast<std::int64_t*>(v);  // input only: never written
    } else if (const auto* s = std::get_if<std::string_view>(&params[i])) {
      static char empty[1] = {};
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = s->empty() ? empty : const_cast<char*>(s->data());
      b.buffer_length = static_cast<unsigned long>(s->size());
    } else {
      b.buffer_type = MYSQL_TYPE_NULL;
    }
  }
  if (!binds.empty() && mysql_stmt_bind_param(stmt_, binds.data()) != 0) return false;
  return mysql_stmt_execute(stmt_) == 0;
}

bool statement::has_result_set() const { return mysql_stmt_field_count(stmt_) > 0; }

bool statement::store() {
  if (mysql_stmt_store_result(stmt_) != 0) return false;
  return bind_columns();
}

bool statement::bind_columns() {
  MYSQL_RES* meta = mysql_stmt_result_metadata(stmt_);
  if (meta == nullptr) return false;
  const unsigned n = mysql_num_fields(meta);
  const MYSQL_FIELD* fields = mysql_fetch_fields(meta);
  columns_.assign(n, column{});
  column_binds_.assign(n, MYSQL_BIND{});
  for (unsigned i = 0; i < n; ++i) {
    column& c = columns_[i];
    MYSQL_BIND& b = column_binds_[i];
    std::memset(&b, 0, sizeof b);
    c.integer = is_integer(fields[i].type);
    if (c.integer) {
      b.buffer_type = MYSQL_TYPE_LONGLONG;
      b.buffer = &c.int_value;
      b.is_unsigned = 0;
    } else {
      c.buffer.resize(std::max<unsigned long>(fields[i].max_length, 1));
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = c.buffer.data();
      b.buffer_length = static_cast<unsigned long>(c.buffer.size());
    }
    b.length = &c.length;
    b.is_null = &c.null;
    b.error = &c.truncated;
  }
  mysql_free_result(meta);
  return mysql_stmt_bind_result(stmt_, column_binds_.data()) == 0;
}

statement::fetch_result statement::fetch() {
  switch (mysql_stmt_fetch(stmt_)) {
    case 0:
      return fetch_result::row;
    case MYSQL_NO_DATA:
      return fetch_result::done;
    case MYSQL_DATA_TRUNCATED:
      return refetch_truncated() ? fetch_result::row : fetch_result::error;
    default:
      return fetch_result::error;
  }
}

// Only if max_length was not maintained: grow the truncated string buffers, read those columns
// again, and keep the bigger buffers for the next rows.
bool statement::refetch_truncated() {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    column& c = columns_[i];
    if (!c.truncated) continue;
    if (c.integer) {
      local_error_ = "integer column out of range";
      return false;
    }
    c.buffer.resize(c.length);
    MYSQL_BIND& b = column_binds_[i];
    b.buffer = c.buffer.data();
    b.buffer_length = static_cast<unsigned long>(c.buffer.size());
    if (mysql_stmt_fetch_column(stmt_, &b, static_cast<unsigned>(i), 0) != 0) return false;
    c.truncated = 0;
  }
  return mysql_stmt_bind_result(stmt_, column_binds_.data()) == 0;
}

void statement::free_result() { mysql_stmt_free_result(stmt_); }

std::uint64_t statement::affected_rows() const { return mysql_stmt_affected_rows(stmt_); }

std::int64_t statement::insert_id() const { return static_cast<std::int64_t>(mysql_stmt_insert_id(stmt_)); }

sql_error statement::error() const {
  if (stmt_ == nullptr) return {CR_OUT_OF_MEMORY, "HY000", "mysql_stmt_init failed"};
  if (!local_error_.empty()) return {CR_UNKNOWN_ERROR, "HY000", local_error_};
  return {mysql_stmt_errno(stmt_), mysql_stmt_sqlstate(stmt_), mysql_stmt_error(stmt_)};
}

bool statement::is_null(std::size_t col) const { return columns_.at(col).null != 0; }

std::int64_t statement::get_int64(std::size_t col) const {
  const column& c = columns_.at(col);
  if (!c.integer) throw std::logic_error("statement: column is not an integer");
  return c.null ? 0 : c.int_value;
}

std::string statement::get_string(std::size_t col) const {
  const column& c = columns_.at(col);
  if (c.integer) throw std::logic_error("statement: column is an integer");
  return c.null ? std::string() : std::string(c.buffer.data(), std::min<std::size_t>(c.length, c.buffer.size()));
}

std::optional<std::int64_t> statement::get_optional_int64(std::size_t col) const {
  if (is_null(col)) return std::nullopt;
  return get_int64(col);
}

std::optional<std::string> statement::get_optional_string(std::size_t col) const {
  if (is_null(col)) return std::nullopt;
  return get_string(col);
}

}  // namespace chat::storage::detail
