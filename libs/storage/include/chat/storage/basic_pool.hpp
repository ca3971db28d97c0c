// An asynchronous, bounded pool of blocking connections (libmysqlclient, or a fake in tests):
// every blocking call runs on the pool's own threads, never on the caller's; coroutines
// co_await the outcome and resume on their own executor.
#pragma once

#include <chat/asio/awaitable.hpp>
#include <chat/storage/detail/log.hpp>
#include <chat/storage/detail/pool_core.hpp>
#include <chat/storage/error.hpp>
#include <chat/metrics/metric.hpp>
#include <chat/storage/pool_params.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <utility>
#include <variant>

namespace chat::storage {
namespace detail {

// A type-erased, move-only completion handler that keeps its executor busy until it is posted.
class pool_completion {
 public:
  virtual ~pool_completion() = default;
  // Submits the handler to its associated executor (never runs it inline).
  virtual void post(boost::system::error_code ec) = 0;
};

template <class Handler, class Fallback>
class pool_completion_impl final : public pool_completion {
 public:
  pool_completion_impl(Handler handler, const Fallback& fallback)
      : handler_(std::move(handler)), work_(asio::get_associated_executor(handler_, fallback)) {}

  void post(boost::system::error_code ec) override {
    auto ex = work_.get_executor();
    asio::post(ex, [h = std::move(handler_), ec]() mutable { std::move(h)(ec); });
    work_.reset();
  }

 private:
  Handler handler_;
  asio::executor_work_guard<asio::associated_executor_t<Handler, Fallback>> work_;
};

}  // namespace detail

// Conn must provide, called only on the pool's threads and by one thread at a time:
//   bool ping();             // a round trip; false when the connection is dead
//   bool broken() const;     // true once an error made the connection unfit for reuse
//
// Thread safety: all public functions may be called from any thread, except the destructor,
// which must not run on one of the pool's own threads.
template <class Conn>
class basic_pool {
 public:
  using connection_type = Conn;
  // Opens a connection (blocking, on a pool thread); null on failure, which it logs.
  using connect_fn = std::function<std::unique_ptr<Conn>()>;
  // The work of one request (blocking, on a pool thread). An error it returns is passed on;
  // if it throws, the request fails with errc::unavailable and the connection is dropped.
  using work_fn = std::function<boost::system::error_code(Conn&)>;

  // Starts max_size + 1 threads and, if params.ping_interval > 0, the health check. Opens no
  // connection until one is needed.
  basic_pool(const pool_params& params, connect_fn connect)
      : core_(params.max_size),
        connect_(std::move(connect)),
        query_timeout_(params.query_timeout),
        ping_interval_(params.ping_interval),
        ping_on_checkout_after_(params.ping_on_checkout_after),
        // One thread per connection, plus one so that the timers (wait deadlines, health check)
        // fire on time while every connection blocks in a call.
        threads_(params.max_size + 1),
        strand_(asio::make_strand(threads_.get_executor())),
        wait_timer_(strand_),
        ping_timer_(strand_) {
    if (ping_interval_.count() > 0) asio::post(strand_, [this] { arm_ping(); });
  }

  // stop(), then waits until requests in flight have finished (bounded by the timeouts).
  ~basic_pool() {
    stop();
    threads_.join();
  }

  basic_pool(const basic_pool&) = delete;
  basic_pool& operator=(const basic_pool&) = delete;

  // Runs `work` on a pool thread with a connection: an idle one (pinged first if it sat idle
  // for ping_on_checkout_after), or a new one while fewer than max_size exist, or the next one
  // returned, waiting at most query_timeout. Completes with void(error_code) on the
  // completion handler's associated executor: the error `work` returned, or errc::unavailable
  // (no connection within query_timeout, connect failure, pool stopped). A connection that is
  // broken() after `work` is closed and its slot reused. Never completes inline; a handler
  // without an associated executor completes on a pool thread. Not cancellable: it completes
  // within the bounds above. What `work` refers to must live until completion (the locals of
  // the awaiting coroutine do). The connection is lent to `work` only, never to the caller, so
  // no blocking call can run on the caller's thread.
  template <class CompletionToken>
  auto async_run(work_fn work, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
        [this](auto handler, work_fn w) {
          using handler_type = decltype(handler);
          using fallback = asio::thread_pool::executor_type;
          start(std::move(w), std::make_unique<detail::pool_completion_impl<handler_type, fallback>>(
                                  std::move(handler), threads_.get_executor()));
        },
        token, std::move(work));
  }

  // Idempotent. Fails waiting requests and every later one with errc::unavailable, closes idle
  // connections (on the pool threads), ends the health check. Requests already running finish.
  void stop() {
    if (core_.stopped()) return;
    auto idle = core_.stop();
    asio::post(threads_, [conns = std::move(idle)]() mutable { conns.clear(); });
    asio::post(strand_, [this] {
      wait_timer_.cancel();
      ping_timer_.cancel();
    });
  }

  pool_stats stats() const { return core_.stats(); }

  // Instruments for /metrics (null: not measured): the wait for a connection, and requests
  // that failed (no connection, connect failure, a failing query). Call before the first request.
  void set_metrics(metrics::histogram* wait_seconds, metrics::counter* errors) {
    wait_seconds_ = wait_seconds;
    errors_ = errors;
  }

 private:
  using clock = std::chrono::steady_clock;
  using core_type = detail::pool_core<Conn, clock>;
  using grant = typename core_type::grant;

  struct run_op {
    work_fn work;
    std::unique_ptr<detail::pool_completion> done;
    clock::time_point asked;
  };

  void start(work_fn work, std::unique_ptr<detail::pool_completion> done) {
    const auto now = clock::now();
    auto op = std::make_shared<run_op>(run_op{std::move(work), std::move(done), now});
    auto r = core_.acquire(now, now + query_timeout_, [this, op](grant g) { on_grant(op, std::move(g)); });
    if (auto* g = std::get_if<grant>(&r)) {
      on_grant(std::move(op), std::move(*g));
    } else {
      asio::post(strand_, [this] { arm_wait_timer(); });
    }
  }

  void complete(run_op& op, boost::system::error_code ec) {
    if (ec && ec != make_error_code(errc::duplicate)) metrics::inc(errors_);  // a taken name is an answer
    op.done->post(ec);
  }

  void on_grant(std::shared_ptr<run_op> op, grant g) {
    metrics::observe(wait_seconds_, std::chrono::duration<double>(clock::now() - op->asked).count());
    if (g.ec) {
      complete(*op, g.ec);
      return;
    }
    asio::post(threads_, [this, op = std::move(op), g = std::move(g)]() mutable {
      run_blocking(*op, std::move(g));
    });
  }

  // On a pool thread.
  void run_blocking(run_op& op, grant g) {
    std::unique_ptr<Conn> conn = std::move(g.conn);
    if (conn && g.idle_for >= ping_on_checkout_after_ && !ping(*conn)) {
      detail::db_log()->info("dropping a stale connection (idle {} ms) and opening a new one",
                             std::chrono::duration_cast<std::chrono::milliseconds>(g.idle_for).count());
      conn.reset();
      core_.reopen();
    }
    if (!conn) {
      if (!core_.stopped()) conn = open();
      if (!conn) {
        core_.open_failed();
        complete(op, make_error_code(errc::unavailable));
        return;
      }
      core_.opened();
    }
    boost::system::error_code ec;
    bool healthy = false;
    try {
      ec = op.work(*conn);
      healthy = !conn->broken();
    } catch (const std::exception& e) {
      detail::db_log()->error("request failed with an exception: {}", e.what());
      ec = make_error_code(errc::unavailable);
    }
    core_.release(std::move(conn), healthy, clock::now());
    complete(op, ec);
  }

  std::unique_ptr<Conn> open() {
    try {
      return connect_();
    } catch (const std::exception& e) {
      detail::db_log()->error("opening a connection failed with an exception: {}", e.what());
      return nullptr;
    }
  }

  static bool ping(Conn& conn) {
    try {
      return conn.ping();
    } catch (const std::exception&) {
      return false;
    }
  }

  // On the strand: one timer wakes up at the earliest waiter's deadline.
  void arm_wait_timer() {
    if (core_.stopped()) return;
    const auto next = core_.next_deadline();
    if (!next || (wait_armed_ && wait_timer_.expiry() <= *next)) return;
    wait_armed_ = true;
    wait_timer_.expires_at(*next);  // a wait already pending completes with operation_aborted
    wait_timer_.async_wait(asio::bind_executor(strand_, [this](boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      wait_armed_ = false;
      if (const auto n = core_.expire(clock::now()); n > 0) {
        const auto s = core_.stats();
        detail::db_log()->warn("{} request(s) got no connection within {} ms (in use {}/{}, opening {})", n,
                               query_timeout_.count(), s.in_use, core_.max_size(), s.pending);
      }
      arm_wait_timer();
    }));
  }

  // On the strand: every ping_interval, ping the connections idle for at least about that long.
  void arm_ping() {
    if (core_.stopped()) return;
    ping_timer_.expires_after(ping_interval_);
    ping_timer_.async_wait(asio::bind_executor(strand_, [this](boost::system::error_code ec) {
      if (ec || core_.stopped()) return;
      for (auto& conn : core_.take_idle(clock::now() - ping_interval_ / 2)) {
        asio::post(threads_, [this, c = std::move(conn)]() mutable {
          const bool alive = ping(*c);
          if (!alive) detail::db_log()->warn("health check: dropping a dead idle connection");
          core_.release(std::move(c), alive, clock::now());
        });
      }
      arm_ping();
    }));
  }

  // core_ outlives threads_: the threads are joined before anything else is destroyed.
  core_type core_;
  const connect_fn connect_;
  const std::chrono::milliseconds query_timeout_;
  const std::chrono::milliseconds ping_interval_;
  const std::chrono::milliseconds ping_on_checkout_after_;
  asio::thread_pool threads_;  // the only threads that touch a connection
  asio::strand<asio::thread_pool::executor_type> strand_;
  asio::steady_timer wait_timer_;  // on strand_
  metrics::histogram* wait_seconds_ = nullptr;
  metrics::counter* errors_ = nullptr;
  asio::steady_timer ping_timer_;  // on strand_
  bool wait_armed_ = false;        // on strand_
};

}  // namespace chat::storage
