// Report building and printing.
#include "report.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

namespace chat::bench {

namespace json = boost::json;

namespace {

double per_second(std::uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0;
}

double micros(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000;
}

std::string format_scalar(const json::value& v) {
  if (v.is_double()) {
    const double d = v.get_double();
    char buf[64];
    const auto end = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, std::fabs(d) < 100 ? 3 : 1).ptr;
    return std::string(buf, end);
  }
  return json::serialize(v);
}

void append_json(std::string& out, const json::value& v) {
  if (const auto* obj = v.if_object()) {
    out.push_back('{');
    bool first = true;
    for (const auto& [key, value] : *obj) {
      out.append(first ? "" : ",");
      first = false;
      out.append(json::serialize(json::string(key)));
      out.push_back(':');
      append_json(out, value);
    }
    out.push_back('}');
  } else if (const auto* arr = v.if_array()) {
    out.push_back('[');
    for (std::size_t i = 0; i < arr->size(); ++i) {
      out.append(i == 0 ? "" : ",");
      append_json(out, (*arr)[i]);
    }
    out.push_back(']');
  } else {
    out.append(format_scalar(v));
  }
}

// key=value pairs of an object on one line; strings without their quotes.
std::string inline_fields(const json::object& obj) {
  std::string line;
  for (const auto& [key, value] : obj) {
    line.append(line.empty() ? "" : " ").append(key).push_back('=');
    line.append(value.is_string() ? std::string(value.get_string()) : format_scalar(value));
  }
  return line;
}

void print_text(const json::object& report) {
  const auto row = [](std::string_view key, const std::string& text) {
    std::printf("%-26.*s %s\n", static_cast<int>(key.size()), key.data(), text.c_str());
  };
  for (const auto& [key, value] : report) {
    if (const auto* obj = value.if_object()) {
      row(key, inline_fields(*obj));
    } else if (const auto* arr = value.if_array()) {
      if (arr->empty()) {
        row(key, "-");
      }
      for (const auto& item : *arr) {
        row(key, item.is_object() ? inline_fields(item.get_object())
                                  : (item.is_string() ? std::string(item.get_string()) : format_scalar(item)));
      }
    } else {
      row(key, value.is_string() ? std::string(value.get_string()) : format_scalar(value));
    }
  }
}

}  // namespace

json::object report_header(std::string_view scenario, const common_options& opt) {
  json::array connect;
  for (const auto& a : opt.connect) {
    connect.push_back(json::string(a.host + ":" + a.port));
  }
  return {{"scenario", scenario},
          {"mode", opt.raw ? "raw" : "chat"},
          {"connect", std::move(connect)},
          {"threads", opt.threads},
          {"payload", opt.payload}};
}

void add_measured(json::object& r, const measured_run& run) {
  r["setup_s"] = run.setup_s;
  r["duration_s"] = run.duration_s;
  r["delivered"] = run.stats.delivered;
  r["sent"] = run.stats.sent;
  r["msgs_per_s"] = per_second(run.stats.delivered, run.duration_s);
  r["latency_us"] = latency_json(run.stats.latency);
  r["errors"] = run.stats.errors.to_json();
  r["offline_frames"] = run.stats.offline_frames;
  r["bench_cpu_percent"] = run.bench_cpu_percent;
  json::array servers;
  for (const auto& s : run.servers) {
    if (s.sampled) {
      servers.push_back(json::object{{"pid", s.pid},
                                     {"cpu_percent", s.cpu_percent},
                                     {"rss_bytes", s.rss_end_bytes},
                                     {"rss_begin_bytes", s.rss_begin_bytes}});
    } else {
      servers.push_back(json::object{{"pid", s.pid}, {"cpu_percent", nullptr}, {"rss_bytes", nullptr}});
    }
  }
  r["servers"] = std::move(servers);
}

json::object latency_json(const histogram& h) {
  return {{"count", h.count()},
          {"p50", micros(h.quantile(0.5))},
          {"p99", micros(h.quantile(0.99))},
          {"p99_9", micros(h.quantile(0.999))},
          {"max", micros(h.max())},
          {"mean", h.mean() / 1000}};
}

void print_report(const json::object& report, bool as_json) {
  if (as_json) {
    std::string out;
    append_json(out, report);
    std::printf("%s\n", out.c_str());
  } else {
    print_text(report);
  }
  std::fflush(stdout);
}

std::uint64_t errors_total(const json::object& report) {
  const auto* errors = report.if_contains("errors");
  const auto* total = errors != nullptr && errors->is_object() ? errors->get_object().if_contains("total") : nullptr;
  return total != nullptr ? total->to_number<std::uint64_t>() : 0;
}

}  // namespace chat::bench
