// In-process broker: subscribers of this process, called synchronously.
#include <chat/broker/broker.hpp>

namespace chat::broker {

awaitable<boost::system::error_code> local_broker::publish(std::string channel, std::string payload) {
  message_handler handler;
  {
    std::lock_guard lock(mutex_);
    if (auto it = handlers_.find(channel); it != handlers_.end()) {
      handler = it->second;
    }
  }
  // Called outside the lock, so a handler may subscribe or publish itself.
  if (handler) {
    handler(channel, payload);
  }
  co_return boost::system::error_code{};
}

void local_broker::subscribe(std::string channel, message_handler handler) {
  std::lock_guard lock(mutex_);
  handlers_[std::move(channel)] = std::move(handler);
}

void local_broker::unsubscribe(const std::string& channel) {
  std::lock_guard lock(mutex_);
  handlers_.erase(channel);
}

}  // namespace chat::broker
