// The request-rate token bucket and the connection admission counts.
#include <chat/server/limits.hpp>

#include <gtest/gtest.h>

namespace {

using chat::server::admission;
using chat::server::token_bucket;
using std::chrono::milliseconds;

TEST(token_bucket, allows_the_burst_then_the_rate) {
  token_bucket bucket(10, 5);
  const auto t0 = token_bucket::clock::now();
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(bucket.take(t0)) << i;
  }
  EXPECT_FALSE(bucket.take(t0));
  EXPECT_FALSE(bucket.take(t0 + milliseconds(50)));  // half a token
  EXPECT_TRUE(bucket.take(t0 + milliseconds(100)));  // one token per 100 ms
  EXPECT_FALSE(bucket.take(t0 + milliseconds(100)));
  // A long pause refills up to the burst, not beyond.
  int taken = 0;
  while (bucket.take(t0 + milliseconds(60'000))) {
    ++taken;
  }
  EXPECT_EQ(taken, 5);
}

TEST(token_bucket, burst_defaults_to_the_rate_and_zero_is_unlimited) {
  token_bucket bucket(3, 0);
  const auto t0 = token_bucket::clock::now();
  EXPECT_TRUE(bucket.take(t0));
  EXPECT_TRUE(bucket.take(t0));
  EXPECT_TRUE(bucket.take(t0));
  EXPECT_FALSE(bucket.take(t0));

  token_bucket unlimited(0, 0);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(unlimited.take(t0));
  }
}

TEST(admission, per_address_and_per_node) {
  admission a(3, 2);
  EXPECT_EQ(a.admit("10.0.0.1"), admission::verdict::admitted);
  EXPECT_EQ(a.admit("10.0.0.1"), admission::verdict::admitted);
  EXPECT_EQ(a.admit("10.0.0.1"), admission::verdict::address_full);
  EXPECT_EQ(a.admit("10.0.0.2"), admission::verdict::admitted);
  EXPECT_EQ(a.admit("10.0.0.3"), admission::verdict::node_full);
  EXPECT_EQ(a.connections(), 3u);
  a.release("10.0.0.1");
  EXPECT_EQ(a.admit("10.0.0.3"), admission::verdict::admitted);
  EXPECT_EQ(a.admit("10.0.0.1"), admission::verdict::node_full);
  a.release("10.0.0.2");
  EXPECT_EQ(a.admit("10.0.0.1"), admission::verdict::admitted);
  EXPECT_EQ(a.admit("10.0.0.1"), admission::verdict::node_full);
}

TEST(admission, zero_is_no_limit) {
  admission a(0, 0);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a.admit("10.0.0.1"), admission::verdict::admitted);
  }
  EXPECT_EQ(a.connections(), 1000u);
}

}  // namespace
