// LOGIN, LOGINOUT and pairing.
#include "handshake.hpp"

#include "messages.hpp"

#include <boost/json/serialize.hpp>

namespace chat::bench {

bool acknowledged(shard& home, const std::optional<boost::json::object>& ack, std::string_view what) {
  if (!ack) {
    return false;  // a timeout or a lost connection, counted where it happened
  }
  const auto* err = ack->if_contains("errno");
  if (err != nullptr && err->is_int64() && err->get_int64() == 0) {
    return true;
  }
  const auto* id = ack->if_contains("msgid");
  const bool error_msg = id != nullptr && id->is_int64() && id->get_int64() == protocol::to_int(protocol::msgid::error);
  if (!error_msg) {
    ++home.stats().errors.failed_requests;  // an ERROR_MSG was counted by the client already
  }
  home.note(std::string(what) + " failed: " + boost::json::serialize(*ack));
  return false;
}

awaitable<bool> login(client& c, std::int64_t user, std::string_view password) {
  auto ack = co_await c.request(login_request(user, password), protocol::msgid::login_ack);
  co_return acknowledged(c.home(), ack, "LOGIN of user " + std::to_string(user));
}

awaitable<bool> logout(client& c) {
  auto ack = co_await c.request(loginout_request(), protocol::msgid::loginout_ack);
  co_return acknowledged(c.home(), ack, "LOGINOUT");
}

awaitable<bool> connect_and_login(client& c, const asio::ip::tcp::endpoint& endpoint, std::int64_t user,
                                  std::string_view password) {
  const bool connected = co_await c.connect(endpoint);
  if (!connected) {
    co_return false;
  }
  co_return co_await login(c, user, password);
}

awaitable<bool> connect_and_pair(client& c, const asio::ip::tcp::endpoint& endpoint, std::string_view key) {
  const bool connected = co_await c.connect(endpoint);
  if (!connected) {
    co_return false;
  }
  c.send(key);
  co_return true;
}

awaitable<void> logout_and_close(client& c) {
  if (c.is_open()) {
    co_await logout(c);
  }
  c.close();
}

}  // namespace chat::bench
