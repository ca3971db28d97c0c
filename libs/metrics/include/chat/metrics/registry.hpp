// The metrics registry: registers counters, gauges, histograms and callback gauges at
// start-up and renders them all in the Prometheus text exposition format 0.0.4.
#pragma once

#include <chat/metrics/metric.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chat::metrics {

// The HTTP Content-Type of registry::render()'s output.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

// A series' fixed label set, e.g. {{"msgid", "1"}}; rendered in the order given.
using labels = std::vector<std::pair<std::string, std::string>>;

// Registration is meant for start-up: it takes a lock and throws std::invalid_argument on
//  - a metric name that is not [a-zA-Z_:][a-zA-Z0-9_:]*, or a label name that is not
//    [a-zA-Z_][a-zA-Z0-9_]*, starts with "__", repeats in one set, or is "le" on a histogram;
//  - a name registered before with another type, or its series' names ("x_count" of a
//    histogram "x") taken by another family;
//  - the same name with the same label set twice.
// A name registered again with a new label set joins that family (one HELP/TYPE, the help
// text of the first registration). Returned references stay valid as long as the registry.
// Updating a metric never touches the registry. All member functions are thread-safe.
class registry {
 public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  counter& add_counter(std::string_view name, std::string_view help, labels label_set = {});
  gauge& add_gauge(std::string_view name, std::string_view help, labels label_set = {});
  histogram& add_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                           labels label_set = {});

  // A gauge whose value `read` computes at each scrape (current connections, process RSS).
  // `read` runs on the scraping thread with the registry locked: it must be thread-safe,
  // quick, and must not call into this registry. If it throws, its series is left out of
  // that scrape.
  void add_callback_gauge(std::string_view name, std::string_view help, std::function<double()> read,
                          labels label_set = {});

  // Every family in registration order, each HELP and TYPE line then its series in
  // registration order. Values are read with relaxed loads, so a scrape is not a consistent
  // snapshot across metrics.
  std::string render() const;

 private:
  enum class kind { counter, gauge, histogram };
  struct family;
  struct series;
  // Validates and finds or creates the family, then appends an empty series. Lock held.
  series& add_series(std::string_view name, std::string_view help, kind type, const labels& label_set);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<family>> families_;
  std::unordered_map<std::string, family*> by_name_;
  std::unordered_map<std::string, std::string> used_names_;  // every name a family writes -> family
};

// The Prometheus rules for names, exposed for tests and for callers validating config.
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

}  // namespace chat::metrics
