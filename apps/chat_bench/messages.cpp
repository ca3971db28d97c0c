// Request bodies and message time stamps.
#include "messages.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace chat::bench {

namespace json = boost::json;

namespace {

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

// "<ns>:" then 'x' up to `payload` bytes (no JSON escaping needed).
void append_stamped_text(std::string& out, clock::time_point stamp, std::size_t payload) {
  const auto start = out.size();
  append_int(out, to_ns(stamp));
  out.push_back(':');
  const auto written = out.size() - start;
  if (written < payload) {
    out.append(payload - written, 'x');
  }
}

}  // namespace

std::int64_t to_ns(clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

clock::time_point from_ns(std::int64_t ns) noexcept {
  return clock::time_point(std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(ns)));
}

void append_one_chat(std::string& out, std::int64_t to, clock::time_point stamp, std::size_t payload) {
  out.append(R"({"msgid":5,"to":)");
  append_int(out, to);
  out.append(R"(,"msg":")");
  append_stamped_text(out, stamp, payload);
  out.append(R"("})");
}

void append_group_chat(std::string& out, std::int64_t group, clock::time_point stamp, std::size_t payload,
                       std::int64_t cid) {
  out.append(R"({"msgid":12,"groupid":)");
  append_int(out, group);
  out.append(R"(,"msg":")");
  append_stamped_text(out, stamp, payload);
  out.append(R"(","cid":)");
  append_int(out, cid);
  out.push_back('}');
}

void append_ping(std::string& out, clock::time_point stamp) {
  out.append(R"({"msgid":15,"cid":)");
  append_int(out, to_ns(stamp));
  out.push_back('}');
}

std::optional<clock::time_point> parse_stamp(std::string_view msg) noexcept {
  std::int64_t ns = 0;
  const auto [end, ec] = std::from_chars(msg.data(), msg.data() + msg.size(), ns);
  if (ec != std::errc() || end == msg.data() + msg.size() || *end != ':') {
    return std::nullopt;
  }
  return from_ns(ns);
}

std::string reg_request(std::string_view name, std::string_view password) {
  return json::serialize(json::object{{"msgid", 3}, {"name", name}, {"pwd", password}});
}

std::string login_request(std::int64_t user, std::string_view password) {
  return json::serialize(json::object{{"msgid", 1}, {"id", user}, {"pwd", password}});
}

std::string loginout_request() {
  return R"({"msgid":13})";
}

std::string create_group_request(std::string_view name) {
  return json::serialize(json::object{{"msgid", 8}, {"groupname", name}, {"groupdesc", "chat_bench"}});
}

std::string add_group_request(std::int64_t group) {
  return json::serialize(json::object{{"msgid", 10}, {"groupid", group}});
}

}  // namespace chat::bench
