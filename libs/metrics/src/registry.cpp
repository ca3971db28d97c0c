// Registration rules, families and the Prometheus text exposition format 0.0.4.
#include <chat/metrics/registry.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace chat::metrics {

struct registry::series {
  std::string label_text;  // a="x",b="y" (no braces), escaped, in the order given
  std::unique_ptr<counter> counter_value;
  std::unique_ptr<gauge> gauge_value;
  std::unique_ptr<histogram> histogram_value;
  std::function<double()> read;
};

struct registry::family {
  std::string name;
  std::string help;
  kind type;
  std::vector<std::string> label_keys;  // one per series: the label set sorted, for duplicates
  std::vector<series> members;
};

namespace {

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

const char* type_name(int type) {
  static constexpr const char* names[] = {"counter", "gauge", "histogram"};
  return names[type];
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Go's strconv.ParseFloat reads what this writes; to_chars gives the shortest exact form.
void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
  }
}

std::string render_labels(const labels& label_set) {
  std::string out;
  for (const auto& [key, value] : label_set) {
    if (!out.empty()) {
      out += ',';
    }
    out += key;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  }
  return out;
}

// name{labels} or name{labels,extra} or name; then a space.
void append_sample_name(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels,
                        std::string_view extra = {}) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra.empty()) {
      out += ',';
    }
    out += extra;
    out += '}';
  }
  out += ' ';
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty() || !(name_start(name[0]) || name[0] == ':')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) { return name_char(c) || c == ':'; });
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || !name_start(name[0]) || name.starts_with("__")) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), name_char);
}

registry::registry() = default;
registry::~registry() = default;

registry::series& registry::add_series(std::string_view name, std::string_view help, kind type,
                                       const labels& label_set) {
  if (!valid_metric_name(name)) {
    throw std::invalid_argument("invalid metric name: \"" + std::string(name) + "\"");
  }
  for (std::size_t i = 0; i < label_set.size(); ++i) {
    const auto& key = label_set[i].first;
    if (!valid_label_name(key) || (type == kind::histogram && key == "le")) {
      throw std::invalid_argument("invalid label name \"" + key + "\" for " + std::string(name));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (label_set[j].first == key) {
        throw std::invalid_argument("label \"" + key + "\" repeated for " + std::string(name));
      }
    }
  }
  auto sorted = label_set;
  std::sort(sorted.begin(), sorted.end());
  auto key = render_labels(sorted);

  family* fam = nullptr;
  if (const auto it = by_name_.find(std::string(name)); it != by_name_.end()) {
    fam = it->second;
    if (fam->type != type) {
      throw std::invalid_argument("metric " + std::string(name) + " already registered as a " +
                                  type_name(static_cast<int>(fam->type)));
    }
    if (std::find(fam->label_keys.begin(), fam->label_keys.end(), key) != fam->label_keys.end()) {
      throw std::invalid_argument("metric " + std::string(name) + "{" + key + "} already registered");
    }
  } else {
    // Every name the family writes (its own, and for a histogram its series' names) must be
    // free: a gauge "x_count" and a histogram "x" would be indistinguishable to a scraper.
    std::vector<std::string> written{std::string(name)};
    if (type == kind::histogram) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        written.push_back(std::string(name) + suffix);
      }
    }
    for (const auto& sample : written) {
      if (const auto taken = used_names_.find(sample); taken != used_names_.end()) {
        throw std::invalid_argument("metric " + std::string(name) + " would write " + sample + ", which metric " +
                                    taken->second + " writes");
      }
    }
    auto created = std::make_unique<family>();
    created->name = name;
    created->help = help;
    created->type = type;
    fam = created.get();
    families_.push_back(std::move(created));
    by_name_.emplace(fam->name, fam);
    for (auto& sample : written) {
      used_names_.emplace(std::move(sample), fam->name);
    }
  }
  fam->label_keys.push_back(std::move(key));
  auto& added = fam->members.emplace_back();
  added.label_text = render_labels(label_set);
  return added;
}

counter& registry::add_counter(std::string_view name, std::string_view help, labels label_set) {
  auto value = std::make_unique<counter>();
  auto& ref = *value;
  std::lock_guard lock(mutex_);
  add_series(name, help, kind::counter, label_set).counter_value = std::move(value);
  return ref;
}

gauge& registry::add_gauge(std::string_view name, std::string_view help, labels label_set) {
  auto value = std::make_unique<gauge>();
  auto& ref = *value;
  std::lock_guard lock(mutex_);
  add_series(name, help, kind::gauge, label_set).gauge_value = std::move(value);
  return ref;
}

histogram& registry::add_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                                   labels label_set) {
  auto value = std::make_unique<histogram>(std::move(bounds));
  auto& ref = *value;
  std::lock_guard lock(mutex_);
  add_series(name, help, kind::histogram, label_set).histogram_value = std::move(value);
  return ref;
}

void registry::add_callback_gauge(std::string_view name, std::string_view help, std::function<double()> read,
                                  labels label_set) {
  if (!read) {
    throw std::invalid_argument("callback gauge " + std::string(name) + " without a callback");
  }
  std::lock_guard lock(mutex_);
  add_series(name, help, kind::gauge, label_set).read = std::move(read);
}

std::string registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& fam : families_) {
    out += "# HELP ";
    out += fam->name;
    if (!fam->help.empty()) {
      out += ' ';
      append_escaped(out, fam->help, false);
    }
    out += "\n# TYPE ";
    out += fam->name;
    out += ' ';
    out += type_name(static_cast<int>(fam->type));
    out += '\n';
    for (const auto& s : fam->members) {
      if (s.counter_value) {
        append_sample_name(out, fam->name, "", s.label_text);
        append_int(out, s.counter_value->value());
      } else if (s.gauge_value) {
        append_sample_name(out, fam->name, "", s.label_text);
        append_int(out, s.gauge_value->value());
      } else if (s.read) {
        double v = 0;
        try {
          v = s.read();
        } catch (...) {
          continue;  // documented: a failing callback drops its series from this scrape
        }
        append_sample_name(out, fam->name, "", s.label_text);
        append_double(out, v);
      } else if (s.histogram_value) {
        const auto snap = s.histogram_value->collect();
        std::string le;
        for (std::size_t i = 0; i <= snap.bounds.size(); ++i) {
          le = "le=\"";
          if (i < snap.bounds.size()) {
            append_double(le, snap.bounds[i]);
          } else {
            le += "+Inf";
          }
          le += '"';
          append_sample_name(out, fam->name, "_bucket", s.label_text, le);
          append_int(out, snap.cumulative[i]);
          out += '\n';
        }
        append_sample_name(out, fam->name, "_sum", s.label_text);
        append_double(out, snap.sum);
        out += '\n';
        append_sample_name(out, fam->name, "_count", s.label_text);
        append_int(out, snap.count);
      }
      out += '\n';
    }
  }
  return out;
}

}  // namespace chat::metrics
