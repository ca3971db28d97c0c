// Typed client requests: one frame body -> the request it holds (a struct per msgid), or the
// errno 8 answer. Pure and I/O-free; the router adds the one check that needs the connection.
#pragma once

#include <chat/protocol/fields.hpp>
#include <chat/protocol/message.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace chat::protocol {

// PROTOCOL.md section 5; only the message size is configurable today (limits.max_message_bytes).
struct request_limits {
  text_rule name{1, 50, true};
  text_rule password{1, 128, false};
  text_rule groupname{1, 50, true};
  text_rule groupdesc{0, 200, false};
  text_rule message{1, 8192, false};
};

// One struct per client -> server msgid. `cid` is the correlation id to echo: null when the
// request had none, else a string of at most 64 bytes or an integer, exactly as sent.
namespace requests {

struct login {
  boost::json::value cid;
  std::optional<std::int64_t> id;  // exactly one of id and name is set
  std::optional<std::string> name;
  std::string password;
};

struct reg {
  boost::json::value cid;
  std::string name;
  std::string password;
};

struct one_chat {
  boost::json::value cid;
  std::int64_t to = 0;
  std::string msg;
};

struct add_friend {
  boost::json::value cid;
  std::int64_t friend_id = 0;
};

struct create_group {
  boost::json::value cid;
  std::string name;
  std::string description;  // "" when absent
};

struct add_group {
  boost::json::value cid;
  std::int64_t group_id = 0;
};

struct group_chat {
  boost::json::value cid;
  std::int64_t group_id = 0;
  std::string msg;
};

struct loginout {
  boost::json::value cid;
};

struct ping {
  boost::json::value cid;
};

}  // namespace requests

using request =
    std::variant<requests::login, requests::reg, requests::one_chat, requests::add_friend, requests::create_group,
                 requests::add_group, requests::group_chat, requests::loginout, requests::ping>;

// The msgid a request arrived with.
msgid msgid_of(const request& r) noexcept;

// True for the requests a connection must be logged in for (all but LOGIN, REG and PING).
bool needs_login(msgid m) noexcept;

// Why a frame body is not a valid request: the ERROR_MSG to answer with.
struct request_error {
  // Where the check failed, relative to the login check (errno 9) that only the caller can
  // make: an envelope failure answers before it, a field failure only after it.
  enum class stage {
    envelope,  // not a JSON object, no integer msgid, or not a client -> server msgid
    fields,    // a client request whose cid or fields are missing, mistyped or out of limits
  };

  stage where = stage::envelope;
  errc code = errc::bad_request;
  std::string message;                // the errmsg
  std::optional<std::int64_t> msgid;  // the ERROR_MSG's `req`: set when the frame had an integer msgid
  boost::json::value cid;             // echoed when valid, null otherwise
};

// Parses and checks one frame body in PROTOCOL.md's order: JSON object with an integer
// client -> server msgid (stage envelope), then cid and the request's fields in the order
// they are listed for that request (stage fields); the first failure is the answer.
// A fields-stage error always has a msgid of a client request, for the login check.
boost::system::result<request, request_error> parse_request(std::string_view frame_body, const request_limits& limits);

// The ERROR_MSG object for `e` (protocol::make_error with its fields).
boost::json::object make_error(const request_error& e);

// Lets result<request, request_error>::value() throw on an error (std::invalid_argument).
[[noreturn]] void throw_exception_from_error(const request_error& e, const boost::source_location& loc);

}  // namespace chat::protocol
