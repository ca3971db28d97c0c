// What the protocol layer counts for /metrics: frames by msgid, answers by errno, logins,
// connections, stored messages handed out, slow consumers and delivery latency. Every pointer
// may be null (not measured): unit tests and tools run without a registry.
#pragma once

#include <chat/metrics/metric.hpp>
#include <chat/protocol/message.hpp>

#include <array>
#include <cstddef>

namespace chat::router {

struct traffic_metrics {
  static constexpr std::size_t msgids = 19;  // 1..18; [0] = no valid msgid
  static constexpr std::size_t errnos = 15;  // 1..14

  std::array<metrics::counter*, msgids> frames_in{};   // requests read, by their msgid
  std::array<metrics::counter*, msgids> frames_out{};  // frames written, by their msgid
  std::array<metrics::counter*, errnos> errors{};      // answers carrying errno N (ERROR_MSG or an ack)
  metrics::counter* logins = nullptr;
  metrics::counter* login_failures = nullptr;
  metrics::counter* offline_delivered = nullptr;       // stored messages sent with a login
  metrics::counter* connections_opened = nullptr;
  metrics::counter* refused_node_full = nullptr;
  metrics::counter* refused_address_full = nullptr;
  metrics::counter* refused_proxy_header = nullptr;
  metrics::counter* slow_consumers = nullptr;          // connections closed for not reading
  metrics::histogram* delivery_seconds = nullptr;      // chat queued for a connection -> written

  void frame_in(std::int64_t id) const noexcept { metrics::inc(frames_in[index(id, msgids)]); }
  void frame_out(int id) const noexcept { metrics::inc(frames_out[index(id, msgids)]); }
  void error(protocol::errc e) const noexcept {
    if (e != protocol::errc::ok) {
      metrics::inc(errors[index(protocol::to_int(e), errnos)]);
    }
  }

 private:
  static std::size_t index(std::int64_t v, std::size_t size) noexcept {
    return v > 0 && static_cast<std::size_t>(v) < size ? static_cast<std::size_t>(v) : 0;
  }
};

}  // namespace chat::router
