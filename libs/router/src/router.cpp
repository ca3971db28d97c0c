// Request dispatch, in PROTOCOL.md's order: frame (done by the reader), envelope (8),
// login (9), fields (8) (protocol::parse_request does all but the login check), then the
// request's own rules (the handlers, with typed requests).
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

void send_error(const traffic_metrics& m, connection& conn, msgid req, const json::value& cid, errc e,
                std::string_view message = {}) {
  m.error(e);
  conn.send(protocol::to_frame(protocol::make_error(e, message, protocol::to_int(req), cid)));
}

// Domain errors (1-7) travel in the request's own ack; everything else is an ERROR_MSG.
void send_failure(const traffic_metrics& m, connection& conn, msgid req, const json::value& cid,
                  const boost::system::error_code& ec) {
  const auto e = static_cast<errc>(ec.value());
  const auto ack = protocol::ack_of(req);
  if (ec.category() == protocol::protocol_category() && ack != msgid::error && e >= errc::no_account &&
      e <= errc::add_group_error) {
    m.error(e);
    conn.send(protocol::to_frame(protocol::make_ack(ack, e, cid)));
    return;
  }
  send_error(m, conn, req, cid, ec.category() == protocol::protocol_category() ? e : errc::unavailable);
}

// Chat has no ack of its own: an error, or a CHAT_ACK when the request carried a cid.
void answer_chat(const traffic_metrics& m, connection& conn, msgid req, const json::value& cid,
                 const services::result<std::int64_t>& time) {
  if (!time) {
    send_failure(m, conn, req, cid, time.error());
  } else if (!cid.is_null()) {
    auto ack = protocol::make_ack(msgid::chat_ack, errc::ok, cid);
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

namespace {
const traffic_metrics unmeasured;
}

router::router(services::chat_service& chat, const config::limits_section& limits, const traffic_metrics* metrics)
    : chat_(chat), metrics_(metrics != nullptr ? *metrics : unmeasured) {
  limits_.message.max_bytes = limits.max_message_bytes;
}

awaitable<void> router::dispatch(connection& conn, std::string_view frame_body) {
  auto parsed = protocol::parse_request(frame_body, limits_);
  metrics_.frame_in(parsed ? protocol::to_int(protocol::msgid_of(*parsed)) : parsed.error().msgid.value_or(0));
  if (!parsed && parsed.error().where == protocol::request_error::stage::envelope) {
    metrics_.error(parsed.error().code);
    conn.send(protocol::to_frame(protocol::make_error(parsed.error())));
    co_return;
  }
  // The login check sits between the envelope and the field checks (PROTOCOL.md's order), so
  // a request with bad fields still gets errno 9 before login. A fields-stage error has a msgid.
  const auto id = parsed ? protocol::msgid_of(*parsed) : static_cast<msgid>(*parsed.error().msgid);
  if (!conn.user && protocol::needs_login(id)) {
    const auto& cid =
        parsed ? std::visit([](const auto& r) -> const json::value& { return r.cid; }, *parsed) : parsed.error().cid;
    send_error(metrics_, conn, id, cid, errc::not_logged_in);
    co_return;
  }
  if (!parsed) {
    metrics_.error(parsed.error().code);
    conn.send(protocol::to_frame(protocol::make_error(parsed.error())));
    co_return;
  }
  auto handled = std::visit([this, &conn](auto& r) { return handle(conn, r); }, *parsed);
  co_await std::move(handled);
}

awaitable<void> router::disconnected(connection& conn) {
  if (conn.user) {
    logger()->info("logout user={} peer={} (connection closed)", conn.user->id, conn.peer());
    const auto user = conn.user->id;
    conn.user.reset();
    co_await chat_.logout(user, conn.link().get());
  }
}

awaitable<void> router::handle(connection& conn, protocol::requests::login& req) {
  if (conn.user) {
    send_failure(metrics_, conn, msgid::login, req.cid, errc::online_error);
    co_return;
  }

  conn.hold_live();
  auto view = co_await chat_.login(req.id, std::move(req.name), std::move(req.password), conn.link());
  if (!view) {
    metrics::inc(metrics_.login_failures);
    conn.release_live();
    if (view.error() != errc::info_error) {
      logger()->warn("login failed peer={}: {}", conn.peer(), view.error().message());
    }
    send_failure(metrics_, conn, msgid::login, req.cid, view.error());
    co_return;
  }
  conn.user = view->user;
  metrics::inc(metrics_.logins);
  metrics::inc(metrics_.offline_delivered, view->offline.size());
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

awaitable<void> router::handle(connection& conn, protocol::requests::reg& req) {
  auto user = co_await chat_.register_user(std::move(req.name), std::move(req.password));
  if (!user) {
    send_failure(metrics_, conn, msgid::reg, req.cid, user.error());
    co_return;
  }
  logger()->info("registered user={} peer={}", user->id, conn.peer());
  auto ack = protocol::make_ack(msgid::reg_ack, errc::ok, req.cid);
  ack["id"] = user->id;
  ack["name"] = user->name;
  conn.send(protocol::to_frame(ack));
}

awaitable<void> router::handle(connection& conn, protocol::requests::one_chat& req) {
  auto sent = co_await chat_.send_one(*conn.user, req.to, req.msg);
  answer_chat(metrics_, conn, msgid::one_chat, req.cid, sent);
}

awaitable<void> router::handle(connection& conn, protocol::requests::group_chat& req) {
  auto sent = co_await chat_.send_group(*conn.user, req.group_id, req.msg);
  answer_chat(metrics_, conn, msgid::group_chat, req.cid, sent);
}

awaitable<void> router::handle(connection& conn, protocol::requests::add_friend& req) {
  auto added = co_await chat_.add_friend(*conn.user, req.friend_id);
  if (!added) {
    send_failure(metrics_, conn, msgid::add_friend, req.cid, added.error());
    co_return;
  }
  auto ack = protocol::make_ack(msgid::add_friend_ack, errc::ok, req.cid);
  ack["friendid"] = req.friend_id;
  conn.send(protocol::to_frame(ack));
}

awaitable<void> router::handle(connection& conn, protocol::requests::create_group& req) {
  auto group = co_await chat_.create_group(*conn.user, req.name, std::move(req.description));
  if (!group) {
    send_failure(metrics_, conn, msgid::create_group, req.cid, group.error());
    co_return;
  }
  auto ack = protocol::make_ack(msgid::create_group_ack, errc::ok, req.cid);
  ack["groupid"] = *group;
  ack["groupname"] = req.name;
  conn.send(protocol::to_frame(ack));
}

awaitable<void> router::handle(connection& conn, protocol::requests::add_group& req) {
  auto joined = co_await chat_.join_group(*conn.user, req.group_id);
  if (!joined) {
    send_failure(metrics_, conn, msgid::add_group, req.cid, joined.error());
    co_return;
  }
  auto ack = protocol::make_ack(msgid::add_group_ack, errc::ok, req.cid);
  ack["groupid"] = req.group_id;
  conn.send(protocol::to_frame(ack));
}

awaitable<void> router::handle(connection& conn, protocol::requests::loginout& req) {
  logger()->info("logout user={} peer={}", conn.user->id, conn.peer());
  const auto user = conn.user->id;
  conn.user.reset();
  co_await chat_.logout(user, conn.link().get());
  conn.send(protocol::to_frame(protocol::make_ack(msgid::loginout_ack, errc::ok, req.cid)));
}

awaitable<void> router::handle(connection& conn, protocol::requests::ping& req) {
  json::object pong{{"msgid", protocol::to_int(msgid::pong)}};
  if (!req.cid.is_null()) {
    pong["cid"] = req.cid;
  }
  conn.send(protocol::to_frame(pong));
  co_return;
}

}  // namespace chat::router
