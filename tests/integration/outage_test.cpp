// MariaDB outage (PROTOCOL.md §4 errno 12): a server of its own on a MariaDB of its own, the
// database SIGKILLed and restarted while clients are connected.
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <thread>

namespace {

using namespace chat_test;

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

constexpr millis query_timeout{2000};
constexpr millis late{1000};
constexpr millis slack{200};  // our own measurement

// Sends `req` on `c` and expects ERROR_MSG 12 with `req` (and `cid`) within query_timeout + 1 s.
void expect_unavailable(client& c, const json::object& req, std::int64_t msgid,
                        const std::optional<json::value>& cid = absent) {
  SCOPED_TRACE("request " + json::serialize(req));
  const auto t0 = steady::now();
  c.send(req);
  json::object f;
  ASSERT_EQ(c.try_recv(f, query_timeout + late + 5s), recv_status::frame) << "no answer during the outage";
  EXPECT_TRUE(is_error(f, 12, msgid, cid));
  EXPECT_LE(since(t0), query_timeout + late + slack) << "errno 12 took too long";
}

TEST(Outage, DatabaseDownGives12LiveChatGoesOnAndServiceRecovers) {
  const int db_port_ = port_base() + 20;
  const int port = port_base() + 21;
  mariadb_instance db(test_data_dir() / "outage-mariadb", db_port_);
  server_instance server(test_data_dir() / "outage-server", port, db_port_,
                         "[mysql]\nquery_timeout_ms = " + std::to_string(query_timeout.count()) + "\n");
  const auto a = register_account(port, "out");
  const auto b = register_account(port, "out");
  const auto c = register_account(port, "out");  // stays offline
  const auto d = register_account(port, "out");  // logs in during the outage
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  ca.send(chat_req(b.id, "before", "before"));
  EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "before"));
  EXPECT_TRUE(is_chat_ack(ca.recv(), "before"));
  client cd(port, "d");
  client cr(port, "reg");

  db.kill();
  const std::string new_name = unique_name("outage");
  expect_unavailable(cd, login_id_req(d.id, d.pwd), 1);
  expect_unavailable(cr, reg_req(new_name, "pw"), 3);
  expect_unavailable(ca, chat_req(c.id, "to an offline user", "off"), 5, json::value("off"));
  EXPECT_TRUE(server.running()) << server.log_tail();

  // Live chat between online users needs no database.
  for (int i = 0; i < 5; ++i) {
    const std::string m = "during the outage " + std::to_string(i);
    ca.send(chat_req(b.id, m, m));
    EXPECT_TRUE(is_chat(cb.recv(), a, b.id, m));
    EXPECT_TRUE(is_chat_ack(ca.recv(), m));
    cb.send(chat_req(a.id, m));
    EXPECT_TRUE(is_chat(ca.recv(), b, a.id, m));
  }
  ping_barrier(cd);  // d is not logged in and got nothing else
  expect_error_reply(cd, chat_req(a.id, "x"), 9, 5);

  db.start();
  const auto restarted = steady::now();
  // REG: the failed attempt changed nothing, so the name is free.
  for (;;) {
    const auto f = cr.request(reg_req(new_name, "pw"));
    if (int_field(f, "msgid") == 17 && int_field(f, "errno") == 12 && since(restarted) < 15s) {
      std::this_thread::sleep_for(200ms);  // retry interval: nothing to wait for but time
      continue;
    }
    EXPECT_TRUE(is_ack(f, 4, 0)) << "REG after the database came back, " << since(restarted).count() << " ms";
    break;
  }
  for (;;) {
    const auto f = cd.request(login_id_req(d.id, d.pwd));
    if (int_field(f, "msgid") == 17 && int_field(f, "errno") == 12 && since(restarted) < 15s) {
      std::this_thread::sleep_for(200ms);
      continue;
    }
    EXPECT_TRUE(is_ack(f, 2, 0)) << "LOGIN after the database came back, " << since(restarted).count() << " ms";
    cd.recv_n(static_cast<std::size_t>(int_field(f, "offline").value_or(0)));
    break;
  }
  // The refused ONE_CHAT was not stored; a new one is.
  EXPECT_TRUE(is_chat_ack(ca.request(chat_req(c.id, "after", "after")), "after"));
  login_result rc;
  client cc = connect_as(port, c, &rc);
  ASSERT_EQ(rc.offline.size(), 1u);
  EXPECT_TRUE(is_chat(rc.offline[0], a, c.id, "after", true));

  const auto stopped = server.stop();
  EXPECT_EQ(stopped.status, 0) << stopped.output;
}

}  // namespace
