// Cluster presence and cross-node forwarding over Redis.
#include <chat/asio/logging.hpp>
#include <chat/protocol/frame.hpp>
#include <chat/protocol/message.hpp>
#include <chat/services/redis_cluster.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <charconv>
#include <map>

namespace chat::services {

using protocol::errc;

namespace {

std::shared_ptr<spdlog::logger> logger() { return named_logger("redis"); }

const std::string node_prefix = "chat:node:";
const std::string user_prefix = "chat:user:";
const std::string channel_prefix = "chat:deliver:";

std::string user_key(user_id u) { return user_prefix + std::to_string(u); }

// Atomically: take the user unless a live other node holds it. Returns 1 when claimed.
const std::string claim_script = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. holder) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
)lua";

// Atomically: forget the user only if this node holds it (another node may have taken over).
const std::string release_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

// Payload of a forwarded frame: "<id>,<id>,...\n<JSON body>".
std::string forward_payload(const std::vector<user_id>& recipients, std::string_view body) {
  std::string out;
  for (user_id r : recipients) {
    if (!out.empty()) {
      out += ',';
    }
    out += std::to_string(r);
  }
  out += '\n';
  out += body;
  return out;
}

bool parse_payload(std::string_view payload, std::vector<user_id>& recipients, std::string_view& body) {
  const auto nl = payload.find('\n');
  if (nl == std::string_view::npos) {
    return false;
  }
  std::string_view ids = payload.substr(0, nl);
  body = payload.substr(nl + 1);
  while (!ids.empty()) {
    const auto comma = ids.find(',');
    const auto token = ids.substr(0, comma);
    user_id id = 0;
    auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), id);
    if (ec != std::errc{} || ptr != token.data() + token.size() || id <= 0) {
      return false;
    }
    recipients.push_back(id);
    ids = comma == std::string_view::npos ? std::string_view{} : ids.substr(comma + 1);
  }
  return !recipients.empty() && !body.empty();
}

}  // namespace

redis_cluster::redis_cluster(const asio::any_io_executor& ex, broker::redis_broker& broker, std::string node_id,
                             std::chrono::milliseconds node_ttl)
    : ex_(asio::make_strand(ex)),
      broker_(broker),
      node_id_(std::move(node_id)),
      node_key_(node_prefix + node_id_),
      node_ttl_(node_ttl),
      timer_(ex_) {}

void redis_cluster::start(inbound_handler on_inbound, local_users_fn local_users) {
  local_users_ = std::move(local_users);
  broker_.subscribe(channel_prefix + node_id_, [on_inbound = std::move(on_inbound)](std::string_view,
                                                                                      std::string_view payload) {
    std::vector<user_id> recipients;
    std::string_view body;
    if (!parse_payload(payload, recipients, body)) {
      logger()->error("dropped a malformed forwarded message ({} bytes)", payload.size());
      return;
    }
    on_inbound(std::move(recipients), std::make_shared<const std::string>(protocol::encode_frame(body)));
  });
  broker_.set_event_handler([this](broker::redis_event e) {
    logger()->info("redis {}", broker::to_string(e));
    if (e == broker::redis_event::commands_up) {
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
    std::vector<std::string> cmd{"SET", node_key_, "1", "PX", std::to_string(node_ttl_.count())};
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
  std::vector<std::string> cmd{"EVAL", claim_script, "1", user_key(user), node_id_, node_prefix};
  auto reply = co_await broker_.client().command(std::move(cmd));
  if (!reply || reply->type != broker::resp_type::integer) {
    co_return errc::unavailable;
  }
  co_return reply->integer == 1;
}

awaitable<void> redis_cluster::release(user_id user) {
  std::vector<std::string> cmd{"EVAL", release_script, "1", user_key(user), node_id_};
  auto reply = co_await broker_.client().command(std::move(cmd));
  if (!reply || reply->is_error()) {
    logger()->warn("release of user={} not recorded: Redis unavailable", user);
  }
}

awaitable<boost::system::result<std::vector<std::string>>> redis_cluster::holders(const std::vector<user_id>& users) {
  std::vector<std::string> args{"MGET"};
  for (user_id u : users) {
    args.push_back(user_key(u));
  }
  auto reply = co_await broker_.client().command(std::move(args));
  if (!reply || !reply->is_array() || reply->elements.size() != users.size()) {
    co_return errc::unavailable;
  }
  std::vector<std::string> nodes(users.size());
  std::vector<std::string> distinct;
  for (std::size_t i = 0; i < users.size(); ++i) {
    const auto& e = reply->elements[i];
    if (e.is_string() && e.string != node_id_) {
      nodes[i] = e.string;
      if (std::find(distinct.begin(), distinct.end(), e.string) == distinct.end()) {
        distinct.push_back(e.string);
      }
    }
  }
  if (distinct.empty()) {
    co_return nodes;
  }
  std::vector<std::string> live_args{"MGET"};
  for (const auto& n : distinct) {
    live_args.push_back(node_prefix + n);
  }
  auto live = co_await broker_.client().command(std::move(live_args));
  if (!live || !live->is_array() || live->elements.size() != distinct.size()) {
    co_return errc::unavailable;
  }
  for (auto& n : nodes) {
    if (n.empty()) {
      continue;
    }
    const auto i = static_cast<std::size_t>(std::find(distinct.begin(), distinct.end(), n) - distinct.begin());
    if (live->elements[i].is_null()) {
      n.clear();  // its node is dead: the user is offline
    }
  }
  co_return nodes;
}

awaitable<boost::system::result<std::vector<bool>>> redis_cluster::online_elsewhere(std::vector<user_id> users) {
  auto nodes = co_await holders(users);
  if (!nodes) {
    co_return nodes.error();
  }
  std::vector<bool> online;
  for (const auto& n : *nodes) {
    online.push_back(!n.empty());
  }
  co_return online;
}

awaitable<boost::system::result<std::vector<user_id>>> redis_cluster::forward(std::vector<user_id> recipients,
                                                                              std::shared_ptr<const std::string> frame) {
  auto nodes = co_await holders(recipients);
  if (!nodes) {
    co_return recipients;  // cannot route: the caller stores for everyone
  }
  std::map<std::string, std::vector<user_id>> by_node;
  std::vector<user_id> left;
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    if ((*nodes)[i].empty()) {
      left.push_back(recipients[i]);
    } else {
      by_node[(*nodes)[i]].push_back(recipients[i]);
    }
  }
  const std::string_view body = std::string_view(*frame).substr(protocol::frame_header_bytes);
  for (auto& [node, users] : by_node) {
    // PUBLISH answers how many subscribers got it: 0 means that node is gone after all.
    std::vector<std::string> cmd{"PUBLISH", channel_prefix + node, forward_payload(users, body)};
    auto reply = co_await broker_.client().command(std::move(cmd));
    if (!reply || reply->type != broker::resp_type::integer || reply->integer < 1) {
      left.insert(left.end(), users.begin(), users.end());
    }
  }
  co_return left;
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
