// redis_broker against a real redis-server: publish/subscribe delivery and order, subscribing
// while connected, unsubscribe, stop, and an outage (Redis SIGKILLed and restarted on the same
// port: fail-fast meanwhile, reconnect and resubscribe by itself).
#include "redis_test_support.hpp"

#include <chat/asio/offload.hpp>
#include <chat/broker/redis_broker.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace chat::broker {
namespace {

using namespace test;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

class RedisBroker : public with_redis {};

// What a subscriber received, safe to read from the test's coroutine (handlers run on the
// subscriber's strand).
struct inbox {
  std::mutex mutex;
  std::vector<std::string> messages;

  broker::message_handler handler(std::string expected_channel) {
    return [this, expected_channel](std::string_view channel, std::string_view payload) {
      EXPECT_EQ(channel, expected_channel);
      std::lock_guard lock(mutex);
      messages.emplace_back(payload);
    };
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
  std::vector<std::string> copy() {
    std::lock_guard lock(mutex);
    return messages;
  }
};

struct event_log {
  std::atomic<int> commands_up{0}, commands_down{0}, subscriptions_up{0}, subscriptions_down{0};

  redis_broker::event_handler handler() {
    return [this](redis_event e) {
      switch (e) {
        case redis_event::commands_up:
          ++commands_up;
          break;
        case redis_event::commands_down:
          ++commands_down;
          break;
        case redis_event::subscriptions_up:
          ++subscriptions_up;
          break;
        case redis_event::subscriptions_down:
          ++subscriptions_down;
          break;
      }
    };
  }
};

// Number of subscribers Redis counts for `channel` (PUBLISH's reply), or -1.
awaitable<std::int64_t> receivers(redis_client& c, std::string channel) {
  std::vector<std::string> args{"PUBLISH", std::move(channel), "probe"};
  auto r = co_await c.command(std::move(args));
  co_return r && r->type == resp_type::integer ? r->integer : -1;
}

awaitable<void> publish_and_receive(redis_broker& pub, redis_broker& sub, inbox& box, std::string channel) {
  std::function<bool()> subscribed = [&] { return sub.subscribed() && pub.publish_connected(); };
  EXPECT_TRUE(co_await wait_until(subscribed, 5s));

  constexpr int n = 100;
  for (int i = 0; i < n; ++i) {
    auto send = pub.publish(channel, "m" + std::to_string(i));
    const error_code ec = co_await std::move(send);
    EXPECT_FALSE(ec) << ec.message();
  }
  std::function<bool()> all_in = [&] { return box.size() >= n; };
  EXPECT_TRUE(co_await wait_until(all_in, 5s)) << "received " << box.size();
  auto got = box.copy();
  EXPECT_EQ(got.size(), static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i], "m" + std::to_string(i));

  // After unsubscribe() the handler is not called any more, and Redis learns of it.
  sub.unsubscribe(channel);
  auto after = pub.publish(channel, "after unsubscribe");
  EXPECT_FALSE(co_await std::move(after));
  std::int64_t count = -1;
  for (int i = 0; i < 200 && count != 0; ++i) {
    auto probe = receivers(pub.client(), channel);
    count = co_await std::move(probe);
    if (count != 0)
      co_await sleep_for(5ms);
  }
  EXPECT_EQ(count, 0);
  co_await sleep_for(50ms);
  EXPECT_EQ(box.size(), static_cast<std::size_t>(n));
}

TEST_F(RedisBroker, PublishedMessagesReachTheSubscriberInOrder) {
  asio::io_context ioc;
  redis_broker pub(ioc.get_executor(), fast_config(port_));
  redis_broker sub(ioc.get_executor(), fast_config(port_));
  event_log events;
  sub.set_event_handler(events.handler());
  inbox box;
  const auto channel = unique_name("channel");
  sub.subscribe(channel, box.handler(channel));  // before start: subscribed on connect
  pub.start();
  sub.start();
  run_bounded(
      ioc, [&] { return publish_and_receive(pub, sub, box, channel); },
      [&] {
        pub.stop();
        sub.stop();
      });
  EXPECT_EQ(events.subscriptions_up.load(), 1);
  EXPECT_EQ(events.commands_up.load(), 1);
}

awaitable<void> subscribe_while_connected(redis_broker& b, inbox& box, std::string channel) {
  std::function<bool()> up = [&] { return b.subscribed() && b.publish_connected(); };
  EXPECT_TRUE(co_await wait_until(up, 5s));
  b.subscribe(channel, box.handler(channel));
  // Redis takes the SUBSCRIBE asynchronously: once PUBLISH counts a receiver, it is in effect.
  std::int64_t count = 0;
  for (int i = 0; i < 200 && count < 1; ++i) {
    auto probe = receivers(b.client(), channel);
    count = co_await std::move(probe);
    if (count < 1)
      co_await sleep_for(5ms);
  }
  EXPECT_EQ(count, 1);
  auto send = b.publish(channel, "hello");
  EXPECT_FALSE(co_await std::move(send));
  std::function<bool()> got = [&] {
    auto m = box.copy();
    return !m.empty() && m.back() == "hello";
  };
  EXPECT_TRUE(co_await wait_until(got, 3s));

  // Replacing the handler keeps the subscription and routes to the new handler only.
  inbox second;
  b.subscribe(channel, second.handler(channel));
  co_await sleep_for(20ms);
  auto again = b.publish(channel, "again");
  EXPECT_FALSE(co_await std::move(again));
  std::function<bool()> got_again = [&] { return second.size() >= 1; };
  EXPECT_TRUE(co_await wait_until(got_again, 3s));
  EXPECT_EQ(second.copy(), std::vector<std::string>{"again"});
  auto first = box.copy();
  EXPECT_TRUE(!first.empty() && first.back() != "again");
}

TEST_F(RedisBroker, SubscribesWhileConnected) {
  asio::io_context ioc;
  redis_broker b(ioc.get_executor(), fast_config(port_));
  inbox box;
  b.start();
  run_bounded(
      ioc, [&] { return subscribe_while_connected(b, box, unique_name("late")); }, [&] { b.stop(); });
}

// One of many concurrent publishers: sequential publishes, tagged with the worker's id.
awaitable<void> publisher(redis_broker& b, std::string channel, int worker, int count, std::atomic<int>& failures,
                          std::atomic<int>& finished) {
  for (int i = 0; i < count; ++i) {
    auto send = b.publish(channel, std::to_string(worker) + ":" + std::to_string(i));
    const error_code ec = co_await std::move(send);
    if (ec)
      ++failures;
  }
  ++finished;
}

awaitable<void> many_publishers(redis_broker& pub, redis_broker& sub, inbox& box, std::string channel) {
  std::function<bool()> up = [&] { return sub.subscribed() && pub.publish_connected(); };
  EXPECT_TRUE(co_await wait_until(up, 5s));
  constexpr int workers = 64;
  constexpr int each = 2000;
  constexpr int n = workers * each;
  const auto ex = co_await asio::this_coro::executor;
  std::atomic<int> failures{0};
  std::atomic<int> finished{0};
  const auto t0 = clock_type::now();
  for (int w = 0; w < workers; ++w) {
    asio::co_spawn(ex, publisher(pub, channel, w, each, failures, finished), asio::detached);
  }
  std::function<bool()> published = [&] { return finished.load() == workers; };
  EXPECT_TRUE(co_await wait_until(published, 60s));
  const double publish_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::function<bool()> delivered = [&] { return box.size() >= n; };
  EXPECT_TRUE(co_await wait_until(delivered, 30s)) << "received " << box.size();
  const double deliver_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("[ info     ] %d publishers x %d: published in %.3f s (%.0f msg/s), delivered in %.3f s\n", workers, each,
              publish_s, n / publish_s, deliver_s);
  EXPECT_EQ(failures.load(), 0);

  // Each publisher's messages arrive in the order it sent them.
  auto got = box.copy();
  EXPECT_EQ(got.size(), static_cast<std::size_t>(n));
  std::vector<int> next(workers, 0);
  for (const auto& m : got) {
    const auto colon = m.find(':');
    const int w = std::stoi(m.substr(0, colon));
    const int i = std::stoi(m.substr(colon + 1));
    if (w < 0 || w >= workers || i != next[static_cast<std::size_t>(w)]) {
      ADD_FAILURE() << "out of order: " << m;
      break;
    }
    ++next[static_cast<std::size_t>(w)];
  }
}

TEST_F(RedisBroker, ConcurrentPublishersArePipelinedAndDeliveredInOrder) {
  asio::io_context ioc;
  auto cfg = fast_config(port_);
  cfg.command_timeout = 5s;  // a loaded 2-core machine
  redis_broker pub(ioc.get_executor(), cfg);
  redis_broker sub(ioc.get_executor(), cfg);
  inbox box;
  const auto channel = unique_name("bulk");
  sub.subscribe(channel, box.handler(channel));
  pub.start();
  sub.start();
  run_bounded(
      ioc, [&] { return many_publishers(pub, sub, box, channel); },
      [&] {
        pub.stop();
        sub.stop();
      },
      90s, 2);
}

awaitable<void> start_then_stop(redis_broker& b) {
  std::function<bool()> up = [&] { return b.subscribed() && b.publish_connected(); };
  EXPECT_TRUE(co_await wait_until(up, 5s));
  b.stop();
  b.stop();
  auto send = b.publish("x", "y");
  EXPECT_EQ(co_await std::move(send), make_error_code(errc::unavailable));
}

TEST_F(RedisBroker, StopIsIdempotentAndLetsTheContextFinish) {
  asio::io_context ioc;
  redis_broker b(ioc.get_executor(), fast_config(port_));
  b.subscribe(unique_name("c"), [](std::string_view, std::string_view) {});
  b.start();
  run_bounded(
      ioc, [&] { return start_then_stop(b); }, [&] { b.stop(); });
  EXPECT_FALSE(b.subscribed());
  EXPECT_FALSE(b.publish_connected());
}

// --- outage -----------------------------------------------------------------------------

struct outage_env {
  std::string script;
  std::string dir;
  std::uint16_t port = 0;
};

std::optional<outage_env> outage_settings() {
  outage_env env{env_string("CHAT_REDIS_SCRIPT"), env_string("CHAT_TEST_REDIS_OUTAGE_DIR"), 0};
  auto port = env_port("CHAT_TEST_REDIS_OUTAGE_PORT");
  if (env.script.empty() || env.dir.empty() || !port)
    return std::nullopt;
  env.port = *port;
  return env;
}

// The script blocks, so it runs on `pool`; the io_context keeps serving the broker meanwhile.
awaitable<int> script(asio::thread_pool& pool, const outage_env& env, std::string args) {
  auto work = [&env, args = std::move(args)] { return run_script(env.script, args); };
  co_return co_await offload(pool.get_executor(), std::move(work));
}

awaitable<void> outage(redis_broker& b, inbox& box, event_log& events, asio::thread_pool& pool, const outage_env& env,
                       std::string channel) {
  std::function<bool()> up = [&] { return b.subscribed() && b.publish_connected(); };
  EXPECT_TRUE(co_await wait_until(up, 5s));
  auto before = b.publish(channel, "before");
  EXPECT_FALSE(co_await std::move(before));
  std::function<bool()> got_before = [&] { return box.size() >= 1; };
  EXPECT_TRUE(co_await wait_until(got_before, 3s));

  auto kill = script(pool, env, "kill '" + env.dir + "'");
  EXPECT_EQ(co_await std::move(kill), 0);
  std::function<bool()> down = [&] { return !b.subscribed() && !b.publish_connected(); };
  EXPECT_TRUE(co_await wait_until(down, 3s));
  EXPECT_GE(events.commands_down.load(), 1);
  EXPECT_GE(events.subscriptions_down.load(), 1);

  // While Redis is down, publishing fails at once instead of hanging.
  for (int i = 0; i < 10; ++i) {
    const auto t0 = clock_type::now();
    auto during = b.publish(channel, "during");
    const error_code ec = co_await std::move(during);
    const auto took = clock_type::now() - t0;
    EXPECT_EQ(ec, make_error_code(errc::unavailable)) << ec.message();
    EXPECT_LT(took, 100ms) << "attempt " << i;
    co_await sleep_for(30ms);
  }

  const std::string start_args = "start '" + env.dir + "' " + std::to_string(env.port);
  auto restart = script(pool, env, start_args);
  EXPECT_EQ(co_await std::move(restart), 0);
  // Back by itself, every subscription renewed.
  std::function<bool()> back = [&] {
    return b.subscribed() && b.publish_connected() && events.subscriptions_up.load() >= 2;
  };
  EXPECT_TRUE(co_await wait_until(back, 5s));
  auto after = b.publish(channel, "after");
  EXPECT_FALSE(co_await std::move(after));
  std::function<bool()> got_after = [&] { return box.size() >= 2; };
  EXPECT_TRUE(co_await wait_until(got_after, 3s));
  EXPECT_EQ(box.copy(), (std::vector<std::string>{"before", "after"}));
}

TEST(RedisBrokerOutage, ReconnectsAndResubscribesAfterRedisIsKilledAndRestarted) {
  auto env = outage_settings();
  if (!env) {
    GTEST_SKIP() << "set CHAT_REDIS_SCRIPT, CHAT_TEST_REDIS_OUTAGE_PORT and CHAT_TEST_REDIS_OUTAGE_DIR";
  }
  ASSERT_EQ(run_script(env->script, "start '" + env->dir + "' " + std::to_string(env->port)), 0);
  {
    asio::io_context ioc;
    asio::thread_pool pool(1);
    redis_broker b(ioc.get_executor(), fast_config(env->port));
    event_log events;
    b.set_event_handler(events.handler());
    inbox box;
    const auto channel = unique_name("outage");
    b.subscribe(channel, box.handler(channel));
    b.start();
    run_bounded(
        ioc, [&] { return outage(b, box, events, pool, *env, channel); }, [&] { b.stop(); }, 40s);
    pool.join();
  }
  EXPECT_EQ(run_script(env->script, "stop '" + env->dir + "'"), 0);
}

}  // namespace
}  // namespace chat::broker
