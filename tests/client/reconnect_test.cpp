// chat_client reconnects by itself: a private chat_server (port base+60) is restarted once
// gracefully (GOING_AWAY, errno 14) and once after SIGKILL (the connection just breaks), then
// hangs (SIGSTOP: only the client's PINGs can tell); each time the client connects again, logs
// in again without being asked, and can chat after.
#include "client_process.hpp"

#include <chat_test/env.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>

#include <signal.h>

#include <optional>

namespace {

using namespace chat_client_test;
using chat_test::server_instance;

TEST(ClientReconnect, LogsInAgainAfterTheServerRestarts) {
  const int port = chat_test::port_base() + 60;
  const auto dir = chat_test::test_data_dir() / "client-reconnect";
  std::optional<server_instance> server;
  server.emplace(dir, port, chat_test::db_port());

  const auto a = chat_test::register_account(port, "cr");
  const auto b = chat_test::register_account(port, "cr");
  const std::string A = a.name + " (#" + std::to_string(a.id) + ")";
  const std::string B = b.name + " (#" + std::to_string(b.id) + ")";
  const std::string port_text = std::to_string(port);

  // PINGs every 0.3 s: a hung server is noticed within a second.
  client_process alice("alice",
                       {"--no-time", "--ping-interval", "300", "--reconnect-delay", "200", "--reconnect-max", "1000",
                        "127.0.0.1", port_text},
                       {{"CHAT_PASSWORD", a.pwd}});
  alice.read_until("* connected to 127.0.0.1:" + port_text);
  alice.send("login " + a.name);
  EXPECT_EQ(alice.next_line(), "logged in as " + A + ": 0 friends, 0 groups");

  // 1. Graceful restart: the server says GOING_AWAY before closing.
  const auto stopped = server->stop();
  ASSERT_EQ(stopped.status, 0) << stopped.output;
  server.reset();
  const std::string lost =
      "* connection lost: the server is closing the connection: server shutting down; "
      "reconnecting in ";
  const auto line = alice.next_line();
  EXPECT_EQ(line.substr(0, lost.size()), lost);
  server.emplace(dir, port, chat_test::db_port());
  alice.read_until("* connected to 127.0.0.1:" + port_text);
  EXPECT_EQ(alice.next_line(), "* logged in again as " + A + ": 0 friends, 0 groups");

  {
    client_process bob("bob", {"--no-time", "127.0.0.1", port_text}, {{"CHAT_PASSWORD", b.pwd}});
    bob.read_until("* connected to ");
    bob.send("login " + b.name);
    bob.read_until("logged in as " + B);
    alice.send("chat " + std::to_string(b.id) + " after a restart");
    EXPECT_EQ(alice.next_line(), "you -> #" + std::to_string(b.id) + ": after a restart");
    EXPECT_EQ(bob.next_line(), A + ": after a restart");
  }

  // 2. The node dies: no GOING_AWAY, the connection just breaks.
  ASSERT_EQ(::kill(server->pid(), SIGKILL), 0);
  ASSERT_TRUE(server->wait_exit(10s).has_value());
  server.reset();  // its stop() reports the kill; ignored
  alice.read_until("* connection lost: ");
  server.emplace(dir, port, chat_test::db_port());
  alice.read_until("* connected to 127.0.0.1:" + port_text);
  EXPECT_EQ(alice.next_line(), "* logged in again as " + A + ": 0 friends, 0 groups");
  {
    client_process bob("bob", {"--no-time", "127.0.0.1", port_text}, {{"CHAT_PASSWORD", b.pwd}});
    bob.read_until("* connected to ");
    bob.send("login " + b.name);
    bob.read_until("logged in as " + B);
    alice.send("chat " + std::to_string(b.id) + " after a crash");
    EXPECT_EQ(alice.next_line(), "you -> #" + std::to_string(b.id) + ": after a crash");
    EXPECT_EQ(bob.next_line(), A + ": after a crash");
  }

  // 3. The node hangs (SIGSTOP): the socket stays open but nothing answers. The client's PINGs
  // go unanswered, it gives the connection up and gets back in once the node runs again.
  const pid_t pid = server->pid();
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  struct resume {
    pid_t pid;
    ~resume() { ::kill(pid, SIGCONT); }
  } resume_guard{pid};
  alice.read_until("* connection lost: no answer from the server for ");
  ::kill(pid, SIGCONT);
  alice.read_until("* logged in again as " + A);
  {
    client_process bob("bob", {"--no-time", "127.0.0.1", port_text}, {{"CHAT_PASSWORD", b.pwd}});
    bob.read_until("* connected to ");
    bob.send("login " + b.name);
    bob.read_until("logged in as " + B);
    alice.send("chat " + std::to_string(b.id) + " after a hang");
    alice.read_until("you -> #" + std::to_string(b.id) + ": after a hang");
    EXPECT_EQ(bob.next_line(), A + ": after a hang");
  }
  alice.close_stdin();
  EXPECT_EQ(alice.wait_exit(), 0);
}

}  // namespace
