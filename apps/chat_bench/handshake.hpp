// Getting a connection ready for traffic: connect and LOGIN (chat_server), or connect and
// send the pairing frame (raw_forwarder); LOGIN and LOGINOUT on their own for the scenarios
// that repeat them. Failures are counted in the shard's statistics.
//
// Two g++ 12 coroutine bugs shape the bench's coroutines: class-type arguments of a co_await
// expression may be copied bit for bit (a shared_ptr then points into its control block), so
// coroutine parameters are scalars, views and references to objects the caller keeps alive;
// and a co_await inside an if or while condition corrupts the frame, so results go into a
// named local first.
#pragma once

#include "client.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace chat::bench {

// LOGIN_MSG by id; true on an ack with errno 0.
awaitable<bool> login(client& c, std::int64_t user, std::string_view password);

// LOGINOUT_MSG; true on an ack with errno 0.
awaitable<bool> logout(client& c);

awaitable<bool> connect_and_login(client& c, const asio::ip::tcp::endpoint& endpoint, std::int64_t user,
                                  std::string_view password);

// raw_forwarder pairs the two connections whose keys agree up to the last ':'.
awaitable<bool> connect_and_pair(client& c, const asio::ip::tcp::endpoint& endpoint, std::string_view key);

// LOGINOUT (so that the next run may log the user in at once), then close.
awaitable<void> logout_and_close(client& c);

// True when `ack` is present and carries errno 0; otherwise counts a failed request and says
// which one on stderr.
bool acknowledged(shard& home, const std::optional<boost::json::object>& ack, std::string_view what);

}  // namespace chat::bench
