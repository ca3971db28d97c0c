// One client connection: a reader coroutine (frames -> router), a writer coroutine that
// drains a bounded outbound queue with coalesced writes, and a heartbeat watchdog.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/config/config.hpp>
#include <chat/protocol/frame.hpp>
#include <chat/router/connection.hpp>
#include <chat/router/router.hpp>
#include <chat/services/chat_service.hpp>
#include <chat/services/link.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace chat::server {

struct session_options {
  std::size_t max_frame_bytes = 65536;
  std::size_t max_outbound_bytes = 4u << 20;
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds login_timeout{60000};
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
          const session_options& options, finished_handler on_finished);

  // Spawns the reader, writer and watchdog on the socket's strand.
  static void start(const std::shared_ptr<session>& self);

  // Sends ERROR_MSG errno 14, flushes what is queued and closes. Any thread; idempotent.
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

 private:
  enum class state {
    open,      // reading and writing
    draining,  // GOING_AWAY queued: write what is queued, then close; new chat is stored
    closed,    // socket closed: chat still queued is being stored
    finished,  // nothing accepted any more
  };
  enum class kind { direct, live };

  static awaitable<void> reader(std::shared_ptr<session> self);
  static awaitable<void> writer(std::shared_ptr<session> self);
  static awaitable<void> watchdog(std::shared_ptr<session> self);

  bool enqueue(services::outbound msg, kind k);
  bool accepting_requests();
  // Queues a last frame, writes what is queued, then closes; later chat is stored.
  void drain(std::string last_frame);
  void wake_writer_locked();
  void release_held_locked();
  void close_locked();
  void close_socket();
  awaitable<void> finish(std::string reason);

  asio::ip::tcp::socket socket_;
  asio::steady_timer wake_;
  asio::steady_timer watchdog_;
  asio::steady_timer writer_done_signal_;  // cancelled when the writer has ended
  protocol::frame_decoder decoder_;
  router::router& router_;
  services::chat_service& chat_;
  const session_options& options_;
  finished_handler on_finished_;
  std::string peer_;

  // Strand-only state.
  std::chrono::steady_clock::time_point last_frame_;
  std::chrono::steady_clock::time_point unauthenticated_since_;
  bool writer_done_ = false;

  // Guarded by mutex_.
  std::mutex mutex_;
  state state_ = state::open;
  std::deque<services::outbound> queue_;
  std::deque<services::outbound> replay_;  // stored messages of the login, paced by the writer
  std::vector<services::outbound> held_;   // live chat waiting for the login and its replay
  std::vector<services::outbound> spill_;  // chat to store: the connection cannot write it
  std::size_t queued_bytes_ = 0;
  bool holding_ = false;
  bool writer_waiting_ = false;
};

}  // namespace chat::server
