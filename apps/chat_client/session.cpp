// The reconnecting session: connect loop with back-off, cid-matched requests, ready gate.
#include "session.hpp"

#include "frame_fields.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>

namespace chat::client {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// A connection that lasted this long resets the back-off to its first delay.
constexpr auto stable_connection = 10s;

}  // namespace

session::session(asio::any_io_executor ex, session_options opts, console& out, hooks h)
    : ex_(std::move(ex)), opts_(std::move(opts)), out_(out), hooks_(std::move(h)), rng_(std::random_device{}()) {}

std::string session::where() const {
  return opts_.host + ":" + opts_.port;
}

void session::start() {
  if (started_) {
    return;
  }
  started_ = true;
  asio::co_spawn(
      ex_, [this] { return run(); },
      [](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            std::fprintf(stderr, "chat_client: session failed: %s\n", ex.what());
          }
        }
      });
}

void session::stop() {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  ready_ = false;
  if (conn_) {
    conn_->close("stopped");
  }
  fail_pending();
  ready_waiters_.notify_all();
  closed_waiters_.notify_all();
  sleepers_.notify_all();
}

std::chrono::milliseconds session::jittered(std::chrono::milliseconds d) {
  // +-20 %, so that many clients of a restarted node do not all come back at once.
  std::uniform_real_distribution<double> f(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(d.count()) * f(rng_)));
}

awaitable<void> session::sleep(std::chrono::milliseconds d) {
  const auto deadline = clock::now() + d;
  while (!stopping_ && clock::now() < deadline) {
    co_await sleepers_.wait(deadline);
  }
}

awaitable<void> session::run() {
  auto delay = opts_.reconnect_min;
  bool ever_connected = false;
  while (!stopping_) {
    auto conn = std::make_shared<connection>(ex_, opts_.ping_interval, opts_.tls.get());
    conn_ = conn;
    std::string host = opts_.host;
    std::string port = opts_.port;
    const auto ec = co_await conn->connect(std::move(host), std::move(port), opts_.connect_timeout);
    if (stopping_) {
      break;
    }
    if (ec) {
      conn_.reset();
      const std::string why =
          "cannot connect to " + where() + ": " +
          (ec == asio::error::timed_out ? "no answer within " + seconds_text(opts_.connect_timeout) : conn->failure());
      if (!ever_connected && opts_.first_connect_fatal) {
        hooks_.on_fatal(why);
        co_return;
      }
      const auto d = jittered(delay);
      out_.status("* " + why + "; retrying in " + seconds_text(d));
      co_await sleep(d);
      delay = std::min(delay * 2, opts_.reconnect_max);
      continue;
    }

    ever_connected = true;
    ++generation_;
    close_reason_.clear();
    conn_closed_ = false;
    const auto since = clock::now();
    conn->start([this](json::object&& f) { on_frame(std::move(f)); },
                [this, gen = generation_](const std::string& reason) {
                  if (gen == generation_) {
                    conn_closed_ = true;
                  }
                  on_closed(reason);
                });
    const auto tls = conn->tls_version();
    out_.status("* connected to " + where() + (tls.empty() ? "" : " (" + tls + ")"));
    if (hooks_.on_connected) {
      hooks_.on_connected();
    }
    while (!conn_closed_ && !stopping_) {
      co_await closed_waiters_.wait(clock::time_point::max());
    }
    conn_.reset();
    if (stopping_) {
      break;
    }
    if (hooks_.on_lost) {
      hooks_.on_lost(close_reason_);
    }
    if (!opts_.reconnect) {
      hooks_.on_fatal("connection lost: " + close_reason_);
      co_return;
    }
    if (clock::now() - since >= stable_connection) {
      delay = opts_.reconnect_min;
    }
    const auto d = jittered(delay);
    out_.status("* connection lost: " + close_reason_ + "; reconnecting in " + seconds_text(d));
    co_await sleep(d);
    delay = std::min(delay * 2, opts_.reconnect_max);
  }
}

void session::on_closed(const std::string& reason) {
  close_reason_ = reason;
  ready_ = false;
  fail_pending();
  closed_waiters_.notify_all();
}

void session::fail_pending() {
  auto all = std::move(pending_);
  pending_.clear();
  for (auto& [cid, p] : all) {
    p->lost = true;
    p->timer.cancel();
  }
}

void session::on_frame(json::object&& frame) {
  if (out_.json_mode()) {
    out_.frame(json::serialize(frame));
  }
  const auto msgid = int_field(frame, "msgid").value_or(0);
  const bool going_away = msgid == 17 && errno_of(frame) == 14;
  if (auto cid = int_field(frame, "cid")) {
    if (auto it = pending_.find(*cid); it != pending_.end()) {
      auto p = it->second;
      pending_.erase(it);
      p->answer = frame;
      if (p->on_answer) {
        p->on_answer(*p->answer);
      }
      p->timer.cancel();
      if (going_away && conn_) {
        conn_->close("the server is closing the connection: " + std::string(string_field(frame, "errmsg")));
      }
      return;
    }
  }
  if (going_away) {
    if (conn_) {
      conn_->close("the server is closing the connection: " + std::string(string_field(frame, "errmsg")));
    }
    return;
  }
  if (msgid == 16) {
    return;  // PONG of a keep-alive PING
  }
  if (frame.contains("cid")) {
    return;  // the late answer of a request that timed out
  }
  if (hooks_.on_push) {
    hooks_.on_push(frame);
  }
}

void session::set_ready(bool ready) {
  ready_ = ready && connected();
  if (ready_) {
    ready_waiters_.notify_all();
  }
}

awaitable<session::result> session::request(json::object req, answer_handler on_answer, bool bypass_gate) {
  result r;
  const auto deadline = clock::now() + opts_.request_timeout;
  if (!bypass_gate) {
    while (!stopping_ && !ready_ && clock::now() < deadline) {
      co_await ready_waiters_.wait(deadline);
    }
  }
  if (stopping_) {
    r.st = status::stopped;
    co_return r;
  }
  if (!connected() || (!bypass_gate && !ready_)) {
    r.st = status::unavailable;
    co_return r;
  }
  const std::int64_t cid = ++next_cid_;
  req["cid"] = cid;
  if (!conn_->send(req)) {
    r.st = status::too_large;
    co_return r;
  }
  auto p = std::make_shared<pending>(ex_);
  p->on_answer = std::move(on_answer);
  pending_.emplace(cid, p);
  p->timer.expires_at(clock::now() + opts_.request_timeout);
  co_await p->timer.async_wait(use_nothrow);
  pending_.erase(cid);
  if (p->answer) {
    r.st = status::answered;
    r.frame = std::move(*p->answer);
  } else if (stopping_) {
    r.st = status::stopped;
  } else if (p->lost) {
    r.st = status::lost;
  } else {
    r.st = status::timeout;
  }
  co_return r;
}

}  // namespace chat::client
