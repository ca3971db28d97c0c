// Abuse limits (PROTOCOL.md §5, docs/security.md) and real client addresses behind nginx
// (PROXY protocol). Servers of the chat_limits fixture:
//   base+3  the limits server: fixtures/limits.toml (rate 20/s, burst 10; 12 connections per
//           node, 8 per address; 5 failed logins per address lock it out for 3 s)
//   base+4  the proxy server: fixtures/proxy.toml (proxy_protocol = true, 3 connections per address)
//   base+5  nginx with `proxy_protocol on;` in front of base+4
// Clients bind to distinct 127.0.0.x source addresses to be distinct "addresses".
// The login timeout (the unauthenticated-time limit) is tested in heartbeat_test.cpp.
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace chat_test;

int limits_port() { return port_base() + 3; }
int proxy_port() { return port_base() + 4; }
int proxy_lb_port() { return port_base() + 5; }

constexpr int burst = 10;
constexpr int rate_per_s = 20;
constexpr int max_per_address = 8;
constexpr int max_per_node = 12;
constexpr int failures_per_address = 5;
constexpr int proxy_max_per_address = 3;

// Polls `attempt` until it returns true or `limit` passes: for limits that lapse with time.
template <class F>
bool eventually(millis limit, F attempt) {
  const auto until = steady::now() + limit;
  for (;;) {
    if (attempt()) {
      return true;
    }
    if (steady::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(100ms);
  }
}

// True when a PING on `c` gets its PONG.
bool pongs(client& c) {
  json::object f;
  c.send(ping_req("alive"));
  return c.try_recv(f, 5s) == recv_status::frame && int_field(f, "msgid") == 16;
}

// Opens `n` connections from `source` into `open`, each answering a PING.
void open_working(std::vector<client>& open, const std::string& source, int port, int n) {
  for (int i = 0; i < n; ++i) {
    open.emplace_back(source, port, source + "#" + std::to_string(i));
    ASSERT_TRUE(pongs(open.back())) << open.back().label();
  }
}

// A refused connection: one ERROR_MSG with errno `err`, then the server closes it.
void expect_refused(client& c, int err) {
  std::vector<json::object> frames;
  ASSERT_TRUE(c.wait_closed(5s, &frames)) << c.label();
  ASSERT_EQ(frames.size(), 1u) << c.label();
  EXPECT_TRUE(is_error(frames[0], err, absent)) << c.label();
}

// ---- request rate ---------------------------------------------------------------------------

TEST(limits, requests_over_the_rate_get_errno_13_and_are_not_executed) {
  auto accounts = register_accounts(limits_port(), 2, "rate");
  client a = connect_as(limits_port(), accounts[0]);
  client b = connect_as(limits_port(), accounts[1]);

  // 40 chats at once with cids: the burst passes, the rest are refused one by one.
  constexpr int sent = 40;
  std::string batch;
  for (int i = 0; i < sent; ++i) {
    batch += frame(boost::json::serialize(chat_req(accounts[1].id, "m" + std::to_string(i), i)));
  }
  const auto started = steady::now();
  a.send_raw(batch);
  std::set<std::int64_t> acked;
  int refused = 0;
  for (const auto& f : a.recv_n(sent)) {
    if (int_field(f, "msgid") == 18) {
      acked.insert(*int_field(f, "cid"));
    } else {
      ASSERT_TRUE(is_error(f, 13, 5, json::value(*int_field(f, "cid")))) << to_text(f);
      ++refused;
    }
  }
  const double elapsed_s = std::chrono::duration<double>(steady::now() - started).count();
  EXPECT_GE(acked.size(), static_cast<std::size_t>(burst));
  EXPECT_LE(acked.size(), static_cast<std::size_t>(burst + 1 + elapsed_s * rate_per_s));
  EXPECT_EQ(acked.size() + static_cast<std::size_t>(refused), static_cast<std::size_t>(sent));

  // Exactly the acknowledged messages arrive, in order; the refused ones do not exist.
  auto received = b.recv_n(acked.size());
  auto it = acked.begin();
  for (const auto& f : received) {
    EXPECT_TRUE(is_chat(f, accounts[0], accounts[1].id, "m" + std::to_string(*it++))) << to_text(f);
  }
  b.expect_silence(300ms);

  // The bucket refills: after a pause the connection is served again.
  EXPECT_TRUE(eventually(3s, [&] { return pongs(a); }));
}

// ---- connections per address and per node ---------------------------------------------------

TEST(limits, connections_per_address_and_per_node) {
  std::vector<client> open;
  ASSERT_NO_FATAL_FAILURE(open_working(open, "127.0.0.2", limits_port(), max_per_address));
  {
    client over("127.0.0.2", limits_port(), "a2-over");
    expect_refused(over, 13);
  }
  // Another address still gets in, up to the node's limit.
  ASSERT_NO_FATAL_FAILURE(open_working(open, "127.0.0.3", limits_port(), max_per_node - max_per_address));
  {
    client full("127.0.0.4", limits_port(), "a4-full");
    expect_refused(full, 14);  // this node is full: going away, try another
  }
  // Every admitted connection still works.
  for (auto& c : open) {
    EXPECT_TRUE(pongs(c)) << c.label();
  }
  // A closed connection frees its places (once the server has noticed the close).
  open.front().close();
  EXPECT_TRUE(eventually(5s, [&] {
    client again("127.0.0.2", limits_port(), "a2-again");
    json::object f;
    again.send(ping_req("again"));
    if (again.try_recv(f, 5s) != recv_status::frame || int_field(f, "msgid") != 16) {
      return false;
    }
    open.push_back(std::move(again));
    return true;
  }));
}

// ---- failed logins per address ----------------------------------------------------------------

TEST(limits, failed_logins_lock_out_the_address_not_the_account) {
  const account victim = register_account(limits_port(), "lock");
  client attacker("127.0.0.9", limits_port(), "attacker");
  for (int i = 0; i < failures_per_address; ++i) {
    EXPECT_TRUE(is_ack(attacker.request(login_id_req(victim.id, "wrong")), 2, 2)) << i;
  }
  // Now even the right password is refused from that address...
  EXPECT_TRUE(is_ack(attacker.request(login_id_req(victim.id, victim.pwd)), 2, 2));
  // ...also for other accounts, and unknown names cost the attacker nothing new...
  const account other = register_account(limits_port(), "lock2");
  EXPECT_TRUE(is_ack(attacker.request(login_id_req(other.id, other.pwd)), 2, 2));
  // ...while the account owner, elsewhere, logs in.
  client owner("127.0.0.10", limits_port(), "owner");
  EXPECT_TRUE(is_ack(owner.request(login_id_req(victim.id, victim.pwd)), 2, 0));
  EXPECT_TRUE(is_ack(owner.request(json::object{{"msgid", 13}}), 14, 0));

  // The lockout ends after address_lockout_ms (3 s).
  EXPECT_TRUE(eventually(6s, [&] {
    const auto ack = attacker.request(login_id_req(victim.id, victim.pwd));
    return int_field(ack, "errno") == 0;
  }));
}

// ---- PROXY protocol ----------------------------------------------------------------------------

// Through nginx every connection comes from nginx's address; the per-address limit must see
// the clients' own addresses from the PROXY header.
TEST(proxy_protocol, limits_apply_to_the_client_address_behind_nginx) {
  std::vector<client> open;
  ASSERT_NO_FATAL_FAILURE(open_working(open, "127.0.0.5", proxy_lb_port(), proxy_max_per_address));
  {
    client over("127.0.0.5", proxy_lb_port(), "p5-over");
    expect_refused(over, 13);
  }
  client other("127.0.0.6", proxy_lb_port(), "p6");
  EXPECT_TRUE(pongs(other));
  // And the whole protocol works through it.
  const account a = register_account(other, "proxy");
  EXPECT_TRUE(is_ack(other.request(login_id_req(a.id, a.pwd)), 2, 0));
}

TEST(proxy_protocol, v2_header_in_the_same_write_as_the_first_frame) {
  client c(proxy_port(), "v2");
  std::string header("\r\n\r\n\0\r\nQUIT\n", 12);
  header += "\x21\x11";
  header += std::string("\x00\x0c", 2);
  header += std::string("\xc6\x33\x64\x07\x7f\x00\x00\x01\x30\x39\x17\x70", 12);  // 198.51.100.7:12345
  c.send_raw(header + frame(R"({"msgid":15,"cid":"v2"})"));
  EXPECT_TRUE(has_fields(c.recv(), json::object{{"msgid", 16}, {"cid", "v2"}}));
}

TEST(proxy_protocol, v1_header_split_across_writes) {
  client c(proxy_port(), "v1");
  const std::string header = "PROXY TCP4 203.0.113.9 127.0.0.1 40000 6000\r\n";
  for (char ch : header) {
    c.send_raw(std::string(1, ch));
  }
  c.send_text(R"({"msgid":15,"cid":"v1"})");
  EXPECT_TRUE(has_fields(c.recv(), json::object{{"msgid", 16}, {"cid", "v1"}}));
}

TEST(proxy_protocol, a_connection_without_the_header_is_refused) {
  client c(proxy_port(), "no-header");
  c.send_text(R"({"msgid":15})");
  expect_refused(c, 8);
}

}  // namespace
