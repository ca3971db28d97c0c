// Soak: mixed load against a two-node cluster behind nginx for CHAT_SOAK_SECONDS (default 1800)
// with a fault every few minutes, rotating through: node SIGKILL and restart, Redis restart,
// MariaDB restart, node SIGSTOP/SIGCONT (the two nodes by turns). See tests/soak/README.md.
//
// Load (chat_test::load, every request with a unique cid): 14 users on the balancer, one-to-one
// pairs within and across nodes, two groups, two users that stay offline until the end, four
// that log out and back in every ~20 s (logins, offline messages, reconnects).
//
// Every 10 s each node's RSS and open fd count are sampled. At the end:
//   - the ledger as in the fault tests: every CHAT_ACKed message delivered exactly once, except
//     those whose recipient's connection was on a node in the instant it was SIGKILLed (counted
//     apart); nothing else lost, nothing duplicated, every connection working;
//   - no node died that was not killed on purpose;
//   - stability, per node, over the samples of its longest-lived process after its first 30 s
//     (warm-up): the median RSS of the last third of the samples at most 20 % + 2 MiB above the
//     first third's, and the median of its own fds (open fds minus client connections, which
//     move between the nodes as they die, and minus database connections, which the pool opens
//     on demand up to [mysql] pool_size and shows in their own column) at most 5 above. Medians, because a login storm after
//     a node's death briefly costs Argon2id memory. A leak proportional to traffic or to
//     reconnects grows without bound; steady state stays flat.
// The table of samples and the verdict are printed and written to CHAT_SOAK_REPORT.
//
// Ports base+80 .. base+84 (tests/CMakeLists.txt, fault/churn/soak section).
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/cluster.hpp>
#include <chat_test/env.hpp>
#include <chat_test/fault.hpp>
#include <chat_test/load.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace {

using namespace chat_test;

constexpr millis idle{cluster_idle_timeout_ms};
constexpr millis sample_every{10000};
constexpr millis warm_up{30000};

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

struct sample {
  long t_s = 0;
  pid_t pid[2] = {-1, -1};
  long rss[2] = {-1, -1};
  int fds[2] = {-1, -1};
  int clients[2] = {-1, -1};  // of the fds: client connections (they move when a node dies)
  int db[2] = {-1, -1};       // of the fds: database connections (the pool, bounded by pool_size)
  std::size_t sent = 0;
  std::size_t acked = 0;
  std::string events;
};

// Faults on their own thread (the scripts block), one every `interval`, until stopped.
class fault_rotation {
 public:
  fault_rotation(load& l, mariadb_instance& db, redis_instance& redis, node_process& n1, node_process& n2,
                 millis interval)
      : l_(l), db_(db), redis_(redis), nodes_{&n1, &n2}, interval_(interval) {
    pids_[0] = n1.pid();
    pids_[1] = n2.pid();
    thread_ = std::thread([this] { run(); });
  }
  ~fault_rotation() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  pid_t pid(int node) const { return pids_[node].load(); }
  // Events since the last call ("kill node1", ...), for the sample table.
  std::string take_events() {
    std::lock_guard lock(mutex_);
    return std::exchange(events_, "");
  }
  std::vector<std::string> errors() {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  int faults() const { return count_.load(); }

 private:
  // Sleeps `d` unless stopped first; false when stopped.
  bool pause(millis d) {
    std::unique_lock lock(mutex_);
    return !cv_.wait_for(lock, d, [this] { return stopping_; });
  }
  // Stamped with the load's clock, the time base of its loss report.
  void event(const std::string& e) {
    const std::string stamped = e + " (+" + std::to_string(l_.elapsed_ms()) + " ms)";
    std::cout << "[ info ] " << stamped << std::endl;
    std::lock_guard lock(mutex_);
    events_ += (events_.empty() ? "" : ", ") + stamped;
  }

  void run() {
    for (int i = 0; pause(interval_); ++i) {
      const int node = (i / 4) % 2;  // kill/stop node1 in the first round of four, node2 in the next
      const std::string name = "node" + std::to_string(node + 1);
      try {
        switch (i % 4) {
          case 0: {
            l_.mark_kill();
            event("SIGKILL " + name);
            nodes_[node]->kill();
            std::this_thread::sleep_for(2s);
            nodes_[node]->start();
            pids_[node] = nodes_[node]->pid();
            event("restarted " + name);
            break;
          }
          case 1:
            event("SIGKILL Redis");
            redis_.kill();
            std::this_thread::sleep_for(2s);
            redis_.start();
            event("restarted Redis");
            break;
          case 2:
            event("SIGKILL MariaDB");
            db_.kill();
            std::this_thread::sleep_for(3s);
            db_.start();
            event("restarted MariaDB");
            break;
          default:
            event("SIGSTOP " + name);
            nodes_[node]->freeze();
            std::this_thread::sleep_for(2s);
            nodes_[node]->thaw();
            event("SIGCONT " + name);
            break;
        }
        ++count_;
        for (int n = 0; n < 2; ++n) {
          if (!nodes_[n]->running()) {
            std::lock_guard lock(mutex_);
            errors_.push_back("node" + std::to_string(n + 1) + " (pid " + std::to_string(pids_[n].load()) +
                              ") is not running after fault " + std::to_string(i) + "\n" + nodes_[n]->log_tail());
          }
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex_);
        errors_.push_back("fault " + std::to_string(i) + ": " + e.what());
      }
    }
  }

  load& l_;
  mariadb_instance& db_;
  redis_instance& redis_;
  node_process* nodes_[2];
  millis interval_;
  std::atomic<pid_t> pids_[2];
  std::atomic<int> count_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string events_;
  std::vector<std::string> errors_;
  std::thread thread_;
};

std::string table(const std::vector<sample>& samples) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%6s | %7s %10s %4s %7s %3s | %7s %10s %4s %7s %3s | %8s %8s | %s\n", "t (s)",
                "n1 pid", "RSS (KiB)", "fds", "clients", "db", "n2 pid", "RSS (KiB)", "fds", "clients", "db", "sent",
                "acked", "faults since the last sample (load clock)");
  out << line;
  for (const auto& s : samples) {
    std::snprintf(line, sizeof line, "%6ld | %7d %10ld %4d %7d %3d | %7d %10ld %4d %7d %3d | %8zu %8zu | %s\n",
                  s.t_s, s.pid[0], s.rss[0], s.fds[0], s.clients[0], s.db[0], s.pid[1], s.rss[1], s.fds[1],
                  s.clients[1], s.db[1], s.sent, s.acked, s.events.c_str());
    out << line;
  }
  return out.str();
}

struct stability {
  bool enough = false;
  pid_t pid = -1;
  std::size_t samples = 0;
  double rss_first = 0, rss_last = 0, fds_first = 0, fds_last = 0;  // medians of the thirds
  bool rss_ok = true, fds_ok = true;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The longest-lived process of `node`, its samples after warm_up, split in thirds.
stability judge(const std::vector<sample>& samples, int node) {
  std::map<pid_t, std::vector<const sample*>> by_pid;
  std::map<pid_t, long> first_seen;
  for (const auto& s : samples) {
    if (s.rss[node] < 0) {
      continue;
    }
    first_seen.try_emplace(s.pid[node], s.t_s);
    if (s.t_s - first_seen[s.pid[node]] >= warm_up.count() / 1000) {
      by_pid[s.pid[node]].push_back(&s);
    }
  }
  stability r;
  for (const auto& [pid, v] : by_pid) {
    if (v.size() > r.samples) {
      r.pid = pid;
      r.samples = v.size();
    }
  }
  r.enough = r.samples >= 6;
  if (!r.enough) {
    return r;
  }
  const auto& v = by_pid[r.pid];
  const std::size_t third = v.size() / 3;
  std::vector<double> rss_first, rss_last, fds_first, fds_last;
  for (std::size_t i = 0; i < third; ++i) {
    const sample& a = *v[i];
    const sample& b = *v[v.size() - third + i];
    rss_first.push_back(static_cast<double>(a.rss[node]));
    rss_last.push_back(static_cast<double>(b.rss[node]));
    fds_first.push_back(static_cast<double>(a.fds[node] - a.clients[node] - a.db[node]));
    fds_last.push_back(static_cast<double>(b.fds[node] - b.clients[node] - b.db[node]));
  }
  r.rss_first = median(rss_first);
  r.rss_last = median(rss_last);
  r.fds_first = median(fds_first);
  r.fds_last = median(fds_last);
  r.rss_ok = r.rss_last <= r.rss_first * 1.2 + 2048;
  r.fds_ok = r.fds_last <= r.fds_first + 5;
  return r;
}

TEST(Soak, MixedLoadWithRotatingFaultsStaysCorrectAndStable) {
  const int max_seconds = env_int("CHAT_SOAK_MAX_SECONDS", 7200);
  const int seconds = env_int("CHAT_SOAK_SECONDS", 1800);
  ASSERT_GE(seconds, 60) << "CHAT_SOAK_SECONDS below 60 leaves no room for faults and samples";
  ASSERT_LE(seconds, max_seconds) << "CHAT_SOAK_SECONDS above CHAT_SOAK_MAX_SECONDS (the ctest TIMEOUT follows that "
                                     "one: reconfigure with -DCHAT_SOAK_MAX_SECONDS=N)";
  const millis duration{seconds * 1000LL};
  // A fault every 3 minutes in 30 minutes; shorter runs still see every kind (8 faults).
  const millis interval{env_int("CHAT_SOAK_FAULT_SECONDS", std::clamp(seconds / 9, 10, 180)) * 1000LL};
  const std::string report_path = env_string("CHAT_SOAK_REPORT", (test_data_dir() / "soak-report.txt").string());

  const int base = port_base();
  const int lb = base + 84;
  mariadb_instance db(test_data_dir() / "soak-mariadb", base + 80);
  redis_instance redis(test_data_dir() / "soak-redis", base + 81);
  const std::string extra =
      "[redis]\nconnect_timeout_ms = 500\ncommand_timeout_ms = 1000\n\n[mysql]\nquery_timeout_ms = 2000\n"
      "connect_timeout_ms = 1000\n";
  node_process n1(test_data_dir() / "soak-node1", base + 82, base + 80, cluster_node_toml("soak1", base + 81, extra));
  node_process n2(test_data_dir() / "soak-node2", base + 83, base + 80, cluster_node_toml("soak2", base + 81, extra));
  nginx_instance nginx(test_data_dir() / "soak-nginx", lb, base + 82, base + 83);

  constexpr std::size_t n_users = 14;
  const auto accounts = register_accounts(lb, n_users, "soak");
  group g1, g2;
  {
    std::vector<client> conns;
    for (const auto& a : accounts) {
      conns.push_back(connect_as(lb, a));
    }
    g1 = create_group(conns[0], "soak");
    g2 = create_group(conns[7], "soak");
    for (std::size_t i = 1; i < 6; ++i) {
      join_group(conns[i], g1.id);
    }
    for (std::size_t i : {8, 9, 10, 12, 13}) {
      join_group(conns[i], g2.id);
    }
    for (auto& c : conns) {
      EXPECT_TRUE(is_ack(c.request({{"msgid", 13}}), 14, 0));
    }
  }
  // Users 12 and 13 stay offline until the end; 3, 5, 9 and 11 come and go.
  std::vector<load_user> users;
  for (std::size_t i = 0; i < n_users; ++i) {
    users.push_back({accounts[i], {lb}, i < 12});
  }
  const auto one = [](std::size_t from, std::size_t to) { return load_flow{.sender = from, .to = to}; };
  std::vector<load_flow> flows{one(0, 1),  one(1, 0),  one(2, 3),  one(3, 2),  one(4, 5),  one(6, 7),
                               one(7, 6),  one(8, 9),  one(10, 11), one(11, 10), one(0, 12), one(6, 13),
                               one(2, 11), one(9, 4)};
  flows.push_back({.sender = 1, .groupid = g1.id, .members = {0, 1, 2, 3, 4, 5}});
  flows.push_back({.sender = 8, .groupid = g2.id, .members = {7, 8, 9, 10, 12, 13}});
  load l(users, flows, {.idle_timeout = idle, .window = 4, .gap = 100ms});
  l.start(60s);
  const std::size_t churners[] = {3, 5, 9, 11};
  bool churner_online[] = {true, true, true, true};

  std::vector<sample> samples;
  const auto start = steady::now();
  std::cout << "[ info ] soak: " << seconds << " s, a fault every " << interval.count() / 1000 << " s, report "
            << report_path << std::endl;
  {
    fault_rotation faults(l, db, redis, n1, n2, interval);
    auto next_sample = start;
    auto next_churn = start + 5s;
    std::size_t churn_i = 0;
    while (since(start) < duration) {
      const auto now = steady::now();
      if (now >= next_sample) {
        sample s;
        s.t_s = since(start).count() / 1000;
        for (int n = 0; n < 2; ++n) {
          s.pid[n] = faults.pid(n);
          s.rss[n] = rss_kib(s.pid[n]).value_or(-1);
          s.fds[n] = fd_count(s.pid[n]).value_or(-1);
          s.clients[n] = client_connections(s.pid[n], base + 82 + n).value_or(-1);
          s.db[n] = connections_to(s.pid[n], base + 80).value_or(-1);
        }
        s.sent = l.sent();
        s.acked = l.acked();
        s.events = faults.take_events();
        samples.push_back(s);
        next_sample += sample_every;
      }
      if (now >= next_churn) {
        // Every 5 s one churner changes: each is offline 20 s (its messages are stored), then
        // online 20 s.
        const std::size_t c = churn_i++ % std::size(churners);
        churner_online[c] = !churner_online[c];
        l.set_online(churners[c], churner_online[c]);
        next_churn += 5s;
      }
      l.step(10ms);
    }
    faults.stop();
    std::cout << "[ info ] " << faults.faults() << " faults injected" << std::endl;
    for (const auto& e : faults.errors()) {
      ADD_FAILURE() << e;
    }
    if (const auto e = faults.take_events(); !e.empty() && !samples.empty()) {
      samples.back().events += (samples.back().events.empty() ? "" : ", ") + e;
    }
  }

  const auto r = l.finish(30s);
  std::ostringstream verdict;
  verdict << "[ summary ] soak " << seconds << " s: " << r.summary() << "\n";
  for (int n = 0; n < 2; ++n) {
    const auto st = judge(samples, n);
    verdict << "[ summary ] node" << n + 1 << ": ";
    if (!st.enough) {
      verdict << "only " << st.samples << " samples of one process after warm-up: stability not judged\n";
      // A short run (a check of the test itself) may kill both nodes before either has six
      // samples; the 30-minute schedule always leaves enough.
      if (seconds >= 900) {
        ADD_FAILURE() << "node" << n + 1 << ": too few samples for a stability verdict";
      }
      continue;
    }
    char line[256];
    std::snprintf(line, sizeof line,
                  "pid %d, %zu samples after warm-up, medians of the first and last third: RSS %.0f -> %.0f KiB "
                  "(%+.1f %%), own fds (without clients and database connections) %.1f -> %.1f: %s\n",
                  st.pid,
                  st.samples, st.rss_first, st.rss_last, 100.0 * (st.rss_last - st.rss_first) / st.rss_first,
                  st.fds_first, st.fds_last, st.rss_ok && st.fds_ok ? "stable" : "GROWING");
    verdict << line;
    EXPECT_TRUE(st.rss_ok) << "node" << n + 1 << " RSS grows: " << line;
    EXPECT_TRUE(st.fds_ok) << "node" << n + 1 << " fds grow: " << line;
  }
  for (const auto& [flow, n] : r.lost_by_flow) {
    verdict << "[ summary ] lost: " << n << " of " << flow << "\n";
  }
  const std::string text = table(samples) + verdict.str();
  std::cout << text << std::flush;
  std::ofstream(report_path) << text;

  for (std::size_t i = 0; i < r.problems.size() && i < 30; ++i) {
    ADD_FAILURE() << r.problems[i];
  }
  for (std::size_t i = 0; i < r.losses.size() && i < 30; ++i) {
    ADD_FAILURE() << r.losses[i];
  }
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.out_of_order, 0u);
  EXPECT_EQ(r.time_mismatch, 0u);
  EXPECT_EQ(r.no_answer, 0u);
  EXPECT_TRUE(n1.running()) << n1.log_tail();
  EXPECT_TRUE(n2.running()) << n2.log_tail();
  EXPECT_EQ(n1.stop().status, 0);
  EXPECT_EQ(n2.stop().status, 0);
}

}  // namespace
