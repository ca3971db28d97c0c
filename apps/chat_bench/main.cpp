// chat_bench: parses the arguments, arms the hard deadline, runs one scenario and prints its
// report. Wiring only; the scenarios are in scenario_*.cpp.
#include "options.hpp"
#include "proc.hpp"
#include "report.hpp"
#include "scenarios.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>

namespace {

using namespace chat::bench;

// A server that hangs must not hang the bench: SIGALRM ends the process, whatever it is doing.
extern "C" void on_deadline(int) {
  constexpr char message[] = "chat_bench: hard deadline reached (--deadline), giving up\n";
  [[maybe_unused]] const auto written = write(STDERR_FILENO, message, sizeof message - 1);
  _exit(exit_deadline);
}

void arm_deadline(double seconds) {
  std::signal(SIGALRM, on_deadline);
  alarm(static_cast<unsigned>(seconds + 0.999));
}

boost::json::object run(const options& opt) {
  switch (opt.which) {
    case scenario::setup:
      return run_setup(opt.common, opt.setup);
    case scenario::pingpong:
      return run_pairs(opt.common, opt.pingpong, scenario::pingpong);
    case scenario::stream:
      return run_pairs(opt.common, opt.stream, scenario::stream);
    case scenario::group:
      return run_group(opt.common, opt.group);
    case scenario::idle:
      return run_idle(opt.common, opt.idle);
    case scenario::login:
      return run_login(opt.common, opt.login);
    case scenario::hashrate:
      return run_hashrate(opt.common, opt.hashrate);
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  if (const auto code = parse_options(argc, argv, opt)) {
    return *code;
  }
  raise_open_files_limit();
  arm_deadline(opt.common.deadline_s);
  try {
    const auto report = run(opt);
    print_report(report, opt.common.json);
    return errors_total(report) > 0 && !opt.common.allow_errors ? exit_errors : exit_ok;
  } catch (const usage_error& e) {
    std::fprintf(stderr, "chat_bench: %s\n", e.what());
    return exit_usage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat_bench: %s\n", e.what());
    return exit_errors;
  }
}
