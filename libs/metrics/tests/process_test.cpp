// The /proc/self readers and the process gauges.
#include <chat/metrics/process.hpp>
#include <chat/metrics/registry.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

namespace {

TEST(process_metrics, resident_memory_is_positive) {
  const auto rss = chat::metrics::resident_memory_bytes();
  ASSERT_TRUE(rss.has_value());
  EXPECT_GT(*rss, 1024u * 1024u);  // a gtest binary is well over a MiB
}

TEST(process_metrics, open_fds_counts_exactly) {
  const auto before = chat::metrics::open_fds();
  ASSERT_TRUE(before.has_value());
  EXPECT_GE(*before, 3u);  // stdin, stdout, stderr
  const int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(chat::metrics::open_fds(), *before + 1);
  ::close(fd);
  EXPECT_EQ(chat::metrics::open_fds(), before);
}

TEST(process_metrics, registers_the_standard_gauges) {
  chat::metrics::registry r;
  chat::metrics::register_process_metrics(r);
  const auto text = r.render();
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE process_open_fds gauge\nprocess_open_fds "), std::string::npos) << text;
  EXPECT_EQ(text.find("NaN"), std::string::npos) << text;
  EXPECT_THROW(chat::metrics::register_process_metrics(r), std::invalid_argument);  // once per registry
}

}  // namespace
