// Everything the client prints, as text: received messages, answers, listings, help, and a
// clear sentence for every errno. Sans-I/O (times use the local time zone).
#pragma once

#include "command.hpp"
#include "state.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace chat::client {

struct format_options {
  bool show_time = true;
  std::string time_format = "%H:%M:%S";  // strftime; messages from another day get the date too
  bool custom_time_format = false;       // --time-format given: used as is, never extended
};

// Server-supplied text made safe for a terminal: control characters become caret notation
// (^[, ^?) or \u0080-style escapes, a newline continues on an indented line.
std::string sanitize(std::string_view text);

// "12:00:01 " for a protocol `time` (ms since the epoch), or "" when times are off.
std::string time_prefix(std::int64_t time_ms, const format_options& opts);

// "bob (#5)" when the name is known (or given), else "#5".
std::string user_label(const client_state& state, std::int64_t id, std::string_view name = {});
// "[dev #3]" when the group's name is known, else "[group #3]".
std::string group_label(const client_state& state, std::int64_t id);

// A received ONE_CHAT (5) or GROUP_CHAT (12) message, live or stored:
//   12:00:01 bob (#5): hi
//   12:00:01 [dev #3] bob (#5): hi all
std::string incoming_line(const boost::json::object& msg, const client_state& state, const format_options& opts);
// What this user sent, once the server accepted it (CHAT_ACK):
//   12:00:01 you -> bob (#5): hi
//   12:00:01 [dev #3] you: hi all
std::string sent_line(const command& cmd, std::int64_t to, std::int64_t time_ms, const client_state& state,
                      const format_options& opts);

// "logged in as alice (#17): 2 friends (1 online), 1 group"
std::string login_summary(const client_state& state, bool again);
std::string stored_heading(std::int64_t count);
std::string stored_footer();

std::string friends_listing(const client_state& state);
std::string groups_listing(const client_state& state);
// The command list, or the usage of one command.
std::string help_text(std::string_view topic);

// What a failed request was about, for a precise sentence.
struct error_context {
  command_kind kind = command_kind::help;
  std::int64_t id = 0;  // the user or group the request named
  std::string name;     // the user or group name the request named
};

// A sentence for an errno (PROTOCOL.md §4), using the server's errmsg where it adds detail.
std::string error_sentence(int err, std::string_view errmsg, const error_context& ctx);

// "1 friend", "2 friends".
std::string count_of(std::size_t n, std::string_view singular, std::string_view plural);

}  // namespace chat::client
