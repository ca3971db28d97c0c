// Message ids, error numbers and common frame builders.
#include <chat/protocol/frame.hpp>
#include <chat/protocol/message.hpp>

#include <boost/json/serializer.hpp>

namespace chat::protocol {

namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "chat.protocol"; }
  std::string message(int ev) const override { return std::string(describe(static_cast<errc>(ev))); }
};

}  // namespace

const boost::system::error_category& protocol_category() noexcept {
  static const category instance;
  return instance;
}

std::string_view describe(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::no_account: return "no such user";
    case errc::info_error: return "wrong account or password";
    case errc::online_error: return "already logged in";
    case errc::reg_error: return "name already taken";
    case errc::create_group_error: return "group name already taken";
    case errc::add_friend_error: return "cannot befriend yourself";
    case errc::add_group_error: return "no such group";
    case errc::bad_request: return "bad request";
    case errc::not_logged_in: return "log in first";
    case errc::not_member: return "not a member of this group";
    case errc::frame_too_large: return "frame length is zero or over the limit";
    case errc::unavailable: return "service unavailable, retry later";
    case errc::rate_limited: return "sending too fast";
    case errc::going_away: return "server is closing this connection; reconnect";
  }
  return "unknown error";
}

bool is_client_request(std::int64_t id) noexcept {
  switch (static_cast<msgid>(id)) {
    case msgid::login:
    case msgid::reg:
    case msgid::one_chat:
    case msgid::add_friend:
    case msgid::create_group:
    case msgid::add_group:
    case msgid::group_chat:
    case msgid::loginout:
    case msgid::ping:
      return true;
    default:
      return false;
  }
}

msgid ack_of(msgid request) noexcept {
  switch (request) {
    case msgid::login: return msgid::login_ack;
    case msgid::reg: return msgid::reg_ack;
    case msgid::add_friend: return msgid::add_friend_ack;
    case msgid::create_group: return msgid::create_group_ack;
    case msgid::add_group: return msgid::add_group_ack;
    case msgid::loginout: return msgid::loginout_ack;
    default: return msgid::error;
  }
}

boost::json::object make_error(errc e, std::string_view errmsg, std::optional<std::int64_t> req,
                               const boost::json::value& cid) {
  boost::json::object obj;
  obj["msgid"] = to_int(msgid::error);
  obj["errno"] = to_int(e);
  obj["errmsg"] = errmsg.empty() ? describe(e) : errmsg;
  if (req) {
    obj["req"] = *req;
  }
  if (!cid.is_null()) {
    obj["cid"] = cid;
  }
  return obj;
}

boost::json::object make_ack(msgid ack, errc e, const boost::json::value& cid, std::string_view errmsg) {
  boost::json::object obj;
  obj["msgid"] = to_int(ack);
  obj["errno"] = to_int(e);
  if (e != errc::ok) {
    obj["errmsg"] = errmsg.empty() ? describe(e) : errmsg;
  }
  if (!cid.is_null()) {
    obj["cid"] = cid;
  }
  return obj;
}

int peek_msgid(std::string_view body) noexcept {
  constexpr std::string_view prefix = R"({"msgid":)";
  if (!body.starts_with(prefix)) {
    return 0;
  }
  int id = 0;
  std::size_t i = prefix.size();
  for (; i < body.size() && i < prefix.size() + 2 && body[i] >= '0' && body[i] <= '9'; ++i) {
    id = id * 10 + (body[i] - '0');
  }
  const bool ended = i < body.size() && (body[i] == ',' || body[i] == '}');
  return i > prefix.size() && ended ? id : 0;
}

std::string to_frame(const boost::json::object& obj) {
  // Serialise straight after a placeholder header, then patch the length in.
  std::string out(frame_header_bytes, '\0');
  boost::json::serializer sr;
  sr.reset(&obj);
  char buf[4096];
  while (!sr.done()) {
    out.append(sr.read(buf));
  }
  std::string header;
  append_frame_header(header, out.size() - frame_header_bytes);
  out.replace(0, frame_header_bytes, header);
  return out;
}

}  // namespace chat::protocol
