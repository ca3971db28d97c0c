// chat_client in scripted mode against the default test server: two clients chat one-to-one
// and in a group, their transcripts asserted line by line; --json, --strict, exit codes, PINGs.
#include "client_process.hpp"

#include <chat_test/env.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <algorithm>

namespace {

using namespace chat_client_test;
using chat_test::default_port;
using chat_test::unique_name;
namespace json = boost::json;

std::string id_text(std::int64_t id) {
  return std::to_string(id);
}

// Reads the next lines of `p` and checks them one by one against `expected`.
void expect_lines(client_process& p, const std::vector<std::string>& expected) {
  for (const auto& want : expected) {
    const auto got = p.next_line();
    ASSERT_EQ(got, want) << p.label() << " transcript so far:\n" << dump(p.transcript());
  }
}

// "registered NAME with id N" -> N
std::int64_t registered_id(const std::string& line, const std::string& name) {
  const std::string prefix = "registered " + name + " with id ";
  if (line.compare(0, prefix.size(), prefix) != 0) {
    throw test_error("not a registration line: " + line);
  }
  return std::stoll(line.substr(prefix.size()));
}

std::vector<std::string> client_args(int port, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--no-time", "--echo", "127.0.0.1", std::to_string(port)};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(ClientScripted, TwoClientsChatOneToOneAndInAGroup) {
  const int port = default_port();
  const std::string pw = "pw-" + unique_name("p");
  const std::string a = unique_name("ca");
  const std::string b = unique_name("cb");
  const std::string g = unique_name("cg");
  const std::map<std::string, std::optional<std::string>> env{{"CHAT_PASSWORD", pw}};
  const std::string connected = "* connected to 127.0.0.1:" + std::to_string(port);

  client_process alice("alice", client_args(port), env);
  client_process bob("bob", client_args(port), env);
  // The connection line comes first, then every command is echoed before its output.
  expect_lines(alice, {connected});
  expect_lines(bob, {connected});

  alice.send("register " + a);
  expect_lines(alice, {"> register " + a});
  const auto aid = registered_id(alice.next_line(), a);
  bob.send("register " + b);
  expect_lines(bob, {"> register " + b});
  const auto bid = registered_id(bob.next_line(), b);
  const std::string A = a + " (#" + id_text(aid) + ")";
  const std::string B = b + " (#" + id_text(bid) + ")";

  alice.send("login " + a);
  expect_lines(alice, {"> login " + a, "logged in as " + A + ": 0 friends, 0 groups"});
  bob.send("login " + b);
  expect_lines(bob, {"> login " + b, "logged in as " + B + ": 0 friends, 0 groups"});

  // One-to-one: by id first (alice does not know bob's name yet), then by a learned name.
  alice.send("addfriend " + id_text(bid));
  expect_lines(alice, {"> addfriend " + id_text(bid), "added friend #" + id_text(bid)});
  alice.send("friends");
  expect_lines(alice, {"> friends", "friends (1):", "  #" + id_text(bid) + " state unknown"});
  alice.send("chat " + id_text(bid) + " hello bob");
  expect_lines(alice, {"> chat " + id_text(bid) + " hello bob", "you -> #" + id_text(bid) + ": hello bob"});
  expect_lines(bob, {A + ": hello bob"});
  bob.send("chat " + a + " hi alice, nice to meet you");
  expect_lines(bob, {"> chat " + a + " hi alice, nice to meet you", "you -> " + A + ": hi alice, nice to meet you"});
  expect_lines(alice, {B + ": hi alice, nice to meet you"});
  alice.send("friends");
  expect_lines(alice, {"> friends", "friends (1):", "  " + B + " online"});

  // A group: alice creates it, bob joins, both talk.
  alice.send("creategroup " + g + " the test team");
  expect_lines(alice, {"> creategroup " + g + " the test team"});
  const auto created = alice.next_line();
  const std::string created_prefix = "created group " + g + " (#";
  ASSERT_EQ(created.compare(0, created_prefix.size(), created_prefix), 0) << created;
  const auto gid = std::stoll(created.substr(created_prefix.size()));
  const std::string G = id_text(gid);
  bob.send("addgroup " + G);
  expect_lines(bob, {"> addgroup " + G, "joined group #" + G});
  bob.send("groupchat " + G + " hello group");
  expect_lines(bob, {"> groupchat " + G + " hello group", "[group #" + G + "] you: hello group"});
  expect_lines(alice, {"[" + g + " #" + G + "] " + B + ": hello group"});
  alice.send("groupchat " + G + " welcome");
  expect_lines(alice, {"> groupchat " + G + " welcome", "[" + g + " #" + G + "] you: welcome"});
  expect_lines(bob, {"[group #" + G + "] " + A + ": welcome"});
  alice.send("groups");
  expect_lines(alice, {"> groups", "groups (1):", "  " + g + " (#" + G + ") - the test team",
                       "    " + A + " creator online", "    " + B + " role unknown online"});

  // wait-message counts what arrived: bob got two messages.
  bob.send("wait-message 2 5000");
  // Errors are sentences.
  bob.send("chat 999999999 anyone there?");
  expect_lines(
      bob, {"> wait-message 2 5000", "> chat 999999999 anyone there?", "error: there is no user with id 999999999"});
  bob.send("groupchat 999999999 hello?");
  expect_lines(bob, {"> groupchat 999999999 hello?", "error: there is no group with id 999999999"});
  bob.send("chat nobody-by-this-name hi");
  expect_lines(bob, {"> chat nobody-by-this-name hi",
                     "error: no known user is named \"nobody-by-this-name\" (names come from your friends, your "
                     "groups' members and messages received; use the id)"});
  bob.send("addfriend " + id_text(bid));
  expect_lines(bob, {"> addfriend " + id_text(bid), "error: you cannot add yourself as a friend"});

  // Logged out, messages to bob are stored and come back under a heading at his next login.
  bob.send("logout");
  expect_lines(bob, {"> logout", "logged out"});
  bob.send("friends");
  expect_lines(bob, {"> friends", "error: you are not logged in (use 'login' first)"});
  alice.send("chat " + b + " are you there?");
  expect_lines(alice, {"> chat " + b + " are you there?", "you -> " + B + ": are you there?"});
  alice.send("groupchat " + G + " meeting at noon");
  expect_lines(alice, {"> groupchat " + G + " meeting at noon", "[" + g + " #" + G + "] you: meeting at noon"});
  bob.send("login " + b);
  expect_lines(bob, {"> login " + b, "logged in as " + B + ": 1 friend (1 online), 1 group",
                     "--- while you were away: 2 messages ---", A + ": are you there?",
                     "[" + g + " #" + G + "] " + A + ": meeting at noon", "--- end of stored messages ---"});
  bob.send("groups");
  expect_lines(bob, {"> groups", "groups (1):", "  " + g + " (#" + G + ") - the test team",
                     "    " + A + " creator online", "    " + B + " normal online"});
  bob.send("friends");
  expect_lines(bob, {"> friends", "friends (1):", "  " + A + " online"});

  alice.close_stdin();
  bob.close_stdin();
  EXPECT_EQ(alice.wait_exit(), 0) << alice.stderr_text();
  EXPECT_EQ(bob.wait_exit(), 0) << bob.stderr_text();
  // Nothing else was printed: the whole transcripts are the lines checked above.
  EXPECT_EQ(alice.transcript().size(), 30u) << dump(alice.transcript());
  EXPECT_EQ(bob.transcript().size(), 40u) << dump(bob.transcript());
  EXPECT_EQ(alice.stderr_text(), "");
  EXPECT_EQ(bob.stderr_text(), "");
}

TEST(ClientScripted, JsonModePrintsEveryReceivedFrame) {
  const int port = default_port();
  const auto a = chat_test::register_account(port, "cj");
  const auto b = chat_test::register_account(port, "cj");
  const std::string to_b = "chat " + id_text(b.id) + " stored for later";
  auto r = run_client({"--exec", "login " + a.name + "; " + to_b, "127.0.0.1", std::to_string(port)},
                      {{"CHAT_PASSWORD", a.pwd}});
  ASSERT_EQ(r.status, 0) << dump(r.lines) << r.err;

  r = run_client({"--json", "--exec", "login " + id_text(b.id), "127.0.0.1", std::to_string(port)},
                 {{"CHAT_PASSWORD", b.pwd}});
  ASSERT_EQ(r.status, 0) << dump(r.lines) << r.err;
  // stdout: the LOGIN_MSG_ACK and the stored message, one JSON object per line.
  ASSERT_EQ(r.lines.size(), 2u) << dump(r.lines);
  const auto ack = json::parse(r.lines[0]).as_object();
  EXPECT_EQ(ack.at("msgid").as_int64(), 2);
  EXPECT_EQ(ack.at("errno").as_int64(), 0);
  EXPECT_EQ(ack.at("offline").as_int64(), 1);
  EXPECT_EQ(ack.at("name").as_string(), b.name);
  const auto msg = json::parse(r.lines[1]).as_object();
  EXPECT_EQ(msg.at("msgid").as_int64(), 5);
  EXPECT_EQ(msg.at("id").as_int64(), a.id);
  EXPECT_EQ(msg.at("msg").as_string(), "stored for later");
  EXPECT_EQ(msg.at("offline").as_bool(), true);
  // The human-readable lines went to stderr.
  EXPECT_NE(r.err.find("--- while you were away: 1 message ---"), std::string::npos) << r.err;
}

TEST(ClientScripted, StrictStopsAtTheFirstFailureAndExits1) {
  const int port = default_port();
  const std::vector<std::string> base{"--no-time", "127.0.0.1", std::to_string(port)};
  const std::map<std::string, std::optional<std::string>> env{{"CHAT_PASSWORD", "not-the-password"}};
  const std::string script = "login " + unique_name("nobody") + "; help quit";

  auto args = base;
  args.insert(args.begin(), {"--strict", "--exec", script});
  auto r = run_client(args, env);
  EXPECT_EQ(r.status, 1) << dump(r.lines);
  ASSERT_EQ(r.lines.size(), 2u) << dump(r.lines);
  EXPECT_EQ(r.lines[1],
            "error: login failed: unknown account or wrong password (after 10 failures in a row the account is "
            "refused for a minute)");

  // Without --strict the script goes on and the exit status is 0.
  args = base;
  args.insert(args.begin(), {"--exec", script});
  r = run_client(args, env);
  EXPECT_EQ(r.status, 0) << dump(r.lines);
  ASSERT_EQ(r.lines.size(), 4u) << dump(r.lines);
  EXPECT_EQ(r.lines[2], "usage: quit");
}

TEST(ClientScripted, ExitCodesAndLocalErrors) {
  const int port = default_port();
  // No password source: the command fails before anything is sent.
  auto r = run_client({"--strict", "--exec", "login someone", "127.0.0.1", std::to_string(port)},
                      {{"CHAT_PASSWORD", std::nullopt}});
  EXPECT_EQ(r.status, 1);
  ASSERT_FALSE(r.lines.empty());
  EXPECT_EQ(r.lines.back().rfind("error: no password for 'login'", 0), 0u) << dump(r.lines);

  // Nothing listens: scripted mode gives up at once with status 3.
  const int closed_port = chat_test::port_base() + 69;
  r = run_client({"--exec", "logout", "127.0.0.1", std::to_string(closed_port)});
  EXPECT_EQ(r.status, 3);
  ASSERT_EQ(r.lines.size(), 1u) << dump(r.lines);
  EXPECT_EQ(r.lines[0], "error: cannot connect to 127.0.0.1:" + std::to_string(closed_port) + ": Connection refused");

  // A message too large for one frame is refused locally (the server would drop the connection).
  r = run_client({"--strict", "--exec", "chat 1 " + std::string(70000, 'x'), "127.0.0.1", std::to_string(port)});
  EXPECT_EQ(r.status, 1);
  ASSERT_FALSE(r.lines.empty());
  EXPECT_EQ(r.lines.back(), "error: the request is too large to send (a frame may hold at most 64 KiB)");

  // Bad arguments: status 2.
  r = run_client({"--no-such-option"});
  EXPECT_EQ(r.status, 2);
  r = run_client({"--version"});
  EXPECT_EQ(r.status, 0);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].rfind("chat_client ", 0), 0u);
}

// The tight server closes a connection that sends nothing for 1.5 s (errno 14). With PINGs
// every 0.5 s the client stays connected through a 4 s pause; without them it is sent away
// and logs in again by itself.
TEST(ClientScripted, PingsKeepAnIdleConnectionOpen) {
  const int port = chat_test::tight_port();
  const auto a = chat_test::register_account(port, "cp");
  const std::string script = "login " + a.name + "; sleep 4000; chat " + id_text(a.id) + " still here";
  auto r = run_client({"--no-time", "--ping-interval", "500", "--exec", script, "127.0.0.1", std::to_string(port)},
                      {{"CHAT_PASSWORD", a.pwd}});
  EXPECT_EQ(r.status, 0);
  const std::string self = a.name + " (#" + id_text(a.id) + ")";
  EXPECT_EQ(r.lines, (std::vector<std::string>{"* connected to 127.0.0.1:" + std::to_string(port),
                                               "logged in as " + self + ": 0 friends, 0 groups", self + ": still here",
                                               "you -> " + self + ": still here"}))
      << dump(r.lines);

  r = run_client({"--no-time", "--ping-interval", "0", "--reconnect-delay", "100", "--exec", script, "127.0.0.1",
                  std::to_string(port)},
                 {{"CHAT_PASSWORD", a.pwd}});
  EXPECT_EQ(r.status, 0);
  bool going_away = false;
  bool again = false;
  for (const auto& l : r.lines) {
    going_away =
        going_away ||
        l.rfind("* connection lost: the server is closing the connection: no frame within the heartbeat", 0) == 0;
    again = again || l == "* logged in again as " + self + ": 0 friends, 0 groups";
  }
  EXPECT_TRUE(going_away) << dump(r.lines);
  EXPECT_TRUE(again) << dump(r.lines);
  EXPECT_NE(std::find(r.lines.begin(), r.lines.end(), "you -> " + self + ": still here"), r.lines.end())
      << dump(r.lines);
}

}  // namespace
