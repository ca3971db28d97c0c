// Requests and answers of PROTOCOL.md §6 against the default server: REG, LOGIN and its ack,
// ONE_CHAT with CHAT_ACK, friends, groups, group chat, LOGINOUT, presence (§7).
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace {

using namespace chat_test;

// LOGINOUT then LOGIN on the same connection; returns the new ack (checked for errno 0).
json::object relogin(client& c, const account& a) {
  EXPECT_TRUE(is_ack(c.request({{"msgid", 13}}), 14, 0));
  return login(c, a).ack;
}

// --- REG --------------------------------------------------------------------------------------

TEST(Register, AnswersIdAndName) {
  client c(default_port());
  const std::string n1 = unique_name("reg");
  const std::string n2 = unique_name("reg");
  auto f1 = c.request(reg_req(n1, "secret"));
  auto f2 = c.request(reg_req(n2, "secret"));
  EXPECT_TRUE(is_ack(f1, 4, 0));
  EXPECT_TRUE(is_ack(f2, 4, 0));
  EXPECT_TRUE(has_fields(f1, {{"name", n1}}));
  EXPECT_TRUE(has_fields(f2, {{"name", n2}}));
  ASSERT_TRUE(int_field(f1, "id") && int_field(f2, "id"));
  EXPECT_GT(*int_field(f1, "id"), 0);
  EXPECT_NE(*int_field(f1, "id"), *int_field(f2, "id"));
}

TEST(Register, TakenNameIs4AndKeepsTheFirstAccount) {
  const int port = default_port();
  client c(port);
  const auto a = register_account(c, "taken");
  EXPECT_TRUE(is_ack(c.request(reg_req(a.name, "other")), 4, 4));
  client d(port);
  EXPECT_TRUE(is_ack(d.request(reg_req(a.name, "third")), 4, 4));
  EXPECT_TRUE(is_ack(d.request(login_name_req(a.name, "other")), 2, 2));
  auto f = d.request(login_name_req(a.name, a.pwd));
  EXPECT_TRUE(is_ack(f, 2, 0));
  EXPECT_TRUE(has_fields(f, {{"id", a.id}, {"name", a.name}}));
}

TEST(Register, NamesAreComparedByteForByte) {
  const int port = default_port();
  client c(port);
  const std::string base = unique_name("bb");
  // Pairs a case-, accent-, width- or pad-insensitive comparison would merge.
  const std::vector<std::string> names{"Alice" + base,     "alice" + base,       base,       base + " ",
                                       "e\xcc\x81" + base, "\xc3\xa9" + base,    "E" + base, "\xc3\x89" + base,
                                       "A" + base,         "\xef\xbc\xa1" + base};
  std::vector<std::int64_t> ids;
  for (const auto& n : names) {
    SCOPED_TRACE("name '" + n + "'");
    auto f = c.request(reg_req(n, "pw-" + n));
    EXPECT_TRUE(is_ack(f, 4, 0));
    EXPECT_TRUE(has_fields(f, {{"name", n}}));
    ids.push_back(int_field(f, "id").value_or(0));
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE("name '" + names[i] + "'");
    client l(port);
    auto f = l.request(login_name_req(names[i], "pw-" + names[i]));
    EXPECT_TRUE(is_ack(f, 2, 0));
    EXPECT_TRUE(has_fields(f, {{"id", ids[i]}, {"name", names[i]}}));
  }
}

TEST(Login, ByNameMatchesTheNameByteForByte) {
  const int port = default_port();
  const auto a = register_account(port, "Exact");
  // Same password, a name that differs only in case or a trailing space: there is no such
  // account (errno 2), and a must not be logged in by it.
  for (const std::string& other : {a.name + " ", "exact" + a.name.substr(5), "EXACT" + a.name.substr(5)}) {
    SCOPED_TRACE("name '" + other + "'");
    client c(port);
    const auto f = c.request(login_name_req(other, a.pwd));
    EXPECT_TRUE(is_ack(f, 2, 2));
    if (int_field(f, "errno") == 0) {
      EXPECT_TRUE(is_ack(c.request({{"msgid", 13}}), 14, 0));  // undo, for the next case
    }
  }
  client ok(port);
  EXPECT_TRUE(is_ack(ok.request(login_name_req(a.name, a.pwd)), 2, 0));
}

TEST(Register, AllowedWhileLoggedInAndTheSessionIsUnchanged) {
  const int port = default_port();
  const auto a = register_account(port, "rl");
  const auto b = register_account(port, "rl");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const auto x = register_account(ca, "rlx");
  EXPECT_GT(x.id, 0);
  ca.send(chat_req(b.id, "still a"));
  EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "still a"));
  EXPECT_TRUE(is_ack(ca.request(login_id_req(x.id, x.pwd)), 2, 3));  // still logged in as a
}

// --- LOGIN ------------------------------------------------------------------------------------

TEST(Login, ByIdAndByNameGiveTheFullAck) {
  const int port = default_port();
  const auto a = register_account(port, "li");
  client c(port);
  for (const auto& req : {login_id_req(a.id, a.pwd), login_name_req(a.name, a.pwd)}) {
    SCOPED_TRACE(json::serialize(req));
    auto f = c.request(req);
    EXPECT_TRUE(is_ack(f, 2, 0));
    EXPECT_TRUE(has_fields(
        f, {{"id", a.id}, {"name", a.name}, {"friends", json::array{}}, {"groups", json::array{}}, {"offline", 0}}));
    EXPECT_TRUE(is_ack(c.request({{"msgid", 13}}), 14, 0));
  }
}

TEST(Login, WrongPasswordAndUnknownAccountGetTheSameAnswer) {
  const int port = default_port();
  const auto a = register_account(port, "wp");
  client c(port);
  auto wrong_by_name = c.request(login_name_req(a.name, a.pwd + "x"));
  auto unknown_by_name = c.request(login_name_req(unique_name("nobody"), a.pwd));
  auto wrong_by_id = c.request(login_id_req(a.id, a.pwd + "x"));
  auto unknown_by_id = c.request(login_id_req(std::int64_t{900000000000001}, a.pwd));
  for (const auto* f : {&wrong_by_name, &unknown_by_name, &wrong_by_id, &unknown_by_id}) {
    EXPECT_TRUE(is_ack(*f, 2, 2));
    EXPECT_FALSE(f->contains("friends") || f->contains("groups")) << json::serialize(*f);
  }
  // Identical apart from an echo of the name/id that was asked for.
  for (auto* f : {&wrong_by_name, &unknown_by_name, &wrong_by_id, &unknown_by_id}) {
    f->erase("name");
    f->erase("id");
  }
  EXPECT_EQ(wrong_by_name, unknown_by_name)
      << json::serialize(wrong_by_name) << " vs " << json::serialize(unknown_by_name);
  EXPECT_EQ(wrong_by_id, unknown_by_id) << json::serialize(wrong_by_id) << " vs " << json::serialize(unknown_by_id);
  // Still not logged in.
  expect_error_reply(c, chat_req(a.id, "x"), 9, 5);
}

TEST(Login, BothOrNeitherIdAndNameIs8EvenWhenCorrect) {
  const int port = default_port();
  const auto a = register_account(port, "bn");
  client c(port);
  expect_error_reply(c, json::object{{"msgid", 1}, {"id", a.id}, {"name", a.name}, {"pwd", a.pwd}}, 8, 1);
  expect_error_reply(c, json::object{{"msgid", 1}, {"pwd", a.pwd}}, 8, 1);
  expect_error_reply(c, chat_req(a.id, "x"), 9, 5);  // not logged in by either
}

TEST(Login, UserOnlineElsewhereIs3AndPasswordIsCheckedFirst) {
  const int port = default_port();
  const auto a = register_account(port, "oe");
  const auto b = register_account(port, "oe");
  client c1 = connect_as(port, a);
  client c2(port);
  EXPECT_TRUE(is_ack(c2.request(login_id_req(a.id, a.pwd)), 2, 3));
  EXPECT_TRUE(is_ack(c2.request(login_name_req(a.name, a.pwd)), 2, 3));
  EXPECT_TRUE(is_ack(c2.request(login_id_req(a.id, "wrong")), 2, 2));
  expect_error_reply(c2, chat_req(b.id, "x"), 9, 5);  // c2 is not logged in
  // The first session is untouched.
  client cb = connect_as(port, b);
  cb.send(chat_req(a.id, "to the first session"));
  EXPECT_TRUE(is_chat(c1.recv(), b, a.id, "to the first session"));
  ping_barrier(c2);
}

TEST(Login, ConnectionAlreadyLoggedInIs3) {
  const int port = default_port();
  const auto a = register_account(port, "al");
  const auto b = register_account(port, "al");
  client c = connect_as(port, a);
  EXPECT_TRUE(is_ack(c.request(login_id_req(b.id, b.pwd)), 2, 3));
  EXPECT_TRUE(is_ack(c.request(login_id_req(a.id, a.pwd)), 2, 3));
  // b did not become online through that attempt, and c is still a.
  client cb = connect_as(port, b);
  c.send(chat_req(b.id, "from a"));
  EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "from a"));
}

TEST(Login, TenFailedLoginsInARowLockTheAccount) {
  const int port = default_port();
  const auto a = register_account(port, "lock");
  const auto other = register_account(port, "lock");
  client c(port);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(is_ack(c.request(i % 2 ? login_id_req(a.id, "bad") : login_name_req(a.name, "bad")), 2, 2));
  }
  EXPECT_TRUE(is_ack(c.request(login_id_req(a.id, a.pwd)), 2, 2)) << "locked: refused even with the password";
  EXPECT_TRUE(is_ack(c.request(login_name_req(a.name, a.pwd)), 2, 2));
  EXPECT_TRUE(is_ack(c.request(login_id_req(other.id, other.pwd)), 2, 0)) << "only that account is locked";
}

TEST(Login, SuccessBreaksTheRowOfFailures) {
  const int port = default_port();
  const auto a = register_account(port, "row");
  client c(port);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 9; ++i) {
      EXPECT_TRUE(is_ack(c.request(login_id_req(a.id, "bad")), 2, 2));
    }
    EXPECT_TRUE(is_ack(c.request(login_id_req(a.id, a.pwd)), 2, 0)) << "round " << round;
    EXPECT_TRUE(is_ack(c.request({{"msgid", 13}}), 14, 0));
  }
}

TEST(LoginAck, ListsFriendsAndGroupsWithStatesAndRoles) {
  const int port = default_port();
  const auto a = register_account(port, "ack");
  const auto b = register_account(port, "ack");
  const auto c = register_account(port, "ack");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  add_friend(ca, b.id);
  add_friend(ca, c.id);
  const auto g = create_group(ca, "ackg", "team desc");
  join_group(cb, g.id);
  // h is created without groupdesc; a joins it as a normal member.
  group h{0, unique_name("ackh")};
  auto f = cb.request({{"msgid", 8}, {"groupname", h.name}});
  ASSERT_TRUE(is_ack(f, 9, 0));
  h.id = int_field(f, "groupid").value_or(0);
  join_group(ca, h.id);

  auto ack = relogin(ca, a);
  EXPECT_TRUE(has_fields(ack, {{"id", a.id}, {"name", a.name}, {"offline", 0}}));
  EXPECT_EQ(list_of(ack, "friends"), by_id({friend_entry(b, "online"), friend_entry(c, "offline")}))
      << json::serialize(ack);
  EXPECT_EQ(list_of(ack, "groups"),
            by_id({group_entry(g, "team desc", {member(a, "online", "creator"), member(b, "online", "normal")}),
                   group_entry(h, "", {member(b, "online", "creator"), member(a, "online", "normal")})}))
      << json::serialize(ack);

  // Friendship is mutual: c sees a (online); c has no groups.
  client cc(port);
  auto cack = login(cc, c).ack;
  EXPECT_EQ(list_of(cack, "friends"), by_id({friend_entry(a, "online")})) << json::serialize(cack);
  EXPECT_TRUE(has_fields(cack, {{"groups", json::array{}}}));

  // After b logs out it shows as offline everywhere.
  EXPECT_TRUE(is_ack(cb.request({{"msgid", 13}}), 14, 0));
  ack = relogin(ca, a);
  EXPECT_EQ(list_of(ack, "friends"), by_id({friend_entry(b, "offline"), friend_entry(c, "online")}))
      << json::serialize(ack);
  EXPECT_EQ(list_of(ack, "groups"),
            by_id({group_entry(g, "team desc", {member(a, "online", "creator"), member(b, "offline", "normal")}),
                   group_entry(h, "", {member(b, "offline", "creator"), member(a, "online", "normal")})}))
      << json::serialize(ack);
}

TEST(Presence, ClosedConnectionIsOfflineWithinOneSecond) {
  const int port = default_port();
  const auto a = register_account(port, "pr");
  const auto b = register_account(port, "pr");
  client ca = connect_as(port, a);
  add_friend(ca, b.id);
  {
    client cb = connect_as(port, b);
    ping_barrier(cb);
  }  // closed here
  const auto closed_at = steady::now();
  for (;;) {
    const auto asked_at = steady::now();
    auto ack = relogin(ca, a);
    const auto friends = list_of(ack, "friends");
    ASSERT_EQ(friends.size(), 1u) << json::serialize(ack);
    if (friends[0].as_object() == friend_entry(b, "offline")) {
      break;
    }
    ASSERT_LT(asked_at - closed_at, 1s) << "b still online more than 1 s after its connection closed";
  }
  // b can log in again elsewhere.
  client cb2 = connect_as(port, b);
}

// --- ONE_CHAT ---------------------------------------------------------------------------------

TEST(OneChat, LiveDeliveryIsExactAndChatAckTimeMatches) {
  const int port = default_port();
  const auto a = register_account(port, "oc");
  const auto b = register_account(port, "oc");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const auto before = now_ms();
  ca.send(chat_req(b.id, "hello b", "c1"));
  const auto ack = ca.recv();
  const auto m = cb.recv();
  const auto after = now_ms();
  EXPECT_TRUE(is_chat_ack(ack, "c1"));
  EXPECT_TRUE(is_chat(m, a, b.id, "hello b"));
  const auto t = int_field(m, "time").value_or(0);
  EXPECT_EQ(int_field(ack, "time"), t);
  EXPECT_GE(t, before);
  EXPECT_LE(t, after);
  // Integer cid too.
  ca.send(chat_req(b.id, "second", 77));
  EXPECT_TRUE(is_chat_ack(ca.recv(), 77));
  EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "second"));
}

TEST(OneChat, NoAnswerWithoutCid) {
  const int port = default_port();
  const auto a = register_account(port, "nc");
  const auto b = register_account(port, "nc");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  ca.send(chat_req(b.id, "no cid"));
  EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "no cid"));
  ping_barrier(ca);
  ca.expect_silence(300ms);
}

TEST(OneChat, UnknownRecipientIs1) {
  const int port = default_port();
  const auto a = register_account(port, "ur");
  client ca = connect_as(port, a);
  expect_error_reply(ca, chat_req(std::int64_t{900000000000002}, "anyone?"), 1, 5);
  expect_error_reply(ca, chat_req(std::int64_t{900000000000002}, "anyone?", "u1"), 1, 5, json::value("u1"));
  ping_barrier(ca);
}

TEST(OneChat, MessageToYourselfIsDelivered) {
  const int port = default_port();
  const auto a = register_account(port, "self");
  client ca = connect_as(port, a);
  ca.send(chat_req(a.id, "note to self", "me"));
  auto frames = ca.recv_n(2);
  auto ack_it = std::find_if(frames.begin(), frames.end(), [](const auto& f) { return int_field(f, "msgid") == 18; });
  ASSERT_NE(ack_it, frames.end()) << json::serialize(frames[0]) << json::serialize(frames[1]);
  const auto& ack = *ack_it;
  const auto& msg = frames[ack_it == frames.begin() ? 1 : 0];
  EXPECT_TRUE(is_chat_ack(ack, "me"));
  EXPECT_TRUE(is_chat(msg, a, a.id, "note to self"));
  EXPECT_EQ(int_field(ack, "time"), int_field(msg, "time"));
}

TEST(OneChat, BeforeLoginIs9) {
  const auto b = register_account(default_port(), "bl");
  client c(default_port());
  expect_error_reply(c, chat_req(b.id, "hi"), 9, 5);
  expect_error_reply(c, chat_req(b.id, "hi", "x"), 9, 5, json::value("x"));
}

TEST(OneChat, SenderFieldsAndTimeFromTheClientAreIgnored) {
  const int port = default_port();
  const auto a = register_account(port, "sp");
  const auto b = register_account(port, "sp");
  const auto v = register_account(port, "victim");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  auto req = chat_req(b.id, "spoofed?", "sp");
  req["id"] = v.id;
  req["name"] = v.name;
  req["from"] = v.id;
  req["time"] = 123;
  req["offline"] = true;
  const auto before = now_ms();
  ca.send(req);
  const auto ack = ca.recv();
  const auto m = cb.recv();
  EXPECT_TRUE(is_chat_ack(ack, "sp"));
  EXPECT_TRUE(is_chat(m, a, b.id, "spoofed?"));  // exact keys: no "offline", real sender
  EXPECT_GE(int_field(m, "time").value_or(0), before);
  EXPECT_EQ(int_field(ack, "time"), int_field(m, "time"));
}

// --- ADD_FRIEND -------------------------------------------------------------------------------

TEST(Friends, AddIsMutualAndIdempotent) {
  const int port = default_port();
  const auto a = register_account(port, "fr");
  const auto b = register_account(port, "fr");
  client ca = connect_as(port, a);
  for (int i = 0; i < 2; ++i) {
    auto f = ca.request({{"msgid", 6}, {"friendid", b.id}});
    EXPECT_TRUE(is_ack(f, 7, 0));
    EXPECT_TRUE(has_fields(f, {{"friendid", b.id}}));
  }
  client cb = connect_as(port, b);
  add_friend(cb, a.id);  // already friends the other way: still fine
  auto back = relogin(cb, b);
  EXPECT_EQ(list_of(back, "friends"), by_id({friend_entry(a, "online")})) << json::serialize(back);
  auto aack = relogin(ca, a);
  EXPECT_EQ(list_of(aack, "friends"), by_id({friend_entry(b, "online")})) << json::serialize(aack);
}

TEST(Friends, YourselfIs6AndUnknownIs1) {
  const int port = default_port();
  const auto a = register_account(port, "fs");
  client ca = connect_as(port, a);
  EXPECT_TRUE(is_ack(ca.request({{"msgid", 6}, {"friendid", a.id}}), 7, 6));
  EXPECT_TRUE(is_ack(ca.request({{"msgid", 6}, {"friendid", std::int64_t{900000000000003}}}), 7, 1));
  auto ack = relogin(ca, a);
  EXPECT_TRUE(has_fields(ack, {{"friends", json::array{}}}));
}

// --- groups -----------------------------------------------------------------------------------

TEST(Groups, CreateAnswersIdAndNameAndTakenNameIs5) {
  const int port = default_port();
  const auto a = register_account(port, "gc");
  const auto b = register_account(port, "gc");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const std::string name = unique_name("Dev");
  auto f = ca.request({{"msgid", 8}, {"groupname", name}, {"groupdesc", "team"}});
  EXPECT_TRUE(is_ack(f, 9, 0));
  EXPECT_TRUE(has_fields(f, {{"groupname", name}}));
  EXPECT_GT(int_field(f, "groupid").value_or(0), 0);
  EXPECT_TRUE(is_ack(ca.request({{"msgid", 8}, {"groupname", name}}), 9, 5));
  EXPECT_TRUE(is_ack(cb.request({{"msgid", 8}, {"groupname", name}, {"groupdesc", "other"}}), 9, 5));
  // Byte for byte: other case, trailing space, other accent form are different names.
  for (const std::string& other :
       {"dev" + name.substr(3), name + " ", "D\xc3\xa9v" + name.substr(3), "De\xcc\x81v" + name.substr(3)}) {
    SCOPED_TRACE("groupname '" + other + "'");
    EXPECT_TRUE(is_ack(cb.request({{"msgid", 8}, {"groupname", other}}), 9, 0));
  }
}

TEST(Groups, JoinIsIdempotentAndUnknownGroupIs7) {
  const int port = default_port();
  const auto a = register_account(port, "gj");
  const auto b = register_account(port, "gj");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const auto g = create_group(ca, "gj");
  for (int i = 0; i < 2; ++i) {
    auto f = cb.request({{"msgid", 10}, {"groupid", g.id}});
    EXPECT_TRUE(is_ack(f, 11, 0));
    EXPECT_TRUE(has_fields(f, {{"groupid", g.id}}));
  }
  join_group(ca, g.id);  // the creator joining again keeps its role
  EXPECT_TRUE(is_ack(cb.request({{"msgid", 10}, {"groupid", std::int64_t{900000000000004}}}), 11, 7));
  auto ack = relogin(cb, b);
  EXPECT_EQ(list_of(ack, "groups"),
            by_id({group_entry(g, "", {member(a, "online", "creator"), member(b, "online", "normal")})}))
      << json::serialize(ack);
}

TEST(Groups, GroupChatReachesEveryOtherMemberButNotTheSender) {
  const int port = default_port();
  const auto a = register_account(port, "gm");
  const auto b = register_account(port, "gm");
  const auto c = register_account(port, "gm");
  const auto d = register_account(port, "gm");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  client cc = connect_as(port, c);
  client cd = connect_as(port, d);
  const auto g = create_group(ca, "gm");
  join_group(cb, g.id);
  join_group(cc, g.id);

  const auto before = now_ms();
  ca.send(group_chat_req(g.id, "hello all", "g1"));
  const auto ack = ca.recv();
  const auto mb = cb.recv();
  const auto mc = cc.recv();
  EXPECT_TRUE(is_chat_ack(ack, "g1"));
  EXPECT_TRUE(is_group_chat(mb, a, g.id, "hello all"));
  EXPECT_TRUE(is_group_chat(mc, a, g.id, "hello all"));
  EXPECT_EQ(int_field(mb, "time"), int_field(ack, "time"));
  EXPECT_EQ(int_field(mc, "time"), int_field(ack, "time"));
  EXPECT_GE(int_field(mb, "time").value_or(0), before);

  cb.send(group_chat_req(g.id, "from b"));  // no cid: no answer to b
  EXPECT_TRUE(is_group_chat(ca.recv(), b, g.id, "from b"));
  EXPECT_TRUE(is_group_chat(cc.recv(), b, g.id, "from b"));
  for (auto* cl : {&ca, &cb, &cc, &cd}) {
    ping_barrier(*cl);  // the sender got no copy, the non-member nothing
  }
}

TEST(Groups, NotMemberIs10AndNoSuchGroupIs7) {
  const int port = default_port();
  const auto a = register_account(port, "gn");
  const auto d = register_account(port, "gn");
  client ca = connect_as(port, a);
  client cd = connect_as(port, d);
  const auto g = create_group(ca, "gn");
  expect_error_reply(cd, group_chat_req(g.id, "let me in"), 10, 12);
  expect_error_reply(cd, group_chat_req(g.id, "let me in", "n1"), 10, 12, json::value("n1"));
  expect_error_reply(cd, group_chat_req(std::int64_t{900000000000005}, "nowhere", 5), 7, 12, json::value(5));
  ping_barrier(ca);  // nothing reached the member
}

TEST(Groups, SenderFieldsFromTheClientAreIgnored) {
  const int port = default_port();
  const auto a = register_account(port, "gs");
  const auto b = register_account(port, "gs");
  const auto v = register_account(port, "gsv");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const auto g = create_group(ca, "gs");
  join_group(cb, g.id);
  auto req = group_chat_req(g.id, "who am i");
  req["id"] = v.id;
  req["name"] = v.name;
  req["from"] = v.id;
  req["time"] = 1;
  ca.send(req);
  const auto m = cb.recv();
  EXPECT_TRUE(is_group_chat(m, a, g.id, "who am i"));
  EXPECT_GT(int_field(m, "time").value_or(0), 1000);
}

// --- LOGINOUT ---------------------------------------------------------------------------------

TEST(Loginout, AckThenMessagesAreStoredAndTheConnectionMayLogInAgain) {
  const int port = default_port();
  const auto a = register_account(port, "lo");
  const auto b = register_account(port, "lo");
  const auto c = register_account(port, "lo");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);

  auto f = ca.request({{"msgid", 13}});
  EXPECT_TRUE(is_ack(f, 14, 0));
  expect_error_reply(ca, chat_req(b.id, "x"), 9, 5);  // no longer logged in
  expect_error_reply(ca, json::object{{"msgid", 13}}, 9, 13);

  const auto t = send_chat_acked(cb, a.id, "while a was out");
  // The same connection logs in as another user, then as a again.
  auto rc = login(ca, c);
  EXPECT_TRUE(has_fields(rc.ack, {{"id", c.id}, {"offline", 0}}));
  EXPECT_TRUE(is_ack(ca.request({{"msgid", 13}}), 14, 0));
  auto ra = login(ca, a);
  ASSERT_EQ(ra.offline.size(), 1u);
  EXPECT_TRUE(is_chat(ra.offline[0], b, a.id, "while a was out", true));
  EXPECT_EQ(int_field(ra.offline[0], "time"), t);
  ping_barrier(ca);

  // After LOGINOUT the user can log in on another connection.
  EXPECT_TRUE(is_ack(ca.request({{"msgid", 13}}), 14, 0));
  client ca2 = connect_as(port, a);
}

TEST(Loginout, BeforeLoginIs9) {
  client c(default_port());
  expect_error_reply(c, json::object{{"msgid", 13}}, 9, 13);
  expect_error_reply(c, json::object{{"msgid", 13}, {"cid", "q"}}, 9, 13, json::value("q"));
}

}  // namespace
