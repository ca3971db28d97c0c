// How the services see a logged-in user's connection: something that accepts frames.
#pragma once

#include <cstdint>
#include <chrono>
#include <memory>
#include <string>

namespace chat::services {

using user_id = std::int64_t;
using group_id = std::int64_t;

// A frame on its way to a connection. Chat messages name their recipient in `store_for`, so
// a connection that closes before writing them can store them as offline messages instead.
struct outbound {
  std::shared_ptr<const std::string> frame;  // header + JSON body, shared between recipients
  user_id store_for = 0;                     // 0: not a chat message (acks, errors)
  // One of many deliveries of one message: the connection may write it a little later, with
  // whatever else arrives meanwhile, instead of at once.
  bool fan_out = false;
  // When a connection queued it as live chat (for the delivery latency metric); unset otherwise.
  std::chrono::steady_clock::time_point queued{};
};

class client_link {
 public:
  virtual ~client_link() = default;

  // Queues a frame for writing. Returns false when the connection no longer accepts chat
  // messages (it has finished closing); the caller then stores the message itself.
  // Safe to call from any thread; never blocks on I/O.
  virtual bool deliver(const outbound& msg) = 0;

  // The client's network address (behind a balancer: from its PROXY header), for
  // per-address limits; empty when unknown.
  virtual std::string client_address() const { return {}; }
};

}  // namespace chat::services
