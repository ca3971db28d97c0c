// Cluster-wide presence and routing between nodes. A single node uses single_node_cluster
// (nobody else exists); the Redis-backed implementation spans several nodes.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/services/link.hpp>

#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chat::services {

// Thread-safe; every awaitable completes on the caller's executor. Errors: an error_code
// (protocol::errc::unavailable when the cluster state cannot be read or written).
class cluster {
 public:
  virtual ~cluster() = default;

  // Records that `user` is logged in on this node. False when another live node holds it.
  virtual awaitable<boost::system::result<bool>> claim(user_id user) = 0;
  // Forgets the claim (only if this node holds it). Never fails: a claim left behind by an
  // unreachable cluster store expires with this node's liveness.
  virtual awaitable<void> release(user_id user) = 0;

  // For each user: logged in on another node. (Users of this node are answered by presence.)
  virtual awaitable<boost::system::result<std::vector<bool>>> online_elsewhere(std::vector<user_id> users) = 0;

  // Hands `frame` (a complete chat frame) to the nodes holding these users. Returns the users
  // no node took: the caller stores the message for them.
  virtual awaitable<boost::system::result<std::vector<user_id>>> forward(std::vector<user_id> recipients,
                                                                         std::shared_ptr<const std::string> frame) = 0;

  // A counter of membership changes of the group, cluster-wide: a node whose cached member
  // list has another version reloads it, so a join on one node is seen at once on all.
  virtual awaitable<boost::system::result<std::int64_t>> group_version(group_id group) = 0;
  // Records a membership change (after it is in the database); returns the new version.
  virtual awaitable<boost::system::result<std::int64_t>> bump_group_version(group_id group) = 0;
};

// The cluster of one: every claim succeeds, nobody is elsewhere, nothing can be forwarded.
class single_node_cluster final : public cluster {
 public:
  awaitable<boost::system::result<bool>> claim(user_id) override { co_return true; }
  awaitable<void> release(user_id) override { co_return; }
  awaitable<boost::system::result<std::vector<bool>>> online_elsewhere(std::vector<user_id> users) override {
    co_return std::vector<bool>(users.size(), false);
  }
  awaitable<boost::system::result<std::vector<user_id>>> forward(std::vector<user_id> recipients,
                                                                 std::shared_ptr<const std::string>) override {
    co_return recipients;
  }
  // Every change goes through this node's own cache: versions are not needed.
  awaitable<boost::system::result<std::int64_t>> group_version(group_id) override { co_return 0; }
  awaitable<boost::system::result<std::int64_t>> bump_group_version(group_id) override { co_return 0; }
};

}  // namespace chat::services
