// The client's link to the server across connections: connects, reconnects with back-off
// after a lost connection or GOING_AWAY (errno 14), matches answers to requests by `cid`, and
// gates requests until the owner declares the link ready (e.g. after logging in again).
#pragma once

#include "connection.hpp"
#include "console.hpp"
#include "waiters.hpp"

#include <chat/asio/awaitable.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

namespace chat::client {

struct session_options {
  std::string host = "127.0.0.1";
  std::string port = "8000";
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds ping_interval{20000};  // 0: no PINGs
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds reconnect_min{500};  // first delay; doubles up to reconnect_max
  std::chrono::milliseconds reconnect_max{30000};
  bool reconnect = true;             // false: a lost connection is fatal
  bool first_connect_fatal = false;  // true: failing to connect the first time is fatal
  // Null: plain TCP. Otherwise TLS with this context (make_tls_context); every connection,
  // reconnections included, gets a fresh TLS session on it.
  std::shared_ptr<asio::ssl::context> tls;
};

// Single-threaded: every member runs on the io_context's thread. Lives until the io_context
// has finished running (its coroutines refer to it).
class session {
 public:
  using clock = std::chrono::steady_clock;

  struct hooks {
    std::function<void()> on_connected;                       // a new connection is up, not ready yet
    std::function<void(const std::string& reason)> on_lost;   // the connection went away
    std::function<void(const boost::json::object&)> on_push;  // a frame that answers no request
    std::function<void(const std::string& reason)> on_fatal;  // gave up (see session_options)
  };

  enum class status {
    answered,     // result::frame holds the answer (an ack, CHAT_ACK, PONG or ERROR_MSG)
    timeout,      // no answer within request_timeout
    lost,         // the connection closed before the answer
    unavailable,  // not ready within request_timeout
    too_large,    // the frame is over max_request_frame_bytes: not sent
    stopped,      // stop() was called
  };
  struct result {
    status st = status::stopped;
    boost::json::object frame;
  };
  // Runs synchronously when the answer arrives, before any later frame is handled (so what it
  // prints comes in the order of the frames).
  using answer_handler = std::function<void(const boost::json::object&)>;

  session(asio::any_io_executor ex, session_options opts, console& out, hooks h);

  void start();
  // Idempotent: closes the connection, fails pending requests with `stopped`, ends the loop.
  void stop();

  // Sends `req` with a fresh integer cid and waits for the frame carrying that cid. Unless
  // `bypass_gate`, first waits until the link is ready. Cancelled by stop().
  awaitable<result> request(boost::json::object req, answer_handler on_answer, bool bypass_gate = false);

  // Declares the current connection ready (or not) for gated requests.
  void set_ready(bool ready);
  bool ready() const noexcept { return ready_; }
  bool connected() const noexcept { return conn_ && conn_->is_open(); }
  bool stopped() const noexcept { return stopping_; }
  // Changes with every new connection, so tasks of an old one can tell they are stale.
  std::uint64_t generation() const noexcept { return generation_; }
  // Sleeps up to `d`; returns early on stop().
  awaitable<void> sleep(std::chrono::milliseconds d);

 private:
  struct pending {
    explicit pending(asio::any_io_executor ex) : timer(ex) {}
    answer_handler on_answer;
    std::optional<boost::json::object> answer;
    asio::steady_timer timer;
    bool lost = false;
  };

  awaitable<void> run();
  void on_frame(boost::json::object&& frame);
  void on_closed(const std::string& reason);
  void fail_pending();
  std::chrono::milliseconds jittered(std::chrono::milliseconds d);
  std::string where() const;

  asio::any_io_executor ex_;
  session_options opts_;
  console& out_;
  hooks hooks_;
  std::shared_ptr<connection> conn_;
  std::unordered_map<std::int64_t, std::shared_ptr<pending>> pending_;
  std::int64_t next_cid_ = 0;
  std::uint64_t generation_ = 0;
  bool ready_ = false;
  bool stopping_ = false;
  bool started_ = false;
  bool conn_closed_ = false;  // the current connection has closed
  std::string close_reason_;
  waiters ready_waiters_;
  waiters closed_waiters_;
  waiters sleepers_;
  std::minstd_rand rng_;
};

}  // namespace chat::client
