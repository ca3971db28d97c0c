// Broker error codes (chat::broker::errc) and their category: the Redis failures that callers
// need to tell apart.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace chat::broker {

enum class errc {
  // Not connected (never started, between reconnect attempts, stopped), or the connection was
  // lost before the reply came: a write command may or may not have been executed.
  unavailable = 1,
  // No reply within redis_config::command_timeout (the connection is then dropped).
  timeout = 2,
  // The bytes received are not valid RESP2 or break a limit (the connection is then dropped).
  protocol_error = 3,
  // Redis answered with an error reply. redis_client::command() returns such replies as a
  // resp_value of type error instead; this code is for callers that fold them into an error
  // (redis_broker::publish).
  server_error = 4,
  // The command cannot be sent on a pipelined connection: empty, or a pub/sub or MONITOR
  // command that would break the one-reply-per-request rule.
  invalid_command = 5,
  // Redis refused AUTH (wrong username or password).
  auth_failed = 6,
};

const boost::system::error_category& broker_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), broker_category()};
}

}  // namespace chat::broker

template <>
struct boost::system::is_error_code_enum<chat::broker::errc> : std::true_type {};
