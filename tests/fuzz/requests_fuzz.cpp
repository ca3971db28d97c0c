// libFuzzer target: protocol::parse_request over arbitrary frame bodies, with the default
// limits and with tight ones; every answer must be a well-formed ERROR_MSG frame.
#include <chat/protocol/frame.hpp>
#include <chat/protocol/requests.hpp>

#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

namespace protocol = chat::protocol;
namespace requests = chat::protocol::requests;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "requests_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool within(std::string_view s, const protocol::text_rule& rule) {
  return s.size() >= rule.min_bytes && s.size() <= rule.max_bytes &&
         !(rule.forbid_control && protocol::has_control_character(s));
}

bool valid_cid(const boost::json::value& cid) {
  return cid.is_null() || cid.is_int64() || cid.is_uint64() ||
         (cid.is_string() && cid.get_string().size() <= protocol::max_cid_bytes);
}

// What an accepted request promises its handler.
void check_request(const protocol::request& r, const protocol::request_limits& limits) {
  std::visit([](const auto& typed) { check(valid_cid(typed.cid), "an accepted request with an invalid cid"); }, r);
  if (const auto* login = std::get_if<requests::login>(&r)) {
    check(login->id.has_value() != login->name.has_value(), "login without exactly one of id and name");
    check(!login->id || *login->id > 0, "login id <= 0");
    check(!login->name || within(*login->name, limits.name), "login name out of its rule");
    check(within(login->password, limits.password), "login password out of its rule");
  } else if (const auto* reg = std::get_if<requests::reg>(&r)) {
    check(within(reg->name, limits.name), "register name out of its rule");
    check(within(reg->password, limits.password), "register password out of its rule");
  } else if (const auto* chat = std::get_if<requests::one_chat>(&r)) {
    check(chat->to > 0, "one_chat to <= 0");
    check(within(chat->msg, limits.message), "one_chat msg out of its rule");
  } else if (const auto* add = std::get_if<requests::add_friend>(&r)) {
    check(add->friend_id > 0, "add_friend id <= 0");
  } else if (const auto* create = std::get_if<requests::create_group>(&r)) {
    check(within(create->name, limits.groupname), "groupname out of its rule");
    check(within(create->description, limits.groupdesc), "groupdesc out of its rule");
  } else if (const auto* join = std::get_if<requests::add_group>(&r)) {
    check(join->group_id > 0, "add_group id <= 0");
  } else if (const auto* group = std::get_if<requests::group_chat>(&r)) {
    check(group->group_id > 0, "group_chat id <= 0");
    check(within(group->msg, limits.message), "group_chat msg out of its rule");
  }
  check(protocol::is_client_request(protocol::to_int(protocol::msgid_of(r))), "msgid_of is not a client request");
}

// The ERROR_MSG is sent as is: it must frame and parse back to what the error says.
void check_error(const protocol::request_error& e) {
  check(e.code == protocol::errc::bad_request, "a parse error other than errno 8");
  check(!e.message.empty(), "an error without a message");
  check(valid_cid(e.cid), "an error echoing an invalid cid");
  if (e.where == protocol::request_error::stage::fields) {
    check(e.msgid && protocol::is_client_request(*e.msgid), "a field error without a client msgid");
  } else {
    check(!e.msgid || !protocol::is_client_request(*e.msgid), "an envelope error with a client msgid");
  }

  const std::string frame = protocol::to_frame(protocol::make_error(e));
  check(frame.size() > protocol::frame_header_bytes, "an empty error frame");
  const auto length = protocol::decode_frame_length(std::span<const char, 4>(frame.data(), 4));
  check(length == frame.size() - protocol::frame_header_bytes, "the error frame's length header is wrong");

  boost::system::error_code ec;
  const auto parsed = boost::json::parse(std::string_view(frame).substr(protocol::frame_header_bytes), ec);
  check(!ec && parsed.is_object(), "the error frame is not a JSON object");
  const auto& obj = parsed.get_object();
  check(obj.at("msgid") == 17 && obj.at("errno") == 8, "the error frame is not ERROR_MSG errno 8");
  check(obj.at("errmsg") == boost::json::value(e.message), "the error frame lost its message");
  check(e.msgid ? obj.contains("req") && obj.at("req") == *e.msgid : !obj.contains("req"), "req differs");
  check(e.cid.is_null() ? !obj.contains("cid") : obj.contains("cid") && obj.at("cid") == e.cid, "cid differs");
}

void run(std::string_view body, const protocol::request_limits& limits) {
  const auto r = protocol::parse_request(body, limits);
  if (r) {
    check_request(*r, limits);
  } else {
    check_error(r.error());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  run(body, protocol::request_limits{});

  protocol::request_limits tight;
  tight.name = {1, 3, true};
  tight.password = {1, 2, false};
  tight.groupname = {2, 3, true};
  tight.groupdesc = {0, 1, false};
  tight.message = {1, 5, false};
  run(body, tight);
  return 0;
}
