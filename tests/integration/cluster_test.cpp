// The cluster (PROTOCOL.md §7: "every rule above holds unchanged when sender, recipient and
// group members are connected to different nodes behind a load balancer"), against the shared
// chat_cluster fixture: node1 and node2 on one Redis and one MariaDB, nginx (stream) in front.
// Tests that need a given node connect to it directly; only the balancer smoke test goes
// through nginx. Both nodes run with heartbeat.idle_timeout_ms = 3000: a connection that waits
// longer than that sends PINGs (keepalive).
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/cluster.hpp>
#include <chat_test/env.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <thread>

namespace {

using namespace chat_test;

constexpr millis idle{cluster_idle_timeout_ms};

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

void logout(client& c) {
  EXPECT_TRUE(is_ack(c.request({{"msgid", 13}}), 14, 0)) << "[" << c.label() << "] LOGINOUT";
}

// LOGINOUT then LOGIN on the same connection; returns the new ack (errno 0 checked).
json::object relogin(client& c, const account& a) {
  logout(c);
  return login(c, a).ack;
}

// Sends `req` (which carries `cid`) and reads frames until its CHAT_ACK, which it returns.
// Group messages of other members that arrive meanwhile are appended to `others` (when given),
// anything else fails.
json::object send_until_ack(client& c, const json::object& req, const cid_arg& cid,
                            std::vector<json::object>* others = nullptr) {
  c.send(req);
  for (;;) {
    auto f = c.recv();
    if (others != nullptr && int_field(f, "msgid") == 12) {
      others->push_back(std::move(f));
      continue;
    }
    EXPECT_TRUE(is_chat_ack(f, cid)) << "[" << c.label() << "] request " << json::serialize(req);
    return f;
  }
}

// --- the balancer -----------------------------------------------------------------------------

TEST(ClusterBalancer, RegisterLoginAndChatThroughNginx) {
  const int lb = balancer_port();
  // Several connections through the balancer: with round robin they land on both nodes, but
  // nothing here depends on where each one goes.
  const auto a = register_account(lb, "lb");
  const auto b = register_account(lb, "lb");
  const auto c = register_account(lb, "lb");
  login_result ra;
  login_result rb;
  client ca = connect_as(lb, a, &ra);
  client cb = connect_as(lb, b, &rb);
  EXPECT_TRUE(has_fields(ra.ack, {{"id", a.id}, {"name", a.name}, {"offline", 0}}));
  EXPECT_TRUE(has_fields(rb.ack, {{"id", b.id}, {"name", b.name}, {"offline", 0}}));
  ping_barrier(ca);

  for (int i = 0; i < 3; ++i) {
    const std::string m = "through nginx " + std::to_string(i);
    ca.send(chat_req(b.id, m, m));
    const auto got = cb.recv();
    const auto ack = ca.recv();
    EXPECT_TRUE(is_chat(got, a, b.id, m));
    EXPECT_TRUE(is_chat_ack(ack, m));
    EXPECT_EQ(int_field(got, "time"), int_field(ack, "time"));
    cb.send(chat_req(a.id, "back " + std::to_string(i)));
    EXPECT_TRUE(is_chat(ca.recv(), b, a.id, "back " + std::to_string(i)));
  }
  // Stored through the balancer, delivered at a login through it.
  send_chat_acked(ca, c.id, "stored via nginx");
  login_result rc;
  client cc = connect_as(lb, c, &rc);
  ASSERT_EQ(rc.offline.size(), 1u);
  EXPECT_TRUE(is_chat(rc.offline[0], a, c.id, "stored via nginx", true));
  // Presence through the balancer: a second login of a is refused wherever it lands.
  for (int i = 0; i < 2; ++i) {
    client again(lb, "again");
    EXPECT_TRUE(is_ack(again.request(login_id_req(a.id, a.pwd)), 2, 3)) << "attempt " << i;
  }
  ping_barrier(cb);
  ping_barrier(cc);
}

// --- ONE_CHAT ---------------------------------------------------------------------------------

TEST(Cluster, OneChatAcrossNodesIsLiveExactAndTheAckTimeMatches) {
  const auto u = register_accounts(node1_port(), 2, "x1");
  const account& a = u[0];
  const account& b = u[1];
  client ca = connect_as(node1_port(), a);
  client cb = connect_as(node2_port(), b);

  // node1 -> node2, string cid.
  auto before = now_ms();
  ca.send(chat_req(b.id, "hello from node1", "n1"));
  auto got = cb.recv();
  auto ack = ca.recv();
  auto after = now_ms();
  EXPECT_TRUE(is_chat(got, a, b.id, "hello from node1"));
  EXPECT_TRUE(is_chat_ack(ack, "n1"));
  EXPECT_EQ(int_field(got, "time"), int_field(ack, "time"));
  EXPECT_GE(int_field(ack, "time").value_or(0), before);
  EXPECT_LE(int_field(ack, "time").value_or(0), after);

  // node2 -> node1, integer cid; content that needs escaping and multi-byte UTF-8 must cross
  // the broker byte for byte.
  const std::string tricky =
      "quote \" backslash \\ slash / tab \t newline \n e\xcc\x81 \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80";
  before = now_ms();
  cb.send(chat_req(a.id, tricky, 7));
  got = ca.recv();
  ack = cb.recv();
  after = now_ms();
  EXPECT_TRUE(is_chat(got, b, a.id, tricky));
  EXPECT_TRUE(is_chat_ack(ack, 7));
  EXPECT_EQ(int_field(got, "time"), int_field(ack, "time"));
  EXPECT_GE(int_field(ack, "time").value_or(0), before);
  EXPECT_LE(int_field(ack, "time").value_or(0), after);

  // A message of the maximum size (8192 bytes).
  const std::string big(8192, 'z');
  ca.send(chat_req(b.id, big, "big"));
  got = cb.recv();
  ack = ca.recv();
  EXPECT_TRUE(is_chat(got, a, b.id, big));
  EXPECT_TRUE(is_chat_ack(ack, "big"));
  EXPECT_EQ(int_field(got, "time"), int_field(ack, "time"));

  // Without cid: delivered, and no answer to the sender.
  cb.send(chat_req(a.id, "no cid"));
  EXPECT_TRUE(is_chat(ca.recv(), b, a.id, "no cid"));
  ping_barrier(cb);
  ping_barrier(ca);
  // Whatever the sender puts in id/name/from/time is ignored.
  auto forged = chat_req(b.id, "forged fields", "f");
  forged["id"] = b.id;
  forged["name"] = "someone else";
  forged["from"] = b.id;
  forged["time"] = 1;
  ca.send(forged);
  got = cb.recv();
  ack = ca.recv();
  EXPECT_TRUE(is_chat(got, a, b.id, "forged fields"));
  EXPECT_TRUE(is_chat_ack(ack, "f"));
  EXPECT_EQ(int_field(got, "time"), int_field(ack, "time"));
}

// --- stored messages ----------------------------------------------------------------------------

struct sent_msg {
  const account* from;
  bool group;
  std::string msg;
  std::int64_t time;
};

void expect_stored(const login_result& r, const std::vector<sent_msg>& expected, const account& to, const group& g) {
  EXPECT_TRUE(has_fields(r.ack, {{"offline", static_cast<std::int64_t>(expected.size())}}));
  ASSERT_EQ(r.offline.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("stored message " + std::to_string(i));
    const auto& e = expected[i];
    const auto& f = r.offline[i];
    EXPECT_TRUE(e.group ? is_group_chat(f, *e.from, g.id, e.msg, true) : is_chat(f, *e.from, to.id, e.msg, true));
    EXPECT_EQ(int_field(f, "time"), e.time);
  }
}

TEST(Cluster, MessagesToAUserConnectedNowhereAreStoredAndDeliveredOnceAtLoginOnEitherNode) {
  const auto u = register_accounts(node1_port(), 3, "st");
  const account& a = u[0];  // sends from node1
  const account& c = u[1];  // sends from node2
  const account& b = u[2];  // the recipient, offline
  client ca = connect_as(node1_port(), a);
  client cc = connect_as(node2_port(), c);
  const auto g = create_group(cc, "st");
  join_group(ca, g.id);
  {
    client cb = connect_as(node2_port(), b);
    join_group(cb, g.id);
    logout(cb);
  }

  // Interleaved one-to-one (from a on node1) and group messages (from c on node2); each waits
  // for its CHAT_ACK, so the order of acceptance is the order below.
  auto send_batch = [&](int first, int count) {
    std::vector<sent_msg> out;
    for (int i = first; i < first + count; ++i) {
      const bool from_a = i % 2 == 0;
      const bool to_group = i % 3 == 1;
      const account& from = from_a ? a : c;
      client& conn = from_a ? ca : cc;
      client& other = from_a ? cc : ca;
      const std::string msg = "stored #" + std::to_string(i) + (to_group ? " (group)" : " (direct)");
      const std::string cid = "s" + std::to_string(i);
      const auto ack = send_until_ack(conn, to_group ? group_chat_req(g.id, msg, cid) : chat_req(b.id, msg, cid), cid);
      out.push_back({&from, to_group, msg, int_field(ack, "time").value_or(0)});
      if (to_group) {  // the other sender is an online member on the other node
        const auto live = other.recv();
        EXPECT_TRUE(is_group_chat(live, from, g.id, msg));
        EXPECT_EQ(int_field(live, "time"), int_field(ack, "time"));
      }
    }
    return out;
  };

  // First batch, collected on node1.
  const auto first = send_batch(0, 9);
  {
    client cb(node1_port(), "b@node1");
    const auto r = login(cb, b);
    expect_stored(r, first, b, g);
    ping_barrier(cb);
    logout(cb);
  }
  // Second batch (starting right after that LOGINOUT), collected on node2: only the new ones.
  const auto second = send_batch(9, 5);
  {
    client cb(node2_port(), "b@node2");
    const auto r = login(cb, b);
    expect_stored(r, second, b, g);
    ping_barrier(cb);
    logout(cb);
  }
  // Nothing is delivered twice, on either node.
  for (const int port : {node1_port(), node2_port()}) {
    client cb(port, "b again");
    const auto r = login(cb, b);
    EXPECT_TRUE(has_fields(r.ack, {{"offline", 0}})) << "port " << port;
    ping_barrier(cb);
    logout(cb);
    ping_barrier(ca);  // a and c wait through these logins: keep them inside the heartbeat
    ping_barrier(cc);
  }
  ping_barrier(ca);
  ping_barrier(cc);
}

// --- groups -------------------------------------------------------------------------------------

TEST(Cluster, GroupChatReachesMembersOnBothNodesButNotTheSender) {
  const auto u = register_accounts(node1_port(), 4, "gf");
  const account& a = u[0];
  const account& b = u[1];
  const account& c = u[2];
  const account& d = u[3];
  client ca = connect_as(node1_port(), a);
  client cb = connect_as(node1_port(), b);
  client cc = connect_as(node2_port(), c);
  client cd = connect_as(node2_port(), d);
  const auto g = create_group(ca, "gf");
  join_group(cb, g.id);
  join_group(cc, g.id);
  join_group(cd, g.id);

  struct member_conn {
    const account* who;
    client* conn;
  };
  const std::vector<member_conn> all{{&a, &ca}, {&b, &cb}, {&c, &cc}, {&d, &cd}};
  int round = 0;
  for (const auto& sender : all) {
    SCOPED_TRACE("sender " + sender.who->name);
    const std::string msg = "to the group from " + sender.who->name;
    const std::string cid = "g" + std::to_string(round++);
    sender.conn->send(group_chat_req(g.id, msg, cid));
    const auto ack = sender.conn->recv();
    ASSERT_TRUE(is_chat_ack(ack, cid));
    for (const auto& m : all) {
      if (m.who == sender.who) {
        continue;
      }
      SCOPED_TRACE("member " + m.who->name);
      const auto got = m.conn->recv();
      EXPECT_TRUE(is_group_chat(got, *sender.who, g.id, msg));
      EXPECT_EQ(int_field(got, "time"), int_field(ack, "time"));
    }
    ping_barrier(*sender.conn);  // no copy for the sender
  }
  // Without cid: no answer to the sender, the others get it.
  cc.send(group_chat_req(g.id, "no cid"));
  for (client* m : {&ca, &cb, &cd}) {
    EXPECT_TRUE(is_group_chat(m->recv(), c, g.id, "no cid"));
  }
  for (const auto& m : all) {
    ping_barrier(*m.conn);
  }
}

TEST(Cluster, JoinOnNode1IsSeenAtOnceByGroupChatFromNode2) {
  const auto u = register_accounts(node1_port(), 5, "jn");
  const account& a = u[0];  // sender, node2
  const account& b = u[1];  // an early member, node2
  client ca = connect_as(node2_port(), a);
  client cb = connect_as(node2_port(), b);
  const auto g = create_group(ca, "jn");
  join_group(cb, g.id);
  // Warm up: node2 has now routed a message of this group while it had no member on node1.
  ca.send(group_chat_req(g.id, "before anyone on node1", "w"));
  ASSERT_TRUE(is_chat_ack(ca.recv(), "w"));
  EXPECT_TRUE(is_group_chat(cb.recv(), a, g.id, "before anyone on node1"));

  std::vector<std::pair<const account*, client>> joined;
  for (std::size_t k = 2; k < u.size(); ++k) {
    const account& j = u[k];
    SCOPED_TRACE("joiner " + std::to_string(k - 1) + " " + j.name);
    joined.emplace_back(&j, connect_as(node1_port(), j));
    client& cj = joined.back().second;
    join_group(cj, g.id);
    // The very next group chat from node2, sent right after the join was acknowledged.
    const std::string msg = "right after join " + std::to_string(k - 1);
    const std::string cid = "j" + std::to_string(k);
    ca.send(group_chat_req(g.id, msg, cid));
    const auto ack = ca.recv();
    ASSERT_TRUE(is_chat_ack(ack, cid));
    EXPECT_TRUE(is_group_chat(cb.recv(), a, g.id, msg));
    for (auto& [who, conn] : joined) {
      SCOPED_TRACE("member " + who->name);
      json::object f;
      ASSERT_EQ(conn.try_recv(f, 5s), recv_status::frame) << "not delivered live to a member that joined on node1";
      EXPECT_TRUE(is_group_chat(f, a, g.id, msg));
      EXPECT_EQ(int_field(f, "time"), int_field(ack, "time"));
    }
    // The joiner's reply from node1 reaches the members on node2 (and the earlier joiners).
    cj.send(group_chat_req(g.id, "hello from joiner " + std::to_string(k - 1)));
    EXPECT_TRUE(is_group_chat(ca.recv(), j, g.id, "hello from joiner " + std::to_string(k - 1)));
    EXPECT_TRUE(is_group_chat(cb.recv(), j, g.id, "hello from joiner " + std::to_string(k - 1)));
    for (auto& [who, conn] : joined) {
      if (who != &j) {
        EXPECT_TRUE(is_group_chat(conn.recv(), j, g.id, "hello from joiner " + std::to_string(k - 1)));
      }
    }
  }
  for (auto& [who, conn] : joined) {
    ping_barrier(conn);  // nothing else: in particular not the message sent before the join
  }
  ping_barrier(ca);
  ping_barrier(cb);
}

// --- presence -----------------------------------------------------------------------------------

TEST(Cluster, FriendAndMemberStatesInTheLoginAckAreClusterWide) {
  const auto u = register_accounts(node1_port(), 2, "fs");
  const account& a = u[0];  // on node1
  const account& b = u[1];  // on node2
  client ca = connect_as(node1_port(), a);
  add_friend(ca, b.id);
  const auto g = create_group(ca, "fs", "cluster desc");

  // b logs in on node2 while a is online on node1.
  login_result rb;
  client cb = connect_as(node2_port(), b, &rb);
  EXPECT_EQ(list_of(rb.ack, "friends"), by_id({friend_entry(a, "online")})) << json::serialize(rb.ack);
  EXPECT_TRUE(has_fields(rb.ack, {{"groups", json::array{}}}));
  join_group(cb, g.id);
  auto ack = relogin(cb, b);
  EXPECT_EQ(list_of(ack, "friends"), by_id({friend_entry(a, "online")})) << json::serialize(ack);
  EXPECT_EQ(list_of(ack, "groups"),
            by_id({group_entry(g, "cluster desc", {member(a, "online", "creator"), member(b, "online", "normal")})}))
      << json::serialize(ack);
  // And a on node1 sees b (node2) online.
  ack = relogin(ca, a);
  EXPECT_EQ(list_of(ack, "friends"), by_id({friend_entry(b, "online")})) << json::serialize(ack);
  EXPECT_EQ(list_of(ack, "groups"),
            by_id({group_entry(g, "cluster desc", {member(a, "online", "creator"), member(b, "online", "normal")})}))
      << json::serialize(ack);

  // a's LOGINOUT on node1: offline for node2 within 1 s (§7).
  const auto expect_a_offline_soon = [&](steady::time_point ended_at, const char* how) {
    SCOPED_TRACE(how);
    for (;;) {
      const auto asked_at = steady::now();
      const auto f = relogin(cb, b);
      const auto friends = list_of(f, "friends");
      const auto groups = list_of(f, "groups");
      if (friends == by_id({friend_entry(a, "offline")})) {
        EXPECT_EQ(
            groups,
            by_id({group_entry(g, "cluster desc", {member(a, "offline", "creator"), member(b, "online", "normal")})}))
            << json::serialize(f);
        return;
      }
      ASSERT_EQ(friends, by_id({friend_entry(a, "online")})) << json::serialize(f);
      ASSERT_LT(asked_at - ended_at, 1s + 200ms)
          << "a still online on node2's view " << since(ended_at).count() << " ms after " << how << " on node1";
      std::this_thread::sleep_for(100ms);  // polling a state change that sends no event
    }
  };
  logout(ca);
  expect_a_offline_soon(steady::now(), "LOGINOUT");

  // a logs in again (seen online at once), then its connection closes: offline within 1 s.
  login(ca, a);
  ack = relogin(cb, b);
  EXPECT_EQ(list_of(ack, "friends"), by_id({friend_entry(a, "online")})) << json::serialize(ack);
  ca.close();
  expect_a_offline_soon(steady::now(), "closing the connection");
  ping_barrier(cb);
}

TEST(Cluster, LoginOnTheOtherNodeWhileOnlineIs3AndLeavesTheSessionAlone) {
  const auto u = register_accounts(node1_port(), 2, "dl");
  const account& a = u[0];
  const account& b = u[1];
  client ca = connect_as(node1_port(), a);
  client cb = connect_as(node2_port(), b);
  client c2(node2_port(), "a again @node2");
  EXPECT_TRUE(is_ack(c2.request(login_id_req(a.id, a.pwd)), 2, 3));
  EXPECT_TRUE(is_ack(c2.request(login_name_req(a.name, a.pwd)), 2, 3));
  EXPECT_TRUE(is_ack(c2.request(login_id_req(a.id, a.pwd + "x")), 2, 2));  // password first
  expect_error_reply(c2, chat_req(b.id, "x"), 9, 5);                       // c2 is not logged in
  // The same the other way round: b (node2) from node1.
  client c1(node1_port(), "b again @node1");
  EXPECT_TRUE(is_ack(c1.request(login_id_req(b.id, b.pwd)), 2, 3));
  expect_error_reply(c1, chat_req(a.id, "x"), 9, 5);
  // The first sessions are untouched: messages still reach a on node1 and b on node2.
  cb.send(chat_req(a.id, "still on node1", "s1"));
  EXPECT_TRUE(is_chat(ca.recv(), b, a.id, "still on node1"));
  EXPECT_TRUE(is_chat_ack(cb.recv(), "s1"));
  ca.send(chat_req(b.id, "still on node2", "s2"));
  EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "still on node2"));
  EXPECT_TRUE(is_chat_ack(ca.recv(), "s2"));
  ping_barrier(c1);
  ping_barrier(c2);
}

TEST(Cluster, SimultaneousLoginsOfOneUserOnBothNodesLetExactlyOneIn) {
  constexpr std::size_t rounds = 20;
  const auto u = register_accounts(node1_port(), rounds + 1, "race");
  const account& witness = u[rounds];
  client cw = connect_as(node2_port(), witness);
  for (std::size_t i = 0; i < rounds; ++i) {
    const account& a = u[i];
    SCOPED_TRACE("round " + std::to_string(i) + ", user " + a.name);
    client c1(node1_port(), "node1");
    client c2(node2_port(), "node2");
    // Both requests leave before either answer is read.
    c1.send(login_id_req(a.id, a.pwd));
    c2.send(login_id_req(a.id, a.pwd));
    const auto f1 = c1.recv();
    const auto f2 = c2.recv();
    const bool in1 = int_field(f1, "msgid") == 2 && int_field(f1, "errno") == 0;
    const bool in2 = int_field(f2, "msgid") == 2 && int_field(f2, "errno") == 0;
    ASSERT_NE(in1, in2) << "node1: " << json::serialize(f1) << "\n node2: " << json::serialize(f2);
    client& winner = in1 ? c1 : c2;
    client& loser = in1 ? c2 : c1;
    EXPECT_TRUE(is_ack(in1 ? f2 : f1, 2, 3));
    winner.recv_n(static_cast<std::size_t>(int_field(in1 ? f1 : f2, "offline").value_or(0)));
    expect_error_reply(loser, chat_req(witness.id, "x"), 9, 5);  // the loser is not logged in
    winner.send(chat_req(witness.id, "I won " + std::to_string(i)));
    EXPECT_TRUE(is_chat(cw.recv(), a, witness.id, "I won " + std::to_string(i)));
    cw.send(chat_req(a.id, "to the winner " + std::to_string(i)));
    EXPECT_TRUE(is_chat(winner.recv(), witness, a.id, "to the winner " + std::to_string(i)));
  }
  ping_barrier(cw);
}

TEST(Cluster, LoginOutOrCloseThenLoginOnTheOtherNodeWorks) {
  const auto u = register_accounts(node1_port(), 2, "mv");
  const account& a = u[0];  // moves between the nodes
  const account& b = u[1];  // on node2, writes to a
  client cb = connect_as(node2_port(), b);
  client c1 = connect_as(node1_port(), a);
  ping_barrier(cb);

  // LOGINOUT on node1; a message sent right then is stored (a is connected nowhere as a
  // user) and comes with the login on node2.
  logout(c1);
  const auto logged_out = steady::now();
  send_until_ack(cb, chat_req(a.id, "while moving", "m1"), "m1");
  client c2(node2_port(), "a@node2");
  auto r = login_after_close(c2, a, logged_out);
  // Acknowledged before this login: stored and delivered with it (or, at the latest, live
  // right after it), exactly once.
  std::vector<json::object> late;
  c2.send(ping_req("after login"));
  for (;;) {
    auto f = c2.recv();
    if (int_field(f, "msgid") == 16) {
      break;
    }
    late.push_back(std::move(f));
  }
  ASSERT_EQ(r.offline.size() + late.size(), 1u) << "stored: " << r.offline.size() << ", live: " << late.size();
  if (!r.offline.empty()) {
    EXPECT_TRUE(is_chat(r.offline[0], b, a.id, "while moving", true));
  } else {
    EXPECT_TRUE(is_chat(late[0], b, a.id, "while moving"));
  }
  send_until_ack(cb, chat_req(a.id, "on node2 now", "m2"), "m2");
  EXPECT_TRUE(is_chat(c2.recv(), b, a.id, "on node2 now"));
  ping_barrier(c1);  // the logged-out connection on node1 got none of it

  // Close on node2, log in again on node1 (on the connection that logged out).
  c2.close();
  const auto closed = steady::now();
  const auto r2 = login_after_close(c1, a, closed);
  EXPECT_TRUE(r2.offline.empty());
  send_until_ack(cb, chat_req(a.id, "back on node1", "m3"), "m3");
  EXPECT_TRUE(is_chat(c1.recv(), b, a.id, "back on node1"));
  ping_barrier(c1);
  ping_barrier(cb);
}

// --- ordering -----------------------------------------------------------------------------------

TEST(Cluster, ThousandMessagesFromNode1ToNode2ArriveInOrderEachOnce) {
  constexpr int total = 1000;
  constexpr int window = 64;  // messages in flight (sent, not yet CHAT_ACKed)
  const auto u = register_accounts(node1_port(), 2, "ord");
  const account& a = u[0];
  const account& b = u[1];
  client ca = connect_as(node1_port(), a);
  client cb = connect_as(node2_port(), b);
  keepalive keep;
  keep.add(ca);
  keep.add(cb);

  std::map<std::int64_t, std::int64_t> ack_time;  // cid -> time
  std::vector<std::int64_t> received;             // index of each message b got, in order
  std::vector<std::int64_t> received_time;
  int sent = 0;
  int bad = 0;
  std::vector<client*> conns{&ca, &cb};
  std::vector<std::vector<json::object>> frames;
  const auto start = steady::now();
  auto progress = start;  // last time a CHAT_ACK or a message arrived
  while ((ack_time.size() < total || received.size() < total) && since(progress) < 15s && bad < 10) {
    while (sent < total && sent - static_cast<int>(ack_time.size()) < window) {
      ca.send(chat_req(b.id, "order " + std::to_string(sent), sent));
      ++sent;
    }
    keep.tick();
    frames.clear();
    collect(conns, frames, 100ms);
    const auto counted = ack_time.size() + received.size();
    for (const auto& f : frames[0]) {  // a: CHAT_ACKs (and keepalive PONGs)
      if (keepalive::is_keepalive_pong(f)) {
        continue;
      }
      const auto cid = int_field(f, "cid");
      if (!is_chat_ack(f, cid.value_or(-1)) || !cid || *cid < 0 || *cid >= sent) {
        ADD_FAILURE() << "a: expected a CHAT_ACK for one of cids 0.." << sent - 1 << ", got " << json::serialize(f);
        ++bad;
        continue;
      }
      if (!ack_time.emplace(*cid, int_field(f, "time").value_or(0)).second) {
        ADD_FAILURE() << "a: second CHAT_ACK for cid " << *cid;
        ++bad;
      }
    }
    for (const auto& f : frames[1]) {  // b: the messages
      if (keepalive::is_keepalive_pong(f)) {
        continue;
      }
      const auto i = static_cast<std::int64_t>(received.size());
      const auto msg = string_field(f, "msg").value_or("");
      std::int64_t index = -1;
      if (msg.starts_with("order ")) {
        index = std::stoll(msg.substr(6));
      }
      if (!is_chat(f, a, b.id, msg) || index < 0) {
        ADD_FAILURE() << "b: expected a chat message from a, got " << json::serialize(f);
        ++bad;
        continue;
      }
      if (index != i) {
        ADD_FAILURE() << "b: message #" << i << " is '" << msg << "' (expected 'order " << i << "')";
        ++bad;
      }
      received.push_back(index);
      received_time.push_back(int_field(f, "time").value_or(0));
    }
    if (ack_time.size() + received.size() > counted) {
      progress = steady::now();
    }
  }
  EXPECT_EQ(sent, total);
  EXPECT_EQ(ack_time.size(), static_cast<std::size_t>(total)) << "CHAT_ACKs after " << since(start).count() << " ms";
  ASSERT_EQ(received.size(), static_cast<std::size_t>(total))
      << "messages received after " << since(start).count() << " ms";
  for (int i = 0; i < total; ++i) {
    EXPECT_EQ(received[i], i);
    const auto it = ack_time.find(received[i]);
    if (it != ack_time.end()) {
      EXPECT_EQ(received_time[i], it->second) << "message " << i << ": delivered time vs CHAT_ACK time";
    }
    if (i > 0) {
      EXPECT_GE(received_time[i], received_time[i - 1]) << "message " << i;
    }
  }
  // Nothing more for either of them.
  keepalive::barrier(ca);
  keepalive::barrier(cb);
  std::cout << "[ info ] " << total << " messages node1 -> node2 in " << since(start).count() << " ms\n";
}

}  // namespace
