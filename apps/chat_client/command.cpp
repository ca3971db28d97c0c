// The command table and the line parser.
#include "command.hpp"

#include <chat/protocol/fields.hpp>

#include <array>
#include <charconv>
#include <limits>

namespace chat::client {

namespace {

constexpr std::array<command_info, 14> table{{
    {command_kind::reg, "register", "register NAME", "create an account (asks for a password)"},
    {command_kind::login, "login", "login ID|NAME", "log in (asks for the password)"},
    {command_kind::friends, "friends", "friends", "your friends and whether they are online"},
    {command_kind::groups, "groups", "groups", "your groups with their members, roles and states"},
    {command_kind::chat, "chat", "chat ID|NAME TEXT",
     "send TEXT to a user (a name must be known: a friend, a group member)"},
    {command_kind::add_friend, "addfriend", "addfriend ID", "make user ID your friend (mutual)"},
    {command_kind::create_group, "creategroup", "creategroup NAME [DESC]", "create a group and join it as its creator"},
    {command_kind::add_group, "addgroup", "addgroup ID", "join group ID"},
    {command_kind::group_chat, "groupchat", "groupchat ID TEXT", "send TEXT to every other member of group ID"},
    {command_kind::logout, "logout", "logout", "log out (the connection stays open)"},
    {command_kind::quit, "quit", "quit", "leave the client (also: exit, Ctrl-D)"},
    {command_kind::help, "help", "help [COMMAND]", "this list, or the usage of one command"},
    {command_kind::wait_message, "wait-message", "wait-message [COUNT] [TIMEOUT_MS]",
     "wait until COUNT (default 1) more chat messages have arrived (default timeout 10000 ms)"},
    {command_kind::sleep, "sleep", "sleep MS", "wait MS milliseconds, printing what arrives"},
}};

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_blank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

struct word {
  std::string text;
  bool quoted = false;
};

// Reads words and the verbatim rest of a line.
class cursor {
 public:
  explicit cursor(std::string_view s) noexcept : s_(s) {}

  bool at_end() {
    skip_blanks();
    return s_.empty();
  }

  // The next word, or nullopt at the end; `error` is set for an unterminated quote.
  std::optional<word> next(std::string& error) {
    skip_blanks();
    if (s_.empty()) {
      return std::nullopt;
    }
    word w;
    if (s_.front() != '"') {
      std::size_t n = 0;
      while (n < s_.size() && !is_blank(s_[n])) {
        ++n;
      }
      w.text = s_.substr(0, n);
      s_.remove_prefix(n);
      return w;
    }
    w.quoted = true;
    s_.remove_prefix(1);
    while (!s_.empty()) {
      const char c = s_.front();
      s_.remove_prefix(1);
      if (c == '"') {
        if (!s_.empty() && !is_blank(s_.front())) {
          error = "a closing quote must be followed by a blank";
          return std::nullopt;
        }
        return w;
      }
      if (c == '\\' && !s_.empty() && (s_.front() == '"' || s_.front() == '\\')) {
        w.text += s_.front();
        s_.remove_prefix(1);
        continue;
      }
      w.text += c;
    }
    error = "missing closing quote";
    return std::nullopt;
  }

  // Everything after the blanks that follow the last word, trailing blanks removed.
  std::string_view rest() {
    skip_blanks();
    return trim(s_);
  }

 private:
  void skip_blanks() noexcept {
    while (!s_.empty() && is_blank(s_.front())) {
      s_.remove_prefix(1);
    }
  }

  std::string_view s_;
};

std::optional<std::int64_t> parse_positive(std::string_view s) noexcept {
  if (s.empty() || s.front() < '0' || s.front() > '9') {
    return std::nullopt;
  }
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v <= 0) {
    return std::nullopt;
  }
  return v;
}

bool all_digits(std::string_view s) noexcept {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

parse_result fail(std::string message) {
  parse_result r;
  r.error = std::move(message);
  return r;
}

parse_result usage(command_kind kind) {
  return fail("usage: " + std::string(info(kind).usage));
}

// A name as the protocol allows it: non-empty UTF-8 without control characters.
std::string check_name(std::string_view what, std::string_view name) {
  if (name.empty()) {
    return std::string(what) + " must not be empty";
  }
  if (!is_valid_utf8(name)) {
    return std::string(what) + " is not valid UTF-8";
  }
  if (protocol::has_control_character(name)) {
    return std::string(what) + " must not contain control characters";
  }
  return {};
}

std::string check_text(std::string_view what, std::string_view text) {
  if (!is_valid_utf8(text)) {
    return std::string(what) + " is not valid UTF-8";
  }
  return {};
}

}  // namespace

std::span<const command_info> command_table() noexcept {
  return table;
}

const command_info* find_command(std::string_view name) noexcept {
  if (name == "exit") {
    name = "quit";
  }
  for (const auto& c : table) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

const command_info& info(command_kind kind) noexcept {
  for (const auto& c : table) {
    if (c.kind == kind) {
      return c;
    }
  }
  return table.back();  // unreachable: every kind has an entry
}

bool needs_password(command_kind kind) noexcept {
  return kind == command_kind::reg || kind == command_kind::login;
}

bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) {
      return false;  // truncated sequence
    }
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::vector<std::string> split_exec(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == ';') {
      current += ';';
      ++i;
    } else if (text[i] == ';') {
      out.emplace_back(trim(current));
      current.clear();
    } else {
      current += text[i];
    }
  }
  out.emplace_back(trim(current));
  std::erase_if(out, [](const std::string& s) { return s.empty(); });
  return out;
}

parse_result parse_command(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() == '#') {
    parse_result r;
    r.blank = true;
    return r;
  }
  cursor in(line);
  std::string error;
  const auto first = in.next(error);
  if (!first) {
    return fail(error);
  }
  const command_info* ci = first->quoted ? nullptr : find_command(first->text);
  if (ci == nullptr) {
    return fail("unknown command '" + first->text + "' (type 'help' for the list)");
  }
  command cmd;
  cmd.kind = ci->kind;

  // Reads exactly one word (the last argument) and checks that nothing follows it.
  auto one_word = [&]() -> std::optional<word> {
    auto w = in.next(error);
    if (!w || !in.at_end()) {
      return std::nullopt;
    }
    return w;
  };
  auto no_args = [&] { return in.at_end(); };

  // An unquoted number is an id, anything else a name (ID|NAME arguments).
  auto set_user = [&](auto& w) -> std::string {
    if (!w.quoted && all_digits(w.text)) {
      auto id = parse_positive(w.text);
      if (!id) {
        return "ids are positive integers";
      }
      cmd.user.id = *id;
      return {};
    }
    if (auto e = check_name("the name", w.text); !e.empty()) {
      return e;
    }
    cmd.user.name = std::move(w.text);
    return {};
  };
  switch (ci->kind) {
    case command_kind::reg: {
      auto w = one_word();
      if (!w) {
        return error.empty() ? usage(ci->kind) : fail(error);
      }
      if (auto e = check_name("the name", w->text); !e.empty()) {
        return fail(e);
      }
      cmd.name = std::move(w->text);
      break;
    }
    case command_kind::login: {
      auto w = one_word();
      if (!w) {
        return error.empty() ? usage(ci->kind) : fail(error);
      }
      if (auto e = set_user(*w); !e.empty()) {
        return fail(e);
      }
      break;
    }
    case command_kind::chat: {
      auto w = in.next(error);
      if (!w) {
        return error.empty() ? usage(ci->kind) : fail(error);
      }
      if (auto e = set_user(*w); !e.empty()) {
        return fail(e);
      }
      cmd.text = in.rest();
      if (cmd.text.empty()) {
        return usage(ci->kind);
      }
      if (auto e = check_text("the message", cmd.text); !e.empty()) {
        return fail(e);
      }
      break;
    }
    case command_kind::add_friend:
    case command_kind::add_group: {
      auto w = one_word();
      if (!w) {
        return error.empty() ? usage(ci->kind) : fail(error);
      }
      auto id = w->quoted ? std::nullopt : parse_positive(w->text);
      if (!id) {
        return fail("ids are positive integers; " + std::string("usage: ") + std::string(ci->usage));
      }
      cmd.id = *id;
      break;
    }
    case command_kind::group_chat: {
      auto w = in.next(error);
      if (!w) {
        return error.empty() ? usage(ci->kind) : fail(error);
      }
      auto id = w->quoted ? std::nullopt : parse_positive(w->text);
      if (!id) {
        return fail("group ids are positive integers; usage: " + std::string(ci->usage));
      }
      cmd.id = *id;
      cmd.text = in.rest();
      if (cmd.text.empty()) {
        return usage(ci->kind);
      }
      if (auto e = check_text("the message", cmd.text); !e.empty()) {
        return fail(e);
      }
      break;
    }
    case command_kind::create_group: {
      auto w = in.next(error);
      if (!w) {
        return error.empty() ? usage(ci->kind) : fail(error);
      }
      if (auto e = check_name("the group name", w->text); !e.empty()) {
        return fail(e);
      }
      cmd.name = std::move(w->text);
      cmd.text = in.rest();
      if (auto e = check_text("the description", cmd.text); !e.empty()) {
        return fail(e);
      }
      break;
    }
    case command_kind::help: {
      if (!in.at_end()) {
        auto w = one_word();
        if (!w) {
          return error.empty() ? usage(ci->kind) : fail(error);
        }
        cmd.name = std::move(w->text);
      }
      break;
    }
    case command_kind::wait_message: {
      cmd.count = 1;
      cmd.duration = default_wait_timeout;
      if (auto w = in.next(error)) {
        auto n = w->quoted ? std::nullopt : parse_positive(w->text);
        if (!n) {
          return usage(ci->kind);
        }
        cmd.count = *n;
        if (auto t = in.next(error)) {
          auto ms = t->quoted ? std::nullopt : parse_positive(t->text);
          if (!ms || !in.at_end()) {
            return usage(ci->kind);
          }
          cmd.duration = std::chrono::milliseconds(*ms);
        }
      }
      if (!error.empty()) {
        return fail(error);
      }
      break;
    }
    case command_kind::sleep: {
      auto w = one_word();
      if (!w) {
        return error.empty() ? usage(ci->kind) : fail(error);
      }
      std::int64_t ms = 0;
      if (w->quoted) {
        return usage(ci->kind);
      }
      if (w->text != "0") {
        auto v = parse_positive(w->text);
        if (!v) {
          return usage(ci->kind);
        }
        ms = *v;
      }
      cmd.duration = std::chrono::milliseconds(ms);
      break;
    }
    case command_kind::friends:
    case command_kind::groups:
    case command_kind::logout:
    case command_kind::quit:
      if (!no_args()) {
        return usage(ci->kind);
      }
      break;
  }
  parse_result r;
  r.cmd = std::move(cmd);
  return r;
}

}  // namespace chat::client
