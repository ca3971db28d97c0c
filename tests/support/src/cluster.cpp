// Cluster test helpers: fixture ports, node configuration, private Redis, keep-alive PINGs and
// reading several connections at once.
#include <chat_test/checks.hpp>
#include <chat_test/cluster.hpp>
#include <chat_test/env.hpp>
#include <chat_test/process.hpp>

#include <boost/json/serialize.hpp>

#include <poll.h>

#include <algorithm>

#ifndef CHAT_TEST_BUILD_REDIS_SCRIPT
#define CHAT_TEST_BUILD_REDIS_SCRIPT "deploy/local/redis.sh"
#endif

namespace chat_test {

int cluster_redis_port() {
  return env_int("CHAT_TEST_REDIS_PORT", port_base() + 30);
}
int node1_port() {
  return env_int("CHAT_TEST_NODE1_PORT", port_base() + 31);
}
int node2_port() {
  return env_int("CHAT_TEST_NODE2_PORT", port_base() + 32);
}
int balancer_port() {
  return env_int("CHAT_TEST_LB_PORT", port_base() + 33);
}

std::string redis_script() {
  return env_string("CHAT_REDIS_SCRIPT", CHAT_TEST_BUILD_REDIS_SCRIPT);
}

std::string cluster_node_toml(std::string_view node_id, int redis_port, std::string_view extra) {
  std::string t = "[server]\nnode_id = \"" + std::string(node_id) + "\"\n\n";
  t += "[redis]\nhost = \"127.0.0.1\"\nport = " + std::to_string(redis_port) + "\n\n";
  t += "[heartbeat]\nidle_timeout_ms = " + std::to_string(cluster_idle_timeout_ms) + "\n";
  if (!extra.empty()) {
    t += "\n" + std::string(extra) + "\n";
  }
  return t;
}

// --- redis_instance ---

namespace {

void require_ok(const std::vector<std::string>& argv) {
  auto r = run_command(argv, 60s);
  if (r.status != 0) {
    std::string cmd;
    for (const auto& a : argv) {
      cmd += (cmd.empty() ? "" : " ") + a;
    }
    throw test_error("command failed (status " + std::to_string(r.status) + "): " + cmd + "\n" + r.output);
  }
}

}  // namespace

redis_instance::redis_instance(std::filesystem::path dir, int port) : dir_(std::move(dir)), port_(port) {
  run_command({redis_script(), "kill", dir_.string()});  // leftovers of an interrupted run
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  std::filesystem::create_directories(dir_);
  start();
}

redis_instance::~redis_instance() {
  run_command({redis_script(), "kill", dir_.string()});
}

void redis_instance::start() {
  require_ok({redis_script(), "start", dir_.string(), std::to_string(port_)});
}
void redis_instance::kill() {
  require_ok({redis_script(), "kill", dir_.string()});
}
void redis_instance::stop() {
  require_ok({redis_script(), "stop", dir_.string()});
}

// --- keepalive ---

keepalive::keepalive(millis interval) : interval_(interval), last_(steady::now()) {}

void keepalive::add(client& c) {
  clients_.push_back(&c);
}

void keepalive::tick() {
  if (steady::now() - last_ < interval_) {
    return;
  }
  last_ = steady::now();
  for (client* c : clients_) {
    c->send(ping_req("keepalive-" + std::to_string(seq_++)));
  }
}

bool keepalive::is_keepalive_pong(const json::object& f) {
  const auto cid = string_field(f, "cid");
  return int_field(f, "msgid") == 16 && cid && cid->starts_with("keepalive-");
}

void keepalive::barrier(client& c, millis timeout) {
  static unsigned n = 0;
  const std::string cid = "barrier-ka-" + std::to_string(n++);
  c.send(ping_req(cid));
  const auto deadline = steady::now() + timeout;
  for (;;) {
    const auto f = c.recv(std::max(millis{0}, std::chrono::ceil<millis>(deadline - steady::now())));
    if (int_field(f, "msgid") == 16 && string_field(f, "cid") == cid) {
      return;
    }
    if (!is_keepalive_pong(f)) {
      throw test_error("[" + c.label() + "] expected the PONG for cid " + cid + " as the next frame, got " +
                       json::serialize(f));
    }
  }
}

// --- collect ---

bool collect(std::span<client* const> cs, std::vector<std::vector<json::object>>& out, millis timeout) {
  out.resize(cs.size());
  const auto deadline = steady::now() + timeout;
  for (;;) {
    bool got = false;
    for (std::size_t i = 0; i < cs.size(); ++i) {
      const std::size_t before = out[i].size();
      const bool open = cs[i]->read_available(out[i]);
      got = got || out[i].size() > before;
      if (!open) {
        throw test_error("[" + cs[i]->label() + "] closed by the server (" + std::to_string(out[i].size() - before) +
                         " frames read before the close)");
      }
    }
    if (got) {
      return true;
    }
    const auto left = std::chrono::ceil<millis>(deadline - steady::now()).count();
    if (left <= 0) {
      return false;
    }
    std::vector<pollfd> fds;
    for (client* c : cs) {
      fds.push_back({c->fd(), POLLIN, 0});
    }
    ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left, 1000)));
  }
}

}  // namespace chat_test
