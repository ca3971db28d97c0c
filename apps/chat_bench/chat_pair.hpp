// A pair of connections, A and B, bouncing ONE_CHAT_MSG between them: every message received
// is answered with one sent back, so the number in flight stays what it started with
// (pingpong: one, sent by A; stream: `window` from each side). Used by pingpong, stream and
// the pingpong that runs alongside the login storm.
#pragma once

#include "client.hpp"
#include "options.hpp"
#include "state_file.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chat::bench {

struct pair_settings {
  std::size_t index = 0;    // raw mode: in the pairing key
  std::int64_t user_a = 0;  // chat: user ids of the state file; raw: any distinct ids
  std::int64_t user_b = 0;
  asio::ip::tcp::endpoint endpoint_a;
  asio::ip::tcp::endpoint endpoint_b;
  int window = 1;           // messages each starting side sends when the gate opens
  bool both_start = false;  // stream: B starts `window` messages too
  bool raw = false;
  std::string password;
};

// Pair i: users 2i and 2i+1 of `state` (raw mode: no users, ids 2i+1 and 2i+2 keep the
// request bytes the same), side A on the first --connect address, B on the last. Throws
// usage_error when `state` has too few users.
std::vector<pair_settings> plan_pairs(const common_options& opt, const bench_state& state, std::size_t pairs);

// Connects side A or B of a pair: LOGIN as its user, or in raw mode the pairing frame.
// `settings` must outlive the call.
awaitable<bool> open_pair_side(client& c, const pair_settings& settings, bool side_b);

// Lives on one shard; run() connects, logs in (or pairs), arrives at `ready`, bounces
// messages through the window, drains, logs out and closes. Counts lost messages.
class chat_pair final : public frame_sink {
 public:
  chat_pair(shard& home, readiness& ready, pair_settings settings);

  awaitable<void> run();

  void on_frame(client& from, std::int64_t msgid, const boost::json::object& frame) override;
  void on_lost(client& from) override;

 private:
  struct side {
    std::shared_ptr<client> conn;
    std::int64_t id = 0;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    clock::time_point last_stamp{};
  };

  void send(side& from, const side& to);
  bool both_open() const noexcept;
  bool drained() const noexcept;

  shard& home_;
  readiness& ready_;
  pair_settings settings_;
  side a_;
  side b_;
  asio::steady_timer wake_;
};

}  // namespace chat::bench
