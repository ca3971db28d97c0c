// One self-healing TCP connection to Redis, the base of the command and the subscriber
// connections: connect with a timeout, AUTH, a reader and a writer coroutine, a watchdog timer,
// reconnect with exponential back-off. What the replies mean is the subclass's business.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/broker/redis_config.hpp>
#include <chat/broker/resp.hpp>

#include <spdlog/logger.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace chat::broker::detail {

using clock = std::chrono::steady_clock;

// Everything but start() and stop() runs on strand(), hooks included. Coroutines hold a
// shared_ptr to the object, so it lives until they have all finished; create it with
// std::make_shared.
class redis_connection : public std::enable_shared_from_this<redis_connection> {
 public:
  using strand_type = asio::strand<asio::any_io_executor>;

  // `role` names the connection in log lines ("commands", "subscriber").
  redis_connection(const asio::any_io_executor& ex, redis_config cfg, const char* role);
  virtual ~redis_connection();

  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  // Any thread. Starts connecting (the first call only; never after stop()).
  void start();
  // Any thread, idempotent. Closes the socket and cancels every wait; then on_stopped() runs
  // on the strand and the coroutines finish, so the io_context can run out of work.
  void stop();

  const strand_type& strand() const noexcept { return strand_; }

 protected:
  enum class link { idle, connecting, up, down, stopped };

  // On the strand, from here on.
  link state() const noexcept { return state_; }
  const redis_config& config() const noexcept { return cfg_; }
  spdlog::logger& log() const noexcept { return *log_; }
  const std::string& name() const noexcept { return name_; }
  clock::time_point last_read() const noexcept { return last_read_; }

  // Bytes for the writer, sent in order once connected. Append while connecting or up, then
  // flush(); the buffer is cleared when the connection goes down.
  std::string& out() noexcept { return out_; }
  void flush();

  // While up: ends the session (the first reason is the one logged), the run loop reconnects.
  void drop(boost::system::error_code reason);

  // The watchdog asks on_timer() for its next wake-up now instead of at the time it had.
  void reschedule();

  // While up: bytes have arrived that the reader has not taken yet. After the process was
  // stopped (SIGSTOP) or starved, replies can be waiting there while deadlines have passed.
  bool unread_bytes();

  // A connect attempt begins (state connecting).
  virtual void on_connecting() {}
  // TCP is up (state up); AUTH, if configured, is already at the front of out().
  virtual void on_connected() = 0;
  // One complete reply or push (AUTH's reply is handled here, never passed on).
  virtual void on_value(resp_value&& v) = 0;
  // A connect attempt failed or the session ended (state down); not called after stop().
  virtual void on_down(boost::system::error_code reason) = 0;
  // stop() took effect: fail or forget everything pending.
  virtual void on_stopped() = 0;
  // The watchdog woke up (at the time returned last time, or after reschedule()); returns when
  // it should wake up next.
  virtual clock::time_point on_timer(clock::time_point now) = 0;

 private:
  awaitable<void> run(std::shared_ptr<redis_connection> self);
  awaitable<void> watchdog(std::shared_ptr<redis_connection> self);
  awaitable<boost::system::error_code> connect(std::shared_ptr<redis_connection> self);
  awaitable<void> reader(std::shared_ptr<redis_connection> self);
  awaitable<void> writer(std::shared_ptr<redis_connection> self);
  void begin_session();
  void handle(resp_value&& v);
  void do_start();
  void do_stop();

  const redis_config cfg_;
  const std::string name_;
  const std::shared_ptr<spdlog::logger> log_;
  strand_type strand_;
  asio::ip::tcp::socket socket_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  asio::steady_timer backoff_timer_;
  asio::steady_timer watchdog_timer_;
  asio::steady_timer wake_;  // the idle writer waits on it; flush() cancels it

  resp_parser parser_;
  std::string out_;      // queued by flush(), not yet handed to the socket
  std::string writing_;  // being written (swapped with out_, so both keep their capacity)
  clock::time_point last_read_{};
  boost::system::error_code drop_reason_;
  link state_ = link::idle;
  bool started_ = false;
  bool stopped_ = false;
  bool session_over_ = true;
  bool auth_pending_ = false;
  int failed_attempts_ = 0;  // connect attempts failed in a row (logging)
  bool ever_up_ = false;
};

}  // namespace chat::broker::detail
