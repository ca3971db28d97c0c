// redis_client: the pipelined command connection (FIFO reply matching, per-command deadlines,
// idle PING) on top of redis_connection.
#include <chat/broker/redis_client.hpp>

#include "redis_connection.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <exception>
#include <string_view>
#include <utility>

namespace chat::broker {

using boost::system::result;

namespace detail {

// The awaiting caller, type-erased: one allocation per command.
class command_completion {
 public:
  virtual ~command_completion() = default;
  // Posts the caller's continuation to its own executor (never runs it inline); call once.
  virtual void complete(result<resp_value> r) = 0;
};

template <class Handler>
class command_completion_impl final : public command_completion {
 public:
  command_completion_impl(Handler handler, const asio::any_io_executor& fallback)
      : handler_(std::move(handler)), work_(asio::get_associated_executor(handler_, fallback)) {}

  void complete(result<resp_value> r) override {
    auto ex = work_.get_executor();
    asio::post(ex, [h = std::move(handler_), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
    work_.reset();
  }

 private:
  Handler handler_;
  asio::executor_work_guard<asio::associated_executor_t<Handler, asio::any_io_executor>> work_;
};

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
  });
}

// Commands after which Redis no longer sends exactly one reply per request (or changes the
// protocol or the login under our feet).
bool allowed(const std::vector<std::string>& args) {
  if (args.empty())
    return false;
  static constexpr std::string_view forbidden[] = {"SUBSCRIBE",  "UNSUBSCRIBE",  "PSUBSCRIBE", "PUNSUBSCRIBE",
                                                   "SSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",    "HELLO",
                                                   "RESET",      "QUIT",         "SYNC",       "PSYNC"};
  for (auto f : forbidden) {
    if (iequals(args[0], f))
      return false;
  }
  return !(args.size() >= 2 && iequals(args[0], "CLIENT") && iequals(args[1], "REPLY"));
}

}  // namespace

class command_connection final : public redis_connection {
 public:
  command_connection(const asio::any_io_executor& ex, redis_config cfg)
      : redis_connection(ex, std::move(cfg), "commands"), fallback_(ex) {}

  void set_state_handler(redis_client::state_handler h) { on_state_ = std::move(h); }
  bool connected() const noexcept { return up_.load(std::memory_order_acquire); }
  const asio::any_io_executor& fallback() const noexcept { return fallback_; }

  // Any thread.
  void submit(std::vector<std::string> args, std::unique_ptr<command_completion> done) {
    if (!allowed(args)) {
      done->complete(make_error_code(errc::invalid_command));
      return;
    }
    auto self = std::static_pointer_cast<command_connection>(shared_from_this());
    asio::post(strand(), [self = std::move(self), args = std::move(args), done = std::move(done)]() mutable {
      self->enqueue(args, std::move(done));
    });
  }

 private:
  struct entry {
    std::unique_ptr<command_completion> done;  // null: a health-check PING, or a caller that timed out
    clock::time_point deadline;                // queue order, hence never decreasing
  };

  void enqueue(const std::vector<std::string>& args, std::unique_ptr<command_completion> done) {
    if (state() != link::up && state() != link::connecting) {
      done->complete(make_error_code(errc::unavailable));
      return;
    }
    append_command(out(), args);
    flush();
    pending_.push_back(entry{std::move(done), clock::now() + config().command_timeout});
    if (pending_.size() == 1)
      reschedule();
  }

  // The owner's handler is not allowed to end our coroutines by throwing.
  void notify(bool up) {
    if (!on_state_)
      return;
    try {
      on_state_(up);
    } catch (const std::exception& e) {
      log().error("{}: the state handler threw: {}", name(), e.what());
    }
  }

  void fail_all() {
    const auto ec = make_error_code(errc::unavailable);
    for (auto& e : pending_) {
      if (e.done)
        e.done->complete(ec);
    }
    pending_.clear();
  }

  void on_connected() override {
    session_start_ = clock::now();
    up_.store(true, std::memory_order_release);
    reschedule();
    notify(true);
  }

  void on_value(resp_value&& v) override {
    if (pending_.empty()) {
      log().error("{}: a reply nobody asked for: {}; dropping the connection", name(), to_string(v));
      drop(make_error_code(errc::protocol_error));
      return;
    }
    auto done = std::move(pending_.front().done);
    pending_.pop_front();
    if (done)
      done->complete(std::move(v));
  }

  void on_down(boost::system::error_code) override {
    fail_all();
    if (up_.exchange(false, std::memory_order_acq_rel))
      notify(false);
  }

  void on_stopped() override {
    fail_all();
    up_.store(false, std::memory_order_release);
  }

  clock::time_point on_timer(clock::time_point now) override {
    const auto timeout = config().command_timeout;
    // Replies already here answer first: a command whose reply arrived is not timed out (a
    // routed message would be stored as well as delivered). The reader runs before this wakes.
    if (unread_bytes())
      return now + std::chrono::milliseconds(5);
    // Callers whose time is up get errc::timeout; their entries stay, so that the replies
    // still to come are matched to the right requests.
    auto next = clock::time_point::max();
    for (auto& e : pending_) {
      if (e.deadline > now) {
        next = e.deadline;
        break;
      }
      if (e.done) {
        e.done->complete(make_error_code(errc::timeout));
        e.done.reset();
      }
    }
    if (state() != link::up)
      return next;

    if (!pending_.empty()) {
      // The oldest request has waited too long on this connection: it is dead or hopelessly
      // slow. Requests queued while connecting count from the moment it came up.
      const auto due = std::max(pending_.front().deadline, session_start_ + timeout);
      if (now >= due) {
        log().warn("{}: no reply within {} ms; dropping the connection", name(), timeout.count());
        drop(make_error_code(errc::timeout));
        return clock::time_point::max();  // on_down() empties the queue
      }
      return std::min(next, due);
    }

    const auto interval = config().health_check_interval;
    if (interval.count() <= 0)
      return next;
    const auto idle_since = std::max(last_read(), last_ping_);
    if (now - idle_since < interval)
      return idle_since + interval;
    append_command(out(), {"PING"});
    flush();
    last_ping_ = now;
    pending_.push_back(entry{nullptr, now + timeout});
    return now + timeout;
  }

  const asio::any_io_executor fallback_;  // for completion handlers without an executor
  redis_client::state_handler on_state_;
  std::deque<entry> pending_;  // one per request written or queued, in order
  clock::time_point session_start_{};
  clock::time_point last_ping_{};
  std::atomic<bool> up_{false};
};

}  // namespace detail

redis_client::redis_client(const asio::any_io_executor& ex, redis_config cfg)
    : conn_(std::make_shared<detail::command_connection>(ex, std::move(cfg))) {}

redis_client::~redis_client() {
  stop();
}

void redis_client::set_state_handler(state_handler handler) {
  conn_->set_state_handler(std::move(handler));
}

void redis_client::start() {
  conn_->start();
}

void redis_client::stop() {
  conn_->stop();
}

bool redis_client::connected() const noexcept {
  return conn_->connected();
}

awaitable<result<resp_value>> redis_client::command(std::vector<std::string> args) {
  // Not a coroutine: async_initiate defers the initiation to the co_await, and `conn` keeps
  // the connection alive until then.
  auto initiation = [conn = conn_](auto handler, std::vector<std::string> a) {
    using handler_type = decltype(handler);
    auto done = std::make_unique<detail::command_completion_impl<handler_type>>(std::move(handler), conn->fallback());
    conn->submit(std::move(a), std::move(done));
  };
  return asio::async_initiate<decltype(asio::use_awaitable), void(result<resp_value>)>(
      std::move(initiation), asio::use_awaitable, std::move(args));
}

}  // namespace chat::broker
