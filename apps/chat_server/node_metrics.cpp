// Registration of every metric of a node.
#include "node_metrics.hpp"

#include <chat/metrics/process.hpp>
#include <chat/protocol/message.hpp>

#include <sys/resource.h>

#include <limits>
#include <string>

namespace chat::app {

namespace {

// Seconds: from half a millisecond (a local delivery) to seconds (a database that hangs).
const std::vector<double> latency_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,   5,     10};

}  // namespace

node_metrics register_node_metrics(metrics::registry& r) {
  node_metrics m;
  auto& t = m.traffic;
  for (std::size_t id = 0; id < router::traffic_metrics::msgids; ++id) {
    const std::string label = id == 0 ? "other" : std::to_string(id);
    t.frames_in[id] = &r.add_counter("chat_frames_in_total", "Requests read, by msgid (other: no valid msgid)",
                                     {{"msgid", label}});
    t.frames_out[id] = &r.add_counter("chat_frames_out_total", "Frames written to clients, by msgid",
                                      {{"msgid", label}});
  }
  for (int e = 1; e < static_cast<int>(router::traffic_metrics::errnos); ++e) {
    t.errors[static_cast<std::size_t>(e)] =
        &r.add_counter("chat_errors_total", "Answers carrying an errno (ERROR_MSG or a failed ack), by errno",
                       {{"errno", std::to_string(e)}});
  }
  const std::string logins_help = "LOGIN requests answered, by result";
  t.logins = &r.add_counter("chat_logins_total", logins_help, {{"result", "success"}});
  t.login_failures = &r.add_counter("chat_logins_total", logins_help, {{"result", "failure"}});
  t.connections_opened = &r.add_counter("chat_connections_opened_total", "Client connections admitted");
  const std::string refused_help = "Client connections refused, by reason";
  t.refused_node_full = &r.add_counter("chat_connections_refused_total", refused_help, {{"reason", "node_full"}});
  t.refused_address_full =
      &r.add_counter("chat_connections_refused_total", refused_help, {{"reason", "address_full"}});
  t.refused_proxy_header =
      &r.add_counter("chat_connections_refused_total", refused_help, {{"reason", "proxy_header"}});
  t.slow_consumers = &r.add_counter("chat_outbound_dropped_total",
                                    "Connections closed because their client did not read (slow consumers); "
                                    "their queued chat is stored");
  t.offline_delivered =
      &r.add_counter("chat_offline_delivered_total", "Stored messages sent to their recipient at login");
  t.delivery_seconds = &r.add_histogram(
      "chat_delivery_latency_seconds",
      "Live chat: from being queued for the recipient's connection on this node to written to its socket",
      latency_buckets);
  m.offline_stored = &r.add_counter("chat_offline_stored_total", "Messages stored for a recipient not online");
  m.db_wait_seconds = &r.add_histogram("chat_db_pool_wait_seconds", "Wait for a database connection, per request",
                                       latency_buckets);
  m.db_errors = &r.add_counter("chat_db_errors_total",
                               "Database requests that failed (no connection in time, connect or query failure)");
  m.redis_reconnects = &r.add_counter("chat_redis_reconnects_total", "Reconnections to Redis after a loss");
  m.redis_route_seconds = &r.add_histogram(
      "chat_redis_publish_seconds", "Routing and publishing one batch of messages to other nodes (one Lua script)",
      latency_buckets);
  return m;
}

void register_state_metrics(metrics::registry& r, const server::server& server, const services::presence& presence,
                            const storage::mysql_repository& repo, const broker::redis_broker* redis) {
  r.add_gauge("chat_build_info", "Version of this chat_server (value 1)", {{"version", CHAT_VERSION}}).set(1);
  r.add_callback_gauge("chat_connections", "Client connections open on this node",
                       [&server] { return static_cast<double>(server.connection_count()); });
  r.add_callback_gauge("chat_online_users", "Users logged in on this node",
                       [&presence] { return static_cast<double>(presence.online_count()); });
  r.add_callback_gauge("chat_draining", "1 while the node drains its clients (SIGTERM), else 0",
                       [&server] { return server.draining() ? 1.0 : 0.0; });
  const std::string pool_help = "Database pool connections by state";
  r.add_callback_gauge("chat_db_pool_connections", pool_help,
                       [&repo] { return static_cast<double>(repo.stats().in_use); }, {{"state", "in_use"}});
  r.add_callback_gauge("chat_db_pool_connections", pool_help,
                       [&repo] { return static_cast<double>(repo.stats().idle); }, {{"state", "idle"}});
  r.add_callback_gauge("chat_db_pool_connections", pool_help,
                       [&repo] { return static_cast<double>(repo.stats().pending); }, {{"state", "opening"}});
  r.add_callback_gauge("chat_db_pool_waiting", "Requests waiting for a database connection",
                       [&repo] { return static_cast<double>(repo.stats().waiting); });
  if (redis != nullptr) {
    r.add_callback_gauge("chat_redis_up", "1 while both Redis connections (commands, subscriptions) are up", [redis] {
      return redis->publish_connected() && redis->subscribed() ? 1.0 : 0.0;
    });
  }
  metrics::register_process_metrics(r);
  r.add_callback_gauge("process_max_fds", "Open file descriptor limit (RLIMIT_NOFILE, soft)", [] {
    rlimit limit{};
    return ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
               ? static_cast<double>(limit.rlim_cur)
               : std::numeric_limits<double>::quiet_NaN();
  });
}

}  // namespace chat::app
