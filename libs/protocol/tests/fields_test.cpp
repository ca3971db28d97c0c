// Request validation: the envelope (JSON object, msgid, cid) and typed field rules.
#include <chat/protocol/fields.hpp>
#include <chat/protocol/message.hpp>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace chat::protocol {
namespace {

TEST(Envelope, AcceptsAClientRequest) {
  const auto env = parse_envelope(R"({"msgid":5,"to":3,"msg":"hi","cid":"c1"})");
  EXPECT_TRUE(env.error.empty());
  ASSERT_TRUE(env.msgid);
  EXPECT_EQ(*env.msgid, 5);
  EXPECT_EQ(env.cid, boost::json::value("c1"));
  EXPECT_FALSE(env.cid_invalid);
}

TEST(Envelope, RejectsWhatIsNotAnObject) {
  for (const char* body : {"[1,2]", "42", "\"x\"", "{", "{\"msgid\":1,}", "nul", "{\"a\":\"\xff\"}"}) {
    const auto env = parse_envelope(body);
    EXPECT_FALSE(env.error.empty()) << body;
    EXPECT_FALSE(env.msgid) << body;
  }
}

TEST(Envelope, RejectsDeepNesting) {
  std::string deep(200, '[');
  const auto env = parse_envelope("{\"msgid\":15,\"x\":" + deep + "}");
  EXPECT_FALSE(env.error.empty());
}

TEST(Envelope, NeedsAnIntegerMsgid) {
  for (const char* body : {R"({})", R"({"msgid":"1"})", R"({"msgid":1.0})", R"({"msgid":null})",
                           R"({"msgid":18446744073709551615})"}) {
    const auto env = parse_envelope(body);
    EXPECT_FALSE(env.error.empty()) << body;
    EXPECT_FALSE(env.msgid) << body;
  }
}

TEST(Envelope, CidIsKeptEvenWithoutAUsableMsgid) {
  EXPECT_EQ(parse_envelope(R"({"msgid":"1","cid":"x"})").cid, boost::json::value("x"));
  EXPECT_EQ(parse_envelope(R"({"msgid":1.5,"cid":7})").cid, boost::json::value(7));
}

TEST(Envelope, UnknownOrServerOnlyMsgidKeepsReq) {
  for (std::int64_t id : {0, -3, 2, 4, 14, 16, 17, 18, 19, 1000}) {
    const auto env = parse_envelope("{\"msgid\":" + std::to_string(id) + "}");
    EXPECT_FALSE(env.error.empty()) << id;
    ASSERT_TRUE(env.msgid) << id;
    EXPECT_EQ(*env.msgid, id);
  }
  for (std::int64_t id : {1, 3, 5, 6, 8, 10, 12, 13, 15}) {
    EXPECT_TRUE(parse_envelope("{\"msgid\":" + std::to_string(id) + "}").error.empty()) << id;
  }
}

TEST(Envelope, CidRules) {
  EXPECT_EQ(parse_envelope(R"({"msgid":15,"cid":7})").cid, boost::json::value(7));
  EXPECT_EQ(parse_envelope(R"({"msgid":15,"cid":""})").cid, boost::json::value(""));
  const std::string cid64(64, 'c');
  EXPECT_EQ(parse_envelope(R"({"msgid":15,"cid":")" + cid64 + "\"}").cid, boost::json::value(cid64));
  for (const std::string& bad : {std::string(R"({"msgid":15,"cid":")") + std::string(65, 'c') + "\"}",
                                std::string(R"({"msgid":15,"cid":1.5})"), std::string(R"({"msgid":15,"cid":[1]})"),
                                std::string(R"({"msgid":15,"cid":null})"), std::string(R"({"msgid":15,"cid":true})")}) {
    const auto env = parse_envelope(bad);
    EXPECT_TRUE(env.error.empty()) << bad;  // reported later, at the field step
    EXPECT_TRUE(env.cid_invalid) << bad;
    EXPECT_TRUE(env.cid.is_null()) << bad;
  }
}

TEST(Fields, IdMustBeAPositiveInteger) {
  const auto obj = parse_envelope(R"({"msgid":5,"a":3,"b":"3","c":15.0,"d":0,"e":-1,"f":9223372036854775808})").body;
  field_reader f(obj);
  EXPECT_EQ(f.id("a"), 3);
  EXPECT_TRUE(f.ok());
  for (const char* key : {"b", "c", "d", "e", "f", "missing"}) {
    field_reader g(obj);
    g.id(key);
    EXPECT_FALSE(g.ok()) << key;
    EXPECT_NE(g.error().find(key), std::string::npos) << g.error();
  }
}

TEST(Fields, TextRules) {
  const text_rule name{1, 50, true};
  auto check = [&](std::string json, bool expect_ok) {
    const auto obj = parse_envelope("{\"msgid\":3,\"name\":" + json + "}").body;
    field_reader f(obj);
    f.text("name", name);
    EXPECT_EQ(f.ok(), expect_ok) << json << " " << f.error();
  };
  check("\"alice\"", true);
  check("\"" + std::string(50, 'a') + "\"", true);
  check("\"" + std::string(51, 'a') + "\"", false);
  check("\"\"", false);
  check("3", false);
  check("null", false);
  check("\"a\\u0001b\"", false);
  check("\"a\\u007fb\"", false);
  check("\"a\\u0085b\"", false);     // C1 control
  check("\"\xc3\xa9t\xc3\xa9\"", true);  // été: multi-byte but not control
  check("\"\xe4\xb8\xad\xe6\x96\x87\"", true);
}

TEST(Fields, LimitsCountBytesNotCharacters) {
  const text_rule rule{1, 4, false};
  const auto obj = parse_envelope("{\"msgid\":3,\"s\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}").body;  // 3 chars, 6 bytes
  field_reader f(obj);
  f.text("s", rule);
  EXPECT_FALSE(f.ok());
}

TEST(Fields, OptionalTextFallsBackAndKeepsFirstError) {
  const auto obj = parse_envelope(R"({"msgid":8,"groupname":"dev","bad":5})").body;
  field_reader f(obj);
  EXPECT_EQ(f.optional_text("groupdesc", {0, 200, false}, ""), "");
  EXPECT_TRUE(f.ok());
  f.optional_text("bad", {0, 200, false});
  f.id("nothing");
  EXPECT_NE(f.error().find("bad"), std::string::npos);
}

TEST(Messages, ErrorFrameCarriesReqAndCid) {
  const auto e = make_error(errc::not_logged_in, "", 6, boost::json::value("x"));
  EXPECT_EQ(boost::json::serialize(e), R"({"msgid":17,"errno":9,"errmsg":"log in first","req":6,"cid":"x"})");
  const auto z = make_error(errc::bad_request, "nope", 0, nullptr);
  EXPECT_EQ(boost::json::serialize(z), R"({"msgid":17,"errno":8,"errmsg":"nope","req":0})");
  const auto n = make_error(errc::bad_request, "nope", std::nullopt, nullptr);
  EXPECT_FALSE(n.contains("req"));
}

TEST(Messages, FrameOfAnObject) {
  boost::json::object o;
  o["msgid"] = 16;
  const auto frame = to_frame(o);
  EXPECT_EQ(frame, std::string("\0\0\0\x0c", 4) + R"({"msgid":16})");
}

}  // namespace
}  // namespace chat::protocol
