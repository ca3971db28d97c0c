// Cluster tests (PROTOCOL.md §7): where the shared two-node fixture listens, a private Redis
// handle for tests that kill or restart it, node configuration, and helpers for tests that
// watch several connections at once while keeping them inside the heartbeat timeout.
#pragma once

#include <chat_test/client.hpp>
#include <chat_test/session.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chat_test {

// Ports of the shared cluster fixture (tests/CMakeLists.txt, cluster section); the defaults
// follow the layout there when a test binary runs by hand.
int cluster_redis_port();  // CHAT_TEST_REDIS_PORT: Redis of the chat_redis fixture (base+30)
int node1_port();          // CHAT_TEST_NODE1_PORT: node "node1" of chat_cluster (base+31)
int node2_port();          // CHAT_TEST_NODE2_PORT: node "node2" of chat_cluster (base+32)
int balancer_port();       // CHAT_TEST_LB_PORT: nginx (stream) over node1 and node2 (base+33)

// heartbeat.idle_timeout_ms of every cluster node the tests run (fixtures/cluster_node.toml.in
// and cluster_node_toml() below); must match that file.
inline constexpr int cluster_idle_timeout_ms = 3000;

std::string redis_script();  // CHAT_REDIS_SCRIPT: deploy/local/redis.sh

// The extra TOML (for server_instance) of a cluster node: [server] node_id, [redis] on
// 127.0.0.1:redis_port, [heartbeat] idle_timeout_ms = cluster_idle_timeout_ms; then `extra`
// (more sections or keys, merged over these).
std::string cluster_node_toml(std::string_view node_id, int redis_port, std::string_view extra = "");

// A private Redis started with deploy/local/redis.sh (no persistence): a restart comes back
// empty. Killed by the destructor.
class redis_instance {
 public:
  // Starts on a fresh directory (any earlier one in `dir` is killed and removed).
  redis_instance(std::filesystem::path dir, int port);
  ~redis_instance();
  redis_instance(const redis_instance&) = delete;
  redis_instance& operator=(const redis_instance&) = delete;

  void start();  // (re)start on the same port; throws test_error on failure
  void kill();   // SIGKILL, waits until the process is gone
  void stop();   // SIGTERM
  int port() const noexcept { return port_; }

 private:
  std::filesystem::path dir_;
  int port_;
};

// Keeps connections inside the heartbeat timeout while a test only reads from them (PROTOCOL.md
// §6 PING: receiving does not count): tick() sends {"msgid":15,"cid":"keepalive-N"} on every
// added connection once `interval` has passed since the previous round. Their PONGs arrive
// among the other frames: skip them with is_keepalive_pong().
class keepalive {
 public:
  explicit keepalive(millis interval = millis{cluster_idle_timeout_ms / 3});
  void add(client& c);
  void tick();
  static bool is_keepalive_pong(const json::object& f);
  // ping_barrier() for a connection that gets keepalive PINGs: their PONGs are skipped.
  static void barrier(client& c, millis timeout = default_timeout);

 private:
  millis interval_;
  steady::time_point last_;
  std::vector<client*> clients_;
  unsigned seq_ = 0;
};

// Appends every complete frame the connections hold to out[i] (out is resized to cs.size()),
// waiting up to `timeout` for the first one. False when nothing arrived in time. Throws
// test_error when one of the connections is closed by the server.
bool collect(std::span<client* const> cs, std::vector<std::vector<json::object>>& out, millis timeout);

}  // namespace chat_test
