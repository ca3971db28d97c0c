// basic_pool with a fake connection and a fake server: coroutines resume on their own executor,
// blocking work runs on the pool threads, waits are bounded, broken and stale connections are
// replaced, the health check drops dead ones, stop() fails waiters. Every io_context run is
// bounded and must leave nothing pending.
#include <chat/storage/basic_pool.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using boost::system::error_code;
using chat::awaitable;
using chat::storage::errc;
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

// The "database": whether it accepts connections, and its incarnation (a restart makes every
// older connection dead).
struct fake_server {
  std::atomic<bool> up{true};
  std::atomic<int> generation{0};
  std::atomic<int> opened{0};
  std::atomic<int> pings{0};
};

class fake_conn {
 public:
  fake_conn(fake_server& s, int id) : server_(s), generation_(s.generation.load()), id_(id) {}
  bool ping() {
    ++server_.pings;
    return server_.up && generation_ == server_.generation;
  }
  bool broken() const { return broken_; }
  void break_it() { broken_ = true; }
  int id() const { return id_; }

 private:
  fake_server& server_;
  int generation_;
  int id_;
  bool broken_ = false;
};

using pool_type = chat::storage::basic_pool<fake_conn>;

chat::storage::pool_params params(std::size_t max_size) {
  chat::storage::pool_params p;
  p.max_size = max_size;
  p.query_timeout = 200ms;
  p.ping_interval = 0ms;  // no health check unless a test enables it
  p.ping_on_checkout_after = 1h;
  return p;
}

pool_type::connect_fn connector(fake_server& s) {
  return [&s]() -> std::unique_ptr<fake_conn> {
    if (!s.up) return nullptr;
    return std::make_unique<fake_conn>(s, ++s.opened);
  };
}

struct outcome {
  bool done = false;
  error_code ec;
  std::thread::id caller, worker, resumed;
  int conn_id = 0;
  clock_type::duration elapsed{};
};

// What a request does on the pool thread: note where it ran and on which connection.
pool_type::work_fn note(outcome& out) {
  return [&out](fake_conn& c) {
    out.worker = std::this_thread::get_id();
    out.conn_id = c.id();
    return error_code{};
  };
}

awaitable<void> request(pool_type& pool, pool_type::work_fn work, outcome& out) {
  out.caller = std::this_thread::get_id();
  const auto start = clock_type::now();
  auto [ec] = co_await pool.async_run(std::move(work), chat::use_nothrow);
  out.ec = ec;
  out.resumed = std::this_thread::get_id();
  out.elapsed = clock_type::now() - start;
  out.done = true;
}

// Runs one request to completion on a fresh io_context, with a bound.
outcome run_request(pool_type& pool, pool_type::work_fn work) {
  asio::io_context ioc;
  outcome out;
  asio::co_spawn(ioc, request(pool, std::move(work), out), asio::detached);
  ioc.run_for(5s);
  EXPECT_TRUE(ioc.stopped()) << "work left pending";
  EXPECT_TRUE(out.done);
  return out;
}

outcome run_request(pool_type& pool) {
  outcome out;
  outcome result = run_request(pool, note(out));
  result.worker = out.worker;
  result.conn_id = out.conn_id;
  return result;
}

template <class Pred>
bool eventually(Pred pred, clock_type::duration bound = 2s) {
  const auto end = clock_type::now() + bound;
  while (!pred()) {
    if (clock_type::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(basic_pool, work_runs_on_a_pool_thread_and_the_caller_resumes_on_its_executor) {
  fake_server server;
  pool_type pool(params(2), connector(server));
  const outcome out = run_request(pool);
  EXPECT_FALSE(out.ec);
  EXPECT_NE(out.worker, std::thread::id{});
  EXPECT_NE(out.worker, out.caller);
  EXPECT_EQ(out.resumed, out.caller);
  EXPECT_EQ(server.opened, 1);

  // The connection went back to the pool and is reused.
  const outcome again = run_request(pool);
  EXPECT_FALSE(again.ec);
  EXPECT_EQ(again.conn_id, 1);
  EXPECT_EQ(server.opened, 1);
  const auto s = pool.stats();
  EXPECT_EQ(s.idle, 1u);
  EXPECT_EQ(s.total, 1u);
}

TEST(basic_pool, errors_of_the_work_are_passed_on) {
  fake_server server;
  pool_type pool(params(1), connector(server));
  const outcome out = run_request(pool, [](fake_conn&) { return make_error_code(errc::duplicate); });
  EXPECT_EQ(out.ec, errc::duplicate);
  EXPECT_EQ(pool.stats().idle, 1u);  // not broken: kept
}

TEST(basic_pool, a_broken_connection_is_replaced_by_a_new_one) {
  fake_server server;
  pool_type pool(params(1), connector(server));
  const outcome broke = run_request(pool, [](fake_conn& c) {
    c.break_it();
    return make_error_code(errc::unavailable);
  });
  EXPECT_EQ(broke.ec, errc::unavailable);
  EXPECT_EQ(pool.stats().total, 0u);

  const outcome next = run_request(pool);
  EXPECT_FALSE(next.ec);
  EXPECT_EQ(next.conn_id, 2);
}

TEST(basic_pool, work_that_throws_fails_with_unavailable_and_drops_the_connection) {
  fake_server server;
  pool_type pool(params(1), connector(server));
  const outcome out = run_request(pool, [](fake_conn&) -> error_code { throw std::runtime_error("boom"); });
  EXPECT_EQ(out.ec, errc::unavailable);
  EXPECT_EQ(pool.stats().total, 0u);
}

TEST(basic_pool, server_down_fails_fast_and_service_resumes_when_it_is_back) {
  fake_server server;
  server.up = false;
  pool_type pool(params(2), connector(server));
  const outcome down = run_request(pool);
  EXPECT_EQ(down.ec, errc::unavailable);
  EXPECT_LT(down.elapsed, 150ms);
  EXPECT_EQ(pool.stats().total, 0u);

  server.up = true;
  EXPECT_FALSE(run_request(pool).ec);
}

TEST(basic_pool, a_stale_idle_connection_is_pinged_and_replaced_on_checkout) {
  fake_server server;
  auto p = params(1);
  p.ping_on_checkout_after = 0ms;
  pool_type pool(p, connector(server));
  EXPECT_FALSE(run_request(pool).ec);

  ++server.generation;  // the server restarted: the idle connection is dead
  const outcome out = run_request(pool);
  EXPECT_FALSE(out.ec);
  EXPECT_EQ(out.conn_id, 2);
  EXPECT_EQ(pool.stats().total, 1u);
}

TEST(basic_pool, a_request_waits_for_a_free_connection_and_times_out_with_unavailable) {
  fake_server server;
  pool_type pool(params(1), connector(server));  // query_timeout 200 ms
  asio::io_context ioc;
  std::promise<void> gate;
  std::shared_future<void> opened_gate = gate.get_future().share();

  outcome holder, waiter;
  asio::co_spawn(ioc,
                 request(pool, [opened_gate](fake_conn&) {
                   opened_gate.wait();  // holds the only connection
                   return error_code{};
                 }, holder),
                 asio::detached);
  asio::co_spawn(ioc, request(pool, note(waiter), waiter), asio::detached);

  // Let the holder go well after the waiter has given up.
  std::thread releaser([&] {
    std::this_thread::sleep_for(600ms);
    gate.set_value();
  });
  ioc.run_for(5s);
  releaser.join();
  EXPECT_TRUE(ioc.stopped());

  ASSERT_TRUE(holder.done && waiter.done);
  EXPECT_FALSE(holder.ec);
  EXPECT_EQ(waiter.ec, errc::unavailable);
  EXPECT_GE(waiter.elapsed, 190ms);
  EXPECT_LT(waiter.elapsed, 450ms);  // on time although the only connection is blocked
  EXPECT_EQ(waiter.worker, std::thread::id{});  // its work never ran
  EXPECT_EQ(server.opened, 1);
}

TEST(basic_pool, waiting_requests_get_the_connection_in_arrival_order) {
  fake_server server;
  auto p = params(1);
  p.query_timeout = 2s;
  pool_type pool(p, connector(server));
  asio::io_context ioc;
  std::mutex m;
  std::vector<int> order;
  auto record = [&](int i) {
    return [&, i](fake_conn&) {
      std::lock_guard lock(m);
      order.push_back(i);
      return error_code{};
    };
  };
  std::promise<void> gate;
  std::shared_future<void> g = gate.get_future().share();
  outcome first, outs[4];
  asio::co_spawn(ioc, request(pool, [g](fake_conn&) { g.wait(); return error_code{}; }, first), asio::detached);
  std::thread opener([&] {
    EXPECT_TRUE(eventually([&] { return pool.stats().in_use == 1; }));
    // Queue four requests one after the other, then free the connection.
    for (int i = 0; i < 4; ++i) {
      asio::co_spawn(ioc, request(pool, record(i), outs[i]), asio::detached);
      EXPECT_TRUE(eventually([&] { return pool.stats().waiting == static_cast<std::size_t>(i + 1); }));
    }
    gate.set_value();
  });
  auto guard = asio::make_work_guard(ioc);
  std::thread stopper([&] {
    EXPECT_TRUE(eventually([&] {
      std::lock_guard lock(m);
      return order.size() == 4;
    }));
    guard.reset();
  });
  ioc.run_for(5s);
  opener.join();
  stopper.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  for (auto& o : outs) EXPECT_FALSE(o.ec);
}

TEST(basic_pool, the_health_check_drops_dead_idle_connections) {
  fake_server server;
  auto p = params(2);
  p.ping_interval = 50ms;
  pool_type pool(p, connector(server));
  EXPECT_FALSE(run_request(pool).ec);
  EXPECT_EQ(pool.stats().idle, 1u);

  EXPECT_TRUE(eventually([&] { return server.pings > 0; }));
  EXPECT_EQ(pool.stats().idle, 1u);  // alive: kept

  ++server.generation;
  EXPECT_TRUE(eventually([&] { return pool.stats().total == 0; }));
}

TEST(basic_pool, stop_fails_waiting_and_later_requests) {
  fake_server server;
  auto p = params(1);
  p.query_timeout = 10s;
  pool_type pool(p, connector(server));
  asio::io_context ioc;
  std::promise<void> gate;
  std::shared_future<void> g = gate.get_future().share();
  outcome holder, waiter, late;
  std::atomic<bool> holding{false};
  auto hold = [g, &holding](fake_conn&) {
    holding = true;
    g.wait();
    return error_code{};
  };
  asio::co_spawn(ioc, request(pool, hold, holder), asio::detached);
  asio::co_spawn(ioc, request(pool, note(waiter), waiter), asio::detached);
  auto guard = asio::make_work_guard(ioc);
  std::thread stopper([&] {
    EXPECT_TRUE(eventually([&] { return holding && pool.stats().waiting == 1; }));
    pool.stop();
    pool.stop();  // idempotent
    asio::co_spawn(ioc, request(pool, note(late), late), asio::detached);
    gate.set_value();
    guard.reset();
  });
  ioc.run_for(5s);
  stopper.join();
  EXPECT_TRUE(ioc.stopped());
  ASSERT_TRUE(holder.done && waiter.done && late.done);
  EXPECT_FALSE(holder.ec);  // was running: finishes
  EXPECT_EQ(waiter.ec, errc::unavailable);
  EXPECT_LT(waiter.elapsed, 2s);
  EXPECT_EQ(late.ec, errc::unavailable);
  EXPECT_TRUE(eventually([&] { return pool.stats().total == 0; }));  // the holder's connection is closed
}

TEST(basic_pool, a_plain_callback_completes_on_a_pool_thread) {
  fake_server server;
  pool_type pool(params(1), connector(server));
  std::promise<std::pair<error_code, std::thread::id>> done;
  auto f = done.get_future();
  pool.async_run([](fake_conn&) { return error_code{}; },
                 [&done](error_code ec) { done.set_value({ec, std::this_thread::get_id()}); });
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  const auto [ec, thread] = f.get();
  EXPECT_FALSE(ec);
  EXPECT_NE(thread, std::this_thread::get_id());
}

}  // namespace
