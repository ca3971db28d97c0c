// Request dispatch, in PROTOCOL.md's order: frame (done by the reader), envelope (8),
// login (9), fields (8), then the request's own rules.
#include <chat/asio/logging.hpp>
#include <chat/protocol/message.hpp>
#include <chat/router/router.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace chat::router {

namespace json = boost::json;
using protocol::errc;
using protocol::msgid;

namespace {

std::shared_ptr<spdlog::logger> logger() { return named_logger("chat"); }

void send_error(connection& conn, const protocol::envelope& req, errc e, std::string_view message = {}) {
  conn.send(protocol::to_frame(protocol::make_error(e, message, req.msgid, req.cid)));
}

// Domain errors (1-7) travel in the request's own ack; everything else is an ERROR_MSG.
void send_failure(connection& conn, const protocol::envelope& req, const boost::system::error_code& ec) {
  const auto e = static_cast<errc>(ec.value());
  const auto ack = protocol::ack_of(static_cast<msgid>(*req.msgid));
  if (ec.category() == protocol::protocol_category() && ack != msgid::error && e >= errc::no_account &&
      e <= errc::add_group_error) {
    conn.send(protocol::to_frame(protocol::make_ack(ack, e, req.cid)));
    return;
  }
  send_error(conn, req, ec.category() == protocol::protocol_category() ? e : errc::unavailable);
}

// Chat has no ack of its own: an error, or a CHAT_ACK when the request carried a cid.
void answer_chat(connection& conn, const protocol::envelope& req, const services::result<std::int64_t>& time) {
  if (!time) {
    send_failure(conn, req, time.error());
  } else if (!req.cid.is_null()) {
    auto ack = protocol::make_ack(msgid::chat_ack, errc::ok, req.cid);
    ack["time"] = *time;
    conn.send(protocol::to_frame(ack));
  }
}

std::string_view state_name(bool online) { return online ? "online" : "offline"; }

json::object login_ack(const services::login_view& view, const json::value& cid) {
  auto ack = protocol::make_ack(msgid::login_ack, errc::ok, cid);
  ack["id"] = view.user.id;
  ack["name"] = view.user.name;
  json::array friends;
  for (const auto& f : view.friends) {
    friends.push_back(json::object{{"id", f.user.id}, {"name", f.user.name}, {"state", state_name(f.online)}});
  }
  ack["friends"] = std::move(friends);
  json::array groups;
  for (const auto& g : view.groups) {
    json::array users;
    for (std::size_t i = 0; i < g.group->members.size(); ++i) {
      const auto& m = g.group->members[i];
      users.push_back(json::object{{"id", m.id},
                                   {"name", m.name},
                                   {"state", state_name(g.online[i] || m.id == view.user.id)},
                                   {"role", m.role == storage::group_role::creator ? "creator" : "normal"}});
    }
    groups.push_back(json::object{{"id", g.group->id},
                                  {"groupname", g.group->name},
                                  {"groupdesc", g.group->description},
                                  {"users", std::move(users)}});
  }
  ack["groups"] = std::move(groups);
  ack["offline"] = view.offline.size();
  return ack;
}

}  // namespace

router::router(services::chat_service& chat, const config::limits_section& limits)
    : chat_(chat),
      name_rule_{1, 50, true},
      password_rule_{1, 128, false},
      groupname_rule_{1, 50, true},
      groupdesc_rule_{0, 200, false},
      message_rule_{1, limits.max_message_bytes, false} {
  auto set = [this](msgid id, handler h) { handlers_[static_cast<std::size_t>(id)] = h; };
  set(msgid::login, &router::on_login);
  set(msgid::reg, &router::on_register);
  set(msgid::one_chat, &router::on_one_chat);
  set(msgid::add_friend, &router::on_add_friend);
  set(msgid::create_group, &router::on_create_group);
  set(msgid::add_group, &router::on_add_group);
  set(msgid::group_chat, &router::on_group_chat);
  set(msgid::loginout, &router::on_loginout);
  set(msgid::ping, &router::on_ping);
}

awaitable<void> router::dispatch(connection& conn, std::string_view frame_body) {
  const protocol::envelope req = protocol::parse_envelope(frame_body);
  if (!req.error.empty()) {
    send_error(conn, req, errc::bad_request, req.error);
    co_return;
  }
  const auto id = static_cast<msgid>(*req.msgid);
  if (!conn.user && id != msgid::login && id != msgid::reg && id != msgid::ping) {
    send_error(conn, req, errc::not_logged_in);
    co_return;
  }
  if (req.cid_invalid) {
    send_error(conn, req, errc::bad_request, "'cid' must be an integer or a string of at most 64 bytes");
    co_return;
  }
  // parse_envelope admits only client request types, and each has a handler.
  co_await (this->*handlers_[static_cast<std::size_t>(id)])(conn, req);
}

awaitable<void> router::disconnected(connection& conn) {
  if (conn.user) {
    logger()->info("logout user={} peer={} (connection closed)", conn.user->id, conn.peer());
    const auto user = conn.user->id;
    conn.user.reset();
    co_await chat_.logout(user, conn.link().get());
  }
}

awaitable<void> router::on_login(connection& conn, const protocol::envelope& req) {
  protocol::field_reader f(req.body);
  std::optional<services::user_id> id;
  std::optional<std::string> name;
  if (f.contains("id") == f.contains("name")) {
    f.fail("exactly one of 'id' and 'name' is required");
  } else if (f.contains("id")) {
    id = f.id("id");
  } else {
    name = std::string(f.text("name", name_rule_));
  }
  auto password = std::string(f.text("pwd", password_rule_));
  if (!f.ok()) {
    send_error(conn, req, errc::bad_request, f.error());
    co_return;
  }
  if (conn.user) {
    send_failure(conn, req, errc::online_error);
    co_return;
  }

  conn.hold_live();
  auto view = co_await chat_.login(id, std::move(name), std::move(password), conn.link());
  if (!view) {
    conn.release_live();
    if (view.error() != errc::info_error) {
      logger()->warn("login failed peer={}: {}", conn.peer(), view.error().message());
    }
    send_failure(conn, req, view.error());
    co_return;
  }
  conn.user = view->user;
  logger()->info("login user={} peer={} offline={}", view->user.id, conn.peer(), view->offline.size());
  conn.send(protocol::to_frame(login_ack(*view, req.cid)));
  auto refused = conn.replay_stored(std::move(view->offline), view->user.id);
  conn.release_live();
  if (!refused.empty()) {
    // The connection finished while we were logging in: keep the messages for next time.
    std::vector<services::outbound> again;
    for (auto& frame : refused) {
      again.push_back({std::move(frame), view->user.id});
    }
    if (!co_await chat_.store_undelivered(std::move(again))) {
      logger()->error("lost {} stored messages of user={}: storage unavailable", refused.size(), view->user.id);
    }
  }
}

awaitable<void> router::on_register(connection& conn, const protocol::envelope& req) {
  protocol::field_reader f(req.body);
  auto name = std::string(f.text("name", name_rule_));
  auto password = std::string(f.text("pwd", password_rule_));
  if (!f.ok()) {
    send_error(conn, req, errc::bad_request, f.error());
    co_return;
  }
  auto user = co_await chat_.register_user(std::move(name), std::move(password));
  if (!user) {
    send_failure(conn, req, user.error());
    co_return;
  }
  logger()->info("registered user={} peer={}", user->id, conn.peer());
  auto ack = protocol::make_ack(msgid::reg_ack, errc::ok, req.cid);
  ack["id"] = user->id;
  ack["name"] = user->name;
  conn.send(protocol::to_frame(ack));
}

awaitable<void> router::on_one_chat(connection& conn, const protocol::envelope& req) {
  protocol::field_reader f(req.body);
  const auto to = f.id("to");
  const auto text = f.text("msg", message_rule_);
  if (!f.ok()) {
    send_error(conn, req, errc::bad_request, f.error());
    co_return;
  }
  answer_chat(conn, req, co_await chat_.send_one(*conn.user, to, text));
}

awaitable<void> router::on_group_chat(connection& conn, const protocol::envelope& req) {
  protocol::field_reader f(req.body);
  const auto group = f.id("groupid");
  const auto text = f.text("msg", message_rule_);
  if (!f.ok()) {
    send_error(conn, req, errc::bad_request, f.error());
    co_return;
  }
  answer_chat(conn, req, co_await chat_.send_group(*conn.user, group, text));
}

awaitable<void> router::on_add_friend(connection& conn, const protocol::envelope& req) {
  protocol::field_reader f(req.body);
  const auto friend_id = f.id("friendid");
  if (!f.ok()) {
    send_error(conn, req, errc::bad_request, f.error());
    co_return;
  }
  auto added = co_await chat_.add_friend(*conn.user, friend_id);
  if (!added) {
    send_failure(conn, req, added.error());
    co_return;
  }
  auto ack = protocol::make_ack(msgid::add_friend_ack, errc::ok, req.cid);
  ack["friendid"] = friend_id;
  conn.send(protocol::to_frame(ack));
}

awaitable<void> router::on_create_group(connection& conn, const protocol::envelope& req) {
  protocol::field_reader f(req.body);
  auto name = std::string(f.text("groupname", groupname_rule_));
  auto description = std::string(f.optional_text("groupdesc", groupdesc_rule_, ""));
  if (!f.ok()) {
    send_error(conn, req, errc::bad_request, f.error());
    co_return;
  }
  auto group = co_await chat_.create_group(*conn.user, name, std::move(description));
  if (!group) {
    send_failure(conn, req, group.error());
    co_return;
  }
  auto ack = protocol::make_ack(msgid::create_group_ack, errc::ok, req.cid);
  ack["groupid"] = *group;
  ack["groupname"] = name;
  conn.send(protocol::to_frame(ack));
}

awaitable<void> router::on_add_group(connection& conn, const protocol::envelope& req) {
  protocol::field_reader f(req.body);
  const auto group = f.id("groupid");
  if (!f.ok()) {
    send_error(conn, req, errc::bad_request, f.error());
    co_return;
  }
  auto joined = co_await chat_.join_group(*conn.user, group);
  if (!joined) {
    send_failure(conn, req, joined.error());
    co_return;
  }
  auto ack = protocol::make_ack(msgid::add_group_ack, errc::ok, req.cid);
  ack["groupid"] = group;
  conn.send(protocol::to_frame(ack));
}

awaitable<void> router::on_loginout(connection& conn, const protocol::envelope& req) {
  logger()->info("logout user={} peer={}", conn.user->id, conn.peer());
  const auto user = conn.user->id;
  conn.user.reset();
  co_await chat_.logout(user, conn.link().get());
  conn.send(protocol::to_frame(protocol::make_ack(msgid::loginout_ack, errc::ok, req.cid)));
}

awaitable<void> router::on_ping(connection& conn, const protocol::envelope& req) {
  json::object pong{{"msgid", protocol::to_int(msgid::pong)}};
  if (!req.cid.is_null()) {
    pong["cid"] = req.cid;
  }
  conn.send(protocol::to_frame(pong));
  co_return;
}

}  // namespace chat::router
