// A rolling restart as a user sees it: chat_client connected through nginx to one of two nodes;
// that node drains (SIGTERM); the client gets GOING_AWAY, reconnects through nginx, lands on
// the other node, logs in again by itself and chats. Redis base+61, nodes base+62 ("dr1") and
// base+63 ("dr2"), nginx base+64 (round robin, no PROXY header).
#include "client_process.hpp"

#include <chat_test/cluster.hpp>
#include <chat_test/env.hpp>
#include <chat_test/fault.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

namespace {

using namespace chat_client_test;
using chat_test::server_instance;

TEST(ClientDrain, MovesToTheOtherNodeThroughNginxWhenItsNodeDrains) {
  const int base = chat_test::port_base();
  const auto data = chat_test::test_data_dir();
  const int ports[2] = {base + 62, base + 63};
  const std::string drain = "[server]\ndrain_period_ms = 1000\n";
  chat_test::redis_instance redis(data / "client-drain-redis", base + 61);
  server_instance n1(data / "client-drain-node1", ports[0], chat_test::db_port(),
                     chat_test::cluster_node_toml("dr1", base + 61, drain));
  server_instance n2(data / "client-drain-node2", ports[1], chat_test::db_port(),
                     chat_test::cluster_node_toml("dr2", base + 61, drain));
  server_instance* nodes[2] = {&n1, &n2};
  chat_test::nginx_instance nginx(data / "client-drain-nginx", base + 64, ports[0], ports[1]);
  const std::string lb = std::to_string(base + 64);

  const auto a = chat_test::register_account(ports[0], "cd");
  const auto b = chat_test::register_account(ports[0], "cd");
  const std::string A = a.name + " (#" + std::to_string(a.id) + ")";

  client_process alice("alice",
                       {"--no-time", "--reconnect-delay", "200", "--reconnect-max", "1000", "127.0.0.1", lb},
                       {{"CHAT_PASSWORD", a.pwd}});
  alice.read_until("* connected to 127.0.0.1:" + lb);
  alice.send("login " + a.name);
  EXPECT_EQ(alice.next_line(), "logged in as " + A + ": 0 friends, 0 groups");

  // Which node nginx chose: the one holding a client connection.
  int on = -1;
  for (int i = 0; i < 2; ++i) {
    if (chat_test::client_connections(nodes[i]->pid(), ports[i]).value_or(0) == 1) {
      on = i;
    }
  }
  ASSERT_NE(on, -1) << "alice's connection found on neither node";
  const int other = 1 - on;

  ASSERT_EQ(::kill(nodes[on]->pid(), SIGTERM), 0);
  const std::string lost =
      "* connection lost: the server is closing the connection: server shutting down; reconnecting in ";
  const auto line = alice.read_until("* connection lost: ");
  EXPECT_EQ(line.substr(0, lost.size()), lost);
  alice.read_until("* connected to 127.0.0.1:" + lb);
  EXPECT_EQ(alice.next_line(), "* logged in again as " + A + ": 0 friends, 0 groups");
  EXPECT_EQ(chat_test::client_connections(nodes[other]->pid(), ports[other]).value_or(0), 1)
      << "alice is not on the node that stayed";
  const auto status = nodes[on]->wait_exit(10s);
  ASSERT_TRUE(status.has_value()) << nodes[on]->log_tail();
  EXPECT_EQ(*status, 0) << nodes[on]->log_tail();

  {
    client_process bob("bob", {"--no-time", "127.0.0.1", lb}, {{"CHAT_PASSWORD", b.pwd}});
    bob.read_until("* connected to ");
    bob.send("login " + b.name);
    bob.read_until("logged in as ");
    bob.send("chat " + std::to_string(a.id) + " after the drain");
    bob.read_until("you -> #" + std::to_string(a.id) + ": after the drain");
    EXPECT_EQ(alice.next_line(), b.name + " (#" + std::to_string(b.id) + "): after the drain");
  }
  alice.close_stdin();
  EXPECT_EQ(alice.wait_exit(), 0);
}

}  // namespace
