// The bookkeeping of a bounded connection pool, free of I/O: which connections are idle, how many
// are handed out or being opened, and who waits for one. basic_pool drives it; tests drive it
// with a fake connection type and a fake clock.
#pragma once

#include <chat/storage/error.hpp>
#include <chat/storage/pool_params.hpp>

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

namespace chat::storage::detail {

// Every function is thread-safe. Handlers given to acquire() are called exactly once (unless
// acquire returned a grant at once), never under the internal lock, on the thread that caused
// the event (release, open_failed, expire or stop).
//
// Slot states: idle (a connection waits in the pool), in use (its holder owns the connection),
// pending (its holder is opening a connection). Their sum never exceeds max_size.
template <class Conn, class Clock = std::chrono::steady_clock>
class pool_core {
 public:
  using connection_ptr = std::unique_ptr<Conn>;
  using time_point = typename Clock::time_point;
  using duration = typename Clock::duration;

  // What a requester gets: exactly one of an idle connection, a reserved pending slot, or an
  // error.
  struct grant {
    connection_ptr conn;   // an idle connection, now in use by the holder
    duration idle_for{};   // how long conn sat idle
    bool open = false;     // a pending slot: open a connection, then call opened() or open_failed()
    boost::system::error_code ec;  // errc::unavailable: the wait timed out or the pool stopped
  };
  using grant_handler = std::function<void(grant)>;
  using ticket = std::uint64_t;  // identifies a queued request

  explicit pool_core(std::size_t max_size) : max_size_(max_size) {
    if (max_size == 0) throw std::invalid_argument("connection pool: max_size must be > 0");
  }
  pool_core(const pool_core&) = delete;
  pool_core& operator=(const pool_core&) = delete;

  // An idle connection (the most recently returned), else a pending slot while below max_size,
  // else queues on_grant (first in, first out) until `deadline` and returns its ticket.
  // After stop(): a grant with errc::unavailable.
  std::variant<grant, ticket> acquire(time_point now, time_point deadline, grant_handler on_grant) {
    std::lock_guard lock(mutex_);
    if (stopped_) return unavailable();
    if (!idle_.empty()) {
      idle_entry e = std::move(idle_.back());
      idle_.pop_back();
      ++in_use_;
      return grant{std::move(e.conn), now - e.since, false, {}};
    }
    if (total_locked() < max_size_) {
      ++pending_;
      return grant{nullptr, {}, true, {}};
    }
    waiters_.push_back(waiter{++last_ticket_, deadline, std::move(on_grant)});
    return waiters_.back().id;
  }

  // The holder of a pending slot opened its connection: the slot is now in use.
  void opened() {
    std::lock_guard lock(mutex_);
    --pending_;
    ++in_use_;
  }

  // The holder of a pending slot could not open a connection: the slot goes to the first
  // waiter (as a pending slot) or is freed.
  void open_failed() {
    std::unique_lock lock(mutex_);
    --pending_;
    free_slot(lock);
  }

  // The holder of an in-use slot dropped its connection and opens a new one in the same slot.
  void reopen() {
    std::lock_guard lock(mutex_);
    --in_use_;
    ++pending_;
  }

  // Returns a connection taken by acquire() or take_idle(). Healthy: it goes to the first
  // waiter, or becomes idle. Broken (or after stop()): it is destroyed, outside the lock, and
  // its slot goes to the first waiter or is freed.
  void release(connection_ptr conn, bool healthy, time_point now) {
    std::unique_lock lock(mutex_);
    --in_use_;
    if (!healthy || stopped_) {
      free_slot(lock);
      return;  // conn is destroyed here, after free_slot() released the lock
    }
    if (waiters_.empty()) {
      idle_.push_back(idle_entry{std::move(conn), now});
      return;
    }
    waiter w = pop_waiter();
    ++in_use_;
    lock.unlock();
    w.on_grant(grant{std::move(conn), {}, false, {}});
  }

  // Fails every waiter whose deadline is not after `now` with errc::unavailable; returns how
  // many.
  std::size_t expire(time_point now) {
    std::vector<waiter> expired;
    {
      std::lock_guard lock(mutex_);
      auto keep = std::stable_partition(waiters_.begin(), waiters_.end(),
                                        [now](const waiter& w) { return w.deadline > now; });
      std::move(keep, waiters_.end(), std::back_inserter(expired));
      waiters_.erase(keep, waiters_.end());
    }
    for (auto& w : expired) w.on_grant(unavailable());
    return expired.size();
  }

  // The earliest deadline of a waiter, if any waits.
  std::optional<time_point> next_deadline() const {
    std::lock_guard lock(mutex_);
    if (waiters_.empty()) return std::nullopt;
    auto it = std::min_element(waiters_.begin(), waiters_.end(), [](const waiter& a, const waiter& b) {
      return a.deadline < b.deadline;
    });
    return it->deadline;
  }

  // Health check: checks out (in use) the idle connections returned at or before `cutoff`.
  // Give each back with release().
  std::vector<connection_ptr> take_idle(time_point cutoff) {
    std::vector<connection_ptr> taken;
    std::lock_guard lock(mutex_);
    auto fresh = std::stable_partition(idle_.begin(), idle_.end(),
                                       [cutoff](const idle_entry& e) { return e.since > cutoff; });
    for (auto it = fresh; it != idle_.end(); ++it) taken.push_back(std::move(it->conn));
    idle_.erase(fresh, idle_.end());
    in_use_ += taken.size();
    return taken;
  }

  // Idempotent. Fails every waiter with errc::unavailable, makes later acquires fail, and
  // returns the idle connections so that the caller closes them where it wants. Connections in
  // use are destroyed when released.
  std::vector<connection_ptr> stop() {
    std::deque<waiter> waiters;
    std::vector<connection_ptr> idle;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      waiters.swap(waiters_);
      for (auto& e : idle_) idle.push_back(std::move(e.conn));
      idle_.clear();
    }
    for (auto& w : waiters) w.on_grant(unavailable());
    return idle;
  }

  bool stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

  pool_stats stats() const {
    std::lock_guard lock(mutex_);
    return pool_stats{idle_.size(), in_use_, pending_, total_locked(), waiters_.size()};
  }

  std::size_t max_size() const noexcept { return max_size_; }

 private:
  struct idle_entry {
    connection_ptr conn;
    time_point since;
  };
  struct waiter {
    ticket id;
    time_point deadline;
    grant_handler on_grant;
  };

  static grant unavailable() { return grant{nullptr, {}, false, make_error_code(errc::unavailable)}; }

  std::size_t total_locked() const noexcept { return idle_.size() + in_use_ + pending_; }

  waiter pop_waiter() {
    waiter w = std::move(waiters_.front());
    waiters_.pop_front();
    return w;
  }

  // A slot became free: hand it to the first waiter as a pending slot. Unlocks `lock`.
  void free_slot(std::unique_lock<std::mutex>& lock) {
    if (waiters_.empty() || stopped_) {
      lock.unlock();
      return;
    }
    waiter w = pop_waiter();
    ++pending_;
    lock.unlock();
    w.on_grant(grant{nullptr, {}, true, {}});
  }

  const std::size_t max_size_;
  mutable std::mutex mutex_;
  std::vector<idle_entry> idle_;
  std::size_t in_use_ = 0;
  std::size_t pending_ = 0;
  std::deque<waiter> waiters_;
  ticket last_ticket_ = 0;
  bool stopped_ = false;
};

}  // namespace chat::storage::detail
