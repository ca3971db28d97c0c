// Typed requests: every request of PROTOCOL.md parsed into its struct, and the errno 8 answers
// (stage, message, req and cid) in the protocol's order of checks.
#include <chat/protocol/requests.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <stdexcept>
#include <string>

namespace chat::protocol {
namespace {

const request_limits limits;

template <class T>
T parse_as(std::string_view body, const request_limits& l = limits) {
  auto r = parse_request(body, l);
  if (!r) {
    ADD_FAILURE() << body << ": " << r.error().message;
    return {};
  }
  const T* typed = std::get_if<T>(&*r);
  if (typed == nullptr) {
    ADD_FAILURE() << body << ": parsed as alternative " << r->index();
    return {};
  }
  return *typed;
}

request_error error_of(std::string_view body, const request_limits& l = limits) {
  auto r = parse_request(body, l);
  if (r) {
    ADD_FAILURE() << body << ": accepted as msgid " << to_int(msgid_of(*r));
    return {};
  }
  return r.error();
}

TEST(Requests, Login) {
  const auto by_id = parse_as<requests::login>(R"({"msgid":1,"id":17,"pwd":"secret"})");
  EXPECT_EQ(by_id.id, 17);
  EXPECT_FALSE(by_id.name);
  EXPECT_EQ(by_id.password, "secret");
  EXPECT_TRUE(by_id.cid.is_null());

  const auto by_name = parse_as<requests::login>(R"({"msgid":1,"name":"alice","pwd":"secret","cid":"c9"})");
  EXPECT_FALSE(by_name.id);
  EXPECT_EQ(by_name.name, "alice");
  EXPECT_EQ(by_name.password, "secret");
  EXPECT_EQ(by_name.cid, boost::json::value("c9"));
}

TEST(Requests, LoginNeedsExactlyOneOfIdAndName) {
  for (const char* body : {R"({"msgid":1,"pwd":"secret"})", R"({"msgid":1,"id":17,"name":"alice","pwd":"secret"})"}) {
    const auto e = error_of(body);
    EXPECT_EQ(e.where, request_error::stage::fields) << body;
    EXPECT_EQ(e.code, errc::bad_request);
    EXPECT_EQ(e.message, "exactly one of 'id' and 'name' is required") << body;
    EXPECT_EQ(e.msgid, 1);
  }
  // The first failure in field order answers: the id before the password.
  EXPECT_EQ(error_of(R"({"msgid":1,"id":"17"})").message, "'id' must be a positive integer");
  EXPECT_EQ(error_of(R"({"msgid":1,"id":17})").message, "'pwd' is missing");
  EXPECT_EQ(error_of(R"({"msgid":1,"name":"a\u0001","pwd":""})").message, "'name' must not contain control characters");
  EXPECT_EQ(error_of(R"({"msgid":1,"name":"alice","pwd":""})").message, "'pwd' must be 1-128 bytes");
}

TEST(Requests, Register) {
  const auto r = parse_as<requests::reg>(R"({"msgid":3,"name":"alice","pwd":"secret"})");
  EXPECT_EQ(r.name, "alice");
  EXPECT_EQ(r.password, "secret");
  EXPECT_EQ(error_of(R"({"msgid":3,"pwd":"secret"})").message, "'name' is missing");
  EXPECT_EQ(error_of(R"({"msgid":3,"name":")" + std::string(51, 'a') + R"(","pwd":"secret"})").message,
            "'name' must be 1-50 bytes");
  EXPECT_EQ(error_of(R"({"msgid":3,"name":"alice","pwd":)" + std::string("\"") + std::string(129, 'p') + "\"}").message,
            "'pwd' must be 1-128 bytes");
  // Names are not trimmed or folded, and multi-byte UTF-8 counts bytes.
  EXPECT_EQ(parse_as<requests::reg>("{\"msgid\":3,\"name\":\" \xc3\xa9t\xc3\xa9 \",\"pwd\":\"x\"}").name,
            " \xc3\xa9t\xc3\xa9 ");
}

TEST(Requests, OneChatIgnoresWhatTheClientSaysItIs) {
  const auto r =
      parse_as<requests::one_chat>(R"({"msgid":5,"to":3,"msg":"hi","cid":"c1","id":99,"name":"mallory","time":1})");
  EXPECT_EQ(r.to, 3);
  EXPECT_EQ(r.msg, "hi");
  EXPECT_EQ(r.cid, boost::json::value("c1"));
}

TEST(Requests, OneChatFieldErrors) {
  EXPECT_EQ(error_of(R"({"msgid":5,"msg":"hi"})").message, "'to' is missing");
  for (const char* to : {"\"3\"", "15.0", "0", "-1", "9223372036854775808", "null"}) {
    EXPECT_EQ(error_of(std::string(R"({"msgid":5,"msg":"hi","to":)") + to + "}").message,
              "'to' must be a positive integer")
        << to;
  }
  EXPECT_EQ(error_of(R"({"msgid":5,"to":3})").message, "'msg' is missing");
  EXPECT_EQ(error_of(R"({"msgid":5,"to":3,"msg":""})").message, "'msg' must be 1-8192 bytes");
  EXPECT_EQ(error_of(R"({"msgid":5,"to":3,"msg":)" + std::string("\"") + std::string(8193, 'm') + "\"}").message,
            "'msg' must be 1-8192 bytes");
  EXPECT_EQ(parse_as<requests::one_chat>(R"({"msgid":5,"to":3,"msg":")" + std::string(8192, 'm') + "\"}").msg.size(),
            8192u);
  // Control characters are allowed in messages.
  EXPECT_EQ(parse_as<requests::one_chat>(R"({"msgid":5,"to":3,"msg":"a\nb"})").msg, "a\nb");
}

TEST(Requests, MessageLimitIsConfigurable) {
  request_limits small;
  small.message.max_bytes = 4;
  EXPECT_EQ(parse_as<requests::group_chat>(R"({"msgid":12,"groupid":1,"msg":"abcd"})", small).msg, "abcd");
  EXPECT_EQ(error_of(R"({"msgid":12,"groupid":1,"msg":"abcde"})", small).message, "'msg' must be 1-4 bytes");
}

TEST(Requests, FriendsAndGroups) {
  EXPECT_EQ(parse_as<requests::add_friend>(R"({"msgid":6,"friendid":3})").friend_id, 3);
  EXPECT_EQ(error_of(R"({"msgid":6,"friend":3})").message, "'friendid' is missing");

  const auto created = parse_as<requests::create_group>(R"({"msgid":8,"groupname":"dev","groupdesc":"team"})");
  EXPECT_EQ(created.name, "dev");
  EXPECT_EQ(created.description, "team");
  EXPECT_EQ(parse_as<requests::create_group>(R"({"msgid":8,"groupname":"dev"})").description, "");
  EXPECT_EQ(parse_as<requests::create_group>(R"({"msgid":8,"groupname":"dev","groupdesc":""})").description, "");
  EXPECT_EQ(error_of(R"({"msgid":8,"groupname":"dev","groupdesc":)" + std::string("\"") + std::string(201, 'd') + "\"}")
                .message,
            "'groupdesc' must be 0-200 bytes");
  EXPECT_EQ(error_of(R"({"msgid":8,"groupname":"dev","groupdesc":null})").message, "'groupdesc' must be a string");
  EXPECT_EQ(error_of("{\"msgid\":8,\"groupname\":\"d\xc2\x85v\"}").message,
            "'groupname' must not contain control characters");

  EXPECT_EQ(parse_as<requests::add_group>(R"({"msgid":10,"groupid":1})").group_id, 1);
  EXPECT_EQ(error_of(R"({"msgid":10,"groupid":1.5})").message, "'groupid' must be a positive integer");

  const auto chat = parse_as<requests::group_chat>(R"({"msgid":12,"groupid":1,"msg":"hello all"})");
  EXPECT_EQ(chat.group_id, 1);
  EXPECT_EQ(chat.msg, "hello all");
  EXPECT_EQ(error_of(R"({"msgid":12,"msg":"hello all"})").message, "'groupid' is missing");
}

TEST(Requests, LoginoutAndPingHaveOnlyACid) {
  EXPECT_TRUE(parse_as<requests::loginout>(R"({"msgid":13})").cid.is_null());
  EXPECT_EQ(parse_as<requests::ping>(R"({"msgid":15,"cid":7,"x":[1,{}]})").cid, boost::json::value(7));
  // An integer cid is echoed exactly as sent, unsigned ones too.
  const auto big = parse_as<requests::ping>(R"({"msgid":15,"cid":18446744073709551615})").cid;
  ASSERT_TRUE(big.is_uint64());
  EXPECT_EQ(big.get_uint64(), 18446744073709551615u);
}

TEST(Requests, MsgidOfAndLoginRule) {
  struct row {
    const char* body;
    msgid id;
    bool login_needed;
  };
  for (const row& r : {row{R"({"msgid":1,"id":1,"pwd":"p"})", msgid::login, false},
                       row{R"({"msgid":3,"name":"a","pwd":"p"})", msgid::reg, false},
                       row{R"({"msgid":5,"to":1,"msg":"m"})", msgid::one_chat, true},
                       row{R"({"msgid":6,"friendid":1})", msgid::add_friend, true},
                       row{R"({"msgid":8,"groupname":"g"})", msgid::create_group, true},
                       row{R"({"msgid":10,"groupid":1})", msgid::add_group, true},
                       row{R"({"msgid":12,"groupid":1,"msg":"m"})", msgid::group_chat, true},
                       row{R"({"msgid":13})", msgid::loginout, true}, row{R"({"msgid":15})", msgid::ping, false}}) {
    auto parsed = parse_request(r.body, limits);
    ASSERT_TRUE(parsed) << r.body << ": " << parsed.error().message;
    EXPECT_EQ(msgid_of(*parsed), r.id) << r.body;
    EXPECT_EQ(needs_login(r.id), r.login_needed) << r.body;
  }
}

TEST(Requests, EnvelopeErrorsComeBeforeTheLoginCheck) {
  auto e = error_of(R"([1,2])");
  EXPECT_EQ(e.where, request_error::stage::envelope);
  EXPECT_EQ(e.message, "frame is not a JSON object");
  EXPECT_FALSE(e.msgid);

  e = error_of(R"({"msgid":"5","cid":"x"})");
  EXPECT_EQ(e.where, request_error::stage::envelope);
  EXPECT_EQ(e.message, "'msgid' missing or not an integer");
  EXPECT_FALSE(e.msgid);
  EXPECT_EQ(e.cid, boost::json::value("x"));  // echoed even without a usable msgid

  e = error_of(R"({"msgid":17,"cid":3})");
  EXPECT_EQ(e.where, request_error::stage::envelope);
  EXPECT_EQ(e.message, "unknown msgid 17");
  EXPECT_EQ(e.msgid, 17);
  EXPECT_EQ(e.cid, boost::json::value(3));

  EXPECT_EQ(error_of("{\"msgid\":15,\"x\":\"\xff\"}").message, "frame is not a JSON object");  // invalid UTF-8
}

TEST(Requests, AnInvalidCidIsTheFirstFieldError) {
  for (const std::string& cid : {std::string("\"") + std::string(65, 'c') + "\"", std::string("1.5"),
                                 std::string("null"), std::string("[1]"), std::string("true")}) {
    // The missing `to` and `msg` are not reported: the cid comes first.
    const auto e = error_of(R"({"msgid":5,"cid":)" + cid + "}");
    EXPECT_EQ(e.where, request_error::stage::fields) << cid;
    EXPECT_EQ(e.message, "'cid' must be an integer or a string of at most 64 bytes") << cid;
    EXPECT_EQ(e.msgid, 5) << cid;
    EXPECT_TRUE(e.cid.is_null()) << cid;
  }
  EXPECT_EQ(parse_as<requests::ping>(R"({"msgid":15,"cid":")" + std::string(64, 'c') + "\"}").cid,
            boost::json::value(std::string(64, 'c')));
}

TEST(Requests, FieldErrorsKeepTheCid) {
  const auto e = error_of(R"({"msgid":6,"friendid":0,"cid":"c2"})");
  EXPECT_EQ(e.where, request_error::stage::fields);
  EXPECT_EQ(e.cid, boost::json::value("c2"));
  EXPECT_EQ(boost::json::serialize(make_error(e)),
            R"({"msgid":17,"errno":8,"errmsg":"'friendid' must be a positive integer","req":6,"cid":"c2"})");
}

TEST(Requests, ErrorFrameWithoutMsgidOrCid) {
  EXPECT_EQ(boost::json::serialize(make_error(error_of("nope"))),
            R"({"msgid":17,"errno":8,"errmsg":"frame is not a JSON object"})");
}

TEST(Requests, ValueOfAnErrorThrows) {
  auto r = parse_request("{}", limits);
  ASSERT_FALSE(r);
  EXPECT_THROW((void)r.value(), std::invalid_argument);
}

}  // namespace
}  // namespace chat::protocol
