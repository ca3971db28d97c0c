// redis_client against a real redis-server (CHAT_TEST_REDIS_PORT) and against listeners of
// its own: round trips, error replies, pipelining order, AUTH, fail-fast, timeouts, stop.
#include "redis_test_support.hpp"

#include <chat/broker/redis_client.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>

#include <unistd.h>
#include <atomic>
#include <optional>
#include <string>
#include <vector>

namespace chat::broker {
namespace {

using namespace test;
using boost::system::result;
using clock_type = std::chrono::steady_clock;

// g++ 12: arguments written inside a co_await expression can be bit-copied, so every command
// is built first (`auto op = c.command({...})`) and awaited separately.

class RedisClient : public with_redis {};

// A loopback port nothing listens on (bound once by us, then released).
std::uint16_t closed_port() {
  asio::io_context ioc;
  asio::ip::tcp::acceptor a(ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

awaitable<void> round_trips(redis_client& c) {
  const auto key = unique_name("key");
  const auto counter = unique_name("counter");

  auto set = c.command({"SET", key, "hello"});
  auto r = co_await std::move(set);
  EXPECT_TRUE(r && *r == resp_value::simple("OK")) << (r ? to_string(*r) : r.error().message());

  auto get = c.command({"GET", key});
  r = co_await std::move(get);
  EXPECT_TRUE(r && *r == resp_value::bulk("hello"));

  auto pexpire = c.command({"PEXPIRE", key, "60000"});
  r = co_await std::move(pexpire);
  EXPECT_TRUE(r && *r == resp_value::number(1));

  auto pttl = c.command({"PTTL", key});
  r = co_await std::move(pttl);
  EXPECT_TRUE(r && r->type == resp_type::integer && r->integer > 0 && r->integer <= 60000);

  auto incr_text = c.command({"INCR", key});
  r = co_await std::move(incr_text);
  // An error reply is a value, not a failure.
  EXPECT_TRUE(r && r->is_error() && r->string.rfind("ERR", 0) == 0) << (r ? to_string(*r) : r.error().message());

  auto del = c.command({"DEL", key});
  r = co_await std::move(del);
  EXPECT_TRUE(r && *r == resp_value::number(1));

  auto get_gone = c.command({"GET", key});
  r = co_await std::move(get_gone);
  EXPECT_TRUE(r && r->is_null());

  for (int expected = 1; expected <= 3; ++expected) {
    auto incr = c.command({"INCR", counter});
    r = co_await std::move(incr);
    EXPECT_TRUE(r && *r == resp_value::number(expected));
  }

  auto unknown = c.command({"NO_SUCH_COMMAND", "x"});
  r = co_await std::move(unknown);
  EXPECT_TRUE(r && r->is_error() && r->string.find("unknown command") != std::string::npos);

  // The connection is still in step after the error replies.
  auto mget = c.command({"MGET", counter, key});
  r = co_await std::move(mget);
  EXPECT_TRUE(r && *r == resp_value::array({resp_value::bulk("3"), resp_value::null()}));

  auto cleanup = c.command({"DEL", counter});
  r = co_await std::move(cleanup);
  EXPECT_TRUE(r && *r == resp_value::number(1));
}

TEST_F(RedisClient, CommandRoundTrips) {
  asio::io_context ioc;
  redis_client client(ioc.get_executor(), fast_config(port_));
  client.start();
  run_bounded(
      ioc, [&] { return round_trips(client); }, [&] { client.stop(); });
}

awaitable<void> large_value(redis_client& c) {
  const auto key = unique_name("large");
  std::string value(4u << 20, '\0');
  for (std::size_t i = 0; i < value.size(); ++i)
    value[i] = static_cast<char>(i * 7 % 251);
  auto set = c.command({"SET", key, value});
  auto r = co_await std::move(set);
  EXPECT_TRUE(r && *r == resp_value::simple("OK"));
  auto get = c.command({"GET", key});
  r = co_await std::move(get);
  EXPECT_TRUE(r && r->type == resp_type::bulk_string && r->string == value);
  auto del = c.command({"DEL", key});
  r = co_await std::move(del);
}

TEST_F(RedisClient, LargeValuesRoundTrip) {
  asio::io_context ioc;
  auto cfg = fast_config(port_);
  cfg.command_timeout = 5s;
  redis_client client(ioc.get_executor(), cfg);
  client.start();
  run_bounded(
      ioc, [&] { return large_value(client); }, [&] { client.stop(); });
}

awaitable<void> push_one(redis_client& c, std::string list, int i, std::vector<std::int64_t>& replies) {
  std::vector<std::string> args{"RPUSH", std::move(list), std::to_string(i)};
  auto r = co_await c.command(std::move(args));
  replies[static_cast<std::size_t>(i)] = r && r->type == resp_type::integer ? r->integer : -1;
}

awaitable<void> pipeline_in_order(redis_client& c) {
  constexpr int n = 1000;
  const auto ex = co_await asio::this_coro::executor;
  const auto list = unique_name("list");
  std::vector<std::int64_t> replies(n, 0);
  int finished = 0;
  // All started at once: they share the connection, and RPUSH's reply (the list length)
  // tells which request each reply belongs to.
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(ex, push_one(c, list, i, replies), [&finished](std::exception_ptr) { ++finished; });
  }
  std::function<bool()> all_done = [&] { return finished == n; };
  EXPECT_TRUE(co_await wait_until(all_done, 10s));
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(replies[static_cast<std::size_t>(i)], i + 1) << "command " << i;

  auto range = c.command({"LRANGE", list, "0", "-1"});
  auto r = co_await std::move(range);
  EXPECT_TRUE(r && r->is_array() && r->elements.size() == static_cast<std::size_t>(n));
  if (r && r->is_array()) {
    for (std::size_t i = 0; i < r->elements.size(); ++i) {
      EXPECT_EQ(r->elements[i], resp_value::bulk(std::to_string(i)));
    }
  }
  auto del = c.command({"DEL", list});
  r = co_await std::move(del);
}

TEST_F(RedisClient, PipelinesAThousandConcurrentCommandsInOrder) {
  asio::io_context ioc;
  redis_client client(ioc.get_executor(), fast_config(port_));
  client.start();
  run_bounded(
      ioc, [&] { return pipeline_in_order(client); }, [&] { client.stop(); });
}

awaitable<void> echo_one(redis_client& c, int i, std::atomic<int>& matched) {
  const std::string word = "echo-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 50), 'x');
  std::vector<std::string> args{"ECHO", word};
  auto r = co_await c.command(std::move(args));
  if (r && *r == resp_value::bulk(word))
    ++matched;
}

awaitable<void> echo_from_threads(redis_client& c, asio::any_io_executor pool) {
  constexpr int n = 2000;
  std::atomic<int> matched{0};
  std::atomic<int> finished{0};
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(pool, echo_one(c, i, matched), [&finished](std::exception_ptr) { ++finished; });
  }
  std::function<bool()> all_done = [&] { return finished.load() == n; };
  EXPECT_TRUE(co_await wait_until(all_done, 15s));
  EXPECT_EQ(matched.load(), n) << "every caller gets its own reply";
}

TEST_F(RedisClient, CallersOnSeveralThreadsGetTheirOwnReplies) {
  asio::io_context ioc;
  redis_client client(ioc.get_executor(), fast_config(port_));
  client.start();
  run_bounded(
      ioc, [&] { return echo_from_threads(client, ioc.get_executor()); }, [&] { client.stop(); }, 30s, 2);
}

awaitable<void> invalid_commands(redis_client& c) {
  const std::vector<std::vector<std::string>> rejected{{},          {"SUBSCRIBE", "x"}, {"psubscribe", "x*"},
                                                       {"Monitor"}, {"HELLO", "3"},     {"CLIENT", "REPLY", "OFF"}};
  for (const auto& args : rejected) {
    auto copy = args;
    auto r = co_await c.command(std::move(copy));
    EXPECT_TRUE(!r && r.error() == make_error_code(errc::invalid_command)) << (args.empty() ? "" : args[0]);
  }
  // Not started: a valid command fails at once.
  auto ping = c.command({"PING"});
  auto r = co_await std::move(ping);
  EXPECT_TRUE(!r && r.error() == make_error_code(errc::unavailable));
}

TEST(RedisClientOffline, RejectsCommandsThatBreakPipelining) {
  asio::io_context ioc;
  redis_client client(ioc.get_executor(), fast_config(closed_port()));
  run_bounded(
      ioc, [&] { return invalid_commands(client); }, [&] { client.stop(); });
}

awaitable<void> fails_fast(redis_client& c, std::atomic<int>& ups) {
  for (int i = 0; i < 20; ++i) {
    const auto t0 = clock_type::now();
    auto ping = c.command({"PING"});
    auto r = co_await std::move(ping);
    const auto took = clock_type::now() - t0;
    EXPECT_TRUE(!r && r.error() == make_error_code(errc::unavailable)) << "attempt " << i;
    EXPECT_LT(took, 100ms) << "attempt " << i;
    co_await sleep_for(15ms);
  }
  EXPECT_EQ(ups.load(), 0);
}

TEST(RedisClientOffline, FailsFastWhileNothingListens) {
  asio::io_context ioc;
  redis_client client(ioc.get_executor(), fast_config(closed_port()));
  std::atomic<int> ups{0};
  client.set_state_handler([&](bool up) { ups += up ? 1 : 0; });
  client.start();
  run_bounded(
      ioc, [&] { return fails_fast(client, ups); }, [&] { client.stop(); });
}

awaitable<void> times_out(redis_client& c, silent_listener& listener, std::atomic<int>& ups, std::atomic<int>& downs) {
  for (int round = 0; round < 2; ++round) {
    std::function<bool()> connected = [&] { return c.connected(); };
    EXPECT_TRUE(co_await wait_until(connected, 3s));
    const auto t0 = clock_type::now();
    auto ping = c.command({"PING"});
    auto r = co_await std::move(ping);
    const auto took = clock_type::now() - t0;
    EXPECT_TRUE(!r && r.error() == make_error_code(errc::timeout)) << (r ? to_string(*r) : r.error().message());
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 1500ms);
    // The late connection is dropped and a new one opened.
    std::function<bool()> reconnected = [&] { return listener.accepted() >= round + 2; };
    EXPECT_TRUE(co_await wait_until(reconnected, 3s)) << "round " << round;
  }
  EXPECT_GE(ups.load(), 2);
  EXPECT_GE(downs.load(), 2);
}

TEST(RedisClientOffline, TimesOutAndReconnectsWhenTheServerNeverAnswers) {
  silent_listener listener;
  asio::io_context ioc;
  auto cfg = fast_config(listener.port());
  cfg.command_timeout = 300ms;
  cfg.health_check_interval = 0ms;  // only the commands' own deadlines
  redis_client client(ioc.get_executor(), cfg);
  std::atomic<int> ups{0};
  std::atomic<int> downs{0};
  client.set_state_handler([&](bool up) { ++(up ? ups : downs); });
  client.start();
  run_bounded(
      ioc, [&] { return times_out(client, listener, ups, downs); }, [&] { client.stop(); });
}

awaitable<void> health_check_drops(silent_listener& listener) {
  // No command at all: the idle PING goes unanswered, so the connection is replaced.
  std::function<bool()> replaced = [&] { return listener.accepted() >= 3; };
  EXPECT_TRUE(co_await wait_until(replaced, 5s)) << "accepted " << listener.accepted();
}

TEST(RedisClientOffline, HealthCheckReplacesASilentConnection) {
  silent_listener listener;
  asio::io_context ioc;
  auto cfg = fast_config(listener.port());
  cfg.health_check_interval = 100ms;
  cfg.command_timeout = 200ms;
  redis_client client(ioc.get_executor(), cfg);
  client.start();
  run_bounded(
      ioc, [&] { return health_check_drops(listener); }, [&] { client.stop(); });
}

awaitable<void> ask_ping(redis_client& c, std::optional<result<resp_value>>& out) {
  auto ping = c.command({"PING"});
  out = co_await std::move(ping);
}

awaitable<void> pending_then_stop(redis_client& c) {
  const auto ex = co_await asio::this_coro::executor;
  std::function<bool()> connected = [&] { return c.connected(); };
  EXPECT_TRUE(co_await wait_until(connected, 3s));
  std::optional<result<resp_value>> outcome;
  asio::co_spawn(ex, ask_ping(c, outcome), asio::detached);
  co_await sleep_for(100ms);
  EXPECT_FALSE(outcome.has_value());
  const auto t0 = clock_type::now();
  c.stop();
  c.stop();  // idempotent
  std::function<bool()> completed = [&] { return outcome.has_value(); };
  EXPECT_TRUE(co_await wait_until(completed, 1s));
  EXPECT_LT(clock_type::now() - t0, 500ms);
  EXPECT_TRUE(outcome && !*outcome && (*outcome).error() == make_error_code(errc::unavailable));
  // After stop, commands fail at once.
  auto late = c.command({"PING"});
  auto r = co_await std::move(late);
  EXPECT_TRUE(!r && r.error() == make_error_code(errc::unavailable));
}

TEST(RedisClientOffline, StopFailsPendingCommandsAndLetsTheContextFinish) {
  silent_listener listener;
  asio::io_context ioc;
  auto cfg = fast_config(listener.port());
  cfg.command_timeout = 10s;
  cfg.health_check_interval = 0ms;
  redis_client client(ioc.get_executor(), cfg);
  client.start();
  run_bounded(
      ioc, [&] { return pending_then_stop(client); }, [&] { client.stop(); });
}

awaitable<void> connect_times_out(redis_client& c) {
  const auto t0 = clock_type::now();
  auto ping = c.command({"PING"});
  auto r = co_await std::move(ping);
  const auto took = clock_type::now() - t0;
  // The command waited for the connect attempt, which gave up after connect_timeout.
  EXPECT_TRUE(!r && r.error() == make_error_code(errc::unavailable)) << (r ? to_string(*r) : r.error().message());
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1500ms);
}

TEST(RedisClientOffline, ConnectAttemptsAreBoundedByConnectTimeout) {
  // A listener whose accept queue is full: the kernel drops further SYNs, so a connect hangs.
  asio::io_context fill_ioc;
  asio::ip::tcp::acceptor full(fill_ioc);
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  full.open(ep.protocol());
  full.bind(ep);
  full.listen(0);
  const auto port = full.local_endpoint().port();
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(std::make_unique<asio::ip::tcp::socket>(fill_ioc));
    fillers.back()->async_connect(asio::ip::tcp::endpoint(ep.address(), port), [](boost::system::error_code) {});
  }
  fill_ioc.run_for(300ms);

  asio::io_context ioc;
  auto cfg = fast_config(port);
  cfg.connect_timeout = 300ms;
  cfg.command_timeout = 5s;
  redis_client client(ioc.get_executor(), cfg);
  client.start();
  run_bounded(
      ioc, [&] { return connect_times_out(client); }, [&] { client.stop(); });
}

awaitable<void> ping_once(redis_client& c) {
  auto ping = c.command({"PING"});
  auto r = co_await std::move(ping);
  EXPECT_TRUE(r && *r == resp_value::simple("PONG")) << (r ? to_string(*r) : r.error().message());
}

TEST_F(RedisClient, ResolvesHostNames) {
  asio::io_context ioc;
  auto cfg = fast_config(port_);
  cfg.host = "localhost";  // may resolve to ::1 first, where nothing listens: the next address is tried
  redis_client client(ioc.get_executor(), cfg);
  client.start();
  run_bounded(
      ioc, [&] { return ping_once(client); }, [&] { client.stop(); });
}

std::string acl_user_name() {
  return "chat_test_" + std::to_string(::getpid());
}

awaitable<void> auth_checks(redis_client& admin, redis_client& good, redis_client& bad) {
  const std::string user = acl_user_name();
  auto create = admin.command({"ACL", "SETUSER", user, "on", ">s3cret", "~*", "&*", "+@all"});
  auto r = co_await std::move(create);
  EXPECT_TRUE(r && *r == resp_value::simple("OK")) << (r ? to_string(*r) : r.error().message());

  good.start();
  bad.start();
  auto whoami = good.command({"ACL", "WHOAMI"});
  r = co_await std::move(whoami);
  EXPECT_TRUE(r && *r == resp_value::bulk(user)) << (r ? to_string(*r) : r.error().message());

  // A refused AUTH drops the connection: the command behind it never runs.
  auto refused = bad.command({"PING"});
  r = co_await std::move(refused);
  EXPECT_TRUE(!r && r.error() == make_error_code(errc::unavailable)) << (r ? to_string(*r) : "");

  auto remove = admin.command({"ACL", "DELUSER", user});
  r = co_await std::move(remove);
  EXPECT_TRUE(r && *r == resp_value::number(1));
}

TEST_F(RedisClient, AuthenticatesWithUsernameAndPassword) {
  asio::io_context ioc;
  redis_client admin(ioc.get_executor(), fast_config(port_));
  auto good_cfg = fast_config(port_);
  good_cfg.username = acl_user_name();
  good_cfg.password = "s3cret";
  auto bad_cfg = good_cfg;
  bad_cfg.password = "wrong";
  redis_client good(ioc.get_executor(), good_cfg);
  redis_client bad(ioc.get_executor(), bad_cfg);
  admin.start();
  run_bounded(
      ioc, [&] { return auth_checks(admin, good, bad); },
      [&] {
        admin.stop();
        good.stop();
        bad.stop();
      });
}

}  // namespace
}  // namespace chat::broker
