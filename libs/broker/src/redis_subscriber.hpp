// The pub/sub connection of redis_broker: SUBSCRIBE/UNSUBSCRIBE, `message` pushes to the
// channel's handler, every channel subscribed again after a reconnect, PING health check.
#pragma once

#include "redis_connection.hpp"

#include <chat/broker/broker.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace chat::broker::detail {

class redis_subscriber final : public redis_connection {
 public:
  // up = true once every channel is subscribed on a new connection (Redis confirmed them),
  // false when that connection is lost. Called on the strand.
  using state_handler = std::function<void(bool up)>;

  redis_subscriber(const asio::any_io_executor& ex, redis_config cfg);

  // Before start().
  void set_state_handler(state_handler h) { on_state_ = std::move(h); }

  // Any thread; a snapshot of "up" above.
  bool subscribed() const noexcept { return up_.load(std::memory_order_acquire); }

  // Any thread. The handler map changes at once; Redis is told on the strand (now if
  // connected, else on the next connect).
  void subscribe(std::string channel, broker::message_handler handler);
  void unsubscribe(const std::string& channel);

 private:
  void sync(const std::string& channel);
  void deliver(const std::string& channel, const std::string& payload);
  void on_pong();
  void notify(bool up);
  void send_ping(clock::time_point now);

  void on_connected() override;
  void on_value(resp_value&& v) override;
  void on_down(boost::system::error_code reason) override;
  void on_stopped() override;
  clock::time_point on_timer(clock::time_point now) override;

  // What the owner wants; any thread, under mutex_. Handlers are shared so that one can be
  // called outside the lock while another thread replaces it.
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const broker::message_handler>> handlers_;

  // What Redis was asked on the current connection; the strand only.
  std::unordered_set<std::string> requested_;
  std::optional<clock::time_point> ping_due_;  // a PING awaits its answer until then
  clock::time_point last_ping_{};
  bool ready_ = false;
  state_handler on_state_;
  std::atomic<bool> up_{false};
};

}  // namespace chat::broker::detail
