// chat_client interactive, in a pseudo-terminal (tmux): the password is not echoed, and a
// message that arrives while a line is half typed is printed above the prompt; the typed line
// survives and is sent when finished.
#include "client_process.hpp"

#include <chat_test/env.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace {

using namespace chat_client_test;
using chat_test::default_port;

// The last row that is not blank, without trailing blanks (capture-pane drops them anyway).
std::string last_row(const std::vector<std::string>& rows) {
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    const auto end = it->find_last_not_of(' ');
    if (end != std::string::npos) {
      return it->substr(0, end + 1);
    }
  }
  return {};
}

// The index of the first row equal to `text`, or -1.
long row_of(const std::vector<std::string>& rows, const std::string& text) {
  auto it = std::find(rows.begin(), rows.end(), text);
  return it == rows.end() ? -1 : static_cast<long>(it - rows.begin());
}

bool contains(const std::vector<std::string>& rows, const std::string& text) {
  return std::any_of(rows.begin(), rows.end(), [&](const std::string& r) { return r.find(text) != std::string::npos; });
}

TEST(ClientTerminal, IncomingMessageDoesNotGarbleTheLineBeingTyped) {
  if (!tmux_session::available()) {
    GTEST_SKIP() << "tmux is not installed (deploy/local/install-deps.sh installs it)";
  }
  const int port = default_port();
  const auto a = chat_test::register_account(port, "ct");
  const auto b = chat_test::register_account(port, "ct");
  const std::string A = a.name + " (#" + std::to_string(a.id) + ")";
  const std::string B = b.name + " (#" + std::to_string(b.id) + ")";

  // bob: scripted, in a pipe.
  client_process bob("bob", {"--no-time", "127.0.0.1", std::to_string(port)}, {{"CHAT_PASSWORD", b.pwd}});
  bob.read_until("* connected to ");
  bob.send("login " + b.name);
  bob.read_until("logged in as " + B);

  // alice: interactive in a pseudo-terminal; no password source, so it prompts. Its stderr and
  // exit status go to files (a sanitizer report would land there).
  const auto dir = chat_test::test_data_dir() / ("client-pty-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto err_file = dir / "stderr";
  const auto status_file = dir / "status";
  std::filesystem::remove(status_file);
  tmux_session tty("env -u CHAT_PASSWORD " + client_bin() + " --no-time 127.0.0.1 " + std::to_string(port) + " 2>" +
                       err_file.string() + "; echo $? >" + status_file.string(),
                   160, 30);
  tty.wait_screen([](const auto& rows) { return contains(rows, "* connected to ") && last_row(rows) == ">"; });
  tty.type("login " + a.name);
  tty.send_keys({"Enter"});
  tty.wait_screen([](const auto& rows) { return last_row(rows) == "password:"; });
  tty.type(a.pwd);
  tty.send_keys({"Enter"});
  auto rows = tty.wait_screen([&](const auto& rows) { return contains(rows, "logged in as " + A); });
  EXPECT_FALSE(contains(rows, a.pwd)) << "the password was echoed:\n" << join_screen(rows);
  const std::string prompt = a.name + "> ";

  // Half a line, then a message arrives.
  const std::string to_bob = "chat " + std::to_string(b.id) + " ";
  tty.type(to_bob + "hel");
  tty.wait_screen([&](const auto& rows) { return last_row(rows) == prompt + to_bob + "hel"; });
  bob.send("chat " + std::to_string(a.id) + " a message while you type");
  bob.read_until("you -> #" + std::to_string(a.id) + ": a message while you type");
  rows = tty.wait_screen([&](const auto& rows) { return contains(rows, B + ": a message while you type"); });
  // The message sits above the prompt, and the prompt still holds the half-typed line.
  EXPECT_EQ(last_row(rows), prompt + to_bob + "hel") << join_screen(rows);
  const long msg_row = row_of(rows, B + ": a message while you type");
  EXPECT_GE(msg_row, 0) << join_screen(rows);
  EXPECT_EQ(msg_row + 1, row_of(rows, prompt + to_bob + "hel")) << join_screen(rows);

  // Finishing the line sends it.
  tty.type("lo");
  tty.send_keys({"Enter"});
  EXPECT_EQ(bob.read_until(A + ": "), A + ": hello");
  rows = tty.wait_screen([&](const auto& rows) { return contains(rows, "you -> " + B + ": hello"); });
  EXPECT_EQ(last_row(rows), a.name + ">") << join_screen(rows);

  // Tab completes commands; quit ends the client.
  tty.type("frie");
  tty.send_keys({"Tab"});
  tty.wait_screen([&](const auto& rows) { return last_row(rows) == prompt + "friends"; });
  tty.send_keys({"C-u"});
  tty.type("quit");
  tty.send_keys({"Enter"});
  const auto deadline = steady::now() + 10s;
  while (tty.alive() && steady::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(tty.alive()) << "chat_client did not exit after quit:\n" << join_screen(tty.screen());
  EXPECT_EQ(chat_test::read_number(status_file), 0);
  std::ifstream err(err_file);
  const std::string err_text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_EQ(err_text, "");
  std::filesystem::remove_all(dir);
}

}  // namespace
