// One client connection: a reader coroutine (frames -> router) and, while there is something to
// write, a writer coroutine that drains a bounded outbound queue with coalesced writes. The
// server's sweeper enforces the heartbeat, login and drain deadlines. An idle connection thus
// holds one suspended coroutine and no buffers.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/config/config.hpp>
#include <chat/protocol/frame.hpp>
#include <chat/protocol/message.hpp>
#include <chat/router/connection.hpp>
#include <chat/router/router.hpp>
#include <chat/router/traffic_metrics.hpp>
#include <chat/server/limits.hpp>
#include <chat/services/chat_service.hpp>
#include <chat/services/link.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/container/devector.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace chat::server {

struct session_options {
  std::size_t max_frame_bytes = 65536;
  std::size_t max_outbound_bytes = 4u << 20;
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds login_timeout{60000};
  std::uint32_t rate_limit_per_s = 0;  // 0 = no limit
  std::uint32_t rate_limit_burst = 0;
  bool proxy_protocol = false;         // a PROXY header comes first
  const router::traffic_metrics* metrics = nullptr;  // null: not measured
};

// Lifetime: owned by shared_ptrs held by its coroutines (and by presence while logged in).
// The socket, timers and decoder are touched only on the session's strand; the outbound
// queue is guarded by a mutex so deliver() can be called from any thread.
class session final : public router::connection,
                      public services::client_link,
                      public std::enable_shared_from_this<session> {
 public:
  using finished_handler = std::function<void(session&)>;

  session(asio::ip::tcp::socket socket, router::router& router, services::chat_service& chat,
          const session_options& options, admission& admission, finished_handler on_finished);

  using clock = std::chrono::steady_clock;

  // Starts reading (on the socket's strand).
  static void start(const std::shared_ptr<session>& self);

  // Called periodically by the server's sweeper, from any thread: once the connection's
  // deadline (heartbeat, login or drain) has passed, the strand checks it and acts.
  void check_deadline(clock::time_point now);

  // Sends ERROR_MSG errno 14, flushes what is queued and closes. Any thread; idempotent. A
  // request being served first gets its answer: GOING_AWAY waits for it.
  void go_away(std::string reason);

  // router::connection
  void send(std::string frame) override;
  std::vector<std::shared_ptr<const std::string>> replay_stored(
      std::vector<std::shared_ptr<const std::string>> frames, services::user_id recipient) override;
  void hold_live() override;
  void release_live() override;
  std::shared_ptr<services::client_link> link() override { return shared_from_this(); }
  std::string_view peer() const override { return peer_; }

  // services::client_link
  bool deliver(const services::outbound& msg) override;
  std::string client_address() const override { return address_; }

 private:
  enum class state {
    open,      // reading and writing
    draining,  // GOING_AWAY queued: write what is queued, then close; new chat is stored
    closed,    // socket closed: chat still queued is being stored
    finished,  // nothing accepted any more
  };
  enum class kind { direct, live };

  // `ec`: how the readiness wait that started it ended.
  static awaitable<void> reader(std::shared_ptr<session> self, boost::system::error_code ec);
  void wait_readable();
  static awaitable<void> writer(std::shared_ptr<session> self);

  // The PROXY header's bytes so far; true once it is complete and the connection admitted.
  bool take_proxy_bytes(std::string_view bytes);
  // Counts the connection against the node's and its address's limits, or refuses it.
  bool admit();
  // Answers `e`, flushes and closes; whatever else arrives is dropped.
  void refuse(protocol::errc e, const char* reason);
  // ERROR_MSG errno 13 for a request over the rate, with its msgid and cid when it has them.
  void send_rate_limited(std::string_view body);

  bool enqueue(services::outbound msg, kind k);
  // Counts frames written whole, and the delivery latency of live chat among them.
  void count_written(const std::vector<services::outbound>& batch) const;
  bool accepting_requests();
  // Queues a last frame, writes what is queued, then closes; later chat is stored.
  void drain(std::string last_frame);
  // True when the caller must spawn_writer() once it has released the mutex (the writer may
  // start inline and takes the mutex itself).
  [[nodiscard]] bool claim_writer_locked();
  void spawn_writer(bool posted);
  [[nodiscard]] bool release_held_locked();
  // On the strand: the deadline has passed; go away, close, or set the next deadline.
  void expire();
  // On the strand: GOING_AWAY now, or once the request being served has been answered.
  void go_away_on_strand(std::string reason);
  void update_deadline();
  void close_locked();
  void close_socket();
  awaitable<void> finish(std::string reason);

  asio::ip::tcp::socket socket_;
  asio::steady_timer writer_done_signal_;  // cancelled when a writer ends after the socket closed
  protocol::frame_decoder decoder_;
  router::router& router_;
  services::chat_service& chat_;
  const session_options& options_;
  const router::traffic_metrics& metrics_;
  admission& admission_;
  finished_handler on_finished_;
  std::string address_;  // the client's address (from the PROXY header when there is one)
  std::string peer_;     // address:port, for logs

  // Strand-only state.
  clock::time_point last_frame_;
  clock::time_point unauthenticated_since_;
  clock::time_point last_wake_;  // when the reader last started
  // Once draining (bad length, going away) the writer flushes and closes the socket; until
  // then input is read and dropped, so the peer sees our last frame instead of a reset.
  bool discarding_ = false;
  const char* close_reason_ = "closed by peer";
  bool proxy_pending_;
  std::string proxy_buf_;
  bool admitted_ = false;
  bool dispatching_ = false;  // a request is being served: the connection is not idle
  std::optional<std::string> deferred_go_away_;  // reason of a GOING_AWAY waiting for that request
  token_bucket requests_;

  // When the sweeper should next look at this connection (clock ticks); any thread.
  std::atomic<clock::rep> deadline_;

  // Guarded by mutex_.
  std::mutex mutex_;
  state state_ = state::open;
  // devector, not deque: an empty one allocates nothing, which idle connections notice.
  boost::container::devector<services::outbound> queue_;
  boost::container::devector<services::outbound> replay_;  // stored messages of the login, paced by the writer
  std::vector<services::outbound> held_;   // live chat waiting for the login and its replay
  std::vector<services::outbound> spill_;  // chat to store: the connection cannot write it
  std::size_t queued_bytes_ = 0;
  clock::time_point drain_deadline_;  // set when draining starts
  bool holding_ = false;
  bool writer_running_ = false;
};

}  // namespace chat::server
