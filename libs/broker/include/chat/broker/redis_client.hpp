// redis_client: one pipelined Redis command connection shared by any number of coroutines on
// any threads; replies are matched to requests in order. It reconnects by itself, checks its
// health with PING and fails fast while Redis is unreachable.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/broker/error.hpp>
#include <chat/broker/redis_config.hpp>
#include <chat/broker/resp.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chat::broker {

namespace detail {
class command_connection;
}

// Lifecycle: construct, optionally set_state_handler(), start(); stop() (or the destructor)
// ends it. The connection runs on a strand of `ex`; it keeps the io_context busy from start()
// until stop() has taken effect.
class redis_client {
 public:
  // up = true once connected (TCP, with AUTH queued first), false when that connection is
  // lost. Called on the connection's strand (an io_context thread); must not block; an
  // exception it throws is logged and ignored.
  using state_handler = std::function<void(bool up)>;

  redis_client(const asio::any_io_executor& ex, redis_config cfg);
  // stop(). Commands still pending complete with errc::unavailable.
  ~redis_client();

  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  // Call before start(); not thread-safe with respect to a running connection.
  void set_state_handler(state_handler handler);

  // Any thread. Starts connecting at once and keeps a connection up until stop().
  void start();

  // Any thread, idempotent. Fails pending and later commands with errc::unavailable, closes
  // the connection and cancels its timers, so the io_context can run out of work. The state
  // handler may still run until the stop has reached the strand, never after.
  void stop();

  // Any thread; a snapshot.
  bool connected() const noexcept;

  // Sends one command (e.g. {"SET", "k", "v"}) and completes with its reply, on the awaiting
  // coroutine's executor. Any thread, any number concurrently: commands are written in the
  // order they reach the connection's strand (many per write) and replies matched in order.
  //
  // A Redis error reply ("-ERR ...") is a successful result holding a resp_value of type
  // error: the connection is fine and the caller decides. Errors:
  //   errc::unavailable      not started, stopped, between reconnect attempts (fails at once),
  //                          a connect attempt failed, or the connection was lost before the
  //                          reply (a write may or may not have been executed);
  //   errc::timeout          no reply within command_timeout of being queued; the connection
  //                          is then dropped and reopened (replies can no longer be matched);
  //   errc::invalid_command  empty, or a command that breaks one-reply-per-request
  //                          ((P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, MONITOR, HELLO, RESET, QUIT,
  //                          CLIENT REPLY): use redis_broker for pub/sub.
  // While a connect attempt is in progress, commands wait for it (bounded as above).
  // Blocking commands (BLPOP, XREAD BLOCK, WAIT...) would stall every command behind them and
  // trip command_timeout: do not send them here.
  // Not cancellable: it always completes within command_timeout (a cancelled awaiting
  // operator such as `||` waits for that). Destroying the client completes it with
  // errc::unavailable.
  awaitable<boost::system::result<resp_value>> command(std::vector<std::string> args);

 private:
  std::shared_ptr<detail::command_connection> conn_;
};

}  // namespace chat::broker
