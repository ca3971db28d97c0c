// Assertions on server frames (PROTOCOL.md §2-§6) that report every mismatch with the frame:
//   EXPECT_TRUE(is_error(f, 8, 99));   EXPECT_TRUE(is_chat(f, alice, bob.id, "hi"));
#pragma once

#include <chat_test/client.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat_test {

// The value of an integer field (int64 or uint64 that fits), else nullopt.
std::optional<std::int64_t> int_field(const json::object& f, std::string_view key);
// The value of a string field, else nullopt.
std::optional<std::string> string_field(const json::object& f, std::string_view key);

std::string to_text(const json::value& v);

// `f` holds every key of `expected` with an equal value (other keys are not checked).
testing::AssertionResult has_fields(const json::object& f, const json::object& expected);

// An ack of type `msgid` with `errno` == err; errmsg a non-empty string when err != 0.
testing::AssertionResult is_ack(const json::object& f, std::int64_t msgid, int err);

// Marker for "this key must be absent".
inline constexpr std::nullopt_t absent = std::nullopt;

// ERROR_MSG with errno `err`, a non-empty errmsg, `req` equal to the given value or absent
// (nullopt), `cid` equal to the given value or absent (nullopt).
testing::AssertionResult is_error(const json::object& f, int err, std::optional<std::int64_t> req,
                                  const std::optional<json::value>& cid = absent);
// ERROR_MSG with errno `err`; `req` and `cid` not checked.
testing::AssertionResult is_error_any(const json::object& f, int err);

// A one-to-one chat message exactly as PROTOCOL.md §6 shows it: keys msgid, id, name, to,
// msg, time (integer), plus "offline":true when `offline`; nothing else.
testing::AssertionResult is_chat(const json::object& f, const account& from, std::int64_t to, std::string_view msg,
                                 bool offline = false);
// A group chat message: msgid, id, name, groupid, msg, time (+ offline:true).
testing::AssertionResult is_group_chat(const json::object& f, const account& from, std::int64_t groupid,
                                       std::string_view msg, bool offline = false);

// CHAT_ACK (18) with errno 0, the given cid and an integer time.
testing::AssertionResult is_chat_ack(const json::object& f, const cid_arg& cid);

// Sends `body` (raw JSON text, or an object) as one frame and checks that the next frame is
// the ERROR_MSG described (as is_error). The request text is in the failure message.
void expect_error_reply(client& c, std::string_view body, int err, std::optional<std::int64_t> req,
                        const std::optional<json::value>& cid = absent);
void expect_error_reply(client& c, const json::object& body, int err, std::optional<std::int64_t> req,
                        const std::optional<json::value>& cid = absent);

// Milliseconds since the Unix epoch (the server's `time` uses the same clock).
std::int64_t now_ms();

// LOGIN_MSG_ACK contents. The protocol does not order lists, so these sort by "id"
// (recursively for the groups' "users") before comparing.
boost::json::array by_id(boost::json::array a);
boost::json::array list_of(const boost::json::object& ack, std::string_view key);
boost::json::object friend_entry(const account& a, std::string_view state);
boost::json::object member(const account& a, std::string_view state, std::string_view role);
boost::json::object group_entry(const group& g, std::string_view desc, boost::json::array users);

}  // namespace chat_test
