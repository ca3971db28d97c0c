// msgid -> handler table: checks each request in PROTOCOL.md's order, calls the services and
// turns their results into answers.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/config/config.hpp>
#include <chat/protocol/fields.hpp>
#include <chat/router/connection.hpp>
#include <chat/services/chat_service.hpp>

#include <array>
#include <string_view>

namespace chat::router {

class router {
 public:
  router(services::chat_service& chat, const config::limits_section& limits);

  // Handles one complete frame body from `conn`; every answer goes through conn.send().
  // Never throws for bad input; completes on the caller's executor.
  awaitable<void> dispatch(connection& conn, std::string_view frame_body);

  // Called when the connection ends: the user (if any) goes offline.
  awaitable<void> disconnected(connection& conn);

 private:
  using handler = awaitable<void> (router::*)(connection&, const protocol::envelope&);

  awaitable<void> on_login(connection& conn, const protocol::envelope& req);
  awaitable<void> on_register(connection& conn, const protocol::envelope& req);
  awaitable<void> on_one_chat(connection& conn, const protocol::envelope& req);
  awaitable<void> on_add_friend(connection& conn, const protocol::envelope& req);
  awaitable<void> on_create_group(connection& conn, const protocol::envelope& req);
  awaitable<void> on_add_group(connection& conn, const protocol::envelope& req);
  awaitable<void> on_group_chat(connection& conn, const protocol::envelope& req);
  awaitable<void> on_loginout(connection& conn, const protocol::envelope& req);
  awaitable<void> on_ping(connection& conn, const protocol::envelope& req);

  services::chat_service& chat_;
  protocol::text_rule name_rule_;
  protocol::text_rule password_rule_;
  protocol::text_rule groupname_rule_;
  protocol::text_rule groupdesc_rule_;
  protocol::text_rule message_rule_;
  std::array<handler, 16> handlers_{};  // indexed by msgid
};

}  // namespace chat::router
