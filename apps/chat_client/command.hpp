// Client commands: the command table (names, usage, help) and the parser that turns one typed
// or scripted line into a command. Sans-I/O, so it is unit-tested without a server.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chat::client {

enum class command_kind {
  reg,
  login,
  friends,
  groups,
  chat,
  add_friend,
  create_group,
  add_group,
  group_chat,
  logout,
  quit,
  help,
  wait_message,
  sleep,
};

struct command_info {
  command_kind kind;
  std::string_view name;
  std::string_view usage;
  std::string_view summary;
};

// Every command, in the order `help` lists them.
std::span<const command_info> command_table() noexcept;
// The entry for a command name (aliases included: "exit" is quit), or nullptr.
const command_info* find_command(std::string_view name) noexcept;
const command_info& info(command_kind kind) noexcept;

// A user named on the command line: an id (an unquoted run of digits) or a name.
struct user_ref {
  std::int64_t id = 0;  // > 0 when given as an id
  std::string name;     // otherwise
};

inline constexpr std::chrono::milliseconds default_wait_timeout{10000};

struct command {
  command_kind kind = command_kind::help;
  user_ref user;                          // login, chat
  std::int64_t id = 0;                    // addfriend, addgroup, groupchat
  std::string name;                       // register, creategroup; help: the topic
  std::string text;                       // chat, groupchat: the message; creategroup: the description
  std::int64_t count = 1;                 // wait-message
  std::chrono::milliseconds duration{0};  // wait-message: timeout; sleep: how long
  std::string password;                   // register, login: filled in by the UI, never parsed from the line
};

struct parse_result {
  std::optional<command> cmd;  // set on success
  std::string error;           // set on failure: a sentence, usually "usage: ..."
  bool blank = false;          // an empty line or a comment (# ...): nothing to do
};

// Parses one line. Words are separated by blanks; NAME arguments may be "double quoted" (with
// \" and \\ inside) to hold blanks or to force a run of digits to be read as a name. TEXT
// arguments are the rest of the line, verbatim. Checks only what the protocol fixes (ids are
// positive integers, names are non-empty UTF-8 without control characters, messages are
// non-empty UTF-8); size limits are the server's to enforce (they are configurable).
parse_result parse_command(std::string_view line);

// True for register and login (the UI must supply command::password).
bool needs_password(command_kind kind) noexcept;

// True when `s` is valid UTF-8.
bool is_valid_utf8(std::string_view s) noexcept;

// Splits --exec text into commands at ';' (written "\;" inside a command), trimming blanks.
std::vector<std::string> split_exec(std::string_view text);

}  // namespace chat::client
