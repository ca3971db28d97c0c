// The admin listener (docs/operations.md): /healthz, /readyz flipping with MariaDB, Redis and
// the drain, and /metrics moving with the traffic. A node of its own, in cluster mode, on a
// MariaDB (base+16) and a Redis (base+17) of its own: client port base+14, admin base+15.
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/cluster.hpp>
#include <chat_test/env.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <signal.h>

#include <map>
#include <optional>
#include <sstream>
#include <thread>

namespace {

using namespace chat_test;
namespace asio = boost::asio;

struct http_response {
  int status = 0;
  std::string headers;
  std::string body;
};

// One GET with "Connection: close", read to the end.
http_response http_get(int port, const std::string& path) {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(socket, asio::buffer(request));
  std::string raw;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(raw), ec);
  http_response r;
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || head_end == std::string::npos) {
    throw test_error("GET " + path + ": no HTTP response: " + raw);
  }
  r.status = std::stoi(raw.substr(9, 3));
  r.headers = raw.substr(0, head_end);
  r.body = raw.substr(head_end + 4);
  return r;
}

// The value of the series `series` (name and labels exactly as rendered) in a scrape.
std::optional<double> sample(const std::string& scrape, const std::string& series) {
  std::istringstream lines(scrape);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

double metric(int admin_port, const std::string& series) {
  const auto scrape = http_get(admin_port, "/metrics").body;
  const auto v = sample(scrape, series);
  if (!v) {
    throw test_error("no series " + series + " in:\n" + scrape);
  }
  return *v;
}

// Polls a gauge that follows an event the server sees on its own schedule (a close) until it
// reads `value` or `limit` has passed; returns the last reading.
double metric_until(int admin_port, const std::string& series, double value, millis limit) {
  const auto until = steady::now() + limit;
  for (;;) {
    const double v = metric(admin_port, series);
    if (v == value || steady::now() >= until) {
      return v;
    }
    std::this_thread::sleep_for(20ms);
  }
}

// Polls /readyz (a state change that sends no event) until its status is `status`.
http_response readyz_until(int admin_port, int status, millis limit) {
  const auto until = steady::now() + limit;
  for (;;) {
    auto r = http_get(admin_port, "/readyz");
    if (r.status == status || steady::now() >= until) {
      return r;
    }
    std::this_thread::sleep_for(100ms);
  }
}

class Admin : public testing::Test {
 protected:
  const int port = port_base() + 14;
  const int admin_port = port_base() + 15;
  mariadb_instance db{test_data_dir() / "admin-mariadb", port_base() + 16};
  redis_instance redis{test_data_dir() / "admin-redis", port_base() + 17};
  server_instance server{test_data_dir() / "admin-server", port, port_base() + 16,
                         cluster_node_toml("admin1", port_base() + 17,
                                           "[mysql]\nquery_timeout_ms = 1000\n"
                                           "[server]\ndrain_period_ms = 4000\n"
                                           "[admin]\nlisten_address = \"127.0.0.1\"\nport = " +
                                               std::to_string(port_base() + 15) + "\n")};
};

TEST_F(Admin, HealthAndMetricsMoveWithTheTraffic) {
  const auto health = http_get(admin_port, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  const auto ready = http_get(admin_port, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body, "ready\n");
  const auto scrape = http_get(admin_port, "/metrics");
  EXPECT_EQ(scrape.status, 200);
  EXPECT_NE(scrape.headers.find("text/plain; version=0.0.4"), std::string::npos) << scrape.headers;
  EXPECT_EQ(http_get(admin_port, "/nothing").status, 404);

  const auto a = register_account(port, "adm");
  const auto b = register_account(port, "adm");
  const auto c = register_account(port, "adm");  // offline until the end
  EXPECT_EQ(metric_until(admin_port, "chat_connections", 0, 2s), 0) << "the registrations' connections";
  const auto series = [&] {
    std::map<std::string, double> v;
    for (const char* name :
         {"chat_frames_in_total{msgid=\"1\"}", "chat_frames_in_total{msgid=\"5\"}",
          "chat_frames_out_total{msgid=\"5\"}", "chat_frames_out_total{msgid=\"18\"}",
          "chat_logins_total{result=\"success\"}", "chat_logins_total{result=\"failure\"}",
          "chat_errors_total{errno=\"2\"}", "chat_errors_total{errno=\"8\"}", "chat_offline_stored_total",
          "chat_offline_delivered_total", "chat_delivery_latency_seconds_count", "chat_connections_opened_total",
          "chat_db_pool_wait_seconds_count"}) {
      v[name] = metric(admin_port, name);
    }
    return v;
  };
  const auto before = series();
  EXPECT_EQ(metric(admin_port, "chat_online_users"), 0);
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  client anon(port, "anonymous");
  ping_barrier(anon);
  EXPECT_EQ(metric(admin_port, "chat_connections"), 3);
  EXPECT_EQ(metric(admin_port, "chat_online_users"), 2);
  EXPECT_EQ(metric(admin_port, "chat_redis_up"), 1);
  EXPECT_EQ(metric(admin_port, "chat_draining"), 0);
  EXPECT_GT(metric(admin_port, "process_resident_memory_bytes"), 1e6);
  EXPECT_GE(metric(admin_port, "process_open_fds"), 3 + 3);  // stdio and our three clients at least
  EXPECT_EQ(metric(admin_port, "chat_build_info{version=\"" CHAT_TEST_VERSION "\"}"), 1);
  ca.send(chat_req(b.id, "hello", "c1"));
  EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "hello"));
  EXPECT_TRUE(is_chat_ack(ca.recv(), "c1"));
  ca.send(chat_req(c.id, "stored 1", "s1"));
  EXPECT_TRUE(is_chat_ack(ca.recv(), "s1"));
  ca.send(chat_req(c.id, "stored 2", "s2"));
  EXPECT_TRUE(is_chat_ack(ca.recv(), "s2"));
  EXPECT_TRUE(is_ack(anon.request(login_id_req(c.id, "wrong password")), 2, 2));
  anon.send_raw(frame("not json"));
  EXPECT_TRUE(is_error_any(anon.recv(), 8));
  {
    login_result r;
    client cc = connect_as(port, c, &r);
    EXPECT_EQ(r.offline.size(), 2u);
  }
  // Frames count once their write has completed, which may be just after the client read them.
  metric_until(admin_port, "chat_frames_out_total{msgid=\"5\"}", before.at("chat_frames_out_total{msgid=\"5\"}") + 3, 2s);
  const auto after = series();
  const auto moved = [&](const std::string& name) { return after.at(name) - before.at(name); };
  EXPECT_EQ(moved("chat_frames_in_total{msgid=\"1\"}"), 4);  // a, b, c's wrong and right password
  EXPECT_EQ(moved("chat_frames_in_total{msgid=\"5\"}"), 3);
  EXPECT_EQ(moved("chat_frames_out_total{msgid=\"5\"}"), 3) << "one live, two stored at c's login";
  EXPECT_EQ(moved("chat_frames_out_total{msgid=\"18\"}"), 3);
  EXPECT_EQ(moved("chat_logins_total{result=\"success\"}"), 3);
  EXPECT_EQ(moved("chat_logins_total{result=\"failure\"}"), 1);
  EXPECT_EQ(moved("chat_errors_total{errno=\"2\"}"), 1);
  EXPECT_EQ(moved("chat_errors_total{errno=\"8\"}"), 1);
  EXPECT_EQ(moved("chat_offline_stored_total"), 2);
  EXPECT_EQ(moved("chat_offline_delivered_total"), 2);
  EXPECT_EQ(moved("chat_delivery_latency_seconds_count"), 1) << "the live one";
  EXPECT_EQ(moved("chat_connections_opened_total"), 4);
  EXPECT_GT(moved("chat_db_pool_wait_seconds_count"), 0);
  cb.close();
  anon.close();
  ping_barrier(ca);
  EXPECT_EQ(metric_until(admin_port, "chat_connections", 1, 2s), 1);
  EXPECT_EQ(metric(admin_port, "chat_online_users"), 1);
  EXPECT_EQ(metric(admin_port, "chat_redis_reconnects_total"), 0);
  EXPECT_EQ(metric(admin_port, "chat_ready"), 1);
  EXPECT_GT(metric(admin_port, "process_max_fds"), metric(admin_port, "process_open_fds"));
}

TEST_F(Admin, ReadyzFlipsWithRedisMariadbAndTheDrain) {
  ASSERT_EQ(http_get(admin_port, "/readyz").status, 200);

  redis.kill();
  auto r = readyz_until(admin_port, 503, 5s);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready: Redis unreachable\n");
  EXPECT_EQ(metric(admin_port, "chat_redis_up"), 0);
  EXPECT_EQ(metric(admin_port, "chat_ready"), 0);
  EXPECT_EQ(http_get(admin_port, "/healthz").status, 200) << "alive while not ready";
  redis.start();
  r = readyz_until(admin_port, 200, 10s);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(metric(admin_port, "chat_ready"), 1);
  EXPECT_EQ(metric(admin_port, "chat_redis_reconnects_total"), 1);

  db.kill();
  r = readyz_until(admin_port, 503, 5s);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready: database unreachable\n");
  db.start();
  r = readyz_until(admin_port, 200, 10s);
  EXPECT_EQ(r.status, 200) << r.body;

  // A drain with a client to move: not ready (and says why) until the process is gone.
  const auto a = register_account(port, "adm");
  client ca = connect_as(port, a);
  client cb(port, "anonymous");
  ping_barrier(cb);
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  r = readyz_until(admin_port, 503, 2s);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready: draining\n");
  EXPECT_EQ(metric(admin_port, "chat_draining"), 1);
  EXPECT_TRUE(is_error_any(ca.recv(5s), 14));
  EXPECT_TRUE(is_error_any(cb.recv(5s), 14));
  const auto status = server.wait_exit(10s);
  ASSERT_TRUE(status.has_value()) << server.log_tail();
  EXPECT_EQ(*status, 0) << server.log_tail();
  EXPECT_THROW(http_get(admin_port, "/healthz"), std::exception) << "the admin listener outlived the process";
  EXPECT_EQ(server.stop().status, 0);
}

}  // namespace
