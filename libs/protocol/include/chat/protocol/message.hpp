// Message ids and error numbers of PROTOCOL.md, and helpers that build common frames.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace chat::protocol {

enum class msgid : std::int64_t {
  login = 1,
  login_ack = 2,
  reg = 3,
  reg_ack = 4,
  one_chat = 5,
  add_friend = 6,
  add_friend_ack = 7,
  create_group = 8,
  create_group_ack = 9,
  add_group = 10,
  add_group_ack = 11,
  group_chat = 12,
  loginout = 13,
  loginout_ack = 14,
  ping = 15,
  pong = 16,
  error = 17,
  chat_ack = 18,
};

// The protocol's errno values.
enum class errc {
  ok = 0,
  no_account = 1,
  info_error = 2,
  online_error = 3,
  reg_error = 4,
  create_group_error = 5,
  add_friend_error = 6,
  add_group_error = 7,
  bad_request = 8,
  not_logged_in = 9,
  not_member = 10,
  frame_too_large = 11,
  unavailable = 12,
  rate_limited = 13,
  going_away = 14,
};

const boost::system::error_category& protocol_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), protocol_category()};
}

// A short human-readable sentence for each errno (the default `errmsg`).
std::string_view describe(errc e) noexcept;

// True for the types a client may send (LOGIN, REG, ONE_CHAT, ..., PING).
bool is_client_request(std::int64_t id) noexcept;

// The ack type a request answers with, or msgid::error when it has none (chat, ping).
msgid ack_of(msgid request) noexcept;

inline constexpr std::int64_t to_int(msgid m) noexcept { return static_cast<std::int64_t>(m); }
inline constexpr int to_int(errc e) noexcept { return static_cast<int>(e); }

// {"msgid":17,"errno":N,"errmsg":...,"req":R,"cid":C}; req omitted when the request had no
// integer msgid, cid omitted when null. An empty errmsg means describe(e).
boost::json::object make_error(errc e, std::string_view errmsg, std::optional<std::int64_t> req,
                               const boost::json::value& cid);

// {"msgid":ack,"errno":N[,"errmsg":...][,"cid":C]}: the start of an ack; callers add fields.
boost::json::object make_ack(msgid ack, errc e, const boost::json::value& cid,
                             std::string_view errmsg = {});

// Serialises a JSON object into a complete frame (header + body).
std::string to_frame(const boost::json::object& obj);

// The msgid of a frame body this server built (every builder puts "msgid" first, and stored
// chat keeps it first): 0 when the body does not start with {"msgid":<1..99>. For metrics.
int peek_msgid(std::string_view body) noexcept;

}  // namespace chat::protocol

template <>
struct boost::system::is_error_code_enum<chat::protocol::errc> : std::true_type {};
