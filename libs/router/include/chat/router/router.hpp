// Request dispatch: checks each request in PROTOCOL.md's order (protocol::parse_request plus the
// login check), calls the services with the typed request and turns their results into answers.
#pragma once

#include <chat/router/traffic_metrics.hpp>

#include <chat/asio/awaitable.hpp>
#include <chat/config/config.hpp>
#include <chat/protocol/requests.hpp>
#include <chat/router/connection.hpp>
#include <chat/services/chat_service.hpp>

#include <string_view>

namespace chat::router {

class router {
 public:
  // `metrics` (may be null: not measured) must outlive the router.
  router(services::chat_service& chat, const config::limits_section& limits, const traffic_metrics* metrics = nullptr);

  // Handles one complete frame body from `conn`; every answer goes through conn.send().
  // Never throws for bad input; completes on the caller's executor.
  awaitable<void> dispatch(connection& conn, std::string_view frame_body);

  // Called when the connection ends: the user (if any) goes offline.
  awaitable<void> disconnected(connection& conn);

 private:
  // One handler per request type (overloads, chosen by std::visit); each may move from `req`.
  awaitable<void> handle(connection& conn, protocol::requests::login& req);
  awaitable<void> handle(connection& conn, protocol::requests::reg& req);
  awaitable<void> handle(connection& conn, protocol::requests::one_chat& req);
  awaitable<void> handle(connection& conn, protocol::requests::add_friend& req);
  awaitable<void> handle(connection& conn, protocol::requests::create_group& req);
  awaitable<void> handle(connection& conn, protocol::requests::add_group& req);
  awaitable<void> handle(connection& conn, protocol::requests::group_chat& req);
  awaitable<void> handle(connection& conn, protocol::requests::loginout& req);
  awaitable<void> handle(connection& conn, protocol::requests::ping& req);

  services::chat_service& chat_;
  protocol::request_limits limits_;
  const traffic_metrics& metrics_;
};

}  // namespace chat::router
