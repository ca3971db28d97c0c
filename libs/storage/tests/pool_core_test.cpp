// pool_core with a fake connection and explicit time points: growth, bound, broken
// replacement, FIFO waiters, deadlines, health-check checkout, stop, statistics.
#include <chat/storage/detail/pool_core.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using chat::storage::errc;

struct fake_conn {
  int id = 0;
};

using core = chat::storage::detail::pool_core<fake_conn>;
using grant = core::grant;
using time_point = core::time_point;

const time_point t0{};

// Records the grants a queued request receives.
struct recorder {
  std::vector<grant> grants;
  core::grant_handler handler() {
    return [this](grant g) { grants.push_back(std::move(g)); };
  }
};

core::grant_handler unused() {
  return [](grant) { ADD_FAILURE() << "a request that was served at once must not be called back"; };
}

grant expect_grant(std::variant<grant, core::ticket> r) {
  EXPECT_TRUE(std::holds_alternative<grant>(r));
  if (auto* g = std::get_if<grant>(&r)) return std::move(*g);
  return {};
}

// Acquires a pending slot and "opens" a connection in it.
std::unique_ptr<fake_conn> open_new(core& c, int id, time_point now = t0) {
  grant g = expect_grant(c.acquire(now, now + 1s, unused()));
  EXPECT_TRUE(g.open);
  EXPECT_FALSE(g.conn);
  c.opened();
  return std::make_unique<fake_conn>(fake_conn{id});
}

void expect_stats(const core& c, std::size_t idle, std::size_t in_use, std::size_t pending, std::size_t waiting) {
  const auto s = c.stats();
  EXPECT_EQ(s.idle, idle);
  EXPECT_EQ(s.in_use, in_use);
  EXPECT_EQ(s.pending, pending);
  EXPECT_EQ(s.waiting, waiting);
  EXPECT_EQ(s.total, idle + in_use + pending);
}

TEST(pool_core, rejects_zero_size) { EXPECT_THROW(core(0), std::invalid_argument); }

TEST(pool_core, grows_lazily_and_reuses_idle_connections) {
  core c(3);
  expect_stats(c, 0, 0, 0, 0);  // nothing opened up front

  grant g = expect_grant(c.acquire(t0, t0 + 1s, unused()));
  EXPECT_TRUE(g.open);
  EXPECT_FALSE(g.ec);
  expect_stats(c, 0, 0, 1, 0);
  c.opened();
  expect_stats(c, 0, 1, 0, 0);

  c.release(std::make_unique<fake_conn>(fake_conn{1}), true, t0 + 1s);
  expect_stats(c, 1, 0, 0, 0);

  // An idle connection is preferred to opening a new one.
  grant again = expect_grant(c.acquire(t0 + 3s, t0 + 4s, unused()));
  ASSERT_TRUE(again.conn);
  EXPECT_EQ(again.conn->id, 1);
  EXPECT_FALSE(again.open);
  EXPECT_EQ(again.idle_for, 2s);
  expect_stats(c, 0, 1, 0, 0);
}

TEST(pool_core, hands_out_the_most_recently_returned_connection) {
  core c(2);
  auto a = open_new(c, 1);
  auto b = open_new(c, 2);
  c.release(std::move(a), true, t0 + 1s);
  c.release(std::move(b), true, t0 + 2s);
  grant g = expect_grant(c.acquire(t0 + 3s, t0 + 4s, unused()));
  ASSERT_TRUE(g.conn);
  EXPECT_EQ(g.conn->id, 2);
}

TEST(pool_core, never_exceeds_max_size) {
  core c(2);
  auto a = open_new(c, 1);
  grant pending = expect_grant(c.acquire(t0, t0 + 1s, unused()));
  EXPECT_TRUE(pending.open);  // counts towards the bound while opening

  recorder r;
  auto third = c.acquire(t0, t0 + 1s, r.handler());
  EXPECT_TRUE(std::holds_alternative<core::ticket>(third));
  expect_stats(c, 0, 1, 1, 1);
  EXPECT_TRUE(r.grants.empty());
}

TEST(pool_core, returned_connection_goes_to_the_first_waiter) {
  core c(1);
  auto a = open_new(c, 7);
  recorder r;
  ASSERT_TRUE(std::holds_alternative<core::ticket>(c.acquire(t0, t0 + 5s, r.handler())));

  c.release(std::move(a), true, t0 + 1s);
  ASSERT_EQ(r.grants.size(), 1u);
  ASSERT_TRUE(r.grants[0].conn);
  EXPECT_EQ(r.grants[0].conn->id, 7);
  expect_stats(c, 0, 1, 0, 0);  // handed over directly, never idle
}

TEST(pool_core, broken_connection_is_dropped_and_its_slot_freed) {
  core c(1);
  auto a = open_new(c, 1);
  c.release(std::move(a), false, t0);
  expect_stats(c, 0, 0, 0, 0);

  // The freed slot allows a new connection.
  grant g = expect_grant(c.acquire(t0, t0 + 1s, unused()));
  EXPECT_TRUE(g.open);
}

TEST(pool_core, broken_connection_slot_goes_to_a_waiter_as_a_pending_slot) {
  core c(1);
  auto a = open_new(c, 1);
  recorder r;
  ASSERT_TRUE(std::holds_alternative<core::ticket>(c.acquire(t0, t0 + 5s, r.handler())));

  c.release(std::move(a), false, t0);
  ASSERT_EQ(r.grants.size(), 1u);
  EXPECT_TRUE(r.grants[0].open);
  EXPECT_FALSE(r.grants[0].conn);
  expect_stats(c, 0, 0, 1, 0);
}

TEST(pool_core, failed_open_frees_the_slot_for_the_next_waiter) {
  core c(1);
  grant g = expect_grant(c.acquire(t0, t0 + 1s, unused()));
  ASSERT_TRUE(g.open);
  recorder r;
  ASSERT_TRUE(std::holds_alternative<core::ticket>(c.acquire(t0, t0 + 5s, r.handler())));

  c.open_failed();
  ASSERT_EQ(r.grants.size(), 1u);
  EXPECT_TRUE(r.grants[0].open);
  expect_stats(c, 0, 0, 1, 0);

  c.open_failed();
  expect_stats(c, 0, 0, 0, 0);
}

TEST(pool_core, reopen_keeps_the_slot) {
  core c(1);
  grant g = expect_grant(c.acquire(t0, t0 + 1s, unused()));
  c.opened();
  c.release(std::make_unique<fake_conn>(), true, t0);
  g = expect_grant(c.acquire(t0 + 10s, t0 + 11s, unused()));
  ASSERT_TRUE(g.conn);
  c.reopen();  // stale: the holder opens a new one in the same slot
  expect_stats(c, 0, 0, 1, 0);
  c.opened();
  expect_stats(c, 0, 1, 0, 0);
}

TEST(pool_core, waiters_are_served_first_in_first_out) {
  core c(2);
  auto a = open_new(c, 1);
  auto b = open_new(c, 2);
  std::vector<int> order;
  std::vector<std::unique_ptr<fake_conn>> got;
  for (int i = 1; i <= 3; ++i) {
    auto r = c.acquire(t0, t0 + 10s, [&order, &got, i](grant g) {
      order.push_back(i);
      got.push_back(std::move(g.conn));
    });
    ASSERT_TRUE(std::holds_alternative<core::ticket>(r));
  }
  EXPECT_EQ(c.stats().waiting, 3u);

  c.release(std::move(b), true, t0);
  c.release(std::move(a), true, t0);
  ASSERT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(got[0]->id, 2);
  EXPECT_EQ(got[1]->id, 1);

  c.release(std::move(got[0]), true, t0);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  expect_stats(c, 0, 2, 0, 0);
}

TEST(pool_core, waiters_time_out_with_unavailable) {
  core c(1);
  auto a = open_new(c, 1);
  recorder early, late;
  ASSERT_TRUE(std::holds_alternative<core::ticket>(c.acquire(t0, t0 + 1s, early.handler())));
  ASSERT_TRUE(std::holds_alternative<core::ticket>(c.acquire(t0, t0 + 3s, late.handler())));
  EXPECT_EQ(c.next_deadline(), t0 + 1s);

  EXPECT_EQ(c.expire(t0 + 999ms), 0u);
  EXPECT_EQ(c.expire(t0 + 1s), 1u);  // a deadline is inclusive
  ASSERT_EQ(early.grants.size(), 1u);
  EXPECT_EQ(early.grants[0].ec, errc::unavailable);
  EXPECT_FALSE(early.grants[0].conn);
  EXPECT_TRUE(late.grants.empty());
  EXPECT_EQ(c.next_deadline(), t0 + 3s);
  expect_stats(c, 0, 1, 0, 1);

  // The survivor is still served when the connection comes back.
  c.release(std::move(a), true, t0 + 2s);
  ASSERT_EQ(late.grants.size(), 1u);
  EXPECT_TRUE(late.grants[0].conn);
  EXPECT_FALSE(c.next_deadline());
}

TEST(pool_core, health_check_takes_only_connections_idle_long_enough) {
  core c(3);
  auto a = open_new(c, 1);
  auto b = open_new(c, 2);
  c.release(std::move(a), true, t0 + 1s);
  c.release(std::move(b), true, t0 + 5s);

  auto taken = c.take_idle(t0 + 2s);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0]->id, 1);
  expect_stats(c, 1, 1, 0, 0);

  // A dead one is dropped: the pool shrinks.
  c.release(std::move(taken[0]), false, t0 + 6s);
  expect_stats(c, 1, 0, 0, 0);
}

TEST(pool_core, stop_fails_waiters_and_refuses_new_requests) {
  core c(1);
  auto a = open_new(c, 1);
  recorder r;
  ASSERT_TRUE(std::holds_alternative<core::ticket>(c.acquire(t0, t0 + 5s, r.handler())));

  EXPECT_TRUE(c.stop().empty());
  EXPECT_TRUE(c.stopped());
  ASSERT_EQ(r.grants.size(), 1u);
  EXPECT_EQ(r.grants[0].ec, errc::unavailable);

  // A connection in use at stop is dropped when it comes back.
  c.release(std::move(a), true, t0);
  expect_stats(c, 0, 0, 0, 0);

  grant g = expect_grant(c.acquire(t0, t0 + 1s, unused()));
  EXPECT_EQ(g.ec, errc::unavailable);
  EXPECT_FALSE(g.open);
  EXPECT_FALSE(g.conn);
  expect_stats(c, 0, 0, 0, 0);
}

TEST(pool_core, stop_hands_back_idle_connections) {
  core c(2);
  auto a = open_new(c, 1);
  auto b = open_new(c, 2);
  c.release(std::move(a), true, t0);
  c.release(std::move(b), true, t0);
  auto idle = c.stop();
  EXPECT_EQ(idle.size(), 2u);
  expect_stats(c, 0, 0, 0, 0);
  EXPECT_TRUE(c.stop().empty());  // idempotent
}

// Many threads acquiring and releasing: the bound holds and everybody is served.
TEST(pool_core, concurrent_use_keeps_the_bound) {
  constexpr std::size_t max = 3;
  core c(max);
  std::atomic<int> served{0};
  std::atomic<std::size_t> peak{0};
  std::atomic<int> next_id{0};

  auto use = [&](std::unique_ptr<fake_conn> conn, bool open) {
    if (open) {
      c.opened();
      conn = std::make_unique<fake_conn>(fake_conn{++next_id});
    }
    const auto s = c.stats();
    std::size_t prev = peak.load();
    while (s.total > prev && !peak.compare_exchange_weak(prev, s.total)) {
    }
    ++served;
    // Every fifth use breaks its connection.
    c.release(std::move(conn), served % 5 != 0, core::time_point{});
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        std::promise<grant> p;
        auto f = p.get_future();
        auto r = c.acquire(core::time_point{}, core::time_point::max(),
                           [&p](grant g) { p.set_value(std::move(g)); });
        grant g = std::holds_alternative<grant>(r) ? std::move(std::get<grant>(r)) : f.get();
        ASSERT_FALSE(g.ec);
        use(std::move(g.conn), g.open);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(served.load(), 8 * 500);
  EXPECT_LE(peak.load(), max);
  const auto s = c.stats();
  EXPECT_EQ(s.in_use + s.pending + s.waiting, 0u);
  EXPECT_LE(s.total, max);
}

}  // namespace
