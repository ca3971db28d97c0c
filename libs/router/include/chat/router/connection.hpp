// What the router needs from a client connection (the server's Session implements it).
#pragma once

#include <chat/services/link.hpp>
#include <chat/storage/repository.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chat::router {

// Called only from the connection's own reader (one request at a time), except where noted.
class connection {
 public:
  virtual ~connection() = default;

  // Queues a direct answer (ack, PONG, CHAT_ACK, ERROR_MSG).
  virtual void send(std::string frame) = 0;
  // Queues a stored chat message being replayed at login; like a live chat message it is
  // stored again if the connection closes before writing it.
  virtual void send_stored(std::shared_ptr<const std::string> frame, services::user_id recipient) = 0;

  // While held, live chat frames wait so that the login ack and the stored messages go first.
  virtual void hold_live() = 0;
  virtual void release_live() = 0;

  // This connection as a delivery target for presence.
  virtual std::shared_ptr<services::client_link> link() = 0;

  // Remote address for logs.
  virtual std::string_view peer() const = 0;

  // The user logged in on this connection, if any.
  std::optional<storage::user_ref> user;
};

}  // namespace chat::router
