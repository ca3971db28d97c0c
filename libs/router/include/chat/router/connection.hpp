// What the router needs from a client connection (the server's Session implements it).
#pragma once

#include <chat/services/link.hpp>
#include <chat/storage/repository.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::router {

// Called only from the connection's own reader (one request at a time), except where noted.
class connection {
 public:
  virtual ~connection() = default;

  // Queues a direct answer (ack, PONG, CHAT_ACK, ERROR_MSG).
  virtual void send(std::string frame) = 0;
  // Hands over the stored messages of a login, oldest first. They are written after what is
  // queued and before any live chat, at the pace the peer reads (they do not count against
  // the outbound limit); whatever the connection cannot write is stored again. Returns the
  // frames it could not take (the connection has finished): the caller stores those.
  virtual std::vector<std::shared_ptr<const std::string>> replay_stored(
      std::vector<std::shared_ptr<const std::string>> frames, services::user_id recipient) = 0;

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
