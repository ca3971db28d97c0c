// hashrate: the ceiling of the login storm. Each thread verifies one password against an
// Argon2id hash made with the server's cost parameters (crypto_pwhash_str_verify, as the
// server does at every LOGIN) as fast as it can. No network.
#include "measured_run.hpp"
#include "report.hpp"
#include "scenarios.hpp"

#include <sodium.h>

#include <stdexcept>
#include <thread>

namespace chat::bench {

namespace {

constexpr std::string_view password = "bench-pass";

struct hash_settings {
  std::uint64_t opslimit;
  std::size_t memlimit_bytes;
};

std::string make_hash(const hash_settings& s) {
  std::string out(crypto_pwhash_STRBYTES, '\0');
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), s.opslimit, s.memlimit_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("crypto_pwhash_str_alg failed (out of memory?)");
  }
  out.resize(out.find('\0'));
  return out;
}

struct verify_result {
  histogram latency;  // of the verifications that completed in the window
  bool failed = false;
};

// Verifies until the window ends.
verify_result verify_loop(const std::string& hash, const run_window& w) {
  verify_result out;
  while (clock::now() < w.end) {
    const auto start = clock::now();
    if (crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) != 0) {
      out.failed = true;
      break;
    }
    const auto done = clock::now();
    if (w.measuring(done)) {
      out.latency.record(static_cast<std::uint64_t>(to_ns(done) - to_ns(start)));
    }
  }
  return out;
}

}  // namespace

boost::json::object run_hashrate(const common_options& opt, const hashrate_options& h) {
  if (sodium_init() < 0) {
    throw std::runtime_error("libsodium cannot be initialised");
  }
  const auto threads = h.threads > 0 ? static_cast<std::size_t>(h.threads)
                                     : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  const hash_settings settings{h.opslimit, static_cast<std::size_t>(h.memlimit_kib) * 1024};
  const std::string hash = make_hash(settings);

  const run_window w = make_window(clock::now(), opt);
  std::vector<verify_result> per_thread(threads);
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] { per_thread[i] = verify_loop(hash, w); });
  }
  std::this_thread::sleep_until(w.begin);
  const usage_sample first = sample_usage(opt.server_pids);
  std::this_thread::sleep_until(w.end);
  const usage_sample last = sample_usage(opt.server_pids);
  for (auto& t : workers) {
    t.join();
  }

  measured_run run;
  run.duration_s = std::chrono::duration<double>(w.end - w.begin).count();
  histogram verify_latency;
  for (const auto& r : per_thread) {
    verify_latency.merge(r.latency);
    run.stats.errors.internal += r.failed ? 1 : 0;
  }
  const auto verifications = verify_latency.count();
  set_usage(run, opt.server_pids, first, last);

  auto report = report_header("hashrate", opt);
  report["hash_threads"] = threads;
  report["argon2_opslimit"] = h.opslimit;
  report["argon2_memlimit_kib"] = h.memlimit_kib;
  add_measured(report, run);
  report["verifications"] = verifications;
  report["verifications_per_s"] = static_cast<double>(verifications) / run.duration_s;
  report["verify_latency_us"] = latency_json(verify_latency);
  return report;
}

}  // namespace chat::bench
