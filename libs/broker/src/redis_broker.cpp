// redis_broker: publish over the pipelined redis_client, subscriptions over redis_subscriber.
#include <chat/broker/redis_broker.hpp>

#include "redis_subscriber.hpp"

#include <chat/asio/logging.hpp>

#include <utility>
#include <vector>

namespace chat::broker {

const char* to_string(redis_event e) noexcept {
  switch (e) {
    case redis_event::commands_up:
      return "commands_up";
    case redis_event::commands_down:
      return "commands_down";
    case redis_event::subscriptions_up:
      return "subscriptions_up";
    case redis_event::subscriptions_down:
      return "subscriptions_down";
  }
  return "unknown";
}

redis_broker::redis_broker(const asio::any_io_executor& ex, redis_config cfg)
    : client_(ex, cfg), subscriber_(std::make_shared<detail::redis_subscriber>(ex, std::move(cfg))) {}

redis_broker::~redis_broker() {
  stop();
}

void redis_broker::set_event_handler(event_handler handler) {
  auto shared = std::make_shared<event_handler>(std::move(handler));
  client_.set_state_handler([shared](bool up) {
    if (*shared)
      (*shared)(up ? redis_event::commands_up : redis_event::commands_down);
  });
  subscriber_->set_state_handler([shared](bool up) {
    if (*shared)
      (*shared)(up ? redis_event::subscriptions_up : redis_event::subscriptions_down);
  });
}

void redis_broker::start() {
  client_.start();
  subscriber_->start();
}

void redis_broker::stop() {
  client_.stop();
  subscriber_->stop();
}

bool redis_broker::publish_connected() const noexcept {
  return client_.connected();
}

bool redis_broker::subscribed() const noexcept {
  return subscriber_->subscribed();
}

awaitable<boost::system::error_code> redis_broker::publish(std::string channel, std::string payload) {
  std::vector<std::string> args;
  args.reserve(3);
  args.emplace_back("PUBLISH");
  args.push_back(std::move(channel));
  args.push_back(std::move(payload));
  auto reply = co_await client_.command(std::move(args));
  if (!reply)
    co_return reply.error();
  if (reply->is_error()) {
    named_logger("redis")->warn("PUBLISH refused by redis: {}", reply->string);  // rare: no cached logger
    co_return make_error_code(errc::server_error);
  }
  co_return boost::system::error_code{};
}

void redis_broker::subscribe(std::string channel, message_handler handler) {
  subscriber_->subscribe(std::move(channel), std::move(handler));
}

void redis_broker::unsubscribe(const std::string& channel) {
  subscriber_->unsubscribe(channel);
}

}  // namespace chat::broker
