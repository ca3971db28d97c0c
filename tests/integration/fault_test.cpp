// Faults under load (PROTOCOL.md §4 errno 12, §6 CHAT_ACK, §7): MariaDB killed and restarted,
// Redis killed and restarted, a node SIGKILLed, a node frozen (SIGSTOP/SIGCONT), a client that
// stops reading. Each test starts what it breaks (only processes it started, signalled by the
// PID their scripts recorded), runs traffic through the fault with chat_test::load (a few
// one-to-one pairs, a group, some recipients offline, a unique cid on every request), then
// checks the ledger: every CHAT_ACKed message delivered exactly once (live, or stored with the
// login every user does at the end), every other message at most once, every connection
// working at the end, no node crashed. One summary line per test ("[ summary ]").
//
// Ports (tests/CMakeLists.txt, fault section): base+80 MariaDB of the MariaDB test, base+81
// Redis, base+82 and base+83 the nodes. The other tests use the shared chat_db MariaDB.
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/cluster.hpp>
#include <chat_test/env.hpp>
#include <chat_test/fault.hpp>
#include <chat_test/load.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <signal.h>

#include <future>
#include <iostream>
#include <thread>

namespace {

using namespace chat_test;

constexpr millis idle{cluster_idle_timeout_ms};

int db_fault_port() {
  return port_base() + 80;
}
int redis_fault_port() {
  return port_base() + 81;
}
int node1_fault_port() {
  return port_base() + 82;
}
int node2_fault_port() {
  return port_base() + 83;
}

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

// Runs `fault` on a thread of its own (killing, restarting: blocking scripts) while the traffic
// goes on; rethrows what it threw.
template <class F>
void during(load& l, F fault) {
  auto done = std::async(std::launch::async, std::move(fault));
  while (done.wait_for(0s) != std::future_status::ready) {
    l.step(10ms);
  }
  done.get();
}

// Registers `n` accounts; puts them all in one group (created by the first) so that any of them
// may write to it. Logs everyone out again (the load logs them in).
struct cast {
  std::vector<account> users;
  group g;
};
cast make_cast(int port, std::size_t n, std::string_view label) {
  cast c;
  c.users = register_accounts(port, n, label);
  std::vector<client> conns;
  for (const auto& u : c.users) {
    conns.push_back(connect_as(port, u));
  }
  c.g = create_group(conns[0], label);
  for (std::size_t i = 1; i < conns.size(); ++i) {
    join_group(conns[i], c.g.id);
  }
  for (auto& conn : conns) {
    EXPECT_TRUE(is_ack(conn.request({{"msgid", 13}}), 14, 0));  // offline at once, not within 1 s
  }
  return c;
}

load_user user_on(const account& a, std::vector<int> ports, bool online = true) {
  return {a, std::move(ports), online};
}

load_flow one(std::size_t from, std::size_t to, std::size_t body = 0, std::size_t limit = 0) {
  return {.sender = from, .to = to, .body_bytes = body, .limit = limit};
}
// A message to the cast's group: every other user of the cast receives it.
load_flow to_group(std::size_t from, const cast& c) {
  std::vector<std::size_t> members(c.users.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    members[i] = i;
  }
  return {.sender = from, .groupid = c.g.id, .members = std::move(members)};
}

// The summary line, and the ledger's verdict as test failures.
void check(const std::string& test, const load_report& r, bool allow_kill_loss = false) {
  std::cout << "[ summary ] " << test << ": " << r.summary() << std::endl;
  for (std::size_t i = 0; i < r.problems.size() && i < 30; ++i) {
    ADD_FAILURE() << r.problems[i];
  }
  for (std::size_t i = 0; i < r.losses.size() && i < 30; ++i) {
    ADD_FAILURE() << r.losses[i];
  }
  for (const auto& [flow, n] : r.lost_by_flow) {
    std::cout << "[ info ] lost: " << n << " of " << flow << std::endl;
  }
  EXPECT_GT(r.acked, 100u) << "too little traffic to mean anything";
  EXPECT_EQ(r.lost, 0u) << "CHAT_ACKed messages lost";
  EXPECT_EQ(r.duplicates, 0u) << "messages delivered twice";
  EXPECT_EQ(r.out_of_order, 0u);
  EXPECT_EQ(r.time_mismatch, 0u);
  EXPECT_EQ(r.no_answer, 0u) << "chat requests without an answer on open connections";
  if (!allow_kill_loss) {
    EXPECT_EQ(r.lost_at_kill, 0u);
  }
}

// --- a. MariaDB ------------------------------------------------------------------------------

// One node; the database SIGKILLed for 3 s under load. Live chat needs no database; messages
// for offline users get errno 12 meanwhile (or are stored once it is back); a login during the
// outage is answered 12 and retried.
TEST(Fault, MariaDbKilledAndRestartedUnderLoad) {
  mariadb_instance db(test_data_dir() / "fault-db-mariadb", db_fault_port());
  const int p = node1_fault_port();
  node_process n(test_data_dir() / "fault-db-node", p, db_fault_port(),
                 "[mysql]\nquery_timeout_ms = 2000\nconnect_timeout_ms = 1000\n\n[heartbeat]\nidle_timeout_ms = " +
                     std::to_string(idle.count()) + "\n");
  const pid_t pid = n.pid();
  const auto c = make_cast(p, 5, "fdb");
  enum : std::size_t { A, B, C, D, E };  // D offline throughout; E goes offline and back
  load l({user_on(c.users[A], {p}), user_on(c.users[B], {p}), user_on(c.users[C], {p}),
          user_on(c.users[D], {p}, false), user_on(c.users[E], {p})},
         {one(A, B), one(B, A), one(C, D), one(A, E), to_group(C, c)}, {.idle_timeout = idle});
  l.start();
  l.run_for(1500ms);
  const auto t0 = steady::now();
  during(l, [&] {
    db.kill();
    std::this_thread::sleep_for(3s);
    db.start();
  });
  std::cout << "[ info ] MariaDB down and up again in " << since(t0).count() << " ms" << std::endl;
  l.set_online(E, false);  // E logs out and in while the pool reconnects
  l.run_for(500ms);
  l.set_online(E, true);
  l.run_for(3s);
  const auto r = l.finish();
  check("MariaDB kill", r);
  EXPECT_TRUE(process_alive(pid)) << n.log_tail();
  const auto stopped = n.stop();
  EXPECT_EQ(stopped.status, 0) << stopped.output;
}

// §4 errno 12: "nothing was changed, retry later". A group message while MariaDB is down, to a
// group with an online and an offline member: it cannot be stored for the offline one, so the
// answer is ERROR_MSG 12 - and then the online member must not have got it either (a client
// that retries as told would otherwise deliver it twice).
// Server bug, reported: a group message answered ERROR_MSG 12 was already delivered live to the
// online members (chat_service::deliver queues to local connections before storing for the
// offline ones, then reports the failed store as errno 12).
TEST(Fault, DISABLED_GroupMessageAnsweredErrno12ReachesNobody) {
  mariadb_instance db(test_data_dir() / "fault-g12-mariadb", db_fault_port());
  const int p = node1_fault_port();
  node_process n(test_data_dir() / "fault-g12-node", p, db_fault_port(),
                 "[mysql]\nquery_timeout_ms = 2000\nconnect_timeout_ms = 1000\n");
  const auto c = make_cast(p, 3, "g12");  // 0 writes, 1 is online, 2 stays offline
  client sender = connect_as(p, c.users[0]);
  client online = connect_as(p, c.users[1]);
  db.kill();
  const auto f = sender.request(group_chat_req(c.g.id, "refused?", "g12"), 10s);
  ASSERT_TRUE(is_error(f, 12, 12, json::value("g12"))) << "expected ERROR_MSG 12 (the offline member's copy "
                                                          "cannot be stored), got "
                                                       << json::serialize(f);
  json::object got;
  const auto st = online.try_recv(got, 1s);
  EXPECT_NE(st, recv_status::frame) << "the online member got a message the sender was told was not sent (errno 12, "
                                       "\"nothing was changed\"): "
                                    << json::serialize(got);
  db.start();
  EXPECT_TRUE(n.running()) << n.log_tail();
}

// §6 PING: "Every complete frame received counts as activity". A LOGIN that waits on a database
// that does not answer (SIGSTOPped) for query_timeout (3 s) must not get its connection closed
// as idle (idle_timeout 1 s) while the client keeps sending PINGs behind it: the LOGIN is
// answered errno 12, every PING gets its PONG, and the connection stays open.
// (Found closing the connection with errno 14 when the sweeper counted only dispatched frames.)
TEST(Fault, PingsBehindASlowRequestKeepTheConnection) {
  mariadb_instance db(test_data_dir() / "fault-slow-req-mariadb", db_fault_port());
  const int p = node1_fault_port();
  node_process n(test_data_dir() / "fault-slow-req-node", p, db_fault_port(),
                 "[mysql]\nquery_timeout_ms = 3000\nconnect_timeout_ms = 1000\n\n[heartbeat]\nidle_timeout_ms = 1000\n");
  const auto a = register_account(p, "fsr");
  client c(p, "pinger");
  // Frozen rather than killed: a dead server refuses at once, a frozen one lets queries wait.
  const auto db_pid = static_cast<pid_t>(
      read_number(test_data_dir() / "fault-slow-req-mariadb" / "mysqld.pid").value_or(-1));
  ASSERT_GT(db_pid, 0);
  ASSERT_EQ(::kill(db_pid, SIGSTOP), 0);
  const auto t0 = steady::now();
  c.send(login_id_req(a.id, a.pwd));
  int pings = 0;
  std::vector<std::pair<millis, json::object>> got;  // arrival (since the LOGIN), frame
  auto next_ping = t0;
  while (since(t0) < 4500ms && !c.is_closed()) {
    if (steady::now() >= next_ping && c.try_send_raw(frame(json::serialize(ping_req("p" + std::to_string(pings)))))) {
      ++pings;  // every 300 ms, well inside the 1 s
      next_ping += 300ms;
    }
    json::object f;
    if (c.try_recv(f, 20ms) == recv_status::frame) {
      got.emplace_back(since(t0), std::move(f));
    }
  }
  std::size_t pongs = 0;
  bool login_answered = false;
  for (const auto& [at, f] : got) {
    std::cout << "[ info ] " << at.count() << " ms: " << json::serialize(f) << std::endl;
    EXPECT_FALSE(int_field(f, "msgid") == 17 && int_field(f, "errno") == 14)
        << "closed as idle " << at.count() << " ms after the LOGIN, though a PING came every 300 ms: "
        << json::serialize(f);
    pongs += int_field(f, "msgid") == 16 ? 1 : 0;
    login_answered = login_answered || int_field(f, "req") == 1;
  }
  EXPECT_TRUE(login_answered) << "the LOGIN got no answer";
  EXPECT_EQ(pongs, static_cast<std::size_t>(pings)) << "PINGs without a PONG";
  EXPECT_FALSE(c.is_closed()) << "the server closed a connection that sent a frame every 300 ms";
  ::kill(db_pid, SIGCONT);
  EXPECT_TRUE(n.running()) << n.log_tail();
}

// --- b. Redis --------------------------------------------------------------------------------

// Two nodes; Redis SIGKILLed for 3 s and restarted empty under load. Same-node chat goes on;
// cross-node chat gets errno 12 or is stored meanwhile, and is live again after the restart.
TEST(Fault, RedisKilledAndRestartedUnderLoad) {
  redis_instance redis(test_data_dir() / "fault-redis-redis", redis_fault_port());
  const int p1 = node1_fault_port();
  const int p2 = node2_fault_port();
  const std::string timeouts = "[redis]\nconnect_timeout_ms = 500\ncommand_timeout_ms = 1000\n";
  node_process n1(test_data_dir() / "fault-redis-node1", p1, db_port(),
                  cluster_node_toml("fr1", redis_fault_port(), timeouts));
  node_process n2(test_data_dir() / "fault-redis-node2", p2, db_port(),
                  cluster_node_toml("fr2", redis_fault_port(), timeouts));
  const pid_t pid1 = n1.pid();
  const pid_t pid2 = n2.pid();
  const auto c = make_cast(p1, 7, "frd");
  enum : std::size_t { A1, A2, A3, B1, B2, B3, O };  // A* on node1, B* on node2, O offline
  load l({user_on(c.users[A1], {p1}), user_on(c.users[A2], {p1}), user_on(c.users[A3], {p1}),
          user_on(c.users[B1], {p2}), user_on(c.users[B2], {p2}), user_on(c.users[B3], {p2}),
          user_on(c.users[O], {p1}, false)},
         {one(A1, B1), one(B2, A2), one(A3, A1), one(B1, B2), one(A2, O), one(B3, O),
          to_group(A2, c), to_group(B3, c)},
         {.idle_timeout = idle});
  l.start();
  l.run_for(1500ms);
  steady::time_point restarted{};
  during(l, [&] {
    redis.kill();
    std::this_thread::sleep_for(3s);
    redis.start();
    restarted = steady::now();
  });
  // Cross-node chat live again (both directions and the groups).
  const bool recovered = l.run_until(
      [&] {
        for (std::size_t f : {0, 1, 6, 7}) {
          if (!l.delivered_live_since(f, restarted + 200ms)) {
            return false;
          }
        }
        return true;
      },
      20s);
  EXPECT_TRUE(recovered) << "cross-node messages not delivered live within 20 s of the Redis restart";
  std::cout << "[ info ] cross-node chat live again " << since(restarted).count() << " ms after the restart"
            << std::endl;
  l.run_for(2s);
  const auto r = l.finish();
  check("Redis kill", r);
  EXPECT_TRUE(process_alive(pid1)) << n1.log_tail();
  EXPECT_TRUE(process_alive(pid2)) << n2.log_tail();
  EXPECT_EQ(n1.stop().status, 0);
  EXPECT_EQ(n2.stop().status, 0);
}

// --- c. node SIGKILL -------------------------------------------------------------------------

// Two nodes; node1 SIGKILLed under load. Its clients find their connection closed, reconnect
// (node1 refuses, so to node2) and must be able to log in there within 2 x idle_timeout of the
// kill (§7). Messages acknowledged while their recipient's connection was on node1 may be lost
// in the instant of the kill (counted apart); every other acknowledged message is delivered.
TEST(Fault, NodeKilledUnderLoad) {
  redis_instance redis(test_data_dir() / "fault-kill-redis", redis_fault_port());
  const int p1 = node1_fault_port();
  const int p2 = node2_fault_port();
  node_process n1(test_data_dir() / "fault-kill-node1", p1, db_port(), cluster_node_toml("fk1", redis_fault_port()));
  node_process n2(test_data_dir() / "fault-kill-node2", p2, db_port(), cluster_node_toml("fk2", redis_fault_port()));
  const pid_t pid2 = n2.pid();
  const auto c = make_cast(p2, 5, "fkl");
  enum : std::size_t { A1, A2, B1, B2, O };  // A* on node1 (killed), B* on node2, O offline
  load l({user_on(c.users[A1], {p1, p2}), user_on(c.users[A2], {p1, p2}), user_on(c.users[B1], {p2, p1}),
          user_on(c.users[B2], {p2, p1}), user_on(c.users[O], {p2}, false)},
         {one(A1, B1), one(B1, A1), one(B2, A2), one(A2, B2), one(B1, B2), one(A1, A2), one(B2, O),
          to_group(B1, c), to_group(A2, c)},
         {.idle_timeout = idle});
  l.start();
  l.run_for(2s);
  steady::time_point killed{};
  during(l, [&] {
    l.mark_kill();
    killed = steady::now();
    n1.kill();
  });
  // Every user logged in again (node1's on node2), then traffic a while longer.
  const bool back = l.run_until([&] { return l.all_logged_in(); }, 2 * idle + 10s);
  EXPECT_TRUE(back) << "node1's users not logged in on node2 within " << (2 * idle + 10s).count() << " ms";
  std::cout << "[ info ] every user logged in again " << since(killed).count() << " ms after the kill" << std::endl;
  l.run_for(3s);
  const auto r = l.finish();
  check("node SIGKILL", r, true);
  for (std::size_t u : {A1, A2}) {
    const auto& st = l.stats(u);
    SCOPED_TRACE("user " + c.users[u].name + " (was on node1)");
    EXPECT_GE(st.server_closed, 1u) << "its connection to the killed node was not closed";
    ASSERT_FALSE(st.back_after_kill.empty()) << "never logged in again after the kill";
    std::cout << "[ info ] " << c.users[u].name << " logged in on node2 with a LOGIN sent "
              << st.back_after_kill.front().count() << " ms after the kill" << std::endl;
    if (st.last_errno3_ask > killed) {
      // §7: within 2 x idle_timeout of the kill it must be free to log in (200 ms: our own measurement).
      EXPECT_LE(std::chrono::duration_cast<millis>(st.last_errno3_ask - killed), 2 * idle + 200ms)
          << "LOGIN answered errno 3 (still online) this long after its node was killed";
    }
    EXPECT_LE(st.back_after_kill.front(), 2 * idle + 1s);
  }
  for (std::size_t u : {B1, B2}) {
    EXPECT_EQ(l.stats(u).server_closed, 0u) << c.users[u].name << " on the surviving node lost its connection";
  }
  EXPECT_FALSE(n1.running());
  EXPECT_TRUE(process_alive(pid2)) << n2.log_tail();
  EXPECT_EQ(n2.stop().status, 0);
}

// --- d. node SIGSTOP / SIGCONT ---------------------------------------------------------------

// Two nodes; node1 frozen `rounds` times for `freeze`, then resumed. Messages to its users
// meanwhile are delivered after the thaw or stored; nothing acknowledged is lost or duplicated,
// every user is back, nobody crashes. (Several rounds: what a thaw finds pending - a Redis
// command in flight, a PING not read yet - differs each time.)
void frozen_node_under_load(const std::string& name, millis freeze, int rounds) {
  redis_instance redis(test_data_dir() / "fault-stop-redis", redis_fault_port());
  const int p1 = node1_fault_port();
  const int p2 = node2_fault_port();
  node_process n1(test_data_dir() / "fault-stop-node1", p1, db_port(), cluster_node_toml("fs1", redis_fault_port()));
  node_process n2(test_data_dir() / "fault-stop-node2", p2, db_port(), cluster_node_toml("fs2", redis_fault_port()));
  const pid_t pid1 = n1.pid();
  const pid_t pid2 = n2.pid();
  const auto c = make_cast(p2, 5, "fst");
  enum : std::size_t { A1, A2, B1, B2, O };  // A* on node1 (frozen), B* on node2, O offline
  load l({user_on(c.users[A1], {p1}), user_on(c.users[A2], {p1}), user_on(c.users[B1], {p2}),
          user_on(c.users[B2], {p2}), user_on(c.users[O], {p2}, false)},
         {one(A1, B1), one(B1, A1), one(B2, A2), one(A2, B2), one(B1, B2), one(A1, A2), one(B2, O),
          to_group(B1, c), to_group(A2, c)},
         {.idle_timeout = idle});
  l.start();
  l.run_for(2s);
  for (int i = 0; i < rounds; ++i) {
    during(l, [&] {
      n1.freeze();
      std::this_thread::sleep_for(freeze);
      n1.thaw();
    });
    const bool back = l.run_until([&] { return l.all_logged_in(); }, 2 * idle + 10s);
    EXPECT_TRUE(back) << "users not logged in " << (2 * idle + 10s).count() << " ms after thaw " << i + 1;
    l.run_for(2s);
  }
  const auto r = l.finish();
  check(name, r);
  for (std::size_t u : {A1, A2, B1, B2}) {
    std::cout << "[ info ] " << c.users[u].name << (u <= A2 ? " (frozen node)" : " (other node)")
              << ": connections closed by the server " << l.stats(u).server_closed << std::endl;
  }
  EXPECT_TRUE(process_alive(pid1)) << n1.log_tail();
  EXPECT_TRUE(process_alive(pid2)) << n2.log_tail();
  EXPECT_EQ(n1.stop().status, 0) << "node1 did not stop gracefully";
  EXPECT_EQ(n2.stop().status, 0);
}

// Frozen for less than idle_timeout (3 s) and than its liveness key lives: its clients stay.
TEST(Fault, NodeFrozenBrieflyUnderLoad) {
  frozen_node_under_load("node SIGSTOP 2 s / SIGCONT x2", 2s, 2);
}

// Frozen for 4 s, longer than idle_timeout and than its liveness key lives.
// Server bug, open: the accept_forwarded deadlock that this test first found is fixed, but in
// about one run in two a message or two is delivered twice (live by the thawed node and stored
// by the other, which saw the frozen node's liveness key expire).
TEST(Fault, DISABLED_NodeFrozenLongerThanTheHeartbeatUnderLoad) {
  frozen_node_under_load("node SIGSTOP 4 s / SIGCONT x3", 4s, 3);
}

// --- recipient leaving under cross-node traffic ----------------------------------------------

// Two nodes; U on node1 receives a fast stream from S and T on node2 (one-to-one and a group)
// and logs out and back in every 300 ms. Messages node2 routed to node1 just before U left
// reach node1 after U is gone: node1 must store them (§6: "a node that cannot hand it to the
// recipient's connection stores it instead"), and U must be able to log in again at once.
// Server bug, open: the deadlock this test found (accept_forwarded co_spawned its store worker
// while holding the lock the worker takes) is fixed: nothing is lost and U logs in again at
// once. Still failing: per-sender order of stored messages across the hand-over. A message
// node2 forwarded just before U left is stored by node1's worker after node2 has already stored
// a later one directly (about 10 of 46,000 in 20 rounds).
TEST(Fault, DISABLED_RecipientLeavesWhileCrossNodeMessagesArrive) {
  redis_instance redis(test_data_dir() / "fault-leave-redis", redis_fault_port());
  const int p1 = node1_fault_port();
  const int p2 = node2_fault_port();
  node_process n1(test_data_dir() / "fault-leave-node1", p1, db_port(), cluster_node_toml("fl1", redis_fault_port()));
  node_process n2(test_data_dir() / "fault-leave-node2", p2, db_port(), cluster_node_toml("fl2", redis_fault_port()));
  const pid_t pid1 = n1.pid();
  const pid_t pid2 = n2.pid();
  const auto c = make_cast(p2, 3, "flv");
  enum : std::size_t { U, S, T };
  load l({user_on(c.users[U], {p1}), user_on(c.users[S], {p2}), user_on(c.users[T], {p2})},
         {one(S, U), one(T, U), to_group(S, c)}, {.idle_timeout = idle, .window = 16, .gap = 0ms});
  l.start();
  for (int i = 0; i < 20; ++i) {
    l.run_for(300ms);
    l.set_online(U, false);
    l.run_for(300ms);
    l.set_online(U, true);
    if (!l.run_until([&] { return l.logged_in(U); }, 10s)) {
      ADD_FAILURE() << "U could not log in again on node1 within 10 s (round " << i + 1 << ")";
      break;
    }
  }
  const auto r = l.finish();
  check("recipient leaving", r);
  EXPECT_TRUE(process_alive(pid1)) << n1.log_tail();
  EXPECT_TRUE(process_alive(pid2)) << n2.log_tail();
  EXPECT_EQ(n1.stop().status, 0) << "node1 did not stop gracefully";
  EXPECT_EQ(n2.stop().status, 0);
}

// --- e. slow consumer ------------------------------------------------------------------------

// One node with max_outbound_bytes = 256 KiB and the default heartbeat (60 s: the reader that
// stops must not have to PING, see robustness_test.cpp). S stops reading while two flooders
// send it 8000-byte messages (10 MiB in all) and a pair and a group chat on. §7: S is closed;
// what reached its socket counts as delivered, the rest is stored in order; nobody else notices.
TEST(Fault, ClientThatStopsReading) {
  const int p = node1_fault_port();
  constexpr std::size_t max_outbound = 262144;
  node_process n(test_data_dir() / "fault-slow-node", p, db_port(),
                 "[limits]\nmax_outbound_bytes = " + std::to_string(max_outbound) + "\n");
  const pid_t pid = n.pid();
  // 2 x 660 x 8000 bytes: 10 MiB, far more than the queue limit plus any socket buffers
  // (tcp_wmem max is 4 MiB here).
  constexpr std::size_t flood_messages = 660;
  constexpr std::size_t flood_bytes = 2 * flood_messages * 8000;
  const auto c = make_cast(p, 5, "fsl");
  enum : std::size_t { S, F1, F2, P, Q };
  load l({user_on(c.users[S], {p}), user_on(c.users[F1], {p}), user_on(c.users[F2], {p}), user_on(c.users[P], {p}),
          user_on(c.users[Q], {p})},
         {one(F1, S, 8000, flood_messages), one(F2, S, 8000, flood_messages), one(P, Q), one(Q, P), to_group(P, c)},
         {.window = 8, .gap = 5ms});
  l.start();
  l.stop_reading(S);
  const auto start = steady::now();
  const auto flood = [&] { return (l.acked(0) + l.acked(1)) * 8000; };
  // At least 3 s, so that the pair and the group chat on for a while beside the flood.
  const bool flooded = l.run_until([&] { return flood() >= flood_bytes && since(start) >= 3s; }, 45s);
  ASSERT_TRUE(flooded) << "flooding too slow: " << flood() << " bytes for S acknowledged in 45 s";
  std::cout << "[ info ] " << flood() << " bytes for S acknowledged, " << l.acked() << " messages in all in "
            << since(start).count() << " ms" << std::endl;
  EXPECT_TRUE(l.delivered_live_since(2, start + 2s)) << "the pair's chat stalled";
  EXPECT_TRUE(l.delivered_live_since(3, start + 2s)) << "the pair's chat stalled";
  const auto r = l.finish();
  check("slow consumer", r);
  EXPECT_GE(l.stats(S).server_closed, 1u) << "the client that did not read was never closed";
  EXPECT_GT(l.stats(S).stored, 0u) << "nothing was stored for the slow consumer";
  for (std::size_t f : {0, 1, 4}) {
    // What S read came first; what is stored follows (in order, checked by the ledger).
    const auto live = l.received(f, S, false);
    const auto stored = l.received(f, S, true);
    if (!live.empty() && !stored.empty()) {
      EXPECT_LT(live.back(), stored.front())
          << "flow " << l.flows()[f].name << ": a stored message precedes one S read live";
    }
  }
  for (std::size_t u : {F1, F2, P, Q}) {
    EXPECT_EQ(l.stats(u).server_closed, 0u) << c.users[u].name << " was disturbed";
    EXPECT_EQ(l.stats(u).stored, 0u) << c.users[u].name << " got messages stored instead of live";
  }
  EXPECT_TRUE(process_alive(pid)) << n.log_tail();
  EXPECT_EQ(n.stop().status, 0);
}

}  // namespace
