// Settings of the Redis connections (redis_client, redis_broker), with their defaults.
#pragma once

#include <chat/broker/resp.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace chat::broker {

struct redis_config {
  // A numeric address is used as is; a name is resolved before each connect attempt.
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;

  // AUTH after each connect when `password` is not empty: `AUTH password`, or
  // `AUTH username password` (Redis 6 ACL users) when `username` is not empty too.
  std::string username;
  std::string password;

  // Bounds one connect attempt (resolve + TCP connect).
  std::chrono::milliseconds connect_timeout{1000};

  // Bounds each command from the moment it is queued until its reply; also how long a
  // health-check PING may stay unanswered. A connection that let a reply be late is dropped.
  std::chrono::milliseconds command_timeout{1000};

  // Wait before the next connect attempt after a failure or a lost connection: starts at the
  // initial value, doubles after each failed attempt, capped at the maximum.
  std::chrono::milliseconds reconnect_backoff_initial{100};
  std::chrono::milliseconds reconnect_backoff_max{2000};

  // A connection that received nothing for this long sends a PING; 0 disables the check.
  std::chrono::milliseconds health_check_interval{1000};

  // What the reply parser accepts (beyond it: protocol error, the connection is dropped).
  resp_limits limits;
};

}  // namespace chat::broker
