// RESP2, the Redis wire protocol, without I/O: resp_value (one reply), resp_parser (bytes in,
// complete values out, bounded) and the command encoder (an array of bulk strings).
#pragma once

#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chat::broker {

// RESP2's null bulk string ($-1) and null array (*-1) both become `null`: Redis uses them for
// the same thing (no value), and RESP3 merged them.
enum class resp_type : std::uint8_t { null, simple_string, error, integer, bulk_string, array };

// One complete RESP2 value. Which members hold data depends on `type`:
//   simple_string, error, bulk_string -> `string`;  integer -> `integer`;  array -> `elements`.
struct resp_value {
  resp_type type = resp_type::null;
  std::int64_t integer = 0;
  std::string string;
  std::vector<resp_value> elements;

  static resp_value null() { return {}; }
  static resp_value simple(std::string s) { return {resp_type::simple_string, 0, std::move(s), {}}; }
  static resp_value error(std::string s) { return {resp_type::error, 0, std::move(s), {}}; }
  static resp_value number(std::int64_t n) { return {resp_type::integer, n, {}, {}}; }
  static resp_value bulk(std::string s) { return {resp_type::bulk_string, 0, std::move(s), {}}; }
  static resp_value array(std::vector<resp_value> e) { return {resp_type::array, 0, {}, std::move(e)}; }

  bool is_null() const noexcept { return type == resp_type::null; }
  bool is_error() const noexcept { return type == resp_type::error; }
  bool is_array() const noexcept { return type == resp_type::array; }
  // A simple or bulk string (the two ways Redis sends text).
  bool is_string() const noexcept { return type == resp_type::simple_string || type == resp_type::bulk_string; }
};

bool operator==(const resp_value& a, const resp_value& b) noexcept;

// Readable form for logs and test failures, e.g. [bulk "message", bulk "ch", bulk "hi"].
std::string to_string(const resp_value& v);
std::ostream& operator<<(std::ostream& os, const resp_value& v);

// Bounds on what the parser accepts; beyond them the input is a protocol error, so that a
// broken or hostile peer cannot make us allocate without limit.
struct resp_limits {
  std::size_t max_bulk_length = 64u << 20;  // bytes of one bulk string (Redis allows 512 MiB)
  std::size_t max_array_length = 1u << 20;  // elements of one array
  std::size_t max_depth = 16;               // nesting of arrays
  std::size_t max_line_length = 64u << 10;  // a simple string, error or header line
};

// Incremental RESP2 parser: append received bytes (prepare/commit to read straight into its
// buffer, or feed), then take complete values with next(). A value may arrive split at any
// byte; many values may arrive in one read. Not thread-safe (one connection, one parser).
class resp_parser {
 public:
  explicit resp_parser(resp_limits limits = {});

  // Writable space of at least `min_size` bytes at the end of the buffer, for a socket read;
  // then commit() the number of bytes actually read. Invalidated by the next call.
  std::span<char> prepare(std::size_t min_size);
  void commit(std::size_t n);

  // prepare + copy + commit.
  void feed(std::string_view bytes);

  // The next complete value, or nullopt when more bytes are needed. After malformed input
  // it fails with errc::protocol_error, and keeps failing until reset().
  boost::system::result<std::optional<resp_value>> next();

  // Forgets buffered bytes and any partial value (a new connection).
  void reset();

  // Bytes received but not yet consumed as part of a complete value.
  std::size_t buffered() const noexcept { return end_ - begin_; }

 private:
  struct frame {
    resp_value array;
    std::size_t expected;
  };

  boost::system::result<std::optional<resp_value>> fail();

  resp_limits limits_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;           // first unconsumed byte
  std::size_t end_ = 0;             // one past the last received byte
  std::vector<frame> stack_;        // arrays still waiting for elements, outermost first
  std::int64_t pending_bulk_ = -1;  // length of a bulk string whose header was consumed
  bool failed_ = false;
};

// Appends one command in the form Redis expects from clients: an array of bulk strings.
void append_command(std::string& out, std::span<const std::string> args);
void append_command(std::string& out, std::span<const std::string_view> args);
void append_command(std::string& out, std::initializer_list<std::string_view> args);

}  // namespace chat::broker
