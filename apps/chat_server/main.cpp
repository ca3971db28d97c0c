// chat_server: parses arguments, loads the config, wires the libraries together and runs
// the io_context until SIGINT/SIGTERM, then drains (clients moved away gradually) and exits 0.
#include <chat/admin/http_server.hpp>
#include <chat/broker/redis_broker.hpp>
#include <chat/config/config.hpp>
#include <chat/logging/log_setup.hpp>
#include <chat/metrics/registry.hpp>

#include "node_metrics.hpp"
#include <chat/router/router.hpp>
#include <chat/server/server.hpp>
#include <chat/services/accounts.hpp>
#include <chat/services/chat_service.hpp>
#include <chat/services/cluster.hpp>
#include <chat/services/directory.hpp>
#include <chat/services/presence.hpp>
#include <chat/services/redis_cluster.hpp>
#include <chat/storage/mysql_repository.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <iostream>
#include <thread>
#include <vector>

namespace chat::app {
extern const std::string_view schema_sql;
}

namespace {

using namespace chat;

std::size_t thread_count(std::size_t configured) {
  return configured != 0 ? configured : std::max(1u, std::thread::hardware_concurrency());
}

broker::redis_config redis_config(const config::redis_section& cfg) {
  broker::redis_config rc;
  rc.host = cfg.host;
  rc.port = cfg.port;
  rc.password = cfg.password;
  rc.connect_timeout = cfg.connect_timeout;
  rc.command_timeout = cfg.command_timeout;
  return rc;
}

// How long a dead node's liveness key survives: within the protocol's bound of
// 2 x idle_timeout for its users to log in elsewhere, and short enough to recover quickly.
std::chrono::milliseconds node_ttl(const config::heartbeat_section& cfg) {
  using std::chrono::milliseconds;
  return std::clamp(cfg.idle_timeout, milliseconds(1000), milliseconds(10000));
}

// Clients first (their logouts release cluster claims), then this node's liveness, then Redis.
awaitable<void> shutdown(server::server& server, broker::redis_broker* redis, services::redis_cluster* cluster,
                         const config::server_section& cfg) {
  co_await server.drain(cfg.drain_period, cfg.shutdown_grace);
  if (cluster != nullptr) {
    co_await cluster->stop();
  }
  if (redis != nullptr) {
    redis->stop();
  }
}

// GET /readyz: ready for new clients while the database answers, Redis (in cluster mode) is
// connected and subscribed, and the node is not draining.
awaitable<admin::readiness_report> readiness(const server::server& server, storage::mysql_repository& repo,
                                             const broker::redis_broker* redis) {
  admin::readiness_report report;
  report.ready = false;
  if (server.draining()) {
    report.detail = "not ready: draining";
    co_return report;
  }
  if (redis != nullptr && !(redis->publish_connected() && redis->subscribed())) {
    report.detail = "not ready: Redis unreachable";
    co_return report;
  }
  const auto db = co_await repo.ping();
  if (!db) {
    report.detail = "not ready: database unreachable";
    co_return report;
  }
  report.ready = true;
  co_return report;
}

// chat_ready follows the last readiness check: every few seconds here, and each GET /readyz.
awaitable<admin::readiness_report> check_readiness(const server::server& server, storage::mysql_repository& repo,
                                                   const broker::redis_broker* redis, std::atomic<bool>& last) {
  auto report = co_await readiness(server, repo, redis);
  last = report.ready;
  co_return report;
}

awaitable<void> readiness_probe(const server::server& server, storage::mysql_repository& repo,
                                const broker::redis_broker* redis, std::atomic<bool>& last) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (;;) {  // ends when the io_context stops
    co_await check_readiness(server, repo, redis, last);
    pause.expires_after(std::chrono::seconds(5));
    co_await pause.async_wait(use_nothrow);
  }
}

// SIGHUP: the config file is read again for [log] (level, format, file), and the log file is
// reopened (after logrotate renamed it). Other sections need a restart.
void reload_logging(logging::log_setup& logs, const std::string& config_path) {
  auto log = spdlog::get("main");
  try {
    const auto fresh = config::load_file(config_path);
    if (auto problems = logs.reload(fresh.log); !problems.empty()) {
      log->warn("SIGHUP: logging partly reloaded: {}", problems);
      return;
    }
    log->info("SIGHUP: logging reloaded (level {}, format {}, {})", fresh.log.level, fresh.log.format,
              fresh.log.file.empty() ? std::string("stderr") : fresh.log.file);
  } catch (const config::config_error& e) {
    log->error("SIGHUP: config not reloaded, logging unchanged: {}", e.what());
  }
}

int run(const config::server_config& cfg, const std::string& config_path) {
  logging::log_setup logs(cfg.log);
  auto log = spdlog::get("main");
  log->info("chat_server {} node={} starting", CHAT_VERSION, cfg.server.node_id);

  // Registered first: the layers below keep pointers to their instruments.
  metrics::registry registry;
  const auto instruments = app::register_node_metrics(registry);

  storage::mysql_repository repo(cfg.mysql);
  repo.set_metrics(instruments.db_wait_seconds, instruments.db_errors);
  if (cfg.mysql.apply_schema && !repo.apply_schema_blocking(app::schema_sql)) {
    log->critical("cannot apply the database schema (is MariaDB reachable? see the [db] log above)");
    return 1;
  }

  const std::size_t threads = thread_count(cfg.server.threads);
  asio::io_context ioc(static_cast<int>(threads));

  services::password_hasher hasher(cfg.security);
  services::accounts accounts(repo, hasher, cfg.limits);
  services::presence presence;

  // Cluster mode when [redis] is configured; otherwise this node is the whole service.
  std::unique_ptr<broker::redis_broker> redis;
  std::unique_ptr<services::redis_cluster> redis_cluster;
  services::single_node_cluster single_node;
  services::cluster* cluster = &single_node;
  if (cfg.redis.enabled) {
    redis = std::make_unique<broker::redis_broker>(ioc.get_executor(), redis_config(cfg.redis));
    redis_cluster = std::make_unique<services::redis_cluster>(ioc.get_executor(), *redis, cfg.server.node_id,
                                                              node_ttl(cfg.heartbeat));
    redis_cluster->set_metrics(instruments.redis_reconnects, instruments.redis_route_seconds);
    cluster = redis_cluster.get();
  }

  services::directory directory(repo, *cluster);
  services::chat_service chat(ioc.get_executor(), repo, accounts, directory, presence, *cluster,
                              cfg.mysql.query_timeout);
  chat.set_metrics(instruments.offline_stored);
  router::router router(chat, cfg.limits, &instruments.traffic);
  server::server server(ioc, router, chat, cfg, &instruments.traffic);
  if (redis) {
    redis_cluster->start([&chat](auto recipients, auto frame) { chat.accept_forwarded(std::move(recipients), std::move(frame)); },
                         [&presence] { return presence.online_users(); });
    redis->start();
    log->info("cluster mode: Redis at {}:{}", cfg.redis.host, cfg.redis.port);
  }
  server.start();

  app::register_state_metrics(registry, server, presence, repo, redis.get());
  std::atomic<bool> ready{false};
  registry.add_callback_gauge("chat_ready",
                              "1 while the last readiness check (GET /readyz, or every 5 s) passed and the node "
                              "is not draining",
                              [&ready, &server] { return ready && !server.draining() ? 1.0 : 0.0; });
  asio::co_spawn(ioc, readiness_probe(server, repo, redis.get(), ready), asio::detached);
  std::unique_ptr<admin::http_server> admin_http;
  if (cfg.admin.enabled) {
    admin::http_handlers handlers;
    handlers.readiness = [&server, &repo, &redis, &ready] { return check_readiness(server, repo, redis.get(), ready); };
    handlers.metrics = [&registry] { return registry.render(); };
    admin_http = std::make_unique<admin::http_server>(ioc.get_executor(), cfg.admin.listen_address, cfg.admin.port,
                                                      std::move(handlers));
    admin_http->start();
    log->info("admin listener on {}:{} (/healthz, /readyz, /metrics)", cfg.admin.listen_address, admin_http->port());
  }

  asio::signal_set hangup(ioc, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup;
  on_hangup = [&](const boost::system::error_code& ec, int) {
    if (ec) {
      return;
    }
    reload_logging(logs, config_path);
    hangup.async_wait(on_hangup);
  };
  hangup.async_wait(on_hangup);

  // The first stop signal drains; a second one sends the remaining GOING_AWAYs at once.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&](const boost::system::error_code& ec, int signo) {
    if (ec) {
      return;
    }
    if (!stopping) {
      stopping = true;
      log->info("signal {}: draining over {} ms, then stopping", signo, cfg.server.drain_period.count());
      asio::co_spawn(ioc, shutdown(server, redis.get(), redis_cluster.get(), cfg.server),
                     [&](std::exception_ptr) {
                       signals.cancel();
                       hangup.cancel();
                       if (admin_http) {
                         admin_http->stop();
                       }
                       ioc.stop();
                     });
    } else {
      log->info("signal {} again: closing the remaining connections now", signo);
      server.hurry();
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);

  std::vector<std::jthread> pool;
  for (std::size_t i = 1; i < threads; ++i) {
    pool.emplace_back([&ioc] { ioc.run(); });
  }
  ioc.run();
  pool.clear();
  log->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chat_server: a clustered chat server node"};
  std::string config_path;
  app.add_option("-c,--config", config_path, "TOML configuration file")->required()->check(CLI::ExistingFile);
  app.set_version_flag("-V,--version", std::string("chat_server ") + CHAT_VERSION);
  CLI11_PARSE(app, argc, argv);

  chat::config::server_config cfg;
  try {
    cfg = chat::config::load_file(config_path);
  } catch (const chat::config::config_error& e) {
    std::cerr << "chat_server: " << e.what() << '\n';
    return 2;
  }
  try {
    return run(cfg, config_path);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
}
