// Text for everything the client prints.
#include "format.hpp"

#include "frame_fields.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace chat::client {

namespace json = boost::json;

namespace {

std::tm local_tm(std::time_t t) {
  std::tm tm{};
  ::localtime_r(&t, &tm);
  return tm;
}

std::string strftime_str(const char* fmt, const std::tm& tm) {
  char buf[128];
  const std::size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

std::string state_word(std::string_view s) {
  return s.empty() ? std::string("state unknown") : std::string(s);
}

}  // namespace

std::string count_of(std::size_t n, std::string_view singular, std::string_view plural) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : plural);
}

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\n    ";
    } else if (c == '\t') {
      out += ' ';
    } else if (c < 0x20) {
      out += '^';
      out += static_cast<char>(c + 0x40);
    } else if (c == 0x7F) {
      out += "^?";
    } else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      // C1 controls (U+0080-U+009F): some terminals act on them (0x9B is CSI).
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(static_cast<unsigned char>(text[i + 1])));
      out += buf;
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string time_prefix(std::int64_t time_ms, const format_options& opts) {
  if (!opts.show_time || time_ms <= 0) {
    return {};
  }
  const auto secs = static_cast<std::time_t>(time_ms / 1000);
  const std::tm tm = local_tm(secs);
  if (opts.custom_time_format) {
    return strftime_str(opts.time_format.c_str(), tm) + " ";
  }
  const std::tm today = local_tm(std::time(nullptr));
  const bool same_day = tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday;
  if (same_day) {
    return strftime_str(opts.time_format.c_str(), tm) + " ";
  }
  return strftime_str("%Y-%m-%d ", tm) + strftime_str(opts.time_format.c_str(), tm) + " ";
}

std::string user_label(const client_state& state, std::int64_t id, std::string_view name) {
  std::string n(name);
  if (n.empty()) {
    n = state.user_name(id).value_or("");
  }
  if (n.empty()) {
    return "#" + std::to_string(id);
  }
  return sanitize(n) + " (#" + std::to_string(id) + ")";
}

std::string group_label(const client_state& state, std::int64_t id) {
  const auto* g = state.find_group(id);
  if (g == nullptr || g->name.empty()) {
    return "[group #" + std::to_string(id) + "]";
  }
  return "[" + sanitize(g->name) + " #" + std::to_string(id) + "]";
}

std::string incoming_line(const json::object& msg, const client_state& state, const format_options& opts) {
  const auto from = int_field(msg, "id").value_or(0);
  std::string line = time_prefix(int_field(msg, "time").value_or(0), opts);
  if (auto g = int_field(msg, "groupid")) {
    line += group_label(state, *g) + " ";
  }
  line += user_label(state, from, string_field(msg, "name"));
  line += ": ";
  line += sanitize(string_field(msg, "msg"));
  return line;
}

std::string sent_line(const command& cmd, std::int64_t to, std::int64_t time_ms, const client_state& state,
                      const format_options& opts) {
  std::string line = time_prefix(time_ms, opts);
  if (cmd.kind == command_kind::group_chat) {
    line += group_label(state, cmd.id) + " you: ";
  } else {
    line += "you -> " + user_label(state, to) + ": ";
  }
  line += sanitize(cmd.text);
  return line;
}

std::string login_summary(const client_state& state, bool again) {
  const auto& fs = state.friends();
  const auto online = std::count_if(fs.begin(), fs.end(), [](const auto& f) { return f.state == "online"; });
  std::string s = again ? "* logged in again as " : "logged in as ";
  s += user_label(state, state.self_id(), state.self_name());
  s += ": " + count_of(fs.size(), "friend", "friends");
  if (!fs.empty()) {
    s += " (" + std::to_string(online) + " online)";
  }
  s += ", " + count_of(state.groups().size(), "group", "groups");
  return s;
}

std::string stored_heading(std::int64_t count) {
  return "--- while you were away: " + count_of(static_cast<std::size_t>(count), "message", "messages") + " ---";
}

std::string stored_footer() {
  return "--- end of stored messages ---";
}

std::string friends_listing(const client_state& state) {
  const auto& fs = state.friends();
  if (fs.empty()) {
    return "no friends yet (add one with 'addfriend ID')";
  }
  std::string s = "friends (" + std::to_string(fs.size()) + "):";
  for (const auto& f : fs) {
    s += "\n  " + user_label(state, f.id, f.name) + " " + state_word(f.state);
  }
  return s;
}

std::string groups_listing(const client_state& state) {
  const auto& gs = state.groups();
  if (gs.empty()) {
    return "no groups yet (create one with 'creategroup NAME' or join one with 'addgroup ID')";
  }
  std::string s = "groups (" + std::to_string(gs.size()) + "):";
  for (const auto& g : gs) {
    s += "\n  " + (g.name.empty() ? std::string("(name unknown)") : sanitize(g.name)) + " (#" + std::to_string(g.id) +
         ")";
    if (!g.desc.empty()) {
      s += " - " + sanitize(g.desc);
    }
    for (const auto& m : g.members) {
      s += "\n    " + user_label(state, m.id, m.name) + " " + (m.role.empty() ? "role unknown" : m.role) + " " +
           state_word(m.state);
    }
  }
  return s;
}

std::string help_text(std::string_view topic) {
  if (!topic.empty()) {
    const auto* c = find_command(topic);
    if (c == nullptr) {
      return "unknown command '" + std::string(topic) + "' (type 'help' for the list)";
    }
    return "usage: " + std::string(c->usage) + "\n  " + std::string(c->summary);
  }
  std::size_t width = 0;
  for (const auto& c : command_table()) {
    width = std::max(width, c.usage.size());
  }
  std::string s = "commands:";
  for (const auto& c : command_table()) {
    s += "\n  " + std::string(c.usage) + std::string(width + 2 - c.usage.size(), ' ') + std::string(c.summary);
  }
  s += "\nIds always work; a NAME may be \"quoted\" (a quoted run of digits is a name).";
  return s;
}

std::string error_sentence(int err, std::string_view errmsg, const error_context& ctx) {
  const std::string id = std::to_string(ctx.id);
  switch (err) {
    case 1:
      return ctx.id > 0 ? "there is no user with id " + id : "there is no such user";
    case 2:
      return "login failed: unknown account or wrong password (after 10 failures in a row the account is "
             "refused for a minute)";
    case 3:
      if (ctx.kind == command_kind::login) {
        return "this account is already logged in (on another connection or another node)";
      }
      return "already logged in";
    case 4:
      return "the name \"" + sanitize(ctx.name) + "\" is already taken";
    case 5:
      return "a group named \"" + sanitize(ctx.name) + "\" already exists";
    case 6:
      return "you cannot add yourself as a friend";
    case 7:
      return ctx.id > 0 ? "there is no group with id " + id : "there is no such group";
    case 8:
      return "the server rejected the request as malformed" +
             (errmsg.empty() ? std::string() : " (" + sanitize(errmsg) + ")");
    case 9:
      return "you are not logged in (use 'login' first)";
    case 10:
      return "you are not a member of group " + id + " (join it with 'addgroup " + id + "')";
    case 11:
      return "the request was too large for the server, which closed the connection";
    case 12:
      return "the server cannot reach its storage right now; nothing was changed, try again later";
    case 13:
      return "you are sending too fast; the server refused this request (slow down and retry)";
    case 14:
      return "the server is closing the connection (shutting down, or no request within its idle timeout); "
             "reconnecting";
    default:
      return "the server answered with error " + std::to_string(err) +
             (errmsg.empty() ? std::string() : ": " + sanitize(errmsg));
  }
}

}  // namespace chat::client
