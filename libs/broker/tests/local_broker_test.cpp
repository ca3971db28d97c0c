// The in-process broker: delivery to the channel's subscriber only, replace, unsubscribe.
#include <chat/broker/broker.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chat::broker {
namespace {

// Runs a coroutine to completion on a private io_context, with a bound.
template <class F>
void run(F make) {
  asio::io_context ioc;
  bool done = false;
  asio::co_spawn(ioc, make(), [&](std::exception_ptr ep) {
    done = true;
    if (ep) std::rethrow_exception(ep);
  });
  ioc.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(done);
}

awaitable<void> publish_all(local_broker& b, std::vector<boost::system::error_code>& results) {
  results.push_back(co_await b.publish("user.1", "hello"));
  results.push_back(co_await b.publish("user.2", "nobody listens"));
  b.unsubscribe("user.1");
  results.push_back(co_await b.publish("user.1", "after unsubscribe"));
}

TEST(LocalBroker, DeliversToTheChannelsSubscriberOnly) {
  local_broker b;
  std::vector<std::string> got;
  b.subscribe("user.1", [&](std::string_view ch, std::string_view payload) {
    got.push_back(std::string(ch) + ":" + std::string(payload));
  });
  std::vector<boost::system::error_code> results;
  run([&] { return publish_all(b, results); });
  EXPECT_EQ(got, (std::vector<std::string>{"user.1:hello"}));
  ASSERT_EQ(results.size(), 3u);
  for (const auto& ec : results) {
    EXPECT_FALSE(ec);
  }
}

awaitable<void> publish_one(local_broker& b) { co_await b.publish("c", "x"); }

TEST(LocalBroker, SubscribeReplacesTheHandler) {
  local_broker b;
  int first = 0;
  int second = 0;
  b.subscribe("c", [&](std::string_view, std::string_view) { ++first; });
  b.subscribe("c", [&](std::string_view, std::string_view) { ++second; });
  run([&] { return publish_one(b); });
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
}

}  // namespace
}  // namespace chat::broker
