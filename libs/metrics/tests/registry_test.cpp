// The registry's rules and its exact Prometheus text output.
#include <chat/metrics/registry.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <thread>

namespace {

using chat::metrics::registry;

TEST(metrics_registry, counter_renders_help_type_and_value) {
  registry r;
  auto& c = r.add_counter("chat_logins_total", "Successful logins.");
  c.inc();
  c.inc(41);
  EXPECT_EQ(c.value(), 42u);
  EXPECT_EQ(r.render(),
            "# HELP chat_logins_total Successful logins.\n"
            "# TYPE chat_logins_total counter\n"
            "chat_logins_total 42\n");
}

TEST(metrics_registry, empty_registry_renders_nothing) {
  EXPECT_EQ(registry().render(), "");
}

TEST(metrics_registry, labelled_series_share_one_family_in_registration_order) {
  registry r;
  auto& one = r.add_counter("chat_frames_in_total", "Frames received by msgid.", {{"msgid", "1"}});
  auto& up = r.add_gauge("chat_up", "Up.");
  auto& two = r.add_counter("chat_frames_in_total", "ignored: the first help wins", {{"msgid", "2"}});
  auto& multi = r.add_counter("chat_frames_in_total", "", {{"msgid", "3"}, {"node", "a"}});
  one.inc(3);
  two.inc();
  multi.inc(7);
  up.set(1);
  EXPECT_EQ(r.render(),
            "# HELP chat_frames_in_total Frames received by msgid.\n"
            "# TYPE chat_frames_in_total counter\n"
            "chat_frames_in_total{msgid=\"1\"} 3\n"
            "chat_frames_in_total{msgid=\"2\"} 1\n"
            "chat_frames_in_total{msgid=\"3\",node=\"a\"} 7\n"
            "# HELP chat_up Up.\n"
            "# TYPE chat_up gauge\n"
            "chat_up 1\n");
}

TEST(metrics_registry, gauges_and_callback_gauges) {
  registry r;
  auto& g = r.add_gauge("chat_connections", "Open client connections.");
  g.set(10);
  g.add(5);
  g.sub(7);
  g.add(-10);
  EXPECT_EQ(g.value(), -2);
  double pool = 2.5;
  r.add_callback_gauge("chat_db_pool_in_use", "", [&pool] { return pool; }, {{"pool", "main"}});
  r.add_callback_gauge("chat_weird", "Special values.", [] { return std::numeric_limits<double>::infinity(); });
  r.add_callback_gauge("chat_weird", "", [] { return -std::numeric_limits<double>::infinity(); }, {{"k", "neg"}});
  r.add_callback_gauge("chat_weird", "", [] { return std::numeric_limits<double>::quiet_NaN(); }, {{"k", "nan"}});
  r.add_callback_gauge("chat_weird", "", []() -> double { throw std::runtime_error("x"); }, {{"k", "throws"}});
  r.add_callback_gauge("chat_weird", "", [] { return 1e6; }, {{"k", "big"}});
  const std::string expected_head =
      "# HELP chat_connections Open client connections.\n"
      "# TYPE chat_connections gauge\n"
      "chat_connections -2\n"
      "# HELP chat_db_pool_in_use\n"
      "# TYPE chat_db_pool_in_use gauge\n";
  EXPECT_EQ(r.render(), expected_head +
                            "chat_db_pool_in_use{pool=\"main\"} 2.5\n"
                            "# HELP chat_weird Special values.\n"
                            "# TYPE chat_weird gauge\n"
                            "chat_weird +Inf\n"
                            "chat_weird{k=\"neg\"} -Inf\n"
                            "chat_weird{k=\"nan\"} NaN\n"
                            "chat_weird{k=\"big\"} 1e+06\n");
  pool = 3;  // evaluated at each scrape
  EXPECT_NE(r.render().find("chat_db_pool_in_use{pool=\"main\"} 3\n"), std::string::npos);
}

TEST(metrics_registry, histogram_buckets_are_cumulative_with_sum_and_count) {
  registry r;
  auto& h = r.add_histogram("chat_request_seconds", "Request latency.", {0.005, 0.25, 0.5, 1, 2.5}, {{"msgid", "7"}});
  // Binary fractions, so that the sum is exact.
  for (const double v : {0.125, 0.25, 0.375, 0.5, 0.75, 3.0, 10.0}) {
    h.observe(v);
  }
  auto& bare = r.add_histogram("chat_bare_seconds", "No labels.", {1, std::numeric_limits<double>::infinity()});
  bare.observe(0.25);
  bare.observe(2);
  EXPECT_EQ(r.render(),
            "# HELP chat_request_seconds Request latency.\n"
            "# TYPE chat_request_seconds histogram\n"
            "chat_request_seconds_bucket{msgid=\"7\",le=\"0.005\"} 0\n"
            "chat_request_seconds_bucket{msgid=\"7\",le=\"0.25\"} 2\n"
            "chat_request_seconds_bucket{msgid=\"7\",le=\"0.5\"} 4\n"
            "chat_request_seconds_bucket{msgid=\"7\",le=\"1\"} 5\n"
            "chat_request_seconds_bucket{msgid=\"7\",le=\"2.5\"} 5\n"
            "chat_request_seconds_bucket{msgid=\"7\",le=\"+Inf\"} 7\n"
            "chat_request_seconds_sum{msgid=\"7\"} 15\n"
            "chat_request_seconds_count{msgid=\"7\"} 7\n"
            "# HELP chat_bare_seconds No labels.\n"
            "# TYPE chat_bare_seconds histogram\n"
            "chat_bare_seconds_bucket{le=\"1\"} 1\n"
            "chat_bare_seconds_bucket{le=\"+Inf\"} 2\n"
            "chat_bare_seconds_sum 2.25\n"
            "chat_bare_seconds_count 2\n");
  const auto snap = h.collect();
  EXPECT_EQ(snap.count, 7u);
  EXPECT_EQ(snap.cumulative.back(), 7u);
}

TEST(metrics_registry, histogram_edge_cases) {
  chat::metrics::histogram only_inf({});
  only_inf.observe(-5);
  only_inf.observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(only_inf.collect().cumulative, (std::vector<std::uint64_t>{2}));

  chat::metrics::histogram h({1, 2});
  h.observe(std::numeric_limits<double>::quiet_NaN());  // +Inf only, not the first bucket
  h.observe(-1);
  EXPECT_EQ(h.collect().cumulative, (std::vector<std::uint64_t>{1, 1, 2}));

  EXPECT_THROW(chat::metrics::histogram({1, 1}), std::invalid_argument);
  EXPECT_THROW(chat::metrics::histogram({2, 1}), std::invalid_argument);
  EXPECT_THROW(chat::metrics::histogram({std::numeric_limits<double>::quiet_NaN()}), std::invalid_argument);
  EXPECT_THROW(chat::metrics::histogram({-std::numeric_limits<double>::infinity(), 1}), std::invalid_argument);
}

TEST(metrics_registry, escapes_label_values_and_help) {
  registry r;
  r.add_counter("chat_escaped_total", "Back\\slash and\nnewline, \"quotes\" kept.",
                {{"path", "C:\\dir\\"}, {"quote", "say \"hi\""}, {"nl", "a\nb"}});
  EXPECT_EQ(r.render(),
            "# HELP chat_escaped_total Back\\\\slash and\\nnewline, \"quotes\" kept.\n"
            "# TYPE chat_escaped_total counter\n"
            "chat_escaped_total{path=\"C:\\\\dir\\\\\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\"} 0\n");
}

TEST(metrics_registry, rejects_invalid_names) {
  registry r;
  EXPECT_THROW(r.add_counter("", "x"), std::invalid_argument);
  EXPECT_THROW(r.add_counter("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(r.add_counter("chat-frames", "x"), std::invalid_argument);
  EXPECT_THROW(r.add_counter("chat frames", "x"), std::invalid_argument);
  EXPECT_THROW(r.add_counter("chat_ok", "x", {{"", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.add_counter("chat_ok", "x", {{"1k", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.add_counter("chat_ok", "x", {{"a:b", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.add_counter("chat_ok", "x", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.add_counter("chat_ok", "x", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("chat_h", "x", {1}, {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(r.add_callback_gauge("chat_cb", "x", {}), std::invalid_argument);
  EXPECT_EQ(r.render(), "");  // nothing half-registered

  EXPECT_TRUE(chat::metrics::valid_metric_name("a:b_c9"));
  EXPECT_TRUE(chat::metrics::valid_metric_name(":x"));
  EXPECT_TRUE(chat::metrics::valid_label_name("_x9"));
  EXPECT_FALSE(chat::metrics::valid_label_name("é"));
  EXPECT_TRUE(r.add_counter("chat_ok", "x", {{"le", "fine on a counter"}}).value() == 0);
}

TEST(metrics_registry, rejects_type_changes_duplicates_and_colliding_series_names) {
  registry r;
  r.add_counter("chat_a_total", "x", {{"k", "1"}});
  EXPECT_THROW(r.add_gauge("chat_a_total", "x", {{"k", "2"}}), std::invalid_argument);
  EXPECT_THROW(r.add_callback_gauge("chat_a_total", "x", [] { return 1.0; }), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("chat_a_total", "x", {1}), std::invalid_argument);
  EXPECT_THROW(r.add_counter("chat_a_total", "x", {{"k", "1"}}), std::invalid_argument);

  r.add_counter("chat_b_total", "x", {{"a", "1"}, {"b", "2"}});
  EXPECT_THROW(r.add_counter("chat_b_total", "x", {{"b", "2"}, {"a", "1"}}), std::invalid_argument);

  // A gauge and a callback gauge may share a family.
  r.add_gauge("chat_g", "x", {{"kind", "set"}});
  r.add_callback_gauge("chat_g", "x", [] { return 1.0; }, {{"kind", "read"}});

  r.add_histogram("chat_lat_seconds", "x", {1});
  EXPECT_THROW(r.add_counter("chat_lat_seconds_count", "x"), std::invalid_argument);
  r.add_histogram("chat_y_count", "x", {1});
  EXPECT_THROW(r.add_histogram("chat_y", "x", {1}), std::invalid_argument);  // would write chat_y_count
  r.add_gauge("chat_x_sum", "x");
  EXPECT_THROW(r.add_histogram("chat_x", "x", {1}), std::invalid_argument);
}

TEST(metrics_registry, references_stay_valid_and_concurrent_increments_sum_exactly) {
  registry r;
  std::vector<chat::metrics::counter*> counters;
  for (int i = 0; i < 100; ++i) {
    counters.push_back(&r.add_counter("chat_c_total", "x", {{"i", std::to_string(i)}}));
  }
  auto& h = r.add_histogram("chat_h_seconds", "x", {0.5});
  auto& g = r.add_gauge("chat_g", "x");
  constexpr int threads = 4;
  constexpr int per_thread = 100'000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        counters[0]->inc();
        counters[static_cast<std::size_t>(i % 100)]->inc(2);
        h.observe(t % 2 == 0 ? 0.25 : 1.0);
        g.add(1);
        if (i % 1000 == 0) {
          (void)r.render();  // scrapes race with updates
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  EXPECT_EQ(counters[0]->value(), std::uint64_t{threads} * per_thread + 2u * threads * per_thread / 100);
  EXPECT_EQ(counters[99]->value(), 2u * threads * per_thread / 100);
  const auto snap = h.collect();
  EXPECT_EQ(snap.count, std::uint64_t{threads} * per_thread);
  EXPECT_EQ(snap.cumulative[0], std::uint64_t{threads} / 2 * per_thread);
  EXPECT_DOUBLE_EQ(snap.sum, (0.25 + 1.0) * threads / 2 * per_thread);
  EXPECT_EQ(g.value(), std::int64_t{threads} * per_thread);
}

}  // namespace
