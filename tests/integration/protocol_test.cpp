// Wire-level rules of PROTOCOL.md against the default server: framing (§1), ERROR_MSG with
// req/cid (§2, §4), the order of checks (§3), ids, UTF-8 and the field limits (§2, §5).
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <thread>

namespace {

using namespace chat_test;

// `base` extended with `unit` while it fits, then with 'x' up to exactly `bytes` bytes.
std::string pad_to(std::string base, std::size_t bytes, std::string_view unit = "x") {
  while (base.size() + unit.size() <= bytes) {
    base += unit;
  }
  base.append(bytes - base.size(), 'x');
  return base;
}

std::string repeat(std::string_view unit, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += unit;
  }
  return s;
}

// --- §1 framing ---------------------------------------------------------------------------

TEST(Framing, PingIsAnsweredWithPongBeforeLogin) {
  client c(default_port());
  auto f = c.request(ping_req());
  EXPECT_EQ(int_field(f, "msgid"), 16) << json::serialize(f);
  EXPECT_FALSE(f.contains("cid")) << json::serialize(f);
  for (const json::value& cid : {json::value("p-1"), json::value(42), json::value(-7), json::value(0)}) {
    f = c.request(ping_req(cid));
    EXPECT_TRUE(has_fields(f, {{"msgid", 16}, {"cid", cid}}));
  }
}

TEST(Framing, SeveralFramesInOneWriteAreAllAnswered) {
  client c(default_port());
  c.send_raw(frame(R"({"msgid":15,"cid":"a"})") + frame(R"({"msgid":15,"cid":"b"})") +
             frame(R"({"msgid":15,"cid":"c"})"));
  for (const char* cid : {"a", "b", "c"}) {
    EXPECT_TRUE(has_fields(c.recv(), {{"msgid", 16}, {"cid", cid}}));
  }
}

TEST(Framing, FramesSplitAtEveryByteAreReassembled) {
  client c(default_port());
  const std::string bytes = frame(R"({"msgid":15,"cid":"split-1"})") + frame(R"({"msgid":15,"cid":"split-2"})");
  for (char ch : bytes) {
    c.send_raw(std::string_view(&ch, 1));
    std::this_thread::sleep_for(1ms);  // not synchronisation: makes the server see many small reads
  }
  EXPECT_TRUE(has_fields(c.recv(), {{"msgid", 16}, {"cid", "split-1"}}));
  EXPECT_TRUE(has_fields(c.recv(), {{"msgid", 16}, {"cid", "split-2"}}));
}

TEST(Framing, FrameOfExactlyTheLimitIsAccepted) {
  client c(default_port());
  const std::string head = R"({"msgid":15,"cid":"big","pad":")";
  const std::string body = head + std::string(65536 - head.size() - 2, 'p') + "\"}";
  ASSERT_EQ(body.size(), 65536u);
  c.send_text(body);
  EXPECT_TRUE(has_fields(c.recv(), {{"msgid", 16}, {"cid", "big"}}));
}

TEST(Framing, ZeroLengthFrameGets11ThenClose) {
  client c(default_port());
  ping_barrier(c);
  c.send_raw(frame_header(0));
  EXPECT_TRUE(is_error(c.recv(), 11, absent));
  EXPECT_TRUE(c.wait_closed(3s)) << "the server must close the connection after errno 11";
}

TEST(Framing, LengthOverTheLimitGets11ThenClose) {
  for (std::uint32_t len : {65537u, 1u << 20, 0xffffffffu}) {
    SCOPED_TRACE("length " + std::to_string(len));
    client c(default_port());
    c.send_raw(frame_header(len));  // the header alone must be enough to refuse it
    EXPECT_TRUE(is_error(c.recv(), 11, absent));
    EXPECT_TRUE(c.wait_closed(3s)) << "the server must close the connection after errno 11";
  }
}

TEST(Framing, OversizeAfterValidFrameInTheSameWrite) {
  const auto a = register_account(default_port(), "fr");
  client c = connect_as(default_port(), a);
  c.send_raw(frame(R"({"msgid":15,"cid":"before"})") + frame_header(70000) + std::string(100, 'x'));
  EXPECT_TRUE(has_fields(c.recv(), {{"msgid", 16}, {"cid", "before"}}));
  EXPECT_TRUE(is_error(c.recv(), 11, absent));
  EXPECT_TRUE(c.wait_closed(3s));
}

// --- §1/§3 bodies that are not a request ----------------------------------------------------

TEST(Errors, BodyThatIsNotOneJsonObjectIs8WithoutReq) {
  client c(default_port());
  for (std::string_view body :
       {"hello", "[1,2,3]", "42", "\"msgid\"", "null", "true", " ", "{", R"({"msgid":15)", R"({"msgid":15}})",
        R"({"msgid":15} {"msgid":15})", R"({"msgid":15,})", "{'msgid':15}", R"([{"msgid":15}])"}) {
    expect_error_reply(c, body, 8, absent);
  }
  ping_barrier(c);  // still open, nothing else was sent
}

TEST(Errors, MissingOrNonIntegerMsgidIs8WithoutReq) {
  client c(default_port());
  for (std::string_view body :
       {R"({})", R"({"msgid":"1"})", R"({"msgid":"15"})", R"({"msgid":1.5})", R"({"msgid":15.0})",
        R"({"msgid":null})", R"({"msgid":true})", R"({"msgid":[15]})", R"({"msgid":{"v":15}})", R"({"MSGID":15})"}) {
    expect_error_reply(c, body, 8, absent);
  }
  // A valid cid is still copied into the error.
  expect_error_reply(c, R"({"cid":"x"})", 8, absent, json::value("x"));
  expect_error_reply(c, R"({"msgid":"1","cid":"x"})", 8, absent, json::value("x"));
  expect_error_reply(c, R"({"msgid":1.5,"cid":7})", 8, absent, json::value(7));
  ping_barrier(c);
}

TEST(Errors, UnknownOrServerOnlyMsgidIs8WithReqBeforeAndAfterLogin) {
  const auto a = register_account(default_port(), "um");
  client c(default_port());
  const std::int64_t ids[] = {99, 0, -1, 19, 1000, 2, 4, 7, 9, 11, 14, 16, 17, 18};
  for (auto id : ids) {
    expect_error_reply(c, json::object{{"msgid", id}}, 8, id);
  }
  expect_error_reply(c, R"({"msgid":99,"cid":"u"})", 8, 99, json::value("u"));
  login(c, a);
  for (auto id : ids) {
    expect_error_reply(c, json::object{{"msgid", id}}, 8, id);
  }
  ping_barrier(c);
}

TEST(Errors, UnknownMsgidBeforeLoginIs8Not9) {
  client c(default_port());
  expect_error_reply(c, R"({"msgid":99,"to":1,"msg":"x"})", 8, 99);
  expect_error_reply(c, R"({"msgid":2})", 8, 2);
}

TEST(Errors, LoginNeededIsCheckedBeforeTheFields) {
  client c(default_port());
  for (std::int64_t id : {5, 6, 8, 10, 12, 13}) {
    expect_error_reply(c, json::object{{"msgid", id}}, 9, id);  // fields missing: still 9
  }
  expect_error_reply(c, R"({"msgid":5,"to":"x","msg":5,"cid":"k"})", 9, 5, json::value("k"));
  expect_error_reply(c, R"({"msgid":12,"groupid":1,"msg":"hi","cid":12})", 9, 12, json::value(12));
  // An invalid cid is a field error, found after the login check: 9 without cid.
  expect_error_reply(c, R"({"msgid":5,"to":1,"msg":"x","cid":1.5})", 9, 5);
  // LOGIN and REG with bad fields before login: 8, not 9.
  expect_error_reply(c, R"({"msgid":1})", 8, 1);
  expect_error_reply(c, R"({"msgid":3})", 8, 3);
  ping_barrier(c);
}

// --- §2 cid ----------------------------------------------------------------------------------

TEST(Cid, ValidCidsAreCopiedUnchanged) {
  client c(default_port());
  const std::vector<json::value> valid{json::value(""),
                                       json::value(std::string(64, 'c')),
                                       json::value(repeat("\xc3\xa9", 32)),  // 64 bytes, 32 characters
                                       json::value("with \"quotes\" and \\ and \xe2\x82\xac"),
                                       json::value(0),
                                       json::value(-7),
                                       json::value(std::int64_t{9007199254740993})};
  for (const auto& cid : valid) {
    SCOPED_TRACE("cid " + to_text(cid));
    EXPECT_TRUE(has_fields(c.request(ping_req(cid)), {{"msgid", 16}, {"cid", cid}}));
  }
}

TEST(Cid, InvalidCidIs8WithoutCid) {
  client c(default_port());
  const std::vector<std::string> invalid{"\"" + std::string(65, 'c') + "\"",
                                         "\"" + repeat("\xc3\xa9", 32) + "a\"",  // 65 bytes
                                         "1.5",
                                         "2.0",
                                         "true",
                                         "false",
                                         "null",
                                         "[]",
                                         "[\"a\"]",
                                         "{}"};
  for (const auto& cid : invalid) {
    expect_error_reply(c, R"({"msgid":15,"cid":)" + cid + "}", 8, 15);
  }
  ping_barrier(c);
}

TEST(Cid, CopiedIntoEveryKindOfDirectAnswer) {
  const int port = default_port();
  const auto b = register_account(port, "cidb");
  client c(port, "cid");
  account a{0, unique_name("cida"), "pw-a"};

  auto f = c.request({{"msgid", 3}, {"name", a.name}, {"pwd", a.pwd}, {"cid", "reg"}});
  EXPECT_TRUE(is_ack(f, 4, 0));
  EXPECT_TRUE(has_fields(f, {{"cid", "reg"}, {"name", a.name}}));
  a.id = int_field(f, "id").value_or(0);
  f = c.request({{"msgid", 3}, {"name", a.name}, {"pwd", a.pwd}, {"cid", 31}});
  EXPECT_TRUE(is_ack(f, 4, 4));
  EXPECT_TRUE(has_fields(f, {{"cid", 31}}));
  f = c.request({{"msgid", 1}, {"id", a.id}, {"pwd", "wrong"}, {"cid", "bad-login"}});
  EXPECT_TRUE(is_ack(f, 2, 2));
  EXPECT_TRUE(has_fields(f, {{"cid", "bad-login"}}));
  f = c.request({{"msgid", 1}, {"id", a.id}, {"pwd", a.pwd}, {"cid", "login"}});
  EXPECT_TRUE(is_ack(f, 2, 0));
  EXPECT_TRUE(has_fields(f, {{"cid", "login"}, {"offline", 0}}));
  f = c.request({{"msgid", 6}, {"friendid", b.id}, {"cid", "friend"}});
  EXPECT_TRUE(is_ack(f, 7, 0));
  EXPECT_TRUE(has_fields(f, {{"cid", "friend"}, {"friendid", b.id}}));
  f = c.request({{"msgid", 6}, {"friendid", a.id}, {"cid", "self"}});
  EXPECT_TRUE(is_ack(f, 7, 6));
  EXPECT_TRUE(has_fields(f, {{"cid", "self"}}));
  const std::string gname = unique_name("cidg");
  f = c.request({{"msgid", 8}, {"groupname", gname}, {"cid", "group"}});
  EXPECT_TRUE(is_ack(f, 9, 0));
  EXPECT_TRUE(has_fields(f, {{"cid", "group"}, {"groupname", gname}}));
  const auto gid = int_field(f, "groupid").value_or(0);
  f = c.request({{"msgid", 10}, {"groupid", gid}, {"cid", "join"}});
  EXPECT_TRUE(is_ack(f, 11, 0));
  EXPECT_TRUE(has_fields(f, {{"cid", "join"}, {"groupid", gid}}));
  f = c.request(group_chat_req(gid, "to the group", "gchat"));
  EXPECT_TRUE(is_chat_ack(f, "gchat"));
  f = c.request(chat_req(b.id, "to b (offline)", 55));
  EXPECT_TRUE(is_chat_ack(f, 55));
  f = c.request(chat_req(std::int64_t{900000000000000}, "nobody", "nobody"));
  EXPECT_TRUE(is_error(f, 1, 5, json::value("nobody")));
  f = c.request({{"msgid", 13}, {"cid", "bye"}});
  EXPECT_TRUE(is_ack(f, 14, 0));
  EXPECT_TRUE(has_fields(f, {{"cid", "bye"}}));
  f = c.request({{"msgid", 13}, {"cid", "bye-again"}});
  EXPECT_TRUE(is_error(f, 9, 13, json::value("bye-again")));
}

// --- §2 ids ----------------------------------------------------------------------------------

TEST(Fields, IdsMustBePositiveJsonIntegers) {
  const int port = default_port();
  const auto a = register_account(port, "ids");
  client c = connect_as(port, a);
  const std::vector<std::string> bad{"\"3\"", "15.0", "0", "-1", "1.5", "1e2", "true", "null", "[3]", "{\"id\":3}"};
  for (const auto& v : bad) {
    expect_error_reply(c, R"({"msgid":5,"msg":"x","to":)" + v + "}", 8, 5);
    expect_error_reply(c, R"({"msgid":6,"friendid":)" + v + "}", 8, 6);
    expect_error_reply(c, R"({"msgid":10,"groupid":)" + v + "}", 8, 10);
    expect_error_reply(c, R"({"msgid":12,"msg":"x","groupid":)" + v + "}", 8, 12);
  }
  client fresh(port);
  for (const auto& v : bad) {
    expect_error_reply(fresh, R"({"msgid":1,"pwd":"x","id":)" + v + "}", 8, 1);
  }
  // The largest int64 is a well-formed id of nobody.
  const std::int64_t big = INT64_MAX;
  expect_error_reply(c, chat_req(big, "x"), 1, 5);
  EXPECT_TRUE(is_ack(c.request({{"msgid", 6}, {"friendid", big}}), 7, 1));
  EXPECT_TRUE(is_ack(c.request({{"msgid", 10}, {"groupid", big}}), 11, 7));
  EXPECT_TRUE(is_ack(fresh.request(login_id_req(big, "x")), 2, 2));
}

// --- §5 field limits, §2 UTF-8 -----------------------------------------------------------------

TEST(Fields, RegRejectsMissingWrongTypeEmptyTooLongAndControlCharacters) {
  client c(default_port());
  const std::string n = unique_name("rf");
  const std::vector<std::string> bad{
      R"({"msgid":3,"pwd":"x"})",
      R"({"msgid":3,"name":")" + n + R"("})",
      R"({"msgid":3,"name":123,"pwd":"x"})",
      R"({"msgid":3,"name":null,"pwd":"x"})",
      R"({"msgid":3,"name":[")" + n + R"("],"pwd":"x"})",
      R"({"msgid":3,"name":")" + n + R"(","pwd":123})",
      R"({"msgid":3,"name":")" + n + R"(","pwd":true})",
      R"({"msgid":3,"name":"","pwd":"x"})",
      R"({"msgid":3,"name":")" + n + R"(","pwd":""})",
      R"({"msgid":3,"name":")" + pad_to(n, 51) + R"(","pwd":"x"})",
      R"({"msgid":3,"name":")" + n + R"(","pwd":")" + std::string(129, 'p') + R"("})",
      R"({"msgid":3,"name":")" + pad_to(unique_name("mb") + "a", 51, "\xc3\xa9") + R"(","pwd":"x"})",
  };
  for (const auto& body : bad) {
    expect_error_reply(c, body, 8, 3);
  }
  // Control characters U+0000-U+001F, U+007F, U+0080-U+009F, escaped or raw where JSON
  // allows them raw.
  for (std::string_view ctl : {"\\u0000", "\\u0001", "\\n", "\\t", "\\u001f", "\\u007f", "\\u0080", "\\u0085",
                               "\\u009f", "\x7f", "\xc2\x80", "\xc2\x85", "\xc2\x9f"}) {
    expect_error_reply(c, R"({"msgid":3,"name":")" + unique_name("ctl") + std::string(ctl) + R"(x","pwd":"x"})", 8, 3);
  }
  // Raw U+0001 / U+001F inside a string is not even valid JSON: 8 as well.
  for (std::string_view ctl : {"\x01", "\x1f"}) {
    c.send_text(R"({"msgid":3,"name":")" + unique_name("ctl") + std::string(ctl) + R"(x","pwd":"x"})");
    EXPECT_TRUE(is_error_any(c.recv(), 8));
  }
  // Nothing of the above was registered: the base name is still free.
  EXPECT_TRUE(is_ack(c.request(reg_req(n, "x")), 4, 0));
}

TEST(Fields, RegLimitsCountBytesNotCharacters) {
  const int port = default_port();
  client c(port);
  // 50 bytes of which most are 2-byte characters: accepted, echoed byte for byte.
  const std::string mb50 = pad_to(unique_name("mb"), 50, "\xc3\xa9");
  ASSERT_EQ(mb50.size(), 50u);
  auto f = c.request(reg_req(mb50, "pw"));
  EXPECT_TRUE(is_ack(f, 4, 0));
  EXPECT_TRUE(has_fields(f, {{"name", mb50}}));
  // 51 bytes (fewer than 50 characters): refused.
  const std::string mb51 = pad_to(unique_name("mb") + "a", 51, "\xc3\xa9");
  ASSERT_EQ(mb51.size(), 51u);
  expect_error_reply(c, reg_req(mb51, "pw"), 8, 3);
  // 50 ASCII bytes and a 128-byte password: accepted, and that password logs in.
  account a{0, pad_to(unique_name("a50"), 50), std::string(128, 'p')};
  f = c.request(reg_req(a.name, a.pwd));
  EXPECT_TRUE(is_ack(f, 4, 0));
  a.id = int_field(f, "id").value_or(0);
  client l(port);
  EXPECT_TRUE(is_ack(l.request(login_name_req(a.name, a.pwd)), 2, 0));
  // Characters just outside the control ranges and 4-byte characters are fine in names;
  // the password has no character rule.
  account b{0, unique_name("ok") + "\xc2\xa0\xc3\xbf\xf0\x9f\x99\x82", "p\x01w\nd \xf0\x9f\x99\x82"};
  f = c.request(reg_req(b.name, b.pwd));
  EXPECT_TRUE(is_ack(f, 4, 0));
  EXPECT_TRUE(has_fields(f, {{"name", b.name}}));
  client l2(port);
  f = l2.request(login_name_req(b.name, b.pwd));
  EXPECT_TRUE(is_ack(f, 2, 0));
  EXPECT_TRUE(has_fields(f, {{"name", b.name}}));
}

TEST(Fields, LoginFieldRules) {
  client c(default_port());
  for (std::string_view body :
       {R"({"msgid":1,"pwd":"x"})", R"({"msgid":1,"id":1,"name":"someone","pwd":"x"})", R"({"msgid":1,"id":1})",
        R"({"msgid":1,"name":"someone"})", R"({"msgid":1,"name":"","pwd":"x"})", R"({"msgid":1,"name":"n","pwd":""})",
        R"({"msgid":1,"name":5,"pwd":"x"})", R"({"msgid":1,"id":1,"pwd":5})"}) {
    expect_error_reply(c, body, 8, 1);
  }
  expect_error_reply(c, json::object{{"msgid", 1}, {"name", std::string(51, 'n')}, {"pwd", "x"}}, 8, 1);
  expect_error_reply(c, json::object{{"msgid", 1}, {"name", "n"}, {"pwd", std::string(129, 'p')}}, 8, 1);
}

TEST(Fields, InvalidUtf8Is8) {
  const int port = default_port();
  const auto a = register_account(port, "utf");
  client c(port);
  for (std::string_view body :
       {"{\"msgid\":3,\"name\":\"bad\xff\xfe\",\"pwd\":\"x\"}", "{\"msgid\":15,\"junk\":\"\xc3\x28\"}",
        "{\"msgid\":15,\"cid\":\"\xe2\x82\"}", "{\"msgid\":15,\"junk\":\"\xc0\xaf\"}",
        "{\"msgid\":15,\"junk\":\"\xed\xa0\x80\"}", "{\"msgid\":15,\"junk\":\"\xf4\x90\x80\x80\"}",
        "{\"\xff\":1,\"msgid\":15}", "\xff\xfe{\"msgid\":15}"}) {
    SCOPED_TRACE("request body: " + std::string(body));
    c.send_text(body);
    EXPECT_TRUE(is_error_any(c.recv(), 8));
  }
  login(c, a);
  c.send_text("{\"msgid\":5,\"to\":" + std::to_string(a.id) + ",\"msg\":\"x\xf8\x88\x80\x80\x80y\"}");
  EXPECT_TRUE(is_error_any(c.recv(), 8));
  ping_barrier(c);  // nothing was delivered to a (it is its own recipient here)
}

TEST(Fields, ChatMessageLimitsCountBytes) {
  const int port = default_port();
  const auto a = register_account(port, "ml");
  const auto b = register_account(port, "ml");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const std::string ascii8192(8192, 'm');
  const std::string mb8192 = pad_to("", 8192, "\xe2\x82\xac");  // 2730 x 3 bytes + 2
  const std::string mb8193 = repeat("\xe2\x82\xac", 2731);
  ASSERT_EQ(mb8192.size(), 8192u);
  ASSERT_EQ(mb8193.size(), 8193u);
  const std::string special = std::string("line1\nline2\t\"quoted\" \\ \x01 end ") + '\0' + " \xf0\x9f\x99\x82";

  for (const auto* msg : {&ascii8192, &mb8192, &special}) {
    ca.send(chat_req(b.id, *msg));
    EXPECT_TRUE(is_chat(cb.recv(), a, b.id, *msg));
  }
  expect_error_reply(ca, chat_req(b.id, std::string(8193, 'm')), 8, 5);
  expect_error_reply(ca, chat_req(b.id, mb8193), 8, 5);
  expect_error_reply(ca, chat_req(b.id, ""), 8, 5);
  expect_error_reply(ca, json::object{{"msgid", 5}, {"to", b.id}}, 8, 5);
  expect_error_reply(ca, json::object{{"msgid", 5}, {"to", b.id}, {"msg", 5}}, 8, 5);
  expect_error_reply(ca, json::object{{"msgid", 5}, {"to", b.id}, {"msg", nullptr}}, 8, 5);
  expect_error_reply(ca, json::object{{"msgid", 5}, {"msg", "no recipient"}}, 8, 5);
  ping_barrier(cb);  // none of the refused messages reached b
}

TEST(Fields, GroupNameAndDescriptionLimits) {
  const int port = default_port();
  const auto a = register_account(port, "gl");
  client c = connect_as(port, a);
  auto create = [&](const json::object& req) { return c.request(req); };

  EXPECT_TRUE(is_ack(create({{"msgid", 8}, {"groupname", pad_to(unique_name("g"), 50)}}), 9, 0));
  EXPECT_TRUE(is_ack(create({{"msgid", 8}, {"groupname", pad_to(unique_name("g"), 50, "\xc3\xa9")}}), 9, 0));
  EXPECT_TRUE(
      is_ack(create({{"msgid", 8}, {"groupname", unique_name("g")}, {"groupdesc", std::string(200, 'd')}}), 9, 0));
  EXPECT_TRUE(
      is_ack(create({{"msgid", 8}, {"groupname", unique_name("g")}, {"groupdesc", repeat("\xc3\xa9", 100)}}), 9, 0));
  EXPECT_TRUE(is_ack(create({{"msgid", 8}, {"groupname", unique_name("g")}, {"groupdesc", ""}}), 9, 0));

  const std::vector<json::object> bad{
      {{"msgid", 8}},
      {{"msgid", 8}, {"groupname", ""}},
      {{"msgid", 8}, {"groupname", 17}},
      {{"msgid", 8}, {"groupname", pad_to(unique_name("g"), 51)}},
      {{"msgid", 8}, {"groupname", pad_to(unique_name("g") + "a", 51, "\xc3\xa9")}},
      {{"msgid", 8}, {"groupname", unique_name("g") + "\x07"}},
      {{"msgid", 8}, {"groupname", unique_name("g") + "\xc2\x85"}},
      {{"msgid", 8}, {"groupname", unique_name("g")}, {"groupdesc", std::string(201, 'd')}},
      {{"msgid", 8}, {"groupname", unique_name("g")}, {"groupdesc", repeat("\xc3\xa9", 100) + "d"}},
      {{"msgid", 8}, {"groupname", unique_name("g")}, {"groupdesc", 5}},
  };
  for (const auto& req : bad) {
    expect_error_reply(c, req, 8, 8);
  }
}

// --- §3 order of checks: fields before the request's own rules --------------------------------

TEST(CheckOrder, FieldErrorsComeBeforeDomainErrors) {
  const int port = default_port();
  const auto a = register_account(port, "co");
  client c(port);
  // Taken name, but the password is too long: 8, not 4.
  expect_error_reply(c, reg_req(a.name, std::string(129, 'p')), 8, 3);
  // Unknown account with an empty password: 8, not 2.
  expect_error_reply(c, login_name_req(unique_name("nobody"), ""), 8, 1);
  login(c, a);
  const auto g = create_group(c, "co");
  // Unknown recipient with an empty message: 8, not 1.
  expect_error_reply(c, chat_req(std::int64_t{900000000000000}, ""), 8, 5);
  // Taken group name with a too long description: 8, not 5.
  expect_error_reply(c, json::object{{"msgid", 8}, {"groupname", g.name}, {"groupdesc", std::string(201, 'd')}}, 8, 8);
  // No such group with an empty message: 8, not 7.
  expect_error_reply(c, group_chat_req(std::int64_t{900000000000000}, ""), 8, 12);
}

}  // namespace
