// setup: registers the users, creates the groups (the first member logs in and creates one)
// and adds the other members (each logs in and joins), every phase spread over --concurrency
// connections, then writes the state file.
#include "address.hpp"
#include "handshake.hpp"
#include "measured_run.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "state_file.hpp"

#include <atomic>
#include <cstdio>

namespace chat::bench {

namespace {

// The server closes connections that do not log in within limits.login_timeout_ms (60 s by
// default), and registering does not log in: workers open a new connection well before that.
constexpr std::chrono::seconds connection_lifetime{30};

enum class phase { register_users, create_groups, add_members };

// What the workers of all shards share. Each task index is taken by one worker, so the
// vectors' elements are written by one thread each and read after the phase's join().
struct setup_job {
  const setup_options& options;
  std::vector<asio::ip::tcp::endpoint> endpoints;
  bench_state state;
  std::atomic<std::size_t> next_task{0};
  std::atomic<std::size_t> tasks_done{0};

  std::size_t tasks(phase p) const {
    const auto groups = static_cast<std::size_t>(options.groups);
    const auto members = static_cast<std::size_t>(options.members);
    switch (p) {
      case phase::register_users:
        return static_cast<std::size_t>(options.users);
      case phase::create_groups:
        return groups;
      case phase::add_members:
        return groups * (members - 1);
    }
    return 0;
  }
};

class setup_worker final : public frame_sink {
 public:
  setup_worker(shard& home, setup_job& job, std::size_t index) : home_(home), job_(job), index_(index) {}

  awaitable<void> run(phase p) {
    const std::size_t tasks = job_.tasks(p);
    for (std::size_t task = job_.next_task++; task < tasks; task = job_.next_task++) {
      const bool connected = co_await ensure_connected();
      if (!connected) {
        break;
      }
      const bool done = co_await run_task(p, task);
      if (done) {
        ++job_.tasks_done;
      }
    }
    if (conn_) {
      conn_->close();
    }
  }

  void on_frame(client&, std::int64_t msgid, const boost::json::object&) override {
    ++home_.stats().errors.unexpected;
    home_.note("setup: unexpected msgid " + std::to_string(msgid));
  }

  void on_lost(client&) override {}

 private:
  awaitable<bool> ensure_connected() {
    if (conn_ && conn_->is_open() && clock::now() - connected_at_ < connection_lifetime) {
      co_return true;
    }
    if (conn_) {
      conn_->close();
    }
    conn_ = std::make_shared<client>(home_, *this);
    connected_at_ = clock::now();
    co_return co_await conn_->connect(endpoint_for(job_.endpoints, index_));
  }

  awaitable<bool> run_task(phase p, std::size_t task) {
    auto& state = job_.state;
    const auto members = static_cast<std::size_t>(job_.options.members);
    switch (p) {
      case phase::register_users: {
        auto& user = state.users[task];
        auto ack = co_await conn_->request(reg_request(user.name, state.password), protocol::msgid::reg_ack);
        if (!acknowledged(home_, ack, "REG of " + user.name)) {
          co_return false;
        }
        user.id = ack->at("id").to_number<std::int64_t>();
        co_return true;
      }
      case phase::create_groups: {
        auto& group = state.groups[task];
        const std::string name = job_.options.prefix + "g" + std::to_string(task);
        co_return co_await as_member(group.members.front(), create_group_request(name),
                                     protocol::msgid::create_group_ack, &group.id);
      }
      case phase::add_members: {
        const auto& group = state.groups[task / (members - 1)];
        const auto member = group.members[1 + task % (members - 1)];
        co_return co_await as_member(member, add_group_request(group.id), protocol::msgid::add_group_ack, nullptr);
      }
    }
    co_return false;
  }

  // LOGIN as `user`, one request, LOGINOUT. `group_id`: where to store the ack's groupid.
  awaitable<bool> as_member(std::int64_t user, std::string request, protocol::msgid answer, std::int64_t* group_id) {
    const bool logged_in = co_await login(*conn_, user, job_.state.password);
    if (!logged_in) {
      co_return false;
    }
    auto ack = co_await conn_->request(std::move(request), answer);
    bool ok = acknowledged(home_, ack, "request of user " + std::to_string(user));
    if (ok && group_id != nullptr) {
      *group_id = ack->at("groupid").to_number<std::int64_t>();
    }
    const bool logged_out = co_await logout(*conn_);
    co_return ok&& logged_out;
  }

  shard& home_;
  setup_job& job_;
  std::size_t index_;
  std::shared_ptr<client> conn_;
  clock::time_point connected_at_{};
};

// Runs one phase on `concurrency` workers; returns its duration in seconds.
double run_phase(shard_pool& pool, setup_job& job, phase p, int concurrency) {
  job.next_task = 0;
  job.tasks_done = 0;
  std::vector<std::unique_ptr<setup_worker>> workers;
  for (std::size_t i = 0; i < static_cast<std::size_t>(concurrency); ++i) {
    workers.push_back(std::make_unique<setup_worker>(pool[i], job, i));
    pool[i].spawn(workers.back()->run(p));
  }
  const auto started = clock::now();
  pool.start();
  pool.join();
  return std::chrono::duration<double>(clock::now() - started).count();
}

}  // namespace

boost::json::object run_setup(const common_options& opt, const setup_options& setup) {
  const auto users = static_cast<std::size_t>(setup.users);
  const auto groups = static_cast<std::size_t>(setup.groups);
  const auto members = static_cast<std::size_t>(setup.members);
  if (groups * members > users) {
    throw usage_error("groups of disjoint members need --users >= groups * members (" +
                      std::to_string(groups * members) + ")");
  }
  if (groups > 0 && members < 1) {
    throw usage_error("a group needs at least one member");
  }
  setup_job job{setup, resolve_all(opt.connect), {}};
  job.state.password = setup.password;
  for (std::size_t i = 0; i < users; ++i) {
    job.state.users.push_back({0, setup.prefix + std::to_string(i)});
  }

  shard_pool pool(opt.threads, std::chrono::milliseconds(opt.timeout_ms), opt.payload);
  const usage_sample first = sample_usage(opt.server_pids);
  const double register_s = run_phase(pool, job, phase::register_users, setup.concurrency);
  const std::size_t registered = job.tasks_done;
  double groups_s = 0;
  bool complete = registered == users;
  if (complete && groups > 0) {
    for (std::size_t g = 0; g < groups; ++g) {
      bench_group group;
      for (std::size_t m = 0; m < members; ++m) {
        group.members.push_back(job.state.users[g * members + m].id);
      }
      job.state.groups.push_back(std::move(group));
    }
    groups_s += run_phase(pool, job, phase::create_groups, setup.concurrency);
    complete = job.tasks_done == groups;
    if (complete && members > 1) {
      groups_s += run_phase(pool, job, phase::add_members, setup.concurrency);
      complete = job.tasks_done == job.tasks(phase::add_members);
    }
  }
  const usage_sample last = sample_usage(opt.server_pids);

  measured_run run;
  run.stats = pool.merged_stats();
  run.duration_s = register_s + groups_s;
  set_usage(run, opt.server_pids, first, last);
  if (complete) {
    save_state(opt.state_file, job.state);
  } else {
    // Every failed task was counted as an error where it happened: the run exits 1.
    std::fprintf(stderr, "chat_bench: setup incomplete, %s not written\n", opt.state_file.c_str());
  }

  auto report = report_header("setup", opt);
  add_measured(report, run);
  report["users"] = registered;
  report["register_s"] = register_s;
  report["users_per_s"] = static_cast<double>(registered) / register_s;
  report["groups"] = complete ? groups : 0;
  report["members"] = members;
  report["groups_s"] = groups_s;
  report["state_file"] = complete ? opt.state_file : "";
  report["prefix"] = setup.prefix;
  return report;
}

}  // namespace chat::bench
