// Heartbeat and login timeouts (PROTOCOL.md §5, §6 PING) against the tight server:
// idle_timeout_ms = 1500, login_timeout_ms = 3000. "At most 1 s late" is checked on our clock,
// which starts before the server's (we start timing before connecting or sending).
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

namespace {

using namespace chat_test;

constexpr millis idle{tight_idle_timeout_ms};
constexpr millis login_timeout{tight_login_timeout_ms};
constexpr millis late{1000};
// Our own scheduling between a read and the clock (the server's lateness is bounded by `late`).
constexpr millis slack{150};
// How much earlier than the timeout we tolerate seeing it (clock granularity only).
constexpr millis early{50};

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

// Waits for ERROR_MSG 14 followed by the close, at most `deadline_after` after `t0`, reading
// (and returning) whatever else arrives first. Also checks it did not come before `not_before`.
std::vector<json::object> expect_going_away(client& c, steady::time_point t0, millis not_before,
                                            millis deadline_after) {
  std::vector<json::object> others;
  for (;;) {
    const auto left = deadline_after + slack - since(t0);
    json::object f;
    const auto st = c.try_recv(f, std::max(left, millis{0}));
    if (st != recv_status::frame) {
      ADD_FAILURE() << (st == recv_status::closed ? "closed without ERROR_MSG 14" : "no ERROR_MSG 14") << " after "
                    << since(t0).count() << " ms (limit " << deadline_after.count() << " ms)";
      return others;
    }
    if (int_field(f, "msgid") == 17) {
      const auto at = since(t0);
      EXPECT_TRUE(is_error_any(f, 14));
      EXPECT_GE(at, not_before - early) << "timed out too early";
      EXPECT_LE(at, deadline_after + slack) << "timed out too late";
      break;
    }
    others.push_back(std::move(f));
  }
  EXPECT_TRUE(c.wait_closed(std::max(deadline_after + slack - since(t0), millis{200}), &others))
      << "not closed within " << deadline_after.count() << " ms after errno 14";
  return others;
}

TEST(Heartbeat, SilentConnectionGets14AndIsClosed) {
  const auto t0 = steady::now();
  client c(tight_port());
  expect_going_away(c, t0, idle, idle + late);
}

TEST(Heartbeat, SilentLoggedInConnectionGets14AndIsClosed) {
  const auto a = register_account(tight_port(), "hb");
  client c(tight_port());
  const auto t0 = steady::now();
  login(c, a);  // the LOGIN is the last frame we send
  expect_going_away(c, t0, idle, idle + late);
  // Closed by the heartbeat = offline: the account can log in again.
  client again(tight_port());
  login_after_close(again, a, steady::now());
}

TEST(Heartbeat, PingEveryThirdOfTheTimeoutKeepsTheConnection) {
  const auto a = register_account(tight_port(), "hp");
  client c(tight_port());
  login(c, a);
  const auto start = steady::now();
  auto next_ping = start + idle / 3;
  auto last_ping = start;
  int sent = 0;
  int pongs = 0;
  while (since(start) < 2 * login_timeout) {  // beyond both timeouts
    if (steady::now() >= next_ping) {
      last_ping = steady::now();
      c.send(ping_req(sent++));
      next_ping += idle / 3;
    }
    json::object f;
    const auto wait = std::chrono::ceil<millis>(next_ping - steady::now());
    const auto st = c.try_recv(f, std::max(wait, millis{0}));
    ASSERT_NE(st, recv_status::closed) << "closed after " << since(start).count() << " ms";
    if (st == recv_status::frame) {
      ASSERT_TRUE(has_fields(f, {{"msgid", 16}, {"cid", pongs}})) << "after " << since(start).count() << " ms";
      ++pongs;
    }
  }
  EXPECT_GE(pongs, sent - 1);
  // Then silence: it times out from the last PING.
  c.recv_n(static_cast<std::size_t>(sent - pongs));
  expect_going_away(c, last_ping, idle, idle + late);
}

TEST(Heartbeat, ReceivingTrafficDoesNotCount) {
  const int port = tight_port();
  const auto r = register_account(port, "hr");
  const auto w = register_account(port, "hw");
  client cw = connect_as(port, w);
  client cr(port);
  const auto t0 = steady::now();
  login(cr, r);  // r's last frame
  std::vector<json::object> received;
  int sent = 0;
  bool got_14 = false;
  while (since(t0) < idle + late + slack) {
    cw.send(chat_req(r.id, "keep reading " + std::to_string(sent), sent));  // w stays active
    EXPECT_TRUE(is_chat_ack(cw.recv(), sent));
    ++sent;
    json::object f;
    const auto st = cr.try_recv(f, idle / 6);
    if (st == recv_status::frame && int_field(f, "msgid") == 17) {
      const auto at = since(t0);
      EXPECT_TRUE(is_error_any(f, 14));
      EXPECT_GE(at, idle - early);
      EXPECT_LE(at, idle + late + slack);
      got_14 = true;
      break;
    }
    if (st == recv_status::frame) {
      received.push_back(std::move(f));
    }
    ASSERT_NE(st, recv_status::closed) << "closed without ERROR_MSG 14";
  }
  EXPECT_TRUE(got_14) << "a connection that only reads must time out";
  EXPECT_FALSE(received.empty()) << "r was receiving messages meanwhile";
  EXPECT_TRUE(cr.wait_closed(2s));
  ping_barrier(cw);  // the writer is unaffected
}

TEST(Heartbeat, PartialFrameBytesDoNotCount) {
  const auto t0 = steady::now();
  client c(tight_port());
  const std::string bytes = frame(R"({"msgid":15,"cid":"never finished","pad":")" + std::string(200, 'x') + "\"}");
  std::size_t i = 0;
  std::vector<json::object> got;
  // One byte every 100 ms: never a complete frame before the timeout.
  while (since(t0) < idle + late + slack && i < bytes.size() - 1) {
    if (!c.try_send_raw(std::string_view(&bytes[i++], 1))) {
      break;  // closed by the server
    }
    json::object f;
    const auto st = c.try_recv(f, 100ms);
    if (st == recv_status::frame) {
      const auto at = since(t0);
      EXPECT_TRUE(is_error_any(f, 14));
      EXPECT_GE(at, idle - early);
      EXPECT_LE(at, idle + late + slack);
      EXPECT_TRUE(c.wait_closed(2s));
      return;
    }
    ASSERT_EQ(st, recv_status::timeout) << "closed without ERROR_MSG 14";
  }
  FAIL() << "no ERROR_MSG 14 within " << (idle + late).count() << " ms while only partial bytes were sent";
}

TEST(Heartbeat, ConnectionThatNeverLogsInGets14AfterTheLoginTimeout) {
  const auto t0 = steady::now();
  client c(tight_port());
  auto next_ping = t0;
  int sent = 0;
  int pongs = 0;
  for (;;) {
    ASSERT_LT(since(t0), login_timeout + late + slack) << "no ERROR_MSG 14 although the client never logged in";
    if (steady::now() >= next_ping) {
      c.try_send_raw(frame(json::serialize(ping_req(sent++))));  // keeps the heartbeat happy
      next_ping += idle / 3;
    }
    json::object f;
    const auto wait = std::chrono::ceil<millis>(next_ping - steady::now());
    const auto st = c.try_recv(f, std::max(wait, millis{0}));
    ASSERT_NE(st, recv_status::closed) << "closed without ERROR_MSG 14 after " << since(t0).count() << " ms";
    if (st == recv_status::timeout) {
      continue;
    }
    if (int_field(f, "msgid") == 16) {
      EXPECT_TRUE(has_fields(f, {{"cid", pongs++}}));
      continue;
    }
    const auto at = since(t0);
    EXPECT_TRUE(is_error_any(f, 14));
    EXPECT_GE(at, login_timeout - early) << "login timeout fired too early";
    EXPECT_LE(at, login_timeout + late + slack);
    break;
  }
  std::vector<json::object> rest;
  EXPECT_TRUE(c.wait_closed(2s, &rest));
  for (const auto& f : rest) {  // at most PONGs of PINGs in flight
    EXPECT_EQ(int_field(f, "msgid"), 16) << json::serialize(f);
  }
}

}  // namespace
