// redis_broker: the broker between chat nodes over Redis pub/sub. PUBLISH goes through a
// pipelined redis_client; subscriptions live on a second, dedicated connection that subscribes
// to every channel again after a reconnect.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/broker/broker.hpp>
#include <chat/broker/error.hpp>
#include <chat/broker/redis_client.hpp>
#include <chat/broker/redis_config.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>
#include <string>

namespace chat::broker {

namespace detail {
class redis_subscriber;
}

enum class redis_event {
  commands_up,         // the command connection (publish, client()) is connected
  commands_down,       // ... and lost: publish fails with errc::unavailable until it is back
  subscriptions_up,    // every subscribed channel is confirmed by Redis on a new connection
  subscriptions_down,  // the subscriber connection is lost: messages published meanwhile are
                       // lost for this node (pub/sub does not store them)
};

const char* to_string(redis_event e) noexcept;

// Lifecycle: construct, set_event_handler() and subscribe() as needed, start(); stop() (or
// the destructor) ends it. Both connections run on their own strands of `ex` and keep the
// io_context busy from start() until stop() has taken effect.
class redis_broker final : public broker {
 public:
  // Called on the strand of the connection concerned (an io_context thread): the commands_*
  // and subscriptions_* events may come from two threads at once. Must not block; an exception
  // it throws is logged and ignored.
  using event_handler = std::function<void(redis_event)>;

  redis_broker(const asio::any_io_executor& ex, redis_config cfg);
  ~redis_broker() override;  // stop()

  redis_broker(const redis_broker&) = delete;
  redis_broker& operator=(const redis_broker&) = delete;

  // Call before start().
  void set_event_handler(event_handler handler);

  // Any thread. Connects both connections and keeps them up until stop().
  void start();

  // Any thread, idempotent. Fails pending and later publishes with errc::unavailable, closes
  // both connections and cancels their timers, so the io_context can run out of work. Message
  // and event handlers may still run until the stop has reached the strands, never after;
  // keep what they refer to alive until the io_context has finished.
  void stop();

  // Any thread; snapshots of the last commands_* and subscriptions_* events.
  bool publish_connected() const noexcept;
  bool subscribed() const noexcept;

  // PUBLISH channel payload, pipelined with every other command of the process. Any thread;
  // completes on the caller's executor within command_timeout. Errors as for
  // redis_client::command(), and errc::server_error when Redis answers with an error. Success
  // means Redis accepted the message, not that any node was subscribed. Not cancellable.
  awaitable<boost::system::error_code> publish(std::string channel, std::string payload) override;

  // Any thread. The handler is called for each message on `channel`, on the subscriber's
  // strand: one message at a time, in Redis's order, never concurrently with itself or another
  // channel's handler. It must not block; an exception it throws is logged and ignored.
  // Redis is told asynchronously: messages published before the SUBSCRIBE reached Redis are
  // not delivered. The subscriptions_up event tells when all channels are in effect after a
  // (re)connect.
  void subscribe(std::string channel, message_handler handler) override;
  void unsubscribe(const std::string& channel) override;

  // The command connection, for other commands (presence keys...). Lives as long as the broker.
  redis_client& client() noexcept { return client_; }

 private:
  redis_client client_;
  std::shared_ptr<detail::redis_subscriber> subscriber_;
};

}  // namespace chat::broker
