// Cluster failures (PROTOCOL.md §7, §4 errno 12): a node SIGKILLed, Redis SIGKILLed and
// restarted mid-traffic. Each test starts its own Redis and its own two nodes (on the shared
// MariaDB) so that the shared chat_cluster fixture is never disturbed:
//   node kill:     Redis base+40, nodes base+41 ("kill1") and base+42 ("kill2")
//   node restart:  Redis base+43, nodes base+44 ("again1") and base+48 ("again2")
//   Redis restart: Redis base+45, nodes base+46 ("rr1") and base+47 ("rr2")
// Every node runs with heartbeat.idle_timeout_ms = 3000 (cluster_node_toml()).
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/cluster.hpp>
#include <chat_test/env.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <signal.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

namespace {

using namespace chat_test;

constexpr millis idle{cluster_idle_timeout_ms};

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

// Frames that arrive on `c` within `settle`, then those before the PONG of a PING sent after
// it (keepalive PONGs are dropped).
std::vector<json::object> frames_within(client& c, millis settle) {
  std::vector<json::object> out;
  const auto until = steady::now() + settle;
  for (;;) {
    const auto left = std::chrono::ceil<millis>(until - steady::now());
    if (left <= millis{0}) {
      break;
    }
    json::object f;
    const auto st = c.try_recv(f, left);
    if (st == recv_status::closed) {
      throw test_error("[" + c.label() + "] closed by the server");
    }
    if (st == recv_status::frame && !keepalive::is_keepalive_pong(f)) {
      out.push_back(std::move(f));
    }
  }
  c.send(ping_req("settled"));
  for (;;) {
    auto f = c.recv();
    if (int_field(f, "msgid") == 16 && string_field(f, "cid") == "settled") {
      return out;
    }
    if (!keepalive::is_keepalive_pong(f)) {
      out.push_back(std::move(f));
    }
  }
}

// The next frame that is not a keepalive PONG.
json::object recv_skipping_pongs(client& c) {
  for (;;) {
    auto f = c.recv();
    if (!keepalive::is_keepalive_pong(f)) {
      return f;
    }
  }
}

// --- node killed ----------------------------------------------------------------------------------

TEST(ClusterFailover, KilledNodeFreesItsUsersAndMessagesSentMeanwhileArriveOnce) {
  const int redis_port = port_base() + 40;
  const int p1 = port_base() + 41;
  const int p2 = port_base() + 42;
  redis_instance redis(test_data_dir() / "cluster-kill-redis", redis_port);
  server_instance n1(test_data_dir() / "cluster-kill-node1", p1, db_port(), cluster_node_toml("kill1", redis_port));
  server_instance n2(test_data_dir() / "cluster-kill-node2", p2, db_port(), cluster_node_toml("kill2", redis_port));

  const auto acc = register_accounts(p2, 2, "kill");
  const account& u = acc[0];  // on node1, which dies
  const account& s = acc[1];  // on node2, writes to u
  client cu = connect_as(p1, u);
  client cs = connect_as(p2, s);
  const auto g = create_group(cu, "kill");  // u and s are its members
  join_group(cs, g.id);
  // The cluster works: live delivery node2 -> node1, and u is online for node2.
  cs.send(chat_req(u.id, "before the kill", "pre"));
  EXPECT_TRUE(is_chat(cu.recv(), s, u.id, "before the kill"));
  EXPECT_TRUE(is_chat_ack(cs.recv(), "pre"));
  cs.send(group_chat_req(g.id, "group before the kill", "gpre"));
  EXPECT_TRUE(is_group_chat(cu.recv(), s, g.id, "group before the kill"));
  EXPECT_TRUE(is_chat_ack(cs.recv(), "gpre"));
  {
    client probe(p2, "u@node2 (probe)");
    ASSERT_TRUE(is_ack(probe.request(login_id_req(u.id, u.pwd)), 2, 3)) << "u online on node1 must be errno 3 on node2";
  }

  const pid_t pid = n1.pid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const auto killed = steady::now();
  ASSERT_TRUE(n1.wait_exit(5s).has_value()) << "node1 (pid " << pid << ") still running after SIGKILL";
  EXPECT_TRUE(cu.wait_closed(5s)) << "u's connection to the killed node is still open";

  keepalive keep;
  keep.add(cs);
  // Messages to u after the kill (u is connected nowhere), one-to-one and to the group by
  // turns: every one must be CHAT_ACKed.
  std::vector<std::string> after_kill;
  std::vector<std::int64_t> after_kill_time;
  const auto is_group = [](std::size_t i) { return i % 2 == 1; };
  const auto send_to_u = [&] {
    const bool group = is_group(after_kill.size());
    const std::string msg = "after the kill " + std::to_string(after_kill.size()) + (group ? " (group)" : "");
    cs.send(group ? group_chat_req(g.id, msg, msg) : chat_req(u.id, msg, msg));
    const auto t0 = steady::now();
    const auto f = recv_skipping_pongs(cs);
    EXPECT_TRUE(is_chat_ack(f, msg)) << since(killed).count() << " ms after the kill";
    std::cout << "[ info ] '" << msg << "' sent " << std::chrono::duration_cast<millis>(t0 - killed).count()
              << " ms after the kill, answered in " << since(t0).count() << " ms\n";
    after_kill.push_back(msg);
    after_kill_time.push_back(int_field(f, "time").value_or(0));
  };
  send_to_u();

  // u logs in on node2 within 2 x idle_timeout of the kill; errno 3 is retried until then.
  const auto limit = killed + 2 * idle + 200ms;  // 200 ms: our own measurement
  client cu2(p2, "u@node2");
  login_result r;
  int attempts = 0;
  for (;;) {
    keep.tick();
    const auto asked_at = steady::now();
    r.ack = cu2.request(login_id_req(u.id, u.pwd));
    ++attempts;
    if (int_field(r.ack, "msgid") == 2 && int_field(r.ack, "errno") == 3) {
      ASSERT_LE(asked_at, limit) << "u still refused (errno 3) "
                                 << std::chrono::duration_cast<millis>(asked_at - killed).count()
                                 << " ms after its node was killed (limit 2 x idle_timeout = " << (2 * idle).count()
                                 << " ms), attempt " << attempts;
      send_to_u();                         // while the cluster still counts u as online
      std::this_thread::sleep_for(400ms);  // polling a state change that sends no event
      continue;
    }
    ASSERT_TRUE(is_ack(r.ack, 2, 0)) << "attempt " << attempts << ", " << since(killed).count() << " ms after the kill"
                                     << (int_field(r.ack, "errno") == 2
                                             ? " (errno 2 after errno 3 answers to the right password: counted as "
                                               "failed logins towards the lockout?)"
                                             : "");
    break;
  }
  std::cout << "[ info ] u logged in on node2 " << since(killed).count() << " ms after the kill (attempt " << attempts
            << ")\n";
  const auto n = int_field(r.ack, "offline");
  ASSERT_TRUE(n && *n >= 0) << json::serialize(r.ack);
  r.offline = cu2.recv_n(static_cast<std::size_t>(*n));
  const auto late = frames_within(cu2, 1s);

  // Every message sent after the kill exactly once, in order: stored (with the login), or
  // live right after it; those before the kill (already delivered live) never again.
  std::vector<std::string> got;
  const std::vector<json::object>* const sources[] = {&r.offline, &late};
  for (const auto* frames : sources) {
    const bool stored = frames == &r.offline;
    for (const auto& f : *frames) {
      const auto msg = string_field(f, "msg").value_or("?");
      EXPECT_TRUE(msg.ends_with(" (group)") ? is_group_chat(f, s, g.id, msg, stored)
                                            : is_chat(f, s, u.id, msg, stored));
      got.push_back(msg);
    }
  }
  EXPECT_EQ(got, after_kill) << r.offline.size() << " stored, " << late.size() << " live after the login";
  for (std::size_t i = 0; i < r.offline.size() && i < after_kill_time.size(); ++i) {
    EXPECT_EQ(int_field(r.offline[i], "time"), after_kill_time[i]) << "stored message " << i;
  }

  // u and s chat live on node2 now.
  cs.send(chat_req(u.id, "both on node2", "both"));
  EXPECT_TRUE(is_chat(cu2.recv(), s, u.id, "both on node2"));
  EXPECT_TRUE(is_chat_ack(recv_skipping_pongs(cs), "both"));
  cu2.send(chat_req(s.id, "reply on node2"));
  EXPECT_TRUE(is_chat(recv_skipping_pongs(cs), u, s.id, "reply on node2"));
  EXPECT_TRUE(n2.running()) << n2.log_tail();
  const auto stopped = n2.stop();
  EXPECT_EQ(stopped.status, 0) << stopped.output;
}

// --- node restarted under its own id -------------------------------------------------------------

// Logs `a` in on `port`, retrying errno 3 (the cluster still counts it online) until
// `deadline`; fails the test on errno 3 after it or on any other answer.
login_result login_by(client& c, const account& a, steady::time_point deadline, keepalive& keep) {
  for (int attempt = 1;; ++attempt) {
    keep.tick();
    const auto asked_at = steady::now();
    login_result r;
    r.ack = c.request(login_id_req(a.id, a.pwd));
    if (int_field(r.ack, "msgid") == 2 && int_field(r.ack, "errno") == 3 && asked_at <= deadline) {
      std::this_thread::sleep_for(300ms);  // polling a state change that sends no event
      continue;
    }
    EXPECT_TRUE(is_ack(r.ack, 2, 0)) << "[" << c.label() << "] attempt " << attempt << ": " << json::serialize(r.ack);
    const auto n = int_field(r.ack, "offline").value_or(0);
    r.offline = c.recv_n(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
    return r;
  }
}

// A node that comes back at once under the same node_id refreshes the same liveness key, so
// the claims of its earlier run must not count as alive: its former users log in again, on
// it or on the other node, within 2 x idle_timeout, and get what was sent meanwhile, once.
TEST(ClusterFailover, NodeRestartedUnderItsOwnIdLetsItsFormerUsersBackIn) {
  const int redis_port = port_base() + 43;
  const int p1 = port_base() + 44;
  const int p2 = port_base() + 48;
  const auto n1_dir = test_data_dir() / "cluster-again-node1";
  const auto n1_toml = cluster_node_toml("again1", redis_port);
  redis_instance redis(test_data_dir() / "cluster-again-redis", redis_port);
  std::optional<server_instance> n1(std::in_place, n1_dir, p1, db_port(), n1_toml);
  server_instance n2(test_data_dir() / "cluster-again-node2", p2, db_port(), cluster_node_toml("again2", redis_port));

  const auto acc = register_accounts(p2, 3, "again");
  const account& u = acc[0];  // on node1; back on node1 after its restart
  const account& v = acc[1];  // on node1; back on node2 after the restart
  const account& s = acc[2];  // on node2, writes to both
  client cu = connect_as(p1, u);
  client cv = connect_as(p1, v);
  client cs = connect_as(p2, s);
  for (const auto* to : {&u, &v}) {
    const std::string cid = "before " + std::to_string(to->id);
    cs.send(chat_req(to->id, "before the restart", cid));
    EXPECT_TRUE(is_chat((to == &u ? cu : cv).recv(), s, to->id, "before the restart"));
    EXPECT_TRUE(is_chat_ack(cs.recv(), cid));
  }

  const pid_t pid = n1->pid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const auto killed = steady::now();
  ASSERT_TRUE(n1->wait_exit(5s).has_value()) << "node1 (pid " << pid << ") still running after SIGKILL";
  EXPECT_TRUE(cu.wait_closed(5s));
  EXPECT_TRUE(cv.wait_closed(5s));
  n1.reset();
  n1.emplace(n1_dir, p1, db_port(), n1_toml);  // at once, under the same node id

  keepalive keep;
  keep.add(cs);
  for (const auto* to : {&u, &v}) {
    const std::string cid = "away " + std::to_string(to->id);
    cs.send(chat_req(to->id, "while away", cid));
    EXPECT_TRUE(is_chat_ack(recv_skipping_pongs(cs), cid));
  }

  const auto deadline = killed + 2 * idle + 200ms;  // PROTOCOL.md §7; 200 ms: our own measurement
  client cu2(p1, "u@node1 again");
  client cv2(p2, "v@node2");
  const auto ru = login_by(cu2, u, deadline, keep);
  const auto rv = login_by(cv2, v, deadline, keep);
  std::cout << "[ info ] u and v logged in again " << since(killed).count() << " ms after the kill\n";
  ASSERT_EQ(ru.offline.size(), 1u);
  EXPECT_TRUE(is_chat(ru.offline[0], s, u.id, "while away", true));
  ASSERT_EQ(rv.offline.size(), 1u);
  EXPECT_TRUE(is_chat(rv.offline[0], s, v.id, "while away", true));

  // Live again, both ways: node2 -> restarted node1, and on node2.
  cs.send(chat_req(u.id, "after", "after u"));
  EXPECT_TRUE(is_chat(cu2.recv(), s, u.id, "after"));
  EXPECT_TRUE(is_chat_ack(recv_skipping_pongs(cs), "after u"));
  cs.send(chat_req(v.id, "after", "after v"));
  EXPECT_TRUE(is_chat(cv2.recv(), s, v.id, "after"));
  EXPECT_TRUE(is_chat_ack(recv_skipping_pongs(cs), "after v"));
  cu2.send(chat_req(s.id, "from the restarted node"));
  EXPECT_TRUE(is_chat(recv_skipping_pongs(cs), u, s.id, "from the restarted node"));
  EXPECT_EQ(n1->stop().status, 0);
  EXPECT_EQ(n2.stop().status, 0);
}

// --- Redis restarted mid-traffic -----------------------------------------------------------------

// What one recipient got of a flow: (k, time) in arrival order, live and with a login.
struct receipt {
  std::vector<std::pair<int, std::int64_t>> live{};
  std::vector<std::pair<int, std::int64_t>> stored{};
  bool live_after_restart = false;  // got live a message sent after the Redis restart
};

// One sender's stream of the Redis test, ONE_CHAT to `to` or GROUP_CHAT to `groupid`.
// Message k is "<name> #k" with cid "<name>#k".
struct flow {
  std::string name;
  const account* from = nullptr;
  std::size_t sender = 0;                 // index of the sender's connection
  std::int64_t to = 0;                    // ONE_CHAT recipient, or 0
  std::int64_t groupid = 0;               // GROUP_CHAT group, or 0
  std::map<std::size_t, bool> receivers;  // recipient connection -> on the other node
  int sent = 0;
  steady::time_point last_send{};
  std::map<int, steady::time_point> pending{};  // sent, not answered yet
  std::vector<steady::time_point> sent_at{};
  std::map<int, std::int64_t> acked{};  // CHAT_ACK time
  std::set<int> refused{};              // ERROR_MSG 12
  millis max_ack_latency{0};
  std::map<std::size_t, receipt> got{};

  bool cross() const {
    return std::any_of(receivers.begin(), receivers.end(), [](const auto& r) { return r.second; });
  }
  std::string text(int k) const { return name + " #" + std::to_string(k); }
  std::string cid(int k) const { return name + "#" + std::to_string(k); }
};

class traffic {
 public:
  traffic(std::vector<const account*> users, std::vector<client*> conns, std::vector<flow> flows)
      : users_(std::move(users)), conns_(std::move(conns)), flows_(std::move(flows)) {}

  std::vector<flow>& flows() { return flows_; }

  // Every `gap`, sends up to `burst` more messages of every flow, as long as it has fewer
  // than `window` unanswered.
  void send_some(std::size_t window, int burst, millis gap) {
    const auto now = steady::now();
    for (auto& f : flows_) {
      if (now - f.last_send < gap) {
        continue;
      }
      f.last_send = now;
      for (int i = 0; i < burst && f.pending.size() < window; ++i) {
        const int k = f.sent++;
        conns_[f.sender]->send(f.groupid != 0 ? group_chat_req(f.groupid, f.text(k), f.cid(k))
                                              : chat_req(f.to, f.text(k), f.cid(k)));
        f.pending.emplace(k, now);
        f.sent_at.push_back(now);
      }
    }
  }

  bool pending() const {
    return std::any_of(flows_.begin(), flows_.end(), [](const flow& f) { return !f.pending.empty(); });
  }

  // True once every recipient on another node than its sender has got live a message sent
  // after the Redis restart.
  bool recovered() const {
    for (const auto& f : flows_) {
      for (const auto& [conn, cross] : f.receivers) {
        if (cross && (!f.got.contains(conn) || !f.got.at(conn).live_after_restart)) {
          return false;
        }
      }
    }
    return true;
  }

  // Reads what has arrived (waiting up to `wait`) and accounts for it.
  void pump(millis wait) {
    std::vector<std::vector<json::object>> frames;
    collect(conns_, frames, wait);
    for (std::size_t i = 0; i < frames.size(); ++i) {
      for (const auto& f : frames[i]) {
        handle(i, f, false);
      }
    }
  }

  // LOGINOUT and LOGIN again on connection `i`, accounting for the stored messages that come
  // with the login (and anything live before or after it).
  void relogin(std::size_t i) {
    client& c = *conns_[i];
    c.send({{"msgid", 13}});
    for (;;) {
      const auto f = c.recv();
      if (int_field(f, "msgid") == 14) {
        EXPECT_TRUE(is_ack(f, 14, 0));
        break;
      }
      handle(i, f, false);
    }
    c.send(login_id_req(users_[i]->id, users_[i]->pwd));
    json::object ack;
    for (;;) {
      ack = c.recv();
      if (int_field(ack, "msgid") == 2) {
        break;
      }
      handle(i, ack, false);
    }
    ASSERT_TRUE(is_ack(ack, 2, 0)) << "[" << c.label() << "] login at the end";
    const auto n = int_field(ack, "offline").value_or(0);
    for (const auto& f : c.recv_n(static_cast<std::size_t>(n))) {
      handle(i, f, true);
    }
    c.send(ping_req("relogged"));
    for (;;) {
      const auto f = c.recv();
      if (int_field(f, "msgid") == 16 && string_field(f, "cid") == "relogged") {
        break;
      }
      handle(i, f, false);
    }
  }

  const std::vector<std::string>& problems() const { return problems_; }

  steady::time_point restarted_at = steady::time_point::max();

 private:
  void problem(std::size_t conn, const std::string& what, const json::object& f) {
    problems_.push_back("[" + conns_[conn]->label() + "] " + what + ": " + json::serialize(f));
  }

  void handle(std::size_t conn, const json::object& f, bool stored) {
    if (keepalive::is_keepalive_pong(f)) {
      return;
    }
    const auto msgid = int_field(f, "msgid");
    if (msgid == 18 || msgid == 17) {
      answer(conn, f);
    } else if (msgid == 5 || msgid == 12) {
      message(conn, f, stored);
    } else {
      problem(conn, "unexpected frame", f);
    }
  }

  void answer(std::size_t conn, const json::object& f) {
    const auto cid = string_field(f, "cid").value_or("");
    for (auto& fl : flows_) {
      if (fl.sender != conn || !cid.starts_with(fl.name + "#")) {
        continue;
      }
      const int k = std::stoi(cid.substr(fl.name.size() + 1));
      const auto it = fl.pending.find(k);
      if (it == fl.pending.end()) {
        problem(conn, "answer to a request that has had one already (or was never sent)", f);
        return;
      }
      fl.max_ack_latency = std::max(fl.max_ack_latency, std::chrono::duration_cast<millis>(steady::now() - it->second));
      fl.pending.erase(it);
      if (int_field(f, "msgid") == 18) {
        if (!is_chat_ack(f, cid)) {
          problem(conn, "bad CHAT_ACK", f);
        }
        fl.acked.emplace(k, int_field(f, "time").value_or(0));
      } else if (fl.cross() && is_error(f, 12, fl.groupid != 0 ? 12 : 5, json::value(cid))) {
        fl.refused.insert(k);
      } else {
        problem(conn, fl.cross() ? "expected CHAT_ACK or ERROR_MSG 12" : "same-node chat failed", f);
      }
      return;
    }
    problem(conn, "answer with an unknown cid", f);
  }

  void message(std::size_t conn, const json::object& f, bool stored) {
    const bool group = int_field(f, "msgid") == 12;
    const auto from = int_field(f, "id");
    for (auto& fl : flows_) {
      if (!fl.receivers.contains(conn) || fl.from->id != from || (fl.groupid != 0) != group ||
          (group && int_field(f, "groupid") != fl.groupid)) {
        continue;
      }
      const auto msg = string_field(f, "msg").value_or("");
      const std::string prefix = fl.name + " #";
      const bool exact = group ? bool(is_group_chat(f, *fl.from, fl.groupid, msg, stored))
                               : bool(is_chat(f, *fl.from, fl.to, msg, stored));
      if (!msg.starts_with(prefix) || !exact) {
        problem(conn, stored ? "bad stored message" : "bad live message", f);
        return;
      }
      const int k = std::stoi(msg.substr(prefix.size()));
      if (k < 0 || k >= fl.sent) {
        problem(conn, "message that was never sent", f);
        return;
      }
      auto& r = fl.got[conn];
      (stored ? r.stored : r.live).emplace_back(k, int_field(f, "time").value_or(0));
      if (!stored && fl.sent_at[static_cast<std::size_t>(k)] >= restarted_at) {
        r.live_after_restart = true;
      }
      return;
    }
    problem(conn, "message from an unexpected sender", f);
  }

  std::vector<const account*> users_;
  std::vector<client*> conns_;
  std::vector<flow> flows_;
  std::vector<std::string> problems_;
};

TEST(ClusterFailover, RedisRestartedMidTrafficLosesAndDuplicatesNoAcknowledgedMessage) {
  const int redis_port = port_base() + 45;
  const int p1 = port_base() + 46;
  const int p2 = port_base() + 47;
  const std::string redis_timeouts = "[redis]\nconnect_timeout_ms = 500\ncommand_timeout_ms = 1000\n";
  redis_instance redis(test_data_dir() / "cluster-rr-redis", redis_port);
  server_instance n1(test_data_dir() / "cluster-rr-node1", p1, db_port(),
                     cluster_node_toml("rr1", redis_port, redis_timeouts));
  server_instance n2(test_data_dir() / "cluster-rr-node2", p2, db_port(),
                     cluster_node_toml("rr2", redis_port, redis_timeouts));

  const auto acc = register_accounts(p1, 4, "rr");
  const account& a1 = acc[0];  // node1
  const account& a2 = acc[1];  // node1
  const account& b1 = acc[2];  // node2
  const account& b2 = acc[3];  // node2
  client c_a1 = connect_as(p1, a1);
  client c_a2 = connect_as(p1, a2);
  client c_b1 = connect_as(p2, b1);
  client c_b2 = connect_as(p2, b2);
  // A group with members on both nodes: a2 writes to it, a1 (same node) and b2 (other node).
  const auto g = create_group(c_a2, "rr");
  join_group(c_a1, g.id);
  join_group(c_b2, g.id);
  keepalive keep;
  for (client* c : {&c_a1, &c_a2, &c_b1, &c_b2}) {
    keep.add(*c);
  }
  enum : std::size_t { A1, A2, B1, B2 };
  std::vector<flow> flows(5);
  flows[0] = {.name = "a1>b1", .from = &a1, .sender = A1, .to = b1.id, .receivers = {{B1, true}}};
  flows[1] = {.name = "b2>a2", .from = &b2, .sender = B2, .to = a2.id, .receivers = {{A2, true}}};
  flows[2] = {.name = "a2>a1", .from = &a2, .sender = A2, .to = a1.id, .receivers = {{A1, false}}};
  flows[3] = {.name = "b1>b2", .from = &b1, .sender = B1, .to = b2.id, .receivers = {{B2, false}}};
  flows[4] = {.name = "a2>g", .from = &a2, .sender = A2, .groupid = g.id, .receivers = {{A1, false}, {B2, true}}};
  traffic t({&a1, &a2, &b1, &b2}, {&c_a1, &c_a2, &c_b1, &c_b2}, std::move(flows));

  // Per flow: a fast stream (at most 400 messages/s), so that messages are in flight when
  // Redis dies.
  constexpr std::size_t window = 16;
  constexpr int burst = 4;
  constexpr millis gap{10};
  const auto start = steady::now();
  const auto kill_at = start + 1500ms;
  constexpr millis outage{2000};
  constexpr millis after{3000};
  constexpr millis recovery_limit{20000};
  bool killed = false;
  bool restarted = false;
  steady::time_point killed_at{};
  for (;;) {
    const auto now = steady::now();
    if (!killed && now >= kill_at) {
      redis.kill();
      killed = true;
      killed_at = steady::now();
    }
    if (killed && !restarted && now >= killed_at + outage) {
      redis.start();
      restarted = true;
      t.restarted_at = steady::now();
    }
    if (restarted) {
      if (now >= t.restarted_at + after && t.recovered()) {
        break;
      }
      if (now >= t.restarted_at + recovery_limit) {
        ADD_FAILURE() << "cross-node messages were not delivered live again within " << recovery_limit.count()
                      << " ms of the Redis restart";
        break;
      }
    }
    t.send_some(window, burst, gap);
    keep.tick();
    t.pump(10ms);
  }
  // Every request gets its answer; then a moment for live messages still on their way.
  const auto drain_start = steady::now();
  while (t.pending() && since(drain_start) < 20s) {
    keep.tick();
    t.pump(50ms);
  }
  for (const auto& f : t.flows()) {
    EXPECT_TRUE(f.pending.empty()) << f.name << ": " << f.pending.size() << " requests without an answer after 20 s";
  }
  const auto settle = steady::now();
  while (since(settle) < 1500ms) {
    keep.tick();
    t.pump(50ms);
  }
  // Stored messages: each recipient logs out and in again (the others kept inside the
  // heartbeat meanwhile).
  for (std::size_t i : {A1, A2, B1, B2}) {
    keep.tick();
    t.relogin(i);
  }

  for (const auto& p : t.problems()) {
    ADD_FAILURE() << p;
  }
  const char* const conn_names[] = {"a1", "a2", "b1", "b2"};
  for (const auto& f : t.flows()) {
    SCOPED_TRACE("flow " + f.name);
    EXPECT_GT(f.sent, 50) << "too little traffic to mean anything";
    for (const auto& [conn, cross] : f.receivers) {
      SCOPED_TRACE(std::string("recipient ") + conn_names[conn] + (cross ? " (other node)" : " (same node)"));
      const receipt r = f.got.contains(conn) ? f.got.at(conn) : receipt{};
      std::cout << "[ info ] " << f.name << " to " << conn_names[conn] << (cross ? " (other node)" : " (same node)")
                << ": sent " << f.sent << ", acked " << f.acked.size() << ", errno 12 " << f.refused.size() << ", live "
                << r.live.size() << ", stored " << r.stored.size() << ", slowest answer " << f.max_ack_latency.count()
                << " ms\n";
      std::map<int, int> count;
      for (const auto& [k, time] : r.live) {
        ++count[k];
      }
      for (const auto& [k, time] : r.stored) {
        ++count[k];
      }
      for (const auto& [k, n] : count) {
        EXPECT_EQ(n, 1) << "message #" << k << " delivered " << n << " times";
      }
      for (const auto& [k, time] : f.acked) {
        EXPECT_EQ(count[k], 1) << "CHAT_ACKed message #" << k << (count[k] == 0 ? " lost" : " duplicated");
      }
      for (const auto* seq : {&r.live, &r.stored}) {
        for (const auto& [k, time] : *seq) {
          if (f.acked.contains(k)) {
            EXPECT_EQ(time, f.acked.at(k)) << "message #" << k << ": delivered time vs CHAT_ACK time";
          }
        }
        // Per-sender order within each way of delivery.
        for (std::size_t i = 1; i < seq->size(); ++i) {
          EXPECT_LT((*seq)[i - 1].first, (*seq)[i].first)
              << (seq == &r.live ? "live" : "stored") << " messages out of order at position " << i;
        }
      }
      if (!cross) {
        // Same node: delivered live, every acknowledged message.
        EXPECT_TRUE(r.stored.empty()) << r.stored.size() << " same-node messages were stored instead of delivered";
      }
    }
    if (!f.cross()) {
      // Same-node chat never fails, Redis or not.
      EXPECT_TRUE(f.refused.empty()) << f.refused.size() << " same-node messages got errno 12";
      EXPECT_EQ(f.acked.size(), static_cast<std::size_t>(f.sent)) << "same-node messages not acknowledged";
    }
  }

  // Presence survives the restart: a user online on one node is still refused on the other
  // (errno 12 is retried while the nodes reconnect).
  for (const auto& [who, port] : {std::pair{&b1, p1}, std::pair{&a1, p2}}) {
    SCOPED_TRACE("login of " + who->name + " on the other node after the restart");
    client probe(port, "probe");
    for (;;) {
      const auto f = probe.request(login_id_req(who->id, who->pwd));
      if (int_field(f, "msgid") == 17 && int_field(f, "errno") == 12 && since(t.restarted_at) < recovery_limit) {
        std::this_thread::sleep_for(300ms);
        continue;
      }
      EXPECT_TRUE(is_ack(f, 2, 3)) << "a user online on one node logged in again on the other after the Redis restart";
      break;
    }
  }
  EXPECT_TRUE(n1.running()) << n1.log_tail();
  EXPECT_TRUE(n2.running()) << n2.log_tail();
  const auto s1 = n1.stop();
  const auto s2 = n2.stop();
  EXPECT_EQ(s1.status, 0) << s1.output;
  EXPECT_EQ(s2.status, 0) << s2.output;
}

}  // namespace
