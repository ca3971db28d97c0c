// The scenarios: each runs to completion on the calling thread (using shards for I/O) and
// returns its report. Throws usage_error when the arguments do not fit the state file, and
// std::runtime_error when the run cannot start.
#pragma once

#include "options.hpp"

#include <boost/json/object.hpp>

namespace chat::bench {

boost::json::object run_setup(const common_options& opt, const setup_options& setup);
// pingpong and stream (closed loop); stream with a rate goes to run_paced.
boost::json::object run_pairs(const common_options& opt, const pairs_options& pairs, scenario which);
boost::json::object run_paced(const common_options& opt, const pairs_options& pairs);
boost::json::object run_group(const common_options& opt, const group_options& group);
boost::json::object run_idle(const common_options& opt, const idle_options& idle);
boost::json::object run_login(const common_options& opt, const login_options& login);
boost::json::object run_hashrate(const common_options& opt, const hashrate_options& hash);

}  // namespace chat::bench
