// Churn (PROTOCOL.md §7 "no byte sequence may ... leak memory"): 100,000 LOGIN/LOGINOUT cycles
// on one connection, and 10,000 connections opened and torn down in every way a client can end
// one (clean close, close in the middle of a frame, RST; logged in or not). The server's open
// fds must come back to exactly their baseline and its RSS must not grow, the baseline taken
// after a warm-up round of the same churn (10 %), so that the allocator's caches and the MySQL
// pool are already at their working size.
//
// A chat_server of its own on base+85 (tests/CMakeLists.txt, fault/churn/soak section) on the
// shared chat_db MariaDB.
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/fault.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <sys/socket.h>

#include <functional>
#include <iostream>
#include <thread>

namespace {

using namespace chat_test;

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

// Argon2id at its cheapest (1 pass over 8 KiB): at the defaults (t=2, 19 MiB) one login costs
// tens of milliseconds of hashing on this machine and 110,000 of them would take over an hour;
// this test is about the sessions' and the server's own memory and fds, not about hashing.
// The log at "warn": at "info" the server would write ~300,000 lines.
const std::string churn_toml =
    "[security]\nargon2_opslimit = 1\nargon2_memlimit_kib = 8\n\n[log]\nlevel = \"warn\"\n";

constexpr std::size_t login_cycles = 100'000;
constexpr std::size_t connections = 10'000;
constexpr std::size_t wave = 100;  // connections open at once
constexpr std::size_t window = 64;  // requests in flight on the cycling connection
// Users for the logged-in connections: 3 of 8 connections log in, so a wave needs 38; three
// waves' worth, so that a user is reused only after its previous connection was long closed.
constexpr std::size_t pool_users = 120;

// LOGIN / LOGINOUT `cycles` times on one connection, `window` requests in flight; every ack
// must have errno 0 (and the LOGIN ack no stored messages).
void login_cycles_on_one_connection(int port, const account& a, std::size_t cycles) {
  client c(port, "cycler");
  const std::string login = frame(json::serialize(login_id_req(a.id, a.pwd)));
  const std::string logout = frame(R"({"msgid":13})");
  const std::size_t total = 2 * cycles;
  std::size_t sent = 0;
  std::size_t answered = 0;
  while (answered < total) {
    std::string batch;
    while (sent < total && sent - answered < window) {
      batch += sent % 2 == 0 ? login : logout;
      ++sent;
    }
    if (!batch.empty()) {
      c.send_raw(batch);
    }
    // Read what is there (at least one frame), then top the window up again.
    json::object f;
    if (c.try_recv(f, 15s) != recv_status::frame) {
      FAIL() << "no answer within 15 s after " << answered << " of " << total << " answers";
    }
    for (bool more = true; more; more = c.try_recv(f, 0ms) == recv_status::frame) {
      const bool is_login = answered % 2 == 0;
      if (is_login ? !(is_ack(f, 2, 0) && int_field(f, "offline") == 0) : !is_ack(f, 14, 0)) {
        FAIL() << "answer " << answered << " (cycle " << answered / 2 << "): expected "
               << (is_login ? "LOGIN_MSG_ACK errno 0, offline 0" : "LOGINOUT_ACK errno 0") << ", got "
               << json::serialize(f);
      }
      ++answered;
    }
  }
}

// Ends a connection with a RST instead of a FIN.
void reset(client& c) {
  const linger l{1, 0};
  ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  c.close();
}

struct churn_counts {
  std::size_t logins = 0;
  std::size_t login_retries = 0;  // errno 3: the user's previous connection not yet gone
};

// `n` connections, `wave` at a time, each ended one of eight ways (by its index, interleaved).
void open_and_tear_down(int port, const std::vector<account>& users, std::size_t n, churn_counts& counts) {
  std::size_t next_user = 0;
  for (std::size_t done = 0; done < n; done += wave) {
    const std::size_t k = std::min(wave, n - done);
    std::vector<client> cs;
    cs.reserve(k);
    for (std::size_t i = 0; i < k; ++i) {
      cs.emplace_back(port, "churn" + std::to_string(done + i));
    }
    const auto kind = [&](std::size_t i) { return (done + i) % 8; };
    std::vector<const account*> who(k, nullptr);
    for (std::size_t i = 0; i < k; ++i) {
      switch (kind(i)) {
        case 1:  // PING, clean close
        case 6:  // PING, RST
          cs[i].send(ping_req("churn"));
          break;
        case 2:  // a frame header only, clean close
          cs[i].send_raw(frame_header(100));
          break;
        case 3:  // a header and half the body, clean close
          cs[i].send_raw(frame_header(100) + std::string(50, '{'));
          break;
        case 4:  // LOGIN, clean close
        case 5:  // LOGIN, RST
        case 7:  // LOGIN, half a frame, RST
          who[i] = &users[next_user++ % users.size()];
          cs[i].send(login_id_req(who[i]->id, who[i]->pwd));
          break;
        default:  // 0: nothing at all, clean close
          break;
      }
    }
    for (std::size_t i = 0; i < k; ++i) {
      if (kind(i) == 1 || kind(i) == 6) {
        const auto f = cs[i].recv();
        ASSERT_EQ(int_field(f, "msgid"), 16) << json::serialize(f);
      } else if (who[i] != nullptr) {
        for (int attempt = 0;; ++attempt) {
          const auto f = cs[i].recv();
          if (is_ack(f, 2, 3) && attempt < 50) {
            ++counts.login_retries;  // its last connection closed an instant ago: retry
            std::this_thread::sleep_for(20ms);
            cs[i].send(login_id_req(who[i]->id, who[i]->pwd));
            continue;
          }
          ASSERT_TRUE(is_ack(f, 2, 0)) << "login of " << who[i]->name;
          ++counts.logins;
          break;
        }
      }
    }
    for (std::size_t i = 0; i < k; ++i) {
      switch (kind(i)) {
        case 5:
        case 6:
          reset(cs[i]);
          break;
        case 7:
          cs[i].send_raw(frame_header(40) + R"({"msgid":5,"to":1,)");
          reset(cs[i]);
          break;
        default:
          cs[i].close();
          break;
      }
    }
  }
}

// Polls `pid`'s fd count until `done(count)` or `limit`; returns the last count.
int wait_fds(pid_t pid, const std::function<bool(int)>& done, millis limit) {
  const auto until = steady::now() + limit;
  int n = fd_count(pid).value_or(-1);
  while (!done(n) && steady::now() < until) {
    std::this_thread::sleep_for(20ms);  // polling /proc: the closes send no event we can wait on
    n = fd_count(pid).value_or(-1);
  }
  return n;
}

// The fd count once it has not changed for a second (closes and logouts finished).
int settled_fds(pid_t pid) {
  int last = fd_count(pid).value_or(-1);
  auto stable_since = steady::now();
  const auto limit = steady::now() + 15s;
  while (since(stable_since) < 1s && steady::now() < limit) {
    std::this_thread::sleep_for(50ms);
    const int n = fd_count(pid).value_or(-1);
    if (n != last) {
      last = n;
      stable_since = steady::now();
    }
  }
  return last;
}

TEST(Churn, LoginCyclesAndConnectionChurnReturnFdsAndMemoryToBaseline) {
  const int port = port_base() + 85;
  server_instance server(test_data_dir() / "churn-server", port, db_port(), churn_toml);
  const pid_t pid = server.pid();
  ASSERT_GT(pid, 0);
  const auto cycler = register_account(port, "churn");
  const auto users = register_accounts(port, pool_users, "churn");
  churn_counts counts;

  // Warm-up: a tenth of the same churn.
  auto t0 = steady::now();
  login_cycles_on_one_connection(port, cycler, login_cycles / 10);
  if (HasFatalFailure()) {
    return;
  }
  churn_counts warmup_counts;
  open_and_tear_down(port, users, connections / 10, warmup_counts);
  if (HasFatalFailure()) {
    return;
  }
  const auto warmup_ms = since(t0).count();
  const int base_fds = settled_fds(pid);
  const long base_rss = rss_kib(pid).value_or(-1);
  std::cout << "[ info ] warm-up (" << login_cycles / 10 << " cycles, " << connections / 10 << " connections) "
            << warmup_ms << " ms; baseline: " << base_fds << " fds, RSS " << base_rss << " KiB" << std::endl;

  t0 = steady::now();
  login_cycles_on_one_connection(port, cycler, login_cycles);
  if (HasFatalFailure()) {
    return;
  }
  const auto cycles_ms = since(t0).count();
  const int fds_after_cycles = wait_fds(pid, [&](int n) { return n == base_fds; }, 10s);
  const long rss_after_cycles = rss_kib(pid).value_or(-1);
  std::cout << "[ info ] " << login_cycles << " LOGIN/LOGINOUT cycles on one connection: " << cycles_ms << " ms ("
            << login_cycles * 1000 / static_cast<std::size_t>(std::max<long long>(cycles_ms, 1))
            << " cycles/s); then " << fds_after_cycles << " fds, RSS " << rss_after_cycles << " KiB" << std::endl;

  t0 = steady::now();
  open_and_tear_down(port, users, connections, counts);
  if (HasFatalFailure()) {
    return;
  }
  const auto conns_ms = since(t0).count();
  t0 = steady::now();
  const int fds_after = wait_fds(pid, [&](int n) { return n == base_fds; }, 10s);
  const auto fds_wait_ms = since(t0).count();
  const long rss_after = rss_kib(pid).value_or(-1);
  std::cout << "[ info ] " << connections << " connections opened and torn down (" << counts.logins
            << " logged in, " << counts.login_retries << " logins retried after errno 3): " << conns_ms
            << " ms; fds back to " << fds_after << " after " << fds_wait_ms << " ms" << std::endl;
  std::cout << "[ summary ] churn: fds " << base_fds << " -> " << fds_after_cycles << " (after the cycles) -> "
            << fds_after << " (after the connections); RSS " << base_rss << " -> " << rss_after_cycles << " -> "
            << rss_after << " KiB (" << (rss_after - base_rss) << " KiB growth)" << std::endl;

  EXPECT_EQ(fds_after_cycles, base_fds) << "fds not back to the baseline 10 s after the login cycles";
  EXPECT_EQ(fds_after, base_fds) << "fds not back to the baseline 10 s after the connection churn";
  // Growth bound: 4 MiB is 42 bytes per login cycle, less than any allocation a session, a
  // presence entry or a login could leak each time; after the warm-up the allocator's caches
  // are at their working size, so a leak-free server stays well under it. ASan keeps freed
  // memory in its quarantine (256 MiB), so RSS says nothing there: LeakSanitizer checks at exit.
#if defined(__SANITIZE_ADDRESS__)
  std::cout << "[ info ] ASan build: RSS growth not asserted (quarantine)" << std::endl;
#else
  EXPECT_LT(rss_after - base_rss, 4 * 1024) << "RSS grew by " << (rss_after - base_rss) << " KiB";
#endif

  // Still serving.
  client c = connect_as(port, cycler);
  ping_barrier(c);
  EXPECT_TRUE(server.running()) << server.log_tail();
  c.close();
  const auto stopped = server.stop();
  EXPECT_EQ(stopped.status, 0) << stopped.output;
}

}  // namespace
