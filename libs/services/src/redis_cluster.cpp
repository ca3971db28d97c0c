// Cluster presence and cross-node forwarding over Redis.
#include <chat/asio/logging.hpp>
#include <chat/protocol/frame.hpp>
#include <chat/protocol/message.hpp>
#include <chat/services/redis_cluster.hpp>

#include "forward_payload.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <charconv>
#include <map>
#include <utility>

namespace chat::services {

using protocol::errc;

namespace {

std::shared_ptr<spdlog::logger> logger() { return named_logger("redis"); }

const std::string node_prefix = "chat:node:";
const std::string user_prefix = "chat:user:";
const std::string channel_prefix = "chat:deliver:";

std::string user_key(user_id u) { return user_prefix + std::to_string(u); }

// A claim is "<node>@<incarnation>"; the node's liveness key holds its incarnation, a random
// value drawn at every start. So a claim made by an earlier run of a node that has since
// restarted under the same node id is as dead as one of a node that is gone.
// holder_node(claim) -> the node when the claim's run is alive, else nil.
const std::string holder_node_lua = R"lua(
local function holder_node(holder, node_prefix)
  local at = string.find(holder, '@', 1, true)
  if not at then
    return nil
  end
  local node = string.sub(holder, 1, at - 1)
  if redis.call('GET', node_prefix .. node) == string.sub(holder, at + 1) then
    return node
  end
  return nil
end
)lua";

// Atomically: take the user unless a live other run of a node holds it. Returns 1 when claimed.
const std::string claim_script = holder_node_lua + R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and holder_node(holder, ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
)lua";

// Atomically: forget the user only if this run holds it (another node may have taken over).
const std::string release_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

// Routes a batch of messages and publishes them, atomically with the presence it reads.
// KEYS: the recipients' user keys, message after message.
// ARGV: this node's claim value, node key prefix, channel prefix, user key prefix, then for each
//       message its recipient count and its JSON body.
// Each live other node gets one PUBLISH holding its records (forward_payload.hpp); returns
// {message number, user id, ...} for every recipient no node took (offline, here, or its
// node is gone or not subscribed).
const std::string route_script = holder_node_lua + R"lua(
local self, node_prefix, channel_prefix, user_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local live, records, sent, nodes, left = {}, {}, {}, {}, {}
local k = 1
local message = 0
for a = 5, #ARGV, 2 do
  message = message + 1
  local body = ARGV[a + 1]
  local by_node = {}
  for _ = 1, tonumber(ARGV[a]) do
    local key = KEYS[k]
    k = k + 1
    local id = string.sub(key, #user_prefix + 1)
    local holder = redis.call('GET', key)
    local node = nil
    if holder and holder ~= self then
      if live[holder] == nil then
        live[holder] = holder_node(holder, node_prefix) or false
      end
      node = live[holder]
    end
    if node then
      if not by_node[node] then
        by_node[node] = {}
        if not records[node] then
          records[node], sent[node] = {}, {}
          nodes[#nodes + 1] = node
        end
      end
      local ids = by_node[node]
      ids[#ids + 1] = id
      local s = sent[node]
      s[#s + 1] = message
      s[#s + 1] = tonumber(id)
    else
      left[#left + 1] = message
      left[#left + 1] = tonumber(id)
    end
  end
  for node, ids in pairs(by_node) do
    local r = records[node]
    r[#r + 1] = table.concat(ids, ',') .. '\n' .. #body .. '\n' .. body
  end
end
for _, node in ipairs(nodes) do
  if redis.call('PUBLISH', channel_prefix .. node, table.concat(records[node])) == 0 then
    for _, v in ipairs(sent[node]) do
      left[#left + 1] = v
    end
  end
end
return left
)lua";

// Messages per route script: bounds how long one script holds Redis.
constexpr std::size_t max_route_batch = 256;
constexpr std::size_t max_route_bytes = 1u << 20;

// 64 random bits in hex: tells this run of the node from its earlier ones.
std::string new_run_id() {
  std::random_device seed;
  const std::uint64_t bits = (std::uint64_t{seed()} << 32) | seed();
  std::array<char, 16> text{};
  const auto end = std::to_chars(text.data(), text.data() + text.size(), bits, 16).ptr;
  return std::string(text.data(), end);
}

}  // namespace

redis_cluster::redis_cluster(const asio::any_io_executor& ex, broker::redis_broker& broker, std::string node_id,
                             std::chrono::milliseconds node_ttl)
    : ex_(asio::make_strand(ex)),
      broker_(broker),
      node_id_(std::move(node_id)),
      node_key_(node_prefix + node_id_),
      run_id_(new_run_id()),
      claim_value_(node_id_ + "@" + run_id_),
      node_ttl_(node_ttl),
      timer_(ex_) {}

void redis_cluster::start(inbound_handler on_inbound, local_users_fn local_users) {
  local_users_ = std::move(local_users);
  broker_.subscribe(channel_prefix + node_id_, [on_inbound = std::move(on_inbound)](std::string_view,
                                                                                      std::string_view payload) {
    std::vector<detail::forwarded_record> records;
    if (!detail::parse_forward_payload(payload, records)) {
      logger()->error("dropped malformed forwarded messages ({} bytes)", payload.size());
      return;
    }
    for (auto& r : records) {
      on_inbound(std::move(r.recipients), std::make_shared<const std::string>(protocol::encode_frame(r.body)));
    }
  });
  broker_.set_event_handler([this](broker::redis_event e) {
    logger()->info("redis {}", broker::to_string(e));
    if (e == broker::redis_event::commands_up) {
      if (std::exchange(commands_were_up_, true)) {
        metrics::inc(reconnects_);
      }
      // Redis may have restarted empty: say again who is here, at the next heartbeat.
      reclaim_needed_ = true;
      asio::post(ex_, [this] { timer_.cancel(); });  // the timer belongs to the heartbeat's strand
    }
  });
  asio::co_spawn(ex_, heartbeat(), asio::detached);
}

awaitable<void> redis_cluster::heartbeat() {
  const auto period = node_ttl_ / 3;
  while (!stopped_) {
    std::vector<std::string> cmd{"SET", node_key_, run_id_, "PX", std::to_string(node_ttl_.count())};
    auto reply = co_await broker_.client().command(std::move(cmd));
    if (!reply || reply->is_error()) {
      logger()->warn("liveness of node {} not refreshed: Redis unavailable", node_id_);
    } else if (reclaim_needed_.exchange(false)) {
      co_await reclaim_all();
    }
    timer_.expires_after(period);
    co_await timer_.async_wait(use_nothrow);
  }
}

awaitable<void> redis_cluster::reclaim_all() {
  if (!local_users_) {
    co_return;
  }
  const auto users = local_users_();
  std::size_t taken = 0;
  for (user_id u : users) {
    auto r = co_await claim(u);
    taken += r && *r;
  }
  if (!users.empty()) {
    logger()->info("claimed {} of {} local users again after a Redis reconnect", taken, users.size());
  }
}

awaitable<void> redis_cluster::stop() {
  stopped_ = true;
  asio::post(ex_, [this] { timer_.cancel(); });
  std::vector<std::string> cmd{"DEL", node_key_};
  co_await broker_.client().command(std::move(cmd));
}

awaitable<boost::system::result<bool>> redis_cluster::claim(user_id user) {
  std::vector<std::string> cmd{"EVAL", claim_script, "1", user_key(user), claim_value_, node_prefix};
  auto reply = co_await broker_.client().command(std::move(cmd));
  if (!reply || reply->type != broker::resp_type::integer) {
    co_return errc::unavailable;
  }
  co_return reply->integer == 1;
}

awaitable<void> redis_cluster::release(user_id user) {
  std::vector<std::string> cmd{"EVAL", release_script, "1", user_key(user), claim_value_};
  auto reply = co_await broker_.client().command(std::move(cmd));
  if (!reply || reply->is_error()) {
    logger()->warn("release of user={} not recorded: Redis unavailable", user);
  }
}

// Online elsewhere: claimed by a run of another node, or an earlier run of this one, that is alive.
awaitable<boost::system::result<std::vector<bool>>> redis_cluster::online_elsewhere(std::vector<user_id> users) {
  std::vector<std::string> args{"MGET"};
  for (user_id u : users) {
    args.push_back(user_key(u));
  }
  auto reply = co_await broker_.client().command(std::move(args));
  if (!reply || !reply->is_array() || reply->elements.size() != users.size()) {
    co_return errc::unavailable;
  }
  // The claims' nodes, each once, with the run each claim names.
  std::vector<std::string> nodes;
  std::vector<std::pair<std::size_t, std::string_view>> claims(users.size(), {0, {}});  // node index, run
  for (std::size_t i = 0; i < users.size(); ++i) {
    const auto& e = reply->elements[i];
    const auto at = e.is_string() ? e.string.find('@') : std::string::npos;
    if (at == std::string::npos || e.string == claim_value_) {
      continue;  // nobody, or this run (the user is not here: it has just left)
    }
    const std::string_view node = std::string_view(e.string).substr(0, at);
    auto it = std::find(nodes.begin(), nodes.end(), node);
    if (it == nodes.end()) {
      it = nodes.insert(nodes.end(), std::string(node));
    }
    claims[i] = {static_cast<std::size_t>(it - nodes.begin()) + 1, std::string_view(e.string).substr(at + 1)};
  }
  std::vector<bool> online(users.size(), false);
  if (nodes.empty()) {
    co_return online;
  }
  std::vector<std::string> live_args{"MGET"};
  for (const auto& n : nodes) {
    live_args.push_back(node_prefix + n);
  }
  auto live = co_await broker_.client().command(std::move(live_args));
  if (!live || !live->is_array() || live->elements.size() != nodes.size()) {
    co_return errc::unavailable;
  }
  for (std::size_t i = 0; i < users.size(); ++i) {
    const auto& [node, run] = claims[i];
    if (node != 0) {
      const auto& current = live->elements[node - 1];
      online[i] = current.is_string() && current.string == run;
    }
  }
  co_return online;
}

awaitable<boost::system::result<std::vector<user_id>>> redis_cluster::forward(std::vector<user_id> recipients,
                                                                              std::shared_ptr<const std::string> frame) {
  auto initiation = [this](auto done, asio::any_io_executor ex, std::vector<user_id> r,
                           std::shared_ptr<const std::string> f) {
    queue_route({std::move(r), std::move(f), std::move(ex), std::move(done)});
  };
  asio::any_io_executor ex = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::vector<user_id>)>(
      std::move(initiation), asio::use_awaitable, std::move(ex), std::move(recipients), std::move(frame));
}

void redis_cluster::queue_route(route_request request) {
  {
    std::lock_guard lock(route_mutex_);
    routes_.push_back(std::move(request));
    if (routing_) {
      return;
    }
    routing_ = true;
  }
  // Outside the lock: co_spawn may start the loop inline, and it takes the lock.
  asio::co_spawn(ex_, route_loop(), asio::detached);
}

// One batch at a time, in arrival order: messages of one sender keep their order because
// Redis runs the scripts, and delivers their publications, in the order they were sent.
awaitable<void> redis_cluster::route_loop() {
  for (;;) {
    std::vector<route_request> batch;
    {
      std::lock_guard lock(route_mutex_);
      if (routes_.empty()) {
        routing_ = false;
        co_return;
      }
      std::size_t taken = 0;
      std::size_t bytes = 0;
      while (taken < routes_.size() && taken < max_route_batch && bytes < max_route_bytes) {
        bytes += routes_[taken++].frame->size();
      }
      batch.assign(std::make_move_iterator(routes_.begin()), std::make_move_iterator(routes_.begin() + taken));
      routes_.erase(routes_.begin(), routes_.begin() + taken);
    }
    const auto started = std::chrono::steady_clock::now();
    auto left = co_await route(batch);
    metrics::observe(route_seconds_, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      // Resumes each sender on its own executor, never inline on this strand.
      asio::post(batch[i].ex, asio::append(std::move(batch[i].done), std::move(left[i])));
    }
  }
}

awaitable<std::vector<std::vector<user_id>>> redis_cluster::route(const std::vector<route_request>& batch) {
  boost::system::result<broker::resp_value> reply = errc::unavailable;
  // EVALSHA; the script is loaded first when Redis does not know it (first use, a restart).
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (route_sha_.empty()) {
      std::vector<std::string> load{"SCRIPT", "LOAD", route_script};
      auto sha = co_await broker_.client().command(std::move(load));
      if (!sha || !sha->is_string()) {
        reply = std::move(sha);
        break;
      }
      route_sha_ = std::move(sha->string);
    }
    reply = co_await broker_.client().command(route_command(batch));
    if (!reply || !reply->is_error() || !reply->string.starts_with("NOSCRIPT")) {
      break;
    }
    route_sha_.clear();
  }
  std::vector<std::vector<user_id>> left(batch.size());
  if (reply && reply->is_array() && reply->elements.size() % 2 == 0) {
    for (std::size_t i = 0; i < reply->elements.size(); i += 2) {
      const auto message = reply->elements[i].integer;
      if (message >= 1 && static_cast<std::size_t>(message) <= batch.size()) {
        left[static_cast<std::size_t>(message) - 1].push_back(reply->elements[i + 1].integer);
      }
    }
    co_return left;
  }
  logger()->warn("routing {} messages failed ({}): storing them", batch.size(),
                 reply ? broker::to_string(*reply) : reply.error().message());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    left[i] = batch[i].recipients;  // cannot route: store for everyone
  }
  co_return left;
}

std::vector<std::string> redis_cluster::route_command(const std::vector<route_request>& batch) const {
  std::size_t keys = 0;
  for (const auto& r : batch) {
    keys += r.recipients.size();
  }
  std::vector<std::string> cmd{"EVALSHA", route_sha_, std::to_string(keys)};
  cmd.reserve(cmd.size() + keys + 4 + 2 * batch.size());
  for (const auto& r : batch) {
    for (user_id u : r.recipients) {
      cmd.push_back(user_key(u));
    }
  }
  cmd.insert(cmd.end(), {claim_value_, node_prefix, channel_prefix, user_prefix});
  for (const auto& r : batch) {
    cmd.push_back(std::to_string(r.recipients.size()));
    cmd.emplace_back(std::string_view(*r.frame).substr(protocol::frame_header_bytes));
  }
  return cmd;
}

}  // namespace chat::services

namespace chat::services {

awaitable<boost::system::result<std::int64_t>> redis_cluster::group_version(group_id group) {
  std::vector<std::string> cmd{"GET", "chat:gver:" + std::to_string(group)};
  auto reply = co_await broker_.client().command(std::move(cmd));
  if (!reply || !(reply->is_null() || reply->is_string())) {
    co_return errc::unavailable;
  }
  std::int64_t version = 0;
  if (reply->is_string()) {
    std::from_chars(reply->string.data(), reply->string.data() + reply->string.size(), version);
  }
  co_return version;
}

awaitable<boost::system::result<std::int64_t>> redis_cluster::bump_group_version(group_id group) {
  std::vector<std::string> cmd{"INCR", "chat:gver:" + std::to_string(group)};
  auto reply = co_await broker_.client().command(std::move(cmd));
  if (!reply || reply->type != broker::resp_type::integer) {
    co_return errc::unavailable;
  }
  co_return reply->integer;
}

}  // namespace chat::services
