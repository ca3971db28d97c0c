// The closed-loop pair.
#include "chat_pair.hpp"

#include "address.hpp"
#include "handshake.hpp"
#include "messages.hpp"

#include <algorithm>

namespace chat::bench {

chat_pair::chat_pair(shard& home, readiness& ready, pair_settings settings)
    : home_(home), ready_(ready), settings_(std::move(settings)), wake_(home.io()) {
  a_.conn = std::make_shared<client>(home_, *this);
  a_.id = settings_.user_a;
  b_.conn = std::make_shared<client>(home_, *this);
  b_.id = settings_.user_b;
}

std::vector<pair_settings> plan_pairs(const common_options& opt, const bench_state& state, std::size_t pairs) {
  if (!opt.raw && state.users.size() < 2 * pairs) {
    throw usage_error(std::to_string(pairs) + " pairs need " + std::to_string(2 * pairs) + " users; " + opt.state_file +
                      " has " + std::to_string(state.users.size()));
  }
  const auto endpoints = resolve_all(opt.connect);
  std::vector<pair_settings> out(pairs);
  for (std::size_t i = 0; i < pairs; ++i) {
    auto& s = out[i];
    s.index = i;
    s.user_a = opt.raw ? static_cast<std::int64_t>(2 * i + 1) : state.users[2 * i].id;
    s.user_b = opt.raw ? static_cast<std::int64_t>(2 * i + 2) : state.users[2 * i + 1].id;
    s.endpoint_a = endpoint_for(endpoints, 0);
    s.endpoint_b = endpoint_for(endpoints, 1);
    s.raw = opt.raw;
    s.password = state.password;
  }
  return out;
}

awaitable<bool> open_pair_side(client& c, const pair_settings& settings, bool side_b) {
  const auto& endpoint = side_b ? settings.endpoint_b : settings.endpoint_a;
  if (settings.raw) {
    const std::string key = "pair:" + std::to_string(settings.index) + (side_b ? ":b" : ":a");
    co_return co_await connect_and_pair(c, endpoint, key);
  }
  co_return co_await connect_and_login(c, endpoint, side_b ? settings.user_b : settings.user_a, settings.password);
}

awaitable<void> chat_pair::run() {
  arrival arrived(ready_);
  bool ok = co_await open_pair_side(*a_.conn, settings_, false);
  if (ok) {
    ok = co_await open_pair_side(*b_.conn, settings_, true);
  }
  arrived.arrive();
  if (ok) {
    co_await home_.wait_open();
    for (int i = 0; i < settings_.window; ++i) {
      send(a_, b_);
      if (settings_.both_start) {
        send(b_, a_);
      }
    }
    const run_window& w = home_.window();
    wake_.expires_at(w.end);
    while (clock::now() < w.end && both_open()) {
      co_await wake_.async_wait(use_nothrow);
    }
    wake_.expires_at(w.drain_end);
    while (!drained() && both_open() && clock::now() < w.drain_end) {
      co_await wake_.async_wait(use_nothrow);
    }
    home_.stats().errors.count_arrivals(a_.sent, b_.received);
    home_.stats().errors.count_arrivals(b_.sent, a_.received);
  }
  if (ok && !settings_.raw) {
    co_await logout_and_close(*a_.conn);
    co_await logout_and_close(*b_.conn);
  }
  a_.conn->close();
  b_.conn->close();
}

void chat_pair::send(side& from, const side& to) {
  const auto now = clock::now();
  std::string& body = home_.scratch();
  append_one_chat(body, to.id, now, home_.payload());
  from.conn->send(body);
  ++from.sent;
  if (home_.window().measuring(now)) {
    ++home_.stats().sent;
  }
}

bool chat_pair::both_open() const noexcept {
  return a_.conn->is_open() && b_.conn->is_open();
}

bool chat_pair::drained() const noexcept {
  return a_.sent == b_.received && b_.sent == a_.received;
}

void chat_pair::on_frame(client& from, std::int64_t msgid, const boost::json::object& frame) {
  auto& stats = home_.stats();
  if (msgid != protocol::to_int(protocol::msgid::one_chat)) {
    ++stats.errors.unexpected;
    home_.note("pair: unexpected msgid " + std::to_string(msgid));
    return;
  }
  const auto now = clock::now();
  side& me = &from == a_.conn.get() ? a_ : b_;
  side& peer = &me == &a_ ? b_ : a_;
  ++me.received;

  const auto* to = frame.if_contains("to");
  const auto* msg = frame.if_contains("msg");
  const auto stamp = msg != nullptr && msg->is_string() ? parse_stamp(msg->get_string()) : std::nullopt;
  if (!stamp || to == nullptr || !to->is_int64() || to->get_int64() != me.id) {
    ++stats.errors.protocol;
    home_.note("pair: a ONE_CHAT_MSG without our time stamp or for someone else");
  } else {
    if (*stamp < me.last_stamp) {
      ++stats.errors.out_of_order;
    }
    me.last_stamp = *stamp;
    if (home_.window().measuring(now)) {
      ++stats.delivered;
      stats.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, to_ns(now) - to_ns(*stamp))));
    }
  }

  if (now < home_.window().end) {
    send(me, peer);
  } else if (drained()) {
    wake_.cancel();
  }
}

void chat_pair::on_lost(client&) {
  wake_.cancel();
}

}  // namespace chat::bench
