// The cluster over Redis: which node holds which user, node liveness, and forwarding chat
// frames to the node that holds the recipient (pub/sub on one channel per node). Forwarding
// is batched: whatever queues while one route script runs goes in the next, so one Redis
// call routes and publishes many messages under load and one message when idle.
#pragma once

#include <chat/metrics/metric.hpp>

#include <chat/asio/awaitable.hpp>
#include <chat/broker/redis_broker.hpp>
#include <chat/services/cluster.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace chat::services {

// Keys: chat:node:<node>  liveness: the node's run id (random per start), refreshed every
//                         ttl/3, expires ttl after the node died;
//       chat:user:<id>    the claim "<node>@<run id>" of the run holding the user (no expiry:
//                         stale once that run is dead, even if its node restarted);
//       chat:gver:<id>    membership version of a group (see cluster::group_version).
// A claim succeeds unless a *live run* of another node holds the user, so a dead node's users
// can log in elsewhere once its liveness key has expired, and at once when it restarted.
class redis_cluster final : public cluster {
 public:
  // Called in Redis's order, on the subscriber's strand, for every frame forwarded to this node.
  using inbound_handler = std::function<void(std::vector<user_id> recipients, std::shared_ptr<const std::string> frame)>;
  // The users logged in here, to claim again after Redis lost its data (a restart).
  using local_users_fn = std::function<std::vector<user_id>()>;

  redis_cluster(const asio::any_io_executor& ex, broker::redis_broker& broker, std::string node_id,
                std::chrono::milliseconds node_ttl);

  // Subscribes to this node's channel and starts the liveness heartbeat. Call once, before
  // the broker starts.
  void start(inbound_handler on_inbound, local_users_fn local_users);
  // Instruments (null: not measured): reconnections of the command connection to Redis, and
  // the time of each route script (routing and publishing a batch). Before start().
  void set_metrics(metrics::counter* reconnects, metrics::histogram* route_seconds) {
    reconnects_ = reconnects;
    route_seconds_ = route_seconds;
  }
  // Stops the heartbeat and removes this node's liveness key (its users become claimable).
  awaitable<void> stop();

  awaitable<boost::system::result<bool>> claim(user_id user) override;
  awaitable<void> release(user_id user) override;
  awaitable<boost::system::result<std::vector<bool>>> online_elsewhere(std::vector<user_id> users) override;
  awaitable<boost::system::result<std::vector<user_id>>> forward(std::vector<user_id> recipients,
                                                                 std::shared_ptr<const std::string> frame) override;
  awaitable<boost::system::result<std::int64_t>> group_version(group_id group) override;
  awaitable<boost::system::result<std::int64_t>> bump_group_version(group_id group) override;

 private:
  // A forward() waiting for its batch: the frame, and where to say which users no node took.
  struct route_request {
    std::vector<user_id> recipients;
    std::shared_ptr<const std::string> frame;
    asio::any_io_executor ex;  // the sender's
    asio::any_completion_handler<void(std::vector<user_id>)> done;
  };

  void queue_route(route_request request);
  awaitable<void> route_loop();
  // Runs the route script over `batch`; for each request, the users no node took.
  awaitable<std::vector<std::vector<user_id>>> route(const std::vector<route_request>& batch);
  std::vector<std::string> route_command(const std::vector<route_request>& batch) const;

  awaitable<void> heartbeat();
  awaitable<void> reclaim_all();

  asio::any_io_executor ex_;  // a strand: the heartbeat and its timer
  broker::redis_broker& broker_;
  std::string node_id_;
  std::string node_key_;
  std::string run_id_;
  std::string claim_value_;  // "<node_id>@<run_id>"
  std::chrono::milliseconds node_ttl_;
  asio::steady_timer timer_;
  local_users_fn local_users_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> reclaim_needed_{false};

  std::mutex route_mutex_;
  std::vector<route_request> routes_;  // guarded by route_mutex_
  bool routing_ = false;               // guarded by route_mutex_: route_loop() is running
  std::string route_sha_;              // route_loop() only
  metrics::counter* reconnects_ = nullptr;
  metrics::histogram* route_seconds_ = nullptr;
  bool commands_were_up_ = false;      // the broker's event handler only
};

}  // namespace chat::services
