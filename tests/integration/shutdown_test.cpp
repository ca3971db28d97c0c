// Graceful shutdown (PROTOCOL.md §4 errno 14, ARCHITECTURE "Shutdown"): a server of its own
// on the shared database gets SIGTERM while clients are connected.
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <signal.h>

#include <thread>
#include <vector>

namespace {

using namespace chat_test;

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

TEST(Shutdown, SigtermSendsGoingAwayToEveryClientAndExits0) {
  constexpr millis grace{3000};
  const int port = port_base() + 10;
  server_instance server(test_data_dir() / "shutdown", port, db_port(),
                         "[server]\nshutdown_grace_ms = " + std::to_string(grace.count()) + "\n");
  const auto a = register_account(port, "sd");
  const auto b = register_account(port, "sd");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);  // this one will not close by itself
  client anon(port, "anonymous");   // connected, never logged in
  ping_barrier(anon);
  client partial(port, "partial");  // in the middle of a frame
  partial.send_raw(frame(R"({"msgid":15})").substr(0, 6));
  ca.send(chat_req(b.id, "before the signal", "pre"));
  EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "before the signal"));
  EXPECT_TRUE(is_chat_ack(ca.recv(), "pre"));

  const auto t0 = steady::now();
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  for (client* c : {&ca, &cb, &anon, &partial}) {
    SCOPED_TRACE(c->label());
    const auto f = c->recv(grace);
    EXPECT_TRUE(is_error_any(f, 14));
  }
  // Clients that reconnect close at once; cb does not: the server must close it.
  ca.close();
  anon.close();
  partial.close();
  EXPECT_TRUE(cb.wait_closed(grace)) << "the server did not close a client that stayed";
  const auto status = server.wait_exit(grace + 1s);
  ASSERT_TRUE(status.has_value()) << "still running " << since(t0).count() << " ms after SIGTERM\n"
                                  << server.log_tail();
  EXPECT_EQ(*status, 0) << server.log_tail();
  EXPECT_LE(since(t0), grace) << "exit took longer than shutdown_grace_ms";
  const auto stopped = server.stop();
  EXPECT_EQ(stopped.status, 0) << stopped.output;
  // Nothing listens any more.
  EXPECT_THROW(client(port, "late", 0, 1s), test_error);
}

// A rolling restart: the listener closes at once, the GOING_AWAYs are spread over
// drain_period_ms, and a second SIGTERM sends the rest at once.
TEST(Shutdown, SigtermDrainsClientsGraduallyAndASecondOneHurries) {
  constexpr millis period{3000};
  constexpr int clients = 6;
  const int port = port_base() + 10;
  server_instance server(test_data_dir() / "shutdown-drain", port, db_port(),
                         "[server]\ndrain_period_ms = " + std::to_string(period.count()) + "\n");
  std::vector<client> conns;
  for (int i = 0; i < clients; ++i) {
    conns.emplace_back(port, "c" + std::to_string(i));
    ping_barrier(conns.back());
  }
  const auto t0 = steady::now();
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  // The listener is closed at once: a balancer sends new clients elsewhere.
  for (;;) {
    try {
      client late(port, "late", 0, 1s);
    } catch (const test_error&) {
      break;
    }
    ASSERT_LT(since(t0), 1s) << "still accepting 1 s after SIGTERM";
    std::this_thread::sleep_for(20ms);  // polling a state change that sends no event
  }
  // The GOING_AWAYs come one by one over the period: the first early, the next ones later.
  std::vector<millis> at;
  std::vector<bool> gone(conns.size(), false);
  while (at.size() < 2) {
    ASSERT_LT(since(t0), period + 1s) << "fewer than two GOING_AWAYs within the drain period";
    for (std::size_t i = 0; i < conns.size(); ++i) {
      json::object f;
      if (!gone[i] && conns[i].try_recv(f, 10ms) == recv_status::frame) {
        ASSERT_TRUE(is_error_any(f, 14)) << json::serialize(f);
        gone[i] = true;
        at.push_back(since(t0));
      }
    }
  }
  EXPECT_LT(at[0], period / 2) << "the first GOING_AWAY came late";
  EXPECT_GE(at[1] - at[0], period / clients / 2) << "two GOING_AWAYs at once: not spread over the period";
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  const auto hurried = steady::now();
  for (std::size_t i = 0; i < conns.size(); ++i) {
    if (!gone[i]) {
      SCOPED_TRACE(conns[i].label());
      EXPECT_TRUE(is_error_any(conns[i].recv(1s), 14));
    }
  }
  EXPECT_LT(since(hurried), 1s);
  const auto status = server.wait_exit(5s);
  ASSERT_TRUE(status.has_value()) << server.log_tail();
  EXPECT_EQ(*status, 0) << server.log_tail();
  EXPECT_EQ(server.stop().status, 0);
}

TEST(Shutdown, IdleServerExits0AtOnce) {
  const int port = port_base() + 10;
  server_instance server(test_data_dir() / "shutdown-idle", port, db_port());
  {
    client c(port);
    ping_barrier(c);
  }
  const auto t0 = steady::now();
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  const auto status = server.wait_exit(5s);
  ASSERT_TRUE(status.has_value()) << server.log_tail();
  EXPECT_EQ(*status, 0) << server.log_tail();
  EXPECT_LE(since(t0), 1s);
  EXPECT_EQ(server.stop().status, 0);
}

}  // namespace
