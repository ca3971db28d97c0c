// Every metric chat_server exports on /metrics (docs/operations.md says what each means):
// counters and histograms handed to the layers that update them, and gauges read at scrape.
#pragma once

#include <chat/broker/redis_broker.hpp>
#include <chat/metrics/registry.hpp>
#include <chat/router/traffic_metrics.hpp>
#include <chat/server/server.hpp>
#include <chat/services/presence.hpp>
#include <chat/storage/mysql_repository.hpp>

namespace chat::app {

struct node_metrics {
  router::traffic_metrics traffic;
  metrics::counter* offline_stored = nullptr;
  metrics::histogram* db_wait_seconds = nullptr;
  metrics::counter* db_errors = nullptr;
  metrics::counter* redis_reconnects = nullptr;
  metrics::histogram* redis_route_seconds = nullptr;
};

// Registers the counters and histograms; the references stay valid as long as `r`.
node_metrics register_node_metrics(metrics::registry& r);

// Registers the gauges computed at each scrape from the node's parts (which must outlive `r`'s
// scrapes); `redis` is null on a single node.
void register_state_metrics(metrics::registry& r, const server::server& server, const services::presence& presence,
                            const storage::mysql_repository& repo, const broker::redis_broker* redis);

}  // namespace chat::app
