// Request builders and multi-step helpers (register, log in, groups) for integration tests.
// Helpers that need a specific answer throw test_error with the frame when they get another.
#pragma once

#include <chat_test/client.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat_test {

struct account {
  std::int64_t id = 0;
  std::string name;
  std::string pwd;
};

struct group {
  std::int64_t id = 0;
  std::string name;
};

// A cid argument: a JSON value, any string or an integer.
struct cid_arg {
  json::value v;
  cid_arg(const json::value& x) : v(x) {}                    // NOLINT: implicit on purpose
  cid_arg(std::string_view s) : v(s) {}                      // NOLINT
  cid_arg(const std::string& s) : v(std::string_view(s)) {}  // NOLINT
  cid_arg(const char* s) : v(std::string_view(s)) {}         // NOLINT
  cid_arg(int i) : v(i) {}                                   // NOLINT
  cid_arg(std::int64_t i) : v(i) {}                          // NOLINT
};

// A name no other test (or earlier run) uses: label + pid + counter + time, <= 50 bytes.
std::string unique_name(std::string_view label);

// Request objects (PROTOCOL.md §6).
json::object reg_req(std::string_view name, std::string_view pwd);
json::object login_id_req(std::int64_t id, std::string_view pwd);
json::object login_name_req(std::string_view name, std::string_view pwd);
json::object chat_req(std::int64_t to, std::string_view msg);
json::object chat_req(std::int64_t to, std::string_view msg, const cid_arg& cid);
json::object group_chat_req(std::int64_t groupid, std::string_view msg);
json::object group_chat_req(std::int64_t groupid, std::string_view msg, const cid_arg& cid);
json::object ping_req();
json::object ping_req(const cid_arg& cid);

// REG with a unique name (prefixed by `label`); checks the ack and returns the account.
account register_account(client& c, std::string_view label = "u");
// The same on a short-lived connection of its own.
account register_account(int port, std::string_view label = "u");
// `n` accounts registered concurrently over `n` connections (hashing runs in parallel).
std::vector<account> register_accounts(int port, std::size_t n, std::string_view label = "u", millis timeout = 120s);

struct login_result {
  json::object ack;                   // LOGIN_MSG_ACK
  std::vector<json::object> offline;  // the `offline` stored messages that followed it
};

// LOGIN by id; throws unless the ack has errno 0; then reads the announced stored messages.
login_result login(client& c, const account& a, millis timeout = default_timeout);
// LOGIN by id for a user whose previous connection ended at `ended_at`: PROTOCOL.md §7 gives
// the server 1 s to mark it offline, so errno 3 is retried (every 150 ms, few enough not to
// approach the failed-login lockout) until `ended_at` + 1 s + 200 ms; throws after that.
login_result login_after_close(client& c, const account& a, steady::time_point ended_at,
                               millis timeout = default_timeout);
// Connects and logs in.
client connect_as(int port, const account& a, login_result* result = nullptr);

// CREATE_GROUP with a unique name; checks the ack.
group create_group(client& c, std::string_view label = "g", std::string_view desc = "");
// ADD_GROUP; checks the ack.
void join_group(client& c, std::int64_t groupid);
// ADD_FRIEND; checks the ack.
void add_friend(client& c, std::int64_t friendid);

// Sends a PING with a fresh cid and requires the very next frame to be its PONG: proves
// that nothing else was queued for this connection before it.
void ping_barrier(client& c, millis timeout = default_timeout);

// Sends a ONE_CHAT with cid and waits for its CHAT_ACK (throws on anything else); returns
// the ack's time.
std::int64_t send_chat_acked(client& c, std::int64_t to, std::string_view msg, millis timeout = default_timeout);

}  // namespace chat_test
