// Counters and their merging.
#include "stats.hpp"

namespace chat::bench {

std::uint64_t error_counts::total() const noexcept {
  return error_msgs + unexpected + protocol + out_of_order + disconnects + lost + failed_requests + timeouts +
         connect_failures + internal;
}

void error_counts::count_arrivals(std::uint64_t expected, std::uint64_t arrived) noexcept {
  if (arrived < expected) {
    lost += expected - arrived;
  } else {
    unexpected += arrived - expected;
  }
}

void error_counts::merge(const error_counts& o) noexcept {
  error_msgs += o.error_msgs;
  unexpected += o.unexpected;
  protocol += o.protocol;
  out_of_order += o.out_of_order;
  disconnects += o.disconnects;
  lost += o.lost;
  failed_requests += o.failed_requests;
  timeouts += o.timeouts;
  connect_failures += o.connect_failures;
  internal += o.internal;
}

boost::json::object error_counts::to_json() const {
  return {{"total", total()},
          {"error_msg", error_msgs},
          {"unexpected", unexpected},
          {"protocol", protocol},
          {"out_of_order", out_of_order},
          {"disconnects", disconnects},
          {"lost", lost},
          {"failed_requests", failed_requests},
          {"timeouts", timeouts},
          {"connect_failures", connect_failures},
          {"internal", internal}};
}

void run_stats::merge(const run_stats& o) noexcept {
  latency.merge(o.latency);
  login_latency.merge(o.login_latency);
  delivered += o.delivered;
  sent += o.sent;
  logins += o.logins;
  offline_frames += o.offline_frames;
  errors.merge(o.errors);
}

}  // namespace chat::bench
