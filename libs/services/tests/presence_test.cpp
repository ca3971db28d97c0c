// Presence: registration rules and the live-or-store hand-over that keeps offline replay ordered.
#include <chat/services/presence.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chat::services {
namespace {

class fake_link final : public client_link {
 public:
  bool deliver(const outbound& msg) override {
    if (!accepting) {
      return false;
    }
    frames.push_back(*msg.frame);
    return true;
  }
  bool accepting = true;
  std::vector<std::string> frames;
};

outbound frame(std::string text, user_id to) { return {std::make_shared<const std::string>(std::move(text)), to}; }

TEST(Presence, OneConnectionPerUser) {
  presence p;
  auto a = std::make_shared<fake_link>();
  auto b = std::make_shared<fake_link>();
  EXPECT_TRUE(p.try_register(7, a));
  EXPECT_FALSE(p.try_register(7, b));
  EXPECT_TRUE(p.is_online(7));
  p.unregister(7, b.get());  // not the registered link: no effect
  EXPECT_TRUE(p.is_online(7));
  p.unregister(7, a.get());
  EXPECT_FALSE(p.is_online(7));
  EXPECT_TRUE(p.try_register(7, b));
  EXPECT_EQ(p.online_count(), 1u);
}

TEST(Presence, DeliversToAnOnlineUser) {
  presence p;
  auto a = std::make_shared<fake_link>();
  ASSERT_TRUE(p.try_register(1, a));
  EXPECT_FALSE(p.deliver_or_reserve(1, frame("m1", 1)).has_value());
  EXPECT_EQ(a->frames, std::vector<std::string>{"m1"});
}

TEST(Presence, ReservesAStoreForAnOfflineUserOrAClosedLink) {
  presence p;
  auto r1 = p.deliver_or_reserve(2, frame("m", 2));
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->user(), 2);

  auto a = std::make_shared<fake_link>();
  a->accepting = false;  // finished closing
  ASSERT_TRUE(p.try_register(3, a));
  auto r2 = p.deliver_or_reserve(3, frame("m", 3));
  EXPECT_TRUE(r2.has_value());
  EXPECT_TRUE(a->frames.empty());
}

awaitable<void> wait_once(presence& p, std::vector<bool>& out) {
  out.push_back(co_await p.wait_for_stores(5, std::chrono::milliseconds(50)));
}

TEST(Presence, LoginWaitsForStoresInFlight) {
  presence p;
  std::vector<bool> results;
  {
    auto reservation = p.deliver_or_reserve(5, frame("m", 5));
    ASSERT_TRUE(reservation.has_value());
    asio::io_context ioc;
    asio::co_spawn(ioc, wait_once(p, results), asio::detached);
    ioc.run_for(std::chrono::seconds(2));
    ASSERT_EQ(results.size(), 1u);
    EXPECT_FALSE(results[0]) << "a reservation was held for the whole wait";
  }
  asio::io_context ioc;
  asio::co_spawn(ioc, wait_once(p, results), asio::detached);
  ioc.run_for(std::chrono::seconds(2));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[1]) << "the reservation was released";
}

}  // namespace
}  // namespace chat::services
