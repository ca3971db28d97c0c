// The result of a run as one JSON object, printed as such (--json) or as aligned text lines
// with the same fields.
#pragma once

#include "histogram.hpp"
#include "measured_run.hpp"
#include "options.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace chat::bench {

// scenario, mode (chat or raw), connect, threads.
boost::json::object report_header(std::string_view scenario, const common_options& opt);

// setup_s, duration_s, delivered, sent, msgs_per_s, latency_us, errors, offline_frames,
// bench_cpu_percent, servers [{pid, cpu_percent, rss_bytes, rss_begin_bytes}].
void add_measured(boost::json::object& report, const measured_run& run);

// {count, p50, p99, p99_9, max, mean} in microseconds, from a histogram of nanoseconds.
boost::json::object latency_json(const histogram& h);

// Doubles print with 3 decimals below 100, 1 above (Boost.JSON would write 1.2345E4).
void print_report(const boost::json::object& report, bool as_json);

std::uint64_t errors_total(const boost::json::object& report);

}  // namespace chat::bench
