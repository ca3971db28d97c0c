// RESP2 parser and command encoder (see resp.hpp).
#include <chat/broker/error.hpp>
#include <chat/broker/resp.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ostream>

namespace chat::broker {

bool operator==(const resp_value& a, const resp_value& b) noexcept {
  if (a.type != b.type)
    return false;
  switch (a.type) {
    case resp_type::null:
      return true;
    case resp_type::integer:
      return a.integer == b.integer;
    case resp_type::array:
      return a.elements == b.elements;
    default:
      return a.string == b.string;
  }
}

namespace {

void print(std::string& out, const resp_value& v) {
  switch (v.type) {
    case resp_type::null:
      out += "null";
      return;
    case resp_type::simple_string:
      out += "simple \"" + v.string + '"';
      return;
    case resp_type::error:
      out += "error \"" + v.string + '"';
      return;
    case resp_type::integer:
      out += "integer " + std::to_string(v.integer);
      return;
    case resp_type::bulk_string:
      out += "bulk \"" + v.string + '"';
      return;
    case resp_type::array:
      out += '[';
      for (std::size_t i = 0; i < v.elements.size(); ++i) {
        if (i > 0)
          out += ", ";
        print(out, v.elements[i]);
      }
      out += ']';
      return;
  }
}

// Strict decimal: optional '-', then digits only, no overflow.
bool parse_int(std::string_view s, std::int64_t& out) {
  if (s.empty())
    return false;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc{} && ptr == last;
}

// Above this size an empty buffer is given back, so one huge reply does not pin memory.
constexpr std::size_t shrink_above = 1u << 20;

}  // namespace

std::string to_string(const resp_value& v) {
  std::string out;
  print(out, v);
  return out;
}

std::ostream& operator<<(std::ostream& os, const resp_value& v) {
  return os << to_string(v);
}

resp_parser::resp_parser(resp_limits limits) : limits_(limits) {}

std::span<char> resp_parser::prepare(std::size_t min_size) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (buf_.size() > shrink_above && min_size <= shrink_above) {
      buf_.resize(min_size);
      buf_.shrink_to_fit();
    }
  }
  if (buf_.size() - end_ < min_size) {
    if (begin_ > 0) {
      // Offsets of the partial value are relative to begin_, so moving the bytes is safe.
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < min_size)
      buf_.resize(std::max(end_ + min_size, buf_.size() * 2));
  }
  return {buf_.data() + end_, buf_.size() - end_};
}

void resp_parser::commit(std::size_t n) {
  end_ += std::min(n, buf_.size() - end_);
}

void resp_parser::feed(std::string_view bytes) {
  auto space = prepare(bytes.size());
  if (!bytes.empty())
    std::memcpy(space.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void resp_parser::reset() {
  begin_ = end_ = 0;
  stack_.clear();
  pending_bulk_ = -1;
  failed_ = false;
}

boost::system::result<std::optional<resp_value>> resp_parser::fail() {
  failed_ = true;
  stack_.clear();
  return make_error_code(errc::protocol_error);
}

boost::system::result<std::optional<resp_value>> resp_parser::next() {
  if (failed_)
    return make_error_code(errc::protocol_error);
  for (;;) {
    resp_value value;
    const char* p = buf_.data() + begin_;
    const std::size_t avail = end_ - begin_;

    if (pending_bulk_ >= 0) {
      const auto len = static_cast<std::size_t>(pending_bulk_);
      if (avail < len + 2)
        return std::nullopt;
      if (p[len] != '\r' || p[len + 1] != '\n')
        return fail();
      value.type = resp_type::bulk_string;
      value.string.assign(p, len);
      begin_ += len + 2;
      pending_bulk_ = -1;
    } else {
      if (avail == 0)
        return std::nullopt;
      // A line is the type byte, up to max_line_length bytes, CR LF.
      const std::size_t window = std::min(avail, limits_.max_line_length + 3);
      const auto* lf = static_cast<const char*>(std::memchr(p, '\n', window));
      if (lf == nullptr) {
        if (window == limits_.max_line_length + 3)
          return fail();
        return std::nullopt;
      }
      if (lf - p < 2 || lf[-1] != '\r')
        return fail();
      const std::string_view line(p + 1, static_cast<std::size_t>(lf - 1 - (p + 1)));
      const std::size_t consumed = static_cast<std::size_t>(lf - p) + 1;
      const char type = *p;
      if (line.find('\r') != std::string_view::npos)
        return fail();
      begin_ += consumed;  // `line` still points into the buffer, which is not moved here
      std::int64_t n = 0;
      switch (type) {
        case '+':
          value.type = resp_type::simple_string;
          value.string.assign(line);
          break;
        case '-':
          value.type = resp_type::error;
          value.string.assign(line);
          break;
        case ':':
          if (!parse_int(line, n))
            return fail();
          value.type = resp_type::integer;
          value.integer = n;
          break;
        case '$':
          if (!parse_int(line, n) || n < -1 || (n >= 0 && static_cast<std::uint64_t>(n) > limits_.max_bulk_length)) {
            return fail();
          }
          if (n == -1)
            break;  // null bulk string: value stays null
          pending_bulk_ = n;
          continue;
        case '*':
          if (!parse_int(line, n) || n < -1 || (n >= 0 && static_cast<std::uint64_t>(n) > limits_.max_array_length)) {
            return fail();
          }
          if (n == -1)
            break;  // null array
          // Every array counts towards the nesting limit, an empty one too.
          if (stack_.size() >= limits_.max_depth)
            return fail();
          if (n == 0) {
            value.type = resp_type::array;
            break;
          }
          stack_.push_back(frame{resp_value::array({}), static_cast<std::size_t>(n)});
          // Reserve only a little: the announced count is not trusted until the bytes arrive.
          stack_.back().array.elements.reserve(std::min<std::size_t>(static_cast<std::size_t>(n), 64));
          continue;
        default:
          return fail();
      }
    }

    // A value is complete: it finishes the enclosing arrays it completes, or is top-level.
    bool complete = true;
    while (!stack_.empty()) {
      auto& top = stack_.back();
      top.array.elements.push_back(std::move(value));
      if (top.array.elements.size() < top.expected) {
        complete = false;
        break;
      }
      value = std::move(top.array);
      stack_.pop_back();
    }
    if (complete)
      return std::optional<resp_value>(std::move(value));
  }
}

namespace {

void append_bulk(std::string& out, std::string_view s) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, s.size());
  (void)ec;
  out += '$';
  out.append(digits, end);
  out += "\r\n";
  out += s;
  out += "\r\n";
}

void append_header(std::string& out, std::size_t count) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, count);
  (void)ec;
  out += '*';
  out.append(digits, end);
  out += "\r\n";
}

}  // namespace

void append_command(std::string& out, std::span<const std::string> args) {
  append_header(out, args.size());
  for (const auto& a : args)
    append_bulk(out, a);
}

void append_command(std::string& out, std::span<const std::string_view> args) {
  append_header(out, args.size());
  for (auto a : args)
    append_bulk(out, a);
}

void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_header(out, args.size());
  for (auto a : args)
    append_bulk(out, a);
}

}  // namespace chat::broker
