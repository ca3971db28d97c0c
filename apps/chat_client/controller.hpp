// Runs client commands against the server: builds requests, prints their answers, keeps the
// user's state, prints messages as they arrive (stored ones under a heading), and logs in
// again by itself after a reconnect. Both UIs (terminal, script) drive it.
#pragma once

#include "command.hpp"
#include "console.hpp"
#include "format.hpp"
#include "session.hpp"
#include "state.hpp"
#include "waiters.hpp"

#include <chat/asio/awaitable.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace chat::client {

struct controller_options {
  format_options format;
  bool interactive = false;  // hints for a human ("waiting for the connection")
};

// Single-threaded (the io_context's thread). Lives until the io_context has finished running.
class controller {
 public:
  enum class outcome { ok, failed, quit };

  // Hooks for the UI: the prompt's user name ("" when logged out); giving up on the server
  // (the UI prints `reason` and exits).
  std::function<void(const std::string& user)> on_identity;
  std::function<void(const std::string& reason)> on_fatal;

  controller(asio::any_io_executor ex, session_options sopts, controller_options copts, console& out);

  // Connects (and keeps reconnecting) in the background.
  void start();
  // Idempotent: closes the connection; running commands end (as failed).
  void stop();
  bool stopped() const noexcept { return stopped_; }

  // Runs one command and prints its outcome; completes when the answer has arrived (for
  // login: also the stored messages), or on timeout. Commands may run concurrently.
  awaitable<outcome> execute(command cmd);

  const client_state& state() const noexcept { return state_; }

 private:
  struct credentials {
    std::int64_t id = 0;
    std::string pwd;
  };

  awaitable<outcome> remote(command cmd);
  awaitable<outcome> wait_messages(std::int64_t count, std::chrono::milliseconds timeout);
  awaitable<void> wait_stored();
  awaitable<void> relogin();
  void on_answer(const command& cmd, std::int64_t to, const boost::json::object& f);
  void on_relogin_answer(const boost::json::object& f);
  void on_push(const boost::json::object& f);
  void on_connected();
  void on_lost();
  void begin_stored(std::int64_t count);
  void end_stored();
  void error(std::string_view sentence);
  void identity_changed();

  asio::any_io_executor ex_;
  controller_options opts_;
  std::chrono::milliseconds request_timeout_;
  console& out_;
  session session_;
  client_state state_;
  std::optional<credentials> creds_;   // in memory only, while running
  std::int64_t stored_remaining_ = 0;  // stored messages announced by the last login, not yet here
  std::int64_t unconsumed_ = 0;        // chat messages received, not yet claimed by wait-message
  waiters message_waiters_;
  waiters sleepers_;
  bool stopped_ = false;
};

}  // namespace chat::client
