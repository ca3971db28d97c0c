// group: in each group every member logs in; the first member sends GROUP_CHAT_MSGs with a
// cid, keeping `window` of them awaiting their CHAT_ACK, and every other member counts the
// deliveries (members - 1 per message).
#include "address.hpp"
#include "handshake.hpp"
#include "measured_run.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "state_file.hpp"

#include <algorithm>

namespace chat::bench {

namespace {

class group_run final : public frame_sink {
 public:
  group_run(shard& home, readiness& ready, std::int64_t group, const std::vector<std::int64_t>& members,
            std::string password, int window)
      : home_(home), ready_(ready), group_(group), password_(std::move(password)), window_(window), wake_(home.io()) {
    for (std::size_t i = 0; i < members.size(); ++i) {
      members_.push_back({std::make_shared<client>(home, *this, i), members[i], {}});
    }
  }

  std::size_t size() const noexcept { return members_.size(); }

  // One readiness unit per member: connect and log in, side by side.
  // `endpoint` outlives the run (the scenario's).
  awaitable<void> join(const asio::ip::tcp::endpoint& endpoint, std::size_t i) {
    arrival arrived(ready_);
    const bool ok = co_await connect_and_login(*members_[i].conn, endpoint, members_[i].id, password_);
    if (!ok) {
      members_[i].conn->close();  // not online: run() leaves it out
    }
  }

  // Not a readiness unit: starts once the gate opens, when every member's login has ended.
  awaitable<void> run() {
    co_await home_.wait_open();
    online_ = static_cast<std::uint64_t>(
        std::count_if(members_.begin(), members_.end(), [](const member& m) { return m.conn->is_open(); }));
    const run_window& w = home_.window();
    if (sender().is_open()) {
      for (int i = 0; i < window_; ++i) {
        send();
      }
      wake_.expires_at(w.end);
      while (clock::now() < w.end && sender().is_open()) {
        co_await wake_.async_wait(use_nothrow);
      }
      wake_.expires_at(w.drain_end);
      while (!drained() && sender().is_open() && clock::now() < w.drain_end) {
        co_await wake_.async_wait(use_nothrow);
      }
      home_.stats().errors.lost += outstanding_;  // acks
      home_.stats().errors.count_arrivals(sent_ * (online_ - 1), received_);
    }
    for (auto& m : members_) {
      co_await logout_and_close(*m.conn);
    }
  }

  void on_frame(client& from, std::int64_t msgid, const boost::json::object& frame) override {
    if (from.tag() == 0) {
      on_sender_frame(msgid, frame);
    } else {
      on_member_frame(members_[from.tag()], msgid, frame);
    }
  }

  void on_lost(client&) override { wake_.cancel(); }

 private:
  struct member {
    std::shared_ptr<client> conn;
    std::int64_t id = 0;
    clock::time_point last_stamp{};
  };

  client& sender() { return *members_.front().conn; }

  void send() {
    const auto now = clock::now();
    std::string& body = home_.scratch();
    append_group_chat(body, group_, now, home_.payload(), next_cid_++);
    sender().send(body);
    ++sent_;
    ++outstanding_;
    if (home_.window().measuring(now)) {
      ++home_.stats().sent;
    }
  }

  void on_sender_frame(std::int64_t msgid, const boost::json::object& frame) {
    const auto* cid = frame.if_contains("cid");
    if (msgid != protocol::to_int(protocol::msgid::chat_ack) || outstanding_ == 0 || cid == nullptr ||
        !cid->is_int64() || cid->get_int64() != next_ack_) {
      ++home_.stats().errors.unexpected;
      home_.note("group sender: unexpected frame (msgid " + std::to_string(msgid) + ")");
      return;
    }
    ++next_ack_;  // acks come in the order sent: the server handles one sender's requests in turn
    --outstanding_;
    if (clock::now() < home_.window().end) {
      send();
    } else if (drained()) {
      wake_.cancel();
    }
  }

  void on_member_frame(member& m, std::int64_t msgid, const boost::json::object& frame) {
    auto& stats = home_.stats();
    if (msgid != protocol::to_int(protocol::msgid::group_chat)) {
      ++stats.errors.unexpected;
      home_.note("group member: unexpected msgid " + std::to_string(msgid));
      return;
    }
    const auto now = clock::now();
    ++received_;
    const auto* group = frame.if_contains("groupid");
    const auto* msg = frame.if_contains("msg");
    const auto stamp = msg != nullptr && msg->is_string() ? parse_stamp(msg->get_string()) : std::nullopt;
    if (!stamp || group == nullptr || !group->is_int64() || group->get_int64() != group_) {
      ++stats.errors.protocol;
      home_.note("group member: a GROUP_CHAT_MSG without our time stamp or of another group");
    } else {
      if (*stamp < m.last_stamp) {
        ++stats.errors.out_of_order;
      }
      m.last_stamp = *stamp;
      if (home_.window().measuring(now)) {
        ++stats.delivered;
        stats.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, to_ns(now) - to_ns(*stamp))));
      }
    }
    if (now >= home_.window().end && drained()) {
      wake_.cancel();
    }
  }

  bool drained() const noexcept { return outstanding_ == 0 && received_ == sent_ * (online_ - 1); }

  shard& home_;
  readiness& ready_;
  std::int64_t group_;
  std::string password_;
  int window_;
  std::vector<member> members_;  // [0] is the sender
  asio::steady_timer wake_;
  std::uint64_t online_ = 0;  // members logged in when the gate opened
  std::uint64_t sent_ = 0;
  std::uint64_t outstanding_ = 0;  // sent, not yet acknowledged
  std::uint64_t received_ = 0;     // deliveries at all members
  std::int64_t next_cid_ = 1;
  std::int64_t next_ack_ = 1;
};

}  // namespace

boost::json::object run_group(const common_options& opt, const group_options& g) {
  const auto endpoints = resolve_all(opt.connect);
  const bench_state state = load_state(opt.state_file);
  const auto groups = static_cast<std::size_t>(g.groups);
  if (state.groups.size() < groups) {
    throw usage_error(std::to_string(groups) + " groups wanted; " + opt.state_file + " has " +
                      std::to_string(state.groups.size()));
  }

  shard_pool pool(opt.threads, std::chrono::milliseconds(opt.timeout_ms), opt.payload);
  std::vector<std::vector<std::int64_t>> online(groups);
  std::size_t units = 0;
  for (std::size_t i = 0; i < groups; ++i) {
    const auto& members = state.groups[i].members;
    const std::size_t n = g.members == 0 ? members.size() : std::min<std::size_t>(g.members, members.size());
    if (n < 2) {
      throw usage_error("group " + std::to_string(state.groups[i].id) + " needs at least 2 members online");
    }
    online[i].assign(members.begin(), members.begin() + static_cast<std::ptrdiff_t>(n));
    units += n;
  }
  readiness ready(units);
  std::vector<std::shared_ptr<group_run>> runs;
  for (std::size_t i = 0; i < groups; ++i) {
    auto run = std::make_shared<group_run>(pool[i], ready, state.groups[i].id, online[i], state.password, g.window);
    for (std::size_t m = 0; m < run->size(); ++m) {
      pool[i].spawn(run->join(endpoint_for(endpoints, m), m));
    }
    pool[i].spawn(run->run());
    runs.push_back(std::move(run));
  }
  const measured_run result = run_measured(pool, ready, opt);

  auto report = report_header("group", opt);
  report["groups"] = g.groups;
  report["members_online"] = online.front().size();
  report["window"] = g.window;
  add_measured(report, result);
  report["messages_sent"] = result.stats.sent;
  report["deliveries_per_s"] = report["msgs_per_s"];
  return report;
}

}  // namespace chat::bench
