// Chat traffic with exact accounting, for tests that break things while it runs (fault, soak):
// users with one connection each (reconnected and logged in again when it dies), flows of
// one-to-one and group messages with a unique token in every text and a unique cid on every
// request, and a ledger that proves, at the end, what PROTOCOL.md §6-§7 promise:
//   - a message answered with CHAT_ACK reaches every recipient exactly once (live, or stored
//     and sent with a later login), with the acknowledged `time`;
//   - an unacknowledged one (ERROR_MSG 12, or no answer because the connection died) at most
//     once;
//   - messages of one flow arrive in order on each connection and in each login's stored batch.
// The one loss the protocol cannot prevent is counted apart: a message acknowledged while its
// recipient's connection was on a node that was then SIGKILLed (mark_kill()), sent at most
// `kill_window` before the kill. A recipient connection "was on the killed node" when the
// server ended it within `kill_window` after the kill, which works behind a balancer too.
//
// Single-threaded: step() does everything (connects, logins, sends, keepalive PINGs, reads).
// Only mark_kill() may be called from another thread (a fault thread).
#pragma once

#include <chat_test/client.hpp>
#include <chat_test/session.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace chat_test {

inline constexpr std::size_t no_user = std::numeric_limits<std::size_t>::max();

struct load_user {
  account acc;
  // Ports to connect to, in order of preference: a connection that fails (refused) moves to
  // the next one (a node's clients reconnect to the other node when it dies).
  std::vector<int> ports;
  bool online = true;  // wanted online from the start (false: offline until set_online())
};

struct load_flow {
  std::size_t sender = 0;
  std::size_t to = no_user;            // one-to-one recipient (user index), or
  std::int64_t groupid = 0;            // a group, whose
  std::vector<std::size_t> members{};  // members other than the sender are the recipients
  std::size_t body_bytes = 0;          // pad every text to at least this size
  std::size_t limit = 0;               // send at most this many messages (0: no limit)
  std::string name{};                  // for reports; default "u<sender>>u<to>" / "u<sender>>g"
};

struct load_options {
  millis idle_timeout{60000};    // the nodes' heartbeat: PING after idle_timeout / 3 without a frame
  std::size_t window = 8;        // unanswered chat requests per flow
  millis gap{20};                // between two sends of one flow
  millis reconnect_delay{300};   // after a dead connection, a refused connect, LOGIN errno 3 / 12
  millis login_timeout{10000};   // a LOGIN unanswered this long: close and try again
  millis kill_window{2000};      // see the header comment
};

// Totals of a run (deliveries count recipient-messages).
struct load_report {
  std::size_t sent = 0;         // chat requests
  std::size_t acked = 0;        // CHAT_ACK
  std::size_t refused = 0;      // ERROR_MSG 12
  std::size_t unanswered = 0;   // the connection died first
  std::size_t no_answer = 0;    // still unanswered on a live connection at the end
  std::size_t live = 0;         // deliveries without "offline"
  std::size_t stored = 0;       // deliveries with "offline":true after a LOGIN_MSG_ACK
  std::size_t lost = 0;         // acknowledged, not delivered (outside the kill exception)
  std::size_t lost_at_kill = 0; // acknowledged, recipient on the killed node, not delivered
  std::size_t at_kill = 0;      // recipient-messages in the kill exception class (delivered or not)
  std::size_t duplicates = 0;   // recipient-messages delivered more than once
  std::size_t unacked_delivered = 0;  // refused or unanswered, delivered once (allowed)
  // Of those, answered ERROR_MSG 12 ("nothing was changed") yet delivered: per flow name,
  // "N live, M stored".
  std::map<std::string, std::pair<std::size_t, std::size_t>> refused_delivered{};
  std::size_t out_of_order = 0;
  std::size_t time_mismatch = 0;      // delivered `time` differs from the CHAT_ACK's
  std::size_t reconnects = 0;         // successful logins after the first one of each user
  std::size_t server_closed = 0;      // connections the server (or a dying node) ended
  std::vector<std::string> problems;  // protocol violations seen on the way (frame included)
  std::vector<std::string> losses;    // one line per lost / duplicated recipient-message
  std::map<std::string, std::size_t> lost_by_flow{};  // "flow > recipient" -> lost (outside the kill exception)

  // "sent N, acked N, ..." on one line.
  std::string summary() const;
  // No problem, nothing lost, nothing duplicated or out of order, every request answered.
  bool clean() const;
};

class load {
 public:
  load(std::vector<load_user> users, std::vector<load_flow> flows, load_options options = {});
  ~load();
  load(const load&) = delete;
  load& operator=(const load&) = delete;

  // Connects and logs in every user wanted online (sending nothing else meanwhile); throws
  // test_error unless all are in within `timeout`.
  void start(millis timeout = 30s);

  // One round: connects and logs in who is due, sends what the flows may send, keepalive
  // PINGs, then reads what arrives within `wait` and accounts for it.
  void step(millis wait = 10ms);
  void run_for(millis d);
  // Steps until `done()` or `limit`; returns done().
  bool run_until(const std::function<bool()>& done, millis limit);

  void set_sending(bool on) { sending_ = on; }
  // Whether a user is wanted online. Going offline: LOGINOUT when logged in, then the
  // connection is closed (cleanly); its messages are stored from then on.
  void set_online(std::size_t user, bool on);
  // Slow consumer: the user's connection is neither read nor written (no PINGs either) until
  // resume_reading(), which reads it again (and reconnects it when the server closed it).
  void stop_reading(std::size_t user);
  void resume_reading(std::size_t user);

  // The kill instant of a node (see the header comment). Thread-safe.
  void mark_kill();
  // Milliseconds since this load was created (the time base of the loss report). Thread-safe.
  long long elapsed_ms() const;

  bool logged_in(std::size_t user) const;
  bool all_logged_in() const;  // every user wanted online is logged in
  bool pending() const;        // chat requests without an answer on live connections
  // Chat requests sent so far, and those answered with CHAT_ACK.
  std::size_t sent() const { return messages_.size(); }
  std::size_t acked() const;
  std::size_t acked(std::size_t flow) const;
  // A message of flow `f` sent after `t` was delivered live (to every online recipient).
  bool delivered_live_since(std::size_t flow, steady::time_point t) const;

  struct user_stats {
    std::size_t logins = 0;
    std::size_t server_closed = 0;  // connections ended by the server
    std::size_t live = 0;           // messages received live
    std::size_t stored = 0;         // received stored
    // Per kill: the time from the kill to the first LOGIN asked after the last errno 3 answer
    // (or after the connection died), for users whose connection died at the kill.
    std::vector<millis> back_after_kill{};
    steady::time_point last_errno3_ask{};
    // Arrivals of GOING_AWAY (ERROR_MSG errno 14, no req): a draining node moving this user.
    std::vector<steady::time_point> going_away{};
  };
  const user_stats& stats(std::size_t user) const;

  // Per flow and recipient: the message numbers (within the flow) received live and stored,
  // in arrival order.
  std::vector<int> received(std::size_t flow, std::size_t recipient, bool stored) const;

  // The end of a run: stops sending, waits for every answer (up to `answer_limit`), brings
  // every user online, logs every user out and in again (stored messages arrive), then every
  // user sends one message to the next and PINGs: both must be answered and the messages
  // delivered live. Then checks the ledger.
  load_report finish(millis answer_limit = 20s);

  const std::vector<load_flow>& flows() const { return flows_; }

 private:
  enum class state { offline, login_sent, login_wait, stored, online, logout_sent };
  struct conn_life {
    std::uint64_t gen = 0;
    steady::time_point began{};
    steady::time_point ended = steady::time_point::max();
    bool by_server = false;
  };
  struct slot {
    load_user u;
    std::optional<client> c{};
    state st = state::offline;
    bool wanted = true;
    bool reading = true;
    bool relogin = false;  // finish(): LOGINOUT then LOGIN again
    bool relogged = false;
    std::size_t port_idx = 0;
    std::uint64_t gen = 0;  // current connection, 0 = none
    steady::time_point next_try{};
    steady::time_point login_sent_at{};
    steady::time_point last_send{};
    std::size_t stored_left = 0;
    std::vector<std::uint64_t> pending{};  // message numbers awaiting an answer here
    std::map<std::size_t, int> last_live{};    // flow -> last message number live on this connection
    std::map<std::size_t, int> last_stored{};  // flow -> last number in this login's stored batch
    std::size_t first_logins = 0;
    user_stats stats{};
    steady::time_point died_at{};
    bool died_at_kill = false;
    std::size_t kill_index = 0;
  };
  struct message {
    std::size_t flow = 0;  // flows_.size() for the final round trip
    int k = 0;             // number within the flow
    std::size_t sender = 0;
    std::vector<std::size_t> rcpt{};
    std::vector<std::uint64_t> rcpt_gen{};  // recipient's connection when sent (0 = none)
    std::vector<int> live{};    // per recipient: deliveries without "offline"
    std::vector<int> stored{};  // with "offline":true
    std::vector<std::vector<std::int64_t>> times{};       // per recipient: delivered `time`s
    std::vector<std::vector<std::size_t>> live_seq{};    // per recipient: arrival numbers
    std::vector<std::vector<std::size_t>> stored_seq{};
    enum class status { pending, acked, refused, unanswered } st = status::pending;
    std::int64_t ack_time = 0;
    steady::time_point sent_at{};
  };

  std::string text(std::uint64_t m) const;
  void connect(std::size_t u);
  void send_login(std::size_t u);
  bool send_frame(std::size_t u, const json::object& obj);
  void send_chat(std::size_t flow, std::size_t sender, std::int64_t to, std::int64_t groupid,
                 std::vector<std::size_t> rcpt, std::size_t body);
  void died(std::size_t u, bool by_server);
  void handle(std::size_t u, const json::object& f);
  void on_answer(std::size_t u, const json::object& f);
  void on_login_ack(std::size_t u, const json::object& f);
  void on_delivery(std::size_t u, const json::object& f);
  void problem(std::size_t u, const std::string& what, const json::object& f);
  steady::time_point kill_before(steady::time_point t, std::size_t* index) const;

  std::vector<slot> slots_;
  std::vector<load_flow> flows_;
  std::vector<std::size_t> flow_next_{};
  std::vector<steady::time_point> flow_last_{};
  std::vector<std::size_t> flow_pending_{};
  load_options opt_;
  std::string tag_;
  steady::time_point created_ = steady::now();
  std::vector<message> messages_{};
  std::vector<conn_life> lives_{};  // by generation - 1
  std::vector<std::string> problems_{};
  bool sending_ = true;
  unsigned seq_ = 0;
  mutable std::mutex kill_mutex_;
  std::vector<steady::time_point> kills_{};
  std::set<std::size_t> rt_pongs_{};  // finish(): users whose round-trip PING was answered
  std::size_t arrivals_ = 0;
  std::size_t out_of_order_ = 0;
};

}  // namespace chat_test
