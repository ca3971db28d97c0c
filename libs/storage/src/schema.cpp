// The line-based splitter of schema scripts.
#include <chat/storage/schema.hpp>

namespace chat::storage {
namespace {

constexpr std::string_view blanks = " \t\r\n\f\v";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(blanks);
  return s.substr(first, last - first + 1);
}

}  // namespace

std::vector<std::string> split_sql_statements(std::string_view script) {
  std::vector<std::string> statements;
  std::string current;
  auto finish = [&] {
    if (auto s = trim(current); !s.empty()) statements.emplace_back(s);
    current.clear();
  };
  while (!script.empty()) {
    const auto eol = script.find('\n');
    const std::string_view raw = script.substr(0, eol);
    script.remove_prefix(eol == std::string_view::npos ? script.size() : eol + 1);

    const std::string_view line = trim(raw);
    if (line.empty() || line.starts_with("--")) continue;
    if (line.ends_with(';')) {
      current.append(line.substr(0, line.size() - 1));
      finish();
    } else {
      current.append(line);
      current.push_back('\n');
    }
  }
  finish();
  return statements;
}

}  // namespace chat::storage
