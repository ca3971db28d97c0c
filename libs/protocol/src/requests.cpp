// Typed request parsing: the envelope, then each request's fields with a field_reader.
#include <chat/protocol/requests.hpp>

#include <array>
#include <stdexcept>

namespace chat::protocol {

namespace {

// Indexed like the alternatives of `request`.
constexpr std::array<msgid, std::variant_size_v<request>> request_ids = {
    msgid::login,     msgid::reg,        msgid::one_chat, msgid::add_friend, msgid::create_group,
    msgid::add_group, msgid::group_chat, msgid::loginout, msgid::ping,
};

// Reads the fields of request `id` in PROTOCOL.md's order; `f` keeps the first failure.
request read_fields(msgid id, boost::json::value cid, const request_limits& limits, field_reader& f) {
  switch (id) {
    case msgid::login: {
      requests::login r{std::move(cid), {}, {}, {}};
      if (f.contains("id") == f.contains("name")) {
        f.fail("exactly one of 'id' and 'name' is required");
      } else if (f.contains("id")) {
        r.id = f.id("id");
      } else {
        r.name = std::string(f.text("name", limits.name));
      }
      r.password = f.text("pwd", limits.password);
      return r;
    }
    case msgid::reg: {
      requests::reg r{std::move(cid), {}, {}};
      r.name = f.text("name", limits.name);
      r.password = f.text("pwd", limits.password);
      return r;
    }
    case msgid::one_chat: {
      requests::one_chat r{std::move(cid), {}, {}};
      r.to = f.id("to");
      r.msg = f.text("msg", limits.message);
      return r;
    }
    case msgid::add_friend:
      return requests::add_friend{std::move(cid), f.id("friendid")};
    case msgid::create_group: {
      requests::create_group r{std::move(cid), {}, {}};
      r.name = f.text("groupname", limits.groupname);
      r.description = f.optional_text("groupdesc", limits.groupdesc, "");
      return r;
    }
    case msgid::add_group:
      return requests::add_group{std::move(cid), f.id("groupid")};
    case msgid::group_chat: {
      requests::group_chat r{std::move(cid), {}, {}};
      r.group_id = f.id("groupid");
      r.msg = f.text("msg", limits.message);
      return r;
    }
    case msgid::loginout:
      return requests::loginout{std::move(cid)};
    default:  // parse_envelope admits only client requests: ping is the last one
      return requests::ping{std::move(cid)};
  }
}

}  // namespace

msgid msgid_of(const request& r) noexcept {
  return request_ids[r.index()];
}

bool needs_login(msgid m) noexcept {
  return m != msgid::login && m != msgid::reg && m != msgid::ping;
}

boost::system::result<request, request_error> parse_request(std::string_view frame_body, const request_limits& limits) {
  envelope env = parse_envelope(frame_body);
  if (!env.error.empty()) {
    return request_error{request_error::stage::envelope, errc::bad_request, std::move(env.error), env.msgid,
                         std::move(env.cid)};
  }
  if (env.cid_invalid) {
    return request_error{request_error::stage::fields, errc::bad_request,
                         "'cid' must be an integer or a string of at most 64 bytes", env.msgid, nullptr};
  }
  field_reader f(env.body);
  request r = read_fields(static_cast<msgid>(*env.msgid), std::move(env.cid), limits, f);
  if (!f.ok()) {
    auto cid = std::visit([](auto& typed) { return std::move(typed.cid); }, r);
    return request_error{request_error::stage::fields, errc::bad_request, f.error(), env.msgid, std::move(cid)};
  }
  return r;
}

boost::json::object make_error(const request_error& e) {
  return make_error(e.code, e.message, e.msgid, e.cid);
}

void throw_exception_from_error(const request_error& e, const boost::source_location& loc) {
  throw std::invalid_argument("bad request at " + std::string(loc.file_name()) + ": " + e.message);
}

}  // namespace chat::protocol
