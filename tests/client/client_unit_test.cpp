// chat_client's sans-I/O parts: the command parser, the client state, the formatter and the
// command line (with the TLS context it asks for).
#include "command.hpp"
#include "connection.hpp"
#include "format.hpp"
#include "options.hpp"
#include "state.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace chat::client;
namespace json = boost::json;

command parse_ok(std::string_view line) {
  auto r = parse_command(line);
  EXPECT_TRUE(r.cmd.has_value()) << line << ": " << r.error;
  return r.cmd.value_or(command{});
}

std::string parse_error(std::string_view line) {
  auto r = parse_command(line);
  EXPECT_FALSE(r.cmd.has_value()) << line;
  return r.error;
}

TEST(ClientParser, BlankLinesAndComments) {
  EXPECT_TRUE(parse_command("").blank);
  EXPECT_TRUE(parse_command("   \t ").blank);
  EXPECT_TRUE(parse_command("# a comment").blank);
  EXPECT_FALSE(parse_command("help").blank);
}

TEST(ClientParser, ChatTakesAnIdOrANameAndTheRestVerbatim) {
  auto c = parse_ok("chat 17   hello,   world  ");
  EXPECT_EQ(c.kind, command_kind::chat);
  EXPECT_EQ(c.user.id, 17);
  EXPECT_EQ(c.text, "hello,   world");

  c = parse_ok("chat bob \"quoted\" text");
  EXPECT_EQ(c.user.id, 0);
  EXPECT_EQ(c.user.name, "bob");
  EXPECT_EQ(c.text, "\"quoted\" text");

  c = parse_ok("chat \"John Smith\" hi");
  EXPECT_EQ(c.user.name, "John Smith");
  EXPECT_EQ(c.text, "hi");

  // A quoted run of digits is a name.
  c = parse_ok("chat \"42\" hi");
  EXPECT_EQ(c.user.id, 0);
  EXPECT_EQ(c.user.name, "42");

  EXPECT_EQ(parse_error("chat 17"), "usage: chat ID|NAME TEXT");
  EXPECT_EQ(parse_error("chat"), "usage: chat ID|NAME TEXT");
  EXPECT_EQ(parse_error("chat 0 hi"), "ids are positive integers");
  EXPECT_EQ(parse_error("chat 99999999999999999999 hi"), "ids are positive integers");
  EXPECT_EQ(parse_error("chat \"bob hi"), "missing closing quote");
}

TEST(ClientParser, Arguments) {
  auto c = parse_ok("register alice");
  EXPECT_EQ(c.kind, command_kind::reg);
  EXPECT_EQ(c.name, "alice");
  EXPECT_TRUE(needs_password(c.kind));
  EXPECT_EQ(parse_error("register alice bob"), "usage: register NAME");
  EXPECT_EQ(parse_ok("register \"a\\tb\"").name, "a\\tb");  // only \" and \\ are escapes
  EXPECT_EQ(parse_ok("register \"a\\\"b\"").name, "a\"b");

  c = parse_ok("login 17");
  EXPECT_EQ(c.user.id, 17);
  c = parse_ok("login alice");
  EXPECT_EQ(c.user.name, "alice");

  c = parse_ok("creategroup dev the dev team");
  EXPECT_EQ(c.name, "dev");
  EXPECT_EQ(c.text, "the dev team");
  c = parse_ok("creategroup \"my group\"");
  EXPECT_EQ(c.name, "my group");
  EXPECT_EQ(c.text, "");

  EXPECT_EQ(parse_ok("addfriend 3").id, 3);
  EXPECT_EQ(parse_ok("addgroup 4").id, 4);
  EXPECT_NE(parse_error("addfriend bob").find("usage: addfriend ID"), std::string::npos);
  c = parse_ok("groupchat 4 hello all");
  EXPECT_EQ(c.id, 4);
  EXPECT_EQ(c.text, "hello all");

  c = parse_ok("wait-message");
  EXPECT_EQ(c.count, 1);
  EXPECT_EQ(c.duration, default_wait_timeout);
  c = parse_ok("wait-message 3 250");
  EXPECT_EQ(c.count, 3);
  EXPECT_EQ(c.duration.count(), 250);
  EXPECT_EQ(parse_ok("sleep 0").duration.count(), 0);
  EXPECT_EQ(parse_error("sleep"), "usage: sleep MS");

  EXPECT_EQ(parse_ok("exit").kind, command_kind::quit);
  EXPECT_EQ(parse_error("friends now"), "usage: friends");
  EXPECT_EQ(parse_error("frobnicate"), "unknown command 'frobnicate' (type 'help' for the list)");
}

TEST(ClientParser, RejectsWhatTheProtocolForbids) {
  EXPECT_EQ(parse_error("register \"a\x01b\""), "the name must not contain control characters");
  EXPECT_EQ(parse_error("chat 3 \xff\xfe"), "the message is not valid UTF-8");
  EXPECT_EQ(parse_error("register \"\""), "the name must not be empty");
}

TEST(ClientParser, Utf8) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("gr\xC3\xBC\xC3\x9F"));
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC3"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // over U+10FFFF
}

TEST(ClientParser, SplitExec) {
  EXPECT_EQ(split_exec("login a; chat 1 hi\\; there ;; quit"),
            (std::vector<std::string>{"login a", "chat 1 hi; there", "quit"}));
}

const char* login_ack = R"({"msgid":2,"errno":0,"id":17,"name":"alice",
  "friends":[{"id":3,"name":"bob","state":"online"},{"id":4,"name":"carol","state":"offline"}],
  "groups":[{"id":1,"groupname":"dev","groupdesc":"the team",
             "users":[{"id":17,"name":"alice","state":"online","role":"creator"},
                      {"id":5,"name":"dave","state":"offline","role":"normal"}]}],
  "offline":2})";

client_state logged_in_state() {
  client_state s;
  s.apply_login(json::parse(login_ack).as_object());
  return s;
}

TEST(ClientState, LoginAckAndWhatIsLearnedSince) {
  auto s = logged_in_state();
  EXPECT_TRUE(s.logged_in());
  EXPECT_EQ(s.self_id(), 17);
  ASSERT_EQ(s.friends().size(), 2u);
  ASSERT_EQ(s.groups().size(), 1u);
  EXPECT_EQ(s.find_user("bob"), 3);
  EXPECT_EQ(s.find_user("dave"), 5);  // a group member
  EXPECT_EQ(s.find_user("alice"), 17);
  EXPECT_FALSE(s.find_user("mallory"));

  s.add_friend(9);
  EXPECT_EQ(s.friends().back().id, 9);
  EXPECT_EQ(s.friends().back().name, "");
  s.add_friend(9);  // idempotent
  EXPECT_EQ(s.friends().size(), 3u);

  // A live message names its sender and shows it online.
  s.learn_from_message(json::parse(R"({"msgid":5,"id":9,"name":"erin","to":17,"msg":"hi","time":1})").as_object());
  EXPECT_EQ(s.friends().back().name, "erin");
  EXPECT_EQ(s.friends().back().state, "online");
  EXPECT_EQ(s.find_user("erin"), 9);

  // A group message adds its sender to the members.
  s.learn_from_message(
      json::parse(R"({"msgid":12,"id":11,"name":"frank","groupid":1,"msg":"x","time":1,"offline":true})").as_object());
  const auto& members = s.find_group(1)->members;
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members.back().name, "frank");
  EXPECT_EQ(members.back().state, "");  // a stored message says nothing about presence

  s.add_created_group(2, "ops", "");
  s.add_joined_group(7);
  EXPECT_EQ(s.find_group(2)->members.front().role, "creator");
  EXPECT_EQ(s.find_group(7)->members.front().role, "normal");

  s.clear();
  EXPECT_FALSE(s.logged_in());
  EXPECT_TRUE(s.friends().empty());
}

TEST(ClientFormat, Listings) {
  auto s = logged_in_state();
  EXPECT_EQ(login_summary(s, false), "logged in as alice (#17): 2 friends (1 online), 1 group");
  EXPECT_EQ(login_summary(s, true), "* logged in again as alice (#17): 2 friends (1 online), 1 group");
  s.add_friend(9);
  EXPECT_EQ(friends_listing(s), "friends (3):\n  bob (#3) online\n  carol (#4) offline\n  #9 state unknown");
  EXPECT_EQ(groups_listing(s),
            "groups (1):\n  dev (#1) - the team\n    alice (#17) creator online\n    dave (#5) normal offline");
  client_state empty;
  EXPECT_EQ(friends_listing(empty), "no friends yet (add one with 'addfriend ID')");
  EXPECT_EQ(stored_heading(1), "--- while you were away: 1 message ---");
}

TEST(ClientFormat, MessageLines) {
  auto s = logged_in_state();
  format_options no_time;
  no_time.show_time = false;
  EXPECT_EQ(incoming_line(json::parse(R"({"msgid":5,"id":3,"name":"bob","to":17,"msg":"hi","time":1})").as_object(), s,
                          no_time),
            "bob (#3): hi");
  EXPECT_EQ(
      incoming_line(json::parse(R"({"msgid":12,"id":3,"name":"bob","groupid":1,"msg":"all","time":1})").as_object(), s,
                    no_time),
      "[dev #1] bob (#3): all");
  EXPECT_EQ(incoming_line(json::parse(R"({"msgid":12,"id":3,"name":"bob","groupid":8,"msg":"x","time":1})").as_object(),
                          s, no_time),
            "[group #8] bob (#3): x");

  command chat;
  chat.kind = command_kind::chat;
  chat.text = "yo";
  EXPECT_EQ(sent_line(chat, 3, 1, s, no_time), "you -> bob (#3): yo");
  EXPECT_EQ(sent_line(chat, 99, 1, s, no_time), "you -> #99: yo");
  command group;
  group.kind = command_kind::group_chat;
  group.id = 1;
  group.text = "all";
  EXPECT_EQ(sent_line(group, 0, 1, s, no_time), "[dev #1] you: all");

  format_options fixed;
  fixed.time_format = "[%Y]";
  fixed.custom_time_format = true;
  EXPECT_EQ(time_prefix(86400000LL * 366, fixed), "[1971] ");
}

TEST(ClientFormat, SanitizesServerText) {
  EXPECT_EQ(sanitize("a\x1b[2Jb"), "a^[[2Jb");
  EXPECT_EQ(sanitize("x\x7fy"), "x^?y");
  EXPECT_EQ(sanitize("one\ntwo"), "one\n    two");
  EXPECT_EQ(sanitize("c1\xC2\x9B"), "c1\\u009B");
  EXPECT_EQ(sanitize("gr\xC3\xBC\xC3\x9F"), "gr\xC3\xBC\xC3\x9F");
}

TEST(ClientFormat, EveryErrnoHasASentence) {
  error_context ctx;
  ctx.kind = command_kind::chat;
  ctx.id = 42;
  EXPECT_EQ(error_sentence(1, "no such user", ctx), "there is no user with id 42");
  ctx.kind = command_kind::group_chat;
  EXPECT_EQ(error_sentence(10, "", ctx), "you are not a member of group 42 (join it with 'addgroup 42')");
  EXPECT_EQ(error_sentence(8, "msg: too long", ctx), "the server rejected the request as malformed (msg: too long)");
  for (int e = 1; e <= 14; ++e) {
    const auto s = error_sentence(e, "x", ctx);
    EXPECT_FALSE(s.empty());
    EXPECT_EQ(s.find("error "), std::string::npos) << e << ": " << s;  // not the generic fallback
  }
  EXPECT_EQ(error_sentence(99, "odd", ctx), "the server answered with error 99: odd");
}

TEST(ClientFormat, Help) {
  const auto all = help_text("");
  for (const auto& c : command_table()) {
    EXPECT_NE(all.find(c.usage), std::string::npos) << c.name;
  }
  EXPECT_EQ(help_text("addgroup"), "usage: addgroup ID\n  join group ID");
}

// parse_options on `args` (after the program name): the exit code it asks for, if any.
std::optional<int> parse(std::vector<std::string> args, options& out) {
  args.insert(args.begin(), "chat_client");
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(args.size()), argv.data(), out);
}

// A file that exists for --ca (CLI11 checks that), removed at the end of the test.
struct temp_file {
  explicit temp_file(const std::string& content)
      : path(std::filesystem::temp_directory_path() / ("chat_client_unit_" + std::to_string(::getpid()) + ".pem")) {
    std::ofstream(path) << content;
  }
  ~temp_file() { std::filesystem::remove(path); }
  std::filesystem::path path;
};

TEST(ClientOptions, PlainByDefault) {
  options o;
  EXPECT_EQ(parse({"10.0.0.1", "6000"}, o), std::nullopt);
  EXPECT_FALSE(o.tls);
  EXPECT_EQ(o.ca_file, "");
  EXPECT_EQ(o.host, "10.0.0.1");
  EXPECT_EQ(o.port, 6000);
}

TEST(ClientOptions, TlsWithAndWithoutCa) {
  options o;
  EXPECT_EQ(parse({"--tls", "chat.example.org", "8443"}, o), std::nullopt);
  EXPECT_TRUE(o.tls);
  EXPECT_EQ(o.ca_file, "");
  EXPECT_EQ(o.host, "chat.example.org");

  const temp_file ca("not checked by the parser");
  options p;
  EXPECT_EQ(parse({"--ca", ca.path.string(), "--tls", "-e", "friends"}, p), std::nullopt);
  EXPECT_TRUE(p.tls);
  EXPECT_EQ(p.ca_file, ca.path.string());
  EXPECT_EQ(p.exec, "friends");
}

TEST(ClientOptions, CaNeedsTlsAnExistingFileAndThereIsNoInsecure) {
  const temp_file ca("x");
  options o;
  EXPECT_EQ(parse({"--ca", ca.path.string()}, o), exit_usage);
  options p;
  EXPECT_EQ(parse({"--tls", "--ca", "/nonexistent/ca.pem"}, p), exit_usage);
  options q;
  EXPECT_EQ(parse({"--tls", "--ca"}, q), exit_usage);
  // Verification cannot be turned off.
  for (const char* flag : {"--insecure", "--no-verify", "-k"}) {
    options r;
    EXPECT_EQ(parse({"--tls", flag}, r), exit_usage) << flag;
  }
}

TEST(ClientTlsContext, SystemCasOrOnlyTheGivenFile) {
  std::string error;
  EXPECT_NE(make_tls_context("", error), nullptr) << error;
  EXPECT_EQ(error, "");

  const temp_file junk("this is not a PEM certificate\n");
  auto ctx = make_tls_context(junk.path.string(), error);
  EXPECT_EQ(ctx, nullptr);
  EXPECT_EQ(error.rfind("cannot load CA certificates from " + junk.path.string() + ": ", 0), 0u) << error;

  error.clear();
  EXPECT_EQ(make_tls_context("/nonexistent/ca.pem", error), nullptr);
  EXPECT_NE(error, "");
}

}  // namespace
