// Shards and their pool.
#include "shard.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <cstdio>

namespace chat::bench {

shard::shard(std::size_t index, std::chrono::milliseconds timeout, std::size_t payload)
    : index_(index), timeout_(timeout), payload_(payload) {
  gate_.expires_at(clock::time_point::max());  // set once: re-arming it would cancel the waiters
}

std::string& shard::scratch() noexcept {
  scratch_.clear();
  return scratch_;
}

void shard::note(std::string_view what) {
  if (notes_left_ <= 0) {
    return;
  }
  std::fprintf(stderr, "chat_bench: %.*s\n", static_cast<int>(what.size()), what.data());
  if (--notes_left_ == 0) {
    std::fprintf(stderr, "chat_bench: (further diagnostics of thread %zu are not shown)\n", index_);
  }
}

void shard::spawn(awaitable<void> task) {
  asio::co_spawn(io_, std::move(task), [this](std::exception_ptr e) { count_failure(e); });
}

void shard::count_failure(std::exception_ptr e) {
  if (!e) {
    return;
  }
  ++stats_.errors.internal;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    note(std::string("internal error: ") + ex.what());
  } catch (...) {
    note("internal error");
  }
}

awaitable<void> shard::wait_open() {
  while (!opened_) {
    co_await gate_.async_wait(use_nothrow);
  }
}

void shard::open(const run_window& w) {
  asio::post(io_, [this, w] {
    window_ = w;
    opened_ = true;
    gate_.cancel();
  });
}

void shard::start() {
  io_.restart();
  thread_ = std::thread([this] { io_.run(); });
}

void shard::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

shard_pool::shard_pool(int threads, std::chrono::milliseconds timeout, std::size_t payload) {
  for (int i = 0; i < threads; ++i) {
    shards_.push_back(std::make_unique<shard>(static_cast<std::size_t>(i), timeout, payload));
  }
}

void shard_pool::start() {
  for (auto& s : shards_) {
    s->start();
  }
}

void shard_pool::join() {
  for (auto& s : shards_) {
    s->join();
  }
}

void shard_pool::open(const run_window& w) {
  for (auto& s : shards_) {
    s->open(w);
  }
}

run_stats shard_pool::merged_stats() const {
  run_stats all;
  for (const auto& s : shards_) {
    all.merge(s->stats());
  }
  return all;
}

}  // namespace chat::bench
