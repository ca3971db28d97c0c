// Chat traffic with exact accounting (load.hpp): a poll() loop over one connection per user,
// a ledger of every message and every delivery, and the end-of-run checks.
#include <chat_test/checks.hpp>
#include <chat_test/load.hpp>

#include <boost/json/serialize.hpp>

#include <poll.h>

#include <algorithm>
#include <charconv>
#include <thread>
#include <utility>

namespace chat_test {

namespace {

millis ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration_cast<millis>(b - a);
}

// The number after `prefix` in `s` (up to the next space), or -1.
long long number_after(std::string_view s, std::string_view prefix) {
  const auto at = s.find(prefix);
  if (at == std::string_view::npos) {
    return -1;
  }
  const char* b = s.data() + at + prefix.size();
  const char* e = s.data() + s.size();
  long long v = -1;
  const auto [p, ec] = std::from_chars(b, e, v);
  return ec == std::errc{} && p != b ? v : -1;
}

}  // namespace

std::string load_report::summary() const {
  std::string s = "sent " + std::to_string(sent) + ", acked " + std::to_string(acked) + ", errno 12 " +
                  std::to_string(refused) + ", unanswered (connection died) " + std::to_string(unanswered) +
                  ", delivered live " + std::to_string(live) + ", delivered stored " + std::to_string(stored) +
                  ", lost " + std::to_string(lost) + ", duplicates " + std::to_string(duplicates);
  if (at_kill > 0 || lost_at_kill > 0) {
    s += ", lost at the kill " + std::to_string(lost_at_kill) + " of " + std::to_string(at_kill) +
         " to the killed node";
  }
  s += ", unacked delivered " + std::to_string(unacked_delivered) + ", out of order " + std::to_string(out_of_order) +
       ", reconnects " + std::to_string(reconnects) + ", closed by the server " + std::to_string(server_closed);
  if (no_answer > 0) {
    s += ", NO ANSWER " + std::to_string(no_answer);
  }
  if (!refused_delivered.empty()) {
    s += "; errno 12 yet delivered:";
    for (const auto& [flow, n] : refused_delivered) {
      s += " " + flow + " " + std::to_string(n.first) + " live/" + std::to_string(n.second) + " stored";
    }
  }
  return s;
}

bool load_report::clean() const {
  return problems.empty() && lost == 0 && duplicates == 0 && out_of_order == 0 && time_mismatch == 0 &&
         no_answer == 0;
}

load::load(std::vector<load_user> users, std::vector<load_flow> flows, load_options options)
    : flows_(std::move(flows)), opt_(options), tag_(unique_name("load")) {
  for (auto& u : users) {
    slot s;
    s.wanted = u.online;
    s.u = std::move(u);
    slots_.push_back(std::move(s));
  }
  for (std::size_t f = 0; f < flows_.size(); ++f) {
    auto& fl = flows_[f];
    if (fl.name.empty()) {
      fl.name = "u" + std::to_string(fl.sender) + (fl.groupid != 0 ? ">g" : ">u" + std::to_string(fl.to));
    }
  }
  flow_next_.assign(flows_.size(), 0);
  flow_last_.assign(flows_.size(), steady::time_point{});
  flow_pending_.assign(flows_.size(), 0);
}

load::~load() = default;

std::string load::text(std::uint64_t m) const {
  return tag_ + " #" + std::to_string(m) + " ";
}

void load::problem(std::size_t u, const std::string& what, const json::object& f) {
  if (problems_.size() < 200) {
    problems_.push_back("[" + slots_[u].u.acc.name + "] " + what + ": " + json::serialize(f).substr(0, 400));
  }
}

void load::mark_kill() {
  std::lock_guard lock(kill_mutex_);
  kills_.push_back(steady::now());
}

long long load::elapsed_ms() const {
  return ms_between(created_, steady::now()).count();
}

steady::time_point load::kill_before(steady::time_point t, std::size_t* index) const {
  std::lock_guard lock(kill_mutex_);
  steady::time_point best = steady::time_point::min();
  for (std::size_t i = 0; i < kills_.size(); ++i) {
    if (kills_[i] <= t && kills_[i] > best) {
      best = kills_[i];
      if (index != nullptr) {
        *index = i;
      }
    }
  }
  return best;
}

bool load::logged_in(std::size_t user) const {
  return slots_[user].st == state::online;
}

bool load::all_logged_in() const {
  return std::all_of(slots_.begin(), slots_.end(), [](const slot& s) { return !s.wanted || s.st == state::online; });
}

bool load::pending() const {
  return std::any_of(slots_.begin(), slots_.end(), [](const slot& s) { return s.c && !s.pending.empty(); });
}

std::size_t load::acked() const {
  return static_cast<std::size_t>(std::count_if(messages_.begin(), messages_.end(), [](const message& m) {
    return m.st == message::status::acked;
  }));
}

std::size_t load::acked(std::size_t flow) const {
  return static_cast<std::size_t>(std::count_if(messages_.begin(), messages_.end(), [&](const message& m) {
    return m.flow == flow && m.st == message::status::acked;
  }));
}

bool load::delivered_live_since(std::size_t flow, steady::time_point t) const {
  for (auto it = messages_.rbegin(); it != messages_.rend() && it->sent_at > t; ++it) {
    if (it->flow == flow && std::any_of(it->live.begin(), it->live.end(), [](int n) { return n > 0; })) {
      return true;
    }
  }
  return false;
}

const load::user_stats& load::stats(std::size_t user) const {
  return slots_[user].stats;
}

std::vector<int> load::received(std::size_t flow, std::size_t recipient, bool stored) const {
  std::vector<std::pair<std::size_t, int>> order;  // (arrival sequence, k)
  for (const auto& m : messages_) {
    if (m.flow != flow) {
      continue;
    }
    for (std::size_t i = 0; i < m.rcpt.size(); ++i) {
      if (m.rcpt[i] == recipient) {
        for (const auto seq : (stored ? m.stored_seq : m.live_seq)[i]) {
          order.emplace_back(seq, m.k);
        }
      }
    }
  }
  std::sort(order.begin(), order.end());
  std::vector<int> out;
  for (const auto& [seq, k] : order) {
    out.push_back(k);
  }
  return out;
}

void load::set_online(std::size_t user, bool on) {
  slots_[user].wanted = on;
  if (on && slots_[user].st == state::offline) {
    slots_[user].next_try = steady::now();
  }
}

void load::stop_reading(std::size_t user) {
  slots_[user].reading = false;
}

void load::resume_reading(std::size_t user) {
  slots_[user].reading = true;
}

// --- connections ---

void load::connect(std::size_t u) {
  slot& s = slots_[u];
  const int port = s.u.ports[s.port_idx % s.u.ports.size()];
  try {
    s.c.emplace(port, s.u.acc.name, 0, 2s);
  } catch (const test_error&) {
    s.c.reset();
    s.port_idx = (s.port_idx + 1) % s.u.ports.size();  // refused: try the next node
    s.next_try = steady::now() + opt_.reconnect_delay;
    return;
  }
  lives_.push_back({lives_.size() + 1, steady::now()});
  s.gen = lives_.size();
  s.last_live.clear();
  send_login(u);
}

void load::send_login(std::size_t u) {
  slot& s = slots_[u];
  s.login_sent_at = steady::now();
  s.st = state::login_sent;
  send_frame(u, login_id_req(s.u.acc.id, s.u.acc.pwd));
}

bool load::send_frame(std::size_t u, const json::object& obj) {
  slot& s = slots_[u];
  if (!s.c) {
    return false;
  }
  s.last_send = steady::now();
  if (s.c->try_send_raw(frame(json::serialize(obj)), 5s)) {
    return true;
  }
  // Reset or closed by the peer (or a node so stuck that 5 s did not drain our few frames):
  // take what it sent before, then the connection is over.
  std::vector<json::object> frames;
  const bool open = s.c->read_available(frames);
  for (const auto& f : frames) {
    handle(u, f);
  }
  if (s.c) {
    died(u, !open || s.c->is_closed());
  }
  return false;
}

void load::died(std::size_t u, bool by_server) {
  slot& s = slots_[u];
  const auto now = steady::now();
  s.c.reset();
  if (s.gen != 0) {
    lives_[s.gen - 1].ended = now;
    lives_[s.gen - 1].by_server = by_server;
  }
  for (const auto m : s.pending) {
    if (messages_[m].st == message::status::pending) {
      messages_[m].st = message::status::unanswered;
    }
    if (messages_[m].flow < flows_.size()) {
      --flow_pending_[messages_[m].flow];
    }
  }
  s.pending.clear();
  s.st = state::offline;
  s.gen = 0;
  s.stored_left = 0;
  s.next_try = now + opt_.reconnect_delay;
  if (by_server) {
    ++s.stats.server_closed;
    s.died_at = now;
    std::size_t index = 0;
    const auto k = kill_before(now, &index);
    s.died_at_kill = k != steady::time_point::min() && now - k <= opt_.kill_window;
    s.kill_index = index;
  }
}

// --- sending ---

void load::send_chat(std::size_t flow, std::size_t sender, std::int64_t to, std::int64_t groupid,
                     std::vector<std::size_t> rcpt, std::size_t body) {
  const std::uint64_t m = messages_.size();
  message r;
  r.flow = flow;
  r.k = flow < flows_.size() ? static_cast<int>(flow_next_[flow]++) : static_cast<int>(m);
  r.sender = sender;
  for (const auto i : rcpt) {
    r.rcpt_gen.push_back(slots_[i].gen);
  }
  r.rcpt = std::move(rcpt);
  r.live.assign(r.rcpt.size(), 0);
  r.stored.assign(r.rcpt.size(), 0);
  r.times.assign(r.rcpt.size(), {});
  r.live_seq.assign(r.rcpt.size(), {});
  r.stored_seq.assign(r.rcpt.size(), {});
  r.sent_at = steady::now();
  messages_.push_back(std::move(r));

  std::string t = text(m);
  if (t.size() < body) {
    t.resize(body, 'x');
  }
  const std::string cid = "m" + std::to_string(m);
  const auto req = groupid != 0 ? group_chat_req(groupid, t, cid) : chat_req(to, t, cid);
  if (!slots_[sender].c) {
    messages_[m].st = message::status::unanswered;
    return;
  }
  slots_[sender].pending.push_back(m);
  if (flow < flows_.size()) {
    ++flow_pending_[flow];
  }
  send_frame(sender, req);  // on failure died() marks it unanswered
}

// --- one round ---

void load::step(millis wait) {
  const auto now = steady::now();
  for (std::size_t u = 0; u < slots_.size(); ++u) {
    slot& s = slots_[u];
    if (!s.reading) {
      continue;  // a slow consumer neither reads nor writes
    }
    if (!s.wanted || s.relogin) {
      if (s.st == state::online && s.pending.empty()) {
        s.st = state::logout_sent;
        send_frame(u, {{"msgid", 13}});
      } else if (!s.wanted && s.c && s.st == state::login_wait) {
        died(u, false);
      }
      if (!s.wanted) {
        continue;
      }
    }
    switch (s.st) {
      case state::offline:
        if (!s.c && now >= s.next_try) {
          connect(u);
        }
        break;
      case state::login_sent:
        if (now - s.login_sent_at > opt_.login_timeout) {
          problems_.push_back("[" + s.u.acc.name + "] LOGIN unanswered for " +
                              std::to_string(opt_.login_timeout.count()) + " ms; reconnecting");
          died(u, false);
        }
        break;
      case state::login_wait:
        if (now >= s.next_try) {
          send_login(u);
        }
        break;
      default:
        break;
    }
    if (s.c && now - s.last_send >= opt_.idle_timeout / 3) {
      send_frame(u, ping_req("ka-" + std::to_string(seq_++)));
    }
  }

  if (sending_) {
    for (std::size_t f = 0; f < flows_.size(); ++f) {
      const auto& fl = flows_[f];
      const slot& s = slots_[fl.sender];
      if (s.st != state::online || !s.reading || s.relogin || !s.wanted || now - flow_last_[f] < opt_.gap ||
          flow_pending_[f] >= opt_.window || (fl.limit != 0 && flow_next_[f] >= fl.limit)) {
        continue;
      }
      flow_last_[f] = now;
      std::vector<std::size_t> rcpt;
      if (fl.groupid != 0) {
        std::copy_if(fl.members.begin(), fl.members.end(), std::back_inserter(rcpt),
                     [&](std::size_t m) { return m != fl.sender; });
      } else {
        rcpt.push_back(fl.to);
      }
      send_chat(f, fl.sender, fl.groupid != 0 ? 0 : slots_[fl.to].u.acc.id, fl.groupid, std::move(rcpt),
                fl.body_bytes);
    }
  }

  std::vector<pollfd> fds;
  std::vector<std::size_t> who;
  for (std::size_t u = 0; u < slots_.size(); ++u) {
    if (slots_[u].c && slots_[u].reading) {
      fds.push_back({slots_[u].c->fd(), POLLIN, 0});
      who.push_back(u);
    }
  }
  if (fds.empty()) {
    std::this_thread::sleep_for(wait);  // nobody connected: wait for the next attempt
    return;
  }
  if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) <= 0) {
    return;
  }
  for (std::size_t i = 0; i < fds.size(); ++i) {
    const std::size_t u = who[i];
    if (fds[i].revents == 0 || !slots_[u].c) {
      continue;
    }
    std::vector<json::object> frames;
    bool open = true;
    try {
      open = slots_[u].c->read_available(frames);
    } catch (const test_error& e) {  // not a frame: a protocol violation; the stream is lost
      problems_.push_back("[" + slots_[u].u.acc.name + "] " + e.what());
      open = false;
    }
    const auto gen = slots_[u].gen;
    for (const auto& f : frames) {
      if (slots_[u].gen != gen) {
        break;  // handling an earlier frame ended this connection (LOGINOUT then close)
      }
      handle(u, f);
    }
    if (!open && slots_[u].c && slots_[u].gen == gen) {
      died(u, true);
    }
  }
}

void load::run_for(millis d) {
  const auto until = steady::now() + d;
  while (steady::now() < until) {
    step(std::min<millis>(10ms, std::max(millis{1}, ms_between(steady::now(), until))));
  }
}

bool load::run_until(const std::function<bool()>& done, millis limit) {
  const auto until = steady::now() + limit;
  while (!done()) {
    if (steady::now() >= until) {
      return false;
    }
    step(10ms);
  }
  return true;
}

void load::start(millis timeout) {
  const bool sending = std::exchange(sending_, false);  // no traffic before everyone is in
  const bool in = run_until([this] { return all_logged_in(); }, timeout);
  sending_ = sending;
  if (!in) {
    std::string who;
    for (const auto& s : slots_) {
      if (s.wanted && s.st != state::online) {
        who += " " + s.u.acc.name + " (state " + std::to_string(static_cast<int>(s.st)) + ", " +
               std::to_string(s.stats.logins) + " logins)";
      }
    }
    for (const auto& p : problems_) {
      who += "\n  " + p;
    }
    throw test_error("users not logged in within " + std::to_string(timeout.count()) + " ms:" + who);
  }
  for (auto& s : slots_) {
    s.first_logins = s.stats.logins;
  }
}

// --- frames ---

void load::handle(std::size_t u, const json::object& f) {
  slot& s = slots_[u];
  const auto msgid = int_field(f, "msgid");
  const auto cid = string_field(f, "cid");
  if (msgid == 16) {
    if (cid && cid->starts_with("rt-")) {
      rt_pongs_.insert(u);
    }
    return;
  }
  if ((msgid == 18 || msgid == 17) && cid && cid->starts_with("m")) {
    on_answer(u, f);
    return;
  }
  switch (msgid.value_or(0)) {
    case 2:
      on_login_ack(u, f);
      return;
    case 14:
      if (s.st != state::logout_sent || !is_ack(f, 14, 0)) {
        problem(u, "unexpected LOGINOUT_ACK", f);
      }
      if (s.relogin) {
        send_login(u);
      } else {
        died(u, false);  // going offline: close cleanly
      }
      return;
    case 5:
    case 12:
      on_delivery(u, f);
      return;
    case 17:
      if (int_field(f, "errno") == 14) {
        s.stats.going_away.push_back(steady::now());
        return;  // GOING_AWAY: the close follows
      }
      if (int_field(f, "errno") == 12 && int_field(f, "req") == 1 && s.st == state::login_sent) {
        s.st = state::login_wait;  // storage unavailable: try again
        s.next_try = steady::now() + opt_.reconnect_delay;
        return;
      }
      break;
    default:
      break;
  }
  problem(u, "unexpected frame", f);
}

void load::on_answer(std::size_t u, const json::object& f) {
  slot& s = slots_[u];
  const auto cid = string_field(f, "cid").value_or("");
  const auto m = static_cast<std::uint64_t>(number_after(cid, "m"));
  const auto it = std::find(s.pending.begin(), s.pending.end(), m);
  if (it == s.pending.end() || m >= messages_.size()) {
    problem(u, "answer to a request that is not waiting for one here", f);
    return;
  }
  s.pending.erase(it);
  message& r = messages_[m];
  if (r.flow < flows_.size()) {
    --flow_pending_[r.flow];
  }
  if (int_field(f, "msgid") == 18) {
    if (!is_chat_ack(f, cid)) {
      problem(u, "bad CHAT_ACK", f);
    }
    r.st = message::status::acked;
    r.ack_time = int_field(f, "time").value_or(0);
    return;
  }
  const std::int64_t req = r.flow < flows_.size() && flows_[r.flow].groupid != 0 ? 12 : 5;
  if (!is_error(f, 12, req, json::value(cid))) {
    problem(u, "expected CHAT_ACK or ERROR_MSG 12", f);
  }
  r.st = message::status::refused;
}

void load::on_login_ack(std::size_t u, const json::object& f) {
  slot& s = slots_[u];
  if (s.st != state::login_sent) {
    problem(u, "LOGIN_MSG_ACK without a LOGIN", f);
    return;
  }
  const auto err = int_field(f, "errno");
  if (err == 3) {
    s.stats.last_errno3_ask = s.login_sent_at;
    s.st = state::login_wait;
    s.next_try = steady::now() + opt_.reconnect_delay;
    return;
  }
  if (err != 0 || !is_ack(f, 2, 0)) {
    problem(u, "LOGIN failed", f);
    s.st = state::login_wait;
    s.next_try = steady::now() + opt_.reconnect_delay;
    return;
  }
  ++s.stats.logins;
  if (s.died_at_kill) {
    std::lock_guard lock(kill_mutex_);
    s.stats.back_after_kill.push_back(ms_between(kills_[s.kill_index], s.login_sent_at));
    s.died_at_kill = false;
  }
  s.last_stored.clear();
  s.last_live.clear();
  const auto n = int_field(f, "offline");
  if (!n || *n < 0) {
    problem(u, "LOGIN_MSG_ACK needs a non-negative integer 'offline'", f);
  }
  s.stored_left = static_cast<std::size_t>(n.value_or(0));
  s.st = s.stored_left > 0 ? state::stored : state::online;
  if (s.st == state::online && s.relogin) {
    s.relogin = false;
    s.relogged = true;
  }
}

void load::on_delivery(std::size_t u, const json::object& f) {
  slot& s = slots_[u];
  const auto msg = string_field(f, "msg").value_or("");
  const auto m = number_after(msg, tag_ + " #");
  if (m < 0 || static_cast<std::size_t>(m) >= messages_.size()) {
    problem(u, "a message that was never sent", f);
    return;
  }
  message& r = messages_[static_cast<std::size_t>(m)];
  const auto it = std::find(r.rcpt.begin(), r.rcpt.end(), u);
  if (it == r.rcpt.end()) {
    problem(u, "a message for someone else", f);
    return;
  }
  const auto i = static_cast<std::size_t>(it - r.rcpt.begin());
  const bool stored = f.contains("offline");
  const account& from = slots_[r.sender].u.acc;
  const bool group = r.flow < flows_.size() && flows_[r.flow].groupid != 0;
  const auto ok = group ? is_group_chat(f, from, flows_[r.flow].groupid, msg, stored)
                        : is_chat(f, from, slots_[u].u.acc.id, msg, stored);
  if (!ok) {
    problem(u, std::string("malformed delivery: ") + ok.message(), f);
  }
  r.times[i].push_back(int_field(f, "time").value_or(0));
  const std::size_t seq = ++arrivals_;
  if (stored) {
    if (s.st != state::stored || s.stored_left == 0) {
      problem(u, "stored message outside a login's announced batch", f);
    } else if (--s.stored_left == 0) {
      s.st = state::online;
      if (s.relogin) {
        s.relogin = false;
        s.relogged = true;
      }
    }
    ++r.stored[i];
    r.stored_seq[i].push_back(seq);
    ++s.stats.stored;
  } else {
    if (s.st == state::stored) {
      problem(u, "live message before the login's stored messages were all sent", f);
    }
    ++r.live[i];
    r.live_seq[i].push_back(seq);
    ++s.stats.live;
  }
  if (r.flow < flows_.size()) {
    auto& last = stored ? s.last_stored : s.last_live;
    const auto prev = last.find(r.flow);
    if (prev != last.end() && prev->second >= r.k) {
      ++out_of_order_;
      problem(u,
              std::string(stored ? "stored" : "live") + " message #" + std::to_string(r.k) + " of flow " +
                  flows_[r.flow].name + " after #" + std::to_string(prev->second),
              f);
    }
    last[r.flow] = r.k;
  }
}

// --- the end ---

load_report load::finish(millis answer_limit) {
  load_report rep;
  sending_ = false;
  for (auto& s : slots_) {
    s.reading = true;
  }
  if (!run_until([this] { return !pending(); }, answer_limit)) {
    for (const auto& s : slots_) {
      rep.no_answer += s.c ? s.pending.size() : 0;
    }
    problems_.push_back(std::to_string(rep.no_answer) + " chat requests on open connections unanswered after " +
                        std::to_string(answer_limit.count()) + " ms");
  }
  // Everybody online, then a moment for live messages still on their way.
  for (auto& s : slots_) {
    s.wanted = true;
  }
  if (!run_until([this] { return all_logged_in(); }, 30s)) {
    std::string who;
    for (const auto& s : slots_) {
      who += s.st == state::online ? "" : " " + s.u.acc.name;
    }
    problems_.push_back("not every user could log in again within 30 s at the end:" + who);
  }
  run_for(1s);
  // Stored messages: every user logs out and in again.
  for (auto& s : slots_) {
    s.relogin = true;
    s.relogged = false;
  }
  if (!run_until(
          [this] {
            return std::all_of(slots_.begin(), slots_.end(),
                               [](const slot& s) { return s.relogged && s.st == state::online; });
          },
          30s)) {
    problems_.push_back("not every user logged out and in again within 30 s at the end");
  }
  run_for(500ms);

  // Every connection still works: a PING and a message to the next user, both answered, the
  // message delivered live.
  // (Among the users that are logged in: the others are reported above.)
  std::vector<std::size_t> in;
  for (std::size_t u = 0; u < slots_.size(); ++u) {
    if (slots_[u].st == state::online) {
      in.push_back(u);
    }
  }
  const std::size_t first_rt = messages_.size();
  rt_pongs_.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::size_t u = in[i];
    const std::size_t to = in[(i + 1) % in.size()];
    send_frame(u, ping_req("rt-" + std::to_string(u)));
    send_chat(flows_.size(), u, slots_[to].u.acc.id, 0, {to}, 0);
  }
  const auto round_trip_done = [&] {
    if (rt_pongs_.size() != in.size()) {
      return false;
    }
    for (std::size_t m = first_rt; m < messages_.size(); ++m) {
      if (messages_[m].st != message::status::acked || messages_[m].live[0] != 1) {
        return false;
      }
    }
    return true;
  };
  if (!run_until(round_trip_done, 15s)) {
    for (std::size_t i = 0; i < in.size(); ++i) {
      const std::size_t u = in[i];
      const auto& m = messages_[first_rt + i];
      if (!rt_pongs_.contains(u) || m.st != message::status::acked || m.live[0] != 1) {
        problems_.push_back("[" + slots_[u].u.acc.name + "] round trip at the end: " +
                            (rt_pongs_.contains(u) ? "PONG" : "no PONG") + ", message to the next user " +
                            (m.st == message::status::acked ? "acked" : "not acked") + ", delivered live " +
                            std::to_string(m.live[0]) + " times");
      }
    }
  }

  // The ledger.
  for (const auto& s : slots_) {
    rep.reconnects += s.stats.logins - std::min(s.stats.logins, s.first_logins + 1);  // minus the relogin
    rep.server_closed += s.stats.server_closed;
  }
  for (const auto& m : messages_) {
    ++rep.sent;
    switch (m.st) {
      case message::status::acked:
        ++rep.acked;
        break;
      case message::status::refused:
        ++rep.refused;
        break;
      case message::status::unanswered:
        ++rep.unanswered;
        break;
      case message::status::pending:
        break;
    }
    for (std::size_t i = 0; i < m.rcpt.size(); ++i) {
      const int n = m.live[i] + m.stored[i];
      rep.live += static_cast<std::size_t>(m.live[i]);
      rep.stored += static_cast<std::size_t>(m.stored[i]);
      const std::string where = (m.flow < flows_.size() ? "flow " + flows_[m.flow].name : std::string("round trip")) +
                                " #" + std::to_string(m.k) + " to " + slots_[m.rcpt[i]].u.acc.name;
      // Was the recipient's connection, when this was sent, on a node killed right after?
      bool at_kill = false;
      if (const auto g = m.rcpt_gen[i]; g != 0 && lives_[g - 1].by_server) {
        const auto k = kill_before(lives_[g - 1].ended, nullptr);
        at_kill = k != steady::time_point::min() && lives_[g - 1].ended - k <= opt_.kill_window &&
                  m.sent_at + opt_.kill_window >= k;
      }
      if (n > 1) {
        ++rep.duplicates;
        rep.losses.push_back(where + ": delivered " + std::to_string(m.live[i]) + " times live and " +
                             std::to_string(m.stored[i]) + " times stored");
      }
      if (m.st == message::status::acked) {
        rep.at_kill += at_kill ? 1 : 0;
        if (n == 0 && at_kill) {
          ++rep.lost_at_kill;
        } else if (n == 0) {
          ++rep.lost;
          ++rep.lost_by_flow[(m.flow < flows_.size() ? flows_[m.flow].name : std::string("round trip")) + " to u" +
                             std::to_string(m.rcpt[i])];
          rep.losses.push_back(where + ": CHAT_ACKed, never delivered (sent at +" +
                               std::to_string(ms_between(created_, m.sent_at).count()) + " ms)");
        }
        for (const auto t : m.times[i]) {
          if (t != m.ack_time) {
            ++rep.time_mismatch;
            rep.losses.push_back(where + ": delivered with time " + std::to_string(t) + ", CHAT_ACK time " +
                                 std::to_string(m.ack_time));
          }
        }
      } else if (n == 1) {
        ++rep.unacked_delivered;
        if (m.st == message::status::refused) {
          auto& [live, stored] = rep.refused_delivered[m.flow < flows_.size() ? flows_[m.flow].name : "round trip"];
          live += static_cast<std::size_t>(m.live[i]);
          stored += static_cast<std::size_t>(m.stored[i]);
        }
      }
    }
  }
  rep.out_of_order = out_of_order_;
  rep.problems = problems_;
  return rep;
}

}  // namespace chat_test
