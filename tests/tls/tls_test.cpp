// chat_client --tls through nginx terminating TLS (deploy/nginx/chat_stream_tls.conf) in front of
// the default test server: a chat over TLS, the certificate checks that must fail (another CA,
// no --ca, a host name the certificate does not name), plain/TLS mismatches that must fail
// quickly; and in front of the tight server (1.5 s idle timeout), reconnects with a fresh TLS
// session and PINGs over TLS. Certificates: tests/tls/make_certs.sh (fixture.tls_certs).
#include "client_process.hpp"

#include <chat_test/env.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace chat_client_test;
using chat_test::default_port;
using chat_test::env_int;
using chat_test::env_string;
using chat_test::unique_name;
namespace json = boost::json;

// CHAT_TEST_TLS_PORT: the TLS listener of the private nginx (tests/tls/CMakeLists.txt).
std::string tls_port() {
  return std::to_string(env_int("CHAT_TEST_TLS_PORT", chat_test::port_base() + 70));
}

// CHAT_TEST_TLS_TIGHT_PORT: the same in front of the tight server.
std::string tls_tight_port() {
  return std::to_string(env_int("CHAT_TEST_TLS_TIGHT_PORT", chat_test::port_base() + 71));
}

// CHAT_TEST_TLS_CERTS: what make_certs.sh wrote.
std::string cert(const std::string& file) {
  return env_string("CHAT_TEST_TLS_CERTS", (chat_test::test_data_dir() / "tls-certs").string()) + "/" + file;
}

// The frames (stdout of --json) with this msgid.
std::vector<json::object> frames(const std::vector<std::string>& lines, std::int64_t msgid) {
  std::vector<json::object> out;
  for (const auto& l : lines) {
    auto v = json::parse(l);
    if (v.is_object() && v.as_object().at("msgid").as_int64() == msgid) {
      out.push_back(v.as_object());
    }
  }
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A registration over plain TCP straight to the server: succeeds only if no client registered
// `name` before, so it proves that a failed TLS client never got a request through.
void expect_name_still_free(const std::string& name) {
  chat_test::client c(default_port(), "direct");
  const auto ack = c.request(chat_test::reg_req(name, "pw-direct"));
  EXPECT_EQ(ack.at("msgid").as_int64(), 4) << json::serialize(ack);
  EXPECT_EQ(ack.at("errno").as_int64(), 0) << "the server saw a request for " << name << ": " << json::serialize(ack);
}

TEST(Tls, TwoUsersChatThroughNginx) {
  const std::string pw = "pw-" + unique_name("tls");
  const std::string a = unique_name("ta");
  const std::string b = unique_name("tb");
  const std::map<std::string, std::optional<std::string>> env{{"CHAT_PASSWORD", pw}};
  const std::vector<std::string> tls{"--tls", "--ca", cert("ca.pem"), "--json", "--strict", "--no-time"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), tls.begin(), tls.end());
    args.insert(args.end(), {"127.0.0.1", tls_port()});
    return args;
  };

  // bob registers, then waits logged in for one message.
  auto reg = run_client(with({"-e", "register " + b}), env);
  ASSERT_EQ(reg.status, 0) << dump(reg.lines) << reg.err;
  const auto reg_acks = frames(reg.lines, 4);
  ASSERT_EQ(reg_acks.size(), 1u) << dump(reg.lines);
  ASSERT_EQ(reg_acks[0].at("errno").as_int64(), 0) << dump(reg.lines);
  const auto bid = reg_acks[0].at("id").as_int64();
  // The human-readable lines (stderr with --json) say it went over TLS.
  EXPECT_TRUE(contains(reg.err, "* connected to 127.0.0.1:" + tls_port() + " (TLSv1.3)")) << reg.err;

  client_process bob("bob", with({"-e", "login " + b + "; wait-message 1 20000"}), env);
  const auto login = json::parse(bob.next_line()).as_object();
  ASSERT_EQ(login.at("msgid").as_int64(), 2) << dump(bob.transcript());
  ASSERT_EQ(login.at("errno").as_int64(), 0) << dump(bob.transcript());

  // alice registers, logs in and writes to bob.
  const std::string text = "hello over TLS, " + b;
  auto alice =
      run_client(with({"-e", "register " + a + "; login " + a + "; chat " + std::to_string(bid) + " " + text}), env);
  ASSERT_EQ(alice.status, 0) << dump(alice.lines) << alice.err;
  const auto a_reg = frames(alice.lines, 4);
  ASSERT_EQ(a_reg.size(), 1u) << dump(alice.lines);
  const auto aid = a_reg[0].at("id").as_int64();
  ASSERT_EQ(frames(alice.lines, 2).size(), 1u) << dump(alice.lines);
  const auto acks = frames(alice.lines, 18);
  ASSERT_EQ(acks.size(), 1u) << dump(alice.lines);
  EXPECT_EQ(acks[0].at("errno").as_int64(), 0);

  // bob got it, with its text, from alice.
  EXPECT_EQ(bob.wait_exit(), 0) << dump(bob.transcript()) << bob.stderr_text();
  const auto got = frames(bob.transcript(), 5);
  ASSERT_EQ(got.size(), 1u) << dump(bob.transcript());
  EXPECT_EQ(got[0].at("msg").as_string(), text);
  EXPECT_EQ(got[0].at("id").as_int64(), aid);
  EXPECT_EQ(got[0].at("name").as_string(), a);
  EXPECT_TRUE(contains(bob.stderr_text(), "(TLSv1.3)")) << bob.stderr_text();
}

// Exit status 3 and one error line, as for any failed first connection; nothing reached the server.
void expect_verify_failure(const std::vector<std::string>& args, const std::string& why) {
  const std::string name = unique_name("tv");
  auto all = args;
  all.insert(all.begin(), {"--strict", "--connect-timeout", "5000", "-e", "register " + name + "; login " + name});
  const auto r = run_client(all, {{"CHAT_PASSWORD", "pw"}}, 20s);
  EXPECT_EQ(r.status, 3) << dump(r.lines) << r.err;
  ASSERT_EQ(r.lines.size(), 1u) << dump(r.lines) << r.err;
  EXPECT_EQ(r.lines[0], "error: cannot connect to " + all[all.size() - 2] + ":" + tls_port() +
                            ": TLS handshake failed: certificate verify failed: " + why)
      << r.err;
  expect_name_still_free(name);
}

TEST(Tls, AnotherCaIsRefused) {
  expect_verify_failure({"--tls", "--ca", cert("other-ca.pem"), "127.0.0.1", tls_port()},
                        "unable to get local issuer certificate");
}

TEST(Tls, VerificationIsOnWithoutCa) {
  // The system's CAs do not include the throw-away one.
  expect_verify_failure({"--tls", "127.0.0.1", tls_port()}, "unable to get local issuer certificate");
}

TEST(Tls, TheCertificateMustNameTheHost) {
  // Signed by the trusted CA, but for the IP address 127.0.0.1 only.
  expect_verify_failure({"--tls", "--ca", cert("ca.pem"), "localhost", tls_port()}, "hostname mismatch");
}

TEST(Tls, PlainClientOnTheTlsPortFailsQuickly) {
  const std::string name = unique_name("tp");
  const auto start = steady::now();
  const auto r = run_client(
      {"--strict", "--connect-timeout", "3000", "--timeout", "5000", "-e", "register " + name, "127.0.0.1", tls_port()},
      {{"CHAT_PASSWORD", "pw"}}, 20s);
  const auto took = std::chrono::duration_cast<millis>(steady::now() - start);
  EXPECT_LT(took, 8s);
  // nginx closes the connection when the handshake fails (no alert): the request is lost, and
  // --strict ends the client at that first failed command.
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(r.lines.size(), 2u) << dump(r.lines) << r.err;
  EXPECT_EQ(r.lines[0], "* connected to 127.0.0.1:" + tls_port());
  EXPECT_EQ(r.lines[1],
            "error: the connection was lost before the server answered (the request may have been "
            "carried out)");
  expect_name_still_free(name);
}

TEST(Tls, TlsClientOnAPlainPortFailsQuickly) {
  const std::string name = unique_name("tq");
  const auto start = steady::now();
  const auto r = run_client({"--tls", "--ca", cert("ca.pem"), "--strict", "--connect-timeout", "3000", "-e",
                             "register " + name, "127.0.0.1", std::to_string(default_port())},
                            {{"CHAT_PASSWORD", "pw"}}, 20s);
  const auto took = std::chrono::duration_cast<millis>(steady::now() - start);
  EXPECT_EQ(r.status, 3) << dump(r.lines) << r.err;
  EXPECT_LT(took, 8s);
  ASSERT_EQ(r.lines.size(), 1u) << dump(r.lines) << r.err;
  // chat_server answers the ClientHello with an ERROR_MSG frame, which is no TLS record.
  EXPECT_EQ(r.lines[0], "error: cannot connect to 127.0.0.1:" + std::to_string(default_port()) +
                            ": TLS handshake failed: wrong version number (is it a TLS port? chat_server itself "
                            "speaks plain TCP)");
  expect_name_still_free(name);
}

TEST(Tls, ReconnectsWithAFreshTlsSessionAndPingsKeepItAlive) {
  const int tight = chat_test::tight_port();
  const auto a = chat_test::register_account(tight, "tr");
  const std::string A = a.name + " (#" + std::to_string(a.id) + ")";
  const std::string connected = "* connected to 127.0.0.1:" + tls_tight_port() + " (TLSv1.3)";
  auto args = [&](const std::string& ping_ms) {
    return std::vector<std::string>{"--tls",           "--ca",  cert("ca.pem"),      "--no-time",
                                    "--ping-interval", ping_ms, "--reconnect-delay", "200",
                                    "--reconnect-max", "400",   "127.0.0.1",         tls_tight_port()};
  };

  // No PINGs: the server drops the idle connection after 1.5 s; each time the client makes a
  // new TLS connection through nginx and logs in again over it.
  {
    client_process alice("alice", args("0"), {{"CHAT_PASSWORD", a.pwd}});
    EXPECT_EQ(alice.next_line(), connected);
    alice.send("login " + a.name);
    EXPECT_EQ(alice.next_line(), "logged in as " + A + ": 0 friends, 0 groups");
    for (int round = 0; round < 2; ++round) {
      alice.read_until("* connection lost: ", 10s);
      alice.read_until(connected, 10s);
      EXPECT_EQ(alice.next_line(10s), "* logged in again as " + A + ": 0 friends, 0 groups") << round;
    }
    alice.close_stdin();
    EXPECT_EQ(alice.wait_exit(), 0) << alice.stderr_text();
  }

  // PINGs every 0.4 s keep the same TLS connection alive across three idle timeouts.
  {
    client_process alice("alice", args("400"), {{"CHAT_PASSWORD", a.pwd}});
    EXPECT_EQ(alice.next_line(), connected);
    alice.send("login " + a.name);
    EXPECT_EQ(alice.next_line(), "logged in as " + A + ": 0 friends, 0 groups");
    alice.send("sleep 4500");
    alice.send("friends");
    EXPECT_EQ(alice.next_line(10s), "no friends yet (add one with 'addfriend ID')") << dump(alice.transcript());
    alice.close_stdin();
    EXPECT_EQ(alice.wait_exit(), 0) << alice.stderr_text();
  }
}

}  // namespace
