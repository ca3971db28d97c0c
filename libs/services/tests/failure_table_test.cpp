// The failed-login tables behind the account and address lockouts.
#include <chat/services/accounts.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using chat::services::failure_table;
using clock_type = failure_table<std::string>::clock;
using std::chrono::milliseconds;

TEST(failure_table, locks_after_the_limit_for_the_lockout) {
  failure_table<std::string> t(3, milliseconds(1000), true);
  const auto t0 = clock_type::now();
  t.failed("10.0.0.1", t0);
  t.failed("10.0.0.1", t0 + milliseconds(1));
  EXPECT_FALSE(t.locked("10.0.0.1", t0 + milliseconds(2)));
  t.failed("10.0.0.1", t0 + milliseconds(2));
  EXPECT_TRUE(t.locked("10.0.0.1", t0 + milliseconds(3)));
  EXPECT_FALSE(t.locked("10.0.0.2", t0 + milliseconds(3)));  // per key
  EXPECT_TRUE(t.locked("10.0.0.1", t0 + milliseconds(1001)));
  EXPECT_FALSE(t.locked("10.0.0.1", t0 + milliseconds(1003)));
}

TEST(failure_table, window_forgets_old_failures) {
  failure_table<std::string> t(2, milliseconds(1000), true);
  const auto t0 = clock_type::now();
  t.failed("a", t0);
  t.failed("a", t0 + milliseconds(1500));  // the first one is too old to count
  EXPECT_FALSE(t.locked("a", t0 + milliseconds(1501)));
  t.failed("a", t0 + milliseconds(1600));
  EXPECT_TRUE(t.locked("a", t0 + milliseconds(1601)));
}

TEST(failure_table, in_a_row_counts_until_forgotten) {
  failure_table<long> t(2, milliseconds(1000), false);
  const auto t0 = clock_type::now();
  t.failed(7, t0);
  t.failed(7, t0 + milliseconds(5000));  // no window: still in a row
  EXPECT_TRUE(t.locked(7, t0 + milliseconds(5001)));

  t.failed(8, t0);
  t.forget(8);  // a successful login
  t.failed(8, t0 + milliseconds(1));
  EXPECT_FALSE(t.locked(8, t0 + milliseconds(2)));
}

TEST(failure_table, zero_limit_never_locks) {
  failure_table<std::string> t(0, milliseconds(1000), true);
  const auto t0 = clock_type::now();
  for (int i = 0; i < 100; ++i) {
    t.failed("a", t0);
  }
  EXPECT_FALSE(t.locked("a", t0));
}

}  // namespace
