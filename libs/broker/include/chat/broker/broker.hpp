// Message broker between chat nodes: publish to a channel, subscribe to channels.
// local_broker is the in-process implementation for a single node; the Redis one (cluster)
// implements the same interface.
#pragma once

#include <chat/asio/awaitable.hpp>

#include <boost/system/error_code.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chat::broker {

class broker {
 public:
  // Called for each message on a subscribed channel. It may run on any thread, so it must
  // only hand the message over (post, queue), never block.
  using message_handler = std::function<void(std::string_view channel, std::string_view payload)>;

  virtual ~broker() = default;

  // Delivers `payload` to every current subscriber of `channel`. Completes on the caller's
  // executor; an error means the message may not have reached anyone.
  virtual awaitable<boost::system::error_code> publish(std::string channel, std::string payload) = 0;

  // Replaces any handler already registered for `channel`. Any thread.
  virtual void subscribe(std::string channel, message_handler handler) = 0;
  virtual void unsubscribe(const std::string& channel) = 0;
};

// Subscribers in this process only; publish never fails. Thread-safe.
class local_broker final : public broker {
 public:
  awaitable<boost::system::error_code> publish(std::string channel, std::string payload) override;
  void subscribe(std::string channel, message_handler handler) override;
  void unsubscribe(const std::string& channel) override;

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, message_handler> handlers_;
};

}  // namespace chat::broker
