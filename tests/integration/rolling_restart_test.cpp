// Rolling restart (the "Operations" issue; docs/operations.md, graceful drain): a two-node
// cluster behind nginx under mixed chat load; each node in turn gets SIGTERM, drains (its
// listener closes at once, its clients get GOING_AWAY spread over drain_period_ms and move to
// the other node through nginx), exits 0, and is started again on the same node_id and port.
// Verdict: every CHAT_ACKed message delivered exactly once (live, or stored with the login
// every user does at the end), nothing duplicated, per-flow order kept, both exits 0 and in
// time, and each drain moved at least one client, each exactly once, with GOING_AWAY before
// the close. One summary line ("[ summary ]").
//
// Ports (tests/CMakeLists.txt, fault section): base+86 Redis, base+87 / base+88 the nodes,
// base+89 nginx; MariaDB is the shared chat_db fixture. Data under test-data/roll-*; each
// node's log of the run that was drained is kept as server-drained.log beside server.log.
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/cluster.hpp>
#include <chat_test/env.hpp>
#include <chat_test/fault.hpp>
#include <chat_test/load.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace chat_test;

constexpr millis idle{cluster_idle_timeout_ms};
constexpr millis drain_period{2000};
constexpr millis shutdown_grace{2000};

int redis_port() {
  return port_base() + 86;
}
int node1_port() {
  return port_base() + 87;
}
int node2_port() {
  return port_base() + 88;
}
int lb_port() {
  return port_base() + 89;
}

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

std::string node_toml(std::string_view id) {
  return cluster_node_toml(id, redis_port(),
                           "[server]\ndrain_period_ms = " + std::to_string(drain_period.count()) +
                               "\nshutdown_grace_ms = " + std::to_string(shutdown_grace.count()) +
                               "\n\n[redis]\nconnect_timeout_ms = 500\ncommand_timeout_ms = 1000\n");
}

// What one node's SIGTERM, drain and restart did.
struct drain_report {
  std::string node;
  int on_node = -1;       // client connections on the node just before SIGTERM
  int status = -1;        // chat_server.sh stop: 0 = exited 0 within its timeout
  std::string stop_output;
  millis exit_after{0};   // SIGTERM to recorded exit
  std::size_t moved = 0;  // users that got GOING_AWAY during this drain
  std::size_t moved_twice = 0;  // of those, users that got more than one
  std::size_t closed_without_going_away = 0;
  millis spread{0};       // first to last GOING_AWAY
  millis slowest_back{-1};  // longest GOING_AWAY -> next successful login of a moved user
  bool all_back = false;
  std::string restart_error;
};

// SIGTERM `n` (on a thread: the script blocks until the exit), keep its log, start it again on
// the same directory, port and configuration; the load runs on meanwhile, then until every
// moved user has logged in again (bounded: PROTOCOL.md §7 allows 2 x idle_timeout even for a
// node that dies without a word).
drain_report drain_and_restart(load& l, std::size_t n_users, node_process& n, const std::filesystem::path& dir,
                               const std::string& name) {
  drain_report rep;
  rep.node = name;
  std::vector<std::size_t> ga0(n_users), closed0(n_users), logins_at_ga(n_users, 0);
  std::vector<bool> seen_ga(n_users, false), back(n_users, false);
  for (std::size_t u = 0; u < n_users; ++u) {
    ga0[u] = l.stats(u).going_away.size();
    closed0[u] = l.stats(u).server_closed;
  }
  rep.on_node = client_connections(n.pid(), n.port()).value_or(-1);
  const auto track = [&] {
    const auto now = steady::now();
    for (std::size_t u = 0; u < n_users; ++u) {
      const auto& st = l.stats(u);
      if (st.going_away.size() <= ga0[u]) {
        continue;
      }
      if (!seen_ga[u]) {
        seen_ga[u] = true;  // a new login needs a new connection, at least reconnect_delay later
        logins_at_ga[u] = st.logins;
      } else if (!back[u] && st.logins > logins_at_ga[u]) {
        back[u] = true;
        rep.slowest_back =
            std::max(rep.slowest_back, std::chrono::duration_cast<millis>(now - st.going_away[ga0[u]]));
      }
    }
  };
  const auto sigterm = steady::now();
  std::cout << "[ info ] SIGTERM " << name << " (" << rep.on_node << " clients on it) at +" << l.elapsed_ms()
            << " ms" << std::endl;
  auto done = std::async(std::launch::async, [&] {
    const auto r = n.stop();
    rep.exit_after = since(sigterm);
    std::error_code ec;
    std::filesystem::copy_file(dir / "server.log", dir / "server-drained.log",
                               std::filesystem::copy_options::overwrite_existing, ec);
    try {
      n.start();
    } catch (const std::exception& e) {
      rep.restart_error = e.what();
    }
    return r;
  });
  while (done.wait_for(0s) != std::future_status::ready) {
    l.step(10ms);
    track();
  }
  const auto stopped = done.get();
  rep.status = stopped.status;
  rep.stop_output = stopped.output;
  std::cout << "[ info ] " << name << " exited " << rep.exit_after.count() << " ms after SIGTERM (status "
            << rep.status << "), restarted at +" << l.elapsed_ms() << " ms" << std::endl;
  const auto moved_back = [&] {
    for (std::size_t u = 0; u < n_users; ++u) {
      if (seen_ga[u] && !back[u]) {
        return false;
      }
    }
    return true;
  };
  rep.all_back = l.run_until(
      [&] {
        track();
        return moved_back() && l.all_logged_in();
      },
      2 * idle + 2s);
  steady::time_point first = steady::time_point::max(), last = steady::time_point::min();
  for (std::size_t u = 0; u < n_users; ++u) {
    const auto& st = l.stats(u);
    const std::size_t got = st.going_away.size() - ga0[u];
    const std::size_t closed = st.server_closed - closed0[u];
    rep.moved += got > 0 ? 1 : 0;
    rep.moved_twice += got > 1 ? 1 : 0;
    rep.closed_without_going_away += closed > got ? closed - got : 0;
    for (std::size_t i = ga0[u]; i < st.going_away.size(); ++i) {
      first = std::min(first, st.going_away[i]);
      last = std::max(last, st.going_away[i]);
    }
  }
  if (rep.moved > 0) {
    rep.spread = std::chrono::duration_cast<millis>(last - first);
  }
  return rep;
}

void check_drain(const drain_report& d) {
  SCOPED_TRACE("drain of " + d.node);
  std::cout << "[ info ] drain of " << d.node << ": " << d.on_node << " clients on it, " << d.moved
            << " moved (GOING_AWAY spread over " << d.spread.count() << " ms), slowest back in "
            << d.slowest_back.count() << " ms, exit after " << d.exit_after.count() << " ms, status " << d.status
            << std::endl;
  EXPECT_EQ(d.status, 0) << "not a clean exit 0 at SIGTERM:\n" << d.stop_output;
  EXPECT_LE(d.exit_after, drain_period + shutdown_grace + 1500ms)
      << "exit later than drain_period_ms + shutdown_grace_ms (+1.5 s of our own)";
  EXPECT_TRUE(d.restart_error.empty()) << "restart failed: " << d.restart_error;
  EXPECT_GE(d.moved, 1u) << "no client got GOING_AWAY: nothing was moved";
  EXPECT_GE(d.moved, static_cast<std::size_t>(std::max(d.on_node, 0)))
      << "fewer clients got GOING_AWAY than were connected to the node";
  EXPECT_EQ(d.moved_twice, 0u) << "clients moved more than once (sent back to the draining node?)";
  EXPECT_EQ(d.closed_without_going_away, 0u) << "connections closed by the server without a GOING_AWAY first";
  if (d.moved >= 3) {
    // Client i of n goes at period * i / n: the last one at least (n-1)/n x 2 s after the first.
    EXPECT_GE(d.spread, drain_period / 4) << "GOING_AWAY not spread over drain_period_ms (all at once?)";
  }
  EXPECT_TRUE(d.all_back) << "moved users not all logged in again within " << (2 * idle + 2s).count()
                          << " ms after the node exited";
}

TEST(RollingRestart, EachNodeDrainedAndRestartedInTurnUnderLoadLosesNothingAcknowledged) {
  const auto data = test_data_dir();
  redis_instance redis(data / "roll-redis", redis_port());
  const int p1 = node1_port();
  const int p2 = node2_port();
  node_process n1(data / "roll-node1", p1, db_port(), node_toml("roll1"));
  node_process n2(data / "roll-node2", p2, db_port(), node_toml("roll2"));
  nginx_instance nginx(data / "roll-nginx", lb_port(), p1, p2);
  const int lb = lb_port();

  // 10 users online through nginx (round robin: neighbours land on different nodes), one
  // offline until the end (its messages are stored); all in one group.
  constexpr std::size_t n_users = 11;
  constexpr std::size_t offline = 10;
  const auto accounts = register_accounts(lb, n_users, "roll");
  group g;
  {
    std::vector<client> conns;
    for (const auto& a : accounts) {
      conns.push_back(connect_as(lb, a));
    }
    g = create_group(conns[0], "roll");
    for (std::size_t i = 1; i < conns.size(); ++i) {
      join_group(conns[i], g.id);
    }
    for (auto& c : conns) {
      EXPECT_TRUE(is_ack(c.request({{"msgid", 13}}), 14, 0));
    }
  }
  std::vector<load_user> users;
  for (std::size_t i = 0; i < n_users; ++i) {
    users.push_back({accounts[i], {lb}, i != offline});
  }
  std::vector<std::size_t> everyone(n_users);
  for (std::size_t i = 0; i < n_users; ++i) {
    everyone[i] = i;
  }
  const auto one = [](std::size_t from, std::size_t to) { return load_flow{.sender = from, .to = to}; };
  std::vector<load_flow> flows{one(0, 1), one(1, 0), one(2, 3), one(3, 2), one(4, 5), one(5, 4),
                               one(6, 7), one(8, 9), one(9, 6), one(7, offline)};
  flows.push_back({.sender = 2, .groupid = g.id, .members = everyone});
  flows.push_back({.sender = 7, .groupid = g.id, .members = everyone});
  load l(users, flows, {.idle_timeout = idle, .window = 8, .gap = 40ms});
  l.start();
  std::cout << "[ info ] clients: node1 " << client_connections(n1.pid(), p1).value_or(-1) << ", node2 "
            << client_connections(n2.pid(), p2).value_or(-1) << std::endl;
  l.run_for(3s);

  const auto d1 = drain_and_restart(l, n_users, n1, data / "roll-node1", "node1");
  l.run_for(3s);
  const auto d2 = drain_and_restart(l, n_users, n2, data / "roll-node2", "node2");
  l.run_for(3s);

  const auto r = l.finish();
  std::cout << "[ summary ] rolling restart: sent " << r.sent << ", acked " << r.acked << ", delivered live "
            << r.live << ", stored " << r.stored << ", moved clients " << d1.moved << " (node1) + " << d2.moved
            << " (node2); lost " << r.lost << ", duplicates " << r.duplicates << ", out of order "
            << r.out_of_order << ", exits " << d1.status << "/" << d2.status << std::endl;
  std::cout << "[ info ] ledger: " << r.summary() << std::endl;
  check_drain(d1);
  check_drain(d2);
  for (std::size_t i = 0; i < r.problems.size() && i < 30; ++i) {
    ADD_FAILURE() << r.problems[i];
  }
  for (std::size_t i = 0; i < r.losses.size() && i < 30; ++i) {
    ADD_FAILURE() << r.losses[i];
  }
  for (const auto& [flow, n] : r.lost_by_flow) {
    std::cout << "[ info ] lost: " << n << " of " << flow << std::endl;
  }
  EXPECT_GT(r.acked, 500u) << "too little traffic to mean anything";
  EXPECT_EQ(r.lost + r.lost_at_kill, 0u) << "CHAT_ACKed messages lost";
  EXPECT_EQ(r.duplicates, 0u) << "messages delivered twice";
  EXPECT_EQ(r.out_of_order, 0u);
  EXPECT_EQ(r.time_mismatch, 0u);
  EXPECT_EQ(r.no_answer, 0u) << "chat requests without an answer on open connections";
  // A drain answers the request being served before its GOING_AWAY; requests behind the
  // GOING_AWAY are not executed. So nothing is delivered without its answer.
  EXPECT_EQ(r.unacked_delivered, 0u) << "delivered, but the sender got no answer (drained mid-request?)";
  EXPECT_GT(r.stored, 0u) << "nothing was stored (the offline user gets messages)";
  EXPECT_TRUE(n1.running()) << n1.log_tail();
  EXPECT_TRUE(n2.running()) << n2.log_tail();
  EXPECT_EQ(n1.stop().status, 0);
  EXPECT_EQ(n2.stop().status, 0);
}

}  // namespace
