// Shards: the bench's threads. Each shard is one io_context on its own thread with what its
// connections share (statistics, JSON parser, a scratch buffer, the measurement window), so
// nothing on the hot path is locked; a unit of work (a pair, a group) lives on one shard.
#pragma once

#include "frame_parser.hpp"
#include "messages.hpp"
#include "stats.hpp"

#include <chat/asio/awaitable.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <latch>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace chat::bench {

// The phases of a timed run. Until the gate opens every point is in the far future.
struct run_window {
  clock::time_point open = clock::time_point::max();       // traffic starts (warm-up)
  clock::time_point begin = clock::time_point::max();      // measuring starts
  clock::time_point end = clock::time_point::max();        // no new traffic from here
  clock::time_point drain_end = clock::time_point::max();  // what has not arrived by now is lost

  bool measuring(clock::time_point t) const noexcept { return t >= begin && t < end; }
};

class shard {
 public:
  shard(std::size_t index, std::chrono::milliseconds timeout, std::size_t payload);
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  // While the shard runs, everything but open() and join() belongs to its thread; the main
  // thread uses the rest before start() and after join().
  asio::io_context& io() noexcept { return io_; }
  run_stats& stats() noexcept { return stats_; }
  frame_parser& parser() noexcept { return parser_; }
  const run_window& window() const noexcept { return window_; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  std::size_t payload() const noexcept { return payload_; }

  // An empty buffer for building one request (reused: no allocation per message).
  std::string& scratch() noexcept;

  // Prints the first few diagnostics of this shard on stderr (errors are counted anyway).
  void note(std::string_view what);

  // Runs `task` on this shard (call before start(), or from the shard's thread). The caller
  // keeps what the task uses alive until join(). An exception escaping it goes to
  // count_failure().
  void spawn(awaitable<void> task);

  // The completion of a coroutine of this shard: an exception is a bench fault, counted as an
  // internal error and shown.
  void count_failure(std::exception_ptr e);

  // Resumes once open() has run on this shard, at once if it already has.
  awaitable<void> wait_open();

  // Any thread: publishes `w` on this shard and wakes the units waiting in wait_open().
  void open(const run_window& w);

  // Runs the io_context on a new thread until it runs out of work; join() waits for that.
  void start();
  void join();

 private:
  std::size_t index_;
  std::chrono::milliseconds timeout_;
  std::size_t payload_;
  asio::io_context io_{1};
  asio::steady_timer gate_{io_};
  bool opened_ = false;
  run_window window_;
  run_stats stats_;
  frame_parser parser_;
  std::string scratch_;
  int notes_left_ = 10;
  std::thread thread_;
};

class shard_pool {
 public:
  shard_pool(int threads, std::chrono::milliseconds timeout, std::size_t payload);

  std::size_t size() const noexcept { return shards_.size(); }
  // Round robin: unit i goes to shard i % size().
  shard& operator[](std::size_t i) noexcept { return *shards_[i % shards_.size()]; }

  void start();
  void join();
  void open(const run_window& w);

  // Only after join().
  run_stats merged_stats() const;

 private:
  std::vector<std::unique_ptr<shard>> shards_;
};

// Lets the orchestrating thread wait until every unit has finished connecting and logging
// in, successfully or not.
class readiness {
 public:
  explicit readiness(std::size_t units) : latch_(static_cast<std::ptrdiff_t>(units)) {}
  void wait() { latch_.wait(); }

 private:
  friend class arrival;
  std::latch latch_;
};

// A unit's place in `readiness`: arrive() once set-up ends; the destructor arrives for a unit
// that ended early (an exception), so the orchestrator never waits for it forever.
class arrival {
 public:
  explicit arrival(readiness& r) noexcept : readiness_(&r) {}
  arrival(const arrival&) = delete;
  arrival& operator=(const arrival&) = delete;
  ~arrival() { arrive(); }

  void arrive() noexcept {
    if (readiness_ != nullptr) {
      readiness_->latch_.count_down();
      readiness_ = nullptr;
    }
  }

 private:
  readiness* readiness_;
};

}  // namespace chat::bench
