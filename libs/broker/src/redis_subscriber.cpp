// The pub/sub connection of redis_broker (see redis_subscriber.hpp).
#include "redis_subscriber.hpp"

#include <chat/broker/error.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <exception>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::broker::detail {

namespace {
// Channels per SUBSCRIBE when resubscribing, so that one command stays of reasonable size.
constexpr std::size_t subscribe_batch = 256;
}  // namespace

redis_subscriber::redis_subscriber(const asio::any_io_executor& ex, redis_config cfg)
    : redis_connection(ex, std::move(cfg), "subscriber") {}

void redis_subscriber::subscribe(std::string channel, broker::message_handler handler) {
  auto shared = std::make_shared<const broker::message_handler>(std::move(handler));
  {
    std::lock_guard lock(mutex_);
    handlers_[channel] = std::move(shared);
  }
  auto self = std::static_pointer_cast<redis_subscriber>(shared_from_this());
  asio::post(strand(), [self = std::move(self), channel = std::move(channel)] { self->sync(channel); });
}

void redis_subscriber::unsubscribe(const std::string& channel) {
  {
    std::lock_guard lock(mutex_);
    handlers_.erase(channel);
  }
  auto self = std::static_pointer_cast<redis_subscriber>(shared_from_this());
  asio::post(strand(), [self = std::move(self), channel = channel] { self->sync(channel); });
}

// Brings Redis in line with the handler map for one channel. It reads the map's current state
// instead of carrying the caller's intent, so that racing subscribe/unsubscribe calls from
// different threads end in the state of the last one to touch the map.
void redis_subscriber::sync(const std::string& channel) {
  if (state() != link::up)
    return;  // on_connected() subscribes everything in the map
  bool wanted = false;
  {
    std::lock_guard lock(mutex_);
    wanted = handlers_.contains(channel);
  }
  const bool requested = requested_.contains(channel);
  if (wanted == requested)
    return;
  if (wanted) {
    append_command(out(), {"SUBSCRIBE", channel});
    requested_.insert(channel);
  } else {
    append_command(out(), {"UNSUBSCRIBE", channel});
    requested_.erase(channel);
  }
  flush();
}

void redis_subscriber::on_connected() {
  ready_ = false;
  requested_.clear();
  {
    std::lock_guard lock(mutex_);
    for (const auto& entry : handlers_)
      requested_.insert(entry.first);
  }
  std::vector<std::string_view> args;
  args.reserve(std::min(requested_.size(), subscribe_batch) + 1);
  for (auto it = requested_.begin(); it != requested_.end();) {
    args.assign(1, "SUBSCRIBE");
    for (; it != requested_.end() && args.size() <= subscribe_batch; ++it)
      args.push_back(*it);
    append_command(out(), args);
  }
  // Redis answers in order: the PING's answer means every SUBSCRIBE above is in effect.
  send_ping(clock::now());
  reschedule();
}

void redis_subscriber::send_ping(clock::time_point now) {
  append_command(out(), {"PING"});
  flush();
  last_ping_ = now;
  ping_due_ = now + config().command_timeout;
}

void redis_subscriber::on_value(resp_value&& v) {
  if (v.is_array() && !v.elements.empty() && v.elements[0].is_string()) {
    const std::string& kind = v.elements[0].string;
    if (kind == "message" && v.elements.size() == 3) {
      deliver(v.elements[1].string, v.elements[2].string);
      return;
    }
    if (kind == "pong") {  // PING while subscribed: [pong, ""]
      on_pong();
      return;
    }
    if (kind == "subscribe" || kind == "unsubscribe")
      return;  // confirmations
  }
  if (v.type == resp_type::simple_string && v.string == "PONG") {  // PING with no subscription
    on_pong();
    return;
  }
  if (v.is_error()) {
    log().error("{}: Redis refused a command: {}; dropping the connection", name(), v.string);
    drop(make_error_code(errc::server_error));
    return;
  }
  log().warn("{}: ignoring an unexpected push: {}", name(), to_string(v));
}

// On the strand, so one at a time and in the order Redis sent them.
void redis_subscriber::deliver(const std::string& channel, const std::string& payload) {
  std::shared_ptr<const broker::message_handler> handler;
  {
    std::lock_guard lock(mutex_);
    if (auto it = handlers_.find(channel); it != handlers_.end())
      handler = it->second;
  }
  if (!handler || !*handler)
    return;  // unsubscribed meanwhile
  try {
    (*handler)(channel, payload);
  } catch (const std::exception& e) {
    // One bad message must not end the connection's reader.
    log().error("{}: the handler of channel '{}' threw: {}", name(), channel, e.what());
  }
}

void redis_subscriber::on_pong() {
  ping_due_.reset();
  if (ready_)
    return;
  ready_ = true;
  up_.store(true, std::memory_order_release);
  log().info("{}: subscribed to {} channel(s)", name(), requested_.size());
  notify(true);
}

// The owner's handler is not allowed to end our coroutines by throwing.
void redis_subscriber::notify(bool up) {
  if (!on_state_)
    return;
  try {
    on_state_(up);
  } catch (const std::exception& e) {
    log().error("{}: the state handler threw: {}", name(), e.what());
  }
}

void redis_subscriber::on_down(boost::system::error_code) {
  requested_.clear();
  ping_due_.reset();
  if (!ready_)
    return;
  ready_ = false;
  up_.store(false, std::memory_order_release);
  notify(false);
}

void redis_subscriber::on_stopped() {
  requested_.clear();
  ping_due_.reset();
  ready_ = false;
  up_.store(false, std::memory_order_release);
  // No handler runs after this point; let go of what they captured.
  std::lock_guard lock(mutex_);
  handlers_.clear();
}

clock::time_point redis_subscriber::on_timer(clock::time_point now) {
  if (state() != link::up)
    return clock::time_point::max();
  if (ping_due_) {
    if (now < *ping_due_)
      return *ping_due_;
    log().warn("{}: no answer to PING within {} ms; dropping the connection", name(), config().command_timeout.count());
    drop(make_error_code(errc::timeout));
    return clock::time_point::max();
  }
  const auto interval = config().health_check_interval;
  if (interval.count() <= 0)
    return clock::time_point::max();
  // Any push proves the connection alive; PING only when it has been quiet.
  const auto idle_since = std::max(last_read(), last_ping_);
  if (now - idle_since < interval)
    return idle_since + interval;
  send_ping(now);
  return *ping_due_;
}

}  // namespace chat::broker::detail
