// Stored (offline) messages, PROTOCOL.md §6 LOGIN_MSG: counted in the ack, delivered right
// after it oldest first, each with "offline":true, before any live message, never twice.
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

namespace {

using namespace chat_test;

struct sent {
  const account* from;
  bool group;
  std::string msg;
  std::int64_t time;
};

TEST(Offline, OneToOneAndGroupMessagesArriveAfterTheAckOldestFirst) {
  const int port = default_port();
  const auto a = register_account(port, "off");
  const auto b = register_account(port, "off");
  const auto c = register_account(port, "off");
  client cb = connect_as(port, b);
  client cc = connect_as(port, c);
  const auto g = create_group(cb, "off");
  join_group(cc, g.id);
  {
    client ca = connect_as(port, a);
    join_group(ca, g.id);
    EXPECT_TRUE(is_ack(ca.request({{"msgid", 13}}), 14, 0));  // offline from here
  }

  // Interleaved one-to-one and group messages from two senders; each waits for its CHAT_ACK
  // so that the order of acceptance is the order below.
  std::vector<sent> expected;
  for (int i = 0; i < 12; ++i) {
    const account& from = i % 2 ? c : b;
    client& conn = i % 2 ? cc : cb;
    const bool to_group = i % 3 == 1;
    const std::string msg = "stored #" + std::to_string(i) + (to_group ? " (group)" : " (direct)");
    const std::string cid = "s" + std::to_string(i);
    conn.send(to_group ? group_chat_req(g.id, msg, cid) : chat_req(a.id, msg, cid));
    for (;;) {  // group messages also reach the other (online) sender: skip those
      auto f = conn.recv();
      if (int_field(f, "msgid") == 12) {
        continue;
      }
      ASSERT_TRUE(is_chat_ack(f, cid));
      expected.push_back({&from, to_group, msg, int_field(f, "time").value_or(0)});
      break;
    }
  }

  client ca(port);
  auto r = login(ca, a);
  EXPECT_TRUE(has_fields(r.ack, {{"offline", static_cast<std::int64_t>(expected.size())}}));
  ASSERT_EQ(r.offline.size(), expected.size());
  std::int64_t last_time = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("stored message " + std::to_string(i));
    const auto& e = expected[i];
    const auto& f = r.offline[i];
    EXPECT_TRUE(e.group ? is_group_chat(f, *e.from, g.id, e.msg, true) : is_chat(f, *e.from, a.id, e.msg, true));
    EXPECT_EQ(int_field(f, "time"), e.time);
    EXPECT_GE(e.time, last_time);
    last_time = e.time;
  }
  ping_barrier(ca);

  // Logging out and in again, or reconnecting, delivers none of them again.
  EXPECT_TRUE(is_ack(ca.request({{"msgid", 13}}), 14, 0));
  auto again = login(ca, a);
  EXPECT_TRUE(has_fields(again.ack, {{"offline", 0}}));
  ping_barrier(ca);
  EXPECT_TRUE(is_ack(ca.request({{"msgid", 13}}), 14, 0));
  ca.close();
  client ca2(port);
  auto r2 = login(ca2, a);
  EXPECT_TRUE(has_fields(r2.ack, {{"offline", 0}}));
  ping_barrier(ca2);
}

TEST(Offline, StoredMessagesComeBeforeLiveOnesAndNoneTwice) {
  const int port = default_port();
  const auto a = register_account(port, "race");
  const auto b = register_account(port, "race");
  client cb = connect_as(port, b);
  constexpr int stored = 20;
  constexpr int raced = 30;
  for (int i = 0; i < stored; ++i) {
    send_chat_acked(cb, a.id, "m" + std::to_string(i));
  }
  // b keeps sending while a logs in: each of these is either stored (and counted in the
  // ack) or live (after every stored one).
  client ca(port);
  ca.send(login_id_req(a.id, a.pwd));
  for (int i = stored; i < stored + raced; ++i) {
    cb.send(chat_req(a.id, "m" + std::to_string(i), "r" + std::to_string(i)));
  }
  for (int i = stored; i < stored + raced; ++i) {
    EXPECT_TRUE(is_chat_ack(cb.recv(), json::value("r" + std::to_string(i))));
  }
  const auto ack = ca.recv();
  ASSERT_TRUE(is_ack(ack, 2, 0));
  const auto n = int_field(ack, "offline").value_or(-1);
  ASSERT_GE(n, stored);
  ASSERT_LE(n, stored + raced);
  auto frames = ca.recv_n(stored + raced);
  for (int i = 0; i < stored + raced; ++i) {
    SCOPED_TRACE("message " + std::to_string(i) + " of which " + std::to_string(n) + " stored");
    EXPECT_TRUE(is_chat(frames[i], b, a.id, "m" + std::to_string(i), i < n));
  }
  ping_barrier(ca);
}

TEST(Offline, GroupMessageIsLiveForOnlineMembersAndStoredForOthers) {
  const int port = default_port();
  const auto a = register_account(port, "go");
  const auto b = register_account(port, "go");
  const auto c = register_account(port, "go");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const auto g = create_group(ca, "go");
  join_group(cb, g.id);
  {
    client cc = connect_as(port, c);
    join_group(cc, g.id);
    EXPECT_TRUE(is_ack(cc.request({{"msgid", 13}}), 14, 0));
  }
  ca.send(group_chat_req(g.id, "half live", "h"));
  const auto ack = ca.recv();
  ASSERT_TRUE(is_chat_ack(ack, "h"));
  const auto live = cb.recv();
  EXPECT_TRUE(is_group_chat(live, a, g.id, "half live"));
  client cc(port);
  auto r = login(cc, c);
  ASSERT_EQ(r.offline.size(), 1u);
  EXPECT_TRUE(is_group_chat(r.offline[0], a, g.id, "half live", true));
  EXPECT_EQ(int_field(r.offline[0], "time"), int_field(ack, "time"));
  EXPECT_EQ(int_field(live, "time"), int_field(ack, "time"));
}

TEST(Offline, AcknowledgedMessagesToAJustClosedConnectionAreNotLost) {
  const int port = default_port();
  const auto a = register_account(port, "jc");
  const auto b = register_account(port, "jc");
  client cb = connect_as(port, b);
  {
    client ca = connect_as(port, a);
    ping_barrier(ca);
  }  // closed; b starts sending at once, racing the server's notice of the close
  const auto closed_at = steady::now();
  constexpr int n = 10;
  for (int i = 0; i < n; ++i) {
    cb.send(chat_req(a.id, "after close " + std::to_string(i), i));
  }
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(is_chat_ack(cb.recv(), i));
  }
  client ca(port);
  const auto r = login_after_close(ca, a, closed_at);
  // Messages the server wrote to a's old socket before it noticed the close count as
  // delivered (§7), so a prefix may be missing; the rest must be stored, in order, once.
  ASSERT_LE(r.offline.size(), static_cast<std::size_t>(n));
  const std::size_t first = n - r.offline.size();
  for (std::size_t i = 0; i < r.offline.size(); ++i) {
    EXPECT_TRUE(is_chat(r.offline[i], b, a.id, "after close " + std::to_string(first + i), true));
  }
  ping_barrier(ca);
}

}  // namespace
